//! The storage operations, written once for both backends. Each writing operation runs in one
//! transaction the backend opened; it re-reads what it depends on (locking the rows it will
//! change, on PostgreSQL), asks `lunas_core` for the decision, and only then writes. A refused
//! operation has written nothing.
//!
//! Lock order, so that concurrent transactions on PostgreSQL do not deadlock: an order row, then
//! its timers, then product rows (in SKU order when several), then the buyer's row. The timer path takes its timers
//! first and never waits for an order row (`SKIP LOCKED`): an order another transaction holds is
//! left for the next tick. Rows are locked `FOR NO KEY UPDATE` (no key ever changes), which does
//! not block the key-share locks that foreign-key checks take when a timer, an event or an order
//! line referencing the row is inserted.

use std::collections::BTreeMap;

use lunas_core::messages::{Channel, MessageContext, MessageKind};
use lunas_core::order::{ExpiryDecision, decide_cancel, decide_expiry};
use lunas_core::timers::TimerKind;
use lunas_core::{
    Actor, CancelledBy, CustomerInfo, HoldState, Honorific, Money, Order, OrderEvent, OrderId,
    OrderItem, OrderStatus, PaymentMethod, PaymentRecord, Phone, Quantity, Settings, Sku,
    Timestamp,
};

use crate::sql::{Db, DbError, DbResult, Dialect, Row, Val, corrupt, params};
use crate::{
    ApiToken, CustomerNotFound, CustomerProfile, Delivery, FiredTimers, InboundMessage, Message,
    MessageOpError, MessageStatus, Messaging, NewOrder, OrderOpError, Page, PlaceError, Placed,
    Product, ProductError, ProductInput, Totals, WebhookEndpoint,
};
use lunas_core::reliability::{
    AppliedPolicy, Band, BandReason, BaseRate, HISTORY_LEN, Outcome, PastOrder, Pin, Record,
};

/// How long a timer whose handling failed waits before it is tried again.
const TIMER_RETRY_DELAY_MS: i64 = 60_000;
/// How long a timer whose order another transaction holds waits before it is tried again.
const TIMER_BUSY_DELAY_MS: i64 = 1_000;
pub(crate) const SETTINGS_NAME: &str = "store";

pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn timestamp(ms: i64) -> DbResult<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| DbError::Corrupt(format!("bad time {ms}: {e}")))
}

pub(crate) fn status_of(raw: &str) -> DbResult<OrderStatus> {
    OrderStatus::parse(raw).ok_or_else(|| corrupt("order status", raw))
}

// ---------------------------------------------------------------------------------------------
// Products

pub(crate) fn put_product(
    db: &mut dyn Db,
    input: &ProductInput,
    now: Timestamp,
) -> DbResult<Result<Product, ProductError>> {
    let reserved = db
        .row(
            "SELECT reserved FROM products WHERE sku = ?1 FOR NO KEY UPDATE",
            params![input.sku.as_str()],
            |row| row.int(0),
        )?
        .unwrap_or(0);
    if input.stock < reserved {
        return Ok(Err(ProductError::StockBelowReserved {
            stock: input.stock,
            reserved,
        }));
    }
    db.execute(
        "INSERT INTO products (sku, name, price, on_hand, reserved, tips, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?6, ?5, ?5)
         ON CONFLICT (sku) DO UPDATE
         SET name = excluded.name, price = excluded.price, on_hand = excluded.on_hand,
             tips = excluded.tips, updated_at = excluded.updated_at",
        params![
            input.sku.as_str(),
            &input.name,
            input.price.minor_units(),
            input.stock,
            millis(now),
            &input.tips
        ],
    )?;
    Ok(Ok(
        product_row(db, &input.sku)?.expect("the product was just written")
    ))
}

pub(crate) fn products(db: &mut dyn Db, page: &Page<String>) -> DbResult<Vec<Product>> {
    db.rows(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products
         WHERE sku > ?1 ORDER BY sku LIMIT ?2",
        params![page.after.as_deref().unwrap_or(""), page.limit as i64],
        read_product,
    )
}

pub(crate) fn read_product(row: &Row<'_>) -> DbResult<Product> {
    let on_hand = row.int(3)?;
    let reserved = row.int(4)?;
    Ok(Product {
        sku: Sku::from_stored(row.text(0)?),
        name: row.text(1)?,
        price: Money::from_stored(row.int(2)?),
        on_hand,
        reserved,
        available: on_hand - reserved,
        tips: row.opt_text(5)?,
    })
}

pub(crate) fn product_row(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products WHERE sku = ?1",
        params![sku.as_str()],
        read_product,
    )
}

/// The product, its row locked until the transaction ends (on PostgreSQL).
pub(crate) fn product_for_update(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products WHERE sku = ?1 FOR NO KEY UPDATE",
        params![sku.as_str()],
        read_product,
    )
}

