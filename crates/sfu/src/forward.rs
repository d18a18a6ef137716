//! What one receiver gets of one sender's track — which layer, when a switch takes effect — and
//! how the forwarded packets are renumbered so that the receiver sees one stream.
//!
//! Each layer of a simulcast video is its own RTP stream: its own sequence numbers, its own
//! timestamp base, its own VP8 picture ids. A receiver gets one SSRC per track (str0m's send
//! stream on the receiver's m-line), and on it one numbering: at a switch the new layer's
//! numbers are shifted to continue where the old layer's stopped. Sequence numbers go on one
//! by one (the receiver sees no loss to NACK), timestamps go on by the time that passed, picture
//! ids and TL0PICIDX by one (the decoder sees the key frame follow the last frame it had). A video
//! that stops being forwarded (last N) and comes back later continues the same way.

use std::time::Instant;

use str0m::media::{MediaKind, Pt};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor, Vp8Patch, Vp8PatchError};

use crate::Room;
use crate::recorder::Packet;
use crate::simulcast::Layer;

/// A packet as it came from the sender, the numbers that get rewritten.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming {
    /// Extended sequence number (str0m's, without wrap-around).
    pub(crate) seq: u64,
    pub(crate) timestamp: u32,
    /// Clock rate of the timestamps.
    pub(crate) rate: u32,
    pub(crate) picture_id: Option<u16>,
    pub(crate) tl0: Option<u8>,
    pub(crate) at: Instant,
}

/// The numbers a packet goes out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) seq: u64,
    pub(crate) timestamp: u32,
    pub(crate) picture_id: Option<u16>,
    pub(crate) tl0: Option<u8>,
}

/// Out = in + offset (wrapping), for the layer forwarded now; and the highest numbers sent.
#[derive(Debug, Clone, Copy)]
struct Numbering {
    seq_offset: u64,
    timestamp_offset: u32,
    picture_id_offset: u16,
    tl0_offset: u8,
    last_seq: u64,
    last_timestamp: u32,
    last_picture_id: Option<u16>,
    last_tl0: Option<u8>,
    last_at: Instant,
}

/// The audio level (RFC 6464, as str0m reads it) of digital silence: what a muted microphone sends.
const SILENCE: i8 = -127;

/// VP8 picture ids are 15 bits (or 7: the patch keeps the sender's width).
const PICTURE_ID_MASK: u16 = 0x7fff;

/// The forwarding of one track to one receiver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forwarding {
    /// The layer forwarded now; `None` before the first key frame, or while paused.
    pub(crate) current: Option<Layer>,
    /// The layer the receiver should get; `None` for none (the video is not forwarded). A
    /// switch to it happens at the first packet of its next key frame: a decoder cannot start
    /// on anything else.
    pub(crate) target: Option<Layer>,
    /// The highest layer the receiver wants (the size it shows the video at).
    pub(crate) max: Layer,
    /// The first sequence number (the sender's) of the current layer's run: packets of the
    /// layer from before the switch (late retransmissions) are not forwarded.
    run_start: u64,
    numbering: Option<Numbering>,
    /// The payload type in and the one it goes out as on the receiver's m-line (the same codec
    /// can have another number there).
    pt: Option<(Pt, Pt)>,
}

impl Default for Forwarding {
    fn default() -> Self {
        Forwarding { current: None, target: None, max: Layer::High, run_start: 0, numbering: None, pt: None }
    }
}

impl Forwarding {
    /// A forwarding that flows from the first packet on (audio: no layers, no key frames).
    pub(crate) fn flowing() -> Forwarding {
        Forwarding { current: Some(Layer::High), target: Some(Layer::High), ..Forwarding::default() }
    }

    /// Whether a packet of `layer` goes to this receiver: `None` if not, `Some(switched)` if it
    /// does, `switched` when it is the first of a new run (a switch, or a resumption). The first
    /// packet of a key frame of the target layer (`keyframe`) makes it the current one.
    pub(crate) fn admit(&mut self, layer: Layer, keyframe: bool, seq: u64) -> Option<bool> {
        if self.target.is_none() {
            self.current = None;
            return None;
        }
        if self.target == Some(layer) && self.current != Some(layer) {
            if !keyframe {
                return None;
            }
            self.current = Some(layer);
            self.run_start = seq;
            return Some(true);
        }
        (self.current == Some(layer) && seq >= self.run_start).then_some(false)
    }

