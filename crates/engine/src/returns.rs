//! Returns, each use case one transaction through `Tx` with the order locked first: a request
//! (the policy asked by `decide_return_request`, its photos cleaned like proofs of transfer and
//! kept with it), and staff's steps (`decide_return_step`): approved or rejected, received —
//! the units back on sale when staff say they can be sold again, offered to the waitlist first —
//! then refunded (money out, with its method and reference) or exchanged. The buyer hears of
//! each step; a request that ends after the return window closed completes the order.

use lunas_core::events::EventReason;
use lunas_core::fulfilment::Step;
use lunas_core::messages::MessageKind;
use lunas_core::placing::{Messaging, OrderOpError};
use lunas_core::proofs::ProofFormat;
use lunas_core::returns::{
    RETURN_PHOTOS_MAX, ReturnStep, decide_return_request, decide_return_step,
};
use lunas_core::{Actor, Money, Order, OrderId, OrderStatus, Timestamp};
use lunas_store::{ReturnChange, Tx, TxResult};

use crate::pictures::FileError;
use crate::{Engine, Error};

/// Longest reason a buyer or staff may give, in characters.
pub const REASON_LEN_MAX: usize = 1000;

/// Asks for a return of order `id` for `reason`, with `photos` already cleaned.
pub(crate) fn request(
    tx: &mut Tx<'_>,
    id: OrderId,
    reason: &str,
    by: &Actor,
    photos: &[(String, Vec<u8>)],
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<Result<Order, OrderOpError>> {
    let Some(row) = tx.fulfilment_for_update(id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    let open = tx.has_open_return(id)?;
    if let Err(refused) = decide_return_request(
        row.status,
        row.delivered_at,
        open,
        &messaging.settings.returns,
        now,
    ) {
        return Ok(Err(refused.into()));
    }
    tx.insert_return(id, reason, by.as_str(), photos, now)?;
    tx.insert_event(
        id,
        now,
        by,
        Some(row.status),
        row.status,
        Some(&EventReason::ReturnRequested(reason.to_owned()).stored()),
    )?;
    let order = tx.order(id)?.expect("the order was just read");
    tx.enqueue(
        messaging,
        MessageKind::ReturnUpdate,
        &order,
        None,
        None,
        now,
    )?;
    Ok(Ok(order))
}

/// What staff say with a step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnDetails {
    /// To the buyer: why it was rejected, where to send the item.
    pub note: Option<String>,
    /// On `receive`: whether the item can be sold again (its units go back on sale).
    pub resellable: Option<bool>,
    /// On `refund`: the money paid back, how, and its reference.
    pub refund: Option<(Money, String, Option<String>)>,
}

/// Takes `step` on return request `id`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step(
    tx: &mut Tx<'_>,
    id: i64,
    step: ReturnStep,
    details: &ReturnDetails,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<Result<Order, OrderOpError>> {
    let Some(order_id) = tx.return_order(id)? else {
        return Ok(Err(OrderOpError::ReturnNotFound));
    };
    // The order first, as every writer locks it.
    let Some(row) = tx.fulfilment_for_update(order_id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    let status = tx
        .return_status(id)?
        .ok_or_else(|| Tx::corrupt(format!("return {id} went")))?;
    match decide_return_step(status, step) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Ok(tx.order(order_id)?.expect("the order was just read")));
        }
        Err(e) => return Ok(Err(e.into())),
    }
    if step == ReturnStep::Refund && details.refund.is_none() {
        return Ok(Err(OrderOpError::ReturnStep(
            lunas_core::returns::ReturnStepError {
                status,
                step: "refund without an amount",
            },
        )));
    }
    let to = step.target();
    tx.set_return_status(
        id,
        to,
        &ReturnChange {
            note: details.note.as_deref(),
            resellable: details.resellable.filter(|_| step == ReturnStep::Receive),
            refund: details
                .refund
                .as_ref()
                .filter(|_| step == ReturnStep::Refund)
                .map(|(amount, method, reference)| {
                    (*amount, method.as_str(), reference.as_deref())
                }),
        },
        now,
    )?;
    tx.insert_event(
        order_id,
        now,
        actor,
        Some(row.status),
        row.status,
        Some(&EventReason::Return(to).stored()),
    )?;
    if step == ReturnStep::Receive {
        tx.count_return(order_id)?;
        if details.resellable == Some(true) {
            let skus = tx.restock_sold_lines(order_id)?;
            crate::offers::offer_released(tx, &skus, now, messaging, seed)?;
        }
    }
    // A request that ended after the window closed completes the order (its timer found the
    // request open and left it).
    let ended = !to.is_open();
    if ended
        && row.status == OrderStatus::Delivered
        && row
            .delivered_at
            .is_some_and(|at| messaging.settings.returns.closes_at(at) <= now)
    {
        tx.mark_step(order_id, Step::Complete.target(), now)?;
        tx.insert_event(
            order_id,
            now,
            actor,
            Some(row.status),
            OrderStatus::Completed,
            Some(&EventReason::ReturnClosed.stored()),
        )?;
    }
    let order = tx.order(order_id)?.expect("the order was just read");
    tx.enqueue(
        messaging,
        MessageKind::ReturnUpdate,
        &order,
        None,
        None,
        now,
    )?;
    Ok(Ok(order))
}

/// Cleans a return's photos off the async threads: pictures only (no PDF), three at most, each
/// within the proof of transfer's limits.
async fn clean_photos(photos: Vec<Vec<u8>>) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if photos.len() > RETURN_PHOTOS_MAX {
        return Err(FileError::TooMany.into());
    }
    tokio::task::spawn_blocking(move || {
        photos
            .iter()
            .map(|bytes| {
                if ProofFormat::sniff(bytes) == Some(ProofFormat::Pdf) {
                    return Err(FileError::NotAccepted);
                }
                let clean = crate::proofs::clean_file(bytes)?;
                Ok((clean.format.content_type().to_owned(), clean.body))
            })
            .collect::<Result<Vec<_>, FileError>>()
    })
    .await
    .map_err(|e| Error::Store(lunas_store::StoreError::Internal(e.to_string())))?
    .map_err(Error::from)
}

impl Engine {
    /// Asks for a return of order `id` for `reason`, with up to three photos, for `by` (the buyer
    /// from the order page, or staff).
    pub async fn request_return(
        &self,
        id: OrderId,
        reason: String,
        photos: Vec<Vec<u8>>,
        by: Actor,
    ) -> Result<Order, Error> {
        let photos = clean_photos(photos).await?;
        let (now, messaging) = (self.now(), self.messaging());
        Ok(self
            .store
            .transact(move |tx| request(tx, id, &reason, &by, &photos, now, &messaging))
            .await??)
    }

    /// Takes `step` on return request `id` for `actor`.
    pub async fn return_step(
        &self,
        id: i64,
        return_step: ReturnStep,
        details: ReturnDetails,
        actor: Actor,
    ) -> Result<Order, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        let seed: u128 = rand::random();
        Ok(self
            .store
            .transact(move |tx| step(tx, id, return_step, &details, &actor, now, &messaging, seed))
            .await??)
    }

    /// The return requests staff still handle, oldest first.
    pub async fn open_returns(&self, limit: usize) -> Result<Vec<lunas_store::ReturnRow>, Error> {
        Ok(self.store.open_returns(limit).await?)
    }

    /// Photo `n` (from 0) of return `id`: its content type and bytes.
    pub async fn return_photo(&self, id: i64, n: i64) -> Result<Option<(String, Vec<u8>)>, Error> {
        Ok(self.store.return_photo(id, n).await?)
    }
}
