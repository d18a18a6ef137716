//! The hub never panics and keeps its invariants under random and mutated input, with members
//! and guests among the connections.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bureau_signal::{CloseCode, ConnId, HubConfig, Output, PeerId, RoomKind, ServerMsg};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{Office, room};

const ORGS: [&str; 3] = ["acme", "globex", "initech"];
const USERS: [&str; 4] = ["u1", "u2", "u3", "u4"];
const ROOMS: [&str; 3] = ["meet", "lobby", "office-u1"];
const GUESTS: [&str; 3] = ["g1", "g2", "g3"];

/// An open connection as the test knows it.
struct Open {
    org: &'static str,
    user: String,
    /// For a guest, the room of their guest link.
    guest_room: Option<String>,
    peer: PeerId,
}

struct Fuzz {
    office: Office,
    rng: StdRng,
    /// Open connections.
    open: BTreeMap<ConnId, Open>,
    /// Peer ids and call ids seen on the wire, to aim messages at.
    peers: Vec<PeerId>,
    calls: Vec<String>,
    mesh_cap: usize,
    /// What guests received and how often, to show the run reaches the guest paths.
    guest_got: BTreeMap<&'static str, usize>,
    /// Signals relayed between a guest and another peer, by whether a guest sent them.
    guest_signals: BTreeMap<bool, usize>,
}

impl Fuzz {
    fn step(&mut self) {
        match self.rng.gen_range(0..100) {
            0..=7 => self.connect(),
            8..=11 => self.disconnect(),
            12..=13 => {
                let secs = self.rng.gen_range(0..40);
                self.office.advance(Duration::from_secs(secs));
            }
            14 => self.set_rooms(),
            16..=18 => self.meet(),
            15 => {
                let org = ORGS[self.rng.gen_range(0..ORGS.len())];
                let user = self.random_user(org);
                self.office.hub.set_user_removed(self.office.now, org, &user);
            }
            _ => self.message(),
        }
        self.check();
    }

    fn connect(&mut self) {
        let org = ORGS[self.rng.gen_range(0..ORGS.len())];
        let (conn, peer, user, guest_room) = if self.rng.gen_bool(0.35) {
            let user = format!("{org}-{}", GUESTS[self.rng.gen_range(0..GUESTS.len())]);
            let room = ROOMS[self.rng.gen_range(0..ROOMS.len())];
            let direct = self.rng.gen_bool(0.4);
            let (conn, peer) = self.office.connect_guest(org, &user, room, direct);
            (conn, peer, user, Some(room.to_owned()))
        } else {
            let user = format!("{org}-{}", USERS[self.rng.gen_range(0..USERS.len())]);
            let (conn, peer) = self.office.connect(org, &user);
            (conn, peer, user, None)
        };
        self.open.insert(conn, Open { org, user, guest_room, peer: peer.clone() });
        self.peers.push(peer);
    }

    /// A member or guest user id of `org`.
    fn random_user(&mut self, org: &str) -> String {
        if self.rng.gen_bool(0.3) {
            format!("{org}-{}", GUESTS[self.rng.gen_range(0..GUESTS.len())])
        } else {
            format!("{org}-{}", USERS[self.rng.gen_range(0..USERS.len())])
        }
    }

