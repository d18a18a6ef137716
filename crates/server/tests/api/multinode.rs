//! Several `bureau serve` nodes sharing one Redis (and one data folder): presence, rooms, calls
//! and signals reach users on whichever node they are connected to; a node that dies has its
//! users shown offline after the grace period; a restarted node rejoins; a restarted Redis makes
//! every client reconnect and the presence is rebuilt; sign-in limits count across nodes; a new
//! name or picture set through any node reaches the presence.

// Tests panic on what they did not expect, like the other API tests.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::live::{Socket, connect, cookie, next, send};
use crate::{Redis, Running, call};

/// The longest any single wait of these tests may take before it counts as a failure.
const WAIT: Duration = Duration::from_secs(20);

fn env(redis: &Redis) -> Vec<(&'static str, String)> {
    vec![
        ("BUREAU_REDIS_URL", redis.url()),
        ("BUREAU_CLUSTER_HOME_LEASE_MS", "1000".into()),
        ("BUREAU_CLUSTER_HEARTBEAT_MS", "200".into()),
    ]
}

/// Two nodes on one data folder with an admin (Ada) and Max; returns their cookies and ids.
async fn office(redis: &Redis, dir: &std::path::Path) -> (Running, Running, String, String, Value) {
    office_with(redis, dir, &[]).await
}

