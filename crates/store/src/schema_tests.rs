//! Guards on the schema, on both engines: a table that holds an organisation's rows is in the
//! organisation snapshot or deliberately excluded, a BLOB/bytea column is declared sealed (so
//! `decrypt-export` opens it) or clear, and no column has a type the snapshot cannot read.

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
    ("calendar_feeds", "token_hash"),
    ("device_keys", "hpke_public"),
    ("device_keys", "sign_public"),
    ("device_keys", "self_signature"),
    ("message_queue", "sealed_key"),
    // The bytes of files of messages: ciphertext the uploader's browser made (AES-GCM under a
    // key that travels only inside end-to-end encrypted messages), not sealed again by the
    // server. Sealing it would protect nothing more: unlike a waiting message's envelope, whose
    // header names senders and devices, a file's bytes carry nothing but that ciphertext, and
    // its metadata (uploader, size, times) is in clear columns anyway.
    ("message_file_chunks", "data"),
];

fn schema() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let path = dir.path().join("bureau.db");
    runtime.block_on(crate::SqliteStore::open(&path)).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    (dir, conn)
}

fn sqlite_columns(conn: &rusqlite::Connection) -> Vec<(String, String, String)> {
    let sql = "SELECT m.name, p.name, upper(p.type) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'";
    let mut statement = conn.prepare(sql).unwrap();
    statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// A table added with an `org_id` must be put in the snapshot or deliberately excluded.
#[test]
fn every_organisation_table_is_in_the_snapshot_or_excluded() {
    let (_dir, conn) = schema();
    for (table, column, _) in sqlite_columns(&conn) {
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
    for (table, column, kind) in sqlite_columns(&conn) {
        if kind == "BLOB" {
            let sealed = SEALED_COLUMNS.iter().any(|(t, c, _, _)| *t == table && *c == column);
            let clear = CLEAR_BLOBS.iter().any(|(t, c)| *t == table && *c == column);
            assert!(sealed || clear, "BLOB column {table}.{column} is neither declared sealed nor clear");
        }
    }
}

/// Table, column and type of every column, on a fresh PostgreSQL schema.
async fn postgres_columns() -> Vec<(String, String, String)> {
    let store = crate::PostgresStore::open(&crate::postgres_test_database_url().await).await.unwrap();
    let sql = "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema()";
    store.all(sql, |r| Ok((r.get()?, r.get()?, r.get()?))).await.unwrap()
}

/// The same guards as for SQLite: an organisation table is exported or excluded, a bytea
/// column is declared sealed or clear, and no column has a type the snapshot cannot read.
#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --include-ignored and BUREAU_TEST_DATABASE_URL"]
async fn every_table_and_bytea_column_is_declared() {
    let columns = postgres_columns().await;
    assert!(!columns.is_empty(), "the fresh schema has tables");
    for (table, column, kind) in columns {
        if column == "org_id" {
            let listed = ORG_TABLES.iter().any(|(t, _)| *t == table) || EXCLUDED_TABLES.contains(&table.as_str());
            assert!(listed, "table {table} holds organisation rows but is neither exported nor excluded");
        }
        if kind == "bytea" {
            let sealed = SEALED_COLUMNS.iter().any(|(t, c, _, _)| *t == table && *c == column);
            let clear = CLEAR_BLOBS.iter().any(|(t, c)| *t == table && *c == column);
            assert!(sealed || clear, "bytea column {table}.{column} is neither declared sealed nor clear");
        }
        assert!(["bigint", "text", "bytea"].contains(&kind.as_str()), "{table}.{column} is {kind}: the snapshot reads bigint, text and bytea only");
    }
}
