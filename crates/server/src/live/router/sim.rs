//! Several routers over an in-memory bus on a fake clock, for the tests (in the style of
//! quinn-proto's simulated pairs).
//!
//! [`Sim`] stands for everything around the routers: the Redis server (homes claimed with a
//! lease, each node's liveness key, pub/sub), the request handlers (`Live::prepare` and
//! `Live::connect`), the node tasks (two queues per node, events and bus frames, read in an
//! order chosen from the seed, as `tokio::select!` might) and the clients, which keep what their
//! connection was sent and how it was closed. Nothing waits: time moves only when a test says.

// Test code panics on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bureau_signal::{ConnId, ConnectInfo, Hub, HubConfig, MediaCommand, MediaEvent, Room, RoomKind};
use serde_json::Value;

use super::super::bus::{BusStats, Frame, Home, NodeTag, TAG_SHIFT};
use super::{CheckResult, Router, RouterConfig, RouterOutput};

/// The organisation every simulated client belongs to.
pub const ORG: &str = "acme";
/// How often the routers check their homes and the other nodes.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a home claim or a liveness key lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(3);
/// How long a user who lost every connection still shows online.
pub const GRACE: Duration = Duration::from_secs(15);

/// The Redis server: home claims and liveness keys with their expiry.
struct Redis {
    up: bool,
    homes: BTreeMap<String, (NodeTag, Instant)>,
    alive: BTreeMap<NodeTag, Instant>,
}

impl Redis {
    fn holder(&self, org: &str, now: Instant) -> Option<NodeTag> {
        self.homes.get(org).filter(|(_, until)| *until > now).map(|(tag, _)| *tag)
    }

    /// `SET NX PX`: the holder, after claiming the home for `tag` if nobody holds it.
    fn claim(&mut self, org: &str, tag: NodeTag, now: Instant) -> NodeTag {
        match self.holder(org, now) {
            Some(holder) => holder,
            None => {
                self.homes.insert(org.to_owned(), (tag, now + LEASE));
                tag
            }
        }
    }
}

/// What a node task reads next from one of its two queues.
enum Input {
    Rooms { org: String, home: Home },
    Connect { conn: ConnId, user: String, home: Home },
    Disconnect(ConnId),
    Message(ConnId, String),
    Checked(CheckResult),
    CheckedConnect { frame: Frame, ours: bool },
    Media(MediaEvent),
    Shutdown,
    Frame(Frame),
    Lost,
}

struct Node {
    tag: NodeTag,
    router: Router,
    loaded: Arc<Mutex<HashSet<String>>>,
    /// From the request handlers, the sockets and the answers of the bus.
    events: VecDeque<Input>,
    /// From the other nodes.
    frames: VecDeque<Input>,
    /// The process runs (a killed node reads nothing, sends nothing, renews nothing).
    running: bool,
    /// The commands its media server got, in order.
    pub media: Vec<MediaCommand>,
    /// How many participants its media server reports (`None`: it runs none).
    media_load: Option<usize>,
}

/// A client's connection and everything it was told.
pub struct Client {
    pub user: String,
    pub node: usize,
    /// Every message received, parsed.
    pub received: Vec<Value>,
    /// `Some(code)` once closed by the server (`None` inside: without a close frame).
    pub closed: Option<Option<u16>>,
    /// The client has reconnected (with a new connection) after being sent away.
    pub replaced: bool,
}

impl Client {
    /// The status this client was last told `user` has (`None`: never heard of).
    pub fn status_of(&self, user: &str) -> Option<String> {
        let mut status = None;
        for msg in &self.received {
            let people: Vec<&Value> = match msg["type"].as_str() {
                Some("welcome") => msg["presence"].as_array().map(|p| p.iter().collect()).unwrap_or_default(),
                Some("presence") => vec![&msg["user"]],
                _ => Vec::new(),
            };
            for person in people.into_iter().filter(|p| p["user_id"] == user) {
                status = person["status"].as_str().map(str::to_owned);
            }
        }
        status
    }

    /// Whether the connection got its `welcome`.
    pub fn welcomed(&self) -> bool {
        self.received.first().is_some_and(|m| m["type"] == "welcome")
    }
}

/// See the [module documentation](self).
pub struct Sim {
    pub now: Instant,
    rng: u64,
    redis: Redis,
    nodes: Vec<Node>,
    pub clients: BTreeMap<ConnId, Client>,
    next_conn: u64,
    /// The organisation's floor plan.
    rooms: Vec<Room>,
}

