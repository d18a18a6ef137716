//! Where each room's media server runs when there are several nodes: placed by load.
//!
//! A room's hub runs on its organisation's home, but its media may go through any node's media
//! server. The home places a room when its first participant connects to the media server (a
//! [`MediaCommand::Join`]): on the node whose media server serves the fewest participants, as
//! the last heartbeat found them (this node on a tie), counting the participants placed since.
//! Every command for the room then goes there ([`Frame::Media`](super::Frame::Media)), and what
//! that media server says goes back to the home ([`Frame::MediaEvent`](super::Frame::MediaEvent)).
//! A room stays where it is while it has participants; a node that stops reporting its load
//! (it died) loses its rooms, and their clients, whose media connections fail, connect again
//! and are placed anew. With one node (or before any load is known) everything stays here.

use std::collections::BTreeMap;

use bureau_signal::{ConnId, MediaCommand, MediaEvent};

use super::super::bus::Home;

/// An organisation's room.
type RoomKey = (String, String);

/// A placed room: where, and how many participants it has there.
#[derive(Debug)]
struct Placed {
    at: Home,
    participants: usize,
}

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub(super) struct MediaRoutes {
    /// The live media servers and their loads: the last heartbeat's, plus what was placed since.
    loads: Vec<(Home, usize)>,
    /// The rooms of organisations homed here that use a media server.
    rooms: BTreeMap<RoomKey, Placed>,
    /// Their participants' rooms.
    participants: BTreeMap<ConnId, RoomKey>,
    /// Participants whose hub is on another node and whose media server is this node's, with
    /// their room: its events go to the organisation's home.
    served: BTreeMap<ConnId, RoomKey>,
}

impl MediaRoutes {
    /// The loads a heartbeat found (every live node that runs a media server). Rooms on a node
    /// no longer among them are forgotten.
    pub fn set_loads(&mut self, loads: Vec<(Home, usize)>) {
        let live = |at: &Home| *at == Home::Here || loads.iter().any(|(h, _)| h == at);
        let gone: Vec<RoomKey> = self.rooms.iter().filter(|(_, p)| !live(&p.at)).map(|(k, _)| k.clone()).collect();
        if !gone.is_empty() {
            tracing::warn!(rooms = gone.len(), "a node's media server stopped reporting; its rooms are placed again as their clients reconnect");
        }
        for key in gone {
            self.rooms.remove(&key);
            self.participants.retain(|_, k| *k != key);
        }
        self.loads = loads;
    }

    /// Where a command of this node's hub goes, with the room's organisation; `None` for a
    /// participant the routes do not know (the local media server answers for it).
    pub fn place(&mut self, command: &MediaCommand) -> Option<(Home, String)> {
        match command {
            MediaCommand::Join { org_id, room_id, conn, .. } => {
                let key = (org_id.clone(), room_id.clone());
                if self.participants.get(conn) != Some(&key) {
                    self.leave(*conn);
                    let at = match self.rooms.get(&key) {
                        Some(placed) => placed.at,
                        None => self.least_loaded(),
                    };
                    self.rooms.entry(key.clone()).or_insert(Placed { at, participants: 0 }).participants += 1;
                    if let Some((_, load)) = self.loads.iter_mut().find(|(h, _)| *h == at) {
                        *load += 1;
                    }
                    self.participants.insert(*conn, key);
                }
                self.rooms.get(&(org_id.clone(), room_id.clone())).map(|p| (p.at, org_id.clone()))
            }
            MediaCommand::Answer { conn, .. } | MediaCommand::Sharing { conn, .. } | MediaCommand::Layers { conn, .. } => {
                let key = self.participants.get(conn)?;
                self.rooms.get(key).map(|p| (p.at, key.0.clone()))
            }
            MediaCommand::Leave { conn } => {
                let key = self.participants.get(conn)?.clone();
                let at = self.rooms.get(&key).map(|p| p.at);
                self.leave(*conn);
                at.map(|at| (at, key.0))
            }
            MediaCommand::Close { org_id, room_id } => {
                let key = (org_id.clone(), room_id.clone());
                self.participants.retain(|_, k| *k != key);
                self.rooms.remove(&key).map(|p| (p.at, org_id.clone()))
            }
        }
    }

    /// A command from another node's hub, for this node's media server: its events will go to
    /// the organisation's home.
    pub fn serve(&mut self, command: &MediaCommand) {
        match command {
            MediaCommand::Join { org_id, room_id, conn, .. } => {
                self.served.insert(*conn, (org_id.clone(), room_id.clone()));
            }
            MediaCommand::Leave { conn } => {
                self.served.remove(conn);
            }
            MediaCommand::Close { org_id, room_id } => self.served.retain(|_, (o, r)| o != org_id || r != room_id),
            MediaCommand::Answer { .. } | MediaCommand::Sharing { .. } | MediaCommand::Layers { .. } => {}
        }
    }

    /// The organisation of an event of this node's media server whose hub is on another node;
    /// `None` when the hub is here.
    pub fn served_org(&self, event: &MediaEvent) -> Option<String> {
        match event {
            MediaEvent::Answer { conn, .. } | MediaEvent::Offer { conn, .. } | MediaEvent::Failed { conn, .. } => {
                self.served.get(conn).map(|(org, _)| org.clone())
            }
            MediaEvent::Speakers { org_id, room_id, .. } => {
                self.served.values().any(|(o, r)| o == org_id && r == room_id).then(|| org_id.clone())
            }
        }
    }

