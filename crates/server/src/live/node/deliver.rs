//! Carrying out what the hub emits: frames to local outboxes, one [`Frame::Deliver`] per other
//! node and cycle, closes, and call logs to the database.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use bureau_office::{FinishedCall, Office};
use bureau_signal::{CloseCode, Output, ServerMsg, encode_server};

use super::super::Outbound;
use super::super::bus::{Frame, NodeTag, node_of};
use super::Node;

/// What the hub emitted for another node's connections in one cycle.
#[derive(Default)]
struct Batch {
    texts: Vec<(String, Vec<u64>)>,
    /// The serialization the last entry of `texts` came from.
    last: u64,
    closes: Vec<(u64, u16)>,
}

impl Node {
    /// Carries out everything the hub emitted, including what disconnecting slow clients emits.
    pub(super) fn deliver(&mut self) {
        // A broadcast comes out as the same shared message for each connection in a row:
        // serialize it once.
        let mut last: Option<(Arc<ServerMsg>, Utf8Bytes)> = None;
        let mut serial = 0u64;
        let mut batches: HashMap<NodeTag, Batch> = HashMap::new();
        loop {
            let mut too_slow = Vec::new();
            while let Some(output) = self.hub.poll_output() {
                match output {
                    Output::Send { conn, msg } => {
                        let local = self.local.get(&conn).map(|l| &l.outbox);
                        if local.is_none() && !self.remote.contains_key(&conn) {
                            continue;
                        }
                        let text = match &last {
                            Some((previous, text)) if Arc::ptr_eq(previous, &msg) => text.clone(),
                            _ => {
                                serial += 1;
                                let text = Utf8Bytes::from(encode_server(&msg));
                                last = Some((msg, text.clone()));
                                text
                            }
                        };
                        match local {
                            Some(outbox) => {
                                if outbox.try_send(Outbound::Text(text)).is_err() {
                                    too_slow.push(conn);
                                }
                            }
                            None => {
                                let batch = batches.entry(node_of(conn)).or_default();
                                match batch.texts.last_mut() {
                                    Some((_, conns)) if batch.last == serial => conns.push(conn.0),
                                    _ => {
                                        batch.texts.push((text.as_str().to_owned(), vec![conn.0]));
                                        batch.last = serial;
                                    }
                                }
                            }
                        }
                    }
                    Output::Close { conn, code } => {
                        if let Some(local) = self.forget_local(conn) {
                            let _ = local.outbox.try_send(Outbound::Close(code.code(), code.reason()));
                        } else if self.remote.remove(&conn).is_some() {
                            batches.entry(node_of(conn)).or_default().closes.push((conn.0, code.code()));
                        }
                    }
                    Output::CallLog(log) => store_call_log(&self.office, log),
                }
            }
            if too_slow.is_empty() {
                break;
            }
            for conn in too_slow {
                self.warn_if_slow(conn);
                // Dropping the full outbox's sender makes the socket task close the socket.
                self.forget_local(conn);
                self.hub.disconnect(Instant::now(), conn);
            }
        }
        for (node, batch) in batches {
            self.publish(node, &Frame::Deliver { texts: batch.texts, closes: batch.closes });
        }
    }
}

/// The reason sent with a close code that came from another node.
pub(super) fn close_reason(code: u16) -> &'static str {
    [
        CloseCode::GoingAway,
        CloseCode::MessageTooBig,
        CloseCode::BadVersion,
        CloseCode::TooManyBadMessages,
        CloseCode::Kicked,
        CloseCode::Flooding,
        CloseCode::NotAdmitted,
    ]
    .into_iter()
    .find(|c| c.code() == code)
    .map_or("", CloseCode::reason)
}

fn store_call_log(office: &Arc<Office>, log: bureau_signal::CallLog) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let started_at = now_ms - Instant::now().saturating_duration_since(log.started_at).as_millis() as i64;
    let call = FinishedCall {
        org_id: log.org_id,
        call_id: log.call_id,
        room_id: log.room_id,
        started_at,
        duration_ms: log.duration.as_millis() as i64,
        participants: log.participants,
    };
    let office = office.clone();
    tokio::spawn(async move {
        if let Err(err) = office.record_call(call).await {
            tracing::error!("could not store a call log: {err}");
        }
    });
}