    /// A member admits a guest and both join the guest's room: rare by chance, so provoked.
    fn meet(&mut self) {
        let guests: Vec<(ConnId, &'static str, String, String)> = self
            .open
            .iter()
            .filter_map(|(c, o)| Some((*c, o.org, o.user.clone(), o.guest_room.clone()?)))
            .collect();
        let Some((guest, org, user, room)) = self.pick(&guests) else { return };
        let members: Vec<ConnId> = self
            .open
            .iter()
            .filter(|(_, o)| o.org == org && o.guest_room.is_none())
            .map(|(c, _)| *c)
            .collect();
        let Some(member) = self.pick(&members) else { return };
        self.office.send(member, json!({"type": "admit_guest", "user_id": user}));
        self.office.send(guest, json!({"type": "join_room", "room_id": room}));
        self.office.send(member, json!({"type": "join_room", "room_id": room}));
    }

    fn disconnect(&mut self) {
        if let Some(conn) = self.pick_conn() {
            self.office.disconnect(conn);
            self.open.remove(&conn);
        }
    }

    fn set_rooms(&mut self) {
        let org = ORGS[self.rng.gen_range(0..ORGS.len())];
        let mut rooms = Vec::new();
        for id in ROOMS {
            if self.rng.gen_bool(0.7) {
                rooms.push(room(id, RoomKind::Meeting, Some(self.rng.gen_range(1..5))));
            }
        }
        self.office.set_rooms(org, rooms);
    }

    fn message(&mut self) {
        let Some(conn) = self.pick_conn() else { return };
        let msg = self.random_message(conn);
        let mut text = msg.to_string();
        if self.rng.gen_bool(0.2) {
            text = self.mutate(text);
        }
        self.office.send_text(conn, &text);
    }

    /// A message from `conn`, aimed at live peers and users of its own organisation most of the
    /// time, so that the run reaches deep paths (signals to guests, admissions).
    fn random_message(&mut self, conn: ConnId) -> Value {
        let own_org = self.open.get(&conn).map_or(ORGS[0], |o| o.org);
        let own_room = self.open.get(&conn).and_then(|o| o.guest_room.clone());
        let live: Vec<PeerId> =
            self.open.values().filter(|o| o.org == own_org).map(|o| o.peer.clone()).collect();
        let me = self.open.get(&conn).map(|o| o.peer.clone());
        let rooms = self.office.hub.rooms(own_org);
        let roommates: Vec<PeerId> = rooms
            .iter()
            .find(|r| r.participants.iter().any(|p| Some(&p.peer_id) == me.as_ref()))
            .map(|r| r.participants.iter().map(|p| p.peer_id.clone()).collect())
            .unwrap_or_default();
        let with_guests: Vec<String> = rooms
            .iter()
            .filter(|r| r.participants.iter().any(|p| p.guest))
            .map(|r| r.id.clone())
            .collect();
        let guests_room = self.pick(&with_guests);
        if roommates.len() > 1 && self.rng.gen_bool(0.2) {
            let to = self.pick(&roommates).map(|p| p.to_string()).unwrap_or_default();
            return json!({"type": "signal", "to_peer": to, "payload": {"candidate": "c"}});
        }
        let peers = match self.rng.gen_range(0..10) {
            0..=3 if !roommates.is_empty() => roommates,
            0..=6 => live,
            _ => self.peers.clone(),
        };
        let peer = self.pick(&peers).map(|p| p.to_string()).unwrap_or_default();
        let call = self.pick(&self.calls.clone()).unwrap_or_default();
        let org = if self.rng.gen_bool(0.8) { own_org } else { ORGS[self.rng.gen_range(0..3)] };
        let user = self.random_user(org);
        let room_id = if own_room.is_some() && self.rng.gen_bool(0.7) {
            own_room.unwrap_or_default()
        } else if guests_room.is_some() && self.rng.gen_bool(0.5) {
            guests_room.unwrap_or_default()
        } else if self.rng.gen_bool(0.2) {
            format!("call:{call}")
        } else {
            ROOMS[self.rng.gen_range(0..ROOMS.len())].to_owned()
        };
        let b = self.rng.gen_bool(0.5);
        match self.rng.gen_range(0..13) {
            0 => json!({"type": "join_room", "room_id": room_id}),
            1 => json!({"type": "leave_room"}),
            2 => json!({"type": "call", "to_user": user}),
            3 => json!({"type": "call_answer", "call_id": call, "accept": b}),
            4 => json!({"type": "call_cancel", "call_id": call}),
            5 => json!({"type": "signal", "to_peer": peer, "payload": {"sdp": "v=0"}}),
            6 => json!({"type": "media_state", "muted": b, "camera": !b, "screen": b,
                "speaking": b}),
            7 => {
                let status = ["online", "dnd", "away"][self.rng.gen_range(0..3)];
                json!({"type": "set_presence", "status": status})
            }
            8 => json!({"type": "hello", "version": self.rng.gen_range(0..3)}),
            9 => json!({"type": "ping"}),
            10 => json!({"type": "admit_guest", "user_id": user}),
            11 => json!({"type": "refuse_guest", "user_id": user}),
            _ => json!({"type": "join_room", "room_id": room_id}),
        }
    }

    fn mutate(&mut self, text: String) -> String {
        let mut bytes = text.into_bytes();
        for _ in 0..self.rng.gen_range(1..4) {
            if bytes.is_empty() {
                break;
            }
            let i = self.rng.gen_range(0..bytes.len());
            match self.rng.gen_range(0..3) {
                0 => bytes[i] = self.rng.r#gen(),
                1 => bytes.truncate(i),
                _ => bytes.insert(i, b"{}[]\",:\\"[self.rng.gen_range(0..8)]),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn pick_conn(&mut self) -> Option<ConnId> {
        let conns: Vec<ConnId> = self.open.keys().copied().collect();
        self.pick(&conns)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.gen_range(0..items.len())].clone())
    }

    /// Drains the outputs and checks every invariant.
    fn check(&mut self) {
        let mut outputs = Vec::new();
        while let Some(o) = self.office.hub.poll_output() {
            outputs.push(o);
        }
        let closed: BTreeSet<ConnId> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Close { conn, code } => {
                    if *code == CloseCode::NotAdmitted {
                        *self.guest_got.entry("close 4004").or_default() += 1;
                    }
                    Some(*conn)
                }
                _ => None,
            })
            .collect();
        for o in &outputs {
            let Output::Send { conn, msg } = o else { continue };
            let open = self.open.get(conn);
            assert!(open.is_some(), "message to a connection never opened or closed before: {o:?}");
            let org = open.map(|o| o.org).unwrap_or_default();
            self.check_org(org, msg);
            self.check_guest_view(*conn, msg);
            self.check_signal(*conn, msg);
            if let ServerMsg::Ring { call_id, .. } | ServerMsg::CallUpdate { call_id, .. } = &**msg {
                self.calls.push(call_id.clone());
            }
        }
        for conn in closed {
            self.open.remove(&conn);
        }
        assert_eq!(self.office.hub.connection_count(), self.open.len());
        for org in ORGS {
            for state in self.office.hub.rooms(org) {
                // A lowered capacity keeps its occupants; the mesh cap always holds.
                assert!(state.participants.len() <= self.mesh_cap, "{state:?}");
                assert!(state.capacity <= self.mesh_cap, "{state:?}");
                for p in &state.participants {
                    let conn = self.office.hub.peer_conn(&p.peer_id);
                    let open = conn.and_then(|c| self.open.get(&c));
                    let conn_org = open.map(|o| o.org);
                    assert_eq!(conn_org, Some(org), "a participant is not connected: {p:?}");
                    assert!(p.user_id.starts_with(org));
                    let guest_room = open.and_then(|o| o.guest_room.as_deref());
                    assert_eq!(p.guest, guest_room.is_some(), "guests and only guests are marked");
                    if let Some(room) = guest_room {
                        assert_eq!(room, state.id, "a guest is only ever in their room");
                    }
                }
            }
        }
        if let Some(t) = self.office.hub.poll_timeout() {
            assert!(t >= self.office.start);
        }
    }

