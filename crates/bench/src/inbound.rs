//! Buyers' messages through lunas's HTTP: WhatsApp Cloud API deliveries (`POST
//! /webhooks/whatsapp`, one message each, as Meta sends them, signed with the app secret) and
//! lunas's own format (`POST /webhooks/messages`, Standard Webhooks signatures), from several
//! concurrent senders; then every delivery again (Meta retries), which must keep nothing new.
//! Against issue 20's bound: 2,000 messages a second kept on SQLite.

use std::sync::Arc;

use hmac::Mac;
use hyper::body::Bytes;
use lunas_engine::{Engine, SystemClock};

const APP_SECRET: &str = "bench-app-rahasia";
const MESSAGES_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MESSAGES_PER_SECOND_MIN: f64 = 2_000.0;

fn whatsapp(i: usize, started: i64) -> crate::Post {
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [{"from": format!("628123{:06}", i % 5_000), "id": format!("wamid.bench.{i}"),
                      "timestamp": (started + i as i64 / 100).to_string(), "type": "text",
                      "text": {"body": "ready kak? size L msh ada?"}}]
    }}]}]})
    .to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("a key");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    crate::Post {
        path: "/webhooks/whatsapp",
        headers: vec![("x-hub-signature-256", signature)],
        body: Bytes::from(body),
    }
}

fn generic(i: usize, now: i64) -> anyhow::Result<crate::Post> {
    let body = serde_json::json!({"id": format!("bench-{i}"), "from": format!("+628124{:06}", i % 5_000), "text": "bisa cod gak kak"})
        .to_string();
    let id = format!("msg_bench_{i}");
    let signature = lunas_engine::channels::webhooks::sign(MESSAGES_SECRET, &id, now, &body)
        .map_err(anyhow::Error::msg)?;
    Ok(crate::Post {
        path: "/webhooks/messages",
        headers: vec![
            ("webhook-id", id),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", signature),
        ],
        body: Bytes::from(body),
    })
}

/// Sends every delivery from `clients` senders; the seconds it took.
async fn send(
    addr: std::net::SocketAddr,
    deliveries: &Arc<Vec<crate::Post>>,
    clients: usize,
) -> anyhow::Result<f64> {
    let (seconds, _, _) = crate::post_all(addr, deliveries.clone(), clients, |status, body| {
        anyhow::ensure!(
            status == hyper::StatusCode::OK,
            "{status}: {}",
            String::from_utf8_lossy(body)
        );
        Ok((0, 0))
    })
    .await?;
    Ok(seconds)
}

pub(crate) async fn run(messages: usize, clients: usize, faq: bool) -> anyhow::Result<()> {
    println!(
        "== bench inbound: {messages} buyers' messages a webhook, one a delivery, {clients} senders, SQLite, FAQ {} ({})",
        if faq { "on (22 entries)" } else { "empty" },
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let engine = Arc::new(
        Engine::new(store.clone(), Arc::new(SystemClock))
            .await?
            .with_gateways(lunas_engine::gateways::Gateways {
                messages_secret: Some(MESSAGES_SECRET.into()),
                ..Default::default()
            }),
    );
    // The FAQ bot reads every message as it arrives: a shop with the test set's 22 entries, so
    // both bodies are matched and their suggestions noted.
    if faq {
        for entry in crate::faq::entries()? {
            engine.put_faq(entry).await?;
        }
    }
    let state = lunas_web::AppState::new(engine.clone()).with_whatsapp_inbound(Some(
        lunas_web::WhatsAppInbound {
            verify_token: "bench".into(),
            app_secret: APP_SECRET.into(),
        },
    ));
    let server = crate::LocalServer::start_with(state).await?;
    let now = engine.now().as_second();
    for (name, deliveries) in [
        (
            "WhatsApp (/webhooks/whatsapp)",
            (0..messages)
                .map(|i| Ok(whatsapp(i, now)))
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        (
            "lunas's own (/webhooks/messages)",
            (0..messages)
                .map(|i| generic(i, now))
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
    ] {
        let deliveries = Arc::new(deliveries);
        let seconds = send(server.addr, &deliveries, clients).await?;
        let rate = messages as f64 / seconds;
        println!(
            "{name}: {messages} kept in {seconds:.2} s = {rate:.0} messages/s — {:.2} of the {MESSAGES_PER_SECOND_MIN:.0}/s bound {}",
            rate / MESSAGES_PER_SECOND_MIN,
            if rate >= MESSAGES_PER_SECOND_MIN {
                "OK"
            } else {
                "BELOW BOUND"
            }
        );
        let again = send(server.addr, &deliveries, clients).await?;
        println!(
            "  the same deliveries again (kept once, nothing new): {again:.2} s = {:.0} messages/s",
            messages as f64 / again
        );
    }
    server.stop().await?;
    let kept = store.conversations(None, 100).await?;
    anyhow::ensure!(!kept.is_empty(), "the conversations hold the messages");
    let one = store
        .conversation(lunas_core::Phone::parse("+628123000000")?)
        .await?;
    anyhow::ensure!(
        one.len() == messages.div_ceil(5_000),
        "each message kept once: {} for the first number",
        one.len()
    );
    anyhow::ensure!(
        !faq || one.iter().all(|m| m.faq.is_some()),
        "the FAQ bot noted a suggestion for every message"
    );
    store.close().await;
    Ok(())
}
