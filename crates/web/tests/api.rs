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
    };
    let engine = Arc::new(
        Engine::new(store.clone(), clock.clone())
            .await
            .unwrap()
            .with_gateways(gateways),
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

async fn healthz_and_the_openapi_document_are_public(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app
        .send(Method::GET, "/healthz", None, &[("authorization", "")])
        .await;
    assert_eq!(health.status, StatusCode::OK);
    let doc = app
        .send(
            Method::GET,
            "/api/openapi.json",
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    // Every route the router serves is in the document, with each method.
    for (path, methods) in [
        ("/api/v1/products", &["get"][..]),
        ("/api/v1/products/{sku}", &["get", "put"]),
        ("/api/v1/orders", &["get", "post"]),
        ("/api/v1/orders/{id}", &["get"]),
        ("/api/v1/orders/{id}/payments", &["post"]),
        ("/api/v1/orders/{id}/cancel", &["post"]),
        ("/api/v1/settings", &["get", "put"]),
        ("/api/v1/orders/{id}/messages", &["get"]),
        ("/api/v1/messages/manual-queue", &["get"]),
        ("/api/v1/messages/{id}/sent", &["post"]),
        ("/api/v1/messages/{id}/replay", &["post"]),
        ("/api/v1/templates/preview", &["post"]),
        ("/api/v1/customers/{phone}/reminders", &["get", "put"]),
        ("/api/v1/customers", &["get"]),
        ("/api/v1/customers/{phone}", &["get", "patch"]),
        ("/api/v1/customers/{phone}/band", &["post"]),
        ("/api/v1/customers/{phone}/export", &["get"]),
        ("/api/v1/customers/{phone}/erase", &["post"]),
        ("/api/v1/webhooks", &["get", "post"]),
        ("/api/v1/webhooks/{id}", &["delete"]),
        ("/healthz", &["get"]),
        ("/webhooks/whatsapp", &["get", "post"]),
    ] {
        for method in methods {
            assert!(
                doc.body["paths"][path][method].is_object(),
                "{method} {path} missing from the OpenAPI document"
            );
        }
    }
}

async fn a_later_deadline_moves_the_release_and_the_reminders_still_ahead(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    assert_eq!(placed.body["pay_by"], "2026-11-23T03:00:00Z");
    let path = format!("/api/v1/orders/{id}/deadline");
    for (body, status, code) in [
        (
            json!({"pay_by": "2026-11-22T10:00:00+07:00", "reason": "x"}),
            422,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "2026-12-30T10:00:00+07:00", "reason": "x"}),
            422,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "besok", "reason": "x"}),
            422,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "2026-11-25T10:00:00+07:00", "reason": " "}),
            422,
            "invalid_reason",
        ),
    ] {
        let reply = app.post(&path, body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body}"
        );
    }
    let reply = app
        .post(
            &path,
            json!({"pay_by": "2026-11-25T10:00:00+07:00", "reason": "gajian tanggal 25"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["pay_by"], "2026-11-25T03:00:00Z");
    let events = reply.body["events"].as_array().unwrap();
    assert!(
        events[1]["reason"]
            .as_str()
            .unwrap()
            .contains("gajian tanggal 25")
    );
    // The old deadline passes: nothing is released.
    app.clock.set("2026-11-23T03:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment"
    );
    // The last notice comes two hours before the new deadline, with the new deadline in it.
    let reminders = |app: &'_ TestApp| {
        let store = app.store.clone();
        async move {
            store
                .order_messages(lunas_core::OrderId(id))
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.kind == lunas_core::messages::MessageKind::Reminder)
                .collect::<Vec<_>>()
        }
    };
    let before = reminders(&app).await.len();
    app.clock.set("2026-11-25T01:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    let after = reminders(&app).await;
    assert_eq!(after.len(), before + 1);
    assert!(
        after.last().unwrap().body.contains("25 November 2026"),
        "{}",
        after.last().unwrap().body
    );
    app.clock.set("2026-11-25T03:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "expired"
    );
    let reply = app
        .post(
            &path,
            json!({"pay_by": "2026-11-28T10:00:00+07:00", "reason": "terlambat"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    assert!(app.store.consistency_report().await.unwrap().is_empty());
}

async fn the_api_needs_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    for auth in ["", "Bearer ", "Bearer lunas_wrong", "Basic dXNlcjpwYXNz"] {
        let reply = app
            .send(
                Method::GET,
                "/api/v1/orders",
                None,
                &[("authorization", auth)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(reply.code(), "unauthorized");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
    }
    assert_eq!(app.get("/api/v1/orders").await.status, StatusCode::OK);
}

async fn products_read_back_with_what_is_held_and_available(backend: Backend) {
    let app = spawn_app(backend).await;
    let put = app.put_product("GAMIS-01", 5, 189_000).await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        put.body,
        json!({"sku": "GAMIS-01", "name": "Produk GAMIS-01", "price": 189000, "on_hand": 5, "reserved": 0, "available": 5, "tips": null})
    );
    assert_eq!(
        app.place("081234567890", "GAMIS-01", 2).await.status,
        StatusCode::CREATED
    );
    for dots in [".", ".."] {
        let refused = app.put_product(dots, 1, 1000).await;
        assert_eq!(refused.code(), "invalid_sku", "{dots}: {}", refused.body);
    }
    let got = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(
        (
            got.body["on_hand"].as_i64(),
            got.body["reserved"].as_i64(),
            got.body["available"].as_i64()
        ),
        (Some(5), Some(2), Some(3))
    );
    let below = app.put_product("GAMIS-01", 1, 189_000).await;
    assert_eq!(
        (below.status, below.code()),
        (StatusCode::CONFLICT, "stock_below_reserved")
    );
    assert_eq!(
        app.get("/api/v1/products/NOPE").await.status,
        StatusCode::NOT_FOUND
    );
    let tipped = app
        .send(Method::PUT, "/api/v1/products/KOPI", Some(json!({"name": "Kopi Gayo", "price": 85000, "stock": 3, "tips": "  Seduh dengan air 92°C. "}).to_string()), &[])
        .await;
    assert_eq!(tipped.body["tips"], "Seduh dengan air 92°C.");
    assert_eq!(
        app.get("/api/v1/products/KOPI").await.body["tips"],
        "Seduh dengan air 92°C."
    );
    let list = app.get("/api/v1/products?limit=1").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

async fn an_order_is_placed_paid_and_read_back_with_its_history(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("KOPI", 10, 85_000).await;
    let placed = app.post("/api/v1/orders", json!({
        "customer": {"phone": "+62 812-3456-7890", "name": "Rina", "email": "rina@example.com", "honorific": "kak"},
        "items": [{"sku": "KOPI", "qty": 1}, {"sku": "KOPI", "qty": 1}],
        "payment_method": "qris",
        "pay_within": "30m"
    })).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    let id = placed.body["id"].as_i64().unwrap();
    assert_eq!(
        placed.headers["location"],
        format!("/api/v1/orders/{id}").as_str()
    );
    assert_eq!(placed.body["status"], "awaiting_payment");
    assert_eq!(placed.body["total"], 170_000);
    assert_eq!(placed.body["pay_by"], "2026-11-22T03:30:00Z");
    assert_eq!(placed.body["customer"]["phone"], "+6281234567890");
    assert_eq!(
        placed.body["items"].as_array().unwrap().len(),
        1,
        "repeated SKUs merge into one line"
    );
    assert_eq!(placed.body["items"][0]["qty"], 2);
    assert_eq!(placed.body["events"][0]["to"], "awaiting_payment");

    let partial = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 70000, "reference": "BCA 123"}),
        )
        .await;
    assert_eq!(
        (
            partial.status,
            partial.body["status"].as_str(),
            partial.body["balance"].as_i64()
        ),
        (StatusCode::OK, Some("awaiting_payment"), Some(100_000))
    );
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 100000}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["payments"].as_array().unwrap().len(), 2);
    let got = app.get(&format!("/api/v1/orders/{id}")).await;
    let last = got.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["actor"].as_str()
        ),
        (Some("awaiting_payment"), Some("paid"), Some("api:test"))
    );
    let stock = app.get("/api/v1/products/KOPI").await;
    assert_eq!(
        (
            stock.body["on_hand"].as_i64(),
            stock.body["reserved"].as_i64()
        ),
        (Some(8), Some(0))
    );

    let again = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "telat"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let pay_again = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 1}),
        )
        .await;
    assert_eq!(
        (pay_again.status, pay_again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
}

async fn an_unpaid_order_expires_and_its_stock_goes_back_on_sale(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("SERUM", 2, 79_000).await;
    let id = app.place("081234567890", "SERUM", 2).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.place("081311112222", "SERUM", 1).await.code(),
        "out_of_stock"
    );
    app.clock.advance(SignedDuration::from_hours(24));
    app.engine.tick().await.unwrap();
    let expired = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(expired.body["items"][0]["hold"], "released");
    assert_eq!(app.get("/api/v1/products/SERUM").await.body["available"], 2);
    assert_eq!(
        app.place("081311112222", "SERUM", 1).await.status,
        StatusCode::CREATED
    );
    let expired_list = app.get("/api/v1/orders?status=expired").await;
    assert_eq!(expired_list.body["items"].as_array().unwrap().len(), 1);
}

