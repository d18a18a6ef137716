//! Messages from the server to a client.

use serde::{Deserialize, Serialize};

use super::{Availability, Location, MediaState, PeerId};

/// A message sent by the server.
///
/// On the wire each is a JSON object tagged by `type`. Clients must ignore fields they do not
/// know, so that fields can be added without a new protocol version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The first message of every connection.
    Welcome {
        /// The server's protocol version ([`super::PROTOCOL_VERSION`]).
        version: u32,
        /// This connection's peer id, fresh for every connection.
        peer_id: PeerId,
        /// The authenticated user.
        user_id: String,
        /// The `iceServers` to configure `RTCPeerConnection` with (STUN/TURN, credentials).
        ice_servers: serde_json::Value,
        /// Everyone of the organisation the hub knows about, including offline users it has seen.
        presence: Vec<UserPresence>,
        /// The organisation's rooms with their participants; for a guest, their room only.
        rooms: Vec<RoomState>,
        /// Present for guests only: the guest's room and whether they may join it yet.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest: Option<GuestInfo>,
    },
    /// One user's presence changed.
    Presence {
        /// The user's new presence.
        user: UserPresence,
    },
    /// The participants (or media state) of one room changed.
    Room {
        /// The room's new state.
        room: RoomState,
    },
    /// The organisation's room list changed.
    Rooms {
        /// All rooms of the organisation.
        rooms: Vec<RoomState>,
    },
    /// The client entered a room. In a `mesh` room it must send offers to each of `peers`; in
    /// an `sfu` room it sends its offer to the media server instead (`sfu_offer`).
    Joined {
        /// The room entered.
        room_id: String,
        /// The peers already in the room.
        peers: Vec<PeerInfo>,
        /// How the room's media travels now.
        #[serde(default)]
        media_mode: MediaMode,
    },
    /// The client's room switched between the peer-to-peer mesh and the media server (it grew
    /// past the organisation's threshold, or shrank well below it).
    MediaMode {
        /// The room.
        room_id: String,
        /// How its media travels from now on.
        mode: MediaMode,
    },
    /// The media server's answer to the client's `sfu_offer`.
    SfuAnswer {
        /// The answer's SDP.
        sdp: String,
    },
    /// The media server renegotiates the client's connection (others' tracks added or
    /// removed); the client answers with `sfu_answer`.
    SfuOffer {
        /// The offer's SDP.
        sdp: String,
    },
    /// Who spoke last in a room through the media server (from the audio levels browsers put
    /// in clear beside the encrypted audio), and how many speakers' videos it forwards: each
    /// participant gets the video of the first `last_n` of `peer_ids` besides their own (and a
    /// shared screen whoever speaks).
    Speakers {
        /// The room.
        room_id: String,
        /// Every participant, the most recent speaker first.
        peer_ids: Vec<PeerId>,
        /// How many speakers' videos each participant receives.
        last_n: usize,
    },
    /// A peer entered the client's room; it will send an offer.
    PeerJoined {
        /// The room.
        room_id: String,
        /// The peer that entered.
        peer: PeerInfo,
    },
    /// A peer left the client's room. When `peer_id` is the client's own, the client was removed
    /// from the room (room deleted, call ended).
    PeerLeft {
        /// The room.
        room_id: String,
        /// The peer that left.
        peer_id: PeerId,
    },
    /// A colleague is calling.
    Ring {
        /// The call, to answer with `call_answer`.
        call_id: String,
        /// The caller's user id.
        from_user: String,
        /// The caller's display name.
        from_name: String,
        /// The caller knocked on this colleague's office, who is away: the callee stands in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_user: Option<String>,
    },
    /// A colleague knocked while this user did not want to be disturbed: nothing rang; the
    /// client keeps it as a note, with a way to call back.
    Knocked {
        /// The colleague's user id.
        from_user: String,
        /// Their display name.
        from_name: String,
    },
    /// The colleague the client knocked on is away (an absence): until when, and who stands in.
    /// With a deputy the knock rings them instead (a `call_update` follows); without one it
    /// ends here.
    Away {
        /// The absent colleague.
        user_id: String,
        /// When they are back, Unix milliseconds.
        until: i64,
        /// Who stands in, if anyone.
        deputy_id: Option<String>,
    },
    /// A call changed state.
    CallUpdate {
        /// The call.
        call_id: String,
        /// Its new state.
        state: CallState,
        /// With `accepted`: the room both sides join.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        /// To the caller, when the colleague knocked on does not want to be disturbed and their
        /// deputy is rung instead: the deputy (whom the rest of the call is with).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deputy_id: Option<String>,
    },
    /// A payload relayed from another peer.
    Signal {
        /// The sending peer.
        from_peer: PeerId,
        /// The sending user.
        from_user: String,
        /// The payload, as sent.
        payload: super::Payload,
    },
    /// A peer of the client's room changed its media state.
    MediaState {
        /// The peer.
        peer_id: PeerId,
        /// The microphone is muted.
        muted: bool,
        /// The camera is sending.
        camera: bool,
        /// The screen is shared.
        screen: bool,
        /// The peer is speaking.
        speaking: bool,
    },
    /// A request failed; the connection stays open.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
    /// The answer to `ping`.
    Pong {},
    /// To a member: an end-to-end encrypted message waits on the server for one of their
    /// devices (docs/messaging.md). The client fetches its device's inbox; the frame carries
    /// nothing of the message.
    Inbox {},
    /// To a member: the group conversations they are in changed (made, members added or
    /// removed: a new epoch). The client fetches them again.
    Conversations {},
    /// To members: a guest waits in the lobby for a room; answer with `admit_guest` or
    /// `refuse_guest`.
    GuestWaiting {
        /// The room the guest asks to enter.
        room_id: String,
        /// The guest.
        user_id: String,
        /// The name the guest gave.
        name: String,
    },
    /// To members: a guest no longer waits (admitted, refused, or gone).
    GuestLeft {
        /// The guest.
        user_id: String,
    },
    /// To a guest: a member let them in; they may now `join_room` the room.
    Admitted {
        /// The guest's room.
        room_id: String,
    },
}

