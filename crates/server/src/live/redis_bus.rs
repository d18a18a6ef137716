//! The bus between nodes sharing one Redis server.
//!
//! Keys and channels (`<tag>` is a node's 24-bit tag in hex):
//! - `bureau:node:<tag>:alive`: set by the node every heartbeat, expiring after the lease. A node
//!   picks a random tag at start that no live node holds (`SET NX`), so connection ids, whose
//!   high bits are the tag, are unique across nodes;
//! - `bureau:home:<org id>`: the tag of the organisation's home, claimed with `SET NX PX` by the
//!   first node that needs it and renewed by the home every heartbeat (only while it still holds
//!   it: a Lua script compares before extending or deleting);
//! - channel `bureau:node:<tag>`: the [`Frame`]s for that node, as JSON;
//! - `bureau:node:<tag>:media`: how many participants the node's media server serves, set every
//!   heartbeat and expiring after the lease; `bureau:media-nodes`, the set of the tags of nodes
//!   that run one (a tag whose load key expired is dropped from it by whoever reads it).
//!
//! A supervisor task keeps one pub/sub connection (the node's channel) and one multiplexed
//! connection for commands. When either fails (Redis restarted, network cut) the node task hears
//! [`BusEvent::Lost`] and drops every home and route — clients reconnect with 1001 and rebuild the
//! presence on whichever node becomes home — and the supervisor reconnects with backoff.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, oneshot};

use super::bus::{Bus, BusError, BusEvent, BusStats, Frame, Home, NodeTag};
use crate::config::ClusterSettings;

/// The set of the tags of nodes that run a media server.
const MEDIA_NODES: &str = "bureau:media-nodes";

/// Claims the home of an organisation unless another node holds it; answers the holder.
const CLAIM: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
";

/// Extends a claim only while this node still holds it (1), else 0.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// Gives up a claim only while this node still holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Frames sent in one pipeline at most.
const PIPELINE: usize = 256;
/// The longest wait between two attempts to reach Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Work for the publisher task, done in order.
enum Op {
    Publish(NodeTag, String),
    Release(Vec<String>, oneshot::Sender<()>),
}

/// The bus over Redis. See the [module documentation](self).
pub struct RedisBus {
    client: redis::Client,
    /// This node's tag; 0 until Redis was first reached.
    tag: AtomicU32,
    ready: AtomicBool,
    stopping: AtomicBool,
    commands: RwLock<Option<MultiplexedConnection>>,
    lease: Duration,
    heartbeat: Duration,
    ops: mpsc::UnboundedSender<Op>,
    stats: Arc<BusStats>,
}

impl RedisBus {
    /// Starts the supervisor and publisher tasks; frames and losses go to `events`.
    pub fn start(url: &str, cluster: &ClusterSettings, events: mpsc::UnboundedSender<BusEvent>, stats: Arc<BusStats>) -> Result<Arc<RedisBus>, BusError> {
        let client = redis::Client::open(url)?;
        let (ops, queue) = mpsc::unbounded_channel();
        let bus = Arc::new(RedisBus {
            client,
            tag: AtomicU32::new(0),
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            commands: RwLock::new(None),
            lease: cluster.home_lease,
            heartbeat: cluster.heartbeat,
            ops,
            stats,
        });
        tokio::spawn(bus.clone().supervise(events));
        tokio::spawn(bus.clone().publisher(queue));
        Ok(bus)
    }

    fn conn(&self) -> Result<MultiplexedConnection, BusError> {
        match self.commands.read() {
            Ok(slot) if self.ready.load(Ordering::Acquire) => slot.clone().ok_or(BusError::Down),
            _ => Err(BusError::Down),
        }
    }

    fn tag_text(tag: NodeTag) -> String {
        format!("{tag:06x}")
    }

    fn alive_key(tag: NodeTag) -> String {
        format!("bureau:node:{}:alive", Self::tag_text(tag))
    }

    fn media_key(tag: NodeTag) -> String {
        format!("bureau:node:{}:media", Self::tag_text(tag))
    }

    fn home_key(org_id: &str) -> String {
        format!("bureau:home:{org_id}")
    }

    fn lease_ms(&self) -> u64 {
        self.lease.as_millis() as u64
    }

