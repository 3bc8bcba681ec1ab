//! Buyer reliability through the engine, on both backends: the record kept with every change,
//! the band it puts a buyer in, and what each band does to the next order.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::catalog::ProductInput;
use lunas_core::fulfilment::Step;
use lunas_core::placing::NewOrderLine;
use lunas_core::reliability::{Band, BandReason, Pin, PolicyRefusal};
use lunas_core::returns::ReturnStep;
use lunas_core::{
    Actor, CancelledBy, CustomerInfo, Honorific, Money, PayWindow, PaymentMethod, Phone, Quantity,
    Sku,
};
use lunas_engine::fulfilment::ShipInfo;
use lunas_engine::returns::ReturnDetails;
use lunas_engine::{Engine, Error, ManualClock, PlaceOrder};
use lunas_store::Store;
use lunas_store::testing::{Backend, TestDb};

struct Shop {
    _db: TestDb,
    store: Store,
    clock: Arc<ManualClock>,
    engine: Engine,
}

async fn shop(backend: Backend) -> Shop {
    let db = TestDb::new(backend);
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new("2026-11-22T03:00:00Z".parse().unwrap()));
    let engine = Engine::new(store.clone(), clock.clone()).await.unwrap();
    engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 1000,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    Shop {
        _db: db,
        store,
        clock,
        engine,
    }
}

fn order(phone: &str, method: PaymentMethod, units: i64) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse(phone).unwrap(),
            name: "Dina".into(),
            email: None,
            honorific: Some(Honorific::Kak),
        },
        lines: vec![NewOrderLine {
            sku: Sku::parse("GAMIS").unwrap(),
            qty: Quantity::new(units).unwrap(),
        }],
        payment_method: method,
        pay_within: None,
        actor: Actor::api_token("test"),
        idempotency: None,
        note: None,
    }
}

impl Shop {
    /// A buyer's order that runs past its deadline unpaid.
    async fn hit_and_run(&self, phone: &str) {
        let placed = self
            .engine
            .place_order(order(phone, PaymentMethod::Qris, 1))
            .await
            .unwrap()
            .order;
        self.clock.advance(SignedDuration::from_hours(2));
        while self.engine.tick().await.unwrap().more {}
        let expired = self.engine.order(placed.id).await.unwrap().unwrap();
        assert_eq!(expired.status, lunas_core::OrderStatus::Expired);
    }

    /// Places and pays an order; returns what was paid (the total with its unique code).
    async fn paid_order(&self, phone: &str) -> i64 {
        let placed = self
            .engine
            .place_order(order(phone, PaymentMethod::BankTransfer, 1))
            .await
            .unwrap()
            .order;
        self.engine
            .record_payment(placed.id, placed.amount_due, None, Actor::api_token("test"))
            .await
            .unwrap();
        placed.amount_due.minor_units()
    }
}

