//! The SQLite engine: one file in the data folder, WAL mode, a small pool of connections.
//!
//! SQLite is synchronous, so every statement runs on Tokio's blocking pool with a pooled
//! connection: WAL lets readers proceed while one writer writes, and the busy timeout makes
//! concurrent writers wait instead of failing. Statements are prepared once per connection and
//! cached; `$N` parameters are bound by name, so the PostgreSQL text runs unchanged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio::sync::Semaphore;

use super::value::Row;
use super::{Cell, MIGRATIONS, Map, Reader, Value};
use crate::{Result, StoreError};

/// Connections kept open at most (readers run in parallel; writes serialise in SQLite).
const CONNECTIONS: usize = 4;

/// The pool of connections to one database file.
pub(crate) struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("sqlite::Pool").field("path", &self.path).finish()
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Deleted rows are overwritten with zeros, so expired or erased data leaves the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.set_prepared_statement_cache_capacity(96);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    // Switching to WAL needs an exclusive lock; done once here, before any other connection opens.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction()?;
        let applied: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))?;
        if !applied {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%s','now'))", [version])?;
        }
        tx.commit()?;
    }
    Ok(())
}

impl Pool {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub(crate) async fn open(path: &Path) -> Result<Arc<Pool>> {
        let owned = path.to_owned();
        let first = tokio::task::spawn_blocking(move || {
            let mut conn = open_connection(&owned)?;
            migrate(&mut conn)?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .await
        .map_err(|_| StoreError::Malformed("migration task failed"))??;
        Ok(Arc::new(Pool { path: path.to_owned(), idle: Mutex::new(vec![first]), permits: Arc::new(Semaphore::new(CONNECTIONS)) }))
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    pub(crate) async fn with<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.owning(move |mut conn| {
            let result = work(&mut conn);
            (conn, result)
        })
        .await
    }

    /// Runs `work` on the blocking thread pool, lending it a pooled connection it gives back.
    pub(crate) async fn owning<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Connection) -> (Connection, Result<T>) + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match taken {
                Some(conn) => conn,
                None => open_connection(&pool.path)?,
            };
            let (conn, result) = work(conn);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(conn);
            }
            drop(permit);
            result
        })
        .await
        .map_err(|_| StoreError::Malformed("database task failed"))?
    }

    /// Closes every idle connection; later calls reopen them.
    pub(crate) async fn close(&self) {
        if let Ok(all) = self.permits.clone().acquire_many_owned(CONNECTIONS as u32).await {
            if let Ok(mut idle) = self.idle.lock() {
                idle.clear();
            }
            drop(all);
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The cell at `index` of a row, borrowed from the statement.
pub(super) fn cell<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Cell<'r>> {
    Ok(match row.get_ref(index)? {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Text(t) => Cell::Text(std::str::from_utf8(t).map_err(|_| StoreError::Malformed("text is not UTF-8"))?),
        ValueRef::Blob(b) => Cell::Blob(b),
        ValueRef::Real(_) => return Err(StoreError::Malformed("a floating-point value")),
    })
}

/// Prepares (cached) and binds `$1`, `$2`, ... by name.
fn prepare<'c>(conn: &'c Connection, sql: &str, params: &[Value]) -> Result<rusqlite::CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    for (i, value) in params.iter().enumerate() {
        if let Some(index) = statement.parameter_index(&format!("${}", i + 1))? {
            statement.raw_bind_parameter(index, value)?;
        }
    }
    Ok(statement)
}

/// Runs a query and maps at most `limit` rows (inside the blocking task, each read in place
/// from SQLite's row: the directory reads thousands at once).
pub(crate) fn query<T>(conn: &Connection, sql: &str, params: &[Value], limit: usize, map: Map<T>) -> Result<Vec<T>> {
    let mut statement = prepare(conn, sql, params)?;
    let columns = statement.column_count();
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while out.len() < limit
        && let Some(row) = rows.next()?
    {
        out.push(map(&mut Reader::new(Row::Sqlite(row), columns))?);
    }
    Ok(out)
}

/// Runs a statement; the number of rows it changed.
pub(crate) fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64> {
    Ok(prepare(conn, sql, params)?.raw_execute()? as u64)
}

/// The names of a query's columns.
pub(crate) fn columns(conn: &Connection, sql: &str) -> Result<Vec<String>> {
    Ok(conn.prepare_cached(sql)?.column_names().map(str::to_owned).collect())
}
