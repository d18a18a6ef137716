//! Password hashing with Argon2id (OWASP parameters), run off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{OfficeError, Result};

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 10;
/// Longest accepted password, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_LEN: usize = 1024;

fn argon2() -> Argon2<'static> {
    // 19 MiB, 2 passes, 1 lane: OWASP's recommended minimum for Argon2id.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the password policy.
pub fn check_policy(password: &str) -> Result<()> {
    if password.chars().count() < MIN_LEN || password.len() > MAX_LEN {
        return Err(OfficeError::Invalid {
            field: "password",
            message: format!("must be at least {MIN_LEN} characters (and at most {MAX_LEN} bytes)"),
        });
    }
    Ok(())
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .ok()
    .and_then(|r| r.ok())
    .ok_or(OfficeError::Invalid { field: "password", message: "could not be hashed".into() })
}

/// Whether `password` matches the PHC string `hash`. Malformed hashes never match.
pub async fn verify(password: String, hash: String) -> bool {
    if password.len() > MAX_LEN {
        return false;
    }
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}
