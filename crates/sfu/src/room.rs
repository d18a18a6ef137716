//! One room of the media server: its participants, the tracks they publish, and the loop that
//! carries datagrams, time and events between them (see the crate's documentation).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Rtc, RtcError};

use crate::participant::{Participant, ParticipantId, Published, Subscribed};
use crate::recorder::{Recorder, Recording};
use crate::sdp::{listed_ssrcs, simulcast_mids};
use crate::simulcast::{Layer, LinkEstimate, Scratch};
use crate::speakers::{Speakers, Voice};

/// Why a participant could not join.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The offer was not one the room can answer.
    #[error("the offer cannot be answered: {0}")]
    Offer(#[from] RtcError),
    /// The room's address cannot be a host candidate.
    #[error("the room's address is not usable: {0}")]
    Address(String),
}

/// What the room wants done.
#[derive(Debug)]
pub enum Output {
    /// Send a datagram from the room's address.
    Transmit {
        /// Where to.
        destination: SocketAddr,
        /// The bytes.
        contents: Vec<u8>,
    },
    /// Send this offer to a participant over signaling; their answer goes to
    /// [`Room::accept_answer`].
    Offer {
        /// Whose.
        participant: ParticipantId,
        /// The offer.
        offer: SdpOffer,
    },
    /// A participant's connection ended (it failed, or they left).
    Left(ParticipantId),
    /// The order of speakers changed: everyone, the most recent dominant speaker first (then
    /// those who spoke before, then those who have not spoken, in the order they joined). Told
    /// at most every half second.
    Speakers(Vec<ParticipantId>),
    /// Nothing more until this time, or until a datagram arrives.
    Timeout(Instant),
}

/// What str0m's bandwidth estimator starts from for each participant: two videos in their high
/// layer and audio, so that a call starts sharp and str0m's first probes climb from there.
pub(crate) const INITIAL_ESTIMATE: Bitrate = Bitrate::kbps(1000);
/// How far ahead of the room's clock a connection may be given the time its pacer asks for: the
/// granularity of the driver's timer (see [`Room::drain`]).
const TIMER_GRANULARITY: Duration = Duration::from_millis(1);
/// How often the layers each receiver gets are chosen again (and lost key frame requests of a
/// pending switch repeated).
pub(crate) const ALLOCATION_INTERVAL: Duration = Duration::from_millis(500);
/// A sender is not asked for a key frame of the same layer more often than this.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);
/// How often str0m reports the loss each participant sees (the input to layer choice besides
/// the estimate).
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// The share of packets lost, as a receiver reports it, from which they get the low layers.
const HEAVY_LOSS: f32 = 0.1;
/// How long after the last report of heavy loss the low layers stay.
const LOSSY_HOLD: Duration = Duration::from_secs(5);
/// What str0m keeps of each video sent to a receiver, to answer NACKs: its default number of
/// packets and age, and a higher cap of retransmissions (see `Room::accept_answer`).
const RTX_PACKETS: usize = 1024;
const RTX_AGE: Duration = Duration::from_secs(3);
const RTX_RATIO_CAP: f32 = 0.3;
/// The tracks of one kind a participant may publish (a microphone; a camera or a screen, and one
/// more for both at once).
pub const MAX_TRACKS_PER_KIND: usize = 2;
/// How many speakers' videos each receiver gets unless told otherwise ([`Room::set_last_n`]).
pub const DEFAULT_LAST_N: usize = 9;

/// A room of the media server (see the crate's documentation).
pub struct Room {
    /// The address the driver listens on: every participant's one host candidate.
    local: SocketAddr,
    pub(crate) participants: Vec<Participant>,
    next_id: u64,
    /// Outputs made while handling input, handed out by `poll_output`.
    pub(crate) ready: VecDeque<Output>,
    /// The latest time the caller gave.
    pub(crate) now: Instant,
    /// When the layers are chosen next.
    next_allocation: Instant,
    /// The buffers of layer choice, kept from one round to the next.
    pub(crate) scratch: Scratch,
    /// The test switch of docs/sfu.md: every frame forwarded, put together again.
    pub(crate) recording: Option<Recording>,
    /// Who speaks, in the order last N follows.
    pub(crate) speakers: Speakers,
    /// How many speakers' videos each receiver gets.
    pub(crate) last_n: usize,
}

