//! The rows of money: payments with their identity at their source, the review list, imported
//! statement lines and gateway notifications as received. SQL only; what a payment does to an
//! order is decided in `lunas_core` and applied by the engine's `ledger`.

use std::collections::{BTreeMap, HashSet};

use lunas_core::ledger::{
    GatewayNotification, NewPayment, Resolution, Review, ReviewKind, StatementCredit,
};
use lunas_core::payments::{OpenOrder, PaymentSource};
use lunas_core::{Actor, Money, OrderId, OrderStatus, Sku, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbError, DbResult, Dialect, Row, corrupt, params};

/// Fingerprints looked up per statement.
const FINGERPRINTS_PER_QUERY: usize = 500;

/// Whether a payment with this identity at `source` was recorded.
pub(crate) fn payment_seen(
    db: &mut dyn Db,
    source: PaymentSource,
    external_id: &str,
) -> DbResult<bool> {
    Ok(db
        .row(
            "SELECT id FROM payments WHERE source = ?1 AND external_id = ?2",
            params![source.as_str(), external_id],
            |row| row.int(0),
        )?
        .is_some())
}

pub(crate) fn insert_payment(db: &mut dyn Db, id: OrderId, payment: &NewPayment) -> DbResult<()> {
    db.execute(
        "INSERT INTO payments (order_id, amount, reference, recorded_at, actor, source, external_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.0,
            payment.amount.minor_units(),
            &payment.reference,
            millis(payment.recorded_at),
            payment.actor.as_str(),
            payment.source.as_str(),
            &payment.external_id
        ],
    )?;
    Ok(())
}

/// A payment that leaves the order as it was, but for what it has been paid.
pub(crate) fn set_amount_paid(
    db: &mut dyn Db,
    id: OrderId,
    amount_paid: Money,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET amount_paid = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, amount_paid.minor_units(), millis(now)],
    )?;
    Ok(())
}

/// The deposit is paid: the balance is due by `balance_by`.
pub(crate) fn start_balance(
    db: &mut dyn Db,
    id: OrderId,
    amount_paid: Money,
    balance_by: Timestamp,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = 'awaiting_balance', amount_paid = ?2, pay_by = ?3, updated_at = ?4
         WHERE id = ?1",
        params![id.0, amount_paid.minor_units(), millis(balance_by), millis(now)],
    )?;
    Ok(())
}

/// The order is paid in full while it awaited payment.
pub(crate) fn mark_paid(
    db: &mut dyn Db,
    id: OrderId,
    amount_paid: Money,
    written_off: Money,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = 'paid', amount_paid = ?2, written_off = ?4, updated_at = ?3, ended_at = ?3 WHERE id = ?1",
        params![id.0, amount_paid.minor_units(), millis(now), written_off.minor_units()],
    )?;
    Ok(())
}

/// `mark_paid` for a payment of exactly what was left, guarded by what the payer read of the
/// order (`status`, paid before, due): the buyer's id, or `None` when the order changed since.
pub(crate) fn mark_paid_from(
    db: &mut dyn Db,
    id: OrderId,
    (status, paid_before, due): (OrderStatus, Money, Money),
    now: Timestamp,
) -> DbResult<Option<i64>> {
    let params = params![
        id.0,
        due.minor_units(),
        millis(now),
        status.as_str(),
        paid_before.minor_units()
    ];
    macro_rules! pay {
        () => {
            "UPDATE orders SET status = 'paid', amount_paid = ?2, written_off = 0, updated_at = ?3, ended_at = ?3
             WHERE id = ?1 AND status = ?4 AND amount_paid = ?5 AND COALESCE(amount_due, total) = ?2"
        };
    }
    match db.dialect() {
        // Without `RETURNING`, SQLite updates the one row in one pass, with neither a temporary
        // b-tree for the returned row nor a statement journal (a twentieth of a statement import
        // went to them); its one writer runs one transaction at a time, so the row read next is
        // the row updated.
        Dialect::Sqlite => match db.execute(pay!(), params)? {
            0 => Ok(None),
            _ => db.row(
                "SELECT customer_id FROM orders WHERE id = ?1",
                params![id.0],
                |row| row.int(0),
            ),
        },
        Dialect::Postgres => db.row(concat!(pay!(), " RETURNING customer_id"), params, |row| {
            row.int(0)
        }),
    }
}

