//! Guests: the lobby, admission and refusal, direct access, and a guest's narrow view.

use std::time::Duration;

use bureau_signal::{CloseCode, ConnId, ErrorCode, GuestInfo, RoomKind, RoomState, ServerMsg};
use serde_json::json;

use crate::{Office, errors, kinds, room};

fn office() -> Office {
    let mut office = Office::default();
    office.set_rooms(
        "acme",
        vec![
            room("meet", RoomKind::Meeting, None),
            room("desk", RoomKind::Reception, Some(1)),
            room("office-ada", RoomKind::Office, None),
        ],
    );
    office
}

fn waiting(room_id: &str, user_id: &str) -> ServerMsg {
    ServerMsg::GuestWaiting {
        room_id: room_id.into(),
        user_id: user_id.into(),
        name: format!("Guest {user_id}"),
    }
}

fn left(user_id: &str) -> ServerMsg {
    ServerMsg::GuestLeft { user_id: user_id.into() }
}

fn join(office: &mut Office, conn: ConnId, room_id: &str) {
    office.send(conn, json!({"type": "join_room", "room_id": room_id}));
}

/// The room states among `msgs`, from `welcome`, `rooms` and `room`.
fn room_ids(msgs: &[ServerMsg]) -> Vec<String> {
    let mut ids = Vec::new();
    for m in msgs {
        match m {
            ServerMsg::Welcome { rooms, .. } | ServerMsg::Rooms { rooms } => {
                ids.extend(rooms.iter().map(|r| r.id.clone()));
            }
            ServerMsg::Room { room } => ids.push(room.id.clone()),
            _ => {}
        }
    }
    ids
}

fn last_room(msgs: &[ServerMsg]) -> Option<RoomState> {
    msgs.iter().rev().find_map(|m| match m {
        ServerMsg::Room { room } => Some(room.clone()),
        _ => None,
    })
}

#[test]
fn a_waiting_guest_is_announced_to_members_and_admitted_by_one() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (bob, _) = office.connect("acme", "bob");
    let (other_guest, _) = office.connect_guest("acme", "gil", "desk", true);
    office.clear();

    let (g, pg) = office.connect_guest("acme", "gwen", "meet", false);
    let to_g = office.take(g);
    let Some(ServerMsg::Welcome { peer_id, user_id, presence, rooms, guest, .. }) = to_g.first()
    else {
        panic!("{to_g:?}")
    };
    assert_eq!((peer_id, user_id.as_str()), (&pg, "gwen"));
    assert!(presence.is_empty(), "a guest sees nobody's presence");
    assert_eq!(rooms.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["meet"]);
    assert_eq!(guest, &Some(GuestInfo { room_id: "meet".into(), admitted: false }));
    assert_eq!(to_g.len(), 1);
    for member in [ada, bob] {
        assert_eq!(office.take(member), [waiting("meet", "gwen")], "the reception desk");
    }
    assert!(office.take(other_guest).is_empty(), "guests do not see the lobby");

    join(&mut office, g, "meet");
    assert_eq!(errors(&office.take(g)), [ErrorCode::NotAllowed], "not before admission");
    let (cyd, _) = office.connect("acme", "cyd");
    let to_cyd = office.take(cyd);
    assert_eq!(kinds(&to_cyd), ["welcome", "guest_waiting"], "a late member sees the lobby");
    assert_eq!(to_cyd[1], waiting("meet", "gwen"));
    office.clear();

    office.send(ada, json!({"type": "admit_guest", "user_id": "gwen"}));
    assert_eq!(office.take(g), [ServerMsg::Admitted { room_id: "meet".into() }]);
    for member in [ada, bob, cyd] {
        assert_eq!(office.take(member), [left("gwen")]);
    }
    assert!(office.take(other_guest).is_empty());
    office.send(bob, json!({"type": "admit_guest", "user_id": "gwen"}));
    assert_eq!(errors(&office.take(bob)), [ErrorCode::UnknownGuest], "no longer waiting");

    join(&mut office, bob, "meet");
    office.clear();
    join(&mut office, g, "meet");
    let to_g = office.take(g);
    let Some(ServerMsg::Joined { peers, .. }) = to_g.first() else { panic!("{to_g:?}") };
    assert_eq!(peers.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), ["bob"]);
    let to_bob = office.take(bob);
    let joined = matches!(&to_bob[0], ServerMsg::PeerJoined { peer, .. } if peer.peer_id == pg);
    assert!(joined, "{to_bob:?}");
    let meet = last_room(&office.take(ada)).map(|r| r.participants);
    let marks: Option<Vec<(String, bool)>> =
        meet.map(|ps| ps.into_iter().map(|p| (p.user_id, p.guest)).collect());
    assert_eq!(marks, Some(vec![("bob".into(), false), ("gwen".into(), true)]));
}

