//! Buyers' WhatsApp messages from the Cloud API's webhook, each kept once; a short "ya" from a
//! buyer whose COD order waits for a confirmation confirms it.

use lunas_core::fulfilment::Step;
use lunas_core::{Actor, Phone};

use crate::channels::whatsapp;
use crate::fulfilment::ShipInfo;
use crate::{Engine, Error};

impl Engine {
    /// Keeps the buyers' messages of a WhatsApp webhook payload; returns how many were new.
    pub async fn record_whatsapp_inbound(
        &self,
        payload: &serde_json::Value,
        raw: &str,
    ) -> Result<usize, Error> {
        let mut new = 0;
        for inbound in whatsapp::parse_inbound(payload, raw, self.now()) {
            let reply = (inbound.phone.clone(), inbound.body.clone());
            if self.store.record_inbound(inbound).await? {
                new += 1;
                self.cod_reply(reply.0, reply.1.as_deref()).await?;
            }
        }
        Ok(new)
    }

    /// A buyer's WhatsApp reply, kept once: a short "ya" confirms their newest COD order waiting
    /// for a confirmation (a reply that says more is left to staff).
    async fn cod_reply(&self, phone: Phone, body: Option<&str>) -> Result<(), Error> {
        if !body.is_some_and(lunas_core::fulfilment::is_yes) {
            return Ok(());
        }
        let Some(id) = self.store.awaiting_confirmation_of(phone).await? else {
            return Ok(());
        };
        let buyer = Actor::from_stored("buyer".to_owned());
        match self
            .step_order(id, Step::ConfirmCod, ShipInfo::default(), None, buyer)
            .await
        {
            // Confirmed meanwhile, or cancelled: the reply changes nothing.
            Ok(_) | Err(Error::Order(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