    /// A guest receives nothing of the organisation outside their room.
    fn check_guest_view(&mut self, conn: ConnId, msg: &ServerMsg) {
        let Some(room) = self.open.get(&conn).and_then(|o| o.guest_room.clone()) else {
            return;
        };
        *self.guest_got.entry(msg.kind()).or_default() += 1;
        let room = room.as_str();
        let forbidden = ["presence", "rooms", "ring", "call_update", "guest_waiting", "guest_left"];
        assert!(!forbidden.contains(&msg.kind()), "a guest got {msg:?}");
        match msg {
            ServerMsg::Welcome { presence, rooms, guest, .. } => {
                assert!(presence.is_empty(), "{msg:?}");
                assert!(rooms.iter().all(|r| r.id == room), "{msg:?}");
                assert_eq!(guest.as_ref().map(|g| g.room_id.as_str()), Some(room));
            }
            ServerMsg::Room { room: state } => assert_eq!(state.id, room, "another room: {msg:?}"),
            ServerMsg::Joined { room_id, .. }
            | ServerMsg::PeerJoined { room_id, .. }
            | ServerMsg::PeerLeft { room_id, .. }
            | ServerMsg::Admitted { room_id } => assert_eq!(room_id, room, "{msg:?}"),
            _ => {}
        }
    }