impl Sim {
    /// `nodes` nodes sharing one Redis; `seed` chooses the order in which the node tasks read.
    pub fn new(nodes: usize, seed: u64) -> Sim {
        Sim::build(nodes, seed, &[])
    }

    /// Nodes that each run a media server with these loads, and a meeting room `meet` that
    /// moves to a media server from two participants on.
    pub fn with_media_servers(seed: u64, loads: &[usize]) -> Sim {
        let mut sim = Sim::build(loads.len(), seed, loads);
        sim.rooms.push(Room {
            id: "meet".into(),
            name: "Meet".into(),
            kind: RoomKind::Meeting,
            owner_user_id: None,
            capacity: None,
            away: None,
            meeting: None,
            next_busy: None,
            media_threshold: None,
        });
        sim
    }

    fn build(nodes: usize, seed: u64, media_loads: &[usize]) -> Sim {
        let now = Instant::now();
        let mut sim = Sim {
            now,
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            redis: Redis { up: true, homes: BTreeMap::new(), alive: BTreeMap::new() },
            nodes: Vec::new(),
            clients: BTreeMap::new(),
            next_conn: 1,
            rooms: Vec::new(),
        };
        for i in 0..nodes {
            let tag = 0x100 + i as NodeTag;
            let loaded = Arc::new(Mutex::new(HashSet::new()));
            let media_load = media_loads.get(i).copied();
            let sfu_threshold = media_load.map(|_| 2);
            let config = HubConfig { presence_grace: GRACE, sfu_threshold, ..HubConfig::default() };
            let hub = Hub::with_seed(config, seed ^ tag as u64);
            let router = Router::new(hub, RouterConfig { single: false, heartbeat: HEARTBEAT }, now, Arc::new(BusStats::default()), loaded.clone());
            sim.nodes.push(Node { tag, router, loaded, events: VecDeque::new(), frames: VecDeque::new(), running: true, media: Vec::new(), media_load });
            sim.redis.alive.insert(tag, now + LEASE);
        }
        sim
    }

    fn random(&mut self, below: usize) -> usize {
        // xorshift64: enough to vary the interleavings, the same for the same seed.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % below as u64) as usize
    }

    /// A user opens a connection on a node, as `Live::prepare` and `Live::connect` do: finds
    /// or claims the home and, when it is here and new, gives the hub the floor plan first.
    /// `None` when the node refuses (Redis down, node not running).
    pub fn connect(&mut self, node: usize, user: &str) -> Option<ConnId> {
        if !self.redis.up || !self.nodes[node].running {
            return None;
        }
        let tag = self.nodes[node].tag;
        let holder = self.redis.claim(ORG, tag, self.now);
        let home = if holder == tag { Home::Here } else { Home::Node(holder) };
        let n = &mut self.nodes[node];
        if home == Home::Here && n.loaded.lock().unwrap().insert(ORG.to_owned()) {
            n.events.push_back(Input::Rooms { org: ORG.to_owned(), home });
        }
        let conn = ConnId(u64::from(tag) << TAG_SHIFT | self.next_conn);
        self.next_conn += 1;
        n.events.push_back(Input::Connect { conn, user: user.to_owned(), home });
        self.clients.insert(conn, Client { user: user.to_owned(), node, received: Vec::new(), closed: None, replaced: false });
        Some(conn)
    }

    /// Node `node`'s media server tells a participant something.
    pub fn media_event(&mut self, node: usize, event: MediaEvent) {
        self.nodes[node].events.push_back(Input::Media(event));
    }

    /// The commands node `node`'s media server got.
    pub fn media_commands(&self, node: usize) -> &[MediaCommand] {
        &self.nodes[node].media
    }

    /// The client sends a text frame.
    pub fn send(&mut self, conn: ConnId, text: &str) {
        let node = self.clients[&conn].node;
        self.nodes[node].events.push_back(Input::Message(conn, text.to_owned()));
    }

    /// The node drains (SIGTERM): its clients are sent away, its homes released.
    pub fn drain(&mut self, node: usize) {
        self.nodes[node].events.push_back(Input::Shutdown);
    }

    /// The node's process dies without a word: its sockets drop, its keys expire in time.
    pub fn kill(&mut self, node: usize) {
        self.nodes[node].running = false;
        for client in self.clients.values_mut().filter(|c| c.node == node) {
            client.closed.get_or_insert(None);
        }
    }

