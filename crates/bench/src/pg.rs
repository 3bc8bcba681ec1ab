//! PostgreSQL benchmarks: order placement against `pgbench` (TPC-B), and timers fired by three
//! `lunas serve` processes against graphile-worker and a minimal hand-written `SKIP LOCKED`
//! loop. Each run makes a fresh database on the server (`--pg`, default the local one) and drops
//! it at the end.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lunas_core::catalog::ProductInput;
use lunas_core::{Money, PayWindow, Sku};
use lunas_engine::{Engine, ManualClock, SystemClock};
use lunas_store::{DatabaseUrl, OpenOptions, PgUrl, Store};

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Bounds of the issue.
const ORDERS_VS_PGBENCH_MIN: f64 = 0.8;
const ORDERS_PER_SECOND_MIN: f64 = 1000.0;
const TIMERS_VS_GRAPHILE_MIN: f64 = 3.0;
const TIMERS_VS_LOOP_MIN: f64 = 0.8;
const PENDING_1M_VS_10K_MIN: f64 = 0.65;
/// Placements per transaction of the batched placement peer.
const PEER_BATCH: usize = 16;

/// A database of its own for one benchmark run, dropped when done.
pub(crate) struct BenchDb {
    admin: PgUrl,
    name: String,
    pub(crate) url: PgUrl,
}

impl BenchDb {
    pub(crate) async fn create(admin: &str) -> anyhow::Result<BenchDb> {
        BenchDb::create_named(admin, "").await
    }

    /// `create` for a second database beside the first, told apart by `suffix`.
    pub(crate) async fn create_named(admin: &str, suffix: &str) -> anyhow::Result<BenchDb> {
        let DatabaseUrl::Postgres(admin) = DatabaseUrl::parse(admin)? else {
            anyhow::bail!("--pg must be a postgres:// URL");
        };
        let name = format!("lunas_bench_{}{suffix}", std::process::id());
        sql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
        sql(&admin, &format!("CREATE DATABASE {name}")).await?;
        let url = admin.with_database(&name);
        Ok(BenchDb { admin, name, url })
    }

    pub(crate) async fn drop_it(self) -> anyhow::Result<()> {
        sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await
    }
}

/// Runs `statements` on `url` from a blocking thread.
async fn sql(url: &PgUrl, statements: &str) -> anyhow::Result<()> {
    let (url, statements) = (url.clone(), statements.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
        client.batch_execute(&statements)?;
        Ok(())
    })
    .await?
}

async fn scalar(url: &PgUrl, query: &str) -> anyhow::Result<i64> {
    let (url, query) = (url.clone(), query.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
        Ok(client.query_one(&query, &[])?.get(0))
    })
    .await?
}

fn verdict(ok: bool) -> &'static str {
    if ok { "OK" } else { "BELOW BOUND" }
}

