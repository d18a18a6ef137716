//! Turning what the hub emits into router outputs: frames for local connections, one
//! [`Frame::Deliver`] per other node and cycle, closes, and call logs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use bureau_signal::{Output, ServerMsg, encode_server};

use super::super::bus::{Frame, NodeTag, node_of};
use super::{Router, RouterOutput};

/// What the hub emitted for another node's connections in one cycle.
#[derive(Default)]
struct Batch {
    texts: Vec<(String, Vec<u64>)>,
    /// The serialization the last entry of `texts` came from.
    last: u64,
    closes: Vec<(u64, u16)>,
}

impl Router {
    /// Turns everything the hub has emitted so far into outputs.
    pub(super) fn drain_hub(&mut self) {
        // A broadcast comes out as the same shared message for each connection in a row:
        // serialize it once.
        let mut last: Option<(Arc<ServerMsg>, Utf8Bytes)> = None;
        let mut serial = 0u64;
        let mut batches: BTreeMap<NodeTag, Batch> = BTreeMap::new();
        while let Some(output) = self.hub.poll_output() {
            match output {
                Output::Send { conn, msg } => {
                    let local = self.local.contains_key(&conn);
                    if !local && !self.remote.contains_key(&conn) {
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
                    if local {
                        self.out.push_back(RouterOutput::Send { conn, text });
                        continue;
                    }
                    let batch = batches.entry(node_of(conn)).or_default();
                    match batch.texts.last_mut() {
                        Some((_, conns)) if batch.last == serial => conns.push(conn.0),
                        _ => {
                            batch.texts.push((text.as_str().to_owned(), vec![conn.0]));
                            batch.last = serial;
                        }
                    }
                }
                Output::Close { conn, code } => {
                    if !self.forget_local(conn, Some(code.code())) && self.remote.remove(&conn).is_some() {
                        batches.entry(node_of(conn)).or_default().closes.push((conn.0, code.code()));
                    }
                }
                Output::CallLog(log) => self.out.push_back(RouterOutput::CallLog(log)),
                Output::Present { org_id, user_id, present } => self.out.push_back(RouterOutput::Present { org_id, user_id, present }),
                Output::Media(command) => self.route_media(command),
            }
        }
        for (node, batch) in batches {
            self.publish(node, Frame::Deliver { texts: batch.texts, closes: batch.closes });
        }
    }
}
