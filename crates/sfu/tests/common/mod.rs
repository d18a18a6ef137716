//! Browser stand-ins for the room's tests: str0m clients in RTP mode that publish audio with
//! RFC 6464 levels and VP8 video in three simulcast layers (rids `l`, `m`, `h`, offered as
//! browsers do: `a=simulcast:send l;m;h`), and an in-memory network on a fake clock whose links
//! to the room can delay, drop and cap what the room sends.
//!
//! Every packet a client sends carries a tag after the VP8 payload header (or at the start of an
//! audio payload): who sent it, which layer, which frame. What a client receives is recorded
//! with its RTP header, so that tests can tell which sender's layer reached whom, and how the
//! room numbered it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bureau_sfu::{Output, ParticipantId, Room};
use str0m::media::{Direction, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Rtc};

/// The room's address in every test.
pub const ROOM: &str = "10.0.0.1:3479";

/// The rids of the three layers, lowest first, and the bytes of one frame of each (25 frames a
/// second: 40, 120 and 360 kbit/s).
pub const LAYERS: [(&str, usize); 3] = [("l", 200), ("m", 600), ("h", 1800)];
/// The largest payload a client puts in one packet.
const MAX_PAYLOAD: usize = 1000;
/// The first byte of every tag.
const TAG: u8 = 0xA7;

pub fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// One RTP packet a client received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub mid: Mid,
    pub ssrc: u32,
    /// Extended sequence number, as the client's str0m extended it.
    pub seq: u64,
    pub timestamp: u32,
    pub kind: MediaKind,
    /// The sender (index of the client) the tag names, if the packet has a tag.
    pub from: Option<usize>,
    /// The layer's rid the tag names (`-` for a single layer, `a` for audio).
    pub layer: Option<char>,
    pub frame: Option<u32>,
    /// The packet starts a VP8 frame.
    pub start: bool,
    /// The packet starts a VP8 key frame.
    pub keyframe: bool,
    /// The VP8 picture id, if the descriptor has one.
    pub picture_id: Option<u16>,
    /// The audio level (RFC 6464) the packet carries, if any.
    pub level: Option<i8>,
}

/// What one layer of a client's video stands at.
struct LayerOut {
    rid: Option<Rid>,
    bytes: usize,
    seq: u64,
    picture_id: u16,
    keyframe_wanted: bool,
    frames: u32,
}

/// A browser stand-in.
pub struct Client {
    pub index: usize,
    pub addr: SocketAddr,
    pub rtc: Rtc,
    pub id: ParticipantId,
    pub audio: Mid,
    pub video: Option<Mid>,
    pub connected: bool,
    /// The level it speaks at, in -dBov (RFC 6464: 0 loudest, 127 silence: a muted microphone).
    /// 100 to begin with: an open microphone in a quiet room.
    pub level: u8,
    /// Whether it sends video at all.
    pub sending_video: bool,
    layers: Vec<LayerOut>,
    audio_seq: u64,
    audio_frames: u32,
    pub received: Vec<Received>,
    /// Keyframe requests it got, by rid.
    pub keyframe_requests: Vec<Option<Rid>>,
    next_audio: Option<Instant>,
    next_video: Option<Instant>,
}

