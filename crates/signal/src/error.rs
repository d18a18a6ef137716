//! Errors of the signaling protocol.
//!
//! A [`ProtocolError`] is what [`crate::parse_client`] returns for a text frame that is not a
//! valid client message. The hub answers each with one `error` message whose code is
//! [`ProtocolError::code`] (non-fatal), and closes the connection once a peer keeps sending them
//! (see [`crate::CloseCode`]).

use thiserror::Error;

use crate::protocol::ErrorCode;

/// Why a text frame is not a valid client message.
///
/// The `Display` text is safe to send back to the peer that sent the frame: it names the problem
/// and, at most, a short excerpt of that peer's own input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// The frame is longer than [`crate::MAX_MESSAGE_BYTES`].
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooBig {
        /// Length of the frame in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The `payload` of a `signal` message is longer than [`crate::MAX_PAYLOAD_BYTES`] once
    /// serialized.
    #[error("signal payload of {len} bytes exceeds the limit of {max} bytes")]
    PayloadTooBig {
        /// Serialized length of the payload in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The frame is not JSON, or not a JSON object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// The object has no string field `type`.
    #[error("missing \"type\" field")]
    MissingType,
    /// The `type` names no client message of this protocol version.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// The `type` is known but the fields are missing, unknown or of the wrong kind.
    #[error("invalid {kind} message: {detail}")]
    InvalidFields {
        /// The message type.
        kind: String,
        /// What serde found wrong.
        detail: String,
    },
    /// A field is well-formed but its value is out of range (too long a note, an empty id).
    #[error("invalid value for {field}: {reason}")]
    InvalidValue {
        /// The field name.
        field: &'static str,
        /// Why the value is refused.
        reason: &'static str,
    },
}

impl ProtocolError {
    /// The wire code of the `error` message that answers this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooBig { .. } | Self::PayloadTooBig { .. } => ErrorCode::TooBig,
            _ => ErrorCode::BadMessage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_to_too_big_and_the_rest_to_bad_message() {
        assert_eq!(ProtocolError::TooBig { len: 2, max: 1 }.code(), ErrorCode::TooBig);
        assert_eq!(ProtocolError::PayloadTooBig { len: 2, max: 1 }.code(), ErrorCode::TooBig);
        assert_eq!(ProtocolError::MissingType.code(), ErrorCode::BadMessage);
        assert_eq!(ProtocolError::UnknownType("x".into()).code(), ErrorCode::BadMessage);
    }

    #[test]
    fn messages_are_readable() {
        let e = ProtocolError::UnknownType("frob".into());
        assert_eq!(e.to_string(), "unknown message type \"frob\"");
    }
}
