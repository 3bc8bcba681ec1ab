//! The rows of an order's first transaction: idempotency keys, the buyer's row, the stock
//! reservation, and the order with its lines, event, timers and unique code. What to write is
//! the placing use case's (`lunas_engine`), decided by `lunas_core::placing`.

use std::collections::BTreeMap;

use lunas_core::catalog::Product;
use lunas_core::placing::{IdempotencyKey, PlaceError};
use lunas_core::reliability::AppliedPolicy;
use lunas_core::shipping::{Address, Charges};
use lunas_core::timers::PlannedTimer;
use lunas_core::{
    Actor, CustomerInfo, HoldState, Honorific, Money, Order, OrderId, OrderItem, OrderStatus,
    PaymentMethod, Sku, Timestamp,
};

use crate::repo::*;
use crate::sql::{Db, DbError, DbResult, Dialect, Row, corrupt, params};

/// What a client's idempotency key was first used with: the request's hash and the order
/// placed then.
pub(crate) fn seen_idempotency_key(
    db: &mut dyn Db,
    key: &IdempotencyKey,
) -> DbResult<Option<(String, Order)>> {
    let seen = db.row(
        "SELECT request_hash, response FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
        params![&key.scope, &key.key],
        |row| Ok((row.text(0)?, row.text(1)?)),
    )?;
    let Some((request_hash, response)) = seen else {
        return Ok(None);
    };
    let mut order: Order = serde_json::from_str(&response)
        .map_err(|e| corrupt("idempotent response", &e.to_string()))?;
    // Remembered before orders had an amount due: it was the total.
    if order.amount_due == Money::ZERO {
        order.amount_due = order.total;
    }
    Ok(Some((request_hash, order)))
}

/// Remembers the order an idempotency key placed, as its response.
pub(crate) fn remember_idempotency_key(
    db: &mut dyn Db,
    key: &IdempotencyKey,
    order: &Order,
    now: Timestamp,
) -> DbResult<()> {
    let response = serde_json::to_string(order).expect("orders always serialise");
    db.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            &key.scope,
            &key.key,
            &key.request_hash,
            order.id.0,
            &response,
            millis(now)
        ],
    )?;
    Ok(())
}

/// Counts an order placed by the buyer of `customer`'s number, creating their row on the first
/// order; returns the row's id and the buyer as stored (a returning buyer keeps the email and
/// honorific given before).
pub(crate) fn upsert_buyer(
    db: &mut dyn Db,
    customer: &CustomerInfo,
    now: Timestamp,
) -> DbResult<(i64, CustomerInfo)> {
    macro_rules! upsert {
        () => {
            concat!(
                "INSERT INTO customers (phone, name, email, honorific, created_at, updated_at,
                                        orders_placed, first_order_at, last_order_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?5, ?5) ",
                buyer_counted!()
            )
        };
    }
    let params = params![
        customer.phone.as_str(),
        &customer.name,
        &customer.email,
        customer.honorific.map(Honorific::as_str),
        millis(now)
    ];
    let read = |row: &Row<'_>| Ok((row.int(0)?, read_customer(row, 1)?));
    let stored = match db.dialect() {
        // SQLite: the upsert, then the row read by its key (see `hold_stock` on `RETURNING`).
        Dialect::Sqlite => {
            db.execute(upsert!(), params)?;
            db.row(
                "SELECT id, phone, name, email, honorific FROM customers WHERE phone = ?1",
                params![customer.phone.as_str()],
                read,
            )?
        }
        Dialect::Postgres => db.row(
            concat!(upsert!(), " RETURNING id, phone, name, email, honorific"),
            params,
            read,
        )?,
    };
    Ok(stored.expect("an upsert leaves its row"))
}

/// A new order's head, as its use case decided it.
pub struct OrderHead<'a> {
    pub customer_id: i64,
    pub payment_method: PaymentMethod,
    pub total: Money,
    pub pay_by: Option<Timestamp>,
    pub placed_at: Timestamp,
    pub actor: &'a Actor,
    pub policy: &'a AppliedPolicy,
    /// The first amount due to try for a unique code (`None`: the order has none).
    pub first_amount: Option<i64>,
    pub address: Option<&'a Address>,
    /// The shipping cost and discount already counted in `total`.
    pub charges: Charges,
    /// The token of the order's page.
    pub public_token: &'a str,
    /// What the buyer wrote for the seller.
    pub note: Option<&'a str>,
    /// Awaiting payment, or a COD order's buyer's confirmation.
    pub status: OrderStatus,
    /// By when a COD buyer must confirm.
    pub confirm_by: Option<Timestamp>,
}

