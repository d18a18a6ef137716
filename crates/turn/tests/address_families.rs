//! Dual-stack relays over real sockets: an IPv4 client asks for an IPv6 relayed address
//! (REQUESTED-ADDRESS-FAMILY) or for both (ADDITIONAL-ADDRESS-FAMILY) and reaches an IPv6 peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};
use bureau_turn::{Config, Server};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

const SECRET: &str = "family-secret";

async fn exchange(sock: &UdpSocket, server: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    sock.send_to(bytes, server).await.unwrap();
    let mut buf = vec![0u8; 2048];
    let n = sock.recv(&mut buf).await.unwrap();
    buf.truncate(n);
    buf
}

fn request(tid: u8, method: Method, auth: Option<(&str, &LongTermKey, &[u8])>, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut e = Encoder::new(&mut buf, method, Class::Request, &[tid; 12]).unwrap();
    add(&mut e);
    if let Some((user, key, nonce)) = auth {
        e.attr(attr::USERNAME, user.as_bytes()).unwrap();
        e.attr(attr::REALM, b"test").unwrap();
        e.attr(attr::NONCE, nonce).unwrap();
        e.integrity(key.as_bytes()).unwrap();
    }
    let n = e.finish();
    buf.truncate(n);
    buf
}

fn relayed(reply: &[u8]) -> Vec<SocketAddr> {
    let m = Message::decode(reply).unwrap();
    assert_eq!(m.class(), Class::Success, "{:?}", m.get(attr::ERROR_CODE));
    m.attributes()
        .filter(|a| a.typ == attr::XOR_RELAYED_ADDRESS)
        .map(|a| attr::read_xor_address(a.typ, a.value, &m.transaction_id()).unwrap())
        .collect()
}

#[tokio::test]
async fn ipv6_and_dual_allocations_relay_to_ipv6_peers() {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip6: Some("::1".parse().unwrap()),
        realm: "test".into(),
        auth_secret: SECRET.into(),
        allow_loopback_peers: true,
        relay_ports: "44000-44999".parse().unwrap(),
        udp_sockets: 1,
        ..Config::default()
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addrs().udp;
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async { let _ = rx.await; }));

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (user, password) = bureau_turn::credentials(SECRET, "dual", Duration::from_secs(600), now);
    let key = LongTermKey::derive(PasswordAlgorithm::Md5, &user, "test", password.as_bytes());
    let transport = |e: &mut Encoder<'_>| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();

    // IPv6 only.
    let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let challenge = exchange(&c, addr, &request(1, Method::ALLOCATE, None, transport)).await;
    let nonce = Message::decode(&challenge).unwrap().get(attr::NONCE).unwrap().to_vec();
    let auth = Some((user.as_str(), &key, nonce.as_slice()));
    let reply = exchange(
        &c,
        addr,
        &request(2, Method::ALLOCATE, auth, |e| {
            transport(e);
            e.attr(attr::REQUESTED_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
        }),
    )
    .await;
    let relays = relayed(&reply);
    assert_eq!(relays.len(), 1);
    assert!(relays[0].ip().is_ipv6());

    // A peer on ::1 gets a channel and exchanges data.
    let peer = UdpSocket::bind("[::1]:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let bound = exchange(
        &c,
        addr,
        &request(3, Method::CHANNEL_BIND, auth, |e| {
            e.attr(attr::CHANNEL_NUMBER, &[0x40, 0x01, 0, 0]).unwrap();
            e.xor_address(attr::XOR_PEER_ADDRESS, peer_addr).unwrap();
        }),
    )
    .await;
    assert_eq!(Message::decode(&bound).unwrap().class(), Class::Success);
    // An IPv4 peer does not match the IPv6 relay: 443.
    let mismatch = exchange(&c, addr, &request(4, Method::CREATE_PERMISSION, auth, |e| e.xor_address(attr::XOR_PEER_ADDRESS, "127.0.0.1:9".parse().unwrap()).unwrap())).await;
    let m = Message::decode(&mismatch).unwrap();
    assert_eq!(attr::read_error_code(m.get(attr::ERROR_CODE).unwrap()).unwrap().0, 443);
    c.send_to(&[0x40, 0x01, 0, 2, b'v', b'6'], addr).await.unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = peer.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"v6");
    assert_eq!(from, relays[0]);

    // Both families at once.
    let c2 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let reply = exchange(
        &c2,
        addr,
        &request(5, Method::ALLOCATE, auth, |e| {
            transport(e);
            e.attr(attr::ADDITIONAL_ADDRESS_FAMILY, &[2, 0, 0, 0]).unwrap();
        }),
    )
    .await;
    let relays = relayed(&reply);
    assert_eq!(relays.len(), 2);
    assert!(relays[0].is_ipv4() && relays[1].is_ipv6());

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
