//! Payments that confirm themselves, through the engine on both backends: unique codes, statement
//! matching (and never guessing), gateway notifications (signatures, replays, out-of-order
//! statuses), late money, over- and underpayment, grace periods and the review list.

mod support;

use std::process::Command;

use jiff::SignedDuration;
use lunas_core::ledger::{GatewayOutcome, PaymentEffect, ResolveAction, ReviewKind};
use lunas_core::messages::MessageKind;
use lunas_core::payments::{PaymentSource, RefundReason};
use lunas_core::{Actor, HoldState, Money, OrderId, OrderStatus, PayWindow, PaymentMethod};
use lunas_engine::gateways::{Gateways, MidtransConfig, XenditConfig, midtrans_signature};
use lunas_engine::testing::FakeMidtrans;
use lunas_engine::{Engine, Error};
use lunas_store::testing::Backend;
use support::{Shop, order, shop};

const SERVER_KEY: &str = "SB-Mid-server-uji-rahasia";
const XENDIT_TOKEN: &str = "xnd-callback-uji-rahasia";

fn gateways(engine: Engine, status_api_base: &str) -> Engine {
    engine.with_gateways(Gateways {
        midtrans: Some(MidtransConfig {
            server_key: SERVER_KEY.into(),
            api_base: "http://127.0.0.1:9".into(),
            status_api_base: status_api_base.into(),
        }),
        xendit: Some(XenditConfig {
            callback_token: XENDIT_TOKEN.into(),
            secret_key: None,
            api_base: "http://127.0.0.1:9".into(),
        }),
        mutation_secret: Some("mutasi-rahasia".into()),
        messages_secret: None,
        couriers: Default::default(),
    })
}

/// A shop that takes gateway notifications, beside a fake of Midtrans's status API.
struct PayShop {
    shop: Shop,
    midtrans: FakeMidtrans,
}

impl std::ops::Deref for PayShop {
    type Target = Shop;
    fn deref(&self) -> &Shop {
        &self.shop
    }
}

impl PayShop {
    /// Midtrans sends a genuine notification: its status API knows the transaction too.
    async fn notify(&self, body: &[u8]) -> Result<GatewayOutcome, Error> {
        self.midtrans.learn(body);
        self.engine.midtrans_notification(body).await
    }
}

async fn payments_shop(
    backend: Backend,
    settings: impl FnOnce(&mut lunas_core::Settings),
) -> PayShop {
    let midtrans = FakeMidtrans::start(SERVER_KEY);
    let base = midtrans.base().to_owned();
    let shop = shop(backend, |engine| gateways(engine, &base), settings).await;
    PayShop { shop, midtrans }
}

fn staff() -> Actor {
    Actor::api_token("kasir")
}

/// A Midtrans notification for `order_id`, signed with the test server key.
fn midtrans(order_id: &str, status: &str, gross_amount: &str, transaction_id: &str) -> Vec<u8> {
    // The codes Midtrans sends with each status.
    let status_code = match status {
        "capture" | "settlement" | "cancel" | "refund" | "partial_refund" => "200",
        "pending" => "201",
        "expire" => "407",
        _ => "202",
    };
    serde_json::json!({
        "transaction_time": "2026-11-22 10:20:00",
        "transaction_status": status,
        "transaction_id": transaction_id,
        "status_message": "midtrans payment notification",
        "status_code": status_code,
        "signature_key": midtrans_signature(order_id, status_code, gross_amount, SERVER_KEY),
        "payment_type": "qris",
        "order_id": order_id,
        "merchant_id": "G141532850",
        "gross_amount": gross_amount,
        "fraud_status": "accept",
        "currency": "IDR"
    })
    .to_string()
    .into_bytes()
}

fn gross(amount: Money) -> String {
    format!("{}.00", amount.minor_units())
}

async fn statement(shop: &Shop, lines: &[(&str, i64)]) -> lunas_core::ledger::ImportReport {
    let mut csv = String::from("date,description,amount,balance\n");
    for (description, amount) in lines {
        csv.push_str(&format!("2026-11-22,{description},{amount},\n"));
    }
    shop.engine
        .import_statement(&csv, false, staff())
        .await
        .unwrap()
        .report
}

/// Bu Sari orders one gamis by `method`.
async fn place(shop: &Shop, method: PaymentMethod) -> lunas_core::Order {
    shop.engine
        .place_order(order(method, None, None))
        .await
        .unwrap()
        .order
}

