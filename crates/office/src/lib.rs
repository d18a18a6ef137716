//! Bureau's domain services: organisations, accounts, the directory and sign-in.
//!
//! [`Office`] is the one entry point: a service per feature ([`Accounts`], [`TwoFactor`],
//! [`Directory`], [`Rooms`], [`Joining`], [`Support`], [`Privacy`]), each with its own state and
//! its own store trait of `bureau_store` (its tables only), over a shared core (`core.rs`: the
//! directory of organisations and users, keys, clock, mail). A service that needs another holds
//! it (joining creates accounts; privacy exports what every other feature keeps); the arrows
//! point one way, from privacy down to the directory. Personal fields are sealed with the
//! organisation's keys before they reach the store, and the time comes from an injected
//! [`Clock`]. A change the live office must hear about is an event the domain emits
//! ([`Office::subscribe`]), not a call each handler must remember. It knows nothing of HTTP:
//! the server crate turns requests into calls here and [`OfficeError`]s into responses.

mod access;
mod attendance;
mod calendar;
mod calendar_feed;
mod calendar_import;
mod accounts;
mod challenge;
mod changes;
mod clock;
mod consent;
mod core;
mod directory;
mod error;
pub mod fuzzing;
mod guests;
mod invitations;
mod legal;
mod limiter;
mod mail;
mod messaging;
mod message_files;
mod conversations;
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
mod working_day;

use std::sync::Arc;

use bureau_store::vault::MasterKey;
use bureau_store::{Keyring, Store};
use serde::Serialize;
use utoipa::ToSchema;

pub use access::{AccessDetails, Client, browser};
pub use accounts::{Accounts, Authenticated, NewUser, SignedIn, session_tag};
pub use challenge::{CHALLENGE_TTL_MS, Challenge, Proof, SecondFactorMethod, SignInStep};
pub use sms::{SmsError, SmsProvider, normalise_phone};
pub use totp::{base32_decode, code_at_step, step_at};
pub use two_factor::{TwoFactor, RecoveryCodes, TotpEnrolment, TwoFactorStatus};
pub use changes::Change;
pub use clock::{Clock, FakeClock, SystemClock};
pub use consent::{ConsentView, GiveConsent};
pub use directory::{Directory, OrgSettingsPatch};
pub use error::{OfficeError, Result};
pub use guests::{GuestJoin, GuestLinkInfo, GuestLinkView, NewGuestLink};
pub use profile::{Extended, Profile, ProfileMode, UserPatch, normalise_email};
pub use picture::{MAX_PICTURE_BYTES, decode_data_url};
pub use invitations::{Joining, InvitationStatus, InvitationView, NewInvitation, RegisterRequest, RegistrationInfo};
pub use legal::{LegalPatch, LegalText, LegalTexts};
pub use logs::{CallEntry, FinishedCall, TransferKind, TransferReport};
pub use privacy::{Privacy, EXPORT_VERSION, EraseRequest, Export, Objection, PrivacySettings, PrivacySettingsPatch, RetentionPeriods};
pub use requests::{AuditEntry, CloseRequest, NewPrivacyRequest, PrivacyRequestView, RequestKind};
pub use rights::{Actor, Right, Role};
pub use mail::{Language, Mail, MailError, Mailer, MemoryMailer, compose, html_escape};
pub use rooms::{Rooms, NewRoom, RoomKind, RoomPatch, RoomView, SFU_THRESHOLDS};
pub use calendar_feed::{CalendarFeed, CalendarFeedStatus};
pub use calendar_import::{Busy, ImportError, busy_intervals};
pub use attendance::{AttendanceDay, AttendanceReport, Interval, WeekTotal};
pub use working_day::{AbsenceKind, AbsenceView, Away, NewAbsence, WorkingDay, MAX_UPCOMING};
pub use calendar::{
    CalendarKind, CalendarNow, CalendarReader, CalendarSettings, CalendarSource, CalendarView, ConnectCalendar, EntryView, Meeting, NewEntry, NextBusy,
    NoCalendarReader, ReadError, SourceView, free_busy_query,
};
pub use support::{Support, NewTicket, TicketMessage, TicketView};
pub use conversations::{ConversationView, MAX_CONVERSATIONS_PER_USER, MAX_MEMBERS, NewConversation, NewMember};
pub use message_files::{DEFAULT_MAX_FILE_MB, FileUploaded, MAX_FILE_MB, MAX_STORED_BYTES, MAX_STORED_FILES, MessageFileView, UPLOADS_PER_HOUR};
pub use messaging::{DeviceProof, DeviceView, InboxEntry, MAX_BODY, MAX_DEVICES, MAX_WAITING, Messaging, NewDevice, NewMessage, Queued};