/// The tips of `skus`' products, in order (`None` where there is none or no such product).
pub(crate) fn product_tips(db: &mut dyn Db, skus: &[Sku]) -> DbResult<Vec<Option<String>>> {
    skus.iter()
        .map(|sku| {
            Ok(db
                .row(
                    "SELECT tips FROM products WHERE sku = ?1",
                    params![sku.as_str()],
                    |row| row.opt_text(0),
                )?
                .flatten())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Orders

pub(crate) fn place_order(db: &mut dyn Db, new: &NewOrder) -> DbResult<Result<Placed, PlaceError>> {
    if let Some(key) = &new.idempotency {
        let seen = db.row(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
            params![&key.scope, &key.key],
            |row| Ok((row.text(0)?, row.text(1)?)),
        )?;
        if let Some((request_hash, response)) = seen {
            if request_hash != key.request_hash {
                return Ok(Err(PlaceError::IdempotencyKeyReused));
            }
            let mut order: Order = serde_json::from_str(&response)
                .map_err(|e| corrupt("idempotent response", &e.to_string()))?;
            // Remembered before orders had an amount due: it was the total.
            if order.amount_due == Money::ZERO {
                order.amount_due = order.total;
            }
            return Ok(Ok(Placed {
                order,
                replayed: true,
            }));
        }
    }

    // The buyer's band decides what this order may be, read in this transaction so that the
    // decision and the order are one. `lunas_core` decides; refused, nothing is written.
    let settings = &new.messaging.settings;
    let (own, erased) = standings(db, &new.customer.phone, &new.phone_hmac)?;
    let assessment = crate::judge(
        own.as_ref(),
        erased.as_ref(),
        new.placed_at,
        new.base_rate,
        settings,
    );
    let units = new.lines.iter().map(|line| line.qty.units()).sum();
    let window = new
        .pay_within
        .or_else(|| settings.payment_windows.for_method(new.payment_method));
    let allowed = match lunas_core::reliability::apply(
        settings.risk.policies.for_band(assessment.band),
        new.payment_method,
        units,
        window,
    ) {
        Ok(allowed) => allowed,
        Err(refused) => return Ok(Err(PlaceError::Policy(refused))),
    };
    let band_policy = settings.risk.policies.for_band(assessment.band);
    let mut policy = AppliedPolicy {
        band: assessment.band,
        reason: assessment.explanation,
        score_percent: (assessment.score.probability * 100.0)
            .round()
            .clamp(0.0, 100.0) as u8,
        pinned: matches!(assessment.reason, BandReason::Pinned { .. }),
        pay_within: allowed.filter(|_| allowed != window),
        deposit: None,
    };
    let pay_by_at = settings.pay_by(new.payment_method, new.placed_at, allowed);
    let reminders = scheduled_reminders(settings, new.payment_method, new.placed_at, pay_by_at);

    let now = millis(new.placed_at);
    let (items, tips, total) = match hold_stock(db, &new.lines)? {
        Ok(held) => held,
        Err(refused) => return Ok(Err(refused)),
    };
    // A deposit is asked only where there is a deadline to pay it by (not of COD).
    policy.deposit = band_policy
        .deposit_percent
        .filter(|percent| *percent > 0 && pay_by_at.is_some())
        .map(|percent| lunas_core::reliability::deposit_amount(total, percent));

    // A bank transfer's unique code: an amount due no other order awaiting payment has (the
    // partial unique index `orders_by_open_amount` holds it; on PostgreSQL a concurrent placement
    // that took the same amount makes this transaction rerun), so a statement line names this
    // order. When every code of the range is taken (a thousand open orders of one
    // total), the order goes without one and its transfer is matched by reference or reviewed.
    let codes = &settings.payments.unique_code;
    let wants_code = new.payment_method == PaymentMethod::BankTransfer && codes.enabled;

    let customer = &new.customer;
    let (customer_id, stored_customer) = db
        .row(
            "INSERT INTO customers (phone, name, email, honorific, created_at, updated_at,
                                    orders_placed, first_order_at, last_order_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?5, ?5)
             ON CONFLICT (phone) DO UPDATE
             SET name = excluded.name,
                 email = COALESCE(excluded.email, customers.email),
                 honorific = COALESCE(excluded.honorific, customers.honorific),
                 updated_at = excluded.updated_at,
                 orders_placed = customers.orders_placed + 1,
                 first_order_at = COALESCE(customers.first_order_at, excluded.first_order_at),
                 last_order_at = excluded.last_order_at
             RETURNING id, phone, name, email, honorific",
            params![
                customer.phone.as_str(),
                &customer.name,
                &customer.email,
                customer.honorific.map(Honorific::as_str),
                now
            ],
            |row| Ok((row.int(0)?, read_customer(row, 1)?)),
        )?
        .expect("an upsert returns its row");

    let status = OrderStatus::AwaitingPayment;
    let pay_by = pay_by_at.map(millis);
    let timers = deadline_timers(settings, new.payment_method, pay_by_at, &reminders, 1);
    let mut head = NewOrderRow {
        customer_id,
        status,
        payment_method: new.payment_method,
        total,
        pay_by,
        placed_at: now,
        actor: &new.actor,
        policy: Some(serde_json::to_string(&policy).expect("policies serialise")),
        deposit: policy.deposit.map(|d| d.minor_units()),
        amount_due: total,
        unique_code: None,
    };
    // A bank transfer's unique code: an amount due that no other order awaiting payment has. The
    // partial unique index `orders_by_open_amount` is the judge: the order is inserted with a
    // random code of the range and `ON CONFLICT DO NOTHING` — no query ahead of the insert — and
    // when that amount is taken (nothing inserted), with the next free one the index shows after
    // it; when the range is full the order goes without a code, which cannot conflict. (On
    // PostgreSQL a concurrent placement that took the same amount after this transaction began
    // makes it rerun, as any lost race does.)
    let mut next_amount = match wants_code {
        true => lunas_core::payments::random_amount(total, codes, rand::random()),
        false => None,
    };
    let mut tries = 0;
    let (id, webhooks) = loop {
        let code = next_amount.map(|amount| (amount - total.minor_units()).abs());
        head.unique_code = code;
        head.amount_due = next_amount.map_or(total, Money::from_stored);
        let inserted = match db.dialect() {
            Dialect::Sqlite => insert_order_rows(db, &head, &items, &timers)?.map(|id| (id, None)),
            Dialect::Postgres => insert_order_rows_at_once(db, &head, &items, &timers)?
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
    let (amount_due, unique_code) = (head.amount_due, head.unique_code);

    // The customer as stored: a returning buyer keeps the email and honorific given before.
    let order = Order {
        id,
        status,
        customer: stored_customer,
        items,
        total,
        amount_due,
        unique_code,
        payment_url: None,
        amount_paid: Money::ZERO,
        payment_method: new.payment_method,
        pay_by: pay_by_at,
        placed_at: new.placed_at,
        payments: Vec::new(),
        events: vec![OrderEvent {
            at: new.placed_at,
            actor: new.actor.clone(),
            from: None,
            to: status,
            reason: None,
        }],
        deposit: policy.deposit,
        deposit_forfeited: None,
        policy: Some(policy),
    };
    if let Some(key) = &new.idempotency {
        let response = serde_json::to_string(&order).expect("orders always serialise");
        db.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![&key.scope, &key.key, &key.request_hash, id.0, &response, now],
        )?;
    }
    // The products' tips were read with their stock above, and on PostgreSQL the webhook
    // endpoints with the order's rows; no need to read them again.
    enqueue_with(
        db,
        &new.messaging,
        MessageKind::OrderReceived,
        None,
        0,
        &order,
        Some(tips),
        webhooks,
        now,
    )?;
    Ok(Ok(Placed {
        order,
        replayed: false,
    }))
}

/// Amounts tried for one order's unique code before it goes without one.
const CODE_TRIES_MAX: usize = 16;

/// Taken amounts read per look at the index when searching for a free code.
const CODE_WINDOW_LEN: i64 = 64;

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
        "SELECT amount_due FROM orders INDEXED BY orders_by_open_amount
         WHERE amount_due BETWEEN ?1 AND ?2
           AND status = 'awaiting_payment' AND unique_code IS NOT NULL
         ORDER BY amount_due LIMIT ?3",
        "SELECT amount_due FROM orders
         WHERE amount_due BETWEEN ?1 AND ?2
           AND status = 'awaiting_payment' AND unique_code IS NOT NULL
         ORDER BY amount_due LIMIT ?3",
    );
    let from = from.clamp(lo, hi);
    for (start, end) in [(from, hi), (lo, from - 1)] {
        let mut cursor = start;
        while cursor <= end {
            let taken = db.rows(sql, params![cursor, end, CODE_WINDOW_LEN], |row| row.int(0))?;
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
struct NewOrderRow<'a> {
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
    amount_due: Money,
    unique_code: Option<i64>,
}

/// Writes a new order's rows (the order, its lines, the placement event, its timers) statement
/// by statement; returns its id, or `None` (having written nothing) when its amount due is taken
/// by another order awaiting payment. SQLite runs these in-process, so a statement costs little.
fn insert_order_rows(
    db: &mut dyn Db,
    head: &NewOrderRow<'_>,
    items: &[OrderItem],
    timers: &[NewTimer],
) -> DbResult<Option<OrderId>> {
    let id = db
        .row(
            "INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code)
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING RETURNING id",
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
                head.unique_code
            ],
            |row| row.int(0),
        )?
        .map(OrderId);
    let Some(id) = id else {
        return Ok(None);
    };
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
    timers: &[NewTimer],
) -> DbResult<Option<(OrderId, Vec<String>)>> {
    let lines = serde_json::Value::Array(
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
            .collect(),
    )
    .to_string();
    let timers = serde_json::Value::Array(
        timers
            .iter()
            .map(|timer| {
                serde_json::json!({"due_at": timer.due_at_ms, "kind": timer.kind.as_str(), "step": timer.step, "ordinal": timer.ordinal})
            })
            .collect(),
    )
    .to_string();
    let inserted = db
        .row(
            "WITH o AS (
                 INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?10, ?11, ?12, ?13)
                 ON CONFLICT DO NOTHING RETURNING id),
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
                head.unique_code
            ],
            |row| Ok((row.int(0)?, row.text(1)?)),
        )?;
    Ok(inserted.map(|(id, webhooks)| {
        let webhooks = webhooks.split_whitespace().map(str::to_owned).collect();
        (OrderId(id), webhooks)
    }))
}

/// An order's lines as held (with their names and prices), the products' tips, and the total.
type Held = (Vec<OrderItem>, Vec<Option<String>>, Money);

/// Holds the stock of an order's lines, or refuses the order having changed nothing. Returns the
/// lines as ordered (with their names and prices), the products' tips, and the total.
fn hold_stock(
    db: &mut dyn Db,
    lines: &[crate::NewOrderLine],
) -> DbResult<Result<Held, PlaceError>> {
    let line_item = |product: &Product, line: &crate::NewOrderLine| OrderItem {
        sku: line.sku.clone(),
        name: product.name.clone(),
        unit_price: product.price,
        qty: line.qty,
        hold: HoldState::Held,
    };
    if let [line] = lines {
        // One line, the common case: the conditional update is the check and the hold at once
        // (one statement); when it changes nothing, a read says why.
        let qty = line.qty.units();
        let held = db.row(
            "UPDATE products SET reserved = reserved + ?1
             WHERE sku = ?2 AND on_hand - reserved >= ?1 AND price > 0
             RETURNING sku, name, price, on_hand, reserved, tips",
            params![qty, line.sku.as_str()],
            read_product,
        )?;
        let Some(product) = held else {
            return Ok(Err(match product_row(db, &line.sku)? {
                None => PlaceError::UnknownSku {
                    sku: line.sku.clone(),
                },
                Some(product) if product.available < qty => PlaceError::OutOfStock {
                    sku: line.sku.clone(),
                    requested: qty,
                    available: product.available,
                },
                Some(_) => PlaceError::ZeroTotal,
            }));
        };
        let total = product
            .price
            .checked_mul(qty)
            .expect("price and quantity are bounded");
        return Ok(Ok((
            vec![line_item(&product, line)],
            vec![product.tips.clone()],
            total,
        )));
    }

    // Several lines: decide before writing anything. The products are read with their rows
    // locked, in SKU order (so two orders for the same products never wait on each other in a
    // cycle); what is read here still holds when the holds are written below, and a refused
    // order leaves nothing to undo.
    let mut products: BTreeMap<&Sku, Option<Product>> = BTreeMap::new();
    for line in lines {
        products.insert(&line.sku, None);
    }
    for (sku, product) in products.iter_mut() {
        *product = product_for_update(db, sku)?;
    }
    let mut wanted: BTreeMap<&Sku, i64> = BTreeMap::new();
    let mut items = Vec::with_capacity(lines.len());
    let mut tips = Vec::with_capacity(lines.len());
    let mut total = Money::ZERO;
    for line in lines {
        let qty = line.qty.units();
        let Some(product) = products[&line.sku].as_ref() else {
            return Ok(Err(PlaceError::UnknownSku {
                sku: line.sku.clone(),
            }));
        };
        let wanted = wanted.entry(&line.sku).or_insert(0);
        *wanted += qty;
        if product.available < *wanted {
            return Ok(Err(PlaceError::OutOfStock {
                sku: line.sku.clone(),
                requested: qty,
                available: product.available - (*wanted - qty),
            }));
        }
        let line_total = product
            .price
            .checked_mul(qty)
            .expect("price and quantity are bounded");
        total = total
            .checked_add(line_total)
            .expect("order size is bounded");
        tips.push(product.tips.clone());
        items.push(line_item(product, line));
    }
    if total == Money::ZERO {
        return Ok(Err(PlaceError::ZeroTotal));
    }
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
    Ok(Ok((items, tips, total)))
}

/// A timer to write: due time, kind, and for reminders the cadence step and ordinal.
/// A timer to write: when it is due (ms), what it does, and for a reminder its cadence step and
/// its number among the order's reminders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewTimer {
    pub due_at_ms: i64,
    pub kind: TimerKind,
    pub step: Option<i64>,
    pub ordinal: Option<i64>,
}

impl NewTimer {
    pub(crate) fn expire(due_at_ms: i64) -> NewTimer {
        NewTimer {
            due_at_ms,
            kind: TimerKind::Expire,
            step: None,
            ordinal: None,
        }
    }
}

