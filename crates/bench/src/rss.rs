//! Memory of `lunas serve`: start the real binary on a fresh database, wait until it answers
//! `/healthz`, and read its resident set size from `/proc`, idle and through a flood of wrong
//! sign-ins (each one an Argon2id hash).

use std::time::{Duration, Instant};

/// The budget idle RSS is compared with: a cheap VPS has 1 GiB for everything.
const RSS_MIB_MAX: f64 = 64.0;

/// The bound resident memory must stay under through a flood of wrong sign-ins.
const SIGN_IN_RSS_MIB_MAX: f64 = 128.0;

/// `lunas serve` on a fresh SQLite database on a free loopback port, once it answers
/// `/healthz`.
async fn start_serve(dir: &std::path::Path) -> anyhow::Result<(tokio::process::Child, u16)> {
    let db = format!("sqlite://{}", dir.join("rss.db").display());
    let (child, addr) = crate::serve_process(&db, "warn").await?;
    Ok((child, addr.port()))
}

async fn exchange(port: u16, request: &str) -> std::io::Result<String> {
    crate::exchange(std::net::SocketAddr::from(([127, 0, 0, 1], port)), request).await
}

/// A figure of `/proc/{pid}/status` (`VmRSS`, `VmHWM` in KiB; `Threads`).
fn proc_status(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))
}

fn verdict(ratio: f64) -> &'static str {
    if ratio <= 1.0 { "OK" } else { "ABOVE BUDGET" }
}

pub(crate) async fn run() -> anyhow::Result<()> {
    println!("== bench rss: idle `lunas serve` ({})", crate::machine());
    let dir = tempfile::tempdir()?;
    let (mut child, _) = start_serve(dir.path()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("lunas serve exited"))?;
    let mib = proc_status(pid, "VmRSS")? / 1024.0;
    child.kill().await?;
    let ratio = mib / RSS_MIB_MAX;
    println!(
        "idle RSS {mib:.1} MiB; budget {RSS_MIB_MAX} MiB, ratio {ratio:.2} {}",
        verdict(ratio)
    );
    Ok(())
}

/// Resident memory of `lunas serve` through `count` wrong sign-ins sent `burst` at once, each
/// from an address and for an account of its own (through the local proxy's
/// `X-Forwarded-For`), so that the throttle lets every one be hashed.
pub(crate) async fn sign_ins(count: usize, burst: usize) -> anyhow::Result<()> {
    println!(
        "== bench sign-ins: {count} wrong sign-ins in bursts of {burst} ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let (mut child, port) = start_serve(dir.path()).await?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("lunas serve exited"))?;
    let before = proc_status(pid, "VmRSS")? / 1024.0;
    let login = exchange(
        port,
        "GET /login HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await?;
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("the sign-in page set no cookie"))?
        .to_owned();
    let marker = r#"name="csrf" value=""#;
    let csrf: String = login
        .split_once(marker)
        .map(|(_, rest)| rest.chars().take_while(|c| *c != '"').collect())
        .ok_or_else(|| anyhow::anyhow!("the sign-in page has no CSRF input"))?;
    let started = Instant::now();
    let (mut refused, mut peak_threads) = (0usize, 0f64);
    for first in (0..count).step_by(burst.max(1)) {
        let mut tries = tokio::task::JoinSet::new();
        for n in first..(first + burst).min(count) {
            let body = format!("email=tebak{n}%40toko.id&password=salah+salah+salah&csrf={csrf}");
            let request = format!(
                "POST /login HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\
                 x-forwarded-for: 10.{}.{}.{}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
                 content-length: {}\r\n\r\n{body}",
                n / 65_536 % 256,
                n / 256 % 256,
                n % 256,
                body.len()
            );
            tries.spawn(async move { exchange(port, &request).await });
        }
        while let Some(answer) = tries.join_next().await {
            if answer??.starts_with("HTTP/1.1 401") {
                refused += 1;
            }
        }
        peak_threads = peak_threads.max(proc_status(pid, "Threads")?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let peak = proc_status(pid, "VmHWM")? / 1024.0;
    let after = proc_status(pid, "VmRSS")? / 1024.0;
    child.kill().await?;
    anyhow::ensure!(
        refused == count,
        "{refused} of {count} sign-ins were checked and refused"
    );
    let ratio = peak / SIGN_IN_RSS_MIB_MAX;
    println!(
        "{count} refused in {seconds:.1} s ({:.0}/s); RSS {before:.1} MiB before, {after:.1} MiB after, \
         peak {peak:.1} MiB, at most {peak_threads:.0} threads; bound {SIGN_IN_RSS_MIB_MAX} MiB, \
         ratio {ratio:.2} {}",
        count as f64 / seconds,
        verdict(ratio)
    );
    Ok(())
}
