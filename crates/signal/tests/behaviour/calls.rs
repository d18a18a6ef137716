//! Calls: ring, accept, decline, busy, no answer, cancel, hang up.

use std::time::Duration;

use bureau_signal::{CallState, ConnId, ErrorCode, RoomKind, ServerMsg};
use serde_json::json;

use crate::{Office, errors};

/// The `call_update`s among `msgs` as (call id, state, room id).
fn updates(msgs: &[ServerMsg]) -> Vec<(String, CallState, Option<String>)> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::CallUpdate { call_id, state, room_id, .. } => {
                Some((call_id.clone(), *state, room_id.clone()))
            }
            _ => None,
        })
        .collect()
}

fn states(office: &mut Office, conn: ConnId) -> Vec<CallState> {
    updates(&office.take(conn)).into_iter().map(|u| u.1).collect()
}

/// Ada calls Bob; returns the call id.
fn ring(office: &mut Office, caller: ConnId, callees: &[ConnId]) -> String {
    office.send(caller, json!({"type": "call", "to_user": "bob"}));
    let mut call_id = None;
    for &c in callees {
        let got = office.take(c);
        let Some(ServerMsg::Ring { call_id: id, from_user, .. }) = got.first() else {
            panic!("{got:?}")
        };
        assert_eq!(from_user, "ada");
        call_id = Some(id.clone());
    }
    let call_id = call_id.unwrap_or_default();
    assert_eq!(updates(&office.take(caller)), [(call_id.clone(), CallState::Ringing, None)]);
    call_id
}

#[test]
fn accepting_opens_a_call_room_for_both_and_hanging_up_ends_it() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b1, pb1) = office.connect("acme", "bob");
    let (b2, _) = office.connect("acme", "bob");
    office.clear();
    let call_id = ring(&mut office, a, &[b1, b2]);
    office.send(b1, json!({"type": "call_answer", "call_id": call_id, "accept": true}));
    let room_id = format!("call:{call_id}");
    let accepted = (call_id.clone(), CallState::Accepted, Some(room_id.clone()));
    for c in [a, b1, b2] {
        assert_eq!(updates(&office.take(c)), vec![accepted.clone()], "every tab stops ringing");
    }
    office.send(a, json!({"type": "join_room", "room_id": room_id}));
    office.clear();
    office.send(b1, json!({"type": "join_room", "room_id": room_id}));
    let to_b = office.take(b1);
    let Some(ServerMsg::Joined { peers, .. }) = to_b.first() else { panic!("{to_b:?}") };
    assert_eq!(peers.len(), 1);
    assert_eq!(office.hub.presence("acme", "bob").map(|p| p.in_call), Some(true));
    assert!(office.hub.poll_timeout().is_none(), "no deadline once both are in");

    office.advance(Duration::from_secs(300));
    office.send(a, json!({"type": "leave_room"}));
    let to_b = office.take(b1);
    assert!(updates(&to_b).contains(&(call_id.clone(), CallState::Ended, None)));
    let me_out = ServerMsg::PeerLeft { room_id: room_id.clone(), peer_id: pb1 };
    assert!(to_b.contains(&me_out), "bob is taken out of the call room: {to_b:?}");
    let logs = office.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!((logs[0].room_id.clone(), logs[0].call_id.clone()), (None, call_id));
    assert_eq!(logs[0].duration, Duration::from_secs(300));
    assert!(office.hub.rooms("acme").iter().all(|r| r.kind != RoomKind::Call));
    assert_eq!(office.hub.presence("acme", "bob").map(|p| p.in_call), Some(false));
}

#[test]
fn declining_tells_both_sides() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    let call_id = ring(&mut office, a, &[b]);
    office.send(b, json!({"type": "call_answer", "call_id": call_id, "accept": false}));
    assert_eq!(states(&mut office, a), [CallState::Declined]);
    assert_eq!(states(&mut office, b), [CallState::Declined]);
    office.send(b, json!({"type": "call_answer", "call_id": call_id, "accept": true}));
    assert_eq!(errors(&office.take(b)), [ErrorCode::UnknownCall]);
}

