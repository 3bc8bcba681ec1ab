//! The order state machine as a property test: random sequences of place, pay, cancel, time
//! passing (expiry) and restarts, run against the real engine and store and against a model.
//! Invariants checked after every step: stock never negative, on_hand − reserved = available,
//! every hold released or converted exactly once (the store's consistency report), and the
//! engine agrees with the model on every order and product.

use lunas_store::testing::{Backend, TestDb};
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::catalog::ProductInput;
use lunas_core::placing::{NewOrderLine, OrderOpError, PlaceError};
use lunas_core::{
    Actor, CustomerInfo, Money, OrderId, OrderStatus, PayWindow, PaymentMethod, Phone, Quantity,
    Sku, Timestamp,
};
use lunas_engine::{Engine, Error, ManualClock, PlaceOrder};
use lunas_store::Store;
use proptest::prelude::*;

const SKUS: [&str; 3] = ["A", "B", "C"];
const PRICE: i64 = 10_000;

#[derive(Debug, Clone)]
enum Op {
    Place {
        lines: Vec<(usize, i64)>,
        within_secs: i64,
        cod: bool,
    },
    Pay {
        order: usize,
        full: bool,
    },
    Cancel {
        order: usize,
    },
    Advance {
        secs: i64,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (proptest::collection::vec((0..SKUS.len(), 1i64..4), 1..3), 1i64..120, proptest::bool::weighted(0.15))
            .prop_map(|(lines, within_secs, cod)| Op::Place { lines, within_secs, cod }),
        3 => (0usize..16, any::<bool>()).prop_map(|(order, full)| Op::Pay { order, full }),
        1 => (0usize..16).prop_map(|order| Op::Cancel { order }),
        2 => (0i64..90).prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::Restart),
    ]
}

#[derive(Debug, Clone)]
struct ModelOrder {
    id: OrderId,
    status: OrderStatus,
    lines: Vec<(usize, i64)>,
    total: i64,
    paid: i64,
    pay_by: Option<Timestamp>,
    /// A COD order's time to be confirmed by its buyer.
    confirm_by: Option<Timestamp>,
}

#[derive(Debug, Default)]
struct Model {
    on_hand: [i64; 3],
    reserved: [i64; 3],
    orders: Vec<ModelOrder>,
}

fn merge(lines: &[(usize, i64)]) -> Vec<(usize, i64)> {
    let mut merged: BTreeMap<usize, i64> = BTreeMap::new();
    for (sku, qty) in lines {
        *merged.entry(*sku).or_default() += qty;
    }
    merged.into_iter().collect()
}

async fn open(db: &TestDb, clock: Arc<ManualClock>) -> (Store, Arc<Engine>) {
    let store = db.open().await;
    let engine = Arc::new(Engine::new(store.clone(), clock).await.unwrap());
    (store, engine)
}

