//! Privacy rights and retention: consents, the versioned legal texts, the request queue, the audit log, routine deletion and erasure ([`crate::PrivacyStore`]).

use async_trait::async_trait;

use super::directory::{ADMINS, ANOTHER_ADMIN};
use super::{SqlStore, row};
use crate::sql::{boxed, conflict, params};
use crate::*;

row!(consent_row, CONSENT_COLUMNS, ConsentRow { id, org_id, user_id, template_version, details, given_at, withdrawn_at });
row!(legal_row, LEGAL_COLUMNS, LegalRow { org_id, kind, version, body, created_at, created_by });
row!(request_row, REQUEST_COLUMNS, PrivacyRequestRow { id, org_id, user_id, kind, status, details, created_at, due_at, handled_by, handled_at });
row!(audit_row, AUDIT_COLUMNS, AuditRow { id, org_id, actor_id, action, target_id, at });

#[async_trait]
impl PrivacyStore for SqlStore {
    async fn insert_consent(&self, c: &ConsentRow) -> Result<()> {
        let sql = "INSERT INTO consents (id, org_id, user_id, template_version, details, given_at, withdrawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.db.execute(sql, params![c.id, c.org_id, c.user_id, c.template_version, c.details, c.given_at, c.withdrawn_at]).await.map(drop)
    }

    async fn withdraw_consent(&self, org: OrgId<'_>, user_id: &str, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE consents SET withdrawn_at = $4 WHERE org_id = $1 AND user_id = $2 AND id = $3 AND withdrawn_at IS NULL";
        Ok(self.db.execute(sql, params![org.0, user_id, id, now]).await? == 1)
    }

