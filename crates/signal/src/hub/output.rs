//! What the hub asks its driver to do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ConnId;
use super::media::MediaCommand;
use crate::protocol::{CloseCode, ServerMsg};

/// What the hub asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a message on a connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The message; serialize with [`crate::encode_server`]. A broadcast hands every
        /// receiver the same `Arc`: one copy, and the driver serializes it once
        /// ([`Arc::ptr_eq`] with the previous output tells it).
        msg: Arc<ServerMsg>,
    },
    /// Close a connection with a WebSocket close code. The hub has already forgotten it;
    /// a later [`Hub::disconnect`](super::Hub::disconnect) for it is harmless.
    Close {
        /// The connection.
        conn: ConnId,
        /// Why.
        code: CloseCode,
    },
    /// A call or room session with at least two participants ended: store its metadata.
    CallLog(CallLog),
    /// A user became present (online and not away: available, busy or do-not-disturb) or
    /// stopped being present: the driver records attendance times where the organisation and
    /// the user allow it. Emitted only when the flag flips.
    Present {
        /// The organisation.
        org_id: String,
        /// The user (guests too: the driver knows who is a member).
        user_id: String,
        /// Whether the user is present now.
        present: bool,
    },
    /// Something for the media server (docs/sfu.md); its answers come back through
    /// [`Hub::media_event`](super::Hub::media_event).
    Media(MediaCommand),
}

/// Metadata of a finished call or room session (no content: who, where, when, how long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLog {
    /// The organisation.
    pub org_id: String,
    /// The organisation room, or `None` for a one-to-one call.
    pub room_id: Option<String>,
    /// The call id, or a random session id for a room session.
    pub call_id: String,
    /// When the second participant arrived (the driver converts it to wall-clock time).
    pub started_at: Instant,
    /// How long at least two participants were together.
    pub duration: Duration,
    /// Every user who took part, sorted.
    pub participants: Vec<String>,
}
