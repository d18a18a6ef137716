//! The accept loops: plain HTTP and HTTPS on their own listeners, one task per connection,
//! HTTP/1.1 and HTTP/2 (with upgrades for WebSockets), connection limits ([`Gate`]) and
//! header timeouts, and a graceful shutdown that stops
//! accepting, lets running requests finish, and gives up on stragglers after a grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
        tokio::spawn(async move {
            let _entry = entry;
            let service = TowerToHyperService::new(app);
            match tls {
                None => {
                    let (stream, spoke) = Heard::new(stream);
                    let conn = watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned());
                    serve_unless_silent(conn, spoke, header_timeout).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await else {
                        tracing::debug!("TLS handshake failed or timed out");
                        return;
                    };
                    let (stream, spoke) = Heard::new(stream);
                    let conn = watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned());
                    serve_unless_silent(conn, spoke, header_timeout).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}");
    }
}

/// Runs a connection, but drops it when its client has sent nothing within `timeout` of its
/// start (after the TLS handshake): hyper's own header timeout starts only once it knows the
/// protocol, and an HTTP/2 client may stay silent before its preface.
async fn serve_unless_silent(conn: impl Future<Output = impl Sized>, spoke: Arc<AtomicBool>, timeout: Duration) {
    let silent = async {
        tokio::time::sleep(timeout).await;
        if spoke.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = conn => {}
        () = silent => tracing::debug!("connection closed: nothing sent within the header timeout"),
    }
}

/// A connection's stream that notes when its client first sent something.
struct Heard<S> {
    inner: S,
    spoke: Arc<AtomicBool>,
}

impl<S> Heard<S> {
    fn new(inner: S) -> (Self, Arc<AtomicBool>) {
        let spoke = Arc::new(AtomicBool::new(false));
        (Heard { inner, spoke: spoke.clone() }, spoke)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Heard<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.spoke.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Heard<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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
