//! The hub: presence, rooms and calls of every organisation on this node, as a sans-IO state
//! machine.
//!
//! The driver owns the sockets. It tells the hub about connections ([`Hub::connect`],
//! [`Hub::disconnect`]), text frames ([`Hub::message`]), time ([`Hub::handle_timeout`]) and
//! changes made elsewhere ([`Hub::set_rooms`], [`Hub::set_user_removed`]). After each call it
//! drains [`Hub::poll_output`] and sends what comes out, then sleeps until
//! [`Hub::poll_timeout`] or the next event.
//!
//! Organisations are isolated by construction: every lookup starts from the sender's
//! organisation, so nothing of another organisation can be seen, joined, rung or signalled.
//!
//! Decisions worth knowing (see `docs/protocol.md`):
//! - a disconnected peer leaves its room at once; the reconnecting client gets a new peer id and
//!   joins again. Presence, unlike rooms, survives a drop for [`HubConfig::presence_grace`];
//! - an accepted call does not move anyone: both sides `join_room` the `call:<call_id>` room;
//! - `signal` reaches any peer of the same organisation (rooms, direct messages, file transfer),
//!   except that signals to or from a guest pass only within one room;
//! - guests ([`ConnectInfo::guest`]) see their one room and nothing else of the organisation,
//!   and may wait in a lobby until a member admits them (see the `guests` module).

mod calls;
mod config;
mod guests;
mod media;
mod output;
mod presence;
mod rooms;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::protocol::{
    Away, ClientMsg, Meeting, NextBusy, CloseCode, ErrorCode, GuestInfo, MediaState, Notice, PROTOCOL_VERSION, PeerId, RoomKind,
    RoomState,
    ServerMsg, UserPresence, parse_client,
};
use crate::error::ProtocolError;
use calls::Call;
pub use config::HubConfig;
pub use guests::GuestAccess;
pub use media::{MediaCommand, MediaEvent};
pub use output::{CallLog, Output};
use presence::User;
use rooms::RoomEntry;

/// The longest grace period or ring timeout honoured (a day).
const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The driver's handle for one WebSocket connection; any value unique among open connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// What the driver knows about a new, authenticated connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectInfo {
    /// The user's organisation.
    pub org_id: String,
    /// The user.
    pub user_id: String,
    /// The user's display name.
    pub name: String,
    /// Whether the user has a profile picture.
    pub has_picture: bool,
    /// The `iceServers` for this connection (STUN/TURN URLs and time-limited credentials).
    pub ice_servers: serde_json::Value,
    /// `None` for a member of the organisation. `Some` for a guest who opened a guest link:
    /// `user_id` is then the guest's id (never a member's) and `name` the name they gave.
    pub guest: Option<GuestAccess>,
    /// Names the sign-in (session) the connection was opened with, so that signing out closes
    /// that session's connections and no others (an opaque tag, never the session token).
    pub session: String,
}

/// A room of an organisation, as the server loads it from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The room id; must not start with `call:`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Meeting room, reception or office ([`RoomKind::Call`] is refused).
    pub kind: RoomKind,
    /// The owner, for offices.
    pub owner_user_id: Option<String>,
    /// The most peers the room admits; the mesh cap applies anyway.
    pub capacity: Option<usize>,
    /// An office's owner is away (an absence): shown on the floor plan and in their presence;
    /// knocks go to the deputy.
    pub away: Option<Away>,
    /// An office's owner is in a meeting: shown in their presence; knocks do not ring unless
    /// the owner chose so.
    pub meeting: Option<Meeting>,
    /// An office owner's next busy interval (shared by them): shown in their presence.
    pub next_busy: Option<NextBusy>,
    /// Participants at which this room moves to the media server, when the organisation set
    /// its own threshold or marked the room large (1: always); `None`: the node's
    /// ([`HubConfig::sfu_threshold`]). Without a media server on the node it does nothing.
    pub media_threshold: Option<usize>,
}

