//! Analytics at scale: every metric of the Analitik page over a store of 1,000,000 orders (facts
//! in memory, as the server keeps them) against the 1 s bound; and, through a real SQLite
//! store of imported orders, what reading the facts costs the first time and what a refresh
//! after a hundred new orders costs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lunas_core::analytics::{Facts, Filter, ItemRow, OrderRow, Source, date_day};
use lunas_core::reliability::Band;
use lunas_core::{CancelledBy, OrderStatus, PaymentMethod};

const BOUND: Duration = Duration::from_secs(1);
const RUNS: usize = 5;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A store's year: `orders` orders of `orders / 4` buyers, one or two lines each, reminders on
/// the unpaid and the slow.
fn generate(orders: usize) -> (Vec<OrderRow>, Vec<ItemRow>, Vec<(i64, i64, bool)>) {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let start = jiff::civil::date(2025, 12, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond();
    let span = 365 * 24 * 3_600_000i64;
    let mut rows = Vec::with_capacity(orders);
    let mut items = Vec::with_capacity(orders * 3 / 2);
    let mut reminders = Vec::with_capacity(orders);
    for i in 0..orders {
        let id = i as i64 + 1;
        let placed_at = start + span * i as i64 / orders as i64;
        let method = PaymentMethod::ALL[rng.below(5) as usize];
        let (status, by) = match rng.below(20) {
            0..=13 => (OrderStatus::Completed, None),
            14..=16 => (OrderStatus::Expired, None),
            17 => (OrderStatus::Cancelled, Some(CancelledBy::Buyer)),
            18 => (OrderStatus::ReturnedToSender, None),
            _ => (OrderStatus::AwaitingPayment, None),
        };
        let after = (5 + rng.below(2_000) as i64) * 60_000;
        let open = status == OrderStatus::AwaitingPayment;
        rows.push(OrderRow {
            id,
            customer_id: rng.below((orders / 4).max(1) as u64) as i64 + 1,
            status,
            method,
            cancelled_by: by,
            band: Some(Band::ALL[rng.below(3) as usize]),
            source: Source::ALL[rng.below(5) as usize],
            placed_at,
            ended_at: (!open).then_some(placed_at + after),
            delivered_at: (!open).then_some(placed_at + after),
            pay_by: (method != PaymentMethod::Cod).then_some(placed_at + 24 * 3_600_000),
            total: 50_000 + rng.below(300) as i64 * 1_000,
            ship_cost: 12_000,
            return_cost: 12_000,
        });
        for line in 0..1 + rng.below(2) {
            items.push(ItemRow {
                order_id: id,
                sku: format!("SKU-{:03}", (rng.below(200) + line) % 200),
                qty: 1 + rng.below(2) as i64,
                amount: 75_000,
            });
        }
        if after > 3 * 3_600_000 || open {
            reminders.push((id, placed_at + 3 * 3_600_000, true));
            if rng.below(2) == 0 {
                reminders.push((id, placed_at + 12 * 3_600_000, true));
            }
        }
    }
    (rows, items, reminders)
}

fn year() -> Filter {
    Filter {
        from: date_day(jiff::civil::date(2025, 12, 1)),
        to: date_day(jiff::civil::date(2026, 11, 30)),
        source: None,
        method: None,
        band: None,
        sku: None,
        within_hours: 6,
    }
}

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let value = f();
        best = best.min(started.elapsed());
        out = Some(value);
    }
    (best, out.expect("RUNS > 0"))
}

