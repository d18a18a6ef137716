//! Signaling nodes hand out separate `bureau turn` nodes with credentials those nodes accept.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;

use crate::Running;
use crate::live::{connect, cookie, next};

#[tokio::test]
async fn without_the_embedded_server_the_configured_turn_nodes_come_with_credentials() {
    let secret = "shared with the turn nodes";
    let urls = "turn:turn1.example.org:3478?transport=udp, turns:turn1.example.org:443?transport=tcp";
    let mut server = Running::start_with(&[
        ("BUREAU_TURN_ENABLED", "false".to_owned()),
        ("BUREAU_TURN_AUTH_SECRET", secret.to_owned()),
        ("BUREAU_ICE_URLS", urls.to_owned()),
    ])
    .await;
    let _admin = server.admin().await;
    let ada = cookie(&server, "ada@example.org", "ada password 1").await;
    let mut socket = connect(&server, Some(&ada), None).await.unwrap();
    let welcome = next(&mut socket, "welcome").await;
    let ice = &welcome["ice_servers"][0];
    assert_eq!(ice["urls"], json!(["turn:turn1.example.org:3478?transport=udp", "turns:turn1.example.org:443?transport=tcp"]));
    let username = ice["username"].as_str().unwrap();
    assert!(username.ends_with(&format!(":{}", welcome["user_id"].as_str().unwrap())), "{username}");
    // What any TURN node with the same secret derives (coturn's REST scheme): base64(HMAC-SHA1).
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(ice["credential"].as_str().unwrap(), expected);
    server.stop().await;
}
