//! The media side: str0m clients standing in for browsers, each on a UDP socket of its own,
//! driven by a few threads (one `mio` poller each).
//!
//! Senders write Opus-sized audio frames every 20 ms and VP8-sized video frames at 30 fps; the
//! first bytes of each frame are a plausible codec header (a VP8 key frame's start code and size,
//! the P bit of a delta frame, an Opus TOC byte) so that servers that look at them (keyframe
//! detection) see what a browser sends. After those 10 bytes each frame carries its send time,
//! its sequence number, its sender and kind, whether it was sent inside the measuring window,
//! and its simulcast layer: receivers compute loss and one-way delay through the server from them
//! (sender and receivers share this process's clock).
//!
//! Video is one stream, or (`Load::simulcast`) three simulcast layers as Chromium sends them:
//! `a=simulcast:send l;m;h` in the offer, each layer (rid `l`, `m`, `h`: ¼, ½ and full size)
//! on its own SSRC with its own sequence numbers, timestamp base and VP8 picture ids, str0m
//! putting the mid and rid header extensions on its packets. Every layer encodes the same frame
//! instants: frame n of `l`, `m` and `h` share the stamp's sequence number n, so a receiver gets
//! frame n of whichever layer the server forwards it, and a switch of layer neither loses nor
//! repeats a frame (a repeat, the old layer's frame after the new one's, is counted and
//! dropped). A key frame is sent per layer: the first, and one per keyframe request for that
//! rid, at most one per 300 ms.
//!
//! The clients run str0m in RTP mode (no packetizing or depacketizing inside str0m, whose
//! per-packet cost on the receiving side grows with the number of tracks): a sender packetizes
//! itself (an Opus frame per packet; VP8 with the payload descriptor Chromium writes, a 15-bit
//! picture id, S bit on the first packet of a frame, marker on the last, at most 1,100 bytes of
//! frame per packet); a receiver reads the stamp from the first packet of a frame and counts the
//! frame when its last packet (marker) arrives with no sequence gap since the first. For video it
//! also keeps, per sender, the last frame it counted and its layer: the frames missing between
//! two it counted are lost on that layer (or at a switch, if the layers differ), and so are those
//! of the window after the last it counted. SRTP and RTCP (receiver reports, NACK, PLI,
//! transport-wide feedback) are str0m's as usual.
//!
//! Each client is an `Arc<Mutex<Client>>`: its media thread drives it, and the signaling
//! (tokio tasks in the main thread) takes the lock for the SDP exchanges.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo, Ssrc};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

/// Frame kinds, as stamped in the payload.
pub const AUDIO: usize = 0;
pub const VIDEO: usize = 1;

/// The simulcast layers, lowest first, by their rids; the layer of a stream sent without
/// simulcast is [`SINGLE`].
pub const RIDS: [&str; 3] = ["l", "m", "h"];
pub const SINGLE: usize = 3;

/// Where a frame's stamp starts: after the clear codec header bytes (10 for a VP8 key frame).
const STAMP_AT: usize = 10;
/// Stamp: send time (µs, u64), sequence (u64), sender (u16), kind (u8), in the window (u8),
/// layer (u8: 0–2 for `l`, `m`, `h`, [`SINGLE`]).
const STAMP_LEN: usize = 21;
/// Where [`Shared::delays`] keeps the age of arriving frames, by kind.
pub const AGE: usize = 5;
/// The shortest time between two key frames of one stream.
const KEYFRAME_GAP: Duration = Duration::from_millis(300);

/// 0 warm-up, 1 measuring, 2 after the window (marked frames still arriving are counted), 3
/// counted (nothing more is). Frames sent while measuring are marked; RTP packets received
/// while measuring are counted.
pub static PHASE: AtomicU8 = AtomicU8::new(0);

/// Set once every receiver has every stream (everyone has said hello): from then on the senders
/// beyond [`Load::speaking`] are muted.
pub static MUTED: AtomicBool = AtomicBool::new(false);

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
    /// Video in three simulcast layers (`l`, `m`, `h`) instead of one stream of the sizes above.
    pub simulcast: Option<[Stream; 3]>,
    /// The senders that speak (the first `speaking`); once [`MUTED`] is set the others' microphones
    /// are muted: they send digital silence, as a browser with its track disabled does.
    pub speaking: usize,
    /// The layer each receiver asks of every video (Bureau's `sfu_layers`, as a browser does by
    /// the size of its tiles); `None`: none asked, every video may come in its highest.
    pub tile_layer: Option<&'static str>,
}

