//! Rooms: the organisation's meeting rooms, reception and offices, plus the ad-hoc rooms of
//! accepted calls.
//!
//! Joining a room leaves the previous one first. A room admits at most its capacity, bounded by
//! the mesh cap. Every member of the organisation gets a `room` message whenever the participants
//! of an organisation room change (the floor plan), and so do the guests of that room; call rooms
//! are only shown to the two parties.
//! While a room holds two or more peers it has a session, logged as a [`CallLog`] when it ends.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{CallLog, ConnId, Hub, Output, Room};
use crate::protocol::{Away, Door, ErrorCode, MediaMode, Meeting, MediaState, NextBusy, PeerInfo, RoomKind, RoomState, ServerMsg};

/// The prefix of call room ids: `call:<call_id>`.
pub(super) const CALL_ROOM_PREFIX: &str = "call:";

/// A room and who is in it.
#[derive(Debug)]
pub(super) struct RoomEntry {
    room: Room,
    /// The most peers admitted.
    capacity: usize,
    /// The peers in the room, in order of arrival.
    pub(super) members: Vec<ConnId>,
    session: Option<Session>,
    /// Whether the room's media goes through the media server now (see the `media` module).
    pub(super) media: MediaMode,
}

/// Two or more peers together in a room.
#[derive(Debug)]
struct Session {
    call_id: String,
    started: Instant,
    users: BTreeSet<String>,
}

impl RoomEntry {
    /// `cap`: the most participants any room of this kind may have on this node (the mesh cap,
    /// or the media server's room cap when it serves big rooms).
    pub(super) fn new(room: Room, cap: usize) -> Self {
        let capacity = room.capacity.unwrap_or(cap).min(cap);
        Self { room, capacity, members: Vec::new(), session: None, media: MediaMode::Mesh }
    }

    pub(super) fn kind(&self) -> RoomKind {
        self.room.kind
    }

    /// The room's own threshold for the media server, if it has one.
    pub(super) fn media_threshold(&self) -> Option<usize> {
        self.room.media_threshold
    }

    /// The owner of an office is away.
    pub(super) fn away(&self) -> Option<&Away> {
        self.room.away.as_ref()
    }

    /// The owner of an office is in a meeting.
    pub(super) fn meeting(&self) -> Option<&Meeting> {
        self.room.meeting.as_ref()
    }

    /// The office owner's next busy interval, if shared.
    pub(super) fn next_busy(&self) -> Option<&NextBusy> {
        self.room.next_busy.as_ref()
    }

    /// What of an office its owner's presence shows: absence, meeting, next busy interval.
    fn owner_state(&self) -> (Option<&Away>, Option<&Meeting>, Option<&NextBusy>) {
        (self.room.away.as_ref(), self.room.meeting.as_ref(), self.room.next_busy.as_ref())
    }
}

impl Hub {
    /// What others see of a peer.
    fn peer_info(&self, conn: ConnId) -> Option<PeerInfo> {
        let c = self.conns.get(&conn)?;
        Some(PeerInfo {
            peer_id: c.peer_id.clone(),
            user_id: c.user_id.clone(),
            name: c.name.clone(),
            media_state: c.media,
            guest: c.guest.is_some(),
        })
    }

    pub(super) fn room_state(&self, org_id: &str, room_id: &str) -> Option<RoomState> {
        let entry = self.orgs.get(org_id)?.rooms.get(room_id)?;
        Some(RoomState {
            id: entry.room.id.clone(),
            name: entry.room.name.clone(),
            kind: entry.room.kind,
            owner_user_id: entry.room.owner_user_id.clone(),
            away: entry.room.away.clone(),
            meeting: entry.room.meeting.clone(),
            next_busy: entry.room.next_busy.clone(),
            capacity: entry.capacity,
            participants: entry.members.iter().filter_map(|m| self.peer_info(*m)).collect(),
        })
    }