/// A QRIS order of Bu Sari's left unpaid past its two hours: expired.
async fn expired(shop: &Shop) -> lunas_core::Order {
    let late = place(shop, PaymentMethod::Qris).await;
    shop.clock.advance(SignedDuration::from_hours(2));
    while shop.engine.tick().await.unwrap().more {}
    assert_eq!(order_of(shop, late.id).await.status, OrderStatus::Expired);
    late
}

async fn order_of(shop: &Shop, id: OrderId) -> lunas_core::Order {
    shop.engine.order(id).await.unwrap().unwrap()
}

async fn count(shop: &Shop, id: OrderId, kind: MessageKind) -> usize {
    shop.engine
        .order_messages(id)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.kind == kind)
        .count()
}

async fn open_reviews(shop: &Shop) -> Vec<lunas_core::ledger::Review> {
    shop.engine.reviews(false, 0, 100).await.unwrap()
}

/// After every test: the stock, holds, codes and buyers' records agree with the orders.
async fn consistent(shop: &Shop) {
    assert_eq!(
        shop.store.consistency_report().await.unwrap(),
        Vec::<String>::new()
    );
    let kept = shop.store.reliability_records().await.unwrap();
    shop.store.rebuild_reputation().await.unwrap();
    assert_eq!(
        shop.store.reliability_records().await.unwrap(),
        kept,
        "the records kept step by step equal a rebuild"
    );
}

async fn a_bank_transfer_carries_a_unique_code_freed_when_the_order_stops_awaiting_payment(
    backend: Backend,
) {
    // Three codes only, so that the range runs out.
    let shop = payments_shop(backend, |s| {
        s.payments.unique_code.min = 1;
        s.payments.unique_code.max = 3;
    })
    .await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        let order = place(&shop, PaymentMethod::BankTransfer).await;
        let code = order.unique_code.expect("a transfer gets a code");
        assert_eq!(order.amount_due.minor_units(), 150_000 + code);
        placed.push(order);
    }
    let mut codes: Vec<i64> = placed.iter().map(|o| o.unique_code.unwrap()).collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![1, 2, 3],
        "unique among the open orders of one total"
    );
    // The range is used up: the next order goes without a code, and its amount is the total.
    let fourth = place(&shop, PaymentMethod::BankTransfer).await;
    assert_eq!(
        (fourth.unique_code, fourth.amount_due),
        (None, fourth.total)
    );
    // Other methods carry none.
    let qris = place(&shop, PaymentMethod::Qris).await;
    assert_eq!(qris.unique_code, None);
    // Paying exactly amount_due pays in full and frees the code for the next order.
    let first = &placed[0];
    let paid = shop
        .engine
        .record_payment(first.id, first.amount_due, None, staff())
        .await
        .unwrap();
    assert_eq!(
        (paid.status, paid.amount_paid),
        (OrderStatus::Paid, first.amount_due)
    );
    let next = place(&shop, PaymentMethod::BankTransfer).await;
    assert_eq!(next.unique_code, first.unique_code);
    // The order-received message tells the buyer the exact amount.
    let received = shop.engine.order_messages(next.id).await.unwrap();
    let due = lunas_core::messages::format_rupiah(next.amount_due.minor_units());
    assert!(
        received[0]
            .body
            .contains(&format!("Mohon transfer tepat {due}")),
        "{}",
        received[0].body
    );
    consistent(&shop).await;
}

async fn concurrent_transfers_of_one_total_never_share_an_amount_due(backend: Backend) {
    let shop = payments_shop(backend, |s| {
        s.payments.unique_code.min = 1;
        s.payments.unique_code.max = 40;
    })
    .await;
    shop.engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: lunas_core::Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 100,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let engine = shop.engine.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .place_order(order(PaymentMethod::BankTransfer, None, None))
                .await
                .unwrap()
                .order
        }));
    }
    let mut coded = Vec::new();
    let mut without = 0;
    for task in tasks {
        let placed = task.await.unwrap();
        match placed.unique_code {
            Some(code) => coded.push(placed.amount_due.minor_units() - code),
            None => without += 1,
        }
        assert_eq!(
            placed.amount_due.minor_units(),
            150_000 + placed.unique_code.unwrap_or(0)
        );
    }
    let open = shop.store.open_orders().await.unwrap();
    let mut amounts: Vec<i64> = open
        .iter()
        .map(|o| o.amount_due.minor_units())
        .filter(|a| *a != 150_000)
        .collect();
    amounts.sort();
    amounts.dedup();
    assert_eq!(amounts.len(), 48 - without, "every coded amount is its own");
    assert_eq!(without, 8, "forty codes for forty-eight orders");
    assert!(coded.iter().all(|total| *total == 150_000));
    consistent(&shop).await;
}

