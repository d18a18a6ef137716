//! Encrypted backups of the whole database.
//!
//! The database is copied consistently with SQLite's `VACUUM INTO` (safe while the server runs:
//! WAL readers do not block writers), then encrypted as a stream under a backup key derived from
//! the master key ([`BACKUP_KEY_PURPOSE`]). The master key itself is never in a backup.
//!
//! Stream layout (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár):
//!
//! ```text
//! header: "BUREAUBK" | version u8 = 1 | chunk size u32 BE | nonce prefix (19 random bytes)
//! chunks: XChaCha20-Poly1305(chunk of `chunk size` bytes, the last one shorter or empty)
//!         nonce = prefix | chunk counter u32 BE | last-chunk flag u8 (1 on the last chunk)
//!         associated data = the header
//! ```
//!
//! A chunk moved, dropped or altered fails its tag (the counter is in the nonce); a stream cut at
//! a chunk boundary lacks the chunk sealed with the last flag, so truncation is detected too.

use std::io::{Read, Write};
use std::path::Path;

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use rand::RngCore;

use crate::error::ArchiveError;
use crate::vault::{Key, MasterKey};

/// The purpose the backup key is derived for from the master key.
pub const BACKUP_KEY_PURPOSE: &str = "bureau backup v1";
/// Plaintext bytes per chunk of new backups.
pub const CHUNK_SIZE: u32 = 64 * 1024;
const MAGIC: &[u8; 8] = b"BUREAUBK";
const VERSION: u8 = 1;
const PREFIX_LEN: usize = 19;
const HEADER_LEN: usize = 8 + 1 + 4 + PREFIX_LEN;
const TAG_LEN: usize = 16;
/// Largest chunk size accepted when reading, so a crafted header cannot exhaust memory.
const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

fn nonce(prefix: &[u8], counter: u32, last: bool) -> XNonce {
    let mut nonce = [0u8; 24];
    nonce[..PREFIX_LEN].copy_from_slice(prefix);
    nonce[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
    nonce[23] = u8::from(last);
    nonce.into()
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encrypts `input` to `output` as a stream of `chunk_size`-byte chunks under `key`.
pub fn encrypt_stream(key: &Key, chunk_size: u32, input: &mut impl Read, output: &mut impl Write) -> Result<(), ArchiveError> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    header.extend_from_slice(&chunk_size.to_be_bytes());
    let mut prefix = [0u8; PREFIX_LEN];
    rand::rngs::OsRng.fill_bytes(&mut prefix);
    header.extend_from_slice(&prefix);
    output.write_all(&header)?;

    let cipher = key.cipher();
    let size = chunk_size as usize;
    let (mut current, mut next) = (vec![0u8; size], vec![0u8; size]);
    let mut current_len = read_full(input, &mut current)?;
    let mut counter: u32 = 0;
    loop {
        // A full chunk is the last one only if nothing follows it: read one chunk ahead.
        let next_len = if current_len == size { read_full(input, &mut next)? } else { 0 };
        let last = next_len == 0;
        let sealed = cipher
            .encrypt(&nonce(&prefix, counter, last), Payload { msg: &current[..current_len], aad: &header })
            .map_err(|_| ArchiveError::BackupAltered)?;
        output.write_all(&sealed)?;
        if last {
            return Ok(());
        }
        counter = counter.checked_add(1).ok_or(ArchiveError::Format("the database is too large for one backup stream".into()))?;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
    }
}

/// Decrypts a stream written by [`encrypt_stream`]; fails on any altered, reordered, missing or
/// extra chunk. Output written before a failure must be discarded by the caller.
pub fn decrypt_stream(key: &Key, input: &mut impl Read, output: &mut impl Write) -> Result<(), ArchiveError> {
    let mut header = [0u8; HEADER_LEN];
    if read_full(input, &mut header)? < HEADER_LEN || &header[..8] != MAGIC {
        return Err(ArchiveError::Format("not a Bureau backup".into()));
    }
    if header[8] != VERSION {
        return Err(ArchiveError::Format(format!("backup format version {} is not supported", header[8])));
    }
    let chunk_size = u32::from_be_bytes([header[9], header[10], header[11], header[12]]);
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(ArchiveError::Format("the backup's chunk size is out of bounds".into()));
    }
    let prefix = &header[13..];
    let cipher = key.cipher();
    let size = chunk_size as usize + TAG_LEN;
    let (mut current, mut next) = (vec![0u8; size], vec![0u8; size]);
    let mut current_len = read_full(input, &mut current)?;
    let mut counter: u32 = 0;
    loop {
        if current_len < TAG_LEN {
            return Err(ArchiveError::Truncated);
        }
        let next_len = if current_len == size { read_full(input, &mut next)? } else { 0 };
        let last = next_len == 0;
        let plain = cipher.decrypt(&nonce(prefix, counter, last), Payload { msg: &current[..current_len], aad: &header });
        let plain = match plain {
            Ok(plain) => plain,
            // A full chunk sealed as not-last, with nothing after it: the stream was cut.
            Err(_) if last && cipher.decrypt(&nonce(prefix, counter, false), Payload { msg: &current[..current_len], aad: &header }).is_ok() => {
                return Err(ArchiveError::Truncated);
            }
            Err(_) => return Err(ArchiveError::BackupAltered),
        };
        output.write_all(&plain)?;
        if last {
            return Ok(());
        }
        counter = counter.checked_add(1).ok_or(ArchiveError::BackupAltered)?;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
    }
}

