//! One room of the media server: its participants, the tracks they publish, and who receives
//! which (see the crate's documentation).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Rtc, RtcError};

/// A participant of a room, numbered in the order they joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u64);

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
    /// Nothing more until this time, or until a datagram arrives.
    Timeout(Instant),
}

/// A track a participant publishes.
#[derive(Debug, Clone, Copy)]
struct Published {
    mid: Mid,
    kind: MediaKind,
}

/// A track a participant receives: another participant's published track, and where the
/// negotiation of its m-line stands.
#[derive(Debug, Clone, Copy)]
struct Subscribed {
    from: ParticipantId,
    from_mid: Mid,
    kind: MediaKind,
    /// `None` until offered; then the m-line here.
    mid: Option<Mid>,
    /// The participant accepted the offer that added it.
    open: bool,
}

struct Participant {
    id: ParticipantId,
    /// What the participant's tracks are labelled with for the others (the stream id of their
    /// m-lines): the driver's name for them, such as their signaling peer id.
    label: String,
    rtc: Rtc,
    published: Vec<Published>,
    subscribed: Vec<Subscribed>,
    /// The offer waiting for the participant's answer.
    pending: Option<SdpPendingOffer>,
}

/// A room of the media server (see the crate's documentation).
pub struct Room {
    /// The address the driver listens on: every participant's one host candidate.
    local: SocketAddr,
    participants: Vec<Participant>,
    next_id: u64,
    /// Frames received and not yet forwarded, with their sender.
    frames: VecDeque<(ParticipantId, MediaData)>,
    /// Outputs made while handling input, handed out by `poll_output`.
    ready: VecDeque<Output>,
    /// The latest time the caller gave.
    now: Instant,
    /// Sees every frame forwarded (the test switch of docs/sfu.md: it shows what the room holds).
    recorder: Option<Recorder>,
}

/// Called with every frame the room forwards: its sender, kind and bytes.
pub type Recorder = Box<dyn FnMut(ParticipantId, MediaKind, &[u8]) + Send>;

impl Room {
    /// An empty room listening on `local`, at time `now`.
    pub fn new(local: SocketAddr, now: Instant) -> Room {
        Room { local, participants: Vec::new(), next_id: 1, frames: VecDeque::new(), ready: VecDeque::new(), now, recorder: None }
    }

    /// Hands every frame forwarded from now on to `recorder` as well (tests that show the
    /// room holds only ciphertext).
    pub fn record(&mut self, recorder: Recorder) {
        self.recorder = Some(recorder);
    }

    /// The participants now, in the order they joined.
    pub fn participants(&self) -> Vec<ParticipantId> {
        self.participants.iter().map(|p| p.id).collect()
    }