async fn a_statement_pays_exact_amounts_and_sends_colliding_ones_to_review(backend: Backend) {
    // Without codes two orders of one total expect the same amount.
    let shop = payments_shop(backend, |s| s.payments.unique_code.enabled = false).await;
    let a = place(&shop, PaymentMethod::BankTransfer).await;
    let b = place(&shop, PaymentMethod::BankTransfer).await;
    let report = statement(&shop, &[("TRSF E-BANKING CR SARI", 150_000)]).await;
    assert_eq!((report.matched, report.review), (0, 1), "no guess");
    assert_eq!(order_of(&shop, a.id).await.amount_paid, Money::ZERO);
    assert_eq!(order_of(&shop, b.id).await.amount_paid, Money::ZERO);
    let reviews = open_reviews(&shop).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].kind, ReviewKind::Ambiguous);
    assert_eq!(
        reviews[0].detail["candidates"],
        serde_json::json!([a.id.0, b.id.0])
    );
    // An order number in the description tells them apart.
    let report = statement(&shop, &[(&format!("TRSF CR #{} SARI", b.id), 150_000)]).await;
    assert_eq!((report.matched, report.review), (1, 0));
    let paid = order_of(&shop, b.id).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.payments[0].source, PaymentSource::Statement);
    assert!(paid.payments[0].external_id.is_some());
    // Now only one order expects the amount: the amount alone is enough.
    let report = statement(&shop, &[("SETORAN TUNAI", 150_000)]).await;
    assert_eq!(report.matched, 1);
    assert_eq!(order_of(&shop, a.id).await.status, OrderStatus::Paid);
    // A credit nobody expects and a debit.
    let report = statement(&shop, &[("TRSF CR ANDI", 77_000), ("BIAYA ADM", -6_500)]).await;
    assert_eq!((report.review, report.ignored), (1, 1));
    // Staff place the unmatched credit themselves: it becomes a payment of the order they name.
    let c = place(&shop, PaymentMethod::Ewallet).await;
    let unmatched = open_reviews(&shop)
        .await
        .into_iter()
        .find(|r| r.kind == ReviewKind::Unmatched)
        .unwrap();
    let resolved = shop
        .engine
        .resolve_review(unmatched.id, ResolveAction::Assign(c.id), staff())
        .await
        .unwrap();
    assert!(resolved.resolved.is_some());
    let partial = order_of(&shop, c.id).await;
    assert_eq!(
        (partial.status, partial.amount_paid),
        (OrderStatus::AwaitingPayment, Money::from_stored(77_000)),
        "an underpayment keeps the order awaiting the rest"
    );
    assert!(matches!(
        shop.engine
            .resolve_review(unmatched.id, ResolveAction::Close("x".into()), staff())
            .await,
        Err(Error::Review(lunas_core::ledger::ReviewError::Resolved))
    ));
    consistent(&shop).await;
}

