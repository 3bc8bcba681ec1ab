//! Moving a populated SQLite store to PostgreSQL (`lunas migrate-data`): everything arrives, field
//! by field, and the store keeps working on its new database.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::outbox::{InboundMessage, MessageStatus};
use lunas_core::placing::IdempotencyKey;
use lunas_core::queries::Page;
use lunas_core::{Actor, OrderStatus, Phone, Timestamp};
use lunas_engine::{Engine, ManualClock};
use lunas_store::testing::{Backend, TestDb};
use lunas_store::{CopyError, Store};

mod support;

async fn all_orders(store: &Store) -> Vec<lunas_core::Order> {
    store
        .orders(
            None,
            Page {
                after: None,
                limit: 10_000,
            },
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_sqlite_store_moves_to_postgres_field_by_field() {
    // The demo store (orders in every state, messages, reminders pending), plus the rest of what a
    // running shop accumulates: a webhook endpoint and its deliveries, an API token, an
    // idempotency key, a buyer's WhatsApp message, a buyer who opted out of reminders.
    let now: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
    let source_db = TestDb::new(Backend::Sqlite);
    let source = source_db.open().await;
    lunas_engine::demo::seed_if_empty(&source, now)
        .await
        .unwrap()
        .expect("seeded");
    let clock = Arc::new(ManualClock::new(now));
    let midtrans = lunas_engine::testing::FakeMidtrans::start("SB-Mid-server-migrasi");
    let engine = Engine::new(source.clone(), clock.clone())
        .await
        .unwrap()
        .with_webhooks_allow_private(true)
        .with_gateways(lunas_engine::gateways::Gateways {
            midtrans: Some(lunas_engine::gateways::MidtransConfig {
                server_key: "SB-Mid-server-migrasi".into(),
                api_base: "http://127.0.0.1:9".into(),
                status_api_base: midtrans.base().into(),
            }),
            ..Default::default()
        });
    engine
        .create_webhook("http://127.0.0.1:9/hooks", lunas_core::Actor::system())
        .await
        .unwrap();
    // A gateway notification for an order that never existed: kept, and on the review list.
    let signature = lunas_engine::gateways::midtrans_signature(
        "777",
        "200",
        "5000.00",
        "SB-Mid-server-migrasi",
    );
    let notification =
        serde_json::json!({"order_id": "777", "status_code": "200", "gross_amount": "5000.00",
        "signature_key": signature, "transaction_status": "settlement",
        "transaction_id": "tx-migrasi"})
        .to_string();
    midtrans.learn(notification.as_bytes());
    engine
        .midtrans_notification(notification.as_bytes())
        .await
        .unwrap();
    let token = lunas_engine::tokens::create(&source, "kasir", now)
        .await
        .unwrap();
    let mut keyed = support::order(lunas_core::PaymentMethod::BankTransfer, None, None);
    keyed.lines[0].sku =
        lunas_core::Sku::parse(all_orders(&source).await[0].items[0].sku.as_str()).unwrap();
    // It ships: an address, ongkir and a discount travel with it.
    keyed.address = Some(
        lunas_core::shipping::Address::parse(&lunas_core::shipping::AddressInput {
            recipient: "Sari Wulandari",
            phone: "081234567890",
            street: "Jl. Melati No. 12",
            city: "Kota Depok",
            province: "Jawa Barat",
            postcode: "16415",
            ..Default::default()
        })
        .unwrap(),
    );
    keyed.charges = lunas_core::shipping::Charges::new(15_000, 5_000).unwrap();
    keyed.idempotency = Some(IdempotencyKey {
        scope: "kasir".into(),
        key: "pesanan-1".into(),
        request_hash: "h1".into(),
    });
    let keyed_order = engine.place_order(keyed.clone()).await.unwrap().order;
    let sari = Phone::parse("081234567890").unwrap();
    source
        .record_inbound(InboundMessage {
            phone: sari.clone(),
            wa_message_id: "wamid.1".into(),
            kind: lunas_core::conversations::InboundKind::Image,
            body: Some("Kak, sudah saya transfer ya".into()),
            received_at: now,
            raw: "{}".into(),
        })
        .await
        .unwrap();
    source
        .set_no_reminders(sari.clone(), true)
        .await
        .unwrap()
        .unwrap();
    // A band staff pinned, with notes and tags (and their audit trail).
    engine
        .pin_band(
            sari.clone(),
            Some(lunas_core::reliability::Pin {
                band: lunas_core::reliability::Band::Trusted,
                reason: "pelanggan lama".into(),
            }),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();
    engine
        .set_notes_tags(
            sari.clone(),
            Some(Some("suka warna hitam".into())),
            Some(vec!["vip".into()]),
            Actor::api_token("owner"),
        )
        .await
        .unwrap();

    // A staff account, with its second factor on.
    let owner = source
        .create_user(
            lunas_core::accounts::Email::parse("owner@toko.id").unwrap(),
            lunas_core::accounts::Role::Owner,
            lunas_engine::passwords::hash_with("kata sandi panjang", &mut Vec::new()),
            Actor::system(),
            now,
        )
        .await
        .unwrap()
        .unwrap();
    source
        .set_totp(
            owner.id,
            Some("JBSWY3DPEHPK3PXP".into()),
            Actor::system(),
            now,
        )
        .await
        .unwrap();

    let target_db = TestDb::new(Backend::Postgres);
    let target = target_db.open().await;
    let report = source.copy_into(&target).await.unwrap();
    assert!(report.verified(), "{report:?}");
    assert!(
        report.tables.iter().all(|(_, rows, _)| *rows > 0),
        "every table had rows to copy: {report:?}"
    );

    // Field by field, through the same API the server uses.
    let orders = all_orders(&source).await;
    assert_eq!(all_orders(&target).await, orders);
    for order in &orders {
        assert_eq!(
            target.order_messages(order.id).await.unwrap(),
            source.order_messages(order.id).await.unwrap(),
            "messages of order {}",
            order.id.0
        );
    }
    let page = || Page {
        after: None,
        limit: 1000,
    };
    assert_eq!(
        target.products(page()).await.unwrap(),
        source.products(page()).await.unwrap()
    );
    assert_eq!(
        target.settings().await.unwrap(),
        source.settings().await.unwrap()
    );
    let email = || lunas_core::accounts::Email::parse("owner@toko.id").unwrap();
    let (copied, kept) = (
        target.credentials(email()).await.unwrap().unwrap(),
        source.credentials(email()).await.unwrap().unwrap(),
    );
    assert_eq!(copied.member, kept.member);
    assert_eq!(copied.password_hash, kept.password_hash);
    assert_eq!(copied.totp_secret, kept.totp_secret);
    assert_eq!(
        target.webhooks().await.unwrap(),
        source.webhooks().await.unwrap()
    );
    assert_eq!(
        target
            .messages(
                lunas_core::messages::Channel::ManualWhatsapp,
                MessageStatus::Pending,
                1000
            )
            .await
            .unwrap(),
        source
            .messages(
                lunas_core::messages::Channel::ManualWhatsapp,
                MessageStatus::Pending,
                1000
            )
            .await
            .unwrap()
    );
    assert_eq!(
        target
            .api_token_name(lunas_engine::tokens::hash_token(&token))
            .await
            .unwrap()
            .as_deref(),
        Some("kasir")
    );
    assert_eq!(
        target.last_inbound_at(sari.clone()).await.unwrap(),
        Some(now)
    );
    assert_eq!(target.no_reminders(sari.clone()).await.unwrap(), Some(true));
    assert_eq!(
        target.next_timer_due().await.unwrap(),
        source.next_timer_due().await.unwrap()
    );
    assert_eq!(
        target.customer_profiles(0, 1000).await.unwrap(),
        source.customer_profiles(0, 1000).await.unwrap(),
        "buyers with their records, pins, notes, tags and histories"
    );
    let problems = target.consistency_report().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // The store goes on on PostgreSQL: the idempotency key still replays, new ids follow the
    // copied ones, and the copied timers fire.
    let moved = Engine::new(target.clone(), clock.clone()).await.unwrap();
    let replay = moved.place_order(keyed).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.order, keyed_order);
    let mut fresh = support::order(lunas_core::PaymentMethod::BankTransfer, None, None);
    fresh.lines = keyed_order
        .items
        .iter()
        .map(|i| lunas_core::placing::NewOrderLine {
            sku: i.sku.clone(),
            qty: i.qty,
        })
        .collect();
    let fresh = moved.place_order(fresh).await.unwrap().order;
    assert!(fresh.id.0 > orders.iter().map(|o| o.id.0).max().unwrap());
    moved
        .record_payment(fresh.id, fresh.amount_due, None, Actor::api_token("test"))
        .await
        .unwrap();
    clock.advance(SignedDuration::from_hours(24 * 8));
    while moved.tick().await.unwrap().more {}
    let after = all_orders(&target).await;
    assert!(
        after
            .iter()
            .all(|o| o.status != OrderStatus::AwaitingPayment || o.pay_by.is_none())
    );
    let problems = target.consistency_report().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // A second copy into the now non-empty target is refused and changes nothing.
    let before = target.totals().await.unwrap();
    assert!(matches!(
        source.copy_into(&target).await,
        Err(CopyError::TargetNotEmpty(..))
    ));
    assert_eq!(target.totals().await.unwrap(), before);
}
