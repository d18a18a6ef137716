//! `bureau admin migrate-to-postgres`: moves a deployment from the SQLite file of its data folder
//! to PostgreSQL. The target must be empty; its schema is created by the PostgreSQL migrations,
//! every row is copied verbatim in one transaction, then the copy is verified: equal row counts
//! per table, and every user's row and sealed profile read and decrypted alike on both sides
//! with the data folder's master key (which the nodes keep using).

use std::path::Path;

use bureau_store::postgres::{COPY_ORDER, sqlite_row_count};
use bureau_store::vault::{Key, MasterKey, Slot};
use bureau_store::{ArchiveError, Keyring, OrgId, PostgresStore, SqlStore, SqliteStore, DirectoryStore, is_postgres_url};

use crate::StartError;
use crate::data::{DATABASE, MASTER_KEY};

/// What the migration copied and checked.
#[derive(Debug)]
pub struct MigrationReport {
    /// Tables copied, each with equal row counts on both sides.
    pub tables: usize,
    /// Rows copied in all.
    pub rows: u64,
    /// Users whose row and decrypted profile matched.
    pub users_checked: usize,
}

/// Copies the data folder's SQLite database into the empty PostgreSQL database at `url`, calling
/// `progress(table, rows)` after each table, then verifies the copy.
pub async fn to_postgres(data_dir: &Path, url: &str, progress: &(dyn Fn(&str, u64) + Sync)) -> Result<MigrationReport, StartError> {
    if !is_postgres_url(url) {
        return Err(ArchiveError::Format("--to must be a postgres:// or postgresql:// URL".into()).into());
    }
    let sqlite_path = data_dir.join(DATABASE);
    if !sqlite_path.exists() {
        return Err(ArchiveError::NoDatabase(sqlite_path).into());
    }
    let key_path = data_dir.join(MASTER_KEY);
    if !key_path.exists() {
        return Err(ArchiveError::NoMasterKey(key_path).into());
    }
    let tables = PostgresStore::table_count(url).await?;
    if tables > 0 {
        return Err(ArchiveError::Format(format!(
            "the target database is not empty ({tables} tables): migrate into a new, empty database (CREATE DATABASE ...)"
        ))
        .into());
    }
    // Brings the source to the latest schema too, so both sides have the same columns.
    let source = SqliteStore::open(&sqlite_path).await?;
    source.checkpoint().await?;
    let target = PostgresStore::open(url).await?;
    let copied = target.copy_from_sqlite(&sqlite_path, progress).await?;
    let mut rows = 0;
    for (table, count) in &copied {
        let (from, to) = (sqlite_row_count(&sqlite_path, table)?, target.row_count(table).await?);
        if from != to || from != *count {
            return Err(ArchiveError::Format(format!("verification failed: table {table} has {from} rows in SQLite but {to} in PostgreSQL")).into());
        }
        rows += count;
    }
    let master = Key::read_file(&key_path)?;
    let users_checked = same_users(&source, &target, &master).await?;
    source.close().await;
    target.close().await;
    Ok(MigrationReport { tables: COPY_ORDER.len(), rows, users_checked })
}

/// Reads every user of every organisation on both sides, opening each sealed profile with the
/// keys each side unwraps under the master key; the number of users compared.
async fn same_users(source: &SqlStore, target: &SqlStore, master: &Key) -> Result<usize, StartError> {
    let from_ring = Keyring::open(source, MasterKey::new(master.clone())).await?;
    let to_ring = Keyring::open(target, MasterKey::new(master.clone())).await?;
    let mismatch = |what: String| StartError::from(ArchiveError::Format(format!("verification failed: {what} differs after the copy")));
    let mut checked = 0;
    for org in source.orgs().await? {
        let id = OrgId(&org.id);
        if target.org(id).await?.as_ref() != Some(&org) {
            return Err(mismatch(format!("organisation {}", org.slug)));
        }
        let (from_keys, to_keys) = (from_ring.org(source, id).await?, to_ring.org(target, id).await?);
        let (from_users, to_users) = (source.users(id).await?, target.users(id).await?);
        if from_users != to_users {
            return Err(mismatch(format!("the users of organisation {}", org.slug)));
        }
        for (from, to) in from_users.iter().zip(&to_users) {
            let slot = Slot { table: "users", column: "profile", row: &to.id };
            if from_keys.open(slot, &from.profile)? != to_keys.open(slot, &to.profile)? {
                return Err(mismatch(format!("the profile of user {}", to.id)));
            }
            checked += 1;
        }
    }
    Ok(checked)
}
