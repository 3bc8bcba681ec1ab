//! What analytics reads: every order's facts once (`analytics_all`), then only the orders with
//! an event after a cursor, and those still open (`analytics_changed`). Each read runs in one
//! transaction, so the facts and their cursor come from one snapshot.

use std::collections::HashMap;

use lunas_core::analytics::{ItemRow, OrderRow, ReminderRow, Source};
use lunas_core::reliability::Band;
use lunas_core::{CancelledBy, PaymentMethod};

use crate::repo::status_of;
use crate::sql::{Db, DbResult, Row, corrupt, params};
use crate::{Store, StoreError};

/// Events re-read behind the cursor on each refresh: on PostgreSQL an event's id is drawn before
/// its transaction commits, so a lower id can become visible after a higher one was read.
const CURSOR_LOOKBACK: i64 = 2_000;

/// Orders' facts, their lines and reminders, current to `cursor` (the highest order event id
/// read).
#[derive(Debug, Default)]
pub struct FactsRead {
    pub rows: Vec<OrderRow>,
    pub items: Vec<ItemRow>,
    pub reminders: Vec<ReminderRow>,
    pub cursor: i64,
}

macro_rules! order_columns {
    () => {
        "SELECT id, customer_id, status, payment_method, cancelled_by, policy, placed_at, ended_at,
                delivered_at, total, COALESCE(ship_cost, 0), COALESCE(return_cost, 0), pay_by
         FROM orders"
    };
}
macro_rules! item_columns {
    () => {
        "SELECT order_id, sku, qty, unit_price * qty FROM order_items"
    };
}
macro_rules! reminder_columns {
    () => {
        "SELECT order_id, COALESCE(sent_at, created_at), status = 'sent' FROM messages
         WHERE kind = 'reminder' AND order_id IS NOT NULL"
    };
}
macro_rules! placement_columns {
    () => {
        "SELECT order_id, actor FROM order_events WHERE from_status IS NULL"
    };
}

/// The band out of the order's applied policy (`{"band":"watch",…}`), without parsing the rest.
fn band_of(policy: Option<&str>) -> Option<Band> {
    let policy = policy?;
    let start = policy.find("\"band\":\"")? + 8;
    let end = policy[start..].find('"')? + start;
    Band::parse(&policy[start..end])
}

fn read_order(row: &Row<'_>, sources: &HashMap<i64, Source>) -> DbResult<OrderRow> {
    let id = row.int(0)?;
    let method = row.text(3)?;
    Ok(OrderRow {
        id,
        customer_id: row.int(1)?,
        status: status_of(&row.text(2)?)?,
        method: PaymentMethod::parse(&method).ok_or_else(|| corrupt("payment method", &method))?,
        cancelled_by: match row.opt_text(4)?.as_deref() {
            Some("buyer") => Some(CancelledBy::Buyer),
            Some("seller") => Some(CancelledBy::Seller),
            Some(other) => return Err(corrupt("cancelled_by", other)),
            None => None,
        },
        band: band_of(row.opt_text(5)?.as_deref()),
        source: sources.get(&id).copied().unwrap_or(Source::Other),
        placed_at: row.int(6)?,
        ended_at: row.opt_int(7)?,
        delivered_at: row.opt_int(8)?,
        total: row.int(9)?,
        ship_cost: row.int(10)?,
        return_cost: row.int(11)?,
        pay_by: row.opt_int(12)?,
    })
}

fn read_item(row: &Row<'_>) -> DbResult<ItemRow> {
    Ok(ItemRow {
        order_id: row.int(0)?,
        sku: row.text(1)?,
        qty: row.int(2)?,
        amount: row.int(3)?,
    })
}

fn read_reminder(row: &Row<'_>) -> DbResult<ReminderRow> {
    Ok((row.int(0)?, row.int(1)?, row.boolean(2)?))
}