pub(crate) async fn seed_products(store: &Store, stock: i64) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    for i in 0..crate::BENCH_SKUS {
        store
            .put_product(
                ProductInput {
                    sku: Sku::parse(&crate::sku(i))?,
                    name: format!("Produk uji {i}"),
                    price: Money::price(50_000 + i as i64 * 1000)?,
                    stock,
                    tips: None,
                    variant: None,
                },
                now,
            )
            .await??;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Order placement against pgbench

pub(crate) async fn orders(
    pg: &str,
    clients: usize,
    orders: usize,
    pool: usize,
    scale: u32,
    seconds: u64,
) -> anyhow::Result<()> {
    println!(
        "== bench pg-orders: {orders} orders from {clients} concurrent clients, pool of {pool}, against pgbench tpcb-like -M prepared -c {clients} ({})",
        crate::machine()
    );
    let db = BenchDb::create(pg).await?;
    let init = Instant::now();
    let status = tokio::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", &scale.to_string(), db.url.expose()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| {
            anyhow::anyhow!("pgbench: {e} (install postgresql-contrib or the PostgreSQL client)")
        })?;
    anyhow::ensure!(status.success(), "pgbench -i failed");
    println!(
        "pgbench initialised at scale {scale} in {:.1} s",
        init.elapsed().as_secs_f64()
    );
    let tps = crate::pg_peer::pgbench(&["-b", "tpcb-like"], clients, seconds, &db.url).await?;
    println!("peer  pgbench tpcb-like -M prepared:  {tps:>8.0} tps ({seconds} s)");

    let store = Store::open(
        &DatabaseUrl::Postgres(db.url.clone()),
        OpenOptions {
            pool_size: pool,
            ..OpenOptions::default()
        },
    )
    .await?;
    seed_products(&store, 1_000_000_000).await?;
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let took = crate::place_concurrently(engine, orders, clients, None).await?;
    let rate = orders as f64 / took;
    println!("lunas engine + store on PostgreSQL:   {rate:>8.0} orders/s ({took:.2} s)");
    let problems = store.consistency_report().await?;
    anyhow::ensure!(
        problems.is_empty(),
        "inconsistent after the run: {problems:?}"
    );
    anyhow::ensure!(
        store.totals().await?.orders as usize == orders,
        "orders missing"
    );
    store.close().await;
    let sample = crate::pg_peer::Sample::read(&db.url).await?;
    db.drop_it().await?;

    // The peer: pgbench sending the statements of lunas's one-order path, one placement per
    // transaction; then several per transaction, what batching commits alone (one commit for
    // many placements, each statement still its own round trip) would allow; then 16 and 64
    // placements written with multi-row statements, as lunas's batches are.
    let peer = |per_transaction, multi_row| {
        placement_peer(
            pg,
            &sample,
            clients,
            seconds,
            (per_transaction, multi_row),
            tps,
        )
    };
    let peer_tps = peer(1, false).await?;
    peer(PEER_BATCH, false).await?;
    for n in [16, 64] {
        peer(n, true).await?;
    }

    let ratio = rate / tps;
    println!(
        "ratio {ratio:.2} (bound ≥ {ORDERS_VS_PGBENCH_MIN}, issue 21) {}; absolute {rate:.0}/s (bound ≥ {ORDERS_PER_SECOND_MIN}) {}; lunas to the placement peer {:.2}",
        verdict(ratio >= ORDERS_VS_PGBENCH_MIN),
        verdict(rate >= ORDERS_PER_SECOND_MIN),
        rate / peer_tps
    );
    Ok(())
}

/// Runs the placement peer on a fresh database with lunas's schema and the same products,
/// `per_transaction` placements in each transaction (written with multi-row statements when
/// `multi_row`); prints and returns its orders per second.
async fn placement_peer(
    pg: &str,
    sample: &crate::pg_peer::Sample,
    clients: usize,
    seconds: u64,
    (per_transaction, multi_row): (usize, bool),
    tpcb: f64,
) -> anyhow::Result<f64> {
    let db = BenchDb::create_named(pg, "_peer").await?;
    let store = Store::open(
        &DatabaseUrl::Postgres(db.url.clone()),
        OpenOptions::default(),
    )
    .await?;
    seed_products(&store, 1_000_000_000).await?;
    store.close().await;
    let rate = crate::pg_peer::run(
        &db.url,
        sample,
        clients,
        seconds,
        per_transaction,
        multi_row,
    )
    .await?;
    db.drop_it().await?;
    let what = match multi_row {
        false => "sending lunas's placement statements,",
        true => "placements in multi-row statements,  ",
    };
    println!(
        "peer  pgbench {what} {per_transaction:>2} per transaction: {rate:>8.0} orders/s ({seconds} s) = {:.2} of tpcb-like",
        rate / tpcb
    );
    Ok(rate)
}

// ---------------------------------------------------------------------------------------------
// Timers against graphile-worker and a minimal SKIP LOCKED loop

