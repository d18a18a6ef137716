//! Encoding of the server's answers: success and error responses, challenges, Data indications.

use std::net::SocketAddr;

use super::{FiveTuple, Server};
use crate::attributes as attr;
use crate::credentials::LongTermKey;
use crate::error::Reject;
use crate::message::{Class, Encoder, Message, Method, TransactionId};

/// The key that signs a response, and whether with MESSAGE-INTEGRITY-SHA256.
#[derive(Debug, Clone, Copy)]
pub(super) struct Signer<'k> {
    pub key: &'k LongTermKey,
    pub sha256: bool,
}

impl Server {
    /// Starts a response to `msg` with SOFTWARE.
    pub(super) fn begin<'b>(&self, out: &'b mut [u8], msg: &Message<'_>, class: Class) -> Option<Encoder<'b>> {
        let mut e = Encoder::new(out, msg.method(), class, &msg.transaction_id()).ok()?;
        if let Some(s) = &self.config.software {
            e.attr(attr::SOFTWARE, s.as_bytes()).ok()?;
        }
        Some(e)
    }

    /// Counts and writes an error response, signed when the request was authenticated.
    pub(super) fn error_reply(&mut self, out: &mut [u8], msg: &Message<'_>, reject: Reject, signer: Option<Signer<'_>>, unknown: &[u16]) -> Option<usize> {
        match reject {
            Reject::Forbidden => self.stats.forbidden += 1,
            Reject::AllocationQuotaReached | Reject::InsufficientCapacity => self.stats.quota_rejections += 1,
            Reject::Unauthenticated => self.stats.unauthorized += 1,
            Reject::StaleNonce => self.stats.stale_nonces += 1,
            _ => self.stats.other_errors += 1,
        }
        let mut e = self.begin(out, msg, Class::Error)?;
        e.error_code(reject.code(), &reject.to_string()).ok()?;
        if !unknown.is_empty() {
            e.unknown_attributes(unknown).ok()?;
        }
        seal(e, msg, signer)
    }

    /// Writes a 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS, unless the source
    /// IP has had its share of challenges this second.
    pub(super) fn challenge(&mut self, secs: u64, five: &FiveTuple, out: &mut [u8], msg: &Message<'_>, reject: Reject) -> Option<usize> {
        let ip = five.client.ip();
        if !self.auth.allow_challenge(ip, secs, self.config.unauth_rate) {
            self.stats.auth_rate_limited += 1;
            return None;
        }
        let nonce = self.auth.nonce_key.issue(secs, ip);
        match reject {
            Reject::StaleNonce => self.stats.stale_nonces += 1,
            _ => self.stats.unauthorized += 1,
        }
        let mut e = self.begin(out, msg, Class::Error)?;
        e.error_code(reject.code(), &reject.to_string()).ok()?;
        e.attr(attr::REALM, self.config.realm.as_bytes()).ok()?;
        e.attr(attr::NONCE, &nonce).ok()?;
        e.attr(attr::PASSWORD_ALGORITHMS, &attr::OFFERED_PASSWORD_ALGORITHMS).ok()?;
        seal(e, msg, None)
    }
}

/// Adds integrity (when signed) and FINGERPRINT (when the request had one); returns the length.
pub(super) fn seal(mut e: Encoder<'_>, msg: &Message<'_>, signer: Option<Signer<'_>>) -> Option<usize> {
    if let Some(s) = signer {
        if s.sha256 {
            e.integrity_sha256(s.key.as_bytes()).ok()?;
        } else {
            e.integrity(s.key.as_bytes()).ok()?;
        }
    }
    if msg.has_fingerprint() {
        e.fingerprint().ok()?;
    }
    Some(e.finish())
}

/// Writes a Data indication carrying `data` from `peer`.
pub(super) fn data_indication(out: &mut [u8], tid: &TransactionId, peer: SocketAddr, data: &[u8]) -> Option<usize> {
    let mut e = Encoder::new(out, Method::DATA, Class::Indication, tid).ok()?;
    e.xor_address(attr::XOR_PEER_ADDRESS, peer).ok()?;
    e.attr(attr::DATA, data).ok()?;
    Some(e.finish())
}
