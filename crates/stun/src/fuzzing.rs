//! The bodies of the fuzz targets in `bench/fuzz`, here so that the AFL++ binaries and the
//! regression replay of their corpus (`tests/fuzz_corpus.rs`, an ordinary `cargo test`) run the
//! same code. Each takes any bytes and panics only on a bug: a panic in the code under test,
//! or a broken invariant asserted here (a round trip that changes a message, an integrity check
//! that accepts altered bytes, a stream cut differently depending on how it arrived).
//!
//! Every input starts from a fresh [`Server`] that already holds one allocation with a
//! permission and a channel to a peer, so a single message reaches the authenticated handlers,
//! and every input gives the same result each time it runs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::attributes as attr;
use crate::channel_data::{self, ChannelData, StreamFramer, stream_frame_len};
use crate::credentials::{self, LongTermKey, PasswordAlgorithm};
use crate::message::HEADER_LEN;
use crate::nonce::NonceKey;
use crate::server::{BindFailure, ClientAction, Family, FiveTuple, PortChoice, RelayBinder, Server, ServerConfig, Transport};
use crate::{Class, Encoder, Message, Method};

const SECRET: &[u8] = b"fuzz secret";
const REALM: &str = "bureau";
const UNIX0: u64 = 1_800_000_000;
const CHANNEL: u16 = 0x4000;
/// The key the integrity invariants sign with.
const KEY: &[u8] = b"0123456789abcdef";

/// STUN decoding, every typed attribute reader, the integrity and fingerprint checks, and the
/// TURN server handling the input as a client's datagram, as sent and re-signed with the
/// client's credentials (so that a mutated request gets past authentication).
pub fn stun_message(data: &[u8]) {
    let mut relay = Relay::new(Transport::Udp);
    if let Ok(m) = Message::decode(data) {
        read_every_attribute(&m);
        re_encoding_keeps_the_message(&m);
        altered_bytes_fail_integrity(&m, data.len());
        if let Some(signed) = relay.sign(&m) {
            relay.client(&signed);
        }
    }
    relay.client(data);
    relay.later();
}

/// ChannelData decoding and encoding, and the server's ChannelData (client to peer) and peer
/// (peer to client) paths over TCP.
pub fn channel_data(data: &[u8]) {
    if let Ok(cd) = ChannelData::decode(data) {
        for pad in [false, true] {
            let mut out = vec![0u8; cd.payload.len() + 8];
            let n = channel_data::encode(&mut out, cd.channel, cd.payload, pad).unwrap_or(0);
            assert!(!pad || n.is_multiple_of(4), "padded ChannelData of {n} bytes");
            assert_eq!(ChannelData::decode(&out[..n]), Ok(cd), "ChannelData round trip");
        }
    }
    if let Ok(Some(n)) = stream_frame_len(data) {
        assert!(n >= channel_data::CHANNEL_HEADER_LEN, "a frame of {n} bytes");
    }
    let mut relay = Relay::new(Transport::Tcp);
    if let ClientAction::Relay { peer, payload, .. } = relay.client(data) {
        // Permissions are per IP address (RFC 8656 §9): a Send indication may pick any port.
        assert_eq!(peer.ip(), relay.peer.ip());
        // ChannelData, or a Send indication's DATA.
        let cd = ChannelData::decode(data).map(|cd| cd.payload).ok();
        assert!(cd.is_none() || data.get(payload) == cd, "relayed payload");
    }
    let mut out = vec![0u8; data.len() + 64];
    let got = relay.server.handle_peer(relay.now, relay.relayed, relay.peer, data, &mut out);
    if data.len() <= usize::from(u16::MAX) {
        let (five, n) = got.unwrap_or_else(|| panic!("a permitted peer's {} bytes were not relayed", data.len()));
        assert_eq!(five, relay.five);
        assert_eq!(ChannelData::decode(&out[..n]).map(|cd| (cd.channel, cd.payload)), Ok((CHANNEL, data)));
    }
    let stranger = SocketAddr::from(([93, 184, 216, 35], 4000));
    assert!(relay.server.handle_peer(relay.now, relay.relayed, stranger, data, &mut out).is_none());
    relay.later();
}

