//! The HTTP server: its own accept loop over hyper, so that a client cannot hold connections
//! open for free. A request header must arrive within `header_timeout_ms`, a connection on which
//! nothing moves for `idle_timeout_ms` is closed, a request body must arrive whole within
//! `body_timeout_ms`, and at most `connections_max` connections are open at once,
//! `connections_per_address_max` of them from one address. Past a cap, a new connection is
//! closed at once (the client sees a reset, not a queue).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// Limits on connections, each a setting of `lunas serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest wait for a request's whole header, from when the connection starts waiting for
    /// a request (so a keep-alive connection idle between requests is closed after it too).
    pub header_timeout_ms: u64,
    /// A connection on which no byte is read or written for this long is closed (a body that
    /// stalls, a client that stops reading its answer).
    pub idle_timeout_ms: u64,
    /// Longest a request's body may take to arrive, whole.
    pub body_timeout_ms: u64,
    pub connections_max: usize,
    /// Counted for peers off this machine: behind a reverse proxy on this machine every
    /// connection comes from a loopback address, which only the total caps (unless
    /// `cap_loopback`).
    pub connections_per_address_max: usize,
    /// Cap loopback peers per address too (for tests; a proxy on this machine is one address).
    pub cap_loopback: bool,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            body_timeout_ms: 60_000,
            connections_max: 1024,
            connections_per_address_max: 64,
            cap_loopback: false,
        }
    }
}

/// Open connections, in all and per address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place among the open ones, given back when it closes.
struct Place {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("connections lock");
        open.total -= 1;
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

fn take_place(
    open: &Arc<Mutex<Open>>,
    address: IpAddr,
    limits: &ConnectionLimits,
) -> Option<Place> {
    let mut guard = open.lock().expect("connections lock");
    let from_address = guard.by_address.get(&address).copied().unwrap_or(0);
    let capped = limits.cap_loopback || !address.is_loopback();
    if guard.total >= limits.connections_max
        || (capped && from_address >= limits.connections_per_address_max)
    {
        return None;
    }
    guard.total += 1;
    *guard.by_address.entry(address).or_default() += 1;
    Some(Place {
        open: open.clone(),
        address,
    })
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests under way
/// finish (each connection is told to close after its current request).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
        .keep_alive(true);
    let mut refused_logged_at: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = take_place(&open, peer.ip(), &limits) else {
            if refused_logged_at.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                tracing::warn!(address = %peer.ip(), "refused a connection past the connection limits");
                refused_logged_at = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(IdleTimeout::new(
            stream,
            Duration::from_millis(limits.idle_timeout_ms),
        ));
        let app = app.clone();
        let body_timeout = Duration::from_millis(limits.body_timeout_ms);
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let request = request
                    .map(|body| axum::body::Body::new(DeadlineBody::new(body, body_timeout)));
                let mut app = app.clone();
                async move { tower_service::Service::call(&mut app, request).await }
            },
        );
        let connection = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _place = place;
            // A connection that ends in error (a timeout, a reset) has nothing to answer.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A socket that fails a read or a write once nothing has moved on it for `timeout`.
struct IdleTimeout {
    stream: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl IdleTimeout {
    fn new(stream: TcpStream, timeout: Duration) -> IdleTimeout {
        IdleTimeout {
            stream,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.timeout);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the connection was idle too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.moved();
                Poll::Ready(result)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.moved();
                Poll::Ready(result)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.moved();
                Poll::Ready(result)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// A request body that fails once it has taken longer than its deadline to arrive, so a body
/// fed a byte at a time holds its connection for a bounded while.
struct DeadlineBody {
    body: hyper::body::Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    fn new(body: hyper::body::Incoming, timeout: Duration) -> DeadlineBody {
        DeadlineBody {
            body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// The error of a body that did not arrive in time.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut.into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_places_are_capped_in_all_and_per_address_and_given_back() {
        let limits = ConnectionLimits {
            connections_max: 3,
            connections_per_address_max: 2,
            ..ConnectionLimits::default()
        };
        let open = Arc::new(Mutex::new(Open::default()));
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        let first = take_place(&open, a, &limits).unwrap();
        let _second = take_place(&open, a, &limits).unwrap();
        assert!(take_place(&open, a, &limits).is_none(), "two per address");
        let _third = take_place(&open, b, &limits).unwrap();
        assert!(take_place(&open, b, &limits).is_none(), "three in all");
        drop(first);
        assert!(
            take_place(&open, a, &limits).is_some(),
            "a closed one is given back"
        );
        // A proxy on this machine is capped by the total only.
        let open = Arc::new(Mutex::new(Open::default()));
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let held: Vec<Place> = (0..3)
            .map(|_| take_place(&open, proxy, &limits).unwrap())
            .collect();
        assert!(
            take_place(&open, proxy, &limits).is_none(),
            "the total holds"
        );
        drop(held);
    }
}
