//! Reminders at scale: template rendering speed, the cost of a scheduler tick against the number
//! of reminders pending (not yet due), and how late reminders due at 1,000 per second go out.

use std::sync::Arc;
use std::time::Instant;

use jiff::SignedDuration;
use lunas_core::Settings;
use lunas_core::messages::{Composer, MessageContext, MessageKind, sample_order};
use lunas_engine::{Engine, ManualClock, SystemClock};
use lunas_store::{DatabaseUrl, OpenOptions, Store};
use rusqlite::params;

/// Rendering must reach this many messages per second on one core.
const RENDER_PER_SECOND_MIN: f64 = 50_000.0;
/// Reminders due at 1,000/s must go out with p99 lateness under this.
const LATENESS_P99_MS_MAX: f64 = 1000.0;
/// Reminders made due in each tick-cost measurement.
const DUE_PER_TICK: usize = 1000;

pub(crate) async fn run(pending_levels: &[usize], rate_seconds: u64) -> anyhow::Result<()> {
    println!("== bench reminders ({})", crate::machine());
    render_speed()?;
    let mut tick_ms = Vec::new();
    for &pending in pending_levels {
        let ms = tick_cost(pending).await?;
        println!(
            "tick firing {DUE_PER_TICK} due reminders with {pending:>9} orders × 3 reminders pending: {ms:>8.1} ms"
        );
        tick_ms.push(ms);
    }
    if let (Some(first), Some(last)) = (tick_ms.first(), tick_ms.last()) {
        println!(
            "tick cost at {} pending / at {} pending: ratio {:.2} (flat is 1.0)",
            pending_levels.last().unwrap(),
            pending_levels.first().unwrap(),
            last / first
        );
    }
    lateness(
        rate_seconds,
        pending_levels.iter().copied().max().unwrap_or(0),
    )
    .await
}

fn render_speed() -> anyhow::Result<()> {
    let mut settings = Settings::default();
    settings.bank_accounts = vec![lunas_core::messages::BankAccount {
        bank: "BCA".into(),
        number: "1234567890".into(),
        holder: "Toko Kami".into(),
    }];
    let composer = Composer::new(&settings)?;
    let context = MessageContext::new(
        &sample_order(),
        &[Some("Cuci dengan air dingin.".into())],
        &settings,
        lunas_core::messages::SAMPLE_BASE,
        1,
    );
    let count = 200_000;
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..count {
        bytes += composer
            .render(MessageKind::Reminder, None, &context)?
            .len();
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "render the default reminder, one core: {rate:>9.0} messages/s ({bytes} bytes); bound {RENDER_PER_SECOND_MIN:.0}/s, ratio {:.2} {}",
        rate / RENDER_PER_SECOND_MIN,
        if rate >= RENDER_PER_SECOND_MIN {
            "OK"
        } else {
            "BELOW BOUND"
        }
    );
    Ok(())
}

/// Fills a fresh store with `pending` unpaid orders, each with three reminder timers due a day
/// later, written straight into SQLite (placing them one by one would measure placement, not
/// ticks); then places `DUE_PER_TICK` real orders whose first reminder falls due, and times the
/// tick that sends them.
async fn tick_cost(pending: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = crate::fresh_store(dir.path()).await?;
    let start = jiff::Timestamp::now();
    let clock = Arc::new(ManualClock::new(start));
    let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await?);
    engine.place_order(crate::place_request(0, None)).await?;
    store.close().await;

    fill_pending(path, pending, start).await?;

    let store = Store::open(
        &DatabaseUrl::Sqlite(dir.path().join("bench.db")),
        OpenOptions::default(),
    )
    .await?;
    let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await?);
    // No quiet hours, so the measured reminders fall due whatever the time of day of the run.
    let mut settings = (*engine.settings()).clone();
    settings.quiet_hours = None;
    engine.put_settings(settings).await?;
    crate::place_concurrently(engine.clone(), DUE_PER_TICK, 64, None).await?;
    // The default bank-transfer cadence: the first reminder is due two hours in.
    clock.advance(SignedDuration::from_hours(2));
    let started = Instant::now();
    let outcome = engine.tick().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        outcome.timers.fired >= DUE_PER_TICK,
        "fired {} of {DUE_PER_TICK}",
        outcome.timers.fired
    );
    store.close().await;
    Ok(ms)
}

