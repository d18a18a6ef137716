//! The SQLite backend: one file in the data folder, WAL mode, migrations embedded in the binary.
//!
//! SQLite is synchronous, so every operation runs on Tokio's blocking pool with a connection
//! taken from a small pool: WAL lets readers proceed while one writer writes, and the busy
//! timeout makes concurrent writers wait instead of failing. Statements are prepared once per
//! connection and cached.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::Semaphore;

mod joining;
mod office;
mod privacy;
mod two_factor;

use crate::{
    AccessRow, AuditRow, CallLogRow, ConsentRow, GuestLinkRow, GuestRow, InvitationRow, LegalRow, OrgId, OrgKeyRow, OrgRow, PrivacyRequestRow, Purge, Purged, RegistrationRow, Result,
    RoomRow, SessionRow, Store, StoreError, TicketRow, TokenRow, TransferRow, UserRow,
};

/// Connections kept open at most (readers run in parallel; writes serialise in SQLite).
const CONNECTIONS: usize = 4;

/// The migrations, in order. A migration is never edited once released: add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_live_office.sql")),
    (3, include_str!("../migrations/sqlite/0003_joining.sql")),
    (4, include_str!("../migrations/sqlite/0004_two_factor.sql")),
    (5, include_str!("../migrations/sqlite/0005_privacy.sql")),
    (6, include_str!("../migrations/sqlite/0006_legal.sql")),
    (7, include_str!("../migrations/sqlite/0007_consent.sql")),
    (8, include_str!("../migrations/sqlite/0008_guests.sql")),
    (9, include_str!("../migrations/sqlite/0009_directory_order.sql")),
    (10, include_str!("../migrations/sqlite/0010_guest_link_limits.sql")),
];

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
}

struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.pool.path).finish()
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Deleted rows are overwritten with zeros, so expired or erased data leaves the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.set_prepared_statement_cache_capacity(64);
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

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let owned = path.to_owned();
        let first = tokio::task::spawn_blocking(move || {
            let mut conn = open_connection(&owned)?;
            migrate(&mut conn)?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .await
        .map_err(|_| StoreError::Malformed("migration task failed"))??;
        let pool = Pool { path: path.to_owned(), idle: Mutex::new(vec![first]), permits: Arc::new(Semaphore::new(CONNECTIONS)) };
        Ok(SqliteStore { pool: Arc::new(pool) })
    }

    /// Runs `work` on a pooled connection on the blocking thread pool.
    async fn with<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let permit = self.pool.permits.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().ok().and_then(|mut idle| idle.pop());
            let mut conn = match taken {
                Some(conn) => conn,
                None => open_connection(&pool.path)?,
            };
            let result = work(&mut conn);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(conn);
            }
            drop(permit);
            result
        })
        .await
        .map_err(|_| StoreError::Malformed("database task failed"))?
    }

    /// Folds the write-ahead log into the main file (used before backups and by tests that
    /// inspect the raw file).
    pub async fn checkpoint(&self) -> Result<()> {
        self.with(|conn| Ok(conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?)).await
    }

    /// Closes every idle connection; later calls reopen them.
    pub async fn close(&self) {
        let permits = self.pool.permits.clone();
        if let Ok(all) = permits.acquire_many(CONNECTIONS as u32).await {
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.clear();
            }
            drop(all);
        }
    }
}

fn conflict_on_unique(err: rusqlite::Error, what: &'static str) -> StoreError {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(what),
        _ => StoreError::Database(err),
    }
}

fn org_row(row: &Row<'_>) -> rusqlite::Result<OrgRow> {
    Ok(OrgRow {
        id: row.get("id")?,
        slug: row.get("slug")?,
        name: row.get("name")?,
        profile_mode: row.get("profile_mode")?,
        language: row.get("language")?,
        support_email: row.get("support_email")?,
        created_at: row.get("created_at")?,
    })
}