/// One open connection.
#[derive(Debug)]
struct Conn {
    peer_id: PeerId,
    org_id: String,
    user_id: String,
    name: String,
    room: Option<String>,
    media: MediaState,
    bad_messages: u32,
    /// A guest's room and whether they were admitted; `None` for members.
    guest: Option<GuestInfo>,
    /// The session tag of [`ConnectInfo::session`].
    session: String,
    /// How many times it connected to the media server (`sfu_offer`).
    media_joins: u32,
    /// The media server's offers this connection has not answered yet: an `sfu_answer` without
    /// one is refused before it costs the media server a parse.
    media_offers_open: u32,
}

/// Everything the hub knows about one organisation.
#[derive(Debug, Default)]
struct Org {
    /// Member connections: everything broadcast to the organisation goes to these only.
    conns: BTreeSet<ConnId>,
    /// Guest connections.
    guests: BTreeSet<ConnId>,
    users: BTreeMap<String, User>,
    rooms: BTreeMap<String, RoomEntry>,
    /// Organisation room ids in the order the server gave them.
    order: Vec<String>,
    calls: BTreeMap<String, Call>,
}

/// The signaling state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Hub {
    config: HubConfig,
    rng: StdRng,
    conns: BTreeMap<ConnId, Conn>,
    peers: HashMap<PeerId, ConnId>,
    orgs: HashMap<String, Org>,
    out: VecDeque<Output>,
}

impl Hub {
    /// A hub whose peer and call ids come from the operating system's randomness.
    pub fn new(config: HubConfig) -> Self {
        Self::with_rng(config, StdRng::from_entropy())
    }

    /// A hub whose ids come from a seeded generator: reproducible tests only.
    pub fn with_seed(config: HubConfig, seed: u64) -> Self {
        Self::with_rng(config, StdRng::seed_from_u64(seed))
    }

    fn with_rng(mut config: HubConfig, rng: StdRng) -> Self {
        // Bounded so that `now + duration` can never overflow.
        config.presence_grace = config.presence_grace.min(MAX_DELAY);
        config.ring_timeout = config.ring_timeout.min(MAX_DELAY);
        Self {
            config,
            rng,
            conns: BTreeMap::new(),
            peers: HashMap::new(),
            orgs: HashMap::new(),
            out: VecDeque::new(),
        }
    }

