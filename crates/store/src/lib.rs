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
pub mod boundary;
pub mod backup;
mod error;
pub mod export;
pub mod keyfile;
mod keyring;
mod kinds;
pub mod postgres;
pub mod queries;
mod rows;
#[cfg(test)]
mod schema_tests;
mod sql;
mod sqlite;
mod two_factor;
pub mod vault;
mod xchacha;

pub use boundary::{AccountsStore, DirectoryStore, FILE_CHUNK, JoiningStore, MessagingStore, PrivacyStore, RoomsStore, SupportStore, WorkingDayStore};
pub use backend::{Backend, TEST_DATABASE_URL, is_postgres_url, postgres_test_database_url, test_database_url};
pub use error::{ArchiveError, StoreError, VaultError};
pub use keyring::Keyring;
pub use kinds::{Right, Role, RoomKind, rights_to_column};
pub use rows::{
    AbsenceRow, AccessRow, AttendanceRow, AuditRow, CalendarEntryRow, CalendarRow, CallLogRow, ConversationRow, DeviceKeyRow, FileUsage, QueueTarget, MessageBodyRow, MessageFileRow, OrgMessagingRow, QueueRow, ConsentRow, GuestLinkRow, GuestRow, InvitationRow, LegalRow, PrivacyRequestRow, OrgId, OrgKeyRow, OrgRow, Purge, Purged, RegistrationRow, RoomRow, SessionRow, TicketRow, TokenRow,
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

/// The database boundary: every read and write Bureau makes, as one trait per feature service
/// of `bureau_office` ([`boundary`]), and what only maintenance needs.
#[async_trait]
pub trait Store: DirectoryStore + AccountsStore + TwoFactorStore + RoomsStore + JoiningStore + SupportStore + PrivacyStore + WorkingDayStore + MessagingStore {
    /// Every row of the organisation, read in one transaction, as a `bureau-org-snapshot`
    /// document ([`export`]): sealed columns stay sealed. `None` if there is no such organisation.
    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>>;

    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;
}
