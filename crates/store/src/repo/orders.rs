//! Orders after placement: cancelling, moving the deadline, listing, reading an order whole,
//! recording its events and the buyer-counter changes its end brings, and pruning old
//! idempotency keys.

use lunas_core::fulfilment::Shipment;
use lunas_core::shipping::Address;
use lunas_core::timers::PlannedTimer;
use lunas_core::{
    Actor, CancelledBy, CustomerInfo, HoldState, Honorific, Money, Order, OrderEvent, OrderId,
    OrderItem, OrderStatus, PaymentMethod, PaymentRecord, Phone, Quantity, Sku, Timestamp,
};

use crate::repo::*;
use crate::sql::{Db, DbError, DbResult, Row, corrupt, params};
use lunas_core::queries::Page;

/// What moving an order's deadline reads of it.
pub struct OrderDeadline {
    pub status: OrderStatus,
    pub pay_by: Option<Timestamp>,
    pub placed_at: Timestamp,
    pub method: PaymentMethod,
}

/// What moving an order's deadline reads of it, its row locked.
pub(crate) fn deadline_for_update(db: &mut dyn Db, id: OrderId) -> DbResult<Option<OrderDeadline>> {
    db.row(
        "SELECT status, pay_by, placed_at, payment_method FROM orders WHERE id = ?1 FOR NO KEY UPDATE",
        params![id.0],
        |row| {
            let method = row.text(3)?;
            Ok(OrderDeadline {
                status: status_of(&row.text(0)?)?,
                pay_by: row.opt_int(1)?.map(timestamp).transpose()?,
                placed_at: timestamp(row.int(2)?)?,
                method: PaymentMethod::parse(&method)
                    .ok_or_else(|| corrupt("payment method", &method))?,
            })
        },
    )
}

/// How many reminders the order has had written.
pub(crate) fn reminders_written(db: &mut dyn Db, id: OrderId) -> DbResult<i64> {
    db.scalar(
        "SELECT COUNT(*) FROM messages WHERE order_id = ?1 AND kind = 'reminder'",
        params![id.0],
    )
}

/// Moves the order's deadline to `to` and replaces its timers with `timers`.
pub(crate) fn move_deadline(
    db: &mut dyn Db,
    id: OrderId,
    to: Timestamp,
    timers: &[PlannedTimer],
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET pay_by = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, millis(to), millis(now)],
    )?;
    db.execute("DELETE FROM timers WHERE order_id = ?1", params![id.0])?;
    insert_timers(db, id, timers)
}

/// Marks the order cancelled by `by`.
pub(crate) fn mark_cancelled(
    db: &mut dyn Db,
    id: OrderId,
    by: CancelledBy,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET status = 'cancelled', updated_at = ?2, ended_at = ?2, cancelled_by = ?3 WHERE id = ?1",
        params![id.0, millis(now), by.as_str()],
    )?;
    Ok(())
}

pub(crate) fn orders(
    db: &mut dyn Db,
    status: Option<OrderStatus>,
    page: &Page<OrderId>,
) -> DbResult<Vec<Order>> {
    let after = page.after.map(|id| id.0).unwrap_or(i64::MAX);
    let ids = match status {
        Some(status) => db.rows(
            "SELECT id FROM orders WHERE status = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            params![status.as_str(), after, page.limit as i64],
            |row| row.int(0),
        )?,
        None => db.rows(
            "SELECT id FROM orders WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            params![after, page.limit as i64],
            |row| row.int(0),
        )?,
    };
    ids.into_iter()
        .map(|id| Ok(load_order(db, OrderId(id))?.expect("listed orders exist")))
        .collect()
}

/// An order's status, amount due (the total with its unique code), amount paid and deposit, its
/// row locked until the transaction ends (on PostgreSQL).
/// What a payment needs of an order, read with the order locked.
#[derive(Debug, Clone, Copy)]
pub struct OrderMoney {
    pub status: OrderStatus,
    /// The amount due (the total with its unique code).
    pub due: Money,
    pub paid: Money,
    pub deposit: Option<Money>,
    pub unique_code: Option<i64>,
}