#[test]
fn a_refused_guest_is_closed_with_4004() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (g, _) = office.connect_guest("acme", "gwen", "meet", false);
    office.clear();
    office.send(ada, json!({"type": "refuse_guest", "user_id": "nobody"}));
    assert_eq!(errors(&office.take(ada)), [ErrorCode::UnknownGuest]);
    office.send(ada, json!({"type": "refuse_guest", "user_id": "gwen"}));
    assert_eq!(office.closes(), [(g, CloseCode::NotAdmitted)]);
    assert_eq!(office.take(ada), [left("gwen")]);
    assert!(office.take(g).is_empty());
    assert_eq!(office.hub.connection_count(), 1);
    let code = CloseCode::NotAdmitted;
    assert_eq!((code.code(), code.reason()), (4004, "not admitted"));
}

#[test]
fn a_waiting_guest_who_disconnects_leaves_the_lobby_with_their_last_tab() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (g1, _) = office.connect_guest("acme", "gwen", "meet", false);
    let (g2, _) = office.connect_guest("acme", "gwen", "meet", false);
    office.clear();
    office.disconnect(g1);
    assert!(office.take(ada).is_empty(), "another tab still waits");
    office.disconnect(g2);
    assert_eq!(office.take(ada), [left("gwen")]);
    office.send(ada, json!({"type": "admit_guest", "user_id": "gwen"}));
    assert_eq!(errors(&office.take(ada)), [ErrorCode::UnknownGuest]);
}

#[test]
fn a_direct_guest_joins_at_once_within_capacity() {
    let mut office = office();
    let (ada, pa) = office.connect("acme", "ada");
    let (bob, _) = office.connect("acme", "bob");
    join(&mut office, ada, "meet");
    join(&mut office, bob, "desk");
    office.clear();
    let (g, pg) = office.connect_guest("acme", "gwen", "meet", true);
    let to_g = office.take(g);
    let Some(ServerMsg::Welcome { guest, .. }) = to_g.first() else { panic!("{to_g:?}") };
    assert_eq!(guest.as_ref().map(|g| g.admitted), Some(true));
    assert!(office.take(ada).is_empty(), "no lobby for direct guests");
    join(&mut office, g, "meet");
    let to_g = office.take(g);
    let Some(ServerMsg::Joined { peers, .. }) = to_g.first() else { panic!("{to_g:?}") };
    assert_eq!(peers.iter().map(|p| &p.peer_id).collect::<Vec<_>>(), [&pa]);
    assert!(office.take(ada).iter().any(|m| matches!(m,
        ServerMsg::PeerJoined { peer, .. } if peer.peer_id == pg && peer.guest)));

    // The desk admits one and Bob is in it.
    let (h, _) = office.connect_guest("acme", "hal", "desk", true);
    office.clear();
    join(&mut office, h, "desk");
    assert_eq!(errors(&office.take(h)), [ErrorCode::RoomFull], "capacity applies to guests");
    office.send(bob, json!({"type": "leave_room"}));
    office.clear();
    join(&mut office, h, "desk");
    assert_eq!(kinds(&office.take(h))[0], "joined");
}

#[test]
fn the_mesh_cap_applies_to_guests() {
    let mut office = Office::with_config(bureau_signal::HubConfig {
        mesh_cap: 2,
        ..bureau_signal::HubConfig::default()
    });
    office.set_rooms("acme", vec![room("meet", RoomKind::Meeting, None)]);
    let (ada, _) = office.connect("acme", "ada");
    let (bob, _) = office.connect("acme", "bob");
    join(&mut office, ada, "meet");
    join(&mut office, bob, "meet");
    let (g, _) = office.connect_guest("acme", "gwen", "meet", true);
    office.clear();
    join(&mut office, g, "meet");
    assert_eq!(errors(&office.take(g)), [ErrorCode::RoomFull]);
}

