//! The body of the `picture` fuzz target in `bench/fuzz`, here so that the AFL++ binary and
//! the regression replay of its corpus (`tests/behaviour/fuzz_corpus.rs`, an ordinary
//! `cargo test`) run the same code. It takes any bytes and panics only on a bug: a panic in
//! the image decoders or the scaling, or a broken invariant asserted here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

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