    /// Keeps a session with Redis open, reconnecting with backoff, until the node stops.
    async fn supervise(self: Arc<Self>, events: mpsc::UnboundedSender<BusEvent>) {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        while !self.stopping.load(Ordering::Acquire) {
            match self.open().await {
                Ok(messages) => {
                    if !first {
                        self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                        tracing::info!("reconnected to Redis");
                    }
                    first = false;
                    backoff = Duration::from_millis(100);
                    self.session(messages, &events).await;
                    self.ready.store(false, Ordering::Release);
                    if let Ok(mut slot) = self.commands.write() {
                        *slot = None;
                    }
                    if self.stopping.load(Ordering::Acquire) {
                        return;
                    }
                    tracing::warn!("lost the connection to Redis; reconnecting");
                    let _ = events.send(BusEvent::Lost);
                }
                Err(err) => tracing::warn!("cannot reach Redis (retrying in {backoff:?}): {err}"),
            }
            // Jitter, so that nodes cut off together do not come back in lockstep.
            let jitter = Duration::from_millis(rand::random::<u64>() % 100);
            tokio::time::sleep(backoff + jitter).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Connects, registers this node's liveness (choosing its tag the first time) and subscribes
    /// to its channel.
    async fn open(&self) -> Result<redis::aio::PubSubStream, BusError> {
        let timeout = self.lease.max(Duration::from_secs(1));
        let connect = async {
            let mut conn = self.client.get_multiplexed_async_connection().await?;
            let mut tag = self.tag.load(Ordering::Acquire);
            if tag == 0 {
                loop {
                    let candidate = (rand::random::<u32>() & 0x00ff_ffff).max(1);
                    let set: Option<String> = redis::cmd("SET").arg(Self::alive_key(candidate)).arg(1).arg("NX").arg("PX").arg(self.lease_ms()).query_async(&mut conn).await?;
                    if set.is_some() {
                        tag = candidate;
                        break;
                    }
                }
                self.tag.store(tag, Ordering::Release);
                tracing::info!(node = %Self::tag_text(tag), "joined the nodes sharing Redis");
            } else {
                // The tag stays: connection ids with it may still be open on other homes.
                let () = redis::cmd("SET").arg(Self::alive_key(tag)).arg(1).arg("PX").arg(self.lease_ms()).query_async(&mut conn).await?;
            }
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(format!("bureau:node:{}", Self::tag_text(tag))).await?;
            Ok::<_, BusError>((conn, pubsub))
        };
        let (conn, pubsub) = tokio::time::timeout(timeout, connect).await.map_err(|_| BusError::Down)??;
        if let Ok(mut slot) = self.commands.write() {
            *slot = Some(conn);
        }
        self.ready.store(true, Ordering::Release);
        Ok(pubsub.into_on_message())
    }

    /// Forwards frames and renews liveness until the connection fails.
    async fn session(&self, mut messages: redis::aio::PubSubStream, events: &mpsc::UnboundedSender<BusEvent>) {
        let mut ticks = tokio::time::interval(self.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let alive = Self::alive_key(self.tag.load(Ordering::Acquire));
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { return };
                    match serde_json::from_slice::<Frame>(message.get_payload_bytes()) {
                        Ok(frame) => {
                            let _ = events.send(BusEvent::Frame(frame));
                        }
                        Err(err) => tracing::warn!("ignoring a malformed frame from another node: {err}"),
                    }
                }
                _ = ticks.tick() => {
                    if self.stopping.load(Ordering::Acquire) {
                        return;
                    }
                    let Ok(mut conn) = self.conn() else { return };
                    let mut cmd = redis::cmd("SET");
                    cmd.arg(&alive).arg(1).arg("PX").arg(self.lease_ms());
                    let renew = cmd.query_async::<()>(&mut conn);
                    // A Redis that stops answering is as gone as one that closed the connection.
                    match tokio::time::timeout(self.lease, renew).await {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => {
                            tracing::warn!("renewing this node's liveness failed: {err}");
                            return;
                        }
                        Err(_) => return,
                    }
                }
            }
        }
    }

    /// Sends queued frames in order, many per round trip.
    async fn publisher(self: Arc<Self>, mut queue: mpsc::UnboundedReceiver<Op>) {
        while let Some(op) = queue.recv().await {
            let mut pipe = redis::pipe();
            let mut release = None;
            let mut count = 0;
            let mut next = Some(op);
            while let Some(op) = next.take() {
                match op {
                    Op::Publish(node, text) => {
                        pipe.cmd("PUBLISH").arg(format!("bureau:node:{}", Self::tag_text(node))).arg(text).ignore();
                        count += 1;
                    }
                    Op::Release(orgs, done) => {
                        release = Some((orgs, done));
                        break;
                    }
                }
                if count < PIPELINE {
                    next = queue.try_recv().ok();
                }
            }
            if count > 0
                && let Ok(mut conn) = self.conn()
                && let Err(err) = pipe.query_async::<()>(&mut conn).await
            {
                // Lost frames: the supervisor notices the outage and every client reconnects.
                tracing::warn!("sending frames to other nodes failed: {err}");
            }
            if let Some((orgs, done)) = release {
                self.give_up(&orgs).await;
                let _ = done.send(());
            }
        }
    }

    /// Deletes this node's claims and liveness, so that other nodes take over at once.
    async fn give_up(&self, orgs: &[String]) {
        let Ok(mut conn) = self.conn() else { return };
        let tag = Self::tag_text(self.tag.load(Ordering::Acquire));
        let mut pipe = redis::pipe();
        for org in orgs {
            pipe.cmd("EVAL").arg(RELEASE).arg(1).arg(Self::home_key(org)).arg(&tag).ignore();
        }
        pipe.cmd("DEL").arg(Self::alive_key(self.tag.load(Ordering::Acquire))).ignore();
        pipe.cmd("DEL").arg(Self::media_key(self.tag.load(Ordering::Acquire))).ignore();
        if let Err(err) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!("releasing this node's homes failed (they expire by themselves): {err}");
        }
    }
}