#[test]
fn a_guest_sees_only_their_room() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (bob, _) = office.connect("acme", "bob");
    let (g, _) = office.connect_guest("acme", "gwen", "meet", true);
    office.clear();

    office.send(ada, json!({"type": "set_presence", "status": "busy", "note": "secret"}));
    join(&mut office, ada, "office-ada");
    join(&mut office, bob, "office-ada");
    office.send(bob, json!({"type": "leave_room"}));
    office.send(ada, json!({"type": "call", "to_user": "bob"}));
    assert!(office.take(g).is_empty(), "presence, other rooms and calls stay hidden");

    let (cyd, _) = office.connect("acme", "cyd");
    office.disconnect(cyd);
    office.advance(Duration::from_secs(60));
    assert!(office.take(g).is_empty(), "members coming and going stay hidden");

    join(&mut office, ada, "meet");
    let to_g = office.take(g);
    assert_eq!(kinds(&to_g), ["room"]);
    assert_eq!(room_ids(&to_g), ["meet"]);

    office.set_rooms(
        "acme",
        vec![
            room("meet", RoomKind::Meeting, Some(4)),
            room("desk", RoomKind::Reception, Some(1)),
            room("board", RoomKind::Meeting, None),
        ],
    );
    let to_g = office.take(g);
    assert_eq!(kinds(&to_g), ["room"], "the new state of their room, never the room list");
    assert_eq!(last_room(&to_g).map(|r| (r.id, r.capacity)), Some(("meet".into(), 4)));
    office.set_rooms(
        "acme",
        vec![
            room("meet", RoomKind::Meeting, Some(4)),
            room("desk", RoomKind::Reception, Some(1)),
            room("board", RoomKind::Meeting, None),
            room("office-eve", RoomKind::Office, None),
        ],
    );
    assert!(office.take(g).is_empty(), "changes elsewhere do not reach the guest");
    join(&mut office, g, "board");
    join(&mut office, g, "desk");
    assert_eq!(errors(&office.take(g)), [ErrorCode::UnknownRoom; 2], "other rooms do not exist");
}

#[test]
fn guests_may_not_act_as_members() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (g, _) = office.connect_guest("acme", "gwen", "meet", true);
    office.clear();
    for msg in [
        json!({"type": "set_presence", "status": "dnd"}),
        json!({"type": "call", "to_user": "ada"}),
        json!({"type": "call_answer", "call_id": "c", "accept": true}),
        json!({"type": "call_cancel", "call_id": "c"}),
        json!({"type": "admit_guest", "user_id": "gwen"}),
        json!({"type": "refuse_guest", "user_id": "gwen"}),
    ] {
        office.send(g, msg);
    }
    assert_eq!(errors(&office.take(g)), [ErrorCode::NotAllowed; 6]);
    office.send(g, json!({"type": "ping"}));
    office.send(g, json!({"type": "hello", "version": bureau_signal::PROTOCOL_VERSION}));
    assert_eq!(office.take(g), [ServerMsg::Pong {}]);
    assert!(office.take(ada).is_empty());

    office.send(ada, json!({"type": "call", "to_user": "gwen"}));
    assert_eq!(errors(&office.take(ada)), [ErrorCode::UserOffline], "guests cannot be called");
    assert!(office.take(g).is_empty());
}

#[test]
fn signals_between_a_guest_and_others_pass_only_within_the_room() {
    let mut office = office();
    let (ada, pa) = office.connect("acme", "ada");
    let (bob, pb) = office.connect("acme", "bob");
    let (g, pg) = office.connect_guest("acme", "gwen", "meet", true);
    office.clear();
    office.send(g, json!({"type": "signal", "to_peer": pa, "payload": 1}));
    office.send(ada, json!({"type": "signal", "to_peer": pg, "payload": 1}));
    assert_eq!(errors(&office.take(g)), [ErrorCode::UnknownPeer]);
    assert_eq!(errors(&office.take(ada)), [ErrorCode::UnknownPeer]);

    join(&mut office, g, "meet");
    join(&mut office, ada, "meet");
    join(&mut office, bob, "desk");
    office.clear();
    office.send(g, json!({"type": "signal", "to_peer": pa, "payload": {"sdp": "offer"}}));
    office.send(ada, json!({"type": "signal", "to_peer": pg, "payload": {"sdp": "answer"}}));
    let from = |m: &ServerMsg| match m {
        ServerMsg::Signal { from_peer, .. } => Some(from_peer.clone()),
        _ => None,
    };
    assert_eq!(office.take(ada).iter().filter_map(from).collect::<Vec<_>>(), vec![pg.clone()]);
    assert_eq!(office.take(g).iter().filter_map(from).collect::<Vec<_>>(), vec![pa.clone()]);

    office.send(bob, json!({"type": "signal", "to_peer": pg, "payload": 1}));
    office.send(g, json!({"type": "signal", "to_peer": pb, "payload": 1}));
    assert_eq!(errors(&office.take(bob)), [ErrorCode::UnknownPeer], "Bob is in another room");
    assert_eq!(errors(&office.take(g)), [ErrorCode::UnknownPeer]);
    office.send(ada, json!({"type": "signal", "to_peer": pb, "payload": 1}));
    assert!(errors(&office.take(ada)).is_empty(), "members still reach each other anywhere");

    office.send(ada, json!({"type": "leave_room"}));
    office.clear();
    office.send(ada, json!({"type": "signal", "to_peer": pg, "payload": 1}));
    assert_eq!(errors(&office.take(ada)), [ErrorCode::UnknownPeer], "not once Ada has left");
    assert!(office.take(g).is_empty());
}

