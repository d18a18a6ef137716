//! Bureau's STUN/TURN server: I/O drivers around the sans-IO state machine of `bureau-stun`.
//!
//! - UDP listeners (one socket per core with SO_REUSEPORT), each served with its share of the
//!   relay sockets by a data-plane thread that moderates its wake-ups under load ([`plane`]);
//! - TCP and TLS (rustls) listeners on tokio;
//! - relay sockets from a port range on the relay IP;
//! - batched UDP I/O on Linux: `recvmmsg` on every socket and GSO for runs of same-size
//!   datagrams to one destination (through `quinn-udp`);
//! - long-term credentials derived from a shared secret ([`credentials`]);
//! - Prometheus metrics ([`Metrics::render`]) and `tracing` logs without credentials.
//!
//! Embedding it:
//!
//! ```no_run
//! # async fn example() -> Result<(), bureau_turn::Error> {
//! let config = bureau_turn::Config { auth_secret: "secret".into(), relay_ip: Some("192.0.2.1".parse().unwrap()), ..Default::default() };
//! let server = bureau_turn::Server::bind(config).await?;
//! println!("TURN on {:?}", server.local_addrs());
//! let metrics = server.metrics();
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::time::Duration;

mod config;
mod error;
mod metrics;
mod plane;
mod relay;
mod server;
mod stream;
mod udp;

pub use bureau_stun::policy::Cidr;
pub use config::{Config, PortRange};
pub use error::{ConfigError, Error};
pub use metrics::Metrics;
pub use server::{LocalAddrs, Server};

/// Binds and runs a TURN server until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    Server::bind(config).await?.run(shutdown).await
}

/// Mints TURN credentials for `user_id`, valid `ttl` from `now_unix` (seconds since the Unix
/// epoch): returns `(username, password)` for the client's `RTCIceServer`. Compatible with
/// coturn's `--use-auth-secret`: username `expiry:user_id`, password
/// `base64(HMAC-SHA1(secret, username))`.
pub fn credentials(secret: &str, user_id: &str, ttl: Duration, now_unix: u64) -> (String, String) {
    bureau_stun::credentials::mint(secret.as_bytes(), user_id, ttl.as_secs(), now_unix)
}
