//! The bus: how the live office of one node talks to the hubs and connections of other nodes.
//!
//! Every organisation's hub runs on exactly one node, its *home*. The node task (see
//! [`super::node`]) feeds its own hub for the organisations homed here and, for the others,
//! sends the events of its local connections to their home as [`Frame`]s; the home sends back
//! what its hub emits for those connections, one [`Frame::Deliver`] per node and cycle. The
//! [`Bus`] trait is all the node task knows of the other nodes:
//!
//! - [`LocalBus`]: one node; every organisation is homed here and nothing crosses a process;
//! - [`super::redis_bus::RedisBus`]: several nodes sharing a Redis server (leases for homes,
//!   pub/sub for frames, expiring keys for liveness).

use std::sync::atomic::{AtomicU64, Ordering};

use bureau_signal::ConnId;
use serde::{Deserialize, Serialize};

/// A node's tag: 24 random bits, the high bits of every [`ConnId`] the node hands out, so that
/// connection ids are unique across nodes and a home knows which node serves a connection.
pub type NodeTag = u32;

/// Where the node tag sits in a [`ConnId`]: the low 40 bits count the node's connections.
pub const TAG_SHIFT: u32 = 40;

/// The node serving a connection.
pub fn node_of(conn: ConnId) -> NodeTag {
    (conn.0 >> TAG_SHIFT) as NodeTag
}

/// Where an organisation's hub runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// In this node's hub.
    Here,
    /// On another node.
    Node(NodeTag),
}

/// Why the bus could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Redis cannot be reached now; the bus reconnects by itself.
    #[error("the shared bus (Redis) is unavailable")]
    Down,
    /// Redis answered with an error.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A hub's input or output crossing from one node to another. Text frames travel as they are;
/// a message the home sends to several connections of one node is serialized once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Frame {
    /// Proxy → home: a new connection (the hub's `ConnectInfo`).
    Connect {
        /// The connection.
        conn: u64,
        /// The organisation.
        org: String,
        /// The user (or guest).
        user: String,
        /// The display name.
        name: String,
        /// Whether the user has a profile picture (absent from nodes of an older version).
        #[serde(default)]
        picture: bool,
        /// The connection's `iceServers`.
        ice: serde_json::Value,
        /// A guest's room and direct access; `None` for members.
        guest: Option<(String, bool)>,
        /// The connection's session tag (absent from nodes of an older version).
        #[serde(default)]
        session: String,
    },
    /// Proxy → home: a connection closed.
    Disconnect {
        /// The connection.
        conn: u64,
    },
    /// Proxy → home: a text frame from a connection.
    Message {
        /// The connection.
        conn: u64,
        /// The frame as the client sent it.
        text: String,
    },
    /// Any node → home: the organisation's floor plan changed.
    Rooms {
        /// The organisation.
        org: String,
        /// The rooms as the hub takes them.
        rooms: Vec<WireRoom>,
    },
    /// Any node → home: a user was removed or a guest revoked.
    UserRemoved {
        /// The organisation.
        org: String,
        /// The user.
        user: String,
    },
    /// Any node → home: a user signed out (or a guest's session ended).
    SessionEnded {
        /// The organisation.
        org: String,
        /// The user.
        user: String,
        /// The session tag.
        session: String,
    },
    /// Any node → home: a user's name or picture changed.
    UserChanged {
        /// The organisation.
        org: String,
        /// The user.
        user: String,
        /// The display name.
        name: String,
        /// Whether the user has a profile picture.
        picture: bool,
        /// The user set a new picture.
        new_picture: bool,
    },
    /// Any node → home: these members' pages are told to fetch something again.
    Notify {
        /// The organisation.
        org: String,
        /// The users.
        users: Vec<String>,
        /// What to fetch.
        notice: bureau_signal::Notice,
    },
    /// Home → the node whose media server holds the room: a command of the hub.
    Media {
        /// The room's organisation: events go back to its home.
        org: String,
        /// The command.
        command: bureau_signal::MediaCommand,
    },
    /// Media server's node → home: what the media server tells a participant.
    MediaEvent {
        /// The organisation.
        org: String,
        /// The event.
        event: bureau_signal::MediaEvent,
    },
    /// Home → proxy: what the hub emitted for the proxy's connections in one cycle.
    Deliver {
        /// Each text with the connections it goes to, in the hub's order.
        texts: Vec<(String, Vec<u64>)>,
        /// Connections to close, with the close code.
        closes: Vec<(u64, u16)>,
    },
}

/// A room of [`bureau_signal::Room`] on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRoom {
    id: String,
    name: String,
    kind: bureau_signal::RoomKind,
    owner: Option<String>,
    capacity: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    away: Option<bureau_signal::Away>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meeting: Option<bureau_signal::Meeting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_busy: Option<bureau_signal::NextBusy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_threshold: Option<usize>,
}

impl From<&bureau_signal::Room> for WireRoom {
    fn from(room: &bureau_signal::Room) -> Self {
        WireRoom {
            id: room.id.clone(),
            name: room.name.clone(),
            kind: room.kind,
            owner: room.owner_user_id.clone(),
            capacity: room.capacity,
            away: room.away.clone(),
            meeting: room.meeting.clone(),
            next_busy: room.next_busy.clone(),
            media_threshold: room.media_threshold,
        }
    }
}

impl From<WireRoom> for bureau_signal::Room {
    fn from(room: WireRoom) -> Self {
        let WireRoom { id, name, kind, owner, capacity, away, meeting, next_busy, media_threshold } = room;
        bureau_signal::Room { id, name, kind, owner_user_id: owner, capacity, away, meeting, next_busy, media_threshold }
    }
}

