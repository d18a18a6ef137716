//! The SQLite implementation of [`TwoFactorStore`].

use async_trait::async_trait;
use rusqlite::{Row, params};

use super::{SqliteStore, one};
use crate::two_factor::{ChallengeRow, TwoFactorRow, TwoFactorStore};
use crate::{OrgId, Result};

fn two_factor_row(row: &Row<'_>) -> rusqlite::Result<TwoFactorRow> {
    Ok(TwoFactorRow {
        user_id: row.get("user_id")?,
        org_id: row.get("org_id")?,
        totp_secret: row.get("totp_secret")?,
        totp_pending: row.get("totp_pending")?,
        totp_last_step: row.get("totp_last_step")?,
        phone: row.get("phone")?,
        phone_pending: row.get("phone_pending")?,
        phone_code: row.get("phone_code")?,
        phone_code_expires_at: row.get("phone_code_expires_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn challenge_row(row: &Row<'_>) -> rusqlite::Result<ChallengeRow> {
    Ok(ChallengeRow {
        token_hash: row.get("token_hash")?,
        org_id: row.get("org_id")?,
        user_id: row.get("user_id")?,
        purpose: row.get("purpose")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        failures: row.get("failures")?,
        sms_code: row.get("sms_code")?,
        sms_sent: row.get("sms_sent")?,
        used_at: row.get("used_at")?,
    })
}

#[async_trait]
impl TwoFactorStore for SqliteStore {
    async fn two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<TwoFactorRow>> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| one(c, "SELECT * FROM two_factor WHERE org_id = ?1 AND user_id = ?2", [&org, &id], two_factor_row)).await
    }

    async fn put_two_factor(&self, row: &TwoFactorRow) -> Result<()> {
        let r = row.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO two_factor (user_id, org_id, totp_secret, totp_pending, totp_last_step, phone, phone_pending,
                     phone_code, phone_code_expires_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_pending = excluded.totp_pending,
                     totp_last_step = max(two_factor.totp_last_step, excluded.totp_last_step), phone = excluded.phone,
                     phone_pending = excluded.phone_pending, phone_code = excluded.phone_code,
                     phone_code_expires_at = excluded.phone_code_expires_at, updated_at = excluded.updated_at
                 WHERE two_factor.org_id = excluded.org_id",
            )?
            .execute(params![
                r.user_id,
                r.org_id,
                r.totp_secret,
                r.totp_pending,
                r.totp_last_step,
                r.phone,
                r.phone_pending,
                r.phone_code,
                r.phone_code_expires_at,
                r.updated_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn delete_two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM two_factor WHERE org_id = ?1 AND user_id = ?2", [&org, &id])?;
            tx.execute("DELETE FROM recovery_codes WHERE org_id = ?1 AND user_id = ?2", [&org, &id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn advance_totp_step(&self, org: OrgId<'_>, user_id: &str, step: i64) -> Result<bool> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE two_factor SET totp_last_step = ?3 WHERE org_id = ?1 AND user_id = ?2 AND totp_last_step < ?3")?
                .execute(params![org, id, step])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn replace_recovery_codes(&self, org: OrgId<'_>, user_id: &str, hashes: &[Vec<u8>]) -> Result<()> {
        let (org, id, hashes) = (org.0.to_owned(), user_id.to_owned(), hashes.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM recovery_codes WHERE org_id = ?1 AND user_id = ?2", [&org, &id])?;
            for hash in &hashes {
                tx.execute("INSERT OR IGNORE INTO recovery_codes (user_id, org_id, code_hash) VALUES (?1, ?2, ?3)", params![id, org, hash])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn use_recovery_code(&self, org: OrgId<'_>, user_id: &str, hash: &[u8], now: i64) -> Result<bool> {
        let (org, id, hash) = (org.0.to_owned(), user_id.to_owned(), hash.to_owned());
        self.with(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE recovery_codes SET used_at = ?4 WHERE org_id = ?1 AND user_id = ?2 AND code_hash = ?3 AND used_at IS NULL",
                )?
                .execute(params![org, id, hash, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn recovery_codes_left(&self, org: OrgId<'_>, user_id: &str) -> Result<i64> {
        let (org, id) = (org.0.to_owned(), user_id.to_owned());
        let sql = "SELECT count(*) FROM recovery_codes WHERE org_id = ?1 AND user_id = ?2 AND used_at IS NULL";
        Ok(self.with(move |c| one(c, sql, [&org, &id], |r| r.get(0))).await?.unwrap_or(0))
    }

    async fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()> {
        let ch = challenge.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO two_factor_challenges (token_hash, org_id, user_id, purpose, created_at, expires_at, failures, sms_code, sms_sent, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![ch.token_hash, ch.org_id, ch.user_id, ch.purpose, ch.created_at, ch.expires_at, ch.failures, ch.sms_code, ch.sms_sent, ch.used_at])?;
            // Expired challenges are of no use to anyone: sweep them while we are here.
            c.prepare_cached("DELETE FROM two_factor_challenges WHERE expires_at < ?1")?.execute([ch.created_at])?;
            Ok(())
        })
        .await
    }

    async fn challenge(&self, token_hash: &[u8], now: i64) -> Result<Option<ChallengeRow>> {
        let hash = token_hash.to_owned();
        let sql = "SELECT * FROM two_factor_challenges WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2";
        self.with(move |c| one(c, sql, params![hash, now], challenge_row)).await
    }

    async fn challenge_failed(&self, token_hash: &[u8]) -> Result<i64> {
        let hash = token_hash.to_owned();
        let sql = "UPDATE two_factor_challenges SET failures = failures + 1 WHERE token_hash = ?1 RETURNING failures";
        Ok(self.with(move |c| one(c, sql, [hash], |r| r.get(0))).await?.unwrap_or(i64::MAX))
    }

    async fn challenge_sms_sent(&self, token_hash: &[u8], code_hash: &[u8]) -> Result<()> {
        let (hash, code) = (token_hash.to_owned(), code_hash.to_owned());
        self.with(move |c| {
            c.prepare_cached("UPDATE two_factor_challenges SET sms_code = ?2, sms_sent = sms_sent + 1 WHERE token_hash = ?1")?
                .execute(params![hash, code])?;
            Ok(())
        })
        .await
    }

    async fn finish_challenge(&self, token_hash: &[u8], now: i64) -> Result<bool> {
        let hash = token_hash.to_owned();
        self.with(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE two_factor_challenges SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                )?
                .execute(params![hash, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn org_requires_two_factor(&self, org: OrgId<'_>) -> Result<bool> {
        let org = org.0.to_owned();
        let found: Option<bool> = self.with(move |c| one(c, "SELECT required FROM org_two_factor WHERE org_id = ?1", [&org], |r| r.get(0))).await?;
        Ok(found.unwrap_or(false))
    }

    async fn set_org_requires_two_factor(&self, org: OrgId<'_>, required: bool) -> Result<()> {
        let org = org.0.to_owned();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO org_two_factor (org_id, required) VALUES (?1, ?2) ON CONFLICT (org_id) DO UPDATE SET required = excluded.required",
            )?
            .execute(params![org, required])?;
            Ok(())
        })
        .await
    }
}
