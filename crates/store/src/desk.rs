//! What the staff dashboard reads beyond single orders and buyers: counts for the day, the
//! orders whose hold is released soon, the reminders coming up, and order search. Every list is
//! answered from an index (timers by due time, orders by status or by buyer), so a page costs
//! the same in a store of a hundred orders and of a hundred thousand.

use lunas_core::queries::{DeskCounts, OrderQuery, Releasing, Sales, SalesPeriod};
use lunas_core::{Money, Order, OrderId, OrderStatus, Phone, Timestamp};

use crate::repo::{load_order, millis, status_of, timestamp};
use crate::sql::{DbResult, Row, params};
use lunas_core::messages::Channel;

use crate::{Store, StoreError};

/// Buyers whose name matches are looked at up to this many.
const NAME_MATCHES_MAX: i64 = 200;

fn read_due(row: &Row<'_>) -> DbResult<Releasing> {
    Ok(Releasing {
        order_id: OrderId(row.int(0)?),
        due_at: timestamp(row.int(1)?)?,
        status: status_of(&row.text(2)?)?,
        name: row.text(3)?,
        phone: Phone::from_stored(row.text(4)?),
        amount_due: Money::from_stored(row.int(5)?),
        amount_paid: Money::from_stored(row.int(6)?),
    })
}

impl Store {
    pub async fn desk_counts(&self) -> Result<DeskCounts, StoreError> {
        self.read(|db| {
            let by_status = db.rows(
                "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
                params![],
                |row| Ok((status_of(&row.text(0)?)?, row.int(1)?)),
            )?;
            let reviews_open = db.scalar(
                "SELECT COUNT(*) FROM payment_reviews WHERE status = 'open'",
                params![],
            )?;
            let manual_queue = db.scalar(
                "SELECT COUNT(*) FROM messages WHERE channel = ?1 AND status = 'pending'",
                params![Channel::ManualWhatsapp.as_str()],
            )?;
            Ok(DeskCounts {
                by_status,
                reviews_open,
                manual_queue,
            })
        })
        .await
    }

