//! Which peers a relay may talk to. Secure by default: only globally routable unicast
//! addresses are allowed, so a TURN server cannot be used to reach the operator's own network.
//!
//! Refused unless an allow-list CIDR names them (or `allow_loopback` for loopback): loopback,
//! private, shared (CGNAT), link-local, multicast, and every IANA special-purpose range of IPv4
//! and IPv6. IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64 `64:ff9b::/96`) are judged
//! by the embedded address; 6to4, Teredo and the other transition ranges are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::CidrError;

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// A network from an address and prefix length (bits past the prefix are ignored).
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside this network (an IPv4 network never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(u128::from(n.to_bits()) << 96, u128::from(a.to_bits()) << 96, self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(n.to_bits(), a.to_bits(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8) -> bool {
    prefix == 0 || (a ^ b) >> (128 - u32::from(prefix)) == 0
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Parses `ADDR/PREFIX`, or a bare address (a host route).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = a.trim().parse().map_err(|_| CidrError::Address(s.to_owned()))?;
        let prefix = match p {
            None => if addr.is_ipv4() { 32 } else { 128 },
            Some(p) => p.trim().parse().map_err(|_| CidrError::Prefix(s.to_owned()))?,
        };
        Cidr::new(addr, prefix).ok_or_else(|| CidrError::Prefix(s.to_owned()))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The peer policy of a TURN server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerPolicy {
    /// Allow loopback peers (127.0.0.0/8, ::1), for tests and single-host setups.
    pub allow_loopback: bool,
    /// Networks allowed even though the default policy refuses them.
    pub allow: Vec<Cidr>,
}

const DENIED_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // "this network"
    (0x0A00_0000, 8),  // private
    (0x6440_0000, 10), // shared address space (CGNAT)
    (0x7F00_0000, 8),  // loopback
    (0xA9FE_0000, 16), // link-local
    (0xAC10_0000, 12), // private
    (0xC000_0000, 24), // IETF protocol assignments
    (0xC000_0200, 24), // TEST-NET-1
    (0xC01F_C400, 24), // AS112-v4
    (0xC034_C100, 24), // AMT
    (0xC058_6300, 24), // 6to4 relay anycast
    (0xC0A8_0000, 16), // private
    (0xC0AF_3000, 24), // direct delegation AS112
    (0xC612_0000, 15), // benchmarking
    (0xC633_6400, 24), // TEST-NET-2
    (0xCB00_7100, 24), // TEST-NET-3
    (0xE000_0000, 4),  // multicast
    (0xF000_0000, 4),  // reserved, and the limited broadcast address
];

impl PeerPolicy {
    /// Whether the relay may exchange packets with `ip`.
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        if self.allow.iter().any(|c| c.contains(ip)) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => self.v4_allowed(v4),
            IpAddr::V6(v6) => self.v6_allowed(v6),
        }
    }

    fn v4_allowed(&self, ip: Ipv4Addr) -> bool {
        if self.allow.iter().any(|c| c.contains(IpAddr::V4(ip))) {
            return true;
        }
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        let bits = ip.to_bits();
        !DENIED_V4.iter().any(|&(net, p)| (bits ^ net) >> (32 - u32::from(p)) == 0)
    }

    fn v6_allowed(&self, ip: Ipv6Addr) -> bool {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return self.v4_allowed(v4);
        }
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        let bits = ip.to_bits();
        let seg = ip.segments();
        // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address in the last 32 bits.
        if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
            return self.v4_allowed(Ipv4Addr::from_bits(bits as u32));
        }
        // Only global unicast 2000::/3 is routable; inside it, refuse the special ranges.
        if seg[0] & 0xE000 != 0x2000 {
            return false;
        }
        let special: &[(u128, u8)] = &[
            (0x2001_0000 << 96, 23),   // IETF protocol assignments (Teredo, ORCHID, benchmarking)
            (0x2001_0db8 << 96, 32),   // documentation
            (0x2002_0000 << 96, 16),   // 6to4
            (0x3fff_0000 << 96, 20),   // documentation (RFC 9637)
        ];
        !special.iter().any(|&(net, p)| prefix_eq(net, bits, p))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_match() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c: Cidr = "fd00::/8".parse().unwrap();
        assert!(c.contains("fd12::1".parse().unwrap()));
        assert_eq!("10.0.0.1".parse::<Cidr>().unwrap().to_string(), "10.0.0.1/32");
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains("1.2.3.4".parse().unwrap()));
        assert!(matches!("10.0.0.0/33".parse::<Cidr>(), Err(CidrError::Prefix(_))));
        assert!(matches!("nope/8".parse::<Cidr>(), Err(CidrError::Address(_))));
        assert!(matches!("10.0.0.0/x".parse::<Cidr>(), Err(CidrError::Prefix(_))));
    }
}
