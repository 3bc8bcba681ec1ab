//! Outgoing webhooks verified by the official Standard Webhooks library in a real receiver.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::{
    Actor, CustomerInfo, Honorific, Money, PaymentMethod, Phone, Quantity, Sku, Timestamp,
};
use lunas_engine::outbox::Outbox;
use lunas_engine::{Engine, Error, ManualClock, PlaceOrder};
use lunas_store::{DatabaseUrl, MessageStatus, NewOrderLine, OpenOptions, ProductInput, Store};

struct Receiver {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start(port: u16, secret: &str, fail_first: u32) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(support::python::python())
            .arg(support::python::peers_dir().join("webhook_peer.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .arg(secret)
            .arg(fail_first.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the webhook receiver did not start");
        Receiver { child, dir }
    }

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

async fn shop(allow_private: bool) -> Shop {
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
        .with_webhooks_allow_private(allow_private);
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

fn order() -> PlaceOrder {
    PlaceOrder {
        customer: CustomerInfo {
            phone: Phone::parse("081234567890").unwrap(),
            name: "Sari Wulandari".into(),
            email: None,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_verify_with_the_official_library_and_a_retry_keeps_its_webhook_id() {
    let shop = shop(true).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = shop
        .engine
        .create_webhook(&format!("http://127.0.0.1:{port}/lunas"))
        .await
        .unwrap();
    assert!(endpoint.secret.starts_with("whsec_"));
    let receiver = Receiver::start(port, &endpoint.secret, 1);
    let outbox = Outbox::new(shop.store.clone(), shop.clock.clone(), None, true);

    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    let first = outbox.tick().await.unwrap();
    assert_eq!(
        (first.sent, first.retried),
        (0, 1),
        "the receiver answered 500"
    );
    shop.clock.advance(SignedDuration::from_secs(40));
    assert_eq!(outbox.tick().await.unwrap().sent, 1);

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert!(
        received.iter().all(|r| r["verified"] == true),
        "{received:?}"
    );
    assert_eq!(
        received[0]["webhook_id"], received[1]["webhook_id"],
        "a retry carries the same webhook-id"
    );
    let payload = &received[1]["payload"];
    assert_eq!(payload["type"], "message.created");
    assert_eq!(payload["data"]["kind"], "order_received");
    assert_eq!(payload["data"]["order_id"], id.0);
    assert_eq!(payload["data"]["phone"], "+6281234567890");
    assert!(
        payload["data"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Halo Bu Sari")
    );

    let messages = shop.engine.order_messages(id).await.unwrap();
    let webhook = messages.iter().find(|m| m.channel == "webhook").unwrap();
    assert_eq!((webhook.status, webhook.attempts), (MessageStatus::Sent, 2));
    assert_eq!(received[0]["webhook_id"], webhook.id.as_str());
    // The buyer's own message still waits in the manual WhatsApp queue.
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_may_not_reach_private_networks_unless_the_operator_allows_it() {
    let shop = shop(false).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest",
        "ftp://example.com/x",
        "http://[::1]/x",
    ] {
        assert!(
            matches!(
                shop.engine.create_webhook(url).await,
                Err(Error::InvalidWebhookUrl(_))
            ),
            "{url}"
        );
    }
    // A name is checked when it is resolved for delivery: localhost resolves to loopback.
    shop.engine
        .create_webhook("http://localhost:9/x")
        .await
        .unwrap();
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    let outbox = Outbox::new(shop.store.clone(), shop.clock.clone(), None, false);
    assert_eq!(outbox.tick().await.unwrap().dead, 1);
    let webhook = shop
        .engine
        .order_messages(id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.channel == "webhook")
        .unwrap();
    assert_eq!(webhook.status, MessageStatus::Dead);
    assert!(
        webhook.last_error.as_deref().unwrap().contains("loopback"),
        "{:?}",
        webhook.last_error
    );
}
