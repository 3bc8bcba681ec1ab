//! Return requests: an order's latest, one locked for a step, their photos, and the list staff
//! work through.

use lunas_core::returns::{ReturnStatus, ReturnSummary};
use lunas_core::{Money, OrderId, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Row, corrupt, params};

/// The columns `read_summary` reads, in its order.
macro_rules! return_columns {
    () => {
        "r.id, r.status, r.reason, r.requested_at, r.note, r.refund_amount,
         (SELECT COUNT(*) FROM return_photos p WHERE p.return_id = r.id)"
    };
}

fn read_summary(row: &Row<'_>) -> DbResult<ReturnSummary> {
    let status = row.text(1)?;
    Ok(ReturnSummary {
        id: row.int(0)?,
        status: ReturnStatus::parse(&status).ok_or_else(|| corrupt("return status", &status))?,
        reason: row.text(2)?,
        requested_at: timestamp(row.int(3)?)?,
        note: row.opt_text(4)?,
        refund: row.opt_int(5)?.map(Money::from_stored),
        photos: row.int(6)?,
    })
}

/// The order's latest return request.
pub(crate) fn latest_return(db: &mut dyn Db, order: OrderId) -> DbResult<Option<ReturnSummary>> {
    db.row(
        concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns r WHERE r.order_id = ?1 ORDER BY r.id DESC LIMIT 1"
        ),
        params![order.0],
        read_summary,
    )
}

/// A new request; returns its id.
pub(crate) fn insert_return(
    db: &mut dyn Db,
    order: OrderId,
    reason: &str,
    requested_by: &str,
    now: Timestamp,
) -> DbResult<i64> {
    Ok(db
        .row(
            "INSERT INTO returns (order_id, status, reason, requested_by, requested_at, updated_at)
             VALUES (?1, 'requested', ?2, ?3, ?4, ?4) RETURNING id",
            params![order.0, reason, requested_by, millis(now)],
            |row| row.int(0),
        )?
        .expect("an insert returns its row"))
}

pub(crate) fn insert_return_photo(
    db: &mut dyn Db,
    return_id: i64,
    content_type: &str,
    body: &[u8],
) -> DbResult<()> {
    db.execute(
        "INSERT INTO return_photos (return_id, content_type, bytes, body) VALUES (?1, ?2, ?3, ?4)",
        params![return_id, content_type, body.len() as i64, body],
    )?;
    Ok(())
}

/// A request and its order, read for a step (the order's row is locked by the caller first).
pub(crate) fn return_order(db: &mut dyn Db, id: i64) -> DbResult<Option<OrderId>> {
    db.row(
        "SELECT order_id FROM returns WHERE id = ?1",
        params![id],
        |row| Ok(OrderId(row.int(0)?)),
    )
}

pub(crate) fn return_status(db: &mut dyn Db, id: i64) -> DbResult<Option<ReturnStatus>> {
    db.row(
        "SELECT status FROM returns WHERE id = ?1",
        params![id],
        |row| {
            let status = row.text(0)?;
            ReturnStatus::parse(&status).ok_or_else(|| corrupt("return status", &status))
        },
    )
}

/// What a step writes on a request.
#[derive(Debug, Clone, Default)]
pub struct ReturnChange<'a> {
    pub note: Option<&'a str>,
    pub resellable: Option<bool>,
    pub refund: Option<(Money, &'a str, Option<&'a str>)>,
}

pub(crate) fn set_return_status(
    db: &mut dyn Db,
    id: i64,
    status: ReturnStatus,
    change: &ReturnChange<'_>,
    now: Timestamp,
) -> DbResult<()> {
    let (amount, method, reference) = match change.refund {
        Some((amount, method, reference)) => (Some(amount.minor_units()), Some(method), reference),
        None => (None, None, None),
    };
    db.execute(
        "UPDATE returns SET status = ?2, updated_at = ?3, note = COALESCE(?4, note),
             resellable = COALESCE(?5, resellable), refund_amount = COALESCE(?6, refund_amount),
             refund_method = COALESCE(?7, refund_method), refund_reference = COALESCE(?8, refund_reference)
         WHERE id = ?1",
        params![
            id,
            status.as_str(),
            millis(now),
            change.note,
            change.resellable,
            amount,
            method,
            reference
        ],
    )?;
    Ok(())
}

/// Whether the order has a request still being handled.
pub(crate) fn has_open_return(db: &mut dyn Db, order: OrderId) -> DbResult<bool> {
    Ok(db.scalar(
        "SELECT COUNT(*) FROM returns WHERE order_id = ?1 AND status IN ('requested', 'approved', 'received')",
        params![order.0],
    )? > 0)
}

/// A request in staff's list.
#[derive(Debug, Clone)]
pub struct ReturnRow {
    pub order_id: OrderId,
    pub summary: ReturnSummary,
    pub buyer: String,
}

/// The requests still being handled, oldest first, at most `limit`.
pub(crate) fn open_returns(db: &mut dyn Db, limit: usize) -> DbResult<Vec<ReturnRow>> {
    db.rows(
        concat!(
            "SELECT ",
            return_columns!(),
            ", r.order_id, c.name FROM returns r
             JOIN orders o ON o.id = r.order_id JOIN customers c ON c.id = o.customer_id
             WHERE r.status IN ('requested', 'approved', 'received') ORDER BY r.id LIMIT ?1"
        ),
        params![limit as i64],
        |row| {
            Ok(ReturnRow {
                summary: read_summary(row)?,
                order_id: OrderId(row.int(7)?),
                buyer: row.text(8)?,
            })
        },
    )
}

/// A return's photo: its content type and bytes.
pub(crate) fn return_photo(
    db: &mut dyn Db,
    return_id: i64,
    n: i64,
) -> DbResult<Option<(String, Vec<u8>)>> {
    db.row(
        "SELECT content_type, body FROM return_photos WHERE return_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2",
        params![return_id, n],
        |row| Ok((row.text(0)?, row.bytes(1)?)),
    )
}

/// One more return received in the buyer's record.
pub(crate) fn count_return(db: &mut dyn Db, order: OrderId) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET returns = returns + 1 WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)",
        params![order.0],
    )?;
    Ok(())
}
