//! The organisation export: every row of one organisation, read in one transaction by
//! [`crate::Store::org_snapshot`], then encrypted as a whole under the organisation's current data
//! key. With the organisation key file ([`crate::keyfile`]) it opens anywhere, offline.
//!
//! The snapshot (`bureau-org-snapshot`, version 1) is backend-neutral JSON:
//! `{"format", "version", "org_id", "schema_version", "exported_at", "tables": {"users": [{..}], ..}}`.
//! Each row maps column names to values: integers, text and null as they are, BLOBs as base64.
//! Sealed columns ([`SEALED_COLUMNS`]) stay sealed; [`reveal`] opens them with the keys.
//!
//! The export file (`bureau-org-export`, version 1) is JSON:
//! `{"format", "version", "org_id", "org_slug", "key_version", "nonce", "ciphertext"}`; the
//! snapshot is sealed with XChaCha20-Poly1305 under data key `key_version`, the associated data
//! `bureau-org-export/1/<org_id>/<key_version>` binding format, organisation and key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::StoreError;
use crate::error::ArchiveError;
use crate::sql::{Db, boxed, params};
use crate::vault::{OrgKeys, Slot};

/// The `format` field of an export file.
pub const EXPORT_FORMAT: &str = "bureau-org-export";
/// The `format` field of the snapshot inside it.
pub const SNAPSHOT_FORMAT: &str = "bureau-org-snapshot";
/// The `format` field of the readable document `decrypt-export` writes.
pub const PLAIN_FORMAT: &str = "bureau-org-data";
const VERSION: u32 = 1;
const NONCE_LEN: usize = 24;

/// Every row of the organisation as a `bureau-org-snapshot` document, read in one snapshot
/// transaction so that it is consistent while the server keeps writing; `None` if there is no
/// such organisation. The same document on either engine.
pub(crate) async fn org_snapshot(db: &Db, org_id: &str, now: i64) -> Result<Option<Value>, StoreError> {
    let org_id = org_id.to_owned();
    db.snapshot(move |tx| {
        boxed(async move {
            let schema_version: i64 = tx.one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", params![], |r| r.get()).await?.unwrap_or(0);
            let mut tables = Map::new();
            for (table, sql) in ORG_TABLES {
                let (names, rows) = tx.named(sql, params![org_id]).await?;
                let rows = rows.into_iter().map(|cells| Value::Object(names.iter().cloned().zip(cells.into_iter().map(cell)).collect())).collect();
                tables.insert((*table).to_owned(), Value::Array(rows));
            }
            Ok(snapshot_document(&org_id, schema_version, now, tables))
        })
    })
    .await
}

/// A cell in the snapshot: integers, text and null as they are, bytes as base64.
fn cell(value: crate::sql::Value) -> Value {
    match value {
        crate::sql::Value::Null => Value::Null,
        crate::sql::Value::Int(i) => Value::from(i),
        crate::sql::Value::Text(t) => Value::String(t),
        crate::sql::Value::Blob(b) => Value::String(STANDARD.encode(b)),
    }
}

/// The `bureau-org-snapshot` document around the rows read (`tables`: table name -> array of
/// row objects); `None` when the organisation has no row (there is no such organisation).
fn snapshot_document(org_id: &str, schema_version: i64, now: i64, tables: Map<String, Value>) -> Option<Value> {
    if tables.get("orgs").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return None;
    }
    Some(json!({
        "format": SNAPSHOT_FORMAT,
        "version": 1,
        "org_id": org_id,
        "schema_version": schema_version,
        "exported_at": now,
        "tables": tables,
    }))
}