    /// A new authenticated connection: sends it `welcome` and tells the organisation. A member
    /// also hears of the guests waiting in the lobby; a guest without direct access enters it.
    pub fn connect(&mut self, now: Instant, conn: ConnId, info: ConnectInfo) -> PeerId {
        if self.conns.contains_key(&conn) {
            tracing::warn!(conn = conn.0, "connection id reused while open; dropping the old one");
            self.disconnect(now, conn);
        }
        let peer_id = PeerId::new(self.fresh_id());
        let ConnectInfo { org_id, user_id, name, has_picture, ice_servers, guest, session } = info;
        let guest = guest.map(|g| GuestInfo { room_id: g.room_id, admitted: g.direct });
        self.peers.insert(peer_id.clone(), conn);
        let org = self.orgs.entry(org_id.clone()).or_default();
        if guest.is_some() {
            org.guests.insert(conn);
        } else {
            org.conns.insert(conn);
            let user = org.users.entry(user_id.clone()).or_insert_with(|| User::new(&name));
            user.connected(conn, &name, has_picture);
        }
        self.conns.insert(
            conn,
            Conn {
                peer_id: peer_id.clone(),
                org_id: org_id.clone(),
                user_id: user_id.clone(),
                name,
                room: None,
                media: MediaState::default(),
                bad_messages: 0,
                guest: guest.clone(),
                session,
                media_joins: 0,
                media_offers_open: 0,
            },
        );
        let (presence, rooms) = match &guest {
            Some(g) => (Vec::new(), self.guest_rooms(&org_id, &g.room_id)),
            None => {
                self.refresh_user(&org_id, &user_id, Some(conn));
                self.org_snapshot(&org_id)
            }
        };
        let waiting = guest.as_ref().is_some_and(|g| !g.admitted);
        let member = guest.is_none();
        let welcome = ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            peer_id: peer_id.clone(),
            user_id,
            ice_servers,
            presence,
            rooms,
            guest,
        };
        self.send(conn, welcome);
        if member {
            self.send_lobby(conn);
        } else if waiting {
            self.announce_waiting(conn);
        }
        peer_id
    }

    /// A connection closed (by the client, the network, or after an [`Output::Close`]).
    pub fn disconnect(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else { return };
        let (org_id, user_id, guest) = (c.org_id.clone(), c.user_id.clone(), c.guest.clone());
        // Off the organisation's lists first, so that nothing below is sent to it.
        let grace = now + self.config.presence_grace;
        if let Some(org) = self.orgs.get_mut(&org_id) {
            org.conns.remove(&conn);
            org.guests.remove(&conn);
            if let Some(user) = org.users.get_mut(&user_id).filter(|_| guest.is_none()) {
                user.disconnected(conn, grace);
            }
        }
        if guest.is_none() {
            self.calls_on_disconnect(conn);
        }
        self.leave_room(now, conn, false);
        if let Some(c) = self.conns.remove(&conn) {
            self.peers.remove(&c.peer_id);
        }
        match guest {
            None => self.refresh_user(&org_id, &user_id, None),
            Some(g) if !g.admitted => self.left_lobby(&org_id, &user_id),
            Some(_) => {}
        }
    }

    /// A text frame from a connection.
    pub fn message(&mut self, now: Instant, conn: ConnId, text: &str) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        match parse_client(text) {
            Ok(msg) => self.dispatch(now, conn, msg),
            Err(e) => self.bad_message(now, conn, &e),
        }
    }

    /// Fires the deadlines that are due: presence grace periods and ring timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_presence(now);
        self.expire_calls(now);
    }

    /// The earliest deadline, if any: call [`Hub::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.orgs.values().flat_map(|o| o.deadlines()).min()
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Closes every connection with [`CloseCode::GoingAway`] and forgets all state.
    pub fn shutdown(&mut self) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.out.push_back(Output::Close { conn, code: CloseCode::GoingAway });
        }
        self.conns.clear();
        self.peers.clear();
        self.orgs.clear();
    }

    /// The user was deactivated or removed: closes their connections with
    /// [`CloseCode::Kicked`] and tells the organisation they are offline, at once. For a guest
    /// (whose link was revoked, say) it closes the guest's connections.
    pub fn set_user_removed(&mut self, now: Instant, org_id: &str, user_id: &str) {
        for guest in self.guest_conns(org_id, user_id) {
            self.close(now, guest, CloseCode::Kicked);
        }
        let Some(org) = self.orgs.get(org_id) else { return };
        let Some(user) = org.users.get(user_id) else { return };
        let conns: Vec<ConnId> = user.conns.iter().copied().collect();
        for conn in conns {
            self.close(now, conn, CloseCode::Kicked);
        }
        if let Some(user) = self.orgs.get_mut(org_id).and_then(|o| o.users.get_mut(user_id)) {
            user.go_offline();
        }
        self.refresh_user(org_id, user_id, None);
        if let Some(org) = self.orgs.get_mut(org_id) {
            org.users.remove(user_id);
        }
    }

    /// A session ended (the user signed out, or a guest's link was revoked): its connections
    /// close with [`CloseCode::SignedOut`]; the user's other sessions stay.
    pub fn set_session_ended(&mut self, now: Instant, org_id: &str, user_id: &str, session: &str) {
        let mut conns = self.guest_conns(org_id, user_id);
        if let Some(user) = self.orgs.get(org_id).and_then(|o| o.users.get(user_id)) {
            conns.extend(user.conns.iter().copied());
        }
        conns.retain(|c| self.conns.get(c).is_some_and(|c| c.session == session));
        for conn in conns {
            self.close(now, conn, CloseCode::SignedOut);
        }
    }

    /// A user's name or picture changed (the server read the new profile; `new_picture`: the
    /// user set a picture, maybe in place of another): the organisation hears of it, and the
    /// user's peers carry the new name from now on.
    pub fn set_user_profile(&mut self, org_id: &str, user_id: &str, name: &str, has_picture: bool, new_picture: bool) {
        let Some(user) = self.orgs.get_mut(org_id).and_then(|o| o.users.get_mut(user_id)) else { return };
        user.set_profile(name, has_picture);
        if new_picture {
            user.new_picture();
        }
        let conns: Vec<ConnId> = user.conns.iter().copied().collect();
        for conn in conns {
            if let Some(c) = self.conns.get_mut(&conn) {
                name.clone_into(&mut c.name);
            }
        }
        self.refresh_user(org_id, user_id, None);
    }

    /// Something waits on the server for a member (messages for their devices, changed group
    /// conversations): each of their open connections is told to fetch it.
    pub fn notify(&mut self, org_id: &str, user_id: &str, notice: Notice) {
        let Some(user) = self.orgs.get(org_id).and_then(|o| o.users.get(user_id)) else { return };
        let conns: Vec<ConnId> = user.conns.iter().copied().filter(|c| !self.is_guest(*c)).collect();
        let shared = Arc::new(notice.message());
        for conn in conns {
            self.out.push_back(Output::Send { conn, msg: shared.clone() });
        }
    }

    /// Every room of an organisation with its participants, including call rooms.
    pub fn rooms(&self, org_id: &str) -> Vec<RoomState> {
        let Some(org) = self.orgs.get(org_id) else { return Vec::new() };
        org.rooms.keys().filter_map(|id| self.room_state(org_id, id)).collect()
    }

    /// A user's current presence, as the organisation sees it.
    pub fn presence(&self, org_id: &str, user_id: &str) -> Option<UserPresence> {
        self.presence_of(org_id, user_id)
    }

    /// The connection of a peer, if it is open.
    pub fn peer_conn(&self, peer_id: &PeerId) -> Option<ConnId> {
        self.peers.get(peer_id).copied()
    }

    /// The number of open connections.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    fn dispatch(&mut self, now: Instant, conn: ConnId, msg: ClientMsg) {
        if self.is_guest(conn) && !Self::guest_may_send(&msg) {
            let text = format!("guests may not send {}", msg.kind());
            self.send(conn, ServerMsg::error(ErrorCode::NotAllowed, text));
            return;
        }
        match msg {
            ClientMsg::Hello { version } if version != PROTOCOL_VERSION => {
                self.close(now, conn, CloseCode::BadVersion);
            }
            ClientMsg::Hello { .. } => {}
            ClientMsg::Ping {} => self.send(conn, ServerMsg::Pong {}),
            ClientMsg::SetPresence(update) => self.set_presence(conn, update),
            ClientMsg::JoinRoom { room_id } => self.join_room(now, conn, &room_id),
            ClientMsg::LeaveRoom {} => {
                if !self.leave_room(now, conn, false) {
                    self.send(conn, ServerMsg::error(ErrorCode::NotInRoom, "not in a room"));
                }
            }
            ClientMsg::Call { to_user } => self.call(now, conn, &to_user),
            ClientMsg::CallAnswer { call_id, accept } => {
                self.call_answer(now, conn, &call_id, accept);
            }
            ClientMsg::CallCancel { call_id } => self.call_cancel(conn, &call_id),
            ClientMsg::Signal { to_peer, payload } => self.relay(conn, &to_peer, payload),
            ClientMsg::MediaState(state) => self.media_state(conn, state),
            ClientMsg::AdmitGuest { user_id } => self.admit_guest(conn, &user_id),
            ClientMsg::RefuseGuest { user_id } => self.refuse_guest(now, conn, &user_id),
            ClientMsg::SfuOffer { sdp } => self.sfu_offer(conn, sdp),
            ClientMsg::SfuAnswer { sdp } => self.sfu_answer(conn, sdp),
            ClientMsg::SfuLayers { layers } => self.sfu_layers(conn, &layers),
        }
    }

    fn bad_message(&mut self, now: Instant, conn: ConnId, e: &ProtocolError) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.bad_messages = c.bad_messages.saturating_add(1);
        let over = c.bad_messages > self.config.max_bad_messages;
        tracing::debug!(conn = conn.0, error = %e, "malformed client message");
        self.send(conn, ServerMsg::error(e.code(), e.to_string()));
        if over {
            let code = match e {
                ProtocolError::TooBig { .. } => CloseCode::MessageTooBig,
                _ => CloseCode::TooManyBadMessages,
            };
            self.close(now, conn, code);
        }
    }

    /// Relays a `signal` payload to any peer of the sender's organisation (within one room when
    /// a guest is either side).
    fn relay(&mut self, conn: ConnId, to_peer: &PeerId, payload: crate::protocol::Payload) {
        let target = self.peers.get(to_peer).copied().filter(|t| self.may_signal(conn, *t));
        let Some(from) = self.conns.get(&conn) else { return };
        let Some(target) = target else {
            self.send(conn, ServerMsg::error(ErrorCode::UnknownPeer, "no such peer"));
            return;
        };
        let msg = ServerMsg::Signal {
            from_peer: from.peer_id.clone(),
            from_user: from.user_id.clone(),
            payload,
        };
        self.send(target, msg);
    }

    /// Emits a close and forgets the connection.
    fn close(&mut self, now: Instant, conn: ConnId, code: CloseCode) {
        if self.conns.contains_key(&conn) {
            self.out.push_back(Output::Close { conn, code });
            self.disconnect(now, conn);
        }
    }

    fn send(&mut self, conn: ConnId, msg: ServerMsg) {
        self.out.push_back(Output::Send { conn, msg: Arc::new(msg) });
    }

    /// Sends a message to every connection of an organisation but `except`.
    fn broadcast(&mut self, org_id: &str, msg: &ServerMsg, except: Option<ConnId>) {
        let Some(org) = self.orgs.get(org_id) else { return };
        let shared = Arc::new(msg.clone());
        for &conn in org.conns.iter().filter(|c| Some(**c) != except) {
            self.out.push_back(Output::Send { conn, msg: shared.clone() });
        }
    }

    fn org_snapshot(&self, org_id: &str) -> (Vec<UserPresence>, Vec<RoomState>) {
        let Some(org) = self.orgs.get(org_id) else { return (Vec::new(), Vec::new()) };
        let presence = org.users.keys().filter_map(|u| self.presence_of(org_id, u)).collect();
        (presence, self.org_rooms(org_id))
    }

    /// A random UUIDv4 string.
    fn fresh_id(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }
}

