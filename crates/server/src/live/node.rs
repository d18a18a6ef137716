//! The node task: the driver of this node's [`Router`] (and through it of the [`Hub`]).
//!
//! It feeds the router with the events of the request handlers and sockets, the frames of other
//! nodes and the current time, sleeps until the router's next deadline, and carries out what it
//! asks for: frames for local connections go to their bounded outbox, frames for other nodes to
//! the [`Bus`], lookups and heartbeat checks to the bus in tasks of their own (so that Redis round
//! trips never hold up the hub; their answers come back as events), call logs to the database.
//! A connection whose outbox is full (a client that does not read) is closed rather than allowed
//! to hold memory or slow everyone else down.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bureau_office::{FinishedCall, Office};
use bureau_signal::{CloseCode, ConnId, Hub, MediaEvent};
use tokio::sync::mpsc;

use super::bus::{Bus, BusEvent, BusStats, Frame, Home, NodeTag};
use super::router::{CheckResult, Router, RouterConfig, RouterOutput};
use super::{Event, Outbound};

/// The state of the node task.
pub(super) struct Node {
    router: Router,
    bus: Arc<dyn Bus>,
    office: Arc<Office>,
    stats: Arc<BusStats>,
    /// For the answers of the bus lookups.
    events: mpsc::Sender<Event>,
    outboxes: HashMap<ConnId, mpsc::Sender<Outbound>>,
    /// The media server, when this node runs one.
    media: Option<crate::sfu::MediaHandle>,
}

impl Node {
    #[allow(clippy::too_many_arguments)]
    pub fn new(hub: Hub, bus: Arc<dyn Bus>, office: Arc<Office>, stats: Arc<BusStats>, loaded: Arc<Mutex<HashSet<String>>>, events: mpsc::Sender<Event>, heartbeat: Duration, media: Option<crate::sfu::MediaHandle>) -> Self {
        let config = RouterConfig { single: bus.single(), heartbeat };
        let router = Router::new(hub, config, Instant::now(), stats.clone(), loaded);
        Node { router, bus, office, stats, events, outboxes: HashMap::new(), media }
    }