/// A statement's exact payments are written after its lines are decided, in the orders' order:
/// each order is still paid once, with its payment, event, message, holds and buyer's record,
/// beside lines that take the ordinary path (a late payment) or go to review.
async fn a_statement_paying_many_orders_pays_each_once_beside_late_and_unmatched_lines(
    backend: Backend,
) {
    let shop = payments_shop(backend, |_| {}).await;
    let late = expired(&shop).await;
    let a = place(&shop, PaymentMethod::BankTransfer).await;
    let b = place(&shop, PaymentMethod::BankTransfer).await;
    let c = place(&shop, PaymentMethod::BankTransfer).await;
    let part = Money::payment(50_000).unwrap();
    shop.engine
        .record_payment(b.id, part, None, staff())
        .await
        .unwrap();
    let due = |o: &lunas_core::Order| o.amount_due.minor_units();
    let report = statement(
        &shop,
        &[
            (&format!("TRSF CR #{} SARI", c.id), due(&c)),
            ("TRSF CR SARI SISA", due(&b) - 50_000),
            // The same transfer again under another description: c has nothing left to pay.
            (&format!("TRSF CR #{} SARI LAGI", c.id), due(&c)),
            (&format!("TRSF CR #{} TELAT", late.id), due(&late)),
            ("SETORAN TUNAI", due(&a)),
            ("TRSF CR ANDI", 12_345),
        ],
    )
    .await;
    assert_eq!((report.matched, report.review), (4, 2));
    for (order, payments) in [(&a, 1), (&b, 2), (&c, 1), (&late, 1)] {
        let paid = order_of(&shop, order.id).await;
        assert_eq!(paid.status, OrderStatus::Paid, "#{}", order.id);
        assert_eq!(paid.amount_paid, order.amount_due, "#{}", order.id);
        assert_eq!(paid.payments.len(), payments, "#{}", order.id);
        assert_eq!(paid.items[0].hold, HoldState::Converted, "#{}", order.id);
        assert_eq!(
            paid.events.last().map(|e| e.to),
            Some(OrderStatus::Paid),
            "#{}",
            order.id
        );
        assert_eq!(
            count(&shop, order.id, MessageKind::PaymentReceived).await,
            1,
            "#{}",
            order.id
        );
    }
    let mut kinds: Vec<ReviewKind> = open_reviews(&shop).await.iter().map(|r| r.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(
        kinds,
        [ReviewKind::ReferenceMismatch, ReviewKind::Unmatched]
    );
    let records = shop.store.reliability_records().await.unwrap();
    let (_, buyer) = records
        .iter()
        .find(|(phone, _)| phone == a.customer.phone.as_str())
        .unwrap();
    assert_eq!(buyer.orders_paid, 4);
    let money: i64 = [&a, &b, &c, &late].iter().map(|o| due(o)).sum();
    assert_eq!(
        buyer.amount_paid, money,
        "the staff payment and the statement's"
    );
    consistent(&shop).await;
}

async fn importing_the_same_statement_twice_records_nothing_twice(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::BankTransfer).await;
    let lines = [
        (
            "TRSF E-BANKING CR SARI WULANDARI",
            placed.amount_due.minor_units(),
        ),
        ("TRSF E-BANKING CR ANDI", 12_345),
        ("BIAYA ADM", -6_500),
    ];
    let first = statement(&shop, &lines).await;
    assert_eq!(
        (first.matched, first.review, first.duplicates, first.ignored),
        (1, 1, 0, 1)
    );
    let again = statement(&shop, &lines).await;
    assert_eq!(
        (again.matched, again.review, again.duplicates, again.ignored),
        (0, 0, 2, 1)
    );
    let order = order_of(&shop, placed.id).await;
    assert_eq!(order.payments.len(), 1);
    assert_eq!(open_reviews(&shop).await.len(), 1);
    assert_eq!(
        count(&shop, placed.id, MessageKind::PaymentReceived).await,
        1
    );
    consistent(&shop).await;
}

async fn a_statement_with_bad_lines_imports_nothing_unless_asked(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::BankTransfer).await;
    let csv = format!(
        "date,description,amount,balance\n\
         2026-11-22,TRSF SARI,{},\n\
         2026-11-32,TRSF RUSAK,5000,\n\
         22/11/2026,TRSF RUSAK,lima ribu,\n",
        placed.amount_due.minor_units()
    );
    match shop.engine.import_statement(&csv, false, staff()).await {
        Err(Error::BadStatementLines { errors, count }) => {
            assert_eq!(count, 2);
            assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        }
        other => panic!("expected bad lines, got {other:?}"),
    }
    assert_eq!(
        order_of(&shop, placed.id).await.status,
        OrderStatus::AwaitingPayment
    );
    let import = shop
        .engine
        .import_statement(&csv, true, staff())
        .await
        .unwrap();
    assert_eq!((import.report.matched, import.bad_lines.len()), (1, 2));
    assert_eq!(order_of(&shop, placed.id).await.status, OrderStatus::Paid);
    assert!(matches!(
        shop.engine
            .import_statement("hello\n", false, staff())
            .await,
        Err(Error::Statement(_))
    ));
}

