//! Rate limits on credential checks: failed attempts per key (account or IP address) in a
//! sliding window. Keys are hashes, never emails or addresses in clear.
//!
//! Where the failures are counted is a [`FailureWindows`]: in memory ([`MemoryWindows`], one
//! node) or in a store shared by every node (the server's Redis implementation), so that an
//! attacker cannot multiply the limits by spreading attempts over the nodes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Above this many tracked keys, expired entries are swept before inserting.
const SWEEP_AT: usize = 10_000;

/// One sliding window: at most `max` failures within `window_ms`, under a namespace that keeps
/// one limit's keys apart from another's (the same account has both code failures and sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Names the limit (`account`, `ip`, `2fa-code`, `2fa-sms`).
    pub namespace: &'static str,
    /// Failures allowed within the window.
    pub max: usize,
    /// The window's length in milliseconds.
    pub window_ms: i64,
}

/// Where failures are counted. Implementations must not fail the caller: a store that is
/// unavailable answers as best it can (the server's Redis implementation falls back to memory).
#[async_trait::async_trait]
pub trait FailureWindows: Send + Sync {
    /// `Some(seconds to wait)` if `key` has used up its failures at `now` (Unix milliseconds).
    async fn blocked(&self, window: &Window, key: &[u8; 32], now: i64) -> Option<u64>;
    /// Records one failure of `key` at `now`.
    async fn fail(&self, window: &Window, key: &[u8; 32], now: i64);
    /// Forgets the failures of `key`.
    async fn clear(&self, window: &Window, key: &[u8; 32]);
}

/// The failure times of one key, oldest first.
type Times = VecDeque<i64>;

/// Failures counted in this process.
#[derive(Default)]
pub struct MemoryWindows {
    failures: Mutex<HashMap<(&'static str, [u8; 32]), Times>>,
}

impl MemoryWindows {
    /// `Some(seconds to wait)` if the key has used up its failures at `now`.
    pub fn blocked_now(&self, window: &Window, key: &[u8; 32], now: i64) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let times = map.get(&(window.namespace, *key))?;
        let recent: Vec<i64> = times.iter().copied().filter(|t| now - t < window.window_ms).collect();
        if recent.len() < window.max {
            return None;
        }
        let oldest = recent[recent.len() - window.max];
        Some(((oldest + window.window_ms - now).max(1000) / 1000) as u64)
    }

    /// Records one failure.
    pub fn fail_now(&self, window: &Window, key: &[u8; 32], now: i64) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| times.back().is_some_and(|t| now - t < window.window_ms));
        }
        let times = map.entry((window.namespace, *key)).or_default();
        times.push_back(now);
        while times.len() > window.max {
            times.pop_front();
        }
    }

    /// Forgets the failures of a key.
    pub fn clear_now(&self, window: &Window, key: &[u8; 32]) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&(window.namespace, *key));
        }
    }
}

#[async_trait::async_trait]
impl FailureWindows for MemoryWindows {
    async fn blocked(&self, window: &Window, key: &[u8; 32], now: i64) -> Option<u64> {
        self.blocked_now(window, key, now)
    }

    async fn fail(&self, window: &Window, key: &[u8; 32], now: i64) {
        self.fail_now(window, key, now);
    }

    async fn clear(&self, window: &Window, key: &[u8; 32]) {
        self.clear_now(window, key);
    }
}

/// A sliding-window counter of failures per key, counted in a [`FailureWindows`].
pub struct Limiter {
    window: Window,
    store: Arc<dyn FailureWindows>,
}

impl Limiter {
    /// At most `max_failures` failures per key within `window_ms`, counted in `store`.
    pub fn new(namespace: &'static str, max_failures: usize, window_ms: i64, store: Arc<dyn FailureWindows>) -> Self {
        Limiter { window: Window { namespace, max: max_failures, window_ms }, store }
    }

    /// `Some(seconds to wait)` if the key has used up its failures at `now`.
    pub async fn blocked(&self, key: &[u8; 32], now: i64) -> Option<u64> {
        self.store.blocked(&self.window, key, now).await
    }

    /// Records one failure of `key` at `now`.
    pub async fn fail(&self, key: &[u8; 32], now: i64) {
        self.store.fail(&self.window, key, now).await;
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn clear(&self, key: &[u8; 32]) {
        self.store.clear(&self.window, key).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blocks_after_the_limit_until_the_window_passes() {
        let store: Arc<dyn FailureWindows> = Arc::new(MemoryWindows::default());
        let limiter = Limiter::new("test", 3, 60_000, store.clone());
        let key = [1u8; 32];
        for t in 0..3 {
            assert_eq!(limiter.blocked(&key, t * 1000).await, None);
            limiter.fail(&key, t * 1000).await;
        }
        assert_eq!(limiter.blocked(&key, 3000).await, Some(57));
        assert_eq!(limiter.blocked(&[2u8; 32], 3000).await, None, "other keys are not affected");
        let other = Limiter::new("other", 3, 60_000, store);
        assert_eq!(other.blocked(&key, 3000).await, None, "other limits are not affected");
        assert_eq!(limiter.blocked(&key, 60_001).await, None, "oldest failure left the window");
        limiter.clear(&key).await;
        assert_eq!(limiter.blocked(&key, 3000).await, None);
    }
}
