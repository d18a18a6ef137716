//! Sans-IO signaling for Bureau's live office.
//!
//! This crate holds the signaling protocol and its state machine, without sockets, tasks or a
//! clock:
//!
//! - [`protocol`]: the versioned JSON messages ([`ClientMsg`], [`ServerMsg`]), their parser
//!   [`parse_client`] with size limits, and the WebSocket [`CloseCode`]s;
//! - [`hub`]: the [`Hub`], the presence / room / call state machine of every organisation on a
//!   node. A driver (the WebSocket server in `bureau-server`) feeds it connections, text frames
//!   and the current time, then drains [`Output`]s with [`Hub::poll_output`] and sleeps until
//!   [`Hub::poll_timeout`], in the style of str0m and quinn-proto;
//! - [`fuzzing`]: the body of the `signal_json` fuzz target (`bench/fuzz`), replayed by `cargo test`.
//!
//! Time is always an [`std::time::Instant`] argument, so tests drive a fake clock.
//!
//! # Driving the hub
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bureau_signal::{ConnId, ConnectInfo, Hub, HubConfig, Output, ServerMsg, encode_server};
//!
//! let mut hub = Hub::new(HubConfig::default());
//! let now = Instant::now();
//! // A WebSocket at /api/ws was upgraded for an authenticated user.
//! let info = ConnectInfo {
//!     org_id: "org".into(),
//!     user_id: "ada".into(),
//!     name: "Ada".into(),
//!     has_picture: false,
//!     ice_servers: serde_json::json!([{"urls": "stun:turn.example.org"}]),
//!     guest: None,
//!     session: "tag of the sign-in".into(),
//! };
//! hub.connect(now, ConnId(1), info);
//! hub.message(now, ConnId(1), r#"{"type":"ping"}"#);
//! while let Some(output) = hub.poll_output() {
//!     match output {
//!         Output::Send { conn, msg } => {
//!             let _frame: String = encode_server(&msg); // send as a text frame on `conn`
//!             assert!(matches!(*msg, ServerMsg::Welcome { .. } | ServerMsg::Pong {}));
//!         }
//!         Output::Close { conn: _, code } => { let _ = (code.code(), code.reason()); }
//!         Output::CallLog(_log) => { /* store the metadata */ }
//!         Output::Present { .. } => { /* record attendance times */ }
//!         Output::Media(_command) => { /* hand it to the media server */ }
//!     }
//! }
//! // The socket closed; later, when the deadline comes, the hub turns the user offline.
//! hub.disconnect(now, ConnId(1));
//! let deadline = hub.poll_timeout();
//! assert_eq!(deadline, Some(now + Duration::from_secs(15)));
//! hub.handle_timeout(now + Duration::from_secs(15));
//! ```

pub mod error;
pub mod fuzzing;
pub mod hub;
pub mod protocol;

pub use error::ProtocolError;
pub use hub::{CallLog, ConnId, ConnectInfo, GuestAccess, Hub, HubConfig, MediaCommand, MediaEvent, Output, Room};
pub use protocol::{
    Availability, Away, CallState, Door, Meeting, NextBusy, ClientMsg, CloseCode, ErrorCode, GuestInfo, Location,
    MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, MAX_SFU_MESSAGE_BYTES, MAX_SFU_SDP_BYTES, MediaMode, MediaState, Notice, PROTOCOL_VERSION, Payload, PeerId, PeerInfo,
    PresenceUpdate, RoomKind, RoomState, ServerMsg, Status, UserPresence, encode_server, parse_client,
};