/// Joins `room` with an offer of one send-only audio track and, with `layers` of 3, one
/// send-only video track in three simulcast layers (1: one layer, 0: no video).
pub fn join(room: &mut Room, now: Instant, index: usize, layers: usize) -> Client {
    let addr = addr(&format!("10.0.1.{}:5000", index + 1));
    let mut rtc = Rtc::builder().set_rtp_mode(true).build(now);
    rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
    let mut change = rtc.sdp_api();
    let audio = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let mut outs = Vec::new();
    let video = (layers > 0).then(|| {
        let simulcast = (layers == 3).then(|| {
            let mut s = Simulcast::new();
            for (rid, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        if layers == 3 {
            // Each layer numbered on its own, as browsers' encoders do.
            for (i, (rid, bytes)) in LAYERS.into_iter().enumerate() {
                let i = i as u64;
                outs.push(LayerOut { rid: Some(rid.into()), bytes, seq: 1000 + 20_000 * i, picture_id: 100 + 9000 * i as u16, keyframe_wanted: true, frames: 0 });
            }
        } else {
            outs.push(LayerOut { rid: None, bytes: LAYERS[2].1, seq: 1000, picture_id: 100, keyframe_wanted: true, frames: 0 });
        }
        change.add_media(MediaKind::Video, Direction::SendOnly, None, None, simulcast)
    });
    let (offer, pending) = change.apply().unwrap();
    if layers == 3 {
        let sdp = offer.to_sdp_string();
        assert!(sdp.contains("a=simulcast:send l;m;h"), "the offer has simulcast as browsers write it:\n{sdp}");
        assert!(sdp.contains("a=rid:l send"), "the offer has rids:\n{sdp}");
    }
    let (id, answer) = room.join(now, offer, &format!("client{index}")).unwrap();
    rtc.sdp_api().accept_answer(pending, answer).unwrap();
    Client {
        index,
        addr,
        rtc,
        id,
        audio,
        video,
        connected: false,
        level: 100,
        sending_video: true,
        layers: outs,
        audio_seq: 5000,
        audio_frames: 0,
        received: Vec::new(),
        keyframe_requests: Vec::new(),
        next_audio: None,
        next_video: None,
    }
}

/// The tag a client puts in its packets.
fn tag(from: usize, layer: u8, frame: u32) -> [u8; 7] {
    let f = frame.to_be_bytes();
    [TAG, from as u8, layer, f[0], f[1], f[2], f[3]]
}

/// Reads a tag at the start of `bytes`.
fn read_tag(bytes: &[u8]) -> Option<(usize, char, u32)> {
    if bytes.len() < 7 || bytes[0] != TAG {
        return None;
    }
    Some((bytes[1] as usize, bytes[2] as char, u32::from_be_bytes([bytes[3], bytes[4], bytes[5], bytes[6]])))
}

/// A VP8 payload descriptor's length, whether it starts a partition, and its picture id.
fn vp8_descriptor(payload: &[u8]) -> Option<(usize, bool, Option<u16>)> {
    let b0 = *payload.first()?;
    let start = b0 & 0x10 != 0 && b0 & 0x07 == 0;
    let mut at = 1;
    let mut picture_id = None;
    if b0 & 0x80 != 0 {
        let x = *payload.get(at)?;
        at += 1;
        if x & 0x80 != 0 {
            let p = *payload.get(at)?;
            if p & 0x80 != 0 {
                picture_id = Some(u16::from(p & 0x7f) << 8 | u16::from(*payload.get(at + 1)?));
                at += 2;
            } else {
                picture_id = Some(u16::from(p));
                at += 1;
            }
        }
        if x & 0x40 != 0 {
            at += 1;
        }
        if x & 0x30 != 0 {
            at += 1;
        }
    }
    Some((at, start, picture_id))
}

impl Client {
    /// Sends what is due at `now`: a 20 ms audio frame, a 40 ms video frame of every layer.
    pub fn send_media(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        let next_audio = *self.next_audio.get_or_insert(now);
        if now >= next_audio {
            self.next_audio = Some(next_audio + Duration::from_millis(20));
            self.send_audio(now);
        }
        let next_video = *self.next_video.get_or_insert(now);
        if now >= next_video {
            self.next_video = Some(next_video + Duration::from_millis(40));
            if self.sending_video {
                self.send_video(now);
            }
        }
    }

    fn send_audio(&mut self, now: Instant) {
        let n = self.audio_frames;
        self.audio_frames += 1;
        let mut payload = vec![0u8; 60];
        payload[..7].copy_from_slice(&tag(self.index, b'a', n));
        let exts = ExtensionValues { audio_level: Some(-(self.level as i8)), voice_activity: Some(self.level < 60), ..Default::default() };
        let mid = self.audio;
        let pt = self.pt(mid);
        stream_write(&mut self.rtc, mid, None, RtpWrite::new(pt, self.audio_seq.into(), n.wrapping_mul(960).wrapping_add(7_000), now, payload).marker(false).ext_vals(exts));
        self.audio_seq += 1;
    }

    fn send_video(&mut self, now: Instant) {
        let Some(mid) = self.video else { return };
        let pt = self.pt(mid);
        for i in 0..self.layers.len() {
            let layer = &mut self.layers[i];
            let key = std::mem::take(&mut layer.keyframe_wanted);
            let frame = layer.frames;
            layer.frames += 1;
            layer.picture_id = (layer.picture_id + 1) & 0x7fff;
            let rid_byte = layer.rid.map_or(b'-', |r| r.as_bytes()[0]);
            let size = if key { layer.bytes * 2 } else { layer.bytes };
            let packets = size.div_ceil(MAX_PAYLOAD);
            // Each layer has its own timestamp base, as browsers' simulcast encoders do.
            let time = (frame as u64 * 3600 + 90_000 * (i as u64 + 1) * 7) as u32;
            for p in 0..packets {
                let mut payload = Vec::with_capacity(MAX_PAYLOAD + 16);
                let first = p == 0;
                payload.extend_from_slice(&[if first { 0x90 } else { 0x80 }, 0x80, 0x80 | (layer.picture_id >> 8) as u8, layer.picture_id as u8]);
                if first {
                    payload.push(if key { 0x10 } else { 0x11 });
                }
                payload.extend_from_slice(&tag(self.index, rid_byte, frame));
                payload.resize(payload.len() + size / packets, 0x55);
                let write = RtpWrite::new(pt, layer.seq.into(), time, now, payload).marker(p + 1 == packets).nackable(true);
                layer.seq += 1;
                let rid = layer.rid;
                stream_write(&mut self.rtc, mid, rid, write);
            }
        }
    }

    /// The payload type the client sends on `mid` with (the one codec the room accepted).
    fn pt(&self, mid: Mid) -> str0m::media::Pt {
        let media = self.rtc.media(mid).unwrap();
        self.rtc.codec_config().params().iter().find(|p| media.remote_pts().contains(&p.pt())).expect("a negotiated codec").pt()
    }

    /// Takes in everything the client's str0m has for it, sending datagrams into `net`.
    pub fn drain(&mut self, net: &mut Net, now: Instant) {
        loop {
            match self.rtc.poll_output().unwrap() {
                str0m::Output::Timeout(_) => return,
                str0m::Output::Transmit(t) => net.send(self.addr, t.destination, t.contents.into(), now),
                str0m::Output::Event(event) => self.on_event(event, now),
            }
        }
    }

    /// The time the client's str0m next wants.
    pub fn timeout(&mut self) -> Instant {
        match self.rtc.poll_output().unwrap() {
            str0m::Output::Timeout(t) => t,
            _ => panic!("the client was not drained"),
        }
    }

    fn on_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::Connected => self.connected = true,
            Event::KeyframeRequest(req) => {
                self.keyframe_requests.push(req.rid);
                for l in &mut self.layers {
                    if req.rid.is_none() || l.rid == req.rid {
                        l.keyframe_wanted = true;
                    }
                }
            }
            Event::RtpPacket(packet) => {
                let mid = packet.header.ext_vals.mid.unwrap_or_else(|| self.mid_of(*packet.header.ssrc));
                let kind = self.rtc.media(mid).map_or(MediaKind::Audio, |m| m.kind());
                let payload = &packet.payload[..];
                let (tag, start, keyframe, picture_id) = if kind == MediaKind::Video {
                    match vp8_descriptor(payload) {
                        Some((at, start, pid)) => {
                            let key = start && payload.get(at).is_some_and(|b| b & 1 == 0);
                            let body = if start { &payload[(at + 1).min(payload.len())..] } else { &payload[at..] };
                            (read_tag(body), start, key, pid)
                        }
                        None => (None, false, false, None),
                    }
                } else {
                    (read_tag(payload), false, false, None)
                };
                self.received.push(Received {
                    at: now,
                    mid,
                    ssrc: *packet.header.ssrc,
                    seq: *packet.seq_no,
                    timestamp: packet.header.timestamp,
                    kind,
                    from: tag.map(|t| t.0),
                    layer: tag.map(|t| t.1),
                    frame: tag.map(|t| t.2),
                    start,
                    keyframe,
                    picture_id,
                    level: packet.header.ext_vals.audio_level,
                });
            }
            _ => {}
        }
    }

    fn mid_of(&mut self, ssrc: u32) -> Mid {
        self.rtc.direct_api().stream_rx(&ssrc.into()).map(|s| s.mid()).expect("a known SSRC")
    }

    /// The video packets received from client `from`, in order of arrival.
    pub fn video_from(&self, from: usize) -> Vec<&Received> {
        let mids: Vec<Mid> = self.received.iter().filter(|r| r.kind == MediaKind::Video && r.from == Some(from)).map(|r| r.mid).collect();
        self.received.iter().filter(|r| r.kind == MediaKind::Video && mids.contains(&r.mid)).collect()
    }

    /// The audio packets received from client `from`.
    pub fn audio_from(&self, from: usize) -> Vec<&Received> {
        self.received.iter().filter(|r| r.kind == MediaKind::Audio && r.from == Some(from)).collect()
    }
}

fn stream_write(rtc: &mut Rtc, mid: Mid, rid: Option<Rid>, write: RtpWrite) {
    let mut direct = rtc.direct_api();
    let stream = direct.stream_tx_by_mid(mid, rid).expect("a send stream for the mid and rid");
    stream.write_rtp(write);
}

/// One direction of a client's link, as the room's datagrams to it see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    /// Fraction of datagrams dropped.
    pub loss: f64,
    /// Bits per second, if capped; datagrams queue behind each other.
    pub rate: Option<u64>,
    busy_until: Option<Instant>,
}