/// An order that had ended is paid after all (its stock was taken again), a forfeited deposit
/// no longer forfeited.
pub(crate) fn mark_revived(
    db: &mut dyn Db,
    id: OrderId,
    amount_paid: Money,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = 'paid', amount_paid = ?2, updated_at = ?3, ended_at = ?3,
             deposit_forfeited = NULL
         WHERE id = ?1",
        params![id.0, amount_paid.minor_units(), millis(now)],
    )?;
    Ok(())
}

/// Money came for an order that had ended and cannot buy it: it is kept, to be refunded.
pub(crate) fn mark_needs_refund(
    db: &mut dyn Db,
    id: OrderId,
    to: OrderStatus,
    amount_paid: Money,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = ?2, amount_paid = ?3, updated_at = ?4 WHERE id = ?1",
        params![id.0, to.as_str(), amount_paid.minor_units(), millis(now)],
    )?;
    Ok(())
}

/// The buyer's record counted the order as expired; the money that came makes it paid.
pub(crate) fn expired_became_paid(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET orders_expired = orders_expired - 1, orders_paid = orders_paid + 1
         WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)",
        params![id.0],
    )?;
    Ok(())
}

/// Units of each SKU an order's lines hold or held, in SKU order.
pub(crate) fn stock_wanted(db: &mut dyn Db, id: OrderId) -> DbResult<BTreeMap<Sku, i64>> {
    let mut wanted = BTreeMap::new();
    for (sku, qty) in db.rows(
        "SELECT sku, qty FROM order_items WHERE order_id = ?1",
        params![id.0],
        |row| Ok((row.text(0)?, row.int(1)?)),
    )? {
        *wanted.entry(Sku::from_stored(sku)).or_insert(0) += qty;
    }
    Ok(wanted)
}

/// Whether every product has the units available, reading the rows locked in SKU order.
pub(crate) fn stock_available(db: &mut dyn Db, wanted: &BTreeMap<Sku, i64>) -> DbResult<bool> {
    let mut available = true;
    for (sku, qty) in wanted {
        let product = product_for_update(db, sku)?;
        available &= product.is_some_and(|p| p.available >= *qty);
    }
    Ok(available)
}

/// Sells an expired order's units again (their rows were read locked by [`stock_available`]) and
/// marks its released lines converted.
pub(crate) fn take_stock_again(
    db: &mut dyn Db,
    id: OrderId,
    wanted: &BTreeMap<Sku, i64>,
) -> DbResult<()> {
    for (sku, qty) in wanted {
        // The condition is the check again.
        let taken = db.execute(
            "UPDATE products SET on_hand = on_hand - ?2 WHERE sku = ?1 AND on_hand - reserved >= ?2",
            params![sku.as_str(), *qty],
        )?;
        if taken != 1 {
            return Err(DbError::Corrupt(format!(
                "the stock of {sku} went after it was checked"
            )));
        }
    }
    db.execute(
        "UPDATE order_items SET hold = 'converted' WHERE order_id = ?1 AND hold = 'released'",
        params![id.0],
    )?;
    Ok(())
}

/// Puts money on the review list (once per source, identity and kind).
pub(crate) fn add_review(
    db: &mut dyn Db,
    kind: ReviewKind,
    payment: &NewPayment,
    order: Option<OrderId>,
    detail: &serde_json::Value,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO payment_reviews (created_at, kind, source, external_id, order_id, amount, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![
            millis(payment.recorded_at),
            kind.as_str(),
            payment.source.as_str(),
            &payment.external_id,
            order.map(|o| o.0),
            payment.amount.minor_units(),
            &detail.to_string()
        ],
    )?;
    Ok(())
}

