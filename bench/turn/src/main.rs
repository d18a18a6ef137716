//! `turn-load`: drives a TURN server over UDP on loopback and measures it.
//!
//! Modes (all authenticate with REST credentials from `--secret`):
//! - `relay`: `--clients` allocations, each with a channel to an echo peer, keep `--window`
//!   ChannelData packets in flight for `--seconds`; counts relayed packets (two per round trip);
//! - `alloc`: `--clients` threads allocate and delete (Refresh 0) in a loop for `--seconds`;
//! - `rate`: like `relay`, but open loop: the clients together send `--rate` packets per
//!   second (paced every 200 µs) whatever the answers, so every server sees the same load;
//! - `hold`: creates `--count` allocations and keeps them while measuring the server's RSS.
//!
//! With `--pid`, reads the server's CPU time (utime+stime) and RSS from /proc over the measured
//! interval and prints them.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{self, LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};

struct Args {
    mode: String,
    server: SocketAddr,
    secret: String,
    clients: usize,
    seconds: u64,
    size: usize,
    window: usize,
    count: usize,
    pid: Option<u32>,
    clk_tck: f64,
    rate: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        mode: "relay".into(),
        server: SocketAddr::from(([127, 0, 0, 1], 3478)),
        secret: String::new(),
        clients: 4,
        seconds: 10,
        size: 200,
        window: 16,
        count: 1000,
        pid: None,
        clk_tck: 100.0,
        rate: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        let bad = |what: &str| -> ! {
            eprintln!("bad value for {what}: {v}");
            std::process::exit(2)
        };
        match args[i].as_str() {
            "--mode" => a.mode = v.clone(),
            "--server" => a.server = v.parse().unwrap_or_else(|_| bad("--server")),
            "--secret" => a.secret = v.clone(),
            "--clients" => a.clients = v.parse().unwrap_or_else(|_| bad("--clients")),
            "--seconds" => a.seconds = v.parse().unwrap_or_else(|_| bad("--seconds")),
            "--size" => a.size = v.parse().unwrap_or_else(|_| bad("--size")),
            "--window" => a.window = v.parse().unwrap_or_else(|_| bad("--window")),
            "--count" => a.count = v.parse().unwrap_or_else(|_| bad("--count")),
            "--pid" => a.pid = Some(v.parse().unwrap_or_else(|_| bad("--pid"))),
            "--clk-tck" => a.clk_tck = v.parse().unwrap_or_else(|_| bad("--clk-tck")),
            "--rate" => a.rate = v.parse().unwrap_or_else(|_| bad("--rate")),
            other => bad(other),
        }
        i += 2;
    }
    a
}

/// Server CPU seconds (utime + stime) and RSS in KiB.
fn proc_usage(pid: u32, clk_tck: f64) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of /proc/PID/stat; `after` starts at field 3.
    let cpu = (ticks(11) + ticks(12)) / clk_tck;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (cpu, rss)
}

/// One client's TURN session on its own UDP socket.
struct Session {
    sock: UdpSocket,
    server: SocketAddr,
    username: String,
    key: LongTermKey,
    realm: String,
    nonce: Vec<u8>,
    tid: u64,
}

