//! The order desk core through the engine, on a real SQLite file and a real PostgreSQL database,
//! with a clock the tests drive.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::catalog::ProductInput;
use lunas_core::placing::{IdempotencyKey, NewOrderLine, OrderOpError, PlaceError};
use lunas_core::{
    Actor, CustomerInfo, HoldState, Money, OrderId, OrderStatus, PayWindow, PaymentMethod, Phone,
    Quantity, Sku, Timestamp,
};
use lunas_engine::{Engine, Error, ManualClock, PlaceOrder};
use lunas_store::testing::{Backend, TestDb};
use lunas_store::{DatabaseUrl, OpenOptions, Store, StoreError};

struct TestStore {
    db: TestDb,
    store: Store,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
}

fn start_time() -> Timestamp {
    "2026-11-22T03:00:00Z".parse().unwrap()
}

impl TestStore {
    async fn new(backend: Backend) -> TestStore {
        let db = TestDb::new(backend);
        let clock = Arc::new(ManualClock::new(start_time()));
        let store = db.open().await;
        let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await.unwrap());
        TestStore {
            db,
            store,
            clock,
            engine,
        }
    }

    /// Stops everything and starts again on the same file, as a process restart would.
    async fn restart(self) -> TestStore {
        let TestStore {
            db,
            store,
            clock,
            engine,
        } = self;
        drop(engine);
        store.close().await;
        let store = db.open().await;
        let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await.unwrap());
        TestStore {
            db,
            store,
            clock,
            engine,
        }
    }

    /// Places an order that must succeed; returns its id.
    async fn place(&self, request: PlaceOrder) -> OrderId {
        self.engine.place_order(request).await.unwrap().order.id
    }

    async fn product(&self, sku: &str, stock: i64, price: i64) {
        self.engine
            .put_product(ProductInput {
                sku: Sku::parse(sku).unwrap(),
                name: format!("Produk {sku}"),
                price: Money::price(price).unwrap(),
                stock,
                tips: None,
                variant: None,
            })
            .await
            .unwrap();
    }

    async fn stock(&self, sku: &str) -> (i64, i64, i64) {
        let p = self
            .engine
            .product(Sku::parse(sku).unwrap())
            .await
            .unwrap()
            .unwrap();
        (p.on_hand, p.reserved, p.available)
    }

    async fn assert_consistent(&self) {
        let problems = self.store.consistency_report().await.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }
}

fn order(
    phone: &str,
    lines: &[(&str, i64)],
    method: PaymentMethod,
    within: Option<&str>,
) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse(phone).unwrap(),
            name: "Sari".into(),
            email: None,
            honorific: None,
        },
        lines: lines
            .iter()
            .map(|(sku, qty)| NewOrderLine {
                sku: Sku::parse(sku).unwrap(),
                qty: Quantity::new(*qty).unwrap(),
            })
            .collect(),
        payment_method: method,
        pay_within: within.map(|w| PayWindow::parse(w).unwrap()),
        actor: Actor::api_token("test"),
        idempotency: None,
        note: None,
    }
}

fn money(amount: i64) -> Money {
    Money::payment(amount).unwrap()
}