async fn a_settlement_delivered_ten_times_concurrently_records_one_payment_and_one_message(
    backend: Backend,
) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::Qris).await;
    let body = midtrans(
        &placed.id.to_string(),
        "settlement",
        &gross(placed.amount_due),
        "9aed5972-5b6a-401e-894b-a32c91ed1a3a",
    );
    shop.midtrans.learn(&body);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let engine = shop.engine.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            engine.midtrans_notification(&body).await.unwrap()
        }));
    }
    let mut recorded = 0;
    for task in tasks {
        match task.await.unwrap() {
            GatewayOutcome::Payment(applied) => match applied.effect {
                PaymentEffect::Paid => recorded += 1,
                PaymentEffect::Duplicate => {}
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(recorded, 1);
    let order = order_of(&shop, placed.id).await;
    assert_eq!(order.payments.len(), 1);
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(
        count(&shop, placed.id, MessageKind::PaymentReceived).await,
        1
    );
    consistent(&shop).await;
}

async fn a_pending_after_a_settlement_never_moves_the_order_back(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::VirtualAccount).await;
    let id = placed.id.to_string();
    let amount = gross(placed.amount_due);
    let pending = shop
        .notify(&midtrans(&id, "pending", &amount, "tx-1"))
        .await
        .unwrap();
    assert!(matches!(pending, GatewayOutcome::NoChange(_)));
    shop.notify(&midtrans(&id, "settlement", &amount, "tx-1"))
        .await
        .unwrap();
    for late in ["pending", "expire", "cancel"] {
        shop.notify(&midtrans(&id, late, &amount, "tx-1"))
            .await
            .unwrap();
        assert_eq!(
            order_of(&shop, placed.id).await.status,
            OrderStatus::Paid,
            "{late}"
        );
    }
    // A refund at the gateway goes to staff; the order is not silently changed.
    let refund = shop
        .notify(&midtrans(&id, "refund", &amount, "tx-1"))
        .await
        .unwrap();
    assert!(matches!(
        refund,
        GatewayOutcome::Review(ReviewKind::GatewayRefund)
    ));
    assert_eq!(order_of(&shop, placed.id).await.payments.len(), 1);
    consistent(&shop).await;
}

async fn bad_signatures_change_nothing_and_unknown_orders_are_kept_for_review(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::Qris).await;
    let mut forged: serde_json::Value = serde_json::from_slice(&midtrans(
        &placed.id.to_string(),
        "settlement",
        &gross(placed.amount_due),
        "tx-forged",
    ))
    .unwrap();
    forged["gross_amount"] = "1.00".into();
    let refused = shop
        .engine
        .midtrans_notification(forged.to_string().as_bytes())
        .await;
    assert!(matches!(
        refused,
        Err(Error::Callback(
            lunas_engine::gateways::CallbackError::Unauthorized(_)
        ))
    ));
    let xendit = serde_json::json!({"id": "inv-1", "external_id": placed.id.to_string(), "status": "PAID", "paid_amount": 150000});
    let refused = shop
        .engine
        .xendit_notification(Some("wrong-token"), xendit.to_string().as_bytes())
        .await;
    assert!(matches!(refused, Err(Error::Callback(_))));
    assert_eq!(
        order_of(&shop, placed.id).await.status,
        OrderStatus::AwaitingPayment
    );
    assert!(open_reviews(&shop).await.is_empty());
    // Well signed, for an order lunas does not know: kept for review.
    let unknown = shop
        .notify(&midtrans("99999", "settlement", "50000.00", "tx-unknown"))
        .await
        .unwrap();
    assert!(matches!(unknown, GatewayOutcome::UnknownOrder));
    let reviews = open_reviews(&shop).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].kind, ReviewKind::UnknownOrder);
    assert_eq!(reviews[0].detail["order_ref"], "99999");
    // The right token pays the order; a wrong amount would have gone to review instead.
    let short = serde_json::json!({"id": "inv-2", "external_id": placed.id.to_string(), "status": "PAID", "paid_amount": 1000});
    let outcome = shop
        .engine
        .xendit_notification(Some(XENDIT_TOKEN), short.to_string().as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(outcome, GatewayOutcome::Payment(ref p) if p.effect == PaymentEffect::Review(ReviewKind::AmountMismatch))
    );
    let outcome = shop
        .engine
        .xendit_notification(Some(XENDIT_TOKEN), xendit.to_string().as_bytes())
        .await
        .unwrap();
    assert!(matches!(outcome, GatewayOutcome::Payment(ref p) if p.effect == PaymentEffect::Paid));
    consistent(&shop).await;
}

async fn a_pending_notification_rewritten_as_settlement_pays_nothing(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::VirtualAccount).await;
    let pending = midtrans(
        &placed.id.to_string(),
        "pending",
        &gross(placed.amount_due),
        "tx-replay",
    );
    shop.notify(&pending).await.unwrap();
    // The signature covers order, code and amount, not the status: an attacker who captured the
    // pending notification rewrites its status and sends it again.
    let mut rewritten: serde_json::Value = serde_json::from_slice(&pending).unwrap();
    rewritten["transaction_status"] = "settlement".into();
    let refused = shop
        .engine
        .midtrans_notification(rewritten.to_string().as_bytes())
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Callback(
                lunas_engine::gateways::CallbackError::StatusMismatch
            ))
        ),
        "{refused:?}"
    );
    let order = order_of(&shop, placed.id).await;
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert!(order.payments.is_empty());
    assert!(open_reviews(&shop).await.is_empty());
    consistent(&shop).await;
}

