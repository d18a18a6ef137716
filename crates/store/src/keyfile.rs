//! The organisation key file: an organisation's keys (every data key version and the
//! blind-index key) encrypted under a passphrase, so the customer can read an organisation export
//! without the data folder, the master key or a running Bureau.
//!
//! ```json
//! {"format": "bureau-org-key", "version": 1, "org_id": "...", "org_slug": "...",
//!  "kdf": {"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 1,
//!          "salt": "<base64>"},
//!  "nonce": "<base64, 24 bytes>", "ciphertext": "<base64>"}
//! ```
//!
//! The passphrase key is Argon2id over the passphrase and a random 16-byte salt; the key material
//! (`{"data_keys": {"1": "<hex>"}, "current": 1, "index_key": "<hex>"}`) is sealed with
//! XChaCha20-Poly1305 under it, the associated data `bureau-org-key/1/<org_id>` binding the format
//! and the organisation.

use std::collections::{BTreeMap, HashMap};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ArchiveError;
use crate::vault::{Key, OrgKeys};

/// The `format` field of a key file.
pub const KEY_FILE_FORMAT: &str = "bureau-org-key";
/// Shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
const VERSION: u32 = 1;
const NONCE_LEN: usize = 24;
/// Argon2id cost of new key files: 64 MiB, 3 passes, one lane.
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const PARALLELISM: u32 = 1;
/// Upper bounds accepted when reading a file, so a crafted file cannot exhaust the machine.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 16;

/// An organisation key file as stored on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgKeyFile {
    /// Always [`KEY_FILE_FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The organisation's id.
    pub org_id: String,
    /// The organisation's slug (informative).
    pub org_slug: String,
    /// How the passphrase key is derived.
    pub kdf: Kdf,
    /// Base64 of the 24-byte XChaCha20-Poly1305 nonce.
    pub nonce: String,
    /// Base64 of the sealed key material and its tag.
    pub ciphertext: String,
}

/// The parameters of the passphrase key derivation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Kdf {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Number of lanes.
    pub parallelism: u32,
    /// Base64 of the random salt.
    pub salt: String,
}

#[derive(Serialize, Deserialize)]
struct Material {
    data_keys: BTreeMap<String, String>,
    current: u32,
    index_key: String,
}

/// Refuses passphrases shorter than [`MIN_PASSPHRASE_CHARS`].
pub fn check_passphrase(passphrase: &str) -> Result<(), ArchiveError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(ArchiveError::WeakPassphrase(MIN_PASSPHRASE_CHARS));
    }
    Ok(())
}

fn aad(org_id: &str) -> Vec<u8> {
    format!("{KEY_FILE_FORMAT}/{VERSION}/{org_id}").into_bytes()
}

fn derive(passphrase: &str, kdf: &Kdf, salt: &[u8]) -> Result<Key, ArchiveError> {
    let bad = |what: &str| ArchiveError::Format(format!("not a usable Bureau organisation key file: {what}"));
    if kdf.algorithm != "argon2id" {
        return Err(bad("unknown key derivation"));
    }
    if kdf.memory_kib > MAX_MEMORY_KIB || kdf.iterations > MAX_ITERATIONS || kdf.parallelism > MAX_PARALLELISM {
        return Err(bad("key derivation cost out of bounds"));
    }
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32)).map_err(|_| bad("key derivation parameters"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|_| bad("key derivation parameters"))?;
    Ok(Key::from_bytes(*out))
}

