//! The privacy request queue (GDPR art. 12(3): an answer within one month) and the audit log
//! of administrative access to personal data.

use bureau_store::vault::Slot;
use bureau_store::{AuditRow, OrgId, PrivacyRequestRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::mail::{Language, compose};
use crate::Privacy;
use crate::rights::{Actor, Right};

/// One month, as the deadline of a privacy request.
const MONTH_MS: i64 = 30 * 24 * 3600 * 1000;

/// What a data subject asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A copy of their data (art. 15).
    Access,
    /// Correction of a field they cannot edit themselves (art. 16).
    Rectification,
    /// Erasure (art. 17).
    Erasure,
    /// Restriction of processing (art. 18).
    Restriction,
    /// Objection to a processing (art. 21).
    Objection,
    /// Withdrawal of a consent (art. 7(3)).
    Withdrawal,
    /// Anything else about their data.
    Other,
}

/// A request to file.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrivacyRequest {
    /// What is asked for.
    pub kind: RequestKind,
    /// The request in the person's words (1–5,000 characters).
    pub message: String,
}

/// How an administrator closes a request.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// True when done, false when rejected (the answer must say why).
    pub done: bool,
    /// The answer, emailed to the person.
    pub response: String,
}

#[derive(Serialize, Deserialize)]
struct RequestDetails {
    message: String,
    response: Option<String>,
}

/// A privacy request as its author and the privacy team see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrivacyRequestView {
    /// Request id.
    pub id: String,
    /// Who asked (`None` once their account was erased).
    pub user_id: Option<String>,
    /// What was asked for.
    pub kind: RequestKind,
    /// `open`, `done` or `rejected`.
    pub status: String,
    /// The request.
    pub message: String,
    /// The answer, once given.
    pub response: Option<String>,
    /// When it was made, Unix milliseconds.
    pub created_at: i64,
    /// The one-month deadline, Unix milliseconds.
    pub due_at: i64,
    /// Open past its deadline.
    pub overdue: bool,
    /// Who handled it.
    pub handled_by: Option<String>,
    /// When, Unix milliseconds.
    pub handled_at: Option<i64>,
}

/// One administrative access to personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEntry {
    /// The administrator.
    pub actor_id: String,
    /// What they did, e.g. `view_user`, `list_users`, `update_user`, `erase_user`.
    pub action: String,
    /// Whose data, if one person's.
    pub target_id: Option<String>,
    /// When, Unix milliseconds.
    pub at: i64,
}

fn slot(id: &str) -> Slot<'_> {
    Slot { table: "privacy_requests", column: "details", row: id }
}

fn kind_name(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Access => "access",
        RequestKind::Rectification => "rectification",
        RequestKind::Erasure => "erasure",
        RequestKind::Restriction => "restriction",
        RequestKind::Objection => "objection",
        RequestKind::Withdrawal => "withdrawal",
        RequestKind::Other => "other",
    }
}

fn kind_from(name: &str) -> RequestKind {
    match name {
        "access" => RequestKind::Access,
        "rectification" => RequestKind::Rectification,
        "erasure" => RequestKind::Erasure,
        "restriction" => RequestKind::Restriction,
        "objection" => RequestKind::Objection,
        "withdrawal" => RequestKind::Withdrawal,
        _ => RequestKind::Other,
    }
}

fn require_privacy_team(actor: &Actor) -> Result<()> {
    if actor.can(Right::ManagePrivacy) { Ok(()) } else { Err(OfficeError::Forbidden) }
}

impl Privacy {
    fn request_view(&self, row: &PrivacyRequestRow, details: RequestDetails) -> PrivacyRequestView {
        PrivacyRequestView {
            id: row.id.clone(),
            user_id: row.user_id.clone(),
            kind: kind_from(&row.kind),
            status: row.status.clone(),
            message: details.message,
            response: details.response,
            created_at: row.created_at,
            due_at: row.due_at,
            overdue: row.status == "open" && row.due_at < self.core.now(),
            handled_by: row.handled_by.clone(),
            handled_at: row.handled_at,
        }
    }