/// A new order as written: its id, what it expects to be paid and its unique code, and on
/// PostgreSQL the webhook endpoints read in the same round trip.
pub struct InsertedOrder {
    pub id: OrderId,
    pub amount_due: Money,
    pub unique_code: Option<i64>,
    pub webhooks: Option<Vec<String>>,
}

/// Writes a new order's rows — the order, its lines, the placement event, its timers — with an
/// amount due no other order awaiting payment has. The partial unique index
/// `orders_by_open_amount` is the judge: the order is inserted with `head.first_amount` and
/// `ON CONFLICT DO NOTHING` — no query ahead of the insert — and when that amount is taken
/// (nothing inserted), with the next free one the index shows after it; when the range is full
/// the order goes without a code, which cannot conflict. (On PostgreSQL a concurrent placement
/// that took the same amount after this transaction began makes it rerun, as any lost race does.)
pub(crate) fn insert_order(
    db: &mut dyn Db,
    head: &OrderHead<'_>,
    codes: &lunas_core::payments::UniqueCodes,
    items: &[OrderItem],
    timers: &[PlannedTimer],
) -> DbResult<InsertedOrder> {
    let total = head.total;
    let mut row = NewOrderRow::of(head);
    let mut next_amount = head.first_amount;
    let mut tries = 0;
    let (id, webhooks) = loop {
        row.set_amount(next_amount);
        let inserted = match db.dialect() {
            Dialect::Sqlite => insert_order_rows(db, &row, items, timers)?.map(|id| (id, None)),
            Dialect::Postgres => insert_order_rows_at_once(db, &row, items, timers)?
                .map(|(id, webhooks)| (id, Some(webhooks))),
        };
        match (inserted, next_amount) {
            (Some(inserted), _) => break inserted,
            (None, None) => {
                return Err(DbError::Corrupt(
                    "an order without a unique code conflicted on insert".into(),
                ));
            }
            // Taken: the next free amount after it (or none: the order goes without a code).
            // Only a run of lost races with other processes could repeat this; it is bounded.
            (None, Some(taken)) => {
                tries += 1;
                next_amount = match tries < CODE_TRIES_MAX {
                    true => free_amount(db, total, codes, taken + 1)?,
                    false => None,
                };
            }
        }
    };
    Ok(InsertedOrder {
        id,
        amount_due: row.amount_due,
        unique_code: row.unique_code,
        webhooks,
    })
}

/// Amounts tried for one order's unique code before it goes without one.
const CODE_TRIES_MAX: usize = 16;

/// Taken amounts read per look at the index when searching for a free code. Written into the
/// statement as a literal (`code_window!`): with a bound `LIMIT ?`, SQLite expired the cached
/// statement and parsed it again on nearly every run (seen with `StatementStatus::RePrepare`;
/// 2.6% of a placement's CPU in the profile of issue 21).
const CODE_WINDOW_LEN: i64 = 64;
macro_rules! code_window {
    () => {
        "64"
    };
}

