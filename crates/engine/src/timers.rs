//! The use case of due timers, one transaction per batch through `Tx`: a reminder writes its
//! message while its order still awaits payment from a buyer who has not opted out; an expiry
//! releases the holds of an order `decide_expiry` says is past its deadline (and its grace), ends
//! its reminders and writes "hold released". The products' and buyers' counters change once per
//! batch, at its end, in SKU order then buyer order, so concurrent batches never wait on each
//! other in a cycle.

use std::collections::HashMap;

use lunas_core::events::EventReason;
use lunas_core::messages::MessageKind;
use lunas_core::order::{ExpiryDecision, decide_expiry};
use lunas_core::placing::{FiredTimers, Messaging};
use lunas_core::timers::{PlannedTimer, TimerKind};
use lunas_core::{Actor, OrderStatus, Timestamp};
use lunas_store::{BatchChanges, DueTimer, Tx, TxResult};

/// How long a timer whose handling failed waits before it is tried again.
const TIMER_RETRY_DELAY: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// How long a timer whose order another transaction holds waits before it is tried again.
const TIMER_BUSY_DELAY: jiff::SignedDuration = jiff::SignedDuration::from_secs(1);

/// Fires up to `limit` due timers, each once: if the process dies first, the transaction is
/// rolled back and the timers are there again for another process. A timer whose order another
/// transaction holds right now is put back for the next tick.
///
/// With `isolate`, each timer runs in its own savepoint, so one that fails is put back (retried a
/// minute later) without holding back the others; without it, the first failure fails the whole
/// batch (the caller then runs it again with `isolate`).
pub(crate) fn fire_due(
    tx: &mut Tx<'_>,
    now: Timestamp,
    limit: usize,
    messaging: &Messaging,
    isolate: bool,
    seed: u128,
) -> TxResult<FiredTimers> {
    let due = tx.take_due_timers(now, limit)?;
    // A proof of transfer sent within the store's pause and still waiting for staff pauses the
    // order's reminders: the buyer is not chased for money they say they sent.
    let pause = messaging.settings.shop.proof_pause.as_duration();
    let reminded = tx.reminder_states(&due, now - pause)?;
    // The seller's webhook endpoints, read once for the batch's messages.
    let webhooks = tx.webhook_endpoint_ids()?;
    let mut fired = FiredTimers::default();
    let mut batch = BatchChanges::default();
    for timer in due {
        if isolate {
            tx.savepoint()?;
        }
        let mut changes = BatchChanges::default();
        let handled = match handle(
            tx,
            &timer,
            now,
            messaging,
            &reminded,
            &webhooks,
            &mut changes,
        ) {
            Ok(handled) => {
                if isolate {
                    tx.release_savepoint()?;
                }
                batch.absorb(changes);
                handled
            }
            // A lost race with another transaction is not this timer's fault: the whole batch is
            // run again by the backend.
            Err(e) if e.is_conflict() => return Err(e),
            Err(e) if isolate => {
                tx.rollback_to_savepoint()?;
                tracing::error!(timer_id = timer.id.0, order_id = timer.order_id.0, error = %e, "timer failed; it will be retried");
                tx.put_back(&timer, now + TIMER_RETRY_DELAY, timer.attempts + 1)?;
                fired.failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        match handled {
            Handled::Busy => {
                // Not at once: the scheduler would spin on it while the other transaction runs.
                tx.put_back(&timer, now + TIMER_BUSY_DELAY, timer.attempts)?;
                fired.busy += 1;
            }
            Handled::Fired => fired.fired += 1,
            Handled::Expired => {
                fired.fired += 1;
                fired.expired += 1;
            }
            Handled::Unconfirmed => {
                fired.fired += 1;
                fired.unconfirmed += 1;
            }
        }
    }
    tx.apply_batch(&batch)?;
    // The units released go to the buyers waiting for them first.
    if fired.expired + fired.unconfirmed > 0 {
        crate::offers::offer_released(tx, &batch.skus(), now, messaging, seed)?;
    }
    Ok(fired)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Done (a reminder written or not needed, an expiry that was moot).
    Fired,
    /// The order expired.
    Expired,
    /// A COD order its buyer never confirmed was cancelled.
    Unconfirmed,
    /// Another transaction holds the order (paying or cancelling it): the timer goes back, due
    /// a second later, when that transaction has decided.
    Busy,
}

fn handle(
    tx: &mut Tx<'_>,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
    reminded: &HashMap<i64, bool>,
    webhooks: &[String],
    changes: &mut BatchChanges,
) -> TxResult<Handled> {
    let id = timer.order_id;
    match TimerKind::parse(&timer.kind) {
        Some(TimerKind::Expire) => {}
        Some(TimerKind::Remind) => {
            if reminded.get(&id.0).copied().unwrap_or(false) {
                send_reminder(tx, timer, now, messaging, webhooks)?;
            }
            return Ok(Handled::Fired);
        }
        Some(TimerKind::ConfirmCod) => {
            return Ok(
                match crate::fulfilment::cod_deadline(tx, id, now, messaging, changes)? {
                    None => Handled::Busy,
                    Some(true) => Handled::Unconfirmed,
                    Some(false) => Handled::Fired,
                },
            );
        }
        Some(TimerKind::Complete) => {
            return Ok(
                match crate::fulfilment::window_closed(tx, id, now, messaging)? {
                    None => Handled::Busy,
                    Some(()) => Handled::Fired,
                },
            );
        }
        None => {
            return Err(Tx::corrupt(format!(
                "timer {} has an unknown kind {:?}",
                timer.id.0, timer.kind
            )));
        }
    }
    let Some(order) = tx.expiring_order(id)? else {
        return Ok(Handled::Busy);
    };
    // The hold is released at the deadline plus the method's grace, as the settings say now, or
    // when the pause of a proof of transfer still waiting for staff ends, whichever is later.
    let proof_until = order
        .proof_waiting_since
        .map(|at| at + messaging.settings.shop.proof_pause.as_duration());
    let expires_at = order.pay_by.map(|deadline| {
        let expires_at = messaging
            .settings
            .payments
            .expires_at(order.payment_method, deadline);
        proof_until.map_or(expires_at, |until| until.max(expires_at))
    });
    match decide_expiry(order.status, expires_at, now) {
        ExpiryDecision::Expire => {
            // A deposit was paid and the balance never came: the store's setting says what
            // becomes of it.
            let forfeited = (order.status == OrderStatus::AwaitingBalance)
                .then(|| messaging.settings.risk.forfeited_deposit.outcome());
            tx.mark_expired(id, forfeited, now)?;
            // Reminders still pending for this order are cancelled, not merely ignored. The
            // products' and the buyer's counters change once for the whole batch, at its end.
            tx.stop_awaiting(id)?;
            tx.release_holds_into(id, changes)?;
            changes.count_expired(order.customer_id);
            tx.insert_event(
                id,
                now,
                &Actor::system(),
                Some(order.status),
                OrderStatus::Expired,
                Some(
                    &match forfeited {
                        None => EventReason::DeadlinePassed,
                        Some(outcome) => EventReason::BalanceDeadlinePassed {
                            deposit_kept: outcome == "kept",
                        },
                    }
                    .stored(),
                ),
            )?;
            let order = tx
                .order_for_message(id)?
                .ok_or_else(|| Tx::corrupt(format!("order {id} went as it expired")))?;
            tx.enqueue(
                messaging,
                MessageKind::HoldReleased,
                &order,
                None,
                Some(webhooks.to_vec()),
                now,
            )?;
            Ok(Handled::Expired)
        }
        ExpiryDecision::NotDue => {
            // The deadline moved later (a longer grace since the order was placed): the timer
            // waits for it rather than leaving the order without one.
            if let Some(expires_at) = expires_at {
                tx.insert_timers(id, &[PlannedTimer::expire(expires_at)])?;
            }
            Ok(Handled::Fired)
        }
        ExpiryDecision::Moot => Ok(Handled::Fired),
    }
}

/// Sends the reminder of a due `remind` timer whose order still awaits payment from a buyer who
/// has not opted out (`reminder_states` checked both in this transaction). A reminder never goes
/// out after the order stopped awaiting payment: a payment committed first deleted this timer;
/// one still running waits for this timer's row and then withdraws the reminder written here.
fn send_reminder(
    tx: &mut Tx<'_>,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
    webhooks: &[String],
) -> TxResult<()> {
    let order = tx
        .order_for_message(timer.order_id)?
        .ok_or_else(|| Tx::corrupt(format!("order {} went before its reminder", timer.order_id)))?;
    let step = timer.step.map(|s| (order.payment_method, s as usize));
    let ordinal = timer.ordinal.unwrap_or(1) as usize;
    tx.enqueue_reminder(messaging, &order, step, ordinal, webhooks, now)
}

impl crate::Engine {
    /// Handles up to a batch of timers due at or before `now`, each exactly once. The fast path
    /// runs the batch without a savepoint per timer; if any timer fails, the whole batch is rolled
    /// back and run again with a savepoint each, so the failing one is pushed back and the others
    /// still fire.
    pub(crate) async fn fire_due_timers(
        &self,
        now: Timestamp,
    ) -> Result<FiredTimers, lunas_store::StoreError> {
        let limit = self.timer_batch_len;
        let seed: u128 = rand::random();
        let run = |isolate: bool| {
            let messaging = self.messaging();
            self.store
                .transact_always(move |tx| fire_due(tx, now, limit, &messaging, isolate, seed))
        };
        match run(false).await {
            Err(lunas_store::StoreError::Internal(detail)) => {
                tracing::warn!(%detail, "a timer failed; firing this batch one timer at a time");
                run(true).await
            }
            other => other,
        }
    }
}