/// The reminders of an order paid by `method`, placed at `placed_at` and due by `deadline`,
/// from the store's cadence and quiet hours (none for COD).
fn scheduled_reminders(
    settings: &Settings,
    method: PaymentMethod,
    placed_at: Timestamp,
    deadline: Option<Timestamp>,
) -> Vec<lunas_core::reminders::ScheduledReminder> {
    match settings.reminders.for_method(method) {
        Some(cadence) => lunas_core::reminders::schedule(
            cadence,
            placed_at,
            deadline,
            settings.quiet_hours.as_ref(),
            &settings.time_zone(),
        ),
        None => Vec::new(),
    }
}

/// An order's timers for the deadline `deadline`: its release (slow methods get their grace
/// before the hold is released; the buyer is told the deadline) and `reminders`, numbered from
/// `first_ordinal`.
fn deadline_timers(
    settings: &Settings,
    method: PaymentMethod,
    deadline: Option<Timestamp>,
    reminders: &[lunas_core::reminders::ScheduledReminder],
    first_ordinal: i64,
) -> Vec<NewTimer> {
    let expiry = deadline.map(|deadline| {
        let expires_at = settings.payments.expires_at(method, deadline);
        NewTimer::expire(millis(expires_at))
    });
    let reminders = reminders.iter().enumerate().map(|(n, reminder)| NewTimer {
        due_at_ms: millis(reminder.due),
        kind: TimerKind::Remind,
        step: Some(reminder.step as i64),
        ordinal: Some(first_ordinal + n as i64),
    });
    expiry.into_iter().chain(reminders).collect()
}

