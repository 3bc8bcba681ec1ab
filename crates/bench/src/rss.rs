//! Idle memory of `lunas serve`: start the real binary on a fresh database, wait until it answers
//! `/healthz`, let it idle, and read its resident set size from `/proc`.

use std::time::{Duration, Instant};

/// The budget idle RSS is compared with: a cheap VPS has 1 GiB for everything.
const RSS_MIB_MAX: f64 = 64.0;

pub(crate) async fn run() -> anyhow::Result<()> {
    println!("== bench rss: idle `lunas serve` ({})", crate::machine());
    let dir = tempfile::tempdir()?;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .args(["serve", "--db"])
        .arg(format!("sqlite://{}", dir.path().join("rss.db").display()))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("LUNAS_LOG", "warn")
        .kill_on_drop(true)
        .spawn()?;
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await?;
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "lunas serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("lunas serve exited"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
    child.kill().await?;
    let mib = kib / 1024.0;
    println!(
        "idle RSS {mib:.1} MiB; budget {RSS_MIB_MAX} MiB, ratio {:.2} {}",
        mib / RSS_MIB_MAX,
        if mib <= RSS_MIB_MAX {
            "OK"
        } else {
            "ABOVE BUDGET"
        }
    );
    Ok(())
}
