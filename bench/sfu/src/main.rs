//! Load generator for media servers (bench/sfu/run): str0m clients in one room of Bureau's SFU
//! (`bureau serve`) or of Janus's VideoRoom, publishing Opus-sized audio and VP8-sized video
//! and receiving each other through the server.
//!
//! `sfu-load bureau|janus --name value ...`
//!
//! - `--senders N` (4): participants that publish audio (20 ms frames); the first `--video V`
//!   (all senders) publish video too (`--fps` 30, `--video-kbps` 500, `--key-bytes` 12000).
//! - `--simulcast 1` (0): video in three simulcast layers as Chromium sends it (rids `l`, `m`,
//!   `h` at `--layer-kbps` 150,500,1500; key frames `--key-bytes` scaled by each layer's rate
//!   against `--video-kbps`; 320x180, 640x360, 1280x720 in their headers). Each receiver is
//!   expected to get every frame of every video in one layer or another: with Bureau, the
//!   script sets `sfu.last_n` so that every receiver gets every video.
//! - `--speaking K` (every sender): once every receiver has every stream, all senders but the
//!   first K mute their microphones, sending digital silence (RFC 6464 level -127 dBov) as a
//!   browser with its track disabled does; the silence is counted apart (sent, and forwarded by
//!   the server), never as owed or lost.
//! - `--tile-layer l|m|h` (none; Bureau only): every receiver asks the server for that layer of
//!   every video (`sfu_layers`, sent again with each `speakers` message, which names everyone in
//!   the room), as a browser does by the size of its tiles: in a grid of 50, small ones.
//! - `--listeners M` (12): participants that publish nothing and receive every sender.
//! - `--senders-receive 1` (0): senders also receive every other sender (a meeting where
//!   everyone receives everyone; Bureau only).
//! - `--bind IP` (127.0.0.1): the clients' address (Janus does not gather loopback candidates:
//!   the script gives it and the clients the machine's own address, routed through `lo` too).
//! - `--decoders D` (every receiver): only every n-th receiver, D in all, decodes what it
//!   receives and measures loss and delay; the others count their RTP packets at the socket and
//!   give str0m only STUN, DTLS and RTCP (the generator's work is far less; but they send no
//!   receiver reports or transport-wide feedback, from which Bureau chooses layers and paces).
//! - `--seconds S` (20) measured after `--warmup W` (3) seconds of media; `--pid` is the
//!   server's process, whose CPU time is read over the window; `--threads` (1) media threads.
//! - bureau: `--http 127.0.0.1:PORT --email E --password P` (an administrator: the run creates
//!   its room). janus: `--http 127.0.0.1:PORT --room 1234` (the HTTP transport; the room is in
//!   bench/sfu/janus/janus.plugin.videoroom.jcfg).
//!
//! Prints a report, and one `RESULT key=value ...` line for the script. `SFU_LOAD_DUMP=N` in the
//! environment prints the clear RTP header of each client's first N packets (to look into a
//! server's forwarding).

mod args;
mod bureau;
mod janus;
mod media;
mod proc;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use args::Args;
use media::{AGE, AUDIO, Engine, Handle, Load, MUTED, PHASE, RIDS, Role, SINGLE, Stream, VIDEO, VideoLosses};

/// How long after the window frames sent in it may still arrive and count.
const GRACE: Duration = Duration::from_secs(3);

fn main() {
    let mut argv = std::env::args().skip(1);
    let Some(server) = argv.next() else { fail("usage: sfu-load bureau|janus --name value ...") };
    if server != "bureau" && server != "janus" {
        fail("usage: sfu-load bureau|janus --name value ...");
    }
    let args = Args::parse(argv);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    if let Err(e) = runtime.block_on(run(&server, &args)) {
        fail(&e);
    }
}

/// Prints an error and exits with status 1.
pub fn fail(message: &str) -> ! {
    eprintln!("sfu-load: {message}");
    std::process::exit(1)
}

struct Plan {
    senders: usize,
    video: usize,
    listeners: usize,
    senders_receive: bool,
    /// Every `stride`th receiver decodes what it receives.
    stride: usize,
}