async fn bad_input_gets_a_stable_code_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 10_000).await;
    let customer = json!({"phone": "081234567890", "name": "Sari"});
    let with = |patch: Value| {
        let mut body = json!({"customer": customer, "items": [{"sku": "A", "qty": 1}], "payment_method": "bank_transfer"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let cases: Vec<(&str, String, &[(&str, &str)], u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"customer\": ".into(),
            &[],
            400,
            "malformed_json",
        ),
        (
            "not JSON at all",
            "fix kak".into(),
            &[],
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            with(json!({})),
            &[("content-type", "text/plain")],
            415,
            "unsupported_media_type",
        ),
        (
            "missing items",
            json!({"customer": customer, "payment_method": "qris"}).to_string(),
            &[],
            422,
            "invalid_request",
        ),
        (
            "qty as text",
            with(json!({"items": [{"sku": "A", "qty": "dua"}]})),
            &[],
            422,
            "invalid_request",
        ),
        (
            "qty fractional",
            with(json!({"items": [{"sku": "A", "qty": 1.5}]})),
            &[],
            422,
            "invalid_request",
        ),
        (
            "zero qty",
            with(json!({"items": [{"sku": "A", "qty": 0}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "negative qty",
            with(json!({"items": [{"sku": "A", "qty": -3}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "huge qty",
            with(json!({"items": [{"sku": "A", "qty": 10_000_000}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "no items",
            with(json!({"items": []})),
            &[],
            422,
            "empty_order",
        ),
        (
            "bad SKU",
            with(json!({"items": [{"sku": "A/../B", "qty": 1}]})),
            &[],
            422,
            "invalid_sku",
        ),
        (
            "a SKU that is a path's dot",
            with(json!({"items": [{"sku": "..", "qty": 1}]})),
            &[],
            422,
            "invalid_sku",
        ),
        (
            "unknown SKU",
            with(json!({"items": [{"sku": "NOPE", "qty": 1}]})),
            &[],
            422,
            "unknown_sku",
        ),
        (
            "unknown payment method",
            with(json!({"payment_method": "bitcoin"})),
            &[],
            422,
            "invalid_payment_method",
        ),
        (
            "unparseable phone",
            with(json!({"customer": {"phone": "halo kak", "name": "Sari"}})),
            &[],
            422,
            "invalid_phone",
        ),
        (
            "too short phone",
            with(json!({"customer": {"phone": "0812", "name": "Sari"}})),
            &[],
            422,
            "invalid_phone",
        ),
        (
            "empty name",
            with(json!({"customer": {"phone": "081234567890", "name": "  "}})),
            &[],
            422,
            "invalid_name",
        ),
        (
            "bad email",
            with(json!({"customer": {"phone": "081234567890", "name": "S", "email": "sari@"}})),
            &[],
            422,
            "invalid_email",
        ),
        (
            "bad honorific",
            with(
                json!({"customer": {"phone": "081234567890", "name": "S", "honorific": "yang mulia"}}),
            ),
            &[],
            422,
            "invalid_honorific",
        ),
        (
            "zero pay_within",
            with(json!({"pay_within": "0s"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within over 30 days",
            with(json!({"pay_within": "31d"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within nonsense",
            with(json!({"pay_within": "besok"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within on COD",
            with(json!({"payment_method": "cod", "pay_within": "1h"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "oversized body",
            with(json!({"customer": {"phone": "081234567890", "name": "x".repeat(70_000)}})),
            &[],
            413,
            "body_too_large",
        ),
        (
            "bad idempotency key",
            with(json!({})),
            &[("idempotency-key", "")],
            422,
            "invalid_idempotency_key",
        ),
    ];
    for (what, body, headers, status, code) in cases {
        let reply = app
            .send(Method::POST, "/api/v1/orders", Some(body), headers)
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{what}: {:?}",
            reply.body
        );
        assert!(
            !reply.body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .is_empty(),
            "{what} has a message"
        );
    }
    let product_cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": "A", "price": -1, "stock": 1}),
            "invalid_price",
        ),
        (
            json!({"name": "A", "price": 10_000_000_000_000i64, "stock": 1}),
            "invalid_price",
        ),
        (
            json!({"name": "A", "price": 1, "stock": -1}),
            "invalid_stock",
        ),
        (json!({"name": "", "price": 1, "stock": 1}), "invalid_name"),
        (
            json!({"name": "A", "price": "mahal", "stock": 1}),
            "invalid_request",
        ),
        (
            json!({"name": "A", "price": 1, "stock": 1, "tips": "x".repeat(501)}),
            "invalid_tips",
        ),
    ];
    for (body, code) in product_cases {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/products/A",
                Some(body.to_string()),
                &[],
            )
            .await;
        assert_eq!((reply.status.as_u16(), reply.code()), (422, code), "{body}");
    }
    let bad_sku = app.put_product("bad%20sku", 1, 1).await;
    assert_eq!(bad_sku.code(), "invalid_sku");
    let order = app.place("081234567890", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    for (body, code) in [
        (json!({"amount": 0}), "invalid_amount"),
        (json!({"amount": -5}), "invalid_amount"),
        (json!({"amount": 1_000_000_000_001i64}), "invalid_amount"),
    ] {
        let reply = app
            .post(&format!("/api/v1/orders/{order}/payments"), body)
            .await;
        assert_eq!((reply.status.as_u16(), reply.code()), (422, code));
    }
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({"reason": ""})
        )
        .await
        .code(),
        "invalid_reason"
    );
    assert_eq!(
        app.post("/api/v1/orders/999/cancel", json!({"reason": "x"}))
            .await
            .code(),
        "not_found"
    );
    assert_eq!(app.get("/api/v1/orders/abc").await.code(), "not_found");
    assert_eq!(
        app.get("/api/v1/orders?status=lunas").await.code(),
        "invalid_query"
    );
    assert_eq!(
        app.get("/api/v1/orders?limit=1000").await.code(),
        "invalid_query"
    );
    assert_eq!(app.get("/nowhere").await.code(), "not_found");
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/orders", None, &[])
            .await
            .code(),
        "method_not_allowed"
    );
    let settings = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"payment_windows": {"qris": "0s"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(settings.code(), "invalid_settings");
    let tz = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"timezone": "Mars/Olympus"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(tz.code(), "invalid_settings");

    // Nothing of the above wrote anything: one product, the one good order, its buyer.
    let totals = app.store.totals().await.unwrap();
    assert_eq!(
        (
            totals.products,
            totals.orders,
            totals.customers,
            totals.payments
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(app.get("/api/v1/products/A").await.body["reserved"], 1);
}

async fn settings_change_the_deadline_of_new_orders(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 10_000).await;
    // A 2 h window leaves the default 14 h check-in beyond the deadline: refused, nothing changes.
    let refused = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"payment_windows": {"bank_transfer": "2h"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "invalid_settings")
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reminders.bank_transfer")
    );
    let patch = json!({"payment_windows": {"bank_transfer": "2h"}, "reminders": {"bank_transfer": {"steps": [{"after_order": "30m"}], "max_count": 1}}});
    let put = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(patch.to_string()),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    // A partial document merges: everything not given stays.
    assert_eq!(put.body["payment_windows"]["qris"], "1h");
    assert_eq!(
        put.body["quiet_hours"],
        json!({"start": "21:00", "end": "08:00"})
    );
    let placed = app.place("081234567890", "A", 1).await;
    assert_eq!(placed.body["pay_by"], "2026-11-22T05:00:00Z");
    assert_eq!(
        app.get("/api/v1/settings").await.body["timezone"],
        "Asia/Jakarta"
    );
    // A value set earlier survives a later patch of another field.
    let named = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"store_name": "Razha & Co"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(named.body["payment_windows"]["bank_transfer"], "2h");
    assert_eq!(named.body["reminders"]["bank_transfer"]["max_count"], 1);
    for not_an_object in [json!([]), json!("x"), json!(null)] {
        let refused = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(not_an_object.to_string()),
                &[],
            )
            .await;
        assert_eq!(refused.code(), "invalid_settings", "{not_an_object}");
    }
    assert_eq!(
        app.get("/api/v1/settings").await.body["store_name"],
        "Razha & Co"
    );
    let no_quiet = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"quiet_hours": null, "language": "en"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (
            no_quiet.body["quiet_hours"].clone(),
            no_quiet.body["language"].clone()
        ),
        (Value::Null, json!("en"))
    );
}

async fn concurrent_orders_for_the_last_units_through_http_never_oversell(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    const UNITS: i64 = 10;
    const BUYERS: usize = 60;
    app.put_product("LAST", UNITS, 50_000).await;
    let mut tasks = Vec::new();
    for i in 0..BUYERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.place(&format!("+62812{:08}", 10_000_000 + i), "LAST", 1)
                .await
        }));
    }
    let (mut created, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match (reply.status, reply.code()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, "out_of_stock") => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((created, refused), (UNITS, BUYERS as i64 - UNITS));
    let product = app.get("/api/v1/products/LAST").await;
    assert_eq!(
        (
            product.body["available"].as_i64(),
            product.body["reserved"].as_i64()
        ),
        (Some(0), Some(UNITS))
    );
    assert!(app.store.consistency_report().await.unwrap().is_empty());
}

async fn idempotency_key_returns_the_first_response_and_creates_nothing_new(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    app.put_product("A", 50, 10_000).await;
    let body = order_body("081234567890", "A", 2).to_string();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.send(
                Method::POST,
                "/api/v1/orders",
                Some(body),
                &[("idempotency-key", "order-7f3a")],
            )
            .await
        }));
    }
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED);
        replayed += usize::from(reply.headers.get("idempotent-replayed").is_some());
        bodies.push(reply.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every response is the first one"
    );
    assert_eq!(replayed, 11);
    assert_eq!(app.store.totals().await.unwrap().orders, 1);
    // The same content with keys in another order is the same request.
    let reordered = r#"{"payment_method":"bank_transfer","items":[{"qty":2,"sku":"A"}],"customer":{"honorific":"bu","name":"Sari Wulandari","phone":"081234567890"}}"#;
    let same = app
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(reordered.into()),
            &[("idempotency-key", "order-7f3a")],
        )
        .await;
    assert_eq!(same.body, bodies[0]);
    let different = app
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(order_body("081234567890", "A", 3).to_string()),
            &[("idempotency-key", "order-7f3a")],
        )
        .await;
    assert_eq!(
        (different.status.as_u16(), different.code()),
        (422, "idempotency_key_reused")
    );
    assert_eq!(app.store.totals().await.unwrap().orders, 1);
}

async fn orders_list_newest_first_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 50, 10_000).await;
    // Order numbers need not be consecutive: on PostgreSQL an insert that loses its unique code
    // to another order (`ON CONFLICT DO NOTHING`) still uses up a sequence value.
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(
            app.place("081234567890", "A", 1).await.body["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let first = app.get("/api/v1/orders?limit=2").await;
    let ids: Vec<i64> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![placed[4], placed[3]]);
    let next = first.body["next_after"].as_i64().unwrap();
    let second = app
        .get(&format!("/api/v1/orders?limit=2&after={next}"))
        .await;
    let ids: Vec<i64> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![placed[2], placed[1]]);
    let awaiting = app
        .get("/api/v1/orders?status=awaiting_payment&limit=100")
        .await;
    assert_eq!(awaiting.body["items"].as_array().unwrap().len(), 5);
    assert!(awaiting.body["next_after"].is_null());
}

async fn an_orders_messages_and_the_manual_whatsapp_queue(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let id = app.place("081234567890", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    assert_eq!(messages.status, StatusCode::OK);
    let first = messages.body[0].clone();
    assert_eq!(
        (
            first["kind"].as_str(),
            first["status"].as_str(),
            first["channel"].as_str()
        ),
        (
            Some("order_received"),
            Some("pending"),
            Some("manual_whatsapp")
        )
    );
    assert_eq!(first["to"], "+6281234567890");
    assert_eq!(first["attempts"], 0);
    assert!(
        first["body"].as_str().unwrap().starts_with("Halo Bu Sari"),
        "{first}"
    );
    assert!(
        first["link"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/6281234567890?text=")
    );

    let queue = app.get("/api/v1/messages/manual-queue").await;
    assert_eq!(queue.body.as_array().unwrap().len(), 1);
    let message_id = first["id"].as_str().unwrap();
    let sent = app
        .post(&format!("/api/v1/messages/{message_id}/sent"), json!({}))
        .await;
    assert_eq!(
        (
            sent.status,
            sent.body["status"].as_str(),
            sent.body["sent_by"].as_str()
        ),
        (StatusCode::OK, Some("sent"), Some("api:test"))
    );
    let twice = app
        .post(&format!("/api/v1/messages/{message_id}/sent"), json!({}))
        .await;
    assert_eq!(
        (twice.status.as_u16(), twice.code()),
        (409, "invalid_message_state")
    );
    let replay = app
        .post(&format!("/api/v1/messages/{message_id}/replay"), json!({}))
        .await;
    assert_eq!(
        (replay.status.as_u16(), replay.code()),
        (409, "invalid_message_state")
    );
    assert_eq!(
        app.post("/api/v1/messages/msg_nope/sent", json!({}))
            .await
            .code(),
        "not_found"
    );
    assert!(
        app.get("/api/v1/messages/manual-queue")
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/orders/999/messages").await.code(),
        "not_found"
    );
}

async fn templates_are_previewed_against_a_real_order_and_broken_ones_are_refused_when_saved(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let due = lunas_core::messages::format_rupiah(placed.body["amount_due"].as_i64().unwrap());
    let id = placed.body["id"].as_i64().unwrap();
    let preview = app
        .post(
            "/api/v1/templates/preview",
            json!({"kind": "reminder", "order_id": id}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
    let text = preview.body["body"].as_str().unwrap();
    assert!(
        text.contains("Halo Bu Sari")
            && text.contains(&due)
            && text.contains("Senin, 23 November 2026 pukul 10.00 WIB"),
        "{text}"
    );
    let custom = app.post("/api/v1/templates/preview", json!({"kind": "reminder", "order_id": id, "template": "{{ buyer.greeting }}, total {{ order.total }}"})).await;
    assert_eq!(custom.body["body"], "Bu Sari, total Rp150.000");
    for (body, code) in [
        (
            json!({"kind": "reminder", "order_id": id, "template": "{{ nope }}"}),
            "invalid_template",
        ),
        (
            json!({"kind": "reminder", "order_id": id, "template": "{% if %}"}),
            "invalid_template",
        ),
        (json!({"kind": "gossip", "order_id": id}), "invalid_kind"),
        (json!({"kind": "reminder", "order_id": 999}), "not_found"),
    ] {
        assert_eq!(
            app.post("/api/v1/templates/preview", body.clone())
                .await
                .code(),
            code,
            "{body}"
        );
    }
    for patch in [
        json!({"templates": {"id": {"reminder": "Halo {{ pembeli }}"}}}),
        json!({"templates": {"id": {"cancelled": "{% for %}"}}}),
        json!({"reminders": {"qris": {"steps": [{"after_order": "5m", "template": "{{ x.y }}"}], "max_count": 1}}}),
    ] {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(patch.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (422, "invalid_template"),
            "{patch}"
        );
    }
    for (patch, code) in [
        (
            json!({"reminders": {"qris": {"steps": [{"after_order": "0s"}], "max_count": 1}}}),
            "invalid_settings",
        ),
        (
            json!({"reminders": {"qris": {"steps": [{"before_deadline": "2h"}], "max_count": 1}}}),
            "invalid_settings",
        ),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "08:00"}}),
            "invalid_settings",
        ),
        (json!({"language": "fr"}), "invalid_settings"),
        (
            json!({"payment_link": "ftp://pay.example"}),
            "invalid_settings",
        ),
    ] {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(patch.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (422, code),
            "{patch}"
        );
    }
    let saved = app
        .send(Method::PUT, "/api/v1/settings", Some(json!({"templates": {"id": {"order_received": "Siap {{ buyer.greeting }}, ditunggu ya"}}}).to_string()), &[])
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let id = app.place("081311112222", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}/messages")).await.body[0]["body"],
        "Siap Bu Sari, ditunggu ya"
    );
}

async fn a_buyer_can_be_opted_out_of_reminders(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    app.place("081234567890", "A", 1).await;
    let off = app
        .send(
            Method::PUT,
            "/api/v1/customers/0812-3456-7890/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (off.status, off.body["reminders_enabled"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let read = app.get("/api/v1/customers/+6281234567890/reminders").await;
    assert_eq!(read.body["reminders_enabled"], false);
    assert_eq!(
        app.get("/api/v1/customers/081399998888/reminders")
            .await
            .code(),
        "not_found"
    );
    let unknown = app
        .send(
            Method::PUT,
            "/api/v1/customers/081399998888/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(unknown.code(), "not_found");
    let garbage = app
        .send(
            Method::PUT,
            "/api/v1/customers/halo/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(garbage.code(), "invalid_phone");
}

async fn webhook_endpoints_show_their_secret_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/lunas"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let listed = app.get("/api/v1/webhooks").await;
    assert_eq!(listed.body[0]["id"], id.as_str());
    assert!(
        listed.body[0].get("secret").is_none(),
        "the secret is never listed"
    );
    for url in [
        "ftp://hooks.example.com/",
        "http://127.0.0.1:9000/",
        "http://192.168.1.10/hook",
        "not a url",
    ] {
        assert_eq!(
            app.post("/api/v1/webhooks", json!({"url": url}))
                .await
                .code(),
            "invalid_webhook_url",
            "{url}"
        );
    }
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, &[])
            .await
            .code(),
        "not_found"
    );
    // Changes through the API are in the audit log, as the dashboard's are: once each.
    let audit = app.engine.audit_log(None, 20).await.unwrap();
    let lines: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|l| (l.action.as_str(), l.actor.as_str(), l.subject.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "webhook.delete",
                "api:test",
                "https://hooks.example.com/lunas"
            ),
            ("webhook.add", "api:test", "https://hooks.example.com/lunas"),
        ],
        "{audit:?}"
    );
}

async fn whatsapp_webhooks_are_verified_and_the_buyers_messages_kept(backend: Backend) {
    use hmac::{Hmac, Mac};
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    app.place("081234567890", "A", 1).await;
    let challenge = app
        .send(Method::GET, "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt-rahasia&hub.challenge=1158201444", None, &[("authorization", "")])
        .await;
    assert_eq!(
        (challenge.status, challenge.body.clone()),
        (StatusCode::OK, json!(1158201444))
    );
    let wrong = app
        .send(
            Method::GET,
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (403, "invalid_verify_token")
    );

    let payload = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
        {"from": "6281234567890", "id": "wamid.A1", "timestamp": "1795000000", "type": "text", "text": {"body": "kak, sudah transfer ya"}}
    ]}}]}]})
    .to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"app-rahasia").unwrap();
    mac.update(payload.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let forged = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload.clone()),
            &[("authorization", ""), ("x-hub-signature-256", "sha256=00")],
        )
        .await;
    assert_eq!(
        (forged.status.as_u16(), forged.code()),
        (401, "invalid_signature")
    );
    let phone = lunas_core::Phone::parse("081234567890").unwrap();
    assert_eq!(
        app.store.last_inbound_at(phone.clone()).await.unwrap(),
        None,
        "a forged delivery records nothing"
    );
    let real = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(real.status, StatusCode::OK);
    assert_eq!(
        app.store
            .last_inbound_at(phone)
            .await
            .unwrap()
            .map(|t| t.as_second()),
        Some(1_795_000_000)
    );
    // A body past the limit is refused in the JSON error format, like every other route.
    let huge = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some("x".repeat(lunas_web::REQUEST_BODY_BYTES_MAX + 1)),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.code(), "body_too_large");
}

