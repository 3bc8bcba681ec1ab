//! Couriers' webhook events through lunas's HTTP (`POST /callbacks/courier`, lunas's own format,
//! a bearer secret): shipped orders delivered by the courier's events, a delivery of many events
//! at a time from several concurrent senders, then every event sent again. Against the bounds of
//! issue 18: 10,000 events a second applied on SQLite, 2,000 on PostgreSQL — applied meaning each
//! order moved once, its history written and its buyer's message queued, and the same events
//! again changing nothing.

use std::sync::Arc;
use std::time::Instant;

use hyper::body::Bytes;
use lunas_core::fulfilment::Step;
use lunas_core::{Actor, OrderId, OrderStatus};
use lunas_engine::fulfilment::ShipInfo;
use lunas_engine::{Engine, SystemClock};
use lunas_store::{DatabaseUrl, OpenOptions, Store};

const SECRET: &str = "bench-kurir-rahasia";
/// Events a second the issue asks for.
const SQLITE_EVENTS_PER_SECOND_MIN: f64 = 10_000.0;
const PG_EVENTS_PER_SECOND_MIN: f64 = 2_000.0;

/// Places `count` orders, pays and ships each under waybill `BENCH{i}`, `concurrency` at a time.
async fn shipped_orders(
    engine: &Arc<Engine>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (engine, next) = (engine.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let order = engine
                    .place_order(crate::place_request(i, None))
                    .await?
                    .order;
                let actor = Actor::from_stored("bench".into());
                engine
                    .record_payment(order.id, order.amount_due, None, actor.clone())
                    .await?;
                let ship = ShipInfo {
                    courier: Some("JNE".into()),
                    waybill: Some(format!("BENCH{i}")),
                    ..ShipInfo::default()
                };
                engine
                    .step_order(order.id, Step::Ship, ship, None, actor)
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// The deliveries: `batch` "delivered" events each, for waybills `BENCH0…`.
fn deliveries(count: usize, batch: usize) -> Arc<Vec<crate::Post>> {
    let posts = (0..count)
        .collect::<Vec<_>>()
        .chunks(batch)
        .map(|chunk| {
            let events: Vec<serde_json::Value> = chunk
                .iter()
                .map(|i| {
                    serde_json::json!({
                        "event_id": format!("bench-delivered-{i}"),
                        "waybill": format!("BENCH{i}"),
                        "status": "delivered",
                        "courier": "jne",
                    })
                })
                .collect();
            crate::Post {
                path: "/callbacks/courier",
                headers: vec![("authorization", format!("Bearer {SECRET}"))],
                body: Bytes::from(serde_json::json!({ "events": events }).to_string()),
            }
        })
        .collect();
    Arc::new(posts)
}

/// Sends every delivery from `clients` concurrent senders; returns the seconds it took and the
/// events applied and unchanged, as lunas answered.
async fn send(
    addr: std::net::SocketAddr,
    bodies: &Arc<Vec<crate::Post>>,
    clients: usize,
) -> anyhow::Result<(f64, u64, u64)> {
    crate::post_all(addr, bodies.clone(), clients, |status, body| {
        anyhow::ensure!(
            status == hyper::StatusCode::OK,
            "{status}: {}",
            String::from_utf8_lossy(body)
        );
        let answer: serde_json::Value = serde_json::from_slice(body)?;
        Ok((
            answer["applied"].as_u64().unwrap_or(0),
            answer["unchanged"].as_u64().unwrap_or(0),
        ))
    })
    .await
}

async fn measure(
    store: Store,
    events: usize,
    batch: usize,
    clients: usize,
    bound: f64,
) -> anyhow::Result<()> {
    let engine = Arc::new(
        Engine::new(store.clone(), Arc::new(SystemClock))
            .await?
            .with_gateways(lunas_engine::gateways::Gateways {
                couriers: lunas_engine::couriers::Couriers {
                    generic_secret: Some(SECRET.into()),
                    ..Default::default()
                },
                ..Default::default()
            }),
    );
    let setup = Instant::now();
    shipped_orders(&engine, events, 32).await?;
    println!(
        "{events} orders placed, paid and shipped in {:.1} s (setup, not measured)",
        setup.elapsed().as_secs_f64()
    );
    let server = crate::LocalServer::start(engine.clone()).await?;
    let bodies = deliveries(events, batch);
    let (seconds, applied, unchanged) = send(server.addr, &bodies, clients).await?;
    anyhow::ensure!(
        applied == events as u64 && unchanged == 0,
        "applied {applied}, unchanged {unchanged} of {events}"
    );
    let rate = events as f64 / seconds;
    println!(
        "applied: {events} events in {seconds:.2} s = {rate:.0} events/s — {:.2} of the {bound:.0}/s bound {}",
        rate / bound,
        if rate >= bound { "OK" } else { "BELOW BOUND" }
    );
    let (again, applied, unchanged) = send(server.addr, &bodies, clients).await?;
    anyhow::ensure!(
        applied == 0 && unchanged == events as u64,
        "the same events again applied {applied}"
    );
    let replay = events as f64 / again;
    println!(
        "the same events again (nothing changes): {again:.2} s = {replay:.0} events/s — {:.2} of the bound",
        replay / bound
    );
    server.stop().await?;
    let delivered = store
        .desk_counts()
        .await?
        .by_status
        .iter()
        .find(|(s, _)| *s == OrderStatus::Delivered)
        .map_or(0, |(_, n)| *n);
    anyhow::ensure!(delivered == events as i64, "{delivered} orders delivered");
    let messages = store.order_messages(OrderId(1)).await?;
    anyhow::ensure!(
        messages
            .iter()
            .filter(|m| m.kind == lunas_core::messages::MessageKind::Delivered)
            .count()
            == 1,
        "order 1's buyer is told once"
    );
    anyhow::ensure!(
        store.consistency_report().await?.is_empty(),
        "lunas check finds nothing"
    );
    store.close().await;
    Ok(())
}

pub(crate) async fn sqlite(events: usize, batch: usize, clients: usize) -> anyhow::Result<()> {
    println!(
        "== bench couriers: {events} courier events through POST /callbacks/courier, {batch} a delivery, {clients} senders, SQLite ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    measure(store, events, batch, clients, SQLITE_EVENTS_PER_SECOND_MIN).await
}

pub(crate) async fn postgres(
    pg: &str,
    events: usize,
    batch: usize,
    clients: usize,
) -> anyhow::Result<()> {
    println!(
        "== bench pg-couriers: {events} courier events through POST /callbacks/courier, {batch} a delivery, {clients} senders, PostgreSQL ({})",
        crate::machine()
    );
    let db = crate::pg::BenchDb::create(pg).await?;
    let store = Store::open(
        &DatabaseUrl::Postgres(db.url.clone()),
        OpenOptions {
            pool_size: 16,
            ..OpenOptions::default()
        },
    )
    .await?;
    crate::pg::seed_products(&store, 1_000_000_000).await?;
    let result = measure(store, events, batch, clients, PG_EVENTS_PER_SECOND_MIN).await;
    db.drop_it().await?;
    result
}