impl Session {
    fn new(server: SocketAddr, secret: &str, user: &str, realm: &str, nonce: &[u8]) -> std::io::Result<Session> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(1 << 20);
        sock.set_read_timeout(Some(Duration::from_millis(500)))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (username, password) = credentials::mint(secret.as_bytes(), user, 86_400, now);
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, realm, password.as_bytes());
        Ok(Session { sock, server, username, key, realm: realm.into(), nonce: nonce.to_vec(), tid: 0 })
    }

    /// Sends a request (signed when a nonce is known) and returns the response, retrying with a
    /// fresh nonce after 401/438 and after timeouts.
    fn request(&mut self, method: Method, add: &dyn Fn(&mut Encoder<'_>)) -> Result<Vec<u8>, String> {
        let mut buf = [0u8; 1024];
        let mut rbuf = [0u8; 2048];
        for _ in 0..6 {
            self.tid += 1;
            let mut tid = [0u8; 12];
            tid[4..].copy_from_slice(&self.tid.to_be_bytes());
            tid[0] = rand_byte();
            let mut e = Encoder::new(&mut buf, method, Class::Request, &tid).map_err(|e| e.to_string())?;
            add(&mut e);
            if !self.nonce.is_empty() {
                e.attr(attr::USERNAME, self.username.as_bytes()).map_err(|e| e.to_string())?;
                e.attr(attr::REALM, self.realm.as_bytes()).map_err(|e| e.to_string())?;
                e.attr(attr::NONCE, &self.nonce).map_err(|e| e.to_string())?;
                e.integrity(self.key.as_bytes()).map_err(|e| e.to_string())?;
            }
            let n = e.finish();
            self.sock.send_to(&buf[..n], self.server).map_err(|e| e.to_string())?;
            let got = loop {
                match self.sock.recv(&mut rbuf) {
                    Ok(n) if Message::decode(&rbuf[..n]).is_ok_and(|m| m.transaction_id() == tid) => break Some(n),
                    Ok(_) => continue,
                    Err(_) => break None,
                }
            };
            let Some(n) = got else { continue };
            let m = Message::decode(&rbuf[..n]).map_err(|e| e.to_string())?;
            let code = m.get(attr::ERROR_CODE).and_then(|v| attr::read_error_code(v).ok()).map(|c| c.0);
            match code {
                Some(401 | 438) => {
                    self.nonce = m.get(attr::NONCE).unwrap_or_default().to_vec();
                    if let Some(r) = m.get(attr::REALM) {
                        self.realm = String::from_utf8_lossy(r).into_owned();
                    }
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                    let _ = now;
                    continue;
                }
                Some(c) => return Err(format!("{method:?} failed with {c}")),
                None => return Ok(rbuf[..n].to_vec()),
            }
        }
        Err(format!("{method:?}: no answer"))
    }

    fn allocate(&mut self) -> Result<SocketAddr, String> {
        let r = self.request(Method::ALLOCATE, &|e| {
            let _ = e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]);
        })?;
        let m = Message::decode(&r).map_err(|e| e.to_string())?;
        let v = m.get(attr::XOR_RELAYED_ADDRESS).ok_or("no relayed address")?;
        attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, v, &m.transaction_id()).map_err(|e| e.to_string())
    }

    fn bind_channel(&mut self, peer: SocketAddr) -> Result<(), String> {
        self.request(Method::CHANNEL_BIND, &|e| {
            let _ = e.attr(attr::CHANNEL_NUMBER, &[0x40, 0, 0, 0]);
            let _ = e.xor_address(attr::XOR_PEER_ADDRESS, peer);
        })
        .map(|_| ())
    }

    fn delete(&mut self) -> Result<(), String> {
        self.request(Method::REFRESH, &|e| {
            let _ = e.attr_u32(attr::LIFETIME, 0);
        })
        .map(|_| ())
    }
}

fn rand_byte() -> u8 {
    (SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) & 0xFF) as u8
}

/// Gets the realm and a nonce with one unauthenticated request.
fn challenge(server: SocketAddr, secret: &str) -> (String, Vec<u8>) {
    let mut s = Session::new(server, secret, "probe", "", &[]).unwrap_or_else(|e| fail(&e.to_string()));
    let _ = s.allocate();
    let realm = s.realm.clone();
    let nonce = s.nonce.clone();
    let _ = s.delete();
    (realm, nonce)
}

fn fail(msg: &str) -> ! {
    eprintln!("turn-load: {msg}");
    std::process::exit(1)
}

/// Starts the echo peer and sets up one allocation with a channel to it per client.
fn setup_relay(a: &Args) -> (Vec<Session>, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let (realm, nonce) = challenge(a.server, &a.secret);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| fail(&e.to_string()));
    // Bursts from the servers must not overflow the echo peer: losses there are not theirs.
    let _ = socket2::SockRef::from(&peer).set_recv_buffer_size(16 << 20);
    peer.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let peer_addr = peer.local_addr().unwrap_or_else(|e| fail(&e.to_string()));
    let stop = Arc::new(AtomicBool::new(false));
    let echo = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, from)) = peer.recv_from(&mut buf) {
                    let _ = peer.send_to(&buf[..n], from);
                }
            }
        })
    };
    let mut sessions = Vec::new();
    for i in 0..a.clients {
        let mut s = Session::new(a.server, &a.secret, &format!("load{i}"), &realm, &nonce).unwrap_or_else(|e| fail(&e.to_string()));
        s.allocate().unwrap_or_else(|e| fail(&e));
        s.bind_channel(peer_addr).unwrap_or_else(|e| fail(&e));
        s.sock.set_read_timeout(Some(Duration::from_millis(100))).ok();
        sessions.push(s);
    }
    (sessions, stop, echo)
}

