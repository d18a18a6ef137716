//! One member cannot take the node: connections beyond the per-user limit are closed with 4005
//! and never reach the hub, a colleague's presence stays bounded, ping floods are closed like
//! message floods, and every count returns to where it was once the sockets are gone.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::live::{close_frame, connect, cookie, next};
use crate::{Running, call};

/// The value of a metric line `name value` (or `name{labels} value`) of `/metrics`.
async fn metric(server: &Running, name: &str) -> u64 {
    let text = server.metrics_text().await;
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
        .parse()
        .unwrap()
}

/// Polls a metric until it has `want` (bounded in attempts: the sockets' tasks end shortly
/// after their close; no timing is asserted).
async fn settle(server: &Running, name: &str, want: u64) {
    for _ in 0..200 {
        if metric(server, name).await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(metric(server, name).await, want, "{name}");
}

#[tokio::test]
async fn connections_beyond_the_per_user_limit_are_refused_and_counts_return() {
    let mut server = Running::start_with(&[("BUREAU_SIGNAL_MAX_CONNECTIONS_PER_USER", "4".into())]).await;
    let admin = server.admin().await;
    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Max", "email": "max@example.org", "password": "max password 1"}))).await;
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let max_cookie = cookie(&server, "max@example.org", "max password 1").await;
    assert_eq!(metric(&server, "bureau_live_connections").await, 0);

    let mut tabs = Vec::new();
    for _ in 0..4 {
        let mut tab = connect(&server, Some(&ada_cookie), None).await.unwrap();
        next(&mut tab, "welcome").await;
        tabs.push(tab);
    }
    for _ in 0..40 {
        let mut extra = connect(&server, Some(&ada_cookie), None).await.unwrap();
        let (code, reason) = close_frame(&mut extra).await;
        assert_eq!((code, reason.as_str()), (4005, "too many connections: close another tab"));
    }
    assert_eq!(metric(&server, "bureau_live_connections_refused_total{limit=\"user\"}").await, 40);
    assert_eq!(metric(&server, "bureau_live_connections").await, 4);

    // A colleague still connects, and sees Ada with her four tabs, not forty-four.
    let mut max = connect(&server, Some(&max_cookie), None).await.unwrap();
    let welcome = next(&mut max, "welcome").await;
    let ada = welcome["presence"].as_array().unwrap().iter().find(|p| p["name"] == "Ada Admin").unwrap().clone();
    assert_eq!(ada["peers"].as_array().unwrap().len(), 4, "{ada}");
    assert_eq!(metric(&server, "bureau_live_connected_users").await, 2);

    // A ping flood is closed like a message flood.
    let mut flooding = tabs.pop().unwrap();
    let mut closed = None;
    for _ in 0..5000 {
        if flooding.send(Message::Ping(vec![1, 2, 3].into())).await.is_err() {
            break;
        }
        if let Ok(Some(Ok(Message::Close(Some(frame))))) = tokio::time::timeout(std::time::Duration::ZERO, flooding.next()).await {
            closed = Some(u16::from(frame.code));
            break;
        }
    }
    let code = match closed {
        Some(code) => code,
        None => close_frame(&mut flooding).await.0,
    };
    assert_eq!(code, u16::from(CloseCode::Library(4003)));

    // Every socket closed: the node's counts are back to the colleague alone.
    for mut tab in tabs {
        tab.close(None).await.unwrap();
    }
    settle(&server, "bureau_live_connections", 1).await;
    settle(&server, "bureau_live_connected_users", 1).await;
    // And Ada may connect again.
    let mut again = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut again, "welcome").await;
    server.stop().await;
}