async fn buyers_have_a_reliability_record_a_band_and_staff_can_pin_and_note_them(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    assert_eq!(
        app.place("0812-3456-7890", "GAMIS", 1).await.status,
        StatusCode::CREATED
    );

    // Any way the number is written.
    let buyer = app.get("/api/v1/customers/+62%20812%203456%207890").await;
    assert_eq!(buyer.status, StatusCode::OK, "{}", buyer.body);
    assert_eq!(buyer.body["phone"], "+6281234567890");
    let reliability = &buyer.body["reliability"];
    assert_eq!(reliability["band"], "normal");
    assert_eq!(reliability["orders_placed"], 1);
    assert_eq!(reliability["orders_paid"], 0);
    assert_eq!(reliability["orders_expired"], 0);
    assert_eq!(reliability["reason"], "usual");
    assert!(reliability["score"].as_f64().unwrap() > 0.5);
    assert_eq!(
        reliability["explanation"],
        "Pembeli baru: belum ada pesanan yang selesai"
    );

    assert_eq!(
        app.get("/api/v1/customers/0899").await.code(),
        "invalid_phone"
    );
    assert_eq!(
        app.get("/api/v1/customers/081299998888").await.status,
        StatusCode::NOT_FOUND
    );

    // Pins need a reason and a real band; nothing changes otherwise.
    let no_reason = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "watch"}),
        )
        .await;
    assert_eq!(no_reason.code(), "invalid_reason");
    let bad_band = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "suspicious", "reason": "x"}),
        )
        .await;
    assert_eq!(bad_band.code(), "invalid_band");
    let pinned = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "trusted", "reason": "langganan sejak 2021"}),
        )
        .await;
    assert_eq!(pinned.status, StatusCode::OK, "{}", pinned.body);
    assert_eq!(pinned.body["reliability"]["band"], "trusted");
    assert_eq!(pinned.body["reliability"]["pinned"], true);
    assert_eq!(
        pinned.body["reliability"]["pin_reason"],
        "langganan sejak 2021"
    );

    // Notes and tags.
    let noted = app
        .send(
            Method::PATCH,
            "/api/v1/customers/081234567890",
            Some(
                json!({"notes": "suka warna hitam", "tags": ["VIP", "reseller", "vip"]})
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.body);
    assert_eq!(noted.body["tags"], json!(["vip", "reseller"]));
    assert_eq!(noted.body["notes"], "suka warna hitam");
    let bad_tag = app
        .send(
            Method::PATCH,
            "/api/v1/customers/081234567890",
            Some(json!({"tags": ["bad tag!"]}).to_string()),
            &[],
        )
        .await;
    assert_eq!(bad_tag.code(), "invalid_tags");
    assert_eq!(
        app.get("/api/v1/customers/081234567890").await.body["tags"],
        json!(["vip", "reseller"]),
        "a refused change changes nothing"
    );

    // A number blocked before it ever ordered: its orders get 403 without detail.
    let blocked = app
        .post(
            "/api/v1/customers/0813-0000-1111/band",
            json!({"band": "blocked", "reason": "prank berulang"}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    let refused = app.place("081300001111", "GAMIS", 1).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "customer_blocked");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("block") && !message.contains("prank"),
        "{message}"
    );
    let listed = app.get("/api/v1/customers?band=blocked").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["phone"], "+6281300001111");
    assert_eq!(
        app.get("/api/v1/customers?band=nope").await.code(),
        "invalid_band"
    );

    // The order response says which policy applied.
    let placed = app.place("081234567890", "GAMIS", 1).await;
    assert_eq!(placed.body["policy"]["band"], "trusted");
    assert_eq!(placed.body["policy"]["pinned"], true);
    assert_eq!(
        placed.body["policy"]["reason"],
        "Ditetapkan oleh staf: langganan sejak 2021"
    );
}