    pub async fn run(mut self, mut inbox: mpsc::Receiver<Event>, mut frames: mpsc::UnboundedReceiver<BusEvent>, mut media: mpsc::UnboundedReceiver<MediaEvent>) {
        loop {
            let deadline = self.router.poll_timeout();
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
                        self.router.shutdown(Instant::now());
                        self.carry_out().await;
                        let _ = done.send(());
                        continue;
                    }
                    self.handle(event);
                }
                Some(event) = frames.recv() => match event {
                    BusEvent::Frame(frame) => self.router.bus_frame(Instant::now(), frame),
                    BusEvent::Lost => self.router.bus_lost(),
                },
                Some(event) = media.recv() => self.router.media_event(event),
                () = sleep => self.router.handle_timeout(Instant::now()),
            }
            self.carry_out().await;
        }
    }

    fn handle(&mut self, event: Event) {
        let now = Instant::now();
        let router = &mut self.router;
        match event {
            Event::Connect { conn, info, outbox, home } => {
                self.outboxes.insert(conn, outbox);
                router.connect(now, conn, info, home);
            }
            Event::Disconnect(conn) => router.disconnect(now, conn),
            Event::Message(conn, text) => router.message(now, conn, text.as_str()),
            Event::Rooms { org_id, rooms, home } => router.rooms(now, &org_id, rooms, home),
            Event::UserRemoved { org_id, user_id } => router.user_removed(now, &org_id, &user_id),
            Event::SessionEnded { org_id, user_id, session } => router.session_ended(now, &org_id, &user_id, &session),
            Event::UserChanged { org_id, user_id, name, has_picture, new_picture } => router.user_changed(&org_id, &user_id, &name, has_picture, new_picture),
            Event::Notify { org_id, user_ids, notice } => router.notify(&org_id, user_ids, notice),
            Event::Checked(result) => router.checked(now, result),
            Event::CheckedConnect { frame, ours } => router.checked_connect(now, frame, ours),
            Event::Shutdown(_) => {}
        }
    }

    /// Carries out everything the router asks for, including what dropping slow clients causes.
    async fn carry_out(&mut self) {
        while let Some(output) = self.router.poll_output() {
            match output {
                RouterOutput::Send { conn, text } => {
                    let Some(outbox) = self.outboxes.get(&conn) else { continue };
                    if outbox.try_send(Outbound::Text(text)).is_err() {
                        // A closed outbox is a socket that just ended (its task tells the router
                        // by itself): nothing to warn about.
                        if !outbox.is_closed() {
                            tracing::warn!(conn = conn.0, "closing a connection that does not read its messages");
                        }
                        // Its outbox is dropped with the router's Close: the socket task ends.
                        self.router.too_slow(Instant::now(), conn);
                    }
                }
                RouterOutput::Close { conn, code } => {
                    if let (Some(outbox), Some(code)) = (self.outboxes.remove(&conn), code) {
                        let _ = outbox.try_send(Outbound::Close(code, close_reason(code)));
                    }
                }
                RouterOutput::Publish { node, frame } => self.bus.publish(node, &frame),
                RouterOutput::PublishToHome { org_id, frame } => self.publish_to_home(org_id, frame),
                RouterOutput::CheckClaim { frame } => self.check_claim(frame),
                RouterOutput::Check { homed, proxied, nodes } => self.check(homed, proxied, nodes),
                RouterOutput::Release { orgs } => self.bus.release(&orgs).await,
                RouterOutput::CallLog(log) => store_call_log(&self.office, log),
                RouterOutput::Media(command) => match &self.media {
                    Some(media) => media.send(command),
                    None => tracing::warn!("a command for the media server, which this node does not run"),
                },
                RouterOutput::Present { org_id, user_id, present } => record_presence(&self.office, org_id, user_id, present),
            }
        }
    }

    /// Looks up an organisation's home and sends it the frame if it is another node.
    fn publish_to_home(&self, org_id: String, frame: Frame) {
        let (bus, stats) = (self.bus.clone(), self.stats.clone());
        tokio::spawn(async move {
            if let (Ok(Some(Some(node))), Some(me)) = (bus.homes(&[org_id]).await.map(|h| h.first().copied()), bus.node())
                && node != me
            {
                stats.frames_out.fetch_add(1, Ordering::Relaxed);
                bus.publish(node, &frame);
            }
        });
    }

    /// Asks the bus whether this node holds the home of a connection's organisation.
    fn check_claim(&self, frame: Frame) {
        let Frame::Connect { ref org, .. } = frame else { return };
        let (bus, events, org) = (self.bus.clone(), self.events.clone(), org.clone());
        tokio::spawn(async move {
            let holder = bus.homes(std::slice::from_ref(&org)).await.ok().and_then(|h| h.first().copied().flatten());
            let ours = holder.is_some() && holder == bus.node();
            let _ = events.send(Event::CheckedConnect { frame, ours }).await;
        });
    }

    /// The heartbeat's Redis round trips: renews the homes held here, looks up the homes of the
    /// proxied organisations and the liveness of the nodes serving this hub's remote connections.
    fn check(&self, homed: Vec<String>, proxied: Vec<(String, NodeTag)>, nodes: Vec<NodeTag>) {
        let (bus, events) = (self.bus.clone(), self.events.clone());
        let media_load = self.media.as_ref().map(crate::sfu::MediaHandle::load);
        tokio::spawn(async move {
            let mut result = CheckResult::default();
            if bus.ready() {
                if let Ok(lost) = bus.renew(&homed).await {
                    result.lost = lost;
                }
                let orgs: Vec<String> = proxied.iter().map(|(o, _)| o.clone()).collect();
                if let Ok(homes) = bus.homes(&orgs).await {
                    result.moved = proxied.iter().zip(homes).filter(|((_, was), now)| *now != Some(*was)).map(|((o, _), _)| o.clone()).collect();
                }
                if let Ok(dead) = bus.dead(&nodes).await {
                    result.dead = dead;
                }
                let me = bus.node();
                if let Ok(loads) = bus.media_loads(media_load).await {
                    result.media = Some(loads.into_iter().map(|(node, load)| (if Some(node) == me { Home::Here } else { Home::Node(node) }, load)).collect());
                }
            }
            let _ = events.send(Event::Checked(result)).await;
        });
    }
}

/// The reason sent with a close code (codes from other nodes come as numbers).
fn close_reason(code: u16) -> &'static str {
    CloseCode::from_code(code).map_or("", CloseCode::reason)
}

/// Hands a presence change to the working day, which records attendance times where the
/// organisation and the user allow it (in order: one task per change would race).
fn record_presence(office: &Arc<Office>, org_id: String, user_id: String, present: bool) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    // The write goes on in the background; nothing here waits for it.
    drop(office.working_day.presence_changed(&org_id, &user_id, present, now_ms));
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
        if let Err(err) = office.rooms.record_call(call).await {
            tracing::error!("could not store a call log: {err}");
        }
    });
}