/// TURN over TCP: the first four bytes choose how the rest of the input is cut into reads,
/// the [`StreamFramer`] reassembles the frames, and the server handles each. However the
/// bytes arrive, the frames must be the same.
pub fn turn_stream(data: &[u8]) {
    let (cuts, stream) = data.split_at(data.len().min(4));
    let whole = frames(stream, &[]);
    let chunked = frames(stream, cuts);
    assert_eq!(whole, chunked, "frames depend on how the stream was read");
    let mut relay = Relay::new(Transport::Tcp);
    for frame in whole.0 {
        assert!(frame.len() <= HEADER_LEN + usize::from(u16::MAX), "a frame of {} bytes", frame.len());
        assert_eq!(stream_frame_len(&frame), Ok(Some(frame.len())));
        relay.client(&frame);
    }
    relay.server.handle_close(relay.five, &mut relay.binder);
    assert!(!relay.server.has_allocation(&relay.five));
}

/// The frames of `stream` read in chunks whose sizes cycle through `cuts` (one read without
/// cuts), and whether the stream stopped on an error.
fn frames(stream: &[u8], cuts: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut framer = StreamFramer::default();
    let mut out = Vec::new();
    let mut rest = stream;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts.get(i % cuts.len().max(1)).map_or(rest.len(), |&c| usize::from(c) + 1).min(rest.len());
        i += 1;
        framer.push(&rest[..n]);
        rest = &rest[n..];
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => out.push(frame.to_vec()),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fn read_every_attribute(m: &Message<'_>) {
    let tid = m.transaction_id();
    for a in m.attributes() {
        let _ = attr::read_xor_address(a.typ, a.value, &tid);
        let _ = attr::read_address(a.typ, a.value);
        let _ = attr::read_error_code(a.value);
        let _ = attr::read_unknown_attributes(a.value).map(|i| i.count());
        let _ = attr::read_password_algorithm(a.value);
        let _ = attr::read_channel_number(a.value);
        let _ = attr::read_u32(a.typ, a.value);
        let _ = attr::read_first_byte(a.typ, a.value);
        let _ = attr::read_str(a.typ, a.value);
        assert!(m.get(a.typ).is_some(), "attribute 0x{:04x} listed but not found", a.typ);
    }
    let _ = m.verify_integrity(KEY);
    let _ = m.verify_integrity_sha256(KEY);
}

/// Writes the attributes of `m` into a new message, then `sign` adds what it adds.
fn re_encode(m: &Message<'_>, sign: impl FnOnce(&mut Encoder<'_>) -> Option<()>) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; m.as_bytes().len() + 256];
    let mut e = Encoder::new(&mut buf, m.method(), m.class(), &m.transaction_id()).ok()?;
    for a in m.attributes() {
        e.attr(a.typ, a.value).ok()?;
    }
    sign(&mut e)?;
    let n = e.finish();
    buf.truncate(n);
    Some(buf)
}

/// Decode, encode, decode: the same method, class, transaction id and attributes.
fn re_encoding_keeps_the_message(m: &Message<'_>) {
    let Some(bytes) = re_encode(m, |_| Some(())) else { return };
    let again = Message::decode(&bytes).unwrap_or_else(|e| panic!("a re-encoded message does not decode: {e}"));
    assert_eq!((again.method(), again.class(), again.transaction_id()), (m.method(), m.class(), m.transaction_id()));
    assert!(again.attributes().eq(m.attributes()), "attributes changed in a round trip");
}

