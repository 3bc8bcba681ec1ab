//! The use cases that change a buyer's record, each one transaction through `Tx` with its line
//! in the audit log: pinning a band (or unpinning), notes and tags, and erasure (UU PDP), which
//! removes the personal data everywhere it is kept and leaves the orders, the money and the
//! reliability record under a pseudonym.

use lunas_core::customers::{CustomerNotFound, CustomerProfile, pseudonym};
use lunas_core::reliability::Pin;
use lunas_core::{Actor, AuditAction, Phone, Timestamp};
use lunas_store::{Tx, TxResult};

use crate::{Engine, Error};

fn pin_band(
    tx: &mut Tx<'_>,
    phone: &Phone,
    pin: Option<&Pin>,
    actor: &Actor,
    now: Timestamp,
) -> TxResult<()> {
    tx.upsert_pin(phone, pin, now)?;
    let detail = serde_json::json!({
        "band": pin.map(|p| p.band.as_str()),
        "reason": pin.map(|p| p.reason.as_str()),
    });
    tx.audit(
        actor,
        AuditAction::CustomerBand,
        phone.as_str(),
        &detail,
        now,
    )
}

fn set_notes_tags(
    tx: &mut Tx<'_>,
    phone: &Phone,
    notes: Option<Option<&str>>,
    tags: Option<&[String]>,
    actor: &Actor,
    now: Timestamp,
) -> TxResult<Result<(), CustomerNotFound>> {
    if tx.customer_id_for_update(phone)?.is_none() {
        return Ok(Err(CustomerNotFound));
    }
    if let Some(notes) = notes {
        tx.set_notes(phone, notes, now)?;
    }
    if let Some(tags) = tags {
        tx.set_tags(phone, tags, now)?;
    }
    let detail = serde_json::json!({"notes": notes, "tags": tags});
    tx.audit(
        actor,
        AuditAction::CustomerNotes,
        phone.as_str(),
        &detail,
        now,
    )?;
    Ok(Ok(()))
}

/// Erases the buyer with `phone` (whose HMAC is `phone_hmac`). Returns the erased record;
/// erasing again (by the same number) returns it again; `None` for a number lunas never knew.
fn erase(
    tx: &mut Tx<'_>,
    phone: &Phone,
    phone_hmac: &str,
    actor: &Actor,
    now: Timestamp,
) -> TxResult<Option<CustomerProfile>> {
    let Some(id) = tx.customer_id_for_update(phone)? else {
        return tx.erased_profile(phone_hmac);
    };
    let pseudonym = pseudonym(phone_hmac, tx.erasures_of(phone_hmac)?);
    tx.erase_personal_data(id, phone, &pseudonym, phone_hmac, now)?;
    tx.audit(
        actor,
        AuditAction::CustomerErase,
        &pseudonym,
        &serde_json::json!({}),
        now,
    )?;
    tx.erased_profile(phone_hmac)
}

impl Engine {
    /// Pins a buyer to a band with a reason (`None` lets the score decide again); a number that
    /// never ordered gets a record, so it can be blocked in advance.
    pub async fn pin_band(
        &self,
        phone: Phone,
        pin: Option<Pin>,
        actor: Actor,
    ) -> Result<(), Error> {
        let now = self.now();
        Ok(self
            .store
            .transact_always(move |tx| pin_band(tx, &phone, pin.as_ref(), &actor, now))
            .await?)
    }

    /// Replaces a buyer's notes (`Some(None)` clears them) and/or tags.
    pub async fn set_notes_tags(
        &self,
        phone: Phone,
        notes: Option<Option<String>>,
        tags: Option<Vec<String>>,
        actor: Actor,
    ) -> Result<(), Error> {
        let now = self.now();
        Ok(self
            .store
            .transact(move |tx| {
                let notes = notes.as_ref().map(Option::as_deref);
                set_notes_tags(tx, &phone, notes, tags.as_deref(), &actor, now)
            })
            .await??)
    }

    /// Erases a buyer (UU PDP): personal data removed, orders and money kept under a pseudonym,
    /// the reliability record kept under an HMAC of the number.
    pub async fn erase_customer(
        &self,
        phone: &Phone,
        actor: Actor,
    ) -> Result<Option<CustomerProfile>, Error> {
        let hmac = self.phone_hmac(phone).await?;
        let (phone, now) = (phone.clone(), self.now());
        Ok(self
            .store
            .transact_always(move |tx| erase(tx, &phone, &hmac, &actor, now))
            .await?)
    }
}
