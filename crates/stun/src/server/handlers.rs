//! Request handlers: Binding, Allocate, Refresh, CreatePermission, ChannelBind, and the Send
//! indication (RFC 8489, RFC 8656).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::allocation::Allocation;
use super::auth::{AuthFailure, Authed};
use super::reply::{Signer, seal};
use super::{BindFailure, ClientAction, Event, Family, FiveTuple, PortChoice, RelayBinder, Server};
use crate::attributes as attr;
use crate::channel_data::is_valid_channel;
use crate::error::Reject;
use crate::message::{Class, Message, Method};

/// Comprehension-required attributes this server understands.
const KNOWN: &[u16] = &[
    attr::MAPPED_ADDRESS, attr::USERNAME, attr::MESSAGE_INTEGRITY, attr::ERROR_CODE, attr::UNKNOWN_ATTRIBUTES,
    attr::CHANNEL_NUMBER, attr::LIFETIME, attr::XOR_PEER_ADDRESS, attr::DATA, attr::REALM, attr::NONCE,
    attr::XOR_RELAYED_ADDRESS, attr::REQUESTED_ADDRESS_FAMILY, attr::REQUESTED_TRANSPORT, attr::DONT_FRAGMENT,
    attr::MESSAGE_INTEGRITY_SHA256, attr::PASSWORD_ALGORITHM, attr::USERHASH, attr::XOR_MAPPED_ADDRESS,
    attr::EVEN_PORT, attr::RESERVATION_TOKEN,
    0x0024, // PRIORITY (ICE)
    0x0025, // USE-CANDIDATE (ICE)
];

/// At most this many unknown attributes are listed in a 420 answer.
const MAX_UNKNOWN: usize = 8;

impl Server {
    /// Answers a request; returns the reply length in `out`, or `None` to stay silent.
    pub(super) fn request(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, out: &mut [u8], binder: &mut dyn RelayBinder) -> Option<usize> {
        let mut unknown = [0u16; MAX_UNKNOWN];
        let mut n = 0;
        for a in msg.attributes() {
            if attr::is_comprehension_required(a.typ) && !KNOWN.contains(&a.typ) && n < MAX_UNKNOWN && !unknown[..n].contains(&a.typ) {
                unknown[n] = a.typ;
                n += 1;
            }
        }
        let method = msg.method();
        if method == Method::ALLOCATE && n < MAX_UNKNOWN && msg.get(attr::DONT_FRAGMENT).is_some() && !binder.supports_dont_fragment() {
            unknown[n] = attr::DONT_FRAGMENT;
            n += 1;
        }
        if n > 0 {
            return self.error_reply(out, msg, Reject::UnknownAttribute, None, &unknown[..n]);
        }
        if method == Method::BINDING {
            return self.binding(five, msg, out);
        }
        if ![Method::ALLOCATE, Method::REFRESH, Method::CREATE_PERMISSION, Method::CHANNEL_BIND].contains(&method) {
            return self.error_reply(out, msg, Reject::BadRequest, None, &[]);
        }
        let secs = self.secs(now);
        let authed = match self.authenticate(secs, &five, msg) {
            Ok(a) => a,
            Err(AuthFailure::Challenge(r)) => return self.challenge(secs, &five, out, msg, r),
            Err(AuthFailure::Reject(r)) => return self.error_reply(out, msg, r, None, &[]),
        };
        let result = match method {
            Method::ALLOCATE => self.allocate(now, five, msg, &authed, out, binder),
            Method::REFRESH => self.refresh(now, five, msg, &authed, out, binder),
            Method::CREATE_PERMISSION => self.create_permission(now, five, msg, &authed, out),
            _ => self.channel_bind(now, five, msg, &authed, out),
        };
        match result {
            Ok(len) => len,
            Err(r) => self.error_reply(out, msg, r, Some(Signer { key: &authed.key, sha256: authed.sha256 }), &[]),
        }
    }

    fn binding(&mut self, five: FiveTuple, msg: &Message<'_>, out: &mut [u8]) -> Option<usize> {
        let mut e = self.begin(out, msg, Class::Success)?;
        e.xor_address(attr::XOR_MAPPED_ADDRESS, five.client).ok()?;
        seal(e, msg, None)
    }

    fn lifetime(&self, msg: &Message<'_>) -> Result<Duration, Reject> {
        let requested = match msg.get(attr::LIFETIME) {
            Some(v) => Duration::from_secs(u64::from(attr::read_u32(attr::LIFETIME, v)?)),
            None => self.config.default_lifetime,
        };
        Ok(requested.clamp(self.config.default_lifetime, self.config.max_lifetime))
    }