/// [`office`] with more settings for both nodes.
async fn office_with(redis: &Redis, dir: &std::path::Path, more: &[(&'static str, String)]) -> (Running, Running, String, String, Value) {
    let env = [env(redis), more.to_vec()].concat();
    let a = Running::start_node(dir, &env).await;
    let admin = a.admin().await;
    let (status, max) = call(admin.post(a.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    assert_eq!(status, 201, "{max}");
    let b = Running::start_node(dir, &env).await;
    let ada = cookie(&a, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&b, "max@example.org", "max password 1").await;
    (a, b, ada, max_cookie, max)
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Connects and returns the socket with its `welcome`, retrying while the node turns the
/// connection away (Redis not reached yet: closed with 1001 at once).
async fn join(node: &Running, cookie: &str) -> (Socket, Value) {
    within("a welcome", async {
        loop {
            if let Ok(mut socket) = connect(node, Some(cookie), None).await
                && let Some(Ok(Message::Text(text))) = socket.next().await
            {
                let welcome: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(welcome["type"], "welcome");
                return (socket, welcome);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// Waits until `user` shows `status` on `socket` (the welcome's view counts).
async fn sees(socket: &mut Socket, welcome: Option<&Value>, user: &Value, status: &str) {
    if let Some(welcome) = welcome
        && welcome["presence"].as_array().unwrap().iter().any(|p| p["user_id"] == *user && p["status"] == status)
    {
        return;
    }
    within(&format!("{user} to be {status}"), async {
        loop {
            let presence = next(socket, "presence").await;
            if presence["user"]["user_id"] == *user && presence["user"]["status"] == status {
                return;
            }
        }
    })
    .await;
}

/// Waits for the socket to be closed and returns the close code.
async fn closed(socket: &mut Socket) -> Option<u16> {
    within("a close", async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
}

#[tokio::test]
async fn presence_signals_rooms_and_calls_cross_nodes() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, ada_cookie, max_cookie, max) = office(&redis, dir.path()).await;

    // Ada on A (A becomes the home), Max on B (B forwards to A).
    let (mut ada, ada_welcome) = join(&a, &ada_cookie).await;
    let ada_id = ada_welcome["user_id"].clone();
    let offices = |welcome: &Value| welcome["rooms"].as_array().unwrap().iter().filter(|r| r["kind"] == "office").count();
    assert_eq!(offices(&ada_welcome), 2, "the new home loaded the floor plan: {ada_welcome}");
    let (mut max_socket, max_welcome) = join(&b, &max_cookie).await;
    assert_eq!(offices(&max_welcome), 2, "{max_welcome}");
    sees(&mut max_socket, Some(&max_welcome), &ada_id, "online").await;
    sees(&mut ada, None, &max["id"], "online").await;

    // Signals both ways.
    let max_peer = max_welcome["peer_id"].clone();
    send(&mut ada, json!({"type": "signal", "to_peer": max_peer, "payload": {"sdp": "offer"}})).await;
    let relayed = within("a signal", next(&mut max_socket, "signal")).await;
    assert_eq!((relayed["payload"]["sdp"].clone(), relayed["from_user"].clone()), (json!("offer"), ada_id.clone()));
    send(&mut max_socket, json!({"type": "signal", "to_peer": ada_welcome["peer_id"], "payload": {"sdp": "answer"}})).await;
    let relayed = within("a signal", next(&mut ada, "signal")).await;
    assert_eq!((relayed["payload"]["sdp"].clone(), relayed["from_user"].clone()), (json!("answer"), max["id"].clone()));

    // A room created through node B reaches the hub on A; both walk in and see each other.
    let admin = Running::client();
    let login = admin.post(b.url("/api/auth/login")).json(&json!({"email": "ada@example.org", "password": "ada password 1"}));
    assert_eq!(call(login).await.0, 200);
    let (status, room) = call(admin.post(b.url("/api/rooms")).json(&json!({"name": "Meeting room 1", "capacity": 4}))).await;
    assert_eq!(status, 201, "{room}");
    let rooms = within("rooms", next(&mut ada, "rooms")).await;
    assert!(rooms["rooms"].as_array().unwrap().iter().any(|r| r["id"] == room["id"]), "{rooms}");
    send(&mut ada, json!({"type": "join_room", "room_id": room["id"]})).await;
    within("joined", next(&mut ada, "joined")).await;
    send(&mut max_socket, json!({"type": "join_room", "room_id": room["id"]})).await;
    let joined = within("joined", next(&mut max_socket, "joined")).await;
    assert_eq!(joined["peers"][0]["user_id"], ada_id, "{joined}");
    let arrived = within("peer_joined", next(&mut ada, "peer_joined")).await;
    assert_eq!(arrived["peer"]["user_id"], max["id"]);

    // Max (on B) calls Ada (on A); she accepts.
    send(&mut max_socket, json!({"type": "leave_room"})).await;
    send(&mut ada, json!({"type": "leave_room"})).await;
    send(&mut max_socket, json!({"type": "call", "to_user": ada_id})).await;
    let ring = within("a ring", next(&mut ada, "ring")).await;
    assert_eq!(ring["from_user"], max["id"]);
    send(&mut ada, json!({"type": "call_answer", "call_id": ring["call_id"], "accept": true})).await;
    let accepted = within("accepted", async {
        loop {
            let update = next(&mut max_socket, "call_update").await;
            if update["state"] == "accepted" {
                return update;
            }
        }
    })
    .await;
    assert_eq!(accepted["call_id"], ring["call_id"]);

    // Max sets a picture and a new name through node B: Ada, whose node is the home, sees both
    // in his presence.
    let max_client = Running::client();
    let login = max_client.post(b.url("/api/auth/login")).json(&json!({"email": "max@example.org", "password": "max password 1"}));
    assert_eq!(call(login).await.0, 200);
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    assert_eq!(call(max_client.put(b.url("/api/me/picture")).json(&json!({"data_url": png}))).await.0, 204);
    assert_eq!(call(max_client.patch(b.url("/api/me")).json(&json!({"name": "Maximilian"}))).await.0, 200);
    within("the new picture and name", async {
        loop {
            let p = next(&mut ada, "presence").await;
            if p["user"]["user_id"] == max["id"] && p["user"]["name"] == "Maximilian" {
                assert_eq!((p["user"]["has_picture"].clone(), p["user"]["picture_version"].clone()), (json!(true), json!(1)), "{p}");
                return;
            }
        }
    })
    .await;

    let metrics = b.metrics_text().await;
    let sent = metrics.lines().find(|l| l.starts_with("bureau_bus_frames_sent_total ")).unwrap();
    assert_ne!(sent, "bureau_bus_frames_sent_total 0", "{metrics}");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_dead_node_goes_offline_and_a_restarted_node_rejoins() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, ada_cookie, max_cookie, max) = office(&redis, dir.path()).await;
    let (mut ada, _) = join(&a, &ada_cookie).await;
    let (max_socket, _) = join(&b, &max_cookie).await;
    sees(&mut ada, None, &max["id"], "online").await;

    // B dies without a word: once its liveness expires, Max turns offline after the grace.
    b.crash().await;
    drop(max_socket);
    sees(&mut ada, None, &max["id"], "offline").await;

    // B comes back; Max reconnects through it and is online again for Ada.
    let mut b = Running::start_node(dir.path(), &env(&redis)).await;
    let (mut max_socket, max_welcome) = join(&b, &max_cookie).await;
    sees(&mut ada, None, &max["id"], "online").await;

    // Now the home (A) dies: Max's node closes his connection with 1001; he reconnects, B
    // becomes the home, and Ada, reconnecting through B, finds him online.
    let ada_id = max_welcome["presence"].as_array().unwrap().iter().find(|p| p["user_id"] != max["id"]).unwrap()["user_id"].clone();
    a.crash().await;
    drop(ada);
    assert_eq!(closed(&mut max_socket).await, Some(1001));
    let (mut max_socket, _) = join(&b, &max_cookie).await;
    let (_ada, ada_welcome) = join(&b, &ada_cookie).await;
    sees(&mut max_socket, None, &ada_id, "online").await;
    assert!(ada_welcome["presence"].as_array().unwrap().iter().any(|p| p["user_id"] == max["id"] && p["status"] == "online"), "{ada_welcome}");
    b.stop().await;
}

#[tokio::test]
async fn a_restarted_redis_makes_clients_reconnect_and_rebuilds_presence() {
    let mut redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, ada_cookie, max_cookie, max) = office(&redis, dir.path()).await;
    let (mut ada, _) = join(&a, &ada_cookie).await;
    let (mut max_socket, _) = join(&b, &max_cookie).await;
    sees(&mut ada, None, &max["id"], "online").await;

    redis.restart();
    assert_eq!(closed(&mut ada).await, Some(1001));
    assert_eq!(closed(&mut max_socket).await, Some(1001));
    a.wait_ready().await;
    b.wait_ready().await;
    let (mut ada, ada_welcome) = join(&a, &ada_cookie).await;
    let (_max_socket, _) = join(&b, &max_cookie).await;
    sees(&mut ada, Some(&ada_welcome), &max["id"], "online").await;
    let metrics = a.metrics_text().await;
    assert!(metrics.contains("bureau_redis_reconnects_total 1"), "{metrics}");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn sign_in_failures_count_across_nodes() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, _, _, _) = office(&redis, dir.path()).await;
    let attempt = |node: &Running| {
        let body = json!({"email": "max@example.org", "password": "wrong password"});
        reqwest::Client::new().post(node.url("/api/auth/login")).json(&body).send()
    };
    // Ten failures allowed per account: six on A, four on B.
    for (node, times) in [(&a, 6), (&b, 4)] {
        for _ in 0..times {
            assert_eq!(attempt(node).await.unwrap().status(), 401);
        }
    }
    assert_eq!(attempt(&b).await.unwrap().status(), 429, "B counts A's failures too");
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn signing_out_on_one_node_closes_that_sessions_socket_on_another() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, ada_cookie, max_cookie, _) = office(&redis, dir.path()).await;
    // Ada's connection makes A the organisation's home; Max's socket is on B, a proxy.
    let (_ada, _) = join(&a, &ada_cookie).await;
    let (mut max_socket, _) = join(&b, &max_cookie).await;
    // Max signs out through B: the event travels to the home's hub, whose close comes back to B.
    crate::live::sign_out(&b, &max_cookie).await;
    assert_eq!(closed(&mut max_socket).await, Some(4006));
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_draining_node_sends_its_users_elsewhere() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    // A grace period no reconnection can miss, however slow the machine: that the presence
    // survives a drain is shown here, exactly when it expires by the router tests on a fake clock.
    let (mut a, mut b, ada_cookie, max_cookie, max) = office_with(&redis, dir.path(), &[("BUREAU_SIGNAL_PRESENCE_GRACE_SECS", "600".into())]).await;
    let (mut ada, _) = join(&a, &ada_cookie).await;
    let (mut max_socket, _) = join(&b, &max_cookie).await;
    sees(&mut ada, None, &max["id"], "online").await;

    // B is stopped (SIGTERM): Max is told to reconnect, and B no longer looks ready.
    let b_url = b.url("/readyz");
    let stopping = tokio::spawn(async move { b.stop().await });
    assert_eq!(closed(&mut max_socket).await, Some(1001));
    let ready = reqwest::get(&b_url).await.map(|r| r.status().as_u16());
    assert!(!matches!(ready, Ok(200)), "a draining node answered /readyz with {ready:?}");
    stopping.await.unwrap();

    // Max reconnects through A (what a load balancer does) within the grace period: Ada never
    // sees him offline (the next presence she hears of is Max online again).
    let (_max_again, welcome) = join(&a, &max_cookie).await;
    assert_eq!(welcome["user_id"], max["id"]);
    let update = within("presence after the move", next(&mut ada, "presence")).await;
    assert_eq!((update["user"]["user_id"].clone(), update["user"]["status"].clone()), (max["id"].clone(), json!("online")), "{update}");
    a.stop().await;
}

#[tokio::test]
async fn first_connections_arriving_on_both_nodes_at_once_are_all_welcomed() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, ada_cookie, max_cookie, _) = office(&redis, dir.path()).await;
    // Nobody of the organisation is connected yet: the first of these claims the home, and the
    // others (on either node) must be served by it, not turned away while it settles in.
    let attempts = (0..16).map(|i| {
        let (node, cookie) = if i % 2 == 0 { (&a, &ada_cookie) } else { (&b, &max_cookie) };
        async move {
            let mut socket = connect(node, Some(cookie), None).await.unwrap();
            within("the first frame", socket.next()).await.map(|frame| frame.unwrap())
        }
    });
    for first in futures_util::future::join_all(attempts).await {
        let Some(Message::Text(text)) = first else { panic!("turned away instead of welcomed: {first:?}") };
        assert!(text.starts_with(r#"{"type":"welcome""#), "{text}");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn every_node_reports_its_media_servers_load_and_a_stopped_one_drops_out() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b, _, _, _) = office(&redis, dir.path()).await;
    // Each heartbeat (200 ms here) sets the node's load and adds it to the set the homes place
    // rooms from (docs/sfu.md).
    let members = within("both media servers reported", async {
        loop {
            let members: Vec<String> = redis.cli(&["SMEMBERS", "bureau:media-nodes"]).lines().map(str::to_owned).collect();
            if members.len() == 2 {
                return members;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for tag in &members {
        assert_eq!(redis.cli(&["GET", &format!("bureau:node:{tag}:media")]).trim(), "0", "node {tag}: nobody on its media server");
    }
    // A drained node deletes its load; the other's next heartbeat drops it from the set.
    b.stop().await;
    within("the stopped node dropped from the set", async {
        while redis.cli(&["SMEMBERS", "bureau:media-nodes"]).lines().count() != 1 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    a.stop().await;
}
