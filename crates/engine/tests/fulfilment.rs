//! After the payment, through the engine on both databases with a clock the tests drive: packing,
//! shipping, couriers' events (repeated, late, for waybills no order has yet), delivery and the
//! completion timer; COD confirmed, unconfirmed and refused at the door; returns inside and
//! outside their window.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::catalog::ProductInput;
use lunas_core::fulfilment::{Step, StepError};
use lunas_core::messages::MessageKind;
use lunas_core::placing::{NewOrderLine, OrderOpError};
use lunas_core::reliability::PolicyRefusal;
use lunas_core::returns::{ReturnRefusal, ReturnStatus, ReturnStep};
use lunas_core::{
    Actor, CustomerInfo, Money, OrderId, OrderStatus, PaymentMethod, Phone, Quantity, Sku,
    Timestamp,
};
use lunas_engine::fulfilment::{CourierEvent, CourierOutcome, ShipInfo};
use lunas_engine::returns::ReturnDetails;
use lunas_engine::{Engine, Error, ManualClock, PlaceOrder};
use lunas_store::Store;
use lunas_store::testing::{Backend, TestDb};

struct T {
    _db: TestDb,
    store: Store,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
}

fn start_time() -> Timestamp {
    "2026-11-22T03:00:00Z".parse().unwrap()
}

impl T {
    async fn new(backend: Backend) -> T {
        let db = TestDb::new(backend);
        let clock = Arc::new(ManualClock::new(start_time()));
        let store = db.open().await;
        let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await.unwrap());
        engine
            .put_product(ProductInput {
                sku: Sku::parse("GAMIS").unwrap(),
                name: "Gamis Rayon".into(),
                price: Money::price(150_000).unwrap(),
                stock: 5,
                tips: None,
                variant: None,
            })
            .await
            .unwrap();
        T {
            _db: db,
            store,
            clock,
            engine,
        }
    }

    async fn place(&self, phone: &str, method: PaymentMethod) -> Result<OrderId, Error> {
        Ok(self
            .engine
            .place_order(PlaceOrder {
                address: None,
                charges: Default::default(),
                customer: CustomerInfo {
                    phone: Phone::parse(phone).unwrap(),
                    name: "Sari".into(),
                    email: None,
                    honorific: None,
                },
                lines: vec![NewOrderLine {
                    sku: Sku::parse("GAMIS").unwrap(),
                    qty: Quantity::new(1).unwrap(),
                }],
                payment_method: method,
                pay_within: None,
                actor: Actor::api_token("test"),
                idempotency: None,
                note: None,
            })
            .await?
            .order
            .id)
    }

    async fn paid(&self, phone: &str) -> OrderId {
        let id = self.place(phone, PaymentMethod::Qris).await.unwrap();
        let order = self.engine.order(id).await.unwrap().unwrap();
        self.engine
            .record_payment(id, order.amount_due, None, Actor::api_token("test"))
            .await
            .unwrap();
        id
    }

    async fn step(&self, id: OrderId, step: Step, waybill: Option<&str>) -> Result<bool, Error> {
        let ship = ShipInfo {
            courier: waybill.map(|_| "JNE".to_owned()),
            service: waybill.map(|_| "REG".to_owned()),
            waybill: waybill.map(str::to_owned),
            cost: None,
        };
        Ok(self
            .engine
            .step_order(id, step, ship, None, Actor::api_token("test"))
            .await?
            .moved)
    }

    async fn status(&self, id: OrderId) -> OrderStatus {
        self.engine.order(id).await.unwrap().unwrap().status
    }

    /// (on hand, reserved)
    async fn stock(&self) -> (i64, i64) {
        let p = self
            .engine
            .product(Sku::parse("GAMIS").unwrap())
            .await
            .unwrap()
            .unwrap();
        (p.on_hand, p.reserved)
    }

    async fn kinds(&self, id: OrderId) -> Vec<MessageKind> {
        self.engine
            .order_messages(id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.kind)
            .collect()
    }

    async fn consistent(&self) {
        let problems = self.store.consistency_report().await.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }
}

fn event(key: &str, waybill: &str, status: &str, step: Option<Step>) -> CourierEvent {
    CourierEvent {
        source: "biteship",
        key: key.to_owned(),
        waybill: waybill.to_owned(),
        status: status.to_owned(),
        step,
        courier: Some("jne".into()),
        happened_at: None,
    }
}

