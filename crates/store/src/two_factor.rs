//! The rows and store methods of two-factor sign-in: each user's second factors, their
//! recovery codes, pending sign-in challenges and the organisation's "require 2FA" setting.
//!
//! A separate trait (a supertrait of [`crate::Store`]) keeps this feature's database boundary in
//! one place.

use async_trait::async_trait;

use crate::{OrgId, Result};

/// A user's second factors. Secrets are sealed by the vault; codes are keyed hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwoFactorRow {
    /// The user.
    pub user_id: String,
    /// The organisation.
    pub org_id: String,
    /// The sealed TOTP secret, once enrolment is confirmed.
    pub totp_secret: Option<Vec<u8>>,
    /// The sealed TOTP secret of an enrolment not yet confirmed.
    pub totp_pending: Option<Vec<u8>>,
    /// The last TOTP time step accepted (a code is usable once).
    pub totp_last_step: i64,
    /// The sealed phone number for SMS codes, once confirmed.
    pub phone: Option<Vec<u8>>,
    /// The sealed phone number of an SMS enrolment not yet confirmed.
    pub phone_pending: Option<Vec<u8>>,
    /// Keyed hash of the code sent to `phone_pending`.
    pub phone_code: Option<Vec<u8>>,
    /// When that code expires, Unix milliseconds.
    pub phone_code_expires_at: Option<i64>,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// A pending second step of a sign-in. Only the SHA-256 of its token is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeRow {
    /// SHA-256 of the challenge token.
    pub token_hash: Vec<u8>,
    /// The organisation.
    pub org_id: String,
    /// The user who gave the right password.
    pub user_id: String,
    /// `sign_in` (prove a second factor) or `enrol` (the organisation requires one: set it up).
    pub purpose: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// Wrong codes so far.
    pub failures: i64,
    /// Keyed hash of the SMS code sent for this challenge, if any.
    pub sms_code: Option<Vec<u8>>,
    /// How many SMS were sent for this challenge.
    pub sms_sent: i64,
    /// When it was completed, if it was.
    pub used_at: Option<i64>,
}

/// The database boundary of two-factor sign-in.
#[async_trait]
pub trait TwoFactorStore: Send + Sync + 'static {
    /// A user's second factors, if they ever started an enrolment.
    async fn two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<TwoFactorRow>>;
    /// Inserts or replaces a user's second factors.
    async fn put_two_factor(&self, row: &TwoFactorRow) -> Result<()>;
    /// Removes a user's second factors and recovery codes.
    async fn delete_two_factor(&self, org: OrgId<'_>, user_id: &str) -> Result<()>;
    /// Records `step` as the last accepted TOTP step if it is later than the stored one; false
    /// if it is not (the code was used already). Atomic: two concurrent uses never both succeed.
    async fn advance_totp_step(&self, org: OrgId<'_>, user_id: &str, step: i64) -> Result<bool>;

    /// Replaces a user's recovery codes by these keyed hashes.
    async fn replace_recovery_codes(&self, org: OrgId<'_>, user_id: &str, hashes: &[Vec<u8>]) -> Result<()>;
    /// Marks an unused recovery code as used; false if there is no such unused code. Atomic.
    async fn use_recovery_code(&self, org: OrgId<'_>, user_id: &str, hash: &[u8], now: i64) -> Result<bool>;
    /// How many unused recovery codes a user has.
    async fn recovery_codes_left(&self, org: OrgId<'_>, user_id: &str) -> Result<i64>;

    /// Stores a new challenge.
    async fn insert_challenge(&self, challenge: &ChallengeRow) -> Result<()>;
    /// The unused, unexpired challenge with this token hash.
    async fn challenge(&self, token_hash: &[u8], now: i64) -> Result<Option<ChallengeRow>>;
    /// Counts one wrong code against a challenge and returns the new count.
    async fn challenge_failed(&self, token_hash: &[u8]) -> Result<i64>;
    /// Records the keyed hash of a freshly sent SMS code (replacing an earlier one).
    async fn challenge_sms_sent(&self, token_hash: &[u8], code_hash: &[u8]) -> Result<()>;
    /// Marks an unused, unexpired challenge as used; false if it was not (used, expired or
    /// unknown). Two concurrent calls never both succeed.
    async fn finish_challenge(&self, token_hash: &[u8], now: i64) -> Result<bool>;

    /// Whether the organisation requires every user to have a second factor.
    async fn org_requires_two_factor(&self, org: OrgId<'_>) -> Result<bool>;
    /// Sets whether the organisation requires a second factor.
    async fn set_org_requires_two_factor(&self, org: OrgId<'_>, required: bool) -> Result<()>;
}
