//! An order after its payment: its steps (packed, shipped, delivered, completed, returned to
//! sender) with their times, the shipment's courier and waybill, the stock a returned parcel
//! brings back, couriers' events kept once each, and the signals read when a COD order is placed.

use lunas_core::fulfilment::Shipment;
use lunas_core::{Money, OrderId, OrderStatus, PaymentMethod, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, corrupt, params};

/// The columns `read_fulfilment` reads, in its order.
macro_rules! fulfilment_columns {
    () => {
        "status, payment_method, waybill, delivered_at, confirm_by, COALESCE(amount_due, total), amount_paid, customer_id"
    };
}

/// What a step reads of an order, its row locked.
#[derive(Debug, Clone)]
pub struct FulfilmentRow {
    pub status: OrderStatus,
    pub method: PaymentMethod,
    pub waybill: Option<String>,
    pub delivered_at: Option<Timestamp>,
    pub confirm_by: Option<Timestamp>,
    pub amount_due: Money,
    pub amount_paid: Money,
    pub customer_id: i64,
}

pub(crate) fn fulfilment_for_update(
    db: &mut dyn Db,
    id: OrderId,
) -> DbResult<Option<FulfilmentRow>> {
    db.row(
        concat!(
            "SELECT ",
            fulfilment_columns!(),
            " FROM orders WHERE id = ?1 FOR NO KEY UPDATE"
        ),
        params![id.0],
        read_fulfilment,
    )
}

/// `fulfilment_for_update` of the order shipped under `waybill`, with its id.
pub(crate) fn fulfilment_by_waybill(
    db: &mut dyn Db,
    waybill: &str,
) -> DbResult<Option<(OrderId, FulfilmentRow)>> {
    db.row(
        concat!(
            "SELECT ",
            fulfilment_columns!(),
            ", id FROM orders WHERE waybill = ?1 FOR NO KEY UPDATE"
        ),
        params![waybill],
        |row| Ok((OrderId(row.int(8)?), read_fulfilment(row)?)),
    )
}

/// `fulfilment_for_update` for a timer: `None` when another transaction holds the order (`SKIP
/// LOCKED`), so that the timer path never waits for an order row.
pub(crate) fn fulfilment_for_timer(
    db: &mut dyn Db,
    id: OrderId,
) -> DbResult<Option<FulfilmentRow>> {
    db.row(
        concat!(
            "SELECT ",
            fulfilment_columns!(),
            " FROM orders WHERE id = ?1 FOR NO KEY UPDATE SKIP LOCKED"
        ),
        params![id.0],
        read_fulfilment,
    )
}

fn read_fulfilment(row: &crate::sql::Row<'_>) -> DbResult<FulfilmentRow> {
    {
        {
            let method = row.text(1)?;
            Ok(FulfilmentRow {
                status: status_of(&row.text(0)?)?,
                method: PaymentMethod::parse(&method)
                    .ok_or_else(|| corrupt("payment method", &method))?,
                waybill: row.opt_text(2)?,
                delivered_at: row.opt_int(3)?.map(timestamp).transpose()?,
                confirm_by: row.opt_int(4)?.map(timestamp).transpose()?,
                amount_due: Money::from_stored(row.int(5)?),
                amount_paid: Money::from_stored(row.int(6)?),
                customer_id: row.int(7)?,
            })
        }
    }
}