impl OrgKeyFile {
    /// Seals an organisation's keys under a passphrase (at least [`MIN_PASSPHRASE_CHARS`]).
    pub fn seal(org_id: &str, org_slug: &str, keys: &OrgKeys, passphrase: &str) -> Result<Self, ArchiveError> {
        check_passphrase(passphrase)?;
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let kdf = Kdf {
            algorithm: "argon2id".into(),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: PARALLELISM,
            salt: STANDARD.encode(salt),
        };
        let key = derive(passphrase, &kdf, &salt)?;
        let material = Material {
            data_keys: keys.data_keys().into_iter().map(|(v, k)| (v.to_string(), k.to_hex())).collect(),
            current: keys.current_version(),
            index_key: keys.index_key().to_hex(),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&material).map_err(|e| ArchiveError::Format(e.to_string()))?);
        let sealed = key.encrypt(&plain, &aad(org_id));
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        Ok(OrgKeyFile {
            format: KEY_FILE_FORMAT.into(),
            version: VERSION,
            org_id: org_id.into(),
            org_slug: org_slug.into(),
            kdf,
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Parses a key file's JSON text, checking its format and version.
    pub fn parse(text: &[u8]) -> Result<Self, ArchiveError> {
        let file: OrgKeyFile =
            serde_json::from_slice(text).map_err(|_| ArchiveError::Format("not a Bureau organisation key file (bureau-org-key JSON expected)".into()))?;
        if file.format != KEY_FILE_FORMAT {
            return Err(ArchiveError::Format(format!("not a Bureau organisation key file (format {:?})", file.format)));
        }
        if file.version != VERSION {
            return Err(ArchiveError::Format(format!("organisation key file version {} is not supported", file.version)));
        }
        Ok(file)
    }

    /// Opens the key file with its passphrase: the organisation's keys.
    pub fn open(&self, passphrase: &str) -> Result<OrgKeys, ArchiveError> {
        let decode = |text: &str| STANDARD.decode(text).map_err(|_| ArchiveError::WrongPassphrase);
        let salt = decode(&self.kdf.salt)?;
        let mut sealed = decode(&self.nonce)?;
        if sealed.len() != NONCE_LEN {
            return Err(ArchiveError::WrongPassphrase);
        }
        sealed.extend(decode(&self.ciphertext)?);
        let key = derive(passphrase, &self.kdf, &salt)?;
        let plain = Zeroizing::new(key.decrypt(&sealed, &aad(&self.org_id)).map_err(|_| ArchiveError::WrongPassphrase)?);
        let material: Material = serde_json::from_slice(&plain).map_err(|_| ArchiveError::WrongPassphrase)?;
        let mut data = HashMap::new();
        for (version, hex) in &material.data_keys {
            let version: u32 = version.parse().map_err(|_| ArchiveError::WrongPassphrase)?;
            data.insert(version, Key::from_hex(hex)?);
        }
        Ok(OrgKeys::new(data, material.current, Key::from_hex(&material.index_key)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Slot;

    fn keys() -> OrgKeys {
        OrgKeys::new(HashMap::from([(1, Key::generate()), (2, Key::generate())]), 2, Key::generate()).unwrap()
    }

    const SLOT: Slot<'static> = Slot { table: "users", column: "profile", row: "u1" };

    #[test]
    fn key_file_round_trips_every_key() {
        let keys = keys();
        let sealed = keys.seal(SLOT, b"hello");
        let file = OrgKeyFile::seal("org-1", "acme", &keys, "correct horse battery").unwrap();
        let text = serde_json::to_vec(&file).unwrap();
        let opened = OrgKeyFile::parse(&text).unwrap().open("correct horse battery").unwrap();
        assert_eq!(opened.open(SLOT, &sealed).unwrap(), b"hello");
        assert_eq!(opened.current_version(), 2);
        assert_eq!(opened.blind_index("email", "a@b.c"), keys.blind_index("email", "a@b.c"));
    }

    #[test]
    fn wrong_passphrase_other_org_and_altered_files_are_refused() {
        let file = OrgKeyFile::seal("org-1", "acme", &keys(), "correct horse battery").unwrap();
        assert!(matches!(file.open("wrong horse battery"), Err(ArchiveError::WrongPassphrase)));
        let moved = OrgKeyFile { org_id: "org-2".into(), ..file.clone() };
        assert!(matches!(moved.open("correct horse battery"), Err(ArchiveError::WrongPassphrase)));
        let mut bytes = STANDARD.decode(&file.ciphertext).unwrap();
        bytes[3] ^= 1;
        let altered = OrgKeyFile { ciphertext: STANDARD.encode(bytes), ..file.clone() };
        assert!(matches!(altered.open("correct horse battery"), Err(ArchiveError::WrongPassphrase)));
        let greedy = OrgKeyFile { kdf: Kdf { memory_kib: u32::MAX, ..file.kdf.clone() }, ..file };
        assert!(matches!(greedy.open("correct horse battery"), Err(ArchiveError::Format(_))));
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(matches!(OrgKeyFile::seal("o", "s", &keys(), "eleven char"), Err(ArchiveError::WeakPassphrase(12))));
        assert!(OrgKeyFile::parse(b"{\"format\": \"other\"}").is_err());
    }
}
