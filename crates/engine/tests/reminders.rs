//! Reminders and buyer messages with a hand-driven clock: the configured reminders go out in
//! order and stop the moment the order stops awaiting payment.

mod support;

use jiff::SignedDuration;
use lunas_core::messages::MessageKind;
use lunas_core::outbox::{Message, MessageStatus};
use lunas_core::{Actor, Money, PaymentMethod, Phone, Settings};
use lunas_engine::PlaceOrder;
use lunas_store::testing::Backend;
use support::Shop;

async fn shop(backend: Backend, settings: impl FnOnce(&mut Settings)) -> Shop {
    support::shop(backend, |engine| engine, settings).await
}

fn order(method: PaymentMethod, within: Option<&str>) -> PlaceOrder {
    support::order(method, within, None)
}

/// What the buyer of a 24 h transfer placed at 10:00 WIB and never paid is written, in order
/// (the default cadence).
const UNPAID_FOR_A_DAY: [MessageKind; 4] = [
    MessageKind::OrderReceived,
    MessageKind::Reminder,
    MessageKind::Reminder,
    MessageKind::HoldReleased,
];

trait Steps {
    async fn place(&self, request: PlaceOrder) -> lunas_core::OrderId;
    async fn advance(&self, by: SignedDuration);
    async fn messages(&self, id: lunas_core::OrderId) -> Vec<Message>;
    async fn kinds(&self, id: lunas_core::OrderId) -> Vec<MessageKind>;
    async fn due(&self, id: lunas_core::OrderId) -> Money;
}

impl Steps for Shop {
    /// Places an order that must succeed; returns its id.
    async fn place(&self, request: PlaceOrder) -> lunas_core::OrderId {
        self.engine.place_order(request).await.unwrap().order.id
    }

    /// Moves the clock and runs the scheduler's steps until nothing is due.
    async fn advance(&self, by: SignedDuration) {
        self.clock.advance(by);
        while self.engine.tick().await.unwrap().more {}
    }

    async fn messages(&self, id: lunas_core::OrderId) -> Vec<Message> {
        self.engine.order_messages(id).await.unwrap()
    }

    async fn kinds(&self, id: lunas_core::OrderId) -> Vec<MessageKind> {
        self.messages(id)
            .await
            .into_iter()
            .map(|m| m.kind)
            .collect()
    }

    /// What the buyer must transfer: the total with the order's unique code.
    async fn due(&self, id: lunas_core::OrderId) -> Money {
        self.engine.order(id).await.unwrap().unwrap().amount_due
    }
}

async fn an_unpaid_order_gets_exactly_the_configured_reminders_in_order_then_the_release_notice(
    backend: Backend,
) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    assert_eq!(shop.kinds(id).await, [MessageKind::OrderReceived]);

    // Default cadence for a 24 h transfer placed at 10:00 WIB: 12:00, 00:00 (quiet → 08:00), 08:00
    // (deadline − 2 h, the same instant, merged): two reminders.
    shop.advance(SignedDuration::from_mins(119)).await;
    assert_eq!(shop.kinds(id).await.len(), 1, "nothing before its time");
    shop.advance(SignedDuration::from_mins(1)).await;
    assert_eq!(
        shop.kinds(id).await,
        [MessageKind::OrderReceived, MessageKind::Reminder]
    );
    shop.advance(SignedDuration::from_hours(20)).await; // 08:00 WIB the next day
    assert_eq!(
        shop.kinds(id).await,
        [
            MessageKind::OrderReceived,
            MessageKind::Reminder,
            MessageKind::Reminder
        ]
    );
    shop.advance(SignedDuration::from_hours(2)).await; // the deadline
    let messages = shop.messages(id).await;
    let kinds: Vec<MessageKind> = messages.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, UNPAID_FOR_A_DAY);
    // Nothing after expiry, however long we wait.
    shop.advance(SignedDuration::from_hours(72)).await;
    assert_eq!(shop.kinds(id).await.len(), 4);
    assert_eq!(shop.store.totals().await.unwrap().timers, 0);

    let reminder = &messages[1];
    assert!(
        reminder.body.starts_with("Halo Bu Sari"),
        "{}",
        reminder.body
    );
    let due = lunas_core::messages::format_rupiah(shop.due(id).await.minor_units());
    assert!(
        reminder
            .body
            .contains(&format!("sebesar {due} masih menunggu pembayaran."))
            && reminder.body.contains(&format!(
                "Mohon transfer tepat {due} (sudah termasuk kode unik"
            )),
        "{}",
        reminder.body
    );
    assert!(
        reminder
            .body
            .contains("Senin, 23 November 2026 pukul 10.00 WIB"),
        "{}",
        reminder.body
    );
    assert!(
        reminder.body.contains("Tips: Cuci dengan air dingin."),
        "{}",
        reminder.body
    );
    // Never sent by staff before the deadline: withdrawn when the hold was released.
    assert_eq!(reminder.status, MessageStatus::Superseded);
    assert_eq!(reminder.recipient, "+6281234567890");
    assert!(
        reminder
            .link
            .as_deref()
            .unwrap()
            .starts_with("https://wa.me/6281234567890?text=Halo%20Bu%20Sari")
    );
    assert!(
        messages[3].body.contains("sudah kami lepas"),
        "{}",
        messages[3].body
    );
}

