//! The bodies of the `picture`, `calendar` and `message` fuzz targets in `bench/fuzz`, here so that the
//! AFL++ binaries and the regression replay of their corpora (`tests/behaviour/fuzz_corpus.rs`,
//! an ordinary `cargo test`) run the same code. Each takes any bytes and panics only on a bug:
//! a panic in the image decoders or the scaling, or in the iCalendar reader (an overflow, an
//! index out of range), or in the reading of a message for the queue, or a broken invariant
//! asserted here.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::calendar_import::busy_intervals;
use crate::messaging::{DeviceProof, Envelope, NewMessage, read_message};
use crate::picture::{MAX_PICTURE_BYTES, STORED_PICTURE_SIDE, decode_data_url, image_type, normalise_picture};

/// A profile picture upload: the data URL check, then [`normalise_picture`], as "My profile"
/// stores it. What it stores is a PNG of at most 256 × 256 pixels, and storing that PNG again
/// gives the same bytes.
pub fn picture(data: &[u8]) {
    let url = format!("data:image/png;base64,{}", STANDARD.encode(data));
    let accepted = data.len() <= MAX_PICTURE_BYTES && image_type(data).is_some();
    assert_eq!(decode_data_url(&url).ok().as_deref(), accepted.then_some(data), "data URL check");
    let Ok(png) = normalise_picture(data) else { return };
    assert_eq!(image_type(&png), Some("image/png"));
    let stored = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("a stored picture does not decode: {e}"));
    assert!(stored.width() <= STORED_PICTURE_SIDE && stored.height() <= STORED_PICTURE_SIDE, "stored {}×{}", stored.width(), stored.height());
    let again = normalise_picture(&png).unwrap_or_else(|e| panic!("a stored picture is refused: {e}"));
    assert!(again == png, "storing a stored picture changes it");
}

/// 2026-01-01T00:00:00Z and 2026-03-01T00:00:00Z: the window the calendar target asks for,
/// fixed so that an input does the same thing every run. The seeds' events fall in or around it.
const CALENDAR_FROM: i64 = 1_767_225_600_000;
const CALENDAR_TO: i64 = 1_772_323_200_000;
/// At most this many intervals asked for.
const CALENDAR_MAX: usize = 500;

/// A calendar subscription or CalDAV free-busy answer as the server fetched it (any bytes, read
/// as lossy UTF-8), through `busy_intervals`. What it returns are busy intervals that are not
/// empty, inside the window, sorted, neither overlapping nor touching, and at most as many as
/// asked for.
pub fn calendar(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(busy) = busy_intervals(&text, CALENDAR_FROM, CALENDAR_TO, CALENDAR_MAX) else { return };
    assert!(busy.len() <= CALENDAR_MAX, "{} intervals", busy.len());
    for b in &busy {
        assert!(CALENDAR_FROM <= b.starts_at && b.starts_at < b.ends_at && b.ends_at <= CALENDAR_TO, "{b:?} outside the window or empty");
    }
    for pair in busy.windows(2) {
        assert!(pair[0].ends_at < pair[1].starts_at, "{:?} and {:?} not sorted, or overlapping or touching", pair[0], pair[1]);
    }
}

/// The sender the `message` target's messages must name.
const MESSAGE_SENDER: &str = "u1";

/// What a member's browser sends about messages that wait, and what the server reads back:
/// - the input as a `Bureau-Device` proof header (lossy UTF-8): a proof read from it has a
///   device id and a signature without spaces;
/// - the input as a stored envelope: one that decodes encodes to the same bytes;
/// - the input as the JSON body of `POST /api/messages`, and the input as the header bytes of
///   a message whose keys follow the recipients it names (so the fuzzer reaches the header's
///   checks without making base64): an accepted message names the sender, lists each
///   recipient once and exactly the devices with a key, carries keys only when direct, and its
///   envelope decodes to what was read.
pub fn message(data: &[u8]) {
    if let Some(proof) = DeviceProof::parse(&String::from_utf8_lossy(data)) {
        assert!(!proof.device_id.contains(' ') && !proof.signature.contains(' '), "{proof:?}");
    }
    if let Some(envelope) = Envelope::decode(data) {
        assert!(envelope.encode() == data, "an envelope changes when encoded again");
    }
    if let Ok(posted) = serde_json::from_slice::<NewMessage>(data) {
        check_read(&posted);
    }
    let recipients: Vec<String> = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|header| header.get("recipients")?.as_array().cloned())
        .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let group = data.windows(7).any(|w| w == b"\"epoch\"");
    let key = if group { String::new() } else { URL_SAFE_NO_PAD.encode([7u8; 80]) };
    check_read(&NewMessage {
        header: URL_SAFE_NO_PAD.encode(data),
        signature: URL_SAFE_NO_PAD.encode([1u8; 64]),
        body: URL_SAFE_NO_PAD.encode(b"ciphertext"),
        keys: recipients.into_iter().map(|id| (id, key.clone())).collect(),
    });
}

/// Reads `posted` as the server does; what it accepts holds the invariants of [`message`].
fn check_read(posted: &NewMessage) {
    let Ok(read) = read_message(MESSAGE_SENDER, posted) else { return };
    assert_eq!(read.header.sender_user, MESSAGE_SENDER);
    assert!(read.header.epoch.is_none() || read.header.conversation_id.is_some(), "a group message without its conversation");
    let ids: Vec<&String> = read.keys.iter().map(|(id, _)| id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "recipients not sorted or repeated");
    assert!(ids.iter().copied().eq(posted.keys.keys()), "keys and recipients differ");
    assert_eq!(ids.len(), read.header.recipients.len());
    let direct = read.header.epoch.is_none();
    assert!(read.keys.iter().all(|(_, key)| key.is_empty() != direct), "keys carried by a group message, or missing from a direct one");
    assert_eq!(read.signature.len(), 64);
    let envelope = Envelope { header: read.header_bytes.clone(), signature: read.signature.clone(), body: read.body.clone() };
    let again = Envelope::decode(&envelope.encode()).unwrap_or_else(|| panic!("an envelope of {} header bytes does not decode", read.header_bytes.len()));
    assert!(again.header == read.header_bytes && again.signature == read.signature && again.body == read.body, "an envelope changes through storage");
}
