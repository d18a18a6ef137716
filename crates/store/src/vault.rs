//! The vault: envelope encryption of personal data at rest.
//!
//! A master key (held by the operator, in a 0600 file) wraps one random data key per organisation
//! and key version, and one blind-index key per organisation. Personal fields are sealed with
//! XChaCha20-Poly1305 under the organisation's current data key; the associated data binds each
//! ciphertext to its table, column and row id, so a ciphertext copied to another row fails to open.
//! Because data keys are versioned and only wrapped by the master key, rotating the master key
//! re-wraps a handful of keys instead of re-encrypting every row.
//!
//! Sealed layout: `[format = 1][key version: u32 BE][nonce: 24 bytes][ciphertext + tag]`.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chacha20poly1305::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::VaultError;

const FORMAT: u8 = 1;
use crate::xchacha::{self, NONCE_LEN};
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
const KEY_LEN: usize = 32;

/// A 256-bit symmetric key that is wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Key(bytes)
    }

    /// The key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }

    /// The key's hexadecimal text, as written in the master key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hexadecimal text of a key (surrounding whitespace is ignored).
    pub fn from_hex(text: &str) -> Result<Self, VaultError> {
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| VaultError::BadKeyFile)?;
        Ok(Key(bytes))
    }

    /// Reads a key file written by [`Key::write_new_file`].
    pub fn read_file(path: &Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path).map_err(VaultError::KeyFile)?;
        Key::from_hex(&text)
    }

    /// Writes the key to a new file readable only by its owner (mode 0600), refusing to overwrite.
    pub fn write_new_file(&self, path: &Path) -> Result<(), VaultError> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(VaultError::KeyFile)?;
        file.write_all(format!("{}\n", self.to_hex()).as_bytes()).map_err(VaultError::KeyFile)?;
        file.sync_all().map_err(VaultError::KeyFile)
    }

    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Encrypts `plaintext` bound to `aad` with a random nonce: `nonce || ciphertext+tag`.
    pub(crate) fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + xchacha::TAG_LEN);
        out.extend_from_slice(&nonce);
        xchacha::seal(&self.0, &nonce, plaintext, aad, &mut out);
        out
    }

    /// Opens `nonce || ciphertext+tag` bound to `aad`.
    pub(crate) fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        let Some((nonce, ciphertext)) = sealed.split_first_chunk::<NONCE_LEN>() else {
            return Err(VaultError::Tampered);
        };
        if ciphertext.len() < xchacha::TAG_LEN {
            return Err(VaultError::Tampered);
        }
        xchacha::open(&self.0, nonce, ciphertext, aad).ok_or(VaultError::Tampered)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

/// The operator's master key: it only wraps and unwraps organisation keys.
#[derive(Clone, Debug)]
pub struct MasterKey(Key);

impl MasterKey {
    /// Wraps a master key.
    pub fn new(key: Key) -> Self {
        MasterKey(key)
    }

    /// Encrypts an organisation key; `label` names what the key is for (org, kind, version).
    pub fn wrap(&self, key: &Key, label: &str) -> Vec<u8> {
        self.0.encrypt(&key.0, label.as_bytes())
    }

    /// Decrypts an organisation key; fails if the master key or the label does not match.
    pub fn unwrap_key(&self, wrapped: &[u8], label: &str) -> Result<Key, VaultError> {
        let mut plain = self.0.decrypt(wrapped, label.as_bytes()).map_err(|_| VaultError::WrongMasterKey)?;
        let bytes: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| VaultError::WrongMasterKey)?;
        plain.zeroize();
        Ok(Key(bytes))
    }

    /// A key for one purpose derived from the master key: HMAC-SHA256(master, purpose). Used for
    /// backups (`"bureau backup v1"`), so the master key itself never encrypts bulk data.
    pub fn derive(&self, purpose: &str) -> Key {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&(self.0).0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(purpose.as_bytes());
        Key(mac.finalize().into_bytes().into())
    }

    /// A value stored beside the data so that a node started with another master key refuses
    /// to start instead of failing on the first read.
    pub fn check_value(&self) -> Vec<u8> {
        self.0.encrypt(b"bureau master key check", b"master-key-check")
    }

    /// Whether `check` was made by [`MasterKey::check_value`] with this key.
    pub fn matches(&self, check: &[u8]) -> bool {
        self.0.decrypt(check, b"master-key-check").is_ok()
    }
}

