//! Bureau's storage layer.
//!
//! - [`Store`]: the database boundary, over plain rows: the store never sees personal data in
//!   clear, only sealed bytes and blind indexes. Every query is written once ([`queries`], in a
//!   module per feature) and runs on either engine through the small executor of `sql`:
//!   [`SqliteStore`] (one file, the default) or [`PostgresStore`] (several nodes).
//! - [`vault`]: envelope encryption. The master key wraps per-organisation keys; personal fields
//!   are sealed with XChaCha20-Poly1305, bound to their table, column and row.
//! - [`Keyring`]: loads, caches and creates organisation keys through a `Store`.
//! - [`keyfile`], [`export`], [`backup`]: the customer holds the keys — a passphrase-protected
//!   organisation key file, encrypted organisation exports that open offline with it, and
//!   encrypted backups of the whole database.
//!
//! Every organisation-scoped method takes an [`OrgId`]: a query can only ever reach the rows of
//! the organisation it was given, so cross-organisation access is impossible by construction.

mod backend;
pub mod backup;
mod error;
pub mod export;
pub mod keyfile;
mod joining_store;
mod keyring;
mod kinds;
mod office_store;
pub mod postgres;
mod privacy_store;
pub mod queries;
mod rows;
#[cfg(test)]
mod schema_tests;
mod sql;
mod sqlite;
mod two_factor;
pub mod vault;
mod xchacha;

pub use backend::{Backend, TEST_DATABASE_URL, is_postgres_url, postgres_test_database_url, test_database_url};
pub use error::{ArchiveError, StoreError, VaultError};
pub use joining_store::JoiningStore;
pub use keyring::Keyring;
pub use kinds::{Right, Role, RoomKind, rights_to_column};
pub use office_store::OfficeStore;
pub use privacy_store::PrivacyStore;
pub use rows::{
    AccessRow, AuditRow, CallLogRow, ConsentRow, GuestLinkRow, GuestRow, InvitationRow, LegalRow, PrivacyRequestRow, OrgId, OrgKeyRow, OrgRow, Purge, Purged, RegistrationRow, RoomRow, SessionRow, TicketRow, TokenRow,
    TransferRow, UserRow,
};
pub use postgres::PostgresStore;
pub use queries::SqlStore;
pub use sql::{Engine, FromValue, Reader};
pub use sqlite::SqliteStore;
pub use two_factor::{ChallengeRow, TwoFactorRow, TwoFactorStore};

use async_trait::async_trait;

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database boundary: every read and write Bureau makes (two-factor sign-in's in the
/// supertrait [`TwoFactorStore`]).
#[async_trait]
pub trait Store: TwoFactorStore + OfficeStore + JoiningStore + PrivacyStore + Send + Sync + 'static {
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
    /// Refuses with [`StoreError::LastAdmin`] a change that leaves the organisation without an
    /// active administrator.
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

    /// Every row of the organisation, read in one transaction, as a `bureau-org-snapshot`
    /// document ([`export`]): sealed columns stay sealed. `None` if there is no such organisation.
    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>>;

    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;
}