async fn a_paid_order_is_packed_shipped_delivered_and_completed_by_its_timer(backend: Backend) {
    let t = T::new(backend).await;
    let id = t.paid("081234567890").await;
    assert_eq!(t.stock().await, (4, 0));
    assert!(t.step(id, Step::Pack, None).await.unwrap());
    assert!(
        !t.step(id, Step::Pack, None).await.unwrap(),
        "a repeat changes nothing"
    );
    assert!(t.step(id, Step::Ship, Some("CGK0001")).await.unwrap());
    let order = t.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.shipment.waybill.as_deref(), Some("CGK0001"));
    assert!(order.shipment.tracking_url().unwrap().contains("CGK0001"));
    // The courier says it was delivered.
    let outcome = t
        .engine
        .courier_events(vec![event(
            "e1",
            "CGK0001",
            "delivered",
            Some(Step::Deliver),
        )])
        .await
        .unwrap();
    assert_eq!(outcome, vec![CourierOutcome::Applied(id)]);
    assert_eq!(t.status(id).await, OrderStatus::Delivered);
    assert_eq!(
        t.kinds(id).await[2..],
        [
            MessageKind::Packed,
            MessageKind::Shipped,
            MessageKind::Delivered
        ]
    );
    // Two days later the return window closes and the order is completed.
    t.clock.advance(SignedDuration::from_hours(47));
    t.engine.tick().await.unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Delivered);
    t.clock.advance(SignedDuration::from_hours(2));
    t.engine.tick().await.unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Completed);
    t.consistent().await;
}

async fn nothing_ships_unpaid_and_a_waybill_is_one_orders(backend: Backend) {
    let t = T::new(backend).await;
    let unpaid = t.place("081234567890", PaymentMethod::Qris).await.unwrap();
    assert!(matches!(
        t.step(unpaid, Step::Ship, Some("X1")).await,
        Err(Error::Order(OrderOpError::Step(StepError::NotPaid { .. })))
    ));
    let a = t.paid("081234567891").await;
    let b = t.paid("081234567892").await;
    t.step(a, Step::Ship, Some("X1")).await.unwrap();
    assert!(matches!(
        t.step(b, Step::Ship, Some("X1")).await,
        Err(Error::Order(OrderOpError::WaybillTaken { order, .. })) if order == a
    ));
    assert!(matches!(
        t.step(b, Step::Ship, None).await,
        Err(Error::Order(OrderOpError::WaybillRequired))
    ));
    assert_eq!(t.status(b).await, OrderStatus::Paid, "nothing changed");
    t.consistent().await;
}

async fn courier_events_apply_once_never_backwards_and_wait_for_their_waybill(backend: Backend) {
    let t = T::new(backend).await;
    let id = t.paid("081234567890").await;
    // The courier's events come before staff typed the waybill in: kept, not lost.
    let early = t
        .engine
        .courier_events(vec![event("p1", "JX9", "picked", Some(Step::Ship))])
        .await
        .unwrap();
    assert_eq!(early, vec![CourierOutcome::UnknownWaybill]);
    let kept = t.engine.kept_courier_events(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    t.engine
        .courier_events(vec![event("d1", "JX9", "delivered", Some(Step::Deliver))])
        .await
        .unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Paid);
    // Shipping under that waybill applies what the courier already said.
    t.step(id, Step::Ship, Some("JX9")).await.unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Delivered);
    assert!(t.engine.kept_courier_events(10).await.unwrap().is_empty());
    // The same event a hundred times, and one that comes late: nothing moves.
    let replayed: Vec<_> = (0..100)
        .map(|_| event("d1", "JX9", "delivered", Some(Step::Deliver)))
        .chain([event("p2", "JX9", "dropping_off", Some(Step::Ship))])
        .collect();
    let outcomes = t.engine.courier_events(replayed).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| *o == CourierOutcome::Unchanged(Some(id))),
        "{outcomes:?}"
    );
    assert_eq!(t.status(id).await, OrderStatus::Delivered);
    assert_eq!(
        t.kinds(id)
            .await
            .iter()
            .filter(|k| **k == MessageKind::Delivered)
            .count(),
        1,
        "the buyer hears once"
    );
    t.consistent().await;
}