    /// A participant joins with the offer of their browser: the room answers it, ICE-lite on its
    /// address. The tracks others publish are offered to them once this first exchange is done,
    /// labelled `label` for the others. Only VP8 and Opus are negotiated: the frame layout of
    /// end-to-end encryption knows their headers (docs/sfu.md).
    pub fn join(&mut self, now: Instant, offer: SdpOffer, label: &str) -> Result<(ParticipantId, SdpAnswer), JoinError> {
        self.now = self.now.max(now);
        let mut rtc = Rtc::builder().set_ice_lite(true).clear_codecs().enable_opus(true).enable_vp8(true).build(now);
        let candidate = Candidate::host(self.local, "udp").map_err(|e| JoinError::Address(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc.sdp_api().accept_offer(offer)?;
        let id = ParticipantId(self.next_id);
        self.next_id += 1;
        let subscribed = self
            .participants
            .iter()
            .flat_map(|p| p.published.iter().map(move |t| Subscribed { from: p.id, from_mid: t.mid, kind: t.kind, mid: None, open: false }))
            .collect();
        self.participants.push(Participant { id, label: label.to_owned(), rtc, published: Vec::new(), subscribed, pending: None });
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
        self.ready.push_back(Output::Left(id));
    }

    /// A participant's answer to the room's last offer to them.
    pub fn accept_answer(&mut self, id: ParticipantId, answer: SdpAnswer) -> Result<(), RtcError> {
        let Some(p) = self.participants.iter_mut().find(|p| p.id == id) else { return Ok(()) };
        let Some(pending) = p.pending.take() else { return Ok(()) };
        p.rtc.sdp_api().accept_answer(pending, answer)?;
        let mut opened = Vec::new();
        for s in &mut p.subscribed {
            if s.mid.is_some() && !s.open {
                s.open = true;
                opened.push((s.from, s.from_mid));
            }
        }
        // A receiver decodes nothing before a key frame: ask the senders for one.
        for (from, mid) in opened {
            self.request_keyframe(from, mid, KeyframeRequestKind::Pli);
        }
        Ok(())
    }

    /// Asks a sender for a key frame of one of its tracks (video only: audio has none).
    fn request_keyframe(&mut self, from: ParticipantId, mid: Mid, kind: KeyframeRequestKind) {
        let Some(sender) = self.participants.iter_mut().find(|p| p.id == from) else { return };
        if !sender.published.iter().any(|t| t.mid == mid && t.kind == MediaKind::Video) {
            return;
        }
        if let Some(mut writer) = sender.rtc.writer(mid)
            && let Err(err) = writer.request_keyframe(None, kind)
        {
            tracing::debug!(participant = from.0, "keyframe request not sent: {err}");
        }
    }

    /// A datagram arrived on the room's address. Returns whether a participant took it (the
    /// first packets of a participant can arrive before their join is known: those are dropped).
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, contents: &[u8]) -> bool {
        self.now = self.now.max(now);
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, contents) else { return false };
        let input = Input::Receive(now, receive);
        let Some(p) = self.participants.iter_mut().find(|p| p.rtc.accepts(&input)) else { return false };
        if let Err(err) = p.rtc.handle_input(input) {
            tracing::debug!(participant = p.id.0, "media connection failed: {err}");
            p.rtc.disconnect();
        }
        true
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
            if let Some((from, frame)) = self.frames.pop_front() {
                self.forward(from, &frame);
                continue;
            }
            if self.offer_new_tracks() {
                continue;
            }
            let mut earliest: Option<Instant> = None;
            let mut progressed = false;
            let mut left = Vec::new();
            for i in 0..self.participants.len() {
                if !self.participants[i].rtc.is_alive() {
                    left.push(self.participants[i].id);
                    continue;
                }
                match self.participants[i].rtc.poll_output() {
                    Ok(str0m::Output::Timeout(t)) => earliest = Some(earliest.map_or(t, |e| e.min(t))),
                    Ok(str0m::Output::Transmit(t)) => {
                        self.ready.push_back(Output::Transmit { destination: t.destination, contents: t.contents.into() });
                        progressed = true;
                    }
                    Ok(str0m::Output::Event(event)) => {
                        self.on_event(i, event);
                        progressed = true;
                    }
                    Err(err) => {
                        tracing::debug!(participant = self.participants[i].id.0, "media connection failed: {err}");
                        self.participants[i].rtc.disconnect();
                        progressed = true;
                    }
                }
            }
            for id in left {
                self.leave(id);
                progressed = true;
            }
            if !progressed {
                // With no participant, nothing is due until one joins.
                return Output::Timeout(earliest.unwrap_or(self.now + IDLE));
            }
        }
    }

    fn on_event(&mut self, index: usize, event: Event) {
        let from = self.participants[index].id;
        match event {
            Event::MediaAdded(added) if matches!(added.direction, Direction::RecvOnly | Direction::SendRecv) => {
                // The participant publishes a track: every other participant subscribes to it.
                // Only a few of each kind: an offer of a hundred tracks would otherwise make the
                // room offer a hundred m-lines to everyone else.
                let same_kind = self.participants[index].published.iter().filter(|t| t.kind == added.kind).count();
                if same_kind >= MAX_TRACKS_PER_KIND {
                    tracing::debug!(participant = from.0, "a track over the limit is not forwarded");
                    return;
                }
                self.participants[index].published.push(Published { mid: added.mid, kind: added.kind });
                for p in &mut self.participants {
                    if p.id != from {
                        p.subscribed.push(Subscribed { from, from_mid: added.mid, kind: added.kind, mid: None, open: false });
                    }
                }
            }
            Event::MediaData(frame) => self.frames.push_back((from, frame)),
            Event::KeyframeRequest(request) => {
                // A receiver lost a frame: the request goes to the sender of that track.
                let source = self.participants[index].subscribed.iter().find(|s| s.mid == Some(request.mid)).map(|s| (s.from, s.from_mid));
                if let Some((sender, mid)) = source {
                    self.request_keyframe(sender, mid, request.kind);
                }
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => self.participants[index].rtc.disconnect(),
            _ => {}
        }
    }

    /// Offers each participant the tracks they do not have yet, one offer at a time.
    fn offer_new_tracks(&mut self) -> bool {
        let mut offered = false;
        let labels: Vec<(ParticipantId, String)> = self.participants.iter().map(|p| (p.id, p.label.clone())).collect();
        let label_of = |id: ParticipantId| labels.iter().find(|(p, _)| *p == id).map(|(_, l)| l.clone());
        for p in &mut self.participants {
            if p.pending.is_some() || !p.rtc.is_alive() || p.subscribed.iter().all(|s| s.mid.is_some()) {
                continue;
            }
            // str0m draws each new mid at random, unique against the m-lines already negotiated
            // but not against the others of the same change: with dozens added at once two may
            // collide (three characters of 60), and the browser would refuse the offer. A change with
            // a collision is dropped (nothing of it is kept) and drawn again.
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
            offered = true;
        }
        offered
    }

    /// Writes a frame of `from` to every participant who receives that track.
    fn forward(&mut self, from: ParticipantId, frame: &MediaData) {
        if let Some(record) = &mut self.recorder {
            let kind = self.participants.iter().find(|p| p.id == from).and_then(|p| p.published.iter().find(|t| t.mid == frame.mid)).map(|t| t.kind);
            if let Some(kind) = kind {
                record(from, kind, &frame.data);
            }
        }
        for p in &mut self.participants {
            if p.id == from {
                continue;
            }
            let Some(mid) = p.subscribed.iter().find(|s| s.from == from && s.from_mid == frame.mid && s.open).and_then(|s| s.mid) else { continue };
            let Some(writer) = p.rtc.writer(mid) else { continue };
            let Some(pt) = writer.match_params(frame.params) else { continue };
            if let Err(err) = writer.write(pt, frame.network_time, frame.time, frame.data.clone()) {
                tracing::debug!(participant = p.id.0, "forwarding failed: {err}");
            }
        }
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

/// The tracks of one kind a participant may publish (a microphone; a camera or a screen, and one
/// more for both at once).
pub const MAX_TRACKS_PER_KIND: usize = 2;

/// How long an empty room waits before it asks for time again.
const IDLE: std::time::Duration = std::time::Duration::from_secs(1);
