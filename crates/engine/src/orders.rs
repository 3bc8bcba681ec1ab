//! The use cases of an order's life before payment, each one transaction through `Tx`:
//! placing (the buyer judged by their standing and the band's policy applied by
//! `lunas_core::placing::decide_placement`, the stock held, the order written with its deadline,
//! timers and unique code, its first message beside it), cancelling and moving the deadline.
//! Refused at any step, nothing is written.

use lunas_core::customers::Standing;
use lunas_core::messages::MessageKind;
use lunas_core::order::{decide_cancel, decide_extension};
use lunas_core::placing::Placement;
use lunas_core::placing::{
    Messaging, NewOrder, NewOrderLine, OrderOpError, PlaceError, Placed, decide_placement,
};
use lunas_core::reliability::AppliedPolicy;
use lunas_core::timers::{deadline_timers, reminders_for};
use lunas_core::{
    Actor, CancelledBy, HoldState, Money, Order, OrderEvent, OrderId, OrderStatus, Timestamp,
};
use lunas_core::{CustomerInfo, OrderItem};
use lunas_store::{Held, InsertedOrder, OrderDeadline, OrderHead, Tx, TxResult};

use crate::{Error, PlaceOrder, pages};

/// Places `new` in `tx`. `random` draws the first unique code to try; a transaction that runs
/// again draws the same.
pub(crate) fn place(
    tx: &mut Tx<'_>,
    new: &NewOrder,
    random: u64,
) -> TxResult<Result<Placed, PlaceError>> {
    if let Some(key) = &new.idempotency
        && let Some((request_hash, order)) = tx.seen_idempotency_key(key)?
    {
        if request_hash != key.request_hash {
            return Ok(Err(PlaceError::IdempotencyKeyReused));
        }
        return Ok(Ok(Placed {
            order,
            replayed: true,
        }));
    }

    // The buyer's band decides what this order may be, read in this transaction so that the
    // decision and the order are one.
    let (own, erased) = tx.standings(&new.customer.phone, &new.phone_hmac)?;
    let placement = match decide(tx, new, own.as_ref(), erased.as_ref())? {
        Ok(placement) => placement,
        Err(refused) => return Ok(Err(refused)),
    };
    let Held {
        items,
        tips,
        total: items_total,
    } = match tx.hold_stock(&new.lines, new.charges)? {
        Ok(held) => held,
        Err(refused) => return Ok(Err(refused)),
    };
    let total = total_with_charges(new, items_total)?;
    let policy = placement.policy(total);
    let (customer_id, customer) = tx.upsert_buyer(&new.customer, new.placed_at)?;
    let inserted = tx.insert_order(
        &head(new, &placement, &policy, customer_id, total, random),
        &new.messaging.settings.payments.unique_code,
        &items,
        &placement.timers,
    )?;
    let order = new_order(new, &placement, policy, customer, items, total, &inserted);
    if let Some(key) = &new.idempotency {
        tx.remember_idempotency_key(key, &order, new.placed_at)?;
    }
    // The products' tips were read with their stock, and on PostgreSQL the webhook endpoints
    // with the order's rows; no need to read them again.
    tx.enqueue(
        &new.messaging,
        first_message(order.status),
        &order,
        Some(tips),
        inserted.webhooks,
        new.placed_at,
    )?;
    Ok(Ok(Placed {
        order,
        replayed: false,
    }))
}

/// What the buyer's standing (`own`, and `erased`: what an earlier erasure of the number left)
/// and the band's policy make of `new`, reading what the policy needs besides.
pub(crate) fn decide(
    tx: &mut Tx<'_>,
    new: &NewOrder,
    own: Option<&Standing>,
    erased: Option<&Standing>,
) -> TxResult<Result<Placement, PlaceError>> {
    let settings = &new.messaging.settings;
    // What the number said in chat: read only when the policy reads it.
    let chat = if settings.risk.watch_tire_kickers {
        tx.chat_counts(&new.customer.phone)?
    } else {
        None
    };
    let assessment = lunas_core::customers::judge(
        own,
        erased,
        chat.as_ref(),
        new.placed_at,
        new.base_rate,
        settings,
    );
    let units = new.lines.iter().map(|line| line.qty.units()).sum();
    // COD parcels this number refused at the door lately: read only for a COD order.
    let cod_refusals = if new.payment_method == lunas_core::PaymentMethod::Cod {
        let since = settings.fulfilment.refusals_since(new.placed_at);
        tx.cod_refusals_since(&new.customer.phone, since)?
    } else {
        0
    };
    Ok(decide_placement(
        settings,
        assessment,
        new.payment_method,
        new.pay_within,
        units,
        new.placed_at,
        cod_refusals,
    )
    .map_err(PlaceError::Policy))
}