impl Room {
    /// An empty room listening on `local`, at time `now`.
    pub fn new(local: SocketAddr, now: Instant) -> Room {
        Room {
            local,
            participants: Vec::new(),
            next_id: 1,
            ready: VecDeque::new(),
            now,
            next_allocation: now,
            scratch: Scratch::default(),
            recording: None,
            speakers: Speakers::new(now),
            last_n: DEFAULT_LAST_N,
        }
    }

    /// Each receiver gets the videos of the `n` most recent speakers (besides their own) and
    /// the audio of everyone; a shared screen goes to everyone whoever speaks. A video that
    /// starts being forwarded again waits for a key frame, which the room asks its sender for.
    pub fn set_last_n(&mut self, n: usize) {
        self.last_n = n;
        self.next_allocation = self.now;
    }

    /// Hands every frame forwarded from now on to `recorder` as well (tests that show the
    /// room holds only ciphertext).
    pub fn record(&mut self, recorder: Recorder) {
        self.recording = Some(Recording::new(recorder));
    }

    /// The participants now, in the order they joined.
    pub fn participants(&self) -> Vec<ParticipantId> {
        self.participants.iter().map(|p| p.id).collect()
    }

    /// A participant joins with the offer of their browser: the room answers it, ICE-lite on its
    /// address. The tracks others publish are offered to them once this first exchange is done,
    /// labelled `label` for the others. Only VP8 and Opus are negotiated: the frame layout of
    /// end-to-end encryption knows their headers (docs/sfu.md). A video offered with simulcast
    /// (`a=simulcast:send l;m;h`) is received in all its layers.
    pub fn join(&mut self, now: Instant, offer: SdpOffer, label: &str) -> Result<(ParticipantId, SdpAnswer), JoinError> {
        self.now = self.now.max(now);
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true)
            .enable_vp8(true)
            .enable_bwe(Some(INITIAL_ESTIMATE))
            .set_stats_interval(Some(STATS_INTERVAL))
            .build(now);
        let candidate = Candidate::host(self.local, "udp").map_err(|e| JoinError::Address(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let simulcast_mids = simulcast_mids(&offer.to_sdp_string());
        let answer = rtc.sdp_api().accept_offer(offer)?;
        let id = ParticipantId(self.next_id);
        self.next_id += 1;
        let subscribed = self.participants.iter().flat_map(|p| p.published.iter().map(move |t| Subscribed::new(p.id, t.mid, t.kind))).collect();
        self.participants.push(Participant {
            id,
            label: label.to_owned(),
            rtc,
            published: Vec::new(),
            subscribed,
            pending: None,
            link: LinkEstimate::new(INITIAL_ESTIMATE.as_u64()),
            lossy_until: None,
            desired: 0,
            simulcast_mids,
            sources: Vec::new(),
            voice: Voice::default(),
        });
        self.speakers.joined(self.now, id);
        Ok((id, answer))
    }

    /// A participant leaves: their connection closes, and the tracks they published are no
    /// longer forwarded (the others' m-lines stay, inactive, until they are renegotiated).
    pub fn leave(&mut self, id: ParticipantId) {
        let Some(index) = self.participants.iter().position(|p| p.id == id) else { return };
        let mut gone = self.participants.remove(index);
        gone.rtc.disconnect();
        for p in &mut self.participants {
            p.subscribed.retain(|s| s.from != id);
        }
        if let Some(recording) = &mut self.recording {
            recording.forget(id);
        }
        self.speakers.left(self.now, id);
        self.ready.push_back(Output::Left(id));
        self.next_allocation = self.now;
    }

    /// A participant's answer to the room's last offer to them.
    pub fn accept_answer(&mut self, id: ParticipantId, answer: SdpAnswer) -> Result<(), RtcError> {
        let Some(p) = self.participants.iter_mut().find(|p| p.id == id) else { return Ok(()) };
        let Some(pending) = p.pending.take() else { return Ok(()) };
        let listed = listed_ssrcs(&answer.to_sdp_string());
        p.rtc.sdp_api().accept_answer(pending, answer)?;
        // SSRCs the answer lists for a line sent in simulcast were bound without a rid: unbound,
        // the rid of their packets binds each to its layer (see `crate::sdp`).
        for (mid, ssrc) in listed {
            if !p.simulcast_mids.contains(&mid) {
                continue;
            }
            let mut direct = p.rtc.direct_api();
            if direct.stream_rx(&ssrc.into()).is_some_and(|s| s.rid().is_none()) {
                direct.remove_stream_rx(ssrc.into());
            }
        }
        for s in &mut p.subscribed {
            if let (Some(mid), false) = (s.mid, s.open) {
                s.opened();
                if s.kind == MediaKind::Video
                    && let Some(stream) = p.rtc.direct_api().stream_tx_by_mid(mid, None)
                {
                    // str0m stops answering NACKs when retransmissions pass 15 % of what it
                    // sends; a receiver losing that much gets the low layers, whose
                    // retransmissions cost little: up to 30 %.
                    stream.set_rtx_cache(RTX_PACKETS, RTX_AGE, Some(RTX_RATIO_CAP));
                }
            }
        }
        // Videos just opened get a layer (and their senders a key frame request) at once.
        self.next_allocation = self.now;
        Ok(())
    }

    /// Caps the layer `subscriber` gets of `sender`'s video: the size they show it at (a small
    /// tile needs no full resolution). [`Layer::High`] lifts the cap.
    pub fn set_max_layer(&mut self, subscriber: ParticipantId, sender: ParticipantId, max: Layer) {
        let Some(p) = self.participants.iter_mut().find(|p| p.id == subscriber) else { return };
        for s in p.subscribed.iter_mut().filter(|s| s.from == sender && s.kind == MediaKind::Video) {
            s.forwarding.max = max;
        }
        self.next_allocation = self.now;
    }

    /// How many speakers' videos each receiver gets ([`Room::set_last_n`]).
    pub fn last_n(&self) -> usize {
        self.last_n
    }

    /// Whether a participant shares their screen on their video track (browsers put the screen
    /// in place of the camera, without renegotiating: only the client knows). A shared screen
    /// goes to everyone whoever speaks, first in every receiver's budget.
    pub fn set_sharing_screen(&mut self, participant: ParticipantId, sharing: bool) {
        let Some(p) = self.participants.iter_mut().find(|p| p.id == participant) else { return };
        if let Some(track) = p.published.iter_mut().find(|t| t.kind == MediaKind::Video) {
            track.screen = sharing;
        }
        self.next_allocation = self.now;
    }

    /// The order of speakers now (as [`Output::Speakers`] tells it).
    pub fn speakers(&self) -> &[ParticipantId] {
        self.speakers.order()
    }

    /// The layer of `sender`'s (first) video that `subscriber` gets now, if any.
    pub fn forwarded_layer(&self, subscriber: ParticipantId, sender: ParticipantId) -> Option<Layer> {
        let p = self.participants.iter().find(|p| p.id == subscriber)?;
        p.subscribed.iter().find(|s| s.from == sender && s.kind == MediaKind::Video).and_then(|s| s.forwarding.current)
    }

    /// Asks a sender for a key frame of one layer of a track (video only: audio has none),
    /// unless it was asked lately (`force` asks anyway: a receiver waits for it).
    pub(crate) fn request_keyframe(&mut self, from: ParticipantId, mid: Mid, layer: Layer, kind: KeyframeRequestKind, force: bool) {
        let now = self.now;
        let Some(sender) = self.participants.iter_mut().find(|p| p.id == from) else { return };
        let Some(track) = sender.published.iter_mut().find(|t| t.mid == mid && t.kind == MediaKind::Video) else { return };
        let asked = &mut track.keyframe_asked[layer.index()];
        if !force && asked.is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_INTERVAL) {
            return;
        }
        *asked = Some(now);
        let rid = layer.rid(track.simulcast);
        match sender.rtc.direct_api().stream_rx_by_mid(mid, rid) {
            Some(stream) => stream.request_keyframe(kind),
            None => tracing::debug!(participant = from.0, "keyframe request not sent: no stream for {mid} {rid:?}"),
        }
    }

