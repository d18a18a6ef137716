//! Bureau's storage layer.
//!
//! - [`Store`]: the database boundary. Backends (SQLite now, PostgreSQL later) implement it over
//!   plain rows; they never see personal data in clear, only sealed bytes and blind indexes.
//! - [`vault`]: envelope encryption. The master key wraps per-organisation keys; personal fields
//!   are sealed with XChaCha20-Poly1305, bound to their table, column and row.
//! - [`Keyring`]: loads, caches and creates organisation keys through a `Store`.
//! - [`keyfile`], [`export`], [`backup`]: the customer holds the keys — a passphrase-protected
//!   organisation key file, encrypted organisation exports that open offline with it, and
//!   encrypted backups of the whole database.
//!
//! Every organisation-scoped method takes an [`OrgId`]: a query can only ever reach the rows of
//! the organisation it was given, so cross-organisation access is impossible by construction.

pub mod backup;
mod error;
pub mod export;
pub mod keyfile;
mod keyring;
mod rows;
mod sqlite;
mod sqlite_export;
mod two_factor;
pub mod vault;

pub use error::{ArchiveError, StoreError, VaultError};
pub use keyring::Keyring;
pub use rows::{
    AccessRow, AuditRow, CallLogRow, ConsentRow, InvitationRow, LegalRow, PrivacyRequestRow, OrgId, OrgKeyRow, OrgRow, Purge, Purged, RegistrationRow, RoomRow, SessionRow, TicketRow, TokenRow,
    TransferRow, UserRow,
};
pub use sqlite::SqliteStore;
pub use two_factor::{ChallengeRow, TwoFactorRow, TwoFactorStore};

use async_trait::async_trait;

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database boundary: every read and write Bureau makes (two-factor sign-in's in the
/// supertrait [`TwoFactorStore`]).
#[async_trait]
pub trait Store: TwoFactorStore + Send + Sync + 'static {
    /// Reads a value of the key/value `meta` table.
    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes a value of the key/value `meta` table.
    async fn put_meta(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Creates an organisation together with its first wrapped keys, atomically.
    async fn create_org(&self, org: &OrgRow, keys: &[OrgKeyRow]) -> Result<()>;
    /// All organisations, oldest first.
    async fn orgs(&self) -> Result<Vec<OrgRow>>;
    /// One organisation by id.
    async fn org(&self, org: OrgId<'_>) -> Result<Option<OrgRow>>;
    /// One organisation by its slug.
    async fn org_by_slug(&self, slug: &str) -> Result<Option<OrgRow>>;
    /// Replaces an organisation's settings (name, profile mode, language, support address).
    async fn update_org(&self, org: &OrgRow) -> Result<()>;

    /// The wrapped keys of one organisation.
    async fn org_keys(&self, org: OrgId<'_>) -> Result<Vec<OrgKeyRow>>;
    /// Every wrapped key of every organisation (for master key rotation).
    async fn all_org_keys(&self) -> Result<Vec<OrgKeyRow>>;
    /// Replaces the wrapped form of the given keys and the master key check value in one
    /// transaction: either every key is re-wrapped or none is.
    async fn rewrap_keys(&self, keys: &[OrgKeyRow], master_check: &[u8]) -> Result<()>;

    /// Inserts a user; [`StoreError::Conflict`] if the email index is taken in that organisation.
    async fn insert_user(&self, user: &UserRow) -> Result<()>;
    /// Replaces a user's row except the picture (matched by organisation and id); false if there
    /// is no such user.
    async fn update_user(&self, user: &UserRow) -> Result<bool>;
    /// One user of the organisation.
    async fn user(&self, org: OrgId<'_>, id: &str) -> Result<Option<UserRow>>;
    /// The user of the organisation with this email blind index.
    async fn user_by_email_index(&self, org: OrgId<'_>, index: &[u8]) -> Result<Option<UserRow>>;
    /// Every user of the organisation, oldest first.
    async fn users(&self, org: OrgId<'_>) -> Result<Vec<UserRow>>;
    /// A user's sealed picture, if any.
    async fn picture(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<Vec<u8>>>;
    /// Sets or removes a user's sealed picture; false if there is no such user.
    async fn set_picture(&self, org: OrgId<'_>, user_id: &str, picture: Option<&[u8]>, now: i64) -> Result<bool>;

    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRow) -> Result<()>;
    /// The session with this token hash, if it has not expired at `now`.
    async fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<SessionRow>>;
    /// Ends one session.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    /// Ends every session of a user (deactivation, password change).
    async fn delete_user_sessions(&self, org: OrgId<'_>, user_id: &str) -> Result<()>;

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

    /// The rooms of the organisation, oldest first.
    async fn rooms(&self, org: OrgId<'_>) -> Result<Vec<RoomRow>>;
    /// Adds a room.
    async fn insert_room(&self, room: &RoomRow) -> Result<()>;
    /// Changes a room's name and capacity; false if there is no such room.
    async fn update_room(&self, room: &RoomRow) -> Result<bool>;
    /// Removes a room; false if there was no such room.
    async fn delete_room(&self, org: OrgId<'_>, id: &str) -> Result<bool>;

    /// Records a call or room session and its participants.
    async fn insert_call_log(&self, call: &CallLogRow) -> Result<()>;
    /// The calls a user took part in, newest first, each with every participant.
    async fn user_calls(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<CallLogRow>>;

    /// Records the metadata of a peer-to-peer message or file transfer.
    async fn insert_transfer(&self, transfer: &TransferRow) -> Result<()>;

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

    /// Stores a new support ticket.
    async fn insert_ticket(&self, ticket: &TicketRow) -> Result<()>;
    /// Replaces a ticket (answer, resolve).
    async fn update_ticket(&self, ticket: &TicketRow) -> Result<bool>;
    /// The organisation's tickets, newest first.
    async fn tickets(&self, org: OrgId<'_>) -> Result<Vec<TicketRow>>;

    /// The transfers a user sent or received, newest first.
    async fn user_transfers(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<TransferRow>>;
    /// How and when a user registered, if through an invitation.
    async fn registration(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<RegistrationRow>>;

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

    /// The latest version of a legal text of the organisation.
    async fn legal_text(&self, org: OrgId<'_>, kind: &str) -> Result<Option<LegalRow>>;
    /// Stores a new version of a legal text.
    async fn insert_legal_text(&self, text: &LegalRow) -> Result<()>;

    /// Records a consent.
    async fn insert_consent(&self, consent: &ConsentRow) -> Result<()>;
    /// Marks a consent of the user withdrawn; false if there is no such active consent.
    async fn withdraw_consent(&self, org: OrgId<'_>, user_id: &str, id: &str, now: i64) -> Result<bool>;
    /// The user's consents, newest first.
    async fn consents(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConsentRow>>;

    /// Deletes what the retention periods have expired, in one transaction.
    async fn purge(&self, purge: &Purge) -> Result<Purged>;
    /// Users deactivated (last changed) before `before`, as `(org id, user id)`.
    async fn deactivated_before(&self, before: i64) -> Result<Vec<(String, String)>>;
    /// Erases a user: deletes the account, its sessions, access log, registration, tickets and
    /// invitations, and replaces the user's id in call and transfer logs others keep by an
    /// anonymous one. False if there was no such user.
    async fn erase_user(&self, org: OrgId<'_>, user_id: &str) -> Result<bool>;

    /// Every row of the organisation, read in one transaction, as a `bureau-org-snapshot`
    /// document ([`export`]): sealed columns stay sealed. `None` if there is no such organisation.
    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>>;

    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;
}
