//! The node task: drives this node's [`Hub`] and routes its connections' events to the hub of
//! their organisation's home, here or on another node (through the [`Bus`]).
//!
//! It feeds the hub with the current time, sleeps until the hub's next deadline, and carries out
//! what the hub emits: frames for local connections go to their bounded outbox, frames for other
//! nodes' connections are grouped into one [`Frame::Deliver`] per node and cycle, call logs go to
//! the database. A connection whose outbox is full (a client that does not read) is closed
//! rather than allowed to hold memory or slow everyone else down.
//!
//! With several nodes it also keeps the routes true, every heartbeat: it renews the homes it
//! holds (and stops hosting an organisation whose claim it lost), closes the local connections of
//! an organisation whose home changed (with 1001, so that clients reconnect to the new home), and
//! disconnects the connections of nodes that died (so that their users turn offline after the
//! usual grace period).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use bureau_office::Office;
use bureau_signal::{CloseCode, ConnId, ConnectInfo, GuestAccess, Hub};
use tokio::sync::mpsc;

mod deliver;

use deliver::close_reason;

use super::bus::{Bus, BusEvent, BusStats, Frame, Home, NodeTag, node_of};
use super::{Event, Outbound};

/// A connection on this node.
struct Local {
    org_id: String,
    outbox: mpsc::Sender<Outbound>,
}

/// Where an organisation's events go, and how many local connections it has.
struct Route {
    home: Home,
    local: usize,
}

/// The state of the node task.
pub(super) struct Node {
    pub hub: Hub,
    pub bus: Arc<dyn Bus>,
    pub office: Arc<Office>,
    pub stats: Arc<BusStats>,
    /// Organisations whose floor plan this node's hub has; shared with the request handlers.
    pub loaded: Arc<Mutex<HashSet<String>>>,
    /// For the results of the heartbeat checks.
    pub events: mpsc::Sender<Event>,
    pub heartbeat: Duration,
    local: HashMap<ConnId, Local>,
    routes: HashMap<String, Route>,
    /// Other nodes' connections in this node's hub, with their organisation.
    remote: HashMap<ConnId, String>,
    /// Other nodes' connections waiting for Redis to say whether this node is their home.
    pending: HashSet<ConnId>,
    checking: Arc<AtomicBool>,
    stopped: bool,
}

impl Node {
    pub fn new(hub: Hub, bus: Arc<dyn Bus>, office: Arc<Office>, stats: Arc<BusStats>, loaded: Arc<Mutex<HashSet<String>>>, events: mpsc::Sender<Event>, heartbeat: Duration) -> Self {
        Node {
            hub,
            bus,
            office,
            stats,
            loaded,
            events,
            heartbeat,
            local: HashMap::new(),
            routes: HashMap::new(),
            remote: HashMap::new(),
            pending: HashSet::new(),
            checking: Arc::new(AtomicBool::new(false)),
            stopped: false,
        }
    }

    pub async fn run(mut self, mut inbox: mpsc::Receiver<Event>, mut frames: mpsc::UnboundedReceiver<BusEvent>) {
        let mut ticks = tokio::time::interval(self.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let single = self.bus.single();
        loop {
            let deadline = self.hub.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = inbox.recv() => {
                    let Some(event) = event else { break };
                    if let Event::Shutdown(done) = event {
                        self.shutdown().await;
                        let _ = done.send(());
                        continue;
                    }
                    self.handle(event);
                }
                Some(event) = frames.recv() => self.bus_event(event),
                () = sleep => self.hub.handle_timeout(Instant::now()),
                _ = ticks.tick(), if !single => self.check(),
            }
            self.deliver();
            self.stats.local_conns.store(self.local.len() as u64, Ordering::Relaxed);
        }
    }

