//! Joining: invitations, registrations, guest links and guests: the database boundary of `bureau_office`'s joining service.

use async_trait::async_trait;

use crate::*;

/// Joining: invitations, registrations, guest links and guests.
#[async_trait]
pub trait JoiningStore: Send + Sync + 'static {
    /// Stores a new invitation.
    async fn insert_invitation(&self, invitation: &InvitationRow) -> Result<()>;
    /// Replaces an invitation (resend: new token and expiry; revoke; use).
    async fn update_invitation(&self, invitation: &InvitationRow) -> Result<bool>;
    /// The organisation's invitations, newest first.
    async fn invitations(&self, org: OrgId<'_>) -> Result<Vec<InvitationRow>>;
    /// The invitation whose link token has this hash, in any organisation.
    async fn invitation_by_token(&self, token_hash: &[u8]) -> Result<Option<InvitationRow>>;
    /// Marks a usable invitation as used, atomically: false if it was used, revoked or expired.
    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool>;
    /// Records a registration.
    async fn insert_registration(&self, registration: &RegistrationRow) -> Result<()>;
    /// How and when a user registered, if through an invitation.
    async fn registration(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<RegistrationRow>>;
    /// Stores a guest link.
    async fn insert_guest_link(&self, link: &GuestLinkRow) -> Result<()>;
    /// The guest links of a room, newest first.
    async fn guest_links(&self, org: OrgId<'_>, room_id: &str) -> Result<Vec<GuestLinkRow>>;
    /// The guest link with this token hash, in any organisation.
    async fn guest_link_by_token(&self, token_hash: &[u8]) -> Result<Option<GuestLinkRow>>;
    /// Revokes a guest link; false if there is no such unrevoked link.
    async fn revoke_guest_link(&self, org: OrgId<'_>, id: &str, now: i64) -> Result<bool>;
    /// How many guests joined through a link (`.0`), and how many of them hold a session that
    /// is still valid at `now` (`.1`).
    async fn guests_of_link(&self, org: OrgId<'_>, link_id: &str, now: i64) -> Result<(u64, u64)>;
    /// Ends the sessions of every guest who joined through a link; their user ids.
    async fn end_guests_of_link(&self, org: OrgId<'_>, link_id: &str) -> Result<Vec<String>>;
    /// Records where a guest account may go.
    async fn insert_guest(&self, guest: &GuestRow) -> Result<()>;
    /// Where a guest account may go.
    async fn guest(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<GuestRow>>;
    /// Guest accounts created before `before`, as `(org id, user id)`.
    async fn guests_before(&self, before: i64) -> Result<Vec<(String, String)>>;
}
