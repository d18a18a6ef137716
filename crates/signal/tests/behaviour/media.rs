//! Rooms through the media server: the switch at the threshold and back with hysteresis, the
//! signaling a client exchanges with the media server through the hub, and what a client may
//! not make it do.

use bureau_signal::protocol::VideoLayer;
use bureau_signal::{ConnId, ErrorCode, HubConfig, MediaCommand, MediaEvent, MediaMode, PeerId, RoomKind, ServerMsg};
use serde_json::json;

use crate::{Office, errors, room};

fn office(threshold: Option<usize>) -> Office {
    let mut office = Office::with_config(HubConfig { sfu_threshold: threshold, ..HubConfig::default() });
    office.set_rooms("acme", vec![room("meet", RoomKind::Meeting, None), room("small", RoomKind::Meeting, Some(3))]);
    office
}

/// Connects `n` members and puts them in `room`; returns their connections and peer ids.
fn fill(office: &mut Office, room: &str, n: usize) -> Vec<(ConnId, PeerId)> {
    let conns: Vec<(ConnId, PeerId)> = (0..n).map(|i| office.connect("acme", &format!("user{i}"))).collect();
    for (conn, _) in &conns {
        office.send(*conn, json!({"type": "join_room", "room_id": room}));
    }
    conns
}

fn modes(msgs: &[ServerMsg]) -> Vec<MediaMode> {
    msgs.iter().filter_map(|m| match m {
        ServerMsg::MediaMode { mode, .. } => Some(*mode),
        _ => None,
    }).collect()
}

#[test]
fn a_room_switches_to_the_media_server_at_the_threshold_and_back_two_below() {
    let mut office = office(Some(4));
    let people = fill(&mut office, "meet", 3);
    assert!(modes(&office.take(people[0].0)).is_empty(), "three of a threshold of four stay in the mesh");

    let fourth = office.connect("acme", "dee");
    office.clear();
    office.send(fourth.0, json!({"type": "join_room", "room_id": "meet"}));
    for (conn, _) in people.iter().chain([&fourth]) {
        assert_eq!(modes(&office.take(*conn)), [MediaMode::Sfu], "everyone in the room hears of the switch");
    }

    // One leaving (four to three) keeps the media server; the second (three to two) ends it.
    office.send(fourth.0, json!({"type": "leave_room"}));
    assert!(modes(&office.take(people[0].0)).is_empty());
    assert_eq!(office.media_commands(), [MediaCommand::Leave { conn: fourth.0 }]);
    office.send(people[2].0, json!({"type": "leave_room"}));
    assert_eq!(modes(&office.take(people[0].0)), [MediaMode::Mesh]);
    assert_eq!(office.media_commands(), [
        MediaCommand::Leave { conn: people[2].0 },
        MediaCommand::Close { org_id: "acme".into(), room_id: "meet".into() },
    ]);
}

#[test]
fn a_newcomer_to_a_room_on_the_media_server_is_told_so_in_joined() {
    let mut office = office(Some(2));
    fill(&mut office, "meet", 2);
    let (c, _) = office.connect("acme", "cyd");
    office.clear();
    office.send(c, json!({"type": "join_room", "room_id": "meet"}));
    let to_c = office.take(c);
    assert!(matches!(&to_c[0], ServerMsg::Joined { media_mode: MediaMode::Sfu, peers, .. } if peers.len() == 2), "{to_c:?}");
}

#[test]
fn offers_and_answers_go_to_the_media_server_and_its_replies_to_the_right_participant() {
    let mut office = office(Some(2));
    let people = fill(&mut office, "meet", 2);
    let ((a, pa), (b, _)) = (people[0].clone(), people[1].clone());
    office.clear();

    office.send(a, json!({"type": "sfu_offer", "sdp": "v=0 offer of a"}));
    assert_eq!(office.media_commands(), [MediaCommand::Join {
        org_id: "acme".into(), room_id: "meet".into(), conn: a, peer_id: pa, sdp: "v=0 offer of a".into(),
    }]);
    office.hub.media_event(MediaEvent::Answer { conn: a, sdp: "v=0 answer".into() });
    office.hub.media_event(MediaEvent::Offer { conn: a, sdp: "v=0 renegotiation".into() });
    assert_eq!(office.take(a), [ServerMsg::SfuAnswer { sdp: "v=0 answer".into() }, ServerMsg::SfuOffer { sdp: "v=0 renegotiation".into() }]);
    assert!(office.take(b).is_empty(), "nothing of a's connection reaches b");
    office.send(a, json!({"type": "sfu_answer", "sdp": "v=0 answer of a"}));
    assert_eq!(office.media_commands(), [MediaCommand::Answer { conn: a, sdp: "v=0 answer of a".into() }]);
    // One answer per offer: more would only cost the media server parses of SDP.
    office.send(a, json!({"type": "sfu_answer", "sdp": "v=0 answer again"}));
    assert!(office.media_commands().is_empty(), "an answer without an offer goes nowhere");
    assert_eq!(errors(&office.take(a)), [ErrorCode::MediaServer]);

    office.hub.media_event(MediaEvent::Failed { conn: b, reason: "the offer has no media".into() });
    assert_eq!(errors(&office.take(b)), [ErrorCode::MediaServer]);
}