/// Moves the order to `to` at `now`, stamping the step's time. `ended_at` — when the order
/// became a sale, or stopped being one — is the payment's time for a prepaid order, and the door's
/// for COD (delivered and paid, or refused).
pub(crate) fn mark_step(
    db: &mut dyn Db,
    id: OrderId,
    to: OrderStatus,
    now: Timestamp,
) -> DbResult<()> {
    let sql = match to {
        OrderStatus::Packed => {
            "UPDATE orders SET status = ?2, updated_at = ?3, packed_at = ?3 WHERE id = ?1"
        }
        OrderStatus::Shipped => {
            "UPDATE orders SET status = ?2, updated_at = ?3, shipped_at = ?3 WHERE id = ?1"
        }
        OrderStatus::Delivered => {
            "UPDATE orders SET status = ?2, updated_at = ?3, delivered_at = ?3, ended_at = COALESCE(ended_at, ?3) WHERE id = ?1"
        }
        OrderStatus::Completed => {
            "UPDATE orders SET status = ?2, updated_at = ?3, completed_at = ?3 WHERE id = ?1"
        }
        OrderStatus::ReturnedToSender => {
            "UPDATE orders SET status = ?2, updated_at = ?3, ended_at = ?3 WHERE id = ?1"
        }
        _ => "UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1",
    };
    db.execute(sql, params![id.0, to.as_str(), millis(now)])?;
    Ok(())
}

/// Writes what is known of the parcel: a field left `None` keeps what the order has.
pub(crate) fn set_shipment(db: &mut dyn Db, id: OrderId, shipment: &Shipment) -> DbResult<()> {
    db.execute(
        "UPDATE orders SET courier = COALESCE(?2, courier), courier_service = COALESCE(?3, courier_service),
             waybill = COALESCE(?4, waybill), ship_cost = COALESCE(?5, ship_cost),
             return_cost = COALESCE(?6, return_cost)
         WHERE id = ?1",
        params![
            id.0,
            shipment.courier.as_deref(),
            shipment.service.as_deref(),
            shipment.waybill.as_deref(),
            shipment.cost.map(Money::minor_units),
            shipment.return_cost.map(Money::minor_units)
        ],
    )?;
    Ok(())
}

/// The order shipped under `waybill`, if any.
pub(crate) fn order_by_waybill(db: &mut dyn Db, waybill: &str) -> DbResult<Option<OrderId>> {
    db.row(
        "SELECT id FROM orders WHERE waybill = ?1",
        params![waybill],
        |row| Ok(OrderId(row.int(0)?)),
    )
}

/// The lines a parcel that came back brings back on sale: units sold leave `converted` for
/// `released`, and go back on hand, in SKU order. Returns the SKUs.
pub(crate) fn restock_sold_lines(db: &mut dyn Db, id: OrderId) -> DbResult<Vec<String>> {
    let lines = db.rows(
        "SELECT sku, CAST(SUM(qty) AS BIGINT) FROM order_items WHERE order_id = ?1 AND hold = 'converted' GROUP BY sku ORDER BY sku",
        params![id.0],
        |row| Ok((row.text(0)?, row.int(1)?)),
    )?;
    for (sku, qty) in &lines {
        db.execute(
            "UPDATE products SET on_hand = on_hand + ?2 WHERE sku = ?1",
            params![sku.as_str(), *qty],
        )?;
    }
    db.execute(
        "UPDATE order_items SET hold = 'released' WHERE order_id = ?1 AND hold = 'converted'",
        params![id.0],
    )?;
    Ok(lines.into_iter().map(|(sku, _)| sku).collect())
}

/// One more COD parcel refused at the door in the buyer's record.
pub(crate) fn count_refused(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET cod_refused = cod_refused + 1 WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)",
        params![id.0],
    )?;
    Ok(())
}

/// The newest COD order of the buyer with this number that waits for their confirmation.
pub(crate) fn awaiting_confirmation_of(db: &mut dyn Db, phone: &str) -> DbResult<Option<OrderId>> {
    db.row(
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE c.phone = ?1 AND o.status = 'awaiting_confirmation' ORDER BY o.id DESC LIMIT 1",
        params![phone],
        |row| Ok(OrderId(row.int(0)?)),
    )
}

/// The COD parcels the buyer with this number refused at the door since `since`.
pub(crate) fn cod_refusals_since(db: &mut dyn Db, phone: &str, since: Timestamp) -> DbResult<i64> {
    db.scalar(
        "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE c.phone = ?1 AND o.status = 'returned_to_sender' AND o.payment_method = 'cod'
           AND o.ended_at >= ?2",
        params![phone, millis(since)],
    )
}