    /// Redis goes away (and with it every key): every running node loses the bus.
    pub fn redis_down(&mut self) {
        self.redis.up = false;
        self.redis.homes.clear();
        self.redis.alive.clear();
        for node in self.nodes.iter_mut().filter(|n| n.running) {
            node.frames.push_back(Input::Lost);
        }
    }

    /// Redis is back: the running nodes reconnect and announce themselves alive again.
    pub fn redis_up(&mut self) {
        self.redis.up = true;
        for node in self.nodes.iter().filter(|n| n.running) {
            self.redis.alive.insert(node.tag, self.now + LEASE);
        }
    }

    /// The clients closed with 1001 (told to reconnect) that have not reconnected yet.
    pub fn sent_away(&self) -> Vec<ConnId> {
        self.clients.iter().filter(|(_, c)| c.closed == Some(Some(1001)) && !c.replaced).map(|(conn, _)| *conn).collect()
    }

    /// The connections open now (not closed by either side).
    pub fn open(&self) -> Vec<ConnId> {
        self.clients.iter().filter(|(_, c)| c.closed.is_none()).map(|(conn, _)| *conn).collect()
    }

    /// Reconnects every client that was sent away, to `to` or else to the node it was on;
    /// returns the new connections.
    pub fn reconnect_sent_away(&mut self, to: Option<usize>) -> Vec<ConnId> {
        let mut fresh = Vec::new();
        for conn in self.sent_away() {
            let client = self.clients.get_mut(&conn).expect("a client");
            client.replaced = true;
            let (user, node) = (client.user.clone(), to.unwrap_or(client.node));
            fresh.push(self.connect(node, &user).expect("the node takes connections"));
        }
        fresh
    }

    /// Runs the node tasks until every queue is empty, in an order chosen from the seed.
    pub fn settle(&mut self) {
        for _ in 0..1_000_000 {
            let ready: Vec<(usize, bool)> = (0..self.nodes.len())
                .filter(|i| self.nodes[*i].running)
                .flat_map(|i| [(i, true), (i, false)])
                .filter(|(i, events)| if *events { !self.nodes[*i].events.is_empty() } else { !self.nodes[*i].frames.is_empty() })
                .collect();
            if ready.is_empty() {
                return;
            }
            let (i, events) = ready[self.random(ready.len())];
            let node = &mut self.nodes[i];
            let input = if events { node.events.pop_front() } else { node.frames.pop_front() };
            if let Some(input) = input {
                self.feed(i, input);
                self.carry_out(i);
            }
        }
        panic!("the routers never settled: frames keep bouncing between nodes");
    }

