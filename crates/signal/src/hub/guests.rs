//! Guests: people outside the organisation who opened a guest link for one conference room.
//!
//! A guest connection sees only its room: its `welcome` holds that room alone and no presence,
//! and afterwards it receives `room` updates of that room and the messages of the peers in it,
//! nothing else of the organisation. Guests are not users of the organisation: they have no
//! presence, cannot call or be called, and leave at once when they disconnect.
//!
//! Unless the server connects a guest with direct access, the guest waits in the **lobby**:
//! every member connection of the organisation receives `guest_waiting`, any member answers with
//! `admit_guest` (the guest receives `admitted` and may then `join_room`) or `refuse_guest` (the
//! guest's connection is closed with [`CloseCode::NotAdmitted`]). Members receive `guest_left`
//! once the guest no longer waits. A guest with several connections is one lobby entry, keyed by
//! user id; admitting or refusing applies to all its waiting connections.
//!
//! Signals between a guest and anyone else pass only while both are in the same room.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::rooms::CALL_ROOM_PREFIX;
use super::{ConnId, Hub};
use crate::protocol::{ClientMsg, CloseCode, ErrorCode, RoomKind, RoomState, ServerMsg};

/// How a guest may enter, as the server decided from the guest link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAccess {
    /// The one room (meeting room or reception) the guest link leads to.
    pub room_id: String,
    /// The room lets guests in directly; otherwise they wait in the lobby for a member.
    pub direct: bool,
}