async fn money_is_recorded_only_once_the_status_api_confirms_it(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::Qris).await;
    let id = placed.id.to_string();
    let amount = gross(placed.amount_due);
    // Midtrans says the transaction is still pending, whatever a well-signed notification says.
    shop.midtrans
        .learn(&midtrans(&id, "pending", &amount, "tx-1"));
    let outcome = shop
        .engine
        .midtrans_notification(&midtrans(&id, "settlement", &amount, "tx-1"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, GatewayOutcome::NoChange(_)),
        "{outcome:?}"
    );
    assert!(order_of(&shop, placed.id).await.payments.is_empty());
    assert_eq!(
        shop.midtrans.asked(),
        1,
        "a pending notification asks nothing"
    );

    // The status API is down: the settlement waits for review (and for Midtrans to deliver it
    // again), never for a guess.
    shop.midtrans.set_down(true);
    let settlement = midtrans(&id, "settlement", &amount, "tx-1");
    let refused = shop.notify(&settlement).await;
    assert!(
        matches!(
            refused,
            Err(Error::Callback(
                lunas_engine::gateways::CallbackError::Unconfirmed(_)
            ))
        ),
        "{refused:?}"
    );
    let order = order_of(&shop, placed.id).await;
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    let reviews = open_reviews(&shop).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].kind, ReviewKind::GatewayUnconfirmed);
    assert_eq!(reviews[0].order_id, Some(placed.id));
    assert_eq!(reviews[0].amount, placed.amount_due.minor_units());
    // Delivered again while the API is still down: one review item, not two.
    assert!(shop.notify(&settlement).await.is_err());
    assert_eq!(open_reviews(&shop).await.len(), 1);

    // Back up: the next delivery is confirmed, pays the order and closes the review item.
    shop.midtrans.set_down(false);
    let outcome = shop.notify(&settlement).await.unwrap();
    assert!(
        matches!(outcome, GatewayOutcome::Payment(ref p) if p.effect == PaymentEffect::Paid),
        "{outcome:?}"
    );
    assert_eq!(order_of(&shop, placed.id).await.status, OrderStatus::Paid);
    assert!(open_reviews(&shop).await.is_empty());
    consistent(&shop).await;
}

async fn a_late_payment_revives_the_order_while_the_stock_lasts_and_is_flagged_for_refund_after(
    backend: Backend,
) {
    let shop = payments_shop(backend, |_| {}).await;
    let late = expired(&shop).await;
    let outcome = shop
        .notify(&midtrans(
            &late.id.to_string(),
            "settlement",
            &gross(late.amount_due),
            "tx-late",
        ))
        .await
        .unwrap();
    let GatewayOutcome::Payment(applied) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(applied.effect, PaymentEffect::Revived);
    assert_eq!(applied.order.status, OrderStatus::Paid);
    assert_eq!(applied.order.items[0].hold, HoldState::Converted);
    assert!(
        applied
            .order
            .events
            .iter()
            .any(|e| e.from == Some(OrderStatus::Expired) && e.to == OrderStatus::Paid),
        "the revival is an event"
    );
    let product = shop
        .engine
        .product(lunas_core::Sku::parse("GAMIS").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (product.on_hand, product.reserved),
        (9, 0),
        "the unit is sold again"
    );
    assert_eq!(count(&shop, late.id, MessageKind::PaymentReceived).await, 1);

    // Another expires; then its last units go to other buyers; then its money arrives.
    let gone = shop
        .engine
        .place_order(order(PaymentMethod::BankTransfer, Some("1h"), None))
        .await
        .unwrap()
        .order;
    shop.clock.advance(SignedDuration::from_hours(2));
    while shop.engine.tick().await.unwrap().more {}
    shop.engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: lunas_core::Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 0,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let report = statement(
        &shop,
        &[(
            &format!("TRSF CR #{} SARI", gone.id),
            gone.amount_due.minor_units(),
        )],
    )
    .await;
    assert_eq!(
        report.matched, 1,
        "the reference and the amount both name the order"
    );
    let refund = order_of(&shop, gone.id).await;
    assert_eq!(refund.status, OrderStatus::PaidNeedsRefund);
    assert_eq!(
        refund.amount_paid, gone.amount_due,
        "the money is kept on the order"
    );
    assert_eq!(refund.items[0].hold, HoldState::Released);
    let reviews = open_reviews(&shop).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].kind, ReviewKind::NeedsRefund);
    assert_eq!(reviews[0].order_id, Some(gone.id));
    assert_eq!(
        reviews[0].detail["why"],
        RefundReason::LateStockGone.as_str()
    );
    consistent(&shop).await;
}