#[test]
fn do_not_disturb_leaves_a_note_and_a_second_call_is_busy() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    let (c, _) = office.connect("acme", "cyd");
    office.send(b, json!({"type": "set_presence", "status": "dnd"}));
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    assert_eq!(states(&mut office, a), [CallState::Noted]);
    assert_eq!(office.take(b), [ServerMsg::Knocked { from_user: "ada".into(), from_name: "Name of ada".into() }], "dnd does not ring: a note");

    office.send(b, json!({"type": "set_presence", "status": "online"}));
    office.clear();
    let _ = ring(&mut office, a, &[b]);
    office.send(c, json!({"type": "call", "to_user": "bob"}));
    assert_eq!(states(&mut office, c), [CallState::Busy]);
    office.send(a, json!({"type": "call", "to_user": "cyd"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::Busy]);
}

#[test]
fn calling_someone_offline_or_oneself_is_an_error() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    office.clear();
    office.send(a, json!({"type": "call", "to_user": "bob"}));
    office.send(a, json!({"type": "call", "to_user": "ada"}));
    assert_eq!(errors(&office.take(a)), [ErrorCode::UserOffline, ErrorCode::BadMessage]);
}

#[test]
fn nobody_answering_is_no_answer_after_the_ring_timeout() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    let rung = office.now;
    let _ = ring(&mut office, a, &[b]);
    assert_eq!(office.hub.poll_timeout(), Some(rung + Duration::from_secs(30)));
    office.advance(Duration::from_secs(29));
    assert!(states(&mut office, a).is_empty());
    office.advance(Duration::from_secs(1));
    assert_eq!(states(&mut office, a), [CallState::NoAnswer]);
    assert_eq!(states(&mut office, b), [CallState::NoAnswer]);
}

#[test]
fn the_caller_cancels_or_hangs_up_by_disconnecting() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    let call_id = ring(&mut office, a, &[b]);
    office.send(b, json!({"type": "call_cancel", "call_id": call_id}));
    assert_eq!(errors(&office.take(b)), [ErrorCode::UnknownCall], "only the caller cancels");
    office.send(a, json!({"type": "call_cancel", "call_id": call_id}));
    assert_eq!(states(&mut office, b), [CallState::Cancelled]);
    assert_eq!(states(&mut office, a), [CallState::Cancelled]);

    let _ = ring(&mut office, a, &[b]);
    office.disconnect(a);
    assert_eq!(states(&mut office, b), [CallState::Cancelled]);
}

#[test]
fn only_the_parties_may_enter_a_call_room_and_it_ends_if_they_never_meet() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    let (c, _) = office.connect("acme", "cyd");
    office.clear();
    let call_id = ring(&mut office, a, &[b]);
    office.send(b, json!({"type": "call_answer", "call_id": call_id, "accept": true}));
    office.send(c, json!({"type": "join_room", "room_id": format!("call:{call_id}")}));
    assert_eq!(errors(&office.take(c)), [ErrorCode::UnknownRoom]);
    office.send(a, json!({"type": "join_room", "room_id": format!("call:{call_id}")}));
    office.clear();
    office.advance(Duration::from_secs(30));
    assert_eq!(states(&mut office, a), [CallState::Ended]);
    assert!(office.logs().is_empty(), "a call where only one side showed up is not logged");
}

#[test]
fn the_callee_going_offline_while_ringing_is_no_answer() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (b1, _) = office.connect("acme", "bob");
    let (b2, _) = office.connect("acme", "bob");
    office.clear();
    let _ = ring(&mut office, a, &[b1, b2]);
    office.disconnect(b1);
    assert!(states(&mut office, a).is_empty(), "another tab still rings");
    office.disconnect(b2);
    assert_eq!(states(&mut office, a), [CallState::NoAnswer]);
    assert_eq!(office.hub.poll_timeout().map(|t| t - office.now), Some(Duration::from_secs(15)));
}
