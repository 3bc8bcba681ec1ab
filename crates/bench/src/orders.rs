//! Storage and engine alone: concurrent placements with group commit, against two raw rusqlite
//! peers, 100 orders per transaction: the first (the bound since issue 21) writes every
//! row a lunas placement writes, into lunas's own schema, with lunas's own statements — the
//! buyer's row, the hold, the order, its line, its event, its timers and its message — and is
//! checked to have written as many rows of each table as lunas did; the second is the five-row
//! peer of the first issues (a smaller schema, no message, one timer), kept for comparison.

use std::sync::Arc;
use std::time::Instant;

use lunas_engine::{Engine, SystemClock};
use rusqlite::{Connection, params};

/// The peers' orders per transaction, as the issue sets it.
const PEER_ORDERS_PER_TRANSACTION: usize = 100;
/// The bound: lunas must reach at least this share of the full peer's rate.
const RATIO_MIN: f64 = 0.5;
/// The tables a placement writes, compared row for row between lunas and the full peer.
const WRITTEN: [&str; 6] = [
    "customers",
    "orders",
    "order_items",
    "order_events",
    "timers",
    "messages",
];

/// The ratios of one run, for the CI guard.
pub(crate) struct OrdersRatios {
    pub full: f64,
    pub five_rows: f64,
}