/// What one video stream (a simulcast layer, or the one stream) sends.
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    /// Bytes of a delta frame and of a key frame.
    pub bytes: usize,
    pub key_bytes: usize,
    /// The picture size a key frame's header announces.
    pub width: u16,
    pub height: u16,
}

impl Load {
    /// The streams a video sender sends, with their layers (`SINGLE` without simulcast).
    fn streams(&self) -> Vec<(usize, Stream)> {
        match self.simulcast {
            Some(layers) => layers.into_iter().enumerate().collect(),
            None => vec![(SINGLE, Stream { bytes: self.video_bytes, key_bytes: self.key_bytes, width: 640, height: 360 })],
        }
    }
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

    /// The `q` quantile in µs (upper bound of its bucket); `u64::MAX` if it is beyond the
    /// last bucket's 10 s.
    fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                if i + 1 == self.buckets.len() {
                    return u64::MAX;
                }
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
    /// they receive (whose own frames do not come back to them). A video frame counts once
    /// whatever the number of layers it is sent in.
    pub frames_sent: [AtomicU64; 2],
    pub frames_sent_by_decoders: [AtomicU64; 2],
    /// Frames received that were sent while measuring, by kind (a video frame once, in
    /// whichever layer came first), and video frames by layer (`RIDS`, then `SINGLE`).
    pub frames_received: [AtomicU64; 2],
    pub layer_frames_received: [AtomicU64; 4],
    /// Video frames of the window received a second time, in another layer (around a switch).
    pub video_repeats: AtomicU64,
    /// Times a receiver got a sender's video in another layer than its last frame, in the window.
    pub layer_switches: AtomicU64,
    /// Key frames sent and keyframe requests received while measuring, by layer.
    pub keyframes_sent: [AtomicU64; 4],
    pub keyframe_requests: [AtomicU64; 4],
    /// Datagrams a client could not send (its socket buffer full).
    pub send_errors: AtomicU64,
    /// Audio frames of muted microphones sent in the window, and the receptions of them.
    pub silence_sent: AtomicU64,
    pub silence_received: AtomicU64,
    /// The first and last video frame (stamp sequence) each sender sent while measuring.
    pub video_window: Mutex<HashMap<u16, (u64, u64)>>,
    /// `speakers` messages participant 0 got over signaling while measuring (Bureau), and the
    /// last N the last one said (`u64::MAX`: none came).
    pub speakers_messages: AtomicU64,
    pub last_n: AtomicU64,
    /// Offers of the server (renegotiations) all participants answered while measuring.
    pub offers_answered: AtomicU64,
    /// One-way delay of the frames received that were sent while measuring: audio, video, and
    /// video by simulcast layer; then ([`AGE`] + kind) the age of the frames that arrived while
    /// measuring, whenever they were sent (a server whose queues grow shows it here even when
    /// nothing of the window arrives in time).
    pub delays: Mutex<[Histogram; 7]>,
}

fn counters<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

