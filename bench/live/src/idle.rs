//! `idle --http ADDR --cookies F --pid PID [--prefix idle-] [--tabs 100] [--concurrency 64] [--hold 5]`
//!
//! Opens `tabs` connections for every account, waits until the server's presence fan-out is
//! over, and reports the growth of the server's VmRSS divided by the number of connections.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::client::{self, Counters, Ignore};
use crate::proc::{loadavg, rss_kib};

pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let pid = args.num("pid", "0".to_owned());
    let accounts = client::accounts(&args.str("cookies"), &args.num("prefix", "idle-".to_owned()))?;
    let tabs: usize = args.num("tabs", 100);
    let counters = Arc::new(Counters::default());
    let before = rss_kib(&pid);
    let began = Instant::now();
    let conns = client::open_many(&addr, &accounts, tabs, args.num("concurrency", 64), counters.clone(), Arc::new(Ignore)).await?;
    let opened = began.elapsed();
    client::settle(&counters, 1000).await;
    let settled = began.elapsed();
    tokio::time::sleep(Duration::from_secs(args.num("hold", 5))).await;
    let after = rss_kib(&pid);
    let n = conns.len() as u64;
    let closed = counters.closed.load(Ordering::Relaxed);
    println!(
        "idle: {n} connections ({} users x {tabs} tabs) opened in {:.1} s, fan-out settled after {:.1} s \
         ({} frames, {:.0} MiB received); {closed} closed by the server",
        accounts.len(),
        opened.as_secs_f64(),
        settled.as_secs_f64(),
        counters.frames.load(Ordering::Relaxed),
        counters.bytes.load(Ordering::Relaxed) as f64 / 1048576.0,
    );
    println!(
        "idle: server VmRSS {:.1} MiB before, {:.1} MiB with {n} connections: {:.2} KiB per connection (load {})",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / n.max(1) as f64,
        loadavg(),
    );
    drop(conns);
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("idle: server VmRSS {:.1} MiB 3 s after closing them", rss_kib(&pid) as f64 / 1024.0);
    Ok(())
}