async fn a_buyer_in_watch_cannot_choose_cod(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    let pinned = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "watch", "reason": "dua kali tidak bayar di toko lain"}),
        )
        .await;
    assert_eq!(pinned.status, StatusCode::OK);
    let mut body = order_body("081234567890", "GAMIS", 1);
    body["payment_method"] = json!("cod");
    let refused = app.post("/api/v1/orders", body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "payment_method_not_allowed");
    let too_many = app.place("081234567890", "GAMIS", 6).await;
    assert_eq!(too_many.code(), "quantity_limited");
    let placed = app.place("081234567890", "GAMIS", 1).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    assert_eq!(placed.body["policy"]["band"], "watch");
    assert_eq!(placed.body["policy"]["pay_within"], "2h");
    assert_eq!(placed.body["deposit"], 75_000);
    assert_eq!(placed.body["policy"]["deposit"], 75_000);
    // A deposit outside 0–100 % is refused when saved, and nothing changes.
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"risk": {"policies": {"watch": {"deposit_percent": 101}}}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(bad.code(), "invalid_settings");
    assert_eq!(
        app.get("/api/v1/settings").await.body["risk"]["policies"]["watch"]["deposit_percent"],
        50
    );
    // Paying a second order's deposit moves it to awaiting_balance.
    let second = app.place("081234567890", "GAMIS", 2).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let deposit = app
        .post(
            &format!("/api/v1/orders/{second_id}/payments"),
            json!({"amount": 150_000}),
        )
        .await;
    assert_eq!(deposit.status, StatusCode::OK, "{}", deposit.body);
    assert_eq!(deposit.body["status"], "awaiting_balance");
    assert_eq!(
        deposit.body["balance"].as_i64().unwrap(),
        second.body["amount_due"].as_i64().unwrap() - 150_000,
        "the balance is what is left of the amount due, unique code included"
    );
    // A buyer's own cancellation is counted; a bad `by` is refused.
    let id = placed.body["id"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "x", "by": "courier"}),
        )
        .await;
    assert_eq!(bad.code(), "invalid_cancelled_by");
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "tidak jadi", "by": "buyer"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let buyer = app.get("/api/v1/customers/081234567890").await;
    assert_eq!(buyer.body["reliability"]["orders_cancelled_by_buyer"], 1);
}

