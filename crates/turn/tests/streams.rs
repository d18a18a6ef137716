//! TURN over TCP and TLS: STUN framing on a stream, ChannelData padded to four bytes, and the
//! allocation ends with its connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bureau_stun::attributes as attr;
use bureau_stun::channel_data::stream_frame_len;
use bureau_stun::credentials::{LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};
use bureau_turn::{Config, Server};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;

const SECRET: &str = "stream-secret";

struct Client<S> {
    stream: S,
    buf: Vec<u8>,
    username: String,
    key: LongTermKey,
    nonce: Vec<u8>,
    tid: u8,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(stream: S) -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let (username, password) = bureau_turn::credentials(SECRET, "streamer", Duration::from_secs(600), now);
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, "test", password.as_bytes());
        Client { stream, buf: Vec::new(), username, key, nonce: Vec::new(), tid: 0 }
    }

    async fn read_frame(&mut self) -> Vec<u8> {
        loop {
            if let Some(len) = stream_frame_len(&self.buf).unwrap()
                && self.buf.len() >= len
            {
                return self.buf.drain(..len).collect();
            }
            let mut chunk = [0u8; 4096];
            // A hang guard: frames take microseconds; a missing one fails instead of hanging.
            let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk)).await.expect("no frame within 10 s").unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn request(&mut self, method: Method, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
        self.tid += 1;
        let mut b = vec![0u8; 512];
        let mut e = Encoder::new(&mut b, method, Class::Request, &[self.tid; 12]).unwrap();
        add(&mut e);
        if !self.nonce.is_empty() {
            e.attr(attr::USERNAME, self.username.as_bytes()).unwrap();
            e.attr(attr::REALM, b"test").unwrap();
            e.attr(attr::NONCE, &self.nonce).unwrap();
            e.integrity(self.key.as_bytes()).unwrap();
        }
        let n = e.finish();
        self.stream.write_all(&b[..n]).await.unwrap();
        self.read_frame().await
    }

    /// Allocates, binds channel 0x4000 to `peer` and relays one packet each way.
    async fn relay_through(&mut self, peer: &UdpSocket) {
        let challenge = self.request(Method::ALLOCATE, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap()).await;
        self.nonce = Message::decode(&challenge).unwrap().get(attr::NONCE).unwrap().to_vec();
        let ok = self.request(Method::ALLOCATE, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap()).await;
        assert_eq!(Message::decode(&ok).unwrap().class(), Class::Success);
        let peer_addr = peer.local_addr().unwrap();
        let ok = self
            .request(Method::CHANNEL_BIND, |e| {
                e.attr(attr::CHANNEL_NUMBER, &[0x40, 0, 0, 0]).unwrap();
                e.xor_address(attr::XOR_PEER_ADDRESS, peer_addr).unwrap();
            })
            .await;
        assert_eq!(Message::decode(&ok).unwrap().class(), Class::Success);
        // Five bytes of payload, padded to eight on the stream.
        self.stream.write_all(&[0x40, 0, 0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 0]).await.unwrap();
        let mut b = [0u8; 64];
        let (n, relay) = peer.recv_from(&mut b).await.unwrap();
        assert_eq!(&b[..n], b"hello");
        peer.send_to(b"world", relay).await.unwrap();
        assert_eq!(self.read_frame().await, [0x40, 0, 0, 5, b'w', b'o', b'r', b'l', b'd', 0, 0, 0]);
    }
}

async fn start(tls: Option<(std::path::PathBuf, std::path::PathBuf)>) -> Server {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        realm: "test".into(),
        auth_secret: SECRET.into(),
        allow_loopback_peers: true,
        relay_ports: "43000-43999".parse().unwrap(),
        udp_sockets: 1,
        ..Config::default()
    };
    if let Some((cert, key)) = tls {
        config.tls_listen = Some("127.0.0.1:0".parse().unwrap());
        config.cert = Some(cert);
        config.key = Some(key);
    }
    Server::bind(config).await.unwrap()
}

/// Waits (bounded: 1,000 looks, 10 ms apart) until the server holds `n` allocations.
async fn wait_for_allocations(metrics: &bureau_turn::Metrics, n: u64) {
    let want = format!("bureau_turn_allocations {n}\n");
    for _ in 0..1000 {
        if metrics.render().contains(&want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server never held {n} allocations:\n{}", metrics.render());
}

#[tokio::test]
async fn tcp_allocation_relays_and_ends_with_the_connection() {
    let server = start(None).await;
    let addr: SocketAddr = server.local_addrs().tcp;
    let metrics = server.metrics();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async { let _ = rx.await; }));
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut c = Client::new(TcpStream::connect(addr).await.unwrap());
    c.relay_through(&peer).await;
    assert!(metrics.render().contains("bureau_turn_allocations 1\n"));
    drop(c);
    wait_for_allocations(&metrics, 0).await;
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn tls_allocation_relays() {
    let dir = std::env::temp_dir().join(format!("bureau-turn-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, generated.cert.pem()).unwrap();
    std::fs::write(&key_path, generated.key_pair.serialize_pem()).unwrap();
    let server = start(Some((cert_path, key_path))).await;
    let addr = server.local_addrs().tls.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async { let _ = rx.await; }));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut c = Client::new(tls);
    c.relay_through(&peer).await;
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
