//! Behaviour tests of the signaling hub: a fake clock, no sockets.
//!
//! [`Office`] plays the driver: it opens connections, sends JSON frames, advances time and
//! collects what the hub emits, per connection.

mod absences;
mod abuse;
mod calls;
mod doors;
mod fuzz_corpus;
mod guests;
mod isolation;
mod media;
mod meetings;
mod presence;
mod random;
mod rooms;

use std::time::{Duration, Instant};

use bureau_signal::{
    CallLog, CloseCode, ConnId, ConnectInfo, ErrorCode, GuestAccess, Hub, HubConfig, MediaCommand, Output, PeerId,
    Room, RoomKind, ServerMsg,
};
use serde_json::Value;

/// A driver for the hub with a fake clock.
pub struct Office {
    /// The hub under test.
    pub hub: Hub,
    /// When the fake clock started.
    pub start: Instant,
    /// The fake clock.
    pub now: Instant,
    next_conn: u64,
    outbox: Vec<Output>,
}

impl Default for Office {
    fn default() -> Self {
        Self::with_config(HubConfig::default())
    }
}

impl Office {
    /// An office with a configuration and a seeded hub.
    pub fn with_config(config: HubConfig) -> Self {
        let start = Instant::now();
        Self { hub: Hub::with_seed(config, 7), start, now: start, next_conn: 0, outbox: Vec::new() }
    }

    /// Opens a connection for `user` of `org` and returns it with its peer id.
    pub fn connect(&mut self, org: &str, user: &str) -> (ConnId, PeerId) {
        self.connect_profile(org, user, &format!("Name of {user}"), false)
    }

    /// Opens a connection for `user` of `org` whose profile has `name` and `has_picture`.
    pub fn connect_profile(&mut self, org: &str, user: &str, name: &str, has_picture: bool) -> (ConnId, PeerId) {
        let session = format!("session-{}", self.next_conn + 1);
        self.connect_in_session(org, user, name, has_picture, &session)
    }

    /// Opens a connection for `user` of `org` signed in with the session tagged `session`.
    pub fn connect_in_session(&mut self, org: &str, user: &str, name: &str, has_picture: bool, session: &str) -> (ConnId, PeerId) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        let info = ConnectInfo {
            org_id: org.into(),
            user_id: user.into(),
            name: name.into(),
            has_picture,
            ice_servers: serde_json::json!([{"urls": ["stun:turn.example:3478"]}]),
            guest: None,
            session: session.into(),
        };
        let peer = self.hub.connect(self.now, conn, info);
        (conn, peer)
    }

    /// Opens a guest connection for `user` of `org`, with a guest link to `room`; `direct`
    /// skips the lobby.
    pub fn connect_guest(
        &mut self,
        org: &str,
        user: &str,
        room: &str,
        direct: bool,
    ) -> (ConnId, PeerId) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        let info = ConnectInfo {
            org_id: org.into(),
            user_id: user.into(),
            name: format!("Guest {user}"),
            has_picture: false,
            ice_servers: serde_json::json!([]),
            guest: Some(GuestAccess { room_id: room.into(), direct }),
            session: format!("session-{}", self.next_conn),
        };
        let peer = self.hub.connect(self.now, conn, info);
        (conn, peer)
    }

    /// Closes a connection.
    pub fn disconnect(&mut self, conn: ConnId) {
        self.hub.disconnect(self.now, conn);
    }

    /// Sends a JSON message on a connection.
    pub fn send(&mut self, conn: ConnId, msg: Value) {
        self.send_text(conn, &msg.to_string());
    }

    /// Sends a raw text frame on a connection.
    pub fn send_text(&mut self, conn: ConnId, text: &str) {
        self.hub.message(self.now, conn, text);
    }

    /// Replaces an organisation's rooms.
    pub fn set_rooms(&mut self, org: &str, rooms: Vec<Room>) {
        self.hub.set_rooms(self.now, org, rooms);
    }

    /// Advances the fake clock, firing every deadline that falls due on the way.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(t) = self.hub.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.hub.handle_timeout(self.now);
        }
        self.now = end;
    }

    fn pump(&mut self) {
        while let Some(o) = self.hub.poll_output() {
            self.outbox.push(o);
        }
    }

    /// Takes the messages sent to `conn` so far.
    pub fn take(&mut self, conn: ConnId) -> Vec<ServerMsg> {
        self.pump();
        let mut mine = Vec::new();
        self.outbox.retain(|o| match o {
            Output::Send { conn: c, msg } if *c == conn => {
                mine.push(ServerMsg::clone(msg));
                false
            }
            _ => true,
        });
        mine
    }

    /// Takes the closes emitted so far.
    pub fn closes(&mut self) -> Vec<(ConnId, CloseCode)> {
        self.pump();
        let mut closes = Vec::new();
        self.outbox.retain(|o| match o {
            Output::Close { conn, code } => {
                closes.push((*conn, *code));
                false
            }
            _ => true,
        });
        closes
    }

    /// Takes the commands for the media server emitted so far.
    pub fn media_commands(&mut self) -> Vec<MediaCommand> {
        self.pump();
        let mut commands = Vec::new();
        self.outbox.retain(|o| match o {
            Output::Media(command) => {
                commands.push(command.clone());
                false
            }
            _ => true,
        });
        commands
    }

    /// Takes the presence flips emitted so far, as (org, user, present).
    pub fn present_flips(&mut self) -> Vec<(String, String, bool)> {
        self.pump();
        let mut flips = Vec::new();
        self.outbox.retain(|o| match o {
            Output::Present { org_id, user_id, present } => {
                flips.push((org_id.clone(), user_id.clone(), *present));
                false
            }
            _ => true,
        });
        flips
    }

    /// Takes the call logs emitted so far.
    pub fn logs(&mut self) -> Vec<CallLog> {
        self.pump();
        let mut logs = Vec::new();
        self.outbox.retain(|o| match o {
            Output::CallLog(log) => {
                logs.push(log.clone());
                false
            }
            _ => true,
        });
        logs
    }

    /// Forgets everything emitted so far.
    pub fn clear(&mut self) {
        self.pump();
        self.outbox.clear();
    }
}

/// A room without owner.
pub fn room(id: &str, kind: RoomKind, capacity: Option<usize>) -> Room {
    Room { id: id.into(), name: format!("Room {id}"), kind, owner_user_id: None, capacity, away: None, meeting: None, next_busy: None, media_threshold: None }
}

/// The codes of the `error` messages among `msgs`.
pub fn errors(msgs: &[ServerMsg]) -> Vec<ErrorCode> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Error { code, .. } => Some(*code),
            _ => None,
        })
        .collect()
}

/// The wire types of `msgs`, in order.
pub fn kinds(msgs: &[ServerMsg]) -> Vec<&'static str> {
    msgs.iter().map(ServerMsg::kind).collect()
}