/// The first amount at or after `from` (wrapping to the start of the range) that no order
/// awaiting payment has, read from the index a window at a time: with a range nine-tenths full a
/// look reads about ten entries, not the whole range. `None` when the range is full.
fn free_amount(
    db: &mut dyn Db,
    total: Money,
    codes: &lunas_core::payments::UniqueCodes,
    from: i64,
) -> DbResult<Option<i64>> {
    let Some((lo, hi)) = lunas_core::payments::code_amounts(total, codes) else {
        return Ok(None);
    };
    // SQLite would rather walk `orders_by_status` (every order awaiting payment); it is told
    // which index answers this.
    let sql = db.pick(
        concat!(
            "SELECT amount_due FROM orders INDEXED BY orders_by_open_amount
             WHERE amount_due BETWEEN ?1 AND ?2
               AND status = 'awaiting_payment' AND unique_code IS NOT NULL
             ORDER BY amount_due LIMIT ",
            code_window!()
        ),
        concat!(
            "SELECT amount_due FROM orders
             WHERE amount_due BETWEEN ?1 AND ?2
               AND status = 'awaiting_payment' AND unique_code IS NOT NULL
             ORDER BY amount_due LIMIT ",
            code_window!()
        ),
    );
    let from = from.clamp(lo, hi);
    for (start, end) in [(from, hi), (lo, from - 1)] {
        let mut cursor = start;
        while cursor <= end {
            let taken = db.rows(sql, params![cursor, end], |row| row.int(0))?;
            for amount in &taken {
                if *amount > cursor {
                    return Ok(Some(cursor));
                }
                cursor = amount + 1;
            }
            if (taken.len() as i64) < CODE_WINDOW_LEN {
                // Nothing is taken between the last one read and the end of this stretch.
                if cursor <= end {
                    return Ok(Some(cursor));
                }
                break;
            }
        }
    }
    Ok(None)
}

/// The head of an order being placed.
pub(super) struct NewOrderRow<'a> {
    customer_id: i64,
    status: OrderStatus,
    payment_method: PaymentMethod,
    total: Money,
    pay_by: Option<i64>,
    placed_at: i64,
    actor: &'a Actor,
    /// The applied policy, as JSON.
    policy: Option<String>,
    deposit: Option<i64>,
    pub(super) amount_due: Money,
    pub(super) unique_code: Option<i64>,
    charges: Charges,
    address: Option<&'a Address>,
    public_token: &'a str,
    note: Option<&'a str>,
    confirm_by: Option<i64>,
}

