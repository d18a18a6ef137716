//! Messages from a client (browser tab) to the server.

use serde::{Deserialize, Deserializer, Serialize};

use super::PeerId;

/// A message sent by a client.
///
/// On the wire each is a JSON object tagged by `type`, e.g. `{"type": "join_room", "room_id":
/// "..."}`. Unknown fields are refused so that typos show up as errors instead of being ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Announces the protocol version the client speaks. Optional; a mismatch closes the
    /// connection with [`super::CloseCode::BadVersion`].
    Hello {
        /// The client's protocol version.
        version: u32,
    },
    /// Changes the user's presence; absent fields stay as they are.
    SetPresence(PresenceUpdate),
    /// Enters a room, leaving the current one first.
    JoinRoom {
        /// The room to enter: an organisation room or `call:<call_id>`.
        room_id: String,
    },
    /// Leaves the current room.
    LeaveRoom {},
    /// Rings a colleague.
    Call {
        /// The user to ring.
        to_user: String,
    },
    /// Accepts or declines a ringing call.
    CallAnswer {
        /// The call from the `ring` message.
        call_id: String,
        /// `true` to accept, `false` to decline.
        accept: bool,
    },
    /// Cancels a call the client is ringing.
    CallCancel {
        /// The call to cancel.
        call_id: String,
    },
    /// Relays an opaque payload (SDP, ICE candidate, data-channel setup) to another peer.
    Signal {
        /// The receiving peer.
        to_peer: PeerId,
        /// Any JSON value, at most [`super::MAX_PAYLOAD_BYTES`] serialized.
        payload: super::Payload,
    },
    /// Tells the other peers of the room about the client's microphone, camera and screen.
    MediaState(MediaState),
    /// Keep-alive; answered by `pong`.
    Ping {},
    /// Lets a guest waiting in the lobby into their room (members only).
    AdmitGuest {
        /// The waiting guest, from `guest_waiting`.
        user_id: String,
    },
    /// Turns away a guest waiting in the lobby: their connection is closed (members only).
    RefuseGuest {
        /// The waiting guest, from `guest_waiting`.
        user_id: String,
    },
    /// Connects the client to the media server of its room, once the room has switched to it
    /// (`media_mode` `sfu`): the client's SDP offer (docs/sfu.md). Answered by `sfu_answer`;
    /// sent again, it replaces the client's connection.
    SfuOffer {
        /// The offer's SDP.
        sdp: String,
    },
    /// The client's answer to the media server's `sfu_offer` (others' tracks added or removed).
    SfuAnswer {
        /// The answer's SDP.
        sdp: String,
    },
    /// The largest simulcast layer the client wants of others' videos through the media server,
    /// by the size it shows them at (a small tile needs no full resolution), by peer id. Peers
    /// not named keep what they had (`h` to begin with). At most [`super::MAX_SFU_LAYERS`].
    SfuLayers {
        /// Peer id to layer.
        layers: std::collections::BTreeMap<PeerId, VideoLayer>,
    },
}

/// A simulcast layer, by the rid browsers send it with: `l` (a quarter of the size), `m` (half)
/// or `h` (full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoLayer {
    /// Low: a quarter of the camera's size.
    L,
    /// Medium: half.
    M,
    /// High: full size.
    H,
}

impl ClientMsg {
    /// The wire name of this message's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::SetPresence(_) => "set_presence",
            Self::JoinRoom { .. } => "join_room",
            Self::LeaveRoom {} => "leave_room",
            Self::Call { .. } => "call",
            Self::CallAnswer { .. } => "call_answer",
            Self::CallCancel { .. } => "call_cancel",
            Self::Signal { .. } => "signal",
            Self::MediaState(_) => "media_state",
            Self::Ping {} => "ping",
            Self::AdmitGuest { .. } => "admit_guest",
            Self::RefuseGuest { .. } => "refuse_guest",
            Self::SfuOffer { .. } => "sfu_offer",
            Self::SfuAnswer { .. } => "sfu_answer",
            Self::SfuLayers { .. } => "sfu_layers",
        }
    }
}

/// The wire names of every client message type, for error reporting.
pub const CLIENT_TYPES: [&str; 15] = [
    "hello",
    "set_presence",
    "join_room",
    "leave_room",
    "call",
    "call_answer",
    "call_cancel",
    "signal",
    "media_state",
    "ping",
    "admit_guest",
    "refuse_guest",
    "sfu_offer",
    "sfu_answer",
    "sfu_layers",
];

/// The fields of `set_presence`. `None` leaves a field unchanged; for `location` and `deputy_id`
/// an explicit JSON `null` (`Some(None)`) clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceUpdate {
    /// The availability the user chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Availability>,
    /// Where the user works today; `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub location: Option<Option<Location>>,
    /// Whether the user is out of office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_office: Option<bool>,
    /// The colleague who stands in for the user; `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub deputy_id: Option<Option<String>>,
    /// A short free-text note; the empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The door of the user's office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<super::Door>,
}

/// Distinguishes an absent field (`None`, by `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The availability a user chooses for themself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Available.
    #[default]
    Online,
    /// Away from the desk.
    Away,
    /// Busy: may still be called.
    Busy,
    /// Do not disturb: calls are refused with `busy`.
    Dnd,
}

/// Where a user works today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Working from home.
    HomeOffice,
    /// In the organisation's premises.
    RealOffice,
    /// Travelling.
    OnTheGo,
}

/// A peer's microphone, camera, screen sharing and voice activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaState {
    /// The microphone is muted.
    pub muted: bool,
    /// The camera is sending.
    pub camera: bool,
    /// The screen is shared.
    pub screen: bool,
    /// The peer is speaking (voice activity).
    pub speaking: bool,
}