async fn placing_an_order_holds_its_stock_until_the_deadline(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("GAMIS", 5, 150_000).await;
    let placed = t
        .engine
        .place_order(order(
            "0812-3456-7890",
            &[("GAMIS", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(placed.order.status, OrderStatus::AwaitingPayment);
    assert_eq!(placed.order.total, money(300_000));
    assert_eq!(
        placed.order.pay_by,
        Some(start_time() + SignedDuration::from_hours(24))
    );
    assert_eq!(t.stock("GAMIS").await, (5, 2, 3));
    assert_eq!(placed.order.events.len(), 1);
    t.assert_consistent().await;
}

/// A timer that cannot be handled (its kind is damaged) is pushed back a minute and the batch
/// runs again one timer at a time, so the other timers of the batch still fire.
async fn a_timer_that_fails_is_pushed_back_and_the_others_still_fire(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("GAMIS", 5, 150_000).await;
    let placed = t
        .engine
        .place_order(order(
            "081234567890",
            &[("GAMIS", 1)],
            PaymentMethod::Qris,
            Some("30m"),
        ))
        .await
        .unwrap();
    // The damaged timer belongs to another order (a COD one, which has no timers of its own),
    // and is due first, so it comes first in the batch.
    let other = t
        .engine
        .place_order(order(
            "081298765432",
            &[("GAMIS", 1)],
            PaymentMethod::Cod,
            None,
        ))
        .await
        .unwrap();
    let other = other.order.id.0;
    t.db.sql(&format!(
        "INSERT INTO timers (id, due_at, kind, order_id) VALUES (999999, 1, 'no-such-kind', {other})"
    ));
    t.clock.advance(SignedDuration::from_mins(30));
    let fired = t.engine.tick().await.unwrap().timers;
    assert_eq!((fired.expired, fired.failed), (1, 1), "{fired:?}");
    let expired = t.engine.order(placed.order.id).await.unwrap().unwrap();
    assert_eq!(expired.status, OrderStatus::Expired);
    assert_eq!(
        t.stock("GAMIS").await,
        (5, 1, 4),
        "the COD order still holds its unit"
    );
    let now_ms = lunas_engine::Clock::now(&*t.clock).as_millisecond();
    assert_eq!(
        t.db.scalar("SELECT due_at FROM timers WHERE id = 999999"),
        now_ms + 60_000,
        "the damaged timer is kept, pushed back a minute"
    );
    t.assert_consistent().await;
}

async fn expired_hold_returns_stock_to_sale_exactly_once(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("GAMIS", 5, 150_000).await;
    let placed = t
        .engine
        .place_order(order(
            "081234567890",
            &[("GAMIS", 2)],
            PaymentMethod::Qris,
            Some("30m"),
        ))
        .await
        .unwrap();

    t.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(t.engine.tick().await.unwrap().timers.expired, 0);
    assert_eq!(t.stock("GAMIS").await, (5, 2, 3));

    t.clock.advance(SignedDuration::from_mins(1));
    assert_eq!(t.engine.tick().await.unwrap().timers.expired, 1);
    assert_eq!(
        t.engine.tick().await.unwrap().timers.fired,
        0,
        "the timer fires once"
    );
    let expired = t.engine.order(placed.order.id).await.unwrap().unwrap();
    assert_eq!(expired.status, OrderStatus::Expired);
    assert_eq!(expired.items[0].hold, HoldState::Released);
    assert_eq!(t.stock("GAMIS").await, (5, 0, 5));
    let last = expired.events.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.actor.as_str()),
        (
            Some(OrderStatus::AwaitingPayment),
            OrderStatus::Expired,
            "system"
        )
    );
    t.assert_consistent().await;
}

async fn full_payment_turns_the_hold_into_a_sale_and_partial_payments_are_kept(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("KOPI", 10, 85_000).await;
    let id = t
        .place(order(
            "081234567890",
            &[("KOPI", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await;
    let partial = t
        .engine
        .record_payment(
            id,
            money(100_000),
            Some("BCA 1".into()),
            Actor::api_token("test"),
        )
        .await
        .unwrap();
    assert_eq!(
        (partial.status, partial.amount_paid),
        (OrderStatus::AwaitingPayment, money(100_000))
    );
    assert_eq!(t.stock("KOPI").await, (10, 2, 8));
    // The rest is the total with the transfer's unique code, less what came first.
    let rest = partial.amount_due.minor_units() - 100_000;
    assert!(rest > 70_000 && rest < 71_000, "{rest}");
    let paid = t
        .engine
        .record_payment(id, money(rest), None, Actor::api_token("test"))
        .await
        .unwrap();
    assert_eq!(
        (paid.status, paid.amount_paid),
        (OrderStatus::Paid, partial.amount_due)
    );
    assert_eq!(paid.payments.len(), 2);
    assert_eq!(paid.items[0].hold, HoldState::Converted);
    assert_eq!(t.stock("KOPI").await, (8, 0, 8));

    // The deadline passing later changes nothing.
    t.clock.advance(SignedDuration::from_hours(48));
    t.engine.tick().await.unwrap();
    assert_eq!(
        t.engine.order(id).await.unwrap().unwrap().status,
        OrderStatus::Paid
    );
    assert_eq!(t.stock("KOPI").await, (8, 0, 8));
    t.assert_consistent().await;
}

async fn cancelling_releases_the_hold_and_later_actions_are_invalid_transitions(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("KOPI", 3, 85_000).await;
    let id = t
        .place(order(
            "081234567890",
            &[("KOPI", 3)],
            PaymentMethod::Cod,
            None,
        ))
        .await;
    assert_eq!(t.stock("KOPI").await, (3, 3, 0));
    let cancelled = t
        .engine
        .cancel_order(id, "salah pilih".into(), Actor::api_token("test"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        cancelled.events.last().unwrap().reason.as_deref(),
        Some("salah pilih")
    );
    assert_eq!(t.stock("KOPI").await, (3, 0, 3));
    let again = t
        .engine
        .cancel_order(id, "lagi".into(), Actor::api_token("test"))
        .await;
    assert!(matches!(
        again,
        Err(Error::Order(OrderOpError::InvalidTransition(_)))
    ));
    let pay = t
        .engine
        .record_payment(id, money(1), None, Actor::api_token("test"))
        .await;
    assert!(matches!(
        pay,
        Err(Error::Order(OrderOpError::InvalidTransition(_)))
    ));
    let missing = t
        .engine
        .cancel_order(OrderId(999), "x".into(), Actor::api_token("test"))
        .await;
    assert!(matches!(missing, Err(Error::Order(OrderOpError::NotFound))));
    t.assert_consistent().await;
}

/// A COD order has no payment deadline: once its buyer confirmed it, it holds its stock until
/// it is packed or cancelled (the confirmation's own window is in `tests/fulfilment.rs`).
async fn cod_orders_have_no_deadline_and_hold_until_cancelled(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("SAMBAL", 4, 45_000).await;
    let placed = t
        .engine
        .place_order(order(
            "081234567890",
            &[("SAMBAL", 1)],
            PaymentMethod::Cod,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(placed.order.pay_by, None);
    assert_eq!(placed.order.status, OrderStatus::AwaitingConfirmation);
    t.engine
        .step_order(
            placed.order.id,
            lunas_core::fulfilment::Step::ConfirmCod,
            Default::default(),
            None,
            Actor::api_token("test"),
        )
        .await
        .unwrap();
    t.clock.advance(SignedDuration::from_hours(24 * 30));
    t.engine.tick().await.unwrap();
    assert_eq!(
        t.engine
            .order(placed.order.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        OrderStatus::Confirmed
    );
    assert_eq!(t.stock("SAMBAL").await, (4, 1, 3));
    let rejected = t
        .engine
        .place_order(order(
            "081234567890",
            &[("SAMBAL", 1)],
            PaymentMethod::Cod,
            Some("1h"),
        ))
        .await;
    assert!(matches!(rejected, Err(Error::PayWithinOnCod)));
}

async fn an_order_succeeds_for_all_items_or_for_none(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 5, 10_000).await;
    t.product("B", 1, 10_000).await;
    let short = t
        .engine
        .place_order(order(
            "081234567890",
            &[("A", 2), ("B", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await;
    assert!(
        matches!(short, Err(Error::Place(PlaceError::OutOfStock { ref sku, requested: 2, available: 1 })) if sku.as_str() == "B")
    );
    let unknown = t
        .engine
        .place_order(order(
            "081234567890",
            &[("A", 2), ("NOPE", 1)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await;
    assert!(matches!(
        unknown,
        Err(Error::Place(PlaceError::UnknownSku { .. }))
    ));
    assert_eq!(t.stock("A").await, (5, 0, 5));
    let totals = t.store.totals().await.unwrap();
    assert_eq!(
        (
            totals.orders,
            totals.customers,
            totals.timers,
            totals.events
        ),
        (0, 0, 0, 0)
    );
}

async fn a_refused_order_says_why_and_holds_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 1, 10_000).await;
    t.product("GRATIS", 5, 0).await;
    let place = |lines: &'static [(&'static str, i64)]| {
        t.engine.place_order(order(
            "081234567890",
            lines,
            PaymentMethod::BankTransfer,
            None,
        ))
    };
    // One line (a single conditional update decides) and several (read, decide, then write).
    assert!(matches!(
        place(&[("A", 2)]).await,
        Err(Error::Place(PlaceError::OutOfStock {
            requested: 2,
            available: 1,
            ..
        }))
    ));
    assert!(matches!(
        place(&[("NOPE", 1)]).await,
        Err(Error::Place(PlaceError::UnknownSku { .. }))
    ));
    assert!(matches!(
        place(&[("GRATIS", 1)]).await,
        Err(Error::Place(PlaceError::ZeroTotal))
    ));
    assert!(matches!(
        place(&[("GRATIS", 1), ("GRATIS", 2)]).await,
        Err(Error::Place(PlaceError::ZeroTotal))
    ));
    // The same product on two lines counts once against its stock.
    assert!(matches!(
        place(&[("A", 1), ("A", 1)]).await,
        Err(Error::Place(PlaceError::OutOfStock {
            requested: 1,
            available: 0,
            ..
        }))
    ));
    assert_eq!(t.stock("A").await, (1, 0, 1));
    assert_eq!(t.stock("GRATIS").await, (5, 0, 5));
    assert_eq!(t.store.totals().await.unwrap().orders, 0);
    // And the last unit still sells.
    t.place(order(
        "081234567890",
        &[("A", 1)],
        PaymentMethod::BankTransfer,
        None,
    ))
    .await;
    assert_eq!(t.stock("A").await, (1, 1, 0));
    t.assert_consistent().await;
}

async fn one_buyer_whatever_way_the_phone_number_is_written(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 10, 10_000).await;
    for phone in ["081234567890", "6281234567890", "+62 812-3456-7890"] {
        let placed = t
            .engine
            .place_order(order(phone, &[("A", 1)], PaymentMethod::BankTransfer, None))
            .await
            .unwrap();
        assert_eq!(placed.order.customer.phone.as_str(), "+6281234567890");
    }
    assert_eq!(t.store.totals().await.unwrap().customers, 1);
}

async fn idempotency_key_replays_the_first_order_even_under_concurrency(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 100, 10_000).await;
    let key = |hash: &str| IdempotencyKey {
        scope: "test".into(),
        key: "k-1".into(),
        request_hash: hash.into(),
    };
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let engine = t.engine.clone();
        let mut request = order(
            "081234567890",
            &[("A", 1)],
            PaymentMethod::BankTransfer,
            None,
        );
        request.idempotency = Some(key("same"));
        tasks.push(tokio::spawn(async move {
            engine.place_order(request).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    let mut replays = 0;
    for task in tasks {
        let placed = task.await.unwrap();
        ids.push(placed.order.id);
        replays += usize::from(placed.replayed);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every request got the same order");
    assert_eq!(replays, 15);
    assert_eq!(t.store.totals().await.unwrap().orders, 1);
    assert_eq!(t.stock("A").await, (100, 1, 99));

    let mut different = order(
        "081234567890",
        &[("A", 2)],
        PaymentMethod::BankTransfer,
        None,
    );
    different.idempotency = Some(key("other"));
    assert!(matches!(
        t.engine.place_order(different).await,
        Err(Error::Place(PlaceError::IdempotencyKeyReused))
    ));
}

async fn concurrent_orders_for_the_last_units_never_oversell(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("LAST", 7, 10_000).await;
    assert_eq!(race(&[t.engine.clone()], 50, "LAST").await, 7);
    assert_eq!(t.stock("LAST").await, (7, 7, 0));
    t.assert_consistent().await;
}

/// `buyers` new buyers order one `sku` each, all at once, through `engines` in turn; returns how
/// many orders were placed (every other buyer must be told `out_of_stock`).
async fn race(engines: &[Arc<Engine>], buyers: usize, sku: &'static str) -> usize {
    let mut tasks = Vec::new();
    for i in 0..buyers {
        let engine = engines[i % engines.len()].clone();
        tasks.push(tokio::spawn(async move {
            engine
                .place_order(order(
                    &format!("+62812{:08}", 10_000_000 + i),
                    &[(sku, 1)],
                    PaymentMethod::Qris,
                    None,
                ))
                .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Place(PlaceError::OutOfStock { .. })) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    ok
}

/// The same race as a flash sale runs it on PostgreSQL: two processes remembering sold-out SKUs
/// and taking turns per SKU, sixty buyers at once for seven units — exactly seven orders.
async fn a_flash_sale_across_two_processes_sells_exactly_its_stock(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("LIVE", 7, 10_000).await;
    let other = Arc::new(
        Engine::new(t.db.open().await, t.clock.clone())
            .await
            .unwrap(),
    );
    let postgres = backend == Backend::Postgres;
    assert_eq!(t.engine.watch_sold_out().await, postgres);
    assert_eq!(other.watch_sold_out().await, postgres);
    assert_eq!(race(&[t.engine.clone(), other], 60, "LIVE").await, 7);
    assert_eq!(t.stock("LIVE").await, (7, 7, 0));
    t.assert_consistent().await;
}

/// On PostgreSQL concurrent placements share batches, written with a statement per step for the
/// whole batch: one refused (a discount above its total) holds nothing, the others beside it are
/// placed, and once the SKU is gone the rest are refused — the same outcome as one transaction
/// each (SQLite).
async fn placements_sharing_a_transaction_are_each_all_or_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("LIVE", 20, 10_000).await;
    t.engine.watch_sold_out().await;
    let place_all = |first: usize, count: usize| {
        let tasks: Vec<_> = (first..first + count)
            .map(|i| {
                let engine = t.engine.clone();
                tokio::spawn(async move {
                    let phone = format!("+62812{:08}", 30_000_000 + i);
                    let mut request = order(&phone, &[("LIVE", 1)], PaymentMethod::Qris, None);
                    if i % 2 == 1 {
                        request.charges.discount = Money::from_stored(10_000);
                    }
                    engine.place_order(request).await
                })
            })
            .collect();
        async move {
            let (mut placed, mut discounted, mut sold_out) = (0, 0, 0);
            for task in tasks {
                match task.await.unwrap() {
                    Ok(_) => placed += 1,
                    Err(Error::Place(PlaceError::DiscountAboveTotal { .. })) => discounted += 1,
                    Err(Error::Place(PlaceError::OutOfStock { .. })) => sold_out += 1,
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            (placed, discounted, sold_out)
        }
    };
    // Twenty units for fifteen good orders: every refused one reached its discount.
    assert_eq!(place_all(0, 30).await, (15, 15, 0));
    assert_eq!(t.stock("LIVE").await, (20, 15, 5));
    // Twenty more for the last five units: five placed, the rest refused one way or the other.
    let (placed, discounted, sold_out) = place_all(100, 20).await;
    assert_eq!((placed, discounted + sold_out), (5, 15));
    assert_eq!(t.stock("LIVE").await, (20, 20, 0));
    t.assert_consistent().await;
}

async fn a_payment_racing_the_deadline_ends_paid_or_expired_never_both_never_neither(
    backend: Backend,
) {
    for round in 0..20 {
        let t = TestStore::new(backend).await;
        t.product("A", 1, 50_000).await;
        let id = t
            .place(order(
                "081234567890",
                &[("A", 1)],
                PaymentMethod::Qris,
                Some("10s"),
            ))
            .await;
        t.clock.advance(SignedDuration::from_secs(10));
        let (engine_a, engine_b) = (t.engine.clone(), t.engine.clone());
        let pay = tokio::spawn(async move {
            engine_a
                .record_payment(id, money(50_000), None, Actor::api_token("test"))
                .await
        });
        let tick = tokio::spawn(async move { engine_b.tick().await.unwrap() });
        let (paid, ticked) = (pay.await.unwrap(), tick.await.unwrap());
        let order = t.engine.order(id).await.unwrap().unwrap();
        match order.status {
            OrderStatus::Paid => {
                assert!(paid.is_ok(), "round {round}");
                assert_eq!(ticked.timers.expired, 0);
                assert_eq!(t.stock("A").await, (0, 0, 0));
            }
            OrderStatus::Expired => {
                assert!(
                    matches!(paid, Err(Error::Order(OrderOpError::InvalidTransition(_)))),
                    "round {round}"
                );
                assert_eq!(ticked.timers.expired, 1);
                assert_eq!(t.stock("A").await, (1, 0, 1));
                assert!(order.payments.is_empty());
            }
            other => panic!("round {round}: ended {other:?}"),
        }
        t.assert_consistent().await;
    }
}

async fn an_order_whose_deadline_passed_while_stopped_expires_right_after_start(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 2, 50_000).await;
    let id = t
        .place(order(
            "081234567890",
            &[("A", 2)],
            PaymentMethod::Ewallet,
            Some("5m"),
        ))
        .await;
    let stopped = t.restart().await;
    stopped.clock.advance(SignedDuration::from_hours(3));
    // The first tick after start is the scheduler's first act.
    let first = stopped.engine.tick().await.unwrap();
    assert_eq!(first.timers.expired, 1);
    assert_eq!(
        stopped.engine.order(id).await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    assert_eq!(stopped.stock("A").await, (2, 0, 2));
}

async fn the_scheduler_fires_a_due_timer_by_itself(backend: Backend) {
    // Real time, a one-second window: the scheduler must wake for it on its own. The test waits on
    // the outcome (bounded), not for a fixed time.
    let db = TestDb::new(backend);
    let store = db.open().await;
    let engine = Arc::new(
        Engine::new(store.clone(), Arc::new(lunas_engine::SystemClock))
            .await
            .unwrap(),
    );
    engine
        .put_product(ProductInput {
            sku: Sku::parse("A").unwrap(),
            name: "A".into(),
            price: Money::price(1000).unwrap(),
            stock: 1,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(engine.clone().run_scheduler(async {
        let _ = stopped.await;
    }));
    let id = engine
        .place_order(order(
            "081234567890",
            &[("A", 1)],
            PaymentMethod::Qris,
            Some("1s"),
        ))
        .await
        .unwrap()
        .order
        .id;
    let pay_by = engine.order(id).await.unwrap().unwrap().pay_by.unwrap();
    let expired_at = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let order = engine.order(id).await.unwrap().unwrap();
            if order.status == OrderStatus::Expired {
                return order.events.last().unwrap().at;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the scheduler expired the order");
    let late = expired_at.duration_since(pay_by);
    assert!(
        late >= SignedDuration::ZERO && late < SignedDuration::from_secs(1),
        "fired {late:?} after its due time"
    );
    let _ = stop.send(());
    scheduler.await.unwrap();
}

async fn a_database_from_a_newer_lunas_is_refused(backend: Backend) {
    let db = TestDb::new(backend);
    let store = db.open().await;
    store.close().await;
    match &db.url {
        DatabaseUrl::Sqlite(path) => drop(rusqlite_free_version_bump(path)),
        DatabaseUrl::Postgres(_) => db.pg_sql("UPDATE lunas_schema SET version = 99"),
    }
    for migrate in [true, false] {
        let reopened = Store::open(
            &db.url,
            OpenOptions {
                migrate,
                ..OpenOptions::default()
            },
        )
        .await;
        assert!(matches!(
            reopened,
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}

/// Sets the schema version with the sqlite3-compatible header field, without a SQLite library in
/// this test crate: `user_version` is the big-endian u32 at byte offset 60 of the file header.
fn rusqlite_free_version_bump(path: &std::path::Path) -> std::fs::File {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(60)).unwrap();
    file.write_all(&99u32.to_be_bytes()).unwrap();
    file.sync_all().unwrap();
    file
}

async fn idempotency_keys_are_forgotten_after_24_hours(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.product("A", 10, 10_000).await;
    let keyed = |qty: i64, hash: &str| {
        let mut request = order("081234567890", &[("A", qty)], PaymentMethod::Cod, None);
        request.idempotency = Some(IdempotencyKey {
            scope: "test".into(),
            key: "k-24h".into(),
            request_hash: hash.into(),
        });
        request
    };
    t.engine.place_order(keyed(1, "first")).await.unwrap();
    t.clock.advance(SignedDuration::from_hours(23));
    t.engine.tick().await.unwrap();
    assert!(matches!(
        t.engine.place_order(keyed(2, "second")).await,
        Err(Error::Place(PlaceError::IdempotencyKeyReused))
    ));
    t.clock.advance(SignedDuration::from_hours(2));
    t.engine.tick().await.unwrap();
    let again = t.engine.place_order(keyed(2, "second")).await.unwrap();
    assert!(!again.replayed, "after 24 hours the key is new again");
    assert_eq!(t.store.totals().await.unwrap().orders, 2);
}

/// PostgreSQL only (SQLite has one writer, so nothing else can hold an order): an expiry whose
/// order another transaction holds (a payment under way in another process) does not wait for it
/// (that could deadlock); the timer goes back, due a second later, and fires then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_expiry_whose_order_is_held_elsewhere_waits_for_a_later_tick() {
    let t = TestStore::new(Backend::Postgres).await;
    t.product("GAMIS", 5, 150_000).await;
    let id = t
        .place(order(
            "081234567890",
            &[("GAMIS", 1)],
            PaymentMethod::Qris,
            Some("30m"),
        ))
        .await;
    t.clock.advance(SignedDuration::from_mins(31));
    let held = t.db.pg_hold(&format!(
        "SELECT 1 FROM orders WHERE id = {} FOR NO KEY UPDATE",
        id.0
    ));
    let tick = t.engine.tick().await.unwrap();
    assert_eq!((tick.timers.busy, tick.timers.expired), (1, 0));
    assert_eq!(
        t.store.totals().await.unwrap().timers,
        1,
        "the timer is back"
    );
    drop(held);
    t.clock.advance(SignedDuration::from_secs(1));
    let tick = t.engine.tick().await.unwrap();
    assert_eq!((tick.timers.busy, tick.timers.expired), (0, 1));
    assert_eq!(
        t.engine.order(id).await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    t.assert_consistent().await;
}

/// PostgreSQL only: three engines on one database (as three processes would be) expire 1,500
/// orders over a few buyers and products at once. Every timer fires once and none fails: the
/// batches take product and buyer rows in one order, so they never deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_three_schedulers_expire_shared_buyers_and_products_without_a_failed_timer() {
    let t = TestStore::new(Backend::Postgres).await;
    let skus = ["A", "B", "C", "D", "E"];
    for sku in skus {
        t.product(sku, 100_000, 10_000).await;
    }
    for i in 0..1_500usize {
        let phone = format!("08129000{:04}", i % 15);
        let lines = [(skus[i % 5], 1), (skus[(i * 7 + 1) % 5], 1)];
        let lines: &[(&str, i64)] = if lines[0].0 == lines[1].0 {
            &lines[..1]
        } else {
            &lines
        };
        t.place(order(&phone, lines, PaymentMethod::Qris, Some("30m")))
            .await;
    }
    t.clock.advance(SignedDuration::from_mins(31));
    let mut workers = Vec::new();
    for _ in 0..3 {
        let store = t.db.open().await;
        let engine = Arc::new(
            Engine::new(store, t.clock.clone())
                .await
                .unwrap()
                .with_timer_batch(100),
        );
        workers.push(tokio::spawn(async move {
            let (mut expired, mut failed) = (0, 0);
            loop {
                let tick = engine.tick().await.unwrap();
                expired += tick.timers.expired;
                failed += tick.timers.failed;
                if !tick.more && tick.timers.fired + tick.timers.busy == 0 {
                    return (expired, failed);
                }
            }
        }));
    }
    let (mut expired, mut failed) = (0, 0);
    for worker in workers {
        let (e, f) = worker.await.unwrap();
        expired += e;
        failed += f;
    }
    while t.engine.tick().await.unwrap().more {}
    assert_eq!(failed, 0, "no timer failed");
    assert_eq!(expired, 1_500, "each order expired exactly once");
    let totals = t.store.totals().await.unwrap();
    assert_eq!((totals.reserved_sum, totals.timers), (0, 0));
    let records = t.store.reliability_records().await.unwrap();
    assert_eq!(
        records.iter().map(|(_, r)| r.orders_expired).sum::<i64>(),
        1_500
    );
    t.assert_consistent().await;
}

/// A flash sale on PostgreSQL: once this process found a SKU sold out, its next buyers are
/// refused from memory, without a transaction — until any process frees stock of it, which the
/// schema's trigger announces. On SQLite nothing is remembered: every refusal reads the database.
async fn a_sold_out_sku_is_refused_from_memory_until_any_process_frees_stock(backend: Backend) {
    const SKU: &str = "LIVE-SALE-21";
    let t = TestStore::new(backend).await;
    t.product(SKU, 1, 10_000).await;
    let sku = Sku::parse(SKU).unwrap();
    let postgres = backend == Backend::Postgres;
    assert_eq!(t.engine.watch_sold_out().await, postgres);
    let place = |phone: &'static str| {
        t.engine
            .place_order(order(phone, &[(SKU, 1)], PaymentMethod::BankTransfer, None))
    };
    let sold_out = |result: &Result<lunas_core::placing::Placed, Error>| {
        matches!(
            result,
            Err(Error::Place(PlaceError::OutOfStock { available: 0, .. }))
        )
    };
    let first = place("081234567801").await.unwrap();
    // The database says so, and the store remembers it on PostgreSQL.
    assert!(sold_out(&place("081234567802").await));
    assert_eq!(t.store.is_sold_out(&sku), postgres);

    // A unit added behind lunas's back without the announcement: only memory still refuses.
    if postgres {
        t.db.sql("ALTER TABLE products DISABLE TRIGGER products_stock_freed");
    }
    t.db.sql(&format!(
        "UPDATE products SET on_hand = on_hand + 1 WHERE sku = '{SKU}'"
    ));
    if !postgres {
        place("081234567803").await.unwrap();
        return;
    }
    t.db.sql("ALTER TABLE products ENABLE TRIGGER products_stock_freed");
    assert!(sold_out(&place("081234567803").await));

    // Another process cancels the first order: its hold is freed and announced, and this
    // process forgets the SKU as soon as the announcement arrives (waited for, with a bound).
    let other = Engine::new(t.db.open().await, t.clock.clone())
        .await
        .unwrap();
    other
        .cancel_order(first.order.id, "salah pesan".into(), Actor::system())
        .await
        .unwrap();
    assert!(
        t.store
            .wait_sold_out_forgotten(&sku, std::time::Duration::from_secs(10))
            .await,
        "the announcement never arrived"
    );
    // Two units are free now (the cancelled hold and the one added).
    place("081234567804").await.unwrap();
    place("081234567805").await.unwrap();
    assert!(sold_out(&place("081234567806").await));
}

lunas_store::on_both_backends!(
    a_timer_that_fails_is_pushed_back_and_the_others_still_fire,
    a_sold_out_sku_is_refused_from_memory_until_any_process_frees_stock,
    a_flash_sale_across_two_processes_sells_exactly_its_stock,
    placements_sharing_a_transaction_are_each_all_or_nothing,
    a_refused_order_says_why_and_holds_nothing,
    placing_an_order_holds_its_stock_until_the_deadline,
    expired_hold_returns_stock_to_sale_exactly_once,
    full_payment_turns_the_hold_into_a_sale_and_partial_payments_are_kept,
    cancelling_releases_the_hold_and_later_actions_are_invalid_transitions,
    cod_orders_have_no_deadline_and_hold_until_cancelled,
    an_order_succeeds_for_all_items_or_for_none,
    one_buyer_whatever_way_the_phone_number_is_written,
    idempotency_key_replays_the_first_order_even_under_concurrency,
    concurrent_orders_for_the_last_units_never_oversell,
    a_payment_racing_the_deadline_ends_paid_or_expired_never_both_never_neither,
    an_order_whose_deadline_passed_while_stopped_expires_right_after_start,
    the_scheduler_fires_a_due_timer_by_itself,
    a_database_from_a_newer_lunas_is_refused,
    idempotency_keys_are_forgotten_after_24_hours,
);
