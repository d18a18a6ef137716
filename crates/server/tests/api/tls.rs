//! HTTPS: TLS 1.2 and 1.3 with the self-signed certificate, Secure session cookies.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Running;

async fn get_over_tls(server: &Running, version: &'static rustls::SupportedProtocolVersion, request: &str) -> String {
    let pem = std::fs::read(server.data_dir.join("tls-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.https).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.protocol_version(), Some(version.version));
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn https_speaks_tls_1_2_and_1_3_with_the_generated_certificate() {
    let mut server = Running::start().await;
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let response = get_over_tls(&server, version, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.to_lowercase().contains("strict-transport-security"));
    }
    server.stop().await;
}

#[tokio::test]
async fn session_cookies_are_secure_over_https_only() {
    let mut server = Running::start().await;
    let body = format!(
        r#"{{"token":"{}","name":"Ada","email":"ada@example.org","password":"ada password 1"}}"#,
        server.setup_token.clone().unwrap()
    );
    let request = format!(
        "POST /api/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = get_over_tls(&server, &rustls::version::TLS13, &request).await;
    let cookie = response.lines().find(|l| l.to_lowercase().starts_with("set-cookie:")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let plain = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&serde_json::json!({"email": "ada@example.org", "password": "ada password 1"}))
        .send()
        .await
        .unwrap();
    let cookie = plain.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && !cookie.contains("Secure"), "{cookie}");
    server.stop().await;
}