/// Writes an order's timers, up to four rows per statement (one round trip for the usual
/// expiry plus reminders).
pub(crate) fn insert_timers(db: &mut dyn Db, order: OrderId, timers: &[NewTimer]) -> DbResult<()> {
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
                Val::Int(timer.due_at_ms),
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

#[allow(clippy::too_many_arguments)]
pub(crate) fn cancel_order(
    db: &mut dyn Db,
    id: OrderId,
    reason: &str,
    actor: &Actor,
    by: CancelledBy,
    now: Timestamp,
    messaging: &Messaging,
) -> DbResult<Result<Order, OrderOpError>> {
    let Some((status, _, _, _)) = order_money_for_update(db, id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    if let Err(e) = decide_cancel(status) {
        return Ok(Err(e.into()));
    }
    let now = millis(now);
    db.execute(
        "UPDATE orders SET status = 'cancelled', updated_at = ?2, ended_at = ?2, cancelled_by = ?3 WHERE id = ?1",
        params![id.0, now, by.as_str()],
    )?;
    stop_awaiting(db, id)?;
    end_holds(db, id, HoldState::Released)?;
    count_outcome(db, id, Ended::CancelledBy(by))?;
    insert_event(
        db,
        id,
        now,
        actor,
        Some(status),
        OrderStatus::Cancelled,
        Some(reason),
    )?;
    let order = load_order(db, id)?.expect("the order was just read");
    enqueue(db, messaging, MessageKind::Cancelled, None, &order, now)?;
    Ok(Ok(order))
}

/// Gives an order awaiting payment a later deadline: its release and its reminders are
/// scheduled again from the new deadline (reminders already written stay; the steps still ahead
/// are due from now on), and the change is an event of the order.
pub(crate) fn extend_deadline(
    db: &mut dyn Db,
    id: OrderId,
    to: Timestamp,
    reason: &str,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
) -> DbResult<Result<Order, OrderOpError>> {
    let Some((status, pay_by, placed_at, method)) = db.row(
        "SELECT status, pay_by, placed_at, payment_method FROM orders WHERE id = ?1 FOR NO KEY UPDATE",
        params![id.0],
        |row| {
            let method = row.text(3)?;
            Ok((
                status_of(&row.text(0)?)?,
                row.opt_int(1)?.map(timestamp).transpose()?,
                timestamp(row.int(2)?)?,
                PaymentMethod::parse(&method).ok_or_else(|| corrupt("payment method", &method))?,
            ))
        },
    )?
    else {
        return Ok(Err(OrderOpError::NotFound));
    };
    if let Err(e) = lunas_core::order::decide_extension(status, pay_by, to, now) {
        return Ok(Err(OrderOpError::Extend(e)));
    }
    let settings = &messaging.settings;
    let written = db.scalar(
        "SELECT COUNT(*) FROM messages WHERE order_id = ?1 AND kind = 'reminder'",
        params![id.0],
    )?;
    let mut ahead = scheduled_reminders(settings, method, placed_at, Some(to));
    ahead.retain(|reminder| reminder.due > now);
    let timers = deadline_timers(settings, method, Some(to), &ahead, written + 1);
    let now_ms = millis(now);
    db.execute(
        "UPDATE orders SET pay_by = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, millis(to), now_ms],
    )?;
    db.execute("DELETE FROM timers WHERE order_id = ?1", params![id.0])?;
    insert_timers(db, id, &timers)?;
    let why = format!("deadline moved to {to}: {reason}");
    insert_event(db, id, now_ms, actor, Some(status), status, Some(&why))?;
    Ok(Ok(load_order(db, id)?.expect("the order was just read")))
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
pub(crate) type OrderMoney = (OrderStatus, Money, Money, Option<Money>);

pub(crate) fn order_money_for_update(db: &mut dyn Db, id: OrderId) -> DbResult<Option<OrderMoney>> {
    db.row(
        "SELECT status, COALESCE(amount_due, total), amount_paid, deposit FROM orders WHERE id = ?1 FOR NO KEY UPDATE",
        params![id.0],
        |row| {
            Ok((
                status_of(&row.text(0)?)?,
                Money::from_stored(row.int(1)?),
                Money::from_stored(row.int(2)?),
                row.opt_int(3)?.map(Money::from_stored),
            ))
        },
    )
}

/// Moves every line of the order that still holds stock to `to` (released or converted) and
/// adjusts the product counters, in SKU order. The `hold = 'held'` guard makes this happen once
/// per line.
pub(crate) fn end_holds(db: &mut dyn Db, id: OrderId, to: HoldState) -> DbResult<()> {
    let mut stock = StockChanges::new();
    end_holds_into(db, id, to, &mut stock)?;
    apply_stock_changes(db, &stock)
}

/// Units to take off each product's `reserved` and `on_hand` counters, by SKU.
pub(crate) type StockChanges = BTreeMap<String, (i64, i64)>;

/// What a batch of expiries changes in rows other transactions also change — product counters,
/// buyers' expired counts — applied once, at the end of the batch, in key order (products by SKU,
/// then buyers by id), so that concurrent batches and payments never wait on each other in a
/// cycle.
#[derive(Default)]
struct BatchChanges {
    stock: StockChanges,
    expired_by_customer: BTreeMap<i64, i64>,
}

impl BatchChanges {
    fn absorb(&mut self, other: BatchChanges) {
        for (sku, (reserved, on_hand)) in other.stock {
            let change = self.stock.entry(sku).or_default();
            change.0 += reserved;
            change.1 += on_hand;
        }
        for (customer, expired) in other.expired_by_customer {
            *self.expired_by_customer.entry(customer).or_default() += expired;
        }
    }

    fn apply(&self, db: &mut dyn Db) -> DbResult<()> {
        apply_stock_changes(db, &self.stock)?;
        for (customer, expired) in &self.expired_by_customer {
            db.execute(
                "UPDATE customers SET orders_expired = orders_expired + ?2 WHERE id = ?1",
                params![*customer, *expired],
            )?;
        }
        Ok(())
    }
}

/// `end_holds` without touching the products yet: the counter changes are added to `stock`, to
/// be applied by `apply_stock_changes`. A batch of expiries applies them once, at its end, in
/// SKU order: one update per product instead of one per order, and the product rows are locked
/// last and always in the same order, so concurrent batches never deadlock on them.
pub(crate) fn end_holds_into(
    db: &mut dyn Db,
    id: OrderId,
    to: HoldState,
    stock: &mut StockChanges,
) -> DbResult<()> {
    let ended: Vec<(String, i64)> = db.rows(
        "UPDATE order_items SET hold = ?2 WHERE order_id = ?1 AND hold = 'held' RETURNING sku, qty",
        params![id.0, to.as_str()],
        |row| Ok((row.text(0)?, row.int(1)?)),
    )?;
    for (sku, qty) in ended {
        let change = stock.entry(sku).or_default();
        change.0 += qty;
        match to {
            HoldState::Released => {}
            HoldState::Converted => change.1 += qty,
            HoldState::Held => unreachable!("holds end as released or converted"),
        }
    }
    Ok(())
}

pub(crate) fn apply_stock_changes(db: &mut dyn Db, stock: &StockChanges) -> DbResult<()> {
    for (sku, &(reserved, on_hand)) in stock {
        db.execute(
            "UPDATE products SET reserved = reserved - ?2, on_hand = on_hand - ?3 WHERE sku = ?1",
            params![sku, reserved, on_hand],
        )?;
    }
    Ok(())
}

/// The order stopped awaiting payment (paid, cancelled or expired): its pending timers are
/// deleted (its unique code is free again by itself: see `orders_by_open_amount`), and reminders written but not yet delivered are withdrawn (marked dead with the
/// reason), so none goes out afterwards — not even one that waited for a channel that was down.
pub(crate) fn stop_awaiting(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute("DELETE FROM timers WHERE order_id = ?1", params![id.0])?;
    db.execute(
        "UPDATE messages SET status = 'dead', next_attempt_at = NULL,
             last_error = 'withdrawn: the order no longer awaits payment'
         WHERE order_id = ?1 AND kind = 'reminder' AND status IN ('pending', 'failed')",
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
fn read_customer(row: &Row<'_>, first: usize) -> DbResult<CustomerInfo> {
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
fn load_order_for_message(db: &mut dyn Db, id: OrderId) -> DbResult<Option<Order>> {
    load_order_with(db, id, false)
}

pub(crate) fn load_order_with(
    db: &mut dyn Db,
    id: OrderId,
    history: bool,
) -> DbResult<Option<Order>> {
    let head = db.row(
        "SELECT customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, policy, deposit, deposit_forfeited, amount_due, unique_code, payment_url FROM orders WHERE id = ?1",
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
    )) = head
    else {
        return Ok(None);
    };
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
        status: status_of(&status)?,
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
    }))
}

// ---------------------------------------------------------------------------------------------
// Timers

/// Fires up to `limit` due timers. The batch is taken and deleted by one statement (`DELETE …
/// RETURNING` over the earliest due rows, skipping rows another process holds), then each timer
/// is handled in the same transaction: it fires once, and if the process dies first the
/// transaction is rolled back and the timers are there again for another process. A timer whose
/// order another transaction holds right now is put back for the next tick.
///
/// With `isolate`, each timer runs in its own savepoint, so one that fails is put back (retried a
/// minute later) without holding back the others; without it, the first failure fails the whole
/// batch (the caller then retries with `isolate`).
pub(crate) fn fire_due_timers(
    db: &mut dyn Db,
    now: Timestamp,
    limit: usize,
    messaging: &Messaging,
    isolate: bool,
) -> DbResult<FiredTimers> {
    let now_ms = millis(now);
    let mut due = db.rows(
        "DELETE FROM timers WHERE id IN (
             SELECT id FROM timers WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2 FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, order_id, step, ordinal, due_at, attempts",
        params![now_ms, limit as i64],
        |row| {
            Ok(DueTimer {
                id: row.int(0)?,
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
    let reminded = reminder_states(db, &due)?;
    let mut fired = FiredTimers::default();
    let mut batch = BatchChanges::default();
    for timer in due {
        if isolate {
            db.execute("SAVEPOINT timer", params![])?;
        }
        let mut changes = BatchChanges::default();
        let handled = match handle_timer(db, &timer, now, messaging, &reminded, &mut changes) {
            Ok(handled) => {
                if isolate {
                    db.execute("RELEASE timer", params![])?;
                }
                batch.absorb(changes);
                handled
            }
            // A lost race with another transaction is not this timer's fault: the whole batch is
            // run again by the backend.
            Err(e) if e.is_conflict() => return Err(e),
            Err(e) if isolate => {
                db.execute("ROLLBACK TO timer", params![])?;
                db.execute("RELEASE timer", params![])?;
                tracing::error!(timer_id = timer.id, order_id = timer.order_id.0, error = %e, "timer failed; it will be retried");
                put_back(
                    db,
                    &timer,
                    now_ms + TIMER_RETRY_DELAY_MS,
                    timer.attempts + 1,
                )?;
                fired.failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        match handled {
            Handled::Busy => {
                // Not at once: the scheduler would spin on it while the other transaction runs.
                put_back(db, &timer, now_ms + TIMER_BUSY_DELAY_MS, timer.attempts)?;
                fired.busy += 1;
            }
            Handled::Fired => fired.fired += 1,
            Handled::Expired => {
                fired.fired += 1;
                fired.expired += 1;
            }
        }
    }
    batch.apply(db)?;
    Ok(fired)
}

/// Puts a taken timer back, with its own id, to fire at `due_at`.
fn put_back(db: &mut dyn Db, timer: &DueTimer, due_at: i64, attempts: i64) -> DbResult<()> {
    db.execute(
        "INSERT INTO timers (id, due_at, kind, order_id, step, ordinal, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            timer.id,
            due_at,
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
/// payment from a buyer who has not opted out. Reminders that are no longer needed then cost
/// nothing more.
fn reminder_states(
    db: &mut dyn Db,
    due: &[DueTimer],
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
        "SELECT o.id, o.status, c.no_reminders FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id IN (SELECT value FROM json_each(?1))",
        "SELECT o.id, o.status, c.no_reminders FROM orders o JOIN customers c ON c.id = o.customer_id
         WHERE o.id = ANY(CAST(CAST(?1 AS TEXT) AS BIGINT[]))",
    );
    let rows = db.rows(sql, params![&list], |row| {
        let wanted =
            status_of(&row.text(1)?)? == OrderStatus::AwaitingPayment && !row.boolean(2)?;
        Ok((row.int(0)?, wanted))
    })?;
    Ok(rows.into_iter().collect())
}

struct DueTimer {
    id: i64,
    /// As stored: a damaged kind fails this timer alone (it is put back), not its batch.
    kind: String,
    order_id: OrderId,
    step: Option<i64>,
    ordinal: Option<i64>,
    due_at: i64,
    attempts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Done (a reminder written or not needed, an expiry that was moot).
    Fired,
    /// The order expired.
    Expired,
    /// Another transaction holds the order (paying or cancelling it): the timer goes back, due
    /// a second later, when that transaction has decided.
    Busy,
}

fn handle_timer(
    db: &mut dyn Db,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
    reminded: &std::collections::HashMap<i64, bool>,
    changes: &mut BatchChanges,
) -> DbResult<Handled> {
    let id = timer.order_id;
    match TimerKind::parse(&timer.kind) {
        Some(TimerKind::Expire) => {}
        Some(TimerKind::Remind) => {
            if reminded.get(&id.0).copied().unwrap_or(false) {
                send_reminder(db, timer, now, messaging)?;
            }
            return Ok(Handled::Fired);
        }
        None => return Err(corrupt("timer kind", &timer.kind)),
    }
    let row = db.row(
        "SELECT status, pay_by, customer_id, payment_method FROM orders WHERE id = ?1 FOR NO KEY UPDATE SKIP LOCKED",
        params![id.0],
        |row| Ok((row.text(0)?, row.opt_int(1)?, row.int(2)?, row.text(3)?)),
    )?;
    let Some((status, pay_by, customer_id, method)) = row else {
        return Ok(Handled::Busy);
    };
    let status = status_of(&status)?;
    let method = PaymentMethod::parse(&method).ok_or_else(|| corrupt("payment method", &method))?;
    // The hold is released at the deadline plus the method's grace, as the settings say now.
    let expires_at = pay_by
        .map(timestamp)
        .transpose()?
        .map(|deadline| messaging.settings.payments.expires_at(method, deadline));
    match decide_expiry(status, expires_at, now) {
        ExpiryDecision::Expire => {
            let now_ms = millis(now);
            db.execute(
                "UPDATE orders SET status = 'expired', updated_at = ?2, ended_at = ?2 WHERE id = ?1",
                params![id.0, now_ms],
            )?;
            // A deposit was paid and the balance never came: the store's setting says what
            // becomes of it.
            let forfeited = (status == OrderStatus::AwaitingBalance)
                .then(|| messaging.settings.risk.forfeited_deposit.outcome());
            if let Some(outcome) = forfeited {
                db.execute(
                    "UPDATE orders SET deposit_forfeited = ?2 WHERE id = ?1",
                    params![id.0, outcome],
                )?;
            }
            // Reminders still pending for this order are cancelled, not merely ignored. The
            // products' and the buyer's counters change once for the whole batch, at its end.
            stop_awaiting(db, id)?;
            end_holds_into(db, id, HoldState::Released, &mut changes.stock)?;
            *changes.expired_by_customer.entry(customer_id).or_default() += 1;
            insert_event(
                db,
                id,
                now_ms,
                &Actor::system(),
                Some(status),
                OrderStatus::Expired,
                Some(match forfeited {
                    None => "payment deadline passed",
                    Some("kept") => "balance deadline passed; the deposit is kept",
                    Some(_) => "balance deadline passed; the deposit is to be refunded",
                }),
            )?;
            let order = load_order_for_message(db, id)?.expect("the order was just read");
            enqueue(
                db,
                messaging,
                MessageKind::HoldReleased,
                None,
                &order,
                now_ms,
            )?;
            Ok(Handled::Expired)
        }
        ExpiryDecision::NotDue => {
            // The deadline moved later (a longer grace since the order was placed): the timer
            // waits for it rather than leaving the order without one.
            if let Some(expires_at) = expires_at {
                insert_timers(db, id, &[NewTimer::expire(millis(expires_at))])?;
            }
            Ok(Handled::Fired)
        }
        ExpiryDecision::Moot => Ok(Handled::Fired),
    }
}

/// Sends the reminder of a due `remind` timer whose order still awaits payment from a buyer who
/// has not opted out (`reminder_states` checked both in this transaction). A reminder never goes
/// out after the order stopped awaiting payment: a payment committed first deleted this timer;
/// one still running waits for this timer's row and then withdraws the reminder written here.
fn send_reminder(
    db: &mut dyn Db,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
) -> DbResult<()> {
    let order = load_order_for_message(db, timer.order_id)?.expect("the order was just read");
    let step = timer.step.map(|s| (order.payment_method, s as usize));
    let ordinal = timer.ordinal.unwrap_or(1) as usize;
    enqueue_with(
        db,
        messaging,
        MessageKind::Reminder,
        step,
        ordinal,
        &order,
        None,
        None,
        millis(now),
    )
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

// ---------------------------------------------------------------------------------------------
// Messages (the transactional outbox)

/// Writes the lifecycle message `kind` about `order`, if the store has it switched on.
pub(crate) fn enqueue(
    db: &mut dyn Db,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(PaymentMethod, usize)>,
    order: &Order,
    now_ms: i64,
) -> DbResult<()> {
    enqueue_with(db, messaging, kind, step, 0, order, None, None, now_ms)
}

#[allow(clippy::too_many_arguments)]
fn enqueue_with(
    db: &mut dyn Db,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(PaymentMethod, usize)>,
    reminder_number: usize,
    order: &Order,
    known_tips: Option<Vec<Option<String>>>,
    known_webhooks: Option<Vec<String>>,
    now_ms: i64,
) -> DbResult<()> {
    if !messaging.settings.messages.enabled(kind) {
        return Ok(());
    }
    let tips = match known_tips {
        Some(tips) => tips,
        None => {
            let skus: Vec<Sku> = order.items.iter().map(|item| item.sku.clone()).collect();
            product_tips(db, &skus)?
        }
    };
    let context = MessageContext::new(order, &tips, &messaging.settings, reminder_number);
    // Templates are checked when saved, so rendering does not fail; if it ever did, the message is
    // kept as dead with the reason rather than lost or allowed to block the order.
    let (body, status, error) = match messaging.composer.render(kind, step, &context) {
        Ok(body) => (body, MessageStatus::Pending, None),
        Err(e) => (String::new(), MessageStatus::Dead, Some(e.to_string())),
    };
    // WhatsApp through the Cloud API when this server has it and the store wants it (buyers here
    // live on WhatsApp); else email when the server can send it, the store wants it and the buyer
    // gave an address; otherwise the manual WhatsApp queue, which every seller has.
    let whatsapp = messaging.whatsapp_available && messaging.settings.channels.whatsapp;
    let email = order
        .customer
        .email
        .as_deref()
        .filter(|_| messaging.email_available && messaging.settings.channels.email);
    let (channel, recipient, subject) = match email.filter(|_| !whatsapp) {
        None if whatsapp => (
            Channel::Whatsapp,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
        Some(address) => (
            Channel::Email,
            address.to_owned(),
            Some(lunas_core::messages::subject(
                kind,
                order.id,
                messaging.settings.language,
            )),
        ),
        None => (
            Channel::ManualWhatsapp,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
    };
    let id = new_message_id(now_ms);
    let mut rows = vec![MessageRow {
        id: id.clone(),
        kind,
        channel,
        recipient: recipient.clone(),
        subject,
        body: body.clone(),
        status,
        last_error: error,
    }];
    // One webhook delivery per endpoint, so the seller's own systems (a WhatsApp gateway, a CRM)
    // hear of the message. Each delivery has its own stable id, sent as `webhook-id` on every
    // attempt.
    let endpoints = match known_webhooks {
        Some(endpoints) => endpoints,
        None => db.rows(
            "SELECT id FROM webhook_endpoints ORDER BY created_at",
            params![],
            |row| row.text(0),
        )?,
    };
    if !endpoints.is_empty() {
        let payload = serde_json::json!({
            "type": "message.created",
            "timestamp": timestamp(now_ms)?,
            "data": {
                "message_id": id,
                "order_id": order.id.0,
                "kind": kind.as_str(),
                "channel": channel.as_str(),
                "to": recipient,
                "phone": order.customer.phone.as_str(),
                "body": body,
            }
        })
        .to_string();
        for endpoint in endpoints {
            rows.push(MessageRow {
                id: new_message_id(now_ms),
                kind,
                channel: Channel::Webhook,
                recipient: endpoint,
                subject: None,
                body: payload.clone(),
                status: MessageStatus::Pending,
                last_error: None,
            });
        }
    }
    insert_messages(db, order.id, now_ms, &rows)
}

/// A message row to write.
struct MessageRow {
    id: String,
    kind: MessageKind,
    channel: Channel,
    recipient: String,
    subject: Option<String>,
    body: String,
    status: MessageStatus,
    last_error: Option<String>,
}

/// Writes messages about one order: one statement each, or on PostgreSQL all in one statement
/// (their fields travel as JSON).
fn insert_messages(
    db: &mut dyn Db,
    order: OrderId,
    now_ms: i64,
    rows: &[MessageRow],
) -> DbResult<()> {
    if rows.len() > 1 && db.dialect() == Dialect::Postgres {
        let json = serde_json::Value::Array(
            rows.iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id,
                        "kind": m.kind.as_str(),
                        "channel": m.channel.as_str(),
                        "recipient": m.recipient,
                        "subject": m.subject,
                        "body": m.body,
                        "status": m.status.as_str(),
                        "last_error": m.last_error,
                    })
                })
                .collect(),
        )
        .to_string();
        db.execute(
            "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
             SELECT x.id, ?1, x.kind, x.channel, x.recipient, x.subject, x.body, x.status, x.last_error, ?2
             FROM ROWS FROM (jsonb_to_recordset(CAST(CAST(?3 AS TEXT) AS JSONB))
                     AS (id TEXT, kind TEXT, channel TEXT, recipient TEXT, subject TEXT, body TEXT,
                         status TEXT, last_error TEXT))
                 WITH ORDINALITY AS x(id, kind, channel, recipient, subject, body, status, last_error, n)
             ORDER BY x.n",
            params![order.0, now_ms, &json],
        )?;
        return Ok(());
    }
    for m in rows {
        db.execute(
            "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                &m.id,
                order.0,
                m.kind.as_str(),
                m.channel.as_str(),
                &m.recipient,
                &m.subject,
                &m.body,
                m.status.as_str(),
                &m.last_error,
                now_ms
            ],
        )?;
    }
    Ok(())
}

/// The columns `read_message` reads, in its order.
macro_rules! message_columns {
    () => {
        "id, order_id, kind, channel, recipient, subject, body, variant, status, attempts, last_error, created_at, sent_at, sent_by"
    };
}

fn read_message(row: &Row<'_>) -> DbResult<Message> {
    let kind = row.text(2)?;
    let status = row.text(8)?;
    let channel = row.text(3)?;
    let channel = Channel::parse(&channel).ok_or_else(|| corrupt("message channel", &channel))?;
    let recipient = row.text(4)?;
    let body = row.text(6)?;
    // The wa.me link is derived, not stored: it is the body again, three times longer.
    let link = (channel == Channel::ManualWhatsapp).then(|| wa_me_link(&recipient, &body));
    Ok(Message {
        id: row.text(0)?,
        order_id: OrderId(row.int(1)?),
        kind: MessageKind::parse(&kind).ok_or_else(|| corrupt("message kind", &kind))?,
        channel,
        recipient,
        subject: row.opt_text(5)?,
        body,
        link,
        variant: row.opt_text(7)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status", &status))?,
        attempts: row.int(9)?,
        last_error: row.opt_text(10)?,
        created_at: timestamp(row.int(11)?)?,
        sent_at: row.opt_int(12)?.map(timestamp).transpose()?,
        sent_by: row.opt_text(13)?,
    })
}

fn message_for_update(db: &mut dyn Db, id: &str) -> DbResult<Option<Message>> {
    db.row(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE id = ?1 FOR NO KEY UPDATE"
        ),
        params![id],
        read_message,
    )
}

pub(crate) fn order_messages(db: &mut dyn Db, order: OrderId) -> DbResult<Vec<Message>> {
    db.rows(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE order_id = ?1 ORDER BY created_at, rowid"
        ),
        params![order.0],
        read_message,
    )
}

pub(crate) fn messages(
    db: &mut dyn Db,
    channel: Channel,
    status: MessageStatus,
    limit: usize,
) -> DbResult<Vec<Message>> {
    db.rows(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE channel = ?1 AND status = ?2 ORDER BY created_at, rowid LIMIT ?3"
        ),
        params![channel.as_str(), status.as_str(), limit as i64],
        read_message,
    )
}

pub(crate) fn mark_message_sent(
    db: &mut dyn Db,
    id: &str,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<Result<Message, MessageOpError>> {
    let Some(message) = message_for_update(db, id)? else {
        return Ok(Err(MessageOpError::NotFound));
    };
    if message.channel != Channel::ManualWhatsapp {
        return Ok(Err(MessageOpError::NotManual));
    }
    if message.status != MessageStatus::Pending {
        return Ok(Err(MessageOpError::NotPending(message.status.as_str())));
    }
    db.execute(
        "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2, sent_by = ?3 WHERE id = ?1",
        params![id, millis(now), actor.as_str()],
    )?;
    Ok(Ok(
        message_for_update(db, id)?.expect("the message was just read")
    ))
}

pub(crate) fn replay_message(
    db: &mut dyn Db,
    id: &str,
    now: Timestamp,
) -> DbResult<Result<Message, MessageOpError>> {
    let Some(message) = message_for_update(db, id)? else {
        return Ok(Err(MessageOpError::NotFound));
    };
    if message.status != MessageStatus::Dead {
        return Ok(Err(MessageOpError::NotDead(message.status.as_str())));
    }
    db.execute(
        "UPDATE messages SET status = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
        params![id, millis(now)],
    )?;
    Ok(Ok(
        message_for_update(db, id)?.expect("the message was just read")
    ))
}

/// Takes up to `limit` messages of `channels` that are due (pending or failed, next attempt
/// at or before `now`) and leases them until `lease_until`: if this process dies while
/// sending, the lease runs out and they are taken again (at least once; the stable id lets
/// the receiver drop the duplicate). Rows another process is leasing right now are skipped, so
/// several processes drain the outbox side by side without sending a message twice.
pub(crate) fn claim_messages(
    db: &mut dyn Db,
    channels: &[Channel],
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
) -> DbResult<Vec<Message>> {
    let mut claimed = Vec::new();
    for channel in channels {
        let due = db.rows(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages
                 WHERE channel = ?1 AND status IN ('pending', 'failed')
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)
                 ORDER BY created_at, rowid LIMIT ?3 FOR NO KEY UPDATE SKIP LOCKED"
            ),
            params![
                channel.as_str(),
                millis(now),
                (limit - claimed.len()) as i64
            ],
            read_message,
        )?;
        for message in due {
            db.execute(
                "UPDATE messages SET next_attempt_at = ?2 WHERE id = ?1",
                params![&message.id, millis(lease_until)],
            )?;
            claimed.push(message);
        }
        if claimed.len() >= limit {
            break;
        }
    }
    Ok(claimed)
}

/// Records what an attempt to deliver a message did. Only a message still pending or failed
/// changes, so a late report about a message already settled is ignored.
pub(crate) fn record_delivery(
    db: &mut dyn Db,
    id: &str,
    outcome: &Delivery,
    now: Timestamp,
) -> DbResult<()> {
    match outcome {
        Delivery::Sent { variant } => db.execute(
            "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2,
                 last_error = NULL, next_attempt_at = NULL, variant = ?3
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, millis(now), variant],
        )?,
        Delivery::Manual { reason } => db.execute(
            "UPDATE messages SET channel = ?2, status = 'pending', last_error = ?3,
                 attempts = attempts + 1, next_attempt_at = NULL
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, Channel::ManualWhatsapp.as_str(), reason],
        )?,
        Delivery::Retry {
            error,
            next_attempt_at,
        } => db.execute(
            "UPDATE messages SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = ?3
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, error, millis(*next_attempt_at)],
        )?,
        Delivery::Dead { error } => db.execute(
            "UPDATE messages SET status = 'dead', attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = NULL
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, error],
        )?,
    };
    Ok(())
}

