//! Who may call what, for the whole API: every route of the OpenAPI document is called with no
//! session, a guest's, a member's (without rights), a member's holding every right and an
//! administrator's, and the answers must match the access table the router is built from.
//! A route missing from the table, or a handler that lets in a caller the table does not, fails.

use bureau_server::Access;
use serde_json::json;

use crate::{Running, call};

/// The kinds of caller, least privileged first.
const CALLERS: [&str; 5] = ["nobody", "guest", "member", "member with every right", "admin"];

/// Whether `caller` (an index into [`CALLERS`]) is admitted by `access`.
fn admitted(access: Access, caller: usize) -> bool {
    match access {
        Access::Anyone => true,
        Access::Guest => caller >= 1,
        Access::Member => caller >= 2,
        Access::Right(_) => caller >= 3,
        Access::Admin => caller == 4,
    }
}

#[tokio::test]
async fn every_route_admits_exactly_the_callers_the_table_names() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let member = Running::client();
    let rights = json!(["invite", "create_rooms", "see_attendance", "manage_privacy", "manage_absences"]);
    for (email, granted) in [("max@example.org", json!([])), ("rita@example.org", rights)] {
        let (status, user) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "M", "email": email, "password": "member password 1"}))).await;
        assert_eq!(status, 201, "{user}");
        let id = user["id"].as_str().unwrap();
        let (status, _) = call(admin.patch(server.url(&format!("/api/users/{id}"))).json(&json!({"rights": granted}))).await;
        assert_eq!(status, 200);
    }
    let with_rights = Running::client();
    for (client, email) in [(&member, "max@example.org"), (&with_rights, "rita@example.org")] {
        let (status, _) = call(client.post(server.url("/api/auth/login")).json(&json!({"email": email, "password": "member password 1"}))).await;
        assert_eq!(status, 200);
    }
    let (_, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Client meeting"}))).await;
    let (_, link) = call(admin.post(server.url(&format!("/api/rooms/{}/guest-links", room["id"].as_str().unwrap()))).json(&json!({}))).await;
    let token = link["url"].as_str().unwrap().split_once("#token=").unwrap().1;
    let guest = Running::client();
    let (status, _) = call(guest.post(server.url("/api/guest/join")).json(&json!({"token": token, "name": "Grace Guest"}))).await;
    assert_eq!(status, 201);
    let nobody = Running::client();
    let clients = [&nobody, &guest, &member, &with_rights, &admin];

    let table = bureau_server::route_access();
    let document: serde_json::Value = call(nobody.get(server.url("/api/openapi.json"))).await.1;
    // Every route in the table is documented.
    for (method, path, _) in &table {
        let documented = document["paths"][path.as_str()].get(method.as_str().to_lowercase()).is_some();
        assert!(documented || path == "/api/ws" || path == "/api/openapi.json", "{method} {path} is missing from the OpenAPI document");
    }
    let mut checked = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method_upper = method.to_uppercase();
            let access = table
                .iter()
                .find(|(m, p, _)| m.as_str() == method_upper && p == path)
                .map(|(_, _, access)| *access)
                .unwrap_or_else(|| panic!("{method_upper} {path} is in the OpenAPI document but not in the access table"));
            // Ids that exist nowhere: an admitted caller gets past the guard to a 404 or 422.
            let url = server.url(&path.replace("{id}", "00000000-0000-4000-8000-000000000000"));
            // Callers from the most privileged down, so that nothing (a sign-out, an erasure)
            // ends a session before a less privileged caller's turn... except the routes that
            // end sessions, which an admitted caller must not reach here: the table admits
            // anyone to log out, and erasing oneself needs a password the body does not give.
            for caller in (0..CALLERS.len()).rev() {
                if method_upper == "POST" && path == "/api/auth/logout" {
                    continue;
                }
                let request = clients[caller].request(method_upper.parse().unwrap(), &url);
                let request = if method_upper == "GET" { request } else { request.json(&json!({})) };
                let (status, body) = call(request).await;
                let refused = status == 401 && body["code"] == "unauthenticated" || status == 403 && body["code"] == "forbidden";
                let label = format!("{method_upper} {path} as {}: {status} {body}", CALLERS[caller]);
                if admitted(access, caller) {
                    assert!(!refused, "admitted by the table ({access:?}) but refused: {label}");
                } else {
                    assert!(refused, "not admitted by the table ({access:?}) but let through: {label}");
                    let expected = if caller == 0 { 401 } else { 403 };
                    assert_eq!(status, expected, "{label}");
                }
                checked += 1;
            }
        }
    }
    // Each documented route with each caller (logging out aside).
    assert_eq!(checked, (table.len() - 3) * CALLERS.len(), "the routes checked");
    // The sessions are intact: nothing above signed anyone out.
    for (caller, client) in clients.iter().enumerate().skip(1) {
        assert_eq!(call(client.get(server.url("/api/me"))).await.0, 200, "{}", CALLERS[caller]);
    }
    server.stop().await;
}
