//! Analytics over a real store on both databases: an imported history round trip (dry run, the
//! import, a re-import that creates nothing, the figures and buyers' records it makes, a bad row
//! refusing the file), the customer-base fit on it, and facts refreshed piece by piece equal to
//! facts read at once.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::analytics::{Filter, Source, date_day};
use lunas_core::catalog::ProductInput;
use lunas_core::placing::NewOrderLine;
use lunas_core::{Actor, CustomerInfo, Money, PaymentMethod, Phone, Quantity, Sku, Timestamp};
use lunas_engine::clock::Clock;
use lunas_engine::{Engine, ManualClock, PlaceOrder};
use lunas_store::Store;
use lunas_store::testing::{Backend, TestDb};

fn now() -> Timestamp {
    "2026-12-06T03:00:00Z".parse().unwrap()
}

fn year_2025() -> Filter {
    Filter {
        from: date_day(jiff::civil::date(2025, 1, 1)),
        to: date_day(jiff::civil::date(2025, 12, 31)),
        source: None,
        method: None,
        band: None,
        sku: None,
        within_hours: 6,
    }
}

/// What the generated file holds, counted as it is written.
#[derive(Default, Debug)]
struct Expected {
    orders: u64,
    paid: u64,
    hit_and_run: u64,
    paid_by_first_buyer: i64,
}

/// A year of history in lunas's CSV columns: 60 buyers, some loyal, some who run off, one whose
/// number the marketplace masked.
fn history() -> (Vec<Vec<String>>, Expected) {
    let mut table = vec![
        "order_id,placed_at,status,phone,name,product,qty,unit_price,payment_method,paid_at"
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    ];
    let mut expected = Expected::default();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut id = 0;
    for buyer in 0..60u64 {
        // Loyal buyers order every few weeks all year; others once or twice.
        let orders = if buyer % 3 == 0 {
            6 + next(6)
        } else {
            1 + next(2)
        };
        for k in 0..orders {
            id += 1;
            let day = (buyer * 3 + k * 40 + next(20)) % 360;
            let placed = jiff::civil::date(2025, 1, 1)
                .checked_add(jiff::Span::new().days(day as i64))
                .unwrap();
            let (status, paid_at) = match (buyer % 7, next(10)) {
                (0, _) => ("expired", String::new()),
                (_, 0) => ("cancelled", String::new()),
                (_, 1) => ("cod_refused", String::new()),
                _ => ("paid", format!("{placed} 15:00")),
            };
            let method = if status == "cod_refused" {
                "cod"
            } else {
                "bank_transfer"
            };
            let phone = if buyer == 59 {
                "0812****9999".to_owned()
            } else {
                format!("0812{:08}", 1000 + buyer)
            };
            expected.orders += 1;
            match status {
                "paid" => {
                    expected.paid += 1;
                    if buyer == 0 {
                        expected.paid_by_first_buyer += 1;
                    }
                }
                _ => expected.hit_and_run += 1,
            }
            table.push(vec![
                format!("H-{id}"),
                format!("{placed} 10:00"),
                status.to_owned(),
                phone,
                format!("Pembeli {buyer}"),
                ["Gamis Rayon", "Kerudung Voal", "Kopi Gayo"][(id % 3) as usize].to_owned(),
                "1".to_owned(),
                (50_000 + 5_000 * (id % 7)).to_string(),
                method.to_owned(),
                paid_at,
            ]);
        }
    }
    (table, expected)
}

