//! The live office: presence, rooms, calls and signaling over WebSockets.
//!
//! The sans-IO signaling [`Hub`] runs in one Tokio task per node (see [`node`]), inside the
//! sans-IO [`router::Router`] that routes each organisation's events to its hub. WebSocket
//! connections (see [`ws`]) and REST handlers send [`Event`]s to that task. Each organisation's
//! hub runs on one node, its *home*; the [`bus::Bus`] tells where, and carries events and
//! outputs between nodes. Without `redis_url` the bus is [`bus::LocalBus`]: every organisation
//! is homed on this one node and nothing leaves the process. With it, [`redis_bus::RedisBus`]
//! shares the homes, liveness and frames of every node through Redis.

mod bus;
mod node;
mod permits;
mod redis_bus;
mod router;
pub mod ws;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bureau_office::{Change, Office, RoomKind, RoomView};
use bureau_signal::{ConnId, ConnectInfo, Hub, HubConfig, Notice};
use tokio::sync::{mpsc, oneshot};

use crate::config::{ClusterSettings, SfuSettings, SignalSettings};
use crate::sfu::MediaServer;
pub use bus::{BusError, BusStats, Home};
pub use permits::{ConnLimits, Permit, Permits};
use bus::{Bus, LocalBus, TAG_SHIFT};

/// Frames waiting for a slow client before it is disconnected.
const OUTBOX: usize = 512;
/// Events waiting for the node task. Full, senders wait: sockets stop being read (TCP pushes
/// back on their clients) and REST handlers answer a little later, instead of the queue growing
/// without limit under a flood.
const EVENTS: usize = 8192;

/// How often the live office looks whether an absence began or ended (the floor plan and the
/// presence of its user follow within this time).
const ABSENCE_CHECK: Duration = Duration::from_secs(30);

/// What the hub task sends to one connection.
#[derive(Debug)]
pub enum Outbound {
    /// A text frame; a message to many connections is serialized once and shared.
    Text(Utf8Bytes),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// What the rest of the server (and the node task's own checks) tell the node task.
enum Event {
    Connect { conn: ConnId, info: ConnectInfo, outbox: mpsc::Sender<Outbound>, home: Home },
    Disconnect(ConnId),
    Message(ConnId, Utf8Bytes),
    /// `home`: where the hub is when the sender knows it (a first connection's floor plan,
    /// sent before the connection gives the organisation a route).
    Rooms { org_id: String, rooms: Vec<bureau_signal::Room>, home: Option<Home> },
    UserRemoved { org_id: String, user_id: String },
    SessionEnded { org_id: String, user_id: String, session: String },
    UserChanged { org_id: String, user_id: String, name: String, has_picture: bool, new_picture: bool },
    /// Members' pages are told to fetch something again (no content).
    Notify { org_id: String, user_ids: Vec<String>, notice: Notice },
    Shutdown(oneshot::Sender<()>),
    /// What the heartbeat's round trips to the bus found.
    Checked(router::CheckResult),
    /// Another node's connection for an organisation this node task did not know it homes yet,
    /// after asking Redis: `ours` when this node holds the claim after all.
    CheckedConnect { frame: bus::Frame, ours: bool },
}

/// The handle to the node task, shared by every request.
pub struct Live {
    events: mpsc::Sender<Event>,
    bus: Arc<dyn Bus>,
    stats: Arc<BusStats>,
    next_conn: AtomicU64,
    /// Organisations whose rooms this node's hub has been given.
    loaded: Arc<Mutex<HashSet<String>>>,
    /// Held while a floor plan is read and handed to the hub: the clock's refresh and the
    /// office's changes each read and send, and one that read first must not send last (a plan
    /// without a room just added would stand until the next change). Within this node; a change
    /// made on another node reaches the home over the bus.
    floor_plans: tokio::sync::Mutex<()>,
    /// Set when shutdown begins: no new connections, and `/readyz` tells the load balancer.
    draining: AtomicBool,
    /// The connections open on this node, against the limits.
    pub permits: Arc<Permits>,
}

impl Live {
    /// Starts the node task; call logs are stored through `office`. With `redis_url`, the node
    /// joins the other nodes sharing that Redis server.
    /// With `media`, rooms that reach `sfu.threshold` use the media server.
    pub fn start(settings: &SignalSettings, sfu: Option<&SfuSettings>, media: Option<MediaServer>, redis_url: Option<&str>, cluster: &ClusterSettings, office: Arc<Office>) -> Result<Arc<Live>, BusError> {
        let sfu = sfu.filter(|_| media.is_some());
        let config = HubConfig {
            presence_grace: settings.presence_grace,
            ring_timeout: settings.ring_timeout,
            mesh_cap: settings.mesh_cap,
            sfu_threshold: sfu.map(|s| s.threshold),
            sfu_room_cap: sfu.map_or(HubConfig::default().sfu_room_cap, |s| s.max_room_participants),
            ..HubConfig::default()
        };
        let (events, inbox) = mpsc::channel(EVENTS);
        let (frames_tx, frames) = mpsc::unbounded_channel();
        let stats = Arc::new(BusStats::default());
        let bus: Arc<dyn Bus> = match redis_url {
            Some(url) => redis_bus::RedisBus::start(url, cluster, frames_tx, stats.clone())?,
            None => Arc::new(LocalBus),
        };
        let loaded = Arc::new(Mutex::new(HashSet::new()));
        let (media_events, media_inbox) = mpsc::unbounded_channel();
        let media = media.map(|m| m.start(media_events));
        let node = node::Node::new(Hub::new(config), bus.clone(), office.clone(), stats.clone(), loaded.clone(), events.clone(), cluster.heartbeat, media);
        tokio::spawn(node.run(inbox, frames, media_inbox));
        let permits = Permits::new(settings.limits);
        let changes = office.subscribe();
        let live = Arc::new(Live { events, bus, stats, next_conn: AtomicU64::new(1), loaded, floor_plans: tokio::sync::Mutex::new(()), draining: AtomicBool::new(false), permits });
        tokio::spawn(live.clone().watch_absences(office.clone()));
        tokio::spawn(live.clone().follow(office, changes));
        Ok(live)
    }

