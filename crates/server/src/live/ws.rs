//! `GET /api/ws`: the signaling WebSocket. Authenticated by the session cookie, refused from
//! other origins; each socket is one task that moves frames between the browser and the hub.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bureau_office::Actor;
use bureau_signal::{ConnectInfo, MAX_MESSAGE_BYTES};
use tokio::sync::mpsc;

use super::{Live, OUTBOX, Outbound};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::session::Session;

/// A client that sends nothing (not even its keep-alive `ping`) for this long is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Upgrades to the signaling WebSocket.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    session: Session,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    // Cross-site WebSocket hijacking: browsers send Origin on every WebSocket handshake.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        if origin.split_once("://").map_or("", |(_, rest)| rest) != host {
            return Err(ApiError::CrossOrigin);
        }
    }
    let actor = session.actor;
    if state.office.privacy_settings(&actor).await?.restricted {
        return Err(bureau_office::OfficeError::Restricted.into());
    }
    let me = state.office.user(&actor, &actor.user_id).await?;
    state.live.ensure_rooms(&state.office, &actor.org_id).await?;
    let info = ConnectInfo {
        org_id: actor.org_id.clone(),
        user_id: actor.user_id.clone(),
        name: me.name,
        ice_servers: state.ice.servers_for(&actor.user_id),
    };
    let live = state.live.clone();
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES * 2)
        .on_upgrade(move |socket| run_socket(socket, live, actor, info)))
}

async fn run_socket(mut socket: WebSocket, live: Arc<Live>, actor: Actor, info: ConnectInfo) {
    let (outbox, mut outgoing) = mpsc::channel(OUTBOX);
    let conn = live.connect(info, outbox);
    tracing::debug!(conn = conn.0, user_id = %actor.user_id, "signaling connection opened");
    loop {
        tokio::select! {
            incoming = tokio::time::timeout(IDLE_TIMEOUT, socket.recv()) => match incoming {
                Ok(Some(Ok(Message::Text(text)))) => live.send(super::Event::Message(conn, text.to_string())),
                // The protocol is text only: a binary frame counts as a malformed message.
                Ok(Some(Ok(Message::Binary(_)))) => live.send(super::Event::Message(conn, String::new())),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => break,
                Err(_) => {
                    tracing::debug!(conn = conn.0, "signaling connection idle, closing");
                    break;
                }
            },
            out = outgoing.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                // The hub dropped this connection (too slow, or shutting down).
                None => break,
            },
        }
    }
    live.send(super::Event::Disconnect(conn));
    tracing::debug!(conn = conn.0, "signaling connection closed");
}