async fn run(backend: Backend, stock: [i64; 3], ops: Vec<Op>) {
    let db = TestDb::new(backend);
    let clock = Arc::new(ManualClock::new("2026-11-22T03:00:00Z".parse().unwrap()));
    let (mut store, mut engine) = open(&db, clock.clone()).await;
    let mut model = Model {
        on_hand: stock,
        ..Model::default()
    };
    // This test is about the order state machine: no buyer's band restricts an order here (the
    // bands have tests of their own). The reliability records are checked at the end.
    let mut settings = (*engine.settings()).clone();
    settings.risk.watch_after_unpaid_in_a_row = 0;
    settings.risk.watch_below_score_percent = 0;
    engine.put_settings(settings).await.unwrap();
    for (i, sku) in SKUS.iter().enumerate() {
        engine
            .put_product(ProductInput {
                sku: Sku::parse(sku).unwrap(),
                name: sku.to_string(),
                price: Money::price(PRICE).unwrap(),
                stock: stock[i],
                tips: None,
                variant: None,
            })
            .await
            .unwrap();
    }
    let actor = Actor::api_token("prop");
    let mut cancelled_by_buyer = false;
    for op in ops {
        match op {
            Op::Place {
                lines,
                within_secs,
                cod,
            } => {
                let merged = merge(&lines);
                let request = PlaceOrder {
                    address: None,
                    charges: Default::default(),
                    customer: CustomerInfo {
                        phone: Phone::parse("081234567890").unwrap(),
                        name: "Sari".into(),
                        email: None,
                        honorific: None,
                    },
                    lines: merged
                        .iter()
                        .map(|(sku, qty)| NewOrderLine {
                            sku: Sku::parse(SKUS[*sku]).unwrap(),
                            qty: Quantity::new(*qty).unwrap(),
                        })
                        .collect(),
                    payment_method: if cod {
                        PaymentMethod::Cod
                    } else {
                        PaymentMethod::Qris
                    },
                    pay_within: (!cod).then(|| PayWindow::from_seconds(within_secs).unwrap()),
                    actor: actor.clone(),
                    idempotency: None,
                    note: None,
                };
                let fits = merged
                    .iter()
                    .all(|(sku, qty)| model.on_hand[*sku] - model.reserved[*sku] >= *qty);
                match engine.place_order(request).await {
                    Ok(placed) => {
                        assert!(fits, "placed an order the model says does not fit");
                        for (sku, qty) in &merged {
                            model.reserved[*sku] += qty;
                        }
                        let pay_by = (!cod)
                            .then(|| clock.now_for_test() + SignedDuration::from_secs(within_secs));
                        assert_eq!(placed.order.pay_by, pay_by);
                        let confirm_by =
                            cod.then(|| clock.now_for_test() + SignedDuration::from_hours(24));
                        assert_eq!(placed.order.shipment.confirm_by, confirm_by);
                        model.orders.push(ModelOrder {
                            id: placed.order.id,
                            confirm_by,
                            // A COD order waits for its buyer's confirmation instead of money.
                            status: if cod {
                                OrderStatus::AwaitingConfirmation
                            } else {
                                OrderStatus::AwaitingPayment
                            },
                            total: merged.iter().map(|(_, q)| q * PRICE).sum(),
                            lines: merged,
                            paid: 0,
                            pay_by,
                        });
                    }
                    Err(Error::Place(PlaceError::OutOfStock { .. })) => {
                        assert!(!fits, "refused an order that fits")
                    }
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            Op::Pay { order, full } => {
                let Some(m) = model.orders.get_mut(order) else {
                    continue;
                };
                let amount = if full {
                    m.total - m.paid
                } else {
                    (m.total - m.paid + 1) / 2
                };
                let amount = amount.max(1);
                let result = engine
                    .record_payment(m.id, Money::payment(amount).unwrap(), None, actor.clone())
                    .await;
                if m.status == OrderStatus::AwaitingPayment {
                    let paid = result.expect("payment of an order awaiting payment");
                    m.paid += amount;
                    if m.paid >= m.total {
                        m.status = OrderStatus::Paid;
                        for (sku, qty) in &m.lines {
                            model.reserved[*sku] -= qty;
                            model.on_hand[*sku] -= qty;
                        }
                    }
                    assert_eq!(paid.amount_paid.minor_units(), m.paid);
                } else {
                    assert!(matches!(
                        result,
                        Err(Error::Order(OrderOpError::InvalidTransition(_)))
                    ));
                }
            }
            Op::Cancel { order } => {
                let Some(m) = model.orders.get_mut(order) else {
                    continue;
                };
                // Alternate who cancels, so both counters of the records move.
                cancelled_by_buyer = !cancelled_by_buyer;
                let by = if cancelled_by_buyer {
                    lunas_core::CancelledBy::Buyer
                } else {
                    lunas_core::CancelledBy::Seller
                };
                let result = engine
                    .cancel_order_by(m.id, "berubah pikiran".into(), actor.clone(), by)
                    .await;
                if matches!(
                    m.status,
                    OrderStatus::AwaitingPayment | OrderStatus::AwaitingConfirmation
                ) {
                    result.expect("cancel of an order awaiting payment or confirmation");
                    m.status = OrderStatus::Cancelled;
                    for (sku, qty) in &m.lines {
                        model.reserved[*sku] -= qty;
                    }
                } else {
                    assert!(matches!(
                        result,
                        Err(Error::Order(OrderOpError::InvalidTransition(_)))
                    ));
                }
            }
            Op::Advance { secs } => {
                clock.advance(SignedDuration::from_secs(secs));
                let now = clock.now_for_test();
                let mut expired = 0;
                while {
                    let outcome = engine.tick().await.unwrap();
                    expired += outcome.timers.expired;
                    outcome.more
                } {}
                let mut expected = 0;
                for m in model.orders.iter_mut() {
                    if m.status == OrderStatus::AwaitingConfirmation
                        && m.confirm_by.is_some_and(|d| d <= now)
                    {
                        m.status = OrderStatus::Cancelled;
                        for (sku, qty) in &m.lines {
                            model.reserved[*sku] -= qty;
                        }
                    }
                    if m.status == OrderStatus::AwaitingPayment
                        && m.pay_by.is_some_and(|d| d <= now)
                    {
                        m.status = OrderStatus::Expired;
                        expected += 1;
                        for (sku, qty) in &m.lines {
                            model.reserved[*sku] -= qty;
                        }
                    }
                }
                assert_eq!(expired, expected, "expiries this step");
            }
            Op::Restart => {
                drop(engine);
                store.close().await;
                (store, engine) = open(&db, clock.clone()).await;
            }
        }
        // Invariants after every step.
        let problems = store.consistency_report().await.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        for (i, sku) in SKUS.iter().enumerate() {
            let p = engine
                .product(Sku::parse(sku).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert!(
                p.on_hand >= 0 && p.reserved >= 0 && p.available >= 0,
                "{p:?}"
            );
            assert_eq!(p.available, p.on_hand - p.reserved);
            assert_eq!(
                (p.on_hand, p.reserved),
                (model.on_hand[i], model.reserved[i]),
                "{sku}"
            );
        }
        for m in &model.orders {
            let stored = engine.order(m.id).await.unwrap().unwrap();
            assert_eq!(stored.status, m.status, "order {}", m.id);
            // One event for the placement, one per partial payment, one per final transition.
            let transitions = stored
                .events
                .iter()
                .filter(|e| e.from != Some(e.to))
                .count();
            let expected = if matches!(
                m.status,
                OrderStatus::AwaitingPayment | OrderStatus::AwaitingConfirmation
            ) {
                1
            } else {
                2
            };
            assert_eq!(
                transitions, expected,
                "order {} transitions {:?}",
                m.id, stored.events
            );
        }
    }
    // The buyers' records kept step by step are exactly what a rebuild derives from the orders.
    let kept = store.reliability_records().await.unwrap();
    let placed: i64 = kept.iter().map(|(_, r)| r.orders_placed).sum();
    assert_eq!(placed, model.orders.len() as i64);
    let paid: i64 = kept.iter().map(|(_, r)| r.orders_paid).sum();
    let modelled_paid = model
        .orders
        .iter()
        .filter(|m| m.status == OrderStatus::Paid)
        .count();
    assert_eq!(paid, modelled_paid as i64);
    let expired: i64 = kept.iter().map(|(_, r)| r.orders_expired).sum();
    let modelled_expired = model
        .orders
        .iter()
        .filter(|m| m.status == OrderStatus::Expired)
        .count();
    assert_eq!(expired, modelled_expired as i64);
    store.rebuild_reputation().await.unwrap();
    assert_eq!(store.reliability_records().await.unwrap(), kept);
    store.close().await;
}

trait NowForTest {
    fn now_for_test(&self) -> Timestamp;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> Timestamp {
        lunas_engine::Clock::now(self)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn order_state_machine_matches_the_model_on_sqlite(
        stock in proptest::array::uniform3(0i64..6),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        runtime().block_on(run(Backend::Sqlite, stock, ops));
    }

    #[test]
    fn order_state_machine_matches_the_model_on_postgres(
        stock in proptest::array::uniform3(0i64..6),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        runtime().block_on(run(Backend::Postgres, stock, ops));
    }
}
