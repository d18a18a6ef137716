//! Guests through a link: lobby, admission by a member, their one room, and nothing else.

use serde_json::json;

use crate::live::{connect, cookie, next, send};
use crate::{Running, call};

#[tokio::test]
async fn a_guest_joins_through_a_link_waits_and_is_let_in() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Client meeting"}))).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let (status, link) = call(admin.post(server.url(&format!("/api/rooms/{room_id}/guest-links"))).json(&json!({"expires_in_hours": 2}))).await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().unwrap();
    let token = url.split_once("/guest#token=").unwrap().1.to_owned();
    let (_, links) = call(admin.get(server.url(&format!("/api/rooms/{room_id}/guest-links")))).await;
    assert!(links["links"][0].get("url").is_none(), "the token is shown only once");

    let guest = Running::client();
    let (status, info) = call(guest.post(server.url("/api/guest/check")).json(&json!({"token": token}))).await;
    assert_eq!((status, info["room_name"].as_str(), info["direct"].as_bool()), (200, Some("Client meeting"), Some(false)));
    let (status, err) = call(guest.post(server.url("/api/guest/join")).json(&json!({"token": token, "name": " "}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("name")));
    let response = guest.post(server.url("/api/guest/join")).json(&json!({"token": token, "name": "Grace Guest"})).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let guest_cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let joined: serde_json::Value = response.json().await.unwrap();
    assert_eq!((joined["user"]["role"].as_str(), joined["room_id"].as_str()), (Some("guest"), Some(room_id.as_str())));

    // Guests see nothing of the organisation over REST.
    assert_eq!(call(guest.get(server.url("/api/users"))).await.0, 403);
    assert_eq!(call(guest.get(server.url("/api/rooms"))).await.0, 403);
    assert_eq!(call(guest.post(server.url(&format!("/api/rooms/{room_id}/guest-links"))).json(&json!({}))).await.0, 403);
    // ...and the directory does not list them to members.
    let (_, directory) = call(admin.get(server.url("/api/users"))).await;
    assert!(directory["users"].as_array().unwrap().iter().any(|u| u["role"] == "guest"), "admins see guests");

    // The member is at the reception desk; the guest waits in the lobby until let in.
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut ada, "welcome").await;
    let mut grace = connect(&server, Some(&guest_cookie), None).await.unwrap();
    let welcome = next(&mut grace, "welcome").await;
    assert_eq!(welcome["guest"]["room_id"], room_id);
    assert_eq!(welcome["guest"]["admitted"], false);
    assert_eq!(welcome["presence"], json!([]));
    assert_eq!(welcome["rooms"].as_array().unwrap().len(), 1, "only their room");
    let waiting = next(&mut ada, "guest_waiting").await;
    assert_eq!(waiting["name"], "Grace Guest");
    send(&mut ada, json!({"type": "admit_guest", "user_id": waiting["user_id"]})).await;
    let admitted = next(&mut grace, "admitted").await;
    assert_eq!(admitted["room_id"], room_id);
    send(&mut grace, json!({"type": "join_room", "room_id": room_id})).await;
    next(&mut grace, "joined").await;

    // A revoked link stops working; links are for conference rooms only.
    call(admin.delete(server.url(&format!("/api/guest-links/{}", link["id"].as_str().unwrap()))).json(&json!({}))).await;
    let (status, err) = call(Running::client().post(server.url("/api/guest/check")).json(&json!({"token": token}))).await;
    assert_eq!((status, err["code"].as_str()), (410, Some("invalid_token")));
    let office = format!("office:{}", welcome_user(&admin, &server).await);
    let (status, _) = call(admin.post(server.url(&format!("/api/rooms/{office}/guest-links"))).json(&json!({}))).await;
    assert_eq!(status, 422);
    server.stop().await;
}

async fn welcome_user(client: &reqwest::Client, server: &Running) -> String {
    let (_, me) = call(client.get(server.url("/api/me"))).await;
    me["id"].as_str().unwrap().to_owned()
}