async fn two_orders_run_off_unpaid_put_a_buyer_in_watch_and_the_next_order_gets_its_policy(
    backend: Backend,
) {
    let shop = shop(backend).await;
    let phone = Phone::parse("0813-1111-2222").unwrap();
    let (_, new) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(new.band, Band::Normal);

    shop.hit_and_run("081311112222").await;
    let (_, after_one) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(after_one.band, Band::Normal, "one miss is not a pattern");
    shop.hit_and_run("081311112222").await;
    let (profile, watch) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(watch.band, Band::Watch);
    assert_eq!(watch.reason, BandReason::UnpaidInARow { count: 2 });
    assert_eq!(
        watch.explanation,
        "2 pesanan terakhir berturut-turut tidak dibayar"
    );
    let record = profile.unwrap().record;
    assert_eq!(
        (
            record.orders_placed,
            record.orders_expired,
            record.orders_paid
        ),
        (2, 2, 0)
    );

    // The watch policy: no COD, at most five units, and a payment window of at most two hours.
    assert!(matches!(
        shop.engine
            .place_order(order("081311112222", PaymentMethod::Cod, 1))
            .await,
        Err(Error::Policy(PolicyRefusal::MethodNotAllowed {
            method: PaymentMethod::Cod
        }))
    ));
    assert!(matches!(
        shop.engine
            .place_order(order("081311112222", PaymentMethod::BankTransfer, 6))
            .await,
        Err(Error::Policy(PolicyRefusal::TooManyUnits { max: 5 }))
    ));
    let placed = shop
        .engine
        .place_order(order("081311112222", PaymentMethod::BankTransfer, 1))
        .await
        .unwrap()
        .order;
    assert_eq!(
        placed.pay_by,
        Some(placed.placed_at + SignedDuration::from_hours(2)),
        "the usual 24 hours shortened to 2"
    );
    let policy = placed.policy.clone().unwrap();
    assert_eq!(policy.band, Band::Watch);
    assert_eq!(
        policy.reason,
        "2 pesanan terakhir berturut-turut tidak dibayar"
    );
    assert_eq!(policy.pay_within, Some(PayWindow::parse("2h").unwrap()));
    assert!(!policy.pinned);
    // Read back, the order still says which policy applied and why.
    assert_eq!(
        shop.engine.order(placed.id).await.unwrap().unwrap().policy,
        Some(policy)
    );
    // Refused orders wrote nothing.
    assert_eq!(shop.store.totals().await.unwrap().orders, 3);

    // Paying it ends the run of unpaid orders: back to normal.
    shop.engine
        .record_payment(placed.id, placed.amount_due, None, Actor::api_token("test"))
        .await
        .unwrap();
    let (_, recovered) = shop.engine.assess(&phone).await.unwrap();
    assert_ne!(recovered.reason, BandReason::UnpaidInARow { count: 2 });
}

