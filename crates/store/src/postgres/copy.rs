//! Copies a SQLite database into an empty PostgreSQL one, row by row and value by value, in one
//! PostgreSQL transaction (`bureau admin migrate-to-postgres`). Sealed values are bound to their
//! table, column and row id, never to the backend, so verbatim copies open with the same keys.

use std::path::Path;

use rusqlite::types::Value as Cell;
use tokio_postgres::types::{ToSql, Type};

use super::PostgresStore;
use crate::{Result, StoreError};

/// Every table, parents before children (foreign keys are checked row by row). The migration
/// bookkeeping (`schema_migrations`) is not copied: the target has its own.
pub const COPY_ORDER: &[&str] = &[
    "meta",
    "orgs",
    "org_keys",
    "users",
    "sessions",
    "one_time_tokens",
    "access_log",
    "rooms",
    "call_logs",
    "call_participants",
    "transfer_logs",
    "invitations",
    "registrations",
    "support_tickets",
    "two_factor",
    "recovery_codes",
    "two_factor_challenges",
    "org_two_factor",
    "privacy_requests",
    "audit_log",
    "legal_texts",
    "consents",
    "guest_links",
    "guests",
    "absences",
    "attendance",
    "calendar_feeds",
    "calendars",
    "calendar_entries",
    "device_keys",
    "message_bodies",
    "message_queue",
    "org_messaging",
    "conversations",
    "conversation_members",
    "message_files",
    "message_file_chunks",
];

impl PostgresStore {
    /// How many tables the database's current schema holds (a fresh target has none).
    pub async fn table_count(url: &str) -> Result<i64> {
        let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| StoreError::BadUrl(e.to_string()))?;
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        let task = tokio::spawn(connection);
        let sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()";
        let count: i64 = client.query_one(sql, &[]).await?.try_get(0)?;
        drop(client);
        let _ = task.await;
        Ok(count)
    }

    /// Copies every row of every table of [`COPY_ORDER`] from the SQLite file at `sqlite` into
    /// this (migrated, empty) database in one transaction, calling `progress(table, rows)` after
    /// each table. Nothing is committed unless every table was copied.
    pub async fn copy_from_sqlite(&self, sqlite: &Path, progress: &(dyn Fn(&str, u64) + Sync)) -> Result<Vec<(String, u64)>> {
        let source = rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut copied = Vec::new();
        for table in COPY_ORDER {
            let columns = column_names(&source, table)?;
            let names = columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
            let slots = (1..=columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let statement = tx.prepare(&format!("INSERT INTO \"{table}\" ({names}) VALUES ({slots})")).await?;
            let (mut after, mut count) = (i64::MIN, 0u64);
            loop {
                let (last, rows) = read_page(&source, table, columns.len(), after)?;
                for row in &rows {
                    let values = row.iter().zip(statement.params()).map(|(cell, kind)| param(cell, kind)).collect::<Result<Vec<_>>>()?;
                    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
                    tx.execute(&statement, &refs).await?;
                }
                count += rows.len() as u64;
                match last {
                    Some(last) => after = last,
                    None => break,
                }
            }
            progress(table, count);
            copied.push(((*table).to_owned(), count));
        }
        tx.commit().await?;
        Ok(copied)
    }

    /// The number of rows of a table.
    pub async fn row_count(&self, table: &str) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM \"{table}\"");
        let count: Vec<i64> = self.all(&sql, |r| r.get()).await?;
        Ok(count.first().copied().unwrap_or(0) as u64)
    }
}

/// The number of rows of a table of the SQLite file.
pub fn sqlite_row_count(sqlite: &Path, table: &str) -> Result<u64> {
    let source = rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count: i64 = source.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0))?;
    Ok(count as u64)
}

/// Rows of a table read from SQLite at once: a table is copied page by page, so that a large
/// one (the files of messages, 1 MiB a row) is never held whole in memory.
const PAGE_ROWS: i64 = 32;

/// The column names of a table.
fn column_names(source: &rusqlite::Connection, table: &str) -> Result<Vec<String>> {
    let statement = source.prepare(&format!("SELECT * FROM \"{table}\" LIMIT 0"))?;
    Ok(statement.column_names().map(str::to_owned).collect())
}

