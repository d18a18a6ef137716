//! One source of truth for the wire types: the JSDoc types of the web client (`web/client/messages.js`)
//! are checked against the Rust types of the protocol (`ServerMsg`, `ClientMsg` and the structs
//! and enums they carry), so that a field added, renamed or removed in this crate cannot silently
//! miss the client.
//!
//! The Rust side is read from serialized examples: one of every message type, with every
//! `Option` set and every `Vec` filled, so that every key appears. The JS side is read from the
//! typedefs of `web/client/messages.js` with the small parser at the end of this file. Then, both ways:
//! the same message types on each side (the `ServerMsg` and `ClientMsg` unions of the client),
//! the same keys in every message and nested struct, the same values in every string enum.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use bureau_signal::protocol::{CLIENT_TYPES, VideoLayer};
use bureau_signal::{
    Availability, Away, CallState, ClientMsg, Door, ErrorCode, GuestInfo, Location, MediaMode, MediaState, Meeting, NextBusy,
    PeerId, PeerInfo, PresenceUpdate, RoomKind, RoomState, ServerMsg, Status, UserPresence,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// The Rust side: full examples

fn media_state() -> MediaState {
    MediaState { muted: true, camera: true, screen: true, speaking: true }
}

fn peer_info() -> PeerInfo {
    PeerInfo {
        peer_id: PeerId::new("p1"),
        user_id: "u1".into(),
        name: "Ada".into(),
        media_state: media_state(),
        // Skipped when false: true, so that the key appears.
        guest: true,
    }
}

fn user_presence() -> UserPresence {
    UserPresence {
        user_id: "u1".into(),
        name: "Ada".into(),
        has_picture: true,
        picture_version: 2,
        status: Status::Online,
        in_call: true,
        location: Some(Location::HomeOffice),
        out_of_office: true,
        deputy_id: Some("u2".into()),
        away_until: Some(1_767_225_600_000),
        meeting: Some(Meeting { until: 1_767_229_200_000, title: Some("Client meeting".into()), rings: false }),
        next_busy: Some(NextBusy { starts_at: 1_767_232_800_000, ends_at: 1_767_236_400_000, title: Some("Review".into()) }),
        note: Some("back at three".into()),
        door: Door::Closed,
        peers: vec![PeerId::new("p1")],
    }
}

fn room_state() -> RoomState {
    RoomState {
        id: "r1".into(),
        name: "Meeting room 1".into(),
        kind: RoomKind::Meeting,
        owner_user_id: Some("u1".into()),
        away: Some(Away { until: 1_767_225_600_000, deputy_id: Some("u2".into()) }),
        meeting: Some(Meeting { until: 1_767_229_200_000, title: Some("Client meeting".into()), rings: true }),
        next_busy: Some(NextBusy { starts_at: 1_767_232_800_000, ends_at: 1_767_236_400_000, title: Some("Review".into()) }),
        capacity: 8,
        participants: vec![peer_info()],
    }
}

/// One example of every server message, every optional part present.
fn server_examples() -> Vec<ServerMsg> {
    vec![
        ServerMsg::Welcome {
            version: 1,
            peer_id: PeerId::new("p1"),
            user_id: "u1".into(),
            ice_servers: json!([{"urls": "stun:turn.example.org"}]),
            presence: vec![user_presence()],
            rooms: vec![room_state()],
            guest: Some(GuestInfo { room_id: "r1".into(), admitted: true }),
        },
        ServerMsg::Presence { user: user_presence() },
        ServerMsg::Room { room: room_state() },
        ServerMsg::Rooms { rooms: vec![room_state()] },
        ServerMsg::Joined { room_id: "r1".into(), peers: vec![peer_info()], media_mode: MediaMode::Sfu },
        ServerMsg::MediaMode { room_id: "r1".into(), mode: MediaMode::Sfu },
        ServerMsg::SfuAnswer { sdp: "v=0".into() },
        ServerMsg::SfuOffer { sdp: "v=0".into() },
        ServerMsg::Speakers { room_id: "r1".into(), peer_ids: vec![PeerId::new("p1")], last_n: 9 },
        ServerMsg::PeerJoined { room_id: "r1".into(), peer: peer_info() },
        ServerMsg::PeerLeft { room_id: "r1".into(), peer_id: PeerId::new("p2") },
        ServerMsg::Ring { call_id: "c1".into(), from_user: "u2".into(), from_name: "Grace".into(), for_user: Some("u3".into()) },
        ServerMsg::Away { user_id: "u3".into(), until: 1_767_225_600_000, deputy_id: Some("u1".into()) },
        ServerMsg::Knocked { from_user: "u2".into(), from_name: "Grace".into() },
        ServerMsg::CallUpdate {
            call_id: "c1".into(),
            state: CallState::Accepted,
            room_id: Some("call:c1".into()),
            deputy_id: Some("u3".into()),
        },
        ServerMsg::Signal {
            from_peer: PeerId::new("p2"),
            from_user: "u2".into(),
            payload: json!({"sdp": "v=0"}).into(),
        },
        ServerMsg::MediaState {
            peer_id: PeerId::new("p2"),
            muted: true,
            camera: true,
            screen: true,
            speaking: true,
        },
        ServerMsg::error(ErrorCode::RoomFull, "the room is full"),
        ServerMsg::Pong {},
        ServerMsg::Inbox {},
        ServerMsg::Conversations {},
        ServerMsg::GuestWaiting { room_id: "r1".into(), user_id: "g1".into(), name: "Guest".into() },
        ServerMsg::GuestLeft { user_id: "g1".into() },
        ServerMsg::Admitted { room_id: "r1".into() },
    ]
}

/// One example of every client message, every optional part present.
fn client_examples() -> Vec<ClientMsg> {
    vec![
        ClientMsg::Hello { version: 1 },
        ClientMsg::SetPresence(PresenceUpdate {
            status: Some(Availability::Busy),
            location: Some(Some(Location::OnTheGo)),
            out_of_office: Some(true),
            deputy_id: Some(Some("u2".into())),
            note: Some("back at three".into()),
            door: Some(Door::Closed),
        }),
        ClientMsg::JoinRoom { room_id: "r1".into() },
        ClientMsg::LeaveRoom {},
        ClientMsg::Call { to_user: "u2".into() },
        ClientMsg::CallAnswer { call_id: "c1".into(), accept: true },
        ClientMsg::CallCancel { call_id: "c1".into() },
        ClientMsg::Signal { to_peer: PeerId::new("p2"), payload: json!({"sdp": "v=0"}).into() },
        ClientMsg::MediaState(media_state()),
        ClientMsg::Ping {},
        ClientMsg::AdmitGuest { user_id: "g1".into() },
        ClientMsg::RefuseGuest { user_id: "g1".into() },
        ClientMsg::SfuOffer { sdp: "v=0".into() },
        ClientMsg::SfuAnswer { sdp: "v=0".into() },
        ClientMsg::SfuLayers { layers: [(PeerId::new("p1"), VideoLayer::L)].into_iter().collect() },
    ]
}

/// The wire type of a server message. There is deliberately no wildcard arm: a new variant of
/// `ServerMsg` does not compile here until it has an arm, and whoever adds the arm adds its
/// example to `server_examples` (`the_examples_are_complete` checks, against the variant list
/// serde reports, that every type has exactly one example).
fn server_type(msg: &ServerMsg) -> &'static str {
    match msg {
        ServerMsg::Welcome { .. } => "welcome",
        ServerMsg::Presence { .. } => "presence",
        ServerMsg::Room { .. } => "room",
        ServerMsg::Rooms { .. } => "rooms",
        ServerMsg::Joined { .. } => "joined",
        ServerMsg::MediaMode { .. } => "media_mode",
        ServerMsg::SfuAnswer { .. } => "sfu_answer",
        ServerMsg::SfuOffer { .. } => "sfu_offer",
        ServerMsg::Speakers { .. } => "speakers",
        ServerMsg::PeerJoined { .. } => "peer_joined",
        ServerMsg::PeerLeft { .. } => "peer_left",
        ServerMsg::Ring { .. } => "ring",
        ServerMsg::Away { .. } => "away",
        ServerMsg::Knocked { .. } => "knocked",
        ServerMsg::CallUpdate { .. } => "call_update",
        ServerMsg::Signal { .. } => "signal",
        ServerMsg::MediaState { .. } => "media_state",
        ServerMsg::Error { .. } => "error",
        ServerMsg::Pong {} => "pong",
        ServerMsg::Inbox {} => "inbox",
        ServerMsg::Conversations {} => "conversations",
        ServerMsg::GuestWaiting { .. } => "guest_waiting",
        ServerMsg::GuestLeft { .. } => "guest_left",
        ServerMsg::Admitted { .. } => "admitted",
    }
}