/// Signs the message's attributes with both integrity attributes and FINGERPRINT; both checks
/// pass, and after one bit is flipped (where depends on the input), a check that covered that
/// bit never passes.
fn altered_bytes_fail_integrity(m: &Message<'_>, seed: usize) {
    let signed = re_encode(m, |e| {
        e.integrity(KEY).ok()?;
        e.integrity_sha256(KEY).ok()?;
        e.fingerprint().ok()
    });
    let Some(mut signed) = signed else { return };
    let good = Message::decode(&signed).unwrap_or_else(|e| panic!("a signed message does not decode: {e}"));
    assert!(good.has_fingerprint(), "FINGERPRINT lost");
    assert!(good.verify_integrity(KEY) && good.verify_integrity_sha256(KEY), "a signed message fails its checks");
    // MESSAGE-INTEGRITY (24 bytes), then -SHA256 (36 bytes), then FINGERPRINT (8 bytes). Drop
    // the fingerprint, which would catch the flipped bit before the integrity checks could.
    let sha256_end = signed.len() - 8;
    let sha1_end = sha256_end - 36;
    signed.truncate(sha256_end);
    let len = u16::from_be_bytes([signed[2], signed[3]]) - 8;
    signed[2..4].copy_from_slice(&len.to_be_bytes());
    let at = seed.wrapping_mul(0x9E37_79B9) % sha256_end;
    signed[at] ^= 1 << (seed % 8);
    let Ok(bad) = Message::decode(&signed) else { return };
    if at < sha1_end {
        assert!(!bad.verify_integrity(KEY), "MESSAGE-INTEGRITY accepts byte {at} altered");
    }
    assert!(!bad.verify_integrity_sha256(KEY), "MESSAGE-INTEGRITY-SHA256 accepts byte {at} altered");
}

/// A relay binder that always finds a port.
#[derive(Debug, Default)]
struct Binder(u16);

impl RelayBinder for Binder {
    fn bind(&mut self, _: Family, _: PortChoice) -> Result<SocketAddr, BindFailure> {
        self.0 = self.0.wrapping_add(1);
        Ok(SocketAddr::from(([203, 0, 113, 1], 50_000u16.wrapping_add(self.0))))
    }
    fn release(&mut self, _: SocketAddr) {}
}

/// A server with one client that holds an allocation, a permission and a channel to `peer`.
struct Relay {
    server: Server,
    binder: Binder,
    now: Instant,
    five: FiveTuple,
    username: String,
    key: LongTermKey,
    nonce: Vec<u8>,
    relayed: SocketAddr,
    peer: SocketAddr,
}

