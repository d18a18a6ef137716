//! Simulcast: the layers a sender's video comes in, how fast each flows, and which one each
//! receiver gets.
//!
//! Browsers send one video track in three encodings, rids `l` (¼ resolution), `m` (½) and `h`
//! (full). The room forwards exactly one of them to each receiver: the highest its bandwidth
//! estimate pays for, the estimate shared among the videos it receives. Which layers flow, and
//! at what rate, the room measures itself ([`RateMeter`]): browsers stop sending a layer their
//! own uplink or camera cannot feed, and its rate says more than its rid.

use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid, Rid};

use crate::Room;
use crate::participant::ParticipantId;

/// A simulcast layer of a video (a track sent without simulcast is one [`Layer::High`]: it is
/// the full resolution, as screen sharing is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Rid `l`: a quarter of the resolution.
    Low = 0,
    /// Rid `m`: half the resolution.
    Medium = 1,
    /// Rid `h`, or the one layer of a track without simulcast: full resolution.
    High = 2,
}

/// The rids, as str0m stores them (8 bytes, space-padded): built once, compared per packet
/// without allocating.
const RID_L: Rid = Rid::from_array(*b"l       ");
const RID_M: Rid = Rid::from_array(*b"m       ");
const RID_H: Rid = Rid::from_array(*b"h       ");

impl Layer {
    /// Every layer, lowest first.
    pub const ALL: [Layer; 3] = [Layer::Low, Layer::Medium, Layer::High];

    /// The layer a packet or frame belongs to: its rid's, or [`Layer::High`] without one.
    /// A rid other than `l`, `m`, `h` is none of ours.
    pub(crate) fn of(rid: Option<Rid>) -> Option<Layer> {
        match rid {
            None => Some(Layer::High),
            Some(r) if r == RID_L => Some(Layer::Low),
            Some(r) if r == RID_M => Some(Layer::Medium),
            Some(r) if r == RID_H => Some(Layer::High),
            Some(_) => None,
        }
    }

    /// The rid to ask a sender for this layer with (`None` for a track without simulcast).
    pub(crate) fn rid(self, simulcast: bool) -> Option<Rid> {
        simulcast.then_some(match self {
            Layer::Low => RID_L,
            Layer::Medium => RID_M,
            Layer::High => RID_H,
        })
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How long one measurement window of a [`RateMeter`] lasts.
const WINDOW: Duration = Duration::from_millis(500);
/// A layer with no packet for this long is not flowing (the browser paused it).
const INACTIVE_AFTER: Duration = Duration::from_millis(1500);

/// The bitrate one layer arrives at, measured per half second and smoothed over about two
/// seconds; updated per packet with two additions, no allocation.
///
/// Smoothed because a sender's key frame (which every layer switch and every receiver's loss
/// brings) lifts a layer's rate by half for one window: measured raw, that burst pushed the
/// high layer over healthy receivers' budgets and moved them down for nothing (seen in
/// `e2e/sfu-lossy.test.js`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RateMeter {
    window_start: Option<Instant>,
    window_bytes: u64,
    /// Bits per second, smoothed over the complete windows so far, if there was one.
    last_rate: Option<u64>,
    last_packet: Option<Instant>,
}

impl RateMeter {
    pub(crate) fn record(&mut self, now: Instant, bytes: usize) {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            // A gap of several windows counts as one long window: the rate falls accordingly.
            let rate = self.window_bytes * 8 * 1000 / elapsed.as_millis().max(1) as u64;
            // An exponential average with a quarter of weight for the newest window.
            self.last_rate = Some(self.last_rate.map_or(rate, |before| (before * 3 + rate) / 4));
            self.window_start = Some(now);
            self.window_bytes = 0;
        }
        self.window_bytes += bytes as u64;
        self.last_packet = Some(now);
    }

    /// Whether packets arrived lately.
    pub(crate) fn active(&self, now: Instant) -> bool {
        self.last_packet.is_some_and(|t| now.saturating_duration_since(t) < INACTIVE_AFTER)
    }