#[test]
fn outside_a_room_on_the_media_server_offers_are_refused_and_late_replies_dropped() {
    let mut office = office(Some(3));
    let people = fill(&mut office, "meet", 2);
    let a = people[0].0;
    office.clear();
    office.send(a, json!({"type": "sfu_offer", "sdp": "v=0"}));
    office.send(a, json!({"type": "sfu_answer", "sdp": "v=0"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::MediaServer, ErrorCode::MediaServer], "the room is still a mesh");
    assert!(office.media_commands().is_empty());

    // A reply of the media server after the participant left is not delivered.
    let mut office = self::office(Some(2));
    let people = fill(&mut office, "meet", 2);
    let a = people[0].0;
    office.send(a, json!({"type": "leave_room"}));
    office.clear();
    office.hub.media_event(MediaEvent::Answer { conn: a, sdp: "v=0".into() });
    assert!(office.take(a).is_empty());
}

#[test]
fn a_node_without_a_media_server_keeps_every_room_in_the_mesh_within_its_cap() {
    let mut office = office(None);
    let people = fill(&mut office, "meet", 8);
    assert!(people.iter().all(|(c, _)| modes(&office.take(*c)).is_empty()));
    let (ninth, _) = office.connect("acme", "late");
    office.send(ninth, json!({"type": "join_room", "room_id": "meet"}));
    assert_eq!(errors(&office.take(ninth)), [ErrorCode::RoomFull], "the mesh cap (8) holds");
    assert!(office.media_commands().is_empty());
}

#[test]
fn with_a_media_server_rooms_hold_more_than_the_mesh_cap_but_keep_their_own_capacity() {
    let mut office = office(Some(5));
    let people = fill(&mut office, "meet", 30);
    assert!(people.iter().all(|(c, _)| !office.take(*c).iter().any(|m| matches!(m, ServerMsg::Error { .. }))));
    let small = fill(&mut office, "small", 4);
    assert_eq!(errors(&office.take(small[3].0)), [ErrorCode::RoomFull], "a room's own capacity (3) holds");
}

#[test]
fn calls_between_two_stay_peer_to_peer_even_at_a_threshold_of_two() {
    let mut office = office(Some(2));
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    let call_id = office.take(b).iter().find_map(|m| match m {
        ServerMsg::Ring { call_id, .. } => Some(call_id.clone()),
        _ => None,
    }).expect("ring");
    office.send(b, json!({"type": "call_answer", "call_id": call_id, "accept": true}));
    let room = format!("call:{call_id}");
    office.send(a, json!({"type": "join_room", "room_id": room}));
    office.send(b, json!({"type": "join_room", "room_id": room}));
    assert!(modes(&office.take(a)).is_empty() && modes(&office.take(b)).is_empty());
    assert!(office.media_commands().is_empty());
}

#[test]
fn a_client_cannot_make_the_media_server_set_up_connections_without_end() {
    let mut office = office(Some(2));
    let a = fill(&mut office, "meet", 2)[0].0;
    office.clear();
    for _ in 0..25 {
        office.send(a, json!({"type": "sfu_offer", "sdp": "v=0"}));
    }
    assert_eq!(office.media_commands().len(), 20);
    assert_eq!(errors(&office.take(a)), [ErrorCode::RateLimited; 5]);
}

#[test]
fn a_guest_in_a_room_on_the_media_server_connects_to_it_too() {
    let mut office = office(Some(2));
    fill(&mut office, "meet", 1);
    let (g, pg) = office.connect_guest("acme", "g1", "meet", true);
    office.send(g, json!({"type": "join_room", "room_id": "meet"}));
    office.clear();
    office.send(g, json!({"type": "sfu_offer", "sdp": "v=0"}));
    assert!(matches!(&office.media_commands()[..], [MediaCommand::Join { conn, peer_id, .. }] if *conn == g && *peer_id == pg));
}

#[test]
fn a_room_of_its_own_threshold_or_marked_large_follows_it_and_a_change_applies_at_once() {
    let mut office = office(Some(5));
    let large = bureau_signal::Room { media_threshold: Some(1), ..room("hall", RoomKind::Meeting, None) };
    office.set_rooms("acme", vec![large, room("meet", RoomKind::Meeting, None)]);
    let alone = fill(&mut office, "hall", 1);
    assert_eq!(modes(&office.take(alone[0].0)), [MediaMode::Sfu], "a room marked large uses the media server from the first");

    let people = fill(&mut office, "meet", 3);
    assert!(modes(&office.take(people[0].0)).is_empty(), "three of the node's five stay in the mesh");
    // The organisation lowers its threshold to three: the room moves with the call going on.
    let lowered = bureau_signal::Room { media_threshold: Some(3), ..room("meet", RoomKind::Meeting, None) };
    office.set_rooms("acme", vec![room("hall", RoomKind::Meeting, None), lowered]);
    for (conn, _) in &people {
        assert_eq!(modes(&office.take(*conn)), [MediaMode::Sfu]);
    }
    // Back to the node's five: three is two below, so the room goes back to the mesh.
    office.set_rooms("acme", vec![room("hall", RoomKind::Meeting, None), room("meet", RoomKind::Meeting, None)]);
    assert_eq!(modes(&office.take(people[0].0)), [MediaMode::Mesh]);
}

#[test]
fn the_media_servers_speaker_order_reaches_the_room_as_peer_ids_without_those_who_left() {
    let mut office = office(Some(2));
    let people = fill(&mut office, "meet", 3);
    let [(a, pa), (b, pb), (c, _)] = [people[0].clone(), people[1].clone(), people[2].clone()];
    office.send(c, json!({"type": "leave_room"}));
    let (outsider, _) = office.connect("acme", "out");
    office.clear();
    office.hub.media_event(MediaEvent::Speakers { org_id: "acme".into(), room_id: "meet".into(), order: vec![b, c, a], last_n: 1 });
    let expected = ServerMsg::Speakers { room_id: "meet".into(), peer_ids: vec![pb, pa], last_n: 1 };
    assert_eq!(office.take(a), [expected.clone()]);
    assert_eq!(office.take(b), [expected]);
    assert!(office.take(c).is_empty() && office.take(outsider).is_empty(), "nobody outside the room hears of it");
}

#[test]
fn screen_sharing_in_a_room_on_the_media_server_is_told_to_it_also_when_connecting_while_sharing() {
    let mut office = office(Some(2));
    let people = fill(&mut office, "meet", 2);
    let (a, b) = (people[0].0, people[1].0);
    let sharing = |on: bool| json!({"type": "media_state", "muted": false, "camera": true, "screen": on, "speaking": false});
    office.send(a, sharing(true));
    office.send(a, sharing(true));
    office.send(a, sharing(false));
    assert_eq!(office.media_commands(), [
        MediaCommand::Sharing { conn: a, sharing: true },
        MediaCommand::Sharing { conn: a, sharing: false },
    ], "changes only");
    office.send(b, sharing(true));
    office.clear();
    office.send(b, json!({"type": "sfu_offer", "sdp": "v=0"}));
    let commands = office.media_commands();
    assert!(matches!(&commands[..], [MediaCommand::Join { .. }, MediaCommand::Sharing { conn, sharing: true }] if *conn == b), "{commands:?}");

    // In the mesh nothing goes to the media server.
    let mut office = self::office(Some(5));
    let a = fill(&mut office, "meet", 2)[0].0;
    office.send(a, sharing(true));
    assert!(office.media_commands().is_empty());
}

#[test]
fn the_sizes_a_client_shows_videos_at_reach_the_media_server_for_peers_of_its_room_only() {
    let mut office = office(Some(2));
    let people = fill(&mut office, "meet", 3);
    let [(a, _), (b, pb), (c, pc)] = [people[0].clone(), people[1].clone(), people[2].clone()];
    let (elsewhere, pe) = office.connect("acme", "elsewhere");
    office.send(elsewhere, json!({"type": "join_room", "room_id": "small"}));
    office.clear();
    office.send(a, json!({"type": "sfu_layers", "layers": {pb.as_str(): "l", pc.as_str(): "m", pe.as_str(): "h", "gone": "h"}}));
    let commands = office.media_commands();
    assert_eq!(commands.len(), 1, "{commands:?}");
    let MediaCommand::Layers { conn, layers } = &commands[0] else { panic!("{commands:?}") };
    assert_eq!(*conn, a);
    let mut layers = layers.clone();
    layers.sort_by_key(|(c, _)| c.0);
    let mut want = vec![(b, VideoLayer::L), (c, VideoLayer::M)];
    want.sort_by_key(|(c, _)| c.0);
    assert_eq!(layers, want, "a peer of another room and an unknown id are left out");
    // Naming oneself, or nobody of the room, asks nothing of the media server.
    office.send(a, json!({"type": "sfu_layers", "layers": {"gone": "l"}}));
    assert!(office.media_commands().is_empty());
    // Outside a room on the media server it is ignored, without an error (a client that gets
    // `media_server` connects to the media server again).
    office.send(elsewhere, json!({"type": "sfu_layers", "layers": {pb.as_str(): "l"}}));
    assert!(office.take(elsewhere).is_empty());
    assert!(office.media_commands().is_empty());
}
