//! `relay --http ADDR --cookies F --pid PID [--prefix idle-] [--tabs 100] [--rate 10] [--seconds 10]
//!  [--offer-every 10]`
//!
//! Opens `tabs` connections per account and pairs them up within each organisation; every
//! connection sends `rate` `signal` messages per second to its partner's `peer_id`: one SDP-sized
//! offer (~2 KB) then `offer-every - 1` ICE candidates (~200 B), over and over, with staggered
//! phases. Counts the `signal` messages delivered at the receivers per second of wall clock over
//! `seconds`, after a 2 s warm-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::args::Args;
use crate::client::{self, Counters, Observer};
use crate::proc::{cpu_seconds, loadavg};

/// Counts what the receivers got.
#[derive(Default)]
struct Delivered {
    signals: AtomicU64,
    rate_limited: AtomicU64,
    errors: AtomicU64,
}

impl Observer for Delivered {
    fn frame(&self, _: usize, text: &str, _: Instant) {
        if text.starts_with(r#"{"type":"signal""#) {
            self.signals.fetch_add(1, Ordering::Relaxed);
        } else if text.starts_with(r#"{"type":"error""#) {
            let counter = if text.contains("rate_limited") { &self.rate_limited } else { &self.errors };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What one sender sends, in turn.
struct Sender {
    frames: Vec<Utf8Bytes>,
    next: usize,
    credit: f64,
}

fn sdp_offer() -> String {
    let mut sdp = String::from("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n");
    for (mid, kind) in [(0, "audio"), (1, "video"), (2, "application")] {
        sdp.push_str(&format!(
            "m={kind} 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
             a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\na=ice-options:trickle\r\n\
             a=fingerprint:sha-256 DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF\r\n\
             a=setup:actpass\r\na=mid:{mid}\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
             a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:4TOk42mSjXCkVIa6\r\n"
        ));
    }
    sdp.truncate(2000);
    sdp
}

fn frames(to_peer: &str, offer_every: usize) -> Vec<Utf8Bytes> {
    let offer = serde_json::json!({"type": "signal", "to_peer": to_peer, "payload": {"type": "offer", "sdp": sdp_offer()}});
    let candidate = serde_json::json!({"type": "signal", "to_peer": to_peer, "payload": {"candidate":
        "candidate:842163049 1 udp 1677729535 192.0.2.33 54321 typ srflx raddr 10.0.0.5 rport 54321 generation 0 ufrag EsAw network-cost 999",
        "sdpMid": "0", "sdpMLineIndex": 0}});
    let mut frames = vec![Utf8Bytes::from(offer.to_string())];
    frames.extend((1..offer_every).map(|_| Utf8Bytes::from(candidate.to_string())));
    frames
}

pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let pid = args.num("pid", "0".to_owned());
    let accounts = client::accounts(&args.str("cookies"), &args.num("prefix", "idle-".to_owned()))?;
    let tabs: usize = args.num("tabs", 100);
    let rate: f64 = args.num("rate", 10.0);
    let seconds: u64 = args.num("seconds", 10);
    let offer_every: usize = args.num("offer-every", 10);
    let counters = Arc::new(Counters::default());
    let delivered = Arc::new(Delivered::default());
    let conns = client::open_many(&addr, &accounts, tabs, args.num("concurrency", 64), counters.clone(), delivered.clone()).await?;
    client::settle(&counters, 1000).await;

    // Pairs within an organisation: the account's tabs, two by two.
    let mut senders = Vec::new();
    let mut outs = Vec::new();
    for account in &accounts {
        let mine: Vec<_> = conns.iter().filter(|(a, _)| a.email == account.email).map(|(_, c)| c).collect();
        for pair in mine.chunks_exact(2) {
            for (from, to) in [(pair[0], pair[1]), (pair[1], pair[0])] {
                senders.push(Sender { frames: frames(&to.peer_id, offer_every), next: 0, credit: 0.0 });
                outs.push(from.out.clone());
            }
        }
    }
    let count = senders.len();
    for (i, s) in senders.iter_mut().enumerate() {
        s.credit = i as f64 / count as f64; // staggered phases
        s.next = i % offer_every;
    }
    let frame_bytes: usize = senders[0].frames.iter().map(|f| f.len()).sum::<usize>() / offer_every;

    // One pacer for every sender: every 5 ms, each sender gets its share of credit.
    let stop = Instant::now() + Duration::from_secs(seconds + 3);
    let pacer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = Instant::now();
        let mut sent = 0u64;
        while Instant::now() < stop {
            tick.tick().await;
            let now = Instant::now();
            let dt = now.duration_since(last).as_secs_f64();
            last = now;
            for (s, out) in senders.iter_mut().zip(&outs) {
                s.credit += rate * dt;
                while s.credit >= 1.0 {
                    s.credit -= 1.0;
                    let _ = out.send(s.frames[s.next].clone());
                    s.next = (s.next + 1) % s.frames.len();
                    sent += 1;
                }
            }
        }
        sent
    });

    tokio::time::sleep(Duration::from_secs(2)).await;
    let (d0, l0, t0, c0, g0) = (
        delivered.signals.load(Ordering::Relaxed),
        delivered.rate_limited.load(Ordering::Relaxed),
        Instant::now(),
        cpu_seconds(&pid),
        cpu_seconds("self"),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (d1, l1, elapsed, c1, g1) = (
        delivered.signals.load(Ordering::Relaxed),
        delivered.rate_limited.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64(),
        cpu_seconds(&pid),
        cpu_seconds("self"),
    );
    let sent = pacer.await.map_err(|e| e.to_string())?;
    let per_sec = (d1 - d0) as f64 / elapsed;
    println!(
        "relay: {count} senders ({} pairs) at {rate}/s each (offered {:.0}/s, mean frame {frame_bytes} B, 1 offer per {offer_every}); \
         delivered {per_sec:.0} signal messages/s over {elapsed:.1} s; server CPU {:.2} cores ({:.1} us per message), \
         generator CPU {:.2} cores; rate_limited errors {}, other errors {}, closed {}; sent {sent} in total (load {})",
        count / 2,
        rate * count as f64,
        (c1 - c0) / elapsed,
        (c1 - c0) * 1e6 / (d1 - d0).max(1) as f64,
        (g1 - g0) / elapsed,
        l1 - l0,
        delivered.errors.load(Ordering::Relaxed),
        counters.closed.load(Ordering::Relaxed),
        loadavg(),
    );
    Ok(())
}
