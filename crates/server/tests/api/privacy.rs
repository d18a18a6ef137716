//! Privacy rights over HTTP: a user with a full history exports everything (and the export is
//! kept for the schema check in scripts/test), then erases the account; colleagues keep an
//! anonymised history and the raw database file no longer holds the user's data.

use serde_json::json;

use crate::live::{connect, cookie, next, send};
use crate::{Running, call};

#[tokio::test]
async fn export_everything_then_erase() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    let (_, max) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max Privacy", "email": "max@example.org", "password": "max password 1"}))).await;
    let max_id = max["id"].as_str().unwrap().to_owned();
    let member = Running::client();
    call(member.post(server.url("/api/auth/login")).json(&json!({"email": "max@example.org", "password": "max password 1"}))).await;
    call(member.patch(server.url("/api/me")).json(&json!({"phone_mobile": "+49 170 5550199", "device": "Laptop"}))).await;

    // A call between Ada and Max, a file transfer, a support ticket.
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;
    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    let welcome = next(&mut ada, "welcome").await;
    let mut max_socket = connect(&server, Some(&max_cookie), None).await.unwrap();
    next(&mut max_socket, "welcome").await;
    send(&mut ada, json!({"type": "call", "to_user": max_id})).await;
    let ring = next(&mut max_socket, "ring").await;
    send(&mut max_socket, json!({"type": "call_answer", "call_id": ring["call_id"], "accept": true})).await;
    let room_id = loop {
        let update = next(&mut ada, "call_update").await;
        if update["state"] == "accepted" {
            break update["room_id"].clone();
        }
    };
    send(&mut ada, json!({"type": "join_room", "room_id": room_id})).await;
    send(&mut max_socket, json!({"type": "join_room", "room_id": room_id})).await;
    next(&mut max_socket, "joined").await;
    send(&mut max_socket, json!({"type": "leave_room"})).await;
    call(member.post(server.url("/api/me/transfers")).json(&json!({"to_user": welcome["user_id"], "kind": "file", "size": 1234}))).await;
    call(member.post(server.url("/api/support")).json(&json!({"subject": "Privacy", "message": "What do you keep?"}))).await;
    let (status, _) = call(member.post(server.url("/api/consents")).json(&json!({"template_version": 0, "camera": true, "microphone": true}))).await;
    assert_eq!(status, 201);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let vacation = json!({"kind": "vacation", "starts_at": now + 86_400_000, "ends_at": now + 3 * 86_400_000, "deputy_id": welcome["user_id"], "note": "Lisbon"});
    let (status, _) = call(member.post(server.url("/api/absences")).json(&vacation)).await;
    assert_eq!(status, 201);

    let mut export = serde_json::Value::Null;
    for _ in 0..100 {
        let response = member.get(server.url("/api/me/export")).send().await.unwrap();
        assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        export = response.json().await.unwrap();
        if !export["calls"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(export["profile"]["phone_mobile"], "+49 170 5550199");
    assert_eq!(export["access_log"][0]["ip"], "127.0.0.1");
    assert_eq!(export["calls"][0]["participants"].as_array().unwrap().len(), 2);
    assert_eq!(export["transfers"][0]["size"], 1234);
    assert_eq!(export["support_tickets"][0]["subject"], "Privacy");
    assert_eq!(export["retention"]["access_logs_days"], 90);
    assert_eq!((export["absences"][0]["note"].as_str(), export["retention"]["absences_days"].as_i64()), (Some("Lisbon"), Some(90)));
    assert_eq!((export["consents"][0]["camera"].clone(), export["consents"][0]["template_version"].clone()), (json!(true), json!(0)));
    // Kept for scripts/test, which validates it against docs/export.schema.json.
    let sample = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-sample.json");
    std::fs::write(sample, serde_json::to_vec_pretty(&export).unwrap()).unwrap();

    // Erasure needs the password; afterwards the session is gone and colleagues see "erased".
    let (status, err) = call(member.delete(server.url("/api/me")).json(&json!({"password": "wrong"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("password")));
    let (status, _) = call(member.delete(server.url("/api/me")).json(&json!({"password": "max password 1"}))).await;
    assert_eq!(status, 204);
    assert_eq!(call(member.get(server.url("/api/me"))).await.0, 401);
    let (_, calls) = call(admin.get(server.url("/api/me/calls"))).await;
    let participants = calls["calls"][0]["participants"].as_array().unwrap();
    assert!(participants.iter().any(|p| p.as_str().unwrap().starts_with("erased-")), "{participants:?}");
    assert!(!participants.contains(&json!(max_id)));
    assert_eq!(call(admin.get(server.url(&format!("/api/users/{max_id}")))).await.0, 404);
    server.stop().await;
}

#[tokio::test]
async fn restriction_objection_requests_and_the_audit_log() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    let (_, max) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    let max_id = max["id"].as_str().unwrap().to_owned();
    let member = Running::client();
    call(member.post(server.url("/api/auth/login")).json(&json!({"email": "max@example.org", "password": "max password 1"}))).await;
    call(member.patch(server.url("/api/me")).json(&json!({"device": "Laptop"}))).await;

    // Objecting to the extended profile deletes its fields and refuses new ones.
    let (status, settings) = call(member.patch(server.url("/api/me/privacy")).json(&json!({"objections": ["extended_profile", "call_logs"]}))).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["objections"], json!(["extended_profile", "call_logs"]));
    let (_, me) = call(member.get(server.url("/api/me"))).await;
    assert!(me.get("device").is_none(), "{me}");
    let (status, _) = call(member.patch(server.url("/api/me")).json(&json!({"device": "Phone"}))).await;
    assert_eq!(status, 422);

    // Restriction hides Max from colleagues and keeps him out of the live office.
    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Zoe", "email": "zoe@example.org", "password": "zoe password 1"}))).await;
    let zoe = Running::client();
    call(zoe.post(server.url("/api/auth/login")).json(&json!({"email": "zoe@example.org", "password": "zoe password 1"}))).await;
    let (_, settings) = call(member.patch(server.url("/api/me/privacy")).json(&json!({"restricted": true}))).await;
    assert_eq!(settings["restricted"], true);
    let (_, list) = call(zoe.get(server.url("/api/users"))).await;
    assert!(list["users"].as_array().unwrap().iter().all(|u| u["id"] != max["id"]), "hidden from colleagues");
    assert_eq!(call(zoe.get(server.url(&format!("/api/users/{max_id}")))).await.0, 404);
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;
    let refused = connect(&server, Some(&max_cookie), None).await.unwrap_err().to_string();
    assert!(refused.contains("403"), "{refused}");
    call(member.patch(server.url("/api/me/privacy")).json(&json!({"restricted": false}))).await;
    let (_, list) = call(zoe.get(server.url("/api/users"))).await;
    assert!(list["users"].as_array().unwrap().iter().any(|u| u["id"] == max["id"]), "visible again");

    // A privacy request is due in a month; the admin answers it by email.
    let (status, request) = call(member.post(server.url("/api/privacy/requests")).json(&json!({"kind": "rectification", "message": "My personnel ID is wrong."}))).await;
    assert_eq!(status, 201, "{request}");
    let month = request["due_at"].as_i64().unwrap() - request["created_at"].as_i64().unwrap();
    assert_eq!(month, 30 * 24 * 3600 * 1000);
    assert_eq!(call(zoe.get(server.url("/api/privacy/requests"))).await.1["requests"], json!([]), "members see only their own");
    let (_, queue) = call(admin.get(server.url("/api/privacy/requests"))).await;
    assert_eq!(queue["requests"][0]["overdue"], false);
    let id = request["id"].as_str().unwrap();
    let (status, closed) = call(admin.post(server.url(&format!("/api/privacy/requests/{id}/close"))).json(&json!({"done": true, "response": "Corrected."}))).await;
    assert_eq!((status, closed["status"].as_str(), closed["handled_by"].is_string()), (200, Some("done"), true));
    let (status, _) = call(member.post(server.url(&format!("/api/privacy/requests/{id}/close"))).json(&json!({"done": true, "response": "x"}))).await;
    assert_eq!(status, 403);

    // The audit log names the administrative accesses.
    call(admin.get(server.url(&format!("/api/users/{max_id}")))).await;
    // Reads are audited without delaying the answer, so the entry may land a moment later.
    let wanted = ["view_user", "handle_privacy_request", "view_privacy_requests"];
    let mut actions: Vec<String> = Vec::new();
    for _ in 0..100 {
        let (status, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
        assert_eq!(status, 200);
        actions = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        if wanted.iter().all(|w| actions.iter().any(|a| a == w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for action in wanted {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    assert_eq!(call(member.get(server.url("/api/privacy/audit"))).await.0, 403);
    server.stop().await;
}

#[tokio::test]
async fn legal_texts_are_public_versioned_and_admin_edited() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let anonymous = Running::client();
    let (status, legal) = call(anonymous.get(server.url("/api/legal"))).await;
    assert_eq!(status, 200);
    assert_eq!((legal["privacy"]["markdown"].clone(), legal["privacy"]["version"].clone()), (json!(null), json!(0)));
    let text = "# Privacy\n\nACME GmbH, Musterstr. 1, is the controller. <script>alert(1)</script>";
    let (status, saved) = call(admin.put(server.url("/api/legal")).json(&json!({"privacy_markdown": text}))).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["privacy"]["version"], 1);
    let (_, legal) = call(anonymous.get(server.url("/api/legal"))).await;
    assert_eq!(legal["privacy"]["markdown"], text, "stored as written; the client renders it safely");
    assert_eq!(legal["terms"]["markdown"], json!(null));
    let (_, back) = call(admin.put(server.url("/api/legal")).json(&json!({"privacy_markdown": null}))).await;
    assert_eq!((back["privacy"]["markdown"].clone(), back["privacy"]["version"].clone()), (json!(null), json!(2)));
    let huge = "x".repeat(100_001);
    let (status, err) = call(admin.put(server.url("/api/legal")).json(&json!({"terms_markdown": huge}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("terms_markdown")));
    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Mia", "email": "mia@example.org", "password": "mia password 1"}))).await;
    let mia = Running::client();
    call(mia.post(server.url("/api/auth/login")).json(&json!({"email": "mia@example.org", "password": "mia password 1"}))).await;
    assert_eq!(call(mia.put(server.url("/api/legal")).json(&json!({"terms_markdown": "mine"}))).await.0, 403);
    server.stop().await;
}

#[tokio::test]
async fn consent_is_recorded_confirmed_withdrawn_and_exported() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, legal) = call(admin.get(server.url("/api/legal"))).await;
    assert_eq!(legal["consent"]["version"], 0);
    let (status, saved) = call(admin.put(server.url("/api/legal")).json(&json!({"consent_markdown": "We record nothing of your call."}))).await;
    assert_eq!((status, saved["consent"]["version"].as_u64()), (200, Some(1)));

    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Mia", "email": "mia@example.org", "password": "mia password 1"}))).await;
    let mia = Running::client();
    call(mia.post(server.url("/api/auth/login")).json(&json!({"email": "mia@example.org", "password": "mia password 1"}))).await;
    let (status, err) = call(mia.post(server.url("/api/consents")).json(&json!({"template_version": 0, "camera": true, "microphone": true}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("template_version")), "an outdated text must be read again");
    let (status, consent) = call(mia.post(server.url("/api/consents")).json(&json!({"template_version": 1, "camera": true, "microphone": false}))).await;
    assert_eq!(status, 201, "{consent}");
    assert_eq!((consent["camera"].clone(), consent["microphone"].clone()), (json!(true), json!(false)));

    // The organisation (here: its admin) receives a confirmation.
    let outbox = server.data_dir.join("outbox");
    let mails: Vec<String> = std::fs::read_dir(&outbox).unwrap().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap()).collect();
    assert!(mails.iter().any(|m| m.contains("To: ada@example.org") && m.contains("Consent confirmation")), "{mails:?}");

    let id = consent["id"].as_str().unwrap();
    let (status, withdrawn) = call(mia.post(server.url(&format!("/api/consents/{id}/withdraw"))).json(&json!({}))).await;
    assert_eq!((status, withdrawn["withdrawn_at"].is_i64()), (200, true));
    assert_eq!(call(mia.post(server.url(&format!("/api/consents/{id}/withdraw"))).json(&json!({}))).await.0, 404, "only once");
    assert_eq!(call(admin.post(server.url(&format!("/api/consents/{id}/withdraw"))).json(&json!({}))).await.0, 404, "only by its subject");
    let (_, export) = call(mia.get(server.url("/api/me/export"))).await;
    assert_eq!(export["consents"][0]["id"], consent["id"]);
    server.stop().await;
}

#[tokio::test]
async fn erasure_needs_the_right_is_idempotent_and_ends_a_running_call() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, max) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    let (_, zoe) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Zoe", "email": "zoe@example.org", "password": "zoe password 1"}))).await;
    let max_id = max["id"].as_str().unwrap().to_owned();
    let zoe_client = Running::client();
    call(zoe_client.post(server.url("/api/auth/login")).json(&json!({"email": "zoe@example.org", "password": "zoe password 1"}))).await;
    let (status, _) = call(zoe_client.delete(server.url(&format!("/api/users/{max_id}"))).json(&json!({}))).await;
    assert_eq!(status, 403, "members may not erase others");
    assert_eq!(call(zoe_client.get(server.url("/api/me/export"))).await.1["profile"]["id"], zoe["id"], "an export is always one's own");

    // Max and Zoe are in a room together when Max is erased: Zoe's side of the call ends cleanly.
    let (_, room) = call(admin.post(server.url("/api/rooms")).json(&json!({"name": "Room"}))).await;
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;
    let zoe_cookie = cookie(&server, "zoe@example.org", "zoe password 1").await;
    let mut max_socket = connect(&server, Some(&max_cookie), None).await.unwrap();
    next(&mut max_socket, "welcome").await;
    let mut zoe_socket = connect(&server, Some(&zoe_cookie), None).await.unwrap();
    next(&mut zoe_socket, "welcome").await;
    send(&mut max_socket, json!({"type": "join_room", "room_id": room["id"]})).await;
    next(&mut max_socket, "joined").await;
    send(&mut zoe_socket, json!({"type": "join_room", "room_id": room["id"]})).await;
    next(&mut zoe_socket, "joined").await;
    let (status, _) = call(admin.delete(server.url(&format!("/api/users/{max_id}"))).json(&json!({}))).await;
    assert_eq!(status, 204);
    let left = next(&mut zoe_socket, "peer_left").await;
    assert_eq!(left["room_id"], room["id"]);
    let (status, _) = call(admin.delete(server.url(&format!("/api/users/{max_id}"))).json(&json!({}))).await;
    assert_eq!(status, 204, "a second erasure changes nothing and is not an error");
    server.stop().await;
}

/// The `list_users` entries of the audit log.
async fn listings(server: &Running, admin: &reqwest::Client) -> usize {
    let (_, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
    audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "list_users").count()
}

#[tokio::test]
async fn an_administrators_directory_listing_is_audited_once_per_session() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    for _ in 0..3 {
        assert_eq!(call(admin.get(server.url("/api/users"))).await.0, 200);
    }
    // A second sign-in of the same administrator is another session.
    let again = Running::client();
    let (status, _) = call(again.post(server.url("/api/auth/login")).json(&serde_json::json!({"email": "ada@example.org", "password": "ada password 1"}))).await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        assert_eq!(call(again.get(server.url("/api/users?q=ada"))).await.0, 200);
    }
    // The entries are written in the background: wait for two, then see that no more come.
    while listings(&server, &admin).await < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(listings(&server, &admin).await, 2, "one listing per session");
    }
    server.stop().await;
}