async fn a_buyer_can_be_exported_and_erased(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    assert_eq!(
        app.place("081234567890", "GAMIS", 1).await.status,
        StatusCode::CREATED
    );
    let export = app.get("/api/v1/customers/081234567890/export").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body["customer"]["name"], "Sari Wulandari");
    assert_eq!(export.body["orders"].as_array().unwrap().len(), 1);
    assert_eq!(
        export.body["orders"][0]["events"].as_array().unwrap().len(),
        1
    );
    assert!(!export.body["messages"].as_array().unwrap().is_empty());

    let erased = app
        .post("/api/v1/customers/081234567890/erase", json!({}))
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    let pseudonym = erased.body["pseudonym"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("erased-"), "{pseudonym}");
    assert_eq!(erased.body["reliability"]["orders_placed"], 1);
    let again = app
        .post("/api/v1/customers/+6281234567890/erase", json!({}))
        .await;
    assert_eq!(
        (again.status, again.body["pseudonym"].as_str()),
        (StatusCode::OK, Some(pseudonym.as_str()))
    );
    assert_eq!(
        app.get("/api/v1/customers/081234567890/export")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let order = app.get("/api/v1/orders/1").await;
    assert_eq!(order.body["customer"]["phone"], pseudonym.as_str());
    assert_eq!(order.body["customer"]["name"], "");
    assert_eq!(order.body["total"], 150_000, "the money stays");
    assert_eq!(
        app.post("/api/v1/customers/081299990000/erase", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/v1/customers/0899/erase", json!({}))
            .await
            .code(),
        "invalid_phone"
    );
}

/// A Midtrans notification signed with the test server's key.
fn midtrans_notification(order_id: i64, status: &str, amount: i64, transaction: &str) -> String {
    let status_code = if status == "settlement" { "200" } else { "201" };
    let gross = format!("{amount}.00");
    json!({
        "transaction_status": status,
        "transaction_id": transaction,
        "status_code": status_code,
        "gross_amount": gross,
        "order_id": order_id.to_string(),
        "payment_type": "bank_transfer",
        "fraud_status": "accept",
        "signature_key": lunas_engine::gateways::midtrans_signature(
            &order_id.to_string(), status_code, &gross, MIDTRANS_KEY),
    })
    .to_string()
}

impl TestApp {
    /// Posts to a callback route as a gateway would: no API token, its own headers. What is
    /// posted to Midtrans's route, Midtrans's status API knows too (a genuine notification).
    async fn callback(&self, path: &str, body: String, headers: &[(&str, &str)]) -> Reply {
        if path == "/callbacks/midtrans" && serde_json::from_str::<Value>(&body).is_ok() {
            self.midtrans.learn(body.as_bytes());
        }
        let mut all = vec![("authorization", "")];
        all.extend_from_slice(headers);
        self.send(Method::POST, path, Some(body), &all).await
    }

    async fn statement(&self, csv: &str, query: &str) -> Reply {
        self.send(
            Method::POST,
            &format!("/api/v1/statements{query}"),
            Some(csv.to_owned()),
            &[("content-type", "text/csv")],
        )
        .await
    }
}

async fn a_statement_upload_pays_orders_and_lists_the_rest_for_review(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let code = placed.body["unique_code"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    assert_eq!(due, 150_000 + code, "amount_due is the total plus the code");
    assert!((1..=999).contains(&code));
    assert_eq!(placed.body["balance"], due);
    let csv = format!(
        "date,description,amount,balance\n\
         22/11/2026,TRSF E-BANKING CR SARI,{due},1000000\n\
         2026-11-22,TRSF E-BANKING CR ANDI,75000,1075000\n\
         2026-11-22,BIAYA ADM,-6500,1068500\n"
    );
    let imported = app.statement(&csv, "").await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        (
            &imported.body["matched"],
            &imported.body["review"],
            &imported.body["duplicates"],
            &imported.body["ignored"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(1))
    );
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "paid");
    assert_eq!(order.body["payments"][0]["source"], "statement");
    let again = app.statement(&csv, "").await;
    assert_eq!(again.body["duplicates"], 2, "{}", again.body);
    let review = app.get("/api/v1/payments/review").await;
    assert_eq!(review.status, StatusCode::OK);
    let items = review.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "unmatched");
    assert_eq!(items[0]["amount"], 75_000);
    assert_eq!(items[0]["detail"]["description"], "TRSF E-BANKING CR ANDI");
    assert_eq!(items[0]["assignable"], true);
    // Staff assign it to Andi's order, which it pays in part.
    let andi = app.place("081311112222", "A", 1).await;
    let andi_id = andi.body["id"].as_i64().unwrap();
    let review_id = items[0]["id"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(bad.code(), "invalid_resolution");
    let resolved = app
        .post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({"order_id": andi_id}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["status"], "resolved");
    let andi = app.get(&format!("/api/v1/orders/{andi_id}")).await;
    assert_eq!(andi.body["status"], "awaiting_payment");
    assert_eq!(andi.body["amount_paid"], 75_000);
    assert_eq!(
        app.post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({"note": "sudah"})
        )
        .await
        .code(),
        "review_resolved"
    );
    assert_eq!(
        app.post("/api/v1/payments/review/99/resolve", json!({"note": "x"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.get("/api/v1/payments/review").await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/payments/review?all=true").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn a_statement_with_bad_lines_is_refused_whole_with_their_line_numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let csv = format!(
        "date,description,amount,balance\n\
         2026-11-22,TRSF SARI,{due},\n\
         2026-02-30,TANGGAL SALAH,5000,\n"
    );
    let refused = app.statement(&csv, "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "malformed_lines");
    assert_eq!(refused.body["error"]["lines"][0]["line"], 3);
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment",
        "nothing was imported"
    );
    let skipped = app.statement(&csv, "?skip_bad_lines=true").await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.body);
    assert_eq!(skipped.body["matched"], 1);
    assert_eq!(skipped.body["bad_lines"][0]["line"], 3);
    assert_eq!(
        app.statement("no header here\n", "").await.code(),
        "invalid_statement"
    );
    assert_eq!(
        app.statement(&csv, "?skip_bad_lines=maybe").await.code(),
        "invalid_query"
    );
    let not_utf8 = app
        .send(
            Method::POST,
            "/api/v1/statements",
            Some(String::from_utf8_lossy(&[0xff, 0xfe]).into_owned()),
            &[],
        )
        .await;
    assert_eq!(not_utf8.status, StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = app
        .send(
            Method::POST,
            "/api/v1/statements",
            Some(csv),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn gateway_callbacks_are_authenticated_by_their_signature(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    // A forged notification: 401, and nothing changes.
    let mut forged: Value =
        serde_json::from_str(&midtrans_notification(id, "settlement", due, "tx-1")).unwrap();
    forged["signature_key"] = json!("00".repeat(64));
    let refused = app
        .callback("/callbacks/midtrans", forged.to_string(), &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "invalid_signature");
    assert!(!refused.body.to_string().contains(MIDTRANS_KEY));
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment"
    );
    // For an unknown order: 404, kept for review.
    let unknown = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(4242, "settlement", 99_000, "tx-9"),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_order");
    let review = app.get("/api/v1/payments/review").await;
    assert_eq!(review.body["items"][0]["kind"], "unknown_order");
    assert_eq!(review.body["items"][0]["source"], "midtrans");
    // Signed and right: paid. Not JSON: 400 (after the signature could not even be read: 401).
    let paid = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(id, "settlement", due, "tx-1"),
            &[],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["outcome"], "recorded");
    assert_eq!(paid.body["order_status"], "paid");
    let pending = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(id, "pending", due, "tx-1"),
            &[],
        )
        .await;
    assert_eq!(
        pending.body["order_status"], "paid",
        "out of order: stays paid"
    );
    let garbled = app.callback("/callbacks/midtrans", "{".into(), &[]).await;
    assert_eq!(garbled.code(), "malformed_notification");
    // A signed pending notification with its status rewritten: 401, nothing recorded.
    let third = app.place("081234567890", "A", 1).await;
    let third_id = third.body["id"].as_i64().unwrap();
    let third_due = third.body["amount_due"].as_i64().unwrap();
    let mut rewritten: Value = serde_json::from_str(&midtrans_notification(
        third_id, "pending", third_due, "tx-3",
    ))
    .unwrap();
    rewritten["transaction_status"] = json!("settlement");
    let refused = app
        .send(
            Method::POST,
            "/callbacks/midtrans",
            Some(rewritten.to_string()),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "status_mismatch");
    // Midtrans's status API down: 503, so Midtrans delivers it again; kept for review meanwhile.
    app.midtrans.set_down(true);
    let unconfirmed = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(third_id, "settlement", third_due, "tx-3"),
            &[],
        )
        .await;
    app.midtrans.set_down(false);
    assert_eq!(unconfirmed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unconfirmed.code(), "gateway_unconfirmed");
    assert_eq!(
        app.get(&format!("/api/v1/orders/{third_id}")).await.body["status"],
        "awaiting_payment"
    );
    let review = app.get("/api/v1/payments/review").await;
    assert!(
        review.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["kind"] == "gateway_unconfirmed" && item["order_id"] == third_id),
        "{}",
        review.body
    );
    // Xendit: the callback token, compared as given.
    let second = app.place("081234567890", "A", 1).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let invoice = json!({"id": "inv-77", "external_id": second_id.to_string(), "status": "PAID",
                         "paid_amount": second.body["amount_due"]})
    .to_string();
    let wrong = app
        .callback(
            "/callbacks/xendit",
            invoice.clone(),
            &[("x-callback-token", "salah")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .callback("/callbacks/xendit", invoice.clone(), &[])
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let paid = app
        .callback(
            "/callbacks/xendit",
            invoice,
            &[("x-callback-token", XENDIT_TOKEN)],
        )
        .await;
    assert_eq!(paid.body["order_status"], "paid", "{}", paid.body);
    // Without a mutation secret configured the route is not there.
    assert_eq!(
        app.callback("/callbacks/mutations", "[]".into(), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn the_same_settlement_ten_times_concurrently_through_http_records_one_payment(
    backend: Backend,
) {
    let app = Arc::new(spawn_app(backend).await);
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let body = midtrans_notification(id, "settlement", due, "tx-replayed");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            app.callback("/callbacks/midtrans", body, &[]).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        outcomes.push(reply.body["outcome"].as_str().unwrap().to_owned());
    }
    outcomes.sort();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "recorded").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 9);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["payments"].as_array().unwrap().len(), 1);
    assert_eq!(order.body["payments"][0]["external_id"], "tx-replayed");
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    let received = messages
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "payment_received")
        .count();
    assert_eq!(received, 1, "one payment-received message");
}

