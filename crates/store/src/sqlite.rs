//! The SQLite backend: one file in the data folder, WAL mode, migrations embedded in the binary.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};

use crate::{AccessRow, OrgId, OrgKeyRow, OrgRow, Result, SessionRow, Store, StoreError, TokenRow, UserRow};

/// The SQLite implementation of [`Store`].
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options, 4).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<Self> {
        // Switching a new database to WAL needs an exclusive lock and SQLite does not wait for it
        // (no busy handler), so the pool's connections racing to open a fresh file could fail
        // with "database is locked". One connection sets WAL and migrates before the pool opens.
        let mut first = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("migrations/sqlite").run(&mut first).await?;
        first.close().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    /// Folds the write-ahead log into the main file (used before backups and by tests that
    /// inspect the raw file).
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn conflict_on_unique(err: sqlx::Error, what: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(err),
    }
}

fn org_row(row: &SqliteRow) -> Result<OrgRow> {
    Ok(OrgRow {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        profile_mode: row.try_get("profile_mode")?,
        created_at: row.try_get("created_at")?,
    })
}

fn key_row(row: &SqliteRow) -> Result<OrgKeyRow> {
    let version: i64 = row.try_get("version")?;
    Ok(OrgKeyRow {
        org_id: row.try_get("org_id")?,
        kind: row.try_get("kind")?,
        version: u32::try_from(version).map_err(|_| StoreError::Malformed("key version"))?,
        wrapped: row.try_get("wrapped")?,
        created_at: row.try_get("created_at")?,
    })
}

fn user_row(row: &SqliteRow) -> Result<UserRow> {
    Ok(UserRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email_index: row.try_get("email_index")?,
        role: row.try_get("role")?,
        rights: row.try_get("rights")?,
        active: row.try_get("active")?,
        profile: row.try_get("profile")?,
        has_picture: row.try_get("has_picture")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn session_row(row: &SqliteRow) -> Result<SessionRow> {
    Ok(SessionRow {
        token_hash: row.try_get("token_hash")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn token_row(row: &SqliteRow) -> Result<TokenRow> {
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

fn access_row(row: &SqliteRow) -> Result<AccessRow> {
    Ok(AccessRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        at: row.try_get("at")?,
        details: row.try_get("details")?,
    })
}

const USER_COLUMNS: &str = "id, org_id, email_index, role, rights, active, profile, picture IS NOT NULL AS has_picture,
     password_hash, created_at, updated_at";

#[async_trait]
impl Store for SqliteStore {
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_org(&self, org: &OrgRow, keys: &[OrgKeyRow]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO orgs (id, slug, name, profile_mode, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(&org.profile_mode)
            .bind(org.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, "organisation slug"))?;
        for key in keys {
            sqlx::query("INSERT INTO org_keys (org_id, kind, version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&key.org_id)
                .bind(&key.kind)
                .bind(i64::from(key.version))
                .bind(&key.wrapped)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn orgs(&self) -> Result<Vec<OrgRow>> {
        let rows = sqlx::query("SELECT * FROM orgs ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(org_row).collect()
    }

    async fn org(&self, org: OrgId<'_>) -> Result<Option<OrgRow>> {
        let row = sqlx::query("SELECT * FROM orgs WHERE id = $1").bind(org.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(org_row).transpose()
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<OrgRow>> {
        let row = sqlx::query("SELECT * FROM orgs WHERE slug = $1").bind(slug).fetch_optional(&self.pool).await?;
        row.as_ref().map(org_row).transpose()
    }

    async fn update_org(&self, org: &OrgRow) -> Result<()> {
        sqlx::query("UPDATE orgs SET name = $2, profile_mode = $3 WHERE id = $1")
            .bind(&org.id)
            .bind(&org.name)
            .bind(&org.profile_mode)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn org_keys(&self, org: OrgId<'_>) -> Result<Vec<OrgKeyRow>> {
        let rows = sqlx::query("SELECT * FROM org_keys WHERE org_id = $1 ORDER BY kind, version")
            .bind(org.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key_row).collect()
    }

    async fn all_org_keys(&self) -> Result<Vec<OrgKeyRow>> {
        let rows = sqlx::query("SELECT * FROM org_keys ORDER BY org_id, kind, version").fetch_all(&self.pool).await?;
        rows.iter().map(key_row).collect()
    }

    async fn rewrap_keys(&self, keys: &[OrgKeyRow], master_check: &[u8]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query("UPDATE org_keys SET wrapped = $4 WHERE org_id = $1 AND kind = $2 AND version = $3")
                .bind(&key.org_id)
                .bind(&key.kind)
                .bind(i64::from(key.version))
                .bind(&key.wrapped)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('master_check', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(master_check)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_user(&self, user: &UserRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, org_id, email_index, role, rights, active, profile, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&user.id)
        .bind(&user.org_id)
        .bind(&user.email_index)
        .bind(&user.role)
        .bind(&user.rights)
        .bind(user.active)
        .bind(&user.profile)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .bind(user.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, "email"))?;
        Ok(())
    }

    async fn update_user(&self, user: &UserRow) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET email_index = $3, role = $4, rights = $5, active = $6, profile = $7,
             password_hash = $8, updated_at = $9 WHERE org_id = $1 AND id = $2",
        )
        .bind(&user.org_id)
        .bind(&user.id)
        .bind(&user.email_index)
        .bind(&user.role)
        .bind(&user.rights)
        .bind(user.active)
        .bind(&user.profile)
        .bind(&user.password_hash)
        .bind(user.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, "email"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn user(&self, org: OrgId<'_>, id: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.0).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn user_by_email_index(&self, org: OrgId<'_>, index: &[u8]) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email_index = $2");
        let row = sqlx::query(&sql).bind(org.0).bind(index).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn users(&self, org: OrgId<'_>) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql).bind(org.0).fetch_all(&self.pool).await?;
        rows.iter().map(user_row).collect()
    }

    async fn picture(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT picture FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<Option<Vec<u8>>, _>("picture")).transpose()?.flatten())
    }

    async fn set_picture(&self, org: OrgId<'_>, user_id: &str, picture: Option<&[u8]>, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET picture = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(user_id)
            .bind(picture)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_session(&self, session: &SessionRow) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&session.token_hash)
            .bind(&session.org_id)
            .bind(&session.user_id)
            .bind(session.created_at)
            .bind(session.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_row).transpose()
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_token(&self, token: &TokenRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, org_id, purpose, subject, created_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.token_hash)
        .bind(&token.org_id)
        .bind(&token.purpose)
        .bind(&token.subject)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.used_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn redeem_token(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<Option<TokenRow>> {
        // A single conditional UPDATE makes redemption atomic: a second caller matches no row.
        let row = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $3
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING *",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    async fn token_valid(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn insert_access(&self, entry: &AccessRow) -> Result<()> {
        sqlx::query("INSERT INTO access_log (id, org_id, user_id, at, details) VALUES ($1, $2, $3, $4, $5)")
            .bind(&entry.id)
            .bind(&entry.org_id)
            .bind(&entry.user_id)
            .bind(entry.at)
            .bind(&entry.details)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user_access(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<AccessRow>> {
        let rows = sqlx::query("SELECT * FROM access_log WHERE org_id = $1 AND user_id = $2 ORDER BY at DESC")
            .bind(org.0)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(access_row).collect()
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
