//! The storage operations on SQLite. Each writing operation is one closure run by the writer in
//! its own savepoint; it re-reads what it depends on and applies the decision of `lunas_core`.

use lunas_core::order::{ExpiryDecision, decide_cancel, decide_expiry, decide_payment};
use lunas_core::{
    Actor, CustomerInfo, HoldState, Honorific, Money, Order, OrderEvent, OrderId, OrderItem,
    OrderStatus, PaymentDecision, PaymentMethod, PaymentRecord, Phone, Quantity, Settings, Sku,
    Timestamp,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::Sqlite;
use crate::{
    CHANNEL_MANUAL_WHATSAPP, CustomerNotFound, FiredTimers, Message, MessageOpError, MessageStatus,
    Messaging, NewOrder, NewPayment, OrderOpError, Page, PlaceError, Placed, Product, ProductError,
    ProductInput, StoreError, Totals,
};
use lunas_core::messages::{MessageContext, MessageKind};

/// The kind of timer that expires an unpaid order at its deadline.
const TIMER_EXPIRE: &str = "expire";
/// The kind of timer that sends one reminder of an unpaid order.
const TIMER_REMIND: &str = "remind";
/// How long a timer whose handling failed waits before it is tried again.
const TIMER_RETRY_DELAY_MS: i64 = 60_000;
const SETTINGS_NAME: &str = "store";

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn timestamp(ms: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(e))
    })
}

fn corrupt(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unexpected {what} {value:?} in the database").into(),
    )
}

fn status_of(raw: &str) -> rusqlite::Result<OrderStatus> {
    OrderStatus::parse(raw).ok_or_else(|| corrupt("order status", raw))
}

impl Sqlite {
    pub(crate) async fn put_product(
        &self,
        input: ProductInput,
        now: Timestamp,
    ) -> Result<Result<Product, ProductError>, StoreError> {
        self.write(move |conn| {
            let reserved: Option<i64> = conn
                .prepare_cached("SELECT reserved FROM products WHERE sku = ?1")?
                .query_row([input.sku.as_str()], |row| row.get(0))
                .optional()?;
            let reserved = reserved.unwrap_or(0);
            if input.stock < reserved {
                return Ok(Err(ProductError::StockBelowReserved {
                    stock: input.stock,
                    reserved,
                }));
            }
            conn.prepare_cached(
                "INSERT INTO products (sku, name, price, on_hand, reserved, tips, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?6, ?5, ?5)
                 ON CONFLICT (sku) DO UPDATE
                 SET name = excluded.name, price = excluded.price, on_hand = excluded.on_hand,
                     tips = excluded.tips, updated_at = excluded.updated_at",
            )?
            .execute(params![
                input.sku.as_str(),
                input.name,
                input.price.minor_units(),
                input.stock,
                millis(now),
                input.tips
            ])?;
            Ok(Ok(
                product_row(conn, &input.sku)?.expect("the product was just written")
            ))
        })
        .await
    }

    pub(crate) async fn product(&self, sku: Sku) -> Result<Option<Product>, StoreError> {
        self.read(move |conn| product_row(conn, &sku)).await
    }

