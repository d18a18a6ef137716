//! Behaviour of the TURN state machine, with a fake clock and a fake relay binder: no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{self, LongTermKey, PasswordAlgorithm};
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, ClientAction, Family, FiveTuple, PortChoice, RelayBinder, Server, ServerConfig, Transport};
use bureau_stun::{Class, Encoder, Message, Method};

const SECRET: &[u8] = b"s3cret";
const REALM: &str = "bureau.test";
const UNIX0: u64 = 1_800_000_000;

#[derive(Default)]
struct FakeBinder {
    next: u16,
    v6: bool,
    full: bool,
    released: Vec<SocketAddr>,
}

impl RelayBinder for FakeBinder {
    fn bind(&mut self, family: Family, choice: PortChoice) -> Result<SocketAddr, BindFailure> {
        if self.full {
            return Err(BindFailure::Exhausted);
        }
        self.next += 1;
        let port = match choice {
            PortChoice::Any => 50001 + self.next,
            PortChoice::Even => {
                self.next += 1;
                50000 + 2 * self.next
            }
            PortChoice::Exact(p) => p,
        };
        match family {
            Family::V4 => Ok(SocketAddr::from(([203, 0, 113, 1], port))),
            Family::V6 if self.v6 => Ok(SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], port))),
            Family::V6 => Err(BindFailure::Unsupported),
        }
    }
    fn release(&mut self, addr: SocketAddr) {
        self.released.push(addr);
    }
}

struct Harness {
    server: Server,
    binder: FakeBinder,
    t0: Instant,
    now: Instant,
    tid: u8,
}

fn config() -> ServerConfig {
    let mut c = ServerConfig { realm: REALM.into(), auth_secret: SECRET.to_vec(), ..ServerConfig::default() };
    c.policy.allow_loopback = false;
    c
}

fn five(port: u16) -> FiveTuple {
    FiveTuple { client: SocketAddr::from(([198, 51, 100, 9], port)), server: "192.0.2.10:3478".parse().unwrap(), transport: Transport::Udp }
}

const PEER: &str = "93.184.216.34:4000";

/// A client's credentials and current nonce.
struct Creds {
    username: String,
    key: LongTermKey,
    nonce: Vec<u8>,
}

impl Harness {
    fn new(config: ServerConfig) -> Self {
        let t0 = Instant::now();
        Harness { server: Server::new(config, t0, UNIX0, NonceKey::new([5; 32])), binder: FakeBinder::default(), t0, now: t0, tid: 0 }
    }

    fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.server.handle_timeout(self.now, &mut self.binder);
    }

    fn send(&mut self, five: FiveTuple, bytes: &[u8]) -> (ClientAction, Vec<u8>) {
        let mut out = vec![0u8; 2048];
        let a = self.server.handle_client(self.now, five, bytes, &mut out, &mut self.binder);
        let reply = match a {
            ClientAction::Reply(n) => out[..n].to_vec(),
            _ => Vec::new(),
        };
        (a, reply)
    }

    /// Builds a request; with `creds`, signs it with MESSAGE-INTEGRITY.
    fn request(&mut self, method: Method, creds: Option<&Creds>, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
        self.tid += 1;
        let mut buf = vec![0u8; 1024];
        let mut e = Encoder::new(&mut buf, method, Class::Request, &[self.tid; 12]).unwrap();
        add(&mut e);
        if let Some(c) = creds {
            e.attr(attr::USERNAME, c.username.as_bytes()).unwrap();
            e.attr(attr::REALM, REALM.as_bytes()).unwrap();
            e.attr(attr::NONCE, &c.nonce).unwrap();
            e.integrity(c.key.as_bytes()).unwrap();
        }
        let n = e.finish();
        buf.truncate(n);
        buf
    }

    /// Gets a nonce with an unauthenticated request, as clients do.
    fn login(&mut self, five: FiveTuple, user: &str, ttl: u64) -> Creds {
        let now_unix = UNIX0 + (self.now - self.t0).as_secs();
        let (username, password) = credentials::mint(SECRET, user, ttl, now_unix);
        let req = self.request(Method::ALLOCATE, None, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        let (_, reply) = self.send(five, &req);
        let m = Message::decode(&reply).unwrap();
        assert_eq!(error_code(&m), Some(401));
        assert_eq!(m.get(attr::REALM), Some(REALM.as_bytes()));
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, REALM, password.as_bytes());
        Creds { username, key, nonce: m.get(attr::NONCE).unwrap().to_vec() }
    }

    fn allocate(&mut self, five: FiveTuple, c: &Creds) -> Vec<u8> {
        let req = self.request(Method::ALLOCATE, Some(c), |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        self.send(five, &req).1
    }

    fn relayed(&mut self, five: FiveTuple, c: &Creds) -> SocketAddr {
        let reply = self.allocate(five, c);
        let m = Message::decode(&reply).unwrap();
        assert_eq!(m.class(), Class::Success, "{:?}", error_code(&m));
        assert!(m.verify_integrity(c.key.as_bytes()));
        attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, m.get(attr::XOR_RELAYED_ADDRESS).unwrap(), &m.transaction_id()).unwrap()
    }

    fn permit(&mut self, five: FiveTuple, c: &Creds, peer: SocketAddr) -> Option<u16> {
        let req = self.request(Method::CREATE_PERMISSION, Some(c), |e| e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap());
        let (_, reply) = self.send(five, &req);
        error_code(&Message::decode(&reply).unwrap())
    }

    fn bind_channel(&mut self, five: FiveTuple, c: &Creds, ch: u16, peer: SocketAddr) -> Option<u16> {
        let req = self.request(Method::CHANNEL_BIND, Some(c), |e| {
            e.attr(attr::CHANNEL_NUMBER, &[(ch >> 8) as u8, ch as u8, 0, 0]).unwrap();
            e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap();
        });
        let (_, reply) = self.send(five, &req);
        error_code(&Message::decode(&reply).unwrap())
    }
}