impl<'a> NewOrderRow<'a> {
    /// The row of `head`, its amount due the total and without a unique code yet.
    pub(super) fn of(head: &OrderHead<'a>) -> NewOrderRow<'a> {
        NewOrderRow {
            customer_id: head.customer_id,
            status: head.status,
            confirm_by: head.confirm_by.map(millis),
            payment_method: head.payment_method,
            total: head.total,
            pay_by: head.pay_by.map(millis),
            placed_at: millis(head.placed_at),
            actor: head.actor,
            policy: Some(serde_json::to_string(head.policy).expect("policies serialise")),
            deposit: head.policy.deposit.map(|d| d.minor_units()),
            amount_due: head.total,
            unique_code: None,
            charges: head.charges,
            address: head.address,
            public_token: head.public_token,
            note: head.note,
        }
    }

    /// Gives the order `amount` due (a unique code), or its total (`None`: no code).
    pub(super) fn set_amount(&mut self, amount: Option<i64>) {
        self.unique_code = amount.map(|amount| (amount - self.total.minor_units()).abs());
        self.amount_due = amount.map_or(self.total, Money::from_stored);
    }

    /// The head's columns as a JSON object, for the multi-row insert (`placement_many`): the
    /// lines, timers and address beside them as arrays.
    pub(super) fn json(
        &self,
        n: usize,
        items: &[OrderItem],
        timers: &[PlannedTimer],
    ) -> serde_json::Value {
        serde_json::json!({
            "n": n,
            "customer_id": self.customer_id,
            "status": self.status.as_str(),
            "payment_method": self.payment_method.as_str(),
            "total": self.total.minor_units(),
            "pay_by": self.pay_by,
            "placed_at": self.placed_at,
            "actor": self.actor.as_str(),
            "policy": self.policy,
            "deposit": self.deposit,
            "amount_due": self.amount_due.minor_units(),
            "unique_code": self.unique_code,
            "shipping_cost": self.charges.shipping_cost.minor_units(),
            "discount": self.charges.discount.minor_units(),
            "public_token": self.public_token,
            "note": self.note,
            "confirm_by": self.confirm_by,
            "lines": lines_json(items),
            "timers": timers_json(timers),
            "address": address_json(self.address),
        })
    }
}

/// An order's lines as JSON, for `jsonb_to_recordset`.
fn lines_json(items: &[OrderItem]) -> serde_json::Value {
    items
        .iter()
        .enumerate()
        .map(|(line, item)| {
            serde_json::json!({
                "line": line,
                "sku": item.sku.as_str(),
                "name": item.name,
                "unit_price": item.unit_price.minor_units(),
                "qty": item.qty.units(),
            })
        })
        .collect()
}

/// An order's timers as JSON, for `jsonb_to_recordset`.
fn timers_json(timers: &[PlannedTimer]) -> serde_json::Value {
    timers
        .iter()
        .map(|timer| {
            serde_json::json!({"due_at": millis(timer.due), "kind": timer.kind.as_str(), "step": timer.step, "ordinal": timer.ordinal})
        })
        .collect()
}

/// Zero or one address as a JSON array, expanded as the lines are.
fn address_json(address: Option<&Address>) -> serde_json::Value {
    address
        .iter()
        .map(|a| {
            serde_json::json!({
                "recipient": a.recipient, "phone": a.phone.as_str(), "street": a.street,
                "kelurahan": a.kelurahan, "kecamatan": a.kecamatan, "city": a.city,
                "province": a.province, "postcode": a.postcode,
            })
        })
        .collect()
}

/// Writes a new order's rows (the order, its lines, the placement event, its timers) statement
/// by statement; returns its id, or `None` (having written nothing) when its amount due is taken
/// by another order awaiting payment. SQLite runs these in-process, so a statement costs little.
fn insert_order_rows(
    db: &mut dyn Db,
    head: &NewOrderRow<'_>,
    items: &[OrderItem],
    timers: &[PlannedTimer],
) -> DbResult<Option<OrderId>> {
    // SQLite only (see `insert_order_rows_at_once`): the new row's id is SQLite's last rowid,
    // read without `RETURNING` (see `hold_stock`).
    let inserted = db.execute(
            "INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by)
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING",
            params![
                head.customer_id,
                head.status.as_str(),
                head.payment_method.as_str(),
                head.total.minor_units(),
                head.pay_by,
                head.placed_at,
                &head.policy,
                head.deposit,
                head.amount_due.minor_units(),
                head.unique_code,
                head.charges.shipping_cost.minor_units(),
                head.charges.discount.minor_units(),
                head.public_token,
                head.note,
                head.confirm_by
            ],
        )?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = OrderId(db.scalar("SELECT last_insert_rowid()", params![])?);
    for (line, item) in items.iter().enumerate() {
        db.execute(
            "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'held')",
            params![
                id.0,
                line as i64,
                item.sku.as_str(),
                &item.name,
                item.unit_price.minor_units(),
                item.qty.units()
            ],
        )?;
    }
    if let Some(address) = head.address {
        db.execute(
            "INSERT INTO order_addresses (order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id.0,
                &address.recipient,
                address.phone.as_str(),
                &address.street,
                &address.kelurahan,
                &address.kecamatan,
                &address.city,
                &address.province,
                &address.postcode
            ],
        )?;
    }
    insert_event(db, id, head.placed_at, head.actor, None, head.status, None)?;
    insert_timers(db, id, timers)?;
    Ok(Some(id))
}