impl Org {
    fn deadlines(&self) -> impl Iterator<Item = Instant> + '_ {
        let users = self.users.values().filter_map(|u| u.offline_at);
        users.chain(self.calls.values().filter_map(|c| c.deadline()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(org: &str, user: &str) -> ConnectInfo {
        ConnectInfo {
            org_id: org.into(),
            user_id: user.into(),
            name: user.to_uppercase(),
            has_picture: false,
            ice_servers: serde_json::json!([{"urls": "stun:example.org"}]),
            guest: None,
            session: "s".into(),
        }
    }

    #[test]
    fn connect_sends_welcome_with_a_uuid_peer_id() {
        let mut hub = Hub::with_seed(HubConfig::default(), 1);
        let now = Instant::now();
        let peer = hub.connect(now, ConnId(1), info("o", "u"));
        assert!(uuid::Uuid::parse_str(peer.as_str()).is_ok());
        assert_eq!(hub.poll_output(), Some(Output::Present { org_id: "o".into(), user_id: "u".into(), present: true }));
        let Some(Output::Send { conn, msg }) = hub.poll_output() else { panic!("no welcome") };
        let ServerMsg::Welcome { peer_id, presence, .. } = msg.as_ref() else { panic!("not a welcome: {msg:?}") };
        let (peer_id, presence) = (peer_id.clone(), presence.clone());
        assert_eq!((conn, peer_id), (ConnId(1), peer));
        assert_eq!(presence.len(), 1);
        assert_eq!(hub.poll_output(), None);
    }

    #[test]
    fn reused_connection_id_replaces_the_old_peer() {
        let mut hub = Hub::with_seed(HubConfig::default(), 2);
        let now = Instant::now();
        let first = hub.connect(now, ConnId(1), info("o", "u"));
        let second = hub.connect(now, ConnId(1), info("o", "u"));
        assert_ne!(first, second);
        assert_eq!(hub.peer_conn(&first), None);
        assert_eq!(hub.connection_count(), 1);
    }

    #[test]
    fn messages_from_unknown_connections_are_ignored() {
        let mut hub = Hub::new(HubConfig::default());
        hub.message(Instant::now(), ConnId(9), r#"{"type":"ping"}"#);
        assert_eq!(hub.poll_output(), None);
        assert_eq!(hub.poll_timeout(), None);
    }
}
