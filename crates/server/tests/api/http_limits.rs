//! The HTTP listeners hold one client address to its share of connections, and close
//! connections that do not send their request in time, while other clients are served.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::Running;

/// A TCP connection to `server`'s plain listener from the loopback address `from`.
async fn connect_from(server: &Running, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(server.base.trim_start_matches("http://").parse().unwrap()).await.unwrap()
}

/// Whether the server closes the connection (end of stream, or a reset) rather than leaving it
/// open; gives up after `patience` seconds so that a regression fails instead of hanging.
async fn closed_by_server(stream: &mut TcpStream, patience: u64) -> bool {
    let mut buffer = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // e.g. a 408 before closing
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(patience), wait).await.is_ok()
}

async fn healthz_from(server: &Running, from: &str) -> Option<String> {
    let mut stream = connect_from(server, from).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    Some(answer)
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let env = [("BUREAU_HTTP_MAX_CONNECTIONS_PER_IP", "8".to_owned()), ("BUREAU_HTTP_HEADER_TIMEOUT_SECS", "300".to_owned())];
    let mut server = Running::start_with(&env).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(connect_from(&server, "127.0.0.3").await);
    }
    // Each of those is accepted (the server reads from it) before the next one is refused.
    let mut ninth = connect_from(&server, "127.0.0.3").await;
    assert!(closed_by_server(&mut ninth, 60).await, "a ninth connection from the same address is closed");
    let answer = healthz_from(&server, "127.0.0.4").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "another address is served: {answer}");
    // A place comes back when a connection ends.
    drop(idle.pop());
    let mut served = None;
    for _ in 0..100 {
        served = healthz_from(&server, "127.0.0.3").await.filter(|a| a.starts_with("HTTP/1.1 200"));
        if served.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(served.is_some(), "the address is served again once it holds fewer connections");
    server.stop().await;
}

#[tokio::test]
async fn slow_and_silent_connections_are_closed_after_the_header_timeout() {
    let mut server = Running::start_with(&[("BUREAU_HTTP_HEADER_TIMEOUT_SECS", "1".to_owned())]).await;
    let mut silent = connect_from(&server, "127.0.0.5").await;
    let mut slow = connect_from(&server, "127.0.0.5").await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(closed_by_server(&mut silent, 60).await, "a connection that never sends is closed");
    assert!(closed_by_server(&mut slow, 60).await, "a request whose headers never end is closed");
    let answer = healthz_from(&server, "127.0.0.5").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn a_tls_connection_silent_after_its_handshake_is_closed() {
    use std::sync::Arc;
    let mut server = Running::start_with(&[("BUREAU_HTTP_HEADER_TIMEOUT_SECS", "1".to_owned())]).await;
    let pem = std::fs::read(server.data_dir.join("tls-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots).with_no_client_auth();
    for alpn in [b"h2".to_vec(), b"http/1.1".to_vec()] {
        config.alpn_protocols = vec![alpn.clone()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config.clone()));
        let tcp = tokio::net::TcpStream::connect(server.https).await.unwrap();
        let mut tls = connector.connect(rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn.as_slice()));
        // Nothing sent: the server closes the connection after the header timeout.
        let mut buffer = [0u8; 64];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            loop {
                match tls.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {} // an HTTP/2 SETTINGS frame first
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a silent TLS connection ({}) stays open", String::from_utf8_lossy(&alpn));
    }
    server.stop().await;
}
