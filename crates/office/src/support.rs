//! In-app support: users send a request, the organisation's support address (or every admin)
//! is emailed, admins answer by email and resolve the ticket. Tickets are sealed at rest and
//! deleted by the retention job once resolved and past the grace period.

use std::sync::Arc;

use bureau_store::SupportStore;
use bureau_store::vault::Slot;
use bureau_store::{OrgId, TicketRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::Core;
use crate::Directory;
use crate::error::{OfficeError, Result};
use crate::mail::{Language, compose};
use crate::rights::{Actor, Role};
use crate::{UserView};

/// A support request.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// Short summary (1–200 characters).
    pub subject: String,
    /// The question or problem (1–10,000 characters).
    pub message: String,
}

/// One message of a ticket's conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketMessage {
    /// `user` or `support`.
    pub from: String,
    /// The text.
    pub text: String,
    /// When, Unix milliseconds.
    pub at: i64,
}

#[derive(Serialize, Deserialize)]
struct TicketDetails {
    subject: String,
    messages: Vec<TicketMessage>,
}

/// A ticket as its author or an admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TicketView {
    /// Ticket id.
    pub id: String,
    /// Who asked.
    pub user_id: Option<String>,
    /// Summary.
    pub subject: String,
    /// `open` or `resolved`.
    pub status: String,
    /// The conversation, oldest first.
    pub messages: Vec<TicketMessage>,
    /// Created, Unix milliseconds.
    pub created_at: i64,
    /// Resolved, Unix milliseconds.
    pub resolved_at: Option<i64>,
}

fn slot(id: &str) -> Slot<'_> {
    Slot { table: "support_tickets", column: "details", row: id }
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(OfficeError::Invalid { field, message: format!("must be 1 to {max} characters") });
    }
    Ok(value.to_owned())
}

/// Support requests.
pub struct Support {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn SupportStore>,
    pub(crate) directory: Arc<Directory>,
}

impl Support {
    /// Opens a ticket and notifies the organisation's support address (or its admins).
    pub async fn open_ticket(&self, actor: &Actor, ticket: NewTicket) -> Result<TicketView> {
        let subject = text("subject", &ticket.subject, 200)?;
        let message = text("message", &ticket.message, 10_000)?;
        let now = self.core.now();
        let id = uuid::Uuid::new_v4().to_string();
        let details = TicketDetails { subject, messages: vec![TicketMessage { from: "user".into(), text: message, at: now }] };
        let keys = self.core.keys(&actor.org_id).await?;
        let row = TicketRow {
            details: keys.seal_json(slot(&id), &details),
            id,
            org_id: actor.org_id.clone(),
            user_id: Some(actor.user_id.clone()),
            status: "open".into(),
            created_at: now,
            updated_at: now,
            resolved_at: None,
        };
        self.store.insert_ticket(&row).await?;
        let me = self.directory.user(actor, &actor.user_id).await?;
        self.notify_support(actor, &me, &details).await;
        Ok(view(&row, details))
    }

    /// Emails a new ticket to the support address or every active admin. A failure is logged:
    /// the ticket is stored and visible to admins in the app anyway.
    async fn notify_support(&self, actor: &Actor, author: &UserView, details: &TicketDetails) {
        if self.core.mail_allowance(actor).await.is_err() {
            return; // the ticket is saved and shown in the app; the admins are not mailed in a loop
        }
        let Ok(org) = self.directory.org(actor).await else { return };
        let recipients = self.support_recipients(&actor.org_id, &org).await;
        let lang = Language::from_code(&org.language);
        for to in recipients {
            let body = vec![
                format!("{} <{}>:", author.name, author.email),
                details.messages.first().map(|m| m.text.clone()).unwrap_or_default(),
            ];
            let subject = format!("{}: {}", lang.pick("Support request", "Supportanfrage"), details.subject);
            let link = format!("{}/support", self.core.public_url);
            let mail = compose(&to, &subject, &body, Some((lang.pick("Open in Bureau", "In Bureau öffnen"), &link)), &[]);
            if let Err(err) = self.core.mailer.send(mail).await {
                tracing::warn!("support notification failed: {err}");
            }
        }
    }