fn error_code(m: &Message<'_>) -> Option<u16> {
    m.get(attr::ERROR_CODE).map(|v| attr::read_error_code(v).unwrap().0)
}

#[test]
fn binding_answers_the_mapped_address() {
    let mut h = Harness::new(config());
    let mut buf = [0u8; 64];
    let mut e = Encoder::new(&mut buf, Method::BINDING, Class::Request, &[1; 12]).unwrap();
    e.fingerprint().unwrap();
    let n = e.finish();
    let (_, reply) = h.send(five(1000), &buf[..n]);
    let m = Message::decode(&reply).unwrap();
    assert_eq!(m.class(), Class::Success);
    assert!(m.has_fingerprint());
    let mapped = attr::read_xor_address(attr::XOR_MAPPED_ADDRESS, m.get(attr::XOR_MAPPED_ADDRESS).unwrap(), &[1; 12]).unwrap();
    assert_eq!(mapped, five(1000).client);
}

#[test]
fn allocate_needs_credentials_and_answers_once_per_five_tuple() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    let first = h.send(five(1), &req).1;
    let m = Message::decode(&first).unwrap();
    assert_eq!(m.class(), Class::Success);
    assert_eq!(attr::read_u32(attr::LIFETIME, m.get(attr::LIFETIME).unwrap()).unwrap(), 600);
    // A retransmission gets the same relayed address; a new Allocate gets 437.
    let again = h.send(five(1), &req).1;
    assert_eq!(Message::decode(&again).unwrap().get(attr::XOR_RELAYED_ADDRESS), m.get(attr::XOR_RELAYED_ADDRESS));
    let other = h.allocate(five(1), &c);
    assert_eq!(error_code(&Message::decode(&other).unwrap()), Some(437));
    assert_eq!(h.server.stats().allocations, 1);
}

#[test]
fn wrong_password_expired_credentials_and_stale_nonces_are_refused() {
    let mut h = Harness::new(config());
    let mut c = h.login(five(1), "alice", 600);
    let good_key = c.key;
    c.key = LongTermKey::derive(PasswordAlgorithm::Md5, &c.username, REALM, b"wrong");
    assert_eq!(error_code(&Message::decode(&h.allocate(five(1), &c)).unwrap()), Some(401));
    c.key = good_key;
    h.advance(601);
    // The nonce is older than 600 s: 438 with a new nonce.
    let reply = h.allocate(five(1), &c);
    let m = Message::decode(&reply).unwrap();
    assert_eq!(error_code(&m), Some(438));
    c.nonce = m.get(attr::NONCE).unwrap().to_vec();
    // The credentials expired 1 s ago.
    assert_eq!(error_code(&Message::decode(&h.allocate(five(1), &c)).unwrap()), Some(401));
    // A nonce issued to another address is not valid here.
    let c2 = h.login(five(2), "bob", 600);
    let stolen = Creds { username: c2.username.clone(), key: c2.key, nonce: c2.nonce.clone() };
    let other = FiveTuple { client: "198.51.100.77:2".parse().unwrap(), ..five(2) };
    assert_eq!(error_code(&Message::decode(&h.allocate(other, &stolen)).unwrap()), Some(438));
    assert!(h.server.stats().unauthorized >= 3);
}

