//! The media server's driver (docs/sfu.md): one UDP socket and the rooms of `bureau-sfu` that
//! use it, in one Tokio task.
//!
//! The hub decides which rooms use the media server and relays signaling; what it asks
//! ([`MediaCommand`]) arrives here, and what the rooms say to participants goes back to it as
//! [`MediaEvent`]s. The task feeds each room the datagrams from its participants' addresses and
//! the time, and sends what the rooms ask for. A datagram from an address not seen yet (an ICE
//! check of a new connection) is offered to every room until one takes it. Everything the
//! rooms forward is end-to-end encrypted by the browsers: this task holds no media key.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bureau_sfu::{Layer, Output, ParticipantId, Room, SdpAnswer, SdpOffer};
use bureau_signal::protocol::VideoLayer;
use bureau_signal::{ConnId, MediaCommand, MediaEvent};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::config::SfuSettings;

/// The largest datagram read: above any RTP packet a browser sends (they keep under the MTU).
const MAX_DATAGRAM: usize = 2048;
/// Datagrams read in one go before the rooms' outputs are sent.
const READ_BATCH: usize = 64;

/// A room of the media server: an organisation's room id.
type RoomKey = (String, String);

/// The media server, bound and not yet running.
pub struct MediaServer {
    socket: UdpSocket,
    /// The address participants send to (the rooms' one ICE candidate).
    public: SocketAddr,
    settings: SfuSettings,
}

/// Where the hub's commands for the media server go.
#[derive(Clone)]
pub struct MediaHandle {
    commands: mpsc::UnboundedSender<MediaCommand>,
    participants: Arc<AtomicUsize>,
}

impl MediaHandle {
    /// Hands the media server a command of the hub.
    pub fn send(&self, command: MediaCommand) {
        // The task ends only with the process.
        let _ = self.commands.send(command);
    }

    /// The participants connected now: the load by which rooms are placed on nodes.
    pub fn load(&self) -> usize {
        self.participants.load(Ordering::Relaxed)
    }
}

impl MediaServer {
    /// Binds the media server's UDP socket.
    pub async fn bind(settings: &SfuSettings) -> io::Result<MediaServer> {
        let socket = UdpSocket::bind(settings.listen).await?;
        let port = socket.local_addr()?.port();
        Ok(MediaServer { socket, public: SocketAddr::new(settings.public_ip, port), settings: settings.clone() })
    }

    /// The address browsers send media to.
    pub fn public_addr(&self) -> SocketAddr {
        self.public
    }

    /// Runs the media server in a task of its own; its events for participants go to `events`.
    pub fn start(self, events: mpsc::UnboundedSender<MediaEvent>) -> MediaHandle {
        let (commands, inbox) = mpsc::unbounded_channel();
        let recorder = self.settings.record_to.clone().and_then(|path| match Recording::open(&path) {
            Ok(r) => Some(r),
            Err(err) => {
                tracing::error!("sfu.record_to: cannot open {}: {err}", path.display());
                None
            }
        });
        let participants = Arc::new(AtomicUsize::new(0));
        let driver = Driver {
            load: participants.clone(),
            socket: self.socket,
            public: self.public,
            max_participants: self.settings.max_participants,
            last_n: self.settings.last_n,
            rooms: HashMap::new(),
            participants: HashMap::new(),
            sources: HashMap::new(),
            events,
            recorder,
        };
        tokio::spawn(driver.run(inbox));
        MediaHandle { commands, participants }
    }
}

/// One room and who its participants are on the signaling side.
struct MediaRoom {
    room: Room,
    conns: HashMap<ParticipantId, ConnId>,
    /// When the room wants time next.
    timeout: Instant,
}

