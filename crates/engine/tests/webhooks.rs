//! Outgoing webhooks verified by the official Standard Webhooks library in a real receiver.

mod support;

use jiff::SignedDuration;
use lunas_core::PaymentMethod;
use lunas_core::outbox::MessageStatus;
use lunas_engine::channels::webhooks::WebhookChannel;
use lunas_engine::outbox::Outbox;
use lunas_engine::{Error, PlaceOrder};
use lunas_store::testing::Backend;
use support::{Peer, Shop};

/// A receiver that verifies every delivery with the official Standard Webhooks library and
/// answers 500 to the first `fail_first`.
fn receiver(port: u16, secret: &str, fail_first: u32) -> Peer {
    Peer::start("webhook_peer.py", |dir| {
        vec![
            port.to_string(),
            dir.display().to_string(),
            secret.to_owned(),
            fail_first.to_string(),
        ]
    })
}

async fn shop(backend: Backend, allow_private: bool) -> Shop {
    support::shop(
        backend,
        |engine| engine.with_webhooks_allow_private(allow_private),
        |_| {},
    )
    .await
}

fn order() -> PlaceOrder {
    support::order(PaymentMethod::BankTransfer, None, None)
}

async fn deliveries_verify_with_the_official_library_and_a_retry_keeps_its_webhook_id(
    backend: Backend,
) {
    let shop = shop(backend, true).await;
    let port = support::free_port();
    let endpoint = shop
        .engine
        .create_webhook(
            &format!("http://127.0.0.1:{port}/lunas"),
            lunas_core::Actor::system(),
        )
        .await
        .unwrap();
    assert!(endpoint.secret.starts_with("whsec_"));
    let receiver = receiver(port, &endpoint.secret, 1);
    let outbox = Outbox::new(shop.store.clone(), shop.clock.clone())
        .with_channel(WebhookChannel::new(shop.store.clone(), true));
    // Deliveries are signed with the engine's clock, and the receiver checks the signature's
    // time against its own (five minutes either way): start the hand-driven clock at the
    // receiver's time.
    shop.clock.set(jiff::Timestamp::now());

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
    let webhook = messages
        .iter()
        .find(|m| m.channel == lunas_core::messages::Channel::Webhook)
        .unwrap();
    assert_eq!((webhook.status, webhook.attempts), (MessageStatus::Sent, 2));
    assert_eq!(received[0]["webhook_id"], webhook.id.as_str());
    // The buyer's own message still waits in the manual WhatsApp queue.
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 1);
}

async fn webhooks_may_not_reach_private_networks_unless_the_operator_allows_it(backend: Backend) {
    let shop = shop(backend, false).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest",
        "ftp://example.com/x",
        "http://[::1]/x",
    ] {
        assert!(
            matches!(
                shop.engine
                    .create_webhook(url, lunas_core::Actor::system())
                    .await,
                Err(Error::InvalidWebhookUrl(_))
            ),
            "{url}"
        );
    }
    // A name is checked when it is resolved for delivery: localhost resolves to loopback.
    shop.engine
        .create_webhook("http://localhost:9/x", lunas_core::Actor::system())
        .await
        .unwrap();
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    let outbox = Outbox::new(shop.store.clone(), shop.clock.clone())
        .with_channel(WebhookChannel::new(shop.store.clone(), false));
    assert_eq!(outbox.tick().await.unwrap().dead, 1);
    let webhook = shop
        .engine
        .order_messages(id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.channel == lunas_core::messages::Channel::Webhook)
        .unwrap();
    assert_eq!(webhook.status, MessageStatus::Dead);
    assert!(
        webhook.last_error.as_deref().unwrap().contains("loopback"),
        "{:?}",
        webhook.last_error
    );
}

lunas_store::on_both_backends!(
    deliveries_verify_with_the_official_library_and_a_retry_keeps_its_webhook_id,
    webhooks_may_not_reach_private_networks_unless_the_operator_allows_it,
);
