//! Bureau's domain services: organisations, accounts, the directory and sign-in.
//!
//! [`Office`] is the one entry point. It talks to the database through
//! [`bureau_store::Store`], seals every personal field with the organisation's keys before it
//! reaches the store, and takes the time from an injected [`Clock`]. It knows nothing of HTTP:
//! the server crate turns requests into calls here and [`OfficeError`]s into responses.

mod access;
mod accounts;
mod challenge;
mod changes;
mod clock;
mod consent;
mod directory;
mod error;
pub mod fuzzing;
mod guests;
mod invitations;
mod legal;
mod limiter;
mod mail;
mod logs;
mod password;
mod picture;
mod privacy;
mod devices;
mod profile;
mod requests;
mod rights;
mod rooms;
mod support;
mod sms;
mod totp;
mod two_factor;

use std::sync::Arc;

use bureau_store::vault::{MasterKey, OrgKeys, Slot};
use bureau_store::{Keyring, OrgId, OrgRow, Store, UserRow};
use serde::Serialize;
use utoipa::ToSchema;

pub use access::{AccessDetails, Client, browser};
pub use accounts::{NewUser, SignedIn, session_tag};
pub use challenge::{CHALLENGE_TTL_MS, Challenge, Proof, SecondFactorMethod, SignInStep};
pub use sms::{SmsError, SmsProvider, normalise_phone};
pub use totp::{base32_decode, code_at_step, step_at};
pub use two_factor::{RecoveryCodes, TotpEnrolment, TwoFactorStatus};
pub use changes::Change;
pub use clock::{Clock, FakeClock, SystemClock};
pub use consent::{ConsentView, GiveConsent};
pub use directory::OrgSettingsPatch;
pub use error::{OfficeError, Result};
pub use guests::{GuestJoin, GuestLinkInfo, GuestLinkView, NewGuestLink};
pub use profile::{Extended, Profile, ProfileMode, UserPatch, normalise_email};
pub use picture::{MAX_PICTURE_BYTES, decode_data_url};
pub use invitations::{InvitationStatus, InvitationView, NewInvitation, RegisterRequest, RegistrationInfo};
pub use legal::{LegalPatch, LegalText, LegalTexts};
pub use logs::{CallEntry, FinishedCall, TransferKind, TransferReport};
pub use privacy::{EXPORT_VERSION, EraseRequest, Export, Objection, PrivacySettings, PrivacySettingsPatch, RetentionPeriods};
pub use requests::{AuditEntry, CloseRequest, NewPrivacyRequest, PrivacyRequestView, RequestKind};
pub use rights::{Actor, Right, Role};
pub use mail::{Language, Mail, MailError, Mailer, MemoryMailer, compose, html_escape};
pub use rooms::{NewRoom, RoomKind, RoomPatch, RoomView};
pub use support::{NewTicket, TicketMessage, TicketView};

use limiter::Limiter;
pub use limiter::{FailureWindows, MemoryWindows, Window};

/// Tunable rules of the domain (from the server's configuration).
#[derive(Clone, Debug)]
pub struct Policy {
    /// How long a session lasts, in milliseconds.
    pub session_ttl_ms: i64,
    /// How long a first-admin setup link stays valid, in milliseconds.
    pub setup_link_ttl_ms: i64,
    /// Failed sign-ins allowed per account from one IP address within
    /// [`Policy::login_window_ms`]; one more and that address waits, nobody else does.
    pub login_failures_per_account: usize,
    /// Failed sign-ins allowed per account from all addresses together within
    /// [`Policy::login_window_ms`]; one more and sign-ins from devices the account never
    /// signed in on wait, while its known devices go on.
    pub login_failures_per_account_anywhere: usize,
    /// Failed sign-ins allowed per IP address within [`Policy::login_window_ms`].
    pub login_failures_per_ip: usize,
    /// The sliding window of the sign-in rate limits, in milliseconds.
    pub login_window_ms: i64,
    /// How long an invitation link stays valid, in milliseconds.
    pub invitation_ttl_ms: i64,
    /// How long each category of data is kept.
    pub retention: RetentionPeriods,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            session_ttl_ms: 7 * 24 * 3600 * 1000,
            setup_link_ttl_ms: 24 * 3600 * 1000,
            login_failures_per_account: 10,
            login_failures_per_account_anywhere: 50,
            login_failures_per_ip: 50,
            login_window_ms: 15 * 60 * 1000,
            invitation_ttl_ms: 7 * 24 * 3600 * 1000,
            retention: RetentionPeriods::default(),
        }
    }
}

