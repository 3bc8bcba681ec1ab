//! The use cases of an order's life before payment, each one transaction through `Tx`: placing
//! (see `placing`; on PostgreSQL one-line placements go to `batches`), cancelling and moving the
//! deadline. Refused at any step, nothing is written.

use lunas_core::messages::MessageKind;
use lunas_core::order::{decide_cancel, decide_extension};
use lunas_core::placing::{Messaging, NewOrder, OrderOpError, PlaceError, Placed};
use lunas_core::timers::{deadline_timers, reminders_for};
use lunas_core::{Actor, CancelledBy, HoldState, Order, OrderId, OrderStatus, Timestamp};
use lunas_store::{OrderDeadline, Tx, TxResult};

use crate::placing::{out_of_stock, place, remember_sold_out};
use crate::{Error, PlaceOrder, pages};

/// Cancels order `id` on behalf of `by`, if it may still be cancelled: its holds released, its
/// timers and undelivered reminders gone, counted in the buyer's record, and the buyer told; the
/// released units are offered to the waitlist (claim tokens from `seed`, drawn before the
/// transaction so that a rerun makes the same).
#[allow(clippy::too_many_arguments)]
pub(crate) fn cancel(
    tx: &mut Tx<'_>,
    id: OrderId,
    reason: &str,
    actor: &Actor,
    by: CancelledBy,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<Result<Order, OrderOpError>> {
    let Some(status) = tx.status_for_update(id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    if let Err(e) = decide_cancel(status) {
        return Ok(Err(e.into()));
    }
    tx.mark_cancelled(id, by, now)?;
    tx.stop_awaiting(id)?;
    tx.end_holds(id, HoldState::Released)?;
    tx.count_cancelled(id, by)?;
    tx.insert_event(
        id,
        now,
        actor,
        Some(status),
        OrderStatus::Cancelled,
        Some(reason),
    )?;
    let order = tx.order(id)?.expect("the order was just read");
    tx.enqueue(messaging, MessageKind::Cancelled, &order, None, None, now)?;
    // The released units go to the buyers waiting for them first.
    let skus: Vec<_> = order.items.iter().map(|i| i.sku.clone()).collect();
    crate::offers::offer_released(tx, &skus, now, messaging, seed)?;
    Ok(Ok(order))
}

/// Moves order `id`'s deadline to `to`, if `decide_extension` allows: its release moves, the
/// reminders of the cadence still ahead are written again, numbered after those already sent,
/// the manual messages still waiting (which name the old deadline) leave the queue, and the
/// buyer is told the new deadline.
pub(crate) fn extend(
    tx: &mut Tx<'_>,
    id: OrderId,
    to: Timestamp,
    reason: &str,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<Result<Order, OrderOpError>> {
    let Some(OrderDeadline {
        status,
        pay_by,
        placed_at,
        method,
    }) = tx.deadline_for_update(id)?
    else {
        return Ok(Err(OrderOpError::NotFound));
    };
    if let Err(e) = decide_extension(status, pay_by, to, now) {
        return Ok(Err(OrderOpError::Extend(e)));
    }
    let settings = &messaging.settings;
    let written = tx.reminders_written(id)?;
    let mut ahead = reminders_for(settings, method, placed_at, Some(to));
    ahead.retain(|reminder| reminder.due > now);
    let timers = deadline_timers(settings, method, Some(to), &ahead, written + 1);
    tx.move_deadline(id, to, &timers, now)?;
    // What still waits in the manual queue names the old deadline; the buyer is told the new one.
    tx.supersede_manual_waiting(id)?;
    let why = lunas_core::events::EventReason::DeadlineMoved {
        to,
        why: reason.to_owned(),
    }
    .stored();
    tx.insert_event(id, now, actor, Some(status), status, Some(&why))?;
    let order = tx.order(id)?.expect("the order was just read");
    tx.enqueue(
        messaging,
        MessageKind::DeadlineMoved,
        &order,
        None,
        None,
        now,
    )?;
    Ok(Ok(order))
}

impl crate::Engine {
    /// Places an order with its payment deadline from the store's settings (or `pay_within`),
    /// holding its stock in the same transaction.
    pub async fn place_order(&self, request: PlaceOrder) -> Result<Placed, Error> {
        if request.payment_method == lunas_core::PaymentMethod::Cod && request.pay_within.is_some()
        {
            return Err(Error::PayWithinOnCod);
        }
        // A flash sale's refusals: a SKU this process found sold out, and no process has freed
        // stock of since, is refused without a transaction (PostgreSQL, once `watch_sold_out`
        // listens). Never for a request with an idempotency key, whose replay must find its order.
        let sold_out_mark = match request.idempotency {
            None => self.store.sold_out_mark(),
            Some(_) => None,
        };
        if sold_out_mark.is_some()
            && let Some(line) = request
                .lines
                .iter()
                .find(|line| self.store.is_sold_out(&line.sku))
        {
            return Err(Error::Place(out_of_stock(line)));
        }
        let single_line = request.lines.len() == 1;
        let placed_at = self.now();
        // The store judges the buyer (band and policy, decided by `lunas_core`) in the placement's
        // own transaction; it needs the store's base rate and the number's HMAC from here.
        let phone_hmac = self.phone_hmac(&request.customer.phone).await?;
        let base_rate = self.base_rate().await?;
        let new = NewOrder {
            customer: request.customer,
            lines: request.lines,
            address: request.address,
            charges: request.charges,
            payment_method: request.payment_method,
            pay_within: request.pay_within,
            placed_at,
            actor: request.actor,
            idempotency: request.idempotency,
            messaging: self.messaging(),
            base_rate,
            phone_hmac,
            public_token: pages::new_token(placed_at),
            note: request.note,
        };
        let random: u64 = rand::random();
        // On PostgreSQL, one-line placements without an idempotency key are placed in batches,
        // a statement per step for the whole batch (see `batches`).
        let batched = self.store.places_in_batches() && single_line && new.idempotency.is_none();
        let placed = match batched {
            true => {
                let waiting = crate::batches::Waiting {
                    new,
                    random,
                    mark: sold_out_mark,
                };
                self.placing.place(&self.store, waiting).await?
            }
            false => {
                let placed = self
                    .store
                    .transact(move |tx| place(tx, &new, random))
                    .await?;
                // Nothing left at all (an order of one line, so `available` is the product's).
                if let (Some(mark), true, Err(refused)) = (sold_out_mark, single_line, &placed) {
                    remember_sold_out(&self.store, refused, mark);
                }
                placed
            }
        };
        match placed {
            Ok(placed) => {
                self.wake_for(&placed.order);
                Ok(placed)
            }
            Err(PlaceError::Policy(refused)) => Err(Error::Policy(refused)),
            Err(other) => Err(Error::Place(other)),
        }
    }

    /// On PostgreSQL, starts hearing of stock freed by any process, so that buyers of a SKU this
    /// process found sold out are refused without a transaction until stock of it is freed (a
    /// flash sale's thousands of refusals); `lunas serve` calls it. `false` on SQLite, where the
    /// writer answers refusals itself, or when the connection for it could not be made.
    pub async fn watch_sold_out(&self) -> bool {
        self.store.watch_sold_out().await
    }
}