    fn handle(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::Connect { conn, info, outbox, home } => {
                if self.stopped {
                    let _ = outbox.try_send(Outbound::Close(CloseCode::GoingAway.code(), CloseCode::GoingAway.reason()));
                    return;
                }
                let route = self.routes.entry(info.org_id.clone()).or_insert(Route { home, local: 0 });
                route.local += 1;
                let home = route.home;
                self.local.insert(conn, Local { org_id: info.org_id.clone(), outbox });
                match home {
                    Home::Here => {
                        self.hub.connect(now, conn, info);
                    }
                    Home::Node(node) => self.publish(node, &connect_frame(conn, info)),
                }
                self.count_homed();
            }
            Event::Disconnect(conn) => self.local_gone(now, conn, true),
            Event::Message(conn, text) => {
                let Some(local) = self.local.get(&conn) else { return };
                match self.routes.get(&local.org_id).map(|r| r.home) {
                    Some(Home::Here) => self.hub.message(now, conn, text.as_str()),
                    Some(Home::Node(node)) => self.publish(node, &Frame::Message { conn: conn.0, text: text.as_str().to_owned() }),
                    None => {}
                }
            }
            Event::Rooms { org_id, rooms, home } => {
                let frame = Frame::Rooms { org: org_id.clone(), rooms: rooms.iter().map(Into::into).collect() };
                match home.or_else(|| self.home_of(&org_id)) {
                    Some(Home::Here) => {
                        // This node just claimed the home: from now on connections of other
                        // nodes may arrive for it, before any connection of its own.
                        self.routes.entry(org_id.clone()).or_insert(Route { home: Home::Here, local: 0 });
                        self.count_homed();
                        self.hub.set_rooms(now, &org_id, rooms);
                    }
                    other => self.to_home(&org_id, other, frame),
                }
            }
            Event::UserRemoved { org_id, user_id } => match self.home_of(&org_id) {
                Some(Home::Here) => self.hub.set_user_removed(now, &org_id, &user_id),
                other => self.to_home(&org_id, other, Frame::UserRemoved { org: org_id.clone(), user: user_id }),
            },
            Event::SessionEnded { org_id, user_id, session } => match self.home_of(&org_id) {
                Some(Home::Here) => self.hub.set_session_ended(now, &org_id, &user_id, &session),
                other => self.to_home(&org_id, other, Frame::SessionEnded { org: org_id.clone(), user: user_id, session }),
            },
            Event::UserChanged { org_id, user_id, name, has_picture, new_picture } => match self.home_of(&org_id) {
                Some(Home::Here) => self.hub.set_user_profile(&org_id, &user_id, &name, has_picture, new_picture),
                other => {
                    let frame = Frame::UserChanged { org: org_id.clone(), user: user_id, name, picture: has_picture, new_picture };
                    self.to_home(&org_id, other, frame);
                }
            },
            Event::LeaseLost(orgs) => {
                for org_id in orgs {
                    tracing::warn!("lost the home claim of an organisation; its clients reconnect");
                    self.stop_hosting(now, &org_id);
                }
            }
            Event::HomeMoved(orgs) => {
                for org_id in orgs {
                    if matches!(self.routes.get(&org_id).map(|r| r.home), Some(Home::Node(_))) {
                        tracing::info!("an organisation's home node changed or went away; its clients reconnect");
                        self.close_local_of(&org_id);
                    }
                }
            }
            Event::CheckedConnect { frame, ours } => {
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
            Event::NodesDead(nodes) => {
                let gone: Vec<ConnId> = self.remote.keys().copied().filter(|c| nodes.contains(&node_of(*c))).collect();
                if !gone.is_empty() {
                    tracing::warn!(nodes = nodes.len(), conns = gone.len(), "nodes stopped answering; their users go offline after the grace period");
                }
                for conn in gone {
                    self.remote.remove(&conn);
                    self.hub.disconnect(now, conn);
                }
            }
            Event::Shutdown(_) => {}
        }
    }

    /// Where an organisation's events go: its route, or here when this is the only node.
    fn home_of(&self, org_id: &str) -> Option<Home> {
        self.routes.get(org_id).map(|r| r.home).or_else(|| (self.bus.single() || self.claimed(org_id)).then_some(Home::Here))
    }

    /// Whether a request of this node claimed the organisation's home (and gave it the floor
    /// plan) although the node task has not seen that event yet: another node's connection can
    /// overtake it through Redis.
    fn claimed(&self, org_id: &str) -> bool {
        self.loaded.lock().is_ok_and(|loaded| loaded.contains(org_id))
    }

    /// Sends a frame to the organisation's home; without a route, looks the home up first (a
    /// floor-plan change made on a node without connections of the organisation).
    fn to_home(&self, org_id: &str, home: Option<Home>, frame: Frame) {
        match home {
            Some(Home::Node(node)) => self.publish(node, &frame),
            Some(Home::Here) => {}
            None => {
                let (bus, stats, org_id) = (self.bus.clone(), self.stats.clone(), org_id.to_owned());
                tokio::spawn(async move {
                    if let (Ok(Some(Some(node))), Some(me)) = (bus.homes(&[org_id]).await.map(|h| h.first().copied()), bus.node())
                        && node != me
                    {
                        stats.frames_out.fetch_add(1, Ordering::Relaxed);
                        bus.publish(node, &frame);
                    }
                });
            }
        }
    }

    fn publish(&self, node: NodeTag, frame: &Frame) {
        self.stats.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bus.publish(node, frame);
    }

