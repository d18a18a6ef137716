//! Two-factor sign-in: TOTP and SMS settings, recovery codes, sign-in challenges and the
//! organisation's requirement ([`crate::TwoFactorStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, params};
use crate::two_factor::{ChallengeRow, TwoFactorRow, TwoFactorStore};
use crate::{OrgId, Result};

row!(two_factor_row, TWO_FACTOR_COLUMNS, TwoFactorRow { user_id, org_id, totp_secret, totp_pending, totp_last_step, phone, phone_pending, phone_code, phone_code_expires_at, updated_at });
row!(challenge_row, CHALLENGE_COLUMNS, ChallengeRow { token_hash, org_id, user_id, purpose, created_at, expires_at, failures, sms_code, sms_sent, used_at });

#[async_trait]
impl TwoFactorStore for SqlStore {
    async fn two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<TwoFactorRow>> {
        let sql = format!("SELECT {TWO_FACTOR_COLUMNS} FROM two_factor WHERE org_id = $1 AND user_id = $2");
        self.db.one(sql, params![org.0, user_id], two_factor_row).await
    }

    async fn put_two_factor(&self, r: &TwoFactorRow) -> Result<()> {
        // The last TOTP step used never goes back (a replayed code stays refused).
        let sql = "INSERT INTO two_factor (user_id, org_id, totp_secret, totp_pending, totp_last_step, phone, phone_pending,
                       phone_code, phone_code_expires_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                   ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_pending = excluded.totp_pending,
                       totp_last_step = CASE WHEN excluded.totp_last_step > two_factor.totp_last_step
                           THEN excluded.totp_last_step ELSE two_factor.totp_last_step END,
                       phone = excluded.phone, phone_pending = excluded.phone_pending, phone_code = excluded.phone_code,
                       phone_code_expires_at = excluded.phone_code_expires_at, updated_at = excluded.updated_at
                   WHERE two_factor.org_id = excluded.org_id";
        let values = params![r.user_id, r.org_id, r.totp_secret, r.totp_pending, r.totp_last_step, r.phone, r.phone_pending, r.phone_code, r.phone_code_expires_at, r.updated_at];
        self.db.execute(sql, values).await.map(drop)
    }

    async fn delete_two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    tx.execute("DELETE FROM two_factor WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    tx.execute("DELETE FROM recovery_codes WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn advance_totp_step(&self, org: OrgId<'_>, user_id: &str, step: i64) -> Result<bool> {
        let sql = "UPDATE two_factor SET totp_last_step = $3 WHERE org_id = $1 AND user_id = $2 AND totp_last_step < $3";
        Ok(self.db.execute(sql, params![org.0, user_id, step]).await? == 1)
    }

    async fn replace_recovery_codes(&self, org: OrgId<'_>, user_id: &str, hashes: &[Vec<u8>]) -> Result<()> {
        let (org, user, hashes) = (org.0.to_owned(), user_id.to_owned(), hashes.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    tx.execute("DELETE FROM recovery_codes WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    for hash in &hashes {
                        let sql = "INSERT INTO recovery_codes (user_id, org_id, code_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
                        tx.execute(sql, params![user, org, hash]).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn use_recovery_code(&self, org: OrgId<'_>, user_id: &str, hash: &[u8], now: i64) -> Result<bool> {
        let sql = "UPDATE recovery_codes SET used_at = $4 WHERE org_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL";
        Ok(self.db.execute(sql, params![org.0, user_id, hash, now]).await? == 1)
    }

    async fn recovery_codes_left(&self, org: OrgId<'_>, user_id: &str) -> Result<i64> {
        let sql = "SELECT count(*) FROM recovery_codes WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL";
        Ok(self.db.one(sql, params![org.0, user_id], |r| r.get()).await?.unwrap_or(0))
    }

    async fn insert_challenge(&self, ch: &ChallengeRow) -> Result<()> {
        let sql = "INSERT INTO two_factor_challenges (token_hash, org_id, user_id, purpose, created_at, expires_at, failures, sms_code, sms_sent, used_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let values = params![ch.token_hash, ch.org_id, ch.user_id, ch.purpose, ch.created_at, ch.expires_at, ch.failures, ch.sms_code, ch.sms_sent, ch.used_at];
        self.db.execute(sql, values).await?;
        // Expired challenges are of no use to anyone: sweep them while we are here.
        self.db.execute("DELETE FROM two_factor_challenges WHERE expires_at < $1", params![ch.created_at]).await.map(drop)
    }

    async fn challenge(&self, token_hash: &[u8], now: i64) -> Result<Option<ChallengeRow>> {
        let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM two_factor_challenges WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2");
        self.db.one(sql, params![token_hash, now], challenge_row).await
    }

    async fn challenge_failed(&self, token_hash: &[u8]) -> Result<i64> {
        let sql = "UPDATE two_factor_challenges SET failures = failures + 1 WHERE token_hash = $1 RETURNING failures";
        Ok(self.db.one(sql, params![token_hash], |r| r.get()).await?.unwrap_or(i64::MAX))
    }

    async fn challenge_sms_sent(&self, token_hash: &[u8], code_hash: &[u8]) -> Result<()> {
        let sql = "UPDATE two_factor_challenges SET sms_code = $2, sms_sent = sms_sent + 1 WHERE token_hash = $1";
        self.db.execute(sql, params![token_hash, code_hash]).await.map(drop)
    }

    async fn finish_challenge(&self, token_hash: &[u8], now: i64) -> Result<bool> {
        let sql = "UPDATE two_factor_challenges SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        Ok(self.db.execute(sql, params![token_hash, now]).await? == 1)
    }

    async fn org_requires_two_factor(&self, org: OrgId<'_>) -> Result<bool> {
        Ok(self.db.one("SELECT required FROM org_two_factor WHERE org_id = $1", params![org.0], |r| r.get()).await?.unwrap_or(false))
    }

    async fn set_org_requires_two_factor(&self, org: OrgId<'_>, required: bool) -> Result<()> {
        let sql = "INSERT INTO org_two_factor (org_id, required) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET required = excluded.required";
        self.db.execute(sql, params![org.0, required]).await.map(drop)
    }
}