async fn an_overpayment_is_recorded_as_it_is_and_flagged_for_refund(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::Ewallet).await;
    let paid = shop
        .engine
        .record_payment(placed.id, Money::payment(200_000).unwrap(), None, staff())
        .await
        .unwrap();
    assert_eq!(
        (paid.status, paid.amount_paid.minor_units()),
        (OrderStatus::Paid, 200_000)
    );
    let reviews = open_reviews(&shop).await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].kind, ReviewKind::Overpaid);
    assert_eq!(reviews[0].detail["excess"], 50_000);
    let closed = shop
        .engine
        .resolve_review(
            reviews[0].id,
            ResolveAction::Close("dikembalikan via BCA".into()),
            staff(),
        )
        .await
        .unwrap();
    assert_eq!(closed.resolved.unwrap().note, "dikembalikan via BCA");
    assert!(open_reviews(&shop).await.is_empty());
    assert!(matches!(
        shop.engine
            .resolve_review(closed.id, ResolveAction::Assign(placed.id), staff())
            .await,
        Err(Error::Review(lunas_core::ledger::ReviewError::Resolved))
    ));
}

async fn a_grace_period_delays_the_release_of_slow_methods(backend: Backend) {
    let shop = payments_shop(backend, |s| {
        s.payments.grace.bank_transfer = Some(PayWindow::parse("1h").unwrap());
    })
    .await;
    let transfer = place(&shop, PaymentMethod::BankTransfer).await;
    let qris = place(&shop, PaymentMethod::Qris).await;
    assert_eq!(
        transfer.pay_by,
        Some(transfer.placed_at + SignedDuration::from_hours(24)),
        "the buyer is told the deadline itself"
    );
    shop.clock.advance(SignedDuration::from_hours(24));
    while shop.engine.tick().await.unwrap().more {}
    assert_eq!(order_of(&shop, qris.id).await.status, OrderStatus::Expired);
    assert_eq!(
        order_of(&shop, transfer.id).await.status,
        OrderStatus::AwaitingPayment
    );
    // The grace grows after the order was placed: its expiry waits for the new time.
    let mut settings = (*shop.engine.settings()).clone();
    settings.payments.grace.bank_transfer = Some(PayWindow::parse("3h").unwrap());
    shop.engine.put_settings(settings).await.unwrap();
    shop.clock.advance(SignedDuration::from_hours(1));
    while shop.engine.tick().await.unwrap().more {}
    assert_eq!(
        order_of(&shop, transfer.id).await.status,
        OrderStatus::AwaitingPayment
    );
    shop.clock.advance(SignedDuration::from_hours(2));
    while shop.engine.tick().await.unwrap().more {}
    assert_eq!(
        order_of(&shop, transfer.id).await.status,
        OrderStatus::Expired
    );
    consistent(&shop).await;
}

async fn a_signed_mutation_delivery_pays_orders_and_a_forged_one_changes_nothing(backend: Backend) {
    let shop = payments_shop(backend, |_| {}).await;
    let placed = place(&shop, PaymentMethod::BankTransfer).await;
    let body = serde_json::json!([{
        "mutation_id": "mt-8812", "bank_type": "bca", "date": "2026-11-22 11:02:00",
        "amount": placed.amount_due.minor_units(), "type": "CR",
        "description": "TRSF E-BANKING CR SARI WULANDARI", "balance": 2_000_000
    }])
    .to_string();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"mutasi-rahasia").unwrap();
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    assert!(matches!(
        shop.engine
            .import_mutations(Some("00ff"), body.as_bytes())
            .await,
        Err(Error::Callback(_))
    ));
    assert_eq!(
        order_of(&shop, placed.id).await.status,
        OrderStatus::AwaitingPayment
    );
    let report = shop
        .engine
        .import_mutations(Some(&signature), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(report.matched, 1);
    let again = shop
        .engine
        .import_mutations(Some(&signature), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(again.duplicates, 1, "a redelivery records nothing twice");
    let order = order_of(&shop, placed.id).await;
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.payments[0].source, PaymentSource::Mutation);
}