    /// Bits per second, if the layer flows and has been measured: over the last complete
    /// window, or the partial first one from 100 ms on (a layer not measured yet is not chosen:
    /// what it costs is unknown).
    pub(crate) fn bitrate(&self, now: Instant) -> Option<u64> {
        if !self.active(now) {
            return None;
        }
        match (self.last_rate, self.window_start) {
            (Some(rate), _) => Some(rate),
            (None, Some(start)) => {
                let elapsed = now.saturating_duration_since(start).as_millis() as u64;
                (elapsed >= 100).then(|| self.window_bytes * 8 * 1000 / elapsed)
            }
            (None, None) => None,
        }
    }
}

/// One video a receiver gets, as the layer choice sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    /// Bits per second of each layer, `None` where the layer does not flow.
    pub(crate) rates: [Option<u64>; 3],
    /// The highest layer the receiver wants of it (the size it shows the video at).
    pub(crate) max: Layer,
    /// The layer forwarded now, if any.
    pub(crate) current: Option<Layer>,
    /// What [`allocate`] chose.
    pub(crate) chosen: Option<Layer>,
}

/// Share of the budget an upward switch may fill: a layer just above what the link carries
/// would be dropped again at once.
const UP_HEADROOM: f64 = 0.85;
/// How far over the budget the layers a receiver gets now may be before one is lowered.
const KEEP_TOLERANCE: f64 = 1.1;

/// Chooses a layer for each video from `budget` bits per second, in the order given (the
/// first videos are served first: the speakers). Every video gets its lowest flowing layer
/// (or none if none flows); then, round after round, each is raised one layer while the sum
/// fits. Raising a video above the layer it has now needs headroom; keeping it may go a tenth
/// over.
pub(crate) fn allocate(budget: u64, wants: &mut [Want]) {
    let mut spent = 0u64;
    for w in wants.iter_mut() {
        let lowest = Layer::ALL.into_iter().find(|l| w.rates[l.index()].is_some());
        w.chosen = lowest;
        spent += lowest.and_then(|l| w.rates[l.index()]).unwrap_or(0);
    }
    loop {
        let mut raised = false;
        for w in wants.iter_mut() {
            let Some(chosen) = w.chosen else { continue };
            let Some(next) = Layer::ALL.into_iter().find(|l| *l > chosen && *l <= w.max && w.rates[l.index()].is_some()) else { continue };
            let extra = w.rates[next.index()].unwrap_or(0).saturating_sub(w.rates[chosen.index()].unwrap_or(0));
            // Keeping what flows tolerates a little over the budget (the estimate itself moves);
            // going higher needs room to spare.
            let limit = if w.current.is_some_and(|c| next <= c) { budget as f64 * KEEP_TOLERANCE } else { budget as f64 * UP_HEADROOM };
            if (spent + extra) as f64 <= limit {
                w.chosen = Some(next);
                spent += extra;
                raised = true;
            }
        }
        if !raised {
            return;
        }
    }
}

/// The shortest time between two probes of a receiver's link, and the longest (probes that
/// find nothing more back off, doubling).
const PROBE_INTERVAL: Duration = Duration::from_secs(8);
const PROBE_INTERVAL_MAX: Duration = Duration::from_secs(64);

/// A receiver's link as the layer choice sees it: str0m's bandwidth estimate, and when to probe
/// for more.
///
/// str0m's estimator (libwebrtc's) sinks towards what is sent when the room sends little — a
/// receiver given the low layers after congestion, or capped by the size of their tiles — and
/// in that state it does not probe by itself (its loss-based part reports the estimate as
/// loss-limited, which stops the probe controller). Left alone, a receiver moved down would
/// stay down after the reason is gone. So when the estimate keeps a receiver below the layers it
/// should get, the room restarts str0m's estimator from the current estimate (`Bwe::reset`):
/// a fresh estimator probes at three and six times its start, up to twice the desired bitrate.
/// A probe that finds nothing more makes the next one wait twice as long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkEstimate {
    /// str0m's latest estimate, bits per second.
    pub(crate) estimate: u64,
    /// The last probe, and the estimate then.
    probed: Option<(Instant, u64)>,
    backoff: Duration,
}

