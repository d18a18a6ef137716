//! Invitations and registration: an admin (or a user with the `invite` right) invites by name
//! and email; the email carries a single-use, expiring link (the token in the URL fragment) and
//! links to the privacy policy and terms; following it, the invitee accepts them, sets a
//! password and is signed in. The registration's IP address and time are stored (sealed).

use std::sync::Arc;

use bureau_store::JoiningStore;
use bureau_store::vault::Slot;
use bureau_store::{InvitationRow, OrgId, RegistrationRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{AccessDetails, Client};
use crate::accounts::{NewUser, SignedIn, new_token, token_hash};
use crate::core::{Core, email_index};
use crate::error::{OfficeError, Result};
use crate::limiter::Limiter;
use crate::mail::{Language, compose};
use crate::profile::{normalise_email, valid_name};
use crate::rights::{Actor, Right, Role};
use crate::{Accounts, Rooms};
use crate::password;

/// An invitation to create.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The invitee's name.
    pub name: String,
    /// The invitee's email address.
    pub email: String,
    /// The role they get (`member` by default; only admins may invite admins).
    #[serde(default = "member")]
    pub role: Role,
}

fn member() -> Role {
    Role::Member
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Sent and usable.
    Pending,
    /// Used to register.
    Accepted,
    /// Revoked by an admin.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// An invitation as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationView {
    /// Invitation id.
    pub id: String,
    /// Invitee's name.
    pub name: String,
    /// Invitee's email.
    pub email: String,
    /// Role on registration.
    pub role: Role,
    /// Where it stands.
    pub status: InvitationStatus,
    /// Sent (or last resent), Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
}

/// What the registration page shows before the invitee registers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegistrationInfo {
    /// The organisation's name.
    pub org_name: String,
    /// The organisation's slug (to fetch its privacy policy and terms: `GET /api/legal?org=`).
    pub org_slug: String,
    /// The invitee's name, as the admin wrote it.
    pub name: String,
    /// The invitee's email (the account's sign-in).
    pub email: String,
}

/// Registration through an invitation link.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The token from the link.
    pub token: String,
    /// The name to use (default: the one in the invitation).
    pub name: Option<String>,
    /// The password (at least 10 characters).
    pub password: String,
    /// Must be true: the privacy policy and terms of use were shown and accepted.
    pub accept_terms: bool,
}

#[derive(Serialize, Deserialize)]
struct Invitee {
    name: String,
    email: String,
}

#[derive(Serialize, Deserialize)]
struct RegistrationDetails {
    ip: String,
    browser: String,
    browser_version: String,
    accepted_terms: bool,
}

fn invitee_slot(id: &str) -> Slot<'_> {
    Slot { table: "invitations", column: "details", row: id }
}

/// Invitations and registration, and guest links ([`crate::guests`]).
pub struct Joining {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn JoiningStore>,
    /// Registering creates an account and signs it in.
    pub(crate) accounts: Arc<Accounts>,
    /// A guest sees the floor plan of their room.
    pub(crate) rooms: Arc<Rooms>,
    /// Joins through one guest link per minute.
    pub(crate) guest_join_limiter: Limiter,
}

impl Joining {
    fn can_invite(actor: &Actor, role: Role) -> Result<()> {
        match role {
            Role::Admin => actor.require_admin(),
            _ if actor.can(Right::Invite) => Ok(()),
            _ => Err(OfficeError::Forbidden),
        }
    }