/// The wire type of a client message; no wildcard arm, as in [`server_type`]: a new variant of
/// `ClientMsg` needs an arm here and an example in `client_examples`.
fn client_type(msg: &ClientMsg) -> &'static str {
    match msg {
        ClientMsg::Hello { .. } => "hello",
        ClientMsg::SetPresence(_) => "set_presence",
        ClientMsg::JoinRoom { .. } => "join_room",
        ClientMsg::LeaveRoom {} => "leave_room",
        ClientMsg::Call { .. } => "call",
        ClientMsg::CallAnswer { .. } => "call_answer",
        ClientMsg::CallCancel { .. } => "call_cancel",
        ClientMsg::Signal { .. } => "signal",
        ClientMsg::MediaState(_) => "media_state",
        ClientMsg::Ping {} => "ping",
        ClientMsg::AdmitGuest { .. } => "admit_guest",
        ClientMsg::RefuseGuest { .. } => "refuse_guest",
        ClientMsg::SfuOffer { .. } => "sfu_offer",
        ClientMsg::SfuAnswer { .. } => "sfu_answer",
        ClientMsg::SfuLayers { .. } => "sfu_layers",
    }
}

/// The string enums of the protocol, by their typedef name in web/client/messages.js, with their wire
/// values as serde lists them (so a new variant is seen without touching this test).
fn enums() -> Vec<(&'static str, BTreeSet<String>)> {
    const UNKNOWN: &str = r#""~""#;
    vec![
        ("Status", variants::<Status>(UNKNOWN)),
        ("Availability", variants::<Availability>(UNKNOWN)),
        ("Location", variants::<Location>(UNKNOWN)),
        ("RoomKind", variants::<RoomKind>(UNKNOWN)),
        ("CallState", variants::<CallState>(UNKNOWN)),
        ("Door", variants::<Door>(UNKNOWN)),
        ("ErrorCode", variants::<ErrorCode>(UNKNOWN)),
        ("MediaMode", variants::<MediaMode>(UNKNOWN)),
        ("VideoLayer", variants::<VideoLayer>(UNKNOWN)),
    ]
}