#[test]
fn indications_relay_only_with_a_permission() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let relay = h.relayed(five(1), &c);
    let peer: SocketAddr = PEER.parse().unwrap();
    let send = |h: &mut Harness| {
        let mut buf = vec![0u8; 256];
        let mut e = Encoder::new(&mut buf, Method::SEND, Class::Indication, &[9; 12]).unwrap();
        e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap();
        e.attr(attr::DATA, b"ping").unwrap();
        let n = e.finish();
        buf.truncate(n);
        let (a, _) = h.send(five(1), &buf);
        match a {
            ClientAction::Relay { relay, peer, payload } => Some((relay, peer, buf[payload].to_vec())),
            _ => None,
        }
    };
    assert_eq!(send(&mut h), None);
    let mut out = [0u8; 256];
    assert!(h.server.handle_peer(h.now, relay, peer, b"x", &mut out).is_none());
    assert_eq!(h.permit(five(1), &c, peer), None);
    assert_eq!(send(&mut h), Some((relay, peer, b"ping".to_vec())));
    let (to, n) = h.server.handle_peer(h.now, relay, peer, b"pong", &mut out).unwrap();
    assert_eq!(to, five(1));
    let m = Message::decode(&out[..n]).unwrap();
    assert_eq!((m.method(), m.class()), (Method::DATA, Class::Indication));
    assert_eq!(m.get(attr::DATA), Some(&b"pong"[..]));
    // Permissions last 300 s unless refreshed.
    h.advance(301);
    assert_eq!(send(&mut h), None);
}

#[test]
fn channels_carry_channel_data_both_ways() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 3600);
    let relay = h.relayed(five(1), &c);
    let peer: SocketAddr = PEER.parse().unwrap();
    let other: SocketAddr = "93.184.216.35:4000".parse().unwrap();
    assert_eq!(h.bind_channel(five(1), &c, 0x3FFF, peer), Some(400));
    assert_eq!(h.bind_channel(five(1), &c, 0x8000, peer), Some(400));
    assert_eq!(h.bind_channel(five(1), &c, 0x4000, peer), None);
    assert_eq!(h.bind_channel(five(1), &c, 0x4000, peer), None, "refresh");
    assert_eq!(h.bind_channel(five(1), &c, 0x4000, other), Some(400));
    assert_eq!(h.bind_channel(five(1), &c, 0x4001, peer), Some(400));
    let (a, _) = h.send(five(1), &[0x40, 0x00, 0x00, 0x03, b'a', b'b', b'c', 0]);
    assert_eq!(a, ClientAction::Relay { relay, peer, payload: 4..7 });
    let (a, _) = h.send(five(1), &[0x40, 0x01, 0x00, 0x01, b'a']);
    assert_eq!(a, ClientAction::None, "unbound channel");
    let mut out = [0u8; 64];
    let (_, n) = h.server.handle_peer(h.now, relay, peer, b"xyz", &mut out).unwrap();
    assert_eq!(&out[..n], &[0x40, 0, 0, 3, b'x', b'y', b'z']);
    // Channels last 600 s; the permission they installed lasts 300 s.
    h.advance(301);
    assert_eq!(h.send(five(1), &[0x40, 0, 0, 1, b'a']).0, ClientAction::None);
    assert!(h.server.stats().packets_to_peers == 1 && h.server.stats().packets_to_clients == 1);
}

#[test]
fn forbidden_peers_get_403() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    h.relayed(five(1), &c);
    for p in ["10.0.0.1:1", "127.0.0.1:1", "[::ffff:192.168.1.1]:1", "169.254.169.254:80"] {
        let p: SocketAddr = p.parse().unwrap();
        let code = if p.is_ipv6() { 443 } else { 403 };
        assert_eq!(h.permit(five(1), &c, p), Some(code), "{p}");
    }
    assert_eq!(h.bind_channel(five(1), &c, 0x4000, "192.168.0.1:9".parse().unwrap()), Some(403));
    assert_eq!(h.server.stats().forbidden, 4);
}