/// What the bus tells the node task.
#[derive(Debug)]
pub enum BusEvent {
    /// A frame from another node.
    Frame(Frame),
    /// The connection to the other nodes was lost: every claim and route is void.
    Lost,
}

/// The node's figures for `/metrics`.
#[derive(Debug, Default)]
pub struct BusStats {
    /// Connections open on this node.
    pub local_conns: AtomicU64,
    /// Organisations whose hub runs here.
    pub orgs_homed: AtomicU64,
    /// Frames received from other nodes.
    pub frames_in: AtomicU64,
    /// Frames sent to other nodes.
    pub frames_out: AtomicU64,
    /// Times the connection to Redis was lost and made again.
    pub reconnects: AtomicU64,
}

impl BusStats {
    /// The figures as Prometheus text.
    pub fn render(&self, multi_node: bool) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        };
        gauge("bureau_live_connections", "Signaling connections open on this node.", "gauge", get(&self.local_conns));
        gauge("bureau_live_orgs_homed", "Organisations whose signaling hub runs on this node.", "gauge", get(&self.orgs_homed));
        if multi_node {
            gauge("bureau_bus_frames_received_total", "Frames received from other nodes.", "counter", get(&self.frames_in));
            gauge("bureau_bus_frames_sent_total", "Frames sent to other nodes.", "counter", get(&self.frames_out));
            gauge("bureau_redis_reconnects_total", "Times the connection to Redis was lost and made again.", "counter", get(&self.reconnects));
        }
        out
    }
}

/// The node task's view of the other nodes. See the [module documentation](self).
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// This node's tag, once the bus has chosen it (`Some(0)` for a single node).
    fn node(&self) -> Option<NodeTag>;
    /// Whether this is the only node (no leases to renew, no nodes to watch).
    fn single(&self) -> bool;
    /// Whether frames can travel now.
    fn ready(&self) -> bool;
    /// The home of an organisation, claiming it for this node when it has none.
    async fn home(&self, org_id: &str) -> Result<Home, BusError>;
    /// The current home node of each organisation (`None`: no home).
    async fn homes(&self, org_ids: &[String]) -> Result<Vec<Option<NodeTag>>, BusError>;
    /// Sends a frame to another node, after the frames sent before it.
    fn publish(&self, node: NodeTag, frame: &Frame);
    /// Renews this node's claims; returns the organisations whose claim was lost.
    async fn renew(&self, org_ids: &[String]) -> Result<Vec<String>, BusError>;
    /// Which of these nodes have stopped renewing their liveness.
    async fn dead(&self, nodes: &[NodeTag]) -> Result<Vec<NodeTag>, BusError>;
    /// Tells the other nodes this node's media server load (`mine`, when it runs one) and
    /// answers the loads of every live node that runs one, this one included.
    async fn media_loads(&self, mine: Option<usize>) -> Result<Vec<(NodeTag, usize)>, BusError>;
    /// Gives up this node's claims and liveness after the frames already sent (graceful drain).
    async fn release(&self, org_ids: &[String]);
}

/// One node: every organisation's hub runs here.
pub struct LocalBus;

#[async_trait::async_trait]
impl Bus for LocalBus {
    fn node(&self) -> Option<NodeTag> {
        Some(0)
    }

    fn single(&self) -> bool {
        true
    }

    fn ready(&self) -> bool {
        true
    }

    async fn home(&self, _org_id: &str) -> Result<Home, BusError> {
        Ok(Home::Here)
    }

    async fn homes(&self, org_ids: &[String]) -> Result<Vec<Option<NodeTag>>, BusError> {
        Ok(vec![Some(0); org_ids.len()])
    }

    fn publish(&self, _node: NodeTag, _frame: &Frame) {}

    async fn renew(&self, _org_ids: &[String]) -> Result<Vec<String>, BusError> {
        Ok(Vec::new())
    }

    async fn dead(&self, _nodes: &[NodeTag]) -> Result<Vec<NodeTag>, BusError> {
        Ok(Vec::new())
    }

    async fn media_loads(&self, _mine: Option<usize>) -> Result<Vec<(NodeTag, usize)>, BusError> {
        // One node: its own media server takes every room.
        Ok(Vec::new())
    }

    async fn release(&self, _org_ids: &[String]) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_stay_compact() {
        let frame = Frame::Deliver { texts: vec![(r#"{"type":"pong"}"#.into(), vec![1 << TAG_SHIFT | 7, 9])], closes: vec![(3, 1001)] };
        let text = serde_json::to_string(&frame).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Frame>(&text).ok(), Some(frame));
        assert!(text.len() < 100, "{text}");
        assert_eq!(node_of(ConnId(0xabcdef << TAG_SHIFT | 5)), 0xabcdef);
    }

    #[test]
    fn media_frames_round_trip() {
        let command = bureau_signal::MediaCommand::Join {
            org_id: "acme".into(),
            room_id: "meet".into(),
            conn: ConnId(1 << TAG_SHIFT | 7),
            peer_id: bureau_signal::PeerId::new("p1"),
            sdp: "v=0\r\n".into(),
        };
        let event = bureau_signal::MediaEvent::Speakers { org_id: "acme".into(), room_id: "meet".into(), order: vec![ConnId(3), ConnId(4)], last_n: 9 };
        for frame in [Frame::Media { org: "acme".into(), command }, Frame::MediaEvent { org: "acme".into(), event }] {
            let text = serde_json::to_string(&frame).unwrap_or_default();
            assert_eq!(serde_json::from_str::<Frame>(&text).ok(), Some(frame), "{text}");
        }
    }
}
