//! Email through a real SMTP server (aiosmtpd, started by the test), read back and decoded.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::messages::MessageKind;
use lunas_core::{
    Actor, CustomerInfo, Honorific, Money, PaymentMethod, Phone, Quantity, Sku, Timestamp,
};
use lunas_engine::outbox::{EmailChannel, Outbox};
use lunas_engine::{Engine, ManualClock, PlaceOrder};
use lunas_store::{DatabaseUrl, MessageStatus, NewOrderLine, OpenOptions, ProductInput, Store};

struct SmtpPeer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpPeer {
    fn start(mode: &str) -> SmtpPeer {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(support::python::python())
            .arg(support::python::peers_dir().join("smtp_peer.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP peer did not start");
        SmtpPeer { child, port, dir }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, decoded by Python's email parser.
    fn received(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

struct Shop {
    _dir: tempfile::TempDir,
    store: Store,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
}

async fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &DatabaseUrl::Sqlite(dir.path().join("lunas.db")),
        OpenOptions::default(),
    )
    .await
    .unwrap();
    let start: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(store.clone(), clock.clone())
        .await
        .unwrap()
        .with_email(true);
    let mut settings = (*engine.settings()).clone();
    settings.store_name = "Razha & Co".into();
    engine.put_settings(settings).await.unwrap();
    engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 10,
            tips: None,
        })
        .await
        .unwrap();
    Shop {
        _dir: dir,
        store,
        clock,
        engine: Arc::new(engine),
    }
}

fn order(email: Option<&str>) -> PlaceOrder {
    PlaceOrder {
        customer: CustomerInfo {
            phone: Phone::parse("081234567890").unwrap(),
            name: "Sari Wulandari".into(),
            email: email.map(str::to_owned),
            honorific: Some(Honorific::Bu),
        },
        lines: vec![NewOrderLine {
            sku: Sku::parse("GAMIS").unwrap(),
            qty: Quantity::new(1).unwrap(),
        }],
        payment_method: PaymentMethod::BankTransfer,
        pay_within: None,
        actor: Actor::api_token("test"),
        idempotency: None,
    }
}

fn outbox(shop: &Shop, peer: &SmtpPeer) -> Outbox {
    let email = EmailChannel::new(&peer.url(), "Razha & Co <toko@razha.example>").unwrap();
    Outbox::new(shop.store.clone(), shop.clock.clone(), Some(email), false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_email_arrives_in_polite_indonesian_with_everything_needed_to_pay() {
    let peer = SmtpPeer::start("accept");
    let shop = shop().await;
    let outbox = outbox(&shop, &peer);
    let id = shop
        .engine
        .place_order(order(Some("sari@example.co.id")))
        .await
        .unwrap()
        .order
        .id;
    shop.clock.advance(SignedDuration::from_hours(2));
    shop.engine.tick().await.unwrap();
    let outcome = outbox.tick().await.unwrap();
    assert_eq!((outcome.sent, outcome.retried, outcome.dead), (2, 0, 0));

    let received = peer.received();
    assert_eq!(received.len(), 2);
    let reminder = &received[1];
    assert_eq!(reminder["to"], serde_json::json!(["sari@example.co.id"]));
    assert_eq!(
        reminder["subject"],
        format!("Pengingat pembayaran pesanan #{id}")
    );
    let body = reminder["body"].as_str().unwrap();
    assert!(body.starts_with("Halo Bu Sari"), "{body}");
    assert!(body.contains("Rp150.000"), "{body}");
    assert!(
        body.contains("Senin, 23 November 2026 pukul 10.00 WIB"),
        "{body}"
    );
    let messages = shop.engine.order_messages(id).await.unwrap();
    assert!(
        messages
            .iter()
            .all(|m| m.status == MessageStatus::Sent && m.channel == "email" && m.attempts == 1)
    );
    assert_eq!(
        reminder["message_id"],
        format!("<{}@lunas>", messages[1].id),
        "the stable id travels with the message"
    );
    assert_eq!(
        outbox.tick().await.unwrap().sent,
        0,
        "nothing is sent twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_without_email_goes_to_the_manual_whatsapp_queue() {
    let peer = SmtpPeer::start("accept");
    let shop = shop().await;
    let outbox = outbox(&shop, &peer);
    shop.engine.place_order(order(None)).await.unwrap();
    assert_eq!(outbox.tick().await.unwrap().sent, 0);
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_4xx_is_retried_on_schedule_and_5xx_is_dead_at_once() {
    let busy = SmtpPeer::start("tempfail");
    let shop = shop().await;
    let id = shop
        .engine
        .place_order(order(Some("sari@example.co.id")))
        .await
        .unwrap()
        .order
        .id;
    let retrying = outbox(&shop, &busy);
    assert_eq!(retrying.tick().await.unwrap().retried, 1);
    let failed = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!((failed.status, failed.attempts), (MessageStatus::Failed, 1));
    assert!(
        failed.last_error.as_deref().unwrap().contains("451"),
        "{:?}",
        failed.last_error
    );
    assert_eq!(
        retrying.tick().await.unwrap().retried,
        0,
        "not before its backoff (about 30 s)"
    );
    shop.clock.advance(SignedDuration::from_secs(37));
    assert_eq!(
        retrying.tick().await.unwrap().retried,
        1,
        "retried once the backoff passed"
    );
    assert_eq!(shop.engine.order_messages(id).await.unwrap()[0].attempts, 2);
    shop.clock.advance(SignedDuration::from_secs(50));
    assert_eq!(
        retrying.tick().await.unwrap().retried,
        0,
        "the second wait is about 60 s"
    );

    let refusing = SmtpPeer::start("permfail");
    shop.clock.advance(SignedDuration::from_secs(30));
    let dead = outbox(&shop, &refusing).tick().await.unwrap();
    assert_eq!(dead.dead, 1);
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!(message.status, MessageStatus::Dead);
    assert!(
        message.last_error.as_deref().unwrap().contains("550"),
        "{:?}",
        message.last_error
    );

    // Staff replay the dead message once the address is fixed on the other side.
    let accepting = SmtpPeer::start("accept");
    shop.engine
        .replay_message(message.id.clone())
        .await
        .unwrap();
    assert_eq!(outbox(&shop, &accepting).tick().await.unwrap().sent, 1);
    assert_eq!(
        accepting.received()[0]["message_id"],
        format!("<{}@lunas>", message.id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_taken_by_a_process_that_died_is_sent_after_its_lease_exactly_once() {
    let peer = SmtpPeer::start("accept");
    let shop = shop().await;
    let id = shop
        .engine
        .place_order(order(Some("sari@example.co.id")))
        .await
        .unwrap()
        .order
        .id;
    // A process takes the message and dies before it sends or records anything.
    let now = shop.clock.now_for_test();
    let taken = shop
        .store
        .claim_messages(
            vec!["email".into()],
            now,
            now + SignedDuration::from_secs(120),
            10,
        )
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let outbox = outbox(&shop, &peer);
    assert_eq!(
        outbox.tick().await.unwrap().sent,
        0,
        "leased to the dead process"
    );
    shop.clock.advance(SignedDuration::from_secs(121));
    assert_eq!(outbox.tick().await.unwrap().sent, 1);
    assert_eq!(outbox.tick().await.unwrap().sent, 0);
    let received = peer.received();
    assert_eq!(received.len(), 1);
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!(received[0]["message_id"], format!("<{}@lunas>", message.id));
    assert_eq!(message.kind, MessageKind::OrderReceived);
}

trait NowForTest {
    fn now_for_test(&self) -> Timestamp;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> Timestamp {
        lunas_engine::Clock::now(self)
    }
}