/// The domain services over one store.
pub struct Office {
    store: Arc<dyn Store>,
    keyring: Keyring,
    clock: Arc<dyn Clock>,
    policy: Policy,
    account_limiter: Limiter,
    pair_limiter: Limiter,
    ip_limiter: Limiter,
    /// Joins through one guest link per minute.
    guest_join_limiter: Limiter,
    /// Emails one member or guest may cause per hour.
    mail_limiter: Limiter,
    /// Emails one administrator or inviter may cause per hour.
    staff_mail_limiter: Limiter,
    /// A hash verified when the account does not exist, so that both cases cost the same time.
    decoy_hash: String,
    mailer: Arc<dyn Mailer>,
    /// The address users open, for links in emails.
    public_url: String,
    /// Who personal data is passed to (mail relay, SMS provider), for exports.
    recipients: Vec<String>,
    /// Second factors: the SMS provider and the limits on codes and messages.
    two_factor: two_factor::TwoFactor,
    /// Where the changes the live office must hear about go.
    changes: changes::Changes,
}

/// An organisation's settings as shown to its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrgView {
    /// Organisation id.
    pub id: String,
    /// Short name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Which profile fields exist.
    pub profile_mode: ProfileMode,
    /// Language of emails: `en` or `de`.
    pub language: String,
    /// Where support requests are emailed (all administrators when unset).
    pub support_email: Option<String>,
    /// Every user must sign in with a second factor.
    pub require_two_factor: bool,
}

/// A user as the API shows them. Extended fields appear only in extended-profile mode.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct UserView {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Extra rights.
    pub rights: Vec<Right>,
    /// False once deactivated.
    pub active: bool,
    /// Whether `GET /api/users/{id}/picture` has an image.
    pub has_picture: bool,
    /// Extended-profile fields (flattened into the object).
    #[serde(flatten)]
    pub extended: Extended,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// The stored record failed its integrity check (altered or damaged): listed with a
    /// placeholder name so that everyone else keeps working; an administrator restores it from
    /// a backup. The server log names the record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unavailable: bool,
}

/// Emails a member or guest may cause per hour (support notices, consent confirmations).
const MAILS_PER_HOUR: usize = 10;
/// Emails an administrator, inviter or privacy team member may cause per hour (invitations,
/// answers).
const STAFF_MAILS_PER_HOUR: usize = 200;
const HOUR_MS: i64 = 3600 * 1000;

/// Set in the `meta` table once every profile carries its grant.
const GRANTS_SEALED: &str = "profile_grants_sealed";

/// The name shown for a user whose stored record failed its integrity check.
pub const UNAVAILABLE_NAME: &str = "Unavailable (damaged record)";

impl Office {
    /// Opens the services: binds the master key to the store (refusing a mismatching one).
    pub async fn open(store: Arc<dyn Store>, master: MasterKey, clock: Arc<dyn Clock>, policy: Policy) -> Result<Self> {
        let keyring = Keyring::open(store.as_ref(), master).await?;
        let decoy_hash = password::hash("decoy password for absent accounts".into()).await?;
        let windows: Arc<dyn FailureWindows> = Arc::new(MemoryWindows::default());
        let office = Office {
            account_limiter: Limiter::new("account", policy.login_failures_per_account_anywhere, policy.login_window_ms, windows.clone()),
            pair_limiter: Limiter::new("account-ip", policy.login_failures_per_account, policy.login_window_ms, windows.clone()),
            ip_limiter: Limiter::new("ip", policy.login_failures_per_ip, policy.login_window_ms, windows.clone()),
            guest_join_limiter: Limiter::new("guest-join", guests::JOINS_PER_MINUTE, 60_000, windows.clone()),
            mail_limiter: Limiter::new("mail", MAILS_PER_HOUR, HOUR_MS, windows.clone()),
            staff_mail_limiter: Limiter::new("staff-mail", STAFF_MAILS_PER_HOUR, HOUR_MS, windows.clone()),
            two_factor: two_factor::TwoFactor::new(policy.login_window_ms, windows),
            changes: changes::Changes::default(),
            store,
            keyring,
            clock,
            policy,
            decoy_hash,
            mailer: Arc::new(MemoryMailer::default()),
            public_url: "https://localhost".into(),
            recipients: Vec::new(),
        };
        office.seal_missing_grants().await?;
        Ok(office)
    }

