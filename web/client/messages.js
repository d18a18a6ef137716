// The messages of the signaling protocol (docs/protocol.md) as JSDoc types, for protocol.js and
// the UI. Nothing runs here. crates/signal/tests/wire_types.rs checks these declarations against
// the Rust types (every message type, key and enum value, both ways): keep its format.

/**
 * @typedef {'offline'|'online'|'away'|'busy'|'dnd'} Status
 * @typedef {'online'|'away'|'busy'|'dnd'} Availability
 * @typedef {'home_office'|'real_office'|'on_the_go'} Location
 * @typedef {'meeting'|'reception'|'office'|'call'} RoomKind
 * @typedef {'ringing'|'accepted'|'declined'|'busy'|'noted'|'no_answer'|'cancelled'|'ended'} CallState
 * @typedef {'bad_message'|'too_big'|'unknown_peer'|'unknown_room'|'room_full'|'not_in_room'|'user_offline'|'busy'|'unknown_call'|'rate_limited'|'not_allowed'|'unknown_guest'|'media_server'|'door_closed'|'do_not_disturb'} ErrorCode
 * @typedef {'mesh'|'sfu'} MediaMode
 * @typedef {'l'|'m'|'h'} VideoLayer
 * @typedef {'open'|'closed'} Door
 */

/**
 * @typedef {object} MediaState
 * @property {boolean} muted
 * @property {boolean} camera
 * @property {boolean} screen
 * @property {boolean} speaking
 */

/**
 * @typedef {object} UserPresence
 * @property {string} user_id
 * @property {string} name
 * @property {boolean} [has_picture] Whether `GET /api/users/{id}/picture` has an image.
 * @property {number} [picture_version] Changes each time the user sets a new picture.
 * @property {Status} status
 * @property {boolean} in_call
 * @property {Location|null} location
 * @property {boolean} out_of_office
 * @property {string|null} deputy_id During an absence, its deputy.
 * @property {number} [away_until] During an absence: when the user is back (Unix ms).
 * @property {Meeting} [meeting] In a meeting now (their calendar or an entry by hand).
 * @property {NextBusy} [next_busy] Their next busy interval, only when they share it.
 * @property {string|null} note
 * @property {Door} [door] Who may walk into their office (do-not-disturb closes it too).
 * @property {string[]} peers
 */

/**
 * @typedef {object} PeerInfo
 * @property {string} peer_id
 * @property {string} user_id
 * @property {string} name
 * @property {MediaState} media_state
 * @property {boolean} [guest] A guest from outside the organisation (guest link).
 */

/**
 * An office owner's absence.
 * @typedef {object} Away
 * @property {number} until When they are back (Unix ms).
 * @property {string|null} deputy_id Who stands in: knocks ring them.
 */

/**
 * A user in a meeting now (a busy interval of their calendar). Their chosen status stays as it
 * is; a knock only rings when `rings` (the server answers `busy` otherwise).
 * @typedef {object} Meeting
 * @property {number} until When it ends (Unix ms).
 * @property {string} [title] The title the user typed for an entry by hand (never an outside
 *   calendar's).
 * @property {boolean} rings Whether knocks ring anyway (the user chose so).
 */

/**
 * A user's next busy interval, shown only when they share it.
 * @typedef {object} NextBusy
 * @property {number} starts_at Unix ms.
 * @property {number} ends_at Unix ms, exclusive.
 * @property {string} [title] The title the user typed for an entry by hand.
 */

/**
 * @typedef {object} RoomState
 * @property {string} id
 * @property {string} name
 * @property {RoomKind} kind
 * @property {string|null} owner_user_id
 * @property {Away} [away] The owner of an office is away (an absence).
 * @property {Meeting} [meeting] The owner of an office is in a meeting.
 * @property {NextBusy} [next_busy] The owner's next busy interval, when they share it.
 * @property {number} capacity
 * @property {PeerInfo[]} participants
 */

/**
 * A `set_presence` request: absent fields stay unchanged, `null` clears location and deputy,
 * `''` clears the note.
 * @typedef {object} PresenceUpdate
 * @property {Availability} [status]
 * @property {Location|null} [location]
 * @property {boolean} [out_of_office]
 * @property {string|null} [deputy_id]
 * @property {string} [note]
 * @property {Door} [door]
 */

/**
 * A STUN or TURN server as `RTCPeerConnection` takes it (the shape of `RTCIceServer`, declared
 * here because this layer is checked without the DOM's types).
 * @typedef {object} IceServer
 * @property {string|string[]} urls
 * @property {string} [username]
 * @property {string} [credential]
 */