async fn a_cod_order_waits_for_its_buyers_confirmation(backend: Backend) {
    let t = T::new(backend).await;
    let id = t.place("081234567890", PaymentMethod::Cod).await.unwrap();
    let order = t.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingConfirmation);
    assert_eq!(
        order.shipment.confirm_by,
        Some(start_time() + SignedDuration::from_hours(24))
    );
    assert_eq!(t.kinds(id).await, [MessageKind::CodConfirm]);
    assert!(matches!(
        t.step(id, Step::Pack, None).await,
        Err(Error::Order(OrderOpError::Step(StepError::NotConfirmed)))
    ));
    assert!(t.step(id, Step::ConfirmCod, None).await.unwrap());
    assert_eq!(t.stock().await, (5, 1), "still held until packed");
    t.step(id, Step::Pack, None).await.unwrap();
    assert_eq!(t.stock().await, (4, 0), "packed: the unit left the shelf");
    t.step(id, Step::Ship, Some("COD1")).await.unwrap();
    // The confirmation timer is gone: a day later nothing is cancelled.
    t.clock.advance(SignedDuration::from_hours(25));
    t.engine.tick().await.unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Shipped);
    t.step(id, Step::Deliver, None).await.unwrap();
    let order = t.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.amount_paid, order.amount_due, "paid at the door");
    let buyer = t
        .engine
        .assess(&Phone::parse("081234567890").unwrap())
        .await
        .unwrap()
        .0
        .unwrap();
    assert_eq!(buyer.record.orders_paid, 1);
    t.consistent().await;
}

async fn an_unconfirmed_cod_order_is_cancelled_and_its_stock_goes_back(backend: Backend) {
    let t = T::new(backend).await;
    let id = t.place("081234567890", PaymentMethod::Cod).await.unwrap();
    assert_eq!(t.stock().await, (5, 1));
    t.clock.advance(SignedDuration::from_hours(24));
    let fired = t.engine.tick().await.unwrap().timers;
    assert_eq!(fired.unconfirmed, 1, "{fired:?}");
    assert_eq!(t.status(id).await, OrderStatus::Cancelled);
    assert_eq!(t.stock().await, (5, 0));
    assert_eq!(
        t.kinds(id).await,
        [MessageKind::CodConfirm, MessageKind::Cancelled]
    );
    let buyer = t
        .engine
        .assess(&Phone::parse("081234567890").unwrap())
        .await
        .unwrap()
        .0
        .unwrap();
    assert_eq!(buyer.record.orders_cancelled_by_buyer, 1);
    // The record rebuilt from the orders says the same.
    t.store.rebuild_reputation().await.unwrap();
    let rebuilt = t
        .engine
        .assess(&Phone::parse("081234567890").unwrap())
        .await
        .unwrap()
        .0
        .unwrap();
    assert_eq!(rebuilt.record, buyer.record);
    t.consistent().await;
}

async fn cod_refused_at_the_door_comes_back_and_counts_against_the_buyer(backend: Backend) {
    let t = T::new(backend).await;
    let phone = "081234567890";
    for n in 0..2 {
        let id = t.place(phone, PaymentMethod::Cod).await.unwrap();
        t.step(id, Step::ConfirmCod, None).await.unwrap();
        t.step(id, Step::Ship, Some(&format!("R{n}")))
            .await
            .unwrap();
        assert_eq!(t.stock().await, (4, 0));
        let back = t
            .engine
            .step_order(
                id,
                Step::ReturnToSender,
                ShipInfo::default(),
                Some(Money::price(18_000).unwrap()),
                Actor::api_token("test"),
            )
            .await
            .unwrap();
        assert_eq!(back.order.status, OrderStatus::ReturnedToSender);
        assert_eq!(
            back.order.shipment.return_cost,
            Some(Money::price(18_000).unwrap())
        );
        assert_eq!(t.stock().await, (5, 0), "the parcel's unit is back on sale");
    }
    let buyer = t
        .engine
        .assess(&Phone::parse(phone).unwrap())
        .await
        .unwrap()
        .0
        .unwrap();
    assert_eq!(buyer.record.cod_refused, 2);
    // Two refusals in 60 days: no more COD for this number, a transfer is still fine.
    assert!(matches!(
        t.place(phone, PaymentMethod::Cod).await,
        Err(Error::Policy(PolicyRefusal::CodRefusals {
            refusals: 2,
            days: 60
        }))
    ));
    t.place(phone, PaymentMethod::BankTransfer).await.unwrap();
    // Sixty days on, the refusals no longer count.
    t.clock.advance(SignedDuration::from_hours(24 * 61));
    t.place(phone, PaymentMethod::Cod).await.unwrap();
    t.store.rebuild_reputation().await.unwrap();
    let rebuilt = t
        .engine
        .assess(&Phone::parse(phone).unwrap())
        .await
        .unwrap()
        .0
        .unwrap();
    assert_eq!(rebuilt.record.cod_refused, 2);
    t.consistent().await;
}

