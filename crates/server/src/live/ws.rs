//! `GET /api/ws`: the signaling WebSocket. Authenticated by the session cookie, refused from
//! other origins; each socket is one task that moves frames between the browser and the hub.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::Extension;
use axum::http::HeaderMap;
use axum::response::Response;
use bureau_office::Actor;
use bureau_signal::{CloseCode, ConnectInfo, GuestAccess, ErrorCode, MAX_MESSAGE_BYTES, MAX_SFU_MESSAGE_BYTES, ServerMsg, encode_server};
use tokio::sync::mpsc;

use super::{Home, Live, OUTBOX, Outbound, Permit};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::requester::Requester;
use crate::session::Session;

/// A client that sends nothing (not even its keep-alive `ping`) for this long is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The socket's read buffer. tungstenite's default (128 KiB) is zero-filled on every read
/// attempt, so it costs both resident memory per idle connection and a 128 KiB memset per wakeup;
/// frames larger than this still arrive whole (the buffer grows for them).
const READ_BUFFER: usize = 2 * 1024;
/// Frames are written once this much is buffered (each `send` flushes anyway).
const WRITE_BUFFER: usize = 4 * 1024;

/// Messages per second a connection may send on average (a call's ICE candidates come in
/// bursts, hence the larger burst allowance).
const RATE_PER_SEC: f64 = 50.0;
/// Messages a connection may send at once.
const BURST: f64 = 300.0;
/// Messages dropped for flooding before the connection is closed with 4003.
const MAX_DROPPED: u32 = 500;

/// A token bucket per connection: one token per message, refilled at [`RATE_PER_SEC`].
struct RateLimit {
    tokens: f64,
    refilled: Instant,
    dropped: u32,
}

/// What to do with an incoming message.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Accept,
    /// Drop it; `true` when the client should be told (the first drop of a burst).
    Drop(bool),
    Close,
}

impl RateLimit {
    fn new(now: Instant) -> Self {
        RateLimit { tokens: BURST, refilled: now, dropped: 0 }
    }

    fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * RATE_PER_SEC).min(BURST);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Accept;
        }
        self.dropped += 1;
        if self.dropped > MAX_DROPPED { Verdict::Close } else { Verdict::Drop(self.dropped % 100 == 1) }
    }
}

/// Upgrades to the signaling WebSocket.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    session: Session,
    headers: HeaderMap,
    requester: Option<Extension<Requester>>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    // Cross-site WebSocket hijacking: browsers send Origin on every WebSocket handshake.
    crate::session::check_origin(&state, &headers, requester.as_ref().map(|r| &r.0))?;
    // A reconnect racing this node's shutdown: refused, so the client tries again (elsewhere).
    if state.live.draining() {
        return Err(ApiError::Draining);
    }
    let (actor, session_tag, session_end) = (session.actor, bureau_office::session_tag(&session.token), session.expires_at);
    // Limits before the remaining database reads: a refused socket costs only the session check
    // and never reaches the hub. It is accepted and closed at once, so the browser learns the
    // code and the reason.
    let permit = match state.live.permits.take(&actor.org_id, &actor.user_id) {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::debug!(?refusal, "signaling connection over the limit");
            let code = refusal.close_code();
            return Ok(upgrade.on_upgrade(move |mut socket| async move { close(&mut socket, code.code(), code.reason()).await }));
        }
    };
    if state.office.privacy.privacy_settings(&actor).await?.restricted {
        return Err(bureau_office::OfficeError::Restricted.into());
    }
    let me = state.office.directory.user(&actor, &actor.user_id).await?;
    // `None`: the other nodes cannot be reached now; the socket is closed with 1001 at once, so
    // the client retries with its backoff (a refused handshake would look like a lost network).
    let home = match state.live.prepare(&state.office, &actor.org_id).await {
        Ok(home) => Some(home),
        Err(super::PrepareError::Office(err)) => return Err(err.into()),
        Err(super::PrepareError::Bus(err)) => {
            tracing::warn!("signaling connection refused for now: {err}");
            None
        }
    };
    let info = ConnectInfo {
        org_id: actor.org_id.clone(),
        user_id: actor.user_id.clone(),
        name: me.name,
        has_picture: me.has_picture,
        ice_servers: state.ice.servers_for(&actor.user_id, session_end),
        guest: state.office.joining.guest_access(&actor).await?.map(|(room_id, direct)| GuestAccess { room_id, direct }),
        session: session_tag,
    };
    let live = state.live.clone();
    Ok(upgrade
        // Above the largest frame accepted, so that a frame too big gets a worded error (the
        // hub's) rather than a socket cut.
        .max_message_size(MAX_SFU_MESSAGE_BYTES + MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| run_socket(socket, live, actor, info, home, permit, session_end)))
}

