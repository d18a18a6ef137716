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
    office.send(a, json!({"type": "hello", "version": 1}));
    office.send(b, json!({"type": "hello", "version": 2}));
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