    pub(crate) async fn products(&self, page: Page<String>) -> Result<Vec<Product>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT sku, name, price, on_hand, reserved, tips FROM products
                 WHERE sku > ?1 ORDER BY sku LIMIT ?2",
            )?;
            let rows = statement.query_map(
                params![page.after.unwrap_or_default(), page.limit as i64],
                read_product,
            )?;
            rows.collect()
        })
        .await
    }

    pub(crate) async fn place_order(
        &self,
        new: NewOrder,
    ) -> Result<Result<Placed, PlaceError>, StoreError> {
        self.write(move |conn| place_order(conn, new)).await
    }

    pub(crate) async fn record_payment(
        &self,
        id: OrderId,
        payment: NewPayment,
        messaging: Messaging,
    ) -> Result<Result<Order, OrderOpError>, StoreError> {
        self.write(move |conn| {
            let Some((status, total, paid)) = order_money(conn, id)? else {
                return Ok(Err(OrderOpError::NotFound));
            };
            let decision = match decide_payment(status, total, paid, payment.amount) {
                Ok(decision) => decision,
                Err(e) => return Ok(Err(e.into())),
            };
            let now = millis(payment.recorded_at);
            conn.prepare_cached(
                "INSERT INTO payments (order_id, amount, reference, recorded_at, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id.0, payment.amount.minor_units(), payment.reference, now, payment.actor.as_str()])?;
            match decision {
                PaymentDecision::Partial { amount_paid } => {
                    conn.prepare_cached("UPDATE orders SET amount_paid = ?2, updated_at = ?3 WHERE id = ?1")?
                        .execute(params![id.0, amount_paid.minor_units(), now])?;
                    let reason = format!("partial payment of {}", payment.amount.minor_units());
                    insert_event(conn, id, now, &payment.actor, Some(status), status, Some(&reason))?;
                }
                PaymentDecision::PaidInFull { amount_paid } => {
                    conn.prepare_cached(
                        "UPDATE orders SET status = 'paid', amount_paid = ?2, updated_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id.0, amount_paid.minor_units(), now])?;
                    end_holds(conn, id, HoldState::Converted)?;
                    stop_awaiting(conn, id)?;
                    insert_event(conn, id, now, &payment.actor, Some(status), OrderStatus::Paid, None)?;
                    let order = load_order(conn, id)?.expect("the order was just read");
                    enqueue(conn, &messaging, MessageKind::PaymentReceived, None, &order, now)?;
                    return Ok(Ok(order));
                }
            }
            Ok(Ok(load_order(conn, id)?.expect("the order was just read")))
        })
        .await
    }

    pub(crate) async fn cancel_order(
        &self,
        id: OrderId,
        reason: String,
        actor: Actor,
        now: Timestamp,
        messaging: Messaging,
    ) -> Result<Result<Order, OrderOpError>, StoreError> {
        self.write(move |conn| {
            let Some((status, _, _)) = order_money(conn, id)? else {
                return Ok(Err(OrderOpError::NotFound));
            };
            if let Err(e) = decide_cancel(status) {
                return Ok(Err(e.into()));
            }
            let now = millis(now);
            conn.prepare_cached(
                "UPDATE orders SET status = 'cancelled', updated_at = ?2 WHERE id = ?1",
            )?
            .execute(params![id.0, now])?;
            end_holds(conn, id, HoldState::Released)?;
            stop_awaiting(conn, id)?;
            insert_event(
                conn,
                id,
                now,
                &actor,
                Some(status),
                OrderStatus::Cancelled,
                Some(&reason),
            )?;
            let order = load_order(conn, id)?.expect("the order was just read");
            enqueue(conn, &messaging, MessageKind::Cancelled, None, &order, now)?;
            Ok(Ok(order))
        })
        .await
    }

    pub(crate) async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.read(move |conn| load_order(conn, id)).await
    }

    pub(crate) async fn orders(
        &self,
        status: Option<OrderStatus>,
        page: Page<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.read(move |conn| {
            let after = page.after.map(|id| id.0).unwrap_or(i64::MAX);
            let ids: Vec<i64> = match status {
                Some(status) => conn
                    .prepare_cached("SELECT id FROM orders WHERE status = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3")?
                    .query_map(params![status.as_str(), after, page.limit as i64], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
                None => conn
                    .prepare_cached("SELECT id FROM orders WHERE id < ?1 ORDER BY id DESC LIMIT ?2")?
                    .query_map(params![after, page.limit as i64], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
            };
            ids.into_iter()
                .map(|id| Ok(load_order(conn, OrderId(id))?.expect("listed orders exist")))
                .collect()
        })
        .await
    }

    pub(crate) async fn fire_due_timers(
        &self,
        now: Timestamp,
        limit: usize,
        messaging: Messaging,
    ) -> Result<FiredTimers, StoreError> {
        // The fast path handles the batch without a savepoint per timer. If any timer fails, the
        // whole batch is rolled back and handled again with a savepoint each, so the failing one
        // is pushed back and the others still fire.
        let fast = {
            let messaging = messaging.clone();
            self.write_always(move |conn| fire_due_timers(conn, now, limit, &messaging, false))
                .await
        };
        match fast {
            Ok(fired) => Ok(fired),
            Err(StoreError::Internal(detail)) => {
                tracing::warn!(%detail, "a timer failed; firing this batch one timer at a time");
                self.write_always(move |conn| fire_due_timers(conn, now, limit, &messaging, true))
                    .await
            }
            Err(other) => Err(other),
        }
    }

    pub(crate) async fn next_timer_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.read(|conn| {
            let due: Option<i64> = conn
                .prepare_cached("SELECT due_at FROM timers ORDER BY due_at LIMIT 1")?
                .query_row([], |row| row.get(0))
                .optional()?;
            due.map(timestamp).transpose()
        })
        .await
    }

    pub(crate) async fn prune_idempotency_keys(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<usize, StoreError> {
        self.write_always(move |conn| {
            let pruned = conn
                .prepare_cached(
                    "DELETE FROM idempotency_keys WHERE (scope, key) IN (
                         SELECT scope, key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
                )?
                .execute(params![millis(before), limit as i64])?;
            Ok(pruned)
        })
        .await
    }

    pub(crate) async fn create_api_token(
        &self,
        name: String,
        token_hash: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |conn| {
            conn.prepare_cached(
                "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![name, token_hash, millis(now)])?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn api_token_name(
        &self,
        token_hash: String,
    ) -> Result<Option<String>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT name FROM api_tokens WHERE token_hash = ?1")?
                .query_row([token_hash], |row| row.get(0))
                .optional()
        })
        .await
    }

    pub(crate) async fn settings(&self) -> Result<Settings, StoreError> {
        let raw: Option<String> = self
            .read(|conn| {
                conn.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
                    .query_row([SETTINGS_NAME], |row| row.get(0))
                    .optional()
            })
            .await?;
        match raw {
            None => Ok(Settings::default()),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| StoreError::Internal(format!("stored settings do not parse: {e}"))),
        }
    }

    pub(crate) async fn put_settings(&self, settings: Settings) -> Result<(), StoreError> {
        let raw = serde_json::to_string(&settings).expect("settings always serialise");
        self.write_always(move |conn| {
            conn.prepare_cached(
                "INSERT INTO settings (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![SETTINGS_NAME, raw])?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn consistency_report(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut problems = Vec::new();
            let mut reserved = conn.prepare(
                "SELECT p.sku, p.reserved, COALESCE(SUM(i.qty), 0) FROM products p
                 LEFT JOIN order_items i ON i.sku = p.sku AND i.hold = 'held'
                 GROUP BY p.sku HAVING p.reserved != COALESCE(SUM(i.qty), 0)",
            )?;
            for row in reserved.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))? {
                let (sku, counted, held) = row?;
                problems.push(format!("{sku}: reserved is {counted} but held lines add up to {held}"));
            }
            let mut holds = conn.prepare(
                "SELECT o.id, o.status, i.hold FROM orders o JOIN order_items i ON i.order_id = o.id
                 WHERE (o.status = 'awaiting_payment' AND i.hold != 'held')
                    OR (o.status = 'paid' AND i.hold != 'converted')
                    OR (o.status IN ('expired', 'cancelled') AND i.hold != 'released')",
            )?;
            for row in holds.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))? {
                let (id, status, hold) = row?;
                problems.push(format!("order {id} is {status} but a line's hold is {hold}"));
            }
            let mut negative = conn.prepare("SELECT sku FROM products WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand")?;
            for row in negative.query_map([], |r| r.get::<_, String>(0))? {
                problems.push(format!("{}: stock counters out of range", row?));
            }
            let mut timers = conn.prepare(
                "SELECT o.id FROM orders o WHERE o.status = 'awaiting_payment' AND o.pay_by IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.order_id = o.id AND t.kind = 'expire')",
            )?;
            for row in timers.query_map([], |r| r.get::<_, i64>(0))? {
                problems.push(format!("order {} awaits payment with a deadline but has no expiry timer", row?));
            }
            Ok(problems)
        })
        .await
    }

    pub(crate) async fn totals(&self) -> Result<Totals, StoreError> {
        self.read(|conn| {
            let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0));
            Ok(Totals {
                products: count("SELECT COUNT(*) FROM products")?,
                customers: count("SELECT COUNT(*) FROM customers")?,
                orders: count("SELECT COUNT(*) FROM orders")?,
                events: count("SELECT COUNT(*) FROM order_events")?,
                payments: count("SELECT COUNT(*) FROM payments")?,
                timers: count("SELECT COUNT(*) FROM timers")?,
                payments_sum: count("SELECT COALESCE(SUM(amount), 0) FROM payments")?,
                on_hand_sum: count("SELECT COALESCE(SUM(on_hand), 0) FROM products")?,
                reserved_sum: count("SELECT COALESCE(SUM(reserved), 0) FROM products")?,
            })
        })
        .await
    }
}

