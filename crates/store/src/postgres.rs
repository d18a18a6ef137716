//! The PostgreSQL backend: for several Bureau nodes sharing one database. The same tables,
//! columns and queries as the SQLite backend ([`crate::SqliteStore`]), with `bytea` for BLOB and
//! `bigint` for INTEGER (flags stay 0/1), so organisation snapshots read the same and a database
//! can be copied verbatim from one backend to the other.
//!
//! Connections come from a `deadpool-postgres` pool. When PostgreSQL cannot be reached, calls
//! fail with [`StoreError::Unavailable`] (the server answers 503) and the pool connects again
//! once it is back. Every write of more than one statement is one transaction, so nothing is
//! left half-written. No TLS: connect over a unix socket or loopback (see docs/operations.md).

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

mod copy;
mod export;
mod inspect;
mod joining;
mod office;
mod privacy;
mod two_factor;

pub use copy::{COPY_ORDER, sqlite_row_count};
pub use inspect::scratch_url;

use crate::{AccessRow, OrgId, OrgKeyRow, OrgRow, Result, SessionRow, Store, StoreError, TokenRow, UserRow};

/// Connections kept open at most per node.
const CONNECTIONS: usize = 16;
/// How long a call waits for a connection (or for PostgreSQL to accept one) before it fails
/// with [`StoreError::Unavailable`].
const WAIT: Duration = Duration::from_secs(5);
/// Serialises migrations of nodes starting at the same time (`pg_advisory_xact_lock` key).
const MIGRATION_LOCK: i64 = 0x6275_7265_6175;

/// The migrations, in order, twins of `migrations/sqlite`. Never edited once released.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_live_office.sql")),
    (3, include_str!("../migrations/postgres/0003_joining.sql")),
    (4, include_str!("../migrations/postgres/0004_two_factor.sql")),
    (5, include_str!("../migrations/postgres/0005_privacy.sql")),
    (6, include_str!("../migrations/postgres/0006_legal.sql")),
    (7, include_str!("../migrations/postgres/0007_consent.sql")),
    (8, include_str!("../migrations/postgres/0008_guests.sql")),
    (9, include_str!("../migrations/postgres/0009_directory_order.sql")),
    (10, include_str!("../migrations/postgres/0010_guest_link_limits.sql")),
];

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("PostgresStore").field("connections", &self.pool.status().size).finish()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        let lost = match err.code() {
            // Connection exceptions, shutdowns, too many connections.
            Some(code) => {
                let code = code.code();
                code.starts_with("08") || code.starts_with("57P") || code == SqlState::TOO_MANY_CONNECTIONS.code()
            }
            None => err.is_closed() || std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>()),
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

/// A unique or other constraint broken: [`StoreError::Conflict`], like SQLite's constraint errors.
fn conflict_on_unique(err: tokio_postgres::Error, what: &'static str) -> StoreError {
    match err.code() {
        Some(code) if code.code().starts_with("23") => StoreError::Conflict(what),
        _ => err.into(),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db` or
    /// `postgres://user@/db?host=/socket/dir`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
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
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, applied_at bigint NOT NULL)").await?;
        for (version, sql) in MIGRATIONS {
            let applied = tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", &[version]).await?;
            if applied.is_empty() {
                tx.batch_execute(sql).await?;
                tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, extract(epoch from now())::bigint)", &[version]).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Object> {
        Ok(self.pool.get().await?)
    }

    /// Runs a query and maps every row.
    pub(crate) async fn all<T>(&self, sql: &str, params: &[Param<'_>], map: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        client.query(&statement, params).await?.iter().map(map).collect()
    }

    /// Runs a query and maps its first row, if any.
    pub(crate) async fn one<T>(&self, sql: &str, params: &[Param<'_>], map: fn(&Row) -> Result<T>) -> Result<Option<T>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        client.query(&statement, params).await?.first().map(map).transpose()
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.execute(&statement, params).await?)
    }

    /// Closes the pool; later calls fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.pool.close();
    }
}

/// Reads a 0/1 flag column.
pub(crate) fn flag(row: &Row, column: &str) -> Result<bool> {
    Ok(row.try_get::<_, i64>(column)? != 0)
}

/// Reads a small non-negative number (key and template versions).
pub(crate) fn small(row: &Row, column: &str) -> Result<u32> {
    u32::try_from(row.try_get::<_, i64>(column)?).map_err(|_| StoreError::Malformed("a version is out of range"))
}

fn org_row(row: &Row) -> Result<OrgRow> {
    Ok(OrgRow {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        profile_mode: row.try_get("profile_mode")?,
        language: row.try_get("language")?,
        support_email: row.try_get("support_email")?,
        created_at: row.try_get("created_at")?,
    })
}

