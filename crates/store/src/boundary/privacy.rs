//! Privacy rights and retention: consents, the versioned legal texts, the request queue, the audit log, routine deletion and erasure: the database boundary of `bureau_office`'s privacy service.

use async_trait::async_trait;

use crate::*;

/// Privacy rights and retention: consents, the versioned legal texts, the request queue, the audit log, routine deletion and erasure.
#[async_trait]
pub trait PrivacyStore: Send + Sync + 'static {
    /// Records a consent.
    async fn insert_consent(&self, consent: &ConsentRow) -> Result<()>;
    /// Marks a consent of the user withdrawn; false if there is no such active consent.
    async fn withdraw_consent(&self, org: OrgId<'_>, user_id: &str, id: &str, now: i64) -> Result<bool>;
    /// The user's consents, newest first.
    async fn consents(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConsentRow>>;
    /// The latest version of a legal text of the organisation.
    async fn legal_text(&self, org: OrgId<'_>, kind: &str) -> Result<Option<LegalRow>>;
    /// Stores a new version of a legal text.
    async fn insert_legal_text(&self, text: &LegalRow) -> Result<()>;
    /// Stores a privacy request.
    async fn insert_privacy_request(&self, request: &PrivacyRequestRow) -> Result<()>;
    /// Replaces a privacy request (answered, closed).
    async fn update_privacy_request(&self, request: &PrivacyRequestRow) -> Result<bool>;
    /// The organisation's privacy requests, earliest deadline first.
    async fn privacy_requests(&self, org: OrgId<'_>) -> Result<Vec<PrivacyRequestRow>>;
    /// Appends to the audit log.
    async fn insert_audit(&self, entry: &AuditRow) -> Result<()>;
    /// The organisation's audit log, newest first.
    async fn audit_log(&self, org: OrgId<'_>) -> Result<Vec<AuditRow>>;
    /// Deletes what the retention periods have expired, in one transaction.
    async fn purge(&self, purge: &Purge) -> Result<Purged>;
    /// Users deactivated (last changed) before `before`, as `(org id, user id)`.
    async fn deactivated_before(&self, before: i64) -> Result<Vec<(String, String)>>;
    /// Erases a user: deletes the account, its sessions, access log, registration, tickets and
    /// invitations, and replaces the user's id in call and transfer logs others keep by an
    /// anonymous one. False if there was no such user.
    async fn erase_user(&self, org: OrgId<'_>, user_id: &str) -> Result<bool>;
}
