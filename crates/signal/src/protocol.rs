//! The wire protocol: JSON text frames over a WebSocket at `/api/ws`.
//!
//! Every message is a JSON object tagged by `type` (see `docs/protocol.md`). Client messages are
//! [`ClientMsg`], parsed with [`parse_client`]; server messages are [`ServerMsg`]. Fatal
//! violations close the connection with a [`CloseCode`].

mod client;
mod close;
mod server;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

pub use client::{Availability, CLIENT_TYPES, ClientMsg, Location, MediaState, PresenceUpdate, VideoLayer};
pub use close::CloseCode;
pub use server::{
    Away, CallState, Door, Meeting, MediaMode, NextBusy, ErrorCode, GuestInfo, Notice, PeerInfo, RoomKind, RoomState, ServerMsg, Status, UserPresence,
};

use crate::error::ProtocolError;

/// The protocol version this crate speaks, sent in `welcome` and checked against `hello`.
pub const PROTOCOL_VERSION: u32 = 2;

/// The largest client text frame accepted, in bytes (64 KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The largest `signal` payload accepted, serialized, in bytes (32 KiB: ample for SDP).
pub const MAX_PAYLOAD_BYTES: usize = 32 * 1024;

/// The largest `sdp` of `sfu_offer` and `sfu_answer`, in bytes (256 KiB). An SDP holds an m-line
/// per track the browser receives from the media server, about 1.2 KB each in Chromium's
/// answers: a room of 100 (the most `sfu.max_room_participants` allows) gives a late joiner 198.
pub const MAX_SFU_SDP_BYTES: usize = 256 * 1024;

/// The largest client text frame accepted when it is an `sfu_offer` or `sfu_answer`: the SDP
/// escaped as JSON (each line end of 2 bytes becomes 4) in its envelope.
pub const MAX_SFU_MESSAGE_BYTES: usize = MAX_SFU_SDP_BYTES + MAX_SFU_SDP_BYTES / 4;

/// The longest `note` in `set_presence`, in characters.
pub const MAX_NOTE_CHARS: usize = 280;

/// The longest id accepted in a client message (room, user, call, peer ids), in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// The most videos one `sfu_layers` names: a room on the media server has at most 100 people.
pub const MAX_SFU_LAYERS: usize = 100;

/// How much of a peer's input an error message may quote.
const MAX_QUOTE_CHARS: usize = 40;

/// A peer id: a random UUIDv4 string, fresh for every connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(String);

