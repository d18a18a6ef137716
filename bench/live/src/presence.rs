//! `presence --http ADDR --cookies F [--prefix big] [--changes 200] [--gap-ms 100]`
//!
//! One connection per account of the organisation; the first account changes its presence
//! note (`bench-N`) `changes` times, `gap-ms` apart; for each change, the time from just before
//! the send until the last of the other connections received the `presence` message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::args::Args;
use crate::client::{self, Counters, Observer};
use crate::proc::{cpu_seconds, loadavg};

/// Forwards `(change, connection, time)` of each `presence` carrying a bench note.
struct Watch(mpsc::UnboundedSender<(u64, usize, Instant)>);

impl Observer for Watch {
    fn frame(&self, conn: usize, text: &str, at: Instant) {
        if !text.starts_with(r#"{"type":"presence""#) {
            return;
        }
        let Some((_, rest)) = text.split_once(r#""note":"bench-"#) else { return };
        if let Some(n) = rest.split('"').next().and_then(|n| n.parse().ok()) {
            let _ = self.0.send((n, conn, at));
        }
    }
}

pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let pid = args.num("pid", "0".to_owned());
    let accounts = client::accounts(&args.str("cookies"), &args.num("prefix", "big".to_owned()))?;
    let changes: u64 = args.num("changes", 200);
    let gap = Duration::from_millis(args.num("gap-ms", 100));
    let counters = Arc::new(Counters::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conns = client::open_many(&addr, &accounts, 1, args.num("concurrency", 16), counters.clone(), Arc::new(Watch(tx))).await?;
    client::settle(&counters, 1000).await;
    let others = conns.len() - 1;
    let changer = &conns[0].1;
    let mut latencies = Vec::new();
    let cpu_before = cpu_seconds(&pid);
    let began = Instant::now();
    for n in 0..changes {
        let message = format!(r#"{{"type":"set_presence","note":"bench-{n}"}}"#);
        let sent = Instant::now();
        changer.out.send(message.into()).map_err(|_| "the changer's connection closed")?;
        let mut seen: HashMap<usize, Instant> = HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while seen.len() < others {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((m, conn, at))) if m == n && conn != 0 => {
                    seen.insert(conn, at);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Err(format!("change {n}: only {} of {others} connections got it within 5 s", seen.len())),
            }
        }
        let last = seen.values().max().copied().unwrap_or(sent);
        latencies.push(last.duration_since(sent));
        tokio::time::sleep(gap).await;
    }
    let cpu = cpu_seconds(&pid) - cpu_before;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1].as_secs_f64() * 1000.0;
    println!(
        "presence: {} connections in one organisation, {changes} changes {} ms apart; time until the last of the \
         other {others} received it: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         server CPU {:.1} ms per change (load {})",
        conns.len(),
        gap.as_millis(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        cpu * 1000.0 / changes as f64,
        loadavg(),
    );
    let _ = began;
    Ok(())
}