impl Relay {
    fn new(transport: Transport) -> Relay {
        let now = Instant::now();
        let config = ServerConfig { realm: REALM.into(), auth_secret: SECRET.to_vec(), unauth_rate: u32::MAX / 4, ..ServerConfig::default() };
        let five = FiveTuple { client: SocketAddr::from(([198, 51, 100, 1], 40_000)), server: SocketAddr::from(([192, 0, 2, 1], 3478)), transport };
        let (username, password) = credentials::mint(SECRET, "fuzz", 3600, UNIX0);
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, REALM, password.as_bytes());
        let mut relay = Relay {
            server: Server::new(config, now, UNIX0, NonceKey::new([7; 32])),
            binder: Binder::default(),
            now,
            five,
            username,
            key,
            nonce: Vec::new(),
            relayed: SocketAddr::from(([0; 4], 0)),
            peer: SocketAddr::from(([93, 184, 216, 34], 4000)),
        };
        // The 401 answer carries the nonce; then allocate, permit and bind, all signed.
        let ask = relay.request(Method::ALLOCATE, false, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]));
        let reply = relay.reply(&ask);
        relay.nonce = reply.and_then(|r| Message::decode(&r).ok().and_then(|m| m.get(attr::NONCE).map(<[u8]>::to_vec))).unwrap_or_default();
        let allocate = relay.request(Method::ALLOCATE, true, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]));
        let reply = relay.reply(&allocate).unwrap_or_default();
        let m = Message::decode(&reply).unwrap_or_else(|e| panic!("the fixture's Allocate got no answer: {e}"));
        let relayed = m.get(attr::XOR_RELAYED_ADDRESS).map(|v| attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, v, &m.transaction_id()));
        relay.relayed = match relayed {
            Some(Ok(a)) => a,
            _ => panic!("the fixture's Allocate failed"),
        };
        let peer = relay.peer;
        let bind = relay.request(Method::CHANNEL_BIND, true, |e| {
            e.attr(attr::CHANNEL_NUMBER, &[(CHANNEL >> 8) as u8, CHANNEL as u8, 0, 0])?;
            e.xor_address(attr::XOR_PEER_ADDRESS, peer)
        });
        let reply = relay.reply(&bind).unwrap_or_default();
        assert!(Message::decode(&reply).is_ok_and(|m| m.class() == Class::Success), "the fixture's ChannelBind failed");
        relay
    }

    /// A request with the client's credentials (when `signed`) after what `add` writes.
    fn request(&self, method: Method, signed: bool, add: impl FnOnce(&mut Encoder<'_>) -> Result<(), crate::EncodeError>) -> Vec<u8> {
        let mut buf = vec![0u8; 512];
        let Ok(mut e) = Encoder::new(&mut buf, method, Class::Request, &[1; 12]) else { return Vec::new() };
        let ok = add(&mut e).is_ok() && (!signed || self.credentials(&mut e).is_some());
        let n = e.finish();
        buf.truncate(if ok { n } else { 0 });
        buf
    }

    fn credentials(&self, e: &mut Encoder<'_>) -> Option<()> {
        e.attr(attr::USERNAME, self.username.as_bytes()).ok()?;
        e.attr(attr::REALM, REALM.as_bytes()).ok()?;
        e.attr(attr::NONCE, &self.nonce).ok()?;
        e.integrity(self.key.as_bytes()).ok()
    }

    /// `m`'s attributes without its credentials, then the client's, signed.
    fn sign(&self, m: &Message<'_>) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; m.as_bytes().len() + 256];
        let mut e = Encoder::new(&mut buf, m.method(), m.class(), &m.transaction_id()).ok()?;
        for a in m.attributes().filter(|a| ![attr::USERNAME, attr::REALM, attr::NONCE, attr::USERHASH].contains(&a.typ)) {
            e.attr(a.typ, a.value).ok()?;
        }
        self.credentials(&mut e)?;
        let n = e.finish();
        buf.truncate(n);
        Some(buf)
    }

    fn client(&mut self, input: &[u8]) -> ClientAction {
        let mut out = [0u8; 2048];
        let action = self.server.handle_client(self.now, self.five, input, &mut out, &mut self.binder);
        match &action {
            ClientAction::Reply(n) => {
                let reply = Message::decode(&out[..*n]).unwrap_or_else(|e| panic!("the server's answer does not decode: {e}"));
                assert_eq!(reply.transaction_id(), Message::decode(input).map(|m| m.transaction_id()).unwrap_or_default());
            }
            ClientAction::Relay { payload, .. } => assert!(payload.end <= input.len(), "payload {payload:?} past the input"),
            ClientAction::None => {}
        }
        action
    }

    fn reply(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut out = [0u8; 2048];
        match self.server.handle_client(self.now, self.five, input, &mut out, &mut self.binder) {
            ClientAction::Reply(n) => Some(out[..n].to_vec()),
            _ => None,
        }
    }

    /// Time passes: permissions, channels, the allocation and the nonce expire.
    fn later(&mut self) {
        for secs in [301, 700, 4000] {
            self.server.handle_timeout(self.now + Duration::from_secs(secs), &mut self.binder);
        }
        let _ = self.server.poll_timeout();
        while self.server.poll_event().is_some() {}
    }
}