impl Link {
    /// A link that drops `loss` of what the room sends.
    pub fn lossy(loss: f64) -> Link {
        Link { loss, ..Link::default() }
    }

    /// A link that carries `rate` bits per second of what the room sends.
    pub fn capped(rate: u64) -> Link {
        Link { rate: Some(rate), ..Link::default() }
    }
}

/// An in-memory network between the room and its clients, on a fake clock.
pub struct Net {
    pub room: SocketAddr,
    /// One-way delay of every link.
    pub delay: Duration,
    /// Datagrams in flight: (arrival, source, destination, bytes), in order of arrival.
    flight: VecDeque<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
    /// The downlink (room to client) of each client, by address.
    pub links: Vec<(SocketAddr, Link)>,
    rng: u64,
    pub dropped: u64,
    /// Datagrams sent, by kind: RTP and RTCP to and from the room, and the rest (STUN, DTLS).
    pub counts: Counts,
}

/// Datagrams by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub rtp_in: u64,
    pub rtcp_in: u64,
    pub rtp_out: u64,
    pub rtcp_out: u64,
    pub other: u64,
}

impl Net {
    pub fn new() -> Net {
        Net { room: addr(ROOM), delay: Duration::from_millis(10), flight: VecDeque::new(), links: Vec::new(), rng: 0x9E37_79B9_7F4A_7C15, dropped: 0, counts: Counts::default() }
    }

