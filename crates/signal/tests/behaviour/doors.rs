//! Doors: colleagues walk into an office whose door is open; a closed door or do-not-disturb
//! keeps them out (the hub refuses `join_room`), and a knock on someone who does not want to be
//! disturbed rings their deputy or becomes a note.

use bureau_signal::{CallState, Door, ErrorCode, Room, RoomKind, ServerMsg};
use serde_json::json;

use crate::{Office, errors};

/// The offices of ada, bob and cleo.
fn offices() -> Vec<Room> {
    ["ada", "bob", "cleo"]
        .into_iter()
        .map(|user| Room {
            id: format!("office:{user}"),
            name: format!("Office of {user}"),
            kind: RoomKind::Office,
            owner_user_id: Some(user.into()),
            capacity: None,
            away: None,
            meeting: None,
            next_busy: None,
            media_threshold: None,
        })
        .collect()
}

fn joined(msgs: &[ServerMsg]) -> bool {
    msgs.iter().any(|m| matches!(m, ServerMsg::Joined { .. }))
}

#[test]
fn a_closed_door_and_do_not_disturb_keep_colleagues_out_but_not_the_owner() {
    let mut office = Office::default();
    office.set_rooms("acme", offices());
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(b, json!({"type": "join_room", "room_id": "office:bob"}));
    office.send(b, json!({"type": "set_presence", "door": "closed"}));
    office.clear();

    // Everyone sees the door.
    office.send(a, json!({"type": "set_presence", "note": "hello"}));
    let seen = office.take(a);
    assert!(seen.iter().any(|m| matches!(m, ServerMsg::Presence { user } if user.user_id == "ada" && user.door == Door::Open)), "{seen:?}");

    office.send(a, json!({"type": "join_room", "room_id": "office:bob"}));
    let refused = office.take(a);
    assert_eq!(errors(&refused), [ErrorCode::DoorClosed]);
    assert!(!joined(&refused));
    assert!(!office.take(b).iter().any(|m| matches!(m, ServerMsg::PeerJoined { .. })), "nobody walked in on bob");

    // Open: walking in works as before.
    office.send(b, json!({"type": "set_presence", "door": "open"}));
    office.clear();
    office.send(a, json!({"type": "join_room", "room_id": "office:bob"}));
    assert!(joined(&office.take(a)));
    office.send(a, json!({"type": "leave_room"}));

    // Do-not-disturb keeps the door shut whatever it says.
    office.send(b, json!({"type": "set_presence", "status": "dnd"}));
    office.clear();
    office.send(a, json!({"type": "join_room", "room_id": "office:bob"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::DoNotDisturb]);

    // The owner walks into their own office whatever the door.
    office.send(b, json!({"type": "set_presence", "door": "closed"}));
    office.send(b, json!({"type": "leave_room"}));
    office.clear();
    office.send(b, json!({"type": "join_room", "room_id": "office:bob"}));
    assert!(joined(&office.take(b)));
}

#[test]
fn someone_already_inside_stays_when_the_door_closes() {
    let mut office = Office::default();
    office.set_rooms("acme", offices());
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(b, json!({"type": "join_room", "room_id": "office:bob"}));
    office.send(a, json!({"type": "join_room", "room_id": "office:bob"}));
    office.send(b, json!({"type": "set_presence", "door": "closed"}));
    office.clear();
    // Joining again (a reconnecting page does) is not walking in.
    office.send(a, json!({"type": "join_room", "room_id": "office:bob"}));
    let again = office.take(a);
    assert!(joined(&again) && errors(&again).is_empty(), "{again:?}");
}

#[test]
fn a_knock_on_do_not_disturb_rings_the_chosen_deputy_or_becomes_a_note() {
    let mut office = Office::default();
    office.set_rooms("acme", offices());
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    let (c, _) = office.connect("acme", "cleo");
    office.send(b, json!({"type": "set_presence", "status": "dnd", "deputy_id": "cleo"}));
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert!(office.take(b).is_empty(), "nothing reaches bob");
    let to_cleo = office.take(c);
    let Some(ServerMsg::Ring { from_user, for_user, .. }) = to_cleo.first() else { panic!("{to_cleo:?}") };
    assert_eq!((from_user.as_str(), for_user.as_deref()), ("ada", Some("bob")));
    // Ada hears that cleo, bob's deputy, is rung.
    let to_ada = office.take(a);
    assert!(to_ada.iter().any(|m| matches!(m, ServerMsg::CallUpdate { state: CallState::Ringing, deputy_id: Some(d), .. } if d == "cleo")), "{to_ada:?}");

    // The deputy knocking on bob is not sent back to themself: it is a note for bob.
    let mut office = Office::default();
    office.set_rooms("acme", offices());
    let (b, _) = office.connect("acme", "bob");
    let (c, _) = office.connect("acme", "cleo");
    office.send(b, json!({"type": "set_presence", "status": "dnd", "deputy_id": "cleo"}));
    office.clear();
    office.send(c, json!({"type": "call", "to_user": "bob"}));
    let to_cleo = office.take(c);
    assert!(to_cleo.iter().any(|m| matches!(m, ServerMsg::CallUpdate { state: CallState::Noted, .. })), "{to_cleo:?}");
    assert!(matches!(office.take(b).as_slice(), [ServerMsg::Knocked { from_user, .. }] if from_user == "cleo"));
}

#[test]
fn a_door_value_the_protocol_does_not_know_is_refused() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    office.clear();
    office.send(a, json!({"type": "set_presence", "door": "ajar"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::BadMessage]);
}