/// A local stand-in for Midtrans Snap and Xendit's invoices: answers like them and keeps what it
/// was sent.
async fn fake_gateway() -> (String, Arc<std::sync::Mutex<Vec<(String, String, Value)>>>) {
    use axum::routing::post;
    let seen: Arc<std::sync::Mutex<Vec<(String, String, Value)>>> = Default::default();
    let keep = seen.clone();
    let app = axum::Router::new()
        .route(
            "/snap/v1/transactions",
            post({
                let keep = keep.clone();
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                    let auth = headers["authorization"].to_str().unwrap().to_owned();
                    let body: Value = serde_json::from_slice(&body).unwrap();
                    keep.lock().unwrap().push(("midtrans".into(), auth, body));
                    (
                        axum::http::StatusCode::CREATED,
                        axum::Json(json!({"token": "snap-tok", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-tok"})),
                    )
                }
            }),
        )
        .route(
            "/v2/invoices",
            post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                let auth = headers["authorization"].to_str().unwrap().to_owned();
                let body: Value = serde_json::from_slice(&body).unwrap();
                keep.lock().unwrap().push(("xendit".into(), auth, body));
                axum::Json(json!({"id": "inv-1", "invoice_url": "https://checkout-staging.xendit.co/web/inv-1"}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

async fn a_payment_page_is_made_at_the_gateway_and_messages_point_to_it(backend: Backend) {
    let (base, seen) = fake_gateway().await;
    let app = spawn_app_with(backend, &base).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let linked = app
        .post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "midtrans"}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    let url = "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-tok";
    assert_eq!(linked.body["payment_url"], url);
    {
        let seen = seen.lock().unwrap();
        let (gateway, auth, body) = &seen[0];
        assert_eq!(gateway, "midtrans");
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{MIDTRANS_KEY}:"));
        assert_eq!(auth, &format!("Basic {expected}"));
        assert_eq!(body["transaction_details"]["order_id"], id.to_string());
        assert_eq!(
            body["transaction_details"]["gross_amount"],
            placed.body["amount_due"]
        );
    }
    let preview = app
        .post(
            "/api/v1/templates/preview",
            json!({"kind": "reminder", "order_id": id}),
        )
        .await;
    assert!(
        preview.body["body"].as_str().unwrap().contains(url),
        "{}",
        preview.body
    );
    // Xendit here has no secret key; an unknown gateway and a paid order are refused.
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "xendit"})
        )
        .await
        .code(),
        "gateway_not_configured"
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "paypal"})
        )
        .await
        .code(),
        "invalid_gateway"
    );
    app.post(
        &format!("/api/v1/orders/{id}/payments"),
        json!({"amount": placed.body["amount_due"]}),
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "midtrans"})
        )
        .await
        .code(),
        "nothing_to_pay"
    );
    assert_eq!(
        app.post(
            "/api/v1/orders/999/payment-link",
            json!({"gateway": "midtrans"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn a_revoked_token_is_refused_at_once_by_every_process(backend: Backend) {
    let app = spawn_app(backend).await;
    // A second server on the same database: another process.
    let other_engine = Arc::new(
        Engine::new(app.store.clone(), app.clock.clone())
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lunas_web::serve(
        listener,
        lunas_web::AppState::new(other_engine),
        async {
            let _ = stopped.await;
        },
    ));
    let token = lunas_engine::tokens::create(&app.store, "kasir", jiff::Timestamp::now())
        .await
        .unwrap();
    let ask = |addr: std::net::SocketAddr, authorization: String| {
        let client = app.client.clone();
        async move {
            let request = Request::get(format!("http://{addr}/api/v1/orders"))
                .header("authorization", authorization)
                .body(Full::new(Bytes::new()))
                .unwrap();
            client.request(request).await.unwrap().status()
        }
    };
    // The scheme is case-insensitive.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(
            ask(app.addr, format!("{scheme} {token}")).await,
            StatusCode::OK,
            "{scheme}"
        );
    }
    assert_eq!(ask(other, format!("Bearer {token}")).await, StatusCode::OK);
    assert_eq!(
        ask(app.addr, format!("Basic {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    let tokens = app.engine.api_tokens().await.unwrap();
    assert!(tokens.iter().any(|t| t.name == "kasir" && t.count == 1));
    assert_eq!(
        app.engine
            .revoke_api_token("kasir", lunas_core::Actor::system())
            .await
            .unwrap(),
        1
    );
    // Refused at once, here and in the other process that used it a moment ago.
    assert_eq!(
        ask(app.addr, format!("Bearer {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ask(other, format!("Bearer {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    let audit = app.engine.audit_log(None, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|l| l.action == "token.revoke" && l.subject == "kasir")
    );
    // Revoking a name no token has revokes nothing.
    assert_eq!(
        app.engine
            .revoke_api_token("kasir", lunas_core::Actor::system())
            .await
            .unwrap(),
        0
    );
}

lunas_store::on_both_backends!(
    a_revoked_token_is_refused_at_once_by_every_process,
    a_statement_upload_pays_orders_and_lists_the_rest_for_review,
    a_statement_with_bad_lines_is_refused_whole_with_their_line_numbers,
    gateway_callbacks_are_authenticated_by_their_signature,
    the_same_settlement_ten_times_concurrently_through_http_records_one_payment,
    a_payment_page_is_made_at_the_gateway_and_messages_point_to_it,
    a_buyer_can_be_exported_and_erased,
    buyers_have_a_reliability_record_a_band_and_staff_can_pin_and_note_them,
    a_buyer_in_watch_cannot_choose_cod,
    healthz_and_the_openapi_document_are_public,
    a_later_deadline_moves_the_release_and_the_reminders_still_ahead,
    the_api_needs_a_valid_token,
    products_read_back_with_what_is_held_and_available,
    an_order_is_placed_paid_and_read_back_with_its_history,
    an_unpaid_order_expires_and_its_stock_goes_back_on_sale,
    bad_input_gets_a_stable_code_and_writes_nothing,
    settings_change_the_deadline_of_new_orders,
    concurrent_orders_for_the_last_units_through_http_never_oversell,
    idempotency_key_returns_the_first_response_and_creates_nothing_new,
    orders_list_newest_first_in_pages,
    an_orders_messages_and_the_manual_whatsapp_queue,
    templates_are_previewed_against_a_real_order_and_broken_ones_are_refused_when_saved,
    a_buyer_can_be_opted_out_of_reminders,
    webhook_endpoints_show_their_secret_once,
    whatsapp_webhooks_are_verified_and_the_buyers_messages_kept,
);
