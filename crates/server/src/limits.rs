//! Sign-in and second-factor rate limits shared by every node through Redis, so that spreading
//! attempts over the nodes does not multiply the limits.
//!
//! Each limited key is a sorted set `bureau:limit:<namespace>:<hex of the key hash>` of failure
//! times (score = Unix milliseconds), trimmed to the window and to the most failures that matter,
//! and expiring with the window. The key is already a hash: no email or address reaches Redis.
//! While Redis cannot be reached, failures are counted in this process instead (and a warning is
//! logged), so that sign-in keeps working with the per-node limits of a single node.

use bureau_office::{FailureWindows, MemoryWindows, Window};
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::live::BusError;

/// Records a failure: adds it, drops what left the window or exceeds the limit, expires the set.
const FAIL: &str = r"
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// Failure windows kept in Redis.
pub struct RedisWindows {
    redis: ConnectionManager,
    fallback: MemoryWindows,
    fail: redis::Script,
}

impl RedisWindows {
    /// Connects to the Redis server of `url` (the connection is made again by itself after an
    /// outage). Redis must answer at start, so that a node never starts with limits of its own.
    pub async fn connect(url: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        let redis = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager()).await.map_err(|_| BusError::Down)??;
        Ok(RedisWindows { redis, fallback: MemoryWindows::default(), fail: redis::Script::new(FAIL) })
    }

    fn key(window: &Window, key: &[u8; 32]) -> String {
        format!("bureau:limit:{}:{}", window.namespace, hex::encode(key))
    }
}

#[async_trait::async_trait]
impl FailureWindows for RedisWindows {
    async fn blocked(&self, window: &Window, key: &[u8; 32], now: i64) -> Option<u64> {
        let mut redis = self.redis.clone();
        let since = format!("({}", now - window.window_ms);
        let times: Result<Vec<i64>, _> =
            redis::cmd("ZRANGEBYSCORE").arg(Self::key(window, key)).arg(since).arg("+inf").arg("WITHSCORES").query_async::<Vec<(String, i64)>>(&mut redis).await.map(|v| v.into_iter().map(|(_, t)| t).collect());
        match times {
            Ok(times) if times.len() >= window.max && window.max > 0 => {
                let oldest = times[times.len() - window.max];
                Some(((oldest + window.window_ms - now).max(1000) / 1000) as u64)
            }
            Ok(_) => self.fallback.blocked_now(window, key, now),
            Err(err) => {
                tracing::warn!("rate limits: Redis unavailable, counting on this node: {err}");
                self.fallback.blocked_now(window, key, now)
            }
        }
    }

    async fn fail(&self, window: &Window, key: &[u8; 32], now: i64) {
        let mut redis = self.redis.clone();
        // Unique members, so that two failures in the same millisecond both count.
        let member = format!("{now}-{:016x}", rand::random::<u64>());
        let done: Result<i64, _> = self
            .fail
            .key(Self::key(window, key))
            .arg(now)
            .arg(member)
            .arg(window.window_ms)
            .arg(window.max)
            .invoke_async(&mut redis)
            .await;
        if let Err(err) = done {
            tracing::warn!("rate limits: Redis unavailable, counting on this node: {err}");
            self.fallback.fail_now(window, key, now);
        }
    }

    async fn clear(&self, window: &Window, key: &[u8; 32]) {
        let mut redis = self.redis.clone();
        let _: Result<i64, _> = redis::cmd("DEL").arg(Self::key(window, key)).query_async(&mut redis).await;
        self.fallback.clear_now(window, key);
    }
}
