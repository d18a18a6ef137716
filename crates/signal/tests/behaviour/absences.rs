//! Absences: an office whose owner is away (from the floor plan) shows it in their presence,
//! and knocks on it go to the deputy, or nowhere when there is none.

use bureau_signal::{Away, CallState, ErrorCode, Room, RoomKind, ServerMsg, Status};
use serde_json::json;

use crate::{Office, errors};

const BACK: i64 = 1_767_225_600_000;

/// The floor plan of `acme`: the offices of ada, bob and cleo; bob away until [`BACK`] with
/// `deputy`.
fn floor_plan(deputy: Option<&str>, bob_away: bool) -> Vec<Room> {
    ["ada", "bob", "cleo"]
        .into_iter()
        .map(|user| Room {
            id: format!("office:{user}"),
            name: format!("Name of {user}"),
            kind: RoomKind::Office,
            owner_user_id: Some(user.into()),
            capacity: None,
            away: (user == "bob" && bob_away).then(|| Away { until: BACK, deputy_id: deputy.map(str::to_owned) }),
            meeting: None,
            next_busy: None,
            media_threshold: None,
        })
        .collect()
}

#[test]
fn a_knock_on_an_absent_colleague_rings_the_deputy_and_says_until_when() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(Some("cleo"), true));
    let (a, _) = office.connect("acme", "ada");
    // Bob is on vacation, not connected at all; Cleo stands in.
    let (c, _) = office.connect("acme", "cleo");
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    let to_ada = office.take(a);
    assert_eq!(to_ada.first(), Some(&ServerMsg::Away { user_id: "bob".into(), until: BACK, deputy_id: Some("cleo".into()) }), "{to_ada:?}");
    assert!(matches!(to_ada.get(1), Some(ServerMsg::CallUpdate { state: CallState::Ringing, .. })), "{to_ada:?}");
    let to_cleo = office.take(c);
    let Some(ServerMsg::Ring { call_id, from_user, for_user, .. }) = to_cleo.first() else { panic!("{to_cleo:?}") };
    assert_eq!((from_user.as_str(), for_user.as_deref()), ("ada", Some("bob")));
    // Cleo answers as herself: the call is between Ada and Cleo.
    office.send(c, json!({"type": "call_answer", "call_id": call_id, "accept": true}));
    assert!(office.take(a).iter().any(|m| matches!(m, ServerMsg::CallUpdate { state: CallState::Accepted, .. })));
}

#[test]
fn without_a_deputy_the_knock_ends_with_the_absence_and_rings_nobody() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(None, true));
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert_eq!(office.take(a), vec![ServerMsg::Away { user_id: "bob".into(), until: BACK, deputy_id: None }]);
    assert!(office.take(b).is_empty(), "an absent colleague is not rung, even when connected");
}

#[test]
fn the_deputy_knocking_on_the_absent_colleague_rings_nobody() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(Some("cleo"), true));
    let (c, _) = office.connect("acme", "cleo");
    office.clear();
    office.send(c, json!({"type": "call", "to_user": "bob"}));
    let got = office.take(c);
    assert_eq!(got, vec![ServerMsg::Away { user_id: "bob".into(), until: BACK, deputy_id: Some("cleo".into()) }]);
    assert!(errors(&got).is_empty());
}

#[test]
fn presence_shows_the_absence_while_the_floor_plan_has_it() {
    let mut office = Office::default();
    office.set_rooms("acme", floor_plan(Some("cleo"), false));
    let (a, _) = office.connect("acme", "ada");
    let (_b, _) = office.connect("acme", "bob");
    office.clear();
    // The absence begins: the floor plan says so, and Bob's presence follows.
    office.set_rooms("acme", floor_plan(Some("cleo"), true));
    let bob = |msgs: Vec<ServerMsg>| {
        msgs.into_iter().find_map(|m| match m {
            ServerMsg::Presence { user } if user.user_id == "bob" => Some(user),
            _ => None,
        })
    };
    let rooms_and_presence = office.take(a);
    let office_of_bob = rooms_and_presence.iter().find_map(|m| match m {
        ServerMsg::Rooms { rooms } => rooms.iter().find(|r| r.id == "office:bob").cloned(),
        _ => None,
    });
    assert_eq!(office_of_bob.and_then(|r| r.away), Some(Away { until: BACK, deputy_id: Some("cleo".into()) }));
    let presence = bob(rooms_and_presence).expect("bob's presence changed");
    assert_eq!((presence.status, presence.out_of_office, presence.deputy_id.as_deref(), presence.away_until), (Status::Online, true, Some("cleo"), Some(BACK)));
    // It ends: back to what Bob chose himself.
    office.set_rooms("acme", floor_plan(Some("cleo"), false));
    let presence = bob(office.take(a)).expect("bob's presence changed back");
    assert_eq!((presence.out_of_office, presence.deputy_id, presence.away_until), (false, None, None));
    // Calls reach him again.
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert!(!office.take(a).iter().any(|m| matches!(m, ServerMsg::Away { .. })));
    assert!(errors(&office.take(a)).iter().all(|e| *e != ErrorCode::UserOffline));
}
