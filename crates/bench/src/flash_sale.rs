//! A flash sale (a TikTok or Instagram live sale, a "war"): `buyers` buyers, each a number lunas
//! has never seen, order one unit of the same SKU within `seconds` through `POST /api/v1/orders`
//! of real `lunas serve` processes, while only `units` units are in stock. Exactly `units` orders
//! must be placed, every other buyer must get a `409 out_of_stock`, and the p99 latency must stay
//! under 50 ms.
//!
//! The load is open-loop: request i is due at `i × seconds / buyers` after the start, whether the
//! answers before it came back or not, and its latency counts from when it was due (a request
//! waiting for a free connection waits on the clock), so a slow answer cannot hide the ones behind
//! it. The requests go round-robin to the processes (one on SQLite, three on PostgreSQL by
//! default), each over its own pool of keep-alive connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use lunas_core::catalog::ProductInput;
use lunas_core::{Money, Sku};
use lunas_store::{DatabaseUrl, OpenOptions, Store};

const P99_MS_MAX: f64 = 50.0;
const SKU: &str = "FLASH-1";

/// What one run sends and to what.
pub(crate) struct Sale {
    pub buyers: usize,
    pub units: i64,
    pub seconds: f64,
    /// Keep-alive connections to each process.
    pub connections: usize,
}

pub(crate) async fn sqlite(sale: Sale) -> anyhow::Result<()> {
    println!(
        "== bench flash-sale: {} new buyers in {} s for {} units of one SKU, one lunas serve on SQLite ({})",
        sale.buyers,
        sale.seconds,
        sale.units,
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::Sqlite(dir.path().join("flash.db"));
    let result = run(&url, 1, &sale).await;
    drop(dir);
    result
}

pub(crate) async fn postgres(pg: &str, processes: usize, sale: Sale) -> anyhow::Result<()> {
    println!(
        "== bench pg-flash-sale: {} new buyers in {} s for {} units of one SKU, {processes} lunas serve processes on one PostgreSQL database ({})",
        sale.buyers,
        sale.seconds,
        sale.units,
        crate::machine()
    );
    let db = crate::pg::BenchDb::create(pg).await?;
    let url = DatabaseUrl::Postgres(db.url.clone());
    let result = run(&url, processes, &sale).await;
    db.drop_it().await?;
    result
}

async fn run(url: &DatabaseUrl, processes: usize, sale: &Sale) -> anyhow::Result<()> {
    let store = Store::open(url, OpenOptions::default()).await?;
    let now = jiff::Timestamp::now();
    store
        .put_product(
            ProductInput {
                sku: Sku::parse(SKU)?,
                name: "Kemeja batik edisi live".into(),
                price: Money::price(149_000)?,
                stock: sale.units,
                tips: None,
                variant: None,
            },
            now,
        )
        .await??;
    let token = lunas_engine::tokens::create(&store, "flash-sale", now).await?;
    store.close().await;

    let mut children = Vec::with_capacity(processes);
    let mut addrs = Vec::with_capacity(processes);
    for _ in 0..processes {
        let (child, addr) = serve(url).await?;
        children.push(child);
        addrs.push(addr);
    }
    let bodies: Vec<Bytes> = (0..sale.buyers)
        .map(|i| {
            Bytes::from(
                serde_json::json!({
                    "customer": {"phone": format!("+62813{:08}", 10_000_000 + i), "name": format!("Pembeli live {i}")},
                    "items": [{"sku": SKU, "qty": 1}],
                    "payment_method": "bank_transfer"
                })
                .to_string(),
            )
        })
        .collect();
    let answers = send(&addrs, &token, bodies, sale).await?;
    drop(children);

    let store = Store::open(url, OpenOptions::default()).await?;
    let totals = store.totals().await?;
    store.close().await;

    let placed: Vec<u32> = answers.latencies(Answer::Placed);
    let refused: Vec<u32> = answers.latencies(Answer::OutOfStock);
    let other = answers.count(Answer::Other);
    let all = answers.all_latencies();
    let p99 = percentile_ms(&all, 0.99);
    println!(
        "sent {} in {:.2} s: {} placed, {} out_of_stock, {} other answers",
        answers.items.len(),
        answers.seconds,
        placed.len(),
        refused.len(),
        other
    );
    println!(
        "latency from when each request was due: all p50 {:.2} ms p99 {p99:.2} ms max {:.2} ms; placed p99 {:.2} ms; out_of_stock p50 {:.2} ms p99 {:.2} ms",
        percentile_ms(&all, 0.50),
        percentile_ms(&all, 1.0),
        percentile_ms(&placed, 0.99),
        percentile_ms(&refused, 0.50),
        percentile_ms(&refused, 0.99),
    );
    println!("{}", answers.timeline(sale, P99_MS_MAX));
    println!(
        "stored: {} orders, {} units held; p99 {:.2} of the {P99_MS_MAX} ms bound {}",
        totals.orders,
        totals.reserved_sum,
        p99 / P99_MS_MAX,
        if p99 < P99_MS_MAX {
            "OK"
        } else {
            "ABOVE BOUND"
        }
    );
    anyhow::ensure!(
        placed.len() as i64 == sale.units && totals.orders == sale.units,
        "{} orders acknowledged and {} stored for {} units",
        placed.len(),
        totals.orders,
        sale.units
    );
    anyhow::ensure!(
        totals.reserved_sum == sale.units,
        "{} units held",
        totals.reserved_sum
    );
    anyhow::ensure!(
        other == 0 && refused.len() == sale.buyers - placed.len(),
        "{other} answers were neither an order nor out_of_stock"
    );
    Ok(())
}

/// `lunas serve` on `url` on a free loopback port, once it answers `/healthz`.
async fn serve(url: &DatabaseUrl) -> anyhow::Result<(tokio::process::Child, SocketAddr)> {
    let db = match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.expose().to_owned(),
    };
    crate::serve_process(&db, "error").await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Placed,
    OutOfStock,
    Other,
}