/// The same rows as `insert_order_rows` in one statement, for PostgreSQL, where every statement
/// is a round trip to the server: the lines and timers travel as JSON and are expanded by
/// `jsonb_to_recordset`. Also returns the webhook endpoints, which the order's first message
/// needs next. `None` (nothing written) when the amount due is taken, as `insert_order_rows`.
fn insert_order_rows_at_once(
    db: &mut dyn Db,
    head: &NewOrderRow<'_>,
    items: &[OrderItem],
    timers: &[PlannedTimer],
) -> DbResult<Option<(OrderId, Vec<String>)>> {
    let lines = lines_json(items).to_string();
    let timers = timers_json(timers).to_string();
    let address = address_json(head.address).to_string();
    let inserted = db
        .row(
            "WITH o AS (
                 INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?10, ?11, ?12, ?13, ?14, ?15, ?17, ?18, ?19)
                 ON CONFLICT DO NOTHING RETURNING id),
             a AS (
                 INSERT INTO order_addresses (order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode)
                 SELECT o.id, x.recipient, x.phone, x.street, x.kelurahan, x.kecamatan, x.city, x.province, x.postcode
                 FROM o, jsonb_to_recordset(CAST(CAST(?16 AS TEXT) AS JSONB))
                     AS x(recipient TEXT, phone TEXT, street TEXT, kelurahan TEXT, kecamatan TEXT, city TEXT, province TEXT, postcode TEXT)),
             i AS (
                 INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold)
                 SELECT o.id, x.line, x.sku, x.name, x.unit_price, x.qty, 'held'
                 FROM o, jsonb_to_recordset(CAST(CAST(?8 AS TEXT) AS JSONB))
                     AS x(line BIGINT, sku TEXT, name TEXT, unit_price BIGINT, qty BIGINT)),
             e AS (
                 INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason)
                 SELECT o.id, ?6, ?7, NULL, ?2, NULL FROM o),
             t AS (
                 INSERT INTO timers (due_at, kind, order_id, step, ordinal)
                 SELECT x.due_at, x.kind, o.id, x.step, x.ordinal
                 FROM o, jsonb_to_recordset(CAST(CAST(?9 AS TEXT) AS JSONB))
                     AS x(due_at BIGINT, kind TEXT, step BIGINT, ordinal BIGINT))
             SELECT o.id, (SELECT COALESCE(string_agg(w.id, ' ' ORDER BY w.created_at), '')
                           FROM webhook_endpoints w)
             FROM o",
            params![
                head.customer_id,
                head.status.as_str(),
                head.payment_method.as_str(),
                head.total.minor_units(),
                head.pay_by,
                head.placed_at,
                head.actor.as_str(),
                &lines,
                &timers,
                &head.policy,
                head.deposit,
                head.amount_due.minor_units(),
                head.unique_code,
                head.charges.shipping_cost.minor_units(),
                head.charges.discount.minor_units(),
                &address,
                head.public_token,
                head.note,
                head.confirm_by
            ],
            |row| Ok((row.int(0)?, row.text(1)?)),
        )?;
    Ok(inserted.map(|(id, webhooks)| {
        let webhooks = webhooks.split_whitespace().map(str::to_owned).collect();
        (OrderId(id), webhooks)
    }))
}

/// An order's lines as held (with their names and prices), the products' tips, and the total.
pub struct Held {
    pub items: Vec<OrderItem>,
    pub tips: Vec<Option<String>>,
    pub total: Money,
}

/// Decides whether `lines` (with the order's `charges`) can be held from `products` — the
/// lines' products as read, a SKU missing when there is no such product — of which `taken` units
/// are already spoken for (by earlier lines of a batch): the lines as held with the products'
/// tips and the items' total, and each SKU's units, or why not. Every hold is decided here, alone
/// or in a batch, so that a refusal reads the same whichever path placed the order.
pub(super) fn decide_hold(
    products: &BTreeMap<Sku, Product>,
    taken: &BTreeMap<Sku, i64>,
    lines: &[lunas_core::placing::NewOrderLine],
    charges: Charges,
) -> Result<(Held, BTreeMap<Sku, i64>), PlaceError> {
    let mut wanted: BTreeMap<Sku, i64> = BTreeMap::new();
    let mut items = Vec::with_capacity(lines.len());
    let mut tips = Vec::with_capacity(lines.len());
    let mut total = Money::ZERO;
    for line in lines {
        let qty = line.qty.units();
        let Some(product) = products.get(&line.sku) else {
            return Err(PlaceError::UnknownSku {
                sku: line.sku.clone(),
            });
        };
        if product.is_group() {
            return Err(PlaceError::VariantRequired {
                sku: line.sku.clone(),
            });
        }
        let before = taken.get(&line.sku).copied().unwrap_or(0)
            + wanted.get(&line.sku).copied().unwrap_or(0);
        if product.available - before < qty {
            return Err(PlaceError::OutOfStock {
                sku: line.sku.clone(),
                requested: qty,
                available: product.available - before,
            });
        }
        *wanted.entry(line.sku.clone()).or_insert(0) += qty;
        let line_total = product
            .price
            .checked_mul(qty)
            .expect("price and quantity are bounded");
        total = total
            .checked_add(line_total)
            .expect("order size is bounded");
        tips.push(product.tips.clone());
        items.push(held_item(product, line));
    }
    if total == Money::ZERO {
        return Err(PlaceError::ZeroTotal);
    }
    // A discount that leaves nothing to pay refuses the order before its stock is held: a refused
    // operation must have written nothing (SQLite's writer rolls back the whole group otherwise).
    if charges.total(total).is_none() {
        return Err(PlaceError::DiscountAboveTotal {
            discount: charges.discount,
            before: Money::from_stored(total.minor_units() + charges.shipping_cost.minor_units()),
        });
    }
    Ok((Held { items, tips, total }, wanted))
}

