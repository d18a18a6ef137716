//! Sign-in: sessions, one-time tokens (setup links) and the access log: the database boundary of `bureau_office`'s accounts service.

use async_trait::async_trait;

use crate::*;

/// Sign-in: sessions, one-time tokens (setup links) and the access log.
#[async_trait]
pub trait AccountsStore: Send + Sync + 'static {
    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRow) -> Result<()>;
    /// The session with this token hash, if it has not expired at `now`.
    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>>;
    /// Ends one session.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    /// Ends every session of a user (deactivation, password change).
    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()>;
    /// Sets a member's password hash and whether they must change it at the next sign-in, and
    /// ends their sessions but `keep` (the session that changed it); false if there is no such
    /// member (guests have no password).
    async fn set_password(&self, org: OrgId<'_>, user_id: &str, password_hash: &str, must_change: bool, keep: Option<&[u8]>, now: i64) -> Result<bool>;
    /// Stores a one-time token (setup link, invitation, ...).
    async fn insert_token(&self, token: &TokenRow) -> Result<()>;
    /// Marks an unused, unexpired token of that purpose as used and returns it; `None` if the
    /// token is unknown, used or expired. Two concurrent calls never both succeed.
    async fn redeem_token(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<Option<TokenRow>>;
    /// Whether an unused, unexpired token of that purpose exists.
    async fn token_valid(&self, token_hash: &[u8], purpose: &str, now: i64) -> Result<bool>;
    /// Appends an access-log entry.
    async fn insert_access(&self, entry: &AccessRow) -> Result<()>;
    /// The access-log entries of one user, newest first.
    async fn user_access(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<AccessRow>>;
}