impl LinkEstimate {
    pub(crate) fn new(initial: u64) -> LinkEstimate {
        LinkEstimate { estimate: initial, probed: None, backoff: PROBE_INTERVAL }
    }

    pub(crate) fn on_estimate(&mut self, estimate: u64) {
        if let Some((_, before)) = self.probed
            && estimate > before + before / 5
        {
            // The link carries more than it was thought to: probe again soon if need be.
            self.backoff = PROBE_INTERVAL;
            self.probed = None;
        }
        self.estimate = estimate;
    }

    /// Whether to probe now, the layers being held down by the estimate (`held`).
    pub(crate) fn probe_due(&self, now: Instant, held: bool) -> bool {
        held && self.probed.is_none_or(|(t, _)| now.saturating_duration_since(t) >= self.backoff)
    }

    /// A probe starts now.
    pub(crate) fn probing(&mut self, now: Instant) {
        if self.probed.is_some() {
            // The last one found nothing.
            self.backoff = (self.backoff * 2).min(PROBE_INTERVAL_MAX);
        }
        self.probed = Some((now, self.estimate));
    }
}

/// The buffers of layer choice, kept by the room from one round to the next so that choosing
/// allocates nothing once they have grown.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// A receiver's videos: the index of the subscription, and what is known of it.
    wants: Vec<(usize, Want)>,
    chosen: Vec<Want>,
    /// Key frames to ask for: sender, track, layer, and whether the switch is new.
    requests: Vec<(ParticipantId, Mid, Layer, bool)>,
}