#[test]
fn refresh_extends_and_lifetime_zero_deletes() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 7200);
    let relay = h.relayed(five(1), &c);
    let req = h.request(Method::REFRESH, Some(&c), |e| e.attr_u32(attr::LIFETIME, 7200).unwrap());
    let m_bytes = h.send(five(1), &req).1;
    let m = Message::decode(&m_bytes).unwrap();
    assert_eq!(attr::read_u32(attr::LIFETIME, m.get(attr::LIFETIME).unwrap()).unwrap(), 3600);
    h.advance(3000);
    assert_eq!(h.server.stats().allocations, 1);
    let mut c = c;
    let req = h.request(Method::REFRESH, Some(&c), |e| e.attr_u32(attr::LIFETIME, 0).unwrap());
    let stale = h.send(five(1), &req).1;
    let m = Message::decode(&stale).unwrap();
    assert_eq!(error_code(&m), Some(438));
    c.nonce = m.get(attr::NONCE).unwrap().to_vec();
    let req = h.request(Method::REFRESH, Some(&c), |e| e.attr_u32(attr::LIFETIME, 0).unwrap());
    let m_bytes = h.send(five(1), &req).1;
    assert_eq!(Message::decode(&m_bytes).unwrap().class(), Class::Success);
    assert_eq!(h.server.stats().allocations, 0);
    assert_eq!(h.binder.released, vec![relay]);
    let req = h.request(Method::REFRESH, Some(&c), |_| {});
    assert_eq!(error_code(&Message::decode(&h.send(five(1), &req).1).unwrap()), Some(437));
}

#[test]
fn allocations_expire() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 7200);
    h.relayed(five(1), &c);
    h.advance(599);
    assert!(h.server.has_allocation(&five(1)));
    h.advance(2);
    assert!(!h.server.has_allocation(&five(1)));
    assert_eq!(h.binder.released.len(), 1);
}

#[test]
fn quotas_per_user_and_in_total() {
    let mut h = Harness::new(ServerConfig { user_quota: 2, total_quota: 3, ..config() });
    for port in 1..=2 {
        let c = h.login(five(port), "alice", 600);
        h.relayed(five(port), &c);
    }
    let c = h.login(five(3), "alice", 600);
    assert_eq!(error_code(&Message::decode(&h.allocate(five(3), &c)).unwrap()), Some(486));
    let c = h.login(five(4), "bob", 600);
    h.relayed(five(4), &c);
    let c = h.login(five(5), "carol", 600);
    assert_eq!(error_code(&Message::decode(&h.allocate(five(5), &c)).unwrap()), Some(508));
    h.binder.full = true;
    let mut h2 = Harness::new(config());
    h2.binder.full = true;
    let c = h2.login(five(1), "dave", 600);
    assert_eq!(error_code(&Message::decode(&h2.allocate(five(1), &c)).unwrap()), Some(508));
    assert_eq!(h.server.stats().quota_rejections, 2);
}

#[test]
fn bandwidth_is_capped_per_allocation() {
    let mut h = Harness::new(ServerConfig { bandwidth: Some(1000), ..config() });
    let c = h.login(five(1), "alice", 600);
    h.relayed(five(1), &c);
    assert_eq!(h.bind_channel(five(1), &c, 0x4000, PEER.parse().unwrap()), None);
    let mut pkt = vec![0x40, 0, 0x01, 0xF4];
    pkt.extend_from_slice(&[0u8; 500]);
    let relayed = (0..5).filter(|_| matches!(h.send(five(1), &pkt).0, ClientAction::Relay { .. })).count();
    assert_eq!(relayed, 2);
    h.now += Duration::from_secs(1);
    assert!(matches!(h.send(five(1), &pkt).0, ClientAction::Relay { .. }));
    assert_eq!(h.server.stats().dropped_bandwidth, 3);
}

#[test]
fn challenges_are_capped_per_source_ip() {
    let mut h = Harness::new(config());
    let req = h.request(Method::ALLOCATE, None, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    let answered = (0..100).filter(|i| matches!(h.send(five(*i), &req).0, ClientAction::Reply(_))).count();
    assert_eq!(answered, 20);
    let other = FiveTuple { client: "198.51.100.10:1".parse().unwrap(), ..five(1) };
    assert!(matches!(h.send(other, &req).0, ClientAction::Reply(_)));
    assert_eq!(h.server.stats().auth_rate_limited, 80);
}

#[test]
fn address_families() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::REQUESTED_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
    });
    assert_eq!(error_code(&Message::decode(&h.send(five(1), &req).1).unwrap()), Some(440));
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::ADDITIONAL_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
    });
    let reply = h.send(five(1), &req).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(m.class(), Class::Success);
    assert_eq!(m.attributes().filter(|a| a.typ == attr::XOR_RELAYED_ADDRESS).count(), 1);
    let v = m.get(attr::ADDRESS_ERROR_CODE).unwrap();
    assert_eq!((v[0], v[2], v[3]), (2, 4, 40));

    let mut h = Harness::new(config());
    h.binder.v6 = true;
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::ADDITIONAL_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
    });
    let reply = h.send(five(1), &req).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(m.attributes().filter(|a| a.typ == attr::XOR_RELAYED_ADDRESS).count(), 2);
    let both = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::REQUESTED_ADDRESS_FAMILY, &[1, 0, 0, 0]).unwrap();
        e.attr(attr::ADDITIONAL_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
    });
    assert_eq!(error_code(&Message::decode(&h.send(five(2), &both).1).unwrap()), Some(400));
    assert_eq!(h.permit(five(1), &c, "[2606:4700::1]:1".parse().unwrap()), None);
}

