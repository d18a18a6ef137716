//! `hostile --http ADDR --cookies F --pid PID [--attacker big] [--victim idle-] [--samples 300] [--attempts 3000]`
//!
//! What one hostile member does to everyone else: a user of another organisation opens a
//! signaling connection, times `welcome`, sends a `ping`, times the `pong` and closes, `samples`
//! times in a row, first on a quiet server, then while one member of the attacker's organisation
//! opens `attempts` connections, 64 handshakes at a time (all beyond the per-user limit are
//! closed with 4005 at once; the accepted ones are held open). Reports both runs side by side,
//! what the attacker got, and the server's resident memory before, during and after; then the
//! attack once more, to tell memory kept by the allocator (the same again) from a leak (more).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Mutex, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::args::Args;
use crate::client::{self, Account};
use crate::proc::rss_kib;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: &str, account: &Account) -> Result<Socket, String> {
    let mut request = format!("ws://{addr}/api/ws").into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("cookie", HeaderValue::from_str(&account.cookie).map_err(|e| e.to_string())?);
    Ok(tokio_tungstenite::connect_async(request).await.map_err(|e| format!("handshake: {e}"))?.0)
}

/// The next text frame, or the close code.
async fn next_frame(ws: &mut Socket) -> Result<String, u16> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Close(frame))) => return Err(frame.map_or(1005, |f| u16::from(f.code))),
            Some(Ok(_)) => {}
            _ => return Err(1006),
        }
    }
}

/// One victim sample: time to `welcome`, then the round trip of a `ping`.
async fn sample(addr: &str, victim: &Account) -> Result<(Duration, Duration), String> {
    let began = Instant::now();
    let mut ws = connect(addr, victim).await?;
    let welcome = next_frame(&mut ws).await.map_err(|code| format!("closed with {code} before welcome"))?;
    if !welcome.starts_with(r#"{"type":"welcome""#) {
        return Err(format!("expected welcome, got {welcome:.60}"));
    }
    let welcomed = Instant::now();
    ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.map_err(|e| e.to_string())?;
    loop {
        let frame = next_frame(&mut ws).await.map_err(|code| format!("closed with {code} before pong"))?;
        if frame.starts_with(r#"{"type":"pong""#) {
            break;
        }
    }
    let ponged = Instant::now();
    let _ = ws.close(None).await;
    Ok((welcomed - began, ponged - welcomed))
}

async fn victim_run(addr: &str, victim: &Account, samples: usize) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let (mut welcome, mut ping) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let (w, p) = sample(addr, victim).await?;
        welcome.push(w);
        ping.push(p);
    }
    Ok((welcome, ping))
}

fn percentiles(mut values: Vec<Duration>) -> String {
    values.sort();
    let at = |q: f64| values[((values.len() as f64 * q) as usize).min(values.len() - 1)].as_secs_f64() * 1000.0;
    format!("p50 {:.2} ms, p99 {:.2} ms", at(0.5), at(0.99))
}

pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let pid = args.num("pid", "0".to_owned());
    let attacker = client::accounts(&args.str("cookies"), &args.num("attacker", "big".to_owned()))?.into_iter().next().ok_or("no attacker account")?;
    let victim = client::accounts(&args.str("cookies"), &args.num("victim", "idle-".to_owned()))?.into_iter().next().ok_or("no victim account")?;
    let samples: usize = args.num("samples", 300);
    let attempts: usize = args.num("attempts", 3000);

    let rss_before = rss_kib(&pid);
    let (quiet_welcome, quiet_ping) = victim_run(&addr, &victim, samples).await?;

    let (accepted, refused, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let held = Arc::new(Mutex::new(Vec::new()));
    let flood = attack(&addr, &attacker, attempts, &accepted, &refused, &failed, &held);
    let (busy_welcome, busy_ping) = victim_run(&addr, &victim, samples).await?;
    let rss_during = rss_kib(&pid);
    flood.await.map_err(|e| e.to_string())?;
    let rss_attacked = rss_kib(&pid);
    held.lock().await.clear();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(&pid);
    let (more_accepted, more_refused, more_failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    attack(&addr, &attacker, attempts, &more_accepted, &more_refused, &more_failed, &held).await.map_err(|e| e.to_string())?;
    held.lock().await.clear();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_again = rss_kib(&pid);

    println!("hostile: {samples} victim samples each; the attacker made {attempts} attempts (64 at a time)");
    println!("  quiet server:   welcome {}; ping {}", percentiles(quiet_welcome), percentiles(quiet_ping));
    println!("  under attack:   welcome {}; ping {}", percentiles(busy_welcome), percentiles(busy_ping));
    println!(
        "  attacker: {} accepted, {} refused with 4005, {} failed otherwise",
        accepted.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    println!("  server RSS: {rss_before} KiB before, {rss_during} KiB during, {rss_attacked} KiB after the attack, {rss_after} KiB once its sockets closed, {rss_again} KiB after the same attack again");
    Ok(())
}

/// One member opening `attempts` connections, 64 handshakes at a time; accepted ones are kept
/// in `held`.
fn attack(
    addr: &str,
    attacker: &Account,
    attempts: usize,
    accepted: &Arc<AtomicU64>,
    refused: &Arc<AtomicU64>,
    failed: &Arc<AtomicU64>,
    held: &Arc<Mutex<Vec<Socket>>>,
) -> tokio::task::JoinHandle<()> {
    let limit = Arc::new(Semaphore::new(64));
    let (addr, attacker, accepted, refused, failed, held) = (addr.to_owned(), attacker.clone(), accepted.clone(), refused.clone(), failed.clone(), held.clone());
    tokio::spawn(async move {
            let mut tasks = Vec::new();
            for _ in 0..attempts {
                let (addr, attacker, limit) = (addr.clone(), attacker.clone(), limit.clone());
                let (accepted, refused, failed, held) = (accepted.clone(), refused.clone(), failed.clone(), held.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = limit.acquire().await;
                    let Ok(mut ws) = connect(&addr, &attacker).await else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    match next_frame(&mut ws).await {
                        Ok(_) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            held.lock().await.push(ws);
                        }
                        Err(4005) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for task in tasks {
                let _ = task.await;
            }
    })
}