async fn an_imported_history_round_trips(backend: Backend) {
    let db = TestDb::new(backend);
    let store = db.open().await;
    let engine = Engine::new(store.clone(), Arc::new(ManualClock::new(now())))
        .await
        .unwrap();
    let (table, expected) = history();

    let dry = engine
        .import_orders(table.clone(), true, false)
        .await
        .unwrap();
    let report = dry.report.unwrap();
    assert_eq!(report.created as u64, expected.orders);
    assert_eq!((report.new_buyers, report.new_products), (60, 3));
    assert_eq!(
        engine.analytics_summary(year_2025()).await.unwrap().placed,
        0,
        "a dry run writes nothing"
    );

    let done = engine
        .import_orders(table.clone(), false, false)
        .await
        .unwrap();
    assert_eq!(
        done.report.unwrap(),
        report,
        "the dry run said what the import did"
    );
    let again = engine
        .import_orders(table.clone(), false, false)
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!((again.created, again.already as u64), (0, expected.orders));

    let s = engine.analytics_summary(year_2025()).await.unwrap();
    assert_eq!(
        (s.placed, s.paid, s.hit_and_run),
        (expected.orders, expected.paid, expected.hit_and_run)
    );
    assert_eq!(s.by_source.len(), 1);
    assert_eq!(s.by_source[0].key, Source::Imported.as_str());
    // The buyers' records are as if the orders had happened in lunas: equal to a rebuild.
    let records = store.reliability_records().await.unwrap();
    store.rebuild_reputation().await.unwrap();
    assert_eq!(store.reliability_records().await.unwrap(), records);
    let first = records
        .iter()
        .find(|(phone, _)| phone == "+6281200001000")
        .unwrap();
    assert_eq!(first.1.orders_paid, expected.paid_by_first_buyer);
    assert!(
        records
            .iter()
            .any(|(phone, _)| phone == "anon:csv:pembeli 59")
    );

    // A file with one bad row imports nothing, unless the bad rows are skipped.
    let mut bad = table.clone();
    bad.push(vec![
        "H-new".into(),
        "2025-12-30 10:00".into(),
        "paid".into(),
        "0812000019999".into(),
        "X".into(),
        "Gamis Rayon".into(),
        "1".into(),
        "50000".into(),
        "bank_transfer".into(),
        String::new(),
    ]);
    bad.push(vec![
        "H-bad".into(),
        "2030-01-01 10:00".into(),
        "paid".into(),
        "081200001000".into(),
        "X".into(),
        "Gamis Rayon".into(),
        "1".into(),
        "50000".into(),
        "bank_transfer".into(),
        String::new(),
    ]);
    let refused = engine
        .import_orders(bad.clone(), false, false)
        .await
        .unwrap();
    assert!(refused.report.is_none());
    assert_eq!(refused.errors[0].code, "future_time");
    assert_eq!(
        engine.analytics_summary(year_2025()).await.unwrap().placed,
        expected.orders
    );
    let skipped = engine
        .import_orders(bad, false, true)
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!(skipped.created, 1);

    // Twenty loyal buyers came back: the customer-base models fit, and say who is slipping.
    let base = engine
        .customer_base()
        .await
        .unwrap()
        .expect("enough repeat buyers to fit");
    assert!(base.repeat_buyers >= 20, "{}", base.repeat_buyers);
    assert!(base.bgnbd.r > 0.0 && base.bgnbd.alpha > 0.0);
    let fading = base.fading(0.5, 100);
    assert!(
        fading
            .iter()
            .all(|(_, o)| o.p_alive < 0.5 && o.repeat_purchases >= 1)
    );
    let names = engine
        .buyer_names(fading.iter().map(|(id, _)| *id).collect())
        .await
        .unwrap();
    assert_eq!(names.len(), fading.len());
}

async fn put_product(engine: &Engine) {
    engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 500,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
}

fn order(n: u64, method: PaymentMethod) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse(&format!("0813{:08}", n % 25)).unwrap(),
            name: format!("Pembeli {n}"),
            email: None,
            honorific: None,
        },
        lines: vec![NewOrderLine {
            sku: Sku::parse("GAMIS").unwrap(),
            qty: Quantity::new(1 + (n % 3) as i64).unwrap(),
        }],
        payment_method: method,
        pay_within: None,
        actor: Actor::shop(),
        idempotency: None,
        note: None,
    }
}

async fn facts_kept_current_equal_facts_read_at_once(backend: Backend) {
    let db = TestDb::new(backend);
    let store: Store = db.open().await;
    let clock = Arc::new(ManualClock::new(now()));
    let engine = Engine::new(store.clone(), clock.clone()).await.unwrap();
    put_product(&engine).await;
    let filter = Filter {
        from: date_day(jiff::civil::date(2026, 12, 1)),
        to: date_day(jiff::civil::date(2026, 12, 31)),
        ..year_2025()
    };
    let actor = Actor::from_stored("test".into());
    for round in 0..4u64 {
        let mut placed = Vec::new();
        for n in 0..15 {
            let method = if n % 5 == 0 {
                PaymentMethod::Qris
            } else {
                PaymentMethod::BankTransfer
            };
            placed.push(
                engine
                    .place_order(order(round * 100 + n, method))
                    .await
                    .unwrap()
                    .order,
            );
        }
        // Asked between every change, so the answer is kept current by refreshes.
        engine.analytics_summary(filter.clone()).await.unwrap();
        for o in placed
            .iter()
            .filter(|o| o.payment_method != PaymentMethod::Qris)
            .step_by(2)
        {
            engine
                .record_payment(o.id, o.amount_due, None, actor.clone())
                .await
                .unwrap();
        }
        engine.analytics_summary(filter.clone()).await.unwrap();
        clock.advance(SignedDuration::from_hours(30));
        engine.tick().await.unwrap();
    }
    let kept = engine.analytics_summary(filter.clone()).await.unwrap();
    let fresh = Engine::new(store.clone(), clock.clone()).await.unwrap();
    let read_at_once = fresh.analytics_summary(filter).await.unwrap();
    assert_eq!(kept, read_at_once);
    assert_eq!(kept.placed, 60);
    assert!(kept.paid > 0 && kept.hit_and_run > 0, "{kept:?}");
    assert!(kept.reminders.steps.is_empty() || kept.reminders.steps[0].sent > 0);
}