    async fn consents(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConsentRow>> {
        let sql = format!("SELECT {CONSENT_COLUMNS} FROM consents WHERE org_id = $1 AND user_id = $2 ORDER BY given_at DESC, id");
        self.db.all(sql, params![org.0, user_id], consent_row).await
    }

    async fn legal_text(&self, org: OrgId<'_>, kind: &str) -> Result<Option<LegalRow>> {
        let sql = format!("SELECT {LEGAL_COLUMNS} FROM legal_texts WHERE org_id = $1 AND kind = $2 ORDER BY version DESC LIMIT 1");
        self.db.one(sql, params![org.0, kind], legal_row).await
    }

    async fn insert_legal_text(&self, t: &LegalRow) -> Result<()> {
        let sql = "INSERT INTO legal_texts (org_id, kind, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)";
        self.db.execute(sql, params![t.org_id, t.kind, t.version, t.body, t.created_at, t.created_by]).await.map_err(conflict("version")).map(drop)
    }

    async fn insert_privacy_request(&self, r: &PrivacyRequestRow) -> Result<()> {
        let sql = "INSERT INTO privacy_requests (id, org_id, user_id, kind, status, details, created_at, due_at, handled_by, handled_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let values = params![r.id, r.org_id, r.user_id, r.kind, r.status, r.details, r.created_at, r.due_at, r.handled_by, r.handled_at];
        self.db.execute(sql, values).await.map(drop)
    }

    async fn update_privacy_request(&self, r: &PrivacyRequestRow) -> Result<bool> {
        let sql = "UPDATE privacy_requests SET status = $3, details = $4, handled_by = $5, handled_at = $6 WHERE org_id = $1 AND id = $2";
        Ok(self.db.execute(sql, params![r.org_id, r.id, r.status, r.details, r.handled_by, r.handled_at]).await? == 1)
    }

    async fn privacy_requests(&self, org: OrgId<'_>) -> Result<Vec<PrivacyRequestRow>> {
        self.db.all(format!("SELECT {REQUEST_COLUMNS} FROM privacy_requests WHERE org_id = $1 ORDER BY due_at, id"), params![org.0], request_row).await
    }

    async fn insert_audit(&self, e: &AuditRow) -> Result<()> {
        let sql = "INSERT INTO audit_log (id, org_id, actor_id, action, target_id, at) VALUES ($1, $2, $3, $4, $5, $6)";
        self.db.execute(sql, params![e.id, e.org_id, e.actor_id, e.action, e.target_id, e.at]).await.map(drop)
    }

    async fn audit_log(&self, org: OrgId<'_>) -> Result<Vec<AuditRow>> {
        self.db.all(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE org_id = $1 ORDER BY at DESC, id"), params![org.0], audit_row).await
    }

    async fn purge(&self, p: &Purge) -> Result<Purged> {
        let p = p.clone();
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let mut deleted = async |sql: &str, before: i64| tx.execute(sql, params![before]).await;
                    Ok(Purged {
                        access_logs: deleted("DELETE FROM access_log WHERE at < $1", p.access_logs_before).await?,
                        call_logs: deleted("DELETE FROM call_logs WHERE started_at < $1", p.call_logs_before).await?,
                        transfer_logs: deleted("DELETE FROM transfer_logs WHERE at < $1", p.transfer_logs_before).await?,
                        tickets: deleted("DELETE FROM support_tickets WHERE resolved_at IS NOT NULL AND resolved_at < $1", p.tickets_resolved_before).await?,
                        invitations: deleted("DELETE FROM invitations WHERE coalesce(used_at, revoked_at, expires_at) < $1", p.invitations_before).await?,
                        sessions_and_tokens: deleted("DELETE FROM sessions WHERE expires_at <= $1", p.now).await?
                            + deleted("DELETE FROM one_time_tokens WHERE expires_at <= $1 OR used_at IS NOT NULL", p.now).await?,
                        consents: deleted("DELETE FROM consents WHERE withdrawn_at IS NOT NULL AND withdrawn_at < $1", p.consents_withdrawn_before).await?,
                        accounts: 0,
                        audit_log: deleted("DELETE FROM audit_log WHERE at < $1", p.audit_log_before).await?,
                        absences: deleted("DELETE FROM absences WHERE ends_at < $1", p.absences_ended_before).await?,
                        attendance_days: deleted("DELETE FROM attendance WHERE day < $1", p.attendance_before_day).await?,
                        calendar_entries: deleted("DELETE FROM calendar_entries WHERE ends_at < $1", p.calendar_entries_ended_before).await?,
                        messages: deleted("DELETE FROM message_bodies WHERE expires_at < $1", p.messages_expired_before).await?,
                        // Their chunks go with them (cascade).
                        message_files: deleted("DELETE FROM message_files WHERE expires_at < $1", p.messages_expired_before).await?,
                    })
                })
            })
            .await
    }

    async fn deactivated_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        self.db.all("SELECT org_id, id FROM users WHERE active = 0 AND updated_at < $1", params![before], |r| Ok((r.get()?, r.get()?))).await
    }

    async fn erase_user(&self, org: OrgId<'_>, user_id: &str) -> Result<bool> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        // Others keep their call and transfer history, with this person made anonymous.
        let anonymous = format!("erased-{}", hex::encode(rand::random::<[u8; 8]>()));
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    tx.lock(ADMINS, params![org]).await?;
                    tx.lock("SELECT id FROM users WHERE org_id = $1 AND id = $2", params![org, user]).await?;
                    let sql = format!("SELECT email_index, role = 'admin' AND active = 1 AND NOT {ANOTHER_ADMIN} FROM users WHERE org_id = $1 AND id = $2");
                    let found: Option<(Vec<u8>, bool)> = tx.one(&sql, params![org, user], |r| Ok((r.get()?, r.get()?))).await?;
                    let Some((index, last_admin)) = found else { return Ok(false) };
                    if last_admin {
                        return Err(StoreError::LastAdmin);
                    }
                    for sql in [
                        "UPDATE call_participants SET user_id = $3 WHERE org_id = $1 AND user_id = $2",
                        "UPDATE transfer_logs SET from_user = $3 WHERE org_id = $1 AND from_user = $2",
                        "UPDATE transfer_logs SET to_user = $3 WHERE org_id = $1 AND to_user = $2",
                    ] {
                        tx.execute(sql, params![org, user, anonymous]).await?;
                    }
                    tx.execute("UPDATE invitations SET invited_by = NULL WHERE org_id = $1 AND invited_by = $2", params![org, user]).await?;
                    tx.execute("DELETE FROM invitations WHERE org_id = $1 AND email_index = $2", params![org, index]).await?;
                    tx.execute("DELETE FROM support_tickets WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    tx.execute("DELETE FROM access_log WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    // Sessions, the registration record and the picture go with the row (cascade).
                    tx.execute("DELETE FROM users WHERE org_id = $1 AND id = $2", params![org, user]).await?;
                    Ok(true)
                })
            })
            .await
    }
}