    pub fn set_link(&mut self, to: SocketAddr, link: Link) {
        self.links.retain(|(a, _)| *a != to);
        self.links.push((to, link));
    }

    fn random(&mut self) -> f64 {
        // xorshift64*: the same drops on every run.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn send(&mut self, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>, now: Instant) {
        // RFC 7983: 128..=191 is RTP or RTCP, told apart by the payload type (RFC 5761).
        let rtcp = bytes.len() > 1 && (192..=223).contains(&bytes[1]);
        let counter = match (bytes.first(), to == self.room, rtcp) {
            (Some(128..=191), true, false) => &mut self.counts.rtp_in,
            (Some(128..=191), true, true) => &mut self.counts.rtcp_in,
            (Some(128..=191), false, false) => &mut self.counts.rtp_out,
            (Some(128..=191), false, true) => &mut self.counts.rtcp_out,
            _ => &mut self.counts.other,
        };
        *counter += 1;
        let mut arrival = now + self.delay;
        if let Some(i) = self.links.iter().position(|(a, _)| *a == to) {
            let link = self.links[i].1;
            if link.loss > 0.0 && self.random() < link.loss {
                self.dropped += 1;
                return;
            }
            if let Some(rate) = link.rate {
                let start = link.busy_until.map_or(now, |b| b.max(now));
                // A queue of at most 250 ms: what would wait longer is dropped, as routers do.
                if start - now > Duration::from_millis(250) {
                    self.dropped += 1;
                    return;
                }
                let done = start + Duration::from_nanos(bytes.len() as u64 * 8 * 1_000_000_000 / rate);
                self.links[i].1.busy_until = Some(done);
                arrival = done + self.delay;
            }
        }
        let at = self.flight.iter().rposition(|(t, ..)| *t <= arrival).map_or(0, |p| p + 1);
        self.flight.insert(at, (arrival, from, to, bytes));
    }

    pub fn next_arrival(&self) -> Option<Instant> {
        self.flight.front().map(|(t, ..)| *t)
    }