async fn paying_after_the_first_reminder_cancels_the_rest(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    shop.advance(SignedDuration::from_hours(2)).await;
    assert_eq!(
        shop.kinds(id).await,
        [MessageKind::OrderReceived, MessageKind::Reminder]
    );
    shop.engine
        .record_payment(id, shop.due(id).await, None, Actor::api_token("test"))
        .await
        .unwrap();
    assert_eq!(
        shop.store.totals().await.unwrap().timers,
        0,
        "pending reminders are cancelled, not merely ignored"
    );
    shop.advance(SignedDuration::from_hours(48)).await;
    assert_eq!(
        shop.kinds(id).await,
        [
            MessageKind::OrderReceived,
            MessageKind::Reminder,
            MessageKind::PaymentReceived
        ]
    );
}

async fn a_partial_payment_keeps_the_reminders_going_for_the_balance(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    shop.engine
        .record_payment(
            id,
            Money::payment(50_000).unwrap(),
            None,
            Actor::api_token("test"),
        )
        .await
        .unwrap();
    shop.advance(SignedDuration::from_hours(2)).await;
    let messages = shop.messages(id).await;
    assert_eq!(messages.last().unwrap().kind, MessageKind::Reminder);
    let balance = shop.due(id).await.minor_units() - 50_000;
    assert!(
        messages
            .last()
            .unwrap()
            .body
            .contains(&lunas_core::messages::format_rupiah(balance)),
        "the reminder asks for the balance: {}",
        messages.last().unwrap().body
    );
}

async fn cancelling_sends_the_cancellation_and_stops_reminders(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::Qris, None)).await;
    shop.engine
        .cancel_order(id, "salah ukuran".into(), Actor::api_token("test"))
        .await
        .unwrap();
    shop.advance(SignedDuration::from_hours(2)).await;
    let messages = shop.messages(id).await;
    assert_eq!(
        messages.iter().map(|m| m.kind).collect::<Vec<_>>(),
        [MessageKind::OrderReceived, MessageKind::Cancelled]
    );
    assert!(
        messages[1].body.contains("(salah ukuran)"),
        "{}",
        messages[1].body
    );
}

async fn a_buyer_who_opted_out_gets_no_reminders_but_still_gets_lifecycle_messages(
    backend: Backend,
) {
    let shop = shop(backend, |_| {}).await;
    let first = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    shop.engine
        .set_no_reminders(Phone::parse("+62 812-3456-7890").unwrap(), true)
        .await
        .unwrap();
    shop.advance(SignedDuration::from_hours(30)).await;
    assert_eq!(
        shop.kinds(first).await,
        [MessageKind::OrderReceived, MessageKind::HoldReleased]
    );
}