/// The tables of an organisation snapshot, each with the SQL that selects the organisation's
/// rows (`$1` is the organisation id) in a stable order. Plain SQL, so every engine runs it.
pub const ORG_TABLES: &[(&str, &str)] = &[
    ("orgs", "SELECT * FROM orgs WHERE id = $1"),
    ("users", "SELECT * FROM users WHERE org_id = $1 ORDER BY created_at, id"),
    ("rooms", "SELECT * FROM rooms WHERE org_id = $1 ORDER BY created_at, id"),
    ("invitations", "SELECT * FROM invitations WHERE org_id = $1 ORDER BY created_at, id"),
    ("registrations", "SELECT * FROM registrations WHERE org_id = $1 ORDER BY at, user_id"),
    ("access_log", "SELECT * FROM access_log WHERE org_id = $1 ORDER BY at, id"),
    ("call_logs", "SELECT * FROM call_logs WHERE org_id = $1 ORDER BY started_at, id"),
    ("call_participants", "SELECT * FROM call_participants WHERE org_id = $1 ORDER BY call_id, user_id"),
    ("transfer_logs", "SELECT * FROM transfer_logs WHERE org_id = $1 ORDER BY at, id"),
    ("support_tickets", "SELECT * FROM support_tickets WHERE org_id = $1 ORDER BY created_at, id"),
    ("one_time_tokens", "SELECT * FROM one_time_tokens WHERE org_id = $1 ORDER BY created_at, token_hash"),
    ("org_two_factor", "SELECT * FROM org_two_factor WHERE org_id = $1"),
    ("two_factor", "SELECT * FROM two_factor WHERE org_id = $1 ORDER BY user_id"),
    ("recovery_codes", "SELECT * FROM recovery_codes WHERE org_id = $1 ORDER BY user_id, code_hash"),
    ("privacy_requests", "SELECT * FROM privacy_requests WHERE org_id = $1 ORDER BY created_at, id"),
    ("audit_log", "SELECT * FROM audit_log WHERE org_id = $1 ORDER BY at, id"),
    ("legal_texts", "SELECT * FROM legal_texts WHERE org_id = $1 ORDER BY kind, version"),
    ("consents", "SELECT * FROM consents WHERE org_id = $1 ORDER BY given_at, id"),
    ("guest_links", "SELECT * FROM guest_links WHERE org_id = $1 ORDER BY created_at, id"),
    ("guests", "SELECT * FROM guests WHERE org_id = $1 ORDER BY user_id"),
    ("absences", "SELECT * FROM absences WHERE org_id = $1 ORDER BY starts_at, id"),
    ("attendance", "SELECT * FROM attendance WHERE org_id = $1 ORDER BY day, id"),
    ("calendars", "SELECT * FROM calendars WHERE org_id = $1 ORDER BY user_id"),
    ("calendar_entries", "SELECT * FROM calendar_entries WHERE org_id = $1 ORDER BY starts_at, id"),
    ("device_keys", "SELECT * FROM device_keys WHERE org_id = $1 ORDER BY created_at, id"),
    ("message_bodies", "SELECT * FROM message_bodies WHERE org_id = $1 ORDER BY created_at, id"),
    ("message_queue", "SELECT * FROM message_queue WHERE org_id = $1 ORDER BY queued_at, id"),
    ("org_messaging", "SELECT * FROM org_messaging WHERE org_id = $1"),
    ("conversations", "SELECT * FROM conversations WHERE org_id = $1 ORDER BY created_at, id"),
    ("conversation_members", "SELECT * FROM conversation_members WHERE org_id = $1 ORDER BY conversation_id, user_id"),
    // Which files of messages are kept, by whom, how large, until when; their bytes
    // (`message_file_chunks`) are left out: see EXCLUDED_TABLES.
    ("message_files", "SELECT * FROM message_files WHERE org_id = $1 ORDER BY created_at, id"),
];

/// Organisation-scoped tables deliberately left out of a snapshot: the keys wrapped by the
/// master key (the key file carries them), live sessions, pending two-factor sign-in
/// challenges and calendar feed secrets (credentials, not data), and the bytes of files of
/// messages: ciphertext whose keys only the recipients' devices hold, so nobody with the export
/// and the organisation's key file could open it, while it may be gigabytes (up to 1 GiB per
/// user) that the snapshot would hold in memory. Their metadata (`message_files`) is exported.
pub const EXCLUDED_TABLES: &[&str] = &["org_keys", "sessions", "two_factor_challenges", "calendar_feeds", "message_file_chunks"];

/// How a sealed column's plaintext reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plain {
    /// A JSON document (profiles, details).
    Json,
    /// UTF-8 text (room names, addresses).
    Text,
    /// An image, shown as a `data:` URL.
    Image,
    /// Raw bytes (two-factor secrets), shown as base64.
    Bytes,
}

