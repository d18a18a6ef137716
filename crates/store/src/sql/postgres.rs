//! The PostgreSQL engine: for several Bureau nodes sharing one database. The same tables,
//! columns and queries as SQLite, with `bytea` for BLOB and `bigint` for INTEGER (flags stay
//! 0/1), so organisation snapshots read the same and a database can be copied verbatim.
//!
//! Connections come from a `deadpool-postgres` pool. When PostgreSQL cannot be reached, calls
//! fail with [`StoreError::Unavailable`] (the server answers 503) and the pool connects again
//! once it is back. No TLS: connect over a unix socket or loopback (see docs/operations.md).

use std::error::Error;
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::NoTls;

use super::value::Row;
use super::{Cell, MIGRATIONS, Map, Reader, Value};
use crate::{Result, StoreError};

/// Connections kept open at most per node.
const CONNECTIONS: usize = 16;
/// How long a call waits for a connection (or for PostgreSQL to accept one) before it fails
/// with [`StoreError::Unavailable`].
const WAIT: Duration = Duration::from_secs(5);
/// Serialises migrations of nodes starting at the same time (`pg_advisory_xact_lock` key).
const MIGRATION_LOCK: i64 = 0x6275_7265_6175;

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        let lost = match err.code() {
            // Connection exceptions, shutdowns, too many connections.
            Some(code) => {
                let code = code.code();
                code.starts_with("08") || code.starts_with("57P") || code == SqlState::TOO_MANY_CONNECTIONS.code()
            }
            None => err.is_closed() || err.source().is_some_and(|s| s.is::<std::io::Error>()),
        };
        if lost { StoreError::Unavailable(err.to_string()) } else { StoreError::Postgres(err) }
    }
}

impl From<PoolError> for StoreError {
    fn from(err: PoolError) -> Self {
        match err {
            PoolError::Closed => StoreError::Closed,
            PoolError::Backend(err) => StoreError::Unavailable(err.to_string()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// PostgreSQL's names for the types the migrations are written with (SQLite's).
fn migration_text(sql: &str) -> String {
    sql.replace("BLOB", "bytea").replace("INTEGER", "bigint")
}

/// Connects to the database at `url` and applies pending migrations.
pub(crate) async fn open(url: &str) -> Result<Pool> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| StoreError::BadUrl(e.to_string()))?;
    config.connect_timeout(WAIT);
    config.application_name("bureau");
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let pool = Pool::builder(manager)
        .max_size(CONNECTIONS)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(WAIT))
        .recycle_timeout(Some(WAIT))
        .build()
        .map_err(|e| StoreError::BadUrl(e.to_string()))?;
    migrate(&pool).await?;
    Ok(pool)
}

async fn migrate(pool: &Pool) -> Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, applied_at bigint NOT NULL)").await?;
    for (version, sql) in MIGRATIONS {
        let applied = tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", &[version]).await?;
        if applied.is_empty() {
            tx.batch_execute(&migration_text(sql)).await?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, extract(epoch from now())::bigint)", &[version]).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Text(t) => t.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// PostgreSQL's cells as the engine-neutral [`Cell`]: its smaller integers and booleans are
/// numbers (SQLite's flags are 0/1), text and bytes are borrowed from the row.
impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Cell::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Cell::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::BYTEA => Cell::Blob(<&[u8]>::from_sql(ty, raw)?),
            _ => Cell::Text(<&str>::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Cell::Null)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL | Type::BYTEA) || <&str as FromSql>::accepts(ty)
    }
}

/// The cell at `index` of a row, borrowed from it.
pub(super) fn cell(row: &tokio_postgres::Row, index: usize) -> Result<Cell<'_>> {
    Ok(row.try_get(index)?)
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Runs a query on a connection (or in its transaction) and maps at most `limit` rows.
pub(crate) async fn query<T>(client: &Object, sql: &str, params: &[Value], limit: usize, map: Map<T>) -> Result<Vec<T>> {
    let statement = client.prepare_cached(sql).await?;
    let rows = client.query(&statement, &refs(params)).await?;
    let mut out = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        out.push(map(&mut Reader::new(Row::Postgres(row), row.len()))?);
    }
    Ok(out)
}

/// Runs a statement; the number of rows it changed.
pub(crate) async fn execute(client: &Object, sql: &str, params: &[Value]) -> Result<u64> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.execute(&statement, &refs(params)).await?)
}

/// The names of a query's columns.
pub(crate) async fn columns(client: &Object, sql: &str) -> Result<Vec<String>> {
    Ok(client.prepare_cached(sql).await?.columns().iter().map(|c| c.name().to_owned()).collect())
}