    /// The media server with the fewest participants; this node's on a tie, or when none is
    /// known.
    fn least_loaded(&self) -> Home {
        let here = self.loads.iter().find(|(h, _)| *h == Home::Here).map(|(_, l)| *l);
        let best = self.loads.iter().min_by_key(|(_, load)| *load);
        match (best, here) {
            (Some((_, least)), Some(mine)) if mine <= *least => Home::Here,
            (Some((at, _)), _) => *at,
            (None, _) => Home::Here,
        }
    }

    /// A participant leaves their room; a room left empty is forgotten (placed anew next time).
    fn leave(&mut self, conn: ConnId) {
        let Some(key) = self.participants.remove(&conn) else { return };
        if let Some(placed) = self.rooms.get_mut(&key) {
            placed.participants = placed.participants.saturating_sub(1);
            let at = placed.at;
            if placed.participants == 0 {
                self.rooms.remove(&key);
            }
            if let Some((_, load)) = self.loads.iter_mut().find(|(h, _)| *h == at) {
                *load = load.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bureau_signal::PeerId;

    fn join(org: &str, room: &str, conn: u64) -> MediaCommand {
        MediaCommand::Join { org_id: org.into(), room_id: room.into(), conn: ConnId(conn), peer_id: PeerId::new("p"), sdp: "v=0".into() }
    }

    #[test]
    fn rooms_go_to_the_least_loaded_media_server_and_stay_there() {
        let mut routes = MediaRoutes::default();
        assert_eq!(routes.place(&join("acme", "a", 1)), Some((Home::Here, "acme".into())), "no loads known: here");
        routes.set_loads(vec![(Home::Here, 10), (Home::Node(7), 3), (Home::Node(9), 5)]);
        assert_eq!(routes.place(&join("acme", "big", 2)).map(|p| p.0), Some(Home::Node(7)));
        // The room stays on node 7 for everyone of it, whatever the loads.
        routes.set_loads(vec![(Home::Here, 0), (Home::Node(7), 50), (Home::Node(9), 5)]);
        assert_eq!(routes.place(&join("acme", "big", 3)).map(|p| p.0), Some(Home::Node(7)));
        let answer = MediaCommand::Answer { conn: ConnId(3), sdp: "v=0".into() };
        assert_eq!(routes.place(&answer).map(|p| p.0), Some(Home::Node(7)));
        // Another room goes where the load is lowest: here (a tie would also be here).
        assert_eq!(routes.place(&join("acme", "other", 4)).map(|p| p.0), Some(Home::Here));
        // Placements since the heartbeat count: three rooms in a row spread out.
        routes.set_loads(vec![(Home::Here, 1), (Home::Node(7), 1), (Home::Node(9), 1)]);
        let spread: Vec<Home> = (10..13).map(|c| routes.place(&join("acme", &format!("r{c}"), c)).unwrap().0).collect();
        assert_eq!(spread, [Home::Here, Home::Node(7), Home::Node(9)]);
    }

    #[test]
    fn an_empty_room_is_placed_again_and_a_dead_nodes_rooms_are_forgotten() {
        let mut routes = MediaRoutes::default();
        routes.set_loads(vec![(Home::Here, 9), (Home::Node(7), 0)]);
        assert_eq!(routes.place(&join("acme", "r", 1)).map(|p| p.0), Some(Home::Node(7)));
        assert_eq!(routes.place(&MediaCommand::Leave { conn: ConnId(1) }).map(|p| p.0), Some(Home::Node(7)));
        assert_eq!(routes.place(&MediaCommand::Answer { conn: ConnId(1), sdp: String::new() }), None, "gone");
        routes.set_loads(vec![(Home::Here, 0), (Home::Node(7), 9)]);
        assert_eq!(routes.place(&join("acme", "r", 2)).map(|p| p.0), Some(Home::Here), "placed anew");

        routes.set_loads(vec![(Home::Here, 9), (Home::Node(7), 0)]);
        assert_eq!(routes.place(&join("acme", "s", 3)).map(|p| p.0), Some(Home::Node(7)));
        routes.set_loads(vec![(Home::Here, 9)]);
        assert_eq!(routes.place(&MediaCommand::Sharing { conn: ConnId(3), sharing: true }), None, "node 7 died: forgotten");
        assert_eq!(routes.place(&join("acme", "s", 3)).map(|p| p.0), Some(Home::Here), "its client reconnects here");
    }

    #[test]
    fn events_of_rooms_served_for_another_home_go_back_to_it() {
        let mut routes = MediaRoutes::default();
        routes.serve(&join("acme", "r", 5));
        let answer = MediaEvent::Answer { conn: ConnId(5), sdp: "v=0".into() };
        assert_eq!(routes.served_org(&answer), Some("acme".into()));
        let speakers = MediaEvent::Speakers { org_id: "acme".into(), room_id: "r".into(), order: vec![ConnId(5)], last_n: 9 };
        assert_eq!(routes.served_org(&speakers), Some("acme".into()));
        assert_eq!(routes.served_org(&MediaEvent::Answer { conn: ConnId(6), sdp: String::new() }), None, "a hub of this node");
        routes.serve(&MediaCommand::Close { org_id: "acme".into(), room_id: "r".into() });
        assert_eq!(routes.served_org(&answer), None);
    }
}