/// The open orders, as the statement matcher needs them.
pub(crate) fn open_orders(db: &mut dyn Db) -> DbResult<Vec<OpenOrder>> {
    db.rows(
        "SELECT id, status, COALESCE(amount_due, total), amount_paid, deposit, total FROM orders
         WHERE status IN ('awaiting_payment', 'awaiting_balance')",
        params![],
        |row| {
            Ok(OpenOrder {
                id: OrderId(row.int(0)?),
                status: status_of(&row.text(1)?)?,
                amount_due: Money::from_stored(row.int(2)?),
                total: Money::from_stored(row.int(5)?),
                amount_paid: Money::from_stored(row.int(3)?),
                deposit: row.opt_int(4)?.map(Money::from_stored),
            })
        },
    )
}

/// The fingerprints of `credits` that were imported before.
pub(crate) fn known_fingerprints(
    db: &mut dyn Db,
    credits: &[StatementCredit],
) -> DbResult<HashSet<String>> {
    let mut known = HashSet::new();
    for chunk in credits.chunks(FINGERPRINTS_PER_QUERY) {
        let list = serde_json::Value::Array(
            chunk
                .iter()
                .map(|c| serde_json::Value::String(c.fingerprint.clone()))
                .collect(),
        )
        .to_string();
        let sql = db.pick(
            "SELECT fingerprint FROM statement_lines WHERE fingerprint IN (SELECT value FROM json_each(?1))",
            "SELECT fingerprint FROM statement_lines
             WHERE fingerprint IN (SELECT jsonb_array_elements_text(CAST(CAST(?1 AS TEXT) AS JSONB)))",
        );
        known.extend(db.rows(sql, params![&list], |row| row.text(0))?);
    }
    Ok(known)
}

/// Keeps an imported line with what became of it (`matched` or `review`).
pub(crate) fn insert_statement_line(
    db: &mut dyn Db,
    credit: &StatementCredit,
    source: PaymentSource,
    now: Timestamp,
    outcome: &str,
    order: Option<OrderId>,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO statement_lines (fingerprint, source, imported_at, line_date, description, amount, balance, outcome, order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            &credit.fingerprint,
            source.as_str(),
            millis(now),
            &credit.date,
            &credit.description,
            credit.amount,
            credit.balance,
            outcome,
            order.map(|o| o.0)
        ],
    )?;
    Ok(())
}

/// A statement line staff assigned to an order from the review list.
pub(crate) fn statement_line_matched(
    db: &mut dyn Db,
    fingerprint: &str,
    order: OrderId,
) -> DbResult<()> {
    db.execute(
        "UPDATE statement_lines SET outcome = 'matched', order_id = ?2 WHERE fingerprint = ?1",
        params![fingerprint, order.0],
    )?;
    Ok(())
}

pub(crate) fn order_exists(db: &mut dyn Db, id: OrderId) -> DbResult<bool> {
    Ok(db
        .row("SELECT id FROM orders WHERE id = ?1", params![id.0], |r| {
            r.int(0)
        })?
        .is_some())
}

/// A delivery the status API could not confirm earlier is settled by a later one.
pub(crate) fn settle_unconfirmed(
    db: &mut dyn Db,
    notification: &GatewayNotification,
) -> DbResult<()> {
    db.execute(
        "UPDATE payment_reviews SET status = 'resolved', resolved_at = ?1, resolved_by = ?2,
                resolution = 'confirmed by a later delivery'
         WHERE source = ?3 AND external_id = ?4 AND kind = ?5 AND status = 'open'",
        params![
            millis(notification.received_at),
            Actor::gateway(notification.gateway).as_str(),
            notification.gateway.as_str(),
            &notification.transaction_id,
            ReviewKind::GatewayUnconfirmed.as_str()
        ],
    )?;
    Ok(())
}

