//! Payments that confirm themselves: matching a bank statement against the open orders (bound:
//! 100,000 lines against 100,000 open orders in under 2 s), the whole import that records every
//! payment, a re-import that finds every line a duplicate; and Midtrans callbacks answered at 200
//! per second (bound: p99 under 50 ms), paced open-loop so that a slow answer delays no later
//! request and latency counts from when each callback was due.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use lunas_core::payments::{Match, Matcher, order_reference};
use lunas_core::statement::parse_statement;
use lunas_core::{Actor, PaymentMethod};
use lunas_engine::gateways::{Gateways, MidtransConfig, midtrans_signature};
use lunas_engine::testing::FakeMidtrans;
use lunas_engine::{Engine, SystemClock};

const MATCH_SECONDS_MAX: f64 = 2.0;
const CALLBACK_P99_MS_MAX: f64 = 50.0;
const SERVER_KEY: &str = "SB-Mid-server-bench";

/// An engine on a fresh store whose unique codes reach 9,999, and whose 100 products are priced
/// 20,000 apart, so that the code ranges of two prices never overlap and `orders` open transfers
/// all get a code of their own.
async fn engine(
    dir: &std::path::Path,
    midtrans: &FakeMidtrans,
) -> anyhow::Result<(lunas_store::Store, Arc<Engine>)> {
    let store = crate::fresh_store(dir).await?;
    for i in 0..crate::BENCH_SKUS {
        store
            .put_product(
                lunas_core::catalog::ProductInput {
                    sku: lunas_core::Sku::parse(&crate::sku(i))?,
                    name: format!("Produk uji {i}"),
                    price: lunas_core::Money::price(100_000 + i as i64 * 20_000)?,
                    stock: 1_000_000_000,
                    tips: None,
                    variant: None,
                },
                jiff::Timestamp::now(),
            )
            .await??;
    }
    let engine = Engine::new(store.clone(), Arc::new(SystemClock))
        .await?
        .with_gateways(Gateways {
            midtrans: Some(MidtransConfig {
                server_key: SERVER_KEY.into(),
                api_base: "http://127.0.0.1:9".into(),
                status_api_base: midtrans.base().into(),
            }),
            ..Gateways::default()
        });
    let mut settings = (*engine.settings()).clone();
    settings.payments.unique_code.max = 9_999;
    // Messages are written either way; reminders would only add timers nobody fires here.
    engine.put_settings(settings).await?;
    Ok((store, Arc::new(engine)))
}

pub(crate) async fn statement(orders: usize) -> anyhow::Result<()> {
    println!(
        "== bench statement: {orders} open bank-transfer orders, a statement of {orders} credits, SQLite ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let midtrans = FakeMidtrans::start(SERVER_KEY);
    let (store, engine) = engine(dir.path(), &midtrans).await?;
    let placing = crate::place_concurrently(engine.clone(), orders, 256, None).await?;
    let open = store.open_orders().await?;
    anyhow::ensure!(open.len() == orders, "{} orders open", open.len());
    let amounts: std::collections::HashSet<i64> =
        open.iter().map(|o| o.amount_due.minor_units()).collect();
    println!(
        "placed {orders} orders in {placing:.1} s; {} distinct amounts due",
        amounts.len()
    );
    // One credit per order, in an order unrelated to the orders' (a fixed permutation).
    let mut csv = String::with_capacity(orders * 64);
    csv.push_str("date,description,amount,balance\n");
    let step = 7_919; // prime, so i * step mod n visits every index once
    for i in 0..open.len() {
        let order = &open[(i * step) % open.len()];
        csv.push_str(&format!(
            "2026-12-01,TRSF E-BANKING CR 0112/FTSCY/WS{:05} PEMBELI {},{},\n",
            i % 100_000,
            i,
            order.amount_due.minor_units()
        ));
    }
    anyhow::ensure!(!orders.is_multiple_of(step), "pick another order count");

    // Matching: read the statement, load the open orders, decide every line.
    let started = Instant::now();
    let parsed = parse_statement(&csv)?;
    let open = store.open_orders().await?;
    let mut matcher = Matcher::new(open);
    let mut matched = 0;
    for line in &parsed.lines {
        if let Match::Order(id) = matcher.find(line.amount, order_reference(&line.description)) {
            matched += 1;
            matcher.update(None, id);
        }
    }
    let matching = started.elapsed().as_secs_f64();
    anyhow::ensure!(matched == orders, "{matched} of {orders} lines matched");

    // The peer imports the same statement into a copy of the same database, after lunas.
    let peer_path = dir.path().join("peer.db");
    {
        let (from, to) = (dir.path().join("bench.db"), peer_path.clone());
        tokio::task::spawn_blocking(move || crate::statement_peer::snapshot(&from, &to)).await??;
    }

    // The whole import, recording every payment (10,000 lines per transaction).
    let started = Instant::now();
    let import = engine
        .import_statement(&csv, false, Actor::from_stored("bench".into()))
        .await?;
    let importing = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        import.report.matched == orders,
        "{} matched",
        import.report.matched
    );
    anyhow::ensure!(store.open_orders().await?.is_empty(), "orders left open");
    let started = Instant::now();
    let again = engine
        .import_statement(&csv, false, Actor::from_stored("bench".into()))
        .await?;
    let reimporting = started.elapsed().as_secs_f64();
    anyhow::ensure!(again.report.duplicates == orders, "duplicates");
    store.close().await;

    let lunas_path = dir.path().join("bench.db");
    let (peer_seconds, lunas_rows, peer_rows) = tokio::task::spawn_blocking(move || {
        let seconds = crate::statement_peer::run(&peer_path, &lunas_path, &csv)?;
        let lunas_rows = crate::statement_peer::counts(&lunas_path)?;
        let peer_rows = crate::statement_peer::counts(&peer_path)?;
        anyhow::Ok((seconds, lunas_rows, peer_rows))
    })
    .await??;
    anyhow::ensure!(
        lunas_rows == peer_rows,
        "the peer wrote other rows than lunas:\nlunas {lunas_rows:?}\npeer  {peer_rows:?}"
    );

    let verdict = |seconds: f64| {
        if seconds < MATCH_SECONDS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    };
    println!(
        "matching (parse + open orders + decide): {matching:.2} s — {:.2} of the {MATCH_SECONDS_MAX} s bound {}",
        matching / MATCH_SECONDS_MAX,
        verdict(matching)
    );
    println!(
        "whole import (match + record {orders} payments, holds, records, messages, 10,000 lines per transaction): {importing:.2} s = {:.0} payments/s — {:.2} of the bound {}",
        orders as f64 / importing,
        importing / MATCH_SECONDS_MAX,
        verdict(importing)
    );
    println!(
        "re-import (every line a duplicate): {reimporting:.2} s — {:.2} of the bound {}",
        reimporting / MATCH_SECONDS_MAX,
        verdict(reimporting)
    );
    println!(
        "peer: raw rusqlite writing the same rows for the same statement on a copy of the same database: {peer_seconds:.2} s — {:.2} of the bound {}; lunas takes {:.2}× the peer",
        peer_seconds / MATCH_SECONDS_MAX,
        verdict(peer_seconds),
        importing / peer_seconds
    );
    Ok(())
}

