//! Sign-in: sessions, one-time tokens (setup links) and the access log ([`crate::AccountsStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, params};
use crate::*;

row!(session_row, SESSION_COLUMNS, SessionRow { token_hash, org_id, user_id, created_at, expires_at });
row!(token_row, TOKEN_COLUMNS, TokenRow { token_hash, org_id, purpose, subject, created_at, expires_at, used_at });
row!(access_row, ACCESS_COLUMNS, AccessRow { id, org_id, user_id, at, details });

#[async_trait]
impl AccountsStore for SqlStore {
    async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        let sql = "INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        self.db.execute(sql, params![s.token_hash, s.org_id, s.user_id, s.created_at, s.expires_at]).await.map(drop)
    }

    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1 AND expires_at > $2");
        self.db.one(sql, params![token_hash, now], session_row).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE token_hash = $1", params![token_hash]).await.map(drop)
    }

    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2", params![org.0, user_id]).await.map(drop)
    }

    async fn set_password(&self, org: OrgId<'_>, user_id: &str, password_hash: &str, must_change: bool, keep: Option<&[u8]>, now: i64) -> Result<bool> {
        let (org_id, user_id, hash, keep) = (org.0.to_owned(), user_id.to_owned(), password_hash.to_owned(), keep.map(<[u8]>::to_vec));
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "UPDATE users SET password_hash = $3, must_change_password = $4, updated_at = $5 WHERE org_id = $1 AND id = $2 AND role <> 'guest'";
                    if tx.execute(sql, params![org_id, user_id, hash, must_change, now]).await? != 1 {
                        return Ok(false);
                    }
                    // Whoever knew the old password is signed out everywhere else.
                    let sql = "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND token_hash <> $3";
                    tx.execute(sql, params![org_id, user_id, keep.unwrap_or_default()]).await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn insert_token(&self, t: &TokenRow) -> Result<()> {
        let sql = "INSERT INTO one_time_tokens (token_hash, org_id, purpose, subject, created_at, expires_at, used_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.db.execute(sql, params![t.token_hash, t.org_id, t.purpose, t.subject, t.created_at, t.expires_at, t.used_at]).await.map(drop)
    }

    async fn redeem_token(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<Option<TokenRow>> {
        // A single conditional UPDATE makes redemption atomic: a second caller matches no row
        // (PostgreSQL, under READ COMMITTED, waits for the first, re-checks `used_at` and skips).
        let sql = format!(
            "UPDATE one_time_tokens SET used_at = $3
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING {TOKEN_COLUMNS}"
        );
        self.db.one(sql, params![token_hash, purpose, now], token_row).await
    }

    async fn token_valid(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<bool> {
        let sql = "SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3";
        Ok(self.db.one(sql, params![token_hash, purpose, now], |_| Ok(())).await?.is_some())
    }

    async fn insert_access(&self, e: &AccessRow) -> Result<()> {
        let sql = "INSERT INTO access_log (id, org_id, user_id, at, details) VALUES ($1, $2, $3, $4, $5)";
        self.db.execute(sql, params![e.id, e.org_id, e.user_id, e.at, e.details]).await.map(drop)
    }

    async fn user_access(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<AccessRow>> {
        // Entries of the same millisecond: the later insert first.
        let order = self.db.engine().insertion_order();
        let sql = format!("SELECT {ACCESS_COLUMNS} FROM access_log WHERE org_id = $1 AND user_id = $2 ORDER BY at DESC, {order} DESC");
        self.db.all(sql, params![org.0, user_id], access_row).await
    }
}
