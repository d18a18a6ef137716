//! The node's routing state machine, sans-IO like the [`Hub`] it drives.
//!
//! Every organisation's hub runs on one node, its *home*. The router feeds this node's hub with
//! the events of the organisations homed here (from local connections and from other nodes'
//! connections, which arrive as [`Frame`]s) and sends the events of local connections whose
//! organisation is homed elsewhere to that home. It turns what the hub emits into frames for
//! local connections and one [`Frame::Deliver`] per other node and cycle.
//!
//! It does no I/O and reads no clock: the driver ([`super::node`]) passes the time in with every
//! input, carries out every [`RouterOutput`] (sockets, Redis) and feeds the answers back
//! (`checked`, `checked_connect`, `too_slow`). So tests drive several routers over an in-memory
//! bus on a fake clock (see `tests`).
//!
//! With several nodes it keeps the routes true, every heartbeat ([`RouterOutput::Check`]): it
//! renews the homes it holds (and stops hosting an organisation whose claim it lost), closes the
//! local connections of an organisation whose home changed (with 1001, so that clients reconnect
//! to the new home), and disconnects the connections of nodes that died (so that their users
//! turn offline after the usual grace period).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use bureau_signal::{CallLog, CloseCode, ConnId, ConnectInfo, GuestAccess, Hub, MediaCommand, MediaEvent, Notice, Room};

mod hub_out;
mod media;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

use super::bus::{BusStats, Frame, Home, NodeTag, node_of};

/// What the router asks its driver to do, in order.
#[derive(Debug)]
pub(super) enum RouterOutput {
    /// A text frame for a local connection. If its outbox is full, the driver answers with
    /// [`Router::too_slow`].
    Send { conn: ConnId, text: Utf8Bytes },
    /// The router has forgotten a local connection: drop its outbox (which ends its socket
    /// task), after sending a close frame with this code if there is one.
    Close { conn: ConnId, code: Option<u16> },
    /// A frame for another node.
    Publish { node: NodeTag, frame: Frame },
    /// A frame for the home of an organisation the router knows no route for (a change made on
    /// a node without connections of the organisation): look the home up, publish if elsewhere.
    PublishToHome { org_id: String, frame: Frame },
    /// Another node's connection for an organisation this router does not know it homes: ask
    /// the bus whether this node holds the claim, answer with [`Router::checked_connect`].
    CheckClaim { frame: Frame },
    /// The heartbeat: renew `homed`, look up the homes of `proxied`, ask which of `nodes` are
    /// dead; answer with [`Router::checked`] (empty results when the bus is down).
    Check { homed: Vec<String>, proxied: Vec<(String, NodeTag)>, nodes: Vec<NodeTag> },
    /// Give up these homes, after the frames already published (the last output of a drain).
    Release { orgs: Vec<String> },
    /// A finished call, to store.
    CallLog(CallLog),
    /// A user became present or stopped being present: record attendance times.
    Present {
        /// The organisation.
        org_id: String,
        /// The user.
        user_id: String,
        /// Present now.
        present: bool,
    },
    /// A command for this node's media server (from this node's hub, or another node's for a
    /// room placed here).
    Media(MediaCommand),
}

/// What a heartbeat check found.
#[derive(Debug, Default)]
pub(super) struct CheckResult {
    /// Homes this node held and lost.
    pub lost: Vec<String>,
    /// Proxied organisations whose home changed or vanished.
    pub moved: Vec<String>,
    /// Nodes that stopped renewing their liveness.
    pub dead: Vec<NodeTag>,
    /// The live nodes' media servers and their loads (participants), this node's as
    /// [`Home::Here`]; `None` when the bus could not tell.
    pub media: Option<Vec<(Home, usize)>>,
}

/// How the router is set up.
pub(super) struct RouterConfig {
    /// The only node: every organisation is homed here, nothing to renew or watch.
    pub single: bool,
    /// How often the homes and the other nodes are checked.
    pub heartbeat: Duration,
}