    /// The organisations whose live office runs on this node.
    pub fn homed_orgs(&self) -> Vec<String> {
        self.loaded.lock().map(|loaded| loaded.iter().cloned().collect()).unwrap_or_default()
    }

    /// Reloads the floor plan of each organisation homed here whenever the set of who is away
    /// or in a meeting changes (an absence or a busy interval began or ended), for as long as
    /// the process runs. An absence or entry made while it goes on is a [`Change`] already; this
    /// catches the ones that begin or end by the clock.
    async fn watch_absences(self: Arc<Self>, office: Arc<Office>) {
        let mut seen: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut tick = tokio::time::interval(ABSENCE_CHECK);
        loop {
            tick.tick().await;
            let orgs: HashSet<String> = self.loaded.lock().map(|loaded| loaded.clone()).unwrap_or_default();
            seen.retain(|org, _| orgs.contains(org));
            for org in orgs {
                let fingerprints = async {
                    let mut both = office.working_day.away_fingerprint(&org).await?;
                    both.extend(office.working_day.calendar_fingerprint(&org).await?);
                    Ok::<_, bureau_office::OfficeError>(both)
                };
                let away = match fingerprints.await {
                    Ok(away) => away,
                    Err(err) => {
                        tracing::warn!("could not read who is away: {err}");
                        continue;
                    }
                };
                // The first look at an organisation refreshes too: an absence may have begun
                // between loading its floor plan and now.
                if seen.get(&org) != Some(&away) {
                    seen.insert(org.clone(), away);
                    if let Err(err) = self.refresh_rooms(&office, &org).await {
                        tracing::warn!("could not refresh the floor plan: {err}");
                    }
                }
            }
        }
    }

    /// Carries every change the office makes to the hubs, in order, for as long as the process
    /// runs.
    async fn follow(self: Arc<Self>, office: Arc<Office>, mut changes: mpsc::UnboundedReceiver<Change>) {
        while let Some(change) = changes.recv().await {
            match change {
                Change::FloorPlan { org_id } => {
                    // A failure only delays the update until the next change.
                    if let Err(err) = self.refresh_rooms(&office, &org_id).await {
                        tracing::warn!("could not refresh the floor plan: {err}");
                    }
                }
                Change::Removed { org_id, user_id } => self.user_removed(&org_id, &user_id).await,
                Change::Profile { org_id, user_id, name, has_picture, new_picture } => {
                    self.user_changed(&org_id, &user_id, &name, has_picture, new_picture).await;
                }
                Change::SignedOut { org_id, user_id, token } => self.session_ended(&org_id, &user_id, &token).await,
                Change::MessagesWaiting { org_id, user_ids } => self.send(Event::Notify { org_id, user_ids, notice: Notice::Inbox }).await,
                Change::ConversationsChanged { org_id, user_ids } => {
                    self.send(Event::Notify { org_id, user_ids, notice: Notice::Conversations }).await;
                }
            }
        }
    }

    async fn send(&self, event: Event) {
        // The node task only ends with the process; events after shutdown are moot.
        let _ = self.events.send(event).await;
    }

    /// Whether the live office can take connections (with Redis: whether Redis answers).
    pub fn ready(&self) -> bool {
        self.bus.ready()
    }

    /// Whether this node is shutting down (and refuses new signaling connections).
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// The node's figures for `/metrics`.
    pub fn render_metrics(&self) -> String {
        self.stats.render(!self.bus.single()) + &self.permits.render_metrics()
    }