    /// Lets `duration` pass: every deadline of a running router on the way fires in order, and
    /// the node tasks settle after each.
    pub fn advance(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.settle();
        loop {
            let next = self.nodes.iter().filter(|n| n.running).filter_map(|n| n.router.poll_timeout()).min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    for i in 0..self.nodes.len() {
                        if self.nodes[i].running && self.nodes[i].router.poll_timeout().is_some_and(|t| t <= self.now) {
                            self.nodes[i].router.handle_timeout(self.now);
                            self.carry_out(i);
                        }
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = end;
    }

    /// The home's claim vanishes from Redis (it ran out while its node could not renew it).
    pub fn expire_home(&mut self) {
        self.redis.homes.remove(ORG);
    }

    /// Settles, then forgets the client of `conn`; returns how the server closed it, if it did.
    pub fn close_code_and_forget(&mut self, conn: ConnId) -> Option<Option<u16>> {
        self.settle();
        self.clients.remove(&conn).and_then(|c| c.closed)
    }

    /// The connections in a node's hub.
    pub fn hub_connections(&self, node: usize) -> usize {
        self.nodes[node].router.hub_connections()
    }

    /// The node holding the organisation's home now.
    pub fn home(&self) -> Option<usize> {
        let tag = self.redis.holder(ORG, self.now)?;
        self.nodes.iter().position(|n| n.tag == tag)
    }

    fn feed(&mut self, i: usize, input: Input) {
        let now = self.now;
        let router = &mut self.nodes[i].router;
        match input {
            Input::Rooms { org, home } => router.rooms(now, &org, self.rooms.clone(), Some(home)),
            Input::Connect { conn, user, home } => {
                let info = ConnectInfo {
                    org_id: ORG.to_owned(),
                    user_id: user.clone(),
                    name: user.clone(),
                    has_picture: false,
                    ice_servers: Value::Null,
                    guest: None,
                    session: format!("session-{user}"),
                };
                router.connect(now, conn, info, home);
            }
            Input::Disconnect(conn) => router.disconnect(now, conn),
            Input::Message(conn, text) => router.message(now, conn, &text),
            Input::Checked(result) => router.checked(now, result),
            Input::CheckedConnect { frame, ours } => router.checked_connect(now, frame, ours),
            Input::Media(event) => router.media_event(event),
            Input::Shutdown => router.shutdown(now),
            Input::Frame(frame) => router.bus_frame(now, frame),
            Input::Lost => router.bus_lost(),
        }
    }

    /// Does what node `i`'s router asks, as the node task and the bus would.
    fn carry_out(&mut self, i: usize) {
        let (tag, now) = (self.nodes[i].tag, self.now);
        while let Some(output) = self.nodes[i].router.poll_output() {
            match output {
                RouterOutput::Send { conn, text } => {
                    if let Some(client) = self.clients.get_mut(&conn).filter(|c| c.closed.is_none()) {
                        client.received.push(serde_json::from_str(text.as_str()).expect("JSON"));
                    }
                }
                RouterOutput::Close { conn, code } => {
                    if let Some(client) = self.clients.get_mut(&conn) {
                        client.closed.get_or_insert(code);
                        if code.is_some() {
                            // The socket task sends the close frame and ends: the router hears
                            // the disconnect like any other.
                            self.nodes[i].events.push_back(Input::Disconnect(conn));
                        }
                    }
                }
                RouterOutput::Publish { node, frame } => self.publish(node, frame),
                RouterOutput::PublishToHome { org_id, frame } => {
                    if let Some(home) = self.redis.holder(&org_id, now).filter(|h| *h != tag && self.redis.up) {
                        self.publish(home, frame);
                    }
                }
                RouterOutput::CheckClaim { frame } => {
                    let Frame::Connect { ref org, .. } = frame else { continue };
                    let ours = self.redis.up && self.redis.holder(org, now) == Some(tag);
                    self.nodes[i].events.push_back(Input::CheckedConnect { frame, ours });
                }
                RouterOutput::Check { homed, proxied, nodes } => {
                    let result = self.check(tag, homed, proxied, nodes);
                    self.nodes[i].events.push_back(Input::Checked(result));
                }
                RouterOutput::Release { orgs } => {
                    for org in orgs {
                        if self.redis.holder(&org, now) == Some(tag) {
                            self.redis.homes.remove(&org);
                        }
                    }
                    self.redis.alive.remove(&tag);
                }
                RouterOutput::Media(command) => self.nodes[i].media.push(command),
                RouterOutput::CallLog(_) | RouterOutput::Present { .. } => {}
            }
        }
    }

    /// The heartbeat's Redis round trips for node `tag` (which also renews its liveness).
    fn check(&mut self, tag: NodeTag, homed: Vec<String>, proxied: Vec<(String, NodeTag)>, nodes: Vec<NodeTag>) -> CheckResult {
        let now = self.now;
        if !self.redis.up {
            return CheckResult::default();
        }
        self.redis.alive.insert(tag, now + LEASE);
        let mut lost = Vec::new();
        for org in homed {
            match self.redis.homes.get_mut(&org) {
                Some((holder, until)) if *holder == tag && *until > now => *until = now + LEASE,
                _ => lost.push(org),
            }
        }
        let moved = proxied.into_iter().filter(|(org, was)| self.redis.holder(org, now) != Some(*was)).map(|(org, _)| org).collect();
        let dead = nodes.into_iter().filter(|n| self.redis.alive.get(n).is_none_or(|until| *until <= now)).collect();
        // Every live node's media server load (a node's key expires with its liveness).
        let alive = |t: &NodeTag| self.redis.alive.get(t).is_some_and(|until| *until > now);
        let media = self.nodes.iter().filter(|n| alive(&n.tag)).filter_map(|n| n.media_load.map(|l| (if n.tag == tag { Home::Here } else { Home::Node(n.tag) }, l))).collect();
        CheckResult { lost, moved, dead, media: Some(media) }
    }

    /// Pub/sub: the frame reaches the node if Redis is up and the node runs.
    fn publish(&mut self, tag: NodeTag, frame: Frame) {
        if !self.redis.up {
            return;
        }
        if let Some(node) = self.nodes.iter_mut().find(|n| n.tag == tag && n.running) {
            node.frames.push_back(Input::Frame(frame));
        }
    }
}
