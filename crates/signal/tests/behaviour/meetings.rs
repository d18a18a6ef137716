//! Meetings: an office whose owner is in a meeting (their calendar, from the floor plan) shows it
//! in their presence, with the next busy interval when shared; knocks answer busy unless the
//! owner chose to be rung; only the owners whose meeting changed get a new presence.

use bureau_signal::{CallState, Meeting, NextBusy, Room, RoomKind, ServerMsg, Status};
use serde_json::json;

use crate::Office;

const UNTIL: i64 = 1_767_229_200_000;

/// The offices of ada, bob and cleo; bob in a meeting (`rings` or not) when `meeting` is set,
/// and busy next when `next` is.
fn floor_plan(meeting: Option<bool>, next: bool) -> Vec<Room> {
    ["ada", "bob", "cleo"]
        .into_iter()
        .map(|user| Room {
            id: format!("office:{user}"),
            name: format!("Name of {user}"),
            kind: RoomKind::Office,
            owner_user_id: Some(user.into()),
            capacity: None,
            away: None,
            meeting: meeting.filter(|_| user == "bob").map(|rings| Meeting { until: UNTIL, title: Some("Client meeting".into()), rings }),
            next_busy: (next && user == "bob").then_some(NextBusy { starts_at: UNTIL + 3_600_000, ends_at: UNTIL + 7_200_000, title: None }),
            media_threshold: None,
        })
        .collect()
}

fn presences(msgs: &[ServerMsg]) -> Vec<bureau_signal::UserPresence> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Presence { user } => Some(user.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_meeting_shows_in_presence_and_a_knock_answers_busy() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(None, false));
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    let (_c, _) = office.connect("acme", "cleo");
    office.clear();

    // The meeting begins: Bob's presence (only his) says so; his own status stays.
    office.set_rooms("acme", floor_plan(Some(false), true));
    let seen = presences(&office.take(a));
    assert_eq!(seen.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), vec!["bob"], "{seen:?}");
    assert_eq!(seen[0].status, Status::Online);
    assert_eq!(seen[0].meeting, Some(Meeting { until: UNTIL, title: Some("Client meeting".into()), rings: false }));
    assert_eq!(seen[0].next_busy.as_ref().map(|n| n.starts_at), Some(UNTIL + 3_600_000));

    // A knock does not ring him.
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert!(matches!(office.take(a).first(), Some(ServerMsg::CallUpdate { state: CallState::Busy, .. })));
    assert!(!office.take(b).iter().any(|m| matches!(m, ServerMsg::Ring { .. })), "nothing rings in a meeting");

    // Bob chose to be rung in meetings: the knock rings.
    office.set_rooms("acme", floor_plan(Some(true), true));
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert!(matches!(office.take(a).first(), Some(ServerMsg::CallUpdate { state: CallState::Ringing, .. })));
    assert!(office.take(b).iter().any(|m| matches!(m, ServerMsg::Ring { .. })));
}

#[test]
fn the_meeting_ends_and_the_floor_plan_says_nothing_more() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(Some(false), false));
    let (a, _) = office.connect("acme", "ada");
    let got = office.take(a);
    let Some(ServerMsg::Welcome { presence, rooms, .. }) = got.first() else { panic!("{got:?}") };
    assert!(rooms.iter().any(|r| r.id == "office:bob" && r.meeting.is_some()));
    assert!(presence.iter().all(|p| p.meeting.is_none()), "bob is not connected: no presence yet");
    let (_b, _) = office.connect("acme", "bob");
    office.clear();
    office.set_rooms("acme", floor_plan(None, false));
    let seen = presences(&office.take(a));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].user_id.as_str(), seen[0].meeting.clone(), seen[0].next_busy.clone()), ("bob", None, None));
    // The same floor plan again changes nobody's presence.
    office.set_rooms("acme", floor_plan(None, false));
    assert!(presences(&office.take(a)).is_empty());
}
