//! Who speaks: from the audio level each sender's packets carry (RFC 6464, a header extension
//! SFrame leaves readable by design: docs/sfu.md), a smoothed loudness per participant, the
//! dominant speaker, and the order of recent speakers that last N and the stage follow.
//!
//! The loudness follows the levels with a time constant of a fifth of a second (a syllable does
//! not make a speaker, nor a cough); a participant is speaking above -45 dBov (speech is
//! around -20 to -40, a quiet room below -60). The loudest speaker takes over once they have
//! been the loudest for 400 ms, and moves to the front of the order; the others keep their
//! places. Changes of the order are told at most every half second.

use std::time::{Duration, Instant};

use crate::ParticipantId;

/// Time constant of the smoothed loudness.
const SMOOTHING: Duration = Duration::from_millis(200);
/// A participant whose audio stopped this long ago (muted, or silent with DTX) is silent.
const SILENT_AFTER: Duration = Duration::from_millis(500);
/// Loudness from which a participant is speaking: 127 - 45 (-45 dBov).
const SPEAKING: f32 = 82.0;
/// How long someone must be the loudest to become the dominant speaker.
const TAKE_OVER_AFTER: Duration = Duration::from_millis(400);
/// How often the speakers are looked at.
pub(crate) const SPEAKER_INTERVAL: Duration = Duration::from_millis(100);
/// Changes of the order are told at most this often.
const TELL_EVERY: Duration = Duration::from_millis(500);

/// One participant's voice: their loudness, 0 (silence, -127 dBov) to 127 (0 dBov), smoothed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Voice {
    loudness: f32,
    last: Option<Instant>,
}

impl Voice {
    /// An audio packet arrived with this level (str0m's reading of RFC 6464: -127 to 0 dBov).
    pub(crate) fn hear(&mut self, now: Instant, level: i8) {
        let sample = 127.0 + f32::from(level.clamp(-127, 0));
        let weight = match self.last {
            // The first packet after silence counts as much as the time it stands for.
            Some(last) => (now.saturating_duration_since(last).min(SILENT_AFTER).as_secs_f32() / SMOOTHING.as_secs_f32()).min(1.0),
            None => 0.1,
        };
        self.loudness += (sample - self.loudness) * weight;
        self.last = Some(now);
    }

    pub(crate) fn loudness(&self, now: Instant) -> f32 {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < SILENT_AFTER => self.loudness,
            _ => 0.0,
        }
    }
}

/// The order of speakers in a room.
#[derive(Debug)]
pub(crate) struct Speakers {
    /// Everyone, the most recent dominant speaker first; those who have not spoken in the order
    /// they joined.
    order: Vec<ParticipantId>,
    dominant: Option<ParticipantId>,
    /// Who is the loudest speaker now, and since when, if not the dominant one.
    challenger: Option<(ParticipantId, Instant)>,
    /// When the order is to be told (it changed), and when it was last.
    tell_at: Option<Instant>,
    told: Option<Instant>,
    pub(crate) next_tick: Instant,
}

impl Speakers {
    pub(crate) fn new(now: Instant) -> Speakers {
        Speakers { order: Vec::new(), dominant: None, challenger: None, tell_at: None, told: None, next_tick: now }
    }

    pub(crate) fn joined(&mut self, now: Instant, id: ParticipantId) {
        self.order.push(id);
        self.changed(now);
    }

    pub(crate) fn left(&mut self, now: Instant, id: ParticipantId) {
        self.order.retain(|p| *p != id);
        if self.dominant == Some(id) {
            self.dominant = None;
        }
        if self.challenger.is_some_and(|(p, _)| p == id) {
            self.challenger = None;
        }
        self.changed(now);
    }

    fn changed(&mut self, now: Instant) {
        let earliest = self.told.map_or(now, |t| t + TELL_EVERY);
        self.tell_at = Some(self.tell_at.unwrap_or(earliest).min(earliest).max(now));
    }