impl Room {
    /// Chooses, for every receiver, the layer of each video they get (see [`allocate`]), asks
    /// the senders for the key frames the switches wait for, tells str0m's estimator what to
    /// probe for, and probes a link that holds a receiver down (see [`LinkEstimate`]).
    pub(crate) fn allocate_layers(&mut self) {
        let now = self.now;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.requests.clear();
        for j in 0..self.participants.len() {
            scratch.wants.clear();
            let mut audio = 0;
            let mut ceiling = 0;
            let lossy = self.lossy(j);
            let receiver = &self.participants[j];
            for (k, s) in receiver.subscribed.iter().enumerate() {
                if !s.open {
                    continue;
                }
                let Some(track) = self.participants.iter().find(|p| p.id == s.from).and_then(|p| p.published.iter().find(|t| t.mid == s.from_mid)) else { continue };
                let mut rates = track.layer_rates(now);
                if s.kind == MediaKind::Audio {
                    audio += rates.iter().flatten().sum::<u64>();
                    continue;
                }
                if !track.screen && !self.in_last_n(receiver.id, s.from) {
                    // Not among the last N speakers: nothing of this camera for this receiver.
                    rates = [None; 3];
                }
                ceiling += Layer::ALL.iter().rev().filter(|l| **l <= s.forwarding.max).find_map(|l| rates[l.index()]).unwrap_or(0);
                // A link that loses a tenth or more gets the low layers, whatever the estimate
                // says (str0m's loss-based estimate rightly climbs again on loss that is not
                // congestion): fewer packets per frame to lose, less to repair.
                let max = if lossy { Layer::Low } else { s.forwarding.max };
                scratch.wants.push((k, Want { rates, max, current: s.forwarding.current, chosen: None }));
            }
            let budget = receiver.link.estimate.saturating_sub(audio);
            // The budget goes to the most recent speakers first (screens first of all).
            let speakers = &self.speakers;
            let participants = &self.participants;
            scratch.wants.sort_unstable_by_key(|(k, _)| {
                let s = &receiver.subscribed[*k];
                let screen = participants.iter().find(|p| p.id == s.from).and_then(|p| p.published.iter().find(|t| t.mid == s.from_mid)).is_some_and(|t| t.screen);
                (!screen, speakers.rank(s.from), *k)
            });
            scratch.chosen.clear();
            scratch.chosen.extend(scratch.wants.iter().map(|(_, w)| *w));
            allocate(budget, &mut scratch.chosen);
            let receiver = &mut self.participants[j];
            // Held down: a video below the best layer it may have, for want of bandwidth.
            let held = scratch.chosen.iter().any(|w| w.chosen.is_some_and(|c| Layer::ALL.iter().any(|l| *l > c && *l <= w.max && w.rates[l.index()].is_some())));
            if receiver.link.probe_due(now, held) {
                receiver.link.probing(now);
                receiver.rtc.bwe().reset(Bitrate::bps(receiver.link.estimate));
            }
            for ((k, _), want) in scratch.wants.iter().zip(&scratch.chosen) {
                let s = &mut receiver.subscribed[*k];
                let changed = s.forwarding.target != want.chosen;
                s.forwarding.target = want.chosen;
                if let (true, Some(layer)) = (s.forwarding.switching(), want.chosen) {
                    // A new target asks at once; a switch still waiting asks again (the request
                    // or its key frame may have been lost), no more often than the interval.
                    scratch.requests.push((s.from, s.from_mid, layer, changed));
                }
            }
            // str0m's estimator probes up to what the best layers allowed need, with room
            // for the headroom an upward switch asks for (it estimates little above what it
            // is asked to probe for).
            let desired = (ceiling + audio) * 3 / 2;
            if desired.abs_diff(receiver.desired) > receiver.desired / 10 {
                receiver.desired = desired;
                receiver.rtc.bwe().set_desired_bitrate(Bitrate::bps(desired));
            }
        }
        for (from, mid, layer, fresh) in scratch.requests.iter().copied() {
            self.request_keyframe(from, mid, layer, KeyframeRequestKind::Pli, fresh);
        }
        self.scratch = scratch;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(rates: [Option<u64>; 3], current: Option<Layer>) -> Want {
        Want { rates, max: Layer::High, current, chosen: None }
    }

    const THREE: [Option<u64>; 3] = [Some(100_000), Some(300_000), Some(900_000)];

    #[test]
    fn layers_are_read_from_rids() {
        assert_eq!(Layer::of(Some(Rid::from("l"))), Some(Layer::Low));
        assert_eq!(Layer::of(Some(Rid::from("m"))), Some(Layer::Medium));
        assert_eq!(Layer::of(Some(Rid::from("h"))), Some(Layer::High));
        assert_eq!(Layer::of(None), Some(Layer::High));
        assert_eq!(Layer::of(Some(Rid::from("q"))), None);
        assert_eq!(Layer::Low.rid(true), Some(Rid::from("l")));
        assert_eq!(Layer::Low.rid(false), None);
    }

    #[test]
    fn a_large_budget_gets_every_video_its_highest_layer() {
        let mut wants = [want(THREE, None), want(THREE, None)];
        allocate(3_000_000, &mut wants);
        assert!(wants.iter().all(|w| w.chosen == Some(Layer::High)));
    }

    #[test]
    fn a_budget_is_shared_from_the_first_video_on() {
        // 1.3 Mbit/s for two videos: both medium (600k) fits, one high and one medium (1.2M)
        // does not with headroom (1.105M), so both stay medium.
        let mut wants = [want(THREE, None), want(THREE, None)];
        allocate(1_300_000, &mut wants);
        assert_eq!(wants.map(|w| w.chosen), [Some(Layer::Medium), Some(Layer::Medium)]);
        // 1.5 Mbit/s: the first gets high, the second stays medium.
        allocate(1_500_000, &mut wants);
        assert_eq!(wants.map(|w| w.chosen), [Some(Layer::High), Some(Layer::Medium)]);
    }

    #[test]
    fn a_small_budget_still_gets_the_lowest_layer() {
        let mut wants = [want(THREE, None)];
        allocate(10_000, &mut wants);
        assert_eq!(wants[0].chosen, Some(Layer::Low));
    }

    #[test]
    fn keeping_a_layer_needs_no_headroom_raising_one_does() {
        // 950k: high (900k) fits, but not with the headroom an upward switch needs.
        let mut wants = [want(THREE, Some(Layer::High))];
        allocate(950_000, &mut wants);
        assert_eq!(wants[0].chosen, Some(Layer::High));
        let mut wants = [want(THREE, Some(Layer::Medium))];
        allocate(950_000, &mut wants);
        assert_eq!(wants[0].chosen, Some(Layer::Medium));
    }

    #[test]
    fn layers_that_do_not_flow_are_skipped_and_the_receiver_cap_holds() {
        let mut wants = [want([Some(100_000), None, Some(900_000)], None)];
        allocate(2_000_000, &mut wants);
        assert_eq!(wants[0].chosen, Some(Layer::High));
        wants[0].max = Layer::Medium;
        allocate(2_000_000, &mut wants);
        assert_eq!(wants[0].chosen, Some(Layer::Low));
        let mut wants = [want([None, None, None], None)];
        allocate(2_000_000, &mut wants);
        assert_eq!(wants[0].chosen, None);
    }

    #[test]
    fn probes_back_off_while_they_find_nothing() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut link = LinkEstimate::new(1_000_000);
        assert!(!link.probe_due(t0, false), "nothing held down, nothing to probe");
        assert!(link.probe_due(t0, true));
        link.probing(t0);
        assert!(!link.probe_due(at(7), true));
        assert!(link.probe_due(at(8), true));
        link.probing(at(8));
        // Found nothing: 16 s.
        assert!(!link.probe_due(at(20), true));
        assert!(link.probe_due(at(24), true));
        link.probing(at(24));
        // This one found more: the next may come at once.
        link.on_estimate(1_500_000);
        assert!(link.probe_due(at(25), true));
    }

