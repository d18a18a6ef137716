//! Calls: knocking on a colleague's door.
//!
//! `call` rings every connection of the callee. The callee accepts or declines from any of them
//! (the other tabs see the outcome and stop ringing), the caller may cancel, and nobody answering
//! within [`super::HubConfig::ring_timeout`] ends it as `no_answer`. An accepted call gets an
//! ad-hoc room `call:<call_id>` of kind `call`, admitting only the two parties, which both join
//! with `join_room`; the call ends when either leaves it, or when they have not both joined
//! within the ring timeout.
//!
//! A knock on a colleague who is away (an absence on the floor plan) tells the caller until
//! when, and rings the absent colleague's deputy instead, telling them for whom they answer.
//! A knock on a colleague in a meeting (their calendar) does not ring, unless they chose so:
//! the caller hears busy. A knock on a colleague who does not want to be disturbed does not
//! ring either: it rings their deputy (the one they chose in their presence) instead, or,
//! without one, becomes a note for them (`knocked`) and the caller hears `noted`.

use std::collections::BTreeSet;
use std::time::Instant;

use super::rooms::{CALL_ROOM_PREFIX, RoomEntry};
use super::{ConnId, Hub, Room};
use crate::protocol::{CallState, ErrorCode, RoomKind, ServerMsg};

/// A call between two users of an organisation.
#[derive(Debug)]
pub(super) struct Call {
    caller_user: String,
    caller_conn: ConnId,
    callee_user: String,
    accepted: bool,
    /// Ringing: when it stops. Accepted: by when both must have joined.
    deadline: Instant,
    /// Both parties were in the call room together.
    reached_two: bool,
}

impl Call {
    /// The next deadline of this call, if one is pending.
    pub(super) fn deadline(&self) -> Option<Instant> {
        (!self.reached_two).then_some(self.deadline)
    }

    fn involves(&self, user_id: &str) -> bool {
        self.caller_user == user_id || self.callee_user == user_id
    }
}

