//! Bad input and load over real sockets: malformed messages are answered per RFC or dropped, a
//! well-behaved client keeps relaying through the same server meanwhile, and bursts from
//! several clients at once (fast enough for the data plane to moderate) arrive whole and in
//! order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};
use bureau_turn::{Config, Server};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

const SECRET: &str = "bad-input-secret";
const REALM: &str = "test";

struct Client {
    sock: UdpSocket,
    server: SocketAddr,
    username: String,
    key: LongTermKey,
    nonce: Vec<u8>,
    tid: u8,
    /// The relayed address of the allocation, once made.
    relay: Option<SocketAddr>,
}

impl Client {
    async fn new(server: SocketAddr, user: &str) -> Client {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let (username, password) = bureau_turn::credentials(SECRET, user, Duration::from_secs(600), now);
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, REALM, password.as_bytes());
        Client { sock, server, username, key, nonce: Vec::new(), tid: 0, relay: None }
    }

    /// The next datagram; `None` only after 5 s (a hang guard: answers take microseconds, and
    /// absence is never proven by waiting, see [`Client::dropped`]).
    async fn recv(&self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(Duration::from_secs(5), self.sock.recv(&mut buf)).await {
            Ok(Ok(n)) => Some(buf[..n].to_vec()),
            _ => None,
        }
    }

    /// Whether the server dropped `bytes` without an answer: they are followed by a Binding
    /// request (a marker), and the first datagram back must be the marker's answer. One socket
    /// to one server thread on loopback keeps order, so an answer to `bytes`, however slow,
    /// would come first.
    async fn dropped(&mut self, bytes: &[u8]) -> bool {
        self.sock.send_to(bytes, self.server).await.unwrap();
        self.marker_is_next().await
    }

    /// Sends a Binding request and whether the next datagram is its answer.
    async fn marker_is_next(&mut self) -> bool {
        let marker = self.build(Method::BINDING, false, |_| {});
        self.sock.send_to(&marker, self.server).await.unwrap();
        let Some(first) = self.recv().await else { return false };
        Message::decode(&first).is_ok_and(|m| m.transaction_id()[..] == marker[8..20])
    }

    async fn raw(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        self.sock.send_to(bytes, self.server).await.unwrap();
        self.recv().await
    }

    fn build(&mut self, method: Method, signed: bool, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
        self.tid += 1;
        let mut buf = vec![0u8; 1024];
        let mut e = Encoder::new(&mut buf, method, Class::Request, &[self.tid; 12]).unwrap();
        add(&mut e);
        if signed {
            e.attr(attr::USERNAME, self.username.as_bytes()).unwrap();
            e.attr(attr::REALM, REALM.as_bytes()).unwrap();
            e.attr(attr::NONCE, &self.nonce).unwrap();
            e.integrity(self.key.as_bytes()).unwrap();
        }
        e.fingerprint().unwrap();
        let n = e.finish();
        buf.truncate(n);
        buf
    }

    /// Allocates and binds channel 0x4000 to `peer`.
    async fn setup(&mut self, peer: SocketAddr) {
        let req = self.build(Method::ALLOCATE, false, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        let reply = self.raw(&req).await.expect("challenge");
        self.nonce = Message::decode(&reply).unwrap().get(attr::NONCE).unwrap().to_vec();
        let req = self.build(Method::ALLOCATE, true, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        let reply = self.raw(&req).await.expect("allocate");
        let allocated = Message::decode(&reply).unwrap();
        assert_eq!(allocated.class(), Class::Success);
        let tid: [u8; 12] = reply[8..20].try_into().unwrap();
        self.relay = Some(attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, allocated.get(attr::XOR_RELAYED_ADDRESS).unwrap(), &tid).unwrap());
        let req = self.build(Method::CHANNEL_BIND, true, |e| {
            e.attr(attr::CHANNEL_NUMBER, &[0x40, 0, 0, 0]).unwrap();
            e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap();
        });
        let reply = self.raw(&req).await.expect("channel bind");
        assert_eq!(Message::decode(&reply).unwrap().class(), Class::Success);
    }
}

