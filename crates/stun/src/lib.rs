//! Sans-IO STUN and TURN for Bureau.
//!
//! This crate holds everything about the protocol that does not need a socket or a clock:
//!
//! - [`message`]: zero-copy decoding of STUN messages (RFC 8489, RFC 5389 clients) and an
//!   encoder that writes into a caller-provided buffer, with MESSAGE-INTEGRITY,
//!   MESSAGE-INTEGRITY-SHA256 and FINGERPRINT;
//! - [`attributes`]: attribute types and their typed values (addresses, error codes, ...);
//! - [`channel_data`]: the ChannelData fast path of TURN (RFC 8656 §12);
//! - [`credentials`]: REST-secret credentials compatible with coturn's `--use-auth-secret`,
//!   long-term keys and USERHASH;
//! - [`nonce`]: stateless nonces bound to a client address, with expiry;
//! - [`policy`]: which peer addresses a relay may talk to (secure by default);
//! - [`server`]: the TURN server state machine (allocations, permissions, channels, quotas,
//!   bandwidth), driven by `handle_*` calls that take `now: Instant` as an argument;
//! - [`fuzzing`]: the bodies of the fuzz targets (`bench/fuzz`), replayed by `cargo test`.
//!
//! The I/O drivers live in `bureau-turn`.

pub mod attributes;
pub mod channel_data;
pub mod credentials;
pub mod error;
pub mod fuzzing;
pub mod message;
pub mod nonce;
pub mod policy;
pub mod server;

pub use error::{CidrError, CredentialError, DecodeError, EncodeError, Reject};
pub use message::{Class, Encoder, Message, Method, TransactionId};
