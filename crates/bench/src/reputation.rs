//! Buyer reliability: what judging the buyer adds to placing an order, and `reputation rebuild`
//! over a million orders, each against the bound.

use std::sync::Arc;
use std::time::Instant;

use lunas_core::Phone;
use lunas_engine::{Engine, SystemClock};
use lunas_store::{DatabaseUrl, OpenOptions, Store};
use rusqlite::{Connection, params};

/// Bounds of the issue.
const POLICY_P99_MS_MAX: f64 = 1.0;
const REBUILD_SECONDS_MAX: f64 = 30.0;

/// Writes `orders` finished orders (paid, expired, cancelled by either side) over `buyers` buyers
/// straight into the SQLite file, as a store that has run for years would hold them.
fn seed(path: &std::path::Path, buyers: usize, orders: usize) -> anyhow::Result<()> {
    let mut conn = Connection::open(path)?;
    let tx = conn.transaction()?;
    let now = jiff::Timestamp::now().as_millisecond();
    tx.execute(
        "INSERT INTO products (sku, name, price, on_hand, reserved, created_at, updated_at)
         VALUES ('GAMIS', 'Gamis', 150000, 1000000000, 0, ?1, ?1)",
        [now],
    )?;
    {
        let mut customer = tx.prepare(
            "INSERT INTO customers (id, phone, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        )?;
        for i in 0..buyers {
            customer.execute(params![
                i as i64 + 1,
                format!("+62812{:08}", 10_000_000 + i),
                format!("Pembeli {i}"),
                now
            ])?;
        }
        let mut order = tx.prepare(
            "INSERT INTO orders (id, customer_id, status, payment_method, total, amount_paid, pay_by,
                                 placed_at, updated_at, ended_at, cancelled_by)
             VALUES (?1, ?2, ?3, 'bank_transfer', 150000, ?4, ?5, ?6, ?7, ?7, ?8)",
        )?;
        let mut item =
            tx.prepare("INSERT INTO order_items VALUES (?1, 0, 'GAMIS', 'Gamis', 150000, 1, ?2)")?;
        let mut payment = tx.prepare(
            "INSERT INTO payments (order_id, amount, recorded_at, actor) VALUES (?1, 150000, ?2, 'bench')",
        )?;
        for i in 0..orders {
            let id = i as i64 + 1;
            // Spread over two years, most paid, some run off, a few cancelled.
            let placed = now - (orders - i) as i64 * 60_000;
            let (status, paid, hold, by) = match i % 10 {
                0 | 1 => ("expired", 0, "released", None),
                2 => (
                    "cancelled",
                    0,
                    "released",
                    Some(if i % 20 == 2 { "buyer" } else { "seller" }),
                ),
                _ => ("paid", 150_000, "converted", None),
            };
            order.execute(params![
                id,
                (i % buyers) as i64 + 1,
                status,
                paid,
                placed + 86_400_000,
                placed,
                placed + 3_600_000,
                by
            ])?;
            item.execute(params![id, hold])?;
            if paid > 0 {
                payment.execute(params![id, placed + 3_600_000])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

pub(crate) async fn run(buyers: usize, orders: usize, samples: usize) -> anyhow::Result<()> {
    println!(
        "== bench reputation: {orders} orders over {buyers} buyers, SQLite ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("reputation.db");
    let url = DatabaseUrl::Sqlite(path.clone());
    Store::open(&url, OpenOptions::default())
        .await?
        .close()
        .await;
    let seeding = Instant::now();
    {
        let path = path.clone();
        tokio::task::spawn_blocking(move || seed(&path, buyers, orders)).await??;
    }
    println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    let store = Store::open(&url, OpenOptions::default()).await?;

    let started = Instant::now();
    let covered = store.rebuild_reputation().await?;
    let rebuild = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        covered == buyers,
        "rebuilt {covered} buyers, expected {buyers}"
    );
    let placed: i64 = store
        .reliability_records()
        .await?
        .iter()
        .map(|(_, record)| record.orders_placed)
        .sum();
    anyhow::ensure!(placed as usize == orders, "records count {placed} orders");
    println!(
        "reputation rebuild: {rebuild:.2} s for {orders} orders; bound {REBUILD_SECONDS_MAX} s, ratio {:.2} {}",
        rebuild / REBUILD_SECONDS_MAX,
        if rebuild <= REBUILD_SECONDS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );

    // What placing an order adds: judging the buyer (their record, their history, the score,
    // the band and its policy) — `Engine::assess`, which `place_order` calls first.
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let phone = Phone::parse(&format!("+62812{:08}", 10_000_000 + (i * 7919) % buyers))?;
        let started = Instant::now();
        let (profile, assessment) = engine.assess(&phone).await?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(profile.is_some() && assessment.score.probability > 0.0);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let p99 = at(0.99);
    println!(
        "judging the buyer at placement: p50 {:.3} ms, p99 {p99:.3} ms, max {:.3} ms over {samples} buyers with {} orders each; bound p99 < {POLICY_P99_MS_MAX} ms, ratio {:.2} {}",
        at(0.5),
        latencies[latencies.len() - 1],
        orders / buyers,
        p99 / POLICY_P99_MS_MAX,
        if p99 < POLICY_P99_MS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );
    store.close().await;
    Ok(())
}