    /// A datagram arrived on the room's address. Returns whether a participant took it (the
    /// first packets of a participant can arrive before their join is known: those are dropped).
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) -> bool {
        self.now = self.now.max(now);
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, contents) else { return false };
        let input = Input::Receive(now, receive);
        let Some(index) = self.participants.iter().position(|p| p.rtc.accepts(&input)) else { return false };
        let p = &mut self.participants[index];
        if let Err(err) = p.rtc.handle_input(input) {
            tracing::debug!(participant = p.id.0, "media connection failed: {err}");
            p.rtc.disconnect();
            return true;
        }
        // In RTP mode str0m holds one received packet until the next `poll_output`: the next
        // datagram would overwrite it. Each is forwarded before another is read (a browser
        // sends a video frame as a burst of packets, which the driver reads in one batch).
        self.drain(index);
        true
    }

    /// Handles everything participant `index`'s connection has for now: events, datagrams to
    /// send. Returns when it next wants time (`None` if it failed) and whether it had anything
    /// (an event may give another participant work: a packet to send on).
    fn drain(&mut self, index: usize) -> (Option<Instant>, bool) {
        let mut worked = false;
        // Whether anything came out since the last time str0m was given the time.
        let mut since_timeout = true;
        loop {
            match self.participants[index].rtc.poll_output() {
                // str0m's pacer lets one packet out per `Input::Timeout`, then asks for the time
                // a microsecond later. Answered through the driver's timer (a millisecond's
                // granularity), that held each receiver to about a thousand packets a second
                // whatever its link: the audio of 25 participants is more. So a time asked for
                // within the timer's granularity is given here at once (the connection's clock
                // runs up to that much ahead of the room's), as long as each one lets something
                // out.
                Ok(str0m::Output::Timeout(t)) if t <= self.now + TIMER_GRANULARITY && since_timeout => {
                    since_timeout = false;
                    if let Err(err) = self.participants[index].rtc.handle_input(Input::Timeout(t.max(self.now))) {
                        tracing::debug!(participant = self.participants[index].id.0, "media connection failed: {err}");
                        self.participants[index].rtc.disconnect();
                        return (None, true);
                    }
                    continue;
                }
                Ok(str0m::Output::Timeout(t)) => return (Some(t), worked),
                Ok(str0m::Output::Transmit(t)) => self.ready.push_back(Output::Transmit { destination: t.destination, contents: t.contents.into() }),
                Ok(str0m::Output::Event(event)) => self.on_event(index, event),
                Err(err) => {
                    tracing::debug!(participant = self.participants[index].id.0, "media connection failed: {err}");
                    self.participants[index].rtc.disconnect();
                    return (None, true);
                }
            }
            worked = true;
            since_timeout = true;
        }
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        for p in &mut self.participants {
            if let Err(err) = p.rtc.handle_input(Input::Timeout(now)) {
                tracing::debug!(participant = p.id.0, "media connection failed: {err}");
                p.rtc.disconnect();
            }
        }
    }

    /// What the room wants done next; call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        loop {
            if let Some(out) = self.ready.pop_front() {
                return out;
            }
            if self.offer_new_tracks() {
                continue;
            }
            let now = self.now;
            if now >= self.speakers.next_tick && self.speakers.tick(now, self.participants.iter().map(|p| (p.id, p.voice.loudness(now)))) {
                // Someone else speaks: last N follows at once.
                self.next_allocation = now;
            }
            if let Some(order) = self.speakers.poll(now) {
                return Output::Speakers(order);
            }
            if now >= self.next_allocation {
                self.next_allocation = now + ALLOCATION_INTERVAL;
                self.allocate_layers();
                continue;
            }
            let mut earliest = self.next_allocation.min(self.speakers.due());
            let mut progressed = false;
            let mut i = 0;
            while i < self.participants.len() {
                if !self.participants[i].rtc.is_alive() {
                    let id = self.participants[i].id;
                    self.leave(id);
                    progressed = true;
                    continue;
                }
                let (next, worked) = self.drain(i);
                if let Some(t) = next {
                    earliest = earliest.min(t);
                }
                progressed |= worked;
                i += 1;
            }
            // Draining one participant can give another work (a forwarded packet to send, a key
            // frame to ask for): the room waits once a whole round had nothing.
            if !progressed {
                return Output::Timeout(earliest);
            }
        }
    }

    fn on_event(&mut self, index: usize, event: Event) {
        let from = self.participants[index].id;
        match event {
            Event::RtpPacket(packet) => self.forward_rtp(index, &packet),
            Event::MediaAdded(added) if matches!(added.direction, Direction::RecvOnly | Direction::SendRecv) => {
                // The participant publishes a track: every other participant subscribes to it.
                // Only a few of each kind: an offer of a hundred tracks would otherwise make the
                // room offer a hundred m-lines to everyone else.
                let same_kind = self.participants[index].published.iter().filter(|t| t.kind == added.kind).count();
                if same_kind >= MAX_TRACKS_PER_KIND {
                    tracing::debug!(participant = from.0, "a track over the limit is not forwarded");
                    return;
                }
                let simulcast = added.simulcast.is_some();
                let published = &mut self.participants[index].published;
                let screen = added.kind == MediaKind::Video && published.iter().any(|t| t.kind == MediaKind::Video);
                published.push(Published::new(added.mid, added.kind, simulcast, screen));
                for p in &mut self.participants {
                    if p.id != from {
                        p.subscribed.push(Subscribed::new(from, added.mid, added.kind));
                    }
                }
            }
            Event::KeyframeRequest(request) => {
                // A receiver lost a frame: the request goes to the sender of that track, for the
                // layer this receiver gets (or is about to get).
                let source = self.participants[index].subscribed.iter().find(|s| s.mid == Some(request.mid)).map(|s| (s.from, s.from_mid, s.forwarding.current.or(s.forwarding.target)));
                if let Some((sender, mid, Some(layer))) = source {
                    self.request_keyframe(sender, mid, layer, request.kind, false);
                }
            }
            Event::EgressBitrateEstimate(BweKind::Twcc(estimate)) => self.participants[index].link.on_estimate(estimate.as_u64()),
            Event::PeerStats(stats) if stats.egress_loss_fraction.unwrap_or(0.0) >= HEAVY_LOSS => {
                self.participants[index].lossy_until = Some(self.now + LOSSY_HOLD);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => self.participants[index].rtc.disconnect(),
            _ => {}
        }
    }

    /// Offers each participant the tracks they do not have yet, one offer at a time.
    fn offer_new_tracks(&mut self) -> bool {
        let waiting = |p: &Participant| p.pending.is_none() && p.rtc.is_alive() && p.subscribed.iter().any(|s| s.mid.is_none());
        if !self.participants.iter().any(waiting) {
            return false;
        }
        let labels: Vec<(ParticipantId, String)> = self.participants.iter().map(|p| (p.id, p.label.clone())).collect();
        let label_of = |id: ParticipantId| labels.iter().find(|(p, _)| *p == id).map(|(_, l)| l.clone());
        for p in &mut self.participants {
            if !waiting(p) {
                continue;
            }
            // str0m draws each new mid at random, unique against the m-lines already negotiated
            // but not against the others of the same change: with dozens added at once two may
            // collide (three characters of 60), and the browser would refuse the offer. A change
            // with a collision is dropped (nothing of it is kept) and drawn again.
            let mut attempt = 0;
            let (change, added) = loop {
                let mut change = p.rtc.sdp_api();
                let mut added = Vec::new();
                for (i, s) in p.subscribed.iter().enumerate() {
                    if s.mid.is_none() {
                        added.push((i, change.add_media(s.kind, Direction::SendOnly, label_of(s.from), None, None)));
                    }
                }
                attempt += 1;
                if mids_are_distinct(added.iter().map(|(_, mid)| *mid)) || attempt == 16 {
                    break (change, added);
                }
            };
            let Some((offer, pending)) = change.apply() else { continue };
            for (i, mid) in added {
                p.subscribed[i].mid = Some(mid);
            }
            p.pending = Some(pending);
            self.ready.push_back(Output::Offer { participant: p.id, offer });
        }
        true
    }

    /// A receiver reported heavy loss lately: they get the low layers.
    pub(crate) fn lossy(&self, index: usize) -> bool {
        self.participants[index].lossy_until.is_some_and(|t| self.now < t)
    }

    /// Whether `receiver` gets the camera of `sender`: one of the last N speakers besides
    /// themselves.
    pub(crate) fn in_last_n(&self, receiver: ParticipantId, sender: ParticipantId) -> bool {
        let rank = self.speakers.rank(sender);
        let own = self.speakers.rank(receiver);
        let rank = if own < rank { rank - 1 } else { rank };
        rank < self.last_n
    }
}

/// Whether no two of `mids` are the same.
fn mids_are_distinct(mids: impl Iterator<Item = Mid>) -> bool {
    let mut seen = Vec::new();
    for mid in mids {
        if seen.contains(&mid) {
            return false;
        }
        seen.push(mid);
    }
    true
}
