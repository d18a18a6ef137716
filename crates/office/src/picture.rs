//! Profile pictures: voluntary, small, checked to really be PNG, JPEG or WebP, stored sealed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bureau_store::OrgId;
use bureau_store::vault::Slot;

use crate::error::{OfficeError, Result};
use crate::rights::Actor;
use crate::Office;

/// Largest accepted picture, in bytes.
pub const MAX_PICTURE_BYTES: usize = 256 * 1024;

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

impl Office {
    /// Sets (or with `None` removes) the actor's own picture.
    pub async fn set_my_picture(&self, actor: &Actor, image: Option<Vec<u8>>) -> Result<()> {
        let keys = self.keys(&actor.org_id).await?;
        let sealed = image.map(|bytes| keys.seal(slot(&actor.user_id), &bytes));
        let found = self.store.set_picture(OrgId(&actor.org_id), &actor.user_id, sealed.as_deref(), self.now()).await?;
        if found { Ok(()) } else { Err(OfficeError::NotFound("user")) }
    }

    /// A colleague's picture and its type, if they have one.
    pub async fn picture(&self, actor: &Actor, user_id: &str) -> Result<Option<(&'static str, Vec<u8>)>> {
        self.user(actor, user_id).await?;
        let Some(sealed) = self.store.picture(OrgId(&actor.org_id), user_id).await? else { return Ok(None) };
        let keys = self.keys(&actor.org_id).await?;
        let bytes = keys.open(slot(user_id), &sealed)?;
        Ok(image_type(&bytes).map(|kind| (kind, bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