impl Plan {
    /// The receivers in order: the senders (when they receive), then the listeners.
    fn receiver_rank(&self, i: usize) -> Option<usize> {
        if i < self.senders {
            self.senders_receive.then_some(i)
        } else {
            Some(i - self.senders + if self.senders_receive { self.senders } else { 0 })
        }
    }

    fn role(&self, i: usize) -> Role {
        let decodes = self.receiver_rank(i).is_some_and(|r| r % self.stride == 0);
        if i < self.senders {
            Role { audio: true, video: i < self.video, receives: self.senders_receive, decodes }
        } else {
            Role { audio: false, video: false, receives: true, decodes }
        }
    }

    fn receivers(&self) -> usize {
        self.listeners + if self.senders_receive { self.senders } else { 0 }
    }

    fn decoders(&self) -> usize {
        self.receivers().div_ceil(self.stride)
    }

    /// The streams participant `i` should receive.
    fn streams_for(&self, i: usize) -> usize {
        let role = self.role(i);
        if !role.receives {
            return 0;
        }
        let own = usize::from(role.audio) + usize::from(role.video);
        self.senders + self.video - own
    }
}

async fn run(server: &str, args: &Args) -> Result<(), String> {
    let plan = Plan {
        senders: args.num("senders", 4),
        video: args.num("video", usize::MAX),
        listeners: args.num("listeners", 12),
        senders_receive: args.num("senders-receive", 0u8) == 1,
        stride: 1,
    };
    let receivers = plan.receivers();
    let decoders: usize = args.num("decoders", receivers).clamp(1, receivers.max(1));
    let plan = Plan { video: plan.video.min(plan.senders), stride: receivers.max(1).div_ceil(decoders), ..plan };
    if server == "janus" && plan.senders_receive {
        return Err("--senders-receive is for bureau only".into());
    }
    let fps: u32 = args.num("fps", 30);
    let kbps: usize = args.num("video-kbps", 500);
    let key_bytes: usize = args.num("key-bytes", 12_000);
    let simulcast = (args.num("simulcast", 0u8) == 1).then(|| {
        let rates: Vec<usize> = args.num("layer-kbps", "150,500,1500".to_owned()).split(',').map(|r| r.trim().parse().unwrap_or_else(|_| fail("--layer-kbps: three numbers"))).collect();
        let [l, m, h] = rates[..] else { fail("--layer-kbps: three numbers") };
        let stream = |layer_kbps: usize, width: u16, height: u16| Stream { bytes: layer_kbps * 1000 / 8 / fps as usize, key_bytes: key_bytes * layer_kbps / kbps.max(1), width, height };
        [stream(l, 320, 180), stream(m, 640, 360), stream(h, 1280, 720)]
    });
    let speaking: usize = args.num("speaking", plan.senders);
    let tile_layer = match args.num("tile-layer", String::new()).as_str() {
        "" => None,
        "l" => Some("l"),
        "m" => Some("m"),
        "h" => Some("h"),
        other => fail(&format!("--tile-layer {other}: l, m or h")),
    };
    let load = Load { audio_bytes: args.num("audio-bytes", 80), video_bytes: kbps * 1000 / 8 / fps as usize, key_bytes, fps, simulcast, speaking, tile_layer };
    let seconds: f64 = args.num("seconds", 20.0);
    let warmup: f64 = args.num("warmup", 3.0);
    let pid = args.num("pid", String::new());
    let http = args.str("http");
    let total = plan.senders + plan.listeners;
    let video = match &load.simulcast {
        Some(layers) => format!(
            "3 simulcast layers at {fps} fps: {}",
            RIDS.iter().zip(layers).map(|(rid, l)| format!("{rid} {}x{} {} kbit/s, {}-byte frames, {}-byte key frames", l.width, l.height, l.bytes * 8 * fps as usize / 1000, l.bytes, l.key_bytes)).collect::<Vec<_>>().join("; ")
        ),
        None => format!("{kbps} kbit/s at {fps} fps, {}-byte frames, {key_bytes}-byte key frames", load.video_bytes),
    };
    println!(
        "sfu-load {server}: {} senders ({} with video, {video}; audio {}-byte frames every 20 ms) x {} listeners{}; {} of {} receivers decode; load {}",
        plan.senders,
        plan.video,
        load.audio_bytes,
        plan.listeners,
        if plan.senders_receive { ", senders receive each other" } else { "" },
        plan.decoders(),
        plan.receivers(),
        proc::loadavg()
    );

    let engine = Engine::start(args.num("threads", 1), load)?;
    let ip: std::net::IpAddr = args.num("bind", std::net::IpAddr::from([127, 0, 0, 1]));
    let clients: Vec<Handle> = (0..total).map(|i| engine.add(i as u16, plan.role(i), ip)).collect::<Result<_, _>>()?;
    let began = Instant::now();
    let signaling = async {
    match server {
        "bureau" => {
            let cookie = bureau::login(&http, &args.str("email"), &args.str("password")).await?;
            let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let room = bureau::create_room(&http, &cookie, &format!("SFU bench {stamp}"), total.max(2)).await?;
            // In order; each waits for its `joined`, then all for their media connection.
            let mut answers = Vec::new();
            for c in &clients {
                answers.push(bureau::join(&http, &cookie, &room, c.clone()).await.map_err(|e| format!("participant {}: {e}", c.index))?);
            }
            for (c, answer) in clients.iter().zip(answers) {
                answer.await.map_err(|_| "signaling ended".to_owned()).and_then(|r| r).map_err(|e| format!("participant {}: {e}", c.index))?;
            }
        }
        _ => {
            let room: u64 = args.num("room", 1234);
            let janus = janus::Janus::connect(&http).await?;
            let mut feeds = Vec::new();
            for c in &clients[..plan.senders] {
                feeds.push(janus.publish(room, c).await.map_err(|e| format!("publisher {}: {e}", c.index))?);
            }
            for c in &clients[plan.senders..] {
                janus.subscribe(room, &feeds, c).await.map_err(|e| format!("subscriber {}: {e}", c.index))?;
            }
        }
    }
    Ok::<(), String>(())
    };
    tokio::time::timeout(Duration::from_secs(120), signaling).await.map_err(|_| "signaling took over 120 s".to_owned())??;
    println!("signaling done for {total} participants in {:.1} s", began.elapsed().as_secs_f64());

    // Every receiver gets a frame of every stream it should receive (or 30 s pass: an overloaded
    // server is measured as it is, its missing streams counting as lost).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing: Vec<String> = clients
            .iter()
            .enumerate()
            .filter(|(i, c)| !c.connected() || if c.role.decodes { c.streams_seen() < plan.streams_for(*i) } else { c.role.receives && c.rtp_in() == 0 })
            .map(|(i, c)| format!("{i}: {}/{}{}", c.streams_seen(), plan.streams_for(i), if c.connected() { "" } else { " (not connected)" }))
            .collect();
        if missing.is_empty() {
            println!("every receiver has every stream {:.1} s after the start; warming up {warmup} s", began.elapsed().as_secs_f64());
            break;
        }
        if Instant::now() > deadline {
            println!("WARNING: after 30 s, participants without every stream (measured anyway): {}", missing.join(", "));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if speaking < plan.senders {
        println!("all but the first {speaking} senders mute their microphones now (digital silence from then on)");
    }
    MUTED.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;

    // The window.
    let ports: HashSet<u16> = clients.iter().map(|c| c.port).collect();
    let (drops0, client_drops0) = proc::udp_drops(&ports);
    let (server0, self0) = (proc::cpu_seconds(&pid), proc::cpu_seconds("self"));
    let start = Instant::now();
    PHASE.store(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    PHASE.store(2, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let (server1, self1) = (proc::cpu_seconds(&pid), proc::cpu_seconds("self"));
    let (drops1, client_drops1) = proc::udp_drops(&ports);
    // Frames sent at the end of the window are still on their way: those that arrive within
    // GRACE count, later ones are lost.
    tokio::time::sleep(GRACE).await;
    // Nothing is counted from here on; the delays are copied out at once (a media thread
    // recording a frame holds its client's lock while it waits for this one).
    PHASE.store(3, Ordering::Relaxed);
    let (delays, frames_received, layer_frames) = {
        let delays = engine.shared.delays.lock().unwrap_or_else(|e| e.into_inner());
        let received = [AUDIO, VIDEO].map(|k| engine.shared.frames_received[k].load(Ordering::Relaxed));
        let layers = [0, 1, 2, SINGLE].map(|l| engine.shared.layer_frames_received[l].load(Ordering::Relaxed));
        (delays.each_ref().map(|h| h.summary()), received, layers)
    };
    // Where the video frames of the window were lost, receiver by receiver.
    let windows = engine.shared.video_window.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut losses = VideoLosses::default();
    for c in clients.iter().filter(|c| c.role.receives && c.role.decodes) {
        losses += c.video_losses(&windows);
    }

    let s = &engine.shared;
    let rtp_received = s.rtp_received.load(Ordering::Relaxed);
    let rtp_bytes = s.rtp_received_bytes.load(Ordering::Relaxed);
    let rtp_sent = s.rtp_sent.load(Ordering::Relaxed);
    let server_cpu = server1 - server0;
    let gen_cpu = self1 - self0;
    let per_cpu_second = if server_cpu > 0.0 { rtp_received as f64 / server_cpu } else { 0.0 };
    let decoders = plan.decoders() as u64;
    println!("window {elapsed:.1} s; load {}", proc::loadavg());
    println!(
        "RTP packets sent by the senders: {:.0}/s; received by all receivers (forwarded by the server): {:.0}/s, {:.1} Mbit/s",
        rtp_sent as f64 / elapsed,
        rtp_received as f64 / elapsed,
        rtp_bytes as f64 * 8.0 / elapsed / 1e6
    );
    // What each receiver got: a server that paces its sending shows as a ceiling here.
    let mut rates: Vec<f64> = clients.iter().filter(|c| c.role.receives).map(|c| c.window_bytes() as f64 * 8.0 / elapsed / 1e6).collect();
    rates.sort_by(f64::total_cmp);
    if let (Some(low), Some(high)) = (rates.first(), rates.last()) {
        println!("per receiver: {low:.2} / {:.2} / {high:.2} Mbit/s of RTP (least / median / most)", rates[rates.len() / 2]);
    }
    println!(
        "server CPU {server_cpu:.2} s ({:.1}% of a core) -> {per_cpu_second:.0} forwarded packets per CPU-second; generator CPU {:.1}% of a core",
        server_cpu / elapsed * 100.0,
        gen_cpu / elapsed * 100.0
    );
    let mut result = format!(
        "RESULT server={server} senders={} video={} listeners={} senders_receive={} decoders={} seconds={elapsed:.1} pkts_per_s={:.0} server_cpu_pct={:.1} pkts_per_cpu_s={per_cpu_second:.0} gen_cpu_pct={:.1}",
        plan.senders,
        plan.video,
        plan.listeners,
        u8::from(plan.senders_receive),
        plan.decoders(),
        rtp_received as f64 / elapsed,
        server_cpu / elapsed * 100.0,
        gen_cpu / elapsed * 100.0
    );
    // Milliseconds; beyond the histograms' 10 s, only that.
    let ms = |us: u64| if us == u64::MAX { ">10000".to_owned() } else { format!("{:.2}", us as f64 / 1000.0) };
    for (kind, name) in [(AUDIO, "audio"), (VIDEO, "video")] {
        let sent = s.frames_sent[kind].load(Ordering::Relaxed);
        // Each frame reaches every decoding receiver but its own sender (a video frame in one
        // of its layers).
        let expected = sent * decoders - s.frames_sent_by_decoders[kind].load(Ordering::Relaxed);
        let received = frames_received[kind];
        if expected == 0 {
            continue;
        }
        let loss = 100.0 * (1.0 - received as f64 / expected as f64);
        let [count, p50, p90, p99, max] = delays[kind];
        println!(
            "{name}: {sent} frames sent, {received} of {expected} receptions ({loss:.3}% lost); delay sender -> server -> receiver p50 {} ms, p90 {} ms, p99 {} ms, max {} ms ({count} samples)",
            ms(p50),
            ms(p90),
            ms(p99),
            ms(max),
        );
        result.push_str(&format!(
            " {name}_loss_pct={loss:.3} {name}_p50_ms={} {name}_p99_ms={} {name}_max_ms={}",
            ms(p50),
            ms(p99),
            ms(max)
        ));
    }
    for (kind, name) in [(AUDIO, "audio"), (VIDEO, "video")] {
        let [n, p50, _, p99, max] = delays[AGE + kind];
        if n > 0 {
            println!("  {name} frames that arrived in the window, whenever sent: {n}, sent p50 {} ms, p99 {} ms, max {} ms before", ms(p50), ms(p99), ms(max));
            result.push_str(&format!(" {name}_age_p50_ms={}", ms(p50)));
        }
    }
    let count = |counters: &[std::sync::atomic::AtomicU64; 4]| counters.iter().map(|c| c.load(Ordering::Relaxed)).collect::<Vec<_>>();
    let (keyframes, requests) = (count(&s.keyframes_sent), count(&s.keyframe_requests));
    if load.simulcast.is_some() {
        // Each layer: the frames receivers got in it, those lost while they got it (the frames
        // missing between two of the same layer, and after the last one), its delay.
        for (l, rid) in RIDS.iter().enumerate() {
            let got = layer_frames[l];
            let lost = losses.on_layer[l];
            let loss = if got + lost > 0 { 100.0 * lost as f64 / (got + lost) as f64 } else { 0.0 };
            let [n, p50, _, p99, max] = delays[2 + l];
            println!(
                "  layer {rid}: {got} frames received, {lost} lost while receiving it ({loss:.3}%); p50 {} ms, p99 {} ms, max {} ms ({n} samples); {} videos x receivers on it at the end; key frames sent {}, requests received {} in the window",
                ms(p50),
                ms(p99),
                ms(max),
                losses.receiving[l],
                keyframes[l],
                requests[l]
            );
            result.push_str(&format!(" {rid}_frames={got} {rid}_loss_pct={loss:.3} {rid}_p50_ms={} {rid}_keyframes={}", ms(p50), keyframes[l]));
        }
    } else {
        println!("  video lost while receiving it: {} frames; key frames sent {}, requests received {} in the window", losses.on_layer[SINGLE], keyframes[SINGLE], requests[SINGLE]);
    }
    println!(
        "  video frames lost at a switch of layer {}, of senders never received {}; frames received again in another layer {}; layer switches in the window {}",
        losses.at_switch,
        losses.never,
        s.video_repeats.load(Ordering::Relaxed),
        s.layer_switches.load(Ordering::Relaxed)
    );
    result.push_str(&format!(" switches={} switch_lost={}", s.layer_switches.load(Ordering::Relaxed), losses.at_switch));
    if server == "bureau" {
        let last_n = s.last_n.load(Ordering::Relaxed);
        println!(
            "speakers messages to participant 0 in the window: {}; last N: {}; offers of the server answered in the window: {}",
            s.speakers_messages.load(Ordering::Relaxed),
            if last_n == u64::MAX { "not told".to_owned() } else { last_n.to_string() },
            s.offers_answered.load(Ordering::Relaxed)
        );
        // Bureau's last N ranks every participant, with a camera or not: only N at least the
        // others' number makes sure that every receiver gets every video.
        if last_n != u64::MAX && (last_n as usize) < total - 1 && plan.video > 0 {
            println!("NOTE: last N {last_n} < {} others: a receiver may not get every video; those frames count as lost", total - 1);
        }
    }
    let silence = s.silence_sent.load(Ordering::Relaxed);
    if silence > 0 {
        println!("silence of muted microphones: {silence} frames sent in the window, {} receptions of them (not counted above)", s.silence_received.load(Ordering::Relaxed));
    }
    println!(
        "UDP receive-buffer drops in the window: {} on the machine, {} at the clients' sockets; client send errors {}",
        drops1 - drops0,
        client_drops1 - client_drops0,
        s.send_errors.load(Ordering::Relaxed)
    );
    let failed = clients.iter().filter(|c| c.failed()).count();
    if failed > 0 {
        println!("WARNING: {failed} of {total} clients lost their media connection (ended by the server, or ICE/DTLS failed)");
    }
    let disconnected = clients.iter().filter(|c| c.ice_disconnected()).count();
    if disconnected > 0 {
        println!("WARNING: {disconnected} of {total} clients see ICE disconnected at the end (consent checks unanswered)");
    }
    result.push_str(&format!(" udp_drops={} client_drops={} failed_clients={failed}", drops1 - drops0, client_drops1 - client_drops0));
    println!("{result}");
    Ok(())
}
