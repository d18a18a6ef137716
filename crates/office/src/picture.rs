//! Profile pictures: voluntary, small, checked to really be PNG, JPEG or WebP, then decoded
//! within limits and stored sealed as a PNG of at most [`STORED_PICTURE_SIDE`] pixels a side:
//! colleagues' browsers never decode what the uploader sent, and metadata (such as a photo's
//! location) is gone.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bureau_store::OrgId;
use bureau_store::vault::Slot;

use crate::Directory;
use crate::error::{OfficeError, Result};
use crate::rights::Actor;

/// Largest accepted picture, in bytes.
pub const MAX_PICTURE_BYTES: usize = 256 * 1024;
/// Largest accepted width or height, in pixels: a few hundred KiB can declare gigapixels, so
/// this is checked from the header before anything is decoded.
pub const MAX_PICTURE_SIDE: u32 = 4096;
/// Stored pictures are at most this wide and high (larger ones are scaled down).
pub const STORED_PICTURE_SIDE: u32 = 256;
/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 96 * 1024 * 1024;

fn slot(user_id: &str) -> Slot<'_> {
    Slot { table: "users", column: "picture", row: user_id }
}

/// The image type named by the file's first bytes; `None` for anything else.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn invalid(message: &str) -> OfficeError {
    OfficeError::Invalid { field: "data_url", message: message.into() }
}

/// Decodes a `data:image/...;base64,...` URL into checked image bytes.
pub fn decode_data_url(data_url: &str) -> Result<Vec<u8>> {
    let encoded = data_url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
        .map(|(_, data)| data)
        .ok_or_else(|| invalid("must be a data:image/...;base64,... URL"))?;
    if encoded.len() > MAX_PICTURE_BYTES * 4 / 3 + 4 {
        return Err(invalid("the picture must be at most 256 KiB"));
    }
    let bytes = STANDARD.decode(encoded.trim()).map_err(|_| invalid("is not valid base64"))?;
    if bytes.len() > MAX_PICTURE_BYTES {
        return Err(invalid("the picture must be at most 256 KiB"));
    }
    image_type(&bytes).ok_or_else(|| invalid("must be a PNG, JPEG or WebP image"))?;
    Ok(bytes)
}

/// Whether a PNG has a PLTE chunk whose length is not a multiple of three (invalid: palette
/// entries are RGB triples). png 0.18.1 panics decoding one (image-rs/image-png#694, fixed
/// upstream but not released); found by the `picture` fuzz target.
fn has_ragged_palette(bytes: &[u8]) -> bool {
    let Some(mut rest) = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n") else { return false };
    // Each chunk: length (4 bytes), type (4), data, CRC (4).
    while let Some(&[a, b, c, d, ref kind @ ..]) = rest.get(..8) {
        let len = u32::from_be_bytes([a, b, c, d]) as usize;
        if kind == b"PLTE" && !len.is_multiple_of(3) {
            return true;
        }
        let Some(next) = rest.get(len.saturating_add(12)..) else { return false };
        rest = next;
    }
    false
}

/// Decodes checked image bytes within the limits and re-encodes them as a PNG of at most
/// [`STORED_PICTURE_SIDE`] pixels a side (smaller pictures keep their size).
pub fn normalise_picture(bytes: &[u8]) -> Result<Vec<u8>> {
    use image::{ImageFormat, ImageReader, Limits, imageops::FilterType};
    use std::io::Cursor;
    if has_ragged_palette(bytes) {
        return Err(invalid("could not be read as an image"));
    }
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>> {
        let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| invalid("could not be read as an image"))?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_PICTURE_SIDE);
        limits.max_image_height = Some(MAX_PICTURE_SIDE);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        Ok(reader)
    };
    let unreadable = |err: image::ImageError| match err {
        image::ImageError::Limits(_) => invalid(&format!("the picture must be at most {MAX_PICTURE_SIDE} × {MAX_PICTURE_SIDE} pixels")),
        _ => invalid("could not be read as an image"),
    };
    // The header first: the limits refuse a picture too large before its pixels are decoded.
    let (width, height) = reader()?.into_dimensions().map_err(unreadable)?;
    // A decoder that panics on a crafted file (zune-jpeg 0.5.15's AVX2 upsampler asserts on a
    // progressive JPEG with odd sampling factors: bench/fuzz/crashes/picture/jpeg-upsampler-*)
    // refuses that picture like any other it cannot read; the request and the process go on.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader().map(|r| r.decode())))
        .map_err(|_| {
            tracing::warn!("the image decoder panicked on an uploaded picture; refused");
            invalid("could not be read as an image")
        })??
        .map_err(unreadable)?;
    let scaled = if width > STORED_PICTURE_SIDE || height > STORED_PICTURE_SIDE {
        decoded.resize(STORED_PICTURE_SIDE, STORED_PICTURE_SIDE, FilterType::Triangle)
    } else {
        decoded
    };
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(scaled.to_rgba8())
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|_| invalid("could not be stored"))?;
    Ok(png)
}

