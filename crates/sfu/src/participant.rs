//! A participant of a room: their connection, the tracks they publish and the tracks they
//! receive.

use std::time::Instant;

use str0m::Rtc;
use str0m::change::SdpPendingOffer;
use str0m::media::{MediaKind, Mid};
use str0m::rtp::Ssrc;

use crate::forward::Forwarding;
use crate::simulcast::{Layer, LinkEstimate, RateMeter};
use crate::speakers::Voice;

/// A participant of a room, numbered in the order they joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u64);

/// A track a participant publishes.
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) mid: Mid,
    pub(crate) kind: MediaKind,
    /// Sent in simulcast layers (rids `l`, `m`, `h`) rather than one.
    pub(crate) simulcast: bool,
    /// A screen the participant shares: a video after their first (their camera), or their
    /// first while they say so (`Room::set_sharing_screen`). It goes to everyone whoever speaks.
    pub(crate) screen: bool,
    /// How fast each layer arrives (a track without simulcast is its high layer).
    pub(crate) rates: [RateMeter; 3],
    /// When a key frame of each layer was last asked for: a sender asked by every receiver at
    /// once answers the first.
    pub(crate) keyframe_asked: [Option<Instant>; 3],
}

impl Published {
    pub(crate) fn new(mid: Mid, kind: MediaKind, simulcast: bool, screen: bool) -> Published {
        Published { mid, kind, simulcast, screen, rates: Default::default(), keyframe_asked: [None; 3] }
    }

    /// The bitrate of each layer that flows now.
    pub(crate) fn layer_rates(&self, now: Instant) -> [Option<u64>; 3] {
        Layer::ALL.map(|l| self.rates[l.index()].bitrate(now))
    }
}

/// A track a participant receives: another participant's published track, where the
/// negotiation of its m-line stands, and what of it is forwarded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subscribed {
    pub(crate) from: ParticipantId,
    pub(crate) from_mid: Mid,
    pub(crate) kind: MediaKind,
    /// `None` until offered; then the m-line here.
    pub(crate) mid: Option<Mid>,
    /// The participant accepted the offer that added it.
    pub(crate) open: bool,
    pub(crate) forwarding: Forwarding,
}

impl Subscribed {
    pub(crate) fn new(from: ParticipantId, from_mid: Mid, kind: MediaKind) -> Subscribed {
        Subscribed { from, from_mid, kind, mid: None, open: false, forwarding: Forwarding::default() }
    }

    /// The m-line is negotiated: media can flow on it. Audio flows at once (no layers, no key
    /// frames); a video waits for the room to choose its layer.
    pub(crate) fn opened(&mut self) {
        self.open = true;
        if self.kind == MediaKind::Audio {
            self.forwarding = Forwarding::flowing();
        }
    }
}

pub(crate) struct Participant {
    pub(crate) id: ParticipantId,
    /// What the participant's tracks are labelled with for the others (the stream id of their
    /// m-lines): the driver's name for them, such as their signaling peer id.
    pub(crate) label: String,
    pub(crate) rtc: Rtc,
    pub(crate) published: Vec<Published>,
    pub(crate) subscribed: Vec<Subscribed>,
    /// The offer waiting for the participant's answer.
    pub(crate) pending: Option<SdpPendingOffer>,
    /// What the room can send them: str0m's estimate from their transport-wide congestion
    /// control feedback (TWCC), and what their link was seen to carry.
    pub(crate) link: LinkEstimate,
    /// Until when they get the low layers: their last report of what the room sent them (the
    /// same feedback) showed heavy loss.
    pub(crate) lossy_until: Option<Instant>,
    /// The bitrate the room last told str0m's estimator to probe for.
    pub(crate) desired: u64,
    /// The mids of the m-lines they offered to send in simulcast (see [`crate::sdp`]).
    pub(crate) simulcast_mids: Vec<String>,
    /// The SSRCs they send from, with the published track (by index) and layer of each: looked
    /// up in str0m once, then per packet here.
    pub(crate) sources: Vec<(Ssrc, usize, Layer)>,
    /// How loud they are (from the audio levels of their packets).
    pub(crate) voice: Voice,
}

impl Participant {
    /// The published track on `mid`, by index.
    pub(crate) fn track(&self, mid: Mid) -> Option<usize> {
        self.published.iter().position(|t| t.mid == mid)
    }

    /// The published track (by index) and layer a packet from `ssrc` belongs to.
    pub(crate) fn source(&mut self, ssrc: Ssrc) -> Option<(usize, Layer)> {
        if let Some((_, track, layer)) = self.sources.iter().find(|(s, ..)| *s == ssrc) {
            return Some((*track, *layer));
        }
        // str0m bound the SSRC to a mid and rid (from the packet's header extensions).
        let (mid, rid) = self.rtc.direct_api().stream_rx(&ssrc).map(|s| (s.mid(), s.rid()))?;
        let track = self.track(mid)?;
        let layer = Layer::of(rid)?;
        self.sources.push((ssrc, track, layer));
        Some((track, layer))
    }
}
