//! The hub never panics and keeps its invariants under random and mutated input.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bureau_signal::{ConnId, HubConfig, Output, PeerId, RoomKind, ServerMsg};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{Office, room};

const ORGS: [&str; 3] = ["acme", "globex", "initech"];
const USERS: [&str; 4] = ["u1", "u2", "u3", "u4"];
const ROOMS: [&str; 3] = ["meet", "lobby", "office-u1"];

struct Fuzz {
    office: Office,
    rng: StdRng,
    /// Open connections and their organisation.
    open: BTreeMap<ConnId, &'static str>,
    /// Peer ids and call ids seen on the wire, to aim messages at.
    peers: Vec<PeerId>,
    calls: Vec<String>,
    mesh_cap: usize,
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
            15 => {
                let org = ORGS[self.rng.gen_range(0..ORGS.len())];
                let user = USERS[self.rng.gen_range(0..USERS.len())];
                self.office.hub.set_user_removed(self.office.now, org, &format!("{org}-{user}"));
            }
            _ => self.message(),
        }
        self.check();
    }

    fn connect(&mut self) {
        let org = ORGS[self.rng.gen_range(0..ORGS.len())];
        let user = USERS[self.rng.gen_range(0..USERS.len())];
        let (conn, peer) = self.office.connect(org, &format!("{org}-{user}"));
        self.open.insert(conn, org);
        self.peers.push(peer);
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
        let msg = self.random_message();
        let mut text = msg.to_string();
        if self.rng.gen_bool(0.2) {
            text = self.mutate(text);
        }
        self.office.send_text(conn, &text);
    }

    fn random_message(&mut self) -> Value {
        let peer = self.pick(&self.peers.clone()).map(|p| p.to_string()).unwrap_or_default();
        let call = self.pick(&self.calls.clone()).unwrap_or_default();
        let user = format!("{}-{}", ORGS[self.rng.gen_range(0..3)], USERS[self.rng.gen_range(0..4)]);
        let room_id = if self.rng.gen_bool(0.2) {
            format!("call:{call}")
        } else {
            ROOMS[self.rng.gen_range(0..ROOMS.len())].to_owned()
        };
        let b = self.rng.gen_bool(0.5);
        match self.rng.gen_range(0..11) {
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
                Output::Close { conn, .. } => Some(*conn),
                _ => None,
            })
            .collect();
        for o in &outputs {
            let Output::Send { conn, msg } = o else { continue };
            let org = self.open.get(conn).copied();
            assert!(org.is_some(), "message to a connection never opened or closed before: {o:?}");
            let org = org.unwrap_or_default();
            self.check_org(org, msg);
            if let ServerMsg::Ring { call_id, .. } | ServerMsg::CallUpdate { call_id, .. } = msg {
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
                    let conn_org = conn.and_then(|c| self.open.get(&c));
                    assert_eq!(conn_org, Some(&org), "a participant is not connected: {p:?}");
                    assert!(p.user_id.starts_with(org));
                }
            }
        }
        if let Some(t) = self.office.hub.poll_timeout() {
            assert!(t >= self.office.start);
        }
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
    }
}
