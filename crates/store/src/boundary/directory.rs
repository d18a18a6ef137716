//! Organisations, their wrapped keys and the settings of the `meta` table; users, their sealed profiles and pictures: the database boundary of `bureau_office`'s directory service.

use async_trait::async_trait;

use crate::*;

/// Organisations, their wrapped keys and the settings of the `meta` table; users, their sealed profiles and pictures.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
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
    /// Replaces an organisation's settings (name, profile mode, language, support address,
    /// threshold of the media server).
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
}