impl Directory {
    /// Sets (or with `None` removes) the actor's own picture: decoded and re-encoded first
    /// (see [`normalise_picture`]), off the async threads.
    pub async fn set_my_picture(&self, actor: &Actor, image: Option<Vec<u8>>) -> Result<()> {
        let image = match image {
            Some(bytes) => Some(tokio::task::spawn_blocking(move || normalise_picture(&bytes)).await.map_err(|_| invalid("could not be read as an image"))??),
            None => None,
        };
        let keys = self.core.keys(&actor.org_id).await?;
        let sealed = image.map(|bytes| keys.seal(slot(&actor.user_id), &bytes));
        let new_picture = sealed.is_some();
        if !self.core.store.set_picture(OrgId(&actor.org_id), &actor.user_id, sealed.as_deref(), self.core.now()).await? {
            return Err(OfficeError::NotFound("user"));
        }
        match self.user(actor, &actor.user_id).await {
            Ok(me) if me.active => {
                let change = crate::Change::Profile { org_id: actor.org_id.clone(), user_id: me.id, name: me.name, has_picture: me.has_picture, new_picture };
                self.core.emit(change);
            }
            Ok(_) => {}
            Err(err) => tracing::warn!("the new picture could not be announced: {err}"),
        }
        Ok(())
    }

    /// A colleague's picture and its type, if they have one.
    pub async fn picture(&self, actor: &Actor, user_id: &str) -> Result<Option<(&'static str, Vec<u8>)>> {
        self.user(actor, user_id).await?;
        let Some(sealed) = self.core.store.picture(OrgId(&actor.org_id), user_id).await? else { return Ok(None) };
        let keys = self.core.keys(&actor.org_id).await?;
        let bytes = keys.open(slot(user_id), &sealed)?;
        Ok(image_type(&bytes).map(|kind| (kind, bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG on which the decoder panics (found by bench/fuzz) is refused like any unreadable
    /// picture, not a crash of the request.
    #[test]
    fn a_picture_the_decoder_panics_on_is_refused() {
        let jpeg = include_bytes!("../../../bench/fuzz/crashes/picture/jpeg-upsampler-00");
        assert!(matches!(normalise_picture(jpeg), Err(OfficeError::Invalid { field: "data_url", .. })), "{:?}", normalise_picture(jpeg).map(|p| p.len()));
    }

    #[test]
    fn only_small_real_images_are_accepted() {
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 16]].concat();
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&png));
        assert_eq!(decode_data_url(&url).unwrap(), png);
        let html = format!("data:image/png;base64,{}", STANDARD.encode(b"<script>alert(1)</script>"));
        assert!(decode_data_url(&html).is_err(), "content is checked, not the claimed type");
        assert!(decode_data_url("data:image/png;base64,!!!").is_err());
        assert!(decode_data_url("https://example.org/me.png").is_err());
        let big = [b"\xFF\xD8\xFF".as_slice(), &vec![0u8; MAX_PICTURE_BYTES]].concat();
        assert!(decode_data_url(&format!("data:image/jpeg;base64,{}", STANDARD.encode(big))).is_err());
    }

    fn encoded(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
        let image = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200])));
        let mut bytes = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut bytes), format).unwrap();
        bytes
    }

    /// CRC-32 (IEEE) as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        !bytes.iter().fold(!0u32, |crc, &b| (0..8).fold(crc ^ u32::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 }))
    }

    fn size_of(png: &[u8]) -> (u32, u32) {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).map(|i| (i.width(), i.height())).unwrap()
    }

    #[test]
    fn pictures_are_re_encoded_as_png_of_at_most_256_pixels_a_side() {
        let small = normalise_picture(&encoded(16, 8, image::ImageFormat::Png)).unwrap();
        assert_eq!((image_type(&small), size_of(&small)), (Some("image/png"), (16, 8)));
        let photo = normalise_picture(&encoded(1200, 600, image::ImageFormat::Jpeg)).unwrap();
        assert_eq!((image_type(&photo), size_of(&photo)), (Some("image/png"), (256, 128)));
        let webp = normalise_picture(&encoded(300, 300, image::ImageFormat::WebP)).unwrap();
        assert_eq!(size_of(&webp), (256, 256));
    }

    #[test]
    fn a_palette_that_is_not_rgb_triples_is_refused_before_decoding() {
        let chunk = |kind: &[u8], data: &[u8]| [&(data.len() as u32).to_be_bytes()[..], kind, data, &[0; 4]].concat();
        let png = |palette: &[u8]| [b"\x89PNG\r\n\x1a\n".as_slice(), &chunk(b"IHDR", &[0; 13]), &chunk(b"PLTE", palette), &chunk(b"IEND", b"")].concat();
        assert!(has_ragged_palette(&png(&[1, 2, 3, 4])));
        assert!(!has_ragged_palette(&png(&[1, 2, 3, 4, 5, 6])));
        assert!(!has_ragged_palette(&encoded(2, 2, image::ImageFormat::Png)));
        let err = normalise_picture(&png(&[1, 2, 3, 4])).unwrap_err().to_string();
        assert!(err.contains("could not be read"), "{err}");
    }

    #[test]
    fn a_picture_that_declares_gigapixels_is_refused_before_decoding() {
        // A valid PNG header claiming 20,000 × 20,000 pixels (400 megapixels), and nothing else.
        let mut png = encoded(1, 1, image::ImageFormat::Png);
        png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = normalise_picture(&png).unwrap_err().to_string();
        assert!(err.contains("4096"), "{err}");
        for garbage in [b"\x89PNG\r\n\x1a\n garbage".as_slice(), b"\xFF\xD8\xFF\xE0 junk", b"RIFF\0\0\0\0WEBPVP8 junk"] {
            assert!(normalise_picture(garbage).is_err());
        }
    }
}
