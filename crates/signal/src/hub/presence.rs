//! Presence: one record per user, however many tabs and devices they have open.
//!
//! A user is online while they have a connection and for [`super::HubConfig::presence_grace`]
//! after the last one drops, so that a network drop or a server restart followed by a reconnect
//! shows no offline flicker. `in_call` is derived from rooms: it is true while one of the user's
//! peers shares a room with someone else. Every change goes to the whole organisation as one
//! `presence` message, and only when what others see actually changed.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{ConnId, Hub, Output};
use crate::protocol::{
    Availability, Away, Door, ErrorCode, Meeting, Location, PresenceUpdate, ServerMsg, Status, UserPresence,
};

/// What the hub keeps about a user of an organisation.
#[derive(Debug)]
pub(super) struct User {
    name: String,
    has_picture: bool,
    /// Counts the new pictures set while the hub knew the user.
    picture_version: u32,
    chosen: Availability,
    location: Option<Location>,
    out_of_office: bool,
    deputy_id: Option<String>,
    note: Option<String>,
    door: Door,
    /// Open connections of the user.
    pub(super) conns: BTreeSet<ConnId>,
    /// When the grace period of a user without connections runs out.
    pub(super) offline_at: Option<Instant>,
    online: bool,
    /// The presence last sent to the organisation.
    last_sent: Option<UserPresence>,
}

impl User {
    pub(super) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            has_picture: false,
            picture_version: 0,
            chosen: Availability::Online,
            location: None,
            out_of_office: false,
            deputy_id: None,
            note: None,
            door: Door::Open,
            conns: BTreeSet::new(),
            offline_at: None,
            online: false,
            last_sent: None,
        }
    }

    /// A connection opened: the user is online and any grace period is cancelled. The profile
    /// read for the connection is the newest.
    pub(super) fn connected(&mut self, conn: ConnId, name: &str, has_picture: bool) {
        self.set_profile(name, has_picture);
        self.conns.insert(conn);
        self.online = true;
        self.offline_at = None;
    }

    /// A connection closed: the last one starts the grace period.
    pub(super) fn disconnected(&mut self, conn: ConnId, grace_ends: Instant) {
        self.conns.remove(&conn);
        if self.conns.is_empty() && self.online {
            self.offline_at = Some(grace_ends);
        }
    }

    /// The user's name or picture changed.
    pub(super) fn set_profile(&mut self, name: &str, has_picture: bool) {
        name.clone_into(&mut self.name);
        self.has_picture = has_picture;
    }

    /// The user set a new picture.
    pub(super) fn new_picture(&mut self) {
        self.picture_version = self.picture_version.wrapping_add(1);
    }

    pub(super) fn go_offline(&mut self) {
        self.online = false;
        self.offline_at = None;
    }

    /// Refuses calls: do not disturb.
    pub(super) fn is_dnd(&self) -> bool {
        self.chosen == Availability::Dnd
    }

    /// Whether colleagues may walk into the user's office: the door is open and the user does
    /// not want to be left undisturbed.
    pub(super) fn door(&self) -> Door {
        self.door
    }

    /// The colleague the user chose to stand in for them.
    pub(super) fn deputy(&self) -> Option<&str> {
        self.deputy_id.as_deref()
    }

    fn apply(&mut self, update: PresenceUpdate) {
        if let Some(status) = update.status {
            self.chosen = status;
        }
        if let Some(location) = update.location {
            self.location = location;
        }
        if let Some(ooo) = update.out_of_office {
            self.out_of_office = ooo;
        }
        if let Some(deputy) = update.deputy_id {
            self.deputy_id = deputy;
        }
        if let Some(note) = update.note {
            self.note = Some(note).filter(|n| !n.is_empty());
        }
        if let Some(door) = update.door {
            self.door = door;
        }
    }
}

/// Whether a presence counts as present for attendance: online and not away.
fn present(presence: &UserPresence) -> bool {
    matches!(presence.status, Status::Online | Status::Busy | Status::Dnd)
}

impl Hub {
    /// The absence of an office's owner, from the floor plan.
    pub(super) fn away_of(&self, org_id: &str, user_id: &str) -> Option<&Away> {
        self.orgs.get(org_id)?.rooms.get(&format!("office:{user_id}"))?.away()
    }

    /// The meeting an office's owner is in, from the floor plan.
    pub(super) fn meeting_of(&self, org_id: &str, user_id: &str) -> Option<&Meeting> {
        self.orgs.get(org_id)?.rooms.get(&format!("office:{user_id}"))?.meeting()
    }

    /// The presence of a user as the organisation sees it now: an absence makes them out of
    /// office, with its deputy, whatever they chose; their calendar says when they are in a
    /// meeting and (if they share it) when they are busy next.
    pub(super) fn presence_of(&self, org_id: &str, user_id: &str) -> Option<UserPresence> {
        let org = self.orgs.get(org_id)?;
        let user = org.users.get(user_id)?;
        let peers = user.conns.iter().filter_map(|c| self.conns.get(c)).map(|c| c.peer_id.clone());
        let office = org.rooms.get(&format!("office:{user_id}"));
        let away = office.and_then(|o| o.away());
        Some(UserPresence {
            user_id: user_id.to_owned(),
            name: user.name.clone(),
            has_picture: user.has_picture,
            picture_version: user.picture_version,
            status: if user.online { user.chosen.into() } else { Status::Offline },
            in_call: self.in_call(org_id, user_id),
            location: user.location,
            out_of_office: user.out_of_office || away.is_some(),
            deputy_id: away.and_then(|a| a.deputy_id.clone()).or_else(|| user.deputy_id.clone()),
            away_until: away.map(|a| a.until),
            meeting: office.and_then(|o| o.meeting()).cloned(),
            next_busy: office.and_then(|o| o.next_busy()).cloned(),
            note: user.note.clone(),
            door: user.door,
            peers: peers.collect(),
        })
    }