async fn a_return_is_taken_inside_its_window_only(backend: Backend) {
    let t = T::new(backend).await;
    let id = t.paid("081234567890").await;
    let buyer = Actor::from_stored("buyer".into());
    // Not delivered yet: nothing to return.
    assert!(matches!(
        t.engine
            .request_return(id, "rusak".into(), vec![], buyer.clone())
            .await,
        Err(Error::Order(OrderOpError::Return(
            ReturnRefusal::NotDelivered { .. }
        )))
    ));
    t.step(id, Step::Ship, Some("RT1")).await.unwrap();
    t.step(id, Step::Deliver, None).await.unwrap();
    t.clock.advance(SignedDuration::from_hours(24));
    let order = t
        .engine
        .request_return(id, "Jahitan lepas".into(), vec![], buyer.clone())
        .await
        .unwrap();
    let request = order.return_request.clone().unwrap();
    assert_eq!(request.status, ReturnStatus::Requested);
    assert!(matches!(
        t.engine
            .request_return(id, "lagi".into(), vec![], buyer.clone())
            .await,
        Err(Error::Order(OrderOpError::Return(
            ReturnRefusal::AlreadyOpen
        )))
    ));
    let staff = Actor::api_token("test");
    let step = |s, d| t.engine.return_step(request.id, s, d, staff.clone());
    assert!(matches!(
        step(ReturnStep::Refund, ReturnDetails::default()).await,
        Err(Error::Order(OrderOpError::ReturnStep(_)))
    ));
    step(ReturnStep::Approve, ReturnDetails::default())
        .await
        .unwrap();
    // The window closes while the return is handled: the order waits for it.
    t.clock.advance(SignedDuration::from_hours(30));
    t.engine.tick().await.unwrap();
    assert_eq!(t.status(id).await, OrderStatus::Delivered);
    assert_eq!(t.stock().await, (4, 0));
    step(
        ReturnStep::Receive,
        ReturnDetails {
            resellable: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(t.stock().await, (5, 0), "resellable: back on sale");
    let done = step(
        ReturnStep::Refund,
        ReturnDetails {
            refund: Some((Money::price(150_000).unwrap(), "transfer BCA".into(), None)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(done.status, OrderStatus::Completed);
    let request = done.return_request.unwrap();
    assert_eq!(
        (request.status, request.refund),
        (ReturnStatus::Refunded, Some(Money::price(150_000).unwrap()))
    );
    assert_eq!(
        t.kinds(id)
            .await
            .iter()
            .filter(|k| **k == MessageKind::ReturnUpdate)
            .count(),
        4
    );
    // Another order, asked after its window: refused with the policy's days.
    let late = t.paid("081234567891").await;
    t.step(late, Step::Ship, Some("RT2")).await.unwrap();
    t.step(late, Step::Deliver, None).await.unwrap();
    t.clock.advance(SignedDuration::from_hours(49));
    assert!(matches!(
        t.engine
            .request_return(late, "telat".into(), vec![], buyer)
            .await,
        Err(Error::Order(OrderOpError::Return(
            ReturnRefusal::OutsideWindow { days: 2 }
        )))
    ));
    t.consistent().await;
}

lunas_store::on_both_backends!(
    a_paid_order_is_packed_shipped_delivered_and_completed_by_its_timer,
    nothing_ships_unpaid_and_a_waybill_is_one_orders,
    courier_events_apply_once_never_backwards_and_wait_for_their_waybill,
    a_cod_order_waits_for_its_buyers_confirmation,
    an_unconfirmed_cod_order_is_cancelled_and_its_stock_goes_back,
    cod_refused_at_the_door_comes_back_and_counts_against_the_buyer,
    a_return_is_taken_inside_its_window_only,
);