/// A line as held: the product's name and price at the time.
fn held_item(product: &Product, line: &lunas_core::placing::NewOrderLine) -> OrderItem {
    OrderItem {
        sku: line.sku.clone(),
        name: product.name.clone(),
        unit_price: product.price,
        qty: line.qty,
        hold: HoldState::Held,
    }
}

/// Holds the stock of an order's lines, or refuses the order having changed nothing. Returns the
/// lines as ordered (with their names and prices), the products' tips, and the total.
pub(crate) fn hold_stock(
    db: &mut dyn Db,
    lines: &[lunas_core::placing::NewOrderLine],
    charges: lunas_core::shipping::Charges,
) -> DbResult<Result<Held, PlaceError>> {
    let no_earlier = BTreeMap::new();
    if let [line] = lines {
        // One line, the common case: the conditional update is the check and the hold at once
        // (one statement); when it changes nothing, a read says why.
        let qty = line.qty.units();
        let params = params![
            qty,
            line.sku.as_str(),
            charges.shipping_cost.minor_units(),
            charges.discount.minor_units()
        ];
        macro_rules! hold {
            () => {
                "UPDATE products SET reserved = reserved + ?1
                 WHERE sku = ?2 AND on_hand - reserved >= ?1 AND price > 0 AND variants = 0
                   AND price * ?1 + ?3 > ?4"
            };
        }
        let held = match db.dialect() {
            // Without `RETURNING`, SQLite updates the row in one pass, with no temporary b-tree
            // for the returned row and no statement journal; its one writer runs one transaction
            // at a time, so the row read next is the row held.
            Dialect::Sqlite => match db.execute(hold!(), params)? {
                0 => None,
                _ => product_row(db, &line.sku)?,
            },
            Dialect::Postgres => db.row(
                concat!(hold!(), " RETURNING ", product_columns!()),
                params,
                read_product,
            )?,
        };
        let Some(product) = held else {
            let products = product_row(db, &line.sku)?
                .map(|product| (line.sku.clone(), product))
                .into_iter()
                .collect();
            return match decide_hold(&products, &no_earlier, lines, charges) {
                Err(refused) => Ok(Err(refused)),
                Ok(_) => Err(DbError::Corrupt(format!(
                    "the hold on {} failed for no reason",
                    line.sku
                ))),
            };
        };
        let total = product
            .price
            .checked_mul(qty)
            .expect("price and quantity are bounded");
        return Ok(Ok(Held {
            items: vec![held_item(&product, line)],
            tips: vec![product.tips.clone()],
            total,
        }));
    }

    // Several lines: decide before writing anything. The products are read with their rows
    // locked, in SKU order (so two orders for the same products never wait on each other in a
    // cycle); what is read here still holds when the holds are written below, and a refused
    // order leaves nothing to undo.
    let skus: std::collections::BTreeSet<&Sku> = lines.iter().map(|line| &line.sku).collect();
    let mut products: BTreeMap<Sku, Product> = BTreeMap::new();
    for sku in skus {
        if let Some(product) = product_for_update(db, sku)? {
            products.insert(sku.clone(), product);
        }
    }
    let (held, wanted) = match decide_hold(&products, &no_earlier, lines, charges) {
        Ok(decided) => decided,
        Err(refused) => return Ok(Err(refused)),
    };
    for (sku, qty) in &wanted {
        // The condition repeats the check above as a guard (and the schema's CHECK backs it);
        // if it ever failed, the error rolls the transaction back rather than leave a partial
        // order.
        let held = db.execute(
            "UPDATE products SET reserved = reserved + ?1 WHERE sku = ?2 AND on_hand - reserved >= ?1",
            params![*qty, sku.as_str()],
        )?;
        if held != 1 {
            return Err(DbError::Corrupt(format!(
                "the hold on {sku} failed after its stock was checked"
            )));
        }
    }
    Ok(Ok(held))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_statements_window_is_the_constant() {
        assert_eq!(
            code_window!().parse::<i64>().unwrap(),
            super::CODE_WINDOW_LEN
        );
    }
}