    fn allocate(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, authed: &Authed<'_>, out: &mut [u8], binder: &mut dyn RelayBinder) -> Result<Option<usize>, Reject> {
        let signer = Signer { key: &authed.key, sha256: authed.sha256 };
        if let Some(a) = self.allocations.get(&five) {
            if a.allocate_tid != msg.transaction_id() || a.username != authed.username {
                return Err(Reject::AllocationMismatch);
            }
            // A retransmitted Allocate: answer as the first time.
            let (relays, left) = (a.relays, a.expires.saturating_duration_since(now));
            return Ok(self.allocate_success(out, msg, five, &relays, left, None, None, signer));
        }
        let transport = msg.get(attr::REQUESTED_TRANSPORT).ok_or(Reject::BadRequest)?;
        if attr::read_first_byte(attr::REQUESTED_TRANSPORT, transport)? != attr::TRANSPORT_UDP {
            return Err(Reject::UnsupportedTransport);
        }
        let families = match (msg.get(attr::REQUESTED_ADDRESS_FAMILY), msg.get(attr::ADDITIONAL_ADDRESS_FAMILY)) {
            (Some(_), Some(_)) => return Err(Reject::BadRequest),
            (Some(v), None) => match attr::read_first_byte(attr::REQUESTED_ADDRESS_FAMILY, v)? {
                attr::FAMILY_IPV4 => [Some(Family::V4), None],
                attr::FAMILY_IPV6 => [Some(Family::V6), None],
                _ => return Err(Reject::AddressFamilyNotSupported),
            },
            (None, Some(v)) => match attr::read_first_byte(attr::ADDITIONAL_ADDRESS_FAMILY, v)? {
                attr::FAMILY_IPV6 => [Some(Family::V4), Some(Family::V6)],
                _ => return Err(Reject::BadRequest),
            },
            (None, None) => [Some(Family::V4), None],
        };
        let lifetime = self.lifetime(msg)?;
        let user = authed.username.split_once(':').map_or(&*authed.username, |(_, u)| u).to_owned();
        if self.per_user.get(&user).copied().unwrap_or(0) >= self.config.user_quota {
            return Err(Reject::AllocationQuotaReached);
        }
        if self.allocations.len() as u64 >= u64::from(self.config.total_quota) {
            return Err(Reject::InsufficientCapacity);
        }
        let even_port = match msg.get(attr::EVEN_PORT) {
            Some([flags, ..]) => Some(flags & 0x80 != 0),
            Some([]) => return Err(Reject::BadRequest),
            None => None,
        };
        let token = msg.get(attr::RESERVATION_TOKEN);
        if token.is_some() && (even_port.is_some() || families[1].is_some() || msg.get(attr::REQUESTED_ADDRESS_FAMILY).is_some()) {
            return Err(Reject::BadRequest);
        }
        let mut relays = [None, None];
        let mut additional_error = None;
        let mut new_token = None;
        if let Some(t) = token {
            let t = <[u8; 8]>::try_from(t).map_err(|_| Reject::BadRequest)?;
            let (addr, _) = self.reservations.remove(&t).ok_or(Reject::InsufficientCapacity)?;
            relays[Family::of(addr.ip()).index()] = Some(addr);
        }
        for (i, family) in families.iter().enumerate() {
            let Some(family) = *family else { continue };
            if relays[family.index()].is_some() {
                continue;
            }
            let bound = match (i, even_port) {
                (0, Some(reserve)) => self.bind_even(now, family, reserve, binder).map(|(a, t)| {
                    new_token = t;
                    a
                }),
                _ => binder.bind(family, PortChoice::Any),
            };
            match bound {
                Ok(addr) => relays[family.index()] = Some(addr),
                Err(f) if i == 0 => {
                    return Err(match f {
                        BindFailure::Unsupported => Reject::AddressFamilyNotSupported,
                        BindFailure::Exhausted => Reject::InsufficientCapacity,
                    });
                }
                Err(f) => additional_error = Some(f),
            }
        }
        if msg.get(attr::DONT_FRAGMENT).is_some() {
            relays.iter().flatten().for_each(|r| binder.set_dont_fragment(*r));
        }
        let alloc = Allocation::new(relays, now + lifetime, authed.username.clone().into_owned(), user.clone(), msg.transaction_id(), self.config.bandwidth, now);
        for r in relays.iter().flatten() {
            self.by_relay.insert(*r, five);
        }
        self.allocations.insert(five, alloc);
        *self.per_user.entry(user).or_insert(0) += 1;
        self.stats.allocations_created += 1;
        self.events.push_back(Event::AllocationCreated { five, relays: relays.iter().flatten().copied().collect() });
        let reply = self.allocate_success(out, msg, five, &relays, lifetime, additional_error, new_token, signer);
        Ok(reply)
    }