fn key_row(row: &Row<'_>) -> rusqlite::Result<OrgKeyRow> {
    Ok(OrgKeyRow {
        org_id: row.get("org_id")?,
        kind: row.get("kind")?,
        version: row.get("version")?,
        wrapped: row.get("wrapped")?,
        created_at: row.get("created_at")?,
    })
}

/// Reads a row of [`USER_COLUMNS`] by position (the directory reads thousands at once, and
/// looking columns up by name was a measurable part of it).
fn user_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: row.get(0)?,
        org_id: row.get(1)?,
        email_index: row.get(2)?,
        role: row.get(3)?,
        rights: row.get(4)?,
        active: row.get(5)?,
        profile: row.get(6)?,
        has_picture: row.get(7)?,
        password_hash: row.get(8)?,
        restricted: row.get(9)?,
        objections: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
    })
}

fn session_row(row: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        token_hash: row.get("token_hash")?,
        org_id: row.get("org_id")?,
        user_id: row.get("user_id")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
    })
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        token_hash: row.get("token_hash")?,
        org_id: row.get("org_id")?,
        purpose: row.get("purpose")?,
        subject: row.get("subject")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        used_at: row.get("used_at")?,
    })
}

fn access_row(row: &Row<'_>) -> rusqlite::Result<AccessRow> {
    Ok(AccessRow {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        user_id: row.get("user_id")?,
        at: row.get("at")?,
        details: row.get("details")?,
    })
}

fn room_row(row: &Row<'_>) -> rusqlite::Result<RoomRow> {
    Ok(RoomRow {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        kind: row.get("kind")?,
        capacity: row.get("capacity")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
    })
}

