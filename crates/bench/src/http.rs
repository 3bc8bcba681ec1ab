//! Order placement through the HTTP API, against the HTTP bound: a minimal endpoint that parses
//! the same request body and answers 201 without touching storage, driven by the same generator;
//! and against the storage's own ceiling, raw rusqlite writing the rows lunas wrote.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use hyper::body::Bytes;
use lunas_engine::{Engine, SystemClock};

use crate::loadgen::{self, Load};
use crate::orders::{Buyers, Written, run_full_peer};

const RATIO_MIN: f64 = 0.5;
const P99_MS_MAX: f64 = 50.0;

/// Returns the ratio, for the CI guard.
pub(crate) async fn run(
    clients: usize,
    seconds: u64,
    returning_buyers: bool,
) -> anyhow::Result<f64> {
    println!(
        "== bench http: {clients} clients, {seconds} s per side, {}, SQLite WAL synchronous=FULL ({})",
        match returning_buyers {
            false => "a new buyer per order",
            true => "1,000 returning buyers",
        },
        crate::machine()
    );
    // A new buyer per order (a number never seen before), or the bench's 1,000 returning buyers.
    let buyers = match returning_buyers {
        false => Buyers::New,
        true => Buyers::Returning,
    };
    let body: Arc<dyn Fn(usize) -> Bytes + Send + Sync> = Arc::new(move |i: usize| {
        Bytes::from(format!(
            r#"{{"customer":{{"phone":"{}","name":"{}","honorific":"kak"}},"items":[{{"sku":"{}","qty":1}}],"payment_method":"bank_transfer"}}"#,
            buyers.phone(i),
            buyers.name(i),
            crate::sku(i)
        ))
    });

    // The bound.
    let bound_app = Router::new().route(
        "/api/v1/orders",
        post(|body: axum::Json<serde_json::Value>| async move {
            let _ = body;
            (axum::http::StatusCode::CREATED, r#"{"id":1}"#)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_bound, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, bound_app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let bound = loadgen::run(Load {
        addr,
        path: "/api/v1/orders",
        token: None,
        body: body.clone(),
        clients,
        duration: Duration::from_secs(seconds),
        expect_status: 201,
    })
    .await?;
    let _ = stop_bound.send(());
    server.await??;
    print_side("bound (parse + 201)", &bound);

    // lunas.
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let token = lunas_engine::tokens::create(&store, "bench", jiff::Timestamp::now()).await?;
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let server = crate::LocalServer::start(engine).await?;
    let addr = server.addr;
    let lunas = loadgen::run(Load {
        addr,
        path: "/api/v1/orders",
        token: Some(token),
        body,
        clients,
        duration: Duration::from_secs(seconds),
        expect_status: 201,
    })
    .await?;
    server.stop().await?;
    print_side("lunas POST /api/v1/orders", &lunas);
    let totals = store.totals().await?;
    anyhow::ensure!(
        totals.orders as usize == lunas.ok,
        "{} orders acknowledged, {} stored",
        lunas.ok,
        totals.orders
    );
    store.close().await;

    // The ceiling the rows set: raw rusqlite writing the rows lunas wrote for as many orders, on
    // one connection with no HTTP, no JSON and no locks (`bench orders`'s full peer).
    let lunas_path = dir.path().join("bench.db");
    let written = tokio::task::spawn_blocking(move || Written::read(&lunas_path)).await??;
    let peer_rate = lunas.ok as f64 / run_full_peer(lunas.ok, &written, buyers).await?;
    println!(
        "{:<28} {peer_rate:>9.0} orders/s = {:.2} of the bound: the rows alone, 100 orders per commit",
        "full peer (rusqlite, no HTTP)",
        peer_rate / bound.rate()
    );

    let ratio = lunas.rate() / bound.rate();
    let p99 = lunas.percentile_ms(0.99);
    println!(
        "ratio {ratio:.2} (bound ≥ {RATIO_MIN}) {}; lunas p99 {p99:.1} ms (bound < {P99_MS_MAX} ms) {}; lunas to the full peer {:.2}",
        if ratio >= RATIO_MIN {
            "OK"
        } else {
            "BELOW BOUND"
        },
        if p99 < P99_MS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        },
        lunas.rate() / peer_rate
    );
    Ok(ratio)
}

fn print_side(name: &str, result: &loadgen::LoadResult) {
    println!(
        "{name:<28} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {} failed)",
        result.rate(),
        result.percentile_ms(0.50),
        result.percentile_ms(0.99),
        result.ok,
        result.failed
    );
}
