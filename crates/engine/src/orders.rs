//! The use cases of an order's life before payment, each one transaction through `Tx`:
//! placing (the buyer judged by their standing and the band's policy applied by
//! `lunas_core::placing::decide_placement`, the stock held, the order written with its deadline,
//! timers and unique code, its first message beside it), cancelling and moving the deadline.
//! Refused at any step, nothing is written.

use lunas_core::messages::MessageKind;
use lunas_core::order::{decide_cancel, decide_extension};
use lunas_core::placing::{
    Messaging, NewOrder, NewOrderLine, OrderOpError, PlaceError, Placed, decide_placement,
};
use lunas_core::timers::{deadline_timers, reminders_for};
use lunas_core::{
    Actor, CancelledBy, HoldState, Money, Order, OrderEvent, OrderId, OrderStatus, Timestamp,
};
use lunas_store::{Held, OrderDeadline, OrderHead, Tx, TxResult};

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
    let settings = &new.messaging.settings;
    let (own, erased) = tx.standings(&new.customer.phone, &new.phone_hmac)?;
    // What the number said in chat: read only when the policy reads it.
    let chat = if settings.risk.watch_tire_kickers {
        tx.chat_counts(&new.customer.phone)?
    } else {
        None
    };
    let assessment = lunas_core::customers::judge(
        own.as_ref(),
        erased.as_ref(),
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
    let placement = match decide_placement(
        settings,
        assessment,
        new.payment_method,
        new.pay_within,
        units,
        new.placed_at,
        cod_refusals,
    ) {
        Ok(placement) => placement,
        Err(refused) => return Ok(Err(PlaceError::Policy(refused))),
    };
    let Held {
        items,
        tips,
        total: items_total,
    } = match tx.hold_stock(&new.lines, new.charges)? {
        Ok(held) => held,
        Err(refused) => return Ok(Err(refused)),
    };
    // The shipping cost and the discount make the total the buyer pays, and its unique code
    // (a discount that leaves nothing to pay was refused before the stock was held).
    let total = new
        .charges
        .total(items_total)
        .ok_or_else(|| Tx::corrupt("a discount above the total passed the hold".to_owned()))?;
    let policy = placement.policy(total);
    let (customer_id, customer) = tx.upsert_buyer(&new.customer, new.placed_at)?;

    // A bank transfer's unique code: a random amount of the store's range, so that a statement
    // line names this order; the store finds a free one when it is taken.
    let codes = &settings.payments.unique_code;
    let first_amount = placement
        .unique_code
        .then(|| lunas_core::payments::random_amount(total, codes, random))
        .flatten();
    let inserted = tx.insert_order(
        &OrderHead {
            customer_id,
            payment_method: new.payment_method,
            total,
            pay_by: placement.pay_by,
            placed_at: new.placed_at,
            actor: &new.actor,
            policy: &policy,
            first_amount,
            address: new.address.as_ref(),
            charges: new.charges,
            public_token: &new.public_token,
            note: new.note.as_deref(),
            status: placement.status,
            confirm_by: placement.confirm_by,
        },
        codes,
        &items,
        &placement.timers,
    )?;

    let status = placement.status;
    let order = Order {
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
    };
    if let Some(key) = &new.idempotency {
        tx.remember_idempotency_key(key, &order, new.placed_at)?;
    }
    // The products' tips were read with their stock, and on PostgreSQL the webhook endpoints
    // with the order's rows; no need to read them again.
    // A COD order's first message asks its buyer to confirm it.
    let first = if status == OrderStatus::AwaitingConfirmation {
        MessageKind::CodConfirm
    } else {
        MessageKind::OrderReceived
    };
    tx.enqueue(
        &new.messaging,
        first,
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
        // While sold-out SKUs are remembered (PostgreSQL), one-line placements of one SKU are
        // placed together (see `Batches`).
        let placed = match (sold_out_mark, new.lines.as_slice()) {
            (Some(mark), [line]) => {
                let sku = line.sku.clone();
                let waiting = Waiting { new, random, mark };
                self.placing.place(&self.store, sku, waiting).await?
            }
            _ => {
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

/// A placement's result as the store gives it: placed, or refused with nothing written.
type Placing = Result<Result<Placed, PlaceError>, lunas_store::StoreError>;

/// A one-line placement waiting for its SKU's next batch.
pub(crate) struct Waiting {
    new: NewOrder,
    random: u64,
    /// The sold-out memory's mark, taken before the placement was decided.
    mark: u64,
}

/// The most placements one transaction takes.
const BATCH_LEN_MAX: usize = 64;

/// One-line placements of one SKU in this process, placed together: on PostgreSQL, while sold-out
/// SKUs are remembered (a flash sale). Every placement of a SKU waits for its product row's lock,
/// held from the hold until the commit, so placements of one SKU cannot overlap anyway; in a
/// flash sale dozens of pooled connections of every process queued there, each placement paying
/// its own commit. Here the placements that arrive while one transaction of the SKU runs wait in
/// this process and go into the next transaction together (at most `BATCH_LEN_MAX`, no waiting
/// on a timer: a batch is what gathered meanwhile): one row lock and one commit for all of them,
/// each placement in a savepoint of its own, so each is still all or nothing, and each answered
/// only once the transaction is durable. Once the SKU is found with nothing left, the rest of the
/// batch is refused without being tried. Placements of different SKUs do not wait for each other.
#[derive(Default)]
pub(crate) struct Batches {
    by_sku: std::sync::Mutex<std::collections::HashMap<lunas_core::Sku, std::sync::Arc<SkuQueue>>>,
    /// Numbers the waiting placements, so that one whose requester went can be taken out.
    next: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct SkuQueue {
    waiting: std::sync::Mutex<std::collections::VecDeque<(u64, Waiting, Answer)>>,
    /// Held by the task running the SKU's batch.
    running: std::sync::Arc<tokio::sync::Mutex<()>>,
}

type Answer = tokio::sync::oneshot::Sender<Placing>;

impl Batches {
    /// Places `waiting` in one of the SKU's batches and answers when that batch has committed.
    async fn place(
        &self,
        store: &lunas_store::Store,
        sku: lunas_core::Sku,
        waiting: Waiting,
    ) -> Placing {
        let queue = self
            .by_sku
            .lock()
            .expect("batches lock")
            .entry(sku.clone())
            .or_default()
            .clone();
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (answer, mut answered) = tokio::sync::oneshot::channel();
        queue
            .waiting
            .lock()
            .expect("queue lock")
            .push_back((id, waiting, answer));
        let _queued = Queued {
            batches: self,
            sku,
            queue: queue.clone(),
            id,
        };
        loop {
            if let Ok(placing) = answered.try_recv() {
                return placing;
            }
            // The batch runs in a task of its own holding the SKU's lock, so that a request
            // dropped by its client never leaves the others of its batch unanswered.
            let running = queue.running.clone().lock_owned().await;
            if let Ok(placing) = answered.try_recv() {
                return placing;
            }
            let batch: Vec<(Waiting, Answer)> = {
                let mut waiting = queue.waiting.lock().expect("queue lock");
                let len = waiting.len().min(BATCH_LEN_MAX);
                waiting.drain(..len).map(|(_, w, a)| (w, a)).collect()
            };
            let store = store.clone();
            let run = tokio::spawn(async move {
                place_batch(store, batch).await;
                drop(running);
            });
            // Its answers are sent before the task ends; ours is among them or in a later batch.
            let _ = run.await;
        }
    }
}

/// A placement in its SKU's queue, until its requester has its answer or goes: a placement not
/// yet taken into a batch leaves with its requester (a client that hung up), and the last one out
/// removes the SKU's queue, so the map holds only SKUs being placed.
struct Queued<'a> {
    batches: &'a Batches,
    sku: lunas_core::Sku,
    queue: std::sync::Arc<SkuQueue>,
    id: u64,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.queue
            .waiting
            .lock()
            .expect("queue lock")
            .retain(|(id, _, _)| *id != self.id);
        let mut by_sku = self.batches.by_sku.lock().expect("batches lock");
        // The map's reference, this one, and the caller's.
        if by_sku
            .get(&self.sku)
            .is_some_and(|queue| std::sync::Arc::strong_count(queue) == 3)
        {
            by_sku.remove(&self.sku);
        }
    }
}

/// Places `batch` in one transaction, each placement in a savepoint, and answers each: all of
/// them with the store's error if the transaction failed.
async fn place_batch(store: lunas_store::Store, batch: Vec<(Waiting, Answer)>) {
    let (waiting, answers): (Vec<Waiting>, Vec<Answer>) = batch.into_iter().unzip();
    // Sold out while these waited: refused without a transaction.
    let remembered: Vec<Option<PlaceError>> = waiting
        .iter()
        .map(|w| {
            let line = &w.new.lines[0];
            store.is_sold_out(&line.sku).then(|| out_of_stock(line))
        })
        .collect();
    let tried = std::sync::Arc::new(waiting);
    let (placing, skipped) = (tried.clone(), remembered.clone());
    let outcome = store
        .transact_always(move |tx| place_all(tx, &placing, &skipped))
        .await;
    for (i, answer) in answers.into_iter().enumerate() {
        let placing = match (&outcome, &remembered[i]) {
            (_, Some(refused)) => Ok(Err(refused.clone())),
            (Ok(results), None) => Ok(results[i].clone()),
            (Err(e), None) => Err(e.clone()),
        };
        if let Ok(Err(refused)) = &placing {
            remember_sold_out(&store, refused, tried[i].mark);
        }
        // The requester may have gone (its client hung up): the order stands all the same.
        let _ = answer.send(placing);
    }
}

/// A one-line placement refused for a SKU with nothing left at all: the SKU is remembered as
/// sold out (from `mark`, so that stock freed since is not forgotten).
fn remember_sold_out(store: &lunas_store::Store, refused: &PlaceError, mark: u64) {
    if let PlaceError::OutOfStock { sku, available, .. } = refused
        && *available <= 0
    {
        store.note_sold_out(sku, mark);
    }
}

fn out_of_stock(line: &NewOrderLine) -> PlaceError {
    PlaceError::OutOfStock {
        sku: line.sku.clone(),
        requested: line.qty.units(),
        available: 0,
    }
}

/// Places each of `batch` not `skipped` in a savepoint of its own. Once one is refused for a SKU
/// with nothing left, the others wanting it are refused without being tried (in this transaction
/// the SKU's stock only goes down). A failure of the store fails the batch (a lost race runs it
/// again).
fn place_all(
    tx: &mut Tx<'_>,
    batch: &[Waiting],
    skipped: &[Option<PlaceError>],
) -> TxResult<Vec<Result<Placed, PlaceError>>> {
    let mut results = Vec::with_capacity(batch.len());
    let mut sold_out = false;
    for (waiting, skipped) in batch.iter().zip(skipped) {
        if let Some(refused) = skipped {
            results.push(Err(refused.clone()));
            continue;
        }
        if sold_out {
            results.push(Err(out_of_stock(&waiting.new.lines[0])));
            continue;
        }
        tx.savepoint()?;
        match place(tx, &waiting.new, waiting.random)? {
            Ok(placed) => {
                tx.release_savepoint()?;
                results.push(Ok(placed));
            }
            Err(refused) => {
                tx.rollback_to_savepoint()?;
                sold_out |=
                    matches!(refused, PlaceError::OutOfStock { available, .. } if available <= 0);
                results.push(Err(refused));
            }
        }
    }
    Ok(results)
}
