//! The SQLite store: one file in the data folder, the default for a single node. Its queries
//! are the shared ones ([`crate::queries`]); this adds what only a file database does.

use std::ops::Deref;
use std::path::Path;

use crate::queries::SqlStore;
use crate::sql::Db;
use crate::{Result, StoreError};

/// The SQLite implementation of [`crate::Store`] (through [`SqlStore`]).
#[derive(Clone, Debug)]
pub struct SqliteStore(SqlStore);

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        Ok(SqliteStore(SqlStore { db: Db::open_sqlite(path).await? }))
    }

    fn pool(&self) -> Result<&std::sync::Arc<crate::sql::SqlitePool>> {
        match &self.0.db {
            Db::Sqlite(pool) => Ok(pool),
            Db::Postgres(_) => Err(StoreError::Closed),
        }
    }

    /// Folds the write-ahead log into the main file (used before backups and by tests that
    /// inspect the raw file).
    pub async fn checkpoint(&self) -> Result<()> {
        self.pool()?.with(|conn| Ok(conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?)).await
    }

    /// Closes every idle connection; later calls reopen them.
    pub async fn close(&self) {
        if let Ok(pool) = self.pool() {
            pool.close().await;
        }
    }
}

impl Deref for SqliteStore {
    type Target = SqlStore;

    fn deref(&self) -> &SqlStore {
        &self.0
    }
}