    /// Binds an even port; with `reserve`, also the next port, kept 30 s for a later Allocate
    /// that presents the returned RESERVATION-TOKEN.
    fn bind_even(&mut self, now: Instant, family: Family, reserve: bool, binder: &mut dyn RelayBinder) -> Result<(SocketAddr, Option<[u8; 8]>), BindFailure> {
        for _ in 0..8 {
            let addr = binder.bind(family, PortChoice::Even)?;
            if !reserve {
                return Ok((addr, None));
            }
            match binder.bind(family, PortChoice::Exact(addr.port().wrapping_add(1))) {
                Ok(next) => {
                    self.next_tid = self.next_tid.wrapping_add(1);
                    let token = self.auth.nonce_key.token(self.next_tid);
                    self.reservations.insert(token, (next, now + Duration::from_secs(30)));
                    return Ok((addr, Some(token)));
                }
                Err(_) => binder.release(addr),
            }
        }
        Err(BindFailure::Exhausted)
    }

    #[allow(clippy::too_many_arguments)]
    fn allocate_success(&self, out: &mut [u8], msg: &Message<'_>, five: FiveTuple, relays: &[Option<SocketAddr>; 2], lifetime: Duration, additional_error: Option<BindFailure>, token: Option<[u8; 8]>, signer: Signer<'_>) -> Option<usize> {
        let mut e = self.begin(out, msg, Class::Success)?;
        for r in relays.iter().flatten() {
            e.xor_address(attr::XOR_RELAYED_ADDRESS, *r).ok()?;
        }
        if let Some(f) = additional_error {
            let r = match f {
                BindFailure::Unsupported => Reject::AddressFamilyNotSupported,
                BindFailure::Exhausted => Reject::InsufficientCapacity,
            };
            let reason = r.to_string();
            e.attr_with(attr::ADDRESS_ERROR_CODE, 4 + reason.len(), |v| {
                v[0] = attr::FAMILY_IPV6;
                v[1] = 0;
                v[2] = (r.code() / 100) as u8;
                v[3] = (r.code() % 100) as u8;
                v[4..].copy_from_slice(reason.as_bytes());
            })
            .ok()?;
        }
        e.attr_u32(attr::LIFETIME, lifetime.as_secs() as u32).ok()?;
        if let Some(t) = token {
            e.attr(attr::RESERVATION_TOKEN, &t).ok()?;
        }
        e.xor_address(attr::XOR_MAPPED_ADDRESS, five.client).ok()?;
        seal(e, msg, Some(signer))
    }

    /// The allocation of `five`, checking that the request uses the credentials that made it.
    fn owned_allocation(&mut self, five: &FiveTuple, authed: &Authed<'_>) -> Result<&mut Allocation, Reject> {
        let a = self.allocations.get_mut(five).ok_or(Reject::AllocationMismatch)?;
        if a.username != authed.username {
            return Err(Reject::WrongCredentials);
        }
        Ok(a)
    }

    fn refresh(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, authed: &Authed<'_>, out: &mut [u8], binder: &mut dyn RelayBinder) -> Result<Option<usize>, Reject> {
        let signer = Signer { key: &authed.key, sha256: authed.sha256 };
        let requested_zero = match msg.get(attr::LIFETIME) {
            Some(v) => attr::read_u32(attr::LIFETIME, v)? == 0,
            None => false,
        };
        let lifetime = if requested_zero { Duration::ZERO } else { self.lifetime(msg)? };
        let alloc = self.owned_allocation(&five, authed)?;
        let mut family = None;
        if let Some(v) = msg.get(attr::REQUESTED_ADDRESS_FAMILY) {
            let (ip, f) = match attr::read_first_byte(attr::REQUESTED_ADDRESS_FAMILY, v)? {
                attr::FAMILY_IPV4 => (std::net::Ipv4Addr::UNSPECIFIED.into(), Family::V4),
                attr::FAMILY_IPV6 => (std::net::Ipv6Addr::UNSPECIFIED.into(), Family::V6),
                _ => return Err(Reject::AddressFamilyNotSupported),
            };
            if !alloc.serves_family(ip) {
                return Err(Reject::PeerAddressFamilyMismatch);
            }
            family = Some(f);
        }
        let dual = alloc.relays.iter().flatten().count() == 2;
        match (requested_zero, family) {
            // Lifetime 0 with a family on a dual allocation deletes that relayed address only.
            (true, Some(f)) if dual => {
                if let Some(relay) = alloc.relays[f.index()].take() {
                    self.by_relay.remove(&relay);
                    binder.release(relay);
                }
            }
            (true, _) => self.remove_allocation(five, false, binder),
            (false, _) => alloc.expires = now + lifetime,
        }

        let mut e = match self.begin(out, msg, Class::Success) {
            Some(e) => e,
            None => return Ok(None),
        };
        if e.attr_u32(attr::LIFETIME, lifetime.as_secs() as u32).is_err() {
            return Ok(None);
        }
        Ok(seal(e, msg, Some(signer)))
    }