/// Real time, on top of `pending` orders with three reminders each not yet due: orders whose
/// reminders fall due at 1,000 per second for `seconds`, the real scheduler loop, and the
/// lateness of every message from its due time.
async fn lateness(seconds: u64, pending: usize) -> anyhow::Result<()> {
    let count = (seconds * 1000) as usize;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = crate::fresh_store(dir.path()).await?;
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    Engine::new(store.clone(), clock)
        .await?
        .place_order(crate::place_request(0, None))
        .await?;
    store.close().await;
    fill_pending(path.clone(), pending, jiff::Timestamp::now()).await?;
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone()), OpenOptions::default()).await?;
    let mut settings = Settings::default();
    settings.messages.order_received = false;
    // One reminder per order; the due times are then spread by writing them directly below.
    settings.reminders.bank_transfer = serde_json::from_value(
        serde_json::json!({"steps": [{"after_order": "1h"}], "max_count": 1}),
    )?;
    settings.quiet_hours = None;
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    engine.put_settings(settings).await?;
    crate::place_concurrently(engine.clone(), count, 64, None).await?;
    let first_due = jiff::Timestamp::now() + SignedDuration::from_secs(2);
    let first_measured: i64 = {
        let conn = rusqlite::Connection::open(&path)?;
        conn.query_row("SELECT MAX(id) FROM orders", [], |row| row.get::<_, i64>(0))? - count as i64
            + 1
    };
    {
        let path = path.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = rusqlite::Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let tx = conn.transaction()?;
            // Order i's reminder falls due i milliseconds after the first: 1,000 per second. The
            // measured orders are the last `count` placed; their timers have ordinal 1 and step 0.
            tx.execute(
                "UPDATE timers SET due_at = ?1 + (order_id - ?2)
                 WHERE kind = 'remind' AND order_id >= ?2",
                params![first_due.as_millisecond(), first_measured],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await??;
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(engine.clone().run_scheduler(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + std::time::Duration::from_secs(seconds + 30);
    loop {
        if count_messages(&path)? >= count || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = stop.send(());
    scheduler.await?;
    let mut lateness_ms: Vec<i64> = {
        let conn = rusqlite::Connection::open(&path)?;
        let mut statement = conn.prepare(
            "SELECT m.created_at - (?1 + (m.order_id - ?2)) FROM messages m WHERE m.kind = 'reminder'",
        )?;
        statement
            .query_map(params![first_due.as_millisecond(), first_measured], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?
    };
    store.close().await;
    anyhow::ensure!(
        lateness_ms.len() == count,
        "{} of {count} reminders went out",
        lateness_ms.len()
    );
    lateness_ms.sort_unstable();
    let p = |q: f64| lateness_ms[((lateness_ms.len() - 1) as f64 * q) as usize] as f64;
    let p99 = p(0.99);
    println!(
        "{count} reminders due at 1,000/s over {pending} orders with reminders pending: lateness p50 {:.0} ms, p99 {p99:.0} ms, max {:.0} ms; bound p99 < {LATENESS_P99_MS_MAX:.0} ms, ratio {:.2} {}",
        p(0.5),
        p(1.0),
        p99 / LATENESS_P99_MS_MAX,
        if p99 < LATENESS_P99_MS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );
    Ok(())
}

fn count_messages(path: &std::path::Path) -> anyhow::Result<usize> {
    let conn = rusqlite::Connection::open(path)?;
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE kind = 'reminder'",
        [],
        |row| row.get::<_, i64>(0),
    )? as usize)
}

/// Writes `pending` unpaid orders straight into the database at `path`, each with three reminder
/// timers due a day after `start` (placing them one by one would measure placement, not the
/// scheduler).
async fn fill_pending(
    path: std::path::PathBuf,
    pending: usize,
    start: jiff::Timestamp,
) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = rusqlite::Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let tx = conn.transaction()?;
        {
            let mut order = tx.prepare(
                "INSERT INTO orders (customer_id, status, payment_method, total, pay_by, placed_at, updated_at)
                 VALUES (1, 'awaiting_payment', 'bank_transfer', 50000, ?1, ?2, ?2)",
            )?;
            let mut timer =
                tx.prepare("INSERT INTO timers (due_at, kind, order_id, step, ordinal) VALUES (?1, 'remind', ?2, ?3, ?3)")?;
            let later = (start + SignedDuration::from_hours(24)).as_millisecond();
            for i in 0..pending {
                order.execute(params![later + 86_400_000, start.as_millisecond()])?;
                let id = tx.last_insert_rowid();
                for step in 1..=3i64 {
                    timer.execute(params![later + (i as i64 % 3600) * 1000 + step, id, step])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await?
}
