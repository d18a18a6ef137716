//! The body of the `signal_json` fuzz target in `bench/fuzz`, here so that the AFL++ binary
//! and the regression replay of its corpus (`tests/behaviour/fuzz_corpus.rs`, an ordinary
//! `cargo test`) run the same code. It takes any bytes and panics only on a bug: a panic in
//! the parser or the hub, or a broken invariant asserted here.

use std::time::{Duration, Instant};

use crate::hub::{ConnId, ConnectInfo, GuestAccess, Hub, HubConfig, Output, Room};
use crate::protocol::{ClientMsg, MAX_MESSAGE_BYTES, RoomKind, encode_server, parse_client};

/// A client's text frame: [`parse_client`] on the whole input, which must give a message or an
/// error, and a message must serialize and parse back to itself. Then each line of the input
/// is a text frame to a seeded [`Hub`], from two members and a guest of one office in turn
/// (every frame the hub sends must serialize), and time passes.
pub fn signal_json(data: &[u8]) {
    // A WebSocket text frame is UTF-8; the lossy text keeps the fuzzer's other bytes useful.
    let text = String::from_utf8_lossy(data);
    if let Ok(msg) = parse_client(&text) {
        parses_back_to_itself(&msg);
    }
    let mut hub = Hub::with_seed(HubConfig::default(), 1);
    let start = Instant::now();
    let room = |id: &str, kind| Room { id: id.into(), name: id.into(), kind, owner_user_id: None, capacity: Some(3), away: None, meeting: None, next_busy: None, media_threshold: None };
    hub.set_rooms(start, "acme", vec![room("meet", RoomKind::Meeting), room("hall", RoomKind::Reception)]);
    let conns = [ConnId(1), ConnId(2), ConnId(3)];
    for (conn, user) in conns.iter().zip(["ada", "bob", "gus"]) {
        let guest = (user == "gus").then(|| GuestAccess { room_id: "meet".into(), direct: false });
        let info = ConnectInfo {
            org_id: "acme".into(),
            user_id: user.into(),
            name: user.into(),
            has_picture: false,
            ice_servers: serde_json::json!([{"urls": "stun:turn.example.org"}]),
            guest,
            session: format!("session of {user}"),
        };
        hub.connect(start, *conn, info);
    }
    let mut now = start;
    for (i, line) in text.split('\n').enumerate() {
        now += Duration::from_millis(250);
        hub.message(now, conns[i % conns.len()], line);
        drain(&mut hub, now);
    }
    for later in [20, 60, 3600] {
        hub.handle_timeout(now + Duration::from_secs(later));
        drain(&mut hub, now);
    }
    for conn in conns {
        hub.disconnect(now, conn);
    }
    drain(&mut hub, now);
    assert_eq!(hub.connection_count(), 0, "connections left after all closed");
}

/// Serializing a parsed message and parsing it again gives the same message. A `signal`
/// payload read through a JSON tree may change a number in its last digit (serde_json's
/// default float parsing is not always correctly rounded), so for `signal` only the recipient
/// is compared.
fn parses_back_to_itself(msg: &ClientMsg) {
    let Ok(again) = serde_json::to_string(msg) else { panic!("a parsed {} does not serialize", msg.kind()) };
    if again.len() > MAX_MESSAGE_BYTES {
        return; // absent optional fields, now written out, can make it longer than allowed
    }
    let back = parse_client(&again).unwrap_or_else(|e| panic!("{again} does not parse back: {e}"));
    match (msg, &back) {
        (ClientMsg::Signal { to_peer, .. }, ClientMsg::Signal { to_peer: back_peer, .. }) => assert_eq!(to_peer, back_peer),
        _ => assert_eq!(msg, &back, "a message changed in a round trip"),
    }
}

/// What a driver does with the hub's outputs: sends (serialized), closes, stores call logs.
fn drain(hub: &mut Hub, now: Instant) {
    while let Some(output) = hub.poll_output() {
        match output {
            Output::Send { msg, .. } => {
                let frame = encode_server(&msg);
                assert!(serde_json::from_str::<serde_json::Value>(&frame).is_ok(), "the hub sent {frame}");
            }
            Output::Close { conn, .. } => hub.disconnect(now, conn),
            Output::CallLog(_) | Output::Present { .. } | Output::Media(_) => {}
        }
    }
}