/// `https://wa.me/<phone digits>?text=<message>`: opens WhatsApp with the message filled in.
fn wa_me_link(phone: &str, body: &str) -> String {
    format!(
        "https://wa.me/{}?text={}",
        phone.trim_start_matches('+'),
        percent_encoding::utf8_percent_encode(body, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// A message id: `msg_`, the creation time in milliseconds (hex, so ids sort by time and new ones
/// land at the end of the index), and 64 random bits.
fn new_message_id(now_ms: i64) -> String {
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    format!("msg_{:012x}{}", now_ms.max(0), hex::encode(random))
}

// ---------------------------------------------------------------------------------------------
// Buyers

pub(crate) fn set_no_reminders(
    db: &mut dyn Db,
    phone: &Phone,
    no_reminders: bool,
) -> DbResult<Result<(), CustomerNotFound>> {
    let changed = db.execute(
        "UPDATE customers SET no_reminders = ?2 WHERE phone = ?1",
        params![phone.as_str(), no_reminders],
    )?;
    Ok(if changed == 1 {
        Ok(())
    } else {
        Err(CustomerNotFound)
    })
}

pub(crate) fn no_reminders(db: &mut dyn Db, phone: &Phone) -> DbResult<Option<bool>> {
    db.row(
        "SELECT no_reminders FROM customers WHERE phone = ?1",
        params![phone.as_str()],
        |row| row.boolean(0),
    )
}

/// Keeps a buyer's message and notes when the buyer last wrote (for WhatsApp's 24-hour rule).
/// A message already kept (same WhatsApp id) changes nothing. Returns whether it was new.
pub(crate) fn record_inbound(db: &mut dyn Db, inbound: &InboundMessage) -> DbResult<bool> {
    let at = millis(inbound.received_at);
    let inserted = db.execute(
        "INSERT INTO inbound_messages (phone, wa_message_id, body, received_at, raw)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (wa_message_id) DO NOTHING",
        params![
            inbound.phone.as_str(),
            &inbound.wa_message_id,
            &inbound.body,
            at,
            &inbound.raw
        ],
    )?;
    db.execute(
        "UPDATE customers SET last_inbound_at = ?2
         WHERE phone = ?1 AND (last_inbound_at IS NULL OR last_inbound_at < ?2)",
        params![inbound.phone.as_str(), at],
    )?;
    Ok(inserted == 1)
}

pub(crate) fn last_inbound_at(db: &mut dyn Db, phone: &Phone) -> DbResult<Option<Timestamp>> {
    db.row(
        "SELECT last_inbound_at FROM customers WHERE phone = ?1",
        params![phone.as_str()],
        |row| row.opt_int(0),
    )?
    .flatten()
    .map(timestamp)
    .transpose()
}

// ---------------------------------------------------------------------------------------------
// Webhook endpoints, tokens, idempotency keys, settings

pub(crate) fn create_webhook(
    db: &mut dyn Db,
    endpoint: &WebhookEndpoint,
    actor: &Actor,
) -> DbResult<()> {
    crate::accounts::audit_line(
        db,
        actor.as_str(),
        lunas_core::AuditAction::WebhookAdd,
        &endpoint.url,
        &serde_json::json!({ "id": endpoint.id }),
        endpoint.created_at,
    )?;
    db.execute(
        "INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            &endpoint.id,
            &endpoint.url,
            &endpoint.secret,
            millis(endpoint.created_at)
        ],
    )?;
    Ok(())
}

pub(crate) fn webhooks(db: &mut dyn Db) -> DbResult<Vec<WebhookEndpoint>> {
    db.rows(
        "SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY created_at",
        params![],
        |row| {
            Ok(WebhookEndpoint {
                id: row.text(0)?,
                url: row.text(1)?,
                secret: row.text(2)?,
                created_at: timestamp(row.int(3)?)?,
            })
        },
    )
}

/// Removes an endpoint; deliveries still queued for it go dead when their turn comes.
/// Deletes an endpoint (in the audit log when there was one); whether there was.
pub(crate) fn delete_webhook(
    db: &mut dyn Db,
    id: &str,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<bool> {
    let url = db.row(
        "DELETE FROM webhook_endpoints WHERE id = ?1 RETURNING url",
        params![id],
        |row| row.text(0),
    )?;
    let Some(url) = url else {
        return Ok(false);
    };
    crate::accounts::audit_line(
        db,
        actor.as_str(),
        lunas_core::AuditAction::WebhookDelete,
        &url,
        &serde_json::json!({ "id": id }),
        now,
    )?;
    Ok(true)
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

pub(crate) fn create_api_token(
    db: &mut dyn Db,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, token_hash, millis(now)],
    )?;
    Ok(())
}

/// The API tokens by name: when the first of that name was made, and how many there are.
pub(crate) fn api_tokens(db: &mut dyn Db) -> DbResult<Vec<ApiToken>> {
    db.rows(
        "SELECT name, MIN(created_at), COUNT(*) FROM api_tokens GROUP BY name ORDER BY name",
        params![],
        |row| {
            Ok(ApiToken {
                name: row.text(0)?,
                created_at: timestamp(row.int(1)?)?,
                count: row.int(2)?,
            })
        },
    )
}

/// Deletes every token named `name`; returns how many there were. Each request reads its token
/// from the table, so a revoked token stops working at its next request, in every process.
pub(crate) fn revoke_api_token(
    db: &mut dyn Db,
    name: &str,
    actor: &str,
    now: Timestamp,
) -> DbResult<u64> {
    let revoked = db.execute("DELETE FROM api_tokens WHERE name = ?1", params![name])?;
    if revoked > 0 {
        crate::accounts::audit_line(
            db,
            actor,
            lunas_core::AuditAction::TokenRevoke,
            name,
            &serde_json::json!({ "tokens": revoked }),
            now,
        )?;
    }
    Ok(revoked)
}

pub(crate) fn api_token_name(db: &mut dyn Db, token_hash: &str) -> DbResult<Option<String>> {
    db.row(
        "SELECT name FROM api_tokens WHERE token_hash = ?1",
        params![token_hash],
        |row| row.text(0),
    )
}

pub(crate) fn settings_json(db: &mut dyn Db) -> DbResult<Option<String>> {
    db.row(
        "SELECT value FROM settings WHERE name = ?1",
        params![SETTINGS_NAME],
        |row| row.text(0),
    )
}

pub(crate) fn put_settings(db: &mut dyn Db, settings: &Settings) -> DbResult<()> {
    let raw = serde_json::to_string(settings).expect("settings always serialise");
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![SETTINGS_NAME, &raw],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Checks

pub(crate) fn consistency_report(db: &mut dyn Db) -> DbResult<Vec<String>> {
    let mut problems = Vec::new();
    for (sku, counted, held) in db.rows(
        "SELECT p.sku, p.reserved, CAST(COALESCE(SUM(i.qty), 0) AS BIGINT) FROM products p
         LEFT JOIN order_items i ON i.sku = p.sku AND i.hold = 'held'
         GROUP BY p.sku HAVING p.reserved != COALESCE(SUM(i.qty), 0)",
        params![],
        |r| Ok((r.text(0)?, r.int(1)?, r.int(2)?)),
    )? {
        problems.push(format!(
            "{sku}: reserved is {counted} but held lines add up to {held}"
        ));
    }
    for (id, status, hold) in db.rows(
        "SELECT o.id, o.status, i.hold FROM orders o JOIN order_items i ON i.order_id = o.id
         WHERE (o.status IN ('awaiting_payment', 'awaiting_balance') AND i.hold != 'held')
            OR (o.status = 'paid' AND i.hold != 'converted')
            OR (o.status IN ('expired', 'cancelled', 'paid_needs_refund') AND i.hold != 'released')",
        params![],
        |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?)),
    )? {
        problems.push(format!(
            "order {id} is {status} but a line's hold is {hold}"
        ));
    }
    for sku in db.rows(
        "SELECT sku FROM products WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand",
        params![],
        |r| r.text(0),
    )? {
        problems.push(format!("{sku}: stock counters out of range"));
    }
    for id in db.rows(
        "SELECT o.id FROM orders o WHERE o.status IN ('awaiting_payment', 'awaiting_balance') AND o.pay_by IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.order_id = o.id AND t.kind = 'expire')",
        params![],
        |r| r.int(0),
    )? {
        problems.push(format!(
            "order {id} awaits payment with a deadline but has no expiry timer"
        ));
    }
    Ok(problems)
}

pub(crate) fn totals(db: &mut dyn Db) -> DbResult<Totals> {
    Ok(Totals {
        products: db.scalar("SELECT COUNT(*) FROM products", params![])?,
        customers: db.scalar("SELECT COUNT(*) FROM customers", params![])?,
        orders: db.scalar("SELECT COUNT(*) FROM orders", params![])?,
        events: db.scalar("SELECT COUNT(*) FROM order_events", params![])?,
        payments: db.scalar("SELECT COUNT(*) FROM payments", params![])?,
        timers: db.scalar("SELECT COUNT(*) FROM timers", params![])?,
        payments_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payments",
            params![],
        )?,
        on_hand_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM products",
            params![],
        )?,
        reserved_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM products",
            params![],
        )?,
    })
}

