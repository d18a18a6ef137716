//! Setup link, sign-in, sessions, the directory and the operations endpoints over HTTP.

use serde_json::json;

use crate::{Running, call};

#[tokio::test]
async fn setup_sign_in_directory_and_logout() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (status, me) = call(admin.get(server.url("/api/me"))).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")));

    // The admin creates a member, who signs in and sees the directory but cannot administer.
    let new_member = json!({"must_change_password": false, "name": "Max Member", "email": "Max@Example.org", "password": "max password 1"});
    let (status, max) = call(admin.post(server.url("/api/users")).json(&new_member)).await;
    assert_eq!(status, 201, "{max}");
    assert_eq!(max["email"], "max@example.org");

    let member = Running::client();
    let (status, _) = call(member.post(server.url("/api/auth/login")).json(&json!({"email": "max@example.org", "password": "max password 1"}))).await;
    assert_eq!(status, 200);
    let (status, list) = call(member.get(server.url("/api/users?q=ada"))).await;
    assert_eq!(status, 200);
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
    let (status, err) = call(member.post(server.url("/api/users")).json(&json!({"name": "X", "email": "x@example.org"}))).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));

    // Own profile edit; extended fields are refused in entry mode, accepted after the switch.
    let (status, err) = call(member.patch(server.url("/api/me")).json(&json!({"device": "Laptop"}))).await;
    assert_eq!((status, err["code"].as_str(), err["field"].as_str()), (422, Some("field_disabled"), Some("device")));
    let (status, _) = call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    assert_eq!(status, 200);
    let (status, me) = call(member.patch(server.url("/api/me")).json(&json!({"device": "Laptop", "name": "Max M."}))).await;
    assert_eq!((status, me["device"].as_str(), me["name"].as_str()), (200, Some("Laptop"), Some("Max M.")));

    // A picture: only real images, readable by colleagues, removable.
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let (status, _) = call(member.put(server.url("/api/me/picture")).json(&json!({"data_url": png}))).await;
    assert_eq!(status, 204);
    let (status, err) = call(member.put(server.url("/api/me/picture")).json(&json!({"data_url": "data:image/png;base64,PHNjcmlwdD4="}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("data_url")));
    let max_id = max["id"].as_str().unwrap();
    let picture = admin.get(server.url(&format!("/api/users/{max_id}/picture"))).send().await.unwrap();
    assert_eq!(picture.headers()["content-type"], "image/png");
    assert!(picture.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let (_, listed) = call(admin.get(server.url("/api/users?q=max"))).await;
    assert_eq!(listed["users"][0]["has_picture"], true);
    let (status, _) = call(member.delete(server.url("/api/me/picture")).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (status, _) = call(admin.get(server.url(&format!("/api/users/{max_id}/picture")))).await;
    assert_eq!(status, 404);

    // The sign-in is in the access log with the browser.
    let (_, log) = call(member.get(server.url("/api/me/access-log")).header("user-agent", "x")).await;
    assert_eq!(log["entries"][0]["event"], "login");
    assert_eq!(log["entries"][0]["ip"], "127.0.0.1");

    // Deactivation ends the member's session at once.
    let id = max["id"].as_str().unwrap();
    let (status, _) = call(admin.patch(server.url(&format!("/api/users/{id}"))).json(&json!({"active": false}))).await;
    assert_eq!(status, 200);
    let (status, _) = call(member.get(server.url("/api/me"))).await;
    assert_eq!(status, 401);

    // Logout ends the admin's session.
    let (status, _) = call(admin.post(server.url("/api/auth/logout")).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (status, err) = call(admin.get(server.url("/api/me"))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthenticated")));
    server.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_generic_and_rate_limited() {
    let mut server = Running::start().await;
    let _admin = server.admin().await;
    let client = Running::client();
    let mut codes = vec![];
    for email in ["ada@example.org", "nobody@example.org"] {
        let (status, err) = call(client.post(server.url("/api/auth/login")).json(&json!({"email": email, "password": "wrong password"}))).await;
        codes.push((status, err["message"].clone()));
    }
    assert_eq!(codes[0], codes[1], "same answer for a wrong password and an unknown account");
    assert_eq!(codes[0].0, 401);
    for _ in 0..10 {
        call(client.post(server.url("/api/auth/login")).json(&json!({"email": "ada@example.org", "password": "wrong password"}))).await;
    }
    let response = client
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "ada@example.org", "password": "ada password 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let metrics = server.metrics_text().await;
    let limited = metrics.lines().find(|l| l.starts_with("bureau_login_attempts_total{outcome=\"rate_limited\"}")).unwrap();
    assert!(!limited.ends_with(" 0"), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn operations_endpoints_and_the_web_client() {
    let mut server = Running::start().await;
    assert_eq!(reqwest::get(server.url("/healthz")).await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(reqwest::get(server.url("/readyz")).await.unwrap().status(), 200);
    let (status, doc) = call(Running::client().get(server.url("/api/openapi.json"))).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/auth/login", "/api/me", "/api/users", "/api/users/{id}", "/api/org"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let page = reqwest::get(server.url("/directory")).await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(reqwest::get(server.url("/nope.js")).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(server.url("/..%2fCargo.toml")).await.unwrap().status(), 404);
    let (status, err) = call(Running::client().get(server.url("/api/nothing-here"))).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    // Metrics only on their own listener, never on the public ones.
    for public in [server.url("/metrics"), format!("https://{}/metrics", server.https)] {
        let response = Running::client_trusting(&server).get(&public).send().await.unwrap();
        assert_eq!(response.status(), 404, "{public}");
        assert!(!response.text().await.unwrap().contains("bureau_"), "{public}");
    }
    assert!(server.metrics_text().await.contains("bureau_live_connections "));

    // After shutdown the port no longer answers.
    let url = server.url("/healthz");
    server.stop().await;
    assert!(reqwest::get(url).await.is_err());
}

#[tokio::test]
async fn the_setup_link_works_once() {
    let mut server = Running::start().await;
    let token = server.setup_token.clone().unwrap();
    let (_, valid) = call(Running::client().post(server.url("/api/setup/check")).json(&json!({"token": token}))).await;
    assert_eq!(valid["valid"], true);
    server.admin().await;
    let (_, valid) = call(Running::client().post(server.url("/api/setup/check")).json(&json!({"token": token}))).await;
    assert_eq!(valid["valid"], false);
    let body = json!({"token": token, "name": "Eve", "email": "eve@example.org", "password": "eve password 1"});
    let (status, err) = call(Running::client().post(server.url("/api/setup")).json(&body)).await;
    assert_eq!((status, err["code"].as_str()), (410, Some("invalid_token")));
    server.stop().await;
}

#[test]
fn the_published_export_schema_is_generated_from_the_code() {
    let generated = serde_json::to_string_pretty(&bureau_server::export_schema()).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/export.schema.json");
    if std::env::var_os("BUREAU_WRITE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(path).unwrap_or_default();
    assert!(published == generated, "docs/export.schema.json is out of date: run this test with BUREAU_WRITE_SCHEMA=1");
}

#[tokio::test]
async fn a_sign_in_marks_the_browser_as_a_known_device_for_the_sign_in_endpoints_only() {
    let mut server = Running::start().await;
    server.admin().await;
    let response = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "ada@example.org", "password": "ada password 1"}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()).collect();
    assert!(cookies[0].starts_with("bureau_session="), "{cookies:?}");
    let device = cookies.iter().find(|c| c.starts_with("bureau_device=")).expect("a device cookie");
    for attribute in ["Path=/api/auth", "HttpOnly", "SameSite=Strict", "Max-Age=31536000"] {
        assert!(device.contains(attribute), "{device}");
    }
    // With the device cookie, a sign-in from the same browser goes through while the account is
    // held for new devices (fifty failures from five addresses, through a trusted proxy).
    server.stop().await;
    let mut server = Running::start_with(&[("BUREAU_TRUSTED_PROXIES", "127.0.0.1".into())]).await;
    server.admin().await;
    let login = |ip: String, password: &'static str, device: Option<String>| {
        let mut request = reqwest::Client::new().post(server.url("/api/auth/login")).header("x-forwarded-for", ip);
        if let Some(device) = device {
            request = request.header("cookie", device);
        }
        call(request.json(&json!({"email": "ada@example.org", "password": password})))
    };
    let (status, _) = login("192.0.2.1".into(), "ada password 1", None).await;
    assert_eq!(status, 200);
    let response = reqwest::Client::new().post(server.url("/api/auth/login")).header("x-forwarded-for", "192.0.2.1").json(&json!({"email": "ada@example.org", "password": "ada password 1"})).send().await.unwrap();
    let device = response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned()).find(|c| c.starts_with("bureau_device=")).unwrap();
    for i in 0..50 {
        let (status, _) = login(format!("198.51.100.{}", i % 5), "wrong password", None).await;
        assert_eq!(status, 401);
    }
    let (status, err) = login("203.0.113.7".into(), "ada password 1", None).await;
    assert_eq!((status, err["code"].as_str()), (429, Some("rate_limited")), "a new device waits");
    let (status, _) = login("203.0.113.8".into(), "ada password 1", Some(device)).await;
    assert_eq!(status, 200, "the known device signs in");
    server.stop().await;
}

#[tokio::test]
async fn a_user_given_a_password_by_an_administrator_chooses_their_own_before_anything_else() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (status, max) = call(admin.post(server.url("/api/users")).json(&serde_json::json!({"name": "Max", "email": "max@example.org", "password": "initial password 1"}))).await;
    assert_eq!((status, max["must_change_password"].as_bool()), (201, Some(true)), "{max}");
    let max_id = max["id"].as_str().unwrap().to_owned();

    let client = Running::client();
    let (status, _) = call(client.post(server.url("/api/auth/login")).json(&serde_json::json!({"email": "max@example.org", "password": "initial password 1"}))).await;
    assert_eq!(status, 200);
    // The session serves who Max is and the change, nothing else (not the live office either).
    let (status, me) = call(client.get(server.url("/api/me"))).await;
    assert_eq!((status, me["must_change_password"].as_bool()), (200, Some(true)));
    assert_eq!(call(client.get(server.url("/api/org"))).await.0, 200);
    for path in ["/api/users", "/api/rooms", "/api/ws", "/api/me/export"] {
        let (status, err) = call(client.get(server.url(path))).await;
        assert_eq!((status, err["code"].as_str()), (403, Some("password_change_required")), "{path}");
    }
    let (status, err) = call(client.post(server.url("/api/me/password")).json(&serde_json::json!({"current_password": "wrong password 1", "password": "my own password 1"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("current_password")), "{err}");
    let (status, err) = call(client.post(server.url("/api/me/password")).json(&serde_json::json!({"current_password": "initial password 1", "password": "short"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("password")), "{err}");
    let (status, err) = call(client.post(server.url("/api/me/password")).json(&serde_json::json!({"current_password": "initial password 1", "password": "initial password 1"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("password")), "the same again: {err}");
    // A second session of Max, signed in before the change, ends with it.
    let other = Running::client();
    assert_eq!(call(other.post(server.url("/api/auth/login")).json(&serde_json::json!({"email": "max@example.org", "password": "initial password 1"}))).await.0, 200);
    let (status, _) = call(client.post(server.url("/api/me/password")).json(&serde_json::json!({"current_password": "initial password 1", "password": "my own password 1"}))).await;
    assert_eq!(status, 204);
    let (status, me) = call(client.get(server.url("/api/me"))).await;
    assert_eq!((status, me.get("must_change_password")), (200, None), "{me}");
    assert_eq!(call(client.get(server.url("/api/users"))).await.0, 200, "the session that changed it goes on");
    assert_eq!(call(other.get(server.url("/api/me"))).await.0, 401, "the other session ended");
    let (status, _) = call(Running::client().post(server.url("/api/auth/login")).json(&serde_json::json!({"email": "max@example.org", "password": "initial password 1"}))).await;
    assert_eq!(status, 401, "the old password is gone");

    // Max forgot it: the administrator sets one, which ends Max's sessions and must be changed.
    let (member, _) = crate::member(&server, &admin, "Mia", "mia@example.org").await;
    let (status, _) = call(member.put(server.url(&format!("/api/users/{max_id}/password"))).json(&serde_json::json!({"password": "reset password 1"}))).await;
    assert_eq!(status, 403, "members do not set passwords");
    let (status, _) = call(admin.put(server.url(&format!("/api/users/{max_id}/password"))).json(&serde_json::json!({"password": "reset password 1"}))).await;
    assert_eq!(status, 204);
    assert_eq!(call(client.get(server.url("/api/me"))).await.0, 401, "Max's session ended");
    let again = Running::client();
    assert_eq!(call(again.post(server.url("/api/auth/login")).json(&serde_json::json!({"email": "max@example.org", "password": "reset password 1"}))).await.0, 200);
    assert_eq!(call(again.get(server.url("/api/rooms"))).await.0, 403);
    let (_, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "set_password" && e["target_id"] == max_id.as_str()), "{audit}");
    server.stop().await;
}