    /// A signal to or from a guest passes only between two peers of one room.
    fn check_signal(&mut self, conn: ConnId, msg: &ServerMsg) {
        let ServerMsg::Signal { from_peer, .. } = msg else { return };
        let Some(to) = self.open.get(&conn) else { return };
        let from = self.office.hub.peer_conn(from_peer).and_then(|c| self.open.get(&c));
        let Some(from) = from else { panic!("a signal from a closed peer: {msg:?}") };
        assert_eq!(from.org, to.org, "{msg:?}");
        if from.guest_room.is_none() && to.guest_room.is_none() {
            return;
        }
        *self.guest_signals.entry(from.guest_room.is_some()).or_default() += 1;
        let together = self.office.hub.rooms(to.org).iter().any(|r| {
            let here = |p: &PeerId| r.participants.iter().any(|i| i.peer_id == *p);
            here(&from.peer) && here(&to.peer)
        });
        assert!(together, "a signal between a guest and a peer outside their room: {msg:?}");
    }

    /// Everything a connection of `org` receives is about `org`.
    fn check_org(&self, org: &str, msg: &ServerMsg) {
        let users: Vec<&str> = match msg {
            ServerMsg::Presence { user } => vec![user.user_id.as_str()],
            ServerMsg::Welcome { presence, .. } => {
                presence.iter().map(|p| p.user_id.as_str()).collect()
            }
            ServerMsg::Signal { from_user, .. } | ServerMsg::Ring { from_user, .. } => {
                vec![from_user.as_str()]
            }
            ServerMsg::Room { room } => room.participants.iter().map(|p| p.user_id.as_str()).collect(),
            ServerMsg::Joined { peers, .. } => peers.iter().map(|p| p.user_id.as_str()).collect(),
            ServerMsg::PeerJoined { peer, .. } => vec![peer.user_id.as_str()],
            _ => vec![],
        };
        for user in users {
            assert!(user.starts_with(org), "{user} leaked into {org}: {msg:?}");
        }
    }
}

#[test]
fn random_inputs_never_break_the_hub() {
    let mut guest_got: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut guest_signals: BTreeMap<bool, usize> = BTreeMap::new();
    for seed in 0..8u64 {
        let mesh_cap = 3;
        let config = HubConfig { mesh_cap, max_bad_messages: 5, ..HubConfig::default() };
        let mut fuzz = Fuzz {
            office: Office::with_config(config),
            rng: StdRng::seed_from_u64(seed),
            open: BTreeMap::new(),
            peers: Vec::new(),
            calls: Vec::new(),
            mesh_cap,
            guest_got: BTreeMap::new(),
            guest_signals: BTreeMap::new(),
        };
        for org in ORGS {
            fuzz.office.set_rooms(
                org,
                ROOMS.iter().map(|id| room(id, RoomKind::Meeting, None)).collect(),
            );
        }
        for _ in 0..3000 {
            fuzz.step();
        }
        let conns: Vec<ConnId> = fuzz.open.keys().copied().collect();
        for conn in conns {
            fuzz.office.disconnect(conn);
            fuzz.open.remove(&conn);
            fuzz.check();
        }
        fuzz.office.advance(Duration::from_secs(120));
        fuzz.check();
        for org in ORGS {
            assert!(fuzz.office.hub.rooms(org).iter().all(|r| r.participants.is_empty()));
        }
        assert_eq!(fuzz.office.hub.poll_timeout(), None, "seed {seed}: no deadline left");
        for (kind, n) in fuzz.guest_got {
            *guest_got.entry(kind).or_default() += n;
        }
        for (by_guest, n) in fuzz.guest_signals {
            *guest_signals.entry(by_guest).or_default() += n;
        }
    }
    for kind in ["welcome", "admitted", "joined", "peer_joined", "signal", "room", "close 4004"] {
        assert!(guest_got.get(kind).is_some_and(|n| *n > 0), "no guest got {kind}: {guest_got:?}");
    }
    let both_ways = guest_signals.get(&true).zip(guest_signals.get(&false));
    assert!(both_ways.is_some_and(|(a, b)| *a >= 20 && *b >= 20), "{guest_signals:?}");
}