async fn start() -> (SocketAddr, bureau_turn::Metrics, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        realm: REALM.into(),
        auth_secret: SECRET.into(),
        allow_loopback_peers: true,
        relay_ports: "42000-42999".parse().unwrap(),
        udp_sockets: 1,
        ..Config::default()
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addrs().udp;
    let metrics = server.metrics();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server.run(async { let _ = rx.await; }).await.unwrap();
    });
    (addr, metrics, tx, task)
}

/// Sends one ChannelData packet on channel 0x4000 and checks the peer gets it and its answer
/// comes back.
async fn round_trip(c: &Client, peer: &UdpSocket, payload: &[u8]) {
    let mut pkt = vec![0x40, 0x00, 0, payload.len() as u8];
    pkt.extend_from_slice(payload);
    c.sock.send_to(&pkt, c.server).await.unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf)).await.expect("peer got nothing").unwrap();
    assert_eq!(&buf[..n], payload);
    peer.send_to(b"echo", from).await.unwrap();
    let back = c.recv().await.expect("no echo");
    assert_eq!(back, [0x40, 0, 0, 4, b'e', b'c', b'h', b'o']);
}

#[tokio::test]
async fn malformed_messages_do_not_disturb_other_clients() {
    let (server, metrics, stop, task) = start().await;
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut good = Client::new(server, "good").await;
    good.setup(peer.local_addr().unwrap()).await;
    round_trip(&good, &peer, b"before").await;

    let mut bad = Client::new(server, "bad").await;
    let valid = bad.build(Method::BINDING, false, |_| {});
    // Truncated, oversize, wrong length, not STUN: dropped, no answer.
    assert!(bad.dropped(&valid[..10]).await, "truncated");
    assert!(bad.dropped(&valid[..valid.len() - 1]).await, "truncated body");
    let mut long = valid.clone();
    long.extend_from_slice(&[0; 4]);
    assert!(bad.dropped(&long).await, "trailing bytes");
    let mut wrong_len = valid.clone();
    wrong_len[3] = wrong_len[3].wrapping_add(4);
    assert!(bad.dropped(&wrong_len).await, "wrong length");
    assert!(bad.dropped(&vec![0u8; 70_000][..65_507]).await, "oversize");
    assert!(bad.dropped(&[0xC0, 1, 2, 3]).await, "not STUN");
    // A wrong FINGERPRINT: dropped.
    let mut fp = valid.clone();
    let last = fp.len() - 1;
    fp[last] ^= 0xFF;
    assert!(bad.dropped(&fp).await, "wrong fingerprint");
    // The proof can fail: an answered request is not taken for dropped (its answer comes before
    // the marker's, which is then read and set aside).
    assert!(!bad.dropped(&valid).await, "an answered request");
    assert!(bad.recv().await.is_some(), "the marker's answer");
    assert!(bad.marker_is_next().await);
    // Duplicate attributes: the first counts, the request is answered.
    let dup = bad.build(Method::BINDING, false, |e| {
        e.attr(attr::SOFTWARE, b"one").unwrap();
        e.attr(attr::SOFTWARE, b"two").unwrap();
    });
    let m = bad.raw(&dup).await.expect("duplicate attributes answered");
    assert_eq!(Message::decode(&m).unwrap().class(), Class::Success);
    // Bad integrity: 401 with a new nonce, no allocation.
    let req = bad.build(Method::ALLOCATE, false, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    let reply = bad.raw(&req).await.unwrap();
    bad.nonce = Message::decode(&reply).unwrap().get(attr::NONCE).unwrap().to_vec();
    bad.key = LongTermKey::derive(PasswordAlgorithm::Md5, &bad.username, REALM, b"not the password");
    let req = bad.build(Method::ALLOCATE, true, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
    let reply = bad.raw(&req).await.expect("401");
    let m = Message::decode(&reply).unwrap();
    assert_eq!(attr::read_error_code(m.get(attr::ERROR_CODE).unwrap()).unwrap().0, 401);
    // ChannelData without an allocation, on an unbound channel, with a bad length: dropped.
    assert!(bad.dropped(&[0x40, 0, 0, 2, 1, 2]).await);
    assert!(bad.dropped(&[0x40, 0, 0, 200, 1, 2]).await);
    // Datagrams to the relay address from an address without a permission are not forwarded:
    // the permitted peer's later datagram is the first the client gets. (Permissions are per IP
    // address, RFC 8656 section 9: the stranger needs another address than the peer's.)
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let relay = good.relay.unwrap();
    stranger.send_to(b"garbage from a stranger", relay).await.unwrap();
    stranger.send_to(&[0x00, 0x01, 0x00, 0x00], relay).await.unwrap();
    peer.send_to(b"marker", relay).await.unwrap();
    let first = good.recv().await.expect("the peer's marker");
    assert_eq!(first, [0x40, 0, 0, 6, b'm', b'a', b'r', b'k', b'e', b'r'], "only the permitted peer's datagram is forwarded");
    round_trip(&good, &peer, b"after").await;
    let text = metrics.render();
    assert!(text.contains("bureau_turn_allocations 1"), "{text}");
    assert!(text.contains("bureau_turn_error_responses_total{code=\"401\"} 3"), "{text}");
    assert!(text.contains("bureau_turn_packets_relayed_total{direction=\"to_peer\"} 2"), "{text}");
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_the_listeners() {
    let (server, _metrics, stop, task) = start().await;
    stop.send(()).unwrap();
    task.await.unwrap();
    // The port is free again.
    UdpSocket::bind(server).await.unwrap();
}

/// Packets each client relays in [`bursts_arrive_whole_and_in_order`].
const BURST: u32 = 3000;
/// Packets a client keeps in flight: enough for tens of thousands of packets per second, few
/// enough that no socket buffer on the way can overflow.
const WINDOW: u32 = 48;

/// Four clients relay numbered packets to one echoing peer as fast as their window allows: at
/// that rate the plane pauses between rounds and batches. Every echo must come back, in order
/// (a lost packet stalls the window and fails the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_arrive_whole_and_in_order() {
    let (server, metrics, stop, task) = start().await;
    let peer = std::sync::Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let peer_addr = peer.local_addr().unwrap();
    let echo = tokio::spawn({
        let peer = peer.clone();
        async move {
            let mut buf = [0u8; 2048];
            loop {
                let (n, from) = peer.recv_from(&mut buf).await.unwrap();
                peer.send_to(&buf[..n], from).await.unwrap();
            }
        }
    });
    let mut clients = Vec::new();
    for i in 0..4u32 {
        let mut c = Client::new(server, &format!("burst{i}")).await;
        c.setup(peer_addr).await;
        clients.push(tokio::spawn(async move {
            let packet = |seq: u32| {
                let mut p = vec![0x40, 0x00, 0, 8];
                p.extend_from_slice(&i.to_be_bytes());
                p.extend_from_slice(&seq.to_be_bytes());
                p
            };
            let mut sent = 0;
            for expected in 0..BURST {
                while sent < BURST && sent < expected + WINDOW {
                    c.sock.send_to(&packet(sent), c.server).await.unwrap();
                    sent += 1;
                }
                let mut buf = [0u8; 64];
                let n = tokio::time::timeout(Duration::from_secs(5), c.sock.recv(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("client {i}: packet {expected} lost"))
                    .unwrap();
                assert_eq!(buf[..n], packet(expected), "client {i}: out of order");
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    echo.abort();
    let text = metrics.render();
    let relayed = 4 * u64::from(BURST);
    assert!(text.contains(&format!("bureau_turn_packets_relayed_total{{direction=\"to_peer\"}} {relayed}")), "{text}");
    assert!(text.contains(&format!("bureau_turn_packets_relayed_total{{direction=\"to_client\"}} {relayed}")), "{text}");
    stop.send(()).unwrap();
    task.await.unwrap();
}
