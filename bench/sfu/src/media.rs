//! The media side: str0m clients standing in for browsers, each on a UDP socket of its own,
//! driven by a few threads (one `mio` poller each).
//!
//! Senders write Opus-sized audio frames every 20 ms and VP8-sized video frames at 30 fps; the
//! first bytes of each frame are a plausible codec header (a VP8 key frame's start code, the P
//! bit of a delta frame, an Opus TOC byte) so that servers that look at them (keyframe
//! detection) see what a browser sends. After those 10 bytes each frame carries its send time,
//! its sequence number, its sender and kind, and whether it was sent inside the measuring
//! window: receivers compute loss and one-way delay through the server from them (sender and
//! receivers share this process's clock).
//!
//! The clients run str0m in RTP mode (no packetizing or depacketizing inside str0m, whose
//! per-packet cost on the receiving side grows with the number of tracks): a sender packetizes
//! itself (an Opus frame per packet; VP8 with the payload descriptor Chromium writes, a 15-bit
//! picture id, S bit on the first packet of a frame, marker on the last, at most 1,100 bytes of
//! frame per packet); a receiver
//! reads the stamp from the first packet of a frame and counts the frame when its last packet
//! (marker) arrives with no sequence gap since the first. SRTP and RTCP (receiver reports, NACK,
//! PLI, transport-wide feedback) are str0m's as usual.
//!
//! Each client is an `Arc<Mutex<Client>>`: its media thread drives it, and the signaling
//! (tokio tasks in the main thread) takes the lock for the SDP exchanges.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo, Ssrc};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

/// Frame kinds, as stamped in the payload.
pub const AUDIO: usize = 0;
pub const VIDEO: usize = 1;

/// Where a frame's stamp starts: after the clear codec header bytes (10 for a VP8 key frame).
const STAMP_AT: usize = 10;
/// Stamp: send time (µs, u64), sequence (u64), sender (u16), kind (u8), in the window (u8).
const STAMP_LEN: usize = 20;

/// 0 warm-up, 1 measuring, 2 after the window (marked frames still arriving are counted), 3
/// counted (nothing more is). Frames sent while measuring are marked; RTP packets received
/// while measuring are counted.
pub static PHASE: AtomicU8 = AtomicU8::new(0);

fn measuring() -> bool {
    PHASE.load(Ordering::Relaxed) == 1
}

/// The clock every stamp counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn micros(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_micros() as u64
}

/// What one participant does.
#[derive(Clone, Copy, Debug)]
pub struct Role {
    pub audio: bool,
    pub video: bool,
    /// Receives the others' tracks.
    pub receives: bool,
    /// Decodes what it receives (SRTP, the stamps: loss and delay). A receiver that does not
    /// hands only STUN, DTLS and RTCP to str0m and counts its RTP packets unread: the server
    /// does the same work, the generator much less (`--decoders`).
    pub decodes: bool,
}

/// Frame sizes and rates of the senders.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Bytes of an Opus frame (20 ms): 80 bytes is 32 kbit/s.
    pub audio_bytes: usize,
    /// Bytes of a VP8 delta frame.
    pub video_bytes: usize,
    /// Bytes of a VP8 key frame (the first, and one per keyframe request, at most one per 300 ms).
    pub key_bytes: usize,
    pub fps: u32,
}

/// Delays in 10 µs buckets up to 10 s, and the largest.
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max: u64,
}

const BUCKET_US: u64 = 10;

impl Histogram {
    fn new() -> Histogram {
        Histogram { buckets: vec![0; 1_000_001], count: 0, max: 0 }
    }

    fn add(&mut self, us: u64) {
        let i = ((us / BUCKET_US) as usize).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
        self.max = self.max.max(us);
    }

    /// Count, p50, p90, p99 and max, in µs.
    pub fn summary(&self) -> [u64; 5] {
        [self.count, self.quantile(0.5), self.quantile(0.9), self.quantile(0.99), self.max]
    }

