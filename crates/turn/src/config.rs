//! The settings of the TURN server: the `[turn]` table of Bureau's config file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use bureau_stun::policy::Cidr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ConfigError;

/// Settings of the STUN/TURN server. Every field has a default except `auth_secret`.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// UDP and TCP listening address (STUN/TURN over UDP and TCP). Default `0.0.0.0:3478`.
    pub listen: SocketAddr,
    /// TLS listening address (TURN over TLS, usually port 5349); needs `cert` and `key`.
    pub tls_listen: Option<SocketAddr>,
    /// PEM certificate chain for TLS.
    pub cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub key: Option<PathBuf>,
    /// The REALM of long-term credentials. Default `bureau`.
    pub realm: String,
    /// The shared secret of REST credentials (coturn's `--static-auth-secret`). Required.
    pub auth_secret: String,
    /// IPv4 (or IPv6) address relay sockets bind to and that clients are told. Defaults to the
    /// IP of `listen` when that is not a wildcard.
    pub relay_ip: Option<IpAddr>,
    /// IPv6 address for IPv6 relayed addresses (REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY).
    pub relay_ip6: Option<IpAddr>,
    /// UDP port range of relay sockets, `LOW-HIGH`. Default `49152-65535`.
    #[serde(deserialize_with = "de_from_str", serialize_with = "ser_display")]
    pub relay_ports: PortRange,
    /// Let peers be loopback addresses (for tests and single-host setups). Default false.
    pub allow_loopback_peers: bool,
    /// Peer networks allowed although the default policy refuses them (CIDRs, e.g. `10.0.0.0/8`).
    #[serde(deserialize_with = "de_cidrs", serialize_with = "ser_cidrs")]
    pub allow_peers: Vec<Cidr>,
    /// Allocations one user may hold at once. Default 10.
    pub user_quota: u32,
    /// Allocations the server holds at once. Default 10000.
    pub total_quota: u32,
    /// Bytes per second relayed per allocation, both directions together; 0 for no cap.
    /// Default 0.
    pub bandwidth: u64,
    /// 401/438 answers per second to one source IP (bursts of twice that). Default 10.
    pub unauth_rate: u32,
    /// Longest allocation lifetime in seconds. Default 3600.
    pub max_lifetime: u64,
    /// UDP listening sockets sharing the port with SO_REUSEPORT; 0 for one per CPU. Default 0.
    pub udp_sockets: usize,
    /// Microseconds a busy UDP data-plane thread pauses between rounds, so that each round
    /// reads and sends several datagrams per system call (at most 10000; 0 never pauses).
    /// Only threads receiving more than about 4,000 datagrams per second pause. Default 200.
    pub moderation_us: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("tls_listen", &self.tls_listen)
            .field("realm", &self.realm)
            .field("auth_secret", &"<redacted>")
            .field("relay_ip", &self.relay_ip)
            .field("relay_ip6", &self.relay_ip6)
            .field("relay_ports", &self.relay_ports)
            .field("allow_loopback_peers", &self.allow_loopback_peers)
            .field("allow_peers", &self.allow_peers)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            tls_listen: None,
            cert: None,
            key: None,
            realm: "bureau".into(),
            auth_secret: String::new(),
            relay_ip: None,
            relay_ip6: None,
            relay_ports: PortRange { low: 49152, high: 65535 },
            allow_loopback_peers: false,
            allow_peers: Vec::new(),
            user_quota: 10,
            total_quota: 10_000,
            bandwidth: 0,
            unauth_rate: 10,
            max_lifetime: 3600,
            udp_sockets: 0,
            moderation_us: 200,
        }
    }
}

/// An inclusive range of UDP ports, written `LOW-HIGH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub low: u16,
    /// Last port.
    pub high: u16,
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (l, h) = s.split_once('-').ok_or_else(|| format!("expected LOW-HIGH, got `{s}`"))?;
        let low = l.trim().parse().map_err(|_| format!("bad port `{l}`"))?;
        let high = h.trim().parse().map_err(|_| format!("bad port `{h}`"))?;
        Ok(PortRange { low, high })
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.low, self.high)
    }
}