impl Shared {
    fn new() -> Shared {
        Shared {
            rtp_received: AtomicU64::new(0),
            rtp_received_bytes: AtomicU64::new(0),
            rtp_sent: AtomicU64::new(0),
            frames_sent: counters(),
            frames_sent_by_decoders: counters(),
            frames_received: counters(),
            layer_frames_received: counters(),
            video_repeats: AtomicU64::new(0),
            layer_switches: AtomicU64::new(0),
            keyframes_sent: counters(),
            keyframe_requests: counters(),
            send_errors: AtomicU64::new(0),
            silence_sent: AtomicU64::new(0),
            silence_received: AtomicU64::new(0),
            video_window: Mutex::new(HashMap::new()),
            speakers_messages: AtomicU64::new(0),
            last_n: AtomicU64::new(u64::MAX),
            offers_answered: AtomicU64::new(0),
            delays: Mutex::new(std::array::from_fn(|_| Histogram::new())),
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
    /// The next RTP sequence number of the audio sent.
    audio_rtp_seq: u64,
    /// The video streams sent: one, or a simulcast layer each.
    video: Vec<VideoOut>,
    /// What each received stream (SSRC) is at.
    rx: HashMap<Ssrc, RxStream>,
    /// The (sender, kind) streams this client has received a frame of.
    seen: HashSet<(u16, u8)>,
    /// Per sender, the last video frame counted and its layer; the frames lost between two.
    video_from: HashMap<u16, VideoFrom>,
    gaps: Vec<Gap>,
    /// RTP packets received, decoded or not.
    rtp_in: u64,
    /// Bytes of the RTP packets received while measuring.
    window_bytes: u64,
    shared: Arc<Shared>,
    load: Load,
    filler: Arc<[u8]>,
}

/// One video stream a sender sends (a simulcast layer, or its one stream).
struct VideoOut {
    /// `RIDS` index, or `SINGLE`.
    layer: usize,
    rid: Option<Rid>,
    stream: Stream,
    /// The next RTP sequence number, the VP8 picture id of the last frame, the timestamp base.
    rtp_seq: u64,
    picture: u16,
    time_base: u32,
    keyframe_wanted: bool,
    last_keyframe: Option<Instant>,
}

/// Where a receiver is with one sender's video: the last frame counted (stamp sequence), its
/// layer.
#[derive(Clone, Copy)]
struct VideoFrom {
    last: u64,
    layer: usize,
}

/// Frames of a sender's video a receiver did not get between two it did: `first..=last`, lost
/// on `layer`, or at a switch of layer (`None`).
#[derive(Clone, Copy)]
pub struct Gap {
    pub sender: u16,
    pub first: u64,
    pub last: u64,
    pub layer: Option<usize>,
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
    seq: u64,
    sender: u16,
    kind: usize,
    window: bool,
    layer: usize,
}

impl Stamp {
    /// The stamp of a frame that starts at `frame`.
    fn read(frame: &[u8]) -> Option<Stamp> {
        let stamp = frame.get(STAMP_AT..STAMP_AT + STAMP_LEN)?;
        Some(Stamp {
            sent: u64::from_be_bytes(stamp[0..8].try_into().ok()?),
            seq: u64::from_be_bytes(stamp[8..16].try_into().ok()?),
            sender: u16::from_be_bytes([stamp[16], stamp[17]]),
            kind: usize::from(stamp[18]).min(VIDEO),
            window: stamp[19] == 1,
            layer: usize::from(stamp[20]).min(SINGLE),
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
                            self.window_bytes += n as u64;
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
                let window = measuring();
                let frame = self.frame(AUDIO, seq, self.load.audio_bytes, false, window, SINGLE, (0, 0));
                let rtp_seq = self.audio_rtp_seq;
                let sent = self.write_rtp(AUDIO, None, rtp_seq, frame, (seq * 960) as u32, false);
                self.audio_rtp_seq += u64::from(sent);
                self.count_frame(AUDIO, seq, sent, window);
                self.audio_seq += 1;
                self.next_audio += Duration::from_millis(20);
            }
        }
        if self.video_mid.is_some() {
            let period = Duration::from_secs(1) / self.load.fps;
            while self.next_video <= now {
                let seq = self.video_seq;
                // One decision for every layer of the frame: in the window or not.
                let window = measuring();
                let mut sent = true;
                for v in 0..self.video.len() {
                    sent &= self.send_video_frame(v, seq, now, window);
                }
                self.count_frame(VIDEO, seq, sent, window);
                self.video_seq += 1;
                self.next_video += period;
            }
        }
    }

    /// Sends frame `seq` of video stream `v` (a layer, or the one stream): a key frame if it
    /// has sent none yet, or one was asked for and the last is 300 ms old.
    fn send_video_frame(&mut self, v: usize, seq: u64, now: Instant, window: bool) -> bool {
        let out = &mut self.video[v];
        let key = out.last_keyframe.is_none() || (out.keyframe_wanted && out.last_keyframe.is_some_and(|t| now.duration_since(t) >= KEYFRAME_GAP));
        if key {
            out.keyframe_wanted = false;
            out.last_keyframe = Some(now);
            if window {
                self.shared.keyframes_sent[out.layer].fetch_add(1, Ordering::Relaxed);
            }
        }
        // The payload descriptor Chromium writes (RFC 7741 §4.2): X and S (first packet) bits,
        // then I, then a 15-bit picture id, one per frame and layer.
        out.picture = (out.picture + 1) & 0x7fff;
        let (layer, rid, stream, picture) = (out.layer, out.rid, out.stream, out.picture);
        let time = out.time_base.wrapping_add((seq * 90_000 / u64::from(self.load.fps)) as u32);
        let frame = self.frame(VIDEO, seq, if key { stream.key_bytes } else { stream.bytes }, key, window, layer, (stream.width, stream.height));
        let chunks = frame.len().div_ceil(MAX_VIDEO_CHUNK);
        let mut sent = true;
        for (i, chunk) in frame.chunks(MAX_VIDEO_CHUNK).enumerate() {
            let mut payload = Vec::with_capacity(chunk.len() + 4);
            payload.extend_from_slice(&[if i == 0 { 0x90 } else { 0x80 }, 0x80, 0x80 | (picture >> 8) as u8, picture as u8]);
            payload.extend_from_slice(chunk);
            let rtp_seq = self.video[v].rtp_seq;
            let written = self.write_rtp(VIDEO, rid, rtp_seq, payload, time, i + 1 == chunks);
            self.video[v].rtp_seq += u64::from(written);
            sent &= written;
        }
        sent
    }

    fn count_frame(&self, kind: usize, seq: u64, sent: bool, window: bool) {
        if sent && window && kind == AUDIO && self.muted() {
            // Silence: no server owes anyone these.
            self.shared.silence_sent.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if sent && window {
            self.shared.frames_sent[kind].fetch_add(1, Ordering::Relaxed);
            if self.role.receives && self.role.decodes {
                self.shared.frames_sent_by_decoders[kind].fetch_add(1, Ordering::Relaxed);
            }
            if kind == VIDEO {
                let mut windows = self.shared.video_window.lock().unwrap_or_else(|e| e.into_inner());
                let range = windows.entry(self.index).or_insert((seq, seq));
                range.1 = seq;
            }
        }
    }

    /// Whether this sender's microphone is muted now.
    fn muted(&self) -> bool {
        usize::from(self.index) >= self.load.speaking && MUTED.load(Ordering::Relaxed)
    }

    /// Writes one RTP packet of `kind` (of the simulcast layer `rid`) and drains str0m (its
    /// contract: every mutation is followed by draining `poll_output` to its timeout before the
    /// next one).
    fn write_rtp(&mut self, kind: usize, rid: Option<Rid>, seq: u64, payload: Vec<u8>, time: u32, marker: bool) -> bool {
        let mid = if kind == AUDIO { self.audio_mid } else { self.video_mid };
        let (Some(mid), Some(pt)) = (mid, self.pts[kind]) else { return false };
        let now = Instant::now();
        // A muted microphone's packets say digital silence (-127 dBov).
        let muted = self.muted();
        let mut api = self.rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, rid) else { return false };
        let mut write = RtpWrite::new(pt, SeqNo::from(seq), time, now, payload).marker(marker).nackable(kind == VIDEO);
        if kind == AUDIO {
            // The audio level a browser puts on every packet (RFC 6464): servers read it to
            // follow the speakers.
            write = write.ext_vals(ExtensionValues { audio_level: Some(if muted { -127 } else { -30 }), voice_activity: Some(!muted), ..ExtensionValues::default() });
        }
        tx.write_rtp(write);
        self.drive();
        true
    }

    /// A frame: the codec's first bytes, the stamp, then bytes that look like ciphertext.
    #[allow(clippy::too_many_arguments)]
    fn frame(&self, kind: usize, seq: u64, size: usize, key: bool, window: bool, layer: usize, (width, height): (u16, u16)) -> Vec<u8> {
        let size = size.max(STAMP_AT + STAMP_LEN);
        let mut f = Vec::with_capacity(size);
        if kind == AUDIO {
            // Opus TOC: config 31 (CELT fullband, 20 ms), mono, one frame.
            f.push(0xf8);
            f.extend_from_slice(&self.filler[..STAMP_AT - 1]);
        } else {
            // VP8 payload header (RFC 6386 §9.1): frame tag with the P bit (bit 0) clear for a
            // key frame and set for a delta frame, version 0, show_frame 1, first partition
            // size 100; a key frame goes on with the start code 9d 01 2a and its width and height
            // (14 bits each, little-endian, no scaling).
            let tag: u32 = (100 << 5) | (1 << 4) | u32::from(!key);
            f.extend_from_slice(&tag.to_le_bytes()[..3]);
            if key {
                f.extend_from_slice(&[0x9d, 0x01, 0x2a]);
                f.extend_from_slice(&width.to_le_bytes());
                f.extend_from_slice(&height.to_le_bytes());
            } else {
                f.extend_from_slice(&self.filler[..STAMP_AT - 3]);
            }
        }
        f.extend_from_slice(&micros(Instant::now()).to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&self.index.to_be_bytes());
        f.push(kind as u8);
        f.push(u8::from(window));
        f.push(layer as u8);
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
            Event::KeyframeRequest(request) => {
                // For one layer (its rid), or for the one stream.
                for out in self.video.iter_mut().filter(|o| request.rid.is_none() || o.rid == request.rid) {
                    out.keyframe_wanted = true;
                    if measuring() {
                        self.shared.keyframe_requests[out.layer].fetch_add(1, Ordering::Relaxed);
                    }
                }
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
        if PHASE.load(Ordering::Relaxed) >= 3 {
            // Counted: the report reads what stands now.
            return;
        }
        if measuring() {
            let mut delays = self.shared.delays.lock().unwrap_or_else(|e| e.into_inner());
            delays[AGE + stamp.kind].add(now.saturating_sub(stamp.sent));
        }
        if stamp.kind == VIDEO && !self.video_frame(&stamp) {
            return;
        }
        if stamp.window && stamp.kind == AUDIO && usize::from(stamp.sender) >= self.load.speaking {
            // Silence of a muted microphone, sent in the window (everyone beyond `speaking` is
            // muted by then): counted apart, neither owed nor lost.
            self.shared.silence_received.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if stamp.window {
            // Under the lock: once the report has taken it with the phase at 3, nothing changes.
            let mut delays = self.shared.delays.lock().unwrap_or_else(|e| e.into_inner());
            if PHASE.load(Ordering::Relaxed) < 3 {
                let delay = now.saturating_sub(stamp.sent);
                self.shared.frames_received[stamp.kind].fetch_add(1, Ordering::Relaxed);
                delays[stamp.kind].add(delay);
                if stamp.kind == VIDEO {
                    self.shared.layer_frames_received[stamp.layer].fetch_add(1, Ordering::Relaxed);
                    if stamp.layer < SINGLE {
                        delays[2 + stamp.layer].add(delay);
                    }
                }
            }
        }
    }

    /// A complete video frame: whether it is one this receiver had not counted yet (not the
    /// same frame again in another layer). The frames missing since the last one from that
    /// sender are a gap, lost on the layer of both, or at a switch of layer.
    fn video_frame(&mut self, stamp: &Stamp) -> bool {
        if let Some(before) = self.video_from.get(&stamp.sender).copied() {
            if stamp.seq <= before.last {
                if stamp.window {
                    self.shared.video_repeats.fetch_add(1, Ordering::Relaxed);
                }
                return false;
            }
            if stamp.seq > before.last + 1 {
                let layer = (before.layer == stamp.layer).then_some(stamp.layer);
                self.gaps.push(Gap { sender: stamp.sender, first: before.last + 1, last: stamp.seq - 1, layer });
            }
            if before.layer != stamp.layer && stamp.window {
                self.shared.layer_switches.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.video_from.insert(stamp.sender, VideoFrom { last: stamp.seq, layer: stamp.layer });
        true
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
    /// The client's offer: a send-only audio and video track for what it publishes (the video
    /// in three layers with `a=simulcast:send l;m;h`, as Chromium offers it, if the load says
    /// so); a client that publishes nothing offers one receive-only audio m-line (an offer needs
    /// one).
    pub fn offer(&self) -> Result<String, String> {
        let mut c = lock(&self.client);
        let role = c.role;
        let label = format!("bench-{}", c.index);
        let simulcast = c.load.simulcast.map(|_| {
            let mut s = Simulcast::new();
            for rid in RIDS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let mut change = c.rtc.sdp_api();
        let audio = role.audio.then(|| change.add_media(MediaKind::Audio, Direction::SendOnly, Some(label.clone()), None, None));
        let video = role.video.then(|| change.add_media(MediaKind::Video, Direction::SendOnly, Some(label.clone()), None, simulcast));
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
        if measuring() {
            c.shared.offers_answered.fetch_add(1, Ordering::Relaxed);
        }
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

    /// The layer this receiver asks of every video, if any ([`Load::tile_layer`]).
    pub fn tile_layer(&self) -> Option<&'static str> {
        lock(&self.client).load.tile_layer
    }

    /// Bytes of RTP received in the window (what the server sent this receiver).
    pub fn window_bytes(&self) -> u64 {
        lock(&self.client).window_bytes
    }

    /// A `speakers` message came (Bureau's signaling), saying how many speakers' videos each
    /// participant gets.
    pub fn speakers(&self, last_n: Option<u64>) {
        let c = lock(&self.client);
        if c.index == 0 && measuring() {
            c.shared.speakers_messages.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(n) = last_n {
            c.shared.last_n.store(n, Ordering::Relaxed);
        }
    }

    /// The video frames of the window this receiver did not get, from every sender's window
    /// (`windows`: first and last frame) but its own, by where they were lost; call once the
    /// phase is 3.
    pub fn video_losses(&self, windows: &HashMap<u16, (u64, u64)>) -> VideoLosses {
        let c = lock(&self.client);
        let mut losses = VideoLosses::default();
        let within = |first: u64, last: u64, (from, to): (u64, u64)| (last.min(to) + 1).saturating_sub(first.max(from));
        for gap in &c.gaps {
            let Some(window) = windows.get(&gap.sender) else { continue };
            let lost = within(gap.first, gap.last, *window);
            match gap.layer {
                Some(layer) => losses.on_layer[layer] += lost,
                None => losses.at_switch += lost,
            }
        }
        for (sender, &(from, to)) in windows {
            if *sender == c.index {
                continue;
            }
            match c.video_from.get(sender) {
                Some(v) => {
                    // Frames after the last counted, up to the window's end, never came.
                    losses.on_layer[v.layer] += within(v.last + 1, u64::MAX - 1, (from, to));
                    losses.receiving[v.layer] += 1;
                }
                None => losses.never += to - from + 1,
            }
        }
        losses
    }
}

/// Video frames of the window a receiver did not get ([`Handle::video_losses`]).
#[derive(Default, Debug, Clone, Copy)]
pub struct VideoLosses {
    /// Lost while it got that layer (`RIDS`, then `SINGLE`).
    pub on_layer: [u64; 4],
    /// Lost at a switch between two layers.
    pub at_switch: u64,
    /// From senders it got no video frame of at all.
    pub never: u64,
    /// The videos it gets, by the layer of the last frame.
    pub receiving: [u64; 4],
}

impl std::ops::AddAssign for VideoLosses {
    fn add_assign(&mut self, o: VideoLosses) {
        for i in 0..4 {
            self.on_layer[i] += o.on_layer[i];
            self.receiving[i] += o.receiving[i];
        }
        self.at_switch += o.at_switch;
        self.never += o.never;
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
        // Each layer numbered on its own (sequence numbers, timestamps, picture ids), as
        // browsers' encoders do; the one stream without simulcast as before.
        let video = if role.video { self.load.streams() } else { Vec::new() };
        let video = video
            .into_iter()
            .map(|(layer, stream)| {
                let l = layer as u64 % 3;
                VideoOut {
                    layer,
                    rid: (layer < SINGLE).then(|| Rid::from(RIDS[layer])),
                    stream,
                    rtp_seq: (u64::from(index) * 1000 + 1 + if layer < SINGLE { l * 20_000 } else { 0 }) % 65_000,
                    picture: if layer < SINGLE { ((u64::from(index) * 100 + l * 9000) & 0x7fff) as u16 } else { 0x7fff },
                    time_base: if layer < SINGLE { ((l + 1) * 7 * 90_000 + u64::from(index) * 4321) as u32 } else { 0 },
                    keyframe_wanted: false,
                    last_keyframe: None,
                }
            })
            .collect();
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
            audio_rtp_seq: u64::from(index) * 1000 + 1,
            video,
            rx: HashMap::new(),
            seen: HashSet::new(),
            video_from: HashMap::new(),
            gaps: Vec::new(),
            rtp_in: 0,
            window_bytes: 0,
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