#[test]
fn a_guest_leaves_at_once_and_is_logged_as_a_participant() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (g, pg) = office.connect_guest("acme", "gwen", "meet", true);
    join(&mut office, ada, "meet");
    join(&mut office, g, "meet");
    office.advance(Duration::from_secs(120));
    office.clear();
    office.disconnect(g);
    let to_ada = office.take(ada);
    assert!(to_ada.contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pg }));
    assert!(
        !to_ada.iter().any(|m| matches!(m, ServerMsg::Presence { user } if user.user_id == "gwen")),
        "guests have no presence: {to_ada:?}"
    );
    assert!(!to_ada.contains(&left("gwen")), "an admitted guest was not in the lobby");
    let logs = office.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].participants, ["ada", "gwen"]);
    assert_eq!(logs[0].duration, Duration::from_secs(120));
    assert_eq!(office.hub.poll_timeout(), None, "no presence grace for a guest");
}

#[test]
fn removing_a_guest_closes_them() {
    let mut office = office();
    let (ada, _) = office.connect("acme", "ada");
    let (g, _) = office.connect_guest("acme", "gwen", "meet", false);
    office.clear();
    office.hub.set_user_removed(office.now, "acme", "gwen");
    assert_eq!(office.closes(), [(g, CloseCode::Kicked)]);
    assert_eq!(office.take(ada), [left("gwen")]);
}

#[test]
fn a_guest_in_a_deleted_room_is_moved_out_and_closed() {
    let mut office = office();
    let (ada, pa) = office.connect("acme", "ada");
    let (g, pg) = office.connect_guest("acme", "gwen", "meet", true);
    let (w, _) = office.connect_guest("acme", "walt", "meet", false);
    join(&mut office, ada, "meet");
    join(&mut office, g, "meet");
    office.clear();
    office.set_rooms("acme", vec![room("desk", RoomKind::Reception, None)]);
    let to_g = office.take(g);
    let me_out = ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pg };
    assert!(to_g.contains(&me_out), "moved out as members are: {to_g:?}");
    assert!(!kinds(&to_g).contains(&"rooms"));
    let to_ada = office.take(ada);
    assert!(to_ada.contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pa }));
    assert!(to_ada.contains(&left("walt")), "the lobby empties: {to_ada:?}");
    let mut closes = office.closes();
    closes.sort_by_key(|c| c.0);
    assert_eq!(closes, [(g, CloseCode::NotAdmitted), (w, CloseCode::NotAdmitted)]);
}

#[test]
fn guests_never_cross_organisations() {
    let mut office = office();
    office.set_rooms("globex", vec![room("meet", RoomKind::Meeting, None)]);
    let (ada, _) = office.connect("acme", "ada");
    let (gus, pgus) = office.connect("globex", "gus");
    join(&mut office, gus, "meet");
    office.clear();
    let (g, pg) = office.connect_guest("acme", "gwen", "meet", false);
    let to_g = office.take(g);
    let Some(ServerMsg::Welcome { rooms, .. }) = to_g.first() else { panic!("{to_g:?}") };
    assert!(rooms.iter().all(|r| r.participants.is_empty()), "not globex's meet: {rooms:?}");
    assert_eq!(office.take(ada), [waiting("meet", "gwen")]);
    assert!(office.take(gus).is_empty(), "another organisation's lobby stays hidden");

    office.send(gus, json!({"type": "admit_guest", "user_id": "gwen"}));
    assert_eq!(errors(&office.take(gus)), [ErrorCode::UnknownGuest]);
    office.send(ada, json!({"type": "admit_guest", "user_id": "gwen"}));
    join(&mut office, g, "meet");
    office.clear();
    office.send(g, json!({"type": "signal", "to_peer": pgus, "payload": 1}));
    office.send(gus, json!({"type": "signal", "to_peer": pg, "payload": 1}));
    assert_eq!(errors(&office.take(g)), [ErrorCode::UnknownPeer]);
    assert_eq!(errors(&office.take(gus)), [ErrorCode::UnknownPeer]);
    office.send(gus, json!({"type": "media_state", "muted": true, "camera": true,
        "screen": false, "speaking": false}));
    office.hub.set_user_removed(office.now, "globex", "gwen");
    assert!(office.take(g).is_empty());
    assert!(office.closes().is_empty(), "removing globex's gwen leaves acme's guest alone");
}