#[test]
fn midtrans_signatures_agree_with_a_python_reference_over_the_documented_payloads() {
    // Payloads of the shapes Midtrans documents for its HTTP notifications (the sandbox sample
    // order ids and amounts), each signed with the official formula by Python's hashlib.
    let server_key = "SB-Mid-server-GwUP_WGbJPXsDzsNEBRs8IYA";
    for (order_id, status_code, gross_amount) in [
        ("Postman-1578568851", "200", "10000.00"),
        ("test-transaction-321", "201", "24145.00"),
        ("1042", "200", "150237.00"),
        ("1042-2", "202", "150237.00"),
    ] {
        let output = Command::new("python3")
            .args([
                "-c",
                "import hashlib, sys; print(hashlib.sha512(''.join(sys.argv[1:]).encode()).hexdigest())",
                order_id,
                status_code,
                gross_amount,
                server_key,
            ])
            .output()
            .expect("python3 runs");
        assert!(output.status.success());
        let reference = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            midtrans_signature(order_id, status_code, gross_amount, server_key),
            reference.trim(),
            "{order_id}"
        );
    }
}

#[test]
fn a_midtrans_notification_reads_its_status_amount_and_order() {
    let config = MidtransConfig {
        server_key: SERVER_KEY.into(),
        api_base: String::new(),
        status_api_base: String::new(),
    };
    let now = support::morning();
    let read = |body: Vec<u8>| lunas_engine::gateways::read_midtrans(&config, &body, now);
    let settled = read(midtrans("1042-2", "settlement", "150237.00", "tx")).unwrap();
    assert_eq!(settled.order_id, Some(OrderId(1042)));
    assert_eq!(settled.amount, Some(Money::from_stored(150_237)));
    assert_eq!(settled.status, lunas_core::ledger::GatewayStatus::Settled);
    for (status, expected) in [
        ("pending", lunas_core::ledger::GatewayStatus::Pending),
        ("expire", lunas_core::ledger::GatewayStatus::Failed),
        ("deny", lunas_core::ledger::GatewayStatus::Failed),
        ("refund", lunas_core::ledger::GatewayStatus::Refunded),
        ("capture", lunas_core::ledger::GatewayStatus::Settled),
    ] {
        assert_eq!(
            read(midtrans("7", status, "1.00", "tx")).unwrap().status,
            expected
        );
    }
    let mut challenged: serde_json::Value =
        serde_json::from_slice(&midtrans("7", "capture", "1.00", "tx")).unwrap();
    // Midtrans holds a challenged card payment with the pending code.
    challenged["fraud_status"] = "challenge".into();
    challenged["status_code"] = "201".into();
    challenged["signature_key"] = midtrans_signature("7", "201", "1.00", SERVER_KEY).into();
    assert_eq!(
        read(challenged.to_string().into_bytes()).unwrap().status,
        lunas_core::ledger::GatewayStatus::Challenge
    );
    assert!(read(b"not json".to_vec()).is_err());
}

lunas_store::on_both_backends!(
    concurrent_transfers_of_one_total_never_share_an_amount_due,
    a_bank_transfer_carries_a_unique_code_freed_when_the_order_stops_awaiting_payment,
    a_statement_pays_exact_amounts_and_sends_colliding_ones_to_review,
    importing_the_same_statement_twice_records_nothing_twice,
    a_statement_paying_many_orders_pays_each_once_beside_late_and_unmatched_lines,
    a_statement_with_bad_lines_imports_nothing_unless_asked,
    a_settlement_delivered_ten_times_concurrently_records_one_payment_and_one_message,
    a_pending_after_a_settlement_never_moves_the_order_back,
    bad_signatures_change_nothing_and_unknown_orders_are_kept_for_review,
    a_pending_notification_rewritten_as_settlement_pays_nothing,
    money_is_recorded_only_once_the_status_api_confirms_it,
    a_late_payment_revives_the_order_while_the_stock_lasts_and_is_flagged_for_refund_after,
    an_overpayment_is_recorded_as_it_is_and_flagged_for_refund,
    a_grace_period_delays_the_release_of_slow_methods,
    a_signed_mutation_delivery_pays_orders_and_a_forged_one_changes_nothing,
);