impl ServerMsg {
    /// An `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error { code, message: message.into() }
    }

    /// The wire name of this message's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::Presence { .. } => "presence",
            Self::Room { .. } => "room",
            Self::Rooms { .. } => "rooms",
            Self::Joined { .. } => "joined",
            Self::MediaMode { .. } => "media_mode",
            Self::SfuAnswer { .. } => "sfu_answer",
            Self::SfuOffer { .. } => "sfu_offer",
            Self::Speakers { .. } => "speakers",
            Self::PeerJoined { .. } => "peer_joined",
            Self::PeerLeft { .. } => "peer_left",
            Self::Ring { .. } => "ring",
            Self::Away { .. } => "away",
            Self::Knocked { .. } => "knocked",
            Self::CallUpdate { .. } => "call_update",
            Self::Signal { .. } => "signal",
            Self::MediaState { .. } => "media_state",
            Self::Error { .. } => "error",
            Self::Pong {} => "pong",
            Self::Inbox {} => "inbox",
            Self::Conversations {} => "conversations",
            Self::GuestWaiting { .. } => "guest_waiting",
            Self::GuestLeft { .. } => "guest_left",
            Self::Admitted { .. } => "admitted",
        }
    }
}

/// What a member's open pages are told to fetch again (no content in the frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// [`ServerMsg::Inbox`].
    Inbox,
    /// [`ServerMsg::Conversations`].
    Conversations,
}

impl Notice {
    /// The message that carries this notice.
    pub fn message(self) -> ServerMsg {
        match self {
            Notice::Inbox => ServerMsg::Inbox {},
            Notice::Conversations => ServerMsg::Conversations {},
        }
    }
}

/// The presence of one user as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPresence {
    /// The user.
    pub user_id: String,
    /// The display name.
    pub name: String,
    /// Whether the user has a profile picture (`GET /api/users/{id}/picture`).
    #[serde(default)]
    pub has_picture: bool,
    /// Changes each time the user sets a new picture, so that pages fetch the new one.
    #[serde(default)]
    pub picture_version: u32,
    /// `offline`, or the availability the user chose.
    pub status: Status,
    /// One of the user's peers is in a room or call with at least one other person.
    pub in_call: bool,
    /// Where the user works today.
    pub location: Option<Location>,
    /// Out of office: set by the user, or during an absence.
    pub out_of_office: bool,
    /// The colleague who stands in for the user (during an absence, its deputy).
    pub deputy_id: Option<String>,
    /// During an absence: when the user is back, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_until: Option<i64>,
    /// In a meeting (the user's calendar): until when, and whether knocks ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Meeting>,
    /// The user's next busy interval, when they share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_busy: Option<NextBusy>,
    /// A short free-text note.
    pub note: Option<String>,
    /// The door of the user's office.
    #[serde(default)]
    pub door: Door,
    /// The user's connected peers (tabs, devices), to open direct data channels to.
    pub peers: Vec<PeerId>,
}

/// A user's status as others see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No connection for longer than the presence grace period.
    Offline,
    /// Available.
    Online,
    /// Away from the desk.
    Away,
    /// Busy.
    Busy,
    /// Do not disturb.
    Dnd,
}

