//! The JSON API through a real HTTP server on port 0, with a fresh database and a manual clock.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use jiff::SignedDuration;
use lunas_engine::{Engine, ManualClock};
use lunas_store::Store;
use lunas_store::testing::{Backend, TestDb};
use serde_json::{Value, json};

/// The Standard Webhooks secret of the messages webhook (the specification's example key).
const MESSAGES_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct TestApp {
    addr: SocketAddr,
    token: String,
    client: Client<HttpConnector, Full<Bytes>>,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
    store: Store,
    /// Midtrans's status API, which confirms every settlement before its money is recorded.
    midtrans: lunas_engine::testing::FakeMidtrans,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Reply {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// The Midtrans server key and Xendit callback token the test server is configured with.
const MIDTRANS_KEY: &str = "SB-Mid-server-api-uji";
const BITESHIP_KEY: &str = "biteship-uji-rahasia";
const KIRIMINAJA_KEY: &str = "kiriminaja-uji-rahasia";
const COURIER_SECRET: &str = "kurir-uji-rahasia";
const XENDIT_TOKEN: &str = "xnd-api-uji";

async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, "http://127.0.0.1:9").await
}

/// The app with Midtrans' and Xendit's APIs at `gateway_base` (a local fake in tests that make
/// payment pages).
async fn spawn_app_with(backend: Backend, gateway_base: &str) -> TestApp {
    let db = TestDb::new(backend);
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new("2026-11-22T03:00:00Z".parse().unwrap()));
    let midtrans = lunas_engine::testing::FakeMidtrans::start(MIDTRANS_KEY);
    let gateways = lunas_engine::gateways::Gateways {
        midtrans: Some(lunas_engine::gateways::MidtransConfig {
            server_key: MIDTRANS_KEY.into(),
            api_base: gateway_base.into(),
            status_api_base: midtrans.base().into(),
        }),
        xendit: Some(lunas_engine::gateways::XenditConfig {
            callback_token: XENDIT_TOKEN.into(),
            secret_key: None,
            api_base: gateway_base.into(),
        }),
        mutation_secret: None,
        couriers: lunas_engine::couriers::Couriers {
            biteship: Some(("x-biteship-signature".into(), BITESHIP_KEY.into())),
            kiriminaja_key: Some(KIRIMINAJA_KEY.into()),
            generic_secret: Some(COURIER_SECRET.into()),
        },
        messages_secret: Some(MESSAGES_SECRET.into()),
    };
    let engine = Arc::new(
        Engine::new(store.clone(), clock.clone())
            .await
            .unwrap()
            .with_gateways(gateways)
            .with_public_base("https://toko.example/"),
    );
    let token = lunas_engine::tokens::create(&store, "test", jiff::Timestamp::now())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let inbound = lunas_web::WhatsAppInbound {
        verify_token: "vt-rahasia".into(),
        app_secret: "app-rahasia".into(),
    };
    let state = lunas_web::AppState::new(engine.clone()).with_whatsapp_inbound(Some(inbound));
    tokio::spawn(lunas_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    TestApp {
        addr,
        token,
        client,
        clock,
        engine,
        store,
        midtrans,
        _db: db,
        _stop: stop,
    }
}

impl TestApp {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send_bytes(method, path, body.map(String::into_bytes), headers)
            .await
    }

    /// `send` with a body of any bytes (a file in a multipart form).
    async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        let mut has_auth = false;
        for (name, value) in headers {
            has_auth |= name.eq_ignore_ascii_case("authorization");
            request = request.header(*name, *value);
        }
        if !has_auth {
            request = request.header("authorization", format!("Bearer {}", self.token));
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body.to_string()), &[])
            .await
    }

    async fn put_product(&self, sku: &str, stock: i64, price: i64) -> Reply {
        self.send(
            Method::PUT,
            &format!("/api/v1/products/{sku}"),
            Some(
                json!({"name": format!("Produk {sku}"), "price": price, "stock": stock})
                    .to_string(),
            ),
            &[],
        )
        .await
    }

    async fn place(&self, phone: &str, sku: &str, qty: i64) -> Reply {
        self.post("/api/v1/orders", order_body(phone, sku, qty))
            .await
    }
}

fn order_body(phone: &str, sku: &str, qty: i64) -> Value {
    json!({"customer": {"phone": phone, "name": "Sari Wulandari", "honorific": "bu"}, "items": [{"sku": sku, "qty": qty}], "payment_method": "bank_transfer"})
}

mod access;
mod analytics;
mod buyers;
mod conversations;
mod document;
mod drafts;
mod exports;
mod fulfilment;
mod messages;
mod order_pages;
mod orders;
mod payments;
mod proofs;
mod shipping;
mod shop;
mod short;
mod variants;
mod waitlist;
