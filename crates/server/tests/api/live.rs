//! The signaling WebSocket end to end: welcome with TURN credentials, presence fan-out,
//! relayed signals, floor-plan updates from REST, deactivation closing the socket.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::{Running, call};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Signs in and returns the `Cookie` header value.
pub async fn cookie(server: &Running, email: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

/// Signs the session of `cookie` out through `server`.
pub async fn sign_out(server: &Running, cookie: &str) {
    let request = reqwest::Client::new().post(server.url("/api/auth/logout")).header("cookie", cookie).json(&json!({}));
    assert_eq!(call(request).await.0, 204);
}

pub async fn connect(server: &Running, cookie: Option<&str>, origin: Option<&str>) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = server.url("/api/ws").replace("http://", "ws://").into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.map(|(socket, _)| socket)
}

/// The next message of `kind`, skipping others.
pub async fn next(socket: &mut Socket, kind: &str) -> Value {
    next_any(socket, &[kind]).await
}

/// The next message of one of `kinds`, skipping others.
pub async fn next_any(socket: &mut Socket, kinds: &[&str]) -> Value {
    loop {
        match socket.next().await.expect("socket open").expect("frame") {
            Message::Text(text) => {
                let msg: Value = serde_json::from_str(&text).unwrap();
                if kinds.iter().any(|kind| msg["type"] == *kind) {
                    return msg;
                }
            }
            Message::Close(frame) => panic!("closed while waiting for {kinds:?}: {frame:?}"),
            _ => {}
        }
    }
}

/// The close frame the server sends next (code and reason), skipping other frames; panics when
/// the socket ends without one.
pub async fn close_frame(socket: &mut Socket) -> (u16, String) {
    loop {
        match socket.next().await {
            Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
            Some(Ok(Message::Close(None))) => panic!("closed without a code"),
            Some(Ok(_)) => {}
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    }
}

pub async fn send(socket: &mut Socket, msg: Value) {
    socket.send(Message::Text(msg.to_string().into())).await.unwrap();
}

#[tokio::test]
async fn presence_signals_rooms_and_deactivation_over_the_websocket() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, max) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;

    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    let welcome = next(&mut ada, "welcome").await;
    assert_eq!(welcome["version"], bureau_signal::PROTOCOL_VERSION);
    let ice = &welcome["ice_servers"][0];
    assert!(ice["urls"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().starts_with("turn:127.0.0.1:")), "{ice}");
    assert!(ice["username"].as_str().unwrap().ends_with(&format!(":{}", welcome["user_id"].as_str().unwrap())));
    let offices = welcome["rooms"].as_array().unwrap();
    assert!(offices.iter().any(|r| r["kind"] == "office" && r["owner_user_id"] == max["id"]), "{offices:?}");

    let mut max_socket = connect(&server, Some(&max_cookie), None).await.unwrap();
    let max_welcome = next(&mut max_socket, "welcome").await;
    let max_peer = max_welcome["peer_id"].as_str().unwrap().to_owned();
    let online = next(&mut ada, "presence").await;
    assert_eq!((online["user"]["user_id"].clone(), online["user"]["status"].clone()), (max["id"].clone(), json!("online")));

    // Presence set by one reaches the other.
    send(&mut ada, json!({"type": "set_presence", "status": "busy", "location": "home_office"})).await;
    let busy = next(&mut max_socket, "presence").await;
    assert_eq!(busy["user"]["status"], "busy");
    assert_eq!(busy["user"]["location"], "home_office");

    // A signal is relayed with its sender.
    send(&mut ada, json!({"type": "signal", "to_peer": max_peer, "payload": {"sdp": "v=0"}})).await;
    let relayed = next(&mut max_socket, "signal").await;
    assert_eq!(relayed["payload"]["sdp"], "v=0");
    assert_eq!(relayed["from_user"], welcome["user_id"]);

    // A room created over REST appears on everyone's floor plan; walking in is seen by others.
    let (status, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Meeting room 1", "capacity": 4}))).await;
    assert_eq!(status, 201, "{room}");
    let rooms = next(&mut max_socket, "rooms").await;
    assert!(rooms["rooms"].as_array().unwrap().iter().any(|r| r["id"] == room["id"] && r["name"] == "Meeting room 1"));
    send(&mut ada, json!({"type": "join_room", "room_id": room["id"]})).await;
    next(&mut ada, "joined").await;
    let update = next(&mut max_socket, "room").await;
    assert_eq!(update["room"]["participants"].as_array().unwrap().len(), 1);

    // Deactivating Max closes his socket with 4002.
    let (status, _) = call(admin.patch(server.url(&format!("/api/users/{}", max["id"].as_str().unwrap()))).json(&json!({"active": false}))).await;
    assert_eq!(status, 200);
    assert_eq!(close_frame(&mut max_socket).await.0, 4002);
    server.stop().await;
}

