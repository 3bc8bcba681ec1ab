//! Several one-line placements written together, for PostgreSQL: each step of a placement — the
//! buyers' standings, the holds, the buyers' rows, the orders with their lines, events, timers
//! and addresses, their first messages — is one statement for the whole batch. On PostgreSQL a
//! statement costs a round trip and its executor's start and end whatever it writes; written
//! this way, sixteen orders' rows cost PostgreSQL about a sixth of what a statement per step and
//! order costs (BENCHMARKS.md, issue 21 step nine). SQLite's writer keeps `placement`'s
//! statements, which cost little in-process.
//!
//! Lock order within the batch, as the rest of the store's: the products in SKU order, then the
//! buyers in number order, then the orders' amounts due in order; the same order in every batch,
//! so two batches never wait on each other in a cycle.
//!
//! What the batch decides is what the placements one after another would: stock is counted down
//! in the batch's order, and a number that orders twice in one batch is counted twice. One
//! difference: every order of such a number carries the buyer's row as it stands after the
//! batch (one after another, each would carry it as after its own upsert).

use std::collections::{BTreeMap, HashMap, HashSet};

use lunas_core::catalog::Product;
use lunas_core::customers::Standing;
use lunas_core::messages::MessageKind;
use lunas_core::placing::{Messaging, NewOrderLine, PlaceError};
use lunas_core::shipping::Charges;
use lunas_core::timers::PlannedTimer;
use lunas_core::{CustomerInfo, Honorific, Order, OrderId, OrderItem, Phone, Sku};

use super::outbox::{MessageRow, insert_messages_of_orders, message_rows};
use super::placement::{NewOrderRow, decide_hold, insert_order};
use super::privacy::{StandingRow, fold_standings, read_standing_row};
use crate::repo::*;
use crate::sql::{Db, DbError, DbResult, params};

/// The standings of each buyer (number, its HMAC), in their order: one statement for all.
pub(crate) fn standings_many(
    db: &mut dyn Db,
    buyers: &[(&Phone, &str)],
) -> DbResult<Vec<(Option<Standing>, Option<Standing>)>> {
    let json: serde_json::Value = buyers
        .iter()
        .enumerate()
        .map(
            |(n, (phone, hmac))| serde_json::json!({"n": n, "phone": phone.as_str(), "hmac": hmac}),
        )
        .collect();
    let rows = db.rows(
        "SELECT x.n, c.id, c.band_pin, c.band_reason,
                c.orders_paid + c.orders_expired + c.orders_cancelled_by_buyer + c.orders_cancelled_by_seller + c.cod_refused,
                CAST(0 AS BIGINT)
         FROM jsonb_to_recordset(CAST(CAST(?1 AS TEXT) AS JSONB)) AS x(n BIGINT, phone TEXT, hmac TEXT)
         JOIN customers c ON c.phone = x.phone
         UNION ALL
         SELECT x.n, c.id, c.band_pin, c.band_reason,
                c.orders_paid + c.orders_expired + c.orders_cancelled_by_buyer + c.orders_cancelled_by_seller + c.cod_refused,
                CAST(1 AS BIGINT)
         FROM jsonb_to_recordset(CAST(CAST(?1 AS TEXT) AS JSONB)) AS x(n BIGINT, phone TEXT, hmac TEXT)
         JOIN customers c ON c.phone_hmac = x.hmac AND c.erased_at IS NOT NULL",
        params![&json.to_string()],
        |row| Ok((row.int(0)?, read_standing_row(row, 1)?)),
    )?;
    let mut by_buyer: Vec<Vec<StandingRow>> = (0..buyers.len()).map(|_| Vec::new()).collect();
    for (n, row) in rows {
        by_buyer[n as usize].push(row);
    }
    by_buyer
        .into_iter()
        .map(|rows| fold_standings(db, rows))
        .collect()
}

/// A batch's products as read with their rows locked (`lock_products`): what `hold_many` decides
/// by, the rows staying locked until the batch's transaction ends.
pub struct LockedProducts(BTreeMap<Sku, Product>);