pub(crate) fn order_money_for_update(db: &mut dyn Db, id: OrderId) -> DbResult<Option<OrderMoney>> {
    db.row(
        "SELECT status, COALESCE(amount_due, total), amount_paid, deposit, unique_code FROM orders WHERE id = ?1 FOR NO KEY UPDATE",
        params![id.0],
        |row| {
            Ok(OrderMoney {
                status: status_of(&row.text(0)?)?,
                due: Money::from_stored(row.int(1)?),
                paid: Money::from_stored(row.int(2)?),
                deposit: row.opt_int(3)?.map(Money::from_stored),
                unique_code: row.opt_int(4)?,
            })
        },
    )
}

/// The order stopped awaiting payment (paid, cancelled or expired): its pending timers are
/// deleted (its unique code is free again by itself: see `orders_by_open_amount`), and reminders written but not yet delivered are withdrawn (marked dead with the
/// reason), so none goes out afterwards — not even one that waited for a channel that was down.
pub(crate) fn stop_awaiting(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute("DELETE FROM timers WHERE order_id = ?1", params![id.0])?;
    // Reminders on every channel, and a "pesanan diterima" still waiting in the manual WhatsApp
    // queue: their reason has passed. (An email or webhook of the placement still goes out: it
    // reports what happened.)
    macro_rules! withdraw {
        ($update:literal) => {
            concat!(
                $update,
                " messages SET status = 'superseded', next_attempt_at = NULL,
                     last_error = 'withdrawn: the order no longer awaits payment'
                 WHERE order_id = ?1 AND status IN ('pending', 'failed')
                   AND (kind = 'reminder' OR (kind IN ('order_received', 'cod_confirm') AND channel = 'manual_whatsapp'))"
            )
        };
    }
    // `OR FAIL` (SQLite): a statement that may change several rows and stop at a constraint keeps
    // a statement journal of every page it changes, to undo only itself; with `FAIL` it keeps
    // none (a failure fails the whole operation, whose transaction or savepoint is rolled back
    // anyway). The same rows either way.
    db.execute(
        db.pick(withdraw!("UPDATE OR FAIL"), withdraw!("UPDATE")),
        params![id.0],
    )?;
    Ok(())
}

/// The manual WhatsApp messages of order `id` still waiting to be sent that were written for its
/// old deadline ("pesanan diterima", reminders) leave the queue as superseded.
pub(crate) fn supersede_manual_waiting(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute(
        "UPDATE messages SET status = 'superseded', next_attempt_at = NULL,
             last_error = 'superseded: the deadline was moved'
         WHERE order_id = ?1 AND status = 'pending' AND channel = 'manual_whatsapp'
           AND kind IN ('order_received', 'reminder')",
        params![id.0],
    )?;
    Ok(())
}

/// Adds a payment to the money the order's buyer has paid (their record).
pub(crate) fn credit_buyer(db: &mut dyn Db, id: OrderId, amount: Money) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET amount_paid = amount_paid + ?2
         WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)",
        params![id.0, amount.minor_units()],
    )?;
    Ok(())
}

/// An order's end, as the buyer's reliability record counts it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ended {
    Paid,
    CancelledBy(CancelledBy),
}

/// Adds one to the counter of the order's buyer's reliability record that `ended` counts in, in
/// the transaction of the change. Buyers' rows are locked last (after the order, its timers and
/// the products), the order every writer keeps; expiries count theirs at the end of their batch.
pub(crate) fn count_outcome(db: &mut dyn Db, id: OrderId, ended: Ended) -> DbResult<()> {
    let sql = match ended {
        Ended::Paid => {
            "UPDATE customers SET orders_paid = orders_paid + 1 WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)"
        }
        Ended::CancelledBy(CancelledBy::Buyer) => {
            "UPDATE customers SET orders_cancelled_by_buyer = orders_cancelled_by_buyer + 1 WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)"
        }
        Ended::CancelledBy(CancelledBy::Seller) => {
            "UPDATE customers SET orders_cancelled_by_seller = orders_cancelled_by_seller + 1 WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)"
        }
    };
    db.execute(sql, params![id.0])?;
    Ok(())
}

pub(crate) fn insert_event(
    db: &mut dyn Db,
    id: OrderId,
    at_ms: i64,
    actor: &Actor,
    from: Option<OrderStatus>,
    to: OrderStatus,
    reason: Option<&str>,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.0,
            at_ms,
            actor.as_str(),
            from.map(OrderStatus::as_str),
            to.as_str(),
            reason
        ],
    )?;
    Ok(())
}