fn key_row(row: &Row) -> Result<OrgKeyRow> {
    Ok(OrgKeyRow {
        org_id: row.try_get("org_id")?,
        kind: row.try_get("kind")?,
        version: small(row, "version")?,
        wrapped: row.try_get("wrapped")?,
        created_at: row.try_get("created_at")?,
    })
}

fn user_row(row: &Row) -> Result<UserRow> {
    Ok(UserRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email_index: row.try_get("email_index")?,
        role: row.try_get("role")?,
        rights: row.try_get("rights")?,
        active: flag(row, "active")?,
        profile: row.try_get("profile")?,
        has_picture: row.try_get("has_picture")?,
        password_hash: row.try_get("password_hash")?,
        restricted: flag(row, "restricted")?,
        objections: row.try_get("objections")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn session_row(row: &Row) -> Result<SessionRow> {
    Ok(SessionRow {
        token_hash: row.try_get("token_hash")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn token_row(row: &Row) -> Result<TokenRow> {
    Ok(TokenRow {
        token_hash: row.try_get("token_hash")?,
        org_id: row.try_get("org_id")?,
        purpose: row.try_get("purpose")?,
        subject: row.try_get("subject")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

fn access_row(row: &Row) -> Result<AccessRow> {
    Ok(AccessRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        at: row.try_get("at")?,
        details: row.try_get("details")?,
    })
}

/// Another active administrator of organisation `$1` than user `$2` exists.
pub(crate) const ANOTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM users o WHERE o.org_id = $1 AND o.id <> $2 AND o.role = 'admin' AND o.active = 1)";

/// Locks the organisation's active administrators until the transaction ends, so that the
/// last-administrator rule is checked against what other transactions committed.
pub(crate) async fn lock_admins(tx: &deadpool_postgres::Transaction<'_>, org_id: &str) -> Result<()> {
    tx.query("SELECT id FROM users WHERE org_id = $1 AND role = 'admin' AND active = 1 FOR UPDATE", &[&org_id]).await?;
    Ok(())
}

const USER_COLUMNS: &str = "id, org_id, email_index, role, rights, active, profile, picture IS NOT NULL AS has_picture,
     password_hash, restricted, objections, created_at, updated_at";

#[async_trait]
impl Store for PostgresStore {
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.one("SELECT value FROM meta WHERE key = $1", &[&key], |r| Ok(r.try_get(0)?)).await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.execute(sql, &[&key, &value]).await.map(drop)
    }

    async fn create_org(&self, org: &OrgRow, keys: &[OrgKeyRow]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO orgs (id, slug, name, profile_mode, language, support_email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&org.id, &org.slug, &org.name, &org.profile_mode, &org.language, &org.support_email, &org.created_at],
        )
        .await
        .map_err(|e| conflict_on_unique(e, "organisation slug"))?;
        for key in keys {
            tx.execute(
                "INSERT INTO org_keys (org_id, kind, version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&key.org_id, &key.kind, &i64::from(key.version), &key.wrapped, &key.created_at],
            )
            .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn orgs(&self) -> Result<Vec<OrgRow>> {
        self.all("SELECT * FROM orgs ORDER BY created_at, id", &[], org_row).await
    }

    async fn org(&self, org: OrgId<'_>) -> Result<Option<OrgRow>> {
        self.one("SELECT * FROM orgs WHERE id = $1", &[&org.0], org_row).await
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<OrgRow>> {
        self.one("SELECT * FROM orgs WHERE slug = $1", &[&slug], org_row).await
    }

    async fn update_org(&self, org: &OrgRow) -> Result<()> {
        let sql = "UPDATE orgs SET name = $2, profile_mode = $3, language = $4, support_email = $5 WHERE id = $1";
        self.execute(sql, &[&org.id, &org.name, &org.profile_mode, &org.language, &org.support_email]).await.map(drop)
    }

    async fn org_keys(&self, org: OrgId<'_>) -> Result<Vec<OrgKeyRow>> {
        self.all("SELECT * FROM org_keys WHERE org_id = $1 ORDER BY kind, version", &[&org.0], key_row).await
    }

    async fn all_org_keys(&self) -> Result<Vec<OrgKeyRow>> {
        self.all("SELECT * FROM org_keys ORDER BY org_id, kind, version", &[], key_row).await
    }

    async fn rewrap_keys(&self, keys: &[OrgKeyRow], master_check: &[u8]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for key in keys {
            tx.execute(
                "UPDATE org_keys SET wrapped = $4 WHERE org_id = $1 AND kind = $2 AND version = $3",
                &[&key.org_id, &key.kind, &i64::from(key.version), &key.wrapped],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('master_check', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&master_check],
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn insert_user(&self, u: &UserRow) -> Result<()> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO users (id, org_id, email_index, role, rights, active, profile, password_hash, restricted, objections, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .await?;
        let (active, restricted) = (i64::from(u.active), i64::from(u.restricted));
        client
            .execute(&statement, &[&u.id, &u.org_id, &u.email_index, &u.role, &u.rights, &active, &u.profile, &u.password_hash, &restricted, &u.objections, &u.created_at, &u.updated_at])
            .await
            .map_err(|e| conflict_on_unique(e, "email"))?;
        Ok(())
    }

    async fn update_user(&self, u: &UserRow) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The organisation's administrators locked first: two transactions demoting two of
        // them wait for each other, and the second sees the first's change.
        lock_admins(&tx, &u.org_id).await?;
        let statement = tx
            .prepare_cached(&format!(
                "UPDATE users SET email_index = $3, role = $4, rights = $5, active = $6, profile = $7,
                 password_hash = $8, restricted = $9, objections = $10, updated_at = $11
                 WHERE org_id = $1 AND id = $2 AND (NOT (role = 'admin' AND active = 1) OR $4 = 'admin' AND $6::bigint = 1 OR {ANOTHER_ADMIN})"
            ))
            .await?;
        let (active, restricted) = (i64::from(u.active), i64::from(u.restricted));
        let changed = tx
            .execute(&statement, &[&u.org_id, &u.id, &u.email_index, &u.role, &u.rights, &active, &u.profile, &u.password_hash, &restricted, &u.objections, &u.updated_at])
            .await
            .map_err(|e| conflict_on_unique(e, "email"))?;
        if changed == 0 && !tx.query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2", &[&u.org_id, &u.id]).await?.is_empty() {
            return Err(StoreError::LastAdmin);
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn user(&self, org: OrgId<'_>, id: &str) -> Result<Option<UserRow>> {
        self.one(&format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2"), &[&org.0, &id], user_row).await
    }

    async fn user_by_email_index(&self, org: OrgId<'_>, index: &[u8]) -> Result<Option<UserRow>> {
        self.one(&format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email_index = $2"), &[&org.0, &index], user_row).await
    }

    async fn users(&self, org: OrgId<'_>) -> Result<Vec<UserRow>> {
        self.all(&format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY created_at, id"), &[&org.0], user_row).await
    }

    async fn picture(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<Vec<u8>>> {
        let found: Option<Option<Vec<u8>>> = self.one("SELECT picture FROM users WHERE org_id = $1 AND id = $2", &[&org.0, &user_id], |r| Ok(r.try_get(0)?)).await?;
        Ok(found.flatten())
    }

    async fn set_picture(&self, org: OrgId<'_>, user_id: &str, picture: Option<&[u8]>, now: i64) -> Result<bool> {
        let sql = "UPDATE users SET picture = $3, updated_at = $4 WHERE org_id = $1 AND id = $2";
        Ok(self.execute(sql, &[&org.0, &user_id, &picture, &now]).await? == 1)
    }

    async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        let sql = "INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        self.execute(sql, &[&s.token_hash, &s.org_id, &s.user_id, &s.created_at, &s.expires_at]).await.map(drop)
    }

    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>> {
        self.one("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2", &[&token_hash, &now], session_row).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash]).await.map(drop)
    }

    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2", &[&org.0, &user_id]).await.map(drop)
    }

    async fn insert_token(&self, t: &TokenRow) -> Result<()> {
        let sql = "INSERT INTO one_time_tokens (token_hash, org_id, purpose, subject, created_at, expires_at, used_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.execute(sql, &[&t.token_hash, &t.org_id, &t.purpose, &t.subject, &t.created_at, &t.expires_at, &t.used_at]).await.map(drop)
    }

    async fn redeem_token(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<Option<TokenRow>> {
        // A single conditional UPDATE makes redemption atomic: a second caller matches no row
        // (under READ COMMITTED it waits for the first, re-checks `used_at` and skips the row).
        let sql = "UPDATE one_time_tokens SET used_at = $3
                   WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING *";
        self.one(sql, &[&token_hash, &purpose, &now], token_row).await
    }

    async fn token_valid(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<bool> {
        let sql = "SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3";
        Ok(self.one(sql, &[&token_hash, &purpose, &now], |_| Ok(())).await?.is_some())
    }

    async fn insert_access(&self, e: &AccessRow) -> Result<()> {
        let sql = "INSERT INTO access_log (id, org_id, user_id, at, details) VALUES ($1, $2, $3, $4, $5)";
        self.execute(sql, &[&e.id, &e.org_id, &e.user_id, &e.at, &e.details]).await.map(drop)
    }

    async fn user_access(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<AccessRow>> {
        // Entries of the same millisecond: the later insert first, as SQLite's rowid order gives.
        let sql = "SELECT * FROM access_log WHERE org_id = $1 AND user_id = $2 ORDER BY at DESC, ctid DESC";
        self.all(sql, &[&org.0, &user_id], access_row).await
    }

    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>> {
        export::org_snapshot(self, org.0, now).await
    }

    async fn ping(&self) -> Result<()> {
        self.one("SELECT 1", &[], |_| Ok(())).await.map(drop)
    }
}
