//! The ChannelData relay path allocates nothing per packet, in either direction.
//!
//! This test binary installs a counting global allocator, sets up an allocation with a channel,
//! then relays many packets and checks that the allocation counter did not move.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::cell::Cell;
use std::time::{Duration, Instant};

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{self, LongTermKey, PasswordAlgorithm};
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, ClientAction, Family, PortChoice, FiveTuple, RelayBinder, Server, ServerConfig, Transport};
use bureau_stun::{Class, Encoder, Message, Method};

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness's other threads do not count).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Binder;

impl RelayBinder for Binder {
    fn bind(&mut self, _: Family, _: PortChoice) -> Result<SocketAddr, BindFailure> {
        Ok("203.0.113.1:50000".parse().unwrap())
    }
    fn release(&mut self, _: SocketAddr) {}
}

fn signed(method: Method, tid: u8, username: &str, nonce: &[u8], key: &LongTermKey, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut e = Encoder::new(&mut buf, method, Class::Request, &[tid; 12]).unwrap();
    add(&mut e);
    e.attr(attr::USERNAME, username.as_bytes()).unwrap();
    e.attr(attr::REALM, b"r").unwrap();
    e.attr(attr::NONCE, nonce).unwrap();
    e.integrity(key.as_bytes()).unwrap();
    let n = e.finish();
    buf.truncate(n);
    buf
}

#[test]
fn channel_data_relay_does_not_allocate() {
    let now = Instant::now();
    let config = ServerConfig { realm: "r".into(), auth_secret: b"k".to_vec(), bandwidth: Some(1 << 40), ..ServerConfig::default() };
    let mut server = Server::new(config, now, 1_800_000_000, NonceKey::new([1; 32]));
    let five = FiveTuple { client: "198.51.100.1:1000".parse().unwrap(), server: "192.0.2.1:3478".parse().unwrap(), transport: Transport::Udp };
    let peer: SocketAddr = "93.184.216.34:5000".parse().unwrap();
    let mut out = vec![0u8; 2048];
    let mut b = Binder;

    let mut buf = vec![0u8; 64];
    let n = Encoder::new(&mut buf, Method::ALLOCATE, Class::Request, &[1; 12]).unwrap().finish();
    let ClientAction::Reply(len) = server.handle_client(now, five, &buf[..n], &mut out, &mut b) else { panic!("no challenge") };
    let nonce = Message::decode(&out[..len]).unwrap().get(attr::NONCE).unwrap().to_vec();
    let (username, password) = credentials::mint(b"k", "u", 600, 1_800_000_000);
    let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, "r", password.as_bytes());
    let alloc = signed(Method::ALLOCATE, 2, &username, &nonce, &key, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    assert!(matches!(server.handle_client(now, five, &alloc, &mut out, &mut b), ClientAction::Reply(_)));
    let bind = signed(Method::CHANNEL_BIND, 3, &username, &nonce, &key, |e| {
        e.attr(attr::CHANNEL_NUMBER, &[0x40, 0x00, 0, 0]).unwrap();
        e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap();
    });
    server.handle_client(now, five, &bind, &mut out, &mut b);
    let relay: SocketAddr = "203.0.113.1:50000".parse().unwrap();

    let mut packet = vec![0x40, 0x00, 0x00, 0xC8];
    packet.extend_from_slice(&[7u8; 200]);
    let payload = [9u8; 200];
    // Warm up (hash maps may size themselves on first use).
    let _ = server.handle_client(now, five, &packet, &mut out, &mut b);
    let _ = server.handle_peer(now, relay, peer, &payload, &mut out);

    let before = allocations();
    for i in 0..10_000u64 {
        let t = now + Duration::from_micros(i);
        let a = server.handle_client(t, five, &packet, &mut out, &mut b);
        assert!(matches!(a, ClientAction::Relay { .. }));
        assert!(server.handle_peer(t, relay, peer, &payload, &mut out).is_some());
    }
    let after = allocations();
    assert_eq!(after - before, 0, "heap allocations on the relay path");
    assert_eq!(server.stats().packets_to_peers, 10_001);
}