    /// Looks at everyone's loudness; returns whether the order changed.
    pub(crate) fn tick(&mut self, now: Instant, voices: impl Iterator<Item = (ParticipantId, f32)>) -> bool {
        self.next_tick = now + SPEAKER_INTERVAL;
        let loudest = voices.filter(|(_, l)| *l >= SPEAKING).max_by(|a, b| a.1.total_cmp(&b.1)).map(|(p, _)| p);
        let Some(loudest) = loudest else {
            self.challenger = None;
            return false;
        };
        if Some(loudest) == self.dominant {
            self.challenger = None;
            return false;
        }
        match self.challenger {
            Some((p, since)) if p == loudest => {
                if now.saturating_duration_since(since) < TAKE_OVER_AFTER {
                    return false;
                }
            }
            _ => {
                self.challenger = Some((loudest, now));
                return false;
            }
        }
        self.challenger = None;
        self.dominant = Some(loudest);
        if let Some(at) = self.order.iter().position(|p| *p == loudest) {
            self.order[..=at].rotate_right(1);
        }
        self.changed(now);
        true
    }

    /// The order to tell, if it changed and the last telling is long enough ago.
    pub(crate) fn poll(&mut self, now: Instant) -> Option<Vec<ParticipantId>> {
        if self.tell_at.is_none_or(|t| now < t) {
            return None;
        }
        self.tell_at = None;
        self.told = Some(now);
        Some(self.order.clone())
    }

    /// When the speakers want looking at next: a tick, or an order to tell.
    pub(crate) fn due(&self) -> Instant {
        self.tell_at.map_or(self.next_tick, |t| t.min(self.next_tick))
    }

    /// Where a participant stands in the order (0: the most recent speaker).
    pub(crate) fn rank(&self, id: ParticipantId) -> usize {
        self.order.iter().position(|p| *p == id).unwrap_or(usize::MAX)
    }

    pub(crate) fn order(&self) -> &[ParticipantId] {
        &self.order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ParticipantId = ParticipantId(1);
    const B: ParticipantId = ParticipantId(2);
    const C: ParticipantId = ParticipantId(3);

    /// Runs `ms` milliseconds of 20 ms audio packets at these levels, ticking every 100 ms.
    fn talk(s: &mut Speakers, voices: &mut [(ParticipantId, Voice)], levels: &[i8], from: Instant, ms: u64) -> Instant {
        let mut now = from;
        for step in 0..ms / 20 {
            now = from + Duration::from_millis(step * 20);
            for (v, level) in voices.iter_mut().zip(levels) {
                v.1.hear(now, *level);
            }
            if now >= s.next_tick {
                s.tick(now, voices.iter().map(|(p, v)| (*p, v.loudness(now))));
            }
        }
        now
    }

    #[test]
    fn the_loudest_speaker_comes_first_after_a_while() {
        let t0 = Instant::now();
        let mut s = Speakers::new(t0);
        for p in [A, B, C] {
            s.joined(t0, p);
        }
        assert_eq!(s.poll(t0), Some(vec![A, B, C]), "who joined, told at once");
        let mut voices = [(A, Voice::default()), (B, Voice::default()), (C, Voice::default())];
        // C speaks at -20 dBov, B murmurs at -60, A is silent.
        let now = talk(&mut s, &mut voices, &[-127, -60, -20], t0, 300);
        assert_eq!(s.order(), [A, B, C], "not yet: a syllable does not make a speaker");
        let now = talk(&mut s, &mut voices, &[-127, -60, -20], now, 1000);
        assert_eq!(s.order(), [C, A, B]);
        assert_eq!(s.rank(C), 0);
        assert_eq!(s.poll(now), Some(vec![C, A, B]));
        // B takes over; C goes silent.
        let now = talk(&mut s, &mut voices, &[-127, -25, -127], now, 1000);
        assert_eq!(s.order(), [B, C, A]);
        // The change is told no sooner than half a second after the last.
        assert!(s.poll(now).is_some());
        s.left(now, B);
        assert_eq!(s.poll(now + Duration::from_millis(100)), None);
        assert_eq!(s.poll(now + Duration::from_millis(500)), Some(vec![C, A]));
    }

    #[test]
    fn a_voice_falls_silent_when_its_packets_stop() {
        let t0 = Instant::now();
        let mut v = Voice::default();
        for i in 0..50 {
            v.hear(t0 + Duration::from_millis(i * 20), -10);
        }
        let last = t0 + Duration::from_millis(49 * 20);
        assert!(v.loudness(last) > 110.0, "{}", v.loudness(last));
        assert_eq!(v.loudness(last + Duration::from_secs(1)), 0.0);
    }
}