    fn bus_event(&mut self, event: BusEvent) {
        let now = Instant::now();
        let frame = match event {
            BusEvent::Frame(frame) => frame,
            BusEvent::Lost => {
                tracing::warn!("lost the connection to the other nodes; every client reconnects");
                self.hub.shutdown();
                self.deliver();
                let orgs: Vec<String> = self.routes.keys().cloned().collect();
                for org_id in orgs {
                    self.close_local_of(&org_id);
                }
                self.routes.clear();
                self.remote.clear();
                if let Ok(mut loaded) = self.loaded.lock() {
                    loaded.clear();
                }
                self.count_homed();
                return;
            }
        };
        self.stats.frames_in.fetch_add(1, Ordering::Relaxed);
        match frame {
            Frame::Connect { conn, ref org, .. } => {
                let home = self.home_of(org);
                if home.is_none() && !self.stopped {
                    // The claim may be this node's while the request that made it has not told
                    // the node task yet (the other node learnt it from Redis first): ask Redis.
                    self.check_claim(frame);
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
            Frame::Deliver { texts, closes } => {
                let mut too_slow = Vec::new();
                for (text, conns) in texts {
                    let text = Utf8Bytes::from(text);
                    for conn in conns {
                        let Some(local) = self.local.get(&ConnId(conn)) else { continue };
                        if local.outbox.try_send(Outbound::Text(text.clone())).is_err() {
                            too_slow.push(ConnId(conn));
                        }
                    }
                }
                for (conn, code) in closes {
                    if let Some(local) = self.forget_local(ConnId(conn)) {
                        let _ = local.outbox.try_send(Outbound::Close(code, close_reason(code)));
                    }
                }
                for conn in too_slow {
                    self.warn_if_slow(conn);
                    self.local_gone(now, conn, true);
                }
            }
        }
    }

    /// Closes another node's connection with 1001: this node is not (or no longer) the home of
    /// its organisation, so the client reconnects and finds the real one.
    fn turn_away(&self, conn: ConnId) {
        self.publish(node_of(conn), &Frame::Deliver { texts: Vec::new(), closes: vec![(conn.0, CloseCode::GoingAway.code())] });
    }

    /// Adds another node's connection to this node's hub (this node is its organisation's home).
    fn remote_connect(&mut self, now: Instant, frame: Frame) {
        let Frame::Connect { conn, org, user, name, picture, ice, guest, session } = frame else { return };
        let conn = ConnId(conn);
        self.routes.entry(org.clone()).or_insert(Route { home: Home::Here, local: 0 });
        self.count_homed();
        self.remote.insert(conn, org.clone());
        let guest = guest.map(|(room_id, direct)| GuestAccess { room_id, direct });
        self.hub.connect(now, conn, ConnectInfo { org_id: org, user_id: user, name, has_picture: picture, ice_servers: ice, guest, session });
    }

    /// Asks Redis whether this node holds the home of a connection's organisation; the answer
    /// comes back as [`Event::CheckedConnect`].
    fn check_claim(&mut self, frame: Frame) {
        let Frame::Connect { conn, ref org, .. } = frame else { return };
        self.pending.insert(ConnId(conn));
        let (bus, events, org) = (self.bus.clone(), self.events.clone(), org.clone());
        tokio::spawn(async move {
            let holder = bus.homes(std::slice::from_ref(&org)).await.ok().and_then(|h| h.first().copied().flatten());
            let ours = holder.is_some() && holder == bus.node();
            let _ = events.send(Event::CheckedConnect { frame, ours }).await;
        });
    }

    /// Logs a connection whose outbox is full. A closed outbox is a socket that just ended (its
    /// task tells the hub by itself): nothing to warn about.
    fn warn_if_slow(&self, conn: ConnId) {
        if self.local.get(&conn).is_some_and(|l| !l.outbox.is_closed()) {
            tracing::warn!(conn = conn.0, "closing a connection that does not read its messages");
        }
    }

    /// A local connection is gone: forgets it and, when `tell`, tells its hub.
    fn local_gone(&mut self, now: Instant, conn: ConnId, tell: bool) {
        let Some(local) = self.local.get(&conn) else { return };
        let home = self.routes.get(&local.org_id).map(|r| r.home);
        self.forget_local(conn);
        match home {
            Some(Home::Here) => self.hub.disconnect(now, conn),
            Some(Home::Node(node)) if tell => self.publish(node, &Frame::Disconnect { conn: conn.0 }),
            _ => {}
        }
    }

    /// Drops a local connection (its socket task ends when its outbox is dropped) and the route
    /// of its organisation once no local connection uses it (homes are kept while held).
    fn forget_local(&mut self, conn: ConnId) -> Option<Local> {
        let local = self.local.remove(&conn)?;
        if let Some(route) = self.routes.get_mut(&local.org_id) {
            route.local = route.local.saturating_sub(1);
            if route.local == 0 && route.home != Home::Here {
                self.routes.remove(&local.org_id);
            }
        }
        Some(local)
    }

    /// Closes the local connections of an organisation with 1001 (they reconnect) and forgets
    /// its route.
    fn close_local_of(&mut self, org_id: &str) {
        let conns: Vec<ConnId> = self.local.iter().filter(|(_, l)| l.org_id == org_id).map(|(c, _)| *c).collect();
        for conn in conns {
            if let Some(local) = self.local.remove(&conn) {
                let _ = local.outbox.try_send(Outbound::Close(CloseCode::GoingAway.code(), CloseCode::GoingAway.reason()));
            }
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
        let mut closes: HashMap<NodeTag, Vec<(u64, u16)>> = HashMap::new();
        for conn in &remote {
            self.remote.remove(conn);
            closes.entry(node_of(*conn)).or_default().push((conn.0, CloseCode::GoingAway.code()));
        }
        let local: Vec<ConnId> = self.local.iter().filter(|(_, l)| l.org_id == org_id).map(|(c, _)| *c).collect();
        self.close_local_of(org_id);
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.remove(org_id);
        }
        // Already forgotten above, so what the hub emits while they leave goes nowhere.
        for conn in remote.into_iter().chain(local) {
            self.hub.disconnect(now, conn);
        }
        for (node, closes) in closes {
            self.publish(node, &Frame::Deliver { texts: Vec::new(), closes });
        }
        self.count_homed();
    }

    fn count_homed(&self) {
        let homed = self.routes.values().filter(|r| r.home == Home::Here).count();
        self.stats.orgs_homed.store(homed as u64, Ordering::Relaxed);
    }

    /// The heartbeat: renews the homes held here, checks the homes of the proxied organisations
    /// and the liveness of the nodes serving this hub's remote connections, in a task of its own
    /// so that Redis round trips never hold up the hub. One check at a time.
    fn check(&self) {
        if !self.bus.ready() || self.checking.swap(true, Ordering::AcqRel) {
            return;
        }
        let homed: Vec<String> = self.routes.iter().filter(|(_, r)| r.home == Home::Here).map(|(o, _)| o.clone()).collect();
        let proxied: Vec<(String, NodeTag)> =
            self.routes.iter().filter_map(|(o, r)| if let Home::Node(n) = r.home { Some((o.clone(), n)) } else { None }).collect();
        let nodes: Vec<NodeTag> = self.remote.keys().map(|c| node_of(*c)).collect::<HashSet<_>>().into_iter().collect();
        let (bus, events, checking) = (self.bus.clone(), self.events.clone(), self.checking.clone());
        tokio::spawn(async move {
            if let Ok(lost) = bus.renew(&homed).await
                && !lost.is_empty()
            {
                let _ = events.send(Event::LeaseLost(lost)).await;
            }
            let orgs: Vec<String> = proxied.iter().map(|(o, _)| o.clone()).collect();
            if let Ok(homes) = bus.homes(&orgs).await {
                let moved: Vec<String> =
                    proxied.iter().zip(homes).filter(|((_, was), now)| *now != Some(*was)).map(|((o, _), _)| o.clone()).collect();
                if !moved.is_empty() {
                    let _ = events.send(Event::HomeMoved(moved)).await;
                }
            }
            if let Ok(dead) = bus.dead(&nodes).await
                && !dead.is_empty()
            {
                let _ = events.send(Event::NodesDead(dead)).await;
            }
            checking.store(false, Ordering::Release);
        });
    }

    /// Graceful drain: every client is told to reconnect (elsewhere), the homes are released.
    async fn shutdown(&mut self) {
        let homed: Vec<String> = self.routes.iter().filter(|(_, r)| r.home == Home::Here).map(|(o, _)| o.clone()).collect();
        self.hub.shutdown();
        self.deliver();
        let conns: Vec<ConnId> = self.local.keys().copied().collect();
        for conn in conns {
            // Proxied connections: their home hears of it now, not when this node is found dead.
            let outbox = self.local.get(&conn).map(|l| l.outbox.clone());
            self.local_gone(Instant::now(), conn, true);
            if let Some(outbox) = outbox {
                let _ = outbox.try_send(Outbound::Close(CloseCode::GoingAway.code(), CloseCode::GoingAway.reason()));
            }
        }
        self.routes.clear();
        self.remote.clear();
        self.stopped = true;
        self.count_homed();
        self.bus.release(&homed).await;
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