/// Reads a customer from the four columns phone, name, email, honorific starting at `first`.
pub(crate) fn read_customer(row: &Row<'_>, first: usize) -> DbResult<CustomerInfo> {
    let honorific = row.opt_text(first + 3)?;
    Ok(CustomerInfo {
        phone: Phone::from_stored(row.text(first)?),
        name: row.text(first + 1)?,
        email: row.opt_text(first + 2)?,
        honorific: honorific.as_deref().and_then(Honorific::parse),
    })
}

fn load_customer(db: &mut dyn Db, customer_id: i64) -> DbResult<CustomerInfo> {
    db.row(
        "SELECT phone, name, email, honorific FROM customers WHERE id = ?1",
        params![customer_id],
        |row| read_customer(row, 0),
    )?
    .ok_or_else(|| DbError::Corrupt(format!("customer {customer_id} is missing")))
}

pub(crate) fn load_order(db: &mut dyn Db, id: OrderId) -> DbResult<Option<Order>> {
    load_order_with(db, id, true)
}

/// The order without its payments and events, which messages do not need: expiring many
/// orders at once reads two queries less per order.
pub(crate) fn load_order_for_message(db: &mut dyn Db, id: OrderId) -> DbResult<Option<Order>> {
    load_order_with(db, id, false)
}

pub(crate) fn load_order_with(
    db: &mut dyn Db,
    id: OrderId,
    history: bool,
) -> DbResult<Option<Order>> {
    let head = db.row(
        "SELECT customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, policy, deposit, deposit_forfeited, amount_due, unique_code, payment_url,
                shipping_cost, discount, written_off, public_token, proof_status, proof_at, proofs, note,
                confirm_by, courier, courier_service, waybill, ship_cost, return_cost, packed_at, shipped_at, delivered_at, completed_at
         FROM orders WHERE id = ?1",
        params![id.0],
        |row| {
            Ok((
                row.int(0)?,
                row.text(1)?,
                row.text(2)?,
                row.int(3)?,
                row.int(4)?,
                row.opt_int(5)?,
                row.int(6)?,
                row.opt_text(7)?,
                row.opt_int(8)?,
                row.opt_text(9)?,
                row.opt_int(10)?,
                row.opt_int(11)?,
                row.opt_text(12)?,
                (row.int(13)?, row.int(14)?, row.int(15)?),
                row.opt_text(16)?,
                (row.opt_text(17)?, row.opt_int(18)?, row.int(19)?),
                row.opt_text(20)?,
                read_shipment(row, 21)?,
            ))
        },
    )?;
    let Some((
        customer_id,
        status,
        method,
        total,
        paid,
        pay_by,
        placed_at,
        policy,
        deposit,
        deposit_forfeited,
        amount_due,
        unique_code,
        payment_url,
        (shipping_cost, discount, written_off),
        public_token,
        proof,
        note,
        shipment,
    )) = head
    else {
        return Ok(None);
    };
    let status = status_of(&status)?;
    // Only a delivered order can have a return asked for; a message of a step reads the order
    // without its history, and a return's own message reads it whole.
    let return_request =
        if history && matches!(status, OrderStatus::Delivered | OrderStatus::Completed) {
            super::returns::latest_return(db, id)?
        } else {
            None
        };
    let proof = super::proofs::read_order_proof(proof)?;
    // Read apart from the order's row: a LEFT JOIN here made SQLite prepare the statement anew
    // for every order read (measured in `lunas-bench statement`).
    let address = db.row(
        "SELECT recipient, phone, street, kelurahan, kecamatan, city, province, postcode
         FROM order_addresses WHERE order_id = ?1",
        params![id.0],
        |row| {
            Ok(Address {
                recipient: row.text(0)?,
                phone: Phone::from_stored(row.text(1)?),
                street: row.text(2)?,
                kelurahan: row.opt_text(3)?,
                kecamatan: row.opt_text(4)?,
                city: row.text(5)?,
                province: row.text(6)?,
                postcode: row.opt_text(7)?,
            })
        },
    )?;
    let items = db.rows(
        "SELECT sku, name, unit_price, qty, hold FROM order_items WHERE order_id = ?1 ORDER BY line",
        params![id.0],
        |row| {
            let hold = row.text(4)?;
            Ok(OrderItem {
                sku: Sku::from_stored(row.text(0)?),
                name: row.text(1)?,
                unit_price: Money::from_stored(row.int(2)?),
                qty: Quantity::from_stored(row.int(3)?),
                hold: HoldState::parse(&hold).ok_or_else(|| corrupt("hold state", &hold))?,
            })
        },
    )?;
    let (payments, events) = if history {
        let payments = db.rows(
            "SELECT amount, reference, recorded_at, actor, source, external_id FROM payments WHERE order_id = ?1 ORDER BY id",
            params![id.0],
            |row| {
                let source = row.text(4)?;
                Ok(PaymentRecord {
                    amount: Money::from_stored(row.int(0)?),
                    reference: row.opt_text(1)?,
                    recorded_at: timestamp(row.int(2)?)?,
                    actor: Actor::from_stored(row.text(3)?),
                    source: lunas_core::payments::PaymentSource::parse(&source)
                        .ok_or_else(|| corrupt("payment source", &source))?,
                    external_id: row.opt_text(5)?,
                })
            },
        )?;
        let events = db.rows(
            "SELECT at, actor, from_status, to_status, reason FROM order_events WHERE order_id = ?1 ORDER BY id",
            params![id.0],
            |row| {
                Ok(OrderEvent {
                    at: timestamp(row.int(0)?)?,
                    actor: Actor::from_stored(row.text(1)?),
                    from: row.opt_text(2)?.as_deref().map(status_of).transpose()?,
                    to: status_of(&row.text(3)?)?,
                    reason: row.opt_text(4)?,
                })
            },
        )?;
        (payments, events)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Some(Order {
        id,
        status,
        customer: load_customer(db, customer_id)?,
        items,
        total: Money::from_stored(total),
        amount_due: Money::from_stored(amount_due.unwrap_or(total)),
        unique_code,
        payment_url,
        amount_paid: Money::from_stored(paid),
        payment_method: PaymentMethod::parse(&method)
            .ok_or_else(|| corrupt("payment method", &method))?,
        pay_by: pay_by.map(timestamp).transpose()?,
        placed_at: timestamp(placed_at)?,
        payments,
        events,
        deposit: deposit.map(Money::from_stored),
        deposit_forfeited,
        policy: policy
            .map(|raw| {
                serde_json::from_str(&raw).map_err(|e| corrupt("order policy", &e.to_string()))
            })
            .transpose()?,
        address,
        shipping_cost: Money::from_stored(shipping_cost),
        discount: Money::from_stored(discount),
        written_off: Money::from_stored(written_off),
        public_token,
        proof,
        note,
        shipment,
        return_request,
    }))
}

