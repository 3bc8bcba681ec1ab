//! Durable timers: writing an order's reminders and expiry, firing due ones in batches under
//! `SKIP LOCKED`, handling each in the transaction that re-reads its order.

use lunas_core::messages::MessageKind;
use lunas_core::order::{ExpiryDecision, decide_expiry};
use lunas_core::timers::{PlannedTimer, TimerId, TimerKind};
use lunas_core::{Actor, HoldState, OrderId, OrderStatus, PaymentMethod, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Val, corrupt, params};
use lunas_core::placing::{FiredTimers, Messaging};

/// How long a timer whose handling failed waits before it is tried again.
const TIMER_RETRY_DELAY_MS: i64 = 60_000;
/// How long a timer whose order another transaction holds waits before it is tried again.
const TIMER_BUSY_DELAY_MS: i64 = 1_000;

/// Writes an order's timers, up to four rows per statement (one round trip for the usual
/// expiry plus reminders).
pub(crate) fn insert_timers(
    db: &mut dyn Db,
    order: OrderId,
    timers: &[PlannedTimer],
) -> DbResult<()> {
    const INSERTS: [&str; 4] = [
        "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5)",
        "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5), (?6, ?7, ?8, ?9, ?10)",
        "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5), (?6, ?7, ?8, ?9, ?10), (?11, ?12, ?13, ?14, ?15)",
        "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5), (?6, ?7, ?8, ?9, ?10), (?11, ?12, ?13, ?14, ?15), (?16, ?17, ?18, ?19, ?20)",
    ];
    for chunk in timers.chunks(INSERTS.len()) {
        let mut values = Vec::with_capacity(chunk.len() * 5);
        for timer in chunk {
            values.extend([
                Val::Int(millis(timer.due)),
                Val::Text(timer.kind.as_str()),
                Val::Int(order.0),
                timer.step.into(),
                timer.ordinal.into(),
            ]);
        }
        db.execute(INSERTS[chunk.len() - 1], &values)?;
    }
    Ok(())
}

