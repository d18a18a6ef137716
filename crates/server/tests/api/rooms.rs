//! The floor plan over the API: the rooms a new organisation starts with, and changing a room's
//! kind.

use serde_json::json;

use crate::{Running, call, member};

#[tokio::test]
async fn a_new_organisation_starts_with_a_meeting_room_and_a_reception_whose_kinds_admins_change() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (status, rooms) = call(admin.get(server.url("/api/rooms"))).await;
    assert_eq!(status, 200);
    let mut shared: Vec<(String, String)> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] != "office")
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["kind"].as_str().unwrap().to_owned()))
        .collect();
    shared.sort();
    assert_eq!(shared, [("Meeting room".to_owned(), "meeting".to_owned()), ("Reception".to_owned(), "reception".to_owned())]);
    let meeting = rooms["rooms"].as_array().unwrap().iter().find(|r| r["kind"] == "meeting").unwrap()["id"].as_str().unwrap().to_owned();

    let (status, changed) = call(admin.patch(server.url(&format!("/api/rooms/{meeting}"))).json(&json!({"kind": "reception"}))).await;
    assert_eq!((status, changed["kind"].as_str()), (200, Some("reception")), "{changed}");
    let (status, err) = call(admin.patch(server.url(&format!("/api/rooms/{meeting}"))).json(&json!({"kind": "office"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("kind")), "{err}");
    let (status, _) = call(admin.patch(server.url(&format!("/api/rooms/{meeting}"))).json(&json!({"kind": "lobby"}))).await;
    assert_eq!(status, 422, "an unknown kind");
    let (max, _) = member(&server, &admin, "Max Member", "max@example.org").await;
    let (status, _) = call(max.patch(server.url(&format!("/api/rooms/{meeting}"))).json(&json!({"kind": "meeting"}))).await;
    assert_eq!(status, 403, "members do not change rooms");
    let (_, after) = call(admin.get(server.url("/api/rooms"))).await;
    assert_eq!(after["rooms"].as_array().unwrap().iter().filter(|r| r["kind"] == "reception").count(), 2);
    server.stop().await;
}