    /// Where the organisation wants notices about requests and consents: its support address,
    /// or else every active administrator.
    pub(crate) async fn support_recipients(&self, org_id: &str, org: &crate::OrgView) -> Vec<String> {
        if let Some(address) = &org.support_email {
            return vec![address.clone()];
        }
        let (Ok(rows), Ok(keys)) = (self.core.store.users(OrgId(org_id)).await, self.core.keys(org_id).await) else { return Vec::new() };
        rows.iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .filter_map(|u| self.core.open_profile(&keys, u).ok().map(|p| p.email))
            .collect()
    }

    /// Tickets: all of the organisation's for admins, one's own for everyone else.
    pub async fn tickets(&self, actor: &Actor) -> Result<Vec<TicketView>> {
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.tickets(OrgId(&actor.org_id)).await?;
        rows.iter()
            .filter(|row| actor.is_admin() || row.user_id.as_deref() == Some(actor.user_id.as_str()))
            .map(|row| Ok(view(row, keys.open_json(slot(&row.id), &row.details)?)))
            .collect()
    }

    /// The actor's own tickets (also for admins).
    pub async fn my_tickets(&self, actor: &Actor) -> Result<Vec<TicketView>> {
        Ok(self.tickets(actor).await?.into_iter().filter(|t| t.user_id.as_deref() == Some(actor.user_id.as_str())).collect())
    }

    async fn ticket_row(&self, actor: &Actor, id: &str) -> Result<(TicketRow, TicketDetails)> {
        let rows = self.store.tickets(OrgId(&actor.org_id)).await?;
        let row = rows
            .into_iter()
            .find(|r| r.id == id && (actor.is_admin() || r.user_id.as_deref() == Some(actor.user_id.as_str())))
            .ok_or(OfficeError::NotFound("ticket"))?;
        let keys = self.core.keys(&actor.org_id).await?;
        let details = keys.open_json(slot(&row.id), &row.details)?;
        Ok((row, details))
    }

    async fn save_ticket(&self, actor: &Actor, mut row: TicketRow, details: &TicketDetails) -> Result<TicketRow> {
        let keys = self.core.keys(&actor.org_id).await?;
        row.details = keys.seal_json(slot(&row.id), details);
        row.updated_at = self.core.now();
        self.store.update_ticket(&row).await?;
        Ok(row)
    }

    /// An admin answers a ticket; the author gets the answer by email.
    pub async fn answer_ticket(&self, actor: &Actor, id: &str, answer: &str) -> Result<TicketView> {
        actor.require_admin()?;
        let answer = text("message", answer, 10_000)?;
        self.core.mail_allowance(actor).await?;
        let (row, mut details) = self.ticket_row(actor, id).await?;
        details.messages.push(TicketMessage { from: "support".into(), text: answer.clone(), at: self.core.now() });
        let row = self.save_ticket(actor, row, &details).await?;
        if let Some(author) = &row.user_id
            && let Ok(user) = self.directory.user(actor, author).await
        {
            let org = self.directory.org(actor).await?;
            let lang = Language::from_code(&org.language);
            let subject = format!("{}: {}", lang.pick("Re", "AW"), details.subject);
            let mail = compose(&user.email, &subject, &[answer], None, &[]);
            self.core.mailer.send(mail).await.map_err(|_| OfficeError::MailFailed)?;
        }
        Ok(view(&row, details))
    }

    /// Resolves a ticket (an admin or its author); it is deleted after the retention period.
    pub async fn resolve_ticket(&self, actor: &Actor, id: &str) -> Result<TicketView> {
        let (mut row, details) = self.ticket_row(actor, id).await?;
        if row.resolved_at.is_none() {
            row.status = "resolved".into();
            row.resolved_at = Some(self.core.now());
            row = self.save_ticket(actor, row, &details).await?;
        }
        Ok(view(&row, details))
    }
}

fn view(row: &TicketRow, details: TicketDetails) -> TicketView {
    TicketView {
        id: row.id.clone(),
        user_id: row.user_id.clone(),
        subject: details.subject,
        status: row.status.clone(),
        messages: details.messages,
        created_at: row.created_at,
        resolved_at: row.resolved_at,
    }
}
