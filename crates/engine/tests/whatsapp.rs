//! WhatsApp Cloud API against a local fake of the Graph API, with the 24-hour rule.

mod support;

use lunas_store::testing::Backend;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use jiff::SignedDuration;
use lunas_core::outbox::MessageStatus;
use lunas_core::{Actor, PaymentMethod, Timestamp};
use lunas_engine::PlaceOrder;
use lunas_engine::channels::whatsapp::{WhatsAppChannel, WhatsAppConfig};
use lunas_engine::outbox::Outbox;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Graph {
    calls: Arc<Mutex<Vec<(String, Option<String>, Value)>>>,
    /// Statuses to answer with, in order; 200 once they run out.
    answers: Arc<Mutex<Vec<u16>>>,
}

async fn messages(
    State(graph): State<Graph>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    graph
        .calls
        .lock()
        .unwrap()
        .push((phone_number_id, auth, body));
    let status = {
        let mut answers = graph.answers.lock().unwrap();
        if answers.is_empty() {
            200
        } else {
            answers.remove(0)
        }
    };
    let body = if status == 200 {
        json!({"messages": [{"id": "wamid.HBgM"}]})
    } else {
        json!({"error": {"message": "nope", "code": 100}})
    };
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

async fn fake_graph() -> (String, Graph) {
    let graph = Graph::default();
    let app = Router::new()
        .route("/v21.0/{id}/messages", post(messages))
        .with_state(graph.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v21.0"), graph)
}

struct Shop {
    shop: support::Shop,
    outbox: Outbox,
    graph: Graph,
}

impl std::ops::Deref for Shop {
    type Target = support::Shop;
    fn deref(&self) -> &support::Shop {
        &self.shop
    }
}

async fn shop(backend: Backend, template: Option<&str>) -> Shop {
    // Email is on too: WhatsApp takes precedence for a buyer who has both.
    let shop = support::shop(
        backend,
        |engine| engine.with_whatsapp(true).with_email(true),
        |_| {},
    )
    .await;
    let (base_url, graph) = fake_graph().await;
    let config = WhatsAppConfig {
        base_url,
        token: "EAAG-secret-token".into(),
        phone_number_id: "1098765".into(),
        template: template.map(str::to_owned),
        template_language: "id".into(),
    };
    let channel = std::sync::Arc::new(WhatsAppChannel::new(config, shop.store.clone()).unwrap());
    let outbox = Outbox::new(shop.store.clone(), shop.clock.clone()).with_channel(channel);
    Shop {
        shop,
        outbox,
        graph,
    }
}

fn order() -> PlaceOrder {
    support::order(
        PaymentMethod::BankTransfer,
        None,
        Some("sari@example.co.id"),
    )
}

fn inbound(phone_digits: &str, at: Timestamp) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
        {"from": phone_digits, "id": format!("wamid.in.{}", at.as_second()), "timestamp": at.as_second().to_string(), "type": "text", "text": {"body": "kak, ukuran L masih ada?"}}
    ]}}]}]})
}

async fn outside_the_24_hour_window_an_approved_template_goes_out(backend: Backend) {
    let shop = shop(backend, Some("lunas_pemberitahuan")).await;
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    assert_eq!(shop.outbox.tick().await.unwrap().sent, 1);
    let calls = shop.graph.calls.lock().unwrap().clone();
    let (phone_number_id, auth, body) = &calls[0];
    assert_eq!(phone_number_id, "1098765");
    assert_eq!(auth.as_deref(), Some("Bearer EAAG-secret-token"));
    assert_eq!(body["to"], "6281234567890");
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "lunas_pemberitahuan");
    let parameter = body["template"]["components"][0]["parameters"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        parameter.starts_with("Halo Bu Sari") && !parameter.contains('\n'),
        "{parameter}"
    );
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!(
        body["biz_opaque_callback_data"],
        message.id.as_str(),
        "the stable id travels with the message"
    );
    assert_eq!(
        (
            message.channel.as_str(),
            message.status,
            message.variant.as_deref()
        ),
        ("whatsapp", MessageStatus::Sent, Some("template"))
    );
}

