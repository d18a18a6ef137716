//! One SQL layer for both engines. Every query of the store is written once, in the SQL that
//! SQLite and PostgreSQL both accept (`$N` parameters, `ON CONFLICT`, `string_agg`,
//! `FILTER`), and runs through a [`Db`]: a pool of either engine with four operations — all
//! rows, one row, execute, and a transaction. Parameters are engine-neutral [`Value`]s; rows
//! are read in column order by a [`Reader`], each cell straight from the engine's row. Where
//! the engines really differ there is a hook ([`Engine::insertion_order`], [`Tx::lock`]); the
//! engine modules map their own errors to [`crate::StoreError`].
//!
//! The migrations are one set (`migrations/`), written with SQLite's type names; PostgreSQL
//! reads `BLOB` as `bytea` and `INTEGER` as `bigint`.

mod postgres;
mod sqlite;
mod value;

use std::borrow::Cow;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub(crate) use sqlite::Pool as SqlitePool;
pub use value::{Cell, FromValue, Map, Reader, ToValue, Value};
pub(crate) use value::params;

use crate::{Result, StoreError};

/// The migrations, in order. A migration is never edited once released: add a new one.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_live_office.sql")),
    (3, include_str!("../../migrations/0003_joining.sql")),
    (4, include_str!("../../migrations/0004_two_factor.sql")),
    (5, include_str!("../../migrations/0005_privacy.sql")),
    (6, include_str!("../../migrations/0006_legal.sql")),
    (7, include_str!("../../migrations/0007_consent.sql")),
    (8, include_str!("../../migrations/0008_guests.sql")),
    (9, include_str!("../../migrations/0009_directory_order.sql")),
    (10, include_str!("../../migrations/0010_guest_link_limits.sql")),
    (11, include_str!("../../migrations/0011_absences.sql")),
    (12, include_str!("../../migrations/0012_attendance.sql")),
    (13, include_str!("../../migrations/0013_calendar_feeds.sql")),
    (14, include_str!("../../migrations/0014_calendar.sql")),
    (15, include_str!("../../migrations/0015_device_keys.sql")),
    (16, include_str!("../../migrations/0016_message_queue.sql")),
    (17, include_str!("../../migrations/0017_org_messaging.sql")),
    (18, include_str!("../../migrations/0018_conversations.sql")),
    (19, include_str!("../../migrations/0019_device_keys_unique.sql")),
    (20, include_str!("../../migrations/0020_message_files.sql")),
    (21, include_str!("../../migrations/0021_room_conversations.sql")),
    (22, include_str!("../../migrations/0022_media_thresholds.sql")),
    (23, include_str!("../../migrations/0023_password_change.sql")),
];

/// Which database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The SQLite file in the data folder.
    Sqlite,
    /// A PostgreSQL database shared by every node.
    Postgres,
}

impl Engine {
    /// The hidden column that orders rows by insertion, for ties of the same millisecond.
    pub(crate) fn insertion_order(self) -> &'static str {
        match self {
            Engine::Sqlite => "rowid",
            Engine::Postgres => "ctid",
        }
    }
}

/// A pool of connections to either engine. See the [module documentation](self).
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(Arc<sqlite::Pool>),
    Postgres(deadpool_postgres::Pool),
}

/// An SQL text, usually a constant.
pub(crate) type Sql = Cow<'static, str>;

impl Db {
    /// Opens the SQLite file at `path` (creating it) and applies pending migrations.
    pub(crate) async fn open_sqlite(path: &std::path::Path) -> Result<Db> {
        Ok(Db::Sqlite(sqlite::Pool::open(path).await?))
    }

    /// Connects to PostgreSQL at `url` and applies pending migrations.
    pub(crate) async fn open_postgres(url: &str) -> Result<Db> {
        Ok(Db::Postgres(postgres::open(url).await?))
    }

