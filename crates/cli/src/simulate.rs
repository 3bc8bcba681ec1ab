//! `lunas simulate --policy FILE`: the store's finished orders of a period replayed under another
//! policy (a partial settings document in TOML or JSON: payment windows, reminders, quiet hours,
//! the bands' policies), printed beside what happened.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use lunas_core::analytics::{Filter, date_day};
use lunas_core::simulate::Side;
use lunas_engine::{Engine, SystemClock};

/// The policy file as the JSON document the settings merge takes.
fn policy(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()));
    }
    let value: toml::Value =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    Ok(serde_json::to_value(value)?)
}

fn day(raw: Option<&str>, name: &str) -> anyhow::Result<Option<i32>> {
    raw.map(|raw| {
        raw.parse::<jiff::civil::Date>()
            .map(date_day)
            .with_context(|| format!("--{name} {raw:?} is not a date like 2026-01-31"))
    })
    .transpose()
}

pub(crate) async fn run(
    common: &crate::CommonArgs,
    file: &Path,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let policy = policy(file)?;
    let database = crate::config::Config::for_command(common)?;
    let url = lunas_store::DatabaseUrl::parse(&database.url)?;
    let store = crate::open(&url, database.options).await?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock)).await?;
    let today = date_day(engine.local_today());
    let to = day(to, "to")?.unwrap_or(today);
    let from = day(from, "from")?.unwrap_or(to - 89);
    anyhow::ensure!(from <= to, "--from is after --to");
    eprintln!(
        "replaying the orders placed from {} to {}…",
        lunas_core::analytics::day_date(from),
        lunas_core::analytics::day_date(to)
    );
    let started = std::time::Instant::now();
    let filter = Filter {
        from,
        to,
        source: None,
        method: None,
        band: None,
        sku: None,
        within_hours: 6,
    };
    let result = engine.simulate(&policy, filter).await;
    store.close().await;
    let sim = result.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&sim)?);
        return Ok(());
    }
    let rows: [(&str, fn(&Side) -> f64); 8] = [
        ("orders paid", |s| s.paid),
        ("hit-and-run (released unpaid)", |s| s.hit_and_run),
        ("stock-hours held by never-paid orders", |s| {
            s.stock_hours_unpaid
        }),
        ("released, then the money came", |s| s.released_then_paid),
        ("paid orders lost", |s| s.paid_lost),
        ("revenue lost (Rp)", |s| s.revenue_lost),
        ("orders refused by the policy", |s| s.refused as f64),
        ("reminder messages", |s| s.messages as f64),
    ];
    println!(
        "{} finished orders; replayed in {:.2} s",
        sim.orders,
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<40} {:>14} {:>14} {:>10}",
        "", "what happened", "the policy", "change"
    );
    for (name, get) in rows {
        let (a, b) = (get(&sim.actual), get(&sim.simulated));
        println!("{name:<40} {a:>14.1} {b:>14.1} {:>+10.1}", b - a);
    }
    if sim.beyond_the_data > 0 {
        println!(
            "{} unpaid orders got a longer window than any order of their band ever had: counted unpaid (the history cannot say)",
            sim.beyond_the_data
        );
    }
    Ok(())
}
