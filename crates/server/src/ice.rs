//! The STUN/TURN servers handed to browsers, with short-lived TURN credentials minted per
//! connection from the shared secret (`expiry:user-id`, HMAC-SHA1; what coturn accepts too).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `iceServers` recipe of this deployment.
#[derive(Clone, Debug, Default)]
pub struct IceServers {
    urls: Vec<String>,
    secret: Option<String>,
    ttl: Duration,
}

impl IceServers {
    /// Explicit `urls`, or else the embedded TURN server's addresses; credentials from `secret`.
    pub fn new(urls: &[String], embedded: Option<SocketAddr>, secret: Option<String>, ttl: Duration) -> Self {
        let urls = if !urls.is_empty() {
            urls.to_vec()
        } else if let Some(addr) = embedded {
            vec![
                format!("stun:{addr}"),
                format!("turn:{addr}?transport=udp"),
                format!("turn:{addr}?transport=tcp"),
            ]
        } else {
            Vec::new()
        };
        IceServers { urls, secret, ttl }
    }

    /// The `RTCIceServer` list for one user's connection, whose session ends at `session_end`
    /// (Unix milliseconds): the TURN credentials end with it at the latest, so a signed-out or
    /// revoked guest cannot keep relaying.
    pub fn servers_for(&self, user_id: &str, session_end: i64) -> serde_json::Value {
        if self.urls.is_empty() {
            return serde_json::json!([]);
        }
        match &self.secret {
            Some(secret) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let left = Duration::from_millis(u64::try_from(session_end.saturating_sub(now.as_millis() as i64)).unwrap_or(0));
                let (username, credential) = bureau_turn::credentials(secret, user_id, self.ttl.min(left), now.as_secs());
                serde_json::json!([{ "urls": self.urls, "username": username, "credential": credential }])
            }
            None => serde_json::json!([{ "urls": self.urls }]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_server_urls_with_fresh_credentials() {
        let ice = IceServers::new(&[], Some("127.0.0.1:3478".parse().unwrap()), Some("s3cret".into()), Duration::from_secs(60));
        let far = i64::MAX;
        let servers = ice.servers_for("user-1", far);
        assert_eq!(servers[0]["urls"][1], "turn:127.0.0.1:3478?transport=udp");
        let username = servers[0]["username"].as_str().unwrap();
        let (expiry, user) = username.split_once(':').unwrap();
        assert_eq!(user, "user-1");
        let expiry: u64 = expiry.parse().unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(expiry > now && expiry <= now + 60);
        assert!(!servers[0]["credential"].as_str().unwrap().is_empty());
        assert_eq!(IceServers::new(&[], None, None, Duration::ZERO).servers_for("u", far), serde_json::json!([]));
        // A session that ends in ten seconds gets credentials for ten seconds, not sixty.
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        let short = ice.servers_for("user-1", now_ms + 10_000);
        let expiry: u64 = short[0]["username"].as_str().unwrap().split_once(':').unwrap().0.parse().unwrap();
        assert!(expiry <= now + 11, "{expiry} vs {now}");
    }
}
