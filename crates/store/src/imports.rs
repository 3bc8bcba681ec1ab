//! Imported order history written as the orders lunas would have kept: the buyer (found by
//! number, or an anonymous buyer by identity), each line's product (found by SKU or name, or
//! added with no stock), the order in its final status with its placement and ending events, its
//! payment, and its file's number, which makes a second import of the same file create nothing.
//! One transaction per file; the buyers' reliability records are rebuilt in it.

use std::collections::{HashMap, HashSet};

use lunas_core::import::{Ending, Format, ImportedBuyer, ImportedOrder, anonymous_key, sku_for};
use lunas_core::{PaymentMethod, Timestamp};

use crate::repo::millis;
use crate::sql::{Db, DbResult, params};
use crate::{Store, StoreError};

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    /// Orders already imported from this source before: left alone.
    pub already: usize,
    pub new_buyers: usize,
    pub new_products: usize,
}

fn buyer_key(format: Format, buyer: &ImportedBuyer) -> String {
    match buyer {
        ImportedBuyer::Known(phone) => phone.as_str().to_owned(),
        ImportedBuyer::Anonymous(identity) => anonymous_key(format, identity),
    }
}

fn import(
    db: &mut dyn Db,
    format: Format,
    orders: &[ImportedOrder],
    dry_run: bool,
    now: Timestamp,
) -> DbResult<ImportReport> {
    let source = format.actor();
    let now = millis(now);
    let mut report = ImportReport::default();
    let mut buyers: HashMap<String, i64> = HashMap::new();
    let mut products: HashMap<String, String> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for order in orders {
        let done = db
            .row(
                "SELECT 1 FROM imported_orders WHERE source = ?1 AND external_id = ?2",
                params![source, &order.external_id],
                |_| Ok(()),
            )?
            .is_some();
        if done || !seen.insert(order.external_id.as_str()) {
            report.already += 1;
            continue;
        }
        report.created += 1;
        let key = buyer_key(format, &order.buyer);
        let customer = match buyers.get(&key) {
            Some(&id) => id,
            None => {
                let found = db.row(
                    "SELECT id FROM customers WHERE phone = ?1",
                    params![&key],
                    |row| row.int(0),
                )?;
                let id = match (found, dry_run) {
                    (Some(id), _) => id,
                    (None, true) => {
                        report.new_buyers += 1;
                        -(report.new_buyers as i64)
                    }
                    (None, false) => {
                        report.new_buyers += 1;
                        db.row(
                            "INSERT INTO customers (phone, name, created_at, updated_at)
                             VALUES (?1, ?2, ?3, ?4) RETURNING id",
                            params![&key, &order.name, millis(order.placed_at), now],
                            |row| row.int(0),
                        )?
                        .unwrap_or_default()
                    }
                };
                buyers.insert(key, id);
                id
            }
        };
        let mut skus = Vec::with_capacity(order.lines.len());
        for line in &order.lines {
            let name_key = line.name.trim().to_lowercase();
            if let Some(sku) = products.get(&name_key) {
                skus.push(sku.clone());
                continue;
            }
            let by_sku = match line.sku.as_deref() {
                Some(sku) => db.row(
                    "SELECT sku FROM products WHERE sku = ?1",
                    params![sku],
                    |row| row.text(0),
                )?,
                None => None,
            };
            let found = match by_sku {
                Some(sku) => Some(sku),
                None => db.row(
                    "SELECT sku FROM products WHERE name = ?1 ORDER BY sku LIMIT 1",
                    params![line.name.trim()],
                    |row| row.text(0),
                )?,
            };
            let sku = match found {
                Some(sku) => sku,
                None => {
                    let sku = sku_for(line).as_str().to_owned();
                    let exists = db
                        .row(
                            "SELECT 1 FROM products WHERE sku = ?1",
                            params![&sku],
                            |_| Ok(()),
                        )?
                        .is_some();
                    if !exists {
                        report.new_products += 1;
                        if !dry_run {
                            db.execute(
                                "INSERT INTO products (sku, name, price, on_hand, reserved, created_at, updated_at)
                                 VALUES (?1, ?2, ?3, 0, 0, ?4, ?4)",
                                params![&sku, line.name.trim(), line.unit_price.minor_units(), now],
                            )?;
                        }
                    }
                    sku
                }
            };
            products.insert(name_key, sku.clone());
            skus.push(sku);
        }
        if dry_run {
            continue;
        }
        write_order(db, source, order, customer, &skus, now)?;
    }
    if !dry_run && report.created > 0 {
        crate::repo::rebuild_reputation(db)?;
    }
    Ok(report)
}