async fn switched_off_lifecycle_messages_are_not_written(backend: Backend) {
    let shop = shop(backend, |s| {
        s.messages.order_received = false;
        s.messages.hold_released = false;
    })
    .await;
    let id = shop.place(order(PaymentMethod::Qris, Some("10m"))).await;
    shop.advance(SignedDuration::from_mins(10)).await;
    assert!(
        shop.kinds(id).await.is_empty(),
        "the 15 min reminder is past a 10 min deadline, and the rest is off"
    );
}

async fn live_sale_windows_in_seconds_get_their_reminders_in_seconds(backend: Backend) {
    let shop = shop(backend, |s| {
        s.reminders.qris = serde_json::from_str(
            r#"{"steps": [{"after_order": "10s"}, {"before_deadline": "5s"}], "max_count": 2}"#,
        )
        .unwrap();
    })
    .await;
    let id = shop.place(order(PaymentMethod::Qris, Some("30s"))).await;
    shop.advance(SignedDuration::from_secs(10)).await;
    shop.advance(SignedDuration::from_secs(15)).await;
    assert_eq!(
        shop.kinds(id).await,
        [
            MessageKind::OrderReceived,
            MessageKind::Reminder,
            MessageKind::Reminder
        ]
    );
    shop.advance(SignedDuration::from_secs(5)).await;
    assert_eq!(
        shop.kinds(id).await.last(),
        Some(&MessageKind::HoldReleased)
    );
}

async fn staff_work_the_manual_whatsapp_queue(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    let queue = shop.engine.manual_queue(50).await.unwrap();
    assert_eq!(queue.len(), 1);
    let sent = shop
        .engine
        .mark_message_sent(queue[0].id.clone(), Actor::api_token("kasir"))
        .await
        .unwrap();
    assert_eq!(
        (sent.status, sent.sent_by.as_deref()),
        (MessageStatus::Sent, Some("api:kasir"))
    );
    assert!(shop.engine.manual_queue(50).await.unwrap().is_empty());
    let again = shop
        .engine
        .mark_message_sent(queue[0].id.clone(), Actor::api_token("kasir"))
        .await;
    assert!(matches!(
        again,
        Err(lunas_engine::Error::Message(
            lunas_core::outbox::MessageOpError::NotPending("sent")
        ))
    ));
    assert_eq!(shop.messages(id).await[0].status, MessageStatus::Sent);
}

async fn a_reminder_not_yet_delivered_is_withdrawn_when_the_order_is_paid(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    shop.advance(SignedDuration::from_hours(2)).await;
    // The reminder waits in the manual queue; the buyer pays before staff send it.
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 2);
    shop.engine
        .record_payment(id, shop.due(id).await, None, Actor::api_token("test"))
        .await
        .unwrap();
    let queue = shop.engine.manual_queue(10).await.unwrap();
    assert!(
        queue
            .iter()
            .all(|m| m.order_id != Some(id) || m.kind == MessageKind::PaymentReceived),
        "the reminder and the unsent 'pesanan diterima' left the queue: {queue:?}"
    );
    let received = shop
        .messages(id)
        .await
        .into_iter()
        .find(|m| m.kind == MessageKind::OrderReceived)
        .unwrap();
    assert_eq!(received.status, MessageStatus::Superseded);
    // Nor can staff bring it back: a superseded message is not dead.
    assert!(matches!(
        shop.engine.replay_message(received.id.clone()).await,
        Err(lunas_engine::Error::Message(
            lunas_core::outbox::MessageOpError::NotDead("superseded")
        ))
    ));
    let reminder = shop
        .messages(id)
        .await
        .into_iter()
        .find(|m| m.kind == MessageKind::Reminder)
        .unwrap();
    assert_eq!(reminder.status, MessageStatus::Superseded);
    assert!(
        reminder
            .last_error
            .unwrap()
            .contains("no longer awaits payment")
    );
}

