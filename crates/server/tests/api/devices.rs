//! The device registry of end-to-end encrypted messaging over HTTP: a member registers the
//! public keys of a browser profile, colleagues fetch them, only the owner removes them, and
//! wrong values get clear errors. (Other organisations and erasure: office tests.)

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::{Running, call};

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
    let (status, bob) = call(admin.post(server.url("/api/users")).json(&json!({"name": "Bob", "email": "bob@example.org", "password": "member password 1"}))).await;
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