async fn a_number_blocked_before_it_ever_ordered_is_refused_without_detail(backend: Backend) {
    let shop = shop(backend).await;
    let phone = Phone::parse("+62 812-9999-0000").unwrap();
    assert!(shop.engine.assess(&phone).await.unwrap().0.is_none());
    shop.engine
        .pin_band(
            phone.clone(),
            Some(Pin {
                band: Band::Blocked,
                reason: "pesanan palsu berulang dari grup yang sama".into(),
            }),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();
    let refused = shop
        .engine
        .place_order(order("6281299990000", PaymentMethod::Qris, 1))
        .await;
    match refused {
        Err(Error::Policy(PolicyRefusal::Blocked)) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        PolicyRefusal::Blocked.to_string(),
        "this order cannot be placed",
        "nothing about a list"
    );
    assert_eq!(shop.store.totals().await.unwrap().orders, 0);
    let (profile, blocked) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(blocked.band, Band::Blocked);
    assert_eq!(profile.unwrap().record.orders_placed, 0);

    // Unpinned, the number may order like anyone new.
    shop.engine
        .pin_band(phone.clone(), None, Actor::api_token("owner"))
        .await
        .unwrap();
    shop.engine
        .place_order(order("6281299990000", PaymentMethod::Qris, 1))
        .await
        .unwrap();
}

async fn the_record_counts_every_outcome_and_a_rebuild_derives_the_same(backend: Backend) {
    let shop = shop(backend).await;
    let loyal = "081200000001";
    let mut paid_sum = 0;
    for _ in 0..20 {
        paid_sum += shop.paid_order(loyal).await;
    }
    shop.hit_and_run(loyal).await;
    let (profile, assessment) = shop
        .engine
        .assess(&Phone::parse(loyal).unwrap())
        .await
        .unwrap();
    assert_eq!(
        assessment.band,
        Band::Trusted,
        "one bad order does not condemn a long-standing good buyer: {assessment:?}"
    );
    let record = profile.unwrap().record;
    assert_eq!(
        (
            record.orders_placed,
            record.orders_paid,
            record.orders_expired
        ),
        (21, 20, 1)
    );
    assert_eq!(record.amount_paid, paid_sum);

    // Cancellations: the buyer's count against them, the seller's do not; a partial payment counts
    // as money paid.
    let other = "081200000002";
    for by in [CancelledBy::Buyer, CancelledBy::Seller, CancelledBy::Seller] {
        let placed = shop
            .engine
            .place_order(order(other, PaymentMethod::BankTransfer, 1))
            .await
            .unwrap()
            .order;
        shop.engine
            .record_payment(
                placed.id,
                Money::payment(10_000).unwrap(),
                None,
                Actor::api_token("test"),
            )
            .await
            .unwrap();
        shop.engine
            .cancel_order_by(
                placed.id,
                "ganti model".into(),
                Actor::api_token("test"),
                by,
            )
            .await
            .unwrap();
    }
    let (profile, _) = shop
        .engine
        .assess(&Phone::parse(other).unwrap())
        .await
        .unwrap();
    let record = profile.unwrap().record;
    assert_eq!(
        (
            record.orders_placed,
            record.orders_cancelled_by_buyer,
            record.orders_cancelled_by_seller,
            record.amount_paid
        ),
        (3, 1, 2, 30_000)
    );
    assert!(record.first_order_at.is_some() && record.first_order_at <= record.last_order_at);

    let kept = shop.store.reliability_records().await.unwrap();
    assert_eq!(shop.store.rebuild_reputation().await.unwrap(), 2);
    assert_eq!(shop.store.reliability_records().await.unwrap(), kept);
}

async fn a_buyer_is_exported_whole_and_erased_leaving_only_a_pseudonymous_record(backend: Backend) {
    let shop = shop(backend).await;
    let phone = Phone::parse("0812-3456-7890").unwrap();
    let mut request = order("081234567890", PaymentMethod::BankTransfer, 1);
    request.customer.name = "Sari Wulandari".into();
    request.customer.email = Some("sari.wulandari@example.co.id".into());
    let paid = shop
        .engine
        .place_order(request.clone())
        .await
        .unwrap()
        .order;
    shop.engine
        .record_payment(
            paid.id,
            paid.amount_due,
            Some("BCA 0231".into()),
            Actor::api_token("test"),
        )
        .await
        .unwrap();
    let mut quick = request.clone();
    quick.payment_method = PaymentMethod::Qris;
    let ran = shop.engine.place_order(quick).await.unwrap().order;
    shop.clock.advance(SignedDuration::from_hours(2));
    while shop.engine.tick().await.unwrap().more {}
    shop.store
        .record_inbound(lunas_core::outbox::InboundMessage {
            phone: phone.clone(),
            wa_message_id: "wamid.sari.1".into(),
            kind: lunas_core::conversations::InboundKind::Text,
            body: Some("Kak, ini Sari Wulandari, sudah transfer".into()),
            received_at: shop.engine.now(),
            raw: r#"{"from":"6281234567890","text":"Sari Wulandari"}"#.into(),
        })
        .await
        .unwrap();
    shop.engine
        .set_notes_tags(
            phone.clone(),
            Some(Some("Sari Wulandari, rumah dekat masjid".into())),
            Some(vec!["prank".into()]),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();
    shop.engine
        .pin_band(
            phone.clone(),
            Some(Pin {
                band: Band::Blocked,
                reason: "tidak bayar berulang".into(),
            }),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();

    // Export: every order with its events and payments, every message, her WhatsApp message, the
    // staff's changes.
    let (export, assessment) = shop.engine.export_customer(&phone).await.unwrap().unwrap();
    assert_eq!(assessment.band, Band::Blocked);
    let ids: Vec<_> = export.orders.iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![paid.id, ran.id]);
    assert_eq!(export.orders[0].payments.len(), 1);
    assert!(export.orders[1].events.len() >= 2, "placed and expired");
    let mut expected_messages = 0;
    for id in &ids {
        expected_messages += shop.engine.order_messages(*id).await.unwrap().len();
    }
    assert!(expected_messages >= 4);
    assert_eq!(export.messages.len(), expected_messages);
    assert_eq!(export.inbound.len(), 1);
    assert_eq!(export.audit.len(), 2);
    assert_eq!(export.profile.record.orders_placed, 2);

    // Erase: no table holds her number, name or email any more; orders and money stay.
    let totals = shop.store.totals().await.unwrap();
    let erased = shop
        .engine
        .erase_customer(&phone, Actor::api_token("owner"))
        .await
        .unwrap()
        .unwrap();
    assert!(erased.info.phone.as_str().starts_with("erased-"));
    for needle in [
        "81234567890",
        "Sari Wulandari",
        "sari.wulandari@example",
        "dekat masjid",
    ] {
        assert_eq!(
            shop.store.tables_containing(needle).await.unwrap(),
            Vec::<&str>::new(),
            "{needle} is still somewhere"
        );
    }
    assert_eq!(
        shop.store.totals().await.unwrap(),
        totals,
        "orders and money stay"
    );
    assert_eq!(
        (
            erased.record.orders_placed,
            erased.record.orders_paid,
            erased.record.orders_expired
        ),
        (2, 1, 1),
        "the reliability record stays"
    );
    assert!(shop.engine.export_customer(&phone).await.unwrap().is_none());

    // Erasing again gives the same result; the number, coming back, is still blocked.
    let again = shop
        .engine
        .erase_customer(&phone, Actor::api_token("owner"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.info.phone, erased.info.phone);
    assert!(matches!(
        shop.engine.place_order(request).await,
        Err(Error::Policy(PolicyRefusal::Blocked))
    ));
    let (_, returning) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(returning.band, Band::Blocked);

    // A number lunas never knew cannot be erased.
    assert!(
        shop.engine
            .erase_customer(
                &Phone::parse("081299990000").unwrap(),
                Actor::api_token("owner")
            )
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_watch_buyer_pays_a_deposit_then_the_balance_or_forfeits_the_deposit(backend: Backend) {
    let shop = shop(backend).await;
    let mut settings = (*shop.engine.settings()).clone();
    settings.risk.forfeited_deposit = lunas_core::reliability::ForfeitedDeposit::Refund;
    shop.engine.put_settings(settings).await.unwrap();
    let phone = Phone::parse("081355556666").unwrap();
    shop.engine
        .pin_band(
            phone.clone(),
            Some(Pin {
                band: Band::Watch,
                reason: "dua kali tidak bayar".into(),
            }),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();
    let staff = || Actor::api_token("kasir");
    let money = |rupiah| Money::payment(rupiah).unwrap();

    // The deposit (half, by default) is due within the shortened window.
    let placed = shop
        .engine
        .place_order(order("081355556666", PaymentMethod::BankTransfer, 1))
        .await
        .unwrap()
        .order;
    assert_eq!(placed.deposit, Some(Money::from_stored(75_000)));
    assert_eq!(placed.policy.as_ref().unwrap().deposit, placed.deposit);
    assert_eq!(
        placed.pay_by,
        Some(placed.placed_at + SignedDuration::from_hours(2))
    );
    let part = shop
        .engine
        .record_payment(placed.id, money(50_000), None, staff())
        .await
        .unwrap();
    assert_eq!(part.status, lunas_core::OrderStatus::AwaitingPayment);
    let deposit_paid = shop
        .engine
        .record_payment(placed.id, money(25_000), None, staff())
        .await
        .unwrap();
    assert_eq!(
        deposit_paid.status,
        lunas_core::OrderStatus::AwaitingBalance
    );
    let balance_by = shop.engine.now() + SignedDuration::from_hours(72);
    assert_eq!(
        deposit_paid.pay_by,
        Some(balance_by),
        "three days for the balance"
    );
    assert_eq!(
        deposit_paid.items[0].hold,
        lunas_core::HoldState::Held,
        "the stock stays held"
    );
    // Past the deposit deadline nothing happens: the deposit is in.
    shop.clock.advance(SignedDuration::from_hours(3));
    while shop.engine.tick().await.unwrap().more {}
    assert_eq!(
        shop.engine.order(placed.id).await.unwrap().unwrap().status,
        lunas_core::OrderStatus::AwaitingBalance
    );
    let paid = shop
        .engine
        .record_payment(
            placed.id,
            money(placed.amount_due.minor_units() - 75_000),
            None,
            staff(),
        )
        .await
        .unwrap();
    assert_eq!(paid.status, lunas_core::OrderStatus::Paid);
    assert_eq!(paid.items[0].hold, lunas_core::HoldState::Converted);

    // Another order: the deposit is paid, the balance never comes.
    let second = shop
        .engine
        .place_order(order("081355556666", PaymentMethod::Qris, 2))
        .await
        .unwrap()
        .order;
    assert_eq!(second.deposit, Some(Money::from_stored(150_000)));
    shop.engine
        .record_payment(second.id, money(150_000), None, staff())
        .await
        .unwrap();
    shop.clock.advance(SignedDuration::from_hours(72));
    while shop.engine.tick().await.unwrap().more {}
    let forfeited = shop.engine.order(second.id).await.unwrap().unwrap();
    assert_eq!(forfeited.status, lunas_core::OrderStatus::Expired);
    assert_eq!(forfeited.items[0].hold, lunas_core::HoldState::Released);
    assert_eq!(forfeited.deposit_forfeited.as_deref(), Some("to_refund"));
    assert_eq!(
        forfeited.events.last().unwrap().reason.as_deref(),
        Some("balance deadline passed; the deposit is to be refunded")
    );
    assert_eq!(
        forfeited.amount_paid,
        Money::from_stored(150_000),
        "the money is on record"
    );
    let product = shop
        .engine
        .product(Sku::parse("GAMIS").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((product.on_hand, product.reserved), (999, 0));
    assert!(shop.store.consistency_report().await.unwrap().is_empty());
    let (profile, _) = shop.engine.assess(&phone).await.unwrap();
    assert_eq!(profile.unwrap().record.orders_expired, 1);
}

/// Thousands of random orders over a few dozen buyers — paid, partly paid, run off, cancelled by
/// either side, COD paid at the door, refused or never confirmed, delivered and returned, with
/// deposits and pins along the way: the records kept step by step are exactly
/// what `reputation rebuild` derives from the orders.
async fn records_kept_over_thousands_of_random_orders_equal_a_rebuild(backend: Backend) {
    use rand::{Rng, SeedableRng};
    let shop = shop(backend).await;
    shop.engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 1_000_000,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6c75_6e61);
    let staff = || Actor::api_token("kasir");
    for n in 0..2_000 {
        let phone = format!("08131234{:04}", rng.random_range(0..40));
        if n % 250 == 0 {
            let band = [Band::Trusted, Band::Watch][rng.random_range(0..2)];
            shop.engine
                .pin_band(
                    Phone::parse(&phone).unwrap(),
                    Some(Pin {
                        band,
                        reason: "uji".into(),
                    }),
                    staff(),
                )
                .await
                .unwrap();
        }
        let method = [
            PaymentMethod::BankTransfer,
            PaymentMethod::Qris,
            PaymentMethod::Cod,
        ][rng.random_range(0..3)];
        let Ok(placed) = shop.engine.place_order(order(&phone, method, 1)).await else {
            continue; // a policy refused it (COD for a watch buyer): nothing was written
        };
        let id = placed.order.id;
        let total = placed.order.amount_due.minor_units();
        let step = |step: Step, waybill: Option<String>| {
            let engine = &shop.engine;
            async move {
                let ship = ShipInfo {
                    courier: waybill.as_ref().map(|_| "JNE".to_owned()),
                    waybill,
                    ..ShipInfo::default()
                };
                engine
                    .step_order(id, step, ship, None, staff())
                    .await
                    .unwrap();
            }
        };
        if method == PaymentMethod::Cod {
            // Confirmed and paid at the door, refused at the door, cancelled, or never
            // confirmed (its timer cancels it).
            match rng.random_range(0..5) {
                0 | 1 => {
                    step(Step::ConfirmCod, None).await;
                    step(Step::Ship, Some(format!("W{n}"))).await;
                    step(Step::Deliver, None).await;
                }
                2 => {
                    step(Step::ConfirmCod, None).await;
                    step(Step::Ship, Some(format!("W{n}"))).await;
                    step(Step::ReturnToSender, None).await;
                }
                3 => {
                    let by = [CancelledBy::Buyer, CancelledBy::Seller][rng.random_range(0..2)];
                    shop.engine
                        .cancel_order_by(id, "uji".into(), staff(), by)
                        .await
                        .unwrap();
                }
                _ => {}
            }
            continue;
        }
        match rng.random_range(0..6) {
            0 => {
                // Paid, delivered, and returned: the return counts in the record.
                shop.engine
                    .record_payment(id, Money::payment(total).unwrap(), None, staff())
                    .await
                    .unwrap();
                step(Step::Ship, Some(format!("W{n}"))).await;
                step(Step::Deliver, None).await;
                let order = shop
                    .engine
                    .request_return(id, "rusak".into(), vec![], staff())
                    .await
                    .unwrap();
                let request = order.return_request.unwrap().id;
                for (return_step, resellable) in [
                    (ReturnStep::Approve, None),
                    (ReturnStep::Receive, Some(rng.random_bool(0.5))),
                ] {
                    shop.engine
                        .return_step(
                            request,
                            return_step,
                            ReturnDetails {
                                resellable,
                                ..ReturnDetails::default()
                            },
                            staff(),
                        )
                        .await
                        .unwrap();
                }
            }
            1 => {
                shop.engine
                    .record_payment(id, Money::payment(total).unwrap(), None, staff())
                    .await
                    .unwrap();
            }
            2 => {
                shop.engine
                    .record_payment(id, Money::payment(total / 2).unwrap(), None, staff())
                    .await
                    .unwrap();
            }
            3 => {
                let by = [CancelledBy::Buyer, CancelledBy::Seller][rng.random_range(0..2)];
                shop.engine
                    .cancel_order_by(id, "uji".into(), staff(), by)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        if n % 100 == 99 {
            shop.clock.advance(SignedDuration::from_hours(80));
            while shop.engine.tick().await.unwrap().more {}
        }
    }
    let kept = shop.store.reliability_records().await.unwrap();
    let placed: i64 = kept.iter().map(|(_, r)| r.orders_placed).sum();
    assert_eq!(placed, shop.store.totals().await.unwrap().orders);
    assert!(placed > 1_000, "most orders were placed: {placed}");
    shop.store.rebuild_reputation().await.unwrap();
    assert_eq!(shop.store.reliability_records().await.unwrap(), kept);
    assert!(shop.store.consistency_report().await.unwrap().is_empty());
}

lunas_store::on_both_backends!(
    records_kept_over_thousands_of_random_orders_equal_a_rebuild,
    a_watch_buyer_pays_a_deposit_then_the_balance_or_forfeits_the_deposit,
    a_buyer_is_exported_whole_and_erased_leaving_only_a_pseudonymous_record,
    two_orders_run_off_unpaid_put_a_buyer_in_watch_and_the_next_order_gets_its_policy,
    a_number_blocked_before_it_ever_ordered_is_refused_without_detail,
    the_record_counts_every_outcome_and_a_rebuild_derives_the_same,
);
