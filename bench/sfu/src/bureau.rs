//! Bureau's signaling (docs/protocol.md, protocol 2) for the media clients, as bench/live does
//! it: sign in once through `POST /api/auth/login`, then one WebSocket per participant at
//! `/api/ws` with the session cookie. Every participant is a tab of the same bench
//! administrator (one Argon2 sign-in instead of one per participant); the hub treats each
//! connection as a peer of its own.
//!
//! A participant sends `join_room`, waits until the room uses the media server (`joined` with
//! `media_mode: "sfu"`, or a later `media_mode`), sends its `sfu_offer`, applies the
//! `sfu_answer`, and answers every `sfu_offer` of the server (others' tracks) with `sfu_answer`
//! when it receives; a participant that only publishes leaves those offers unanswered, so
//! the server forwards it nothing (the N × M load of the Janus comparison).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::media::Handle;

/// Signs in; returns the session cookie (`name=value`).
pub async fn login(http: &str, email: &str, password: &str) -> Result<String, String> {
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{http}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| format!("login: {e}"))?;
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("login: status {}, no cookie", response.status()))
}

/// Creates the meeting room of the run (`POST /api/rooms`, an administrator's right); returns
/// its id.
pub async fn create_room(http: &str, cookie: &str, name: &str, capacity: usize) -> Result<String, String> {
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{http}/api/rooms"))
        .header("cookie", cookie)
        .json(&json!({"name": name, "kind": "meeting", "capacity": capacity}))
        .send()
        .await
        .map_err(|e| format!("create room: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| format!("create room: {e}"))?;
    body.get("id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("create room: status {status}: {body}"))
}

/// A participant's signaling connection: returns once the participant is in the room, with
/// what says when its media connection is set up (the server answered its offer: the first
/// participant offers only when the second arrives and the room switches to the media server).
/// The task keeps answering the server's offers after that.
pub async fn join(http: &str, cookie: &str, room_id: &str, client: Handle) -> Result<oneshot::Receiver<Result<(), String>>, String> {
    let mut request = format!("ws://{http}/api/ws").into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("cookie", HeaderValue::from_str(cookie).map_err(|e| e.to_string())?);
    let stream = TcpStream::connect(http).await.map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream).await.map_err(|e| format!("handshake: {e}"))?;
    let (done_tx, done_rx) = oneshot::channel::<Result<(), String>>();
    let (joined_tx, joined_rx) = oneshot::channel::<Result<(), String>>();
    let room_id = room_id.to_owned();
    tokio::spawn(async move {
        let mut done = Some(done_tx);
        let mut joined = Some(joined_tx);
        let mut finish = |result: Result<(), String>| {
            if let Some(done) = done.take() {
                let _ = done.send(result);
            }
        };
        let mut offered = false;
        let mut ping = tokio::time::interval(Duration::from_secs(20));
        loop {
            let text = tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => { finish(Err(format!("websocket: {e}"))); break }
                    None => { finish(Err("websocket closed".into())); break }
                },
                _ = ping.tick() => {
                    if ws.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() { break }
                    continue;
                }
            };
            let Ok(msg) = serde_json::from_str::<Value>(&text) else { continue };
            let field = |name: &str| msg.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            let mut sfu = false;
            let mut reply = None;
            match field("type").as_str() {
                "welcome" => reply = Some(json!({"type": "join_room", "room_id": room_id})),
                "joined" => {
                    sfu = field("media_mode") == "sfu";
                    if let Some(joined) = joined.take() {
                        let _ = joined.send(Ok(()));
                    }
                }
                "media_mode" => sfu = field("mode") == "sfu",
                "speakers" => {
                    client.speakers(msg.get("last_n").and_then(Value::as_u64));
                    // The tiles' sizes, as a browser says them, for everyone in the room.
                    if let (Some(layer), Some(peers)) = (client.tile_layer(), msg.get("peer_ids").and_then(Value::as_array)) {
                        let layers: serde_json::Map<String, Value> = peers.iter().filter_map(Value::as_str).map(|p| (p.to_owned(), json!(layer))).collect();
                        reply = Some(json!({"type": "sfu_layers", "layers": layers}));
                    }
                }
                "sfu_answer" => finish(client.accept_answer(&field("sdp"))),
                "sfu_offer" if client.role.receives => match client.accept_offer(&field("sdp")) {
                    Ok(sdp) => reply = Some(json!({"type": "sfu_answer", "sdp": sdp})),
                    Err(e) => eprintln!("sfu-load: participant {}: {e}", client.index),
                },
                "error" if field("code") == "media_server" => {
                    client.ended(&field("message"));
                    if let Some(joined) = joined.take() {
                        let _ = joined.send(Err(text.to_string()));
                    }
                }
                "error" => {
                    eprintln!("sfu-load: participant {}: server error {text}", client.index);
                    if let Some(joined) = joined.take() {
                        let _ = joined.send(Err(text.to_string()));
                    }
                }
                _ => {}
            }
            // The room uses the media server: connect to it, once.
            if sfu && !offered {
                offered = true;
                match client.offer() {
                    Ok(sdp) => reply = Some(json!({"type": "sfu_offer", "sdp": sdp})),
                    Err(e) => finish(Err(e)),
                }
            }
            if let Some(reply) = reply
                && ws.send(Message::text(reply.to_string())).await.is_err()
            {
                finish(Err("websocket closed".into()));
                break;
            }
        }
    });
    joined_rx.await.map_err(|_| "signaling ended before `joined`".to_owned())??;
    Ok(done_rx)
}
