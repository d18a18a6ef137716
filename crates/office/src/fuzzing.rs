//! The bodies of the `picture` and `calendar` fuzz targets in `bench/fuzz`, here so that the
//! AFL++ binaries and the regression replay of their corpora (`tests/behaviour/fuzz_corpus.rs`,
//! an ordinary `cargo test`) run the same code. Each takes any bytes and panics only on a bug:
//! a panic in the image decoders or the scaling, or in the iCalendar reader (an overflow, an
//! index out of range), or a broken invariant asserted here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::calendar_import::busy_intervals;
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