    fn pop_due(&mut self, now: Instant) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
        if self.flight.front().is_some_and(|(t, ..)| *t <= now) {
            self.flight.pop_front().map(|(_, f, t, b)| (f, t, b))
        } else {
            None
        }
    }
}

/// A call into the room, for tests that measure what the room does in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomCall {
    Datagram,
    Timeout,
    Poll,
}

/// A room, its clients and the network between them, on a fake clock.
pub struct World {
    pub room: Room,
    pub clients: Vec<Client>,
    pub net: Net,
    pub now: Instant,
    pub start: Instant,
    room_timeout: Instant,
    /// Every `Output::Speakers` of the room, with its time.
    pub speakers: Vec<(Instant, Vec<ParticipantId>)>,
    /// Called before each call into the room (with the call) and after it (with `None`).
    pub meter: fn(Option<RoomCall>),
}

impl World {
    /// A room with clients joining, each sending audio and video in `layers[i]` layers.
    pub fn new(layers: &[usize]) -> World {
        let start = Instant::now();
        let mut room = Room::new(addr(ROOM), start);
        let clients = layers.iter().enumerate().map(|(i, l)| join(&mut room, start, i, *l)).collect();
        World { room, clients, net: Net::new(), now: start, start, room_timeout: start, speakers: Vec::new(), meter: |_| {} }
    }

    /// Runs the world for `duration`.
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.step();
            // The next thing that happens: a datagram arrives, a timer of the room or a client
            // fires, or media is due (every 10 ms at most).
            let mut next = self.now + Duration::from_millis(10);
            if let Some(t) = self.net.next_arrival() {
                next = next.min(t);
            }
            next = next.min(self.room_timeout);
            for c in &mut self.clients {
                next = next.min(c.timeout());
            }
            self.now = next.max(self.now + Duration::from_micros(100)).min(end);
        }
        self.step();
    }

    fn step(&mut self) {
        let now = self.now;
        for c in &mut self.clients {
            c.rtc.handle_input(Input::Timeout(now)).unwrap();
            c.drain(&mut self.net, now);
            c.send_media(now);
            c.drain(&mut self.net, now);
        }
        (self.meter)(Some(RoomCall::Timeout));
        self.room.handle_timeout(now);
        (self.meter)(None);
        self.drain_room();
        // The room gets every datagram due before it is polled, as the driver does with a batch
        // read from its socket.
        let mut to_room = false;
        while let Some((from, to, bytes)) = self.net.pop_due(now) {
            if to == self.net.room {
                (self.meter)(Some(RoomCall::Datagram));
                self.room.handle_datagram(now, from, &bytes);
                (self.meter)(None);
                to_room = true;
            } else if let Some(c) = self.clients.iter_mut().find(|c| c.addr == to) {
                let receive = Receive::new(Protocol::Udp, from, to, &bytes).unwrap();
                c.rtc.handle_input(Input::Receive(now, receive)).unwrap();
                c.drain(&mut self.net, now);
            }
            if to_room && self.net.next_arrival().is_none_or(|t| t > now) {
                self.drain_room();
                to_room = false;
            }
        }
    }

    fn drain_room(&mut self) {
        let now = self.now;
        loop {
            (self.meter)(Some(RoomCall::Poll));
            let output = self.room.poll_output();
            (self.meter)(None);
            match output {
                Output::Timeout(t) => {
                    // The driver's timer (Tokio's) fires on whole milliseconds.
                    let ms = t.saturating_duration_since(self.start).as_micros().div_ceil(1000);
                    self.room_timeout = self.start + Duration::from_millis(ms as u64);
                    return;
                }
                Output::Transmit { destination, contents } => self.net.send(self.net.room, destination, contents, now),
                Output::Offer { participant, offer } => {
                    let c = self.clients.iter_mut().find(|c| c.id == participant).unwrap();
                    let answer = c.rtc.sdp_api().accept_offer(offer).unwrap();
                    c.drain(&mut self.net, now);
                    self.room.accept_answer(participant, answer).unwrap();
                }
                Output::Speakers(order) => self.speakers.push((now, order)),
                Output::Left(id) => panic!("participant {id:?} left"),
            }
        }
    }

    /// The index of the client with this participant id.
    pub fn index_of(&self, id: ParticipantId) -> usize {
        self.clients.iter().position(|c| c.id == id).unwrap()
    }
}
