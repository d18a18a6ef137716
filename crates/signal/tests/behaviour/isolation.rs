//! Organisations never see each other; signals go to known peers of the same organisation.

use bureau_signal::{ErrorCode, RoomKind, ServerMsg};
use serde_json::json;

use crate::{Office, errors, room};

#[test]
fn signals_reach_any_peer_of_the_organisation() {
    let mut office = Office::default();
    let (a, pa) = office.connect("acme", "ada");
    let (b, pb) = office.connect("acme", "bob");
    office.clear();
    let payload = json!({"sdp": {"type": "offer", "sdp": "v=0\r\n"}});
    office.send(a, json!({"type": "signal", "to_peer": pb, "payload": payload}));
    let got = office.take(b);
    assert_eq!(
        got,
        [ServerMsg::Signal { from_peer: pa, from_user: "ada".into(), payload: payload.clone().into() }]
    );
    assert!(office.take(a).is_empty());
}

#[test]
fn signals_to_unknown_or_foreign_peers_are_refused() {
    let mut office = Office::default();
    let (a, pa) = office.connect("acme", "ada");
    let (g, pg) = office.connect("globex", "gus");
    office.clear();
    office.send(a, json!({"type": "signal", "to_peer": pg, "payload": {"candidate": "x"}}));
    office.send(a, json!({"type": "signal", "to_peer": "no-such-peer", "payload": 1}));
    office.send(a, json!({"type": "signal", "to_peer": pa, "payload": 1}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::UnknownPeer; 3]);
    assert!(office.take(g).is_empty(), "nothing crosses organisations");
    office.disconnect(g);
    office.send(a, json!({"type": "signal", "to_peer": pg, "payload": 1}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::UnknownPeer]);
}

#[test]
fn rooms_users_and_calls_of_another_organisation_do_not_exist() {
    let mut office = Office::default();
    office.set_rooms("globex", vec![room("vault", RoomKind::Meeting, None)]);
    let (a, _) = office.connect("acme", "ada");
    let (g, _) = office.connect("globex", "gus");
    let welcome = office.take(a);
    let Some(ServerMsg::Welcome { presence, rooms, .. }) = welcome.first() else {
        panic!("{welcome:?}")
    };
    assert!(rooms.is_empty());
    assert_eq!(presence.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), ["ada"]);
    office.send(a, json!({"type": "join_room", "room_id": "vault"}));
    office.send(a, json!({"type": "call", "to_user": "gus"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::UnknownRoom, ErrorCode::UserOffline]);
    office.send(g, json!({"type": "join_room", "room_id": "vault"}));
    office.clear();
    office.set_rooms("acme", vec![room("vault", RoomKind::Meeting, None)]);
    office.send(a, json!({"type": "join_room", "room_id": "vault"}));
    let to_a = office.take(a);
    assert!(to_a.contains(&ServerMsg::Joined { room_id: "vault".into(), peers: vec![], media_mode: bureau_signal::MediaMode::Mesh }));
    assert!(office.take(g).is_empty(), "same room id, different organisation");
}
