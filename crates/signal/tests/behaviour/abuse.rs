//! Malformed, unknown and oversized messages; versions; keep-alive.

use bureau_signal::{CloseCode, ErrorCode, HubConfig, MAX_MESSAGE_BYTES, ServerMsg};
use serde_json::json;

use crate::{Office, errors};

fn strict() -> Office {
    Office::with_config(HubConfig { max_bad_messages: 3, ..HubConfig::default() })
}

#[test]
fn bad_messages_get_errors_then_the_connection_is_closed() {
    let mut office = strict();
    let (a, _) = office.connect("acme", "ada");
    office.clear();
    office.send_text(a, "{not json");
    office.send_text(a, r#"{"type":"teleport"}"#);
    office.send_text(a, r#"{"type":"join_room","room":"x"}"#);
    assert_eq!(errors(&office.take(a)), [ErrorCode::BadMessage; 3]);
    assert!(office.closes().is_empty());
    office.send_text(a, "[]");
    assert_eq!(errors(&office.take(a)), [ErrorCode::BadMessage]);
    assert_eq!(office.closes(), [(a, CloseCode::TooManyBadMessages)]);
    assert_eq!(office.hub.connection_count(), 0);
    office.send_text(a, r#"{"type":"ping"}"#);
    office.disconnect(a);
    assert!(office.take(a).is_empty(), "a closed connection is forgotten");
}

#[test]
fn oversized_messages_are_refused_and_close_with_1009() {
    let mut office = strict();
    let (a, _) = office.connect("acme", "ada");
    office.clear();
    let big = format!(r#"{{"type":"ping","x":"{}"}}"#, "a".repeat(MAX_MESSAGE_BYTES));
    for _ in 0..3 {
        office.send_text(a, &big);
    }
    assert_eq!(errors(&office.take(a)), [ErrorCode::TooBig; 3]);
    office.send_text(a, &big);
    let closes = office.closes();
    assert_eq!(closes, [(a, CloseCode::MessageTooBig)]);
    assert_eq!(closes[0].1.code(), 1009);
}

#[test]
fn good_messages_do_not_count_against_a_connection() {
    let mut office = strict();
    let (a, _) = office.connect("acme", "ada");
    for _ in 0..3 {
        office.send_text(a, "nope");
    }
    for _ in 0..10 {
        office.send(a, json!({"type": "leave_room"}));
    }
    assert!(office.closes().is_empty(), "errors of meaning are not malformed messages");
}

#[test]
fn hello_with_another_version_closes_with_4000() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    office.send(a, json!({"type": "hello", "version": bureau_signal::PROTOCOL_VERSION}));
    office.send(b, json!({"type": "hello", "version": bureau_signal::PROTOCOL_VERSION - 1}));
    assert_eq!(office.closes(), [(b, CloseCode::BadVersion)]);
    assert_eq!(office.closes().first().map(|c| c.1.code()), None);
    assert_eq!(CloseCode::BadVersion.code(), 4000);
}

#[test]
fn ping_is_answered_with_pong() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    office.clear();
    office.send(a, json!({"type": "ping"}));
    assert_eq!(office.take(a), [ServerMsg::Pong {}]);
}

#[test]
fn shutdown_closes_everyone_with_going_away() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (g, _) = office.connect("globex", "gus");
    office.clear();
    office.hub.shutdown();
    let closes = office.closes();
    assert_eq!(closes, [(a, CloseCode::GoingAway), (g, CloseCode::GoingAway)]);
    assert!(closes.iter().all(|c| c.1.code() == 1001 && c.1.should_reconnect()));
    assert_eq!((office.hub.connection_count(), office.hub.poll_timeout()), (0, None));
}

#[test]
fn welcome_carries_the_drivers_ice_servers_and_the_rooms() {
    let mut office = Office::default();
    office.set_rooms("acme", vec![crate::room("hall", bureau_signal::RoomKind::Reception, None)]);
    let (a, pa) = office.connect("acme", "ada");
    let got = office.take(a);
    let Some(ServerMsg::Welcome { version, peer_id, user_id, ice_servers, rooms, .. }) = got.first()
    else {
        panic!("{got:?}")
    };
    assert_eq!((*version, peer_id, user_id.as_str()), (2, &pa, "ada"));
    assert_eq!(ice_servers, &json!([{"urls": ["stun:turn.example:3478"]}]));
    assert_eq!(rooms.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["hall"]);
}
