//! TCP and TLS: accept connections and carry STUN messages and ChannelData over the stream
//! (RFC 8656 §12.5: ChannelData padded to four bytes). A connection's allocation ends with it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bureau_stun::channel_data::StreamFramer;
use bureau_stun::server::{ClientAction, FiveTuple, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::error::Error;
use crate::server::{Shared, State};

/// Messages queued to one connection before further ones are dropped.
const QUEUE: usize = 1024;
/// A connection silent this long without an allocation is closed.
const IDLE: Duration = Duration::from_secs(60);
/// Time allowed for a TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Connections one listener serves at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 16_384;

/// Builds a TLS acceptor (TLS 1.2 and 1.3, aws-lc-rs) from PEM files.
pub(crate) fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, Error> {
    let tls = |m: String| Error::Tls(m);
    let certs = std::fs::read(cert).map_err(|e| tls(format!("cannot read {}: {e}", cert.display())))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &certs[..]).collect::<Result<_, _>>().map_err(|e| tls(format!("bad certificate: {e}")))?;
    if certs.is_empty() {
        return Err(tls(format!("no certificate in {}", cert.display())));
    }
    let key_pem = std::fs::read(key).map_err(|e| tls(format!("cannot read {}: {e}", key.display())))?;
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| tls(format!("bad key: {e}")))?
        .ok_or_else(|| tls(format!("no private key in {}", key.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TCP (or, with an acceptor, TLS) connections until aborted; dropping the loop ends
/// every connection it started.
pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, tls: Option<TlsAcceptor>) -> std::io::Result<()> {
    let server = listener.local_addr()?;
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, client) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        continue;
                    }
                };
                if conns.len() >= MAX_CONNECTIONS {
                    tracing::debug!("connection limit reached");
                    drop(tcp);
                    continue;
                }
                let _ = tcp.set_nodelay(true);
                let shared = shared.clone();
                let tls = tls.clone();
                conns.spawn(async move {
                    match tls {
                        None => serve(shared, tcp, FiveTuple { client, server, transport: Transport::Tcp }).await,
                        Some(acceptor) => match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                            Ok(Ok(s)) => serve(shared, s, FiveTuple { client, server, transport: Transport::Tls }).await,
                            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        },
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Serves one connection until it closes or sends something that cannot be framed.
async fn serve<S: AsyncRead + AsyncWrite + Send + 'static>(shared: Arc<Shared>, stream: S, five: FiveTuple) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    shared.streams().insert(five, tx.clone());
    let writer = async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    };
    let reader = async {
        let mut frames = StreamFramer::default();
        let mut out = vec![0u8; 4096];
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = match tokio::time::timeout(IDLE, rd.read(&mut chunk)).await {
                Ok(Ok(0) | Err(_)) => return,
                Ok(Ok(n)) => n,
                Err(_) if shared.lock().core.has_allocation(&five) => continue,
                Err(_) => return,
            };
            frames.push(&chunk[..n]);
            loop {
                let frame = match frames.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(_) => return,
                };
                if let Some(reply) = client_frame(&shared, five, frame, &mut out)
                    && tx.send(reply).await.is_err()
                {
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    shared.streams().remove(&five);
    let mut st = shared.lock();
    let State { core, relays, .. } = &mut *st;
    core.handle_close(five, relays);
}

fn client_frame(shared: &Shared, five: FiveTuple, frame: &[u8], out: &mut [u8]) -> Option<Vec<u8>> {
    let mut st = shared.lock();
    let State { core, relays, .. } = &mut *st;
    match core.handle_client(Instant::now(), five, frame, out, relays) {
        ClientAction::None => None,
        ClientAction::Reply(n) => Some(out[..n].to_vec()),
        ClientAction::Relay { relay, peer, payload } => {
            if let Some(ep) = relays.socket(&relay) {
                ep.send_one(&frame[payload], peer);
            }
            None
        }
    }
}
