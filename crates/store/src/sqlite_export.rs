//! The SQLite side of the organisation snapshot ([`crate::export`]): runs every query of
//! [`ORG_TABLES`] inside one read transaction, so the snapshot is consistent while the server
//! keeps writing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

use crate::export::{ORG_TABLES, snapshot_document};
use crate::{Result, StoreError};

/// Every row of the organisation as a `bureau-org-snapshot` document; `None` if there is no
/// such organisation.
pub(crate) fn org_snapshot(conn: &mut Connection, org_id: &str, now: i64) -> Result<Option<Value>> {
    // A deferred transaction takes its read snapshot at the first SELECT and keeps it until the end.
    let tx = conn.transaction()?;
    let schema_version: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    let mut tables = Map::new();
    for (table, sql) in ORG_TABLES {
        let mut statement = tx.prepare(sql)?;
        let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement.query([org_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut object = Map::new();
            for (i, name) in names.iter().enumerate() {
                object.insert(name.clone(), cell(row.get_ref(i)?)?);
            }
            out.push(Value::Object(object));
        }
        tables.insert((*table).to_owned(), Value::Array(out));
    }
    tx.commit()?;
    Ok(snapshot_document(org_id, schema_version, now, tables))
}

fn cell(value: ValueRef<'_>) -> Result<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::String(std::str::from_utf8(t).map_err(|_| StoreError::Malformed("text is not UTF-8"))?.to_owned()),
        ValueRef::Blob(b) => Value::String(STANDARD.encode(b)),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::export::{EXCLUDED_TABLES, ORG_TABLES, SEALED_COLUMNS};

    /// BLOB columns that are not sealed: hashes, blind indexes, keys wrapped by the master key.
    pub(crate) const CLEAR_BLOBS: &[(&str, &str)] = &[
        ("meta", "value"),
        ("org_keys", "wrapped"),
        ("users", "email_index"),
        ("sessions", "token_hash"),
        ("one_time_tokens", "token_hash"),
        ("invitations", "token_hash"),
        ("guest_links", "token_hash"),
        ("invitations", "email_index"),
        ("two_factor", "phone_code"),
        ("recovery_codes", "code_hash"),
        ("two_factor_challenges", "token_hash"),
        ("two_factor_challenges", "sms_code"),
    ];

    fn schema() -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let path = dir.path().join("bureau.db");
        runtime.block_on(crate::SqliteStore::open(&path)).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        (dir, conn)
    }

    fn columns(conn: &rusqlite::Connection) -> Vec<(String, String, String)> {
        let sql = "SELECT m.name, p.name, upper(p.type) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'";
        let mut statement = conn.prepare(sql).unwrap();
        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    /// A table added with an `org_id` must be put in the snapshot or deliberately excluded.
    #[test]
    fn every_organisation_table_is_in_the_snapshot_or_excluded() {
        let (_dir, conn) = schema();
        for (table, column, _) in columns(&conn) {
            if column == "org_id" {
                let listed = ORG_TABLES.iter().any(|(t, _)| *t == table) || EXCLUDED_TABLES.contains(&table.as_str());
                assert!(listed, "table {table} holds organisation rows but is neither exported nor excluded");
            }
        }
    }

    /// A BLOB column added must be declared sealed (so `decrypt-export` opens it) or clear.
    #[test]
    fn every_blob_column_is_declared_sealed_or_clear() {
        let (_dir, conn) = schema();
        for (table, column, kind) in columns(&conn) {
            if kind == "BLOB" {
                let sealed = SEALED_COLUMNS.iter().any(|(t, c, _, _)| *t == table && *c == column);
                let clear = CLEAR_BLOBS.iter().any(|(t, c)| *t == table && *c == column);
                assert!(sealed || clear, "BLOB column {table}.{column} is neither declared sealed nor clear");
            }
        }
    }
}
