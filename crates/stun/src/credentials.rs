//! Long-term credentials derived from a shared secret (the "TURN REST API" scheme that coturn
//! implements as `--use-auth-secret --static-auth-secret`), long-term keys and USERHASH.
//!
//! The username is `expiry:user`, where `expiry` is a Unix time in seconds; the password is
//! `base64(HMAC-SHA1(secret, username))`. Nothing is stored: any node with the secret checks it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

use crate::error::CredentialError;

/// Length of a REST password: base64 of a 20-byte HMAC-SHA1.
pub const PASSWORD_LEN: usize = 28;

/// A password algorithm of RFC 8489 §18.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordAlgorithm {
    /// MD5 (the RFC 5389 long-term key).
    Md5,
    /// SHA-256.
    Sha256,
}

/// A long-term key: MD5 or SHA-256 of `username:realm:password`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LongTermKey {
    bytes: [u8; 32],
    len: usize,
}

impl std::fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LongTermKey(..)")
    }
}

impl LongTermKey {
    /// Derives the key for `alg` (RFC 8489 §9.2.2).
    pub fn derive(alg: PasswordAlgorithm, username: &str, realm: &str, password: &[u8]) -> Self {
        let mut bytes = [0u8; 32];
        let parts: [&[u8]; 5] = [username.as_bytes(), b":", realm.as_bytes(), b":", password];
        let len = match alg {
            PasswordAlgorithm::Md5 => {
                let mut h = Md5::new();
                parts.iter().for_each(|p| h.update(p));
                bytes[..16].copy_from_slice(&h.finalize());
                16
            }
            PasswordAlgorithm::Sha256 => {
                let mut h = Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                bytes.copy_from_slice(&h.finalize());
                32
            }
        };
        LongTermKey { bytes, len }
    }

    /// The key bytes (16 for MD5, 32 for SHA-256).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The REST password of `username` under `secret`, base64 without allocation.
pub fn rest_password(secret: &[u8], username: &str) -> [u8; PASSWORD_LEN] {
    let mut out = [0u8; PASSWORD_LEN];
    // HMAC accepts keys of any length, so this cannot fail.
    if let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) {
        mac.update(username.as_bytes());
        let tag = mac.finalize().into_bytes();
        let _ = STANDARD.encode_slice(tag, &mut out);
    }
    out
}

/// Mints credentials for `user_id`, valid for `ttl_secs` from `now_unix`:
/// returns `(username, password)`.
pub fn mint(secret: &[u8], user_id: &str, ttl_secs: u64, now_unix: u64) -> (String, String) {
    let username = format!("{}:{user_id}", now_unix.saturating_add(ttl_secs));
    let password = String::from_utf8_lossy(&rest_password(secret, &username)).into_owned();
    (username, password)
}

/// The expiry (Unix seconds) in a REST username: the digits before the first `:`, or the whole
/// username when it has no `:` (coturn accepts both forms).
pub fn rest_expiry(username: &str) -> Result<u64, CredentialError> {
    let head = username.split(':').next().unwrap_or(username);
    if head.is_empty() || !head.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CredentialError::Malformed);
    }
    head.parse().map_err(|_| CredentialError::Malformed)
}

/// Checks that a REST username has not expired at `now_unix`.
pub fn check_expiry(username: &str, now_unix: u64) -> Result<(), CredentialError> {
    if rest_expiry(username)? < now_unix {
        return Err(CredentialError::Expired);
    }
    Ok(())
}

/// USERHASH of RFC 8489 §14.4: SHA-256 of `username:realm`.
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(username.as_bytes());
    h.update(b":");
    h.update(realm.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rest_credentials_are_coturn_compatible() {
        // base64(HMAC-SHA1("secret", "1700000000:alice")), computed independently with openssl.
        let (u, p) = mint(b"secret", "alice", 100, 1_699_999_900);
        assert_eq!(u, "1700000000:alice");
        assert_eq!(p, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
        assert_eq!(rest_expiry(&u).unwrap(), 1_700_000_000);
        assert!(check_expiry(&u, 1_700_000_000).is_ok());
        assert_eq!(check_expiry(&u, 1_700_000_001).unwrap_err(), CredentialError::Expired);
        assert_eq!(rest_expiry("alice").unwrap_err(), CredentialError::Malformed);
        assert_eq!(rest_expiry(":x").unwrap_err(), CredentialError::Malformed);
        assert_eq!(rest_expiry("99999999999999999999999:x").unwrap_err(), CredentialError::Malformed);
        assert_eq!(rest_expiry("12").unwrap(), 12);
    }

    #[test]
    fn keys_have_the_algorithm_size() {
        let k = LongTermKey::derive(PasswordAlgorithm::Md5, "u", "r", b"p");
        assert_eq!(k.as_bytes().len(), 16);
        let k = LongTermKey::derive(PasswordAlgorithm::Sha256, "u", "r", b"p");
        assert_eq!(k.as_bytes().len(), 32);
        assert_eq!(format!("{k:?}"), "LongTermKey(..)");
    }
}