    /// Finds (or claims) the home of an organisation, and gives this node's hub the floor plan
    /// before its first connection when the home is here.
    pub async fn prepare(&self, office: &Office, org_id: &str) -> Result<Home, PrepareError> {
        let home = self.bus.home(org_id).await?;
        if home == Home::Here {
            // Marked before the floor plan is read: other nodes' connections may arrive as soon
            // as the claim is in Redis, and the node task serves them once it sees the mark (the
            // rooms follow, broadcast to everyone connected by then).
            let first = self.loaded.lock().map(|mut l| l.insert(org_id.to_owned())).unwrap_or(false);
            if first {
                let _one_at_a_time = self.floor_plans.lock().await;
                let rooms = match office.rooms.floor_plan(org_id).await {
                    Ok(rooms) => rooms.into_iter().map(hub_room).collect(),
                    Err(err) => {
                        if let Ok(mut loaded) = self.loaded.lock() {
                            loaded.remove(org_id);
                        }
                        return Err(err.into());
                    }
                };
                self.send(Event::Rooms { org_id: org_id.to_owned(), rooms, home: Some(Home::Here) }).await;
            }
        }
        Ok(home)
    }

    /// Reloads the organisation's floor plan (after rooms or users changed); the home's hub
    /// gets it, wherever it runs.
    async fn refresh_rooms(&self, office: &Office, org_id: &str) -> bureau_office::Result<()> {
        let _one_at_a_time = self.floor_plans.lock().await;
        let rooms = office.rooms.floor_plan(org_id).await?.into_iter().map(hub_room).collect();
        self.send(Event::Rooms { org_id: org_id.to_owned(), rooms, home: None }).await;
        Ok(())
    }

    /// Closes a deactivated user's connections.
    async fn user_removed(&self, org_id: &str, user_id: &str) {
        self.send(Event::UserRemoved { org_id: org_id.into(), user_id: user_id.into() }).await;
    }

    /// Closes the connections opened with the session of `token` (the user signed out).
    async fn session_ended(&self, org_id: &str, user_id: &str, token: &str) {
        self.send(Event::SessionEnded { org_id: org_id.into(), user_id: user_id.into(), session: bureau_office::session_tag(token) }).await;
    }

    /// Tells the organisation that a user's name or picture changed (`new_picture`: the user
    /// set a picture, maybe in place of another).
    async fn user_changed(&self, org_id: &str, user_id: &str, name: &str, has_picture: bool, new_picture: bool) {
        self.send(Event::UserChanged { org_id: org_id.into(), user_id: user_id.into(), name: name.into(), has_picture, new_picture }).await;
    }

    /// Registers a new connection; the hub answers with `welcome` through `outbox`. `None`
    /// while the node has no tag yet (Redis not reached since start).
    async fn connect(&self, info: ConnectInfo, outbox: mpsc::Sender<Outbound>, home: Home) -> Option<ConnId> {
        let tag = u64::from(self.bus.node()?);
        let count = self.next_conn.fetch_add(1, Ordering::Relaxed) & ((1 << TAG_SHIFT) - 1);
        let conn = ConnId(tag << TAG_SHIFT | count);
        self.send(Event::Connect { conn, info, outbox, home }).await;
        Some(conn)
    }

    /// Tells every client to reconnect (elsewhere), gives up this node's homes, and waits until
    /// the node task has let go.
    pub async fn shutdown(&self) {
        self.draining.store(true, Ordering::Relaxed);
        let (done, wait) = oneshot::channel();
        let asked = async {
            self.send(Event::Shutdown(done)).await;
            let _ = wait.await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(3), asked).await;
    }
}

/// Why a connection could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The other nodes cannot be reached: the client should come back shortly.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The floor plan could not be read.
    #[error(transparent)]
    Office(#[from] bureau_office::OfficeError),
}

fn hub_room(room: RoomView) -> bureau_signal::Room {
    bureau_signal::Room {
        id: room.id,
        name: room.name,
        kind: match room.kind {
            RoomKind::Meeting => bureau_signal::RoomKind::Meeting,
            RoomKind::Reception => bureau_signal::RoomKind::Reception,
            RoomKind::Office => bureau_signal::RoomKind::Office,
        },
        owner_user_id: room.owner_user_id,
        capacity: room.capacity.map(|c| c as usize),
        away: room.away.map(|a| bureau_signal::Away { until: a.until, deputy_id: a.deputy_id }),
        meeting: room.meeting.map(|m| bureau_signal::Meeting { until: m.until, title: m.title, rings: m.rings }),
        next_busy: room.next_busy.map(|n| bureau_signal::NextBusy { starts_at: n.starts_at, ends_at: n.ends_at, title: n.title }),
        // A room marked large uses the media server from its first participant on; the others
        // at the organisation's threshold, or the node's when it chose none.
        media_threshold: if room.large { Some(1) } else { room.sfu_threshold.map(|t| t as usize) },
    }
}