/// The wire names of every variant of `T`, read from the error serde gives for an unknown one
/// ("unknown variant `~`, expected one of `a`, `b`").
fn variants<T: DeserializeOwned + Debug>(unknown: &str) -> BTreeSet<String> {
    let error = match serde_json::from_str::<T>(unknown) {
        Ok(value) => panic!("{unknown} parsed as {value:?}"),
        Err(e) => e.to_string(),
    };
    let Some((_, expected)) = error.split_once("expected") else {
        panic!("no variant list in: {error}")
    };
    expected.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// The Rust side: key sets

/// Which typedef of web/client/messages.js describes the objects under a key: (owner, key, typedef),
/// the owner being a message `type` or a typedef. Arrays are looked through (`presence:
/// UserPresence[]`).
const NESTED: &[(&str, &str, &str)] = &[
    ("welcome", "presence", "UserPresence"),
    ("welcome", "rooms", "RoomState"),
    ("welcome", "guest", "GuestAccess"),
    ("presence", "user", "UserPresence"),
    ("room", "room", "RoomState"),
    ("rooms", "rooms", "RoomState"),
    ("joined", "peers", "PeerInfo"),
    ("peer_joined", "peer", "PeerInfo"),
    ("RoomState", "participants", "PeerInfo"),
    ("RoomState", "away", "Away"),
    ("RoomState", "meeting", "Meeting"),
    ("RoomState", "next_busy", "NextBusy"),
    ("UserPresence", "meeting", "Meeting"),
    ("UserPresence", "next_busy", "NextBusy"),
    ("PeerInfo", "media_state", "MediaState"),
];

/// Keys whose objects are free-form JSON or maps keyed by ids (`sfu_layers`: peer id to layer),
/// described by no typedef of web/client/messages.js.
const OPAQUE: &[(&str, &str)] = &[("welcome", "ice_servers"), ("signal", "payload"), ("sfu_layers", "layers")];

/// The keys the Rust examples serialize.
#[derive(Debug, Default)]
struct Shapes {
    /// Per message `type`: its top-level keys (`type` included).
    messages: BTreeMap<String, BTreeSet<String>>,
    /// Per nested struct, by its typedef name in web/client/messages.js: its keys.
    structs: BTreeMap<String, BTreeSet<String>>,
}

impl Shapes {
    fn of<T: Serialize>(examples: &[T]) -> Shapes {
        let mut shapes = Shapes::default();
        for example in examples {
            let object = match serde_json::to_value(example) {
                Ok(Value::Object(object)) => object,
                other => panic!("a message is not a JSON object: {other:?}"),
            };
            let Some(ty) = object.get("type").and_then(Value::as_str) else {
                panic!("no type: {object:?}")
            };
            shapes.messages.entry(ty.to_owned()).or_default().extend(object.keys().cloned());
            shapes.nested(ty, &object);
        }
        shapes
    }

    /// Records the keys of the structs nested in `object`, which `owner` describes.
    fn nested(&mut self, owner: &str, object: &Map<String, Value>) {
        for (key, value) in object {
            let objects: Vec<&Map<String, Value>> = match value {
                Value::Object(object) => vec![object],
                Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
                _ => Vec::new(),
            };
            match NESTED.iter().find(|(o, k, _)| *o == owner && *k == key.as_str()) {
                Some(&(_, _, typedef)) => {
                    assert!(!objects.is_empty(), "{owner}.{key} ({typedef}) holds no object: {value}");
                    for nested in objects {
                        let keys = self.structs.entry(typedef.to_owned()).or_default();
                        keys.extend(nested.keys().cloned());
                        self.nested(typedef, nested);
                    }
                }
                None => assert!(
                    objects.is_empty() || OPAQUE.contains(&(owner, key.as_str())),
                    "{owner}.{key} holds a JSON object that wire_types.rs maps to no typedef of \
                     web/client/messages.js: add it to NESTED (or to OPAQUE if it is free-form JSON)"
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks

#[test]
fn the_examples_are_complete() {
    let server = server_examples();
    let client = client_examples();
    let server_types: Vec<&str> = server.iter().map(server_type).collect();
    let client_types: Vec<&str> = client.iter().map(client_type).collect();
    for (types, all, side) in [
        (&server_types, variants::<ServerMsg>(r#"{"type":"~"}"#), "server"),
        (&client_types, variants::<ClientMsg>(r#"{"type":"~"}"#), "client"),
    ] {
        let unique: BTreeSet<String> = types.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(unique.len(), types.len(), "two {side} examples of one type: {types:?}");
        assert_eq!(unique, all, "the {side} examples are not one of each type serde knows");
    }
    let listed: BTreeSet<&str> = CLIENT_TYPES.into_iter().collect();
    let examples: BTreeSet<&str> = client_types.iter().copied().collect();
    assert_eq!(listed, examples, "CLIENT_TYPES and the client examples differ");

    let debug = server.iter().map(|m| format!("{m:?}")).chain(client.iter().map(|m| format!("{m:?}")));
    let json = server.iter().map(serde_json::to_value).chain(client.iter().map(serde_json::to_value));
    for (debug, json) in debug.zip(json) {
        let json = json.unwrap_or_else(|e| panic!("{debug}: {e}"));
        assert!(!debug.contains("None"), "an example leaves an Option unset, hiding its key: {debug}");
        assert!(!has_hole(&json), "an example has a null or an empty array, hiding nested keys: {json}");
    }
}

fn has_hole(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty() || items.iter().any(has_hole),
        Value::Object(object) => object.values().any(has_hole),
        _ => false,
    }
}

#[test]
fn server_messages_match_the_client_typedefs() {
    let js = Js::read();
    let rust = Shapes::of(&server_examples());
    let mut errors = Vec::new();
    let typedefs = compare_messages("server", "ServerMsg", &rust, &js, &mut errors);
    compare_structs(&rust, &js, &mut errors);
    // protocol.js dispatches server messages by type: `Events` must have each of them.
    let events = js.props("Events");
    for (ty, typedef) in &typedefs {
        if events.get(ty) != Some(typedef) {
            errors.push(format!(
                "server message '{ty}': Events in web/client/messages.js lacks `@property {{{typedef}}} {ty}`"
            ));
        }
    }
    report(errors);
}

#[test]
fn client_messages_match_the_client_typedefs() {
    let js = Js::read();
    let rust = Shapes::of(&client_examples());
    let mut errors = Vec::new();
    compare_messages("client", "ClientMsg", &rust, &js, &mut errors);
    compare_structs(&rust, &js, &mut errors);
    report(errors);
}

#[test]
fn every_message_typedef_is_in_a_union() {
    let js = Js::read();
    let listed: BTreeSet<String> =
        js.union("ServerMsg").into_iter().chain(js.union("ClientMsg")).collect();
    let mut errors = Vec::new();
    for name in js.objects.keys() {
        if js.message_type(name).is_some() && !listed.contains(name) {
            errors.push(format!(
                "{name} in web/client/messages.js is a message but in neither ServerMsg nor ClientMsg"
            ));
        }
    }
    report(errors);
}

#[test]
fn enums_match_the_client_typedefs() {
    let js = Js::read();
    let mut errors = Vec::new();
    for (name, rust) in enums() {
        let client = js.string_union(name);
        for value in rust.difference(&client) {
            errors.push(format!("enum {name}: '{value}' is in Rust but missing in web/client/messages.js"));
        }
        for value in client.difference(&rust) {
            errors.push(format!("enum {name}: '{value}' is in web/client/messages.js but missing in Rust"));
        }
    }
    report(errors);
}

/// Compares the messages of one side with the members of the JS union `union`; returns the
/// message typedefs of that union by `type`.
fn compare_messages(
    side: &str,
    union: &str,
    rust: &Shapes,
    js: &Js,
    errors: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut typedefs = BTreeMap::new();
    for name in js.union(union) {
        match js.message_type(&name) {
            Some(ty) => {
                if let Some(other) = typedefs.insert(ty.clone(), name.clone()) {
                    errors.push(format!("{side} message '{ty}': both {other} and {name} declare it"));
                }
            }
            None => errors.push(format!(
                "{union} in web/client/messages.js lists {name}, which has no literal `type`"
            )),
        }
    }
    for (ty, keys) in &rust.messages {
        match typedefs.get(ty) {
            Some(name) => {
                compare_keys(&format!("{side} message '{ty}' ({name})"), keys, &js.keys(name), errors)
            }
            None => errors.push(format!(
                "{side} message '{ty}' is in Rust but missing in web/client/messages.js \
                 (no typedef in the {union} union)"
            )),
        }
    }
    for (ty, name) in &typedefs {
        if !rust.messages.contains_key(ty) {
            errors.push(format!(
                "{side} message '{ty}' ({name}) is in web/client/messages.js but missing in Rust"
            ));
        }
    }
    // A nested struct must be typed by its typedef where it is used (`presence: UserPresence[]`).
    for (owner, key, typedef) in NESTED {
        let holder = match typedefs.get(*owner) {
            Some(name) => name.as_str(),
            None if rust.structs.contains_key(*owner) && js.objects.contains_key(*owner) => *owner,
            None => continue,
        };
        if let Some(ty) = js.props(holder).get(*key)
            && !names(ty).contains(typedef)
        {
            errors.push(format!(
                "{holder}.{key}: Rust sends a {typedef}, web/client/messages.js types it {{{ty}}}"
            ));
        }
    }
    typedefs
}

/// Compares the nested structs of one side with the typedefs of the same names.
fn compare_structs(rust: &Shapes, js: &Js, errors: &mut Vec<String>) {
    for (name, keys) in &rust.structs {
        if js.objects.contains_key(name) {
            compare_keys(&format!("struct {name}"), keys, &js.keys(name), errors);
        } else {
            errors.push(format!(
                "struct {name} is in Rust but missing in web/client/messages.js (no object typedef)"
            ));
        }
    }
}

fn compare_keys(what: &str, rust: &BTreeSet<String>, js: &BTreeSet<String>, errors: &mut Vec<String>) {
    for key in rust.difference(js) {
        errors.push(format!("{what}: key '{key}' is in Rust but missing in web/client/messages.js"));
    }
    for key in js.difference(rust) {
        errors.push(format!(
            "{what}: key '{key}' is in web/client/messages.js but missing in Rust (a stale client field, or \
             an example in wire_types.rs leaves it unset)"
        ));
    }
}

fn report(errors: Vec<String>) {
    assert!(
        errors.is_empty(),
        "web/client/messages.js and the Rust wire types differ:\n  - {}\n",
        errors.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------------------------
// The JS side: a parser for the typedefs of web/client/messages.js
//
// It reads the `/** ... */` blocks, and in them:
// - `@typedef {object} Name` followed by `@property {Type} name` (or `[name]`, `[name=default]`);
// - `@typedef {{type: 'welcome', version: number, guest?: GuestAccess}} Name`, possibly
//   intersected with object typedefs (`{{type: 'media_state', peer_id: string} & MediaState}`);
// - any other `@typedef {Type} Name` as an alias (`'online'|'away'`, `WelcomeMsg|PresenceMsg`).

/// The typedefs of web/client/messages.js.
#[derive(Debug, Default)]
struct Js {
    /// Object types by name.
    objects: BTreeMap<String, JsObject>,
    /// Every other typedef by name: its type.
    aliases: BTreeMap<String, String>,
}

/// An object type: its own properties (name → type) and the object types it is intersected with.
#[derive(Debug, Default)]
struct JsObject {
    props: BTreeMap<String, String>,
    merged: Vec<String>,
}

impl Js {
    fn read() -> Js {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/client/messages.js");
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Js::parse(&source)
    }

    fn parse(source: &str) -> Js {
        let mut js = Js::default();
        for block in source.split("/**").skip(1) {
            let block = block.split("*/").next().unwrap_or_default();
            // The `@typedef {object}` that the `@property` lines belong to.
            let mut current: Option<String> = None;
            for line in block.lines() {
                let line = line.trim().trim_start_matches('*').trim();
                if let Some(rest) = line.strip_prefix("@typedef ") {
                    let (ty, rest) = braced(rest);
                    let name = first_word(rest);
                    let taken = js.objects.contains_key(&name) || js.aliases.contains_key(&name);
                    assert!(!taken, "two typedefs {name}");
                    current = None;
                    if ty == "object" {
                        current = Some(name.clone());
                        js.objects.insert(name, JsObject::default());
                    } else if ty.starts_with('{') || split_top(ty, '&').len() > 1 {
                        js.objects.insert(name, JsObject::parse(ty));
                    } else {
                        js.aliases.insert(name, ty.to_owned());
                    }
                } else if let Some(rest) = line.strip_prefix("@property ") {
                    let (ty, rest) = braced(rest);
                    // `name`, `[name]` (optional) or `[name=default]`.
                    let word = first_word(rest);
                    let word = word.trim_start_matches('[').trim_end_matches(']');
                    let name = word.split('=').next().unwrap_or_default();
                    let Some(object) = current.as_ref().and_then(|c| js.objects.get_mut(c)) else {
                        panic!("@property {name} outside a @typedef {{object}}")
                    };
                    object.props.insert(name.to_owned(), ty.to_owned());
                }
            }
        }
        js
    }

    /// The properties of an object type, with those of the types it is intersected with.
    fn props(&self, name: &str) -> BTreeMap<String, String> {
        let Some(object) = self.objects.get(name) else {
            panic!("web/client/messages.js has no object typedef {name}")
        };
        let mut props = BTreeMap::new();
        for other in &object.merged {
            props.extend(self.props(other));
        }
        props.extend(object.props.clone());
        props
    }

    fn keys(&self, name: &str) -> BTreeSet<String> {
        self.props(name).into_keys().collect()
    }

    /// The `type` of a message typedef: its `type` property's string literal.
    fn message_type(&self, name: &str) -> Option<String> {
        let ty = self.props(name).remove("type")?;
        ty.strip_prefix('\'')?.strip_suffix('\'').map(str::to_owned)
    }

    /// The members of a union typedef (`A|B|C`).
    fn union(&self, name: &str) -> Vec<String> {
        let Some(ty) = self.aliases.get(name) else { panic!("web/client/messages.js has no typedef {name}") };
        split_top(ty, '|').into_iter().map(|m| m.trim().to_owned()).collect()
    }

    /// The values of a string-literal union typedef (`'a'|'b'`).
    fn string_union(&self, name: &str) -> BTreeSet<String> {
        let literal = |m: &str| m.strip_prefix('\'')?.strip_suffix('\'').map(str::to_owned);
        let members = self.union(name);
        let value = |m: &String| literal(m).unwrap_or_else(|| panic!("{name}: {m} is not a string"));
        members.iter().map(value).collect()
    }
}

impl JsObject {
    /// Parses `{k: T, k2?: T} & Other`.
    fn parse(ty: &str) -> JsObject {
        let mut object = JsObject::default();
        for part in split_top(ty, '&') {
            let part = part.trim();
            if let Some(members) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                for member in split_top(members, ',') {
                    let Some((key, ty)) = member.split_once(':') else {
                        panic!("no `key: type` in {member:?}")
                    };
                    let key = key.trim().trim_end_matches('?');
                    object.props.insert(key.to_owned(), ty.trim().to_owned());
                }
            } else if part.chars().all(|c| c.is_alphanumeric() || c == '_') {
                object.merged.push(part.to_owned());
            } else {
                panic!("unsupported object type part {part:?} in {ty:?}");
            }
        }
        object
    }
}

/// Splits `{Type} rest` into the type (without the outer braces) and the rest.
fn braced(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    assert!(text.starts_with('{'), "expected {{Type}} at {text:?}");
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (&text[1..i], &text[i + 1..]);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in {text:?}")
}

/// Splits a type at the separators that are not nested in `{}`, `[]`, `()`, `<>` or quotes.
fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start, mut previous) = (0, None, 0, ' ');
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '{' | '[' | '(' | '<') => depth += 1,
            // `=>` of a function type closes nothing.
            (None, '>') if previous == '=' => {}
            (None, '}' | ']' | ')' | '>') => depth -= 1,
            (None, _) if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
        previous = c;
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn first_word(text: &str) -> String {
    text.split_whitespace().next().unwrap_or_default().to_owned()
}

/// The identifiers in a type (`UserPresence[]|null` → `UserPresence`, `null`).
fn names(ty: &str) -> BTreeSet<&str> {
    ty.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

#[test]
fn the_parser_reads_the_forms_of_messages_js() {
    let js = Js::parse(
        "/**\n * @typedef {'a'|'b'} Letter\n * @typedef {object} Inner\n * @property {boolean} x\n \
         * @property {string} [y] Optional.\n * @property {number} [z=1]\n */\n\
         /** @typedef {{type: 'm', f: {a: number, b: string}, g?: Map<string, number>, \
         h: (a: Inner) => void} & Inner} M */",
    );
    assert_eq!(js.string_union("Letter"), BTreeSet::from(["a", "b"].map(String::from)));
    assert_eq!(js.keys("M"), BTreeSet::from(["type", "f", "g", "h", "x", "y", "z"].map(String::from)));
    assert_eq!(js.message_type("M").as_deref(), Some("m"));
    assert_eq!(js.props("M").get("f").map(String::as_str), Some("{a: number, b: string}"));
}