#[async_trait::async_trait]
impl Bus for RedisBus {
    fn node(&self) -> Option<NodeTag> {
        Some(self.tag.load(Ordering::Acquire)).filter(|t| *t != 0 && self.ready())
    }

    fn single(&self) -> bool {
        false
    }

    fn ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.stopping.load(Ordering::Acquire)
    }

    async fn home(&self, org_id: &str) -> Result<Home, BusError> {
        let mut conn = self.conn()?;
        let me = self.tag.load(Ordering::Acquire);
        let holder: String = redis::cmd("EVAL").arg(CLAIM).arg(1).arg(Self::home_key(org_id)).arg(Self::tag_text(me)).arg(self.lease_ms()).query_async(&mut conn).await?;
        match NodeTag::from_str_radix(&holder, 16) {
            Ok(tag) if tag == me => Ok(Home::Here),
            Ok(tag) => Ok(Home::Node(tag)),
            Err(_) => Err(BusError::Down),
        }
    }

    async fn homes(&self, org_ids: &[String]) -> Result<Vec<Option<NodeTag>>, BusError> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let keys: Vec<String> = org_ids.iter().map(|o| Self::home_key(o)).collect();
        let holders: Vec<Option<String>> = redis::cmd("MGET").arg(keys).query_async(&mut conn).await?;
        Ok(holders.into_iter().map(|h| h.and_then(|h| NodeTag::from_str_radix(&h, 16).ok())).collect())
    }

    fn publish(&self, node: NodeTag, frame: &Frame) {
        match serde_json::to_string(frame) {
            Ok(text) => {
                let _ = self.ops.send(Op::Publish(node, text));
            }
            Err(err) => tracing::error!("cannot encode a frame: {err}"),
        }
    }

    async fn renew(&self, org_ids: &[String]) -> Result<Vec<String>, BusError> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let me = Self::tag_text(self.tag.load(Ordering::Acquire));
        let mut pipe = redis::pipe();
        for org in org_ids {
            pipe.cmd("EVAL").arg(RENEW).arg(1).arg(Self::home_key(org)).arg(&me).arg(self.lease_ms());
        }
        let renewed: Vec<i64> = pipe.query_async(&mut conn).await?;
        Ok(org_ids.iter().zip(renewed).filter(|(_, r)| *r == 0).map(|(o, _)| o.clone()).collect())
    }

    async fn dead(&self, nodes: &[NodeTag]) -> Result<Vec<NodeTag>, BusError> {
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let mut pipe = redis::pipe();
        for node in nodes {
            pipe.cmd("EXISTS").arg(Self::alive_key(*node));
        }
        let alive: Vec<i64> = pipe.query_async(&mut conn).await?;
        Ok(nodes.iter().zip(alive).filter(|(_, a)| *a == 0).map(|(n, _)| *n).collect())
    }

    async fn media_loads(&self, mine: Option<usize>) -> Result<Vec<(NodeTag, usize)>, BusError> {
        let mut conn = self.conn()?;
        let tag = self.tag.load(Ordering::Acquire);
        if let Some(load) = mine {
            let mut pipe = redis::pipe();
            pipe.cmd("SET").arg(Self::media_key(tag)).arg(load).arg("PX").arg(self.lease_ms()).ignore();
            pipe.cmd("SADD").arg(MEDIA_NODES).arg(Self::tag_text(tag)).ignore();
            pipe.query_async::<()>(&mut conn).await?;
        }
        let members: Vec<String> = redis::cmd("SMEMBERS").arg(MEDIA_NODES).query_async(&mut conn).await?;
        let tags: Vec<NodeTag> = members.iter().filter_map(|m| NodeTag::from_str_radix(m, 16).ok()).collect();
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for t in &tags {
            pipe.cmd("GET").arg(Self::media_key(*t));
        }
        let loads: Vec<Option<usize>> = pipe.query_async(&mut conn).await?;
        let mut live = Vec::new();
        for (t, load) in tags.into_iter().zip(loads) {
            match load {
                Some(load) => live.push((t, load)),
                None => {
                    let _: Result<(), _> = redis::cmd("SREM").arg(MEDIA_NODES).arg(Self::tag_text(t)).query_async(&mut conn).await;
                }
            }
        }
        Ok(live)
    }

    async fn release(&self, org_ids: &[String]) {
        let (done, wait) = oneshot::channel();
        if self.ops.send(Op::Release(org_ids.to_vec(), done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
        }
        self.stopping.store(true, Ordering::Release);
        self.ready.store(false, Ordering::Release);
    }
}