fn read_product(row: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    let on_hand: i64 = row.get(3)?;
    let reserved: i64 = row.get(4)?;
    Ok(Product {
        sku: Sku::from_stored(row.get(0)?),
        name: row.get(1)?,
        price: Money::from_stored(row.get(2)?),
        on_hand,
        reserved,
        available: on_hand - reserved,
        tips: row.get(5)?,
    })
}

fn product_row(conn: &Connection, sku: &Sku) -> rusqlite::Result<Option<Product>> {
    conn.prepare_cached(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products WHERE sku = ?1",
    )?
    .query_row([sku.as_str()], read_product)
    .optional()
}

fn place_order(conn: &Connection, new: NewOrder) -> rusqlite::Result<Result<Placed, PlaceError>> {
    if let Some(key) = &new.idempotency {
        let seen: Option<(String, String)> = conn
            .prepare_cached(
                "SELECT request_hash, response FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
            )?
            .query_row(params![key.scope, key.key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if let Some((request_hash, response)) = seen {
            if request_hash != key.request_hash {
                return Ok(Err(PlaceError::IdempotencyKeyReused));
            }
            let order: Order = serde_json::from_str(&response)
                .map_err(|e| corrupt("idempotent response", &e.to_string()))?;
            return Ok(Ok(Placed {
                order,
                replayed: true,
            }));
        }
    }

    // Decide before writing anything: the writer runs one operation at a time inside its
    // transaction, so what is read here still holds when the holds are written below, and a
    // refused order leaves nothing to undo.
    let now = millis(new.placed_at);
    let mut items = Vec::with_capacity(new.lines.len());
    let mut tips = Vec::with_capacity(new.lines.len());
    let mut total = Money::ZERO;
    for line in &new.lines {
        let qty = line.qty.units();
        let Some(product) = product_row(conn, &line.sku)? else {
            return Ok(Err(PlaceError::UnknownSku {
                sku: line.sku.clone(),
            }));
        };
        if product.available < qty {
            return Ok(Err(PlaceError::OutOfStock {
                sku: line.sku.clone(),
                requested: qty,
                available: product.available,
            }));
        }
        let line_total = product
            .price
            .checked_mul(qty)
            .expect("price and quantity are bounded");
        total = total
            .checked_add(line_total)
            .expect("order size is bounded");
        tips.push(product.tips);
        items.push(OrderItem {
            sku: line.sku.clone(),
            name: product.name,
            unit_price: product.price,
            qty: line.qty,
            hold: HoldState::Held,
        });
    }
    if total == Money::ZERO {
        return Ok(Err(PlaceError::ZeroTotal));
    }
    let mut hold = conn.prepare_cached(
        "UPDATE products SET reserved = reserved + ?1 WHERE sku = ?2 AND on_hand - reserved >= ?1",
    )?;
    for item in &items {
        // The condition repeats the check above as a guard; if it ever failed, the error rolls
        // the whole group back rather than leave a partial order.
        if hold.execute(params![item.qty.units(), item.sku.as_str()])? != 1 {
            return Err(rusqlite::Error::StatementChangedRows(0));
        }
    }

    let customer = &new.customer;
    let (customer_id, stored_customer) = conn
        .prepare_cached(
            "INSERT INTO customers (phone, name, email, honorific, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (phone) DO UPDATE
             SET name = excluded.name,
                 email = COALESCE(excluded.email, customers.email),
                 honorific = COALESCE(excluded.honorific, customers.honorific),
                 updated_at = excluded.updated_at
             RETURNING id, phone, name, email, honorific",
        )?
        .query_row(
            params![
                customer.phone.as_str(),
                customer.name,
                customer.email,
                customer.honorific.map(Honorific::as_str),
                now
            ],
            |row| Ok((row.get::<_, i64>(0)?, read_customer(row, 1)?)),
        )?;

    let status = OrderStatus::AwaitingPayment;
    let pay_by = new.pay_by.map(millis);
    conn.prepare_cached(
        "INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6)",
    )?
    .execute(params![customer_id, status.as_str(), new.payment_method.as_str(), total.minor_units(), pay_by, now])?;
    let id = OrderId(conn.last_insert_rowid());

    let mut insert_item = conn.prepare_cached(
        "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'held')",
    )?;
    for (line, item) in items.iter().enumerate() {
        insert_item.execute(params![
            id.0,
            line as i64,
            item.sku.as_str(),
            item.name,
            item.unit_price.minor_units(),
            item.qty.units()
        ])?;
    }
    insert_event(conn, id, now, &new.actor, None, status, None)?;
    if let Some(due_at) = pay_by {
        conn.prepare_cached("INSERT INTO timers (due_at, kind, order_id) VALUES (?1, ?2, ?3)")?
            .execute(params![due_at, TIMER_EXPIRE, id.0])?;
    }
    let mut remind = conn.prepare_cached(
        "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, 'remind', ?2, ?3, ?4)",
    )?;
    for (ordinal, reminder) in new.reminders.iter().enumerate() {
        remind.execute(params![
            millis(reminder.due),
            id.0,
            reminder.step as i64,
            ordinal as i64 + 1
        ])?;
    }

    // The customer as stored: a returning buyer keeps the email and honorific given before.
    let order = Order {
        id,
        status,
        customer: stored_customer,
        items,
        total,
        amount_paid: Money::ZERO,
        payment_method: new.payment_method,
        pay_by: new.pay_by,
        placed_at: new.placed_at,
        payments: Vec::new(),
        events: vec![OrderEvent {
            at: new.placed_at,
            actor: new.actor.clone(),
            from: None,
            to: status,
            reason: None,
        }],
    };
    if let Some(key) = &new.idempotency {
        let response = serde_json::to_string(&order).expect("orders always serialise");
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![key.scope, key.key, key.request_hash, id.0, response, now])?;
    }
    // The products' tips were read with their stock above; no need to read them again.
    enqueue_with(
        conn,
        &new.messaging,
        MessageKind::OrderReceived,
        None,
        0,
        &order,
        Some(tips),
        now,
    )?;
    Ok(Ok(Placed {
        order,
        replayed: false,
    }))
}

fn order_money(
    conn: &Connection,
    id: OrderId,
) -> rusqlite::Result<Option<(OrderStatus, Money, Money)>> {
    let row: Option<(String, i64, i64)> = conn
        .prepare_cached("SELECT status, total, amount_paid FROM orders WHERE id = ?1")?
        .query_row([id.0], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    row.map(|(status, total, paid)| {
        Ok((
            status_of(&status)?,
            Money::from_stored(total),
            Money::from_stored(paid),
        ))
    })
    .transpose()
}

/// Moves every line of the order that still holds stock to `to` (released or converted) and
/// adjusts the product counters. The `hold = 'held'` guard makes this happen once per line.
fn end_holds(conn: &Connection, id: OrderId, to: HoldState) -> rusqlite::Result<()> {
    let ended: Vec<(String, i64)> = conn
        .prepare_cached("UPDATE order_items SET hold = ?2 WHERE order_id = ?1 AND hold = 'held' RETURNING sku, qty")?
        .query_map(params![id.0, to.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let sql = match to {
        HoldState::Released => "UPDATE products SET reserved = reserved - ?2 WHERE sku = ?1",
        HoldState::Converted => {
            "UPDATE products SET reserved = reserved - ?2, on_hand = on_hand - ?2 WHERE sku = ?1"
        }
        HoldState::Held => unreachable!("holds end as released or converted"),
    };
    let mut update = conn.prepare_cached(sql)?;
    for (sku, qty) in ended {
        update.execute(params![sku, qty])?;
    }
    Ok(())
}

/// The order stopped awaiting payment (paid, cancelled or expired): its pending timers are
/// deleted, and reminders written but not yet delivered are withdrawn (marked dead with the
/// reason), so none goes out afterwards — not even one that waited for a channel that was down.
fn stop_awaiting(conn: &Connection, id: OrderId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM timers WHERE order_id = ?1")?
        .execute([id.0])?;
    conn.prepare_cached(
        "UPDATE messages SET status = 'dead', next_attempt_at = NULL,
             last_error = 'withdrawn: the order no longer awaits payment'
         WHERE order_id = ?1 AND kind = 'reminder' AND status IN ('pending', 'failed')",
    )?
    .execute([id.0])?;
    Ok(())
}

fn insert_event(
    conn: &Connection,
    id: OrderId,
    at_ms: i64,
    actor: &Actor,
    from: Option<OrderStatus>,
    to: OrderStatus,
    reason: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id.0, at_ms, actor.as_str(), from.map(OrderStatus::as_str), to.as_str(), reason])?;
    Ok(())
}

/// Fires up to `limit` due timers. With `isolate`, each timer runs in its own savepoint, so one
/// that fails is pushed back (retried a minute later) without holding back the others; without
/// it, the first failure fails the whole batch (the caller then retries with `isolate`).
fn fire_due_timers(
    conn: &Connection,
    now: Timestamp,
    limit: usize,
    messaging: &Messaging,
    isolate: bool,
) -> rusqlite::Result<FiredTimers> {
    let now_ms = millis(now);
    let due: Vec<DueTimer> = conn
        .prepare_cached(
            "SELECT id, kind, order_id, step, ordinal FROM timers
             WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        )?
        .query_map(params![now_ms, limit as i64], |row| {
            Ok(DueTimer {
                id: row.get(0)?,
                kind: row.get(1)?,
                order_id: OrderId(row.get(2)?),
                step: row.get(3)?,
                ordinal: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut fired = FiredTimers::default();
    for timer in due {
        if !isolate {
            handle_timer(conn, &timer, now, messaging).and_then(|expired| {
                conn.prepare_cached("DELETE FROM timers WHERE id = ?1")?
                    .execute([timer.id])?;
                fired.fired += 1;
                fired.expired += usize::from(expired);
                Ok(())
            })?;
            continue;
        }
        super::run_cached(conn, "SAVEPOINT timer")?;
        let handled = handle_timer(conn, &timer, now, messaging).and_then(|expired| {
            conn.prepare_cached("DELETE FROM timers WHERE id = ?1")?
                .execute([timer.id])?;
            Ok(expired)
        });
        match handled {
            Ok(expired) => {
                super::run_cached(conn, "RELEASE timer")?;
                fired.fired += 1;
                fired.expired += usize::from(expired);
            }
            Err(e) => {
                super::run_cached(conn, "ROLLBACK TO timer")?;
                super::run_cached(conn, "RELEASE timer")?;
                tracing::error!(timer_id = timer.id, order_id = timer.order_id.0, error = %e, "timer failed; it will be retried");
                conn.prepare_cached(
                    "UPDATE timers SET due_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                )?
                .execute(params![timer.id, now_ms + TIMER_RETRY_DELAY_MS])?;
                fired.failed += 1;
            }
        }
    }
    Ok(fired)
}

struct DueTimer {
    id: i64,
    kind: String,
    order_id: OrderId,
    step: Option<i64>,
    ordinal: Option<i64>,
}

/// Handles one due timer; returns whether it expired an order.
fn handle_timer(
    conn: &Connection,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
) -> rusqlite::Result<bool> {
    let id = timer.order_id;
    match timer.kind.as_str() {
        TIMER_EXPIRE => {}
        TIMER_REMIND => {
            send_reminder(conn, timer, now, messaging)?;
            return Ok(false);
        }
        other => return Err(corrupt("timer kind", other)),
    }
    let row: Option<(String, Option<i64>)> = conn
        .prepare_cached("SELECT status, pay_by FROM orders WHERE id = ?1")?
        .query_row([id.0], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((status, pay_by)) = row else {
        return Ok(false);
    };
    let status = status_of(&status)?;
    let pay_by = pay_by.map(timestamp).transpose()?;
    match decide_expiry(status, pay_by, now) {
        ExpiryDecision::Expire => {
            let now_ms = millis(now);
            conn.prepare_cached(
                "UPDATE orders SET status = 'expired', updated_at = ?2 WHERE id = ?1",
            )?
            .execute(params![id.0, now_ms])?;
            end_holds(conn, id, HoldState::Released)?;
            insert_event(
                conn,
                id,
                now_ms,
                &Actor::system(),
                Some(status),
                OrderStatus::Expired,
                Some("payment deadline passed"),
            )?;
            // Reminders still pending for this order are cancelled, not merely ignored.
            stop_awaiting(conn, id)?;
            let order = load_order_for_message(conn, id)?.expect("the order was just read");
            enqueue(
                conn,
                messaging,
                MessageKind::HoldReleased,
                None,
                &order,
                now_ms,
            )?;
            Ok(true)
        }
        ExpiryDecision::NotDue | ExpiryDecision::Moot => Ok(false),
    }
}

/// Reads a customer from the four columns phone, name, email, honorific starting at `first`.
fn read_customer(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<CustomerInfo> {
    let honorific: Option<String> = row.get(first + 3)?;
    Ok(CustomerInfo {
        phone: Phone::from_stored(row.get(first)?),
        name: row.get(first + 1)?,
        email: row.get(first + 2)?,
        honorific: honorific.as_deref().and_then(Honorific::parse),
    })
}

fn load_customer(conn: &Connection, customer_id: i64) -> rusqlite::Result<CustomerInfo> {
    conn.prepare_cached("SELECT phone, name, email, honorific FROM customers WHERE id = ?1")?
        .query_row([customer_id], |row| read_customer(row, 0))
}

fn load_order(conn: &Connection, id: OrderId) -> rusqlite::Result<Option<Order>> {
    load_order_with(conn, id, true)
}

/// The order without its payments and events, which messages do not need: expiring many
/// orders at once reads two queries less per order.
fn load_order_for_message(conn: &Connection, id: OrderId) -> rusqlite::Result<Option<Order>> {
    load_order_with(conn, id, false)
}

fn load_order_with(
    conn: &Connection,
    id: OrderId,
    history: bool,
) -> rusqlite::Result<Option<Order>> {
    type Head = (i64, String, String, i64, i64, Option<i64>, i64);
    let head: Option<Head> = conn
        .prepare_cached(
            "SELECT customer_id, status, payment_method, total, amount_paid, pay_by, placed_at FROM orders WHERE id = ?1",
        )?
        .query_row([id.0], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
        })
        .optional()?;
    let Some((customer_id, status, method, total, paid, pay_by, placed_at)) = head else {
        return Ok(None);
    };
    let items = conn
        .prepare_cached("SELECT sku, name, unit_price, qty, hold FROM order_items WHERE order_id = ?1 ORDER BY line")?
        .query_map([id.0], |row| {
            let hold: String = row.get(4)?;
            Ok(OrderItem {
                sku: Sku::from_stored(row.get(0)?),
                name: row.get(1)?,
                unit_price: Money::from_stored(row.get(2)?),
                qty: Quantity::from_stored(row.get(3)?),
                hold: HoldState::parse(&hold).ok_or_else(|| corrupt("hold state", &hold))?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let payments = if !history {
        Vec::new()
    } else {
        conn
        .prepare_cached("SELECT amount, reference, recorded_at, actor FROM payments WHERE order_id = ?1 ORDER BY id")?
        .query_map([id.0], |row| {
            Ok(PaymentRecord {
                amount: Money::from_stored(row.get(0)?),
                reference: row.get(1)?,
                recorded_at: timestamp(row.get(2)?)?,
                actor: Actor::from_stored(row.get(3)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let events = if !history {
        Vec::new()
    } else {
        conn
        .prepare_cached("SELECT at, actor, from_status, to_status, reason FROM order_events WHERE order_id = ?1 ORDER BY id")?
        .query_map([id.0], |row| {
            let from: Option<String> = row.get(2)?;
            let to: String = row.get(3)?;
            Ok(OrderEvent {
                at: timestamp(row.get(0)?)?,
                actor: Actor::from_stored(row.get(1)?),
                from: from.as_deref().map(status_of).transpose()?,
                to: status_of(&to)?,
                reason: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    Ok(Some(Order {
        id,
        status: status_of(&status)?,
        customer: load_customer(conn, customer_id)?,
        items,
        total: Money::from_stored(total),
        amount_paid: Money::from_stored(paid),
        payment_method: PaymentMethod::parse(&method)
            .ok_or_else(|| corrupt("payment method", &method))?,
        pay_by: pay_by.map(timestamp).transpose()?,
        placed_at: timestamp(placed_at)?,
        payments,
        events,
    }))
}

/// Sends the reminder of a due `remind` timer, if the order still awaits payment and the buyer
/// has not opted out. A reminder never goes out after the order stopped awaiting payment.
fn send_reminder(
    conn: &Connection,
    timer: &DueTimer,
    now: Timestamp,
    messaging: &Messaging,
) -> rusqlite::Result<()> {
    let row: Option<(String, bool)> = conn
        .prepare_cached(
            "SELECT o.status, c.no_reminders FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = ?1",
        )?
        .query_row([timer.order_id.0], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((status, no_reminders)) = row else {
        return Ok(());
    };
    if status_of(&status)? != OrderStatus::AwaitingPayment || no_reminders {
        return Ok(());
    }
    let order = load_order_for_message(conn, timer.order_id)?.expect("the order was just read");
    let step = timer.step.map(|s| (order.payment_method, s as usize));
    let ordinal = timer.ordinal.unwrap_or(1) as usize;
    enqueue_with(
        conn,
        messaging,
        MessageKind::Reminder,
        step,
        ordinal,
        &order,
        None,
        millis(now),
    )
}

/// Writes the lifecycle message `kind` about `order`, if the store has it switched on.
fn enqueue(
    conn: &Connection,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(lunas_core::PaymentMethod, usize)>,
    order: &Order,
    now_ms: i64,
) -> rusqlite::Result<()> {
    enqueue_with(conn, messaging, kind, step, 0, order, None, now_ms)
}

#[allow(clippy::too_many_arguments)]
fn enqueue_with(
    conn: &Connection,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(lunas_core::PaymentMethod, usize)>,
    reminder_number: usize,
    order: &Order,
    known_tips: Option<Vec<Option<String>>>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    if !messaging.settings.messages.enabled(kind) {
        return Ok(());
    }
    let tips = match known_tips {
        Some(tips) => tips,
        None => {
            let mut statement = conn.prepare_cached("SELECT tips FROM products WHERE sku = ?1")?;
            let mut tips = Vec::with_capacity(order.items.len());
            for item in &order.items {
                let tip: Option<Option<String>> = statement
                    .query_row([item.sku.as_str()], |row| row.get(0))
                    .optional()?;
                tips.push(tip.flatten());
            }
            tips
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
            crate::CHANNEL_WHATSAPP,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
        Some(address) => (
            crate::CHANNEL_EMAIL,
            address.to_owned(),
            Some(lunas_core::messages::subject(
                kind,
                order.id,
                messaging.settings.language,
            )),
        ),
        None => (
            CHANNEL_MANUAL_WHATSAPP,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
    };
    let id = new_message_id(now_ms);
    conn.prepare_cached(
        "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        order.id.0,
        kind.as_str(),
        channel,
        recipient,
        subject,
        body,
        status.as_str(),
        error,
        now_ms
    ])?;
    enqueue_webhooks(conn, order, kind, &id, channel, &recipient, &body, now_ms)
}

/// Writes one webhook delivery per endpoint for a message to a buyer, so the seller's own systems
/// (a WhatsApp gateway, a CRM) hear of it. Each delivery has its own stable id, sent as
/// `webhook-id` on every attempt.
#[allow(clippy::too_many_arguments)]
fn enqueue_webhooks(
    conn: &Connection,
    order: &Order,
    kind: MessageKind,
    message_id: &str,
    channel: &str,
    recipient: &str,
    body: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let endpoints: Vec<String> = conn
        .prepare_cached("SELECT id FROM webhook_endpoints ORDER BY created_at")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let timestamp = timestamp(now_ms)?;
    let payload = serde_json::json!({
        "type": "message.created",
        "timestamp": timestamp,
        "data": {
            "message_id": message_id,
            "order_id": order.id.0,
            "kind": kind.as_str(),
            "channel": channel,
            "to": recipient,
            "phone": order.customer.phone.as_str(),
            "body": body,
        }
    })
    .to_string();
    let mut insert = conn.prepare_cached(
        "INSERT INTO messages (id, order_id, kind, channel, recipient, body, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
    )?;
    for endpoint in endpoints {
        insert.execute(params![
            new_message_id(now_ms),
            order.id.0,
            kind.as_str(),
            crate::CHANNEL_WEBHOOK,
            endpoint,
            payload,
            now_ms
        ])?;
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str = "id, order_id, kind, channel, recipient, subject, body, variant, status, attempts, last_error, created_at, sent_at, sent_by";

fn read_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let kind: String = row.get(2)?;
    let status: String = row.get(8)?;
    let sent_at: Option<i64> = row.get(12)?;
    let channel: String = row.get(3)?;
    let recipient: String = row.get(4)?;
    let body: String = row.get(6)?;
    // The wa.me link is derived, not stored: it is the body again, three times longer.
    let link = (channel == CHANNEL_MANUAL_WHATSAPP).then(|| wa_me_link(&recipient, &body));
    Ok(Message {
        id: row.get(0)?,
        order_id: OrderId(row.get(1)?),
        kind: MessageKind::parse(&kind).ok_or_else(|| corrupt("message kind", &kind))?,
        channel,
        recipient,
        subject: row.get(5)?,
        body,
        link,
        variant: row.get(7)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status", &status))?,
        attempts: row.get(9)?,
        last_error: row.get(10)?,
        created_at: timestamp(row.get(11)?)?,
        sent_at: sent_at.map(timestamp).transpose()?,
        sent_by: row.get(13)?,
    })
}

fn message_row(conn: &Connection, id: &str) -> rusqlite::Result<Option<Message>> {
    conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"
    ))?
    .query_row([id], read_message)
    .optional()
}

impl Sqlite {
    pub(crate) async fn order_messages(&self, order: OrderId) -> Result<Vec<Message>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE order_id = ?1 ORDER BY created_at, rowid"
            ))?
            .query_map([order.0], read_message)?
            .collect()
        })
        .await
    }

    pub(crate) async fn messages(
        &self,
        channel: String,
        status: MessageStatus,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel = ?1 AND status = ?2
                 ORDER BY created_at, rowid LIMIT ?3"
            ))?
            .query_map(
                params![channel, status.as_str(), limit as i64],
                read_message,
            )?
            .collect()
        })
        .await
    }

    pub(crate) async fn mark_message_sent(
        &self,
        id: String,
        actor: Actor,
        now: Timestamp,
    ) -> Result<Result<Message, MessageOpError>, StoreError> {
        self.write(move |conn| {
            let Some(message) = message_row(conn, &id)? else {
                return Ok(Err(MessageOpError::NotFound));
            };
            if message.channel != CHANNEL_MANUAL_WHATSAPP {
                return Ok(Err(MessageOpError::NotManual));
            }
            if message.status != MessageStatus::Pending {
                return Ok(Err(MessageOpError::NotPending(message.status.as_str())));
            }
            conn.prepare_cached(
                "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2, sent_by = ?3 WHERE id = ?1",
            )?
            .execute(params![id, millis(now), actor.as_str()])?;
            Ok(Ok(message_row(conn, &id)?.expect("the message was just read")))
        })
        .await
    }

    pub(crate) async fn replay_message(
        &self,
        id: String,
        now: Timestamp,
    ) -> Result<Result<Message, MessageOpError>, StoreError> {
        self.write(move |conn| {
            let Some(message) = message_row(conn, &id)? else {
                return Ok(Err(MessageOpError::NotFound));
            };
            if message.status != MessageStatus::Dead {
                return Ok(Err(MessageOpError::NotDead(message.status.as_str())));
            }
            conn.prepare_cached(
                "UPDATE messages SET status = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
            )?
            .execute(params![id, millis(now)])?;
            Ok(Ok(message_row(conn, &id)?.expect("the message was just read")))
        })
        .await
    }

    pub(crate) async fn set_no_reminders(
        &self,
        phone: Phone,
        no_reminders: bool,
    ) -> Result<Result<(), CustomerNotFound>, StoreError> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE customers SET no_reminders = ?2 WHERE phone = ?1")?
                .execute(params![phone.as_str(), no_reminders])?;
            Ok(if changed == 1 {
                Ok(())
            } else {
                Err(CustomerNotFound)
            })
        })
        .await
    }

    pub(crate) async fn no_reminders(&self, phone: Phone) -> Result<Option<bool>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT no_reminders FROM customers WHERE phone = ?1")?
                .query_row([phone.as_str()], |row| row.get(0))
                .optional()
        })
        .await
    }

    /// The tips of `skus`' products, in order (`None` where there is none or no such product).
    pub(crate) async fn product_tips(
        &self,
        skus: Vec<Sku>,
    ) -> Result<Vec<Option<String>>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached("SELECT tips FROM products WHERE sku = ?1")?;
            skus.iter()
                .map(|sku| {
                    Ok(statement
                        .query_row([sku.as_str()], |row| row.get(0))
                        .optional()?
                        .flatten())
                })
                .collect()
        })
        .await
    }
}

impl Sqlite {
    /// Takes up to `limit` messages of `channels` that are due (pending or failed, next attempt
    /// at or before `now`) and leases them until `lease_until`: if this process dies while
    /// sending, the lease runs out and they are taken again (at least once; the stable id lets
    /// the receiver drop the duplicate).
    pub(crate) async fn claim_messages(
        &self,
        channels: Vec<String>,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.write_always(move |conn| {
            let mut claimed = Vec::new();
            let mut select = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE channel = ?1 AND status IN ('pending', 'failed')
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)
                 ORDER BY created_at, rowid LIMIT ?3"
            ))?;
            let mut lease =
                conn.prepare_cached("UPDATE messages SET next_attempt_at = ?2 WHERE id = ?1")?;
            for channel in &channels {
                let due: Vec<Message> = select
                    .query_map(
                        params![channel, millis(now), (limit - claimed.len()) as i64],
                        read_message,
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                for message in due {
                    lease.execute(params![message.id, millis(lease_until)])?;
                    claimed.push(message);
                }
                if claimed.len() >= limit {
                    break;
                }
            }
            Ok(claimed)
        })
        .await
    }

    /// Records what an attempt to deliver a message did. Only a message still pending or failed
    /// changes, so a late report about a message already settled is ignored.
    pub(crate) async fn record_delivery(
        &self,
        id: String,
        outcome: crate::Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |conn| {
            match outcome {
                crate::Delivery::Sent { variant } => conn
                    .prepare_cached(
                        "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2,
                             last_error = NULL, next_attempt_at = NULL, variant = ?3
                         WHERE id = ?1 AND status IN ('pending', 'failed')",
                    )?
                    .execute(params![id, millis(now), variant])?,
                crate::Delivery::Manual { reason } => conn
                    .prepare_cached(
                        "UPDATE messages SET channel = ?2, status = 'pending', last_error = ?3,
                             attempts = attempts + 1, next_attempt_at = NULL
                         WHERE id = ?1 AND status IN ('pending', 'failed')",
                    )?
                    .execute(params![id, CHANNEL_MANUAL_WHATSAPP, reason])?,
                crate::Delivery::Retry { error, next_attempt_at } => conn
                    .prepare_cached(
                        "UPDATE messages SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                             next_attempt_at = ?3
                         WHERE id = ?1 AND status IN ('pending', 'failed')",
                    )?
                    .execute(params![id, error, millis(next_attempt_at)])?,
                crate::Delivery::Dead { error } => conn
                    .prepare_cached(
                        "UPDATE messages SET status = 'dead', attempts = attempts + 1, last_error = ?2,
                             next_attempt_at = NULL
                         WHERE id = ?1 AND status IN ('pending', 'failed')",
                    )?
                    .execute(params![id, error])?,
            };
            Ok(())
        })
        .await
    }
}

impl Sqlite {
    pub(crate) async fn create_webhook(
        &self,
        endpoint: crate::WebhookEndpoint,
    ) -> Result<(), StoreError> {
        self.write_always(move |conn| {
            conn.prepare_cached("INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![endpoint.id, endpoint.url, endpoint.secret, millis(endpoint.created_at)])?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn webhooks(&self) -> Result<Vec<crate::WebhookEndpoint>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY created_at",
            )?
            .query_map([], |row| {
                Ok(crate::WebhookEndpoint {
                    id: row.get(0)?,
                    url: row.get(1)?,
                    secret: row.get(2)?,
                    created_at: timestamp(row.get(3)?)?,
                })
            })?
            .collect()
        })
        .await
    }

    /// Removes an endpoint; deliveries still queued for it go dead when their turn comes.
    pub(crate) async fn delete_webhook(&self, id: String) -> Result<bool, StoreError> {
        self.write_always(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM webhook_endpoints WHERE id = ?1")?
                .execute([id])?;
            Ok(deleted == 1)
        })
        .await
    }
}

/// `https://wa.me/<phone digits>?text=<message>`: opens WhatsApp with the message filled in.
fn wa_me_link(phone: &str, body: &str) -> String {
    format!(
        "https://wa.me/{}?text={}",
        phone.trim_start_matches('+'),
        percent_encoding::utf8_percent_encode(body, percent_encoding::NON_ALPHANUMERIC)
    )
}

impl Sqlite {
    /// Keeps a buyer's message and notes when the buyer last wrote (for WhatsApp's 24-hour rule).
    /// A message already kept (same WhatsApp id) changes nothing. Returns whether it was new.
    pub(crate) async fn record_inbound(
        &self,
        inbound: crate::InboundMessage,
    ) -> Result<bool, StoreError> {
        self.write_always(move |conn| {
            let at = millis(inbound.received_at);
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO inbound_messages (phone, wa_message_id, body, received_at, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (wa_message_id) DO NOTHING",
                )?
                .execute(params![inbound.phone.as_str(), inbound.wa_message_id, inbound.body, at, inbound.raw])?;
            conn.prepare_cached(
                "UPDATE customers SET last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?2) WHERE phone = ?1",
            )?
            .execute(params![inbound.phone.as_str(), at])?;
            Ok(inserted == 1)
        })
        .await
    }

    pub(crate) async fn last_inbound_at(
        &self,
        phone: Phone,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.read(move |conn| {
            let at: Option<Option<i64>> = conn
                .prepare_cached("SELECT last_inbound_at FROM customers WHERE phone = ?1")?
                .query_row([phone.as_str()], |row| row.get(0))
                .optional()?;
            at.flatten().map(timestamp).transpose()
        })
        .await
    }
}

/// A message id: `msg_`, the creation time in milliseconds (hex, so ids sort by time and new ones
/// land at the end of the index), and 64 random bits.
fn new_message_id(now_ms: i64) -> String {
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    format!("msg_{:012x}{}", now_ms.max(0), hex::encode(random))
}