// ---------------------------------------------------------------------------------------------
// Buyer reliability

/// The columns `read_profile` reads, in its order.
macro_rules! profile_columns {
    () => {
        "id, phone, name, email, honorific, orders_placed, orders_paid, orders_expired,
         orders_cancelled_by_buyer, orders_cancelled_by_seller, cod_refused, returns, amount_paid,
         first_order_at, last_order_at, band_pin, band_reason, notes, tags, no_reminders"
    };
}

fn read_profile(row: &Row<'_>) -> DbResult<CustomerProfile> {
    let pin = match (row.opt_text(15)?, row.opt_text(16)?) {
        (Some(band), reason) => Some(Pin {
            band: Band::parse(&band).ok_or_else(|| corrupt("band", &band))?,
            reason: reason.unwrap_or_default(),
        }),
        (None, _) => None,
    };
    let tags = row.text(18)?;
    Ok(CustomerProfile {
        id: row.int(0)?,
        info: read_customer(row, 1)?,
        record: Record {
            orders_placed: row.int(5)?,
            orders_paid: row.int(6)?,
            orders_expired: row.int(7)?,
            orders_cancelled_by_buyer: row.int(8)?,
            orders_cancelled_by_seller: row.int(9)?,
            cod_refused: row.int(10)?,
            returns: row.int(11)?,
            amount_paid: row.int(12)?,
            first_order_at: row.opt_int(13)?.map(timestamp).transpose()?,
            last_order_at: row.opt_int(14)?.map(timestamp).transpose()?,
        },
        pin,
        notes: row.opt_text(17)?,
        tags: serde_json::from_str(&tags).map_err(|_| corrupt("tags", &tags))?,
        no_reminders: row.boolean(19)?,
        history: Vec::new(),
    })
}

