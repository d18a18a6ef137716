//! The database a deployment uses, chosen by its URL: the SQLite file in the data folder (the
//! default, one node) or PostgreSQL (`database_url = "postgres://..."`, several nodes).
//!
//! Everything Bureau reads and writes goes through the [`Store`] trait, which both implement;
//! [`Backend`] dereferences to it and adds the few operations that differ per backend.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use crate::{PostgresStore, Result, SqlStore, SqliteStore, Store, StoreError};

/// The environment variable that makes tests run against PostgreSQL (see [`Backend::for_tests`]).
pub const TEST_DATABASE_URL: &str = "BUREAU_TEST_DATABASE_URL";

/// An open database of either backend.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The SQLite file in the data folder.
    Sqlite(SqliteStore),
    /// A PostgreSQL database shared by every node.
    Postgres(PostgresStore),
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Backend {
    /// Opens PostgreSQL when `database_url` is set (and not empty), else the SQLite file at
    /// `sqlite_path`; applies pending migrations either way.
    pub async fn open(database_url: Option<&str>, sqlite_path: &Path) -> Result<Self> {
        match database_url.filter(|url| !url.is_empty()) {
            Some(url) if is_postgres_url(url) => Ok(Backend::Postgres(PostgresStore::open(url).await?)),
            Some(_) => Err(StoreError::BadUrl("it must start with postgres:// or postgresql://".into())),
            None => Ok(Backend::Sqlite(SqliteStore::open(sqlite_path).await?)),
        }
    }

    /// For tests: a fresh PostgreSQL schema when [`TEST_DATABASE_URL`] is set, else a new
    /// SQLite file in `dir`. Returns the backend and the URL it was opened with, if PostgreSQL.
    pub async fn for_tests(dir: &Path) -> Result<(Self, Option<String>)> {
        let url = test_database_url().await?;
        Ok((Self::open(url.as_deref(), &dir.join("bureau.db")).await?, url))
    }

    /// The store, shared.
    pub fn shared(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(store) => Arc::new(SqlStore::clone(store)),
            Backend::Postgres(store) => Arc::new(SqlStore::clone(store)),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }

    /// SQLite: folds the write-ahead log into the database file (after retention, so deleted
    /// rows leave the disk). PostgreSQL: nothing (its own checkpoints and vacuum do that).
    pub async fn checkpoint(&self) -> Result<()> {
        match self {
            Backend::Sqlite(store) => store.checkpoint().await,
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }
}

impl Deref for Backend {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        match self {
            Backend::Sqlite(store) => &**store,
            Backend::Postgres(store) => &**store,
        }
    }
}

/// For tests: when [`TEST_DATABASE_URL`] is set, the URL of a fresh, empty schema in that
/// database ([`crate::postgres::scratch_url`]); `None` when it is not set (tests use SQLite).
pub async fn test_database_url() -> Result<Option<String>> {
    match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.is_empty() => Ok(Some(crate::postgres::scratch_url(&url).await?)),
        _ => Ok(None),
    }
}

/// For the PostgreSQL-only tests, which are `#[ignore]`d so that a run without PostgreSQL lists
/// them as ignored instead of passing them: the URL of a fresh schema, or a panic saying what is
/// missing (scripts/test runs them with `--include-ignored` and [`TEST_DATABASE_URL`] set).
pub async fn postgres_test_database_url() -> String {
    match test_database_url().await {
        Ok(Some(url)) => url,
        Ok(None) => panic!("this test needs PostgreSQL: set {TEST_DATABASE_URL} (scripts/test starts a throwaway cluster)"),
        Err(e) => panic!("{TEST_DATABASE_URL} is set but a fresh schema could not be made: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;
    use crate::{OrgRow, TokenRow};

    /// On either backend (PostgreSQL with BUREAU_TEST_DATABASE_URL): of two redemptions of one
    /// token racing each other on separate connections, exactly one succeeds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_concurrent_redemptions_never_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Backend::for_tests(dir.path()).await.unwrap();
        let org = OrgRow { id: "o1".into(), slug: "acme".into(), name: "Acme".into(), profile_mode: "entry".into(), language: "en".into(), support_email: None, created_at: 1, sfu_threshold: None };
        store.create_org(&org, &[]).await.unwrap();
        for i in 0..20u8 {
            let token = TokenRow { token_hash: vec![i; 32], org_id: "o1".into(), purpose: "setup".into(), subject: None, created_at: 1, expires_at: 100, used_at: None };
            store.insert_token(&token).await.unwrap();
            let (a, b) = (store.clone(), store.clone());
            let first = tokio::spawn(async move { a.redeem_token(&[i; 32], "setup", 50).await.unwrap() });
            let second = tokio::spawn(async move { b.redeem_token(&[i; 32], "setup", 50).await.unwrap() });
            let (first, second) = (first.await.unwrap(), second.await.unwrap());
            assert_eq!(usize::from(first.is_some()) + usize::from(second.is_some()), 1, "round {i}");
            assert!(!store.token_valid(&[i; 32], "setup", 50).await.unwrap());
        }
    }
}