pub(crate) async fn callbacks(rate: usize, seconds: u64) -> anyhow::Result<()> {
    let count = rate * seconds as usize;
    println!(
        "== bench callbacks: {count} Midtrans settlements at {rate}/s through lunas serve's HTTP, SQLite ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    // Every settlement is confirmed with Midtrans's status API before its money is recorded: a
    // local fake here, so the figure includes lunas's side of that request and not the network's.
    let midtrans = FakeMidtrans::start(SERVER_KEY);
    let (store, engine) = engine(dir.path(), &midtrans).await?;
    let mut bodies = Vec::with_capacity(count);
    for i in 0..count {
        let mut request = crate::place_request(i, None);
        request.payment_method = PaymentMethod::Qris;
        let order = engine.place_order(request).await?.order;
        let id = order.id.to_string();
        let gross = format!("{}.00", order.amount_due.minor_units());
        let body = Bytes::from(
            serde_json::json!({
                "transaction_time": "2026-12-01 10:00:00",
                "transaction_status": "settlement",
                "transaction_id": format!("bench-{i}"),
                "status_code": "200",
                "signature_key": midtrans_signature(&id, "200", &gross, SERVER_KEY),
                "payment_type": "qris",
                "order_id": id,
                "gross_amount": gross,
                "fraud_status": "accept",
                "currency": "IDR"
            })
            .to_string(),
        );
        midtrans.learn(&body);
        bodies.push(body);
    }
    let server = crate::LocalServer::start(engine.clone()).await?;
    let addr = server.addr;
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for (i, body) in bodies.into_iter().enumerate() {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due).await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let request = hyper::Request::post(format!("http://{addr}/callbacks/midtrans"))
                .header("content-type", "application/json")
                .body(Full::new(body))?;
            let response = client.request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<_, anyhow::Error>((status, due.elapsed()))
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut failed = 0;
    for task in tasks {
        let (status, latency) = task.await??;
        if status != hyper::StatusCode::OK {
            failed += 1;
        }
        latencies.push(latency);
    }
    let elapsed = started.elapsed().as_secs_f64();
    server.stop().await?;
    anyhow::ensure!(failed == 0, "{failed} callbacks failed");
    anyhow::ensure!(
        store.open_orders().await?.is_empty(),
        "every settled order is paid"
    );
    store.close().await;
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let p99 = at(0.99).as_secs_f64() * 1000.0;
    println!(
        "{count} callbacks in {elapsed:.1} s ({:.0}/s): p50 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms",
        count as f64 / elapsed,
        at(0.50).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
    println!(
        "p99 {p99:.2} ms — {:.2} of the {CALLBACK_P99_MS_MAX} ms bound {}",
        p99 / CALLBACK_P99_MS_MAX,
        if p99 < CALLBACK_P99_MS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );
    Ok(())
}