    /// Files a privacy request; it is due one month later.
    pub async fn file_privacy_request(&self, actor: &Actor, request: NewPrivacyRequest) -> Result<PrivacyRequestView> {
        let message = request.message.trim().to_owned();
        if message.is_empty() || message.chars().count() > 5000 {
            return Err(OfficeError::Invalid { field: "message", message: "must be 1 to 5000 characters".into() });
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let now = self.core.now();
        let id = uuid::Uuid::new_v4().to_string();
        let details = RequestDetails { message, response: None };
        let row = PrivacyRequestRow {
            details: keys.seal_json(slot(&id), &details),
            id,
            org_id: actor.org_id.clone(),
            user_id: Some(actor.user_id.clone()),
            kind: kind_name(request.kind).into(),
            status: "open".into(),
            created_at: now,
            due_at: now + MONTH_MS,
            handled_by: None,
            handled_at: None,
        };
        self.store.insert_privacy_request(&row).await?;
        Ok(self.request_view(&row, details))
    }

    /// Privacy requests: the whole queue for the privacy team (admins or `manage_privacy`),
    /// one's own for everyone else; earliest deadline first.
    pub async fn privacy_requests(&self, actor: &Actor) -> Result<Vec<PrivacyRequestView>> {
        let keys = self.core.keys(&actor.org_id).await?;
        let team = actor.can(Right::ManagePrivacy);
        let rows = self.store.privacy_requests(OrgId(&actor.org_id)).await?;
        rows.iter()
            .filter(|row| team || row.user_id.as_deref() == Some(actor.user_id.as_str()))
            .map(|row| Ok(self.request_view(row, keys.open_json(slot(&row.id), &row.details)?)))
            .collect()
    }

    /// Closes a request with an answer, emailed to the person; records who handled it and when.
    pub async fn close_privacy_request(&self, actor: &Actor, id: &str, close: CloseRequest) -> Result<PrivacyRequestView> {
        require_privacy_team(actor)?;
        let response = close.response.trim().to_owned();
        if response.is_empty() || response.chars().count() > 5000 {
            return Err(OfficeError::Invalid { field: "response", message: "must be 1 to 5000 characters".into() });
        }
        self.core.mail_allowance(actor).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let mut row = self
            .store
            .privacy_requests(OrgId(&actor.org_id))
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(OfficeError::NotFound("privacy request"))?;
        let mut details: RequestDetails = keys.open_json(slot(&row.id), &row.details)?;
        details.response = Some(response.clone());
        row.status = if close.done { "done" } else { "rejected" }.into();
        row.handled_by = Some(actor.user_id.clone());
        row.handled_at = Some(self.core.now());
        row.details = keys.seal_json(slot(&row.id), &details);
        self.store.update_privacy_request(&row).await?;
        self.audit(actor, "handle_privacy_request", row.user_id.as_deref()).await?;
        if let Some(user_id) = &row.user_id
            && let Ok(user) = self.directory.user(actor, user_id).await
        {
            let org = self.directory.org(actor).await?;
            let lang = Language::from_code(&org.language);
            let subject = lang.pick("Your privacy request", "Ihre Datenschutzanfrage");
            let mail = compose(&user.email, subject, &[response], None, &[]);
            self.core.mailer.send(mail).await.map_err(|_| OfficeError::MailFailed)?;
        }
        Ok(self.request_view(&row, details))
    }

    /// Records an administrative access to personal data.
    pub async fn audit(&self, actor: &Actor, action: &str, target: Option<&str>) -> Result<()> {
        let entry = AuditRow {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: actor.org_id.clone(),
            actor_id: actor.user_id.clone(),
            action: action.into(),
            target_id: target.map(str::to_owned),
            at: self.core.now(),
        };
        Ok(self.store.insert_audit(&entry).await?)
    }

    /// The audit log (administrators and the privacy team).
    pub async fn audit_log(&self, actor: &Actor) -> Result<Vec<AuditEntry>> {
        require_privacy_team(actor)?;
        let rows = self.store.audit_log(OrgId(&actor.org_id)).await?;
        Ok(rows.into_iter().map(|r| AuditEntry { actor_id: r.actor_id, action: r.action, target_id: r.target_id, at: r.at }).collect())
    }
}