async fn staff_skip_a_message_and_a_later_deadline_replaces_what_waits_with_the_new_time(
    backend: Backend,
) {
    let shop = shop(backend, |_| {}).await;
    let first = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    let second = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    // Skipping: the message leaves the queue unsent, with who skipped it; only once.
    let received = shop.messages(first).await[0].clone();
    let skipped = shop
        .engine
        .skip_message(received.id.clone(), Actor::api_token("kasir"))
        .await
        .unwrap();
    assert_eq!(
        (skipped.status, skipped.sent_by.as_deref()),
        (MessageStatus::Skipped, Some("api:kasir"))
    );
    assert!(matches!(
        shop.engine
            .skip_message(received.id.clone(), Actor::api_token("kasir"))
            .await,
        Err(lunas_engine::Error::Message(
            lunas_core::outbox::MessageOpError::NotPending("skipped")
        ))
    ));
    assert!(
        shop.engine
            .manual_queue(10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.order_id != Some(first))
    );

    // A later deadline: the waiting "pesanan diterima" (with the old time) leaves the queue and
    // the buyer is told the new time.
    let to: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
    shop.engine
        .extend_deadline(second, to, "gajian".into(), Actor::api_token("kasir"))
        .await
        .unwrap();
    let messages = shop.messages(second).await;
    let kinds: Vec<(MessageKind, MessageStatus)> =
        messages.iter().map(|m| (m.kind, m.status)).collect();
    assert_eq!(
        kinds,
        [
            (MessageKind::OrderReceived, MessageStatus::Superseded),
            (MessageKind::DeadlineMoved, MessageStatus::Pending)
        ]
    );
    assert!(
        messages[1]
            .body
            .contains("Rabu, 25 November 2026 pukul 17.00 WIB"),
        "{}",
        messages[1].body
    );
}

async fn every_reminder_and_the_release_notice_reach_the_sellers_webhooks(backend: Backend) {
    let shop = shop(backend, |_| {}).await;
    for url in [
        "https://crm.example.com/lunas",
        "https://gateway.example.com/wa",
    ] {
        shop.engine
            .create_webhook(url, Actor::system())
            .await
            .unwrap();
    }
    let id = shop.place(order(PaymentMethod::BankTransfer, None)).await;
    shop.advance(SignedDuration::from_hours(24)).await; // both reminders, then the deadline
    let messages = shop.messages(id).await;
    let buyers: Vec<&Message> = messages
        .iter()
        .filter(|m| m.channel != lunas_core::messages::Channel::Webhook)
        .collect();
    let kinds: Vec<MessageKind> = buyers.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, UNPAID_FOR_A_DAY);
    // A delivery to each endpoint for every message the buyer was written.
    for kind in kinds {
        let deliveries = messages
            .iter()
            .filter(|m| m.channel == lunas_core::messages::Channel::Webhook && m.kind == kind)
            .count();
        let written = buyers.iter().filter(|m| m.kind == kind).count();
        assert_eq!(deliveries, 2 * written, "{kind:?}");
    }
}

lunas_store::on_both_backends!(
    staff_skip_a_message_and_a_later_deadline_replaces_what_waits_with_the_new_time,
    an_unpaid_order_gets_exactly_the_configured_reminders_in_order_then_the_release_notice,
    paying_after_the_first_reminder_cancels_the_rest,
    a_partial_payment_keeps_the_reminders_going_for_the_balance,
    cancelling_sends_the_cancellation_and_stops_reminders,
    a_buyer_who_opted_out_gets_no_reminders_but_still_gets_lifecycle_messages,
    switched_off_lifecycle_messages_are_not_written,
    live_sale_windows_in_seconds_get_their_reminders_in_seconds,
    staff_work_the_manual_whatsapp_queue,
    a_reminder_not_yet_delivered_is_withdrawn_when_the_order_is_paid,
    every_reminder_and_the_release_notice_reach_the_sellers_webhooks,
);
