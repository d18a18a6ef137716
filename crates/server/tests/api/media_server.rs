//! When rooms use the media server, set over REST (docs/sfu.md, "When a room uses the SFU"):
//! the organisation's threshold and rooms marked large, read back, and followed by the hub at
//! once — `joined` and `media_mode` over the WebSocket (the test server runs the media server).

use serde_json::{Value, json};

use crate::live::{Socket, connect, cookie, next, next_any, send};
use crate::{Running, call, member};

#[tokio::test]
async fn the_threshold_and_large_rooms_are_set_and_read_back() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (max, _) = member(&server, &admin, "Max", "max@example.org").await;
    let org_url = server.url("/api/org");

    // The organisation's threshold: the server's default (null) until an administrator sets one.
    let (status, org) = call(admin.get(&org_url)).await;
    assert_eq!((status, &org["sfu_threshold"]), (200, &Value::Null), "{org}");
    let (status, org) = call(admin.patch(&org_url).json(&json!({"sfu_threshold": 3}))).await;
    assert_eq!((status, org["sfu_threshold"].as_u64()), (200, Some(3)), "{org}");
    let (status, org) = call(max.get(&org_url)).await;
    assert_eq!((status, org["sfu_threshold"].as_u64()), (200, Some(3)), "members see it: {org}");
    let (status, err) = call(max.patch(&org_url).json(&json!({"sfu_threshold": 4}))).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{err}");
    for people in [json!(1), json!(101), json!("many")] {
        let (status, err) = call(admin.patch(&org_url).json(&json!({"sfu_threshold": people}))).await;
        assert_eq!((status, err["code"].as_str()), (422, Some("invalid")), "{people}: {err}");
    }
    let (_, err) = call(admin.patch(&org_url).json(&json!({"sfu_threshold": 101}))).await;
    assert_eq!(err["field"], "sfu_threshold", "{err}");
    assert!(err["message"].as_str().unwrap().contains("2 to 100 people"), "{err}");
    let (status, org) = call(admin.patch(&org_url).json(&json!({"name": "Example"}))).await;
    assert_eq!((status, org["sfu_threshold"].as_u64()), (200, Some(3)), "other settings leave it: {org}");
    let (status, org) = call(admin.patch(&org_url).json(&json!({"sfu_threshold": null}))).await;
    assert_eq!((status, &org["sfu_threshold"]), (200, &Value::Null), "null resets: {org}");
    assert_eq!(call(max.get(&org_url)).await.1["sfu_threshold"], Value::Null);

    // Rooms marked large: on creation or later, by who manages rooms.
    let (status, hall) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Town hall", "large": true}))).await;
    assert_eq!((status, &hall["large"]), (201, &json!(true)), "{hall}");
    let (status, huddle) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Huddle"}))).await;
    assert_eq!((status, &huddle["large"]), (201, &json!(false)), "not large unless asked: {huddle}");
    let (status, err) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Lobby", "kind": "reception", "large": "yes"}))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")), "{err}");
    let huddle_url = server.url(&format!("/api/rooms/{}", huddle["id"].as_str().unwrap()));
    let (status, err) = call(max.patch(&huddle_url).json(&json!({"large": true}))).await;
    assert_eq!(status, 403, "{err}");
    let (status, err) = call(admin.patch(server.url("/api/rooms/no-such-room")).json(&json!({"large": true}))).await;
    assert_eq!(status, 404, "{err}");
    let (status, marked) = call(admin.patch(&huddle_url).json(&json!({"large": true}))).await;
    assert_eq!((status, &marked["large"]), (200, &json!(true)), "{marked}");
    let (status, renamed) = call(admin.patch(&huddle_url).json(&json!({"name": "Big huddle"}))).await;
    assert_eq!((status, &renamed["large"]), (200, &json!(true)), "a rename keeps it: {renamed}");

    let (_, list) = call(max.get(server.url("/api/rooms"))).await;
    let rooms = list["rooms"].as_array().unwrap();
    let large = |id: &Value| rooms.iter().find(|r| r["id"] == *id).unwrap()["large"].clone();
    assert_eq!((large(&hall["id"]), large(&huddle["id"])), (json!(true), json!(true)), "{list}");
    assert!(rooms.iter().filter(|r| r["kind"] == "office").all(|r| r["large"] == false), "{list}");
    assert!(rooms.iter().all(|r| r.get("sfu_threshold").is_none()), "shown with the organisation, not per room: {list}");
    server.stop().await;
}

