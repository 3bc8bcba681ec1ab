//! Buyers' WhatsApp messages from the Cloud API's webhook, each kept once; a short "ya" from a
//! buyer whose COD order waits for a confirmation confirms it.

use lunas_core::conversations::{ConversationMessage, ConversationSummary, read_generic};
use lunas_core::fulfilment::Step;
use lunas_core::outbox::InboundMessage;
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
            let kept = inbound.clone();
            if self.store.record_inbound(inbound).await? {
                new += 1;
                self.cod_reply(kept.phone.clone(), kept.body.as_deref())
                    .await?;
                self.after_inbound(kept).await;
            }
        }
        let statuses = lunas_core::conversations::whatsapp_statuses(payload);
        if !statuses.is_empty() {
            self.store.note_deliveries(statuses).await?;
        }
        Ok(new)
    }

    /// Keeps the buyers' messages of a delivery of lunas's own messages webhook, signed the
    /// Standard Webhooks way (`webhook-id`, `webhook-timestamp` within five minutes of now,
    /// `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, several
    /// separated by spaces); returns how many were new. Each message is kept once by its id.
    pub async fn receive_messages(
        &self,
        headers: [Option<&str>; 3],
        body: &[u8],
    ) -> Result<usize, Error> {
        use crate::gateways::CallbackError;
        let [id, timestamp, signature] = headers;
        let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
            return Err(CallbackError::Unauthorized(
                "webhook-id, webhook-timestamp and webhook-signature are required",
            )
            .into());
        };
        let secret = self
            .gateways
            .messages_secret
            .as_deref()
            .ok_or(CallbackError::NotConfigured("the messages webhook"))?;
        let sent_at = timestamp
            .trim()
            .parse::<i64>()
            .map_err(|_| CallbackError::Unauthorized("webhook-timestamp is not a number"))?;
        if (self.now().as_second() - sent_at).abs() > 5 * 60 {
            return Err(CallbackError::Unauthorized(
                "webhook-timestamp is more than five minutes away from now",
            )
            .into());
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| CallbackError::Malformed("the body is not UTF-8".into()))?;
        let expected = crate::channels::webhooks::sign(secret, id, sent_at, text)
            .map_err(|_| CallbackError::NotConfigured("the messages webhook (a bad secret)"))?;
        let matches = signature
            .split_whitespace()
            .any(|given| crate::tokens::same_secret(given, &expected));
        if !matches {
            return Err(CallbackError::Unauthorized("the webhook-signature does not match").into());
        }
        let payload: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| CallbackError::Malformed(format!("the body is not JSON: {e}")))?;
        let messages = read_generic(&payload).map_err(CallbackError::Malformed)?;
        let now = self.now();
        let mut new = 0;
        for message in messages {
            let inbound = InboundMessage {
                phone: message.from,
                wa_message_id: format!("msg:{}", message.id),
                kind: message.kind,
                body: message.text,
                received_at: message.at.unwrap_or(now),
                raw: text.to_owned(),
            };
            let kept = inbound.clone();
            if self.store.record_inbound(inbound).await? {
                new += 1;
                self.after_inbound(kept).await;
            }
        }
        Ok(new)
    }

    /// A buyer's message staff received elsewhere (a call, another app) and write down: kept like
    /// one that came by webhook (the FAQ bot reads it), under an id of its own.
    pub async fn log_inbound(&self, phone: Phone, text: &str) -> Result<(), Error> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > lunas_core::conversations::TEXT_CHARS_MAX {
            return Err(lunas_core::faq::FaqError::BadReply.into());
        }
        let inbound = InboundMessage {
            phone,
            wa_message_id: format!("hand:{}", crate::tokens::random_hex(16)),
            kind: lunas_core::conversations::InboundKind::Text,
            body: Some(text.to_owned()),
            received_at: self.now(),
            raw: String::new(),
        };
        if self.store.record_inbound(inbound.clone()).await? {
            self.after_inbound(inbound).await;
        }
        Ok(())
    }

    /// The numbers buyers wrote from, newest first.
    pub async fn conversations(
        &self,
        before: Option<lunas_core::Timestamp>,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, Error> {
        Ok(self
            .store
            .conversations(before.map(|t| t.as_millisecond()), limit)
            .await?)
    }

    /// The buyers waiting for an answer, longest wait first, each with their wait in minutes of
    /// the shop's business hours (among the `scan` newest conversations).
    pub async fn waiting_buyers(
        &self,
        scan: usize,
    ) -> Result<Vec<(ConversationSummary, i64)>, Error> {
        let settings = self.settings();
        let (now, tz) = (self.now(), settings.time_zone());
        let mut waiting: Vec<(ConversationSummary, i64)> = self
            .store
            .conversations(None, scan)
            .await?
            .into_iter()
            .filter_map(|c| {
                let since = c.waiting_since?;
                let minutes = settings.business_hours.between(since, now, &tz).as_mins();
                Some((c, minutes))
            })
            .collect();
        waiting.sort_by_key(|(c, _)| c.waiting_since);
        Ok(waiting)
    }

    /// What a number's messages say next to what it bought (tire-kicker signals), over its
    /// newest 1,000 messages.
    pub async fn chat_signals(
        &self,
        phone: &Phone,
    ) -> Result<lunas_core::signals::ChatSignals, Error> {
        let messages = self.store.inbound_texts(phone.clone(), 1_000).await?;
        let (profile, _) = self.assess(phone).await?;
        let (placed, paid) =
            profile.map_or((0, 0), |p| (p.record.orders_placed, p.record.orders_paid));
        Ok(lunas_core::signals::chat_signals(
            &messages,
            &self.settings().time_zone(),
            placed,
            paid,
        ))
    }

    /// One number's conversation, oldest first.
    pub async fn conversation(&self, phone: Phone) -> Result<Vec<ConversationMessage>, Error> {
        Ok(self.store.conversation(phone).await?)
    }

    /// A new message kept: the FAQ bot reads a text or a tapped choice. The message is kept
    /// whatever the bot does; a failure of the bot is logged, never refuses the delivery.
    pub(crate) async fn after_inbound(&self, inbound: InboundMessage) {
        use lunas_core::conversations::InboundKind;
        let haggle = inbound
            .body
            .as_deref()
            .is_some_and(lunas_core::signals::haggles);
        let day = lunas_core::analytics::local_day(
            inbound.received_at.as_millisecond(),
            &self.settings().time_zone(),
        );
        if let Err(e) = self
            .store
            .count_chat(inbound.phone.clone(), haggle, i64::from(day))
            .await
        {
            tracing::warn!(error = %e, "a buyer's message could not be counted");
        }
        let Some(text) = inbound.body.as_deref() else {
            return;
        };
        if !matches!(
            inbound.kind,
            InboundKind::Text | InboundKind::Image | InboundKind::Choice | InboundKind::Button
        ) || lunas_core::fulfilment::is_yes(text)
        {
            return;
        }
        // A format order waits for staff to confirm it; the FAQ does not answer it.
        match self.chat_order(text).await {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "a buyer's message could not be read as an order"),
        }
        if let Err(e) = self
            .answer_inbound(inbound.phone, &inbound.wa_message_id, text)
            .await
        {
            tracing::warn!(error = %e, "the FAQ bot could not read a buyer's message");
        }
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