/// Fires up to `limit` due timers. The batch is taken and deleted by one statement (`DELETE …
/// RETURNING` over the earliest due rows, skipping rows another process holds), then each timer
/// is handled in the same transaction: it fires once, and if the process dies first the
/// transaction is rolled back and the timers are there again for another process. A timer whose
/// order another transaction holds right now is put back for the next tick.
///
/// With `isolate`, each timer runs in its own savepoint, so one that fails is put back (retried a
/// minute later) without holding back the others; without it, the first failure fails the whole
/// batch (the caller then retries with `isolate`).
pub(crate) fn fire_due_timers(
    db: &mut dyn Db,
    now: Timestamp,
    limit: usize,
    messaging: &Messaging,
    isolate: bool,
) -> DbResult<FiredTimers> {
    let now_ms = millis(now);
    let mut due = db.rows(
        "DELETE FROM timers WHERE id IN (
             SELECT id FROM timers WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2 FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, order_id, step, ordinal, due_at, attempts",
        params![now_ms, limit as i64],
        |row| {
            Ok(DueTimer {
                id: TimerId(row.int(0)?),
                kind: row.text(1)?,
                order_id: OrderId(row.int(2)?),
                step: row.opt_int(3)?,
                ordinal: row.opt_int(4)?,
                due_at: row.int(5)?,
                attempts: row.int(6)?,
            })
        },
    )?;
    due.sort_by_key(|timer| (timer.due_at, timer.id));
    let reminded = reminder_states(db, &due)?;
    let mut fired = FiredTimers::default();
    let mut batch = BatchChanges::default();
    for timer in due {
        if isolate {
            db.execute("SAVEPOINT timer", params![])?;
        }
        let mut changes = BatchChanges::default();
        let handled = match handle_timer(db, &timer, now, messaging, &reminded, &mut changes) {
            Ok(handled) => {
                if isolate {
                    db.execute("RELEASE timer", params![])?;
                }
                batch.absorb(changes);
                handled
            }
            // A lost race with another transaction is not this timer's fault: the whole batch is
            // run again by the backend.
            Err(e) if e.is_conflict() => return Err(e),
            Err(e) if isolate => {
                db.execute("ROLLBACK TO timer", params![])?;
                db.execute("RELEASE timer", params![])?;
                tracing::error!(timer_id = timer.id.0, order_id = timer.order_id.0, error = %e, "timer failed; it will be retried");
                put_back(
                    db,
                    &timer,
                    now_ms + TIMER_RETRY_DELAY_MS,
                    timer.attempts + 1,
                )?;
                fired.failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        match handled {
            Handled::Busy => {
                // Not at once: the scheduler would spin on it while the other transaction runs.
                put_back(db, &timer, now_ms + TIMER_BUSY_DELAY_MS, timer.attempts)?;
                fired.busy += 1;
            }
            Handled::Fired => fired.fired += 1,
            Handled::Expired => {
                fired.fired += 1;
                fired.expired += 1;
            }
        }
    }
    batch.apply(db)?;
    Ok(fired)
}

/// Puts a taken timer back, with its own id, to fire at `due_at`.
fn put_back(db: &mut dyn Db, timer: &DueTimer, due_at: i64, attempts: i64) -> DbResult<()> {
    db.execute(
        "INSERT INTO timers (id, due_at, kind, order_id, step, ordinal, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            timer.id.0,
            due_at,
            &timer.kind,
            timer.order_id.0,
            timer.step,
            timer.ordinal,
            attempts
        ],
    )?;
    Ok(())
}

/// For the reminder timers of a batch, in one query: whether each one's order still awaits
/// payment from a buyer who has not opted out. Reminders that are no longer needed then cost
/// nothing more.
fn reminder_states(
    db: &mut dyn Db,
    due: &[DueTimer],
) -> DbResult<std::collections::HashMap<i64, bool>> {
    let ids: std::collections::BTreeSet<i64> = due
        .iter()
        .filter(|timer| TimerKind::parse(&timer.kind) == Some(TimerKind::Remind))
        .map(|timer| timer.order_id.0)
        .collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let list = db.id_list(ids);
    let sql = db.pick(
        "SELECT o.id, o.status, c.no_reminders FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id IN (SELECT value FROM json_each(?1))",
        "SELECT o.id, o.status, c.no_reminders FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[]))",
    );
    let rows = db.rows(sql, params![&list], |row| {
        let wanted =
            status_of(&row.text(1)?)? == OrderStatus::AwaitingPayment && !row.boolean(2)?;
        Ok((row.int(0)?, wanted))
    })?;
    Ok(rows.into_iter().collect())
}

struct DueTimer {
    id: TimerId,
    /// As stored: a damaged kind fails this timer alone (it is put back), not its batch.
    kind: String,
    order_id: OrderId,
    step: Option<i64>,
    ordinal: Option<i64>,
    due_at: i64,
    attempts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Done (a reminder written or not needed, an expiry that was moot).
    Fired,
    /// The order expired.
    Expired,
    /// Another transaction holds the order (paying or cancelling it): the timer goes back, due
    /// a second later, when that transaction has decided.
    Busy,
}

fn handle_timer(
    db: &mut dyn Db,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
    reminded: &std::collections::HashMap<i64, bool>,
    changes: &mut BatchChanges,
) -> DbResult<Handled> {
    let id = timer.order_id;
    match TimerKind::parse(&timer.kind) {
        Some(TimerKind::Expire) => {}
        Some(TimerKind::Remind) => {
            if reminded.get(&id.0).copied().unwrap_or(false) {
                send_reminder(db, timer, now, messaging)?;
            }
            return Ok(Handled::Fired);
        }
        None => return Err(corrupt("timer kind", &timer.kind)),
    }
    let row = db.row(
        "SELECT status, pay_by, customer_id, payment_method FROM orders WHERE id = ?1 FOR NO KEY UPDATE SKIP LOCKED",
        params![id.0],
        |row| Ok((row.text(0)?, row.opt_int(1)?, row.int(2)?, row.text(3)?)),
    )?;
    let Some((status, pay_by, customer_id, method)) = row else {
        return Ok(Handled::Busy);
    };
    let status = status_of(&status)?;
    let method = PaymentMethod::parse(&method).ok_or_else(|| corrupt("payment method", &method))?;
    // The hold is released at the deadline plus the method's grace, as the settings say now.
    let expires_at = pay_by
        .map(timestamp)
        .transpose()?
        .map(|deadline| messaging.settings.payments.expires_at(method, deadline));
    match decide_expiry(status, expires_at, now) {
        ExpiryDecision::Expire => {
            let now_ms = millis(now);
            db.execute(
                "UPDATE orders SET status = 'expired', updated_at = ?2, ended_at = ?2 WHERE id = ?1",
                params![id.0, now_ms],
            )?;
            // A deposit was paid and the balance never came: the store's setting says what
            // becomes of it.
            let forfeited = (status == OrderStatus::AwaitingBalance)
                .then(|| messaging.settings.risk.forfeited_deposit.outcome());
            if let Some(outcome) = forfeited {
                db.execute(
                    "UPDATE orders SET deposit_forfeited = ?2 WHERE id = ?1",
                    params![id.0, outcome],
                )?;
            }
            // Reminders still pending for this order are cancelled, not merely ignored. The
            // products' and the buyer's counters change once for the whole batch, at its end.
            stop_awaiting(db, id)?;
            end_holds_into(db, id, HoldState::Released, &mut changes.stock)?;
            *changes.expired_by_customer.entry(customer_id).or_default() += 1;
            insert_event(
                db,
                id,
                now_ms,
                &Actor::system(),
                Some(status),
                OrderStatus::Expired,
                Some(match forfeited {
                    None => "payment deadline passed",
                    Some("kept") => "balance deadline passed; the deposit is kept",
                    Some(_) => "balance deadline passed; the deposit is to be refunded",
                }),
            )?;
            let order = load_order_for_message(db, id)?.expect("the order was just read");
            enqueue(
                db,
                messaging,
                MessageKind::HoldReleased,
                None,
                &order,
                now_ms,
            )?;
            Ok(Handled::Expired)
        }
        ExpiryDecision::NotDue => {
            // The deadline moved later (a longer grace since the order was placed): the timer
            // waits for it rather than leaving the order without one.
            if let Some(expires_at) = expires_at {
                insert_timers(db, id, &[PlannedTimer::expire(expires_at)])?;
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
    db: &mut dyn Db,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
) -> DbResult<()> {
    let order = load_order_for_message(db, timer.order_id)?.expect("the order was just read");
    let step = timer.step.map(|s| (order.payment_method, s as usize));
    let ordinal = timer.ordinal.unwrap_or(1) as usize;
    enqueue_with(
        db,
        messaging,
        MessageKind::Reminder,
        step,
        ordinal,
        &order,
        None,
        None,
        millis(now),
    )
}

pub(crate) fn next_timer_due(db: &mut dyn Db) -> DbResult<Option<Timestamp>> {
    db.row(
        "SELECT due_at FROM timers ORDER BY due_at LIMIT 1",
        params![],
        |row| row.int(0),
    )?
    .map(timestamp)
    .transpose()
}