/// The modes of `room_id` that `socket` hears until the floor plan shows a room named `marker`.
/// A room renamed to `marker` right after a change proves the hub has taken that change in: the
/// office's changes reach the hub in order, and the hub tells a room's participants its new
/// mode before it sends the floor plan.
async fn modes_until(socket: &mut Socket, room_id: &Value, marker: &str) -> Vec<String> {
    let mut modes = Vec::new();
    loop {
        let msg = next_any(socket, &["media_mode", "rooms"]).await;
        if msg["type"] == "media_mode" && msg["room_id"] == *room_id {
            modes.push(msg["mode"].as_str().unwrap().to_owned());
        }
        if msg["type"] == "rooms" && msg["rooms"].as_array().unwrap().iter().any(|r| r["name"] == marker) {
            return modes;
        }
    }
}

#[tokio::test]
async fn the_hub_follows_large_rooms_and_the_organisations_threshold_at_once() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    member(&server, &admin, "Max", "max@example.org").await;
    let room = |body: Value| call(admin.post(server.url("/api/rooms")).json(&body));
    let (_, hall) = room(json!({"name": "Town hall", "large": true})).await;
    let (_, huddle) = room(json!({"name": "Huddle"})).await;
    let (_, marker) = room(json!({"name": "Marker"})).await;
    let marker_url = server.url(&format!("/api/rooms/{}", marker["id"].as_str().unwrap()));
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&server, "max@example.org", "member password 1").await;
    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut ada, "welcome").await;
    let mut max = connect(&server, Some(&max_cookie), None).await.unwrap();
    next(&mut max, "welcome").await;

    // A room marked large uses the media server from its first participant on.
    send(&mut ada, json!({"type": "join_room", "room_id": hall["id"]})).await;
    next(&mut ada, "joined").await;
    send(&mut max, json!({"type": "join_room", "room_id": hall["id"]})).await;
    let joined = next(&mut max, "joined").await;
    assert_eq!(joined["media_mode"], "sfu", "{joined}");
    let heard = next_any(&mut ada, &["media_mode", "peer_joined"]).await;
    assert_eq!((heard["type"].as_str(), heard["mode"].as_str()), (Some("media_mode"), Some("sfu")), "alone in the room already: {heard}");

    // Two people elsewhere meet peer to peer (the node's threshold is 5)...
    send(&mut ada, json!({"type": "join_room", "room_id": huddle["id"]})).await;
    assert_eq!(next(&mut ada, "joined").await["media_mode"], "mesh");
    send(&mut max, json!({"type": "join_room", "room_id": huddle["id"]})).await;
    assert_eq!(next(&mut max, "joined").await["media_mode"], "mesh");

    // ...until a change of either setting moves their room at once, and back.
    let huddle_path = format!("/api/rooms/{}", huddle["id"].as_str().unwrap());
    let steps = [
        ("/api/org", json!({"sfu_threshold": 2}), "sfu"),
        ("/api/org", json!({"sfu_threshold": null}), "mesh"),
        (huddle_path.as_str(), json!({"large": true}), "sfu"),
        (huddle_path.as_str(), json!({"large": false}), "mesh"),
    ];
    for (step, (path, body, mode)) in steps.into_iter().enumerate() {
        let (status, answer) = call(admin.patch(server.url(path)).json(&body)).await;
        assert_eq!(status, 200, "{answer}");
        let marker_name = format!("Marker {step}");
        assert_eq!(call(admin.patch(&marker_url).json(&json!({"name": marker_name}))).await.0, 200);
        for socket in [&mut ada, &mut max] {
            assert_eq!(modes_until(socket, &huddle["id"], &marker_name).await, [mode], "{body}");
        }
    }
    server.stop().await;
}