/// The orders the buyer with this number placed since `since`, and their COD refusals ever: the
/// signals staff see on an order.
pub(crate) fn buyer_signals(
    db: &mut dyn Db,
    phone: &str,
    since: Timestamp,
) -> DbResult<(i64, i64)> {
    Ok(db
        .row(
            "SELECT CAST(COALESCE(SUM(CASE WHEN o.placed_at >= ?2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                    MAX(c.cod_refused)
             FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
             WHERE c.phone = ?1",
            params![phone, millis(since)],
            |row| Ok((row.int(0)?, row.opt_int(1)?.unwrap_or(0))),
        )?
        .unwrap_or((0, 0)))
}

/// A courier's event as lunas keeps it.
#[derive(Debug, Clone)]
pub struct CourierEventRow {
    pub source: String,
    pub event_key: String,
    pub waybill: String,
    pub status: String,
    pub step: Option<String>,
    pub courier: Option<String>,
    pub happened_at: Option<Timestamp>,
}

/// Keeps a courier's event once: its row's id, or `None` when its identity was seen before
/// (nothing written).
pub(crate) fn insert_courier_event(
    db: &mut dyn Db,
    event: &CourierEventRow,
    order: Option<OrderId>,
    outcome: &str,
    now: Timestamp,
) -> DbResult<Option<i64>> {
    db.row(
        "INSERT INTO courier_events (source, event_key, waybill, status, step, courier, happened_at, received_at, order_id, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING RETURNING id",
        params![
            event.source.as_str(),
            event.event_key.as_str(),
            event.waybill.as_str(),
            event.status.as_str(),
            event.step.as_deref(),
            event.courier.as_deref(),
            event.happened_at.map(millis),
            millis(now),
            order.map(|o| o.0),
            outcome
        ],
        |row| row.int(0),
    )
}

/// An event kept for a waybill no order had: its row's id, its step and its courier.
pub type KeptForWaybill = (i64, Option<String>, Option<String>);

/// The events kept for `waybill` before any order had it, oldest first.
pub(crate) fn kept_events_for(db: &mut dyn Db, waybill: &str) -> DbResult<Vec<KeptForWaybill>> {
    db.rows(
        "SELECT id, step, courier FROM courier_events WHERE waybill = ?1 AND outcome = 'unknown_waybill' ORDER BY id",
        params![waybill],
        |row| Ok((row.int(0)?, row.opt_text(1)?, row.opt_text(2)?)),
    )
}

/// What a kept event did once an order claimed its waybill.
pub(crate) fn set_event_outcome(
    db: &mut dyn Db,
    id: i64,
    order: OrderId,
    outcome: &str,
) -> DbResult<()> {
    db.execute(
        "UPDATE courier_events SET order_id = ?2, outcome = ?3 WHERE id = ?1",
        params![id, order.0, outcome],
    )?;
    Ok(())
}

/// A courier's event kept for staff: an unknown waybill, or an order that had ended.
#[derive(Debug, Clone)]
pub struct KeptCourierEvent {
    pub id: i64,
    pub source: String,
    pub waybill: String,
    pub status: String,
    pub outcome: String,
    pub order_id: Option<OrderId>,
    pub received_at: Timestamp,
}

/// The newest events kept for staff, at most `limit`.
pub(crate) fn kept_courier_events(
    db: &mut dyn Db,
    limit: usize,
) -> DbResult<Vec<KeptCourierEvent>> {
    db.rows(
        "SELECT id, source, waybill, status, outcome, order_id, received_at FROM courier_events
         WHERE outcome IN ('unknown_waybill', 'order_ended') ORDER BY id DESC LIMIT ?1",
        params![limit as i64],
        |row| {
            Ok(KeptCourierEvent {
                id: row.int(0)?,
                source: row.text(1)?,
                waybill: row.text(2)?,
                status: row.text(3)?,
                outcome: row.text(4)?,
                order_id: row.opt_int(5)?.map(OrderId),
                received_at: timestamp(row.int(6)?)?,
            })
        },
    )
}
