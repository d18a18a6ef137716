//! PostgreSQL implementation of [`crate::PrivacyStore`].

use async_trait::async_trait;

use super::{ANOTHER_ADMIN, PostgresStore, lock_admins};
use crate::{AuditRow, OrgId, PrivacyRequestRow, Purge, Purged, Result, StoreError};

#[async_trait]
impl crate::PrivacyStore for PostgresStore {
    async fn insert_privacy_request(&self, r: &PrivacyRequestRow) -> Result<()> {
        let sql = "INSERT INTO privacy_requests (id, org_id, user_id, kind, status, details, created_at, due_at, handled_by, handled_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        self.execute(sql, &[&r.id, &r.org_id, &r.user_id, &r.kind, &r.status, &r.details, &r.created_at, &r.due_at, &r.handled_by, &r.handled_at])
            .await
            .map(drop)
    }

    async fn update_privacy_request(&self, r: &PrivacyRequestRow) -> Result<bool> {
        let sql = "UPDATE privacy_requests SET status = $3, details = $4, handled_by = $5, handled_at = $6 WHERE org_id = $1 AND id = $2";
        Ok(self.execute(sql, &[&r.org_id, &r.id, &r.status, &r.details, &r.handled_by, &r.handled_at]).await? == 1)
    }

    async fn privacy_requests(&self, org: OrgId<'_>) -> Result<Vec<PrivacyRequestRow>> {
        self.all("SELECT * FROM privacy_requests WHERE org_id = $1 ORDER BY due_at, id", &[&org.0], |r| {
            Ok(PrivacyRequestRow {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                user_id: r.try_get("user_id")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                details: r.try_get("details")?,
                created_at: r.try_get("created_at")?,
                due_at: r.try_get("due_at")?,
                handled_by: r.try_get("handled_by")?,
                handled_at: r.try_get("handled_at")?,
            })
        })
        .await
    }

    async fn insert_audit(&self, e: &AuditRow) -> Result<()> {
        let sql = "INSERT INTO audit_log (id, org_id, actor_id, action, target_id, at) VALUES ($1, $2, $3, $4, $5, $6)";
        self.execute(sql, &[&e.id, &e.org_id, &e.actor_id, &e.action, &e.target_id, &e.at]).await.map(drop)
    }

    async fn audit_log(&self, org: OrgId<'_>) -> Result<Vec<AuditRow>> {
        self.all("SELECT * FROM audit_log WHERE org_id = $1 ORDER BY at DESC, id", &[&org.0], |r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                actor_id: r.try_get("actor_id")?,
                action: r.try_get("action")?,
                target_id: r.try_get("target_id")?,
                at: r.try_get("at")?,
            })
        })
        .await
    }

    async fn purge(&self, p: &Purge) -> Result<Purged> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let access_logs = tx.execute("DELETE FROM access_log WHERE at < $1", &[&p.access_logs_before]).await?;
        let call_logs = tx.execute("DELETE FROM call_logs WHERE started_at < $1", &[&p.call_logs_before]).await?;
        let transfer_logs = tx.execute("DELETE FROM transfer_logs WHERE at < $1", &[&p.transfer_logs_before]).await?;
        let tickets =
            tx.execute("DELETE FROM support_tickets WHERE resolved_at IS NOT NULL AND resolved_at < $1", &[&p.tickets_resolved_before]).await?;
        let invitations =
            tx.execute("DELETE FROM invitations WHERE coalesce(used_at, revoked_at, expires_at) < $1", &[&p.invitations_before]).await?;
        let sessions_and_tokens = tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&p.now]).await?
            + tx.execute("DELETE FROM one_time_tokens WHERE expires_at <= $1 OR used_at IS NOT NULL", &[&p.now]).await?;
        let consents = tx
            .execute("DELETE FROM consents WHERE withdrawn_at IS NOT NULL AND withdrawn_at < $1", &[&p.consents_withdrawn_before])
            .await?;
        let audit_log = tx.execute("DELETE FROM audit_log WHERE at < $1", &[&p.audit_log_before]).await?;
        let purged = Purged { access_logs, call_logs, transfer_logs, tickets, invitations, sessions_and_tokens, consents, accounts: 0, audit_log };
        tx.commit().await?;
        Ok(purged)
    }

    async fn deactivated_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        self.all("SELECT org_id, id FROM users WHERE active = 0 AND updated_at < $1", &[&before], |r| Ok((r.try_get(0)?, r.try_get(1)?))).await
    }

    async fn erase_user(&self, org: OrgId<'_>, user_id: &str) -> Result<bool> {
        let (org, user) = (org.0, user_id);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_admins(&tx, org).await?;
        let found = tx
            .query(&format!("SELECT email_index, role = 'admin' AND active = 1 AND NOT {ANOTHER_ADMIN} FROM users WHERE org_id = $1 AND id = $2 FOR UPDATE"), &[&org, &user])
            .await?;
        let Some(row) = found.first() else { return Ok(false) };
        let index: Vec<u8> = row.try_get(0)?;
        if row.try_get::<_, bool>(1)? {
            return Err(StoreError::LastAdmin);
        }
        // Others keep their call and transfer history, with this person made anonymous.
        let anonymous = format!("erased-{}", hex::encode(rand::random::<[u8; 8]>()));
        tx.execute("UPDATE call_participants SET user_id = $3 WHERE org_id = $1 AND user_id = $2", &[&org, &user, &anonymous]).await?;
        tx.execute("UPDATE transfer_logs SET from_user = $3 WHERE org_id = $1 AND from_user = $2", &[&org, &user, &anonymous]).await?;
        tx.execute("UPDATE transfer_logs SET to_user = $3 WHERE org_id = $1 AND to_user = $2", &[&org, &user, &anonymous]).await?;
        tx.execute("UPDATE invitations SET invited_by = NULL WHERE org_id = $1 AND invited_by = $2", &[&org, &user]).await?;
        tx.execute("DELETE FROM invitations WHERE org_id = $1 AND email_index = $2", &[&org, &index]).await?;
        tx.execute("DELETE FROM support_tickets WHERE org_id = $1 AND user_id = $2", &[&org, &user]).await?;
        tx.execute("DELETE FROM access_log WHERE org_id = $1 AND user_id = $2", &[&org, &user]).await?;
        // Sessions, the registration record and the picture go with the row (cascade).
        tx.execute("DELETE FROM users WHERE org_id = $1 AND id = $2", &[&org, &user]).await?;
        tx.commit().await?;
        Ok(true)
    }
}