    pub(crate) fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    async fn query<T: Send + 'static>(&self, sql: Sql, params: Vec<Value>, limit: usize, map: Map<T>) -> Result<Vec<T>> {
        match self {
            Db::Sqlite(pool) => pool.with(move |c| sqlite::query(c, &sql, &params, limit, map)).await,
            Db::Postgres(pool) => postgres::query(&pool.get().await?, &sql, &params, limit, map).await,
        }
    }

    /// Runs a query and maps every row.
    pub(crate) async fn all<T: Send + 'static>(&self, sql: impl Into<Sql>, params: Vec<Value>, map: Map<T>) -> Result<Vec<T>> {
        self.query(sql.into(), params, usize::MAX, map).await
    }

    /// Runs a query and maps its first row, if any.
    pub(crate) async fn one<T: Send + 'static>(&self, sql: impl Into<Sql>, params: Vec<Value>, map: Map<T>) -> Result<Option<T>> {
        Ok(self.query(sql.into(), params, 1, map).await?.pop())
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&self, sql: impl Into<Sql>, params: Vec<Value>) -> Result<u64> {
        let sql = sql.into();
        match self {
            Db::Sqlite(pool) => pool.with(move |c| sqlite::execute(c, &sql, &params)).await,
            Db::Postgres(pool) => postgres::execute(&pool.get().await?, &sql, &params).await,
        }
    }

    /// Runs `work` in one write transaction: committed if it returns `Ok`, rolled back
    /// otherwise (also if the caller goes away before it ends).
    pub(crate) async fn transaction<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        // SQLite: immediate, so that reads deciding a write see what the write will change.
        self.transact(["BEGIN IMMEDIATE", "BEGIN"], work).await
    }

    /// Runs `work` in one read-only transaction that sees a single snapshot of the database
    /// while others keep writing.
    pub(crate) async fn snapshot<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        // SQLite: a deferred transaction takes its snapshot at the first read and keeps it.
        self.transact(["BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"], work).await
    }

    /// A transaction opened with `begin` (SQLite's statement, PostgreSQL's).
    async fn transact<T, F>(&self, begin: [&'static str; 2], work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        match self {
            Db::Sqlite(pool) => {
                let runtime = tokio::runtime::Handle::current();
                pool.owning(move |conn| {
                    if let Err(err) = conn.execute_batch(begin[0]) {
                        return (conn, Err(err.into()));
                    }
                    let mut tx = Tx::Sqlite(conn);
                    // The statements of an SQLite transaction run synchronously: its future
                    // never waits on anything but them.
                    let result = runtime.block_on(work(&mut tx));
                    let Tx::Sqlite(conn) = tx else { unreachable!("an SQLite transaction") };
                    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
                    let result = match conn.execute_batch(end) {
                        Ok(()) => result,
                        Err(err) => result.and(Err(err.into())),
                    };
                    (conn, result)
                })
                .await
            }
            Db::Postgres(pool) => {
                let client = pool.get().await?;
                client.batch_execute(begin[1]).await?;
                let mut tx = Tx::Postgres(Unfinished(Some(client)));
                let result = work(&mut tx).await;
                let Tx::Postgres(mut unfinished) = tx else { unreachable!("a PostgreSQL transaction") };
                let client = unfinished.0.take().ok_or(StoreError::Closed)?;
                client.batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" }).await?;
                result
            }
        }
    }
}

/// A PostgreSQL connection inside a transaction. Dropped before the end (the caller went away,
/// or a panic), it is taken out of the pool and closed, so PostgreSQL rolls back and no other
/// caller gets a connection in the middle of someone's transaction.
pub(crate) struct Unfinished(Option<deadpool_postgres::Object>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

/// An open transaction. See [`Db::transaction`].
pub(crate) enum Tx {
    Sqlite(rusqlite::Connection),
    Postgres(Unfinished),
}

impl Tx {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    async fn query<T>(&mut self, sql: &str, params: Vec<Value>, limit: usize, map: Map<T>) -> Result<Vec<T>> {
        match self {
            Tx::Sqlite(conn) => sqlite::query(conn, sql, &params, limit, map),
            Tx::Postgres(Unfinished(Some(client))) => postgres::query(client, sql, &params, limit, map).await,
            Tx::Postgres(_) => Err(StoreError::Closed),
        }
    }

    /// Runs a query and maps every row.
    pub(crate) async fn all<T>(&mut self, sql: &str, params: Vec<Value>, map: Map<T>) -> Result<Vec<T>> {
        self.query(sql, params, usize::MAX, map).await
    }

    /// Runs a query and maps its first row, if any.
    pub(crate) async fn one<T>(&mut self, sql: &str, params: Vec<Value>, map: Map<T>) -> Result<Option<T>> {
        Ok(self.query(sql, params, 1, map).await?.pop())
    }

    /// Runs a query; the names of its columns and every row's cells.
    pub(crate) async fn named(&mut self, sql: &str, params: Vec<Value>) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
        let names = match self {
            Tx::Sqlite(conn) => sqlite::columns(conn, sql)?,
            Tx::Postgres(Unfinished(Some(client))) => postgres::columns(client, sql).await?,
            Tx::Postgres(_) => return Err(StoreError::Closed),
        };
        Ok((names, self.query(sql, params, usize::MAX, |r| r.rest()).await?))
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64> {
        match self {
            Tx::Sqlite(conn) => sqlite::execute(conn, sql, &params),
            Tx::Postgres(Unfinished(Some(client))) => postgres::execute(client, sql, &params).await,
            Tx::Postgres(_) => Err(StoreError::Closed),
        }
    }

    /// Locks the rows a query selects until the transaction ends (PostgreSQL's `FOR UPDATE`),
    /// so that a rule checked against them holds against concurrent transactions. Nothing to
    /// do on SQLite, whose write transaction ([`Db::transaction`]) already excludes every other.
    pub(crate) async fn lock(&mut self, select: &str, params: Vec<Value>) -> Result<()> {
        if self.engine() == Engine::Postgres {
            self.query(&format!("{select} FOR UPDATE"), params, usize::MAX, |_| Ok(())).await?;
        }
        Ok(())
    }
}

/// A shorthand for a transaction's body: `tx(|tx| Box::pin(async move { ... }))`.
pub(crate) fn boxed<'t, T>(future: impl std::future::Future<Output = Result<T>> + Send + 't) -> BoxFuture<'t, Result<T>> {
    Box::pin(future)
}

impl StoreError {
    /// Whether the database refused a write for breaking a uniqueness (or other) constraint.
    pub(crate) fn is_constraint(&self) -> bool {
        match self {
            StoreError::Database(err) => err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation),
            StoreError::Postgres(err) => err.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

/// Maps a constraint violation to [`StoreError::Conflict`] naming `what` is taken.
pub(crate) fn conflict(what: &'static str) -> impl Fn(StoreError) -> StoreError {
    move |err| if err.is_constraint() { StoreError::Conflict(what) } else { err }
}