/// Every sealed column: table, column, the column holding the row id bound into the associated
/// data, and how its plaintext reads.
pub const SEALED_COLUMNS: &[(&str, &str, &str, Plain)] = &[
    ("orgs", "support_email", "id", Plain::Text),
    ("users", "profile", "id", Plain::Json),
    ("users", "picture", "id", Plain::Image),
    ("rooms", "name", "id", Plain::Text),
    ("invitations", "details", "id", Plain::Json),
    ("registrations", "details", "user_id", Plain::Json),
    ("access_log", "details", "id", Plain::Json),
    ("support_tickets", "details", "id", Plain::Json),
    ("privacy_requests", "details", "id", Plain::Json),
    ("consents", "details", "id", Plain::Json),
    ("absences", "details", "id", Plain::Json),
    ("attendance", "details", "id", Plain::Json),
    ("calendars", "source", "user_id", Plain::Json),
    ("calendar_entries", "details", "id", Plain::Json),
    ("device_keys", "name", "id", Plain::Text),
    ("message_bodies", "envelope", "id", Plain::Bytes),
    ("conversations", "name", "id", Plain::Text),
    ("two_factor", "totp_secret", "user_id", Plain::Bytes),
    ("two_factor", "totp_pending", "user_id", Plain::Bytes),
    ("two_factor", "phone", "user_id", Plain::Text),
    ("two_factor", "phone_pending", "user_id", Plain::Text),
];

/// An organisation export file as stored on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgExportFile {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The organisation's id.
    pub org_id: String,
    /// The organisation's slug (informative).
    pub org_slug: String,
    /// The data key version the snapshot is sealed with.
    pub key_version: u32,
    /// Base64 of the 24-byte nonce.
    pub nonce: String,
    /// Base64 of the sealed snapshot and its tag.
    pub ciphertext: String,
}

fn aad(org_id: &str, key_version: u32) -> Vec<u8> {
    format!("{EXPORT_FORMAT}/{VERSION}/{org_id}/{key_version}").into_bytes()
}

impl OrgExportFile {
    /// Seals a snapshot under the organisation's current data key.
    pub fn seal(org_id: &str, org_slug: &str, keys: &OrgKeys, snapshot: &Value) -> Result<Self, ArchiveError> {
        let version = keys.current_version();
        let key = keys.data_key(version).ok_or(crate::VaultError::UnknownKeyVersion(version))?;
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(snapshot).map_err(|e| ArchiveError::Format(e.to_string()))?);
        let sealed = key.encrypt(&plain, &aad(org_id, version));
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        Ok(OrgExportFile {
            format: EXPORT_FORMAT.into(),
            version: VERSION,
            org_id: org_id.into(),
            org_slug: org_slug.into(),
            key_version: version,
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Parses an export file's JSON text, checking its format and version.
    pub fn parse(text: &[u8]) -> Result<Self, ArchiveError> {
        let file: OrgExportFile =
            serde_json::from_slice(text).map_err(|_| ArchiveError::Format("not a Bureau organisation export (bureau-org-export JSON expected)".into()))?;
        if file.format != EXPORT_FORMAT {
            return Err(ArchiveError::Format(format!("not a Bureau organisation export (format {:?})", file.format)));
        }
        if file.version != VERSION {
            return Err(ArchiveError::Format(format!("organisation export version {} is not supported", file.version)));
        }
        Ok(file)
    }

    /// Opens the snapshot with the organisation's keys.
    pub fn open(&self, keys: &OrgKeys) -> Result<Value, ArchiveError> {
        let key = keys.data_key(self.key_version).ok_or_else(|| {
            ArchiveError::Format(format!(
                "the export is sealed with data key version {}, which this key file does not hold: export the organisation key again",
                self.key_version
            ))
        })?;
        let mut sealed = STANDARD.decode(&self.nonce).map_err(|_| ArchiveError::ExportAltered)?;
        if sealed.len() != NONCE_LEN {
            return Err(ArchiveError::ExportAltered);
        }
        sealed.extend(STANDARD.decode(&self.ciphertext).map_err(|_| ArchiveError::ExportAltered)?);
        let plain = zeroize::Zeroizing::new(key.decrypt(&sealed, &aad(&self.org_id, self.key_version)).map_err(|_| ArchiveError::ExportAltered)?);
        let snapshot: Value = serde_json::from_slice(&plain).map_err(|_| ArchiveError::ExportAltered)?;
        if snapshot.get("format").and_then(Value::as_str) != Some(SNAPSHOT_FORMAT) {
            return Err(ArchiveError::Format("the export holds no organisation snapshot".into()));
        }
        Ok(snapshot)
    }
}

/// The readable document of a snapshot: every sealed value opened (JSON values as objects, text as
/// strings, pictures as `data:` URLs); other BLOB columns stay base64. Any value that does not
/// open fails the whole document.
pub fn reveal(keys: &OrgKeys, snapshot: &Value) -> Result<Value, ArchiveError> {
    let mut out = snapshot.clone();
    out["format"] = Value::from(PLAIN_FORMAT);
    let Some(tables) = out.get_mut("tables").and_then(Value::as_object_mut) else {
        return Err(ArchiveError::Format("the snapshot has no tables".into()));
    };
    for &(table, column, id_column, plain) in SEALED_COLUMNS {
        let Some(rows) = tables.get_mut(table).and_then(Value::as_array_mut) else { continue };
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            open_cell(keys, row, table, column, id_column, plain)?;
        }
    }
    Ok(out)
}

fn open_cell(keys: &OrgKeys, row: &mut Map<String, Value>, table: &str, column: &str, id_column: &str, plain: Plain) -> Result<(), ArchiveError> {
    let id = row.get(id_column).and_then(Value::as_str).unwrap_or_default().to_owned();
    let failed = || ArchiveError::SealedValue { table: table.into(), column: column.into(), row: id.clone() };
    let Some(Value::String(encoded)) = row.get(column) else { return Ok(()) };
    let sealed = STANDARD.decode(encoded).map_err(|_| failed())?;
    let bytes = keys.open(Slot { table, column, row: &id }, &sealed).map_err(|_| failed())?;
    let value = match plain {
        Plain::Json => serde_json::from_slice(&bytes).map_err(|_| failed())?,
        Plain::Text => Value::String(String::from_utf8(bytes).map_err(|_| failed())?),
        Plain::Bytes => Value::String(STANDARD.encode(&bytes)),
        Plain::Image => {
            let kind = image_type(&bytes);
            Value::String(format!("data:{kind};base64,{}", STANDARD.encode(&bytes)))
        }
    };
    row.insert(column.to_owned(), value);
    Ok(())
}

fn image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::vault::Key;

