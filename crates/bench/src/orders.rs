//! Storage and engine alone: concurrent placements with group commit, against a minimal raw
//! rusqlite program that writes the same rows, 100 orders per transaction.

use std::sync::Arc;
use std::time::Instant;

use lunas_engine::{Engine, SystemClock};
use rusqlite::{Connection, params};

/// The peer's orders per transaction, as the issue sets it.
const PEER_ORDERS_PER_TRANSACTION: usize = 100;
/// The bound: lunas must reach at least this share of the peer's rate.
const RATIO_MIN: f64 = 0.3;

pub(crate) async fn run(count: usize, concurrency: usize) -> anyhow::Result<()> {
    println!(
        "== bench orders: {count} orders, {concurrency} concurrent placements, SQLite WAL synchronous=FULL ({})",
        crate::machine()
    );
    let peer_dir = tempfile::tempdir()?;
    let peer_path = peer_dir.path().join("peer.db");
    let peer_seconds = tokio::task::spawn_blocking(move || raw_peer(&peer_path, count)).await??;
    let peer_rate = count as f64 / peer_seconds;
    println!(
        "peer  raw rusqlite, {PEER_ORDERS_PER_TRANSACTION}/tx: {peer_rate:>10.0} orders/s ({peer_seconds:.2} s)"
    );

    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let seconds = crate::place_concurrently(engine, count, concurrency, None).await?;
    let rate = count as f64 / seconds;
    println!("lunas engine + store:          {rate:>10.0} orders/s ({seconds:.2} s)");
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
    let ratio = rate / peer_rate;
    println!(
        "ratio {ratio:.2} (bound ≥ {RATIO_MIN}) {}",
        if ratio >= RATIO_MIN {
            "OK"
        } else {
            "BELOW BOUND"
        }
    );
    Ok(())
}

/// The peer: one connection, the same schema and rows (buyer upsert, hold, order, item, event,
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
                .query_row(params![crate::phone(i), format!("Pembeli {}", i % crate::BENCH_BUYERS), now], |r| r.get(0))?;
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