fn relay(a: &Args) {
    let (sessions, stop, echo) = setup_relay(a);
    let done = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let start_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(a.seconds);
    let handles: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let (done, sent) = (done.clone(), sent.clone());
            let (size, window) = (a.size, a.window);
            std::thread::spawn(move || {
                let mut pkt = vec![0u8; 4 + size];
                pkt[0] = 0x40;
                pkt[2..4].copy_from_slice(&(size as u16).to_be_bytes());
                let mut buf = [0u8; 4096];
                for _ in 0..window {
                    let _ = s.sock.send_to(&pkt, s.server);
                }
                let mut n = 0u64;
                let mut out = window as u64;
                while Instant::now() < deadline {
                    if s.sock.recv(&mut buf).is_ok() {
                        n += 1;
                    }
                    let _ = s.sock.send_to(&pkt, s.server);
                    out += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                sent.fetch_add(out, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let end_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    stop.store(true, Ordering::Relaxed);
    let _ = echo.join();
    let trips = done.load(Ordering::Relaxed);
    let lost = sent.load(Ordering::Relaxed).saturating_sub(trips + (a.clients * a.window) as u64);
    let packets = 2 * trips;
    print!("relay round_trips={trips} lost={lost} packets_relayed={packets} seconds={elapsed:.2} packets_per_s={:.0}", packets as f64 / elapsed);
    if let (Some((c0, _)), Some((c1, rss))) = (start_usage, end_usage) {
        let cpu = c1 - c0;
        print!(" server_cpu_s={cpu:.2} packets_per_cpu_s={:.0} rss_kib={rss}", packets as f64 / cpu.max(0.01));
    }
    println!();
}

fn rate(a: &Args) {
    let (sessions, stop, echo) = setup_relay(a);
    let per_client = (a.rate as f64 / a.clients as f64).max(1.0);
    let start_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(a.seconds);
    let handles: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let (size, seconds) = (a.size, a.seconds);
            std::thread::spawn(move || {
                let mut pkt = vec![0u8; 4 + size];
                pkt[0] = 0x40;
                pkt[2..4].copy_from_slice(&(size as u16).to_be_bytes());
                let mut buf = [0u8; 4096];
                let _ = s.sock.set_nonblocking(true);
                let (mut sent, mut received) = (0u64, 0u64);
                // Round-trip times in µs: each packet carries its send time (ns since t0).
                let mut rtts: Vec<u32> = Vec::with_capacity((per_client * seconds as f64) as usize + 1024);
                let mut take = |buf: &[u8], n: usize| {
                    if n >= 12 {
                        let sent_ns = u64::from_be_bytes(buf[4..12].try_into().unwrap_or_default());
                        let now_ns = t0.elapsed().as_nanos() as u64;
                        rtts.push((now_ns.saturating_sub(sent_ns) / 1000) as u32);
                    }
                };
                loop {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    let due = (now.duration_since(t0).as_secs_f64() * per_client) as u64;
                    while sent < due {
                        pkt[4..12].copy_from_slice(&(t0.elapsed().as_nanos() as u64).to_be_bytes());
                        let _ = s.sock.send_to(&pkt, s.server);
                        sent += 1;
                    }
                    while let Ok(n) = s.sock.recv(&mut buf) {
                        received += 1;
                        take(&buf, n);
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                let end = Instant::now() + Duration::from_millis(300);
                while Instant::now() < end {
                    while let Ok(n) = s.sock.recv(&mut buf) {
                        received += 1;
                        take(&buf, n);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                (sent, received, rtts)
            })
        })
        .collect();
    let (mut sent, mut received, mut rtts) = (0, 0, Vec::new());
    for h in handles {
        if let Ok((s, r, t)) = h.join() {
            sent += s;
            received += r;
            rtts.extend(t);
        }
    }
    rtts.sort_unstable();
    let pct = |p: f64| rtts.get(((rtts.len() as f64 * p) as usize).min(rtts.len().saturating_sub(1))).copied().unwrap_or(0);
    let end_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    stop.store(true, Ordering::Relaxed);
    let _ = echo.join();
    let secs = a.seconds as f64;
    print!(
        "rate offered_packets_per_s={:.0} packets_relayed={} lost={} relayed_per_s={:.0} rtt_us_p50={} rtt_us_p99={}",
        2.0 * sent as f64 / secs,
        2 * received,
        sent.saturating_sub(received),
        2.0 * received as f64 / secs,
        pct(0.5),
        pct(0.99)
    );
    if let (Some((c0, _)), Some((c1, rss))) = (start_usage, end_usage) {
        let cpu = c1 - c0;
        print!(" server_cpu_s={cpu:.2} cpu_percent={:.0} packets_per_cpu_s={:.0} rss_kib={rss}", 100.0 * cpu / secs, 2.0 * received as f64 / cpu.max(0.01));
    }
    println!();
}

fn alloc(a: &Args) {
    let (realm, nonce) = challenge(a.server, &a.secret);
    let done = Arc::new(AtomicU64::new(0));
    let start_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(a.seconds);
    let handles: Vec<_> = (0..a.clients)
        .map(|i| {
            let (done, realm, nonce, server, secret) = (done.clone(), realm.clone(), nonce.clone(), a.server, a.secret.clone());
            std::thread::spawn(move || {
                let mut nonce = nonce;
                let mut n = 0;
                while Instant::now() < deadline {
                    let Ok(mut s) = Session::new(server, &secret, &format!("alloc{i}"), &realm, &nonce) else { continue };
                    if s.allocate().is_ok() {
                        n += 1;
                        let _ = s.delete();
                    }
                    nonce = s.nonce.clone();
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let end_usage = a.pid.map(|p| proc_usage(p, a.clk_tck));
    let n = done.load(Ordering::Relaxed);
    print!("alloc allocations={n} seconds={elapsed:.2} allocations_per_s={:.0}", n as f64 / elapsed);
    if let (Some((c0, _)), Some((c1, _))) = (start_usage, end_usage) {
        let cpu = c1 - c0;
        print!(" server_cpu_s={cpu:.2} allocations_per_cpu_s={:.0}", n as f64 / cpu.max(0.01));
    }
    println!();
}

fn hold(a: &Args) {
    let (realm, nonce) = challenge(a.server, &a.secret);
    std::thread::sleep(Duration::from_millis(500));
    let before = a.pid.map(|p| proc_usage(p, a.clk_tck).1);
    let mut sessions = Vec::with_capacity(a.count);
    let mut nonce = nonce;
    let mut failures = 0;
    while sessions.len() < a.count && failures < a.count / 10 + 1 {
        let i = sessions.len();
        let mut s = Session::new(a.server, &a.secret, &format!("hold{}", i % 64), &realm, &nonce).unwrap_or_else(|e| fail(&e.to_string()));
        match s.allocate() {
            Ok(_) => {
                nonce = s.nonce.clone();
                sessions.push(s);
            }
            Err(e) => {
                eprintln!("turn-load: allocation {i}: {e}");
                failures += 1;
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = a.pid.map(|p| proc_usage(p, a.clk_tck).1);
    print!("hold allocations={}", sessions.len());
    if let (Some(b), Some(af)) = (before, after) {
        print!(" rss_before_kib={b} rss_after_kib={af} rss_per_allocation_bytes={:.0}", (af.saturating_sub(b)) as f64 * 1024.0 / sessions.len().max(1) as f64);
    }
    println!();
    for s in &mut sessions {
        let _ = s.delete();
    }
}

fn main() {
    let a = parse_args();
    if a.secret.is_empty() {
        fail("--secret is required");
    }
    match a.mode.as_str() {
        "relay" => relay(&a),
        "rate" => rate(&a),
        "alloc" => alloc(&a),
        "hold" => hold(&a),
        m => fail(&format!("unknown mode {m}")),
    }
}