    #[test]
    fn the_rate_meter_measures_windows_and_notices_silence() {
        let t0 = Instant::now();
        let mut meter = RateMeter::default();
        assert!(!meter.active(t0));
        // 1,000 bytes every 10 ms: 800 kbit/s.
        for i in 0..=100u64 {
            meter.record(t0 + Duration::from_millis(i * 10), 1000);
        }
        let rate = meter.bitrate(t0 + Duration::from_millis(1000));
        assert!(rate.is_some_and(|r| (780_000..=820_000).contains(&r)), "{rate:?}");
        assert!(meter.active(t0 + Duration::from_millis(2000)));
        assert_eq!(meter.bitrate(t0 + Duration::from_millis(3000)), None);
        let mut fresh = RateMeter::default();
        fresh.record(t0, 1000);
        assert_eq!(fresh.bitrate(t0 + Duration::from_millis(50)), None, "not measured yet");
        assert_eq!(fresh.bitrate(t0 + Duration::from_millis(200)), Some(40_000));
    }

    #[test]
    fn a_key_frame_burst_lifts_the_measured_rate_by_a_little_not_by_half() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut meter = RateMeter::default();
        // Four seconds at 480 kbit/s (600 bytes every 10 ms)...
        for i in 0..400u64 {
            meter.record(ms(i * 10), 600);
        }
        let steady = meter.bitrate(ms(3995)).unwrap_or(0);
        // ...then half a second with a key frame: 50 % more.
        for i in 400..450u64 {
            meter.record(ms(i * 10), 900);
        }
        meter.record(ms(4500), 600);
        let burst = meter.bitrate(ms(4505)).unwrap_or(0);
        assert!((470_000..=490_000).contains(&steady), "{steady}");
        assert!(burst < steady * 115 / 100, "{steady} -> {burst}: the burst counts a quarter");
        assert!(burst > steady, "but it counts");
    }
}
