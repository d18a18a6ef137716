//! XChaCha20-Poly1305 through aws-lc-rs's ChaCha20-Poly1305.
//!
//! XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) is ChaCha20-Poly1305 under a subkey: the subkey
//! is HChaCha20(key, first 16 bytes of the 24-byte nonce) and the 12-byte nonce is four zero
//! bytes followed by the last 8. The subkey comes from RustCrypto's `hchacha`; the AEAD itself
//! runs in aws-lc's assembly, several times faster on the short values the vault seals (a
//! directory listing opens one profile per user). The output is byte for byte that of the
//! `chacha20poly1305` crate, which a test checks.

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use chacha20::cipher::consts::U10;

/// The length of an XChaCha20 nonce.
pub(crate) const NONCE_LEN: usize = 24;
/// The length of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

/// The ChaCha20-Poly1305 key and nonce that XChaCha20-Poly1305 reduces to.
fn reduce(key: &[u8; 32], nonce: &[u8; NONCE_LEN]) -> (LessSafeKey, Nonce) {
    let (head, tail) = nonce.split_at(16);
    let subkey = chacha20::hchacha::<U10>(key.into(), head.into());
    let mut short = [0u8; 12];
    short[4..].copy_from_slice(tail);
    // A 32-byte key is always a valid ChaCha20-Poly1305 key.
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, subkey.as_slice()).unwrap_or_else(|_| unreachable!("32-byte key"));
    (LessSafeKey::new(unbound), Nonce::assume_unique_for_key(short))
}

/// Appends `ciphertext || tag` of `plaintext` to `out`.
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; NONCE_LEN], plaintext: &[u8], aad: &[u8], out: &mut Vec<u8>) {
    let (key, nonce) = reduce(key, nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(start);
    // Sealing in place only fails for inputs over 256 GiB.
    if key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut body).is_err() {
        body.clear();
    }
    out.extend_from_slice(&body);
}

/// Opens `ciphertext || tag`; `None` if it does not authenticate.
pub(crate) fn open(key: &[u8; 32], nonce: &[u8; NONCE_LEN], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let (key, nonce) = reduce(key, nonce);
    let mut body = sealed.to_vec();
    let len = key.open_in_place(nonce, Aad::from(aad), &mut body).ok()?.len();
    body.truncate(len);
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};

    #[test]
    fn matches_the_reference_implementation_both_ways() {
        let key = [7u8; 32];
        for len in [0usize, 1, 15, 16, 17, 64, 1000] {
            let nonce: [u8; NONCE_LEN] = std::array::from_fn(|i| (i * 11 + len) as u8);
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 3) as u8).collect();
            let reference = XChaCha20Poly1305::new((&key).into())
                .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: b"slot" })
                .unwrap();
            let mut ours = Vec::new();
            seal(&key, &nonce, &plaintext, b"slot", &mut ours);
            assert_eq!(ours, reference, "length {len}");
            assert_eq!(open(&key, &nonce, &reference, b"slot").unwrap(), plaintext);
        }
    }

    #[test]
    fn refuses_a_changed_byte_or_other_associated_data() {
        let (key, nonce) = ([1u8; 32], [2u8; NONCE_LEN]);
        let mut sealed = Vec::new();
        seal(&key, &nonce, b"profile", b"users/profile/1", &mut sealed);
        assert!(open(&key, &nonce, &sealed, b"users/profile/2").is_none());
        sealed[0] ^= 1;
        assert!(open(&key, &nonce, &sealed, b"users/profile/1").is_none());
        assert!(open(&key, &nonce, &sealed[..TAG_LEN - 1], b"users/profile/1").is_none());
    }
}