use core::Core;
use limiter::Limiter;
use sms::NoSms;
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

/// The domain services over one store: a service per feature.
pub struct Office {
    /// Organisations, the first-admin setup, accounts, sign-in (both steps) and sessions.
    pub accounts: Arc<Accounts>,
    /// Enrolling and managing second factors; the organisation's "require 2FA" setting.
    pub two_factor: Arc<TwoFactor>,
    /// The organisation's settings and the directory of users: profiles and pictures.
    pub directory: Arc<Directory>,
    /// The working day: absences, attendance times and the calendar.
    pub working_day: Arc<WorkingDay>,
    /// The rooms of the floor plan, and the metadata logs of calls and transfers.
    pub rooms: Arc<Rooms>,
    /// Invitations, registration and guest links.
    pub joining: Arc<Joining>,
    /// Support requests.
    pub support: Arc<Support>,
    /// End-to-end encrypted messaging: devices and their public keys.
    pub messaging: Arc<Messaging>,
    /// Consent, legal texts, privacy requests, the audit log, export, erasure and retention.
    pub privacy: Arc<Privacy>,
    /// What the services were made from, to make them again with other outside services.
    parts: Parts,
}

/// What an [`Office`] is made of: its store and keys, and the services outside it.
#[derive(Clone)]
struct Parts {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    /// A hash verified when the account does not exist, so that both cases cost the same time.
    decoy_hash: String,
    /// Where failures and sends are counted (this process, or Redis for every node).
    windows: Arc<dyn FailureWindows>,
    mailer: Arc<dyn Mailer>,
    public_url: String,
    recipients: Vec<String>,
    sms: Arc<dyn SmsProvider>,
    calendar_reader: Arc<dyn CalendarReader>,
    changes: Arc<changes::Changes>,
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
    /// End-to-end encrypted messages may wait on the server for colleagues who are offline
    /// (store and forward); off, messages travel only peer to peer while both are online.
    pub messages_store_and_forward: bool,
    /// Days a waiting message that no device fetched is kept at most (then deleted unread);
    /// uploaded files of messages are kept as long.
    pub messages_retention_days: u32,
    /// The largest file of a message members may upload, in MiB.
    pub messages_max_file_mb: u32,
    /// People at which a room's media moves from the peer-to-peer mesh to the media server
    /// (2–100; still end-to-end encrypted); `null`: the server's default (`sfu.threshold`).
    /// Rooms marked large use it always.
    pub sfu_threshold: Option<u32>,
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
    /// The user's next busy interval, when they share it (directory listings, extended profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_busy: Option<NextBusy>,
    /// The stored record failed its integrity check (altered or damaged): listed with a
    /// placeholder name so that everyone else keeps working; an administrator restores it from
    /// a backup. The server log names the record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unavailable: bool,
    /// An administrator chose the password: the user must choose their own at the next
    /// sign-in, and until then their session serves only that.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_change_password: bool,
}

/// Emails a member or guest may cause per hour (support notices, consent confirmations).
const MAILS_PER_HOUR: usize = 10;
/// Emails an administrator, inviter or privacy team member may cause per hour (invitations,
/// answers).
const STAFF_MAILS_PER_HOUR: usize = 200;
const HOUR_MS: i64 = 3600 * 1000;

/// The name shown for a user whose stored record failed its integrity check.
pub const UNAVAILABLE_NAME: &str = "Unavailable (damaged record)";

impl Office {
    /// Opens the services: binds the master key to the store (refusing a mismatching one).
    pub async fn open(store: Arc<dyn Store>, master: MasterKey, clock: Arc<dyn Clock>, policy: Policy) -> Result<Self> {
        let keyring = Arc::new(Keyring::open(store.as_ref(), master).await?);
        let parts = Parts {
            decoy_hash: password::hash("decoy password for absent accounts".into()).await?,
            windows: Arc::new(MemoryWindows::default()),
            mailer: Arc::new(MemoryMailer::default()),
            public_url: "https://localhost".into(),
            recipients: Vec::new(),
            sms: Arc::new(NoSms),
            calendar_reader: Arc::new(NoCalendarReader),
            changes: Arc::default(),
            store,
            keyring,
            clock,
            policy,
        };
        let office = Office::assemble(parts);
        office.directory.core.seal_missing_grants().await?;
        Ok(office)
    }

