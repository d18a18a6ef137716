//! Signing in and the signaling connections.
//!
//! Each connection is one task: it reads every frame (a client that does not read is closed
//! by the server), hands it to the mode's [`Observer`], and writes what the mode asks for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::args::Args;
use crate::setup::PASSWORD;

/// A signed-in user: organisation slug, email, session cookie (`name=value`).
#[derive(Clone)]
pub struct Account {
    pub org: String,
    pub email: String,
    pub cookie: String,
}

/// `login --http 127.0.0.1:PORT --users users.txt --out cookies.txt [--concurrency 4]`
pub async fn login_all(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let users = std::fs::read_to_string(args.str("users")).map_err(|e| e.to_string())?;
    let limit = Arc::new(Semaphore::new(args.num("concurrency", 4)));
    let http = reqwest::Client::new();
    let began = Instant::now();
    let mut tasks = Vec::new();
    for line in users.lines() {
        let Some((org, email)) = line.split_once(' ') else { continue };
        let (org, email, http, limit, addr) = (org.to_owned(), email.to_owned(), http.clone(), limit.clone(), addr.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            let body = serde_json::json!({"email": email, "password": PASSWORD});
            let response = http
                .post(format!("http://{addr}/api/auth/login"))
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("login {email}: {e}"))?;
            let cookie = response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(str::to_owned)
                .ok_or_else(|| format!("login {email}: status {}, no cookie", response.status()))?;
            Ok::<_, String>(format!("{org} {email} {cookie}\n"))
        }));
    }
    let mut out = String::new();
    for task in tasks {
        out.push_str(&task.await.map_err(|e| e.to_string())??);
    }
    std::fs::write(args.str("out"), out).map_err(|e| e.to_string())?;
    println!("login: {} users signed in in {:.1} s", users.lines().count(), began.elapsed().as_secs_f64());
    Ok(())
}

/// The accounts of a cookies file, optionally only those of organisations starting with `prefix`.
pub fn accounts(path: &str, prefix: &str) -> Result<Vec<Account>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            Some(Account { org: parts.next()?.into(), email: parts.next()?.into(), cookie: parts.next()?.into() })
        })
        .filter(|a| a.org.starts_with(prefix))
        .collect())
}

/// What a mode does with received frames; called on the connection's task.
pub trait Observer: Send + Sync + 'static {
    fn frame(&self, conn: usize, text: &str, at: Instant);
}

/// Counters every mode keeps.
#[derive(Default)]
pub struct Counters {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    pub closed: AtomicU64,
}

/// An open connection, after `welcome`.
pub struct Conn {
    pub peer_id: String,
    /// Frames to send.
    pub out: mpsc::UnboundedSender<Utf8Bytes>,
}

/// Opens a signaling connection, waits for `welcome`, and spawns its task.
pub async fn open(
    addr: &str,
    account: &Account,
    index: usize,
    counters: Arc<Counters>,
    observer: Arc<dyn Observer>,
) -> Result<Conn, String> {
    let mut request = format!("ws://{addr}/api/ws").into_client_request().map_err(|e| e.to_string())?;
    let cookie = HeaderValue::from_str(&account.cookie).map_err(|e| e.to_string())?;
    request.headers_mut().insert("cookie", cookie);
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    // Small buffers: the generator holds as many connections as the server.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let welcome = loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(Message::Close(frame))) => return Err(format!("closed before welcome: {frame:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("before welcome: {e}")),
            None => return Err("closed before welcome".into()),
        }
    };
    let value: serde_json::Value = serde_json::from_str(&welcome).map_err(|e| e.to_string())?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned).ok_or(format!("welcome without {name}"));
    let peer_id = field("peer_id")?;
    let (out, mut outgoing) = mpsc::unbounded_channel::<Utf8Bytes>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let at = Instant::now();
                        counters.frames.fetch_add(1, Ordering::Relaxed);
                        counters.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                        observer.frame(index, &text, at);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                text = outgoing.recv() => match text {
                    Some(text) => {
                        // Queue every frame that is ready, then write them with one flush.
                        let mut result = ws.feed(Message::Text(text)).await;
                        while let (Ok(()), Ok(more)) = (&result, outgoing.try_recv()) {
                            result = ws.feed(Message::Text(more)).await;
                        }
                        if result.is_err() || ws.flush().await.is_err() {
                            break;
                        }
                    }
                    None => {
                        let _ = ws.close(None).await;
                        break;
                    }
                },
            }
        }
        counters.closed.fetch_add(1, Ordering::Relaxed);
    });
    Ok(Conn { peer_id, out })
}

/// Opens `tabs` connections per account, `concurrency` handshakes at a time, in order
/// (tab-major: every account's first tab, then every account's second...). `addr` may list
/// several nodes, comma-separated: connection `i` goes to node `i % nodes`.
pub async fn open_many(
    addr: &str,
    accounts: &[Account],
    tabs: usize,
    concurrency: usize,
    counters: Arc<Counters>,
    observer: Arc<dyn Observer>,
) -> Result<Vec<(Account, Conn)>, String> {
    let limit = Arc::new(Semaphore::new(concurrency));
    let nodes: Vec<&str> = addr.split(',').collect();
    let mut tasks = Vec::new();
    for tab in 0..tabs {
        for account in accounts {
            let index = tasks.len();
            let addr = nodes[index % nodes.len()];
            let (addr, account, counters, observer, limit) =
                (addr.to_owned(), account.clone(), counters.clone(), observer.clone(), limit.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire().await;
                let conn = open(&addr, &account, index, counters, observer).await.map_err(|e| format!("tab {tab} of {}: {e}", account.email))?;
                Ok::<_, String>((account, conn))
            }));
        }
    }
    let mut conns = Vec::with_capacity(tasks.len());
    for task in tasks {
        conns.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(conns)
}

/// Waits until no frame has arrived for `quiet_ms` (the server has finished its fan-out).
pub async fn settle(counters: &Counters, quiet_ms: u64) {
    let mut last = counters.frames.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(quiet_ms)).await;
        let now = counters.frames.load(Ordering::Relaxed);
        if now == last {
            return;
        }
        last = now;
    }
}

/// Ignores frames (they are counted by [`Counters`]).
pub struct Ignore;

impl Observer for Ignore {
    fn frame(&self, _: usize, _: &str, _: Instant) {}
}