impl PeerId {
    /// Wraps a string as a peer id (for tests and drivers; the hub mints its own).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The opaque payload of a `signal`: any JSON value, kept as the text the sender wrote, so the
/// hub relays it without parsing it into a tree and serializing it again.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Payload(Box<RawValue>);

impl Payload {
    /// The payload's JSON text, as sent.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Its length once serialized compactly (what [`MAX_PAYLOAD_BYTES`] limits): the text's
    /// own length unless that is over the limit, when whitespace is not counted.
    fn compact_len(&self) -> usize {
        let raw = self.0.get().len();
        if raw <= MAX_PAYLOAD_BYTES {
            return raw;
        }
        serde_json::from_str::<serde_json::Value>(self.0.get())
            .and_then(|v| serde_json::to_string(&v))
            .map_or(usize::MAX, |s| s.len())
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        // A Value always serializes (its map keys are strings).
        Payload(serde_json::value::to_raw_value(&value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }
}

/// Equal when the texts are equal (tests compare payloads they built the same way).
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<'de> Deserialize<'de> for Payload {
    /// Through a [`serde_json::Value`]: the tagged [`ClientMsg`] buffers its fields, which a
    /// [`RawValue`] cannot be read from. [`parse_client`] reads `signal` frames directly.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Payload::from)
    }
}

/// The fields of a `signal` frame, read straight from the text (the payload unparsed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    to_peer: PeerId,
    payload: Box<RawValue>,
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses one client text frame.
///
/// Checks the size first, then that the frame is a JSON object with a known `type`, then the
/// fields and their values (lengths of ids, notes and signal payloads). Frames up to
/// [`MAX_MESSAGE_BYTES`] are accepted, and SDP for the media server up to
/// [`MAX_SFU_MESSAGE_BYTES`].
pub fn parse_client(text: &str) -> Result<ClientMsg, ProtocolError> {
    if text.len() > MAX_SFU_MESSAGE_BYTES {
        return Err(ProtocolError::TooBig { len: text.len(), max: MAX_MESSAGE_BYTES });
    }
    let parsed = parse_within_size(text);
    let sfu_sdp = matches!(parsed, Ok(ClientMsg::SfuOffer { .. } | ClientMsg::SfuAnswer { .. }) | Err(ProtocolError::PayloadTooBig { max: MAX_SFU_SDP_BYTES, .. }));
    if text.len() > MAX_MESSAGE_BYTES && !sfu_sdp {
        return Err(ProtocolError::TooBig { len: text.len(), max: MAX_MESSAGE_BYTES });
    }
    parsed
}

fn parse_within_size(text: &str) -> Result<ClientMsg, ProtocolError> {
    // The hot path: a well-formed `signal` keeps its payload as text. Anything else, including
    // a malformed `signal`, takes the general path below, which words the errors.
    if let Ok(frame) = serde_json::from_str::<SignalFrame<'_>>(text)
        && frame.kind == "signal"
    {
        let msg = ClientMsg::Signal { to_peer: frame.to_peer, payload: Payload(frame.payload) };
        validate(&msg)?;
        return Ok(msg);
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
    let kind = match value.as_object().map(|o| o.get("type")) {
        None => return Err(ProtocolError::NotJson("expected an object".into())),
        Some(None) => return Err(ProtocolError::MissingType),
        Some(Some(t)) => t.as_str().ok_or(ProtocolError::MissingType)?.to_owned(),
    };
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err(ProtocolError::UnknownType(quote(&kind)));
    }
    let msg: ClientMsg = serde_json::from_value(value)
        .map_err(|e| ProtocolError::InvalidFields { kind: kind.clone(), detail: quote_long(&e) })?;
    validate(&msg)?;
    Ok(msg)
}

/// Serializes a server message to its JSON text frame.
pub fn encode_server(msg: &ServerMsg) -> String {
    // Serializing these types cannot fail: every map key is a string.
    serde_json::to_string(msg).unwrap_or_else(|_| String::from("{\"type\":\"pong\"}"))
}

/// Checks values that serde cannot: lengths and emptiness.
fn validate(msg: &ClientMsg) -> Result<(), ProtocolError> {
    match msg {
        ClientMsg::JoinRoom { room_id } => id("room_id", room_id),
        ClientMsg::AdmitGuest { user_id } | ClientMsg::RefuseGuest { user_id } => {
            id("user_id", user_id)
        }
        ClientMsg::Call { to_user } => id("to_user", to_user),
        ClientMsg::CallAnswer { call_id, .. } | ClientMsg::CallCancel { call_id } => {
            id("call_id", call_id)
        }
        ClientMsg::Signal { to_peer, payload } => {
            id("to_peer", to_peer.as_str())?;
            let len = payload.compact_len();
            if len > MAX_PAYLOAD_BYTES {
                return Err(ProtocolError::PayloadTooBig { len, max: MAX_PAYLOAD_BYTES });
            }
            Ok(())
        }
        ClientMsg::SetPresence(update) => {
            if let Some(Some(deputy)) = &update.deputy_id {
                id("deputy_id", deputy)?;
            }
            match &update.note {
                Some(note) if note.chars().count() > MAX_NOTE_CHARS => {
                    Err(ProtocolError::InvalidValue { field: "note", reason: "too long" })
                }
                _ => Ok(()),
            }
        }
        ClientMsg::SfuOffer { sdp } | ClientMsg::SfuAnswer { sdp } => {
            if sdp.is_empty() {
                Err(ProtocolError::InvalidValue { field: "sdp", reason: "empty" })
            } else if sdp.len() > MAX_SFU_SDP_BYTES {
                Err(ProtocolError::PayloadTooBig { len: sdp.len(), max: MAX_SFU_SDP_BYTES })
            } else {
                Ok(())
            }
        }
        ClientMsg::SfuLayers { layers } => {
            if layers.len() > MAX_SFU_LAYERS {
                return Err(ProtocolError::InvalidValue { field: "layers", reason: "too many" });
            }
            layers.keys().try_for_each(|peer| id("layers", peer.as_str()))
        }
        ClientMsg::Hello { .. } | ClientMsg::LeaveRoom {} | ClientMsg::MediaState(_) => Ok(()),
        ClientMsg::Ping {} => Ok(()),
    }
}

fn id(field: &'static str, value: &str) -> Result<(), ProtocolError> {
    if value.is_empty() {
        Err(ProtocolError::InvalidValue { field, reason: "empty" })
    } else if value.len() > MAX_ID_BYTES {
        Err(ProtocolError::InvalidValue { field, reason: "too long" })
    } else {
        Ok(())
    }
}

fn quote(s: &str) -> String {
    s.chars().take(MAX_QUOTE_CHARS).collect()
}

fn quote_long(e: &serde_json::Error) -> String {
    e.to_string().chars().take(4 * MAX_QUOTE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(text: &str) -> ClientMsg {
        match parse_client(text) {
            Ok(m) => m,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn parses_every_client_message() {
        assert_eq!(ok(r#"{"type":"hello","version":1}"#), ClientMsg::Hello { version: 1 });
        assert_eq!(ok(r#"{"type":"leave_room"}"#), ClientMsg::LeaveRoom {});
        assert_eq!(ok(r#"{"type":"ping"}"#), ClientMsg::Ping {});
        assert_eq!(
            ok(r#"{"type":"join_room","room_id":"r1"}"#),
            ClientMsg::JoinRoom { room_id: "r1".into() }
        );
        assert_eq!(ok(r#"{"type":"call","to_user":"u"}"#), ClientMsg::Call { to_user: "u".into() });
        assert_eq!(
            ok(r#"{"type":"admit_guest","user_id":"g"}"#),
            ClientMsg::AdmitGuest { user_id: "g".into() }
        );
        assert_eq!(
            ok(r#"{"type":"refuse_guest","user_id":"g"}"#),
            ClientMsg::RefuseGuest { user_id: "g".into() }
        );
        assert_eq!(
            ok(r#"{"type":"call_answer","call_id":"c","accept":true}"#),
            ClientMsg::CallAnswer { call_id: "c".into(), accept: true }
        );
        assert_eq!(
            ok(r#"{"type":"call_cancel","call_id":"c"}"#),
            ClientMsg::CallCancel { call_id: "c".into() }
        );
        assert_eq!(
            ok(r#"{"type":"signal","to_peer":"p","payload":{"sdp":"v=0"}}"#),
            ClientMsg::Signal { to_peer: PeerId::new("p"), payload: json!({"sdp": "v=0"}).into() }
        );
        assert_eq!(
            ok(r#"{"type":"media_state","muted":true,"camera":false,"screen":false,"speaking":true}"#),
            ClientMsg::MediaState(MediaState { muted: true, speaking: true, ..Default::default() })
        );
    }

    #[test]
    fn sfu_layers_name_peers_and_layers() {
        let m = ok(r#"{"type":"sfu_layers","layers":{"p1":"l","p2":"h"}}"#);
        let ClientMsg::SfuLayers { layers } = m else { panic!("not sfu_layers") };
        assert_eq!(layers.get(&PeerId::new("p1")), Some(&VideoLayer::L));
        assert_eq!(layers.get(&PeerId::new("p2")), Some(&VideoLayer::H));
        let many: Vec<String> = (0..=MAX_SFU_LAYERS).map(|i| format!(r#""p{i}":"m""#)).collect();
        let text = format!(r#"{{"type":"sfu_layers","layers":{{{}}}}}"#, many.join(","));
        assert!(matches!(parse_client(&text), Err(ProtocolError::InvalidValue { field: "layers", .. })), "more videos than a room has");
        for bad in [r#"{"type":"sfu_layers","layers":{"p1":"x"}}"#, r#"{"type":"sfu_layers","layers":{"p1":2}}"#, r#"{"type":"sfu_layers","layers":["l"]}"#, r#"{"type":"sfu_layers"}"#] {
            assert!(parse_client(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_client(r#"{"type":"sfu_layers","layers":{"":"l"}}"#), Err(ProtocolError::InvalidValue { field: "layers", .. })));
    }

    #[test]
    fn set_presence_tells_absent_from_null() {
        let m = ok(r#"{"type":"set_presence","status":"dnd","location":null}"#);
        let ClientMsg::SetPresence(u) = m else { panic!("not set_presence") };
        assert_eq!(u.status, Some(Availability::Dnd));
        assert_eq!(u.location, Some(None));
        assert_eq!(u.deputy_id, None);
        let m = ok(r#"{"type":"set_presence","location":"on_the_go","deputy_id":"u2"}"#);
        let ClientMsg::SetPresence(u) = m else { panic!("not set_presence") };
        assert_eq!(u.location, Some(Some(Location::OnTheGo)));
        assert_eq!(u.deputy_id, Some(Some("u2".into())));
    }

    #[test]
    fn refuses_bad_frames_with_clear_errors() {
        let cases: &[(&str, &str)] = &[
            ("nope", "not a JSON object"),
            ("[1]", "not a JSON object: expected an object"),
            (r#"{"room_id":"x"}"#, "missing \"type\" field"),
            (r#"{"type":7}"#, "missing \"type\" field"),
            (r#"{"type":"frob"}"#, "unknown message type \"frob\""),
            (r#"{"type":"join_room"}"#, "invalid join_room message"),
            (r#"{"type":"ping","extra":1}"#, "invalid ping message"),
            (r#"{"type":"set_presence","status":"sleepy"}"#, "invalid set_presence message"),
            (r#"{"type":"join_room","room_id":""}"#, "invalid value for room_id: empty"),
        ];
        for (text, want) in cases {
            match parse_client(text) {
                Ok(m) => panic!("{text} parsed as {m:?}"),
                Err(e) => assert!(e.to_string().starts_with(want), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn enforces_size_limits() {
        let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(MAX_MESSAGE_BYTES));
        assert!(matches!(parse_client(&big), Err(ProtocolError::TooBig { .. })));
        let payload = "x".repeat(MAX_PAYLOAD_BYTES);
        let text = format!(r#"{{"type":"signal","to_peer":"p","payload":"{payload}"}}"#);
        assert!(matches!(parse_client(&text), Err(ProtocolError::PayloadTooBig { .. })));
        // SDP for the media server may be longer than other frames, up to its own limit.
        let line = r"a=rtcp-fb:96 transport-cc\r\n"; // 27 bytes once read, 29 as JSON
        let sdp = line.repeat(MAX_SFU_SDP_BYTES / 27);
        let text = format!(r#"{{"type":"sfu_answer","sdp":"{sdp}"}}"#);
        assert!(text.len() > MAX_MESSAGE_BYTES && text.len() <= MAX_SFU_MESSAGE_BYTES, "{}", text.len());
        assert!(matches!(parse_client(&text), Ok(ClientMsg::SfuAnswer { .. })));
        let text = format!(r#"{{"type":"sfu_offer","sdp":"{}"}}"#, line.repeat(MAX_SFU_SDP_BYTES / 27 + 1));
        assert!(matches!(parse_client(&text), Err(ProtocolError::PayloadTooBig { .. })), "an SDP over its limit");
        let text = format!(r#"{{"type":"sfu_answer","sdp":"{}"}}"#, "x".repeat(MAX_SFU_MESSAGE_BYTES));
        assert!(matches!(parse_client(&text), Err(ProtocolError::TooBig { .. })), "a frame over the SDP frame limit");
        // Other messages are held to the general limit, whatever the size of the SDP limit.
        let text = format!(r#"{{"type":"set_presence","note":"{}"}}"#, "x".repeat(MAX_MESSAGE_BYTES));
        assert!(matches!(parse_client(&text), Err(ProtocolError::TooBig { .. })));
        let payload = "x".repeat(MAX_MESSAGE_BYTES);
        let text = format!(r#"{{"type":"signal","to_peer":"p","payload":"{payload}"}}"#);
        assert!(matches!(parse_client(&text), Err(ProtocolError::TooBig { .. })), "a signal over the general limit");
        let note = "é".repeat(MAX_NOTE_CHARS + 1);
        let text = format!(r#"{{"type":"set_presence","note":"{note}"}}"#);
        assert!(matches!(parse_client(&text), Err(ProtocolError::InvalidValue { .. })));
    }

    #[test]
    fn server_messages_are_tagged_snake_case() {
        let m = ServerMsg::CallUpdate {
            call_id: "c".into(),
            state: CallState::NoAnswer,
            room_id: None,
            deputy_id: None,
        };
        assert_eq!(encode_server(&m), r#"{"type":"call_update","call_id":"c","state":"no_answer"}"#);
        assert_eq!(encode_server(&ServerMsg::Pong {}), r#"{"type":"pong"}"#);
        let e = ServerMsg::error(ErrorCode::RoomFull, "full");
        assert_eq!(encode_server(&e), r#"{"type":"error","code":"room_full","message":"full"}"#);
        let e = ServerMsg::error(ErrorCode::NotAllowed, "no");
        assert_eq!(encode_server(&e), r#"{"type":"error","code":"not_allowed","message":"no"}"#);
    }

    #[test]
    fn the_guest_flag_of_a_peer_is_sent_only_for_guests() {
        let mut peer = PeerInfo {
            peer_id: PeerId::new("p"),
            user_id: "u".into(),
            name: "U".into(),
            media_state: MediaState::default(),
            guest: false,
        };
        let member = serde_json::to_value(&peer).unwrap_or_default();
        assert_eq!(member.get("guest"), None, "members' peer infos are unchanged");
        peer.guest = true;
        let guest = serde_json::to_value(&peer).unwrap_or_default();
        assert_eq!(guest.get("guest"), Some(&json!(true)));
        let back: PeerInfo = serde_json::from_value(member).unwrap_or_else(|e| panic!("{e}"));
        assert!(!back.guest);
    }

    #[test]
    fn signal_payloads_are_relayed_as_written() {
        let text = r#"{"type":"signal","to_peer":"p","payload":{"b":1, "a":[2]}}"#;
        let Ok(ClientMsg::Signal { payload, .. }) = parse_client(text) else { panic!("not a signal") };
        assert_eq!(payload.get(), r#"{"b":1, "a":[2]}"#);
        let extra = parse_client(r#"{"type":"signal","to_peer":"p","payload":1,"x":2}"#);
        assert!(matches!(extra, Err(ProtocolError::InvalidFields { .. })), "{extra:?}");
        let empty = parse_client(r#"{"type":"signal","to_peer":"","payload":1}"#);
        assert!(matches!(empty, Err(ProtocolError::InvalidValue { field: "to_peer", .. })), "{empty:?}");
    }
}