    /// Stops what flows until the next packet [`Forwarding::admit`] takes as the start of a run
    /// (audio: the next one that is not silence).
    pub(crate) fn pause(&mut self) {
        self.current = None;
    }

    /// Whether the target differs from what flows, so that a key frame is wanted.
    pub(crate) fn switching(&self) -> bool {
        self.target.is_some() && self.target != self.current
    }

    /// The payload type to send a packet of payload type `pt` with; `find` looks it up when it
    /// is not the one of the last packet.
    pub(crate) fn pt(&mut self, pt: Pt, find: impl FnOnce() -> Option<Pt>) -> Option<Pt> {
        match self.pt {
            Some((from, to)) if from == pt => Some(to),
            _ => {
                let to = find()?;
                self.pt = Some((pt, to));
                Some(to)
            }
        }
    }

    /// The numbers a packet admitted goes out with; `switched` as [`Forwarding::admit`] said.
    pub(crate) fn renumber(&mut self, p: &Incoming, switched: bool) -> Outgoing {
        let n = match self.numbering {
            None => Numbering {
                // The receiver's stream starts at the sender's 16-bit number: str0m sends the
                // first packet of a stream with roll-over count 0 (SRTP needs it so).
                seq_offset: (p.seq & 0xffff).wrapping_sub(p.seq),
                timestamp_offset: 0,
                picture_id_offset: 0,
                tl0_offset: 0,
                last_seq: (p.seq & 0xffff).wrapping_sub(1),
                last_timestamp: p.timestamp,
                last_picture_id: None,
                last_tl0: None,
                last_at: p.at,
            },
            Some(mut n) if switched => {
                // Continue where the last run stopped, as far on in time as the clock went.
                let elapsed = p.at.saturating_duration_since(n.last_at).as_micros() as u64 * u64::from(p.rate) / 1_000_000;
                n.seq_offset = n.last_seq.wrapping_add(1).wrapping_sub(p.seq);
                n.timestamp_offset = n.last_timestamp.wrapping_add(elapsed.max(1) as u32).wrapping_sub(p.timestamp);
                if let (Some(last), Some(pid)) = (n.last_picture_id, p.picture_id) {
                    n.picture_id_offset = last.wrapping_add(1).wrapping_sub(pid) & PICTURE_ID_MASK;
                }
                if let (Some(last), Some(tl0)) = (n.last_tl0, p.tl0) {
                    n.tl0_offset = last.wrapping_add(1).wrapping_sub(tl0);
                }
                n
            }
            Some(n) => n,
        };
        let out = Outgoing {
            seq: p.seq.wrapping_add(n.seq_offset),
            timestamp: p.timestamp.wrapping_add(n.timestamp_offset),
            picture_id: p.picture_id.map(|pid| pid.wrapping_add(n.picture_id_offset) & PICTURE_ID_MASK),
            tl0: p.tl0.map(|t| t.wrapping_add(n.tl0_offset)),
        };
        let mut n = n;
        // A late packet (a retransmission) fills a gap: it does not move the numbering on.
        if switched || out.seq > n.last_seq || self.numbering.is_none() {
            n.last_seq = out.seq;
            n.last_timestamp = out.timestamp;
            n.last_at = p.at;
            n.last_picture_id = out.picture_id.or(n.last_picture_id);
            n.last_tl0 = out.tl0.or(n.last_tl0);
        }
        self.numbering = Some(n);
        out
    }
}

