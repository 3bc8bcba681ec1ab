//! The server's connection limits through real sockets, on tokio's paused clock: a header that
//! never finishes, a header or a body fed a byte at a time, a connection left idle, and the caps
//! on open connections. Time is the runtime's virtual time, which moves on by itself when every
//! task waits, and which the tests move on themselves (`advance`) where a client waits: no test
//! sleeps.

use std::sync::Arc;
use std::time::Duration;

use lunas_engine::{Engine, ManualClock};
use lunas_store::testing::{Backend, TestDb};
use lunas_web::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const LIMITS: ConnectionLimits = ConnectionLimits {
    header_timeout_ms: 10_000,
    idle_timeout_ms: 30_000,
    body_timeout_ms: 20_000,
    connections_max: 6,
    connections_per_address_max: 3,
    // The test's client is on loopback, which a real server caps by the total only.
    cap_loopback: true,
};

struct Server {
    addr: std::net::SocketAddr,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The server on a free port, then the clock paused (the store is opened first: its threads do
/// not run on the runtime's clock).
async fn server() -> Server {
    let db = TestDb::new(Backend::Sqlite);
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new("2026-12-01T03:00:00Z".parse().unwrap()));
    let engine = Arc::new(Engine::new(store, clock).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lunas_web::serve_with(
        listener,
        lunas_web::AppState::new(engine),
        LIMITS,
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::pause();
    Server {
        addr,
        _db: db,
        _stop: stop,
    }
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn seconds_since(start: Instant) -> u64 {
    start.elapsed().as_secs()
}

#[tokio::test(flavor = "current_thread")]
async fn a_header_that_never_finishes_is_closed_after_the_header_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    assert_eq!(seconds_since(start), 10);
}

#[tokio::test(flavor = "current_thread")]
async fn a_header_fed_a_byte_every_five_seconds_is_closed_after_the_header_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut written = 0;
    for byte in request {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        written += 1;
        tokio::time::advance(Duration::from_secs(5)).await;
        if seconds_since(start) > 12 {
            break;
        }
    }
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(written < request.len());
    assert!(seconds_since(start) <= 15, "{} s", seconds_since(start));
}

#[tokio::test(flavor = "current_thread")]
async fn a_keep_alive_connection_left_idle_is_closed() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let start = Instant::now();
    let rest = read_to_close(&mut stream).await;
    assert!(rest.ends_with("ok") || rest.contains("\r\n\r\n"), "{rest}");
    assert_eq!(seconds_since(start), 10, "closed after the header timeout");
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_fed_a_byte_at_a_time_is_refused_after_the_body_timeout() {
    let server = server().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let start = Instant::now();
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nhost: x\r\n\
              content-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\n",
        )
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::advance(Duration::from_secs(5)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = reader.read_to_end(&mut answer).await;
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    // Cut off by the body deadline (the sign-in form reads its body first), not held for the
    // 83 minutes the body would take.
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // The trickler moves the clock on ahead of the server by a step or a few, so the refusal is
    // seen between the deadline and a few steps after it.
    let seconds = seconds_since(start);
    assert!((20..=40).contains(&seconds), "{seconds} s");
}

#[tokio::test(flavor = "current_thread")]
async fn connections_past_the_per_address_cap_are_closed_at_once() {
    let server = server().await;
    let mut held = Vec::new();
    for _ in 0..LIMITS.connections_per_address_max {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut status = [0u8; 12];
        stream.read_exact(&mut status).await.unwrap();
        assert_eq!(&status, b"HTTP/1.1 200");
        held.push(stream);
    }
    let start = Instant::now();
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    let _ = refused
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let answer = read_to_close(&mut refused).await;
    assert!(answer.is_empty(), "{answer}");
    assert_eq!(seconds_since(start), 0, "closed at once");
    // One closes; a new one is served.
    drop(held.pop());
    tokio::task::yield_now().await;
    let mut again = None;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let _ = stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await;
        let answer = read_to_close(&mut stream).await;
        if answer.starts_with("HTTP/1.1 200") {
            again = Some(answer);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(again.is_some(), "a place given back is taken again");
}