    /// Parses a XOR-PEER-ADDRESS value and checks it against the allocation and the policy.
    fn checked_peer(&self, five: &FiveTuple, msg: &Message<'_>, value: &[u8]) -> Result<SocketAddr, Reject> {
        let peer = attr::read_xor_address(attr::XOR_PEER_ADDRESS, value, &msg.transaction_id())?;
        let alloc = self.allocations.get(five).ok_or(Reject::AllocationMismatch)?;
        if !alloc.serves_family(peer.ip()) {
            return Err(Reject::PeerAddressFamilyMismatch);
        }
        if !self.config.policy.is_allowed(peer.ip()) {
            return Err(Reject::Forbidden);
        }
        Ok(peer)
    }

    fn create_permission(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, authed: &Authed<'_>, out: &mut [u8]) -> Result<Option<usize>, Reject> {
        self.owned_allocation(&five, authed)?;
        let mut any = false;
        for a in msg.attributes().filter(|a| a.typ == attr::XOR_PEER_ADDRESS) {
            self.checked_peer(&five, msg, a.value)?;
            any = true;
        }
        if !any {
            return Err(Reject::BadRequest);
        }
        let alloc = self.owned_allocation(&five, authed)?;
        for a in msg.attributes().filter(|a| a.typ == attr::XOR_PEER_ADDRESS) {
            if let Ok(peer) = attr::read_xor_address(attr::XOR_PEER_ADDRESS, a.value, &msg.transaction_id()) {
                alloc.permit(peer.ip(), now);
            }
        }
        let signer = Signer { key: &authed.key, sha256: authed.sha256 };
        Ok(self.begin(out, msg, Class::Success).and_then(|e| seal(e, msg, Some(signer))))
    }

    fn channel_bind(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, authed: &Authed<'_>, out: &mut [u8]) -> Result<Option<usize>, Reject> {
        self.owned_allocation(&five, authed)?;
        let channel = attr::read_channel_number(msg.get(attr::CHANNEL_NUMBER).ok_or(Reject::BadRequest)?)?;
        if !is_valid_channel(channel) {
            return Err(Reject::BadRequest);
        }
        let peer = self.checked_peer(&five, msg, msg.get(attr::XOR_PEER_ADDRESS).ok_or(Reject::BadRequest)?)?;
        let alloc = self.owned_allocation(&five, authed)?;
        if !alloc.can_bind(channel, peer) {
            return Err(Reject::BadRequest);
        }
        alloc.bind(channel, peer, now);
        let signer = Signer { key: &authed.key, sha256: authed.sha256 };
        Ok(self.begin(out, msg, Class::Success).and_then(|e| seal(e, msg, Some(signer))))
    }

    /// A Send indication: relay DATA to XOR-PEER-ADDRESS if a permission allows it.
    pub(super) fn send_indication(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, input: &[u8]) -> ClientAction {
        let (Some(peer), Some(data)) = (msg.get(attr::XOR_PEER_ADDRESS), msg.get(attr::DATA)) else { return self.drop_msg() };
        let Ok(peer) = attr::read_xor_address(attr::XOR_PEER_ADDRESS, peer, &msg.transaction_id()) else { return self.drop_msg() };
        let Some(alloc) = self.allocations.get_mut(&five) else { return self.drop_msg() };
        let Some(relay) = alloc.relay_for(peer) else { return self.drop_msg() };
        if !alloc.has_permission(peer.ip(), now) {
            return self.drop_msg();
        }
        if !alloc.take_bandwidth(now, data.len()) {
            self.stats.dropped_bandwidth += 1;
            return ClientAction::None;
        }
        let start = data.as_ptr() as usize - input.as_ptr() as usize;
        self.stats.packets_to_peers += 1;
        self.stats.bytes_to_peers += data.len() as u64;
        ClientAction::Relay { relay, peer, payload: start..start + data.len() }
    }
}