/// Polls `remaining` until it reaches zero; returns the seconds from the first time it was below
/// `start` (work had begun) to zero, so process start-up is counted on no side.
async fn drain_time(url: &PgUrl, remaining: &str, start: i64) -> anyhow::Result<f64> {
    let (url, remaining) = (url.clone(), remaining.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
        let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
        let query = client.prepare(&remaining)?;
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut began = None;
        loop {
            let left: i64 = client.query_one(&query, &[])?.get(0);
            if began.is_none() && left < start {
                began = Some(Instant::now());
            }
            if left == 0 {
                return Ok(began.map_or(0.0, |b| b.elapsed().as_secs_f64()));
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the queue did not drain ({left} left)"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    })
    .await?
}

/// Starts `lunas serve` on `url`, printing nothing, on an ephemeral port.
fn serve(url: &PgUrl, batch: usize) -> anyhow::Result<tokio::process::Child> {
    Ok(tokio::process::Command::new(crate::lunas_binary()?)
        .args(["serve", "--db", url.expose(), "--listen", "127.0.0.1:0"])
        .args(["--timer-batch", &batch.to_string()])
        .env("LUNAS_LOG", "error")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

/// `count` reminder timers due now for orders of buyers who opted out of reminders (the cheapest
/// real timer: it is settled without writing a message), and `pending` not due for a year.
async fn seed_trivial_timers(url: &PgUrl, count: usize, pending: usize) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now().as_millisecond();
    sql(
        url,
        &format!(
            "DELETE FROM timers WHERE kind = 'remind';
             UPDATE customers SET no_reminders = TRUE;
             INSERT INTO timers (due_at, kind, order_id, step, ordinal)
                 SELECT {now} - 1000 - (g % 1000), 'remind', (SELECT MIN(id) FROM orders) + g % 100, 0, 1
                 FROM generate_series(1, {count}) AS g;
             INSERT INTO timers (due_at, kind, order_id, step, ordinal)
                 SELECT {now} + 31536000000 + g, 'remind', (SELECT MIN(id) FROM orders) + g % 100, 0, 1
                 FROM generate_series(1, {pending}) AS g"
        ),
    )
    .await?;
    // Both runs start from a vacuumed table, without autovacuum working on the insert beside them.
    sql(url, "VACUUM ANALYZE timers").await
}

/// Three `lunas serve` processes drain the due timers; returns timers per second.
async fn lunas_drain(
    url: &PgUrl,
    count: usize,
    processes: usize,
    batch: usize,
) -> anyhow::Result<f64> {
    let due = format!(
        "SELECT COUNT(*) FROM timers WHERE due_at <= {}",
        jiff::Timestamp::now().as_millisecond()
    );
    let children: Vec<_> = (0..processes)
        .map(|_| serve(url, batch))
        .collect::<Result<_, _>>()?;
    let seconds = drain_time(url, &due, count as i64).await?;
    drop(children);
    Ok(count as f64 / seconds)
}

/// The peer at its simplest: `workers` connections, each claiming due rows 100 at a time with
/// `FOR UPDATE SKIP LOCKED` and deleting them.
async fn loop_drain(
    url: &PgUrl,
    count: usize,
    pending: usize,
    workers: usize,
) -> anyhow::Result<f64> {
    let now = jiff::Timestamp::now().as_millisecond();
    sql(
        url,
        &format!(
            "DROP TABLE IF EXISTS peer_timers;
             CREATE TABLE peer_timers (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 due_at BIGINT NOT NULL, kind TEXT NOT NULL, order_id BIGINT NOT NULL,
                 attempts BIGINT NOT NULL DEFAULT 0, step BIGINT, ordinal BIGINT);
             CREATE INDEX peer_timers_by_due ON peer_timers (due_at, id);
             INSERT INTO peer_timers (due_at, kind, order_id)
                 SELECT {now} - 1000 - (g % 1000), 'remind', g % 100 FROM generate_series(1, {count}) AS g;
             INSERT INTO peer_timers (due_at, kind, order_id)
                 SELECT {now} + 31536000000 + g, 'remind', g % 100 FROM generate_series(1, {pending}) AS g"
        ),
    )
    .await?;
    sql(url, "VACUUM ANALYZE peer_timers").await?;
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let url = url.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
                let claim = client.prepare(
                    "SELECT id FROM peer_timers WHERE due_at <= $1 ORDER BY due_at, id LIMIT 100 FOR UPDATE SKIP LOCKED",
                )?;
                let delete = client.prepare("DELETE FROM peer_timers WHERE id = ANY($1)")?;
                loop {
                    let mut tx = client.transaction()?;
                    let ids: Vec<i64> = tx.query(&claim, &[&now])?.iter().map(|r| r.get(0)).collect();
                    if ids.is_empty() {
                        return Ok(());
                    }
                    tx.execute(&delete, &[&ids])?;
                    tx.commit()?;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// graphile-worker, installed with npm on first use, draining `count` jobs of a task that does
/// nothing, one process at concurrency 10.
async fn graphile_drain(url: &PgUrl, count: usize) -> anyhow::Result<f64> {
    let dir = std::env::temp_dir().join("lunas-bench-graphile-worker");
    let bin = dir.join("node_modules/.bin/graphile-worker");
    if !bin.exists() {
        std::fs::create_dir_all(dir.join("tasks"))?;
        println!(
            "installing graphile-worker 0.18.0 with npm into {}",
            dir.display()
        );
        let status = tokio::process::Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("graphile-worker@0.18.0")
            .status()
            .await?;
        anyhow::ensure!(status.success(), "npm install graphile-worker failed");
    }
    std::fs::create_dir_all(dir.join("tasks"))?;
    std::fs::write(
        dir.join("tasks/noop.js"),
        "module.exports = async () => {};\n",
    )?;
    let status = tokio::process::Command::new(&bin)
        .args(["-c", url.expose(), "--schema-only"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "graphile-worker --schema-only failed");
    sql(
        url,
        &format!("SELECT graphile_worker.add_job('noop') FROM generate_series(1, {count})"),
    )
    .await?;
    let remaining = "SELECT COUNT(*) FROM graphile_worker.jobs";
    let mut worker = tokio::process::Command::new(&bin)
        .args(["-c", url.expose(), "--once", "--jobs", "10"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let seconds = drain_time(url, remaining, count as i64).await?;
    let _ = worker.wait().await;
    Ok(count as f64 / seconds)
}

pub(crate) async fn timers(
    pg: &str,
    count: usize,
    graphile_count: usize,
    processes: usize,
    batch: usize,
    expiries: usize,
) -> anyhow::Result<()> {
    println!(
        "== bench pg-timers: {count} due timers ({graphile_count} jobs for graphile-worker), {processes} lunas processes (batch {batch}), against graphile-worker 0.18 and a minimal SKIP LOCKED loop ({})",
        crate::machine()
    );
    let db = BenchDb::create(pg).await?;
    let url = db.url.clone();
    let store = Store::open(&DatabaseUrl::Postgres(url.clone()), OpenOptions::default()).await?;
    seed_products(&store, 1_000_000_000).await?;
    {
        let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
        crate::place_concurrently(engine, 100, 16, None).await?;
    }

    let graphile = graphile_drain(&url, graphile_count).await?;
    println!("peer  graphile-worker, 1 process, concurrency 10, no-op job: {graphile:>8.0} jobs/s");
    let manual = loop_drain(&url, count, 10_000, processes).await?;
    println!(
        "peer  minimal loop, {processes} connections, 100 per claim:      {manual:>8.0} timers/s"
    );

    seed_trivial_timers(&url, count, 10_000).await?;
    let with_10k = lunas_drain(&url, count, processes, batch).await?;
    println!(
        "lunas {processes} processes, 10k timers pending:             {with_10k:>8.0} timers/s"
    );
    seed_trivial_timers(&url, count, 1_000_000).await?;
    let with_1m = lunas_drain(&url, count, processes, batch).await?;
    println!(
        "lunas {processes} processes, 1M timers pending:              {with_1m:>8.0} timers/s"
    );

    // The heavier real timer: expiring unpaid orders (release the hold, record the event, write
    // the buyer's message), for the record.
    sql(&url, "DELETE FROM timers WHERE kind = 'remind'").await?;
    let clock = Arc::new(ManualClock::new(
        jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2),
    ));
    let engine = Arc::new(Engine::new(store.clone(), clock).await?);
    crate::place_concurrently(engine, expiries, 64, Some(PayWindow::from_seconds(3600)?)).await?;
    sql(&url, "DELETE FROM timers WHERE kind = 'remind'").await?;
    let expiry_timers = scalar(
        &url,
        &format!(
            "SELECT COUNT(*) FROM timers WHERE due_at <= {}",
            jiff::Timestamp::now().as_millisecond()
        ),
    )
    .await?;
    let expiring = lunas_drain(&url, expiry_timers as usize, processes, batch).await?;
    println!(
        "lunas {processes} processes, expiring unpaid orders:        {expiring:>8.0} orders/s"
    );
    let problems = store.consistency_report().await?;
    anyhow::ensure!(
        problems.is_empty(),
        "inconsistent after the run: {problems:?}"
    );
    store.close().await;
    db.drop_it().await?;

    let vs_graphile = with_10k / graphile;
    let vs_loop = with_10k / manual;
    let pending_ratio = with_1m / with_10k;
    println!(
        "ratio vs graphile-worker {vs_graphile:.2} (bound ≥ {TIMERS_VS_GRAPHILE_MIN}) {}",
        verdict(vs_graphile >= TIMERS_VS_GRAPHILE_MIN)
    );
    println!(
        "ratio vs minimal loop {vs_loop:.2} (bound ≥ {TIMERS_VS_LOOP_MIN}) {}",
        verdict(vs_loop >= TIMERS_VS_LOOP_MIN)
    );
    println!(
        "1M pending vs 10k pending {pending_ratio:.2} (bound ≥ {PENDING_1M_VS_10K_MIN}) {}",
        verdict(pending_ratio >= PENDING_1M_VS_10K_MIN)
    );
    Ok(())
}