    /// The `q` quantile in µs (upper bound of its bucket).
    fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return ((i as u64 + 1) * BUCKET_US).min(self.max);
            }
        }
        self.max
    }
}

/// Counters of every client, added up.
pub struct Shared {
    /// RTP packets (SRTP, not RTCP) received by clients while measuring, and their bytes.
    pub rtp_received: AtomicU64,
    pub rtp_received_bytes: AtomicU64,
    /// RTP packets sent by clients while measuring.
    pub rtp_sent: AtomicU64,
    /// Frames sent while measuring, by kind: by every sender, and by senders that decode what
    /// they receive (whose own frames do not come back to them).
    pub frames_sent: [AtomicU64; 2],
    pub frames_sent_by_decoders: [AtomicU64; 2],
    /// Frames received that were sent while measuring, by kind.
    pub frames_received: [AtomicU64; 2],
    pub keyframes_sent: AtomicU64,
    pub keyframe_requests: AtomicU64,
    /// Datagrams a client could not send (its socket buffer full).
    pub send_errors: AtomicU64,
    /// One-way delay of the frames received that were sent while measuring, by kind.
    pub delays: Mutex<[Histogram; 2]>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            rtp_received: AtomicU64::new(0),
            rtp_received_bytes: AtomicU64::new(0),
            rtp_sent: AtomicU64::new(0),
            frames_sent: [AtomicU64::new(0), AtomicU64::new(0)],
            frames_sent_by_decoders: [AtomicU64::new(0), AtomicU64::new(0)],
            frames_received: [AtomicU64::new(0), AtomicU64::new(0)],
            keyframes_sent: AtomicU64::new(0),
            keyframe_requests: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            delays: Mutex::new([Histogram::new(), Histogram::new()]),
        }
    }
}

/// One participant: a str0m `Rtc` on a UDP socket.
pub struct Client {
    index: u16,
    role: Role,
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    audio_mid: Option<Mid>,
    video_mid: Option<Mid>,
    pending: Option<SdpPendingOffer>,
    connected: bool,
    failed: bool,
    ice: IceConnectionState,
    /// When str0m wants time next.
    timeout: Instant,
    next_audio: Instant,
    next_video: Instant,
    audio_seq: u64,
    video_seq: u64,
    /// The payload type of each kind sent, once connected.
    pts: [Option<Pt>; 2],
    /// The next RTP sequence number of each kind sent.
    rtp_seq: [u64; 2],
    /// What each received stream (SSRC) is at.
    rx: HashMap<Ssrc, RxStream>,
    keyframe_wanted: bool,
    last_keyframe: Option<Instant>,
    /// The (sender, kind) streams this client has received a frame of.
    seen: HashSet<(u16, u8)>,
    /// RTP packets received, decoded or not.
    rtp_in: u64,
    shared: Arc<Shared>,
    load: Load,
    filler: Arc<[u8]>,
}

/// A received stream: the highest sequence number so far and the frame being received.
struct RxStream {
    last: u64,
    frame: Option<RxFrame>,
}

/// A video frame whose first packet arrived.
struct RxFrame {
    stamp: Stamp,
    /// A packet of it is missing.
    broken: bool,
}

#[derive(Clone, Copy)]
struct Stamp {
    sent: u64,
    sender: u16,
    kind: usize,
    window: bool,
}

impl Stamp {
    /// The stamp of a frame that starts at `frame`.
    fn read(frame: &[u8]) -> Option<Stamp> {
        let stamp = frame.get(STAMP_AT..STAMP_AT + STAMP_LEN)?;
        Some(Stamp {
            sent: u64::from_be_bytes(stamp[0..8].try_into().ok()?),
            sender: u16::from_be_bytes([stamp[16], stamp[17]]),
            kind: usize::from(stamp[18]).min(VIDEO),
            window: stamp[19] == 1,
        })
    }
}