    fn invitation_view(&self, row: &InvitationRow, invitee: Invitee) -> InvitationView {
        let status = if row.used_at.is_some() {
            InvitationStatus::Accepted
        } else if row.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if row.expires_at <= self.core.now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        InvitationView {
            id: row.id.clone(),
            name: invitee.name,
            email: invitee.email,
            role: row.role,
            status,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }

    /// Invites someone and emails them the link. If the email cannot be sent, the invitation
    /// is kept (so it can be resent) and the error says so.
    pub async fn invite(&self, actor: &Actor, invitation: NewInvitation) -> Result<InvitationView> {
        Self::can_invite(actor, invitation.role)?;
        let invitee = Invitee { name: valid_name(&invitation.name)?, email: normalise_email(&invitation.email)? };
        self.core.mail_allowance(actor).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let index = email_index(&keys, &invitee.email);
        if self.core.store.user_by_email_index(OrgId(&actor.org_id), &index).await?.is_some() {
            return Err(OfficeError::Conflict("email"));
        }
        let now = self.core.now();
        let (token, hash) = new_token();
        let id = uuid::Uuid::new_v4().to_string();
        let row = InvitationRow {
            details: keys.seal_json(invitee_slot(&id), &invitee),
            id,
            org_id: actor.org_id.clone(),
            token_hash: hash,
            email_index: index,
            role: invitation.role,
            invited_by: Some(actor.user_id.clone()),
            created_at: now,
            expires_at: now + self.core.policy.invitation_ttl_ms,
            used_at: None,
            revoked_at: None,
        };
        self.store.insert_invitation(&row).await?;
        self.send_invitation(&actor.org_id, &invitee, &token, row.expires_at).await?;
        Ok(self.invitation_view(&row, invitee))
    }

    async fn send_invitation(&self, org_id: &str, invitee: &Invitee, token: &str, expires_at: i64) -> Result<()> {
        let org = self.core.org_row(org_id).await?;
        let lang = Language::from_code(&org.language);
        let days = ((expires_at - self.core.now()) / (24 * 3600 * 1000)).max(1);
        let link = format!("{}/register#token={token}", self.core.public_url);
        let paragraphs = match lang {
            Language::En => vec![
                format!("Hello {},", invitee.name),
                format!("you are invited to join {} on Bureau, the virtual office.", org.name),
                format!("The link below works once and for {days} days. Before you register, you will see the privacy policy and the terms of use."),
            ],
            Language::De => vec![
                format!("Hallo {},", invitee.name),
                format!("Sie sind eingeladen, {} im virtuellen Büro Bureau beizutreten.", org.name),
                format!("Der Link unten funktioniert einmal und {days} Tage lang. Vor der Registrierung sehen Sie die Datenschutzerklärung und die Nutzungsbedingungen."),
            ],
        };
        let mail = compose(
            &invitee.email,
            &match lang {
                Language::En => format!("Your invitation to {}", org.name),
                Language::De => format!("Ihre Einladung zu {}", org.name),
            },
            &paragraphs,
            Some((lang.pick("Accept the invitation", "Einladung annehmen"), &link)),
            &[
                (lang.pick("Privacy policy", "Datenschutzerklärung"), format!("{}/privacy", self.core.public_url)),
                (lang.pick("Terms of use", "Nutzungsbedingungen"), format!("{}/terms", self.core.public_url)),
            ],
        );
        self.core.mailer.send(mail).await.map_err(|err| {
            tracing::warn!("invitation email failed: {err}");
            OfficeError::MailFailed
        })
    }

    /// The organisation's invitations, newest first.
    pub async fn invitations(&self, actor: &Actor) -> Result<Vec<InvitationView>> {
        Self::can_invite(actor, Role::Member)?;
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.invitations(OrgId(&actor.org_id)).await?;
        rows.iter().map(|row| Ok(self.invitation_view(row, keys.open_json(invitee_slot(&row.id), &row.details)?))).collect()
    }

    async fn invitation_row(&self, actor: &Actor, id: &str) -> Result<InvitationRow> {
        Self::can_invite(actor, Role::Member)?;
        let rows = self.store.invitations(OrgId(&actor.org_id)).await?;
        rows.into_iter().find(|r| r.id == id).ok_or(OfficeError::NotFound("invitation"))
    }

    /// Sends a pending or expired invitation again with a fresh link (the old link stops working).
    pub async fn resend_invitation(&self, actor: &Actor, id: &str) -> Result<InvitationView> {
        let mut row = self.invitation_row(actor, id).await?;
        if row.used_at.is_some() || row.revoked_at.is_some() {
            return Err(OfficeError::Invalid { field: "id", message: "this invitation was already used or revoked".into() });
        }
        self.core.mail_allowance(actor).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let invitee: Invitee = keys.open_json(invitee_slot(&row.id), &row.details)?;
        let (token, hash) = new_token();
        row.token_hash = hash;
        row.created_at = self.core.now();
        row.expires_at = row.created_at + self.core.policy.invitation_ttl_ms;
        self.store.update_invitation(&row).await?;
        self.send_invitation(&actor.org_id, &invitee, &token, row.expires_at).await?;
        Ok(self.invitation_view(&row, invitee))
    }

    /// Revokes an invitation: its link stops working.
    pub async fn revoke_invitation(&self, actor: &Actor, id: &str) -> Result<InvitationView> {
        let mut row = self.invitation_row(actor, id).await?;
        if row.used_at.is_none() && row.revoked_at.is_none() {
            row.revoked_at = Some(self.core.now());
            self.store.update_invitation(&row).await?;
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let invitee = keys.open_json(invitee_slot(&row.id), &row.details)?;
        Ok(self.invitation_view(&row, invitee))
    }

    async fn usable_invitation(&self, token: &str) -> Result<InvitationRow> {
        let row = self.store.invitation_by_token(&token_hash(token)).await?.ok_or(OfficeError::InvalidToken)?;
        let usable = row.used_at.is_none() && row.revoked_at.is_none() && row.expires_at > self.core.now();
        if usable { Ok(row) } else { Err(OfficeError::InvalidToken) }
    }

    /// What the registration page shows for a link token.
    pub async fn registration_info(&self, token: &str) -> Result<RegistrationInfo> {
        let row = self.usable_invitation(token).await?;
        let keys = self.core.keys(&row.org_id).await?;
        let invitee: Invitee = keys.open_json(invitee_slot(&row.id), &row.details)?;
        let org = self.core.org_row(&row.org_id).await?;
        Ok(RegistrationInfo { org_name: org.name, org_slug: org.slug, name: invitee.name, email: invitee.email })
    }

    /// Registers through an invitation link and signs the new user in.
    pub async fn register(&self, request: RegisterRequest, client: &Client) -> Result<SignedIn> {
        if !request.accept_terms {
            return Err(OfficeError::Invalid { field: "accept_terms", message: "the privacy policy and terms of use must be accepted".into() });
        }
        password::check_policy(&request.password)?;
        let row = self.usable_invitation(&request.token).await?;
        let keys = self.core.keys(&row.org_id).await?;
        let invitee: Invitee = keys.open_json(invitee_slot(&row.id), &row.details)?;
        let name = match &request.name {
            Some(name) => valid_name(name)?,
            None => invitee.name,
        };
        // Marking the invitation used first makes the link single-use even under concurrency.
        if !self.store.use_invitation(&row.id, self.core.now()).await? {
            return Err(OfficeError::InvalidToken);
        }
        let role = row.role;
        let user = NewUser { name, email: invitee.email, role, rights: vec![], password: Some(request.password), must_change_password: None };
        let created = self.accounts.insert_user(&row.org_id, user, false).await?;
        let access = AccessDetails::new("register", client);
        let details = RegistrationDetails {
            ip: access.ip,
            browser: access.browser,
            browser_version: access.browser_version,
            accepted_terms: true,
        };
        let slot = Slot { table: "registrations", column: "details", row: &created.id };
        let registration =
            RegistrationRow { user_id: created.id.clone(), org_id: row.org_id.clone(), at: self.core.now(), details: keys.seal_json(slot, &details) };
        self.store.insert_registration(&registration).await?;
        tracing::info!(org_id = %row.org_id, user_id = %created.id, "registered through an invitation");
        self.accounts.start_session(&row.org_id, created, client, "register").await
    }
}