    /// Counts sign-in and second-factor failures in `windows` (shared by every node) instead of
    /// in this process.
    pub fn set_failure_windows(&mut self, windows: Arc<dyn FailureWindows>) {
        self.account_limiter = self.account_limiter.moved_to(windows.clone());
        self.pair_limiter = self.pair_limiter.moved_to(windows.clone());
        self.ip_limiter = self.ip_limiter.moved_to(windows.clone());
        self.guest_join_limiter = self.guest_join_limiter.moved_to(windows.clone());
        self.mail_limiter = self.mail_limiter.moved_to(windows.clone());
        self.staff_mail_limiter = self.staff_mail_limiter.moved_to(windows.clone());
        self.two_factor.failures = self.two_factor.failures.moved_to(windows.clone());
        self.two_factor.sends = self.two_factor.sends.moved_to(windows);
    }

    /// Sends emails through `mailer`, with links to `public_url`.
    pub fn with_mail(mut self, mailer: Arc<dyn Mailer>, public_url: &str) -> Self {
        self.mailer = mailer;
        self.public_url = public_url.trim_end_matches('/').to_owned();
        self
    }

    /// Names the services personal data is passed to (shown in exports, art. 19).
    pub fn with_recipients(mut self, recipients: Vec<String>) -> Self {
        self.recipients = recipients;
        self
    }

