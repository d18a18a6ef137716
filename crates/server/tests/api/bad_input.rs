//! Hostile and malformed requests get clear errors and the server keeps serving.

use serde_json::json;

use crate::{Running, call};

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let users = server.url("/api/users");
    let json_body = |body: &str| admin.post(&users).header("content-type", "application/json").body(body.to_owned());

    let (status, err) = call(json_body("{\"name\": ")).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("bad_request")));
    let (status, err) = call(json_body("{\"name\": 5, \"email\": \"a@b.de\"}")).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")));
    let (status, err) = call(json_body("{\"name\": \"A\", \"email\": \"a@b.de\", \"is_god\": true}")).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")), "unknown fields are refused");
    let (status, err) = call(admin.post(&users).json(&json!({"name": "A", "email": "not-an-email"}))).await;
    assert_eq!((status, err["code"].as_str(), err["field"].as_str()), (422, Some("invalid"), Some("email")));
    let (status, err) = call(admin.post(&users).body("{}")).await;
    assert_eq!((status, err["code"].as_str()), (415, Some("unsupported_media_type")));
    let huge = format!("{{\"name\": \"{}\", \"email\": \"a@b.de\"}}", "x".repeat(2 * 1024 * 1024));
    let (status, err) = call(json_body(&huge)).await;
    assert_eq!((status, err["code"].as_str()), (413, Some("payload_too_large")));
    let (status, err) = call(admin.post(&users).json(&json!({"name": "A", "email": "ada@example.org"}))).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("conflict")));

    // Cross-site requests are refused even with a valid session.
    let (status, err) = call(admin.post(&users).header("origin", "https://evil.example").json(&json!({"name": "A", "email": "c@d.de"}))).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("cross_origin")));
    let (status, _) = call(admin.post(&users).header("sec-fetch-site", "cross-site").json(&json!({"name": "A", "email": "c@d.de"}))).await;
    assert_eq!(status, 403);

    // Missing and forged sessions.
    let anonymous = Running::client();
    let (status, err) = call(anonymous.get(server.url("/api/me"))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthenticated")));
    let (status, _) = call(anonymous.get(server.url("/api/me")).header("cookie", "bureau_session=forged")).await;
    assert_eq!(status, 401);
    let long = format!("bureau_session={}", "A".repeat(10_000));
    let (status, _) = call(anonymous.get(server.url("/api/me")).header("cookie", long)).await;
    assert!(status == 401 || status == 431, "{status}");

    // Nothing above changed the stored data, and the server still serves.
    let (status, list) = call(admin.get(server.url("/api/users"))).await;
    assert_eq!(status, 200);
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_master_key_that_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut first = Running::start_node(&data, &[]).await;
    first.stop().await;
    let key = data.join("master.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "created private");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = Running::config(&data, &[], Running::shared_database(&data).await.as_deref());
    let Err(err) = bureau_server::Server::start(config).await else { panic!("a master key others can read must be refused") };
    let err = err.to_string();
    assert!(err.contains("chmod 600") && err.contains("master.key"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut again = Running::start_node(&data, &[]).await;
    again.stop().await;
}
