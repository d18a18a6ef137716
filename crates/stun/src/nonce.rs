//! Stateless nonces (RFC 8489 §9.2): the server keeps no table of nonces it handed out.
//!
//! A nonce is `obMatJos2` + the security-feature bits + base64(timestamp || MAC), where the MAC
//! is an HMAC-SHA256 over the timestamp and the client IP address under a per-process key.
//! A nonce is valid only for the address it was issued to, and only for `lifetime` seconds.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cookie of RFC 8489 §9.2 followed by the feature bits: "password algorithms" only.
pub const NONCE_PREFIX: &[u8; 13] = b"obMatJos2gAAA";
/// Total length of a nonce issued by [`NonceKey::issue`].
pub const NONCE_LEN: usize = NONCE_PREFIX.len() + 27;
const MAC_LEN: usize = 12;

/// The result of checking a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this key to this address and not expired.
    Valid,
    /// Issued by this key to this address, but expired: answer 438 Stale Nonce.
    Stale,
    /// Not issued by this key, or to another address: answer 401 (or 438).
    Invalid,
}

/// The secret behind stateless nonces.
#[derive(Clone)]
pub struct NonceKey {
    key: [u8; 32],
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

impl NonceKey {
    /// A nonce key from 32 random bytes (the driver draws them).
    pub fn new(key: [u8; 32]) -> Self {
        NonceKey { key }
    }

    fn mac(&self, ts: u64, client: IpAddr) -> [u8; MAC_LEN] {
        let mut out = [0u8; MAC_LEN];
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) {
            mac.update(&ts.to_be_bytes());
            match client {
                IpAddr::V4(ip) => mac.update(&ip.octets()),
                IpAddr::V6(ip) => mac.update(&ip.octets()),
            }
            out.copy_from_slice(&mac.finalize().into_bytes()[..MAC_LEN]);
        }
        out
    }

    /// Issues a nonce for `client` at time `now_secs` (any monotonic seconds counter).
    pub fn issue(&self, now_secs: u64, client: IpAddr) -> [u8; NONCE_LEN] {
        let mut raw = [0u8; 8 + MAC_LEN];
        raw[..8].copy_from_slice(&now_secs.to_be_bytes());
        raw[8..].copy_from_slice(&self.mac(now_secs, client));
        let mut out = [0u8; NONCE_LEN];
        out[..NONCE_PREFIX.len()].copy_from_slice(NONCE_PREFIX);
        let _ = STANDARD_NO_PAD.encode_slice(raw, &mut out[NONCE_PREFIX.len()..]);
        out
    }

    /// An unguessable 8-byte token for the `n`-th reservation (RESERVATION-TOKEN).
    pub fn token(&self, n: u64) -> [u8; 8] {
        let mut out = [0u8; 8];
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) {
            mac.update(b"reservation");
            mac.update(&n.to_be_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes()[..8]);
        }
        out
    }

    /// Checks a nonce presented by `client` at `now_secs`.
    pub fn check(&self, nonce: &[u8], now_secs: u64, client: IpAddr, lifetime_secs: u64) -> NonceCheck {
        let Some(body) = nonce.strip_prefix(&NONCE_PREFIX[..]) else { return NonceCheck::Invalid };
        let mut raw = [0u8; 8 + MAC_LEN + 3];
        match STANDARD_NO_PAD.decode_slice(body, &mut raw) {
            Ok(n) if n == 8 + MAC_LEN => {}
            _ => return NonceCheck::Invalid,
        }
        let mut tsb = [0u8; 8];
        tsb.copy_from_slice(&raw[..8]);
        let ts = u64::from_be_bytes(tsb);
        let want = self.mac(ts, client);
        // Constant-time comparison.
        let equal = want.iter().zip(&raw[8..8 + MAC_LEN]).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !equal || ts > now_secs {
            return NonceCheck::Invalid;
        }
        if now_secs - ts > lifetime_secs { NonceCheck::Stale } else { NonceCheck::Valid }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_bound_to_address_and_time() {
        let k = NonceKey::new([9; 32]);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let b: IpAddr = "2001:db8::7".parse().unwrap();
        let n = k.issue(100, a);
        assert!(std::str::from_utf8(&n).is_ok());
        assert_eq!(k.check(&n, 100, a, 600), NonceCheck::Valid);
        assert_eq!(k.check(&n, 700, a, 600), NonceCheck::Valid);
        assert_eq!(k.check(&n, 701, a, 600), NonceCheck::Stale);
        assert_eq!(k.check(&n, 100, b, 600), NonceCheck::Invalid);
        assert_eq!(k.check(&n, 99, a, 600), NonceCheck::Invalid);
        assert_eq!(NonceKey::new([1; 32]).check(&n, 100, a, 600), NonceCheck::Invalid);
        assert_eq!(k.check(b"obMatJos2gAAAxyz", 100, a, 600), NonceCheck::Invalid);
        assert_eq!(k.check(b"", 100, a, 600), NonceCheck::Invalid);
    }
}
