//! Behaviour of the TURN state machine: permissions, indications, channels, peer policy,
//! bandwidth, address families and reserved ports. Fake clock and fake binder, no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bureau_stun::attributes as attr;
use bureau_stun::server::{ClientAction, ServerConfig};
use bureau_stun::{Class, Encoder, Message, Method};
use common::*;

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
    // Lifetime 0 with REQUESTED-ADDRESS-FAMILY drops only that family of a dual allocation.
    let drop_v6 = h.request(Method::REFRESH, Some(&c), |e| {
        e.attr_u32(attr::LIFETIME, 0).unwrap();
        e.attr(attr::REQUESTED_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
    });
    assert_eq!(Message::decode(&h.send(five(1), &drop_v6).1).unwrap().class(), Class::Success);
    assert!(h.server.has_allocation(&five(1)));
    assert_eq!(h.binder.released.len(), 1);
    assert!(h.binder.released[0].is_ipv6());
    assert_eq!(h.permit(five(1), &c, "[2606:4700::1]:1".parse().unwrap()), Some(443));
    assert_eq!(h.permit(five(1), &c, PEER.parse().unwrap()), None);
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
