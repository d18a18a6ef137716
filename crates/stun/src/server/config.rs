//! Settings and counters of the TURN state machine.

use std::time::Duration;

use crate::policy::PeerPolicy;

/// Settings of the state machine.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The REALM of long-term credentials.
    pub realm: String,
    /// The shared secret of REST credentials.
    pub auth_secret: Vec<u8>,
    /// SOFTWARE attribute of responses, if any.
    pub software: Option<String>,
    /// Which peers may be reached.
    pub policy: PeerPolicy,
    /// Lifetime of an allocation when the client asks for less or nothing (RFC: 600 s).
    pub default_lifetime: Duration,
    /// Longest allocation lifetime granted (RFC: 3600 s).
    pub max_lifetime: Duration,
    /// How long a nonce stays valid.
    pub nonce_lifetime: Duration,
    /// Allocations one user may hold at once (486 past it).
    pub user_quota: u32,
    /// Allocations the server holds at once (508 past it).
    pub total_quota: u32,
    /// Bytes per second relayed per allocation, both directions; `None` for no cap.
    pub bandwidth: Option<u64>,
    /// 401/438 answers per second to one source IP (bursts of twice that); more are dropped.
    pub unauth_rate: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            realm: "bureau".into(),
            auth_secret: Vec::new(),
            software: Some("bureau".into()),
            policy: PeerPolicy::default(),
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            nonce_lifetime: Duration::from_secs(600),
            user_quota: 10,
            total_quota: 10_000,
            bandwidth: None,
            unauth_rate: 10,
        }
    }
}

/// Counters for metrics; monotonic except `allocations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Allocations alive now.
    pub allocations: u64,
    /// Allocations created since start.
    pub allocations_created: u64,
    /// Packets relayed from clients to peers.
    pub packets_to_peers: u64,
    /// Payload bytes relayed from clients to peers.
    pub bytes_to_peers: u64,
    /// Packets relayed from peers to clients.
    pub packets_to_clients: u64,
    /// Payload bytes relayed from peers to clients.
    pub bytes_to_clients: u64,
    /// 401 answers sent.
    pub unauthorized: u64,
    /// 403 answers sent.
    pub forbidden: u64,
    /// 438 answers sent.
    pub stale_nonces: u64,
    /// 486 and 508 answers sent.
    pub quota_rejections: u64,
    /// Other error answers sent.
    pub other_errors: u64,
    /// 401/438 answers not sent because the source IP was over its rate.
    pub auth_rate_limited: u64,
    /// Messages dropped: malformed, no allocation, no permission.
    pub dropped: u64,
    /// Packets dropped by the bandwidth cap.
    pub dropped_bandwidth: u64,
}