async fn within_24_hours_of_the_buyers_message_free_text_goes_out(backend: Backend) {
    let shop = shop(backend, Some("lunas_pemberitahuan")).await;
    let now = lunas_engine::Clock::now(&*shop.clock);
    // The buyer asked something an hour ago; redelivery of the same webhook changes nothing.
    let payload = inbound("6281234567890", now - SignedDuration::from_hours(1));
    let raw = payload.to_string();
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    assert_eq!(
        shop.engine
            .record_whatsapp_inbound(&payload, &raw)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shop.engine
            .record_whatsapp_inbound(&payload, &raw)
            .await
            .unwrap(),
        0
    );
    assert_eq!(shop.outbox.tick().await.unwrap().sent, 1);
    let body = shop.graph.calls.lock().unwrap()[0].2.clone();
    assert_eq!(body["type"], "text");
    assert!(
        body["text"]["body"].as_str().unwrap().contains('\n'),
        "free text keeps its lines"
    );
    assert_eq!(
        shop.engine.order_messages(id).await.unwrap()[0]
            .variant
            .as_deref(),
        Some("text")
    );

    // A day later the window has closed again: the next message is a template.
    shop.clock.advance(SignedDuration::from_hours(24));
    shop.engine
        .cancel_order(id, "stok habis".into(), Actor::api_token("test"))
        .await
        .unwrap();
    assert_eq!(shop.outbox.tick().await.unwrap().sent, 1);
    assert_eq!(shop.graph.calls.lock().unwrap()[1].2["type"], "template");
}

async fn a_waitlist_offer_goes_out_on_whatsapp_like_an_orders_message(backend: Backend) {
    let shop = shop(backend, Some("lunas_pemberitahuan")).await;
    let now = lunas_engine::Clock::now(&*shop.clock);
    let sku = lunas_core::Sku::parse("TUNGGU-1").unwrap();
    let product = |stock| lunas_core::catalog::ProductInput {
        sku: sku.clone(),
        name: "Tas Rajut".into(),
        price: lunas_core::Money::price(99_000).unwrap(),
        stock,
        tips: None,
        variant: None,
    };
    shop.engine.put_product(product(0)).await.unwrap();
    let phone = lunas_core::Phone::parse("+6281234567890").unwrap();
    shop.engine
        .join_waitlist(sku.clone(), phone, Some("Sari".into()))
        .await
        .unwrap();
    let payload = inbound("6281234567890", now - SignedDuration::from_hours(1));
    shop.engine
        .record_whatsapp_inbound(&payload, &payload.to_string())
        .await
        .unwrap();
    // The bag is back: the offer goes out through the Cloud API as free text, inside the 24-hour
    // window the buyer's message opened (the number never ordered: its message as received
    // says when it wrote).
    shop.engine.put_product(product(1)).await.unwrap();
    assert_eq!(shop.outbox.tick().await.unwrap().sent, 1);
    let body = shop.graph.calls.lock().unwrap()[0].2.clone();
    assert_eq!(body["type"], "text");
    let text = body["text"]["body"].as_str().unwrap();
    assert!(
        text.contains("Tas Rajut") && text.contains("/o/claim/"),
        "{text}"
    );
    assert!(shop.engine.manual_queue(10).await.unwrap().is_empty());
}

async fn without_an_approved_template_the_message_falls_back_to_the_manual_queue(backend: Backend) {
    let shop = shop(backend, None).await;
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    let outcome = shop.outbox.tick().await.unwrap();
    assert_eq!((outcome.sent, outcome.manual), (0, 1));
    assert!(shop.graph.calls.lock().unwrap().is_empty());
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!(
        (message.channel.as_str(), message.status),
        ("manual_whatsapp", MessageStatus::Pending)
    );
    assert!(
        message
            .link
            .as_deref()
            .unwrap()
            .starts_with("https://wa.me/6281234567890?text=Halo")
    );
    assert!(message.last_error.as_deref().unwrap().contains("24-hour"));
    assert_eq!(shop.engine.manual_queue(10).await.unwrap().len(), 1);
}

async fn graph_errors_are_retried_or_dead_by_their_kind(backend: Backend) {
    let shop = shop(backend, Some("lunas_pemberitahuan")).await;
    shop.graph.answers.lock().unwrap().extend([500, 400]);
    let id = shop.engine.place_order(order()).await.unwrap().order.id;
    assert_eq!(
        shop.outbox.tick().await.unwrap().retried,
        1,
        "5xx is passing"
    );
    shop.clock.advance(SignedDuration::from_secs(40));
    assert_eq!(
        shop.outbox.tick().await.unwrap().dead,
        1,
        "4xx is permanent"
    );
    let message = shop.engine.order_messages(id).await.unwrap().remove(0);
    assert_eq!((message.status, message.attempts), (MessageStatus::Dead, 2));
    assert!(message.last_error.as_deref().unwrap().contains("400"));
    assert!(
        !message.last_error.as_deref().unwrap().contains("EAAG"),
        "the token never reaches an error"
    );
    let _ = &shop.store;
}

lunas_store::on_both_backends!(
    a_waitlist_offer_goes_out_on_whatsapp_like_an_orders_message,
    outside_the_24_hour_window_an_approved_template_goes_out,
    within_24_hours_of_the_buyers_message_free_text_goes_out,
    without_an_approved_template_the_message_falls_back_to_the_manual_queue,
    graph_errors_are_retried_or_dead_by_their_kind,
);