struct Driver {
    /// How many participants there are, for [`MediaHandle::load`].
    load: Arc<AtomicUsize>,
    socket: UdpSocket,
    public: SocketAddr,
    max_participants: usize,
    /// How many speakers' videos each receiver gets.
    last_n: usize,
    rooms: HashMap<RoomKey, MediaRoom>,
    /// Each participant's room.
    participants: HashMap<ConnId, (RoomKey, ParticipantId)>,
    /// The room each remote address was last seen in.
    sources: HashMap<SocketAddr, RoomKey>,
    events: mpsc::UnboundedSender<MediaEvent>,
    recorder: Option<Recording>,
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<MediaCommand>) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            self.load.store(self.participants.len(), Ordering::Relaxed);
            let deadline = self.rooms.values().map(|r| r.timeout).min();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    let now = Instant::now();
                    match received {
                        Ok((len, source)) => self.datagram(now, source, &buf[..len]),
                        // An ICMP error of an earlier send (a participant gone): nothing to do.
                        Err(err) => tracing::debug!("media server: receive failed: {err}"),
                    }
                    // What else is waiting, in the same round.
                    for _ in 1..READ_BATCH {
                        match self.socket.try_recv_from(&mut buf) {
                            Ok((len, source)) => self.datagram(now, source, &buf[..len]),
                            Err(_) => break,
                        }
                    }
                }
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    self.command(Instant::now(), command);
                }
                () = sleep => {
                    let now = Instant::now();
                    for room in self.rooms.values_mut().filter(|r| r.timeout <= now) {
                        room.room.handle_timeout(now);
                    }
                }
            }
            self.drain().await;
        }
    }

    /// A datagram for the room of its source (or the first room that knows it).
    fn datagram(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) {
        if let Some(room) = self.sources.get(&source).and_then(|key| self.rooms.get_mut(key))
            && room.room.handle_datagram(now, source, contents)
        {
            return;
        }
        for (key, room) in &mut self.rooms {
            if room.room.handle_datagram(now, source, contents) {
                self.sources.insert(source, key.clone());
                return;
            }
        }
    }

    fn command(&mut self, now: Instant, command: MediaCommand) {
        match command {
            MediaCommand::Join { org_id, room_id, conn, peer_id, sdp } => {
                self.leave(conn);
                if self.participants.len() >= self.max_participants {
                    self.fail(conn, "the media server is full; try again later");
                    return;
                }
                let offer = match SdpOffer::from_sdp_string(&sdp) {
                    Ok(offer) => offer,
                    Err(_) => return self.fail(conn, "the offer is not valid SDP"),
                };
                let key = (org_id, room_id);
                let public = self.public;
                let last_n = self.last_n;
                let room = self.rooms.entry(key.clone()).or_insert_with(|| {
                    let mut room = Room::new(public, now);
                    room.set_last_n(last_n);
                    MediaRoom { room, conns: HashMap::new(), timeout: now }
                });
                if let Some(recording) = &self.recorder
                    && room.conns.is_empty()
                {
                    room.room.record(recording.recorder());
                }
                match room.room.join(now, offer, peer_id.as_str()) {
                    Ok((participant, answer)) => {
                        room.conns.insert(participant, conn);
                        room.timeout = now;
                        self.participants.insert(conn, (key, participant));
                        self.emit(MediaEvent::Answer { conn, sdp: SdpAnswer::to_sdp_string(&answer) });
                    }
                    Err(err) => {
                        tracing::debug!(conn = conn.0, "media server: offer refused: {err}");
                        self.fail(conn, "the media server cannot answer this offer");
                    }
                }
            }
            MediaCommand::Answer { conn, sdp } => {
                let Some((key, participant)) = self.participants.get(&conn) else { return };
                let Some(room) = self.rooms.get_mut(key) else { return };
                let result = SdpAnswer::from_sdp_string(&sdp).map_err(|e| e.to_string()).and_then(|answer| room.room.accept_answer(*participant, answer).map_err(|e| e.to_string()));
                room.timeout = now;
                if let Err(err) = result {
                    tracing::debug!(conn = conn.0, "media server: answer refused: {err}");
                    self.fail(conn, "the media server cannot use this answer");
                }
            }
            MediaCommand::Leave { conn } => self.leave(conn),
            MediaCommand::Sharing { conn, sharing } => {
                let Some((key, participant)) = self.participants.get(&conn) else { return };
                if let Some(room) = self.rooms.get_mut(key) {
                    room.room.set_sharing_screen(*participant, sharing);
                    room.timeout = now;
                }
            }
            MediaCommand::Layers { conn, layers } => {
                let Some((key, subscriber)) = self.participants.get(&conn) else { return };
                let Some(room) = self.rooms.get_mut(key) else { return };
                for (sender, layer) in layers {
                    // Only senders of the same room: the hub names no other.
                    if let Some((sender_key, sender)) = self.participants.get(&sender)
                        && sender_key == key
                    {
                        room.room.set_max_layer(*subscriber, *sender, sfu_layer(layer));
                    }
                }
                room.timeout = now;
            }
            MediaCommand::Close { org_id, room_id } => {
                let key = (org_id, room_id);
                if let Some(room) = self.rooms.remove(&key) {
                    for conn in room.conns.values() {
                        self.participants.remove(conn);
                    }
                }
                self.sources.retain(|_, k| *k != key);
            }
        }
    }

    fn leave(&mut self, conn: ConnId) {
        let Some((key, participant)) = self.participants.remove(&conn) else { return };
        let Some(room) = self.rooms.get_mut(&key) else { return };
        room.conns.remove(&participant);
        room.room.leave(participant);
        if room.conns.is_empty() {
            self.rooms.remove(&key);
            self.sources.retain(|_, k| *k != key);
        }
    }

    fn fail(&mut self, conn: ConnId, reason: &str) {
        self.emit(MediaEvent::Failed { conn, reason: reason.to_owned() });
    }

    fn emit(&self, event: MediaEvent) {
        // The node task ends only with the process.
        let _ = self.events.send(event);
    }

    /// Sends everything the rooms ask for.
    async fn drain(&mut self) {
        let mut failed = Vec::new();
        for (key, room) in &mut self.rooms {
            loop {
                match room.room.poll_output() {
                    Output::Timeout(at) => {
                        room.timeout = at;
                        break;
                    }
                    Output::Transmit { destination, contents } => {
                        if let Err(err) = self.socket.send_to(&contents, destination).await {
                            tracing::debug!("media server: send failed: {err}");
                        }
                    }
                    Output::Offer { participant, offer } => {
                        if let Some(conn) = room.conns.get(&participant) {
                            let _ = self.events.send(MediaEvent::Offer { conn: *conn, sdp: offer.to_sdp_string() });
                        }
                    }
                    Output::Left(participant) => {
                        if let Some(conn) = room.conns.remove(&participant) {
                            failed.push(conn);
                        }
                    }
                    Output::Speakers(order) => {
                        let order: Vec<ConnId> = order.iter().filter_map(|p| room.conns.get(p).copied()).collect();
                        tracing::debug!(?order, "media server: speakers, most recent first");
                        let (org_id, room_id) = key.clone();
                        let _ = self.events.send(MediaEvent::Speakers { org_id, room_id, order, last_n: room.room.last_n() });
                    }
                }
            }
        }
        for conn in failed {
            self.participants.remove(&conn);
            self.fail(conn, "the connection to the media server ended");
        }
        self.rooms.retain(|_, r| !r.conns.is_empty());
    }
}

/// The test switch `sfu.record_to`: every forwarded frame appended to a file, as
/// `[kind: 1 byte, 'a' or 'v'][length: u32 big-endian][bytes]`.
struct Recording {
    file: std::sync::Arc<std::sync::Mutex<std::fs::File>>,
}

impl Recording {
    fn open(path: &std::path::Path) -> io::Result<Recording> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Recording { file: std::sync::Arc::new(std::sync::Mutex::new(file)) })
    }

    fn recorder(&self) -> bureau_sfu::Recorder {
        let file = self.file.clone();
        Box::new(move |_from, kind, bytes| {
            use std::io::Write;
            let tag = if kind == bureau_sfu::MediaKind::Audio { b'a' } else { b'v' };
            let mut record = Vec::with_capacity(bytes.len() + 5);
            record.push(tag);
            record.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            record.extend_from_slice(bytes);
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(&record);
            }
        })
    }
}

/// The media server's layer for the one a client asked for.
fn sfu_layer(layer: VideoLayer) -> Layer {
    match layer {
        VideoLayer::L => Layer::Low,
        VideoLayer::M => Layer::Medium,
        VideoLayer::H => Layer::High,
    }
}