/// Serves one socket until it closes, at the latest when its session ends (`session_end`, Unix
/// milliseconds); `_permit` holds its place against the limits until then.
async fn run_socket(mut socket: WebSocket, live: Arc<Live>, actor: Actor, info: ConnectInfo, home: Option<Home>, _permit: Permit, session_end: i64) {
    let (outbox, mut outgoing) = mpsc::channel(OUTBOX);
    let connected = match home {
        Some(home) => live.connect(info, outbox, home).await,
        None => None,
    };
    let Some(conn) = connected else {
        close(&mut socket, CloseCode::GoingAway.code(), CloseCode::GoingAway.reason()).await;
        return;
    };
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let session_over = tokio::time::sleep(Duration::from_millis(u64::try_from(session_end.saturating_sub(now_ms)).unwrap_or(0)));
    tokio::pin!(session_over);
    let mut limit = RateLimit::new(Instant::now());
    tracing::debug!(conn = conn.0, user_id = %actor.user_id, "signaling connection opened");
    loop {
        tokio::select! {
            incoming = tokio::time::timeout(IDLE_TIMEOUT, socket.recv()) => match incoming {
                Ok(Some(Ok(message @ (Message::Text(_) | Message::Binary(_))))) => match limit.check(Instant::now()) {
                    Verdict::Accept => {
                        // The protocol is text only: a binary frame counts as a malformed message.
                        let text = if let Message::Text(text) = message { text } else { Utf8Bytes::from_static("") };
                        live.send(super::Event::Message(conn, text)).await;
                    }
                    Verdict::Drop(tell) => {
                        if tell {
                            let error = ServerMsg::error(ErrorCode::RateLimited, "too many messages; slow down");
                            if socket.send(Message::Text(encode_server(&error).into())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Verdict::Close => {
                        tracing::warn!(conn = conn.0, "closing a flooding signaling connection");
                        close(&mut socket, CloseCode::Flooding.code(), CloseCode::Flooding.reason()).await;
                        break;
                    }
                },
                // Pings are answered by the WebSocket layer itself; they count against the rate
                // limit so that a ping flood ends like a message flood.
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {
                    if limit.check(Instant::now()) == Verdict::Close {
                        tracing::warn!(conn = conn.0, "closing a signaling connection flooding pings");
                        close(&mut socket, CloseCode::Flooding.code(), CloseCode::Flooding.reason()).await;
                        break;
                    }
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => break,
                Err(_) => {
                    tracing::debug!(conn = conn.0, "signaling connection idle, closing");
                    break;
                }
            },
            () = &mut session_over => {
                close(&mut socket, CloseCode::SignedOut.code(), CloseCode::SignedOut.reason()).await;
                break;
            }
            out = outgoing.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    close(&mut socket, code, reason).await;
                    break;
                }
                // The hub dropped this connection (too slow, or shutting down).
                None => break,
            },
        }
    }
    live.send(super::Event::Disconnect(conn)).await;
    tracing::debug!(conn = conn.0, "signaling connection closed");
}

/// The closing handshake: sends the close frame, then reads (and discards) what the client
/// still sends until its close frame, so the socket is not reset with unread data and the client
/// learns the code.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    if socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await.is_err() {
        return;
    }
    let drain = async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_pass_floods_are_dropped_then_closed() {
        let start = Instant::now();
        let mut limit = RateLimit::new(start);
        for _ in 0..BURST as usize {
            assert_eq!(limit.check(start), Verdict::Accept);
        }
        assert_eq!(limit.check(start), Verdict::Drop(true), "the first drop is reported");
        assert_eq!(limit.check(start), Verdict::Drop(false), "later drops are not, to avoid amplification");
        // A second later, the rate allows 50 more.
        let later = start + Duration::from_secs(1);
        for _ in 0..RATE_PER_SEC as usize {
            assert_eq!(limit.check(later), Verdict::Accept);
        }
        let verdicts: Vec<Verdict> = (0..MAX_DROPPED).map(|_| limit.check(later)).collect();
        assert_eq!(verdicts.last(), Some(&Verdict::Close));
    }
}
