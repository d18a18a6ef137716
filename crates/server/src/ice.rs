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

    /// The `RTCIceServer` list for one user's connection.
    pub fn servers_for(&self, user_id: &str) -> serde_json::Value {
        if self.urls.is_empty() {
            return serde_json::json!([]);
        }
        match &self.secret {
            Some(secret) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let (username, credential) = bureau_turn::credentials(secret, user_id, self.ttl, now);
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
        let servers = ice.servers_for("user-1");
        assert_eq!(servers[0]["urls"][1], "turn:127.0.0.1:3478?transport=udp");
        let username = servers[0]["username"].as_str().unwrap();
        let (expiry, user) = username.split_once(':').unwrap();
        assert_eq!(user, "user-1");
        let expiry: u64 = expiry.parse().unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(expiry > now && expiry <= now + 60);
        assert!(!servers[0]["credential"].as_str().unwrap().is_empty());
        assert_eq!(IceServers::new(&[], None, None, Duration::ZERO).servers_for("u"), serde_json::json!([]));
    }
}