/// The label a wrapped organisation key is bound to.
pub fn key_label(org_id: &str, kind: KeyKind, version: u32) -> String {
    format!("bureau-org-key/{org_id}/{}/{version}", kind.as_str())
}

/// What an organisation key is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Seals personal fields.
    Data,
    /// Computes blind indexes for lookups (kept apart so indexes never reveal data keys).
    Index,
}

impl KeyKind {
    /// The kind stored under `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "data" => Some(KeyKind::Data),
            "index" => Some(KeyKind::Index),
            _ => None,
        }
    }

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Data => "data",
            KeyKind::Index => "index",
        }
    }
}

/// Where a sealed value lives; it is bound into the ciphertext as associated data.
#[derive(Clone, Copy, Debug)]
pub struct Slot<'a> {
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// Row id.
    pub row: &'a str,
}

impl Slot<'_> {
    fn aad(&self, version: u32) -> Vec<u8> {
        format!("{}.{}/{}/v{version}", self.table, self.column, self.row).into_bytes()
    }
}

/// An organisation's unwrapped keys: every data key version and the blind-index key.
pub struct OrgKeys {
    data: HashMap<u32, Key>,
    current: u32,
    index: Key,
}

impl OrgKeys {
    /// Builds the key set; `current` must be one of `data`'s versions.
    pub fn new(data: HashMap<u32, Key>, current: u32, index: Key) -> Result<Self, VaultError> {
        if !data.contains_key(&current) {
            return Err(VaultError::UnknownKeyVersion(current));
        }
        Ok(OrgKeys { data, current, index })
    }

