//! PostgreSQL going away and coming back: requests get 503 `unavailable` (and `/readyz` 503)
//! while the database cannot be reached, and succeed again once it is back, without a restart.
//! A small TCP proxy between the server and PostgreSQL is cut and restored. Runs only with
//! BUREAU_TEST_DATABASE_URL; a node whose master key does not match the database refuses to
//! start (also PostgreSQL only: on SQLite each data folder has its own database).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::{Running, call};

/// Where the proxy forwards to: PostgreSQL's unix socket or TCP address.
#[derive(Clone)]
enum Upstream {
    Unix(std::path::PathBuf),
    Tcp(String),
}

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused) and
/// restored.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: Upstream) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (open2, links2) = (open.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !open2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                links2.lock().await.push(tokio::spawn(async move {
                    match upstream {
                        Upstream::Unix(path) => {
                            if let Ok(server) = tokio::net::UnixStream::connect(path).await {
                                pipe(client, server).await;
                            }
                        }
                        Upstream::Tcp(addr) => {
                            if let Ok(server) = tokio::net::TcpStream::connect(addr).await {
                                pipe(client, server).await;
                            }
                        }
                    }
                }));
            }
        });
        Proxy { port, open, links, accept }
    }

    async fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pipe(mut a: impl AsyncRead + AsyncWrite + Unpin, mut b: impl AsyncRead + AsyncWrite + Unpin) {
    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
}

/// A fresh schema's URL and the same database reached through a proxy on 127.0.0.1.
async fn proxied() -> (Proxy, String) {
    let url = bureau_store::postgres_test_database_url().await;
    let config: tokio_postgres::Config = url.parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let upstream = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Unix(dir)) => Upstream::Unix(dir.join(format!(".s.PGSQL.{port}"))),
        Some(tokio_postgres::config::Host::Tcp(host)) => Upstream::Tcp(format!("{host}:{port}")),
        None => Upstream::Tcp(format!("127.0.0.1:{port}")),
    };
    let proxy = Proxy::start(upstream).await;
    let user = config.get_user().unwrap_or("postgres");
    let password = config.get_password().map(|p| format!(":{}", String::from_utf8_lossy(p))).unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    let options = config.get_options().unwrap_or_default().replace('=', "%3D").replace(' ', "%20");
    let url = format!("postgres://{user}{password}@127.0.0.1:{}/{db}?options={options}", proxy.port);
    (proxy, url)
}

async fn ready(server: &Running) -> u16 {
    reqwest::get(server.url("/readyz")).await.unwrap().status().as_u16()
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --include-ignored and BUREAU_TEST_DATABASE_URL"]
async fn postgres_gone_answers_503_and_requests_succeed_once_it_is_back() {
    let (proxy, url) = proxied().await;
    let server = Running::start_with(&[("BUREAU_DATABASE_URL", url)]).await;
    let admin = server.admin().await;
    assert_eq!(ready(&server).await, 200);
    assert_eq!(call(admin.get(server.url("/api/users"))).await.0, 200);

    proxy.cut().await;
    assert_eq!(ready(&server).await, 503);
    let (status, body) = call(admin.get(server.url("/api/users"))).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")), "{body}");

    proxy.restore();
    let mut status = 0;
    for _ in 0..50 {
        status = ready(&server).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the pool reconnects once PostgreSQL is back");
    let (status, body) = call(admin.get(server.url("/api/users"))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("ada@example.org"), "the data is all there: {body}");
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --include-ignored and BUREAU_TEST_DATABASE_URL"]
async fn a_node_with_another_master_key_refuses_to_start_on_the_same_postgres() {
    let url = bureau_store::postgres_test_database_url().await;
    let env = [("BUREAU_DATABASE_URL", url)];
    let mut first = Running::start_in(tempfile::tempdir().unwrap(), &env).await.unwrap();
    first.stop().await;

    // A second node with its own, new data folder: no master key, but the database is in use.
    let refused = Running::start_in(tempfile::tempdir().unwrap(), &env).await.err().expect("refused");
    assert!(refused.to_string().contains("master.key is missing but the PostgreSQL database"), "{refused}");

    // The same node with a different key file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    bureau_store::vault::Key::generate().write_new_file(&dir.path().join("data/master.key")).unwrap();
    let refused = Running::start_in(dir, &env).await.err().expect("refused");
    assert!(refused.to_string().contains("master key does not match"), "{refused}");

    // With the first node's key it starts.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(first.data_dir.join("master.key"), dir.path().join("data/master.key")).unwrap();
    let mut second = Running::start_in(dir, &env).await.unwrap();
    assert_eq!(ready(&second).await, 200);
    second.stop().await;
}
