//! Durable timers: writing an order's reminders and expiry, taking due ones in batches under
//! `SKIP LOCKED`, and what an expiry writes. What a due timer does is the engine's (`timers`).

use lunas_core::timers::{PlannedTimer, TimerId, TimerKind};
use lunas_core::{OrderId, OrderStatus, PaymentMethod, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Val, corrupt, params};

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

/// A timer taken from the table to be handled in this transaction.
#[derive(Debug, Clone)]
pub struct DueTimer {
    pub id: TimerId,
    /// As stored: a damaged kind fails this timer alone (it is put back), not its batch.
    pub kind: String,
    pub order_id: OrderId,
    pub step: Option<i64>,
    pub ordinal: Option<i64>,
    /// When it was due, in milliseconds since the epoch.
    pub due_at: i64,
    pub attempts: i64,
}

/// Takes up to `limit` due timers, earliest first: taken and deleted by one statement (`DELETE
/// … RETURNING` over the earliest due rows, skipping rows another process holds). If the
/// transaction is rolled back, they are there again for another process.
pub(crate) fn take_due_timers(
    db: &mut dyn Db,
    now: Timestamp,
    limit: usize,
) -> DbResult<Vec<DueTimer>> {
    let mut due = db.rows(
        "DELETE FROM timers WHERE id IN (
             SELECT id FROM timers WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2 FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, order_id, step, ordinal, due_at, attempts",
        params![millis(now), limit as i64],
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
    Ok(due)
}

/// Puts a taken timer back, with its own id, to fire at `due_at`.
pub(crate) fn put_back(
    db: &mut dyn Db,
    timer: &DueTimer,
    due_at: Timestamp,
    attempts: i64,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO timers (id, due_at, kind, order_id, step, ordinal, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            timer.id.0,
            millis(due_at),
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
/// payment from a buyer who has not opted out and has sent no proof of transfer that still waits
/// for staff since `proof_since` (the store's pause before now). Reminders that are no longer
/// needed then cost nothing more.
pub(crate) fn reminder_states(
    db: &mut dyn Db,
    due: &[DueTimer],
    proof_since: Timestamp,
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
        "SELECT o.id, o.status, c.no_reminders, o.proof_status = 'submitted' AND o.proof_at > ?2
         FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id IN (SELECT value FROM json_each(?1))",
        "SELECT o.id, o.status, c.no_reminders, o.proof_status = 'submitted' AND o.proof_at > ?2
         FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[]))",
    );
    let rows = db.rows(sql, params![&list, millis(proof_since)], |row| {
        let paused = row.opt_bool(3)?.unwrap_or(false);
        let wanted = status_of(&row.text(1)?)? == OrderStatus::AwaitingPayment
            && !row.boolean(2)?
            && !paused;
        Ok((row.int(0)?, wanted))
    })?;
    Ok(rows.into_iter().collect())
}

/// What an expiry reads of its order, the row locked; `None` when another transaction holds it
/// (`SKIP LOCKED`) or it is gone.
pub struct ExpiringOrder {
    pub status: OrderStatus,
    pub pay_by: Option<Timestamp>,
    pub customer_id: i64,
    pub payment_method: PaymentMethod,
    /// When the proof of transfer that waits for staff was sent, if one waits.
    pub proof_waiting_since: Option<Timestamp>,
}

pub(crate) fn expiring_order(db: &mut dyn Db, id: OrderId) -> DbResult<Option<ExpiringOrder>> {
    let row = db.row(
        "SELECT status, pay_by, customer_id, payment_method, CASE WHEN proof_status = 'submitted' THEN proof_at END
         FROM orders WHERE id = ?1 FOR NO KEY UPDATE SKIP LOCKED",
        params![id.0],
        |row| {
            Ok((
                row.text(0)?,
                row.opt_int(1)?,
                row.int(2)?,
                row.text(3)?,
                row.opt_int(4)?,
            ))
        },
    )?;
    let Some((status, pay_by, customer_id, method, proof_at)) = row else {
        return Ok(None);
    };
    Ok(Some(ExpiringOrder {
        status: status_of(&status)?,
        pay_by: pay_by.map(timestamp).transpose()?,
        customer_id,
        payment_method: PaymentMethod::parse(&method)
            .ok_or_else(|| corrupt("payment method", &method))?,
        proof_waiting_since: proof_at.map(timestamp).transpose()?,
    }))
}

/// The order expired; `forfeited` is what became of a paid deposit (`kept` or `to_refund`).
pub(crate) fn mark_expired(
    db: &mut dyn Db,
    id: OrderId,
    forfeited: Option<&str>,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = 'expired', updated_at = ?2, ended_at = ?2 WHERE id = ?1",
        params![id.0, millis(now)],
    )?;
    if let Some(outcome) = forfeited {
        db.execute(
            "UPDATE orders SET deposit_forfeited = ?2 WHERE id = ?1",
            params![id.0, outcome],
        )?;
    }
    Ok(())
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
