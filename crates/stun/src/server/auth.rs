//! Long-term credential checks (RFC 8489 §9.2) with REST-secret passwords, stateless nonces and
//! a per-source-IP cap on challenge answers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use super::{FiveTuple, Server};
use crate::attributes as attr;
use crate::credentials::{self, LongTermKey, PasswordAlgorithm};
use crate::error::Reject;
use crate::message::Message;
use crate::nonce::{NonceCheck, NonceKey};

/// USERHASH values remembered at most (a full table is cleared).
const MAX_USERHASHES: usize = 65_536;
/// Source IPs tracked by the challenge rate limiter at most (a full table is cleared).
const MAX_LIMITED_IPS: usize = 65_536;

/// State of authentication: the nonce key, the rate limiter and the USERHASH table.
#[derive(Debug)]
pub(super) struct AuthState {
    pub nonce_key: NonceKey,
    /// Per source IP: tokens left and the second they were last refilled.
    buckets: HashMap<IpAddr, (u32, u64)>,
    /// USERHASH -> username, learnt from requests that carried USERNAME.
    userhashes: HashMap<[u8; 32], String>,
}

/// A request that passed authentication.
#[derive(Debug)]
pub(super) struct Authed<'a> {
    pub username: Cow<'a, str>,
    pub key: LongTermKey,
    /// Whether the request was protected by MESSAGE-INTEGRITY-SHA256 (answer in kind).
    pub sha256: bool,
}

/// Why authentication failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum AuthFailure {
    /// Answer 401 or 438 with REALM and a fresh NONCE (rate-limited).
    Challenge(Reject),
    /// Answer this error without integrity.
    Reject(Reject),
}

impl AuthState {
    pub fn new(nonce_key: NonceKey) -> Self {
        AuthState { nonce_key, buckets: HashMap::new(), userhashes: HashMap::new() }
    }

    /// Takes one challenge token for `ip` at second `secs`; false when over the rate.
    pub fn allow_challenge(&mut self, ip: IpAddr, secs: u64, rate: u32) -> bool {
        if self.buckets.len() >= MAX_LIMITED_IPS && !self.buckets.contains_key(&ip) {
            self.buckets.clear();
        }
        let burst = rate.saturating_mul(2);
        let (tokens, last) = self.buckets.entry(ip).or_insert((burst, secs));
        let refill = u32::try_from(secs.saturating_sub(*last)).unwrap_or(u32::MAX).saturating_mul(rate);
        *tokens = tokens.saturating_add(refill).min(burst);
        *last = secs;
        if *tokens == 0 {
            return false;
        }
        *tokens -= 1;
        true
    }

    /// Forgets source IPs whose bucket would be full again.
    pub fn expire(&mut self, secs: u64) {
        self.buckets.retain(|_, (_, last)| secs.saturating_sub(*last) < 10);
    }
}

impl Server {
    /// Authenticates a request with long-term credentials.
    pub(super) fn authenticate<'a>(&mut self, secs: u64, five: &FiveTuple, msg: &Message<'a>) -> Result<Authed<'a>, AuthFailure> {
        if !msg.has_integrity() && !msg.has_integrity_sha256() {
            return Err(AuthFailure::Challenge(Reject::Unauthenticated));
        }
        let bad = AuthFailure::Reject(Reject::BadRequest);
        let user_attr = msg.get(attr::USERNAME);
        let hash_attr = msg.get(attr::USERHASH);
        let (Some(_), Some(nonce)) = (msg.get(attr::REALM), msg.get(attr::NONCE)) else { return Err(bad) };
        if user_attr.is_none() && hash_attr.is_none() {
            return Err(bad);
        }
        let lifetime = self.config.nonce_lifetime.as_secs();
        if self.auth.nonce_key.check(nonce, secs, five.client.ip(), lifetime) != NonceCheck::Valid {
            return Err(AuthFailure::Challenge(Reject::StaleNonce));
        }
        let alg = password_algorithm(msg)?;
        let username: Cow<'a, str> = match (user_attr, hash_attr) {
            (Some(u), _) => Cow::Borrowed(attr::read_str(attr::USERNAME, u).map_err(|_| AuthFailure::Reject(Reject::BadRequest))?),
            (None, Some(h)) => {
                let found = <[u8; 32]>::try_from(h).ok().and_then(|h| self.auth.userhashes.get(&h));
                Cow::Owned(found.cloned().ok_or(AuthFailure::Challenge(Reject::Unauthenticated))?)
            }
            (None, None) => return Err(bad),
        };
        if credentials::check_expiry(&username, self.start_unix + secs).is_err() {
            return Err(AuthFailure::Challenge(Reject::Unauthenticated));
        }
        let password = credentials::rest_password(&self.config.auth_secret, &username);
        let key = LongTermKey::derive(alg, &username, &self.config.realm, &password);
        let sha256 = msg.has_integrity_sha256();
        let ok = if sha256 { msg.verify_integrity_sha256(key.as_bytes()) } else { msg.verify_integrity(key.as_bytes()) };
        if !ok {
            return Err(AuthFailure::Challenge(Reject::Unauthenticated));
        }
        if user_attr.is_some() {
            let h = credentials::userhash(&username, &self.config.realm);
            if !self.auth.userhashes.contains_key(&h) {
                if self.auth.userhashes.len() >= MAX_USERHASHES {
                    self.auth.userhashes.clear();
                }
                self.auth.userhashes.insert(h, username.clone().into_owned());
            }
        }
        Ok(Authed { username, key, sha256 })
    }
}

/// The password algorithm a request uses (RFC 8489 §9.2.4): MD5 for RFC 5389 clients; else the
/// one in PASSWORD-ALGORITHM, provided PASSWORD-ALGORITHMS echoes what the server offered.
fn password_algorithm(msg: &Message<'_>) -> Result<PasswordAlgorithm, AuthFailure> {
    let bad = AuthFailure::Reject(Reject::BadRequest);
    let algs = msg.get(attr::PASSWORD_ALGORITHMS);
    let alg = msg.get(attr::PASSWORD_ALGORITHM);
    match (algs, alg) {
        (None, None) => Ok(PasswordAlgorithm::Md5),
        (Some(list), _) if list != attr::OFFERED_PASSWORD_ALGORITHMS => Err(bad),
        (Some(_), None) => Ok(PasswordAlgorithm::Md5),
        (None, Some(_)) => Err(bad),
        (Some(_), Some(a)) => match attr::read_password_algorithm(a).map_err(|_| AuthFailure::Reject(Reject::BadRequest))? {
            attr::ALGORITHM_MD5 => Ok(PasswordAlgorithm::Md5),
            attr::ALGORITHM_SHA256 => Ok(PasswordAlgorithm::Sha256),
            _ => Err(bad),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn challenge_rate_is_capped_per_ip() {
        let mut a = AuthState::new(NonceKey::new([0; 32]));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let sent = (0..100).filter(|_| a.allow_challenge(ip, 5, 10)).count();
        assert_eq!(sent, 20);
        assert!(a.allow_challenge(other, 5, 10));
        let later = (0..100).filter(|_| a.allow_challenge(ip, 6, 10)).count();
        assert_eq!(later, 10);
        a.expire(100);
        assert!(a.buckets.is_empty());
    }
}