impl Hub {
    pub(super) fn call(&mut self, now: Instant, conn: ConnId, to_user: &str) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id, name) = (c.org_id.clone(), c.user_id.clone(), c.name.clone());
        if to_user == user_id {
            self.send(conn, ServerMsg::error(ErrorCode::BadMessage, "cannot call yourself"));
            return;
        }
        let (to_user, for_user) = match self.away_of(&org_id, to_user).cloned() {
            None => (to_user.to_owned(), None),
            Some(away) => {
                let msg = ServerMsg::Away { user_id: to_user.to_owned(), until: away.until, deputy_id: away.deputy_id.clone() };
                self.send(conn, msg);
                match away.deputy_id {
                    // Without a deputy (or when the caller is the deputy) there is nobody to ring.
                    Some(deputy) if deputy != user_id => (deputy, Some(to_user.to_owned())),
                    _ => return,
                }
            }
        };
        // Do not disturb: the deputy answers, or the knock is left as a note.
        let dnd = self.orgs.get(&org_id).and_then(|o| o.users.get(&to_user)).filter(|u| u.is_dnd() && for_user.is_none());
        // The caller hears whom the knock rings instead (an absence says so in `away`).
        let mut dnd_deputy = None;
        let (to_user, for_user) = match dnd.map(|u| u.deputy().map(str::to_owned)) {
            None => (to_user, for_user),
            Some(Some(deputy)) if deputy != user_id => {
                dnd_deputy = Some(deputy.clone());
                (deputy, Some(to_user))
            }
            Some(_) => {
                self.leave_note(conn, &org_id, &to_user, &user_id, &name);
                return;
            }
        };
        let to_user = to_user.as_str();
        let Some(org) = self.orgs.get(&org_id) else { return };
        if org.calls.values().any(|call| call.involves(&user_id)) {
            self.send(conn, ServerMsg::error(ErrorCode::Busy, "you already have a call"));
            return;
        }
        let callee = org.users.get(to_user).filter(|u| !u.conns.is_empty());
        let Some(callee) = callee else {
            self.send(conn, ServerMsg::error(ErrorCode::UserOffline, "user is not online"));
            return;
        };
        let callee_conns: Vec<ConnId> = callee.conns.iter().copied().collect();
        // In a meeting the knock does not ring, unless the callee chose so.
        let in_meeting = self.meeting_of(&org_id, to_user).is_some_and(|m| !m.rings);
        let busy = callee.is_dnd()
            || in_meeting
            || org.calls.values().any(|call| call.involves(to_user))
            || self.in_call(&org_id, to_user);
        let call_id = self.fresh_id();
        let to_caller = |state| ServerMsg::CallUpdate { call_id: call_id.clone(), state, room_id: None, deputy_id: dnd_deputy.clone() };
        if busy {
            self.send(conn, to_caller(CallState::Busy));
            return;
        }
        let call = Call {
            caller_user: user_id.clone(),
            caller_conn: conn,
            callee_user: to_user.to_owned(),
            accepted: false,
            deadline: now + self.config.ring_timeout,
            reached_two: false,
        };
        if let Some(org) = self.orgs.get_mut(&org_id) {
            org.calls.insert(call_id.clone(), call);
        }
        let ring = ServerMsg::Ring { call_id: call_id.clone(), from_user: user_id, from_name: name, for_user };
        for callee_conn in callee_conns {
            self.send(callee_conn, ring.clone());
        }
        self.send(conn, to_caller(CallState::Ringing));
    }

    /// A knock on a colleague who does not want to be disturbed, without a deputy: their
    /// connections are told quietly, and the caller hears that it was noted.
    fn leave_note(&mut self, conn: ConnId, org_id: &str, to_user: &str, from_user: &str, from_name: &str) {
        let callee_conns: Vec<ConnId> = self.orgs.get(org_id).and_then(|o| o.users.get(to_user)).map(|u| u.conns.iter().copied().collect()).unwrap_or_default();
        if callee_conns.is_empty() {
            self.send(conn, ServerMsg::error(ErrorCode::UserOffline, "user is not online"));
            return;
        }
        let note = ServerMsg::Knocked { from_user: from_user.to_owned(), from_name: from_name.to_owned() };
        for callee_conn in callee_conns {
            self.send(callee_conn, note.clone());
        }
        let call_id = self.fresh_id();
        self.send(conn, update(&call_id, CallState::Noted, None));
    }

    pub(super) fn call_answer(&mut self, now: Instant, conn: ConnId, call_id: &str, accept: bool) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id) = (c.org_id.clone(), c.user_id.clone());
        let ringing = self.orgs.get(&org_id).and_then(|o| o.calls.get(call_id));
        if !ringing.is_some_and(|call| !call.accepted && call.callee_user == user_id) {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownCall, "no such ringing call"));
            return;
        }
        if !accept {
            self.finish_ringing(&org_id, call_id, CallState::Declined);
            return;
        }
        let room_id = format!("{CALL_ROOM_PREFIX}{call_id}");
        let deadline = now + self.config.ring_timeout;
        let mesh_cap = self.config.mesh_cap;
        let Some(org) = self.orgs.get_mut(&org_id) else { return };
        if let Some(call) = org.calls.get_mut(call_id) {
            call.accepted = true;
            call.deadline = deadline;
        }
        let room = Room {
            id: room_id.clone(),
            name: String::from("Call"),
            kind: RoomKind::Call,
            owner_user_id: None,
            capacity: Some(2),
            away: None,
            meeting: None,
            next_busy: None,
            media_threshold: None,
        };
        org.rooms.insert(room_id.clone(), RoomEntry::new(room, mesh_cap));
        let msg = update(call_id, CallState::Accepted, Some(room_id.clone()));
        for party in self.ringing_parties(&org_id, call_id) {
            self.send(party, msg.clone());
        }
    }

    pub(super) fn call_cancel(&mut self, conn: ConnId, call_id: &str) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id) = (c.org_id.clone(), c.user_id.clone());
        let ringing = self.orgs.get(&org_id).and_then(|o| o.calls.get(call_id));
        if !ringing.is_some_and(|call| !call.accepted && call.caller_user == user_id) {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownCall, "no such ringing call"));
            return;
        }
        self.finish_ringing(&org_id, call_id, CallState::Cancelled);
    }

    /// Ring timeouts and accepted calls whose parties never met.
    pub(super) fn expire_calls(&mut self, now: Instant) {
        let mut due = Vec::new();
        for (org_id, org) in &self.orgs {
            for (call_id, call) in &org.calls {
                if call.deadline().is_some_and(|d| d <= now) {
                    due.push((org_id.clone(), call_id.clone(), call.accepted));
                }
            }
        }
        for (org_id, call_id, accepted) in due {
            if accepted {
                self.end_call(now, &org_id, &call_id);
            } else {
                self.finish_ringing(&org_id, &call_id, CallState::NoAnswer);
            }
        }
    }

    /// A connection is going (already off its user's list): a ringing caller cancels; a
    /// callee's last connection means `no_answer`. Accepted calls end when a party leaves the call room (or by timeout).
    pub(super) fn calls_on_disconnect(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id) = (c.org_id.clone(), c.user_id.clone());
        let Some(org) = self.orgs.get(&org_id) else { return };
        let last_conn = org.users.get(&user_id).is_none_or(|u| u.conns.is_empty());
        let mut finished = Vec::new();
        for (call_id, call) in org.calls.iter().filter(|(_, call)| !call.accepted) {
            if call.caller_conn == conn {
                finished.push((call_id.clone(), CallState::Cancelled));
            } else if call.callee_user == user_id && last_conn {
                finished.push((call_id.clone(), CallState::NoAnswer));
            }
        }
        for (call_id, state) in finished {
            self.finish_ringing(&org_id, &call_id, state);
        }
    }

    /// Whether a user may enter a call room.
    pub(super) fn may_join_call(&self, org_id: &str, room_id: &str, user_id: &str) -> bool {
        let call_id = room_id.strip_prefix(CALL_ROOM_PREFIX).unwrap_or(room_id);
        let call = self.orgs.get(org_id).and_then(|o| o.calls.get(call_id));
        call.is_some_and(|call| call.accepted && call.involves(user_id))
    }

    pub(super) fn call_room_joined(&mut self, org_id: &str, room_id: &str) {
        let call_id = room_id.strip_prefix(CALL_ROOM_PREFIX).unwrap_or(room_id);
        let Some(org) = self.orgs.get_mut(org_id) else { return };
        let together = org.rooms.get(room_id).is_some_and(|r| r.members.len() >= 2);
        if let Some(call) = org.calls.get_mut(call_id) {
            call.reached_two |= together;
        }
    }

    /// A party left the call room: the call is over for both.
    pub(super) fn call_room_left(&mut self, now: Instant, org_id: &str, room_id: &str) {
        let call_id = room_id.strip_prefix(CALL_ROOM_PREFIX).unwrap_or(room_id);
        self.end_call(now, org_id, call_id);
    }

    /// Every connection of both parties of the call behind a call room.
    pub(super) fn call_party_conns(&self, org_id: &str, room_id: &str) -> Vec<ConnId> {
        let call_id = room_id.strip_prefix(CALL_ROOM_PREFIX).unwrap_or(room_id);
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        let Some(call) = org.calls.get(call_id) else { return Vec::new() };
        let users = [&call.caller_user, &call.callee_user];
        let conns = users.iter().filter_map(|u| org.users.get(*u)).flat_map(|u| u.conns.iter());
        conns.copied().collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// The caller's connection and every connection of the callee, still open.
    fn ringing_parties(&self, org_id: &str, call_id: &str) -> Vec<ConnId> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        let Some(call) = org.calls.get(call_id) else { return Vec::new() };
        let callee = org.users.get(&call.callee_user).map(|u| u.conns.clone()).unwrap_or_default();
        let mut parties: Vec<ConnId> = Some(call.caller_conn).into_iter().chain(callee).collect();
        parties.retain(|c| org.conns.contains(c));
        parties
    }

    /// Ends a ringing call with a final state, telling both sides.
    fn finish_ringing(&mut self, org_id: &str, call_id: &str, state: CallState) {
        let parties = self.ringing_parties(org_id, call_id);
        if let Some(org) = self.orgs.get_mut(org_id) {
            org.calls.remove(call_id);
        }
        let msg = update(call_id, state, None);
        for party in parties {
            self.send(party, msg.clone());
        }
    }

    /// Ends an accepted call: both parties get `ended` and the call room is removed.
    fn end_call(&mut self, now: Instant, org_id: &str, call_id: &str) {
        let room_id = format!("{CALL_ROOM_PREFIX}{call_id}");
        let parties = self.call_party_conns(org_id, &room_id);
        let Some(call) = self.orgs.get_mut(org_id).and_then(|o| o.calls.remove(call_id)) else {
            return;
        };
        let involved = BTreeSet::from([call.caller_user, call.callee_user]);
        let msg = update(call_id, CallState::Ended, None);
        for party in parties {
            self.send(party, msg.clone());
        }
        self.remove_room(now, org_id, &room_id);
        self.refresh_users(org_id, &involved);
    }
}

fn update(call_id: &str, state: CallState, room_id: Option<String>) -> ServerMsg {
    ServerMsg::CallUpdate { call_id: call_id.to_owned(), state, room_id, deputy_id: None }
}
