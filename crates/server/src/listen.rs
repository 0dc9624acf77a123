//! Accepting connections: TCP (and TLS), HTTP/1.1 with hard timeouts, connection caps,
//! and graceful shutdown.
//!
//! We run our own accept loop instead of `axum::serve` because the foundation needs
//! what it does not offer: TLS, a header-read timeout that also bounds idle keep-alive
//! connections (slowloris), a TLS handshake timeout, a cap on open connections, and a
//! shutdown that lets in-flight requests finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Facts about the connection a request arrived on, for the middleware.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    /// The TCP peer (a proxy, when behind one).
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// Per-listener connection settings.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub max_connections: usize,
    /// Told of clients too slow to send a request (slowloris); its blocked sources are
    /// refused as they connect. None for listeners it does not watch.
    pub sentinel: Option<sentinel::Sentinel>,
}

/// Counts live connections so shutdown can wait for them.
#[derive(Debug, Default)]
pub struct Tracker {
    live: AtomicUsize,
    idle: Notify,
}

impl Tracker {
    fn enter(self: &Arc<Self>) -> TrackerGuard {
        self.live.fetch_add(1, Ordering::SeqCst);
        TrackerGuard(self.clone())
    }

    /// Waits until no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.idle.notified();
            if self.live.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

struct TrackerGuard(Arc<Tracker>);

impl Drop for TrackerGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Accepts connections on `listener` until `shutdown` turns true, serving `app` on
/// each. Returns once the accept loop has stopped; connections still open are told to
/// finish their current request and close, and are tracked by `tracker`.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: ConnectionLimits,
    tracker: Arc<Tracker>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Some(sentinel) = &limits.sentinel
            && sentinel.is_blocked(peer.ip())
        {
            // Cheaper than answering 403 on every request of the connection.
            drop(stream);
            continue;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing new connection");
            drop(stream);
            continue;
        };
        let guard = tracker.enter();
        let app = app.clone();
        let tls = tls.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, tls, app, &limits, shutdown).await;
            drop(permit);
            drop(guard);
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)).await
            {
                Ok(Ok(tls_stream)) => {
                    serve_http(TokioIo::new(tls_stream), peer, true, app, limits, shutdown).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        None => serve_http(TokioIo::new(stream), peer, false, app, limits, shutdown).await,
    }
}

async fn serve_http<I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    tls: bool,
    app: Router,
    limits: &ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let info = Connection { peer, tls };
    // Requests the connection carried: a connection that times out before its first
    // one was never a keep-alive browser, it was too slow to send a request head.
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    let service = app.map_request(move |mut req: Request<Incoming>| {
        counter.fetch_add(1, Ordering::Relaxed);
        req.extensions_mut().insert(info);
        req
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Bounds both a slow request head and an idle keep-alive connection.
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let conn = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(conn);
    if *shutdown.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let (Err(e), Some(sentinel)) = (&result, &limits.sentinel)
        && e.is_timeout()
        && served.load(Ordering::Relaxed) == 0
    {
        sentinel.record(sentinel::Event::SlowRequest(sentinel::SlowRequestEvent {
            at_ms: sentinel.now_ms(),
            source: peer.ip(),
        }));
    }
    log_connection_end(peer, result);
}

fn log_connection_end(peer: SocketAddr, result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        if e.is_timeout() {
            tracing::debug!(%peer, "connection closed: client too slow or idle");
        } else {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Binds `addr`, explaining the usual failures in words an operator can act on.
pub async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {addr} for {what}: the address is already in use \
             (is another Telewarden or web server running? choose another port with --listen)"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {addr} for {what}: permission denied \
             (ports below 1024 need extra privileges; use a higher port or a reverse proxy)"
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            format!("cannot listen on {addr} for {what}: this machine has no such address")
        }
        _ => format!("cannot listen on {addr} for {what}: {e}"),
    })
}