    /// Makes the services from their parts, each feature over its own store trait; the ones a
    /// service needs are made before it.
    fn assemble(parts: Parts) -> Self {
        let Parts { store, policy, windows, .. } = parts.clone();
        let limiter = |name, max, window_ms| Limiter::new(name, max, window_ms, windows.clone());
        let core = Arc::new(Core {
            store: store.clone(),
            keyring: parts.keyring.clone(),
            clock: parts.clock.clone(),
            mailer: parts.mailer.clone(),
            public_url: parts.public_url.clone(),
            recipients: parts.recipients.clone(),
            mail_limiter: limiter("mail", MAILS_PER_HOUR, HOUR_MS),
            staff_mail_limiter: limiter("staff-mail", STAFF_MAILS_PER_HOUR, HOUR_MS),
            decoy_hash: parts.decoy_hash.clone(),
            changes: parts.changes.clone(),
            policy: policy.clone(),
        });
        let two_factor = Arc::new(TwoFactor {
            core: core.clone(),
            store: store.clone(),
            sms: parts.sms.clone(),
            failures: limiter("2fa-code", two_factor::MAX_CODE_FAILURES, policy.login_window_ms),
            sends: limiter("2fa-sms", two_factor::MAX_SMS, policy.login_window_ms),
        });
        let accounts = Arc::new(Accounts {
            core: core.clone(),
            store: store.clone(),
            two_factor: two_factor.clone(),
            account_limiter: limiter("account", policy.login_failures_per_account_anywhere, policy.login_window_ms),
            pair_limiter: limiter("account-ip", policy.login_failures_per_account, policy.login_window_ms),
            ip_limiter: limiter("ip", policy.login_failures_per_ip, policy.login_window_ms),
        });
        let messaging = Arc::new(Messaging {
            core: core.clone(),
            store: store.clone(),
            send_limiter: limiter("message-send", messaging::SENDS_PER_MINUTE, 60_000),
            upload_limiter: limiter("message-upload", message_files::UPLOADS_PER_HOUR, HOUR_MS),
        });
        let directory = Arc::new(Directory { core: core.clone(), accounts: accounts.clone(), two_factor: two_factor.clone(), messaging: messaging.clone() });
        let working_day = Arc::new(WorkingDay {
            core: core.clone(),
            store: store.clone(),
            calendar_reader: parts.calendar_reader.clone(),
            calendar_limiter: limiter("calendar-read", calendar::READS_PER_HOUR, HOUR_MS),
            present_since: Default::default(),
            attendance_writes: Default::default(),
        });
        let rooms = Arc::new(Rooms { core: core.clone(), store: store.clone(), working_day: working_day.clone() });
        let joining = Arc::new(Joining {
            core: core.clone(),
            store: store.clone(),
            accounts: accounts.clone(),
            rooms: rooms.clone(),
            guest_join_limiter: limiter("guest-join", guests::JOINS_PER_MINUTE, 60_000),
        });
        let support = Arc::new(Support { core: core.clone(), store: store.clone(), directory: directory.clone() });
        let privacy = Arc::new(Privacy {
            core,
            store,
            accounts: accounts.clone(),
            joining: joining.clone(),
            two_factor: two_factor.clone(),
            directory: directory.clone(),
            rooms: rooms.clone(),
            working_day: working_day.clone(),
            support: support.clone(),
            messaging: messaging.clone(),
        });
        Office { accounts, two_factor, directory, working_day, rooms, joining, support, messaging, privacy, parts }
    }

    /// The same services with one outside part changed.
    fn rebuilt(self, change: impl FnOnce(&mut Parts)) -> Self {
        let mut parts = self.parts;
        change(&mut parts);
        Office::assemble(parts)
    }

    /// Counts sign-in and second-factor failures in `windows` (shared by every node) instead of
    /// in this process.
    pub fn with_failure_windows(self, windows: Arc<dyn FailureWindows>) -> Self {
        self.rebuilt(|parts| parts.windows = windows)
    }

    /// Sends text messages through `provider` (the server passes Twilio or the development log).
    pub fn with_sms_provider(self, provider: Arc<dyn SmsProvider>) -> Self {
        self.rebuilt(|parts| parts.sms = provider)
    }

    /// Reads users' outside calendars (CalDAV, ICS) through `reader`.
    pub fn with_calendar_reader(self, reader: Arc<dyn CalendarReader>) -> Self {
        self.rebuilt(|parts| parts.calendar_reader = reader)
    }

    /// Sends emails through `mailer`, with links to `public_url`.
    pub fn with_mail(self, mailer: Arc<dyn Mailer>, public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        self.rebuilt(|parts| (parts.mailer, parts.public_url) = (mailer, public_url))
    }

    /// Names the services personal data is passed to (shown in exports, art. 19).
    pub fn with_recipients(self, recipients: Vec<String>) -> Self {
        self.rebuilt(|parts| parts.recipients = recipients)
    }

    /// The store, for readiness checks and maintenance commands.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.parts.store
    }

    /// The keyring, for master key rotation.
    pub fn keyring(&self) -> &Keyring {
        &self.parts.keyring
    }
}