/// The buyer's finished orders, most recent first (`HISTORY_LEN` at most). Orders the seller
/// cancelled are not the buyer's doing and are left out.
fn history(db: &mut dyn Db, customer_id: i64) -> DbResult<Vec<PastOrder>> {
    let rows = db.rows(
        "SELECT status, ended_at, cancelled_by FROM orders
         WHERE customer_id = ?1 AND ended_at IS NOT NULL
         ORDER BY ended_at DESC, id DESC LIMIT ?2",
        params![customer_id, HISTORY_LEN as i64],
        |row| Ok((row.text(0)?, row.int(1)?, row.opt_text(2)?)),
    )?;
    let mut past = Vec::with_capacity(rows.len());
    for (status, ended_at, cancelled_by) in rows {
        let outcome = match (status_of(&status)?, cancelled_by.as_deref()) {
            (OrderStatus::Paid | OrderStatus::PaidNeedsRefund, _) => Outcome::Paid,
            (OrderStatus::Expired, _) | (OrderStatus::Cancelled, Some("buyer")) => Outcome::Unpaid,
            _ => continue,
        };
        past.push(PastOrder {
            ended_at: timestamp(ended_at)?,
            outcome,
        });
    }
    Ok(past)
}

/// Everything lunas knows of a buyer's reliability, with their recent history.
pub(crate) fn customer_profile(
    db: &mut dyn Db,
    phone: &Phone,
) -> DbResult<Option<CustomerProfile>> {
    let profile = db.row(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers WHERE phone = ?1"
        ),
        params![phone.as_str()],
        read_profile,
    )?;
    with_history(db, profile)
}

/// The profile with its history filled in.
fn with_history(
    db: &mut dyn Db,
    profile: Option<CustomerProfile>,
) -> DbResult<Option<CustomerProfile>> {
    let Some(mut profile) = profile else {
        return Ok(None);
    };
    profile.history = history(db, profile.id)?;
    Ok(Some(profile))
}

/// Buyers by id, after `after`, with their histories.
pub(crate) fn customer_profiles(
    db: &mut dyn Db,
    after: i64,
    limit: usize,
) -> DbResult<Vec<CustomerProfile>> {
    let mut profiles = db.rows(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2"
        ),
        params![after, limit as i64],
        read_profile,
    )?;
    for profile in &mut profiles {
        profile.history = history(db, profile.id)?;
    }
    Ok(profiles)
}

/// A line of the audit log about a buyer.
fn audit(
    db: &mut dyn Db,
    actor: &Actor,
    action: lunas_core::AuditAction,
    phone: &Phone,
    detail: serde_json::Value,
    now: Timestamp,
) -> DbResult<()> {
    crate::accounts::audit_line(db, actor.as_str(), action, phone.as_str(), &detail, now)
}

/// Pins a buyer to a band (or, with `None`, lets the score decide again), creating the buyer's
/// record when the number never ordered: that is how a number is blocked in advance.
pub(crate) fn pin_band(
    db: &mut dyn Db,
    phone: &Phone,
    pin: Option<&Pin>,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO customers (phone, name, created_at, updated_at, band_pin, band_reason)
         VALUES (?1, '', ?2, ?2, ?3, ?4)
         ON CONFLICT (phone) DO UPDATE
         SET band_pin = excluded.band_pin, band_reason = excluded.band_reason,
             updated_at = excluded.updated_at",
        params![
            phone.as_str(),
            millis(now),
            pin.map(|p| p.band.as_str()),
            pin.map(|p| p.reason.as_str())
        ],
    )?;
    audit(
        db,
        actor,
        lunas_core::AuditAction::CustomerBand,
        phone,
        serde_json::json!({
            "band": pin.map(|p| p.band.as_str()),
            "reason": pin.map(|p| p.reason.as_str()),
        }),
        now,
    )
}

/// Replaces a buyer's notes and/or tags.
pub(crate) fn set_notes_tags(
    db: &mut dyn Db,
    phone: &Phone,
    notes: Option<Option<&str>>,
    tags: Option<&[String]>,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<Result<(), CustomerNotFound>> {
    let exists = db.row(
        "SELECT id FROM customers WHERE phone = ?1 FOR NO KEY UPDATE",
        params![phone.as_str()],
        |row| row.int(0),
    )?;
    if exists.is_none() {
        return Ok(Err(CustomerNotFound));
    }
    if let Some(notes) = notes {
        db.execute(
            "UPDATE customers SET notes = ?2, updated_at = ?3 WHERE phone = ?1",
            params![phone.as_str(), notes, millis(now)],
        )?;
    }
    let tags_json = tags.map(|tags| serde_json::to_string(tags).expect("tags serialise"));
    if let Some(tags_json) = &tags_json {
        db.execute(
            "UPDATE customers SET tags = ?2, updated_at = ?3 WHERE phone = ?1",
            params![phone.as_str(), tags_json, millis(now)],
        )?;
    }
    audit(
        db,
        actor,
        lunas_core::AuditAction::CustomerNotes,
        phone,
        serde_json::json!({"notes": notes, "tags": tags}),
        now,
    )?;
    Ok(Ok(()))
}

/// The store's own paid and unpaid finished orders over all buyers: the prior of every score.
pub(crate) fn base_rate(db: &mut dyn Db) -> DbResult<BaseRate> {
    Ok(db
        .row(
            "SELECT CAST(COALESCE(SUM(orders_paid), 0) AS BIGINT),
                    CAST(COALESCE(SUM(orders_expired + orders_cancelled_by_buyer + cod_refused), 0) AS BIGINT)
             FROM customers",
            params![],
            |row| {
                Ok(BaseRate {
                    paid: row.int(0)?,
                    unpaid: row.int(1)?,
                })
            },
        )?
        .unwrap_or_default())
}

/// Every buyer's record, by phone (for `reputation rebuild` checks and tests).
pub(crate) fn reliability_records(db: &mut dyn Db) -> DbResult<Vec<(String, Record)>> {
    db.rows(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers ORDER BY phone"
        ),
        params![],
        |row| {
            let profile = read_profile(row)?;
            Ok((profile.info.phone.as_str().to_owned(), profile.record))
        },
    )
}

/// Recomputes every buyer's record from their orders and payments, in one transaction; returns
/// how many buyers it covered. The result is what the incremental updates keep.
pub(crate) fn rebuild_reputation(db: &mut dyn Db) -> DbResult<usize> {
    db.execute(
        "UPDATE customers SET orders_placed = 0, orders_paid = 0, orders_expired = 0,
             orders_cancelled_by_buyer = 0, orders_cancelled_by_seller = 0, amount_paid = 0,
             first_order_at = NULL, last_order_at = NULL",
        params![],
    )?;
    db.execute(
        "UPDATE customers SET
             orders_placed = agg.placed, orders_paid = agg.paid, orders_expired = agg.expired,
             orders_cancelled_by_buyer = agg.by_buyer, orders_cancelled_by_seller = agg.by_seller,
             first_order_at = agg.first_at, last_order_at = agg.last_at
         FROM (SELECT customer_id,
                      COUNT(*) AS placed,
                      SUM(CASE WHEN status IN ('paid', 'paid_needs_refund') THEN 1 ELSE 0 END) AS paid,
                      SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END) AS expired,
                      SUM(CASE WHEN status = 'cancelled' AND cancelled_by = 'buyer' THEN 1 ELSE 0 END) AS by_buyer,
                      SUM(CASE WHEN status = 'cancelled' AND cancelled_by = 'seller' THEN 1 ELSE 0 END) AS by_seller,
                      MIN(placed_at) AS first_at, MAX(placed_at) AS last_at
               FROM orders GROUP BY customer_id) AS agg
         WHERE agg.customer_id = customers.id",
        params![],
    )?;
    db.execute(
        "UPDATE customers SET amount_paid = agg.paid
         FROM (SELECT o.customer_id, SUM(p.amount) AS paid
               FROM payments p JOIN orders o ON o.id = p.order_id GROUP BY o.customer_id) AS agg
         WHERE agg.customer_id = customers.id",
        params![],
    )?;
    Ok(db.scalar("SELECT COUNT(*) FROM customers", params![])? as usize)
}