struct Answers {
    /// Each request's answer and its latency in µs from when it was due, by when it was due.
    items: Vec<(Answer, u32)>,
    seconds: f64,
}

impl Answers {
    fn latencies(&self, which: Answer) -> Vec<u32> {
        let mut latencies: Vec<u32> = self
            .items
            .iter()
            .filter(|(answer, _)| *answer == which)
            .map(|(_, us)| *us)
            .collect();
        latencies.sort_unstable();
        latencies
    }

    fn all_latencies(&self) -> Vec<u32> {
        let mut latencies: Vec<u32> = self.items.iter().map(|(_, us)| *us).collect();
        latencies.sort_unstable();
        latencies
    }

    /// Where the slow answers are: by when the requests were due, in windows of a hundredth of
    /// the sale, up to the last window with an answer slower than `slow_ms`; and when the last
    /// order was acknowledged.
    fn timeline(&self, sale: &Sale, slow_ms: f64) -> String {
        let step_ms = sale.seconds * 1000.0 / self.items.len().max(1) as f64;
        let window = (self.items.len() / 100).max(1);
        let slow_us = (slow_ms * 1000.0) as u32;
        let mut lines = vec![format!(
            "answers slower than {slow_ms} ms: {} (a p99 under the bound allows {}); by when due:",
            self.items.iter().filter(|(_, us)| *us >= slow_us).count(),
            self.items.len() / 100
        )];
        let windows: Vec<&[(Answer, u32)]> = self.items.chunks(window).collect();
        let last_slow = windows
            .iter()
            .rposition(|w| w.iter().any(|(_, us)| *us >= slow_us))
            .map_or(0, |w| w + 1);
        for (n, w) in windows.iter().enumerate().take(last_slow.max(1)) {
            let mut us: Vec<u32> = w.iter().map(|(_, us)| *us).collect();
            us.sort_unstable();
            lines.push(format!(
                "  {:>5.0}–{:<5.0} ms: {:>3} placed, {:>4} slower than {slow_ms} ms, p50 {:.1} ms, max {:.1} ms",
                (n * window) as f64 * step_ms,
                ((n + 1) * window) as f64 * step_ms,
                w.iter().filter(|(a, _)| *a == Answer::Placed).count(),
                us.iter().filter(|u| **u >= slow_us).count(),
                percentile_ms(&us, 0.5),
                percentile_ms(&us, 1.0),
            ));
        }
        let last_placed = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, (a, _))| *a == Answer::Placed)
            .map(|(i, (_, us))| i as f64 * step_ms + *us as f64 / 1000.0)
            .fold(0.0, f64::max);
        lines.push(format!(
            "the last order was acknowledged {last_placed:.1} ms after the first request was due"
        ));
        lines.join("\n")
    }

    fn count(&self, which: Answer) -> usize {
        self.items.iter().filter(|(a, _)| *a == which).count()
    }
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    sorted_us[index] as f64 / 1000.0
}

/// Sends every body once, open-loop, round-robin over `addrs`.
async fn send(
    addrs: &[SocketAddr],
    token: &str,
    bodies: Vec<Bytes>,
    sale: &Sale,
) -> anyhow::Result<Answers> {
    let count = bodies.len();
    let bodies = Arc::new(bodies);
    let step = Duration::from_secs_f64(sale.seconds / count.max(1) as f64);
    let authorization = Arc::new(format!("Bearer {token}"));
    // One counter per process: its connections take the next request due for it.
    let next: Arc<Vec<AtomicUsize>> =
        Arc::new((0..addrs.len()).map(AtomicUsize::new).collect::<Vec<_>>());
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for (p, addr) in addrs.iter().enumerate() {
        for _ in 0..sale.connections {
            let (bodies, next, authorization, addr) =
                (bodies.clone(), next.clone(), authorization.clone(), *addr);
            let stride = addrs.len();
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(connection);
                let mut answers = Vec::new();
                loop {
                    let i = next[p].fetch_add(stride, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else {
                        return Ok::<_, anyhow::Error>(answers);
                    };
                    let due = start + step * i as u32;
                    tokio::time::sleep_until(due).await;
                    let request = hyper::Request::post("/api/v1/orders")
                        .header("host", "bench")
                        .header("content-type", "application/json")
                        .header("authorization", authorization.as_str())
                        .body(Full::new(body.clone()))?;
                    sender.ready().await?;
                    let response = sender.send_request(request).await?;
                    let status = response.status().as_u16();
                    let body = response.into_body().collect().await?.to_bytes();
                    let latency = due.elapsed().as_micros().min(u32::MAX as u128) as u32;
                    let answer = match status {
                        201 => Answer::Placed,
                        409 if body
                            .windows(b"out_of_stock".len())
                            .any(|w| w == b"out_of_stock") =>
                        {
                            Answer::OutOfStock
                        }
                        _ => Answer::Other,
                    };
                    answers.push((i, (answer, latency)));
                }
            }));
        }
    }
    let mut items = vec![(Answer::Other, 0); count];
    for task in tasks {
        for (i, answer) in task.await?? {
            items[i] = answer;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Answers { items, seconds })
}
