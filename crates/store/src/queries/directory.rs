//! Organisations, their wrapped keys and the settings of the `meta` table; users, their sealed profiles and pictures ([`crate::DirectoryStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{Reader, boxed, conflict, params};
use crate::*;

row!(org_row, ORG_COLUMNS, OrgRow { id, slug, name, profile_mode, language, support_email, created_at, sfu_threshold });
row!(key_row, KEY_COLUMNS, OrgKeyRow { org_id, kind, version, wrapped, created_at });

/// The columns [`user_row`] reads, in its order (the picture itself is read on its own).
const USER_COLUMNS: &str = "id, org_id, email_index, role, rights, active, profile, picture IS NOT NULL AS has_picture,
     password_hash, restricted, objections, created_at, updated_at, must_change_password";

/// Reads a row of [`USER_COLUMNS`].
fn user_row(r: &mut Reader) -> Result<UserRow> {
    Ok(UserRow {
        id: r.get()?,
        org_id: r.get()?,
        email_index: r.get()?,
        role: r.get()?,
        rights: r.get()?,
        active: r.get()?,
        profile: r.get()?,
        has_picture: r.get()?,
        password_hash: r.get()?,
        restricted: r.get()?,
        objections: r.get()?,
        created_at: r.get()?,
        updated_at: r.get()?,
        must_change_password: r.get()?,
    })
}

/// Another active administrator of organisation `$1` than user `$2` exists.
pub(crate) const ANOTHER_ADMIN: &str = "EXISTS (SELECT 1 FROM users o WHERE o.org_id = $1 AND o.id <> $2 AND o.role = 'admin' AND o.active = 1)";

/// The organisation's active administrators, to lock for the last-administrator rule (`$1`).
pub(crate) const ADMINS: &str = "SELECT id FROM users WHERE org_id = $1 AND role = 'admin' AND active = 1";

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.db.one("SELECT value FROM meta WHERE key = $1", params![key], |r| r.get()).await
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.db.execute(sql, params![key, value]).await.map(drop)
    }

    async fn create_org(&self, org: &OrgRow, keys: &[OrgKeyRow]) -> Result<()> {
        let (org, keys) = (org.clone(), keys.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO orgs (id, slug, name, profile_mode, language, support_email, created_at, sfu_threshold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
                    tx.execute(sql, params![org.id, org.slug, org.name, org.profile_mode, org.language, org.support_email, org.created_at, org.sfu_threshold])
                        .await
                        .map_err(conflict("organisation slug"))?;
                    for k in &keys {
                        let sql = "INSERT INTO org_keys (org_id, kind, version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)";
                        tx.execute(sql, params![k.org_id, k.kind, k.version, k.wrapped, k.created_at]).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn orgs(&self) -> Result<Vec<OrgRow>> {
        self.db.all(format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY created_at, id"), params![], org_row).await
    }

    async fn org(&self, org: OrgId<'_>) -> Result<Option<OrgRow>> {
        self.db.one(format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = $1"), params![org.0], org_row).await
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<OrgRow>> {
        self.db.one(format!("SELECT {ORG_COLUMNS} FROM orgs WHERE slug = $1"), params![slug], org_row).await
    }

    async fn update_org(&self, o: &OrgRow) -> Result<()> {
        let sql = "UPDATE orgs SET name = $2, profile_mode = $3, language = $4, support_email = $5, sfu_threshold = $6 WHERE id = $1";
        self.db.execute(sql, params![o.id, o.name, o.profile_mode, o.language, o.support_email, o.sfu_threshold]).await.map(drop)
    }

    async fn org_keys(&self, org: OrgId<'_>) -> Result<Vec<OrgKeyRow>> {
        self.db.all(format!("SELECT {KEY_COLUMNS} FROM org_keys WHERE org_id = $1 ORDER BY kind, version"), params![org.0], key_row).await
    }

    async fn all_org_keys(&self) -> Result<Vec<OrgKeyRow>> {
        self.db.all(format!("SELECT {KEY_COLUMNS} FROM org_keys ORDER BY org_id, kind, version"), params![], key_row).await
    }

    async fn rewrap_keys(&self, keys: &[OrgKeyRow], master_check: &[u8]) -> Result<()> {
        let (keys, check) = (keys.to_vec(), master_check.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    for k in &keys {
                        let sql = "UPDATE org_keys SET wrapped = $4 WHERE org_id = $1 AND kind = $2 AND version = $3";
                        tx.execute(sql, params![k.org_id, k.kind, k.version, k.wrapped]).await?;
                    }
                    let sql = "INSERT INTO meta (key, value) VALUES ('master_check', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
                    tx.execute(sql, params![check]).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn insert_user(&self, u: &UserRow) -> Result<()> {
        let sql = "INSERT INTO users (id, org_id, email_index, role, rights, active, profile, password_hash, restricted, objections, created_at, updated_at, must_change_password)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        let values = params![u.id, u.org_id, u.email_index, u.role, u.rights, u.active, u.profile, u.password_hash, u.restricted, u.objections, u.created_at, u.updated_at, u.must_change_password];
        self.db.execute(sql, values).await.map_err(conflict("email")).map(drop)
    }

    async fn update_user(&self, u: &UserRow) -> Result<bool> {
        let u = u.clone();
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    // The organisation's administrators locked first: two transactions demoting
                    // two of them wait for each other, and the second sees the first's change.
                    tx.lock(ADMINS, params![u.org_id]).await?;
                    let sql = format!(
                        "UPDATE users SET email_index = $3, role = $4, rights = $5, active = $6, profile = $7,
                         password_hash = $8, restricted = $9, objections = $10, updated_at = $11
                         WHERE org_id = $1 AND id = $2 AND (NOT (role = 'admin' AND active = 1) OR $4 = 'admin' AND $6 = 1 OR {ANOTHER_ADMIN})"
                    );
                    let values = params![u.org_id, u.id, u.email_index, u.role, u.rights, u.active, u.profile, u.password_hash, u.restricted, u.objections, u.updated_at];
                    let changed = tx.execute(&sql, values).await.map_err(conflict("email"))?;
                    if changed == 0 && tx.one("SELECT 1 FROM users WHERE org_id = $1 AND id = $2", params![u.org_id, u.id], |_| Ok(())).await?.is_some() {
                        return Err(StoreError::LastAdmin);
                    }
                    Ok(changed == 1)
                })
            })
            .await
    }

    async fn user(&self, org: OrgId<'_>, id: &str) -> Result<Option<UserRow>> {
        self.db.one(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2"), params![org.0, id], user_row).await
    }

    async fn user_by_email_index(&self, org: OrgId<'_>, index: &[u8]) -> Result<Option<UserRow>> {
        self.db.one(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email_index = $2"), params![org.0, index], user_row).await
    }

    async fn users(&self, org: OrgId<'_>) -> Result<Vec<UserRow>> {
        self.db.all(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY created_at, id"), params![org.0], user_row).await
    }

    async fn picture(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<Vec<u8>>> {
        let found: Option<Option<Vec<u8>>> = self.db.one("SELECT picture FROM users WHERE org_id = $1 AND id = $2", params![org.0, user_id], |r| r.get()).await?;
        Ok(found.flatten())
    }

    async fn set_picture(&self, org: OrgId<'_>, user_id: &str, picture: Option<&[u8]>, now: i64) -> Result<bool> {
        let sql = "UPDATE users SET picture = $3, updated_at = $4 WHERE org_id = $1 AND id = $2";
        Ok(self.db.execute(sql, params![org.0, user_id, picture, now]).await? == 1)
    }
}
