//! Joining and leaving rooms, capacity, removal, sessions and media state.

use std::time::Duration;

use bureau_signal::{ErrorCode, HubConfig, MediaMode, RoomKind, ServerMsg};
use serde_json::json;

use crate::{Office, errors, kinds, room};

fn office_with_rooms(config: HubConfig) -> Office {
    let mut office = Office::with_config(config);
    office.set_rooms(
        "acme",
        vec![
            room("meet", RoomKind::Meeting, None),
            room("lobby", RoomKind::Reception, Some(1)),
        ],
    );
    office
}

#[test]
fn joins_and_leaves_announce_peers_to_the_room_and_the_floor_plan() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, pa) = office.connect("acme", "ada");
    let (b, pb) = office.connect("acme", "bob");
    let (watcher, _) = office.connect("acme", "cyd");
    office.clear();

    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    assert_eq!(office.take(a)[0], ServerMsg::Joined { room_id: "meet".into(), peers: vec![], media_mode: MediaMode::Mesh });
    office.clear();
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    let to_b = office.take(b);
    let ServerMsg::Joined { peers, .. } = &to_b[0] else { panic!("{to_b:?}") };
    assert_eq!(peers.iter().map(|p| &p.peer_id).collect::<Vec<_>>(), [&pa]);
    let to_a = office.take(a);
    assert!(
        matches!(&to_a[0], ServerMsg::PeerJoined { peer, .. } if peer.peer_id == pb),
        "{to_a:?}"
    );
    let seen = office.take(watcher);
    let last_room = seen.iter().rev().find_map(|m| match m {
        ServerMsg::Room { room } => Some(room.clone()),
        _ => None,
    });
    let participants = last_room.map(|r| r.participants.len());
    assert_eq!(participants, Some(2), "the floor plan shows both: {seen:?}");

    office.send(b, json!({"type": "leave_room"}));
    let to_a = office.take(a);
    assert!(to_a.contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pb.clone() }));
    office.send(b, json!({"type": "leave_room"}));
    assert_eq!(errors(&office.take(b)), [ErrorCode::NotInRoom]);
}

#[test]
fn joining_another_room_leaves_the_first() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, _) = office.connect("acme", "ada");
    let (b, pb) = office.connect("acme", "bob");
    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    office.clear();
    office.send(b, json!({"type": "join_room", "room_id": "lobby"}));
    assert!(office.take(a).contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pb }));
    let rooms = office.hub.rooms("acme");
    let sizes: Vec<(String, usize)> =
        rooms.iter().map(|r| (r.id.clone(), r.participants.len())).collect();
    assert!(sizes.contains(&("meet".into(), 1)) && sizes.contains(&("lobby".into(), 1)));
}

#[test]
fn mesh_cap_and_capacity_refuse_with_room_full() {
    let mut office = office_with_rooms(HubConfig { mesh_cap: 2, ..HubConfig::default() });
    let conns: Vec<_> = ["a", "b", "c"].iter().map(|u| office.connect("acme", u).0).collect();
    for &c in &conns {
        office.send(c, json!({"type": "join_room", "room_id": "meet"}));
    }
    assert_eq!(errors(&office.take(conns[2])), [ErrorCode::RoomFull]);
    assert!(errors(&office.take(conns[1])).is_empty());
    // The reception admits one; a refused join keeps the peer where it was.
    office.send(conns[2], json!({"type": "join_room", "room_id": "lobby"}));
    office.send(conns[0], json!({"type": "join_room", "room_id": "lobby"}));
    assert_eq!(errors(&office.take(conns[0])), [ErrorCode::RoomFull]);
    let meet = office.hub.rooms("acme").into_iter().find(|r| r.id == "meet");
    assert_eq!(meet.map(|r| r.participants.len()), Some(2));
}

#[test]
fn unknown_rooms_are_refused() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, _) = office.connect("acme", "ada");
    office.send(a, json!({"type": "join_room", "room_id": "nowhere"}));
    office.send(a, json!({"type": "join_room", "room_id": "call:forged"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::UnknownRoom, ErrorCode::UnknownRoom]);
}

#[test]
fn a_disconnected_peer_leaves_its_room_at_once() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, _) = office.connect("acme", "ada");
    let (b, pb) = office.connect("acme", "bob");
    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    office.clear();
    office.disconnect(b);
    assert!(office.take(a).contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pb }));
}

#[test]
fn removing_an_occupied_room_kicks_its_occupants_and_logs_the_session() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, pa) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    office.advance(Duration::from_secs(90));
    office.clear();
    office.set_rooms("acme", vec![room("lobby", RoomKind::Reception, None)]);
    let to_a = office.take(a);
    assert!(to_a.contains(&ServerMsg::PeerLeft { room_id: "meet".into(), peer_id: pa }));
    let Some(ServerMsg::Rooms { rooms }) = to_a.last() else { panic!("{to_a:?}") };
    assert_eq!(rooms.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["lobby"]);
    let logs = office.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].room_id.as_deref(), Some("meet"));
    assert_eq!(logs[0].duration, Duration::from_secs(90));
    assert_eq!(logs[0].participants, ["ada", "bob"]);
    office.send(a, json!({"type": "leave_room"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::NotInRoom]);
}

#[test]
fn media_state_reaches_room_peers_only() {
    let mut office = office_with_rooms(HubConfig::default());
    let (a, pa) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    let (c, _) = office.connect("acme", "cyd");
    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    office.clear();
    let state = json!({"type": "media_state", "muted": false, "camera": false, "screen": false,
        "speaking": true});
    office.send(a, state);
    let to_b = office.take(b);
    assert!(matches!(&to_b[..], [ServerMsg::MediaState { peer_id, speaking: true, .. }]
        if *peer_id == pa));
    assert!(office.take(c).is_empty(), "voice activity is not broadcast to the floor plan");
    office.send(a, json!({"type": "media_state", "muted": true, "camera": true, "screen": false,
        "speaking": false}));
    assert_eq!(kinds(&office.take(c)), ["room"], "mute and camera show on the floor plan");
}