// ---------------------------------------------------------------------------------------------
// Privacy: the privacy key, export and erasure

const PRIVACY_KEY: &str = "privacy_key";
const LOGIN_KEY: &str = "login_key";

/// The database's privacy key (hex), created on first use. Every process on the database uses the
/// same one, so an erased number is recognised whichever process sees it again.
pub(crate) fn privacy_key(db: &mut dyn Db) -> DbResult<String> {
    secret(db, PRIVACY_KEY)
}

/// The key the sign-in form's tokens are signed with (hex), created on first use and shared by
/// every process on the database.
pub(crate) fn login_key(db: &mut dyn Db) -> DbResult<String> {
    secret(db, LOGIN_KEY)
}

/// A random 256-bit secret kept in the database under `name`, created on first use.
fn secret(db: &mut dyn Db, name: &'static str) -> DbResult<String> {
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
    db.execute(
        "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, &hex::encode(fresh)],
    )?;
    db.row(
        "SELECT value FROM secrets WHERE name = ?1",
        params![name],
        |row| row.text(0),
    )?
    .ok_or_else(|| DbError::Corrupt(format!("the secret {name} is missing")))
}

/// The record an erased buyer left behind, found by the HMAC of their number.
pub(crate) fn erased_profile(
    db: &mut dyn Db,
    phone_hmac: &str,
) -> DbResult<Option<CustomerProfile>> {
    // The latest, if the number was erased more than once; picked here, not by `ORDER BY id`,
    // which can make SQLite walk the whole table by rowid instead of using the index.
    let profile = db
        .rows(
            concat!(
                "SELECT ",
                profile_columns!(),
                " FROM customers WHERE phone_hmac = ?1 AND erased_at IS NOT NULL"
            ),
            params![phone_hmac],
            read_profile,
        )?
        .into_iter()
        .max_by_key(|profile| profile.id);
    with_history(db, profile)
}

/// A buyer's profile and the record an earlier erasure of the same number left behind, if any.
pub(crate) fn customer_and_erased(
    db: &mut dyn Db,
    phone: &Phone,
    phone_hmac: &str,
) -> DbResult<(Option<CustomerProfile>, Option<CustomerProfile>)> {
    Ok((
        customer_profile(db, phone)?,
        erased_profile(db, phone_hmac)?,
    ))
}

/// Where the buyer of a new order stands, and where the record an earlier erasure of the number
/// left stands: one lean query for both (each by its own index — an `ORDER BY id` here once made
/// SQLite walk the whole table by rowid instead), and the histories only of records with finished
/// orders. Placing an order runs this first, on the writer, so it reads no more than it needs.
fn standings(
    db: &mut dyn Db,
    phone: &Phone,
    phone_hmac: &str,
) -> DbResult<(Option<crate::Standing>, Option<crate::Standing>)> {
    let rows = db.rows(
        "SELECT id, band_pin, band_reason,
                orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused,
                CAST(0 AS BIGINT)
         FROM customers WHERE phone = ?1
         UNION ALL
         SELECT id, band_pin, band_reason,
                orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused,
                CAST(1 AS BIGINT)
         FROM customers WHERE phone_hmac = ?2 AND erased_at IS NOT NULL",
        params![phone.as_str(), phone_hmac],
        |row| {
            let pin = match row.opt_text(1)? {
                Some(band) => Some(Pin {
                    band: Band::parse(&band).ok_or_else(|| corrupt("band", &band))?,
                    reason: row.opt_text(2)?.unwrap_or_default(),
                }),
                None => None,
            };
            Ok((row.int(0)?, pin, row.int(3)?, row.int(4)? == 1))
        },
    )?;
    let (mut own, mut erased): (Option<crate::Standing>, Option<(i64, crate::Standing)>) =
        (None, None);
    for (id, pin, finished, is_erased) in rows {
        let history = if finished > 0 {
            history(db, id)?
        } else {
            Vec::new()
        };
        let standing = crate::Standing { pin, history };
        if !is_erased {
            own = Some(standing);
        } else if erased.as_ref().is_none_or(|(latest, _)| *latest < id) {
            // A number erased more than once: the latest record counts.
            erased = Some((id, standing));
        }
    }
    Ok((own, erased.map(|(_, standing)| standing)))
}

/// Everything lunas holds about one buyer.
pub(crate) fn customer_export(
    db: &mut dyn Db,
    phone: &Phone,
) -> DbResult<Option<crate::CustomerExport>> {
    let Some(profile) = customer_profile(db, phone)? else {
        return Ok(None);
    };
    let ids = db.rows(
        "SELECT id FROM orders WHERE customer_id = ?1 ORDER BY id",
        params![profile.id],
        |row| row.int(0),
    )?;
    let mut orders = Vec::with_capacity(ids.len());
    let mut messages = Vec::new();
    for id in ids {
        orders.push(load_order(db, OrderId(id))?.expect("listed orders exist"));
        messages.extend(order_messages(db, OrderId(id))?);
    }
    let inbound = db.rows(
        "SELECT wa_message_id, body, received_at FROM inbound_messages WHERE phone = ?1 ORDER BY received_at, id",
        params![phone.as_str()],
        |row| {
            Ok(crate::InboundRecord {
                wa_message_id: row.text(0)?,
                body: row.opt_text(1)?,
                received_at: timestamp(row.int(2)?)?,
            })
        },
    )?;
    let audit = db.rows(
        "SELECT at, actor, action, detail FROM audit_log WHERE subject = ?1 ORDER BY id",
        params![phone.as_str()],
        |row| {
            let detail = row.text(3)?;
            Ok(crate::AuditEntry {
                at: timestamp(row.int(0)?)?,
                actor: row.text(1)?,
                action: row.text(2)?,
                detail: serde_json::from_str(&detail)
                    .map_err(|_| corrupt("audit detail", &detail))?,
            })
        },
    )?;
    Ok(Some(crate::CustomerExport {
        profile,
        orders,
        messages,
        inbound,
        audit,
    }))
}

/// Erases a buyer: name, phone, email, notes, and the text of every message to and from them are
/// removed or replaced; the orders and money stay, under the pseudonym `erased-<hmac prefix>`, and
/// the reliability record (with any pinned band) stays keyed by the HMAC of the number. Returns
/// the erased record; erasing again (by the same number) returns it again; `None` for a number
/// lunas never knew.
pub(crate) fn erase_customer(
    db: &mut dyn Db,
    phone: &Phone,
    phone_hmac: &str,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<Option<CustomerProfile>> {
    let id = db.row(
        "SELECT id FROM customers WHERE phone = ?1 FOR NO KEY UPDATE",
        params![phone.as_str()],
        |row| row.int(0),
    )?;
    let Some(id) = id else {
        return erased_profile(db, phone_hmac);
    };
    let pseudonym = format!("erased-{}", &phone_hmac[..16.min(phone_hmac.len())]);
    // An earlier erasure of the same number left a row with the same pseudonym: number this one.
    let taken = db.scalar(
        "SELECT COUNT(*) FROM customers WHERE phone_hmac = ?1 AND erased_at IS NOT NULL",
        params![phone_hmac],
    )?;
    let pseudonym = if taken == 0 {
        pseudonym
    } else {
        format!("{pseudonym}-{}", taken + 1)
    };
    let now_ms = millis(now);
    db.execute(
        "UPDATE customers SET phone = ?2, name = '', email = NULL, honorific = NULL, notes = NULL,
             tags = '[]', last_inbound_at = NULL, phone_hmac = ?3, erased_at = ?4, updated_at = ?4
         WHERE id = ?1",
        params![id, &pseudonym, phone_hmac, now_ms],
    )?;
    db.execute(
        "UPDATE messages SET body = '', subject = NULL, recipient = ?2, last_error = NULL
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)
           AND channel <> 'webhook'",
        params![id, &pseudonym],
    )?;
    // Webhook deliveries carry the message and the number in their payload.
    db.execute(
        "UPDATE messages SET body = '{}', last_error = NULL
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1) AND channel = 'webhook'",
        params![id],
    )?;
    // Statement descriptions name the buyer (and payments taken from them keep the description
    // as their reference); review items and gateway notifications carry their details.
    for sql in [
        "UPDATE statement_lines SET description = ''
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE payments SET reference = NULL
         WHERE source IN ('statement', 'mutation')
           AND order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE payment_reviews SET detail = '{}'
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE gateway_notifications SET body = '{}'
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
    ] {
        db.execute(sql, params![id])?;
    }
    // A replayed idempotent request would answer with the buyer's name and number.
    db.execute(
        "DELETE FROM idempotency_keys WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        params![id],
    )?;
    db.execute(
        "UPDATE inbound_messages SET phone = ?2, body = NULL, raw = '{}' WHERE phone = ?1",
        params![phone.as_str(), &pseudonym],
    )?;
    db.execute(
        "UPDATE audit_log SET subject = ?2, detail = '{}' WHERE subject = ?1",
        params![phone.as_str(), &pseudonym],
    )?;
    db.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, 'customer.erase', ?3, '{}')",
        params![now_ms, actor.as_str(), &pseudonym],
    )?;
    erased_profile(db, phone_hmac)
}