    /// The sales of the day and of the month: orders placed, paid and released since each start,
    /// and what the paid ones brought in. Each count is a range of an index (`orders_by_placed`,
    /// `orders_by_ended`).
    pub async fn sales(&self, day: Timestamp, month: Timestamp) -> Result<Sales, StoreError> {
        self.read(move |db| {
            let mut period = |from: Timestamp| -> DbResult<SalesPeriod> {
                let from = millis(from);
                let placed = db.scalar(
                    "SELECT COUNT(*) FROM orders WHERE placed_at >= ?1",
                    params![from],
                )?;
                let (paid, omzet, released) = db
                    .row(
                        // (PostgreSQL sums BIGINT as NUMERIC: each sum is cast back.)
                        // A sale is paid, or on its way after: packed, shipped, delivered, completed.
                        "SELECT CAST(COALESCE(SUM(CASE WHEN status IN ('paid', 'packed', 'shipped', 'delivered', 'completed') THEN 1 ELSE 0 END), 0) AS BIGINT),
                                CAST(COALESCE(SUM(CASE WHEN status IN ('paid', 'packed', 'shipped', 'delivered', 'completed') THEN amount_paid ELSE 0 END), 0) AS BIGINT),
                                CAST(COALESCE(SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END), 0) AS BIGINT)
                         FROM orders WHERE ended_at >= ?1",
                        params![from],
                        |row| Ok((row.int(0)?, row.int(1)?, row.int(2)?)),
                    )?
                    .unwrap_or((0, 0, 0));
                Ok(SalesPeriod {
                    placed,
                    paid,
                    released,
                    omzet: Money::from_stored(omzet),
                })
            };
            Ok(Sales {
                today: period(day)?,
                month: period(month)?,
            })
        })
        .await
    }

    /// The orders placed from `from` up to (not including) `to`, oldest first, at most `limit`,
    /// without their payments and events.
    pub async fn orders_placed_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.read(move |db| {
            let ids = db.rows(
                "SELECT id FROM orders WHERE placed_at >= ?1 AND placed_at < ?2
                 ORDER BY placed_at, id LIMIT ?3",
                params![millis(from), millis(to), limit as i64],
                |row| row.int(0),
            )?;
            ids.into_iter()
                .filter_map(|id| crate::repo::load_order_for_message(db, OrderId(id)).transpose())
                .collect()
        })
        .await
    }

    /// Open orders whose hold is released (their expiry timer fires) before `until`, soonest
    /// first.
    pub async fn releasing_before(
        &self,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Releasing>, StoreError> {
        self.timers_before(
            "SELECT o.id, t.due_at, o.status, c.name, c.phone, COALESCE(o.amount_due, o.total), o.amount_paid
             FROM timers t JOIN orders o ON o.id = t.order_id JOIN customers c ON c.id = o.customer_id
             WHERE t.due_at < ?1 AND t.kind = ?2 AND o.status IN ('awaiting_payment', 'awaiting_balance')
             ORDER BY t.due_at, t.id LIMIT ?3",
            until,
            limit,
        )
        .await
    }

    /// Reminders that will be written before `until`, soonest first.
    pub async fn reminders_before(
        &self,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Releasing>, StoreError> {
        self.timers_before(
            "SELECT o.id, t.due_at, o.status, c.name, c.phone, COALESCE(o.amount_due, o.total), o.amount_paid
             FROM timers t JOIN orders o ON o.id = t.order_id JOIN customers c ON c.id = o.customer_id
             WHERE t.due_at < ?1 AND t.kind <> ?2
             ORDER BY t.due_at, t.id LIMIT ?3",
            until,
            limit,
        )
        .await
    }

    /// Runs one of the two timer lists above: `?1` the bound, `?2` the expiry kind, `?3` the limit.
    async fn timers_before(
        &self,
        sql: &'static str,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Releasing>, StoreError> {
        self.read(move |db| {
            db.rows(
                sql,
                params![
                    millis(until),
                    lunas_core::timers::TimerKind::Expire.as_str(),
                    limit as i64
                ],
                read_due,
            )
        })
        .await
    }

    /// Orders matching `query`, newest first.
    pub async fn search_orders(&self, query: OrderQuery) -> Result<Vec<Order>, StoreError> {
        self.read(move |db| {
            let after = query.page.after.map_or(i64::MAX, |id| id.0);
            let limit = query.page.limit as i64;
            let status = query.status.map(OrderStatus::as_str);
            let ids = if let Some(number) = query.number {
                db.rows(
                    "SELECT id FROM orders WHERE id = ?1 AND id < ?2 AND (CAST(?3 AS TEXT) IS NULL OR status = ?3)",
                    params![number.0, after, status],
                    |row| row.int(0),
                )?
            } else if let Some(phone) = &query.phone {
                db.rows(
                    "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id
                     WHERE c.phone = ?1 AND o.id < ?2 AND (CAST(?3 AS TEXT) IS NULL OR o.status = ?3)
                     ORDER BY o.id DESC LIMIT ?4",
                    params![phone.as_str(), after, status, limit],
                    |row| row.int(0),
                )?
            } else if let Some(name) = &query.name {
                let pattern = format!(
                    "%{}%",
                    name.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                db.rows(
                    "SELECT o.id FROM orders o
                     WHERE o.customer_id IN (SELECT id FROM customers WHERE LOWER(name) LIKE ?1 ESCAPE '\\' LIMIT ?5)
                       AND o.id < ?2 AND (CAST(?3 AS TEXT) IS NULL OR o.status = ?3)
                     ORDER BY o.id DESC LIMIT ?4",
                    params![&pattern, after, status, limit, NAME_MATCHES_MAX],
                    |row| row.int(0),
                )?
            } else {
                return crate::repo::orders(db, query.status, &query.page);
            };
            ids.into_iter()
                .filter_map(|id| load_order(db, OrderId(id)).transpose())
                .collect()
        })
        .await
    }
}