/// Reads the products `skus` with their rows locked (in SKU order): a batch takes its products
/// first, then gathers the placements of those products that arrived while it waited for them
/// (see the engine's `batches`), then holds their stock from what was read here.
pub(crate) fn lock_products(db: &mut dyn Db, skus: &[&str]) -> DbResult<LockedProducts> {
    Ok(LockedProducts(
        db.rows(
            concat!(
                "SELECT ",
                product_columns!(),
                " FROM products WHERE sku IN (SELECT jsonb_array_elements_text(CAST(CAST(?1 AS TEXT) AS JSONB)))
                  ORDER BY sku FOR NO KEY UPDATE"
            ),
            params![&serde_json::json!(skus).to_string()],
            read_product,
        )?
        .into_iter()
        .map(|product| (product.sku.clone(), product))
        .collect(),
    ))
}

/// Holds each one-line placement's stock (`line` with the order's `charges`), in the batch's
/// order, or says why not — as `hold_stock` would one after another: decided from the products
/// `locked` read (a line of a product not among them is of an unknown SKU), counted down here,
/// and held with one statement.
pub(crate) fn hold_many(
    db: &mut dyn Db,
    lines: &[(&NewOrderLine, Charges)],
    locked: &LockedProducts,
) -> DbResult<Vec<Result<Held, PlaceError>>> {
    let products = &locked.0;
    // Decided one after another, each placement's units counted before the next is decided.
    let mut wanted: BTreeMap<Sku, i64> = BTreeMap::new();
    let mut held = Vec::with_capacity(lines.len());
    for (line, charges) in lines {
        held.push(
            decide_hold(products, &wanted, std::slice::from_ref(*line), *charges).map(
                |(placed, units)| {
                    for (sku, qty) in units {
                        *wanted.entry(sku).or_insert(0) += qty;
                    }
                    placed
                },
            ),
        );
    }
    if !wanted.is_empty() {
        let json: serde_json::Value = wanted
            .iter()
            .map(|(sku, qty)| serde_json::json!({"sku": sku.as_str(), "qty": qty}))
            .collect();
        // The condition repeats the count above as a guard (the rows are locked); if it ever
        // failed, the error rolls the batch back rather than leave orders without their stock.
        let changed = db.execute(
            "UPDATE products p SET reserved = p.reserved + x.qty
             FROM jsonb_to_recordset(CAST(CAST(?1 AS TEXT) AS JSONB)) AS x(sku TEXT, qty BIGINT)
             WHERE p.sku = x.sku AND p.on_hand - p.reserved >= x.qty",
            params![&json.to_string()],
        )?;
        if changed != wanted.len() as u64 {
            return Err(DbError::Corrupt(
                "a batch's holds failed after their stock was counted".into(),
            ));
        }
    }
    Ok(held)
}

/// Counts each order for its buyer, creating the row on a number's first order: one statement
/// for the batch, each number once (in number order) with its count of orders and the last
/// name, email and honorific it gave. Returns each order's buyer as `upsert_buyer` does.
pub(crate) fn upsert_buyers(
    db: &mut dyn Db,
    customers: &[&CustomerInfo],
    now: lunas_core::Timestamp,
) -> DbResult<Vec<(i64, CustomerInfo)>> {
    struct Buyer<'a> {
        name: &'a str,
        email: Option<&'a str>,
        honorific: Option<Honorific>,
        orders: i64,
    }
    let mut buyers: BTreeMap<&str, Buyer<'_>> = BTreeMap::new();
    for customer in customers {
        let buyer = buyers.entry(customer.phone.as_str()).or_insert(Buyer {
            name: &customer.name,
            email: None,
            honorific: None,
            orders: 0,
        });
        // One after another, each upsert keeps the last name and the last email and honorific
        // given (`COALESCE` keeps the earlier where a later order gave none).
        buyer.name = &customer.name;
        buyer.email = customer.email.as_deref().or(buyer.email);
        buyer.honorific = customer.honorific.or(buyer.honorific);
        buyer.orders += 1;
    }
    let json: serde_json::Value = buyers
        .iter()
        .map(|(phone, b)| {
            serde_json::json!({
                "phone": phone, "name": b.name, "email": b.email,
                "honorific": b.honorific.map(Honorific::as_str), "orders": b.orders,
            })
        })
        .collect();
    let stored: HashMap<String, (i64, CustomerInfo)> = db
        .rows(
            concat!(
                "INSERT INTO customers (phone, name, email, honorific, created_at, updated_at,
                                        orders_placed, first_order_at, last_order_at)
                 SELECT x.phone, x.name, x.email, x.honorific, ?2, ?2, x.orders, ?2, ?2
                 FROM jsonb_to_recordset(CAST(CAST(?1 AS TEXT) AS JSONB))
                     AS x(phone TEXT, name TEXT, email TEXT, honorific TEXT, orders BIGINT)
                 ORDER BY x.phone ",
                buyer_counted!(),
                " RETURNING id, phone, name, email, honorific"
            ),
            params![&json.to_string(), millis(now)],
            |row| Ok((row.int(0)?, read_customer(row, 1)?)),
        )?
        .into_iter()
        .map(|(id, customer)| (customer.phone.as_str().to_owned(), (id, customer)))
        .collect();
    customers
        .iter()
        .map(|customer| {
            stored
                .get(customer.phone.as_str())
                .cloned()
                .ok_or_else(|| DbError::Corrupt("a batch's upsert left out a buyer".into()))
        })
        .collect()
}