    fn keys() -> OrgKeys {
        OrgKeys::new(HashMap::from([(1, Key::generate())]), 1, Key::generate()).unwrap()
    }

    fn snapshot(keys: &OrgKeys) -> Value {
        let profile = keys.seal_json(Slot { table: "users", column: "profile", row: "u1" }, &json!({"name": "Ada"}));
        let room = keys.seal(Slot { table: "rooms", column: "name", row: "r1" }, b"Lobby");
        json!({"format": SNAPSHOT_FORMAT, "version": 1, "org_id": "o1", "tables": {
            "users": [{"id": "u1", "profile": STANDARD.encode(profile), "picture": null, "email_index": "AAAA"}],
            "rooms": [{"id": "r1", "name": STANDARD.encode(room)}],
        }})
    }

    #[test]
    fn export_seals_and_reveals_every_sealed_value() {
        let keys = keys();
        let file = OrgExportFile::seal("o1", "acme", &keys, &snapshot(&keys)).unwrap();
        let parsed = OrgExportFile::parse(&serde_json::to_vec(&file).unwrap()).unwrap();
        let plain = reveal(&keys, &parsed.open(&keys).unwrap()).unwrap();
        assert_eq!(plain["tables"]["users"][0]["profile"]["name"], "Ada");
        assert_eq!(plain["tables"]["users"][0]["email_index"], "AAAA");
        assert_eq!(plain["tables"]["rooms"][0]["name"], "Lobby");
        assert_eq!(plain["format"], PLAIN_FORMAT);
    }

    #[test]
    fn altered_exports_and_moved_values_are_refused() {
        let keys = keys();
        let file = OrgExportFile::seal("o1", "acme", &keys, &snapshot(&keys)).unwrap();
        let other_org = OrgExportFile { org_id: "o2".into(), ..file.clone() };
        assert!(matches!(other_org.open(&keys), Err(ArchiveError::ExportAltered)));
        assert!(matches!(file.open(&self::keys()), Err(ArchiveError::ExportAltered)));

        let mut moved = snapshot(&keys);
        moved["tables"]["users"][0]["id"] = json!("u2");
        assert!(matches!(reveal(&keys, &moved), Err(ArchiveError::SealedValue { .. })));
    }
}
