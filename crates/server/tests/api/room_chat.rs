//! The chat of a meeting room: made when a member first opens it, joined by whoever opens it
//! after (each join a new epoch, so that sender keys reach the member devices of the room as it
//! is), one per room, gone with the room; not for the reception, and not for another
//! organisation's rooms. (Guests are refused by the route table: `access.rs`.)

use serde_json::json;

use crate::{Running, call, member};

#[tokio::test]
async fn a_meeting_room_has_one_chat_that_members_join_by_opening_it() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (alice, alice_id) = member(&server, &admin, "Alice", "alice@example.org").await;
    let (bob, bob_id) = member(&server, &admin, "Bob", "bob@example.org").await;
    let (status, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Harbour"}))).await;
    assert_eq!(status, 201, "{room}");
    let url = server.url(&format!("/api/rooms/{}/conversation", room["id"].as_str().unwrap()));

    let (status, first) = call(alice.post(&url).json(&json!({}))).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!((first["name"].as_str(), first["room_id"].as_str(), first["epoch"].as_i64()), (Some("Harbour"), room["id"].as_str(), Some(1)), "{first}");
    assert_eq!(first["members"], json!([alice_id]));

    // Bob opens it: the same conversation, with him in it, in a new epoch.
    let (status, joined) = call(bob.post(&url).json(&json!({}))).await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!((joined["id"].as_str(), joined["epoch"].as_i64()), (first["id"].as_str(), Some(2)), "{joined}");
    assert_eq!(joined["members"], json!([alice_id, bob_id]));
    // Opening it again changes nothing; it is among each one's conversations.
    let (_, again) = call(alice.post(&url).json(&json!({}))).await;
    assert_eq!(again["epoch"], 2);
    let (_, list) = call(bob.get(server.url("/api/conversations"))).await;
    assert_eq!(list["conversations"].as_array().unwrap().iter().filter(|c| c["room_id"] == room["id"]).count(), 1, "{list}");

    // Not for the reception; not for a room that does not exist.
    let (status, reception) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Front desk", "kind": "reception"}))).await;
    assert_eq!(status, 201, "{reception}");
    let (status, err) = call(alice.post(server.url(&format!("/api/rooms/{}/conversation", reception["id"].as_str().unwrap()))).json(&json!({}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("room")), "{err}");
    let (status, _) = call(alice.post(server.url("/api/rooms/no-such-room/conversation")).json(&json!({}))).await;
    assert_eq!(status, 404);

    // The room goes, its chat with it.
    let (status, _) = call(admin.delete(server.url(&format!("/api/rooms/{}", room["id"].as_str().unwrap()))).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (status, _) = call(alice.get(server.url(&format!("/api/conversations/{}", first["id"].as_str().unwrap())))).await;
    assert_eq!(status, 404, "the room's chat went with it");
}