impl Room {
    /// Forwards a packet of the participant at `index` to everyone who receives its track and
    /// layer. Per packet and receiver: a lookup, a few additions, str0m's `write_rtp` with the
    /// payload shared (`Arc`), no allocation.
    pub(crate) fn forward_rtp(&mut self, index: usize, packet: &RtpPacket) {
        let now = self.now;
        let sender = &mut self.participants[index];
        let Some((t, layer)) = sender.source(packet.header.ssrc) else { return };
        let (from, track) = (sender.id, &mut sender.published[t]);
        track.rates[layer.index()].record(now, packet.payload.len());
        let (kind, from_mid) = (track.kind, track.mid);
        if kind == MediaKind::Audio
            && let Some(level) = packet.header.ext_vals.audio_level
        {
            sender.voice.hear(now, level);
        }
        let payload = &packet.payload[..];
        let vp8 = if kind == MediaKind::Video { Vp8Descriptor::parse(payload).ok() } else { None };
        let keyframe = kind == MediaKind::Audio || vp8.is_some_and(|d| d.starts_keyframe(payload));
        let incoming = Incoming {
            seq: *packet.seq_no,
            timestamp: packet.header.timestamp,
            rate: packet.time.frequency().get(),
            picture_id: vp8.and_then(|d| d.picture_id()),
            tl0: vp8.and_then(|d| d.tl0_pic_idx()),
            at: packet.timestamp,
        };
        let pt_in = packet.header.payload_type;
        let params_in = sender.rtc.codec_config().params().iter().find(|p| p.pt() == pt_in).copied();
        // What receivers' browsers may read without keys: the audio level (docs/sfu.md), the
        // orientation of a camera.
        let exts = ExtensionValues {
            audio_level: packet.header.ext_vals.audio_level,
            voice_activity: packet.header.ext_vals.voice_activity,
            video_orientation: packet.header.ext_vals.video_orientation,
            ..ExtensionValues::default()
        };
        // A muted microphone still sends a packet every 20 ms, of digital silence (level -127
        // dBov): those go to nobody. In a big room most microphones are muted, and their packets
        // would be most of what the server sends; the receiver's numbering goes on without a
        // gap when the voice comes back, as after a pause of a video.
        let silent = kind == MediaKind::Audio && packet.header.ext_vals.audio_level == Some(SILENCE);
        let mut forwarded = false;
        for (j, receiver) in self.participants.iter_mut().enumerate() {
            if j == index {
                continue;
            }
            let Some(s) = receiver.subscribed.iter_mut().find(|s| s.from == from && s.from_mid == from_mid && s.open) else { continue };
            let Some(mid) = s.mid else { continue };
            if silent {
                s.forwarding.pause();
                continue;
            }
            let Some(switched) = s.forwarding.admit(layer, keyframe, incoming.seq) else { continue };
            let rtc = &mut receiver.rtc;
            let Some(pt) = s.forwarding.pt(pt_in, || params_in.and_then(|p| rtc.codec_config().match_params(p)).map(|p| p.pt())) else { continue };
            let out = s.forwarding.renumber(&incoming, switched);
            let mut write = RtpWrite::new(pt, out.seq.into(), out.timestamp, packet.timestamp, packet.payload.clone())
                .marker(packet.header.marker)
                .ext_vals(exts.clone())
                .nackable(kind == MediaKind::Video);
            if let Some(patch) = vp8.and_then(|d| vp8_patch(&d, &out)) {
                write = write.vp8_patch(patch);
            }
            if let Some(stream) = rtc.direct_api().stream_tx_by_mid(mid, None) {
                stream.write_rtp(write);
                forwarded = true;
            }
        }
        if forwarded && let Some(recording) = &mut self.recording {
            recording.packet(Packet { from, mid: from_mid, kind, layer, seq: incoming.seq, marker: packet.header.marker, payload });
        }
    }
}

/// The patch that gives a VP8 packet its outgoing picture id and TL0PICIDX (`None` when the
/// descriptor has neither: nothing to rewrite).
pub(crate) fn vp8_patch(descriptor: &Vp8Descriptor, out: &Outgoing) -> Option<Vp8Patch> {
    if out.picture_id.is_none() && out.tl0.is_none() {
        return None;
    }
    let build = |picture_id: Option<u16>| {
        let mut b = descriptor.patch();
        if let Some(pid) = picture_id {
            b = b.picture_id(pid);
        }
        if let Some(tl0) = out.tl0 {
            b = b.tl0_pic_idx(tl0);
        }
        b.build()
    };
    match build(out.picture_id) {
        Ok(patch) => Some(patch),
        // A sender with 7-bit picture ids: the same numbering, modulo 128.
        Err(Vp8PatchError::PictureIdTooLarge) => build(out.picture_id.map(|p| p & 0x7f)).ok(),
        Err(_) => None,
    }
}