    /// Whether one of the user's peers shares a room with someone else.
    pub(super) fn in_call(&self, org_id: &str, user_id: &str) -> bool {
        let Some(org) = self.orgs.get(org_id) else { return false };
        let Some(user) = org.users.get(user_id) else { return false };
        user.conns.iter().filter_map(|c| self.conns.get(c)?.room.as_ref()).any(|room| {
            org.rooms.get(room).is_some_and(|r| r.members.len() >= 2)
        })
    }

    /// Sends the user's presence to the organisation if it changed since it was last sent.
    pub(super) fn refresh_user(&mut self, org_id: &str, user_id: &str, except: Option<ConnId>) {
        let Some(now) = self.presence_of(org_id, user_id) else { return };
        let Some(user) = self.orgs.get_mut(org_id).and_then(|o| o.users.get_mut(user_id)) else {
            return;
        };
        if user.last_sent.as_ref() == Some(&now) {
            return;
        }
        let was_present = user.last_sent.as_ref().is_some_and(present);
        user.last_sent = Some(now.clone());
        if was_present != present(&now) {
            let (org_id, user_id, present) = (org_id.to_owned(), user_id.to_owned(), present(&now));
            self.out.push_back(Output::Present { org_id, user_id, present });
        }
        self.broadcast(org_id, &ServerMsg::Presence { user: now }, except);
    }

    /// Refreshes the presence of several users (after a room changed).
    pub(super) fn refresh_users(&mut self, org_id: &str, users: &BTreeSet<String>) {
        for user in users {
            self.refresh_user(org_id, user, None);
        }
    }

    /// `set_presence` from any tab applies to the user.
    pub(super) fn set_presence(&mut self, conn: ConnId, update: PresenceUpdate) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id) = (c.org_id.clone(), c.user_id.clone());
        // A deputy is a colleague: an active member of the same organisation (each has an
        // office on the floor plan, or is connected as a member now), not oneself, never a
        // guest or someone of another organisation.
        if let Some(Some(deputy)) = &update.deputy_id {
            let colleague = *deputy != user_id
                && self.orgs.get(&org_id).is_some_and(|o| {
                    o.rooms.contains_key(&format!("office:{deputy}")) || o.users.get(deputy).is_some_and(|u| u.conns.iter().any(|c| o.conns.contains(c)))
                });
            if !colleague {
                self.send(conn, ServerMsg::error(ErrorCode::BadMessage, "the deputy must be a colleague of your organisation"));
                return;
            }
        }
        let Some(user) = self.orgs.get_mut(&org_id).and_then(|o| o.users.get_mut(&user_id)) else {
            self.send(conn, ServerMsg::error(ErrorCode::BadMessage, "unknown user"));
            return;
        };
        user.apply(update);
        self.refresh_user(&org_id, &user_id, None);
    }

    /// Users whose grace period ran out turn offline.
    pub(super) fn expire_presence(&mut self, now: Instant) {
        let mut expired = Vec::new();
        for (org_id, org) in &mut self.orgs {
            for (user_id, user) in &mut org.users {
                if user.offline_at.is_some_and(|t| t <= now) && user.conns.is_empty() {
                    user.go_offline();
                    expired.push((org_id.clone(), user_id.clone()));
                }
            }
        }
        for (org_id, user_id) in expired {
            self.refresh_user(&org_id, &user_id, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn grace_starts_only_when_the_last_connection_drops() {
        let t = Instant::now();
        let mut user = User::new("Ada");
        user.connected(ConnId(1), "Ada", false);
        user.connected(ConnId(2), "Ada", false);
        user.disconnected(ConnId(1), t + Duration::from_secs(15));
        assert_eq!(user.offline_at, None);
        user.disconnected(ConnId(2), t + Duration::from_secs(15));
        assert_eq!(user.offline_at, Some(t + Duration::from_secs(15)));
        user.connected(ConnId(3), "Ada", false);
        assert_eq!(user.offline_at, None);
    }

    #[test]
    fn updates_change_only_the_given_fields() {
        let mut user = User::new("Ada");
        user.apply(PresenceUpdate {
            status: Some(Availability::Dnd),
            location: Some(Some(Location::HomeOffice)),
            note: Some("focus".into()),
            ..Default::default()
        });
        user.apply(PresenceUpdate { out_of_office: Some(true), ..Default::default() });
        assert!(user.is_dnd());
        assert_eq!(user.location, Some(Location::HomeOffice));
        assert_eq!(user.note.as_deref(), Some("focus"));
        user.apply(PresenceUpdate {
            location: Some(None),
            note: Some(String::new()),
            ..Default::default()
        });
        assert_eq!((user.location, user.note.as_deref(), user.out_of_office), (None, None, true));
    }
}
