//! Email through a real SMTP server (aiosmtpd, started by the test), read back and decoded.

mod support;

use jiff::SignedDuration;
use lunas_core::PaymentMethod;
use lunas_core::messages::MessageKind;
use lunas_core::outbox::MessageStatus;
use lunas_engine::PlaceOrder;
use lunas_engine::channels::email::EmailChannel;
use lunas_engine::outbox::Outbox;
use lunas_store::testing::Backend;
use support::{Peer, Shop};

/// A real SMTP server (aiosmtpd) that writes each message it accepts, decoded, as JSON.
fn smtp_peer(mode: &str) -> (Peer, u16) {
    let port = support::free_port();
    let peer = Peer::start("smtp_peer.py", |dir| {
        vec![port.to_string(), dir.display().to_string(), mode.to_owned()]
    });
    (peer, port)
}

async fn shop(backend: Backend) -> Shop {
    support::shop(backend, |engine| engine.with_email(true), |_| {}).await
}

fn order(email: Option<&str>) -> PlaceOrder {
    support::order(PaymentMethod::BankTransfer, None, email)
}

fn outbox(shop: &Shop, port: u16) -> Outbox {
    let email = EmailChannel::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Razha & Co <toko@razha.example>",
    )
    .unwrap();
    Outbox::new(shop.store.clone(), shop.clock.clone()).with_channel(email)
}

async fn a_reminder_email_arrives_in_polite_indonesian_with_everything_needed_to_pay(
    backend: Backend,
) {
    let (peer, peer_port) = smtp_peer("accept");
    let shop = shop(backend).await;
    let outbox = outbox(&shop, peer_port);
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
    let due = shop.engine.order(id).await.unwrap().unwrap().amount_due;
    assert!(
        body.contains(&lunas_core::messages::format_rupiah(due.minor_units())),
        "{body}"
    );
    assert!(
        body.contains("Senin, 23 November 2026 pukul 10.00 WIB"),
        "{body}"
    );
    let messages = shop.engine.order_messages(id).await.unwrap();
    assert!(messages.iter().all(|m| m.status == MessageStatus::Sent
        && m.channel == lunas_core::messages::Channel::Email
        && m.attempts == 1));
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

async fn a_buyer_without_email_goes_to_the_manual_whatsapp_queue(backend: Backend) {
    let (_peer, peer_port) = smtp_peer("accept");
    let shop = shop(backend).await;
    let outbox = outbox(&shop, peer_port);
    shop.engine.place_order(order(None)).await.unwrap();
    assert_eq!(outbox.tick().await.unwrap().sent, 0);
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 1);
}

async fn smtp_4xx_is_retried_on_schedule_and_5xx_is_dead_at_once(backend: Backend) {
    let (_busy, busy_port) = smtp_peer("tempfail");
    let shop = shop(backend).await;
    let id = shop
        .engine
        .place_order(order(Some("sari@example.co.id")))
        .await
        .unwrap()
        .order
        .id;
    let retrying = outbox(&shop, busy_port);
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
    shop.clock.advance(SignedDuration::from_secs(45));
    assert_eq!(
        retrying.tick().await.unwrap().retried,
        0,
        "the second wait is 48 to 72 s (60 s with ±20 % jitter)"
    );

    let (_refusing, refusing_port) = smtp_peer("permfail");
    shop.clock.advance(SignedDuration::from_secs(30));
    let dead = outbox(&shop, refusing_port).tick().await.unwrap();
    assert_eq!(dead.dead, 1);
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!(message.status, MessageStatus::Dead);
    assert!(
        message.last_error.as_deref().unwrap().contains("550"),
        "{:?}",
        message.last_error
    );

    // Staff replay the dead message once the address is fixed on the other side.
    let (accepting, accepting_port) = smtp_peer("accept");
    shop.engine
        .replay_message(message.id.clone())
        .await
        .unwrap();
    assert_eq!(outbox(&shop, accepting_port).tick().await.unwrap().sent, 1);
    assert_eq!(
        accepting.received()[0]["message_id"],
        format!("<{}@lunas>", message.id)
    );
}

async fn a_message_taken_by_a_process_that_died_is_sent_after_its_lease_exactly_once(
    backend: Backend,
) {
    let (peer, peer_port) = smtp_peer("accept");
    let shop = shop(backend).await;
    let id = shop
        .engine
        .place_order(order(Some("sari@example.co.id")))
        .await
        .unwrap()
        .order
        .id;
    // A process takes the message and dies before it sends or records anything.
    let now = lunas_engine::Clock::now(&*shop.clock);
    let taken = shop
        .store
        .claim_messages(
            vec![lunas_core::messages::Channel::Email],
            now,
            now + SignedDuration::from_secs(120),
            10,
        )
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let outbox = outbox(&shop, peer_port);
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

async fn a_mail_server_that_is_down_delays_messages_and_never_blocks_orders(backend: Backend) {
    let shop = shop(backend).await;
    let closed_port = support::free_port();
    let down = outbox(&shop, closed_port);
    for _ in 0..3 {
        shop.engine
            .place_order(order(Some("sari@example.co.id")))
            .await
            .unwrap();
    }
    let outcome = down.tick().await.unwrap();
    assert_eq!((outcome.sent, outcome.retried, outcome.dead), (0, 3, 0));
    assert_eq!(
        shop.store.totals().await.unwrap().orders,
        3,
        "every order was placed"
    );
    // The server comes back: after the backoff everything goes out, nothing lost.
    let (peer, port) = smtp_peer("accept");
    shop.clock.advance(SignedDuration::from_secs(40));
    assert_eq!(outbox(&shop, port).tick().await.unwrap().sent, 3);
    assert_eq!(peer.received().len(), 3);
}

lunas_store::on_both_backends!(
    a_reminder_email_arrives_in_polite_indonesian_with_everything_needed_to_pay,
    a_buyer_without_email_goes_to_the_manual_whatsapp_queue,
    smtp_4xx_is_retried_on_schedule_and_5xx_is_dead_at_once,
    a_message_taken_by_a_process_that_died_is_sent_after_its_lease_exactly_once,
    a_mail_server_that_is_down_delays_messages_and_never_blocks_orders,
);