    /// The organisation's rooms in the server's order (never call rooms).
    pub(super) fn org_rooms(&self, org_id: &str) -> Vec<RoomState> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        org.order.iter().filter_map(|id| self.room_state(org_id, id)).collect()
    }

    pub(super) fn join_room(&mut self, now: Instant, conn: ConnId, room_id: &str) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id) = (c.org_id.clone(), c.user_id.clone());
        let already = c.room.as_deref() == Some(room_id);
        if let Err(code) = self.may_join(conn, room_id) {
            let text = match code {
                ErrorCode::NotAllowed => "wait to be admitted",
                _ => "no such room",
            };
            self.send(conn, ServerMsg::error(code, text));
            return;
        }
        let Some(entry) = self.orgs.get(&org_id).and_then(|o| o.rooms.get(room_id)) else {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownRoom, "no such room"));
            return;
        };
        let is_call = entry.kind() == RoomKind::Call;
        let full = entry.members.len() >= entry.capacity;
        let owner = entry.room.owner_user_id.clone().filter(|o| entry.kind() == RoomKind::Office && *o != user_id);
        if !already && let Some(owner) = owner
            && let Err((code, text)) = self.may_walk_in(&org_id, &owner)
        {
            self.send(conn, ServerMsg::error(code, text));
            return;
        }
        if is_call && !self.may_join_call(&org_id, room_id, &user_id) {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownRoom, "no such room"));
            return;
        }
        if !already && full {
            self.send(conn, ServerMsg::error(ErrorCode::RoomFull, "the room is full"));
            return;
        }
        if !already {
            self.leave_room(now, conn, false);
            let Some(entry) = self.orgs.get_mut(&org_id).and_then(|o| o.rooms.get_mut(room_id))
            else {
                return;
            };
            entry.members.push(conn);
            if let Some(c) = self.conns.get_mut(&conn) {
                c.room = Some(room_id.to_owned());
            }
        }
        let members = self.members(&org_id, room_id);
        let others: Vec<ConnId> = members.iter().copied().filter(|m| *m != conn).collect();
        let peers = others.iter().filter_map(|m| self.peer_info(*m)).collect();
        let media_mode = self.media_mode(&org_id, room_id);
        self.send(conn, ServerMsg::Joined { room_id: room_id.to_owned(), peers, media_mode });
        if already {
            return;
        }
        if let Some(peer) = self.peer_info(conn) {
            let msg = ServerMsg::PeerJoined { room_id: room_id.to_owned(), peer };
            for other in others {
                self.send(other, msg.clone());
            }
        }
        self.room_changed(now, &org_id, room_id);
        if is_call {
            self.call_room_joined(&org_id, room_id);
        }
    }

    /// Whether a colleague may walk into `owner`'s office: not while they do not want to be
    /// disturbed, nor while their door is closed (knocking is the way in then).
    fn may_walk_in(&self, org_id: &str, owner: &str) -> Result<(), (ErrorCode, String)> {
        let Some(user) = self.orgs.get(org_id).and_then(|o| o.users.get(owner)) else { return Ok(()) };
        let name = self.presence_of(org_id, owner).map(|p| p.name).unwrap_or_default();
        if user.is_dnd() {
            return Err((ErrorCode::DoNotDisturb, format!("{name} does not want to be disturbed")));
        }
        if user.door() == Door::Closed {
            return Err((ErrorCode::DoorClosed, format!("{name}'s door is closed: knock to ask to come in")));
        }
        Ok(())
    }

    /// Takes a peer out of its room; returns whether it was in one. With `notify_self` the peer
    /// also gets a `peer_left` for itself (it was removed rather than leaving).
    pub(super) fn leave_room(&mut self, now: Instant, conn: ConnId, notify_self: bool) -> bool {
        if self.conns.get(&conn).is_none_or(|c| c.room.is_none()) {
            return false;
        }
        // While the connection is still in the room: the media server hears of it first.
        self.media_leave(conn);
        let Some(c) = self.conns.get_mut(&conn) else { return false };
        let Some(room_id) = c.room.take() else { return false };
        let (org_id, peer_id) = (c.org_id.clone(), c.peer_id.clone());
        let Some(entry) = self.orgs.get_mut(&org_id).and_then(|o| o.rooms.get_mut(&room_id)) else {
            return true;
        };
        entry.members.retain(|m| *m != conn);
        let is_call = entry.kind() == RoomKind::Call;
        let others = entry.members.clone();
        let msg = ServerMsg::PeerLeft { room_id: room_id.clone(), peer_id };
        for other in others.into_iter().chain(notify_self.then_some(conn)) {
            self.send(other, msg.clone());
        }
        self.room_changed(now, &org_id, &room_id);
        if let Some(user_id) = self.conns.get(&conn).map(|c| c.user_id.clone()) {
            self.refresh_user(&org_id, &user_id, None);
        }
        if is_call {
            self.call_room_left(now, &org_id, &room_id);
        }
        true
    }

    /// Removes a room and everyone in it; each occupant gets a `peer_left` for itself.
    pub(super) fn remove_room(&mut self, now: Instant, org_id: &str, room_id: &str) {
        let members = self.members(org_id, room_id);
        for &m in &members {
            self.leave_room(now, m, true);
        }
        self.update_session(now, org_id, room_id);
        if let Some(org) = self.orgs.get_mut(org_id) {
            org.rooms.remove(room_id);
            org.order.retain(|r| r != room_id);
        }
    }

    /// The server's room list for an organisation changed. Rooms that disappear are emptied
    /// (occupants get `peer_left` for themselves); rooms that stay keep their occupants even if
    /// their new capacity is lower. Every member of the organisation gets `rooms`; each guest gets
    /// `room` of their room if it changed, or is closed with `not admitted` if it is gone.
    pub fn set_rooms(&mut self, now: Instant, org_id: &str, rooms: Vec<Room>) {
        let mut seen = BTreeSet::new();
        let rooms: Vec<Room> = rooms
            .into_iter()
            .filter(|r| {
                let ok = !r.id.is_empty()
                    && !r.id.starts_with(CALL_ROOM_PREFIX)
                    && r.kind != RoomKind::Call;
                if !ok {
                    tracing::warn!("set_rooms: refusing a room with a call id or kind");
                }
                ok && seen.insert(r.id.clone())
            })
            .collect();
        let guest_rooms = self.guest_room_states(org_id);
        let old: Vec<String> = self.orgs.get(org_id).map(|o| o.order.clone()).unwrap_or_default();
        for gone in old.iter().filter(|id| !seen.contains(*id)) {
            self.remove_room(now, org_id, gone);
        }
        let cap = self.config.room_cap();
        let org = self.orgs.entry(org_id.to_owned()).or_default();
        org.order = rooms.iter().map(|r| r.id.clone()).collect();
        // Offices whose absence or meeting began or ended: their owners' presence changes.
        let mut owners_changed = BTreeSet::new();
        for room in &rooms {
            let before = org.rooms.get(&room.id).map(RoomEntry::owner_state).unwrap_or_default();
            let now = (room.away.as_ref(), room.meeting.as_ref(), room.next_busy.as_ref());
            if let Some(owner) = room.owner_user_id.as_ref().filter(|_| before != now) {
                owners_changed.insert(owner.clone());
            }
        }
        for room in rooms {
            match org.rooms.get_mut(&room.id) {
                Some(entry) => {
                    let members = std::mem::take(&mut entry.members);
                    let (session, media) = (entry.session.take(), entry.media);
                    *entry = RoomEntry::new(room, cap);
                    entry.members = members;
                    entry.session = session;
                    entry.media = media;
                }
                None => {
                    org.rooms.insert(room.id.clone(), RoomEntry::new(room, cap));
                }
            }
        }
        // A threshold changed (the organisation's, or a room marked large): rooms follow now.
        let occupied: Vec<String> = self.orgs.get(org_id).map(|o| o.rooms.iter().filter(|(_, r)| !r.members.is_empty()).map(|(id, _)| id.clone()).collect()).unwrap_or_default();
        for room_id in occupied {
            self.update_media_mode(org_id, &room_id);
        }
        let msg = ServerMsg::Rooms { rooms: self.org_rooms(org_id) };
        self.broadcast(org_id, &msg, None);
        self.rooms_changed_for_guests(now, org_id, &guest_rooms);
        self.refresh_users(org_id, &owners_changed);
    }

    /// `media_state`: remembered for `joined`/`room`, relayed to the other peers of the room.
    pub(super) fn media_state(&mut self, conn: ConnId, state: MediaState) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let before = c.media;
        c.media = state;
        let (org_id, peer_id) = (c.org_id.clone(), c.peer_id.clone());
        let Some(room_id) = c.room.clone() else { return };
        let msg = ServerMsg::MediaState {
            peer_id,
            muted: state.muted,
            camera: state.camera,
            screen: state.screen,
            speaking: state.speaking,
        };
        for other in self.members(&org_id, &room_id).into_iter().filter(|m| *m != conn) {
            self.send(other, msg.clone());
        }
        let quiet = |m: MediaState| MediaState { speaking: false, ..m };
        if quiet(state) != quiet(before) {
            self.broadcast_room(&org_id, &room_id);
        }
        if state.screen != before.screen {
            self.media_sharing(conn, state.screen);
        }
    }

    fn members(&self, org_id: &str, room_id: &str) -> Vec<ConnId> {
        let room = self.orgs.get(org_id).and_then(|o| o.rooms.get(room_id));
        room.map(|r| r.members.clone()).unwrap_or_default()
    }

    /// After a membership change: session bookkeeping, `room` fan-out, presence of occupants.
    fn room_changed(&mut self, now: Instant, org_id: &str, room_id: &str) {
        self.update_session(now, org_id, room_id);
        self.update_media_mode(org_id, room_id);
        self.broadcast_room(org_id, room_id);
        let users: BTreeSet<String> = self
            .members(org_id, room_id)
            .iter()
            .filter_map(|m| self.conns.get(m).map(|c| c.user_id.clone()))
            .collect();
        self.refresh_users(org_id, &users);
    }

    fn broadcast_room(&mut self, org_id: &str, room_id: &str) {
        let Some(room) = self.room_state(org_id, room_id) else { return };
        let msg = ServerMsg::Room { room };
        if msg_is_call(&msg) {
            for conn in self.call_party_conns(org_id, room_id) {
                self.send(conn, msg.clone());
            }
        } else {
            self.broadcast(org_id, &msg, None);
            for guest in self.guests_of(org_id, room_id) {
                self.send(guest, msg.clone());
            }
        }
    }

    /// Starts, extends or ends the session of a room, emitting a [`CallLog`] when one ends.
    fn update_session(&mut self, now: Instant, org_id: &str, room_id: &str) {
        let users: BTreeSet<String> = self
            .members(org_id, room_id)
            .iter()
            .filter_map(|m| self.conns.get(m).map(|c| c.user_id.clone()))
            .collect();
        let count = self.members(org_id, room_id).len();
        let fresh = self.fresh_id();
        let Some(entry) = self.orgs.get_mut(org_id).and_then(|o| o.rooms.get_mut(room_id)) else {
            return;
        };
        let is_call = entry.kind() == RoomKind::Call;
        match (&mut entry.session, count >= 2) {
            (None, true) => {
                let call_id = match room_id.strip_prefix(CALL_ROOM_PREFIX) {
                    Some(id) if is_call => id.to_owned(),
                    _ => fresh,
                };
                entry.session = Some(Session { call_id, started: now, users });
            }
            (Some(session), true) => session.users.extend(users),
            (Some(_), false) => {
                let Some(s) = entry.session.take() else { return };
                self.out.push_back(Output::CallLog(CallLog {
                    org_id: org_id.to_owned(),
                    room_id: (!is_call).then(|| room_id.to_owned()),
                    call_id: s.call_id,
                    started_at: s.started,
                    duration: now.saturating_duration_since(s.started),
                    participants: s.users.into_iter().collect(),
                }));
            }
            (None, false) => {}
        }
    }
}

fn msg_is_call(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::Room { room } if room.kind == RoomKind::Call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(capacity: Option<usize>) -> Room {
        Room {
            id: "r".into(),
            name: "R".into(),
            kind: RoomKind::Meeting,
            owner_user_id: None,
            capacity,
            away: None,
            meeting: None,
            next_busy: None,
            media_threshold: None,
        }
    }

    #[test]
    fn capacity_is_bounded_by_the_mesh_cap() {
        assert_eq!(RoomEntry::new(room(None), 8).capacity, 8);
        assert_eq!(RoomEntry::new(room(Some(3)), 8).capacity, 3);
        assert_eq!(RoomEntry::new(room(Some(50)), 8).capacity, 8);
    }
}
