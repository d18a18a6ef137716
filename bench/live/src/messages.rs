//! `messages --http ADDR --cookies F [--prefix big] [--senders 20] [--messages 1000] [--gap-ms 20] [--bytes 300]`
//!
//! Messages that wait, through the server path, with every account of the organisation online
//! (one connection each). Account 0 receives; accounts 1..=senders send in turn. Each sender
//! and the receiver register a device (Ed25519 keys made here; the HPKE key is any 32 bytes: the
//! server never uses it, and the body is random bytes of `bytes`, as the server sees it). For
//! each message: the time from just before `POST /api/messages` until the receiver's connection
//! got `{"type":"inbox"}`, and until its device fetched the entry (`GET …/inbox` with the
//! device's proof) and acknowledged it (`POST …/inbox/ack`). The browser's encryption and
//! decryption are not in it (bench/messages measures those).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::args::Args;
use crate::client::{self, Account, Counters, Observer};
use crate::proc::{cpu_seconds, loadavg};

/// Forwards the arrival time of each `inbox` frame on connection 0 (the receiver's).
struct Watch(mpsc::UnboundedSender<Instant>);

impl Observer for Watch {
    fn frame(&self, conn: usize, text: &str, at: Instant) {
        if conn == 0 && text.starts_with(r#"{"type":"inbox""#) {
            let _ = self.0.send(at);
        }
    }
}

/// A registered device of one account.
struct Device {
    account: Account,
    user_id: String,
    id: String,
    pair: Ed25519KeyPair,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).unwrap_or_else(|_| crate::fail("no randomness"));
    bytes
}

async fn call(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("status {status}: {body}"));
    }
    Ok(body)
}

async fn register(http: &reqwest::Client, addr: &str, account: &Account) -> Result<Device, String> {
    let me = call(http.get(format!("http://{addr}/api/me")).header("cookie", &account.cookie)).await?;
    let user_id = me["id"].as_str().ok_or("no user id")?.to_owned();
    let pair = Ed25519KeyPair::generate().map_err(|e| e.to_string())?;
    let hpke: [u8; 32] = random();
    let signature = pair.sign(&[b"bureau-device-v1".as_slice(), user_id.as_bytes(), &hpke].concat());
    let body = json!({"name": "Load generator", "hpke_public": URL_SAFE_NO_PAD.encode(hpke),
        "sign_public": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()), "self_signature": URL_SAFE_NO_PAD.encode(signature.as_ref())});
    let created = call(http.post(format!("http://{addr}/api/me/devices")).header("cookie", &account.cookie).json(&body)).await?;
    Ok(Device { account: account.clone(), user_id, id: created["id"].as_str().ok_or("no device id")?.to_owned(), pair })
}

/// The `Bureau-Device` proof of `device` for a request.
fn proof(device: &Device, method: &str, path: &str) -> String {
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let signed = format!("bureau-device-auth-v1\n{}\n{method}\n{path}\n{time}", device.id);
    format!("{} {time} {}", device.id, URL_SAFE_NO_PAD.encode(device.pair.sign(signed.as_bytes()).as_ref()))
}

pub async fn run(args: &Args) -> Result<(), String> {
    let addr = args.str("http");
    let pid = args.num("pid", "0".to_owned());
    let accounts = client::accounts(&args.str("cookies"), &args.num("prefix", "big".to_owned()))?;
    let senders: usize = args.num("senders", 20);
    let messages: usize = args.num("messages", 1000);
    let gap = Duration::from_millis(args.num("gap-ms", 20));
    let bytes: usize = args.num("bytes", 300);
    if accounts.len() < senders + 1 {
        return Err(format!("{} accounts, {} needed", accounts.len(), senders + 1));
    }
    let counters = Arc::new(Counters::default());
    let (tx, mut inbox_frames) = mpsc::unbounded_channel();
    let conns = client::open_many(&addr, &accounts, 1, args.num("concurrency", 16), counters.clone(), Arc::new(Watch(tx))).await?;
    client::settle(&counters, 1000).await;

    let http = reqwest::Client::new();
    let receiver = register(&http, &addr, &accounts[0]).await?;
    let mut from = Vec::with_capacity(senders);
    for account in &accounts[1..=senders] {
        from.push(register(&http, &addr, account).await?);
    }
    let inbox_path = format!("/api/me/devices/{}/inbox", receiver.id);
    let ack_path = format!("{inbox_path}/ack");
    let body = URL_SAFE_NO_PAD.encode((0..bytes).map(|i| i as u8).collect::<Vec<_>>());
    let key = URL_SAFE_NO_PAD.encode(random::<80>());

    let (mut pushed, mut delivered) = (Vec::with_capacity(messages), Vec::with_capacity(messages));
    let cpu_before = cpu_seconds(&pid);
    for n in 0..messages {
        let sender = &from[n % senders];
        let header = serde_json::to_vec(&json!({"v": 1, "message_id": format!("bench-{n}"), "conversation_id": format!("dm:{}:{}", sender.user_id, receiver.user_id),
            "sender_user": sender.user_id, "sender_device": sender.id, "counter": n / senders + 1, "sent_at": 0, "recipients": [receiver.id], "body_digest": "-"}))
            .map_err(|e| e.to_string())?;
        let message = json!({"header": URL_SAFE_NO_PAD.encode(&header), "signature": URL_SAFE_NO_PAD.encode(sender.pair.sign(&header).as_ref()),
            "body": body, "keys": {receiver.id.clone(): key}});
        let sent = Instant::now();
        call(http.post(format!("http://{addr}/api/messages")).header("cookie", &sender.account.cookie).json(&message)).await.map_err(|e| format!("message {n}: {e}"))?;
        let told = tokio::time::timeout(Duration::from_secs(5), inbox_frames.recv()).await.map_err(|_| format!("message {n}: no inbox frame within 5 s"))?.ok_or("the receiver's connection closed")?;
        let inbox = call(http.get(format!("http://{addr}{inbox_path}")).header("cookie", &receiver.account.cookie).header("bureau-device", proof(&receiver, "GET", &inbox_path))).await?;
        let ids: Vec<Value> = inbox["entries"].as_array().map(|e| e.iter().map(|e| e["id"].clone()).collect()).unwrap_or_default();
        if ids.len() != 1 {
            return Err(format!("message {n}: {} entries waiting, 1 expected", ids.len()));
        }
        call(http.post(format!("http://{addr}{ack_path}")).header("cookie", &receiver.account.cookie).header("bureau-device", proof(&receiver, "POST", &ack_path)).json(&json!({"ids": ids}))).await?;
        pushed.push(told.duration_since(sent));
        delivered.push(sent.elapsed());
        tokio::time::sleep(gap).await;
    }
    let cpu = cpu_seconds(&pid) - cpu_before;
    let pct = |values: &mut Vec<Duration>, p: f64| {
        values.sort();
        values[((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1].as_secs_f64() * 1000.0
    };
    println!(
        "messages: {} connections online in one organisation, {messages} messages of {bytes} B from {senders} senders to one device, {} ms apart; \
         POST until the receiver's inbox frame: p50 {:.1} ms, p99 {:.1} ms; until fetched and acknowledged: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         server CPU {:.2} ms per message (load {})",
        conns.len(),
        gap.as_millis(),
        pct(&mut pushed, 0.50),
        pct(&mut pushed, 0.99),
        pct(&mut delivered, 0.50),
        pct(&mut delivered, 0.99),
        pct(&mut delivered, 1.0),
        cpu * 1000.0 / messages as f64,
        loadavg(),
    );
    Ok(())
}