impl From<Availability> for Status {
    fn from(a: Availability) -> Self {
        match a {
            Availability::Online => Self::Online,
            Availability::Away => Self::Away,
            Availability::Busy => Self::Busy,
            Availability::Dnd => Self::Dnd,
        }
    }
}

/// The kind of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A meeting room.
    Meeting,
    /// The reception, where guests arrive.
    Reception,
    /// A user's own office.
    Office,
    /// The ad-hoc room of an accepted call; never in the room list.
    Call,
}

/// A room and who is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    /// The room id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The kind of room.
    pub kind: RoomKind,
    /// The owner, for offices.
    pub owner_user_id: Option<String>,
    /// The owner of an office is away (an absence). Sent only when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<Away>,
    /// The owner of an office is in a meeting. Sent only when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Meeting>,
    /// The owner's next busy interval, when they share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_busy: Option<NextBusy>,
    /// The most peers the room admits (its own capacity bounded by the mesh cap).
    pub capacity: usize,
    /// The peers in the room, in order of arrival.
    pub participants: Vec<PeerInfo>,
}

/// An office owner's absence, as the floor plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Away {
    /// When they are back, Unix milliseconds.
    pub until: i64,
    /// Who stands in: knocks on the office ring them.
    pub deputy_id: Option<String>,
}

/// An office owner's meeting now (a busy interval of their calendar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// When it ends, Unix milliseconds.
    pub until: i64,
    /// The title the owner typed for an entry by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Knocks ring anyway (the owner chose so); otherwise the caller hears busy.
    pub rings: bool,
}

/// An office owner's next busy interval, shown when they share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextBusy {
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// The title the owner typed for an entry by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A peer as other peers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer.
    pub peer_id: PeerId,
    /// The peer's user.
    pub user_id: String,
    /// The user's display name.
    pub name: String,
    /// The peer's media state.
    pub media_state: MediaState,
    /// The peer is a guest from outside the organisation. Sent only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub guest: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a guest's `welcome` says about their access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestInfo {
    /// The one room the guest may enter.
    pub room_id: String,
    /// Whether the guest may `join_room` it now (direct access, or admitted from the lobby).
    pub admitted: bool,
}

/// The state of a call in `call_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// The callee's devices are ringing.
    Ringing,
    /// The callee accepted; both sides join `room_id`.
    Accepted,
    /// The callee declined.
    Declined,
    /// The callee is in a call, already ringing, or in a meeting that does not let knocks ring.
    Busy,
    /// The callee does not want to be disturbed and has no deputy: nothing rang, they were
    /// told that the caller knocked (`knocked`).
    Noted,
    /// Nobody answered within the ring timeout.
    NoAnswer,
    /// The caller hung up before an answer.
    Cancelled,
    /// The accepted call is over.
    Ended,
}

/// How a room's media travels (docs/sfu.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaMode {
    /// Peer to peer: every participant sends to every other.
    #[default]
    Mesh,
    /// Through the media server, which forwards frames it cannot decrypt (SFrame).
    Sfu,
}

/// The code of a non-fatal `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message could not be parsed or has invalid values.
    BadMessage,
    /// The message or a signal payload is too big.
    TooBig,
    /// No peer with that id in the organisation.
    UnknownPeer,
    /// No room with that id in the organisation (or a call room the user is not part of).
    UnknownRoom,
    /// The room is at its capacity or the mesh cap.
    RoomFull,
    /// `leave_room` while in no room.
    NotInRoom,
    /// The callee has no connection.
    UserOffline,
    /// The caller already has a call ringing.
    Busy,
    /// No ringing call with that id that this client may answer or cancel.
    UnknownCall,
    /// The connection sends faster than allowed; the message was dropped.
    RateLimited,
    /// A guest sent a message only members may send, or joined their room before admission.
    NotAllowed,
    /// `admit_guest` or `refuse_guest` of a user who is not a guest waiting in the lobby.
    UnknownGuest,
    /// The media server could not take the connection (`sfu_offer` outside a room that uses it,
    /// an offer it cannot answer, or the server is full or off).
    MediaServer,
    /// `join_room` of a colleague's office whose door is closed: knock instead.
    DoorClosed,
    /// `join_room` of the office of a colleague who does not want to be disturbed.
    DoNotDisturb,
}

/// The door of a user's office, as they set it: who may walk in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    /// Colleagues may walk in.
    #[default]
    Open,
    /// Colleagues knock (a call) to come in. Do-not-disturb closes it too, and more: knocks do
    /// not ring.
    Closed,
}