/// An order of the batch to write: its head, lines and timers, and the store's unique codes as
/// its placement read them.
pub struct BatchOrder<'a> {
    pub head: OrderHead<'a>,
    pub items: &'a [OrderItem],
    pub timers: &'a [PlannedTimer],
    pub codes: &'a lunas_core::payments::UniqueCodes,
}

/// Writes the batch's orders with their lines, addresses, events and timers in one statement,
/// each with its first amount (moved on within the batch when two drew the same); the orders
/// whose amount another open order has are written after it one by one as `insert_order` writes
/// them (the next free amount). Returns each as written, with the webhook endpoints.
pub(crate) fn insert_orders(
    db: &mut dyn Db,
    orders: &[BatchOrder<'_>],
) -> DbResult<Vec<InsertedOrder>> {
    let mut drawn: HashSet<i64> = HashSet::new();
    let mut rows: Vec<NewOrderRow<'_>> = Vec::with_capacity(orders.len());
    for order in orders {
        let mut row = NewOrderRow::of(&order.head);
        let amount = order.head.first_amount.and_then(|first| {
            let (lo, hi) = lunas_core::payments::code_amounts(order.head.total, order.codes)?;
            // The next amount of the range (wrapping) no earlier order of the batch drew.
            let span = hi - lo + 1;
            (0..span)
                .map(|k| lo + (first - lo + k).rem_euclid(span))
                .find(|amount| !drawn.contains(amount))
        });
        if let Some(amount) = amount {
            drawn.insert(amount);
        }
        // No free amount left in the range for this batch: `insert_order` below decides.
        row.set_amount(amount.or(order.head.first_amount));
        rows.push(row);
    }
    // In amount order, so that concurrent batches take the unique index's entries in one order.
    let mut by_amount: Vec<usize> = (0..rows.len()).collect();
    by_amount.sort_by_key(|&n| rows[n].amount_due.minor_units());
    let json: serde_json::Value = by_amount
        .iter()
        .map(|&n| rows[n].json(n, orders[n].items, orders[n].timers))
        .collect();
    let written = db.rows(
        "WITH x AS (
             SELECT * FROM ROWS FROM (jsonb_to_recordset(CAST(CAST(?1 AS TEXT) AS JSONB))
                 AS (n BIGINT, customer_id BIGINT, status TEXT, payment_method TEXT, total BIGINT,
                     pay_by BIGINT, placed_at BIGINT, actor TEXT, policy TEXT, deposit BIGINT,
                     amount_due BIGINT, unique_code BIGINT, shipping_cost BIGINT, discount BIGINT,
                     public_token TEXT, note TEXT, confirm_by BIGINT, lines JSONB, timers JSONB,
                     address JSONB))
                 WITH ORDINALITY AS r(n, customer_id, status, payment_method, total, pay_by,
                     placed_at, actor, policy, deposit, amount_due, unique_code, shipping_cost,
                     discount, public_token, note, confirm_by, lines, timers, address, k)),
         o AS (
             INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by)
             SELECT customer_id, status, payment_method, total, 0, pay_by, placed_at, placed_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by
             FROM x ORDER BY k
             ON CONFLICT DO NOTHING RETURNING id, public_token),
         j AS (SELECT o.id, x.* FROM o JOIN x ON x.public_token = o.public_token),
         a AS (
             INSERT INTO order_addresses (order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode)
             SELECT j.id, y.recipient, y.phone, y.street, y.kelurahan, y.kecamatan, y.city, y.province, y.postcode
             FROM j, jsonb_to_recordset(j.address)
                 AS y(recipient TEXT, phone TEXT, street TEXT, kelurahan TEXT, kecamatan TEXT, city TEXT, province TEXT, postcode TEXT)),
         i AS (
             INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold)
             SELECT j.id, y.line, y.sku, y.name, y.unit_price, y.qty, 'held'
             FROM j, jsonb_to_recordset(j.lines)
                 AS y(line BIGINT, sku TEXT, name TEXT, unit_price BIGINT, qty BIGINT)),
         e AS (
             INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason)
             SELECT j.id, j.placed_at, j.actor, NULL, j.status, NULL FROM j),
         t AS (
             INSERT INTO timers (due_at, kind, order_id, step, ordinal)
             SELECT y.due_at, y.kind, j.id, y.step, y.ordinal
             FROM j, jsonb_to_recordset(j.timers)
                 AS y(due_at BIGINT, kind TEXT, step BIGINT, ordinal BIGINT))
         SELECT j.n, j.id, (SELECT COALESCE(string_agg(w.id, ' ' ORDER BY w.created_at), '')
                            FROM webhook_endpoints w)
         FROM j",
        params![&json.to_string()],
        |row| Ok((row.int(0)?, row.int(1)?, row.text(2)?)),
    )?;
    let mut ids: Vec<Option<OrderId>> = vec![None; orders.len()];
    // The webhook endpoints, read with the orders (none written: each order below reads them).
    let mut webhooks: Option<Vec<String>> = None;
    for (n, id, hooks) in written {
        ids[n as usize] = Some(OrderId(id));
        webhooks.get_or_insert_with(|| hooks.split_whitespace().map(str::to_owned).collect());
    }
    let mut inserted = Vec::with_capacity(orders.len());
    for (n, order) in orders.iter().enumerate() {
        inserted.push(match ids[n] {
            Some(id) => InsertedOrder {
                id,
                amount_due: rows[n].amount_due,
                unique_code: rows[n].unique_code,
                webhooks: webhooks.clone(),
            },
            // Its amount was taken by an open order: the next free one, as alone.
            None => insert_order(db, &order.head, order.codes, order.items, order.timers)?,
        });
    }
    Ok(inserted)
}

/// A new order's first message: the settings and templates it is written with, its kind, the
/// order, its lines' tips and the webhook endpoints.
pub type FirstMessage<'a> = (
    &'a Messaging,
    MessageKind,
    &'a Order,
    Vec<Option<String>>,
    Vec<String>,
);

/// Writes each order's first message and its webhook deliveries, rendered now, in one statement.
pub(crate) fn enqueue_many(
    db: &mut dyn Db,
    messages: Vec<FirstMessage<'_>>,
    now_ms: i64,
) -> DbResult<()> {
    let mut rows: Vec<(OrderId, Vec<MessageRow>)> = Vec::with_capacity(messages.len());
    for (messaging, kind, order, tips, webhooks) in messages {
        if let Some(message) = message_rows(
            db,
            messaging,
            kind,
            None,
            0,
            order,
            Some(tips),
            Some(webhooks),
            now_ms,
        )? {
            rows.push((order.id, message));
        }
    }
    let flat: Vec<(OrderId, &MessageRow)> = rows
        .iter()
        .flat_map(|(order, message)| message.iter().map(|m| (*order, m)))
        .collect();
    insert_messages_of_orders(db, now_ms, &flat)
}
