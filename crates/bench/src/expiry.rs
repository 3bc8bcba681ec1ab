//! Many holds falling due at the same instant, released by the scheduler's ticks.

use std::sync::Arc;
use std::time::Instant;

use jiff::SignedDuration;
use lunas_core::PayWindow;
use lunas_engine::{Engine, ManualClock};

/// The bound: all holds released within this many seconds.
const SECONDS_MAX: f64 = 10.0;

pub(crate) async fn run(holds: usize, batch: Option<usize>) -> anyhow::Result<()> {
    println!(
        "== bench expiry: {holds} holds due at the same instant ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let start = jiff::Timestamp::now();
    let clock = Arc::new(ManualClock::new(start));
    let mut engine = Engine::new(store.clone(), clock.clone()).await?;
    if let Some(len) = batch {
        engine = engine.with_timer_batch(len);
    }
    let engine = Arc::new(engine);
    let window = PayWindow::from_seconds(60)?;
    let placing = crate::place_concurrently(engine.clone(), holds, 256, Some(window)).await?;
    println!("placed {holds} orders in {placing:.2} s");
    let before = store.totals().await?;
    anyhow::ensure!(
        before.reserved_sum as usize == holds,
        "expected {holds} units held, found {}",
        before.reserved_sum
    );

    clock.advance(SignedDuration::from_secs(60));
    let started = Instant::now();
    let mut expired = 0;
    loop {
        let outcome = engine.tick().await?;
        expired += outcome.timers.expired;
        if !outcome.more {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = store.totals().await?;
    anyhow::ensure!(expired == holds, "expected {holds} expiries, saw {expired}");
    anyhow::ensure!(
        after.reserved_sum == 0 && after.timers == 0,
        "holds or timers left: {after:?}"
    );
    let problems = store.consistency_report().await?;
    anyhow::ensure!(
        problems.is_empty(),
        "inconsistent after the run: {problems:?}"
    );
    store.close().await;
    println!(
        "released {holds} holds in {seconds:.2} s ({:.0} holds/s); bound {SECONDS_MAX} s, headroom ×{:.1} {}",
        holds as f64 / seconds,
        SECONDS_MAX / seconds,
        if seconds <= SECONDS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );
    Ok(())
}
