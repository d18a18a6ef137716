//! SQLite implementation of [`crate::PrivacyStore`].

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::*;

#[async_trait]
impl crate::PrivacyStore for SqliteStore {
    async fn insert_privacy_request(&self, request: &PrivacyRequestRow) -> Result<()> {
        let r = request.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO privacy_requests (id, org_id, user_id, kind, status, details, created_at, due_at, handled_by, handled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![r.id, r.org_id, r.user_id, r.kind, r.status, r.details, r.created_at, r.due_at, r.handled_by, r.handled_at])?;
            Ok(())
        })
        .await
    }

    async fn update_privacy_request(&self, request: &PrivacyRequestRow) -> Result<bool> {
        let r = request.clone();
        self.with(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE privacy_requests SET status = ?3, details = ?4, handled_by = ?5, handled_at = ?6 WHERE org_id = ?1 AND id = ?2",
                )?
                .execute(params![r.org_id, r.id, r.status, r.details, r.handled_by, r.handled_at])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn privacy_requests(&self, org: OrgId<'_>) -> Result<Vec<PrivacyRequestRow>> {
        let org = org.0.to_owned();
        self.with(move |c| {
            all(c, "SELECT * FROM privacy_requests WHERE org_id = ?1 ORDER BY due_at, id", [&org], |r| {
                Ok(PrivacyRequestRow {
                    id: r.get("id")?,
                    org_id: r.get("org_id")?,
                    user_id: r.get("user_id")?,
                    kind: r.get("kind")?,
                    status: r.get("status")?,
                    details: r.get("details")?,
                    created_at: r.get("created_at")?,
                    due_at: r.get("due_at")?,
                    handled_by: r.get("handled_by")?,
                    handled_at: r.get("handled_at")?,
                })
            })
        })
        .await
    }

    async fn insert_audit(&self, entry: &AuditRow) -> Result<()> {
        let e = entry.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO audit_log (id, org_id, actor_id, action, target_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![e.id, e.org_id, e.actor_id, e.action, e.target_id, e.at])?;
            Ok(())
        })
        .await
    }

    async fn audit_log(&self, org: OrgId<'_>) -> Result<Vec<AuditRow>> {
        let org = org.0.to_owned();
        self.with(move |c| {
            all(c, "SELECT * FROM audit_log WHERE org_id = ?1 ORDER BY at DESC, id", [&org], |r| {
                Ok(AuditRow {
                    id: r.get("id")?,
                    org_id: r.get("org_id")?,
                    actor_id: r.get("actor_id")?,
                    action: r.get("action")?,
                    target_id: r.get("target_id")?,
                    at: r.get("at")?,
                })
            })
        })
        .await
    }

    async fn purge(&self, purge: &Purge) -> Result<Purged> {
        let p = purge.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            let count = |sql: &str, at: i64| -> rusqlite::Result<u64> { tx.execute(sql, [at]).map(|n| n as u64) };
            let purged = Purged {
                access_logs: count("DELETE FROM access_log WHERE at < ?1", p.access_logs_before)?,
                call_logs: count("DELETE FROM call_logs WHERE started_at < ?1", p.call_logs_before)?,
                transfer_logs: count("DELETE FROM transfer_logs WHERE at < ?1", p.transfer_logs_before)?,
                tickets: count("DELETE FROM support_tickets WHERE resolved_at IS NOT NULL AND resolved_at < ?1", p.tickets_resolved_before)?,
                invitations: count(
                    "DELETE FROM invitations WHERE coalesce(used_at, revoked_at, expires_at) < ?1",
                    p.invitations_before,
                )?,
                sessions_and_tokens: count("DELETE FROM sessions WHERE expires_at <= ?1", p.now)?
                    + count("DELETE FROM one_time_tokens WHERE expires_at <= ?1 OR used_at IS NOT NULL", p.now)?,
                consents: count(
                    "DELETE FROM consents WHERE withdrawn_at IS NOT NULL AND withdrawn_at < ?1",
                    p.consents_withdrawn_before,
                )?,
                accounts: 0,
                audit_log: count("DELETE FROM audit_log WHERE at < ?1", p.audit_log_before)?,
            };
            tx.commit()?;
            Ok(purged)
        })
        .await
    }

    async fn deactivated_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        self.with(move |c| all(c, "SELECT org_id, id FROM users WHERE active = 0 AND updated_at < ?1", [before], |r| Ok((r.get(0)?, r.get(1)?))))
            .await
    }

    async fn erase_user(&self, org: OrgId<'_>, user_id: &str) -> Result<bool> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            // Immediate: the last-administrator check and the delete are one write transaction.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found: Option<(Vec<u8>, bool)> = tx
                .query_row(&format!("SELECT email_index, role = 'admin' AND active = 1 AND NOT {ANOTHER_ADMIN} FROM users WHERE org_id = ?1 AND id = ?2"), [&org, &user], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((index, last_admin)) = found else { return Ok(false) };
            if last_admin {
                return Err(StoreError::LastAdmin);
            }
            // Others keep their call and transfer history, with this person made anonymous.
            let anonymous = format!("erased-{}", uuid_like(&tx)?);
            tx.execute("UPDATE call_participants SET user_id = ?3 WHERE org_id = ?1 AND user_id = ?2", params![org, user, anonymous])?;
            tx.execute("UPDATE transfer_logs SET from_user = ?3 WHERE org_id = ?1 AND from_user = ?2", params![org, user, anonymous])?;
            tx.execute("UPDATE transfer_logs SET to_user = ?3 WHERE org_id = ?1 AND to_user = ?2", params![org, user, anonymous])?;
            tx.execute("UPDATE invitations SET invited_by = NULL WHERE org_id = ?1 AND invited_by = ?2", [&org, &user])?;
            tx.execute("DELETE FROM invitations WHERE org_id = ?1 AND email_index = ?2", params![org, index])?;
            tx.execute("DELETE FROM support_tickets WHERE org_id = ?1 AND user_id = ?2", [&org, &user])?;
            tx.execute("DELETE FROM access_log WHERE org_id = ?1 AND user_id = ?2", [&org, &user])?;
            // Sessions, the registration record and the picture go with the row (cascade).
            tx.execute("DELETE FROM users WHERE org_id = ?1 AND id = ?2", [&org, &user])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

}
