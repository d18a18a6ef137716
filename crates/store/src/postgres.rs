//! The PostgreSQL store: for several Bureau nodes sharing one database. Its queries are the
//! shared ones ([`crate::queries`]); this adds what only PostgreSQL does: copying a SQLite
//! database in, looking at every stored value, and fresh schemas for tests.
//!
//! When PostgreSQL cannot be reached, calls fail with [`crate::StoreError::Unavailable`] (the
//! server answers 503) and the pool connects again once it is back. Every write of more than
//! one statement is one transaction, so nothing is left half-written.

use std::ops::Deref;

use deadpool_postgres::Object;

mod copy;
mod inspect;

pub use copy::{COPY_ORDER, sqlite_row_count};
pub use inspect::scratch_url;

use crate::queries::SqlStore;
use crate::sql::{Db, Map, params};
use crate::{Result, StoreError};

/// The PostgreSQL implementation of [`crate::Store`] (through [`SqlStore`]).
#[derive(Clone, Debug)]
pub struct PostgresStore(SqlStore);

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db` or
    /// `postgres://user@/db?host=/socket/dir`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Ok(PostgresStore(SqlStore { db: Db::open_postgres(url).await? }))
    }

    fn pool(&self) -> Result<&deadpool_postgres::Pool> {
        match &self.0.db {
            Db::Postgres(pool) => Ok(pool),
            Db::Sqlite(_) => Err(StoreError::Closed),
        }
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Object> {
        Ok(self.pool()?.get().await?)
    }

    /// Runs a query without parameters and maps every row (for looking into the database).
    pub async fn all<T: Send + 'static>(&self, sql: &str, map: Map<T>) -> Result<Vec<T>> {
        self.0.db.all(sql.to_owned(), params![], map).await
    }

    /// Closes the pool; later calls fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        if let Ok(pool) = self.pool() {
            pool.close();
        }
    }
}

impl Deref for PostgresStore {
    type Target = SqlStore;

    fn deref(&self) -> &SqlStore {
        &self.0
    }
}