    /// Seals `plaintext` for `slot` under the current data key.
    pub fn seal(&self, slot: Slot<'_>, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.data[&self.current];
        let body = key.encrypt(plaintext, &slot.aad(self.current));
        let mut out = Vec::with_capacity(HEADER_LEN - NONCE_LEN + body.len());
        out.push(FORMAT);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Opens a value sealed for `slot`; a tampered, moved or truncated value is refused.
    pub fn open(&self, slot: Slot<'_>, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < HEADER_LEN || sealed[0] != FORMAT {
            return Err(VaultError::Tampered);
        }
        let version = u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]);
        let key = self.data.get(&version).ok_or(VaultError::UnknownKeyVersion(version))?;
        key.decrypt(&sealed[5..], &slot.aad(version))
    }

    /// The version of the data key new values are sealed with.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every data key version, oldest first (for the organisation key file).
    pub(crate) fn data_keys(&self) -> Vec<(u32, &Key)> {
        let mut keys: Vec<(u32, &Key)> = self.data.iter().map(|(v, k)| (*v, k)).collect();
        keys.sort_by_key(|(v, _)| *v);
        keys
    }

    /// One data key version.
    pub(crate) fn data_key(&self, version: u32) -> Option<&Key> {
        self.data.get(&version)
    }

    /// The blind-index key (for the organisation key file).
    pub(crate) fn index_key(&self) -> &Key {
        &self.index
    }

    /// Seals a value serialised as JSON.
    pub fn seal_json<T: serde::Serialize>(&self, slot: Slot<'_>, value: &T) -> Vec<u8> {
        // Serialising plain data structs to JSON does not fail.
        let plain = serde_json::to_vec(value).unwrap_or_default();
        self.seal(slot, &plain)
    }

    /// Opens a value sealed with [`OrgKeys::seal_json`].
    pub fn open_json<T: serde::de::DeserializeOwned>(&self, slot: Slot<'_>, sealed: &[u8]) -> Result<T, VaultError> {
        let plain = self.open(slot, sealed)?;
        serde_json::from_slice(&plain).map_err(|_| VaultError::Tampered)
    }

    /// The keyed blind index of a value for equality lookups: HMAC-SHA256 under the index key,
    /// over `purpose` and the value as given (callers normalise first, e.g. lower-case emails).
    pub fn blind_index(&self, purpose: &str, value: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> OrgKeys {
        OrgKeys::new(HashMap::from([(1, Key::generate())]), 1, Key::generate()).unwrap()
    }

    const SLOT: Slot<'static> = Slot { table: "users", column: "profile", row: "u1" };

    #[test]
    fn sealed_values_open_only_in_their_slot() {
        let keys = keys();
        let sealed = keys.seal(SLOT, b"alice@example.com");
        assert_eq!(keys.open(SLOT, &sealed).unwrap(), b"alice@example.com");
        let other_row = Slot { row: "u2", ..SLOT };
        assert!(matches!(keys.open(other_row, &sealed), Err(VaultError::Tampered)));
        let other_column = Slot { column: "picture", ..SLOT };
        assert!(keys.open(other_column, &sealed).is_err());
    }

    #[test]
    fn any_flipped_bit_is_refused() {
        let keys = keys();
        let sealed = keys.seal(SLOT, b"secret");
        for i in 0..sealed.len() {
            let mut copy = sealed.clone();
            copy[i] ^= 0x01;
            assert!(keys.open(SLOT, &copy).is_err(), "byte {i}");
        }
        assert!(keys.open(SLOT, &sealed[..sealed.len() - 1]).is_err());
        assert!(keys.open(SLOT, &[]).is_err());
    }

    #[test]
    fn master_key_wraps_and_checks() {
        let master = MasterKey::new(Key::generate());
        let key = Key::generate();
        let label = key_label("org", KeyKind::Data, 1);
        let wrapped = master.wrap(&key, &label);
        assert_eq!(master.unwrap_key(&wrapped, &label).unwrap().0, key.0);
        assert!(master.unwrap_key(&wrapped, &key_label("org", KeyKind::Data, 2)).is_err());
        let other = MasterKey::new(Key::generate());
        assert!(other.unwrap_key(&wrapped, &label).is_err());
        assert!(master.matches(&master.check_value()));
        assert!(!other.matches(&master.check_value()));
    }

    #[test]
    fn blind_index_is_deterministic_and_keyed() {
        let a = keys();
        let b = keys();
        assert_eq!(a.blind_index("email", "x@y.z"), a.blind_index("email", "x@y.z"));
        assert_ne!(a.blind_index("email", "x@y.z"), b.blind_index("email", "x@y.z"));
        assert_ne!(a.blind_index("email", "x@y.z"), a.blind_index("phone", "x@y.z"));
    }

    #[test]
    fn old_versions_still_open_after_a_new_current_key() {
        let old = Key::generate();
        let index = Key::generate();
        let v1 = OrgKeys::new(HashMap::from([(1, old.clone())]), 1, index.clone()).unwrap();
        let sealed = v1.seal(SLOT, b"kept");
        let v2 = OrgKeys::new(HashMap::from([(1, old), (2, Key::generate())]), 2, index).unwrap();
        assert_eq!(v2.open(SLOT, &sealed).unwrap(), b"kept");
        assert_eq!(v2.seal(SLOT, b"new")[1..5], 2u32.to_be_bytes());
    }

    #[test]
    fn key_files_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = Key::generate();
        key.write_new_file(&path).unwrap();
        assert_eq!(Key::read_file(&path).unwrap().0, key.0);
        assert!(key.write_new_file(&path).is_err(), "never overwrites");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