impl Hub {
    /// Whether a connection is a guest's.
    pub(super) fn is_guest(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.guest.is_some())
    }

    /// The messages a guest may send: everything to do with being in their room, nothing more.
    pub(super) fn guest_may_send(msg: &ClientMsg) -> bool {
        matches!(
            msg,
            ClientMsg::Hello { .. }
                | ClientMsg::Ping {}
                | ClientMsg::JoinRoom { .. }
                | ClientMsg::LeaveRoom {}
                | ClientMsg::Signal { .. }
                | ClientMsg::MediaState(_)
                | ClientMsg::SfuOffer { .. }
                | ClientMsg::SfuAnswer { .. }
                | ClientMsg::SfuLayers { .. }
        )
    }

    /// The rooms a guest's `welcome` shows: their own room, if it exists.
    pub(super) fn guest_rooms(&self, org_id: &str, room_id: &str) -> Vec<RoomState> {
        let state = self.room_state(org_id, room_id).filter(|r| r.kind != RoomKind::Call);
        state.into_iter().collect()
    }

    /// Whether a connection may `join_room` a room; `Err` is the code to answer with. Members
    /// may try any room; a guest only their own room, once admitted.
    pub(super) fn may_join(&self, conn: ConnId, room_id: &str) -> Result<(), ErrorCode> {
        let Some(guest) = self.conns.get(&conn).and_then(|c| c.guest.as_ref()) else {
            return Ok(());
        };
        if guest.room_id != room_id || room_id.starts_with(CALL_ROOM_PREFIX) {
            Err(ErrorCode::UnknownRoom)
        } else if !guest.admitted {
            Err(ErrorCode::NotAllowed)
        } else {
            Ok(())
        }
    }

    /// Whether `from` may send a signal to `to`: members reach any member of their
    /// organisation; a guest and anyone else reach each other only within one room.
    pub(super) fn may_signal(&self, from: ConnId, to: ConnId) -> bool {
        let (Some(f), Some(t)) = (self.conns.get(&from), self.conns.get(&to)) else {
            return false;
        };
        if from == to || f.org_id != t.org_id {
            return false;
        }
        if f.guest.is_none() && t.guest.is_none() {
            return true;
        }
        f.room.is_some() && f.room == t.room
    }

    /// The guest connections of an organisation waiting in the lobby for `user_id`.
    fn waiting(&self, org_id: &str, user_id: &str) -> Vec<ConnId> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        let waits = |c: &&ConnId| {
            self.conns.get(c).is_some_and(|c| {
                c.user_id == user_id && c.guest.as_ref().is_some_and(|g| !g.admitted)
            })
        };
        org.guests.iter().filter(waits).copied().collect()
    }

    /// A guest connection entered the lobby: the members hear of it.
    pub(super) fn announce_waiting(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else { return };
        let Some(guest) = c.guest.as_ref().filter(|g| !g.admitted) else { return };
        let msg = ServerMsg::GuestWaiting {
            room_id: guest.room_id.clone(),
            user_id: c.user_id.clone(),
            name: c.name.clone(),
        };
        let org_id = c.org_id.clone();
        self.broadcast(&org_id, &msg, None);
    }

    /// A member connected: it hears of every guest waiting in the lobby, once per guest.
    pub(super) fn send_lobby(&mut self, member: ConnId) {
        let Some(org) = self.conns.get(&member).and_then(|c| self.orgs.get(&c.org_id)) else {
            return;
        };
        let mut seen = BTreeSet::new();
        let mut msgs = Vec::new();
        for c in org.guests.iter().filter_map(|g| self.conns.get(g)) {
            let Some(guest) = c.guest.as_ref().filter(|g| !g.admitted) else { continue };
            if seen.insert(c.user_id.clone()) {
                msgs.push(ServerMsg::GuestWaiting {
                    room_id: guest.room_id.clone(),
                    user_id: c.user_id.clone(),
                    name: c.name.clone(),
                });
            }
        }
        for msg in msgs {
            self.send(member, msg);
        }
    }

    /// A waiting guest connection is gone: if it was the guest's last, members get `guest_left`.
    pub(super) fn left_lobby(&mut self, org_id: &str, user_id: &str) {
        if self.waiting(org_id, user_id).is_empty() {
            let msg = ServerMsg::GuestLeft { user_id: user_id.to_owned() };
            self.broadcast(org_id, &msg, None);
        }
    }

    /// `admit_guest`: every waiting connection of the guest gets `admitted`.
    pub(super) fn admit_guest(&mut self, conn: ConnId, user_id: &str) {
        let Some(org_id) = self.conns.get(&conn).map(|c| c.org_id.clone()) else { return };
        let waiting = self.waiting(&org_id, user_id);
        if waiting.is_empty() {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownGuest, "no such waiting guest"));
            return;
        }
        for guest_conn in waiting {
            let Some(guest) = self.conns.get_mut(&guest_conn).and_then(|c| c.guest.as_mut())
            else {
                continue;
            };
            guest.admitted = true;
            let msg = ServerMsg::Admitted { room_id: guest.room_id.clone() };
            self.send(guest_conn, msg);
        }
        self.left_lobby(&org_id, user_id);
    }

    /// `refuse_guest`: every waiting connection of the guest is closed with `not admitted`.
    pub(super) fn refuse_guest(&mut self, now: Instant, conn: ConnId, user_id: &str) {
        let Some(org_id) = self.conns.get(&conn).map(|c| c.org_id.clone()) else { return };
        let waiting = self.waiting(&org_id, user_id);
        if waiting.is_empty() {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownGuest, "no such waiting guest"));
            return;
        }
        for guest_conn in waiting {
            self.close(now, guest_conn, CloseCode::NotAdmitted);
        }
    }

    /// The guest connections whose room is `room_id`, whether waiting, admitted or in it.
    pub(super) fn guests_of(&self, org_id: &str, room_id: &str) -> Vec<ConnId> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        let of_room = |c: &&ConnId| {
            let guest = self.conns.get(c).and_then(|c| c.guest.as_ref());
            guest.is_some_and(|g| g.room_id == room_id)
        };
        org.guests.iter().filter(of_room).copied().collect()
    }

    /// The guest connections of a user (guests are removed by user id, like members).
    pub(super) fn guest_conns(&self, org_id: &str, user_id: &str) -> Vec<ConnId> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        let of_user = |c: &&ConnId| self.conns.get(c).is_some_and(|c| c.user_id == user_id);
        org.guests.iter().filter(of_user).copied().collect()
    }

    /// The current state of every room that guests of an organisation hold a link to.
    pub(super) fn guest_room_states(&self, org_id: &str) -> BTreeMap<String, RoomState> {
        let Some(org) = self.orgs.get(org_id) else { return BTreeMap::new() };
        let rooms = org.guests.iter().filter_map(|c| self.conns.get(c)?.guest.as_ref());
        let states = rooms.filter_map(|g| self.guest_rooms(org_id, &g.room_id).pop());
        states.map(|r| (r.id.clone(), r)).collect()
    }

    /// After the organisation's room list changed: each guest whose room changed gets its new
    /// state (and nothing if it did not: guests learn nothing of changes elsewhere); guests
    /// whose room is gone have nothing left here and are closed.
    pub(super) fn rooms_changed_for_guests(
        &mut self,
        now: Instant,
        org_id: &str,
        before: &BTreeMap<String, RoomState>,
    ) {
        let guests: Vec<ConnId> =
            self.orgs.get(org_id).map(|o| o.guests.iter().copied().collect()).unwrap_or_default();
        for conn in guests {
            let guest = self.conns.get(&conn).and_then(|c| c.guest.as_ref());
            let Some(room_id) = guest.map(|g| g.room_id.clone()) else { continue };
            match self.guest_rooms(org_id, &room_id).pop() {
                Some(room) if before.get(&room_id) == Some(&room) => {}
                Some(room) => self.send(conn, ServerMsg::Room { room }),
                None => self.close(now, conn, CloseCode::NotAdmitted),
            }
        }
    }
}
