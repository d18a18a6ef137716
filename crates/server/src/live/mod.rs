//! The live office: drives the sans-IO signaling [`Hub`] from one Tokio task.
//!
//! WebSocket connections (see [`ws`]) and REST handlers send [`Event`]s to the hub task; the
//! task feeds them to the hub with the current time, sleeps until the hub's next deadline, and
//! carries out what the hub emits: text frames and closes go to each connection's bounded
//! outbox, call logs go to the database. A connection whose outbox is full (a client that does
//! not read) is closed rather than allowed to hold memory or slow everyone else down.

pub mod ws;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bureau_office::{FinishedCall, Office, RoomKind, RoomView};
use axum::extract::ws::Utf8Bytes;
use bureau_signal::{ConnId, ConnectInfo, Hub, HubConfig, Output, ServerMsg, encode_server};
use tokio::sync::{mpsc, oneshot};

use crate::config::SignalSettings;

/// Frames waiting for a slow client before it is disconnected.
const OUTBOX: usize = 512;

/// What the hub task sends to one connection.
#[derive(Debug)]
pub enum Outbound {
    /// A text frame; a message to many connections is serialized once and shared.
    Text(Utf8Bytes),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// What the rest of the server tells the hub task.
enum Event {
    Connect { conn: ConnId, info: ConnectInfo, outbox: mpsc::Sender<Outbound> },
    Disconnect(ConnId),
    Message(ConnId, Utf8Bytes),
    Rooms { org_id: String, rooms: Vec<bureau_signal::Room> },
    UserRemoved { org_id: String, user_id: String },
    Shutdown(oneshot::Sender<()>),
}

/// The handle to the hub task, shared by every request.
pub struct Live {
    events: mpsc::UnboundedSender<Event>,
    next_conn: AtomicU64,
    /// Organisations whose rooms the hub has been given.
    loaded: Mutex<HashSet<String>>,
}

impl Live {
    /// Starts the hub task; call logs are stored through `office`.
    pub fn start(settings: &SignalSettings, office: Arc<Office>) -> Arc<Live> {
        let config = HubConfig {
            presence_grace: settings.presence_grace,
            ring_timeout: settings.ring_timeout,
            mesh_cap: settings.mesh_cap,
            ..HubConfig::default()
        };
        let (events, inbox) = mpsc::unbounded_channel();
        tokio::spawn(run_hub(Hub::new(config), inbox, office));
        Arc::new(Live { events, next_conn: AtomicU64::new(1), loaded: Mutex::new(HashSet::new()) })
    }

    fn send(&self, event: Event) {
        // The hub task only ends at shutdown; events after it are moot.
        let _ = self.events.send(event);
    }

    /// Gives the hub the organisation's floor plan before its first connection.
    pub async fn ensure_rooms(&self, office: &Office, org_id: &str) -> bureau_office::Result<()> {
        let known = self.loaded.lock().map(|l| l.contains(org_id)).unwrap_or(false);
        if !known {
            self.refresh_rooms(office, org_id).await?;
        }
        Ok(())
    }

    /// Reloads the organisation's floor plan (after rooms or users changed).
    pub async fn refresh_rooms(&self, office: &Office, org_id: &str) -> bureau_office::Result<()> {
        let rooms = office.floor_plan(org_id).await?.into_iter().map(hub_room).collect();
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(org_id.to_owned());
        }
        self.send(Event::Rooms { org_id: org_id.to_owned(), rooms });
        Ok(())
    }

    /// Closes a deactivated user's connections.
    pub fn user_removed(&self, org_id: &str, user_id: &str) {
        self.send(Event::UserRemoved { org_id: org_id.into(), user_id: user_id.into() });
    }

    /// Registers a new connection; the hub answers with `welcome` through `outbox`.
    fn connect(&self, info: ConnectInfo, outbox: mpsc::Sender<Outbound>) -> ConnId {
        let conn = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        self.send(Event::Connect { conn, info, outbox });
        conn
    }

    /// Tells every client to reconnect (elsewhere) and waits until the hub has let go.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        self.send(Event::Shutdown(done));
        let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
    }
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
    }
}

async fn run_hub(mut hub: Hub, mut inbox: mpsc::UnboundedReceiver<Event>, office: Arc<Office>) {
    let mut outboxes: HashMap<ConnId, mpsc::Sender<Outbound>> = HashMap::new();
    loop {
        let deadline = hub.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = inbox.recv() => {
                let Some(event) = event else { break };
                let now = Instant::now();
                match event {
                    Event::Connect { conn, info, outbox } => {
                        outboxes.insert(conn, outbox);
                        hub.connect(now, conn, info);
                    }
                    Event::Disconnect(conn) => {
                        outboxes.remove(&conn);
                        hub.disconnect(now, conn);
                    }
                    Event::Message(conn, text) => hub.message(now, conn, text.as_str()),
                    Event::Rooms { org_id, rooms } => hub.set_rooms(now, &org_id, rooms),
                    Event::UserRemoved { org_id, user_id } => hub.set_user_removed(now, &org_id, &user_id),
                    Event::Shutdown(done) => {
                        hub.shutdown();
                        deliver(&mut hub, &mut outboxes, &office);
                        let _ = done.send(());
                        continue;
                    }
                }
            }
            () = sleep => hub.handle_timeout(Instant::now()),
        }
        deliver(&mut hub, &mut outboxes, &office);
    }
}

/// Carries out everything the hub emitted, including what disconnecting slow clients emits.
fn deliver(hub: &mut Hub, outboxes: &mut HashMap<ConnId, mpsc::Sender<Outbound>>, office: &Arc<Office>) {
    // A broadcast comes out as the same message for each connection in a row: serialize it once.
    let mut last: Option<(ServerMsg, Utf8Bytes)> = None;
    loop {
        let mut too_slow = Vec::new();
        while let Some(output) = hub.poll_output() {
            match output {
                Output::Send { conn, msg } => {
                    let Some(outbox) = outboxes.get(&conn) else { continue };
                    let text = match &last {
                        Some((previous, text)) if *previous == msg => text.clone(),
                        _ => {
                            let text = Utf8Bytes::from(encode_server(&msg));
                            last = Some((msg, text.clone()));
                            text
                        }
                    };
                    if outbox.try_send(Outbound::Text(text)).is_err() {
                        too_slow.push(conn);
                    }
                }
                Output::Close { conn, code } => {
                    if let Some(outbox) = outboxes.remove(&conn) {
                        let _ = outbox.try_send(Outbound::Close(code.code(), code.reason()));
                    }
                }
                Output::CallLog(log) => store_call_log(office, log),
            }
        }
        if too_slow.is_empty() {
            return;
        }
        for conn in too_slow {
            tracing::warn!(conn = conn.0, "closing a connection that does not read its messages");
            // Dropping the full outbox's sender makes the socket task close the socket.
            outboxes.remove(&conn);
            hub.disconnect(Instant::now(), conn);
        }
    }
}

fn store_call_log(office: &Arc<Office>, log: bureau_signal::CallLog) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let started_at = now_ms - Instant::now().saturating_duration_since(log.started_at).as_millis() as i64;
    let call = FinishedCall {
        org_id: log.org_id,
        call_id: log.call_id,
        room_id: log.room_id,
        started_at,
        duration_ms: log.duration.as_millis() as i64,
        participants: log.participants,
    };
    let office = office.clone();
    tokio::spawn(async move {
        if let Err(err) = office.record_call(call).await {
            tracing::error!("could not store a call log: {err}");
        }
    });
}