/// An hour on: the buyers whose time to pay has come pay, and the scheduler runs.
async fn next_hour(
    engine: &Engine,
    clock: &ManualClock,
    pending: &mut Vec<(Timestamp, lunas_core::Order)>,
) {
    clock.advance(SignedDuration::from_hours(1));
    let (due, waiting): (Vec<_>, Vec<_>) =
        pending.drain(..).partition(|(at, _)| *at <= clock.now());
    *pending = waiting;
    for (_, o) in due {
        let actor = Actor::from_stored("test".into());
        let _ = engine.record_payment(o.id, o.amount_due, None, actor).await;
    }
    while engine.tick().await.unwrap().more {}
}

/// The simulator with the store's own policy reproduces what happened (within 5%: a hold is
/// released by the tick after its deadline, not at it), and another policy moves the figures the
/// way its model says.
async fn the_simulator_reproduces_the_stores_own_policy(backend: Backend) {
    let db = TestDb::new(backend);
    let store: Store = db.open().await;
    let clock = Arc::new(ManualClock::new(now()));
    let engine = Engine::new(store.clone(), clock.clone()).await.unwrap();
    put_product(&engine).await;
    // Forty orders over ten days; buyers pay after 10 minutes to 20 hours, or never.
    let mut pending: Vec<(Timestamp, lunas_core::Order)> = Vec::new();
    for n in 0..40u64 {
        let placed = engine
            .place_order(order(1_000 + n, PaymentMethod::BankTransfer))
            .await
            .unwrap()
            .order;
        if n % 4 != 3 {
            let after = SignedDuration::from_mins((10 + (n * 97) % 1_190) as i64);
            pending.push((clock.now() + after, placed));
        }
        // Six hours on, an hour at a time, paying whoever is due and ticking.
        for _ in 0..6 {
            next_hour(&engine, &clock, &mut pending).await;
        }
    }
    for _ in 0..48 {
        next_hour(&engine, &clock, &mut pending).await;
    }
    let filter = Filter {
        from: date_day(jiff::civil::date(2026, 12, 1)),
        to: date_day(jiff::civil::date(2026, 12, 31)),
        ..year_2025()
    };
    let own = engine
        .simulate(&serde_json::json!({}), filter.clone())
        .await
        .unwrap();
    assert_eq!(own.orders, 40);
    assert_eq!(own.simulated.paid, own.actual.paid, "{own:?}");
    assert_eq!(own.simulated.hit_and_run, own.actual.hit_and_run);
    assert!(own.actual.hit_and_run >= 10.0, "{own:?}");
    let near = |a: f64, b: f64| (a - b).abs() <= 0.05 * b.max(1.0);
    assert!(
        near(
            own.simulated.stock_hours_unpaid,
            own.actual.stock_hours_unpaid
        ),
        "{own:?}"
    );
    assert!(
        near(own.simulated.messages as f64, own.actual.messages as f64),
        "{own:?}"
    );
    assert_eq!((own.simulated.paid_lost, own.beyond_the_data), (0.0, 0));

    // Two hours to pay (and one reminder after 30 minutes): the slow payers are lost, and the
    // stock is held far less.
    let short = engine
        .simulate(
            &serde_json::json!({
                "payment_windows": {"bank_transfer": "2 jam"},
                "reminders": {"bank_transfer": {"steps": [{"after_order": "30 menit"}], "max_count": 1}}
            }),
            filter.clone(),
        )
        .await
        .unwrap();
    assert!(
        short.simulated.paid_lost > 0.0 && short.simulated.paid < own.actual.paid,
        "{short:?}"
    );
    assert!(
        short.simulated.stock_hours_unpaid < own.actual.stock_hours_unpaid / 3.0,
        "{short:?}"
    );
    // Three days: the history never let an order run that long, so it cannot say.
    let long = engine
        .simulate(
            &serde_json::json!({"payment_windows": {"bank_transfer": "3 hari"}}),
            filter.clone(),
        )
        .await
        .unwrap();
    assert!(long.beyond_the_data > 0, "{long:?}");
    // A policy that refuses the watch band; a policy that is not one.
    let refuse = engine
        .simulate(
            &serde_json::json!({"risk": {"policies": {"normal": {"refuse": true}}}}),
            filter.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        refuse.simulated.refused,
        40 - own.simulated.refused,
        "{refuse:?}"
    );
    assert!(
        engine
            .simulate(
                &serde_json::json!({"payment_windows": {"bank_transfer": "sebentar"}}),
                filter
            )
            .await
            .is_err()
    );
}

lunas_store::on_both_backends!(
    an_imported_history_round_trips,
    facts_kept_current_equal_facts_read_at_once,
    the_simulator_reproduces_the_stores_own_policy
);