/// Reads an order's shipment from the ten columns confirm_by, courier, courier_service, waybill,
/// ship_cost, return_cost, packed_at, shipped_at, delivered_at, completed_at starting at `first`.
fn read_shipment(row: &Row<'_>, first: usize) -> DbResult<Shipment> {
    let at = |n: usize| row.opt_int(first + n)?.map(timestamp).transpose();
    Ok(Shipment {
        confirm_by: at(0)?,
        courier: row.opt_text(first + 1)?,
        service: row.opt_text(first + 2)?,
        waybill: row.opt_text(first + 3)?,
        cost: row.opt_int(first + 4)?.map(Money::from_stored),
        return_cost: row.opt_int(first + 5)?.map(Money::from_stored),
        packed_at: at(6)?,
        shipped_at: at(7)?,
        delivered_at: at(8)?,
        completed_at: at(9)?,
    })
}

/// How many orders of the buyer with this number still await payment (or, COD, confirmation).
pub(crate) fn open_orders_of(db: &mut dyn Db, phone: &str) -> DbResult<i64> {
    db.scalar(
        "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE c.phone = ?1 AND o.status IN ('awaiting_payment', 'awaiting_balance', 'awaiting_confirmation')",
        params![phone],
    )
}

/// The order whose page `token` opens.
pub(crate) fn order_id_by_token(db: &mut dyn Db, token: &str) -> DbResult<Option<OrderId>> {
    db.row(
        "SELECT id FROM orders WHERE public_token = ?1",
        params![token],
        |row| Ok(OrderId(row.int(0)?)),
    )
}

pub(crate) fn prune_idempotency_keys(
    db: &mut dyn Db,
    before: Timestamp,
    limit: usize,
) -> DbResult<usize> {
    let pruned = db.execute(
        "DELETE FROM idempotency_keys WHERE (scope, key) IN (
             SELECT scope, key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
        params![millis(before), limit as i64],
    )?;
    Ok(pruned as usize)
}
