//! Guests through a link: lobby, admission by a member, their one room, and nothing else.

use serde_json::json;

use crate::live::{close_frame, connect, cookie, next, send};
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

    // Guests see themselves, and nothing of the organisation over REST.
    let (status, me) = call(guest.get(server.url("/api/me"))).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("Grace Guest")), "{me}");
    assert_eq!(call(guest.get(server.url("/api/users"))).await.0, 403);
    assert_eq!(call(guest.get(server.url("/api/rooms"))).await.0, 403);
    assert_eq!(call(guest.post(server.url(&format!("/api/rooms/{room_id}/guest-links"))).json(&json!({}))).await.0, 403);
    // ...and the directory does not list them, not even to administrators: they have a list of
    // their own, for administrators only.
    let (_, directory) = call(admin.get(server.url("/api/users"))).await;
    assert!(!directory["users"].as_array().unwrap().iter().any(|u| u["role"] == "guest"), "no guest in the directory: {directory}");
    let (status, guests) = call(admin.get(server.url("/api/users?guests=true"))).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = guests["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Grace Guest"]);
    let (max, _) = crate::member(&server, &admin, "Max Member", "max@example.org").await;
    assert_eq!(call(max.get(server.url("/api/users?guests=true"))).await.0, 403, "members do not list guests");
    assert_eq!(call(guest.get(server.url("/api/users?guests=true"))).await.0, 403, "nor do guests");

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

/// A guest link to a new meeting room; its token.
async fn link(server: &Running, admin: &reqwest::Client, body: serde_json::Value) -> (String, String) {
    let (_, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Client meeting"}))).await;
    let room_id = room["id"].as_str().unwrap();
    let (status, link) = call(admin.post(server.url(&format!("/api/rooms/{room_id}/guest-links"))).json(&body)).await;
    assert_eq!(status, 201, "{link}");
    (link["id"].as_str().unwrap().to_owned(), link["url"].as_str().unwrap().split_once("#token=").unwrap().1.to_owned())
}

async fn join(server: &Running, token: &str, name: &str) -> (u16, serde_json::Value, Option<String>) {
    let response = Running::client().post(server.url("/api/guest/join")).json(&json!({"token": token, "name": name})).send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = response.headers().get("set-cookie").map(|c| c.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap_or_default(), cookie)
}

#[tokio::test]
async fn one_link_lets_in_a_bounded_number_of_guests_at_a_bounded_pace() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, small) = link(&server, &admin, json!({"max_guests": 3})).await;
    for i in 0..3 {
        assert_eq!(join(&server, &small, &format!("Guest {i}")).await.0, 201);
    }
    let (status, err, _) = join(&server, &small, "One too many").await;
    assert_eq!((status, err["code"].as_str()), (409, Some("link_full")), "{err}");
    let (_, rooms) = call(admin.get(server.url("/api/rooms"))).await;
    let meeting = rooms["rooms"].as_array().unwrap().iter().find(|r| r["kind"] == "meeting").unwrap()["id"].as_str().unwrap().to_owned();
    for bad in [0, 501] {
        let (status, err) = call(admin.post(server.url(&format!("/api/rooms/{meeting}/guest-links"))).json(&json!({"max_guests": bad}))).await;
        assert_eq!((status, err["field"].as_str()), (422, Some("max_guests")), "{err}");
    }

    // A link that allows many still admits ten a minute.
    let (_, big) = link(&server, &admin, json!({"max_guests": 500})).await;
    for i in 0..10 {
        assert_eq!(join(&server, &big, &format!("Visitor {i}")).await.0, 201, "join {i}");
    }
    let (status, err, _) = join(&server, &big, "Visitor 11").await;
    assert_eq!((status, err["code"].as_str()), (429, Some("rate_limited")), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn revoking_a_link_signs_its_guests_out_and_their_sessions_end_with_the_link() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (link_id, token) = link(&server, &admin, json!({"expires_in_hours": 1, "direct": true})).await;
    let (status, _, cookie) = join(&server, &token, "Grace Guest").await;
    assert_eq!(status, 201);
    let cookie = cookie.unwrap();
    // The session (and so the cookie) ends with the link: within the hour, not in seven days.
    let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&max_age), "{cookie}");
    let guest_cookie = cookie.split(';').next().unwrap().to_owned();
    // So do the TURN credentials handed to the guest.
    let mut socket = connect(&server, Some(&guest_cookie), None).await.unwrap();
    let welcome = next(&mut socket, "welcome").await;
    let username = welcome["ice_servers"][0]["username"].as_str().unwrap();
    let expiry: u64 = username.split_once(':').unwrap().0.parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expiry <= now + 3600, "credentials until {expiry}, the session ends within the hour ({now})");

    let (status, _) = call(admin.delete(server.url(&format!("/api/guest-links/{link_id}"))).json(&json!({}))).await;
    assert_eq!(status, 204);
    assert_eq!(close_frame(&mut socket).await.0, 4002, "the guest's socket is closed");
    let guest = reqwest::Client::new();
    let (status, _) = call(guest.get(server.url("/api/me")).header("cookie", &guest_cookie)).await;
    assert_eq!(status, 401, "the guest's session ended with the link");
    server.stop().await;
}