/// Where an organisation's events go, and how many local connections it has.
struct Route {
    home: Home,
    local: usize,
}

/// See the [module documentation](self).
pub(super) struct Router {
    hub: Hub,
    single: bool,
    heartbeat: Duration,
    next_check: Option<Instant>,
    checking: bool,
    stats: Arc<BusStats>,
    /// Organisations whose floor plan this node's hub has; shared with the request handlers,
    /// which mark an organisation when they claim its home.
    loaded: Arc<Mutex<HashSet<String>>>,
    /// Local connections with their organisation.
    local: BTreeMap<ConnId, String>,
    routes: BTreeMap<String, Route>,
    /// Other nodes' connections in this node's hub, with their organisation.
    remote: BTreeMap<ConnId, String>,
    /// Other nodes' connections waiting for the bus to say whether this node is their home.
    pending: BTreeSet<ConnId>,
    stopped: bool,
    /// Where rooms' media servers run.
    media: media::MediaRoutes,
    out: VecDeque<RouterOutput>,
}

impl Router {
    pub fn new(hub: Hub, config: RouterConfig, now: Instant, stats: Arc<BusStats>, loaded: Arc<Mutex<HashSet<String>>>) -> Self {
        Router {
            hub,
            single: config.single,
            heartbeat: config.heartbeat,
            next_check: (!config.single).then(|| now + config.heartbeat),
            checking: false,
            stats,
            loaded,
            local: BTreeMap::new(),
            routes: BTreeMap::new(),
            remote: BTreeMap::new(),
            pending: BTreeSet::new(),
            stopped: false,
            media: media::MediaRoutes::default(),
            out: VecDeque::new(),
        }
    }

    /// The next output; what the hub emitted is turned into outputs when the queue runs dry.
    pub fn poll_output(&mut self) -> Option<RouterOutput> {
        if self.out.is_empty() {
            self.drain_hub();
        }
        let output = self.out.pop_front();
        if output.is_none() {
            self.update_gauges();
        }
        output
    }