/// Each order's channel, read from its placement event's actor (`placement_columns!`).
fn sources(
    db: &mut dyn Db,
    sql: &'static str,
    params: &[crate::sql::Val<'_>],
) -> DbResult<HashMap<i64, Source>> {
    let mut sources = HashMap::new();
    db.each_row(sql, params, &mut |row| {
        sources.insert(row.int(0)?, Source::of_actor(&row.text(1)?));
        Ok(())
    })?;
    Ok(sources)
}

fn cursor(db: &mut dyn Db) -> DbResult<i64> {
    db.scalar("SELECT COALESCE(MAX(id), 0) FROM order_events", params![])
}

impl Store {
    /// Every order's facts.
    pub async fn analytics_all(&self) -> Result<FactsRead, StoreError> {
        self.read(|db| {
            let cursor = cursor(db)?;
            let sources = sources(db, placement_columns!(), params![])?;
            let rows = db.rows(
                concat!(order_columns!(), " ORDER BY id"),
                params![],
                |row| read_order(row, &sources),
            )?;
            let items = db.rows(
                concat!(item_columns!(), " ORDER BY order_id, line"),
                params![],
                read_item,
            )?;
            let reminders = db.rows(reminder_columns!(), params![], read_reminder)?;
            Ok(FactsRead {
                rows,
                items,
                reminders,
                cursor,
            })
        })
        .await
    }

    /// The facts of the orders with an event after `since` (and a little before it, see
    /// `CURSOR_LOOKBACK`), and of the orders in `also` (those still open, whose reminders go
    /// out without an event).
    pub async fn analytics_changed(
        &self,
        since: i64,
        also: Vec<i64>,
    ) -> Result<FactsRead, StoreError> {
        self.read(move |db| {
            let cursor = cursor(db)?;
            let mut ids: std::collections::BTreeSet<i64> = also.into_iter().collect();
            db.each_row(
                "SELECT DISTINCT order_id FROM order_events WHERE id > ?1",
                params![since - CURSOR_LOOKBACK],
                &mut |row| {
                    ids.insert(row.int(0)?);
                    Ok(())
                },
            )?;
            if ids.is_empty() {
                return Ok(FactsRead {
                    cursor,
                    ..FactsRead::default()
                });
            }
            let list = db.id_list(ids);
            let sql = db.pick(
                concat!(placement_columns!(), " AND order_id IN ", "(SELECT value FROM json_each(?1))"),
                concat!(
                    placement_columns!(),
                    " AND order_id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[]))"
                ),
            );
            let sources = sources(db, sql, params![&list])?;
            let sql = db.pick(
                concat!(order_columns!(), " WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id"),
                concat!(
                    order_columns!(),
                    " WHERE id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[])) ORDER BY id"
                ),
            );
            let rows = db.rows(sql, params![&list], |row| read_order(row, &sources))?;
            let sql = db.pick(
                concat!(
                    item_columns!(),
                    " WHERE order_id IN (SELECT value FROM json_each(?1)) ORDER BY order_id, line"
                ),
                concat!(
                    item_columns!(),
                    " WHERE order_id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[])) ORDER BY order_id, line"
                ),
            );
            let items = db.rows(sql, params![&list], read_item)?;
            let sql = db.pick(
                concat!(
                    reminder_columns!(),
                    " AND order_id IN (SELECT value FROM json_each(?1))"
                ),
                concat!(
                    reminder_columns!(),
                    " AND order_id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[]))"
                ),
            );
            let reminders = db.rows(sql, params![&list], read_reminder)?;
            Ok(FactsRead {
                rows,
                items,
                reminders,
                cursor,
            })
        })
        .await
    }
}

impl Store {
    /// The names and numbers of buyers by id, those erased left out.
    pub async fn buyer_names(
        &self,
        ids: Vec<i64>,
    ) -> Result<Vec<(i64, String, lunas_core::Phone)>, StoreError> {
        self.read(move |db| {
            let list = db.id_list(ids);
            let sql = db.pick(
                "SELECT id, name, phone FROM customers
                 WHERE id IN (SELECT value FROM json_each(?1)) AND erased_at IS NULL",
                "SELECT id, name, phone FROM customers
                 WHERE id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[])) AND erased_at IS NULL",
            );
            db.rows(sql, params![&list], |row| {
                Ok((
                    row.int(0)?,
                    row.text(1)?,
                    lunas_core::Phone::from_stored(row.text(2)?),
                ))
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_is_read_out_of_the_policy() {
        assert_eq!(
            band_of(Some(
                r#"{"band":"watch","reason":"x","score_percent":40,"pinned":false}"#
            )),
            Some(Band::Watch)
        );
        assert_eq!(band_of(Some("{}")), None);
        assert_eq!(band_of(None), None);
        assert_eq!(band_of(Some(r#"{"band":"#)), None);
    }
}
