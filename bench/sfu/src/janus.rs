//! Janus's HTTP API (janus.transport.http) and its VideoRoom plugin, for the same clients.
//!
//! One Janus session holds every client's handle (the session is signaling only; media is per
//! handle, one PeerConnection each). Events come by long poll (`GET /janus/<session>?maxev=`)
//! and go to the handle they name (`sender`); a keep-alive goes every 15 s. Publishers
//! `joinandconfigure` with their offer and apply Janus's answer; subscribers `join` with one
//! stream per publisher (a multistream subscription: one PeerConnection receiving every
//! publisher's audio and video, as a Bureau participant has), answer Janus's offer with
//! `start`. Each handle then says its candidates are complete (they are in its SDP).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::media::Handle;

/// A Janus session on the HTTP transport.
#[derive(Clone)]
pub struct Janus {
    http: reqwest::Client,
    base: String,
    session: u64,
    handles: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>,
    transaction: Arc<AtomicU64>,
}

impl Janus {
    /// Creates a session on `http` (`127.0.0.1:PORT`) and starts its long poll and keep-alives.
    pub async fn connect(http: &str) -> Result<Janus, String> {
        let mut janus = Janus {
            http: reqwest::Client::new(),
            base: format!("http://{http}/janus"),
            session: 0,
            handles: Arc::new(Mutex::new(HashMap::new())),
            transaction: Arc::new(AtomicU64::new(1)),
        };
        let created = janus.post(&janus.base.clone(), json!({"janus": "create"})).await?;
        janus.session = id(&created)?;
        let poll = janus.clone();
        tokio::spawn(async move { poll.long_poll().await });
        let keep = janus.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(15)).await;
                if keep.post(&keep.session_url(), json!({"janus": "keepalive"})).await.is_err() {
                    return;
                }
            }
        });
        Ok(janus)
    }

    fn session_url(&self) -> String {
        format!("{}/{}", self.base, self.session)
    }

    async fn post(&self, url: &str, mut body: Value) -> Result<Value, String> {
        let transaction = self.transaction.fetch_add(1, Ordering::Relaxed);
        body["transaction"] = json!(format!("t{transaction}"));
        let response = self.http.post(url).json(&body).send().await.map_err(|e| format!("janus {url}: {e}"))?;
        let value: Value = response.json().await.map_err(|e| format!("janus {url}: {e}"))?;
        match value.get("janus").and_then(Value::as_str) {
            Some("error") => Err(format!("janus {url}: {value}")),
            _ => Ok(value),
        }
    }

    async fn long_poll(&self) {
        loop {
            let url = format!("{}?maxev=50", self.session_url());
            let events = match self.http.get(&url).send().await {
                Ok(r) => match r.json::<Value>().await {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("sfu-load: janus long poll: {e}");
                        return;
                    }
                },
                Err(e) => {
                    eprintln!("sfu-load: janus long poll: {e}");
                    return;
                }
            };
            let events = match events {
                Value::Array(list) => list,
                one => vec![one],
            };
            let handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
            for event in events {
                let sender = event.get("sender").and_then(Value::as_u64);
                if let Some(tx) = sender.and_then(|s| handles.get(&s)) {
                    let _ = tx.send(event);
                }
            }
        }
    }

    /// Attaches a handle to the VideoRoom plugin; returns it and its events.
    async fn attach(&self) -> Result<(u64, mpsc::UnboundedReceiver<Value>), String> {
        let attached = self.post(&self.session_url(), json!({"janus": "attach", "plugin": "janus.plugin.videoroom"})).await?;
        let handle = id(&attached)?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.handles.lock().unwrap_or_else(|e| e.into_inner()).insert(handle, tx);
        Ok((handle, rx))
    }

    async fn message(&self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Value, String> {
        let mut msg = json!({"janus": "message", "body": body});
        if let Some(jsep) = jsep {
            msg["jsep"] = jsep;
        }
        self.post(&format!("{}/{handle}", self.session_url()), msg).await
    }

    async fn candidates_done(&self, handle: u64) -> Result<(), String> {
        self.post(&format!("{}/{handle}", self.session_url()), json!({"janus": "trickle", "candidate": {"completed": true}})).await.map(|_| ())
    }

    /// A publisher joins `room` with its offer; returns its feed id once Janus's answer is applied.
    pub async fn publish(&self, room: u64, client: &Handle) -> Result<u64, String> {
        let (handle, mut events) = self.attach().await?;
        let offer = client.offer()?;
        let body = json!({"request": "joinandconfigure", "room": room, "ptype": "publisher", "display": format!("bench-{}", client.index)});
        self.message(handle, body, Some(json!({"type": "offer", "sdp": offer}))).await?;
        let event = plugin_event(&mut events, "joined").await?;
        let sdp = event.pointer("/jsep/sdp").and_then(Value::as_str).ok_or("joined without an answer")?;
        if std::env::var_os("SFU_LOAD_SDP").is_some() {
            eprintln!("offer:\n{offer}\nanswer:\n{sdp}");
        }
        client.accept_answer(sdp)?;
        self.candidates_done(handle).await?;
        let id = event.pointer("/plugindata/data/id").and_then(Value::as_u64).ok_or("joined without an id")?;
        // A feed can be subscribed to once its PeerConnection is up.
        core_event(&mut events, "webrtcup").await?;
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok(id)
    }

    /// A subscriber receives every feed of `feeds` on one PeerConnection.
    pub async fn subscribe(&self, room: u64, feeds: &[u64], client: &Handle) -> Result<(), String> {
        let (handle, mut events) = self.attach().await?;
        let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
        let body = json!({"request": "join", "room": room, "ptype": "subscriber", "streams": streams});
        self.message(handle, body, None).await?;
        let event = plugin_event(&mut events, "attached").await?;
        let sdp = event.pointer("/jsep/sdp").and_then(Value::as_str).ok_or("attached without an offer")?;
        let answer = client.accept_offer(sdp)?;
        self.message(handle, json!({"request": "start"}), Some(json!({"type": "answer", "sdp": answer}))).await?;
        self.candidates_done(handle).await?;
        // Keep reading this handle's events (webrtcup, media) so that the channel does not grow
        // without bound.
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok(())
    }
}

fn id(response: &Value) -> Result<u64, String> {
    response.pointer("/data/id").and_then(Value::as_u64).ok_or_else(|| format!("janus: no id in {response}"))
}

/// Waits for the core event `janus: <what>` (such as `webrtcup`).
async fn core_event(events: &mut mpsc::UnboundedReceiver<Value>, what: &str) -> Result<(), String> {
    let wait = async {
        while let Some(event) = events.recv().await {
            if event.get("janus").and_then(Value::as_str) == Some(what) {
                return Ok(());
            }
        }
        Err("janus session ended".to_owned())
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.map_err(|_| format!("janus: no `{what}` in 20 s"))?
}

/// Waits for the plugin event `videoroom: <what>`; a plugin error fails.
async fn plugin_event(events: &mut mpsc::UnboundedReceiver<Value>, what: &str) -> Result<Value, String> {
    let wait = async {
        while let Some(event) = events.recv().await {
            let Some(data) = event.pointer("/plugindata/data") else { continue };
            if data.get("error").is_some() {
                return Err(format!("janus videoroom: {data}"));
            }
            if data.get("videoroom").and_then(Value::as_str) == Some(what) {
                return Ok(event);
            }
        }
        Err("janus session ended".to_owned())
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.map_err(|_| format!("janus: no `{what}` in 20 s"))?
}
