//! A local fake of Midtrans's status API (`GET /v2/{order_id}/status`), for tests and
//! benchmarks: it answers what it was told Midtrans knows of each order, checks the server key
//! in the `Authorization` header as Midtrans does, and can be made to fail like an outage.
//! It runs on a thread of its own, so it outlives the runtime of the test that started it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use base64::Engine as _;

#[derive(Default)]
struct FakeState {
    transactions: HashMap<String, serde_json::Value>,
    down: bool,
    asked: usize,
}

/// The fake; dropping it stops its server.
pub struct FakeMidtrans {
    base: String,
    state: Arc<Mutex<FakeState>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeMidtrans {
    /// Starts a fake that takes `server_key`.
    pub fn start(server_key: &str) -> FakeMidtrans {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{server_key}:"))
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v2/{order_id}/status", get(status))
            .with_state((state.clone(), Arc::new(expected)));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FakeMidtrans {
            base,
            state,
            _stop: stop,
        }
    }

    /// The base URL to configure as `status_api_base`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Midtrans now knows the transaction a genuine notification describes: the status API
    /// answers its fields (without the signature) for its order.
    pub fn learn(&self, notification: &[u8]) {
        let mut json: serde_json::Value =
            serde_json::from_slice(notification).expect("a notification is JSON");
        if let Some(fields) = json.as_object_mut() {
            fields.remove("signature_key");
            fields.insert(
                "status_message".into(),
                "Success, transaction is found".into(),
            );
        }
        let order = json["order_id"].as_str().unwrap_or_default().to_owned();
        self.state
            .lock()
            .expect("fake lock")
            .transactions
            .insert(order, json);
    }

    /// Makes the fake answer 503 (an outage) until told otherwise.
    pub fn set_down(&self, down: bool) {
        self.state.lock().expect("fake lock").down = down;
    }

    /// How many status requests it has answered.
    pub fn asked(&self) -> usize {
        self.state.lock().expect("fake lock").asked
    }
}

type Shared = (Arc<Mutex<FakeState>>, Arc<String>);

async fn status(
    State((state, expected)): State<Shared>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let mut state = state.lock().expect("fake lock");
    state.asked += 1;
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected.as_str());
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"status_code":"401","status_message":"Unknown Merchant server_key/id"}"#.into(),
        );
    }
    if state.down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status_code":"503","status_message":"Service unavailable"}"#.into(),
        );
    }
    match state.transactions.get(&order_id) {
        Some(json) => (StatusCode::OK, json.to_string()),
        None => (
            StatusCode::NOT_FOUND,
            r#"{"status_code":"404","status_message":"Transaction doesn't exist."}"#.into(),
        ),
    }
}
