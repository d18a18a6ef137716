//! The accept loops: plain HTTP and HTTPS on their own listeners, one task per connection,
//! HTTP/1.1 and HTTP/2 (with upgrades for WebSockets), connection limits ([`Gate`]) and
//! header timeouts, and a graceful shutdown that stops
//! accepting, lets running requests finish, and gives up on stragglers after a grace period.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::ConnInfo;
use crate::gate::Gate;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long running requests get to finish after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests one HTTP/2 connection may have in flight (a page loads a few dozen at once).
const MAX_STREAMS: u32 = 100;

/// Serves `app` on `listener` until `shutdown` turns true; with `tls`, over TLS. Connections
/// pass the shared `gate` (node and per-address limits) first.
pub async fn serve(listener: TcpListener, app: Router, tls: Option<TlsAcceptor>, gate: Arc<Gate>, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let header_timeout = gate.limits().header_timeout;
    let builder = Arc::new(http_builder(header_timeout));
    loop {
        let accepted = tokio::select! {
            accepted = async {
                let room = gate.wait_for_room().await;
                (listener.accept().await, room)
            } => accepted,
            _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => break,
        };
        let (stream, peer, room) = match accepted {
            (Ok((stream, peer)), room) => (stream, peer, room),
            (Err(err), _) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!("accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(entry) = gate.enter(peer.ip(), room) else {
            tracing::debug!("connection refused: the client address holds its most connections");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone().layer(axum::Extension(ConnInfo { peer, tls: tls.is_some() }));
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let mut stopping = shutdown.clone();
        tokio::spawn(async move {
            let _entry = entry;
            let service = TowerToHyperService::new(app);
            match tls {
                None => {
                    // The first bytes within the header timeout (hyper's own timeout starts
                    // only once it knows the protocol); a silent connection does not hold up
                    // the shutdown either.
                    let mut first = [0u8; 1];
                    let first_bytes = tokio::time::timeout(header_timeout, stream.peek(&mut first));
                    tokio::select! {
                        peeked = first_bytes => if !matches!(peeked, Ok(Ok(1..))) { return },
                        _ = stopping.wait_for(|stop| *stop) => return,
                    }
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await else {
                        tracing::debug!("TLS handshake failed or timed out");
                        return;
                    };
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}");
    }
}

/// HTTP/1.1 and HTTP/2 with limits: request headers within `header_timeout`, at most
/// [`MAX_STREAMS`] requests in flight on one HTTP/2 connection, and keep-alive pings that find
/// dead HTTP/2 peers.
fn http_builder(header_timeout: Duration) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Binds a TCP listener with a clear error naming the address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// The address users open when `public_url` is not set: the HTTPS listener as bound (its real
/// port when configured as 0), with a loopback address for an unspecified one (`0.0.0.0`, `::`),
/// which browsers cannot open; the self-signed certificate names 127.0.0.1, ::1 and localhost.
pub fn default_public_url(https: SocketAddr) -> String {
    let ip = match https.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, https.port()))
}
