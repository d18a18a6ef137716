//! The test switch of docs/sfu.md: every frame the room forwards, handed to a [`Recorder`] as
//! well, to show that the room holds nothing but end-to-end encrypted frames.
//!
//! The room forwards packets, not frames; with a recorder it puts the frames back together
//! (the VP8 payloads of a frame's packets after their descriptors, as a receiver's depacketizer
//! does; an Opus packet is a frame). Only then does it allocate per packet: recording is for
//! tests.

use str0m::media::{MediaKind, Mid};

use crate::ParticipantId;
use crate::forward::vp8_payload;
use crate::simulcast::Layer;

/// Called with every frame the room forwards: its sender, kind and bytes.
pub type Recorder = Box<dyn FnMut(ParticipantId, MediaKind, &[u8]) + Send>;

/// A video frame being put together.
struct Assembly {
    from: ParticipantId,
    mid: Mid,
    layer: Layer,
    bytes: Vec<u8>,
    /// The sequence number the next packet of the frame must have.
    next: u64,
    /// The frame so far is whole (it started, no packet missing).
    whole: bool,
}

pub(crate) struct Recording {
    recorder: Recorder,
    frames: Vec<Assembly>,
}

/// A packet forwarded, as the recording needs it.
pub(crate) struct Packet<'a> {
    pub(crate) from: ParticipantId,
    pub(crate) mid: Mid,
    pub(crate) kind: MediaKind,
    pub(crate) layer: Layer,
    pub(crate) seq: u64,
    pub(crate) marker: bool,
    pub(crate) payload: &'a [u8],
}

impl Recording {
    pub(crate) fn new(recorder: Recorder) -> Recording {
        Recording { recorder, frames: Vec::new() }
    }

    /// Takes a forwarded packet; hands the recorder each frame once its last packet came.
    /// Frames with a packet missing (or out of order) are not recorded.
    pub(crate) fn packet(&mut self, p: Packet<'_>) {
        if p.kind == MediaKind::Audio {
            (self.recorder)(p.from, p.kind, p.payload);
            return;
        }
        let Some((body, start)) = vp8_payload(p.payload) else { return };
        let i = match self.frames.iter().position(|f| f.from == p.from && f.mid == p.mid && f.layer == p.layer) {
            Some(i) => i,
            None => {
                self.frames.push(Assembly { from: p.from, mid: p.mid, layer: p.layer, bytes: Vec::new(), next: 0, whole: false });
                self.frames.len() - 1
            }
        };
        let frame = &mut self.frames[i];
        if start {
            frame.bytes.clear();
            frame.whole = true;
        } else if p.seq != frame.next {
            frame.whole = false;
        }
        frame.next = p.seq + 1;
        if frame.whole {
            frame.bytes.extend_from_slice(&p.payload[body..]);
            if p.marker {
                frame.whole = false;
                (self.recorder)(p.from, p.kind, &frame.bytes);
            }
        }
    }

    /// Forgets the frames of a participant who left.
    pub(crate) fn forget(&mut self, from: ParticipantId) {
        self.frames.retain(|f| f.from != from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn frames_are_put_together_from_their_packets() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        let mut r = Recording::new(Box::new(move |_, _, bytes| sink.lock().unwrap_or_else(|e| e.into_inner()).push(bytes.to_vec())));
        let from = ParticipantId(1);
        let mid = Mid::from("v");
        let packet = |seq: u64, marker: bool, payload: &'static [u8]| Packet { from, mid, kind: MediaKind::Video, layer: Layer::High, seq, marker, payload };
        // One-byte descriptors (S on the first packet), then the frame's bytes.
        r.packet(packet(1, false, &[0x10, 1, 2]));
        r.packet(packet(2, true, &[0x00, 3]));
        // A frame with a packet missing is not recorded.
        r.packet(packet(3, false, &[0x10, 4]));
        r.packet(packet(5, true, &[0x00, 5]));
        r.packet(Packet { kind: MediaKind::Audio, payload: &[9, 9], ..packet(1, true, &[]) });
        assert_eq!(*got.lock().unwrap_or_else(|e| e.into_inner()), [vec![1, 2, 3], vec![9, 9]]);
    }
}