fn ser_display<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn ser_cidrs<S: Serializer>(v: &[Cidr], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|c| c.to_string()))
}

fn de_from_str<'de, D: Deserializer<'de>, T: FromStr<Err = String>>(d: D) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cidr>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter().map(|s| s.parse().map_err(serde::de::Error::custom)).collect()
}

impl Config {
    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.realm.is_empty() || self.realm.len() > 127 {
            return Err(ConfigError::new("realm", "must be 1 to 127 characters"));
        }
        if self.auth_secret.is_empty() {
            return Err(ConfigError::new("auth_secret", "is required"));
        }
        if self.relay_ports.low == 0 || self.relay_ports.low > self.relay_ports.high {
            return Err(ConfigError::new("relay_ports", "must be LOW-HIGH with 0 < LOW <= HIGH"));
        }
        let relay = self.relay_ip()?;
        if relay.is_unspecified() || relay.is_multicast() {
            return Err(ConfigError::new("relay_ip", "must be a unicast address clients can reach"));
        }
        if let Some(ip6) = self.relay_ip6
            && (!ip6.is_ipv6() || ip6.is_unspecified())
        {
            return Err(ConfigError::new("relay_ip6", "must be a unicast IPv6 address"));
        }
        if self.tls_listen.is_some() && (self.cert.is_none() || self.key.is_none()) {
            return Err(ConfigError::new("tls_listen", "needs `cert` and `key`"));
        }
        if self.user_quota == 0 || self.total_quota == 0 {
            return Err(ConfigError::new("user_quota", "quotas must be at least 1"));
        }
        if !(600..=86_400).contains(&self.max_lifetime) {
            return Err(ConfigError::new("max_lifetime", "must be between 600 and 86400 seconds"));
        }
        if self.moderation_us > 10_000 {
            return Err(ConfigError::new("moderation_us", "must be at most 10000 microseconds"));
        }
        Ok(())
    }

    /// The relay IP: `relay_ip`, or the IP of `listen` when that is not a wildcard.
    pub fn relay_ip(&self) -> Result<IpAddr, ConfigError> {
        match self.relay_ip {
            Some(ip) => Ok(ip),
            None if !self.listen.ip().is_unspecified() => Ok(self.listen.ip()),
            None => Err(ConfigError::new("relay_ip", "is required when `listen` is a wildcard address")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_turn_table() {
        let c: Config = toml::from_str(
            r#"
            listen = "127.0.0.1:3478"
            realm = "example.org"
            auth_secret = "s"
            relay_ports = "40000-40100"
            allow_peers = ["10.0.0.0/8", "fd00::/8"]
            "#,
        )
        .unwrap();
        assert_eq!(c.relay_ports, PortRange { low: 40000, high: 40100 });
        assert_eq!(c.allow_peers.len(), 2);
        c.validate().unwrap();
        assert!(!format!("{c:?}").contains("\"s\""));
        let again: Config = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(again.relay_ports, c.relay_ports);
        assert_eq!(again.allow_peers, c.allow_peers);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = |c: Config| c.validate().unwrap_err().key;
        let ok = Config { listen: "127.0.0.1:0".parse().unwrap(), auth_secret: "x".into(), ..Config::default() };
        assert_eq!(err(Config { auth_secret: String::new(), ..ok.clone() }), "auth_secret");
        assert_eq!(err(Config { listen: "0.0.0.0:3478".parse().unwrap(), ..ok.clone() }), "relay_ip");
        assert_eq!(err(Config { relay_ports: PortRange { low: 5, high: 4 }, ..ok.clone() }), "relay_ports");
        assert_eq!(err(Config { tls_listen: Some("127.0.0.1:0".parse().unwrap()), ..ok.clone() }), "tls_listen");
        assert!(toml::from_str::<Config>("relay_ports = \"x\"").is_err());
        assert!(toml::from_str::<Config>("allow_peers = [\"10.0.0.0/99\"]").is_err());
        assert!(toml::from_str::<Config>("nope = 1").is_err());
    }
}
