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
//!   [`Hub::poll_timeout`], in the style of str0m and quinn-proto.
//!
//! Time is always an [`std::time::Instant`] argument, so tests drive a fake clock.

pub mod error;
pub mod hub;
pub mod protocol;

pub use error::ProtocolError;
pub use hub::{CallLog, ConnId, ConnectInfo, Hub, HubConfig, Output, Room};
pub use protocol::{
    Availability, CallState, ClientMsg, CloseCode, ErrorCode, Location, MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES, MediaState, PROTOCOL_VERSION, PeerId, PeerInfo, PresenceUpdate, RoomKind,
    RoomState, ServerMsg, Status, UserPresence, encode_server, parse_client,
};
