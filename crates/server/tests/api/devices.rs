//! The device registry of end-to-end encrypted messaging over HTTP: a member registers the
//! public keys of a browser profile, colleagues fetch them, only the owner removes them, and
//! wrong values get clear errors. (Other organisations and erasure: office tests.)

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::live::{connect, cookie, next, next_any, send};
use crate::{Running, call, now_ms};

/// A device body for `user_id`: fresh Ed25519 keys, any 32-byte HPKE key, the self-signature.
fn device(user_id: &str, name: &str) -> Value {
    let pair = Ed25519KeyPair::generate().unwrap();
    let mut hpke = [0u8; 32];
    aws_lc_rs::rand::fill(&mut hpke).unwrap();
    let signature = pair.sign(&[b"bureau-device-v1".as_slice(), user_id.as_bytes(), &hpke].concat());
    json!({
        "name": name,
        "hpke_public": URL_SAFE_NO_PAD.encode(hpke),
        "sign_public": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        "self_signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
    })
}

#[tokio::test]
async fn a_member_registers_devices_that_colleagues_can_encrypt_to() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (status, bob) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Bob", "email": "bob@example.org", "password": "member password 1"}))).await;
    assert_eq!(status, 201);
    let bob_id = bob["id"].as_str().unwrap().to_owned();
    let bob_client = Running::client();
    call(bob_client.post(server.url("/api/auth/login")).json(&json!({"email": "bob@example.org", "password": "member password 1"}))).await;

    let body = device(&bob_id, "Laptop");
    let (status, created) = call(bob_client.post(server.url("/api/me/devices")).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["sign_public"].clone(), created["name"].as_str()), (body["sign_public"].clone(), Some("Laptop")));
    let (status, again) = call(bob_client.post(server.url("/api/me/devices")).json(&body)).await;
    assert_eq!(status, 409, "the same keys twice: {again}");

    // Colleagues fetch Bob's keys; nobody without a session does.
    let (status, seen) = call(admin.get(server.url(&format!("/api/users/{bob_id}/devices")))).await;
    assert_eq!(status, 200);
    assert_eq!(seen["devices"], json!([created.clone()]));
    let (status, _) = call(Running::client().get(server.url(&format!("/api/users/{bob_id}/devices")))).await;
    assert_eq!(status, 401);

    // Wrong values: named fields.
    let mut bad_key = device(&bob_id, "Phone");
    bad_key["hpke_public"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    let mut forged = device(&bob_id, "Phone");
    forged["self_signature"] = device(&bob_id, "Other")["self_signature"].clone();
    for (body, field) in [(bad_key, "hpke_public"), (forged, "self_signature"), (device(&bob_id, ""), "name"), (device("someone-else", "Phone"), "self_signature")] {
        let (status, err) = call(bob_client.post(server.url("/api/me/devices")).json(&body)).await;
        assert_eq!((status, err["field"].as_str()), (422, Some(field)), "{err}");
    }
    let (status, _) = call(bob_client.post(server.url("/api/me/devices")).json(&json!({"name": "x"}))).await;
    assert_eq!(status, 422, "missing keys");

    // Only Bob removes his device.
    let id = created["id"].as_str().unwrap();
    let (status, _) = call(admin.delete(server.url(&format!("/api/me/devices/{id}"))).json(&json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = call(bob_client.delete(server.url(&format!("/api/me/devices/{id}"))).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (_, mine) = call(bob_client.get(server.url("/api/me/devices"))).await;
    assert_eq!(mine["devices"], json!([]));
}

/// A registered device whose signing key the test keeps.
struct Device {
    id: String,
    pair: Ed25519KeyPair,
}

async fn register(server: &Running, client: &reqwest::Client, user_id: &str) -> Device {
    let pair = Ed25519KeyPair::generate().unwrap();
    let mut hpke = [0u8; 32];
    aws_lc_rs::rand::fill(&mut hpke).unwrap();
    let signature = pair.sign(&[b"bureau-device-v1".as_slice(), user_id.as_bytes(), &hpke].concat());
    let body = json!({
        "name": "Browser",
        "hpke_public": URL_SAFE_NO_PAD.encode(hpke),
        "sign_public": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        "self_signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
    });
    let (status, created) = call(client.post(server.url("/api/me/devices")).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    Device { id: created["id"].as_str().unwrap().to_owned(), pair }
}

/// The `Bureau-Device` proof of `device` for `method` and `path`, made at `time`.
fn proof(device: &Device, method: &str, path: &str, time: i64) -> String {
    let signed = format!("bureau-device-auth-v1\n{}\n{method}\n{path}\n{time}", device.id);
    format!("{} {time} {}", device.id, URL_SAFE_NO_PAD.encode(device.pair.sign(signed.as_bytes()).as_ref()))
}

#[tokio::test]
async fn a_message_waits_for_an_offline_device_until_that_device_fetched_it() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (_, me) = call(admin.get(server.url("/api/me"))).await;
    let ada_id = me["id"].as_str().unwrap().to_owned();
    let (_, bob) = call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Bob", "email": "bob@example.org", "password": "member password 1"}))).await;
    let bob_id = bob["id"].as_str().unwrap().to_owned();
    let bob_client = Running::client();
    call(bob_client.post(server.url("/api/auth/login")).json(&json!({"email": "bob@example.org", "password": "member password 1"}))).await;
    let ada_device = register(&server, &admin, &ada_id).await;
    let bob_device = register(&server, &bob_client, &bob_id).await;

    // Ada's browser made the header, signed it, and sealed the message key to Bob's device;
    // here the body and the sealed key are random bytes: the server cannot tell the difference.
    let header = |sender: &str, device: &str, recipients: &[&str]| {
        serde_json::to_vec(&json!({"v": 1, "message_id": "m1", "conversation_id": "c1", "sender_user": sender, "sender_device": device,
            "counter": 1, "sent_at": now_ms(), "recipients": recipients, "body_digest": "…"})).unwrap()
    };
    let mut body = vec![0u8; 3000];
    aws_lc_rs::rand::fill(&mut body).unwrap();
    let message = |header: &[u8], signer: &Ed25519KeyPair, keys: Value| {
        json!({"header": URL_SAFE_NO_PAD.encode(header), "signature": URL_SAFE_NO_PAD.encode(signer.sign(header).as_ref()), "body": URL_SAFE_NO_PAD.encode(&body), "keys": keys})
    };
    let good = header(&ada_id, &ada_device.id, &[&bob_device.id]);
    let keys = json!({ bob_device.id.clone(): URL_SAFE_NO_PAD.encode([9u8; 80]) });

    // What the server can check without keys, it checks.
    for (bad, field) in [
        (message(&good, &bob_device.pair, keys.clone()), "signature"),
        (message(&header(&bob_id, &ada_device.id, &[&bob_device.id]), &ada_device.pair, keys.clone()), "header"),
        (message(&header(&ada_id, &bob_device.id, &[&bob_device.id]), &bob_device.pair, keys.clone()), "header"),
        (message(&good, &ada_device.pair, json!({ ada_device.id.clone(): "AAAA" })), "keys"),
        (message(&header(&ada_id, &ada_device.id, &["no-such-device"]), &ada_device.pair, json!({"no-such-device": "AAAA"})), "keys"),
    ] {
        let (status, err) = call(admin.post(server.url("/api/messages")).json(&bad)).await;
        assert_eq!((status, err["field"].as_str()), (422, Some(field)), "{err}");
    }
    // Bob's open page is told that something waits (nothing of the message in the frame);
    // Ada's is not: none of her devices is a recipient.
    let mut bob_socket = connect(&server, Some(&cookie(&server, "bob@example.org", "member password 1").await), None).await.unwrap();
    let mut ada_socket = connect(&server, Some(&cookie(&server, "ada@example.org", "ada password 1").await), None).await.unwrap();
    next(&mut bob_socket, "welcome").await;
    next(&mut ada_socket, "welcome").await;
    let (status, queued) = call(admin.post(server.url("/api/messages")).json(&message(&good, &ada_device.pair, keys.clone()))).await;
    assert_eq!((status, queued["devices"].as_u64()), (201, Some(1)), "{queued}");
    assert_eq!(next(&mut bob_socket, "inbox").await, json!({"type": "inbox"}));
    // A ping sent after the message was queued: its pong comes after any `inbox` for Ada.
    send(&mut ada_socket, json!({"type": "ping"})).await;
    assert_eq!(next_any(&mut ada_socket, &["inbox", "pong"]).await["type"], "pong", "Ada's page is not told");

    // The ciphertext is sealed again at rest: its bytes are not in the data folder.
    let mut found = false;
    for entry in walk(&server.data_dir) {
        let bytes = std::fs::read(entry).unwrap();
        found |= bytes.windows(64).any(|w| w == &body[..64]);
    }
    assert!(!found, "the body is stored sealed");

    // Only Bob's device, proving itself, fetches its inbox.
    let inbox_path = format!("/api/me/devices/{}/inbox", bob_device.id);
    let fetch = async |client: &reqwest::Client, proof_header: Option<String>| {
        let request = client.get(server.url(&inbox_path));
        call(match proof_header { Some(p) => request.header("Bureau-Device", p), None => request }).await
    };
    assert_eq!(fetch(&bob_client, None).await.0, 403);
    assert_eq!(fetch(&bob_client, Some(proof(&bob_device, "GET", &inbox_path, now_ms() - 3_600_000))).await.0, 403, "an old proof");
    assert_eq!(fetch(&bob_client, Some(proof(&bob_device, "POST", &inbox_path, now_ms()))).await.0, 403, "a proof for another request");
    assert_eq!(fetch(&admin, Some(proof(&bob_device, "GET", &inbox_path, now_ms()))).await.0, 404, "Ada's session, Bob's device");
    let (status, inbox) = fetch(&bob_client, Some(proof(&bob_device, "GET", &inbox_path, now_ms()))).await;
    assert_eq!(status, 200, "{inbox}");
    let entry = &inbox["entries"][0];
    assert_eq!(URL_SAFE_NO_PAD.decode(entry["body"].as_str().unwrap()).unwrap(), body);
    assert_eq!(URL_SAFE_NO_PAD.decode(entry["header"].as_str().unwrap()).unwrap(), good);
    assert_eq!(entry["key"], keys[&bob_device.id]);

    // Acknowledged, it is gone from the server.
    let ack_path = format!("{inbox_path}/ack");
    let ack = |ids: Value| bob_client.post(server.url(&ack_path)).header("Bureau-Device", proof(&bob_device, "POST", &ack_path, now_ms())).json(&json!({"ids": ids}));
    let (status, removed) = call(ack(json!([entry["id"]]))).await;
    assert_eq!((status, removed["removed"].as_u64()), (200, Some(1)), "{removed}");
    assert_eq!(call(ack(json!([entry["id"]]))).await.1["removed"].as_u64(), Some(0));
    let (_, inbox) = fetch(&bob_client, Some(proof(&bob_device, "GET", &inbox_path, now_ms()))).await;
    assert_eq!(inbox["entries"], json!([]));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}