/**
 * @typedef {{type: 'welcome', version: number, peer_id: string, user_id: string, ice_servers: IceServer[], presence: UserPresence[], rooms: RoomState[], guest?: GuestAccess}} WelcomeMsg
 * @typedef {{type: 'presence', user: UserPresence}} PresenceMsg
 * @typedef {{type: 'room', room: RoomState}} RoomMsg
 * @typedef {{type: 'rooms', rooms: RoomState[]}} RoomsMsg
 * @typedef {{type: 'joined', room_id: string, peers: PeerInfo[], media_mode: MediaMode}} JoinedMsg
 * @typedef {{type: 'media_mode', room_id: string, mode: MediaMode}} MediaModeMsg
 * @typedef {{type: 'sfu_answer', sdp: string}} SfuAnswerMsg
 * @typedef {{type: 'sfu_offer', sdp: string}} SfuOfferMsg
 * @typedef {{type: 'speakers', room_id: string, peer_ids: string[], last_n: number}} SpeakersMsg
 * @typedef {{type: 'peer_joined', room_id: string, peer: PeerInfo}} PeerJoinedMsg
 * @typedef {{type: 'peer_left', room_id: string, peer_id: string}} PeerLeftMsg
 * @typedef {{type: 'ring', call_id: string, from_user: string, from_name: string, for_user?: string}} RingMsg
 * @typedef {{type: 'knocked', from_user: string, from_name: string}} KnockedMsg
 * @typedef {{type: 'away', user_id: string, until: number, deputy_id: string|null}} AwayMsg
 * @typedef {{type: 'call_update', call_id: string, state: CallState, room_id?: string, deputy_id?: string}} CallUpdateMsg
 * @typedef {{type: 'signal', from_peer: string, from_user: string, payload: any}} SignalMsg
 * @typedef {{type: 'media_state', peer_id: string} & MediaState} MediaStateMsg
 * @typedef {{type: 'error', code: ErrorCode, message: string}} ErrorMsg
 * @typedef {{type: 'pong'}} PongMsg
 * @typedef {{type: 'guest_waiting', room_id: string, user_id: string, name: string}} GuestWaitingMsg
 * @typedef {{type: 'guest_left', user_id: string}} GuestLeftMsg
 * @typedef {{type: 'admitted', room_id: string}} AdmittedMsg
 * @typedef {{type: 'inbox'}} InboxMsg
 * @typedef {{type: 'conversations'}} ConversationsMsg
 * @typedef {WelcomeMsg|PresenceMsg|RoomMsg|RoomsMsg|JoinedMsg|MediaModeMsg|SfuAnswerMsg|SfuOfferMsg|SpeakersMsg|PeerJoinedMsg|PeerLeftMsg|RingMsg|KnockedMsg|AwayMsg|CallUpdateMsg|SignalMsg|MediaStateMsg|ErrorMsg|PongMsg|GuestWaitingMsg|GuestLeftMsg|AdmittedMsg|InboxMsg|ConversationsMsg} ServerMsg
 */

/**
 * What a guest's `welcome` says about their access.
 * @typedef {object} GuestAccess
 * @property {string} room_id The one room the guest may enter.
 * @property {boolean} admitted Whether they may `join_room` now (direct access, or admitted).
 */

/**
 * The messages the client sends (see protocol.js). The server refuses unknown fields.
 * @typedef {{type: 'hello', version: number}} HelloRequest
 * @typedef {{type: 'set_presence'} & PresenceUpdate} SetPresenceRequest
 * @typedef {{type: 'join_room', room_id: string}} JoinRoomRequest
 * @typedef {{type: 'leave_room'}} LeaveRoomRequest
 * @typedef {{type: 'call', to_user: string}} CallRequest
 * @typedef {{type: 'call_answer', call_id: string, accept: boolean}} CallAnswerRequest
 * @typedef {{type: 'call_cancel', call_id: string}} CallCancelRequest
 * @typedef {{type: 'signal', to_peer: string, payload: unknown}} SignalRequest
 * @typedef {{type: 'media_state'} & MediaState} MediaStateRequest
 * @typedef {{type: 'ping'}} PingRequest
 * @typedef {{type: 'admit_guest', user_id: string}} AdmitGuestRequest
 * @typedef {{type: 'refuse_guest', user_id: string}} RefuseGuestRequest
 * @typedef {{type: 'sfu_offer', sdp: string}} SfuOfferRequest
 * @typedef {{type: 'sfu_answer', sdp: string}} SfuAnswerRequest
 * @typedef {{type: 'sfu_layers', layers: Record<string, VideoLayer>}} SfuLayersRequest
 * @typedef {HelloRequest|SetPresenceRequest|JoinRoomRequest|LeaveRoomRequest|CallRequest|CallAnswerRequest|CallCancelRequest|SignalRequest|MediaStateRequest|PingRequest|AdmitGuestRequest|RefuseGuestRequest|SfuOfferRequest|SfuAnswerRequest|SfuLayersRequest} ClientMsg
 */

/**
 * The connection's state, for a "reconnecting" banner.
 * @typedef {object} ConnectionStatus
 * @property {'connecting'|'open'|'reconnecting'|'closed'} state
 * @property {number} [code] The close code that caused it.
 * @property {string} [reason]
 * @property {number} [retryIn] Milliseconds until the next attempt, when reconnecting.
 */

/**
 * Events by name: every server message type, plus `status` (connection state) and `left`
 * (the client is no longer in a room, whatever the reason).
 * @typedef {object} Events
 * @property {WelcomeMsg} welcome
 * @property {PresenceMsg} presence
 * @property {RoomMsg} room
 * @property {RoomsMsg} rooms
 * @property {JoinedMsg} joined
 * @property {MediaModeMsg} media_mode
 * @property {SfuAnswerMsg} sfu_answer
 * @property {SfuOfferMsg} sfu_offer
 * @property {SpeakersMsg} speakers
 * @property {PeerJoinedMsg} peer_joined
 * @property {PeerLeftMsg} peer_left
 * @property {RingMsg} ring
 * @property {AwayMsg} away
 * @property {KnockedMsg} knocked
 * @property {CallUpdateMsg} call_update
 * @property {SignalMsg} signal
 * @property {MediaStateMsg} media_state
 * @property {ErrorMsg} error
 * @property {PongMsg} pong
 * @property {GuestWaitingMsg} guest_waiting
 * @property {GuestLeftMsg} guest_left
 * @property {AdmittedMsg} admitted
 * @property {InboxMsg} inbox
 * @property {ConversationsMsg} conversations
 * @property {ConnectionStatus} status
 * @property {{room_id: string, reason: 'left'|'removed'|'disconnected'|'refused'}} left
 */

export {};