#[tokio::test]
async fn the_websocket_needs_a_session_and_the_same_origin() {
    let mut server = Running::start().await;
    server.admin().await;
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let refused = connect(&server, None, None).await.unwrap_err().to_string();
    assert!(refused.contains("401"), "{refused}");
    let refused = connect(&server, Some(&ada_cookie), Some("https://evil.example")).await.unwrap_err().to_string();
    assert!(refused.contains("403"), "{refused}");
    let host = server.base.trim_start_matches("http://").to_owned();
    let mut ok = connect(&server, Some(&ada_cookie), Some(&format!("http://{host}"))).await.unwrap();
    next(&mut ok, "welcome").await;
    // Garbage is answered with an error, and the connection keeps working.
    ok.send(Message::Text("{not json".into())).await.unwrap();
    let error = next(&mut ok, "error").await;
    assert_eq!(error["code"], "bad_message");
    send(&mut ok, json!({"type": "ping"})).await;
    next(&mut ok, "pong").await;
    server.stop().await;
}

#[tokio::test]
async fn call_history_and_transfer_reports() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, max) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;
    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut ada, "welcome").await;
    let mut max_socket = connect(&server, Some(&max_cookie), None).await.unwrap();
    next(&mut max_socket, "welcome").await;

    // Ada calls Max, Max accepts, both join the call room, then Ada leaves: a call log appears.
    send(&mut ada, json!({"type": "call", "to_user": max["id"]})).await;
    let ring = next(&mut max_socket, "ring").await;
    send(&mut max_socket, json!({"type": "call_answer", "call_id": ring["call_id"], "accept": true})).await;
    let ringing = next(&mut ada, "call_update").await;
    assert_eq!(ringing["state"], "ringing");
    let accepted = next(&mut ada, "call_update").await;
    assert_eq!(accepted["state"], "accepted");
    let room_id = accepted["room_id"].clone();
    send(&mut ada, json!({"type": "join_room", "room_id": room_id})).await;
    next(&mut ada, "joined").await;
    send(&mut max_socket, json!({"type": "join_room", "room_id": room_id})).await;
    next(&mut max_socket, "joined").await;
    send(&mut ada, json!({"type": "leave_room"})).await;
    let mut calls = json!([]);
    for _ in 0..100 {
        let (_, list) = call(admin.get(server.url("/api/me/calls"))).await;
        calls = list["calls"].clone();
        if !calls.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(calls[0]["participants"].as_array().unwrap().len(), 2, "{calls}");

    let (status, _) = call(admin.post(server.url("/api/me/transfers")).json(&json!({"to_user": max["id"], "kind": "file", "size": 5242880}))).await;
    assert_eq!(status, 204);
    let (status, err) = call(admin.post(server.url("/api/me/transfers")).json(&json!({"to_user": "someone-else", "kind": "file", "size": 1}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("to_user")));
    server.stop().await;
}

#[tokio::test]
async fn a_flooding_connection_is_limited_then_closed_and_others_keep_working() {
    let mut server = Running::start().await;
    server.admin().await;
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let mut flooder = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut flooder, "welcome").await;
    let mut calm = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut calm, "welcome").await;
    for _ in 0..1200 {
        if flooder.send(Message::Text(json!({"type": "ping"}).to_string().into())).await.is_err() {
            break;
        }
    }
    let (mut limited, mut code) = (false, None);
    while let Some(Ok(message)) = flooder.next().await {
        match message {
            Message::Text(text) if text.contains("rate_limited") => limited = true,
            Message::Close(frame) => {
                code = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert!(limited, "told to slow down");
    assert_eq!(code, Some(4003));
    send(&mut calm, json!({"type": "ping"})).await;
    next(&mut calm, "pong").await;
    server.stop().await;
}

#[tokio::test]
async fn signing_out_closes_that_sessions_sockets_and_no_others() {
    let mut server = Running::start().await;
    server.admin().await;
    let laptop = cookie(&server, "ada@example.org", "ada password 1").await;
    let phone = cookie(&server, "ada@example.org", "ada password 1").await;
    let mut laptop_socket = connect(&server, Some(&laptop), None).await.unwrap();
    next(&mut laptop_socket, "welcome").await;
    let mut phone_socket = connect(&server, Some(&phone), None).await.unwrap();
    next(&mut phone_socket, "welcome").await;

    sign_out(&server, &laptop).await;
    assert_eq!(close_frame(&mut laptop_socket).await, (4006, "signed out".to_owned()));
    // The other session's socket keeps working.
    send(&mut phone_socket, json!({"type": "ping"})).await;
    next(&mut phone_socket, "pong").await;
    // And the ended session cannot open a new one.
    assert!(connect(&server, Some(&laptop), None).await.is_err());
    server.stop().await;
}