/// The key backups are encrypted with.
pub fn backup_key(master: &MasterKey) -> Key {
    master.derive(BACKUP_KEY_PURPOSE)
}

/// Copies the database at `db` consistently into the new file `out` (`VACUUM INTO`).
pub fn copy_database(db: &Path, out: &Path) -> Result<(), ArchiveError> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(crate::StoreError::from)?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(crate::StoreError::from)?;
    let target = out.to_str().ok_or_else(|| ArchiveError::Format("the data folder's path is not UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(crate::StoreError::from)?;
    Ok(())
}

/// Checks a database file before it is put in place: SQLite's integrity check passes and the
/// master key is the one its organisation keys are wrapped with.
pub fn check_database(path: &Path, master: &MasterKey) -> Result<(), ArchiveError> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| ArchiveError::Integrity(e.to_string()))?;
    let verdict: String =
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| ArchiveError::Integrity(e.to_string()))?;
    if verdict != "ok" {
        return Err(ArchiveError::Integrity(verdict));
    }
    let check: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'master_check'", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
        .map_err(|e| ArchiveError::Integrity(e.to_string()))?;
    match check {
        Some(check) if !master.matches(&check) => Err(ArchiveError::WrongMasterKey),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(key: &Key, chunk: u32, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encrypt_stream(key, chunk, &mut &plain[..], &mut out).unwrap();
        out
    }

    fn decrypt(key: &Key, sealed: &[u8]) -> Result<Vec<u8>, ArchiveError> {
        let mut out = Vec::new();
        decrypt_stream(key, &mut &sealed[..], &mut out).map(|()| out)
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn streams_round_trip_at_every_boundary() {
        let key = Key::generate();
        for len in [0, 1, 15, 16, 17, 32, 33, 100] {
            let plain = data(len);
            assert_eq!(decrypt(&key, &encrypt(&key, 16, &plain)).unwrap(), plain, "length {len}");
        }
        let big = data(3 * CHUNK_SIZE as usize + 5);
        assert_eq!(decrypt(&key, &encrypt(&key, CHUNK_SIZE, &big)).unwrap(), big);
    }

    #[test]
    fn truncation_at_or_inside_a_chunk_is_detected() {
        let key = Key::generate();
        for len in [32, 40, 48] {
            let sealed = encrypt(&key, 16, &data(len));
            let chunk = 16 + TAG_LEN;
            // Cut at every chunk boundary and inside chunks.
            for cut in (HEADER_LEN..sealed.len()).step_by(5).chain((1..4).map(|n| HEADER_LEN + n * chunk)) {
                if cut >= sealed.len() {
                    continue;
                }
                assert!(decrypt(&key, &sealed[..cut]).is_err(), "length {len} cut at {cut}");
            }
            let cut_at_boundary = HEADER_LEN + chunk;
            assert!(matches!(decrypt(&key, &sealed[..cut_at_boundary]), Err(ArchiveError::Truncated)), "length {len}");
        }
    }

    #[test]
    fn reordered_chunks_flipped_bits_and_extra_data_are_refused() {
        let key = Key::generate();
        let sealed = encrypt(&key, 16, &data(40));
        let chunk = 16 + TAG_LEN;
        let mut swapped = sealed.clone();
        let (a, b) = (HEADER_LEN, HEADER_LEN + chunk);
        let first: Vec<u8> = sealed[a..b].to_vec();
        swapped[a..b].copy_from_slice(&sealed[b..b + chunk]);
        swapped[b..b + chunk].copy_from_slice(&first);
        assert!(matches!(decrypt(&key, &swapped), Err(ArchiveError::BackupAltered)));

        for i in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x10;
            assert!(decrypt(&key, &flipped).is_err(), "byte {i}");
        }
        let mut extended = sealed.clone();
        extended.extend_from_slice(&[0u8; 20]);
        assert!(decrypt(&key, &extended).is_err());
        assert!(matches!(decrypt(&Key::generate(), &sealed), Err(ArchiveError::BackupAltered)));
    }

    #[test]
    fn the_backup_key_depends_on_the_master_key() {
        let master = MasterKey::new(Key::generate());
        assert_eq!(backup_key(&master).to_hex(), backup_key(&master).to_hex());
        assert_ne!(backup_key(&master).to_hex(), backup_key(&MasterKey::new(Key::generate())).to_hex());
    }
}
