//! The running server's UDP relay path — data-plane thread, sockets, state machine — allocates
//! nothing per packet, in either direction.
//!
//! This test binary installs a global allocator that counts every allocation in the process. The
//! client and the peer are blocking std sockets on the test thread (they allocate nothing while
//! relaying), so what the counter sees while packets flow is the server's.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};
use bureau_turn::{Config, Server};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SECRET: &str = "no-alloc-secret";
const REALM: &str = "test";

/// Sends a request (signed when `auth` is given) and returns the answer.
fn request(sock: &UdpSocket, server: SocketAddr, method: Method, tid: u8, auth: Option<(&str, &[u8], &LongTermKey)>, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut e = Encoder::new(&mut buf, method, Class::Request, &[tid; 12]).unwrap();
    add(&mut e);
    if let Some((username, nonce, key)) = auth {
        e.attr(attr::USERNAME, username.as_bytes()).unwrap();
        e.attr(attr::REALM, REALM.as_bytes()).unwrap();
        e.attr(attr::NONCE, nonce).unwrap();
        e.integrity(key.as_bytes()).unwrap();
    }
    let n = e.finish();
    sock.send_to(&buf[..n], server).unwrap();
    let mut answer = vec![0u8; 2048];
    let n = sock.recv(&mut answer).expect("no answer");
    answer.truncate(n);
    answer
}

/// One ChannelData packet to the peer and its echo back, checked byte for byte; allocates
/// nothing itself.
fn round_trip(client: &UdpSocket, server: SocketAddr, peer: &UdpSocket, packet: &[u8], buf: &mut [u8]) {
    client.send_to(packet, server).unwrap();
    let (n, from) = peer.recv_from(buf).expect("the peer got nothing");
    assert_eq!(&buf[..n], &packet[4..]);
    peer.send_to(&buf[..n], from).unwrap();
    let n = client.recv(buf).expect("no echo");
    assert_eq!(&buf[..n], packet);
}

#[test]
fn udp_relay_path_does_not_allocate() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        realm: REALM.into(),
        auth_secret: SECRET.into(),
        allow_loopback_peers: true,
        relay_ports: "43000-43999".parse().unwrap(),
        udp_sockets: 1,
        ..Config::default()
    };
    let server = runtime.block_on(Server::bind(config)).unwrap();
    let addr = server.local_addrs().udp;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(server.run(async {
        let _ = stopped.await;
    }));

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&client, &peer] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    let challenge = request(&client, addr, Method::ALLOCATE, 1, None, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    let nonce = Message::decode(&challenge).unwrap().get(attr::NONCE).unwrap().to_vec();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (username, password) = bureau_turn::credentials(SECRET, "u", Duration::from_secs(600), now);
    let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, REALM, password.as_bytes());
    let auth = Some((username.as_str(), nonce.as_slice(), &key));
    let allocated = request(&client, addr, Method::ALLOCATE, 2, auth, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    assert_eq!(Message::decode(&allocated).unwrap().class(), Class::Success);
    let bound = request(&client, addr, Method::CHANNEL_BIND, 3, auth, |e| {
        e.attr(attr::CHANNEL_NUMBER, &[0x40, 0, 0, 0]).unwrap();
        e.xor_address(attr::XOR_PEER_ADDRESS, peer.local_addr().unwrap()).unwrap();
    });
    assert_eq!(Message::decode(&bound).unwrap().class(), Class::Success);

    let mut packet = vec![0x40, 0x00, 0x00, 200];
    packet.extend((0..200).map(|i| i as u8));
    let mut buf = vec![0u8; 2048];
    // Warm up: buffers and maps on the way size themselves on first use.
    for _ in 0..1000 {
        round_trip(&client, addr, &peer, &packet, &mut buf);
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..10_000 {
        round_trip(&client, addr, &peer, &packet, &mut buf);
    }
    let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(allocated, 0, "heap allocations while relaying 20,000 packets");

    stop.send(()).unwrap();
    runtime.block_on(task).unwrap().unwrap();
}