/// The most frame bytes in one video packet.
const MAX_VIDEO_CHUNK: usize = 1100;

/// The VP8 payload descriptor (RFC 7741 §4.2) of a packet: whether it starts a frame (S bit,
/// partition 0), and where the frame's bytes start.
fn vp8_descriptor(payload: &[u8]) -> Option<(bool, usize)> {
    let first = *payload.first()?;
    let start = first & 0x10 != 0 && first & 0x07 == 0;
    let mut at = 1;
    if first & 0x80 != 0 {
        let ext = *payload.get(1)?;
        at = 2;
        if ext & 0x80 != 0 {
            // PictureID: 7 or 15 bits.
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            at += 1;
        }
        if ext & 0x30 != 0 {
            at += 1;
        }
    }
    (at <= payload.len()).then_some((start, at))
}

/// Locks a client, even if a thread panicked while holding it (the counters stay usable).
fn lock(client: &Mutex<Client>) -> MutexGuard<'_, Client> {
    client.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    /// When the client needs the thread next.
    fn due(&self) -> Instant {
        if self.failed {
            // Nothing to do for it any more (its datagrams are read and dropped).
            return Instant::now() + Duration::from_secs(3600);
        }
        let mut due = self.timeout;
        if self.connected && !self.failed {
            if self.audio_mid.is_some() {
                due = due.min(self.next_audio);
            }
            if self.video_mid.is_some() {
                due = due.min(self.next_video);
            }
        }
        due
    }

    /// Reads every datagram waiting on the socket.
    fn read(&mut self, buf: &mut [u8]) {
        loop {
            match self.socket.recv_from(buf) {
                Ok(_) if self.failed => continue,
                Ok((n, source)) => {
                    let data = &buf[..n];
                    let rtp = is_rtp(data);
                    if rtp {
                        self.rtp_in += 1;
                        if self.rtp_in <= dump_limit() {
                            // SFU_LOAD_DUMP=N: the clear RTP header of each client's first N packets.
                            eprintln!(
                                "dump client {} rtp #{}: pt {} marker {} seq {} ts {} ssrc {:08x} len {}",
                                self.index,
                                self.rtp_in,
                                data[1] & 0x7f,
                                data[1] >> 7,
                                u16::from_be_bytes([data[2], data[3]]),
                                u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                                u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
                                n
                            );
                        }
                        if measuring() {
                            self.shared.rtp_received.fetch_add(1, Ordering::Relaxed);
                            self.shared.rtp_received_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        if !self.role.decodes {
                            continue;
                        }
                    }
                    let now = Instant::now();
                    let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, data) else { continue };
                    if let Err(e) = self.rtc.handle_input(Input::Receive(now, receive)) {
                        self.fail(&format!("input: {e}"));
                        return;
                    }
                    self.drive();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // ICMP errors of earlier sends (a server gone): nothing to read.
                Err(_) => return,
            }
        }
    }

    /// Gives str0m the time if it asked for it, writes the frames that are due, and sends what
    /// str0m wants sent.
    fn tick(&mut self, now: Instant) {
        if self.failed {
            return;
        }
        // str0m's contract: every mutation (input, write, SDP change) is followed by draining
        // `poll_output` to its timeout before the next one.
        if now >= self.timeout {
            if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
                self.fail(&format!("timeout: {e}"));
                return;
            }
            self.drive();
        }
        if self.connected && !self.failed {
            self.send_media(now);
        }
    }

    fn send_media(&mut self, now: Instant) {
        if self.audio_mid.is_some() {
            while self.next_audio <= now {
                let seq = self.audio_seq;
                let frame = self.frame(AUDIO, seq, self.load.audio_bytes, false);
                let sent = self.write_rtp(AUDIO, frame, (seq * 960) as u32, false);
                self.count_frame(AUDIO, sent);
                self.audio_seq += 1;
                self.next_audio += Duration::from_millis(20);
            }
        }
        if self.video_mid.is_some() {
            let period = Duration::from_secs(1) / self.load.fps;
            while self.next_video <= now {
                let seq = self.video_seq;
                let key = self.last_keyframe.is_none()
                    || (self.keyframe_wanted && self.last_keyframe.is_some_and(|t| now.duration_since(t) >= Duration::from_millis(300)));
                let size = if key { self.load.key_bytes } else { self.load.video_bytes };
                let frame = self.frame(VIDEO, seq, size, key);
                if key {
                    self.keyframe_wanted = false;
                    self.last_keyframe = Some(now);
                    self.shared.keyframes_sent.fetch_add(1, Ordering::Relaxed);
                }
                let time = (seq * 90_000 / u64::from(self.load.fps)) as u32;
                let chunks = frame.len().div_ceil(MAX_VIDEO_CHUNK);
                let mut sent = true;
                // The payload descriptor Chromium writes (RFC 7741 §4.2): X and S (first packet)
                // bits, then I, then a 15-bit picture id, one per frame.
                let picture = (seq & 0x7fff) as u16;
                for (i, chunk) in frame.chunks(MAX_VIDEO_CHUNK).enumerate() {
                    let mut payload = Vec::with_capacity(chunk.len() + 4);
                    payload.extend_from_slice(&[if i == 0 { 0x90 } else { 0x80 }, 0x80, 0x80 | (picture >> 8) as u8, picture as u8]);
                    payload.extend_from_slice(chunk);
                    sent &= self.write_rtp(VIDEO, payload, time, i + 1 == chunks);
                }
                self.count_frame(VIDEO, sent);
                self.video_seq += 1;
                self.next_video += period;
            }
        }
    }

    fn count_frame(&self, kind: usize, sent: bool) {
        if sent && measuring() {
            self.shared.frames_sent[kind].fetch_add(1, Ordering::Relaxed);
            if self.role.receives && self.role.decodes {
                self.shared.frames_sent_by_decoders[kind].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Writes one RTP packet of `kind` and drains str0m (its contract: every mutation is followed
    /// by draining `poll_output` to its timeout before the next one).
    fn write_rtp(&mut self, kind: usize, payload: Vec<u8>, time: u32, marker: bool) -> bool {
        let mid = if kind == AUDIO { self.audio_mid } else { self.video_mid };
        let (Some(mid), Some(pt)) = (mid, self.pts[kind]) else { return false };
        let seq = SeqNo::from(self.rtp_seq[kind]);
        let now = Instant::now();
        let mut api = self.rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, None) else { return false };
        let mut write = RtpWrite::new(pt, seq, time, now, payload).marker(marker).nackable(kind == VIDEO);
        if kind == AUDIO {
            // The audio level a browser puts on every packet (RFC 6464): servers read it to
            // follow the speakers.
            write = write.ext_vals(ExtensionValues { audio_level: Some(-30), voice_activity: Some(true), ..ExtensionValues::default() });
        }
        tx.write_rtp(write);
        self.rtp_seq[kind] += 1;
        self.drive();
        true
    }

    /// A frame: the codec's first bytes, the stamp, then bytes that look like ciphertext.
    fn frame(&self, kind: usize, seq: u64, size: usize, key: bool) -> Vec<u8> {
        let size = size.max(STAMP_AT + STAMP_LEN);
        let mut f = Vec::with_capacity(size);
        if kind == AUDIO {
            // Opus TOC: config 31 (CELT fullband, 20 ms), mono, one frame.
            f.push(0xf8);
            f.extend_from_slice(&self.filler[..STAMP_AT - 1]);
        } else {
            // VP8 payload header (RFC 6386 §9.1): frame tag with the P bit (bit 0) clear for a
            // key frame and set for a delta frame, version 0, show_frame 1, first partition
            // size 100; a key frame goes on with the start code 9d 01 2a and 640x360.
            let tag: u32 = (100 << 5) | (1 << 4) | u32::from(!key);
            f.extend_from_slice(&tag.to_le_bytes()[..3]);
            if key {
                f.extend_from_slice(&[0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]);
            } else {
                f.extend_from_slice(&self.filler[..STAMP_AT - 3]);
            }
        }
        f.extend_from_slice(&micros(Instant::now()).to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&self.index.to_be_bytes());
        f.push(kind as u8);
        f.push(u8::from(measuring()));
        let rest = size - f.len();
        f.extend_from_slice(&self.filler[..rest]);
        f
    }

    /// Polls str0m until it waits for time or input.
    fn drive(&mut self) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = t;
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    if measuring() && is_rtp(&t.contents) {
                        self.shared.rtp_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    if self.socket.send_to(&t.contents, t.destination).is_err() {
                        self.shared.send_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(Output::Event(event)) => self.event(event),
                Err(e) => {
                    self.fail(&format!("poll: {e}"));
                    return;
                }
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected => {
                self.connected = true;
                let now = Instant::now();
                self.next_audio = now;
                self.next_video = now;
                for (kind, mid) in [(AUDIO, self.audio_mid), (VIDEO, self.video_mid)] {
                    self.pts[kind] = mid.and_then(|m| self.rtc.media(m)).and_then(|m| m.remote_pts().first().copied());
                }
            }
            // A transient state: consent checks may succeed again (an overloaded server answers
            // late); whether the server keeps the participant is for it to say.
            Event::IceConnectionStateChange(state) => self.ice = state,
            Event::KeyframeRequest(_) => {
                self.keyframe_wanted = true;
                self.shared.keyframe_requests.fetch_add(1, Ordering::Relaxed);
            }
            Event::RtpPacket(packet) => self.received(&packet),
            _ => {}
        }
    }

    /// A packet of another participant's stream, through the server.
    fn received(&mut self, packet: &RtpPacket) {
        let seq = *packet.seq_no;
        let stream = self.rx.entry(packet.header.ssrc).or_insert(RxStream { last: seq.wrapping_sub(1), frame: None });
        let in_order = seq == stream.last.wrapping_add(1);
        if seq > stream.last || stream.last == u64::MAX {
            stream.last = seq;
        }
        let payload = &packet.payload[..];
        let complete = if payload.first() == Some(&0xf8) {
            // An Opus frame (its TOC byte; no VP8 descriptor starts so): one frame, one packet.
            Stamp::read(payload)
        } else {
            let Some((start, at)) = vp8_descriptor(payload) else { return };
            if start {
                stream.frame = Stamp::read(&payload[at..]).map(|stamp| RxFrame { stamp, broken: false });
            } else if !in_order && let Some(frame) = &mut stream.frame {
                frame.broken = true;
            }
            if !packet.header.marker {
                return;
            }
            stream.frame.take().filter(|f| !f.broken).map(|f| f.stamp)
        };
        let Some(stamp) = complete else { return };
        let now = micros(Instant::now());
        self.seen.insert((stamp.sender, stamp.kind as u8));
        if stamp.window {
            // Under the lock: once the report has taken it with the phase at 3, nothing changes.
            let mut delays = self.shared.delays.lock().unwrap_or_else(|e| e.into_inner());
            if PHASE.load(Ordering::Relaxed) < 3 {
                self.shared.frames_received[stamp.kind].fetch_add(1, Ordering::Relaxed);
                delays[stamp.kind].add(now.saturating_sub(stamp.sent));
            }
        }
    }

    fn fail(&mut self, why: &str) {
        if !self.failed {
            eprintln!("sfu-load: client {} ({}): {why}", self.index, self.local);
        }
        self.failed = true;
    }
}

/// An SRTP packet, not SRTCP (RFC 5761 §4: RTCP packet types 192–223 in the second byte; the
/// payload types here are 96 and up, so no RTP packet has those).
fn is_rtp(data: &[u8]) -> bool {
    data.len() >= 12 && data[0] >> 6 == 2 && !(192..=223).contains(&data[1])
}

/// How many RTP packets per client to describe on standard error (`SFU_LOAD_DUMP`, for
/// looking into a server's forwarding; 0 by default).
fn dump_limit() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| std::env::var("SFU_LOAD_DUMP").ok().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// A client as the signaling sees it.
#[derive(Clone)]
pub struct Handle {
    client: Arc<Mutex<Client>>,
    waker: Arc<Waker>,
    pub index: u16,
    pub role: Role,
    pub port: u16,
}

impl Handle {
    /// The client's offer: a send-only audio and video track for what it publishes; a client
    /// that publishes nothing offers one receive-only audio m-line (an offer needs one).
    pub fn offer(&self) -> Result<String, String> {
        let mut c = lock(&self.client);
        let role = c.role;
        let label = format!("bench-{}", c.index);
        let mut change = c.rtc.sdp_api();
        let audio = role.audio.then(|| change.add_media(MediaKind::Audio, Direction::SendOnly, Some(label.clone()), None, None));
        let video = role.video.then(|| change.add_media(MediaKind::Video, Direction::SendOnly, Some(label.clone()), None, None));
        if !role.audio && !role.video {
            change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        }
        let (offer, pending) = change.apply().ok_or("nothing to offer")?;
        c.audio_mid = audio;
        c.video_mid = video;
        c.pending = Some(pending);
        c.drive();
        Ok(offer.to_sdp_string())
    }

    /// The answer to the client's offer.
    pub fn accept_answer(&self, sdp: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| format!("answer: {e}"))?;
        let mut c = lock(&self.client);
        let pending = c.pending.take().ok_or("no offer pending")?;
        c.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| format!("answer: {e}"))?;
        c.drive();
        drop(c);
        let _ = self.waker.wake();
        Ok(())
    }

    /// Answers the server's offer.
    pub fn accept_offer(&self, sdp: &str) -> Result<String, String> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| format!("offer: {e}"))?;
        let mut c = lock(&self.client);
        let answer = c.rtc.sdp_api().accept_offer(offer).map_err(|e| format!("offer: {e}"))?;
        c.drive();
        drop(c);
        let _ = self.waker.wake();
        Ok(answer.to_sdp_string())
    }

    pub fn connected(&self) -> bool {
        lock(&self.client).connected
    }

    /// The connection failed here (str0m said so) or was ended by the server (its signaling said
    /// so: [`Handle::ended`]).
    pub fn failed(&self) -> bool {
        let c = lock(&self.client);
        c.failed || !c.rtc.is_alive()
    }

    /// The server says this participant's media connection ended.
    pub fn ended(&self, why: &str) {
        lock(&self.client).fail(&format!("the server ended the connection: {why}"));
    }

    /// Whether ICE is disconnected at the moment.
    pub fn ice_disconnected(&self) -> bool {
        lock(&self.client).ice == IceConnectionState::Disconnected
    }

    /// How many (sender, kind) streams the client has received frames of.
    pub fn streams_seen(&self) -> usize {
        lock(&self.client).seen.len()
    }

    /// RTP packets received so far, decoded or not.
    pub fn rtp_in(&self) -> u64 {
        lock(&self.client).rtp_in
    }
}