/// Keeps a notification as received, with what lunas did with it (`outcome`).
pub(crate) fn keep_notification(
    db: &mut dyn Db,
    notification: &GatewayNotification,
    order: Option<OrderId>,
    outcome: &str,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO gateway_notifications (received_at, gateway, transaction_id, order_ref, order_id, status, amount, body, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            millis(notification.received_at),
            notification.gateway.as_str(),
            &notification.transaction_id,
            &notification.order_ref,
            order.map(|o| o.0),
            &notification.raw_status,
            notification.amount.map(Money::minor_units),
            &notification.body,
            outcome
        ],
    )?;
    Ok(())
}

/// The columns `read_review` reads, in its order.
macro_rules! review_columns {
    () => {
        "id, created_at, kind, source, external_id, order_id, amount, detail, resolved_at, resolved_by, resolution"
    };
}

fn read_review(row: &Row<'_>) -> DbResult<Review> {
    let kind = row.text(2)?;
    let source = row.text(3)?;
    let detail = row.text(7)?;
    let resolved = match row.opt_int(8)? {
        Some(at) => Some(Resolution {
            at: timestamp(at)?,
            by: row.opt_text(9)?.unwrap_or_default(),
            note: row.opt_text(10)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Review {
        id: row.int(0)?,
        created_at: timestamp(row.int(1)?)?,
        kind: ReviewKind::parse(&kind).ok_or_else(|| corrupt("review kind", &kind))?,
        source: PaymentSource::parse(&source).ok_or_else(|| corrupt("payment source", &source))?,
        external_id: row.opt_text(4)?,
        order_id: row.opt_int(5)?.map(OrderId),
        amount: row.int(6)?,
        detail: serde_json::from_str(&detail).map_err(|_| corrupt("review detail", &detail))?,
        resolved,
    })
}

/// Review items, oldest first, after `after`; open ones only unless `all`.
pub(crate) fn reviews(
    db: &mut dyn Db,
    all: bool,
    after: i64,
    limit: usize,
) -> DbResult<Vec<Review>> {
    if all {
        db.rows(
            concat!(
                "SELECT ",
                review_columns!(),
                " FROM payment_reviews WHERE id > ?1 ORDER BY id LIMIT ?2"
            ),
            params![after, limit as i64],
            read_review,
        )
    } else {
        db.rows(
            concat!(
                "SELECT ",
                review_columns!(),
                " FROM payment_reviews WHERE status = 'open' AND id > ?1 ORDER BY id LIMIT ?2"
            ),
            params![after, limit as i64],
            read_review,
        )
    }
}

/// One review item, its row locked when `for_update`.
pub(crate) fn review(db: &mut dyn Db, id: i64, for_update: bool) -> DbResult<Option<Review>> {
    let sql = if for_update {
        concat!(
            "SELECT ",
            review_columns!(),
            " FROM payment_reviews WHERE id = ?1 FOR NO KEY UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            review_columns!(),
            " FROM payment_reviews WHERE id = ?1"
        )
    };
    db.row(sql, params![id], read_review)
}

/// Closes a review item with what staff did about it.
pub(crate) fn close_review(
    db: &mut dyn Db,
    id: i64,
    actor: &Actor,
    note: &str,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE payment_reviews SET status = 'resolved', resolved_at = ?2, resolved_by = ?3, resolution = ?4
         WHERE id = ?1",
        params![id, millis(now), actor.as_str(), note],
    )?;
    Ok(())
}

/// Keeps the gateway's payment page of an order, so messages point to it.
pub(crate) fn set_payment_url(db: &mut dyn Db, id: OrderId, url: &str) -> DbResult<bool> {
    Ok(db.execute(
        "UPDATE orders SET payment_url = ?2 WHERE id = ?1",
        params![id.0, url],
    )? == 1)
}