    /// When [`Router::handle_timeout`] wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.hub.poll_timeout(), self.next_check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The hub's timers (grace periods, rings) and the heartbeat.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.hub.handle_timeout(now);
        if let Some(at) = self.next_check
            && at <= now
        {
            self.next_check = Some(now + self.heartbeat);
            if !self.checking && !self.stopped {
                self.checking = true;
                let homed = self.homed();
                let proxied = self.routes.iter().filter_map(|(o, r)| if let Home::Node(n) = r.home { Some((o.clone(), n)) } else { None }).collect();
                let nodes = self.remote.keys().map(|c| node_of(*c)).collect::<BTreeSet<_>>().into_iter().collect();
                self.out.push_back(RouterOutput::Check { homed, proxied, nodes });
            }
        }
    }

    /// The answer to [`RouterOutput::Check`].
    pub fn checked(&mut self, now: Instant, result: CheckResult) {
        self.checking = false;
        for org_id in result.lost {
            tracing::warn!("lost the home claim of an organisation; its clients reconnect");
            self.stop_hosting(now, &org_id);
        }
        for org_id in result.moved {
            if matches!(self.routes.get(&org_id).map(|r| r.home), Some(Home::Node(_))) {
                tracing::info!("an organisation's home node changed or went away; its clients reconnect");
                self.close_local_of(&org_id);
            }
        }
        let gone: Vec<ConnId> = self.remote.keys().copied().filter(|c| result.dead.contains(&node_of(*c))).collect();
        if !gone.is_empty() {
            tracing::warn!(nodes = result.dead.len(), conns = gone.len(), "nodes stopped answering; their users go offline after the grace period");
        }
        for conn in gone {
            self.remote.remove(&conn);
            self.hub.disconnect(now, conn);
        }
        if let Some(loads) = result.media {
            self.media.set_loads(loads);
        }
    }

    /// A new local connection, to the organisation's home (`home`, as the request found it).
    pub fn connect(&mut self, now: Instant, conn: ConnId, info: ConnectInfo, home: Home) {
        if self.stopped {
            self.out.push_back(RouterOutput::Close { conn, code: Some(CloseCode::GoingAway.code()) });
            return;
        }
        let route = self.routes.entry(info.org_id.clone()).or_insert(Route { home, local: 0 });
        route.local += 1;
        let home = route.home;
        self.local.insert(conn, info.org_id.clone());
        match home {
            Home::Here => {
                self.hub.connect(now, conn, info);
            }
            Home::Node(node) => self.publish(node, connect_frame(conn, info)),
        }
    }

    /// A local connection closed.
    pub fn disconnect(&mut self, now: Instant, conn: ConnId) {
        self.local_gone(now, conn, None);
    }

    /// A local connection does not read its messages (its outbox is full): it is dropped.
    pub fn too_slow(&mut self, now: Instant, conn: ConnId) {
        self.local_gone(now, conn, None);
    }

    /// A text frame from a local connection.
    pub fn message(&mut self, now: Instant, conn: ConnId, text: &str) {
        let Some(org_id) = self.local.get(&conn) else { return };
        match self.routes.get(org_id).map(|r| r.home) {
            Some(Home::Here) => self.hub.message(now, conn, text),
            Some(Home::Node(node)) => self.publish(node, Frame::Message { conn: conn.0, text: text.to_owned() }),
            None => {}
        }
    }

    /// An organisation's floor plan; `home` when the sender knows where the hub is (a request
    /// that just claimed the home sends the rooms before the first connection).
    pub fn rooms(&mut self, now: Instant, org_id: &str, rooms: Vec<Room>, home: Option<Home>) {
        match home.or_else(|| self.home_of(org_id)) {
            Some(Home::Here) => {
                // This node just claimed the home: from now on connections of other nodes may
                // arrive for it, before any connection of its own.
                self.routes.entry(org_id.to_owned()).or_insert(Route { home: Home::Here, local: 0 });
                self.hub.set_rooms(now, org_id, rooms);
            }
            other => {
                let frame = Frame::Rooms { org: org_id.to_owned(), rooms: rooms.iter().map(Into::into).collect() };
                self.send_to_home(org_id, other, frame);
            }
        }
    }

    /// A user was removed or a guest revoked.
    pub fn user_removed(&mut self, now: Instant, org_id: &str, user_id: &str) {
        match self.home_of(org_id) {
            Some(Home::Here) => self.hub.set_user_removed(now, org_id, user_id),
            other => self.send_to_home(org_id, other, Frame::UserRemoved { org: org_id.to_owned(), user: user_id.to_owned() }),
        }
    }

    /// A user signed out (or a guest's session ended).
    pub fn session_ended(&mut self, now: Instant, org_id: &str, user_id: &str, session: &str) {
        match self.home_of(org_id) {
            Some(Home::Here) => self.hub.set_session_ended(now, org_id, user_id, session),
            other => {
                let frame = Frame::SessionEnded { org: org_id.to_owned(), user: user_id.to_owned(), session: session.to_owned() };
                self.send_to_home(org_id, other, frame);
            }
        }
    }

    /// A user's name or picture changed.
    pub fn user_changed(&mut self, org_id: &str, user_id: &str, name: &str, has_picture: bool, new_picture: bool) {
        match self.home_of(org_id) {
            Some(Home::Here) => self.hub.set_user_profile(org_id, user_id, name, has_picture, new_picture),
            other => {
                let frame = Frame::UserChanged { org: org_id.to_owned(), user: user_id.to_owned(), name: name.to_owned(), picture: has_picture, new_picture };
                self.send_to_home(org_id, other, frame);
            }
        }
    }

    /// What this node's media server tells a participant: to this node's hub, or to the home of
    /// a room placed here by another node.
    pub fn media_event(&mut self, event: MediaEvent) {
        match self.media.served_org(&event) {
            Some(org) => {
                let home = self.home_of(&org);
                self.send_to_home(&org, home, Frame::MediaEvent { org: org.clone(), event });
            }
            None => {
                self.hub.media_event(event);
                self.drain_hub();
            }
        }
    }

    /// A command of this node's hub goes to the media server of the node its room is placed on.
    fn route_media(&mut self, command: MediaCommand) {
        match self.media.place(&command) {
            Some((Home::Node(node), org)) => self.publish(node, Frame::Media { org, command }),
            Some((Home::Here, _)) | None => self.out.push_back(RouterOutput::Media(command)),
        }
    }

    /// Something waits on the server for these members (messages, changed conversations):
    /// their connections are told.
    pub fn notify(&mut self, org_id: &str, user_ids: Vec<String>, notice: Notice) {
        match self.home_of(org_id) {
            Some(Home::Here) => {
                for user in &user_ids {
                    self.hub.notify(org_id, user, notice);
                }
            }
            other => self.send_to_home(org_id, other, Frame::Notify { org: org_id.to_owned(), users: user_ids, notice }),
        }
    }

    /// The answer to [`RouterOutput::CheckClaim`]: `ours` when this node holds the claim.
    pub fn checked_connect(&mut self, now: Instant, frame: Frame, ours: bool) {
        let Frame::Connect { conn, .. } = frame else { return };
        if !self.pending.remove(&ConnId(conn)) {
            return; // it disconnected meanwhile
        }
        if ours && !self.stopped {
            self.remote_connect(now, frame);
        } else {
            self.turn_away(ConnId(conn));
        }
    }

    /// The connection to the other nodes was lost: every claim and route is void, every client
    /// reconnects.
    pub fn bus_lost(&mut self) {
        tracing::warn!("lost the connection to the other nodes; every client reconnects");
        self.hub.shutdown();
        self.drain_hub();
        let orgs: Vec<String> = self.routes.keys().cloned().collect();
        for org_id in orgs {
            self.close_local_of(&org_id);
        }
        self.routes.clear();
        self.remote.clear();
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.clear();
        }
    }

    /// A frame from another node.
    pub fn bus_frame(&mut self, now: Instant, frame: Frame) {
        self.stats.frames_in.fetch_add(1, Ordering::Relaxed);
        match frame {
            Frame::Connect { conn, ref org, .. } => {
                let home = self.home_of(org);
                if home.is_none() && !self.stopped {
                    // The claim may be this node's while the request that made it has not told
                    // the router yet (the other node learnt it from Redis first): ask Redis.
                    self.pending.insert(ConnId(conn));
                    self.out.push_back(RouterOutput::CheckClaim { frame });
                } else if home == Some(Home::Here) && !self.stopped {
                    self.remote_connect(now, frame);
                } else {
                    self.turn_away(ConnId(conn));
                }
            }
            Frame::Disconnect { conn } => {
                self.pending.remove(&ConnId(conn));
                if self.remote.remove(&ConnId(conn)).is_some() {
                    self.hub.disconnect(now, ConnId(conn));
                }
            }
            Frame::Message { conn, text } => {
                if self.remote.contains_key(&ConnId(conn)) {
                    self.hub.message(now, ConnId(conn), &text);
                }
            }
            Frame::Rooms { org, rooms } => {
                if self.home_of(&org) == Some(Home::Here) {
                    self.hub.set_rooms(now, &org, rooms.into_iter().map(Into::into).collect());
                }
            }
            Frame::UserRemoved { org, user } => {
                if self.home_of(&org) == Some(Home::Here) {
                    self.hub.set_user_removed(now, &org, &user);
                }
            }
            Frame::SessionEnded { org, user, session } => {
                if self.home_of(&org) == Some(Home::Here) {
                    self.hub.set_session_ended(now, &org, &user, &session);
                }
            }
            Frame::UserChanged { org, user, name, picture, new_picture } => {
                if self.home_of(&org) == Some(Home::Here) {
                    self.hub.set_user_profile(&org, &user, &name, picture, new_picture);
                }
            }
            Frame::Notify { org, users, notice } => {
                if self.home_of(&org) == Some(Home::Here) {
                    for user in &users {
                        self.hub.notify(&org, user, notice);
                    }
                }
            }
            Frame::Media { org: _, command } => {
                self.media.serve(&command);
                self.out.push_back(RouterOutput::Media(command));
            }
            Frame::MediaEvent { org, event } => {
                if self.home_of(&org) == Some(Home::Here) {
                    self.hub.media_event(event);
                }
            }
            Frame::Deliver { texts, closes } => {
                for (text, conns) in texts {
                    let text = Utf8Bytes::from(text);
                    for conn in conns {
                        if self.local.contains_key(&ConnId(conn)) {
                            self.out.push_back(RouterOutput::Send { conn: ConnId(conn), text: text.clone() });
                        }
                    }
                }
                for (conn, code) in closes {
                    self.forget_local(ConnId(conn), Some(code));
                }
            }
        }
    }

    /// Graceful drain: every client is told to reconnect (elsewhere), then the homes are
    /// released ([`RouterOutput::Release`], the last output). New connections are refused.
    pub fn shutdown(&mut self, now: Instant) {
        let homed = self.homed();
        self.hub.shutdown();
        self.drain_hub();
        let conns: Vec<ConnId> = self.local.keys().copied().collect();
        for conn in conns {
            // Proxied connections: their home hears of it now, not when this node is found dead.
            self.local_gone(now, conn, Some(CloseCode::GoingAway.code()));
        }
        self.routes.clear();
        self.remote.clear();
        self.stopped = true;
        self.out.push_back(RouterOutput::Release { orgs: homed });
    }

    /// The number of connections in this node's hub (local and other nodes').
    #[cfg(test)]
    pub fn hub_connections(&self) -> usize {
        self.hub.connection_count()
    }

    fn homed(&self) -> Vec<String> {
        self.routes.iter().filter(|(_, r)| r.home == Home::Here).map(|(o, _)| o.clone()).collect()
    }

    /// Where an organisation's events go: its route, or here when this is the only node.
    fn home_of(&self, org_id: &str) -> Option<Home> {
        self.routes.get(org_id).map(|r| r.home).or_else(|| (self.single || self.claimed(org_id)).then_some(Home::Here))
    }

    /// Whether a request of this node claimed the organisation's home (and gave it the floor
    /// plan) although the router has not seen that input yet: another node's connection can
    /// overtake it through Redis.
    fn claimed(&self, org_id: &str) -> bool {
        self.loaded.lock().is_ok_and(|loaded| loaded.contains(org_id))
    }

    /// Sends a frame to the organisation's home; without a route, the driver looks it up.
    fn send_to_home(&mut self, org_id: &str, home: Option<Home>, frame: Frame) {
        match home {
            Some(Home::Node(node)) => self.publish(node, frame),
            Some(Home::Here) => {}
            None => self.out.push_back(RouterOutput::PublishToHome { org_id: org_id.to_owned(), frame }),
        }
    }

    fn publish(&mut self, node: NodeTag, frame: Frame) {
        self.stats.frames_out.fetch_add(1, Ordering::Relaxed);
        self.out.push_back(RouterOutput::Publish { node, frame });
    }

    /// Closes another node's connection with 1001: this node is not (or no longer) the home of
    /// its organisation, so the client reconnects and finds the real one.
    fn turn_away(&mut self, conn: ConnId) {
        self.publish(node_of(conn), Frame::Deliver { texts: Vec::new(), closes: vec![(conn.0, CloseCode::GoingAway.code())] });
    }

    /// Adds another node's connection to this node's hub (this node is its organisation's home).
    fn remote_connect(&mut self, now: Instant, frame: Frame) {
        let Frame::Connect { conn, org, user, name, picture, ice, guest, session } = frame else { return };
        let conn = ConnId(conn);
        self.routes.entry(org.clone()).or_insert(Route { home: Home::Here, local: 0 });
        self.remote.insert(conn, org.clone());
        let guest = guest.map(|(room_id, direct)| GuestAccess { room_id, direct });
        self.hub.connect(now, conn, ConnectInfo { org_id: org, user_id: user, name, has_picture: picture, ice_servers: ice, guest, session });
    }

    /// A local connection is gone (or sent away with a close `code`): forgets it and tells its
    /// hub, here or at the home.
    fn local_gone(&mut self, now: Instant, conn: ConnId, code: Option<u16>) {
        let Some(org_id) = self.local.get(&conn) else { return };
        let home = self.routes.get(org_id).map(|r| r.home);
        self.forget_local(conn, code);
        match home {
            Some(Home::Here) => self.hub.disconnect(now, conn),
            Some(Home::Node(node)) => self.publish(node, Frame::Disconnect { conn: conn.0 }),
            None => {}
        }
    }

    /// Drops a local connection (with a close frame when `code`) and the route of its
    /// organisation once no local connection uses it (homes are kept while held).
    fn forget_local(&mut self, conn: ConnId, code: Option<u16>) -> bool {
        let Some(org_id) = self.local.remove(&conn) else { return false };
        if let Some(route) = self.routes.get_mut(&org_id) {
            route.local = route.local.saturating_sub(1);
            if route.local == 0 && route.home != Home::Here {
                self.routes.remove(&org_id);
            }
        }
        self.out.push_back(RouterOutput::Close { conn, code });
        true
    }

    /// Closes the local connections of an organisation with 1001 (they reconnect) and forgets
    /// its route.
    fn close_local_of(&mut self, org_id: &str) {
        let conns: Vec<ConnId> = self.local.iter().filter(|(_, o)| *o == org_id).map(|(c, _)| *c).collect();
        for conn in conns {
            self.local.remove(&conn);
            self.out.push_back(RouterOutput::Close { conn, code: Some(CloseCode::GoingAway.code()) });
        }
        self.routes.remove(org_id);
    }

    /// Stops hosting an organisation (its claim was lost): every connection of it, here or on
    /// other nodes, is closed with 1001 so that its clients reconnect to the new home.
    fn stop_hosting(&mut self, now: Instant, org_id: &str) {
        if self.routes.get(org_id).map(|r| r.home) != Some(Home::Here) {
            return;
        }
        let remote: Vec<ConnId> = self.remote.iter().filter(|(_, o)| *o == org_id).map(|(c, _)| *c).collect();
        let mut closes: BTreeMap<NodeTag, Vec<(u64, u16)>> = BTreeMap::new();
        for conn in &remote {
            self.remote.remove(conn);
            closes.entry(node_of(*conn)).or_default().push((conn.0, CloseCode::GoingAway.code()));
        }
        let local: Vec<ConnId> = self.local.iter().filter(|(_, o)| *o == org_id).map(|(c, _)| *c).collect();
        self.close_local_of(org_id);
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.remove(org_id);
        }
        // Already forgotten above, so what the hub emits while they leave goes nowhere.
        for conn in remote.into_iter().chain(local) {
            self.hub.disconnect(now, conn);
        }
        for (node, closes) in closes {
            self.publish(node, Frame::Deliver { texts: Vec::new(), closes });
        }
    }

    fn update_gauges(&self) {
        let homed = self.routes.values().filter(|r| r.home == Home::Here).count();
        self.stats.orgs_homed.store(homed as u64, Ordering::Relaxed);
        self.stats.local_conns.store(self.local.len() as u64, Ordering::Relaxed);
    }
}

fn connect_frame(conn: ConnId, info: ConnectInfo) -> Frame {
    Frame::Connect {
        conn: conn.0,
        org: info.org_id,
        user: info.user_id,
        name: info.name,
        picture: info.has_picture,
        ice: info.ice_servers,
        guest: info.guest.map(|g| (g.room_id, g.direct)),
        session: info.session,
    }
}
