//! One allocation: its relayed addresses, permissions, channels, lifetime and bandwidth budget.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::Family;
use crate::message::TransactionId;

/// How long a permission lives (RFC 8656 §9).
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// How long a channel binding lives (RFC 8656 §12).
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// After a binding expires, its channel and peer stay reserved to each other this long, so
/// that late packets are not delivered to a new binding (RFC 8656 §12).
pub const CHANNEL_COOLDOWN: Duration = Duration::from_secs(300);

/// A channel binding.
#[derive(Debug, Clone, Copy)]
struct Channel {
    peer: SocketAddr,
    expires: Instant,
}

/// A token bucket counting bytes.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    rate: u64,
    tokens: u64,
    last: Instant,
}

/// An allocation.
#[derive(Debug)]
pub(super) struct Allocation {
    /// Relayed addresses: IPv4 at index 0, IPv6 at index 1.
    pub relays: [Option<SocketAddr>; 2],
    pub expires: Instant,
    /// The full username that created it; later requests must use the same.
    pub username: String,
    /// The user id part of the username, for quotas.
    pub user: String,
    /// Transaction id of the Allocate that created it, to answer retransmissions.
    pub allocate_tid: TransactionId,
    permissions: HashMap<IpAddr, Instant>,
    channels: HashMap<u16, Channel>,
    peer_channels: HashMap<SocketAddr, u16>,
    bucket: Option<Bucket>,
}

impl Allocation {
    pub fn new(relays: [Option<SocketAddr>; 2], expires: Instant, username: String, user: String, allocate_tid: TransactionId, bandwidth: Option<u64>, now: Instant) -> Self {
        Allocation {
            relays,
            expires,
            username,
            user,
            allocate_tid,
            permissions: HashMap::new(),
            channels: HashMap::new(),
            peer_channels: HashMap::new(),
            bucket: bandwidth.map(|rate| Bucket { rate, tokens: rate, last: now }),
        }
    }

    /// The relayed address that talks to `peer`'s family.
    pub fn relay_for(&self, peer: SocketAddr) -> Option<SocketAddr> {
        self.relays[Family::of(peer.ip()).index()]
    }

    /// Whether the allocation has a relayed address of `ip`'s family.
    pub fn serves_family(&self, ip: IpAddr) -> bool {
        self.relays[Family::of(ip).index()].is_some()
    }

    pub fn has_permission(&self, ip: IpAddr, now: Instant) -> bool {
        self.permissions.get(&ip).is_some_and(|&t| t > now)
    }

    pub fn permit(&mut self, ip: IpAddr, now: Instant) {
        self.permissions.insert(ip, now + PERMISSION_LIFETIME);
    }

    /// The peer of a live channel whose permission is live too.
    pub fn channel_peer(&self, channel: u16, now: Instant) -> Option<SocketAddr> {
        let ch = self.channels.get(&channel)?;
        (ch.expires > now && self.has_permission(ch.peer.ip(), now)).then_some(ch.peer)
    }

    /// The live channel bound to `peer`, if any.
    pub fn peer_channel(&self, peer: SocketAddr, now: Instant) -> Option<u16> {
        let ch = *self.peer_channels.get(&peer)?;
        self.channels.get(&ch).is_some_and(|c| c.expires > now).then_some(ch)
    }

    /// Whether binding `channel` to `peer` is consistent with the existing bindings, live or
    /// cooling down.
    pub fn can_bind(&self, channel: u16, peer: SocketAddr) -> bool {
        let channel_ok = self.channels.get(&channel).is_none_or(|c| c.peer == peer);
        let peer_ok = self.peer_channels.get(&peer).is_none_or(|&c| c == channel);
        channel_ok && peer_ok
    }

    /// Binds or refreshes a channel, and installs or refreshes the permission for its peer.
    pub fn bind(&mut self, channel: u16, peer: SocketAddr, now: Instant) {
        self.channels.insert(channel, Channel { peer, expires: now + CHANNEL_LIFETIME });
        self.peer_channels.insert(peer, channel);
        self.permit(peer.ip(), now);
    }

    /// Takes `bytes` from the bandwidth budget; false when over the cap.
    pub fn take_bandwidth(&mut self, now: Instant, bytes: usize) -> bool {
        let Some(b) = &mut self.bucket else { return true };
        let elapsed = now.saturating_duration_since(b.last);
        if !elapsed.is_zero() {
            let refill = (u128::from(b.rate) * elapsed.as_nanos() / 1_000_000_000) as u64;
            b.tokens = b.tokens.saturating_add(refill).min(b.rate);
            b.last = now;
        }
        let bytes = bytes as u64;
        if b.tokens < bytes {
            return false;
        }
        b.tokens -= bytes;
        true
    }

    /// Drops expired permissions, and channels whose cooldown is over.
    pub fn expire(&mut self, now: Instant) {
        self.permissions.retain(|_, t| *t > now);
        let peer_channels = &mut self.peer_channels;
        self.channels.retain(|_, c| {
            let keep = c.expires + CHANNEL_COOLDOWN > now;
            if !keep {
                peer_channels.remove(&c.peer);
            }
            keep
        });
    }

    /// The earliest time something in this allocation expires.
    pub fn next_deadline(&self) -> Instant {
        let p = self.permissions.values().copied().min();
        let c = self.channels.values().map(|c| c.expires + CHANNEL_COOLDOWN).min();
        [Some(self.expires), p, c].into_iter().flatten().min().unwrap_or(self.expires)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn alloc(now: Instant, bw: Option<u64>) -> Allocation {
        Allocation::new([Some("192.0.2.1:5000".parse().unwrap()), None], now + Duration::from_secs(600), "1:u".into(), "u".into(), [0; 12], bw, now)
    }

    #[test]
    fn bandwidth_bucket_refills() {
        let t0 = Instant::now();
        let mut a = alloc(t0, Some(1000));
        assert!(a.take_bandwidth(t0, 600));
        assert!(!a.take_bandwidth(t0, 600));
        assert!(a.take_bandwidth(t0 + Duration::from_millis(500), 600));
        assert!(alloc(t0, None).take_bandwidth(t0, usize::MAX));
    }

    #[test]
    fn channels_are_consistent_and_expire() {
        let t0 = Instant::now();
        let mut a = alloc(t0, None);
        let p1: SocketAddr = "198.51.100.1:1".parse().unwrap();
        let p2: SocketAddr = "198.51.100.2:1".parse().unwrap();
        a.bind(0x4000, p1, t0);
        assert!(a.can_bind(0x4000, p1));
        assert!(!a.can_bind(0x4000, p2));
        assert!(!a.can_bind(0x4001, p1));
        assert_eq!(a.channel_peer(0x4000, t0), Some(p1));
        // The permission (300 s) lapses before the channel (600 s).
        assert_eq!(a.channel_peer(0x4000, t0 + Duration::from_secs(301)), None);
        a.expire(t0 + Duration::from_secs(601));
        assert_eq!(a.channel_peer(0x4000, t0 + Duration::from_secs(601)), None);
        assert!(!a.can_bind(0x4000, p2), "cooling down");
        assert!(a.can_bind(0x4000, p1));
        assert!(!a.has_permission(p1.ip(), t0 + Duration::from_secs(601)));
        a.expire(t0 + Duration::from_secs(901));
        assert!(a.can_bind(0x4000, p2));
    }
}