fn write_order(
    db: &mut dyn Db,
    source: &str,
    order: &ImportedOrder,
    customer: i64,
    skus: &[String],
    now: i64,
) -> DbResult<()> {
    let status = order.ending.status(order.method);
    let paid = matches!(status, lunas_core::OrderStatus::Completed);
    let placed = millis(order.placed_at);
    let ended = order
        .ended_at
        .or(order.paid_at)
        .map(millis)
        .unwrap_or(placed);
    let cancelled_by = match order.ending {
        Ending::CancelledByBuyer => Some("buyer"),
        Ending::CancelledBySeller => Some("seller"),
        _ => None,
    };
    let cod = order.method == PaymentMethod::Cod;
    let delivered = (cod && paid).then_some(ended);
    let completed = paid.then_some(ended);
    let total = order.total.minor_units();
    // The file's total stands; shipping and a discount are written so that they add up to it
    // where they can (a marketplace's fees can leave it above the lines and shipping).
    let shipping = order.shipping.map(|s| s.minor_units()).unwrap_or(0);
    let items: i64 = order
        .lines
        .iter()
        .map(|l| l.unit_price.minor_units() * l.qty)
        .sum();
    let discount = (items + shipping - total).max(0);
    let returned = status == lunas_core::OrderStatus::ReturnedToSender;
    let id = db
        .row(
            "INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, placed_at, updated_at,
                                 ended_at, cancelled_by, amount_due, delivered_at, completed_at,
                                 shipping_cost, discount, ship_cost, return_cost)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?4, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
            params![
                customer,
                status.as_str(),
                order.method.as_str(),
                total,
                if paid { total } else { 0 },
                placed,
                now,
                ended,
                cancelled_by,
                delivered,
                completed,
                shipping,
                discount,
                order.shipping.map(|_| shipping),
                (returned && order.shipping.is_some()).then_some(shipping)
            ],
            |row| row.int(0),
        )?
        .unwrap_or_default();
    let hold = if paid { "converted" } else { "released" };
    for (i, (line, sku)) in order.lines.iter().zip(skus).enumerate() {
        db.execute(
            "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                i as i64 + 1,
                sku,
                line.name.trim(),
                line.unit_price.minor_units(),
                line.qty,
                hold
            ],
        )?;
    }
    db.execute(
        "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason)
         VALUES (?1, ?2, ?3, NULL, 'awaiting_payment', NULL)",
        params![id, placed, source],
    )?;
    db.execute(
        "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason)
         VALUES (?1, ?2, ?3, 'awaiting_payment', ?4, ?5)",
        params![
            id,
            ended,
            source,
            status.as_str(),
            order.external_id.as_str()
        ],
    )?;
    if paid {
        db.execute(
            "INSERT INTO payments (order_id, amount, reference, recorded_at, actor, source)
             VALUES (?1, ?2, ?3, ?4, ?5, 'staff')",
            params![id, total, order.external_id.as_str(), ended, source],
        )?;
    }
    db.execute(
        "INSERT INTO imported_orders (source, external_id, order_id, imported_at) VALUES (?1, ?2, ?3, ?4)",
        params![source, order.external_id.as_str(), id, now],
    )?;
    Ok(())
}

impl Store {
    /// Imports a file's orders in one transaction, or (`dry_run`) only counts what it would do.
    pub async fn import_orders(
        &self,
        format: Format,
        orders: Vec<ImportedOrder>,
        dry_run: bool,
        now: Timestamp,
    ) -> Result<ImportReport, StoreError> {
        if dry_run {
            self.read(move |db| import(db, format, &orders, true, now))
                .await
        } else {
            let orders = std::sync::Arc::new(orders);
            self.write_always(move |db| import(db, format, &orders, false, now))
                .await
        }
    }
}