pub(crate) async fn run(count: usize, concurrency: usize) -> anyhow::Result<OrdersRatios> {
    println!(
        "== bench orders: {count} orders, {concurrency} concurrent placements, SQLite WAL synchronous=FULL ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let seconds = crate::place_concurrently(engine, count, concurrency, None).await?;
    let rate = count as f64 / seconds;
    let problems = store.consistency_report().await?;
    anyhow::ensure!(
        problems.is_empty(),
        "inconsistent after the run: {problems:?}"
    );
    let totals = store.totals().await?;
    anyhow::ensure!(
        totals.orders as usize == count,
        "expected {count} orders, found {}",
        totals.orders
    );
    store.close().await;
    let lunas_path = dir.path().join("bench.db");
    let written = tokio::task::spawn_blocking(move || Written::read(&lunas_path)).await??;

    let full_seconds = run_full_peer(count, &written, Buyers::Returning).await?;
    let full_rate = count as f64 / full_seconds;

    let peer_dir = tempfile::tempdir()?;
    let peer_path = peer_dir.path().join("peer.db");
    let peer_seconds = tokio::task::spawn_blocking(move || raw_peer(&peer_path, count)).await??;
    let peer_rate = count as f64 / peer_seconds;

    let rows_per_order: f64 = written
        .rows
        .iter()
        .skip(1)
        .map(|(_, n)| *n as f64)
        .sum::<f64>()
        / count as f64;
    println!("lunas engine + store:                   {rate:>10.0} orders/s ({seconds:.2} s)");
    println!(
        "full peer, every row lunas writes ({rows_per_order:.1}/order + the buyer's): {full_rate:>10.0} orders/s ({full_seconds:.2} s)"
    );
    println!(
        "five-row peer (the first issues'):      {peer_rate:>10.0} orders/s ({peer_seconds:.2} s)"
    );
    let ratios = OrdersRatios {
        full: rate / full_rate,
        five_rows: rate / peer_rate,
    };
    println!(
        "ratio to the full peer {:.2} (bound ≥ {RATIO_MIN}) {}; to the five-row peer {:.2}",
        ratios.full,
        if ratios.full >= RATIO_MIN {
            "OK"
        } else {
            "BELOW BOUND"
        },
        ratios.five_rows
    );
    Ok(ratios)
}

/// Runs the full peer on a fresh lunas schema with the same products, for `count` orders of
/// `buyers`, and checks it wrote as many rows of each table as lunas (`written`); returns its
/// seconds.
pub(crate) async fn run_full_peer(
    count: usize,
    written: &Written,
    buyers: Buyers,
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    crate::fresh_store(dir.path()).await?.close().await;
    let path = dir.path().join("bench.db");
    let (seconds, peer_written) = {
        let written = written.clone();
        tokio::task::spawn_blocking(move || full_peer(&path, count, &written, buyers)).await??
    };
    anyhow::ensure!(
        peer_written.rows == written.rows,
        "the full peer wrote {:?}, lunas {:?}",
        peer_written.rows,
        written.rows
    );
    Ok(seconds)
}

/// What lunas wrote: rows per table, and a sample of what varies per order (the policy kept on
/// the order, the message's body, the timers' kinds, steps and offsets from placement).
#[derive(Clone, Debug)]
pub(crate) struct Written {
    pub(crate) rows: Vec<(&'static str, i64)>,
    policy: Option<String>,
    body: String,
    actor: String,
    channel: String,
    timers: Vec<(i64, String, Option<i64>, Option<i64>)>,
}

impl Written {
    pub(crate) fn read(path: &std::path::Path) -> anyhow::Result<Written> {
        let conn = Connection::open(path)?;
        let mut rows = Vec::new();
        for table in WRITTEN {
            let n: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            rows.push((table, n));
        }
        let (id, policy, placed_at): (i64, Option<String>, i64) = conn.query_row(
            "SELECT id, policy, placed_at FROM orders ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let (body, channel): (String, String) = conn.query_row(
            "SELECT body, channel FROM messages WHERE order_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let actor: String = conn.query_row(
            "SELECT actor FROM order_events WHERE order_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let mut statement = conn.prepare(
            "SELECT due_at - ?2, kind, step, ordinal FROM timers WHERE order_id = ?1 ORDER BY id",
        )?;
        let timers = statement
            .query_map([id, placed_at], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Written {
            rows,
            policy,
            body,
            actor,
            channel,
            timers,
        })
    }
}

/// A connection to `path` set up as lunas's store sets up its writer (`lunas_store::sqlite`).
pub(crate) fn like_lunas(path: &std::path::Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(conn)
}

/// Whose orders the full peer writes: the bench's 1,000 returning buyers (`bench orders`), or a
/// buyer never seen before for each order, as `bench http` sends them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Buyers {
    Returning,
    New,
}

impl Buyers {
    pub(crate) fn phone(self, i: usize) -> String {
        match self {
            Buyers::Returning => crate::phone(i),
            Buyers::New => format!("+62813{:08}", 10_000_000 + i),
        }
    }

    pub(crate) fn name(self, i: usize) -> String {
        match self {
            Buyers::Returning => crate::buyer_name(i),
            Buyers::New => format!("Pembeli {i}"),
        }
    }
}

/// The full peer: one connection to a fresh lunas schema, set up as lunas's (WAL, FULL, foreign
/// keys, a 64 MiB page cache), lunas's own insert statements for
/// every row a placement writes (values like lunas's: a random page token, a unique amount due,
/// the policy, timers and message of lunas's first order), prepared once,
/// `PEER_ORDERS_PER_TRANSACTION` orders per transaction. Returns the seconds and the rows.
fn full_peer(
    path: &std::path::Path,
    count: usize,
    lunas: &Written,
    buyers: Buyers,
) -> anyhow::Result<(f64, Written)> {
    let conn = like_lunas(path)?;
    let started = Instant::now();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut done = 0;
    while done < count {
        let tx = conn.unchecked_transaction()?;
        let end = (done + PEER_ORDERS_PER_TRANSACTION).min(count);
        for i in done..end {
            tx.prepare_cached(
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
                         last_order_at = excluded.last_order_at",
                )?
                .execute(params![
                    buyers.phone(i),
                    buyers.name(i),
                    None::<String>,
                    None::<String>,
                    now
                ])?;
            // Each row read back by its key, not by `RETURNING` (which costs SQLite a temporary
            // b-tree and a statement journal), as lunas does.
            let customer: i64 = tx
                .prepare_cached("SELECT id FROM customers WHERE phone = ?1")?
                .query_row(params![buyers.phone(i)], |r| r.get(0))?;
            let held = tx
                .prepare_cached(
                    "UPDATE products SET reserved = reserved + ?1
                     WHERE sku = ?2 AND on_hand - reserved >= ?1 AND price > 0 AND variants = 0
                       AND price * ?1 + ?3 > ?4",
                )?
                .execute(params![1, crate::sku(i), 0, 0])?;
            anyhow::ensure!(held == 1, "the peer's hold failed");
            let (name, price): (String, i64) = tx
                .prepare_cached("SELECT name, price FROM products WHERE sku = ?1")?
                .query_row(params![crate::sku(i)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let token = format!("{:08x}{:032x}", now / 1000, rand::random::<u128>());
            let amount_due = 1_000_000 + i as i64;
            tx.prepare_cached(
                    "INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING",
                )?
                .execute(
                    params![
                        customer,
                        "awaiting_payment",
                        "bank_transfer",
                        price,
                        now + 86_400_000,
                        now,
                        lunas.policy,
                        None::<i64>,
                        amount_due,
                        (amount_due - price).abs(),
                        0,
                        0,
                        token,
                        None::<String>,
                        None::<i64>
                    ],
                )?;
            let order = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'held')",
            )?
            .execute(params![order, 0, crate::sku(i), name, price, 1])?;
            tx.prepare_cached(
                "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                order,
                now,
                lunas.actor,
                None::<String>,
                "awaiting_payment",
                None::<String>
            ])?;
            for (offset, kind, step, ordinal) in &lunas.timers {
                tx.prepare_cached(
                    "INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![now + offset, kind, order, step, ordinal])?;
            }
            tx.prepare_cached(
                "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                format!("msg_{now:012x}{:016x}", rand::random::<u64>()),
                order,
                "order_received",
                lunas.channel,
                buyers.phone(i),
                None::<String>,
                lunas.body,
                "pending",
                None::<String>,
                now
            ])?;
        }
        tx.commit()?;
        done = end;
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(conn);
    Ok((seconds, Written::read(path)?))
}

/// The five-row peer: one connection, a smaller schema and rows (buyer upsert, hold, order, item, event,
/// timer), prepared statements, `PEER_ORDERS_PER_TRANSACTION` orders per transaction.
fn raw_peer(path: &std::path::Path, count: usize) -> anyhow::Result<f64> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL,
             on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL DEFAULT 0, created_at INTEGER, updated_at INTEGER);
         CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
             email TEXT, honorific TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL,
             payment_method TEXT NOT NULL, total INTEGER NOT NULL, amount_paid INTEGER NOT NULL DEFAULT 0,
             pay_by INTEGER, placed_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
         CREATE INDEX orders_by_status ON orders (status, id);
         CREATE INDEX orders_by_customer ON orders (customer_id, id);
         CREATE TABLE order_items (order_id INTEGER NOT NULL, line INTEGER NOT NULL, sku TEXT NOT NULL,
             name TEXT NOT NULL, unit_price INTEGER NOT NULL, qty INTEGER NOT NULL, hold TEXT NOT NULL,
             PRIMARY KEY (order_id, line)) WITHOUT ROWID;

         CREATE TABLE order_events (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, at INTEGER NOT NULL,
             actor TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, reason TEXT);
         CREATE INDEX order_events_by_order ON order_events (order_id, id);
         CREATE TABLE timers (id INTEGER PRIMARY KEY, due_at INTEGER NOT NULL, kind TEXT NOT NULL,
             order_id INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
         CREATE INDEX timers_by_due ON timers (due_at, id);
         CREATE INDEX timers_by_order ON timers (order_id);",
    )?;
    for i in 0..crate::BENCH_SKUS {
        conn.execute(
            "INSERT INTO products (sku, name, price, on_hand) VALUES (?1, ?2, ?3, 1000000000)",
            params![
                crate::sku(i),
                format!("Produk uji {i}"),
                50_000 + i as i64 * 1000
            ],
        )?;
    }
    let started = Instant::now();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut done = 0;
    while done < count {
        let tx = conn.unchecked_transaction()?;
        let end = (done + PEER_ORDERS_PER_TRANSACTION).min(count);
        for i in done..end {
            let customer: i64 = tx
                .prepare_cached(
                    "INSERT INTO customers (phone, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (phone) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
                     RETURNING id",
                )?
                .query_row(params![crate::phone(i), crate::buyer_name(i), now], |r| r.get(0))?;
            let (name, price): (String, i64) = tx
                .prepare_cached(
                    "UPDATE products SET reserved = reserved + 1 WHERE sku = ?1 AND on_hand - reserved >= 1 RETURNING name, price",
                )?
                .query_row([crate::sku(i)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            tx.prepare_cached(
                "INSERT INTO orders (customer_id, status, payment_method, total, pay_by, placed_at, updated_at)
                 VALUES (?1, 'awaiting_payment', 'bank_transfer', ?2, ?3, ?4, ?4)",
            )?
            .execute(params![customer, price, now + 86_400_000, now])?;
            let order = tx.last_insert_rowid();
            tx.prepare_cached("INSERT INTO order_items VALUES (?1, 0, ?2, ?3, ?4, 1, 'held')")?
                .execute(params![order, crate::sku(i), name, price])?;
            tx.prepare_cached("INSERT INTO order_events (order_id, at, actor, to_status) VALUES (?1, ?2, 'bench', 'awaiting_payment')")?
                .execute(params![order, now])?;
            tx.prepare_cached(
                "INSERT INTO timers (due_at, kind, order_id) VALUES (?1, 'expire', ?2)",
            )?
            .execute(params![now + 86_400_000, order])?;
        }
        tx.commit()?;
        done = end;
    }
    Ok(started.elapsed().as_secs_f64())
}