struct Thread {
    clients: mpsc::Sender<Arc<Mutex<Client>>>,
    waker: Arc<Waker>,
}

/// The media threads.
pub struct Engine {
    threads: Vec<Thread>,
    pub shared: Arc<Shared>,
    load: Load,
    filler: Arc<[u8]>,
}

const WAKE: Token = Token(usize::MAX);

impl Engine {
    pub fn start(threads: usize, load: Load) -> Result<Engine, String> {
        let _ = epoch();
        let shared = Arc::new(Shared::new());
        let mut handles = Vec::new();
        for n in 0..threads.max(1) {
            let poll = Poll::new().map_err(|e| e.to_string())?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(|e| e.to_string())?);
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new().name(format!("media-{n}")).spawn(move || run(poll, rx)).map_err(|e| e.to_string())?;
            handles.push(Thread { clients: tx, waker });
        }
        // Bytes that look like ciphertext (xorshift), shared by every frame.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let filler: Vec<u8> = (0..64 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Ok(Engine { threads: handles, shared, load, filler: filler.into() })
    }

    /// A new client on a socket of its own (`ip`, an ephemeral port).
    pub fn add(&self, index: u16, role: Role, ip: std::net::IpAddr) -> Result<Handle, String> {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, Some(socket2::Protocol::UDP)).map_err(|e| e.to_string())?;
        // As large as the kernel allows (net.core.rmem_max): bursts of key frames.
        let _ = socket.set_recv_buffer_size(4 << 20);
        let _ = socket.set_send_buffer_size(4 << 20);
        socket.set_nonblocking(true).map_err(|e| e.to_string())?;
        socket.bind(&SocketAddr::new(ip, 0).into()).map_err(|e| e.to_string())?;
        let socket: std::net::UdpSocket = socket.into();
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let now = Instant::now();
        let mut rtc = Rtc::builder().clear_codecs().enable_opus(true).enable_vp8(true).set_rtp_mode(true).build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(|e| e.to_string())?);
        let client = Client {
            index,
            role,
            rtc,
            socket: UdpSocket::from_std(socket),
            local,
            audio_mid: None,
            video_mid: None,
            pending: None,
            connected: false,
            failed: false,
            ice: IceConnectionState::New,
            timeout: now,
            next_audio: now,
            next_video: now,
            audio_seq: 0,
            video_seq: 0,
            pts: [None, None],
            rtp_seq: [u64::from(index) * 1000 + 1, u64::from(index) * 1000 + 1],
            rx: HashMap::new(),
            keyframe_wanted: false,
            last_keyframe: None,
            seen: HashSet::new(),
            rtp_in: 0,
            shared: self.shared.clone(),
            load: self.load,
            filler: self.filler.clone(),
        };
        let client = Arc::new(Mutex::new(client));
        let thread = &self.threads[usize::from(index) % self.threads.len()];
        thread.clients.send(client.clone()).map_err(|_| "media thread gone")?;
        let _ = thread.waker.wake();
        Ok(Handle { client, waker: thread.waker.clone(), index, role, port: local.port() })
    }
}