pub(crate) async fn run(orders: usize, stored: usize) -> anyhow::Result<()> {
    println!("analytics: every metric of a year over {orders} orders (facts in memory)");
    let (rows, items, reminders) = generate(orders);
    let started = Instant::now();
    let mut facts = Facts::default();
    facts.upsert(rows, items, reminders, &jiff::tz::TimeZone::UTC);
    println!(
        "  facts built from the rows read: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let (took, summary) = best(|| facts.summary(&year()));
    println!(
        "  summary (counts, rates, time to pay, reminders, stock-hours, COD, buyers, series, 4 breakdowns, 12 cohorts): {:.0} ms, best of {RUNS}; {} placed, {:.1}% hit-and-run",
        took.as_secs_f64() * 1e3,
        summary.placed,
        summary.hit_and_run_rate * 100.0
    );
    println!(
        "  ratio to the 1 s bound: {:.1}× faster",
        BOUND.as_secs_f64() / took.as_secs_f64()
    );
    let (filtered, _) = best(|| {
        facts.summary(&Filter {
            sku: Some("SKU-007".into()),
            method: Some(PaymentMethod::BankTransfer),
            ..year()
        })
    });
    println!(
        "  narrowed to one product and one method: {:.0} ms ({:.1}× the bound)",
        filtered.as_secs_f64() * 1e3,
        BOUND.as_secs_f64() / filtered.as_secs_f64()
    );
    // The what-if simulator over the same million orders: the store's default policy, then
    // two hours to pay with one reminder, against the 10 s bound.
    let settings = lunas_core::Settings::default();
    let started = Instant::now();
    let own = lunas_core::simulate::simulate(&facts, &year(), &settings);
    let took = started.elapsed();
    println!(
        "  simulation under the default policy: {:.2} s for {} finished orders ({:.1}× under the 10 s bound)",
        took.as_secs_f64(),
        own.orders,
        10.0 / took.as_secs_f64()
    );
    let mut short = settings.clone();
    let two_hours = lunas_core::PayWindow::parse("2h")?;
    short.payment_windows.bank_transfer = two_hours;
    short.payment_windows.virtual_account = two_hours;
    short.payment_windows.ewallet = two_hours;
    short.payment_windows.qris = two_hours;
    let cadence: lunas_core::reminders::Cadence = serde_json::from_value(
        serde_json::json!({"steps": [{"after_order": "30m"}], "max_count": 1}),
    )?;
    short.reminders.bank_transfer = cadence.clone();
    short.reminders.virtual_account = cadence.clone();
    short.reminders.ewallet = cadence.clone();
    short.reminders.qris = cadence;
    let started = Instant::now();
    let other = lunas_core::simulate::simulate(&facts, &year(), &short);
    let took = started.elapsed();
    println!(
        "  simulation under two hours to pay: {:.2} s ({:.1}× under the bound); paid {:.0} → {:.0}, stock-hours unpaid {:.0} → {:.0}",
        took.as_secs_f64(),
        10.0 / took.as_secs_f64(),
        other.actual.paid,
        other.simulated.paid,
        other.actual.stock_hours_unpaid,
        other.simulated.stock_hours_unpaid
    );
    stored_store(stored).await
}

/// Reading the facts from SQLite: the first summary of a server (every row), and one after a
/// hundred orders were placed (the changed rows only).
async fn stored_store(orders: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = lunas_store::DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("analytics.db").display()
    ))?;
    let store = lunas_store::Store::open(&url, Default::default()).await?;
    store.migrate().await?;
    let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
    let clock = Arc::new(lunas_engine::ManualClock::new(now));
    let engine = lunas_engine::Engine::new(store.clone(), clock).await?;
    let mut table = vec![
        "order_id,placed_at,status,phone,name,sku,product,qty,unit_price,payment_method,paid_at"
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    ];
    let mut rng = Rng(42);
    for i in 0..orders {
        let day = jiff::civil::date(2025, 12, 1)
            .checked_add(jiff::Span::new().days((i * 364 / orders) as i64))?;
        let paid = rng.below(5) != 0;
        table.push(vec![
            format!("B-{i}"),
            format!("{day} 10:00"),
            if paid { "paid" } else { "expired" }.to_owned(),
            format!("0812{:08}", rng.below((orders / 4) as u64)),
            "Pembeli".to_owned(),
            format!("SKU-{:03}", rng.below(100)),
            format!("Produk {}", rng.below(100)),
            "1".to_owned(),
            "75000".to_owned(),
            "bank_transfer".to_owned(),
            if paid {
                format!("{day} 12:00")
            } else {
                String::new()
            },
        ]);
    }
    println!("analytics: the facts read from SQLite, {orders} imported orders");
    let started = Instant::now();
    let outcome = engine.import_orders(table, false, false).await?;
    anyhow::ensure!(outcome.errors.is_empty(), "{:?}", &outcome.errors[..1]);
    println!(
        "  imported in {:.1} s ({:.0} orders/s)",
        started.elapsed().as_secs_f64(),
        orders as f64 / started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let first = engine.analytics_summary(year()).await?;
    let cold = started.elapsed();
    for i in 0..100 {
        engine
            .import_orders(
                vec![
                    "order_id,placed_at,status,phone,name,product,qty,unit_price"
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                    vec![
                        format!("N-{i}"),
                        "2026-11-29 10:00".into(),
                        "paid".into(),
                        "081299999999".into(),
                        "Baru".into(),
                        "Produk 1".into(),
                        "1".into(),
                        "75000".into(),
                    ],
                ],
                false,
                false,
            )
            .await?;
    }
    let started = Instant::now();
    let after = engine.analytics_summary(year()).await?;
    let warm = started.elapsed();
    anyhow::ensure!(
        after.placed == first.placed + 100,
        "the refresh saw the new orders"
    );
    println!(
        "  first summary (every row read): {:.0} ms; after 100 new orders (changed rows read): {:.0} ms ({:.1}× the bound)",
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        BOUND.as_secs_f64() / warm.as_secs_f64()
    );
    store.close().await;
    Ok(())
}
