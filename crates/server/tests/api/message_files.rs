//! Files of end-to-end encrypted messages over HTTP: the ciphertext goes up as the raw request
//! body, past the API's 1 MiB body limit and within the organisation's, and comes back byte for
//! byte to members of the organisation only; the uploader deletes it. (Guests, quotas, the
//! hourly limit, retention and erasure: office tests.)

use std::sync::Arc;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Running, call, member, now_ms};

const MIB: usize = 1024 * 1024;

/// Bytes standing in for a browser's ciphertext.
fn ciphertext(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

fn upload(server: &Running, client: &reqwest::Client, body: Vec<u8>) -> reqwest::RequestBuilder {
    client.post(server.url("/api/message-files")).header("content-type", "application/octet-stream").body(body)
}

/// Adds organisation "globex" with an administrator to the server's database (the API makes
/// only the first organisation) and signs them in.
async fn globex_admin(server: &Running) -> reqwest::Client {
    let dir = bureau_server::data::DataDir::create(&server.data_dir).unwrap().with_database(server.database_url.as_deref());
    let (office, store) = dir.open(bureau_office::Policy::default(), Arc::new(bureau_office::SystemClock)).await.unwrap();
    office.accounts.create_org("globex", "Globex", bureau_office::ProfileMode::Entry).await.unwrap();
    let user = bureau_office::NewUser {
        name: "Gus Globex".into(),
        email: "gus@globex.example".into(),
        role: bureau_office::Role::Admin,
        rights: vec![],
        password: Some("globex password 1".into()),
        must_change_password: None,
    };
    office.accounts.create_user_in(Some("globex"), user).await.unwrap();
    store.close().await;
    let client = Running::client();
    let (status, _) = call(client.post(server.url("/api/auth/login")).json(&json!({"email": "gus@globex.example", "password": "globex password 1"}))).await;
    assert_eq!(status, 200);
    client
}

/// Sends a chunked body (no `Content-Length`) of `len` bytes in pieces over HTTP/1.1 with the
/// session `cookie`; the status line of the answer.
async fn chunked_upload(server: &Running, cookie: &str, len: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /api/message-files HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let piece = ciphertext(64 * 1024);
    let mut sent = 0;
    while sent < len {
        let part = &piece[..(len - sent).min(piece.len())];
        // The server may answer (and stop reading) once the limit is passed.
        if stream.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await.is_err() || stream.write_all(part).await.is_err() || stream.write_all(b"\r\n").await.is_err() {
            break;
        }
        sent += part.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_file_goes_up_as_raw_bytes_and_comes_back_to_its_organisation_only() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (alice, _) = member(&server, &admin, "Alice", "alice@example.org").await;

    // 3 MiB: past the API's 1 MiB body limit, within the organisation's 25 MiB.
    let file = ciphertext(3 * MIB);
    let (status, created) = call(upload(&server, &alice, file.clone())).await;
    assert_eq!(status, 201, "{created}");
    let keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["expires_at", "id", "size"], "{created}");
    assert_eq!(created["size"], 3 * MIB);
    let expires_at = created["expires_at"].as_i64().unwrap();
    assert!((expires_at - now_ms() - 30 * 24 * 3600 * 1000).abs() < 60_000, "kept 30 days: {created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let url = server.url(&format!("/api/message-files/{id}"));

    // A colleague gets the same bytes.
    let response = admin.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    assert!(response.bytes().await.unwrap() == file, "the bytes uploaded");

    // Another organisation's administrator finds nothing.
    let gus = globex_admin(&server).await;
    let (status, err) = call(gus.get(&url)).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")), "{err}");
    let (status, _) = call(gus.delete(&url).json(&json!({}))).await;
    assert_eq!(status, 404);

    // Wrong bodies: none at all, or not raw bytes.
    let (status, err) = call(upload(&server, &alice, Vec::new())).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")), "{err}");
    let (status, err) = call(alice.post(server.url("/api/message-files")).json(&json!({"file": "x"}))).await;
    assert_eq!((status, err["code"].as_str()), (415, Some("unsupported_media_type")), "{err}");

    // An administrator lowers the limit to 1 MiB: a larger body is refused with the limit
    // named, whether its length is declared or not.
    let (status, org) = call(admin.patch(server.url("/api/org")).json(&json!({"messages_max_file_mb": 1}))).await;
    assert_eq!((status, org["messages_max_file_mb"].as_u64()), (200, Some(1)), "{org}");
    let (status, org) = call(alice.get(server.url("/api/org"))).await;
    assert_eq!((status, org["messages_max_file_mb"].as_u64()), (200, Some(1)), "members see it: {org}");
    let (status, err) = call(admin.patch(server.url("/api/org")).json(&json!({"messages_max_file_mb": 101}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("messages_max_file_mb")), "{err}");
    let (status, err) = call(upload(&server, &alice, ciphertext(MIB + 1))).await;
    assert_eq!((status, err["code"].as_str()), (413, Some("file_too_large")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("1 MiB"), "{err}");
    let cookie = crate::live::cookie(&server, "alice@example.org", "member password 1").await;
    assert!(chunked_upload(&server, &cookie, 2 * MIB).await.starts_with("HTTP/1.1 413"), "read no further than the limit");
    assert!(chunked_upload(&server, &cookie, MIB).await.starts_with("HTTP/1.1 201"), "a chunked body within the limit");

    // Only the uploader deletes it; then it is gone.
    let (status, _) = call(admin.delete(&url).json(&json!({}))).await;
    assert_eq!(status, 404, "not even an administrator");
    let (status, body) = call(alice.delete(&url).json(&json!({}))).await;
    assert_eq!((status, body), (204, serde_json::Value::Null));
    let (status, _) = call(admin.get(&url)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_node_moves_eight_files_at_once_and_asks_the_ninth_to_come_back() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (alice, _) = member(&server, &admin, "Alice", "alice@example.org").await;
    let cookie = crate::live::cookie(&server, "alice@example.org", "member password 1").await;
    let (status, created) = call(upload(&server, &alice, ciphertext(1024))).await;
    assert_eq!(status, 201, "{created}");
    let url = server.url(&format!("/api/message-files/{}", created["id"].as_str().unwrap()));

    // Nine uploads that declare a megabyte and send a little of it, and nothing else moves a
    // file: eight hold a place each (they never answer, their bodies never end), and the ninth
    // to come to the door — whichever it is — is told to come back. (Eight: MAX_AT_ONCE of
    // crates/server/src/routes/message_files.rs.)
    let mut held = Vec::new();
    for _ in 0..9 {
        let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
        let head = format!("POST /api/message-files HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/octet-stream\r\nContent-Length: {MIB}\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&ciphertext(1024)).await.unwrap();
        held.push(stream);
    }
    let mut refused = None;
    for _ in 0..6000 {
        for (i, stream) in held.iter_mut().enumerate() {
            let mut answer = [0u8; 1024];
            if let Ok(n) = stream.try_read(&mut answer) {
                refused = Some((i, String::from_utf8_lossy(&answer[..n]).to_lowercase()));
                break;
            }
        }
        if refused.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (index, answer) = refused.expect("one of nine uploads is refused");
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 5"), "{answer}");
    assert!(answer.contains(r#""code":"busy""#), "{answer}");
    held.remove(index);
    // While the eight run, a download is refused too.
    let (status, err) = call(alice.get(&url)).await;
    assert_eq!((status, err["code"].as_str()), (503, Some("busy")), "{err}");

    // One client goes away: its place is free again.
    drop(held.pop());
    let mut status = 0;
    for _ in 0..3000 {
        status = alice.get(&url).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 200, "a place freed by a client that left");
}