/// A media thread: waits for datagrams or the earliest time a client is due, then serves it.
fn run(mut poll: Poll, new: mpsc::Receiver<Arc<Mutex<Client>>>) {
    let mut clients: Vec<Arc<Mutex<Client>>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        let due = clients.iter().map(|c| lock(c).due()).min();
        let wait = due.map_or(Duration::from_millis(100), |d| d.saturating_duration_since(now)).min(Duration::from_millis(100));
        if let Err(e) = poll.poll(&mut events, Some(wait))
            && e.kind() != ErrorKind::Interrupted
        {
            eprintln!("sfu-load: poll: {e}");
            return;
        }
        for event in events.iter() {
            if event.token() == WAKE {
                while let Ok(client) = new.try_recv() {
                    let token = Token(clients.len());
                    let registered = poll.registry().register(&mut lock(&client).socket, token, Interest::READABLE);
                    if let Err(e) = registered {
                        eprintln!("sfu-load: register: {e}");
                        continue;
                    }
                    clients.push(client);
                }
                continue;
            }
            if let Some(client) = clients.get(event.token().0) {
                lock(client).read(&mut buf);
            }
        }
        let now = Instant::now();
        for client in &clients {
            let mut c = lock(client);
            if c.due() <= now {
                c.tick(now);
            }
        }
    }
}
