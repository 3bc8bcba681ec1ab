//! A small HTTP/1.1 load generator: `clients` keep-alive connections, each sending its next request
//! as soon as the previous answer is read, for a fixed time. The same generator drives lunas and
//! the bound, so their figures compare.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

pub(crate) struct Load {
    pub addr: SocketAddr,
    pub path: &'static str,
    pub token: Option<String>,
    /// The body of the `i`th request (each request has its own number, from 0).
    pub body: Arc<dyn Fn(usize) -> Bytes + Send + Sync>,
    pub clients: usize,
    pub duration: Duration,
    pub expect_status: u16,
}

pub(crate) struct LoadResult {
    pub ok: usize,
    pub failed: usize,
    pub seconds: f64,
    latencies_us: Vec<u32>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }
}

pub(crate) async fn run(load: Load) -> anyhow::Result<LoadResult> {
    let load = Arc::new(load);
    let started = Instant::now();
    let deadline = started + load.duration;
    let mut tasks = Vec::with_capacity(load.clients);
    for client in 0..load.clients {
        let load = load.clone();
        tasks.push(tokio::spawn(async move {
            client_loop(&load, client, deadline).await
        }));
    }
    let mut result = LoadResult {
        ok: 0,
        failed: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    for task in tasks {
        let (ok, failed, mut latencies) = task.await??;
        result.ok += ok;
        result.failed += failed;
        result.latencies_us.append(&mut latencies);
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.latencies_us.sort_unstable();
    Ok(result)
}

async fn client_loop(
    load: &Load,
    client: usize,
    deadline: Instant,
) -> anyhow::Result<(usize, usize, Vec<u32>)> {
    let stream = tokio::net::TcpStream::connect(load.addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let (mut ok, mut failed, mut latencies) = (0usize, 0usize, Vec::with_capacity(16_384));
    let mut i = client;
    while Instant::now() < deadline {
        let body = (load.body)(i);
        i += load.clients;
        let mut request = Request::post(load.path)
            .header("host", "bench")
            .header("content-type", "application/json");
        if let Some(token) = &load.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Full::new(body))?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if status == load.expect_status {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    Ok((ok, failed, latencies))
}