#[test]
fn unknown_required_attributes_get_420_and_tcp_relays_get_442() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(0x0031, &[0; 4]).unwrap();
        e.attr(0x8031, &[0; 4]).unwrap();
    });
    let reply = h.send(five(1), &req).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(error_code(&m), Some(420));
    assert_eq!(attr::read_unknown_attributes(m.get(attr::UNKNOWN_ATTRIBUTES).unwrap()).unwrap().collect::<Vec<_>>(), vec![0x0031]);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| e.attr(attr::REQUESTED_TRANSPORT, &[6, 0, 0, 0]).unwrap());
    assert_eq!(error_code(&Message::decode(&h.send(five(1), &req).1).unwrap()), Some(442));
    let req = h.request(Method::ALLOCATE, Some(&c), |_| {});
    assert_eq!(error_code(&Message::decode(&h.send(five(1), &req).1).unwrap()), Some(400));
}

#[test]
fn other_credentials_on_an_allocation_get_441() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    h.relayed(five(1), &c);
    let mallory = h.login(five(1), "mallory", 600);
    assert_eq!(h.permit(five(1), &mallory, PEER.parse().unwrap()), Some(441));
}

#[test]
fn sha256_integrity_and_password_algorithm() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let now_unix = UNIX0;
    let (username, password) = credentials::mint(SECRET, "alice", 600, now_unix);
    let key = LongTermKey::derive(PasswordAlgorithm::Sha256, &username, REALM, password.as_bytes());
    let mut buf = vec![0u8; 512];
    let mut e = Encoder::new(&mut buf, Method::ALLOCATE, Class::Request, &[42; 12]).unwrap();
    e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
    e.attr(attr::USERNAME, username.as_bytes()).unwrap();
    e.attr(attr::REALM, REALM.as_bytes()).unwrap();
    e.attr(attr::NONCE, &c.nonce).unwrap();
    e.attr(attr::PASSWORD_ALGORITHMS, &attr::OFFERED_PASSWORD_ALGORITHMS).unwrap();
    e.attr(attr::PASSWORD_ALGORITHM, &[0, 2, 0, 0]).unwrap();
    e.integrity_sha256(key.as_bytes()).unwrap();
    let n = e.finish();
    let reply = h.send(five(1), &buf[..n]).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(m.class(), Class::Success);
    assert!(m.verify_integrity_sha256(key.as_bytes()));
}

#[test]
fn even_port_with_reservation() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::EVEN_PORT, &[0x80]).unwrap();
    });
    let reply = h.send(five(1), &req).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(m.class(), Class::Success);
    let relay = attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, m.get(attr::XOR_RELAYED_ADDRESS).unwrap(), &m.transaction_id()).unwrap();
    assert_eq!(relay.port() % 2, 0);
    let token = m.get(attr::RESERVATION_TOKEN).unwrap().to_vec();
    assert_eq!(token.len(), 8);
    let c2 = h.login(five(2), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c2), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::RESERVATION_TOKEN, &token).unwrap();
    });
    let reply = h.send(five(2), &req).1;
    let m = Message::decode(&reply).unwrap();
    let next = attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, m.get(attr::XOR_RELAYED_ADDRESS).unwrap(), &m.transaction_id()).unwrap();
    assert_eq!(next.port(), relay.port() + 1);
    // A token works once.
    let c3 = h.login(five(3), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c3), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::RESERVATION_TOKEN, &token).unwrap();
    });
    assert_eq!(error_code(&Message::decode(&h.send(five(3), &req).1).unwrap()), Some(508));
}

#[test]
fn unclaimed_reservations_are_released() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::EVEN_PORT, &[0x80]).unwrap();
    });
    h.send(five(1), &req);
    h.advance(31);
    assert_eq!(h.binder.released.len(), 1);
}