/// Where the VP8 payload starts after the payload descriptor (RFC 7741 §4.2), and whether the
/// packet starts a frame (S set, partition 0).
pub(crate) fn vp8_payload(payload: &[u8]) -> Option<(usize, bool)> {
    let first = *payload.first()?;
    let start = first & 0x10 != 0 && first & 0x07 == 0;
    let mut at = 1;
    if first & 0x80 != 0 {
        let x = *payload.get(at)?;
        at += 1;
        if x & 0x80 != 0 {
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1;
        }
        if x & 0x30 != 0 {
            at += 1;
        }
    }
    (at <= payload.len()).then_some((at, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn packet(seq: u64, timestamp: u32, picture_id: u16, at: Instant) -> Incoming {
        Incoming { seq, timestamp, rate: 90_000, picture_id: Some(picture_id), tl0: Some(picture_id as u8), at }
    }

    #[test]
    fn a_switch_waits_for_a_key_frame_of_the_new_layer() {
        let mut f = Forwarding { target: Some(Layer::High), ..Forwarding::default() };
        assert_eq!(f.admit(Layer::High, false, 1), None, "nothing before a key frame");
        assert_eq!(f.admit(Layer::Low, true, 1), None, "not another layer");
        assert_eq!(f.admit(Layer::High, true, 2), Some(true));
        assert_eq!(f.admit(Layer::High, false, 3), Some(false));
        assert_eq!(f.admit(Layer::High, false, 1), None, "from before the run");
        f.target = Some(Layer::Low);
        assert!(f.switching());
        assert_eq!(f.admit(Layer::High, false, 4), Some(false), "the old layer until the new one's key frame");
        assert_eq!(f.admit(Layer::Low, false, 70), None);
        assert_eq!(f.admit(Layer::Low, true, 71), Some(true));
        assert_eq!(f.admit(Layer::High, false, 5), None, "the old layer stops at once");
        assert!(!f.switching());
        f.target = None;
        assert_eq!(f.admit(Layer::Low, true, 72), None, "paused");
        assert_eq!(f.current, None);
    }

    #[test]
    fn numbers_continue_across_a_switch() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut f = Forwarding::default();
        // The first packet keeps the sender's 16-bit number and its times.
        let a = f.renumber(&packet(70_000, 1000, 500, t0), true);
        assert_eq!(a, Outgoing { seq: 70_000 & 0xffff, timestamp: 1000, picture_id: Some(500), tl0: Some(500u16 as u8) });
        let b = f.renumber(&packet(70_001, 4600, 501, ms(40)), false);
        assert_eq!((b.seq, b.timestamp, b.picture_id), (a.seq + 1, 4600, Some(501)));
        // Another layer, numbered elsewhere, 40 ms later: it goes on from there.
        let c = f.renumber(&packet(9, 7_777_777, 31_000, ms(80)), true);
        assert_eq!(c, Outgoing { seq: b.seq + 1, timestamp: 4600 + 3600, picture_id: Some(502), tl0: Some((501u16 as u8).wrapping_add(1)) });
        let d = f.renumber(&packet(10, 7_777_777 + 3600, 31_001, ms(120)), false);
        assert_eq!((d.seq, d.timestamp, d.picture_id), (c.seq + 1, 4600 + 7200, Some(503)));
        // A retransmission of an earlier packet of the run keeps its place.
        let late = f.renumber(&packet(9, 7_777_777, 31_000, ms(130)), false);
        assert_eq!(late.seq, c.seq);
        let e = f.renumber(&packet(11, 7_777_777 + 7200, 31_002, ms(160)), false);
        assert_eq!(e.seq, d.seq + 1);
    }

    #[test]
    fn picture_ids_wrap_at_fifteen_bits() {
        let t0 = Instant::now();
        let mut f = Forwarding::default();
        f.renumber(&packet(1, 0, 0x7fff, t0), true);
        let next = f.renumber(&packet(500, 0, 12, t0 + Duration::from_millis(40)), true);
        assert_eq!(next.picture_id, Some(0));
    }

    #[test]
    fn vp8_descriptors_are_read_and_patched() {
        // X, S; I with a 15-bit picture id 0x1234; L with TL0PICIDX 7; T; then a key frame.
        let payload = [0x90, 0xe0, 0x92, 0x34, 0x07, 0x20, 0x10, 0xaa];
        assert_eq!(vp8_payload(&payload), Some((6, true)));
        assert_eq!(vp8_payload(&[0x80, 0x80, 0x05, 0xaa]), Some((3, false)));
        let d = Vp8Descriptor::parse(&payload).unwrap_or_else(|e| panic!("{e}"));
        assert!(d.starts_keyframe(&payload));
        let out = Outgoing { seq: 0, timestamp: 0, picture_id: Some(0x0042), tl0: Some(9) };
        assert!(vp8_patch(&d, &out).is_some());
        let seven = [0x90, 0x80, 0x05, 0x10];
        let d = Vp8Descriptor::parse(&seven).unwrap_or_else(|e| panic!("{e}"));
        assert!(vp8_patch(&d, &Outgoing { picture_id: Some(0x1234), tl0: None, ..out }).is_some(), "7 bits: modulo 128");
    }
}