    /// The store, for readiness checks and maintenance commands.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The keyring, for master key rotation.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn keys(&self, org_id: &str) -> Result<Arc<OrgKeys>> {
        Ok(self.keyring.org(self.store.as_ref(), OrgId(org_id)).await?)
    }

    /// The view of an organisation row (opens the sealed support address).
    fn org_view(&self, keys: &OrgKeys, org: &OrgRow) -> Result<OrgView> {
        let support_email = match &org.support_email {
            Some(sealed) => Some(String::from_utf8(keys.open(org_slot(&org.id), sealed)?).map_err(|_| OfficeError::Tampered)?),
            None => None,
        };
        Ok(OrgView {
            id: org.id.clone(),
            slug: org.slug.clone(),
            name: org.name.clone(),
            profile_mode: ProfileMode::from_name(&org.profile_mode),
            language: org.language.clone(),
            support_email,
            require_two_factor: false,
        })
    }

    async fn org_row(&self, org_id: &str) -> Result<OrgRow> {
        self.store.org(OrgId(org_id)).await?.ok_or(OfficeError::NotFound("organisation"))
    }

    /// Opens a user's sealed profile; a tampered row is refused and logged (without contents).
    fn open_profile(&self, keys: &OrgKeys, row: &UserRow) -> Result<Profile> {
        keys.open_json(profile_slot(&row.id), &row.profile).map_err(|err| {
            tracing::error!(user_id = %row.id, "sealed profile failed to open: {err}");
            OfficeError::Tampered
        })
    }

    /// Counts one email caused by `actor`; `RateLimited` once they caused their hourly share,
    /// so that no one can make Bureau mail anyone in a loop.
    pub(crate) async fn mail_allowance(&self, actor: &Actor) -> Result<()> {
        let staff = actor.is_admin() || actor.can(Right::Invite) || actor.can(Right::ManagePrivacy);
        let limiter = if staff { &self.staff_mail_limiter } else { &self.mail_limiter };
        let key = accounts::limit_key("mail", &actor.user_id);
        let now = self.now();
        if let Some(seconds) = limiter.blocked(&key, now).await {
            tracing::warn!(user_id = %actor.user_id, "emails held back: the user caused their hourly share");
            return Err(OfficeError::RateLimited(seconds));
        }
        limiter.fail(&key, now).await;
        Ok(())
    }

    /// Seals `profile` into `row`, with the row's current role, rights and state as its grant
    /// (call after setting those).
    fn seal_profile(keys: &OrgKeys, row: &mut UserRow, profile: &Profile) {
        let profile = Profile { grant: Some(profile::Grant::of(row)), ..profile.clone() };
        row.profile = keys.seal_json(profile_slot(&row.id), &profile);
    }

    /// Refuses a row whose clear role, rights or state differ from what Bureau sealed with its
    /// profile: someone changed the database behind Bureau's back (logged with the user id).
    fn check_grant(row: &UserRow, profile: &Profile) -> Result<()> {
        if profile.grant.as_ref() == Some(&profile::Grant::of(row)) {
            return Ok(());
        }
        tracing::error!(user_id = %row.id, "the role, rights or state of this user do not match the sealed profile: the database was edited; the user is refused until an administrator saves the user again");
        Err(OfficeError::Tampered)
    }

    /// Gives every profile sealed before grants existed its grant, once per database.
    async fn seal_missing_grants(&self) -> Result<()> {
        if self.store.meta(GRANTS_SEALED).await?.as_deref() == Some(b"1") {
            return Ok(());
        }
        let mut sealed = 0;
        for org in self.store.orgs().await? {
            let keys = self.keys(&org.id).await?;
            for mut row in self.store.users(OrgId(&org.id)).await? {
                let Ok(profile) = self.open_profile(&keys, &row) else { continue };
                if profile.grant.is_none() {
                    Self::seal_profile(&keys, &mut row, &profile);
                    self.store.update_user(&row).await?;
                    sealed += 1;
                }
            }
        }
        self.store.put_meta(GRANTS_SEALED, b"1").await?;
        if sealed > 0 {
            tracing::info!(users = sealed, "sealed the role and rights of existing users with their profiles");
        }
        Ok(())
    }

    /// A profile for a listing of many users: a record that fails to open (logged, with its
    /// id) becomes a placeholder instead of failing the whole listing; `true` when it did.
    fn open_profile_or_placeholder(&self, keys: &OrgKeys, row: &UserRow) -> (Profile, bool) {
        match self.open_profile(keys, row) {
            Ok(profile) => (profile, false),
            Err(_) => (Profile { name: UNAVAILABLE_NAME.into(), ..Profile::default() }, true),
        }
    }

    /// The API view of a user row as `viewer` may see it.
    fn view(&self, row: &UserRow, profile: Profile, mode: ProfileMode, viewer: Option<&Actor>) -> UserView {
        let mut extended = match mode {
            ProfileMode::Extended => profile.extended,
            ProfileMode::Entry => Extended::default(),
        };
        let sees_private = viewer.is_none_or(|v| v.is_admin() || v.user_id == row.id);
        if !sees_private {
            extended.personnel_id = None;
        }
        UserView {
            id: row.id.clone(),
            name: profile.name,
            email: profile.email,
            role: row.role,
            rights: row.rights.clone(),
            active: row.active,
            has_picture: row.has_picture,
            extended,
            created_at: row.created_at,
            unavailable: false,
        }
    }
}

/// Where an organisation's sealed support address lives.
fn org_slot(org_id: &str) -> Slot<'_> {
    Slot { table: "orgs", column: "support_email", row: org_id }
}

/// Where a user's sealed profile lives.
fn profile_slot(user_id: &str) -> Slot<'_> {
    Slot { table: "users", column: "profile", row: user_id }
}

/// The blind index of a normalised email.
fn email_index(keys: &OrgKeys, normalised_email: &str) -> Vec<u8> {
    keys.blind_index("email", normalised_email)
}