fn invitation_row(row: &Row<'_>) -> rusqlite::Result<InvitationRow> {
    Ok(InvitationRow {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        token_hash: row.get("token_hash")?,
        email_index: row.get("email_index")?,
        role: row.get("role")?,
        details: row.get("details")?,
        invited_by: row.get("invited_by")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        used_at: row.get("used_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

fn ticket_row(row: &Row<'_>) -> rusqlite::Result<TicketRow> {
    Ok(TicketRow {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        user_id: row.get("user_id")?,
        status: row.get("status")?,
        details: row.get("details")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        resolved_at: row.get("resolved_at")?,
    })
}

/// A random id from SQLite's generator (inside the erasing transaction).
fn uuid_like(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<String> {
    tx.query_row("SELECT lower(hex(randomblob(8)))", [], |r| r.get(0))
}

/// The columns [`user_row`] reads, in its order.
/// Another active administrator of organisation `?1` than user `?2` exists.
pub(crate) const ANOTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM users o WHERE o.org_id = ?1 AND o.id <> ?2 AND o.role = 'admin' AND o.active = 1)";

const USER_COLUMNS: &str = "id, org_id, email_index, role, rights, active, profile, picture IS NOT NULL AS has_picture,
     password_hash, restricted, objections, created_at, updated_at";

/// Runs a query and collects every row.
fn all<T>(conn: &Connection, sql: &str, params: impl rusqlite::Params, map: fn(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, map)?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// Runs a query and returns its first row, if any.
fn one<T>(conn: &Connection, sql: &str, params: impl rusqlite::Params, map: fn(&Row<'_>) -> rusqlite::Result<T>) -> Result<Option<T>> {
    Ok(conn.prepare_cached(sql)?.query_row(params, map).optional()?)
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let key = key.to_owned();
        self.with(move |c| one(c, "SELECT value FROM meta WHERE key = ?1", [&key], |r| r.get(0))).await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with(move |c| {
            c.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
                .execute(params![key, value])?;
            Ok(())
        })
        .await
    }

    async fn create_org(&self, org: &OrgRow, keys: &[OrgKeyRow]) -> Result<()> {
        let (org, keys) = (org.clone(), keys.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO orgs (id, slug, name, profile_mode, language, support_email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![org.id, org.slug, org.name, org.profile_mode, org.language, org.support_email, org.created_at],
            )
            .map_err(|e| conflict_on_unique(e, "organisation slug"))?;
            for key in &keys {
                tx.execute(
                    "INSERT INTO org_keys (org_id, kind, version, wrapped, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![key.org_id, key.kind, key.version, key.wrapped, key.created_at],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn orgs(&self) -> Result<Vec<OrgRow>> {
        self.with(|c| all(c, "SELECT * FROM orgs ORDER BY created_at, id", [], org_row)).await
    }

    async fn org(&self, org: OrgId<'_>) -> Result<Option<OrgRow>> {
        let id = org.0.to_owned();
        self.with(move |c| one(c, "SELECT * FROM orgs WHERE id = ?1", [&id], org_row)).await
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<OrgRow>> {
        let slug = slug.to_owned();
        self.with(move |c| one(c, "SELECT * FROM orgs WHERE slug = ?1", [&slug], org_row)).await
    }

    async fn update_org(&self, org: &OrgRow) -> Result<()> {
        let org = org.clone();
        self.with(move |c| {
            c.prepare_cached("UPDATE orgs SET name = ?2, profile_mode = ?3, language = ?4, support_email = ?5 WHERE id = ?1")?
                .execute(params![org.id, org.name, org.profile_mode, org.language, org.support_email])?;
            Ok(())
        })
        .await
    }

    async fn org_keys(&self, org: OrgId<'_>) -> Result<Vec<OrgKeyRow>> {
        let id = org.0.to_owned();
        self.with(move |c| all(c, "SELECT * FROM org_keys WHERE org_id = ?1 ORDER BY kind, version", [&id], key_row)).await
    }

    async fn all_org_keys(&self) -> Result<Vec<OrgKeyRow>> {
        self.with(|c| all(c, "SELECT * FROM org_keys ORDER BY org_id, kind, version", [], key_row)).await
    }

    async fn rewrap_keys(&self, keys: &[OrgKeyRow], master_check: &[u8]) -> Result<()> {
        let (keys, check) = (keys.to_vec(), master_check.to_owned());
        self.with(move |c| {
            let tx = c.transaction()?;
            for key in &keys {
                tx.execute(
                    "UPDATE org_keys SET wrapped = ?4 WHERE org_id = ?1 AND kind = ?2 AND version = ?3",
                    params![key.org_id, key.kind, key.version, key.wrapped],
                )?;
            }
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('master_check', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [&check],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn insert_user(&self, user: &UserRow) -> Result<()> {
        let u = user.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO users (id, org_id, email_index, role, rights, active, profile, password_hash, restricted, objections, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                u.id, u.org_id, u.email_index, u.role, u.rights, u.active, u.profile, u.password_hash, u.restricted, u.objections,
                u.created_at, u.updated_at
            ])
            .map_err(|e| conflict_on_unique(e, "email"))?;
            Ok(())
        })
        .await
    }

    // One statement: SQLite runs it atomically, so the check and the write cannot be split.
    async fn update_user(&self, user: &UserRow) -> Result<bool> {
        let u = user.clone();
        self.with(move |c| {
            let changed = c
                .prepare_cached(&format!(
                    "UPDATE users SET email_index = ?3, role = ?4, rights = ?5, active = ?6, profile = ?7,
                     password_hash = ?8, restricted = ?9, objections = ?10, updated_at = ?11
                     WHERE org_id = ?1 AND id = ?2 AND (NOT (role = 'admin' AND active = 1) OR ?4 = 'admin' AND ?6 = 1 OR {ANOTHER_ADMIN})"
                ))?
                .execute(params![
                    u.org_id, u.id, u.email_index, u.role, u.rights, u.active, u.profile, u.password_hash, u.restricted, u.objections,
                    u.updated_at
                ])
                .map_err(|e| conflict_on_unique(e, "email"))?;
            if changed == 0 && c.query_row("SELECT 1 FROM users WHERE org_id = ?1 AND id = ?2", [&u.org_id, &u.id], |_| Ok(())).optional()?.is_some() {
                return Err(StoreError::LastAdmin);
            }
            Ok(changed == 1)
        })
        .await
    }

    async fn user(&self, org: OrgId<'_>, id: &str) -> Result<Option<UserRow>> {
        let (org, id) = (org.0.to_owned(), id.to_owned());
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 AND id = ?2");
        self.with(move |c| one(c, &sql, [&org, &id], user_row)).await
    }

    async fn user_by_email_index(&self, org: OrgId<'_>, index: &[u8]) -> Result<Option<UserRow>> {
        let (org, index) = (org.0.to_owned(), index.to_owned());
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 AND email_index = ?2");
        self.with(move |c| one(c, &sql, params![org, index], user_row)).await
    }

    async fn users(&self, org: OrgId<'_>) -> Result<Vec<UserRow>> {
        let org = org.0.to_owned();
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = ?1 ORDER BY created_at, id");
        self.with(move |c| all(c, &sql, [&org], user_row)).await
    }

    async fn picture(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<Vec<u8>>> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        let found: Option<Option<Vec<u8>>> =
            self.with(move |c| one(c, "SELECT picture FROM users WHERE org_id = ?1 AND id = ?2", [&org, &id], |r| r.get(0))).await?;
        Ok(found.flatten())
    }

    async fn set_picture(&self, org: OrgId<'_>, user_id: &str, picture: Option<&[u8]>, now: i64) -> Result<bool> {
        let (org, id, picture) = (org.0.to_owned(), user_id.to_owned(), picture.map(<[u8]>::to_vec));
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE users SET picture = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2")?
                .execute(params![org, id, picture, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn insert_session(&self, session: &SessionRow) -> Result<()> {
        let s = session.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![s.token_hash, s.org_id, s.user_id, s.created_at, s.expires_at])?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>> {
        let hash = token_hash.to_owned();
        self.with(move |c| one(c, "SELECT * FROM sessions WHERE token_hash = ?1 AND expires_at > ?2", params![hash, now], session_row))
            .await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        let hash = token_hash.to_owned();
        self.with(move |c| {
            c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?.execute([hash])?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            c.prepare_cached("DELETE FROM sessions WHERE org_id = ?1 AND user_id = ?2")?.execute([org, id])?;
            Ok(())
        })
        .await
    }

    async fn insert_token(&self, token: &TokenRow) -> Result<()> {
        let t = token.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO one_time_tokens (token_hash, org_id, purpose, subject, created_at, expires_at, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![t.token_hash, t.org_id, t.purpose, t.subject, t.created_at, t.expires_at, t.used_at])?;
            Ok(())
        })
        .await
    }

    async fn redeem_token(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<Option<TokenRow>> {
        let (hash, purpose) = (token_hash.to_owned(), purpose.to_owned());
        // A single conditional UPDATE makes redemption atomic: a second caller matches no row.
        self.with(move |c| {
            one(
                c,
                "UPDATE one_time_tokens SET used_at = ?3
                 WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3 RETURNING *",
                params![hash, purpose, now],
                token_row,
            )
        })
        .await
    }

    async fn token_valid(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<bool> {
        let (hash, purpose) = (token_hash.to_owned(), purpose.to_owned());
        let found: Option<i64> = self
            .with(move |c| {
                one(
                    c,
                    "SELECT 1 FROM one_time_tokens WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3",
                    params![hash, purpose, now],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(found.is_some())
    }

    async fn insert_access(&self, entry: &AccessRow) -> Result<()> {
        let e = entry.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO access_log (id, org_id, user_id, at, details) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![e.id, e.org_id, e.user_id, e.at, e.details])?;
            Ok(())
        })
        .await
    }

    async fn user_access(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<AccessRow>> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| all(c, "SELECT * FROM access_log WHERE org_id = ?1 AND user_id = ?2 ORDER BY at DESC", [&org, &id], access_row))
            .await
    }

    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>> {
        let org_id = org.0.to_owned();
        self.with(move |c| crate::sqlite_export::org_snapshot(c, &org_id, now)).await
    }

    async fn ping(&self) -> Result<()> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }
}