/// The total the buyer pays: the items' with the shipping cost and the discount (a discount
/// that leaves nothing to pay was refused before the stock was held).
pub(crate) fn total_with_charges(new: &NewOrder, items_total: Money) -> TxResult<Money> {
    new.charges
        .total(items_total)
        .ok_or_else(|| Tx::corrupt("a discount above the total passed the hold".to_owned()))
}

/// The head of `new`'s order. A bank transfer's unique code: a random amount of the store's
/// range (from `random`), so that a statement line names this order; the store finds a free one
/// when it is taken.
pub(crate) fn head<'a>(
    new: &'a NewOrder,
    placement: &Placement,
    policy: &'a AppliedPolicy,
    customer_id: i64,
    total: Money,
    random: u64,
) -> OrderHead<'a> {
    let codes = &new.messaging.settings.payments.unique_code;
    OrderHead {
        customer_id,
        payment_method: new.payment_method,
        total,
        pay_by: placement.pay_by,
        placed_at: new.placed_at,
        actor: &new.actor,
        policy,
        first_amount: placement
            .unique_code
            .then(|| lunas_core::payments::random_amount(total, codes, random))
            .flatten(),
        address: new.address.as_ref(),
        charges: new.charges,
        public_token: &new.public_token,
        note: new.note.as_deref(),
        status: placement.status,
        confirm_by: placement.confirm_by,
    }
}

/// `new`'s order as written: its first event, nothing paid yet.
pub(crate) fn new_order(
    new: &NewOrder,
    placement: &Placement,
    policy: AppliedPolicy,
    customer: CustomerInfo,
    items: Vec<OrderItem>,
    total: Money,
    inserted: &InsertedOrder,
) -> Order {
    let status = placement.status;
    Order {
        id: inserted.id,
        status,
        customer,
        items,
        total,
        amount_due: inserted.amount_due,
        unique_code: inserted.unique_code,
        payment_url: None,
        amount_paid: Money::ZERO,
        payment_method: new.payment_method,
        pay_by: placement.pay_by,
        placed_at: new.placed_at,
        payments: Vec::new(),
        events: vec![OrderEvent {
            at: new.placed_at,
            actor: new.actor.clone(),
            from: None,
            to: status,
            reason: None,
        }],
        deposit: policy.deposit,
        deposit_forfeited: None,
        policy: Some(policy),
        address: new.address.clone(),
        shipping_cost: new.charges.shipping_cost,
        discount: new.charges.discount,
        written_off: Money::ZERO,
        public_token: Some(new.public_token.clone()),
        proof: None,
        note: new.note.clone(),
        shipment: lunas_core::fulfilment::Shipment {
            confirm_by: placement.confirm_by,
            ..Default::default()
        },
        return_request: None,
    }
}

/// A new order's first message: a COD order's asks its buyer to confirm it.
pub(crate) fn first_message(status: OrderStatus) -> MessageKind {
    if status == OrderStatus::AwaitingConfirmation {
        MessageKind::CodConfirm
    } else {
        MessageKind::OrderReceived
    }
}

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
        let batched =
            self.store.backend_name() == "postgres" && single_line && new.idempotency.is_none();
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

/// A one-line placement refused for a SKU with nothing left at all: the SKU is remembered as
/// sold out (from `mark`, so that stock freed since is not forgotten).
pub(crate) fn remember_sold_out(store: &lunas_store::Store, refused: &PlaceError, mark: u64) {
    if let PlaceError::OutOfStock { sku, available, .. } = refused
        && *available <= 0
    {
        store.note_sold_out(sku, mark);
    }
}

pub(crate) fn out_of_stock(line: &NewOrderLine) -> PlaceError {
    PlaceError::OutOfStock {
        sku: line.sku.clone(),
        requested: line.qty.units(),
        available: 0,
    }
}
