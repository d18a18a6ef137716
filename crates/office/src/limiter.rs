//! Rate limits on credential checks: failed attempts per key (account or IP address) in a
//! sliding window. Held in memory; keys are hashes, never emails or addresses in clear.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Above this many tracked keys, expired entries are swept before inserting.
const SWEEP_AT: usize = 10_000;

/// A sliding-window counter of failures per key.
pub struct Limiter {
    window_ms: i64,
    max_failures: usize,
    failures: Mutex<HashMap<[u8; 32], VecDeque<i64>>>,
}

impl Limiter {
    /// At most `max_failures` failures per key within `window_ms`.
    pub fn new(max_failures: usize, window_ms: i64) -> Self {
        Limiter { window_ms, max_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds to wait)` if the key has used up its failures at `now`.
    pub fn blocked(&self, key: &[u8; 32], now: i64) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let times = map.get(key)?;
        let recent: Vec<i64> = times.iter().copied().filter(|t| now - t < self.window_ms).collect();
        if recent.len() < self.max_failures {
            return None;
        }
        let oldest = recent[recent.len() - self.max_failures];
        Some(((oldest + self.window_ms - now).max(1000) / 1000) as u64)
    }

    /// Records one failure of `key` at `now`.
    pub fn fail(&self, key: &[u8; 32], now: i64) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| times.back().is_some_and(|t| now - t < self.window_ms));
        }
        let times = map.entry(*key).or_default();
        times.push_back(now);
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub fn clear(&self, key: &[u8; 32]) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let limiter = Limiter::new(3, 60_000);
        let key = [1u8; 32];
        for t in 0..3 {
            assert_eq!(limiter.blocked(&key, t * 1000), None);
            limiter.fail(&key, t * 1000);
        }
        assert_eq!(limiter.blocked(&key, 3000), Some(57));
        assert_eq!(limiter.blocked(&[2u8; 32], 3000), None, "other keys are not affected");
        assert_eq!(limiter.blocked(&key, 60_001), None, "oldest failure left the window");
        limiter.clear(&key);
        assert_eq!(limiter.blocked(&key, 3000), None);
    }
}
