//! Behaviour of the TURN state machine: Binding, authentication, Allocate, Refresh, quotas.
//! Fake clock and fake relay binder, no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{self, LongTermKey, PasswordAlgorithm};
use bureau_stun::server::{ClientAction, FiveTuple, ServerConfig};
use bureau_stun::{Class, Encoder, Message, Method};
use common::*;

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
fn dont_fragment_without_binder_support_gets_420() {
    let mut h = Harness::new(config());
    let c = h.login(five(1), "alice", 600);
    let req = h.request(Method::ALLOCATE, Some(&c), |e| {
        e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
        e.attr(attr::DONT_FRAGMENT, &[]).unwrap();
    });
    let reply = h.send(five(1), &req).1;
    let m = Message::decode(&reply).unwrap();
    assert_eq!(error_code(&m), Some(420));
    assert_eq!(attr::read_unknown_attributes(m.get(attr::UNKNOWN_ATTRIBUTES).unwrap()).unwrap().collect::<Vec<_>>(), vec![attr::DONT_FRAGMENT]);
}