/// The next rows of a table after rowid `after`, in rowid order, with the last one's rowid
/// (`None` once there are no more).
fn read_page(source: &rusqlite::Connection, table: &str, width: usize, after: i64) -> Result<(Option<i64>, Vec<Vec<Cell>>)> {
    let mut statement = source.prepare(&format!("SELECT rowid, * FROM \"{table}\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"))?;
    let rows = statement.query_map([after, PAGE_ROWS], |r| Ok((r.get::<_, i64>(0)?, (1..=width).map(|i| r.get::<_, Cell>(i)).collect::<rusqlite::Result<Vec<Cell>>>()?)))?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let last = rows.last().map(|(rowid, _)| *rowid);
    Ok((last, rows.into_iter().map(|(_, cells)| cells).collect()))
}

/// A SQLite value as a parameter of the PostgreSQL column's type.
fn param(cell: &Cell, kind: &Type) -> Result<Box<dyn ToSql + Sync + Send>> {
    let wrong = || StoreError::Malformed("a SQLite value does not fit its PostgreSQL column");
    Ok(match (cell, kind) {
        (Cell::Null, &Type::INT8) => Box::new(None::<i64>),
        (Cell::Null, &Type::TEXT) => Box::new(None::<String>),
        (Cell::Null, &Type::BYTEA) => Box::new(None::<Vec<u8>>),
        (Cell::Integer(i), &Type::INT8) => Box::new(*i),
        (Cell::Text(t), &Type::TEXT) => Box::new(t.clone()),
        (Cell::Blob(b), &Type::BYTEA) => Box::new(b.clone()),
        _ => return Err(wrong()),
    })
}

#[cfg(test)]
mod tests {
    use super::COPY_ORDER;

    /// A table added to the schema must be added to the copy (or the migration would lose it).
    #[test]
    fn every_sqlite_table_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bureau.db");
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(crate::SqliteStore::open(&path)).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut statement = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").unwrap();
        let tables: Vec<String> = statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        for table in &tables {
            assert!(table == "schema_migrations" || COPY_ORDER.contains(&table.as_str()), "table {table} is not in COPY_ORDER");
        }
        assert_eq!(tables.len(), COPY_ORDER.len() + 1);
    }

    /// A table of more rows than one page (the chunks of a file of messages) arrives whole and
    /// in order.
    #[tokio::test]
    #[ignore = "PostgreSQL only: scripts/test runs it with --include-ignored and BUREAU_TEST_DATABASE_URL"]
    async fn a_table_larger_than_a_page_is_copied_whole() {
        use crate::MessagingStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bureau.db");
        crate::SqliteStore::open(&path).await.unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO orgs (id, slug, name, profile_mode, created_at) VALUES ('o', 'o', 'O', 'entry', 0);
             INSERT INTO users (id, org_id, email_index, role, rights, active, profile, created_at, updated_at) VALUES ('u', 'o', x'01', 'member', '', 1, x'00', 0, 0);
             INSERT INTO message_files (id, org_id, uploader, size, created_at, expires_at) VALUES ('f', 'o', 'u', 150, 0, 1);",
        )
        .unwrap();
        let chunks = 3 * super::PAGE_ROWS + 2;
        for idx in (0..chunks).rev() {
            conn.execute("INSERT INTO message_file_chunks (file_id, idx, data) VALUES ('f', ?1, ?2)", rusqlite::params![idx, vec![idx as u8; 2]]).unwrap();
        }
        drop(conn);
        let target = crate::PostgresStore::open(&crate::postgres_test_database_url().await).await.unwrap();
        let copied = target.copy_from_sqlite(&path, &|_, _| {}).await.unwrap();
        assert!(copied.contains(&("message_file_chunks".to_owned(), chunks as u64)), "{copied:?}");
        let expected: Vec<u8> = (0..chunks).flat_map(|idx| [idx as u8; 2]).collect();
        assert_eq!(target.message_file_data(crate::OrgId("o"), "f").await.unwrap(), Some(expected));
    }
}
