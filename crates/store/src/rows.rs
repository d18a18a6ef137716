//! The rows the store reads and writes. Personal data only ever appears here sealed.

/// An organisation id, required by every organisation-scoped store method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgId<'a>(pub &'a str);

/// An organisation (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRow {
    /// Random id (UUIDv4).
    pub id: String,
    /// Short name used in URLs and the CLI (`--org`).
    pub slug: String,
    /// The organisation's display name (a company, not a person).
    pub name: String,
    /// `entry` (name, email, admin status only) or `extended` (the full profile).
    pub profile_mode: String,
    /// Language of emails and templates: `en` or `de`.
    pub language: String,
    /// The sealed address support requests are sent to, if set.
    pub support_email: Option<Vec<u8>>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// People at which a room moves to the media server, if the organisation chose; `None`:
    /// the node's `sfu.threshold`.
    pub sfu_threshold: Option<i64>,
}

/// An organisation key wrapped by the master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgKeyRow {
    /// The organisation.
    pub org_id: String,
    /// `data` or `index`.
    pub kind: String,
    /// Key version; the highest data version is the current one.
    pub version: u32,
    /// The key, encrypted under the master key.
    pub wrapped: Vec<u8>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// A user account. The profile (and picture) are sealed by the vault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    /// Random id (UUIDv4).
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Blind index of the normalised email.
    pub email_index: Vec<u8>,
    /// The user's role.
    pub role: crate::Role,
    /// Fine-grained rights on top of the role.
    pub rights: Vec<crate::Right>,
    /// False once deactivated.
    pub active: bool,
    /// The sealed profile (JSON).
    pub profile: Vec<u8>,
    /// Whether the user has a picture (read with [`crate::Store::picture`]).
    pub has_picture: bool,
    /// Argon2id PHC string; `None` until the user sets a password.
    pub password_hash: Option<String>,
    /// Processing restricted (art. 18): kept, but hidden and not processed.
    pub restricted: bool,
    /// Optional processing the user objected to (art. 21), comma separated.
    pub objections: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
    /// An administrator chose the password: the user must choose their own at the next sign-in.
    pub must_change_password: bool,
}

/// A signed-in session. Only the SHA-256 of the cookie token is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the session token.
    pub token_hash: Vec<u8>,
    /// The organisation.
    pub org_id: String,
    /// The user.
    pub user_id: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
}

/// A single-use token (first-admin setup link, invitation, ...). Only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The organisation.
    pub org_id: String,
    /// What the token allows, e.g. `setup`.
    pub purpose: String,
    /// The record the token is about (a user id), if any.
    pub subject: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
}

/// An access-log entry; the details (IP address, browser) are sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The user, if known.
    pub user_id: Option<String>,
    /// When, Unix milliseconds.
    pub at: i64,
    /// Sealed details (JSON).
    pub details: Vec<u8>,
}

/// A room of an organisation; its name is sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// What the room is for (`meeting` or `reception`; offices are not stored).
    pub kind: crate::RoomKind,
    /// Most participants, if limited.
    pub capacity: Option<i64>,
    /// The sealed name.
    pub name: Vec<u8>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Marked large: its media always goes through the media server.
    pub large: bool,
}

/// The metadata of one call or room session: who, when, how long, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLogRow {
    /// The call id (or room session id).
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The room, or `None` for a one-to-one call.
    pub room_id: Option<String>,
    /// When the second participant arrived, Unix milliseconds.
    pub started_at: i64,
    /// How long at least two participants were together.
    pub duration_ms: i64,
    /// Every participant's user id.
    pub participants: Vec<String>,
}

/// The metadata of one peer-to-peer transfer (the contents never reach the server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The sender.
    pub from_user: String,
    /// The recipient.
    pub to_user: String,
    /// `message` or `file`.
    pub kind: String,
    /// Size in bytes.
    pub size: i64,
    /// When, Unix milliseconds.
    pub at: i64,
}

/// An invitation to join an organisation. Only the SHA-256 of the link's token is stored; the
/// invitee's name and email are sealed in `details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// SHA-256 of the current link token (replaced on resend).
    pub token_hash: Vec<u8>,
    /// Blind index of the invitee's email.
    pub email_index: Vec<u8>,
    /// The role the invitee gets.
    pub role: crate::Role,
    /// Sealed JSON: name, email.
    pub details: Vec<u8>,
    /// Who invited.
    pub invited_by: Option<String>,
    /// Creation (or last resend), Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// When it was used to register.
    pub used_at: Option<i64>,
    /// When an admin revoked it.
    pub revoked_at: Option<i64>,
}

/// When and from where a user registered; the details (IP address) are sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRow {
    /// The user.
    pub user_id: String,
    /// The organisation.
    pub org_id: String,
    /// When, Unix milliseconds.
    pub at: i64,
    /// Sealed JSON: IP address, browser.
    pub details: Vec<u8>,
}

/// A support ticket; subject, messages and contact details are sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who asked, if a user.
    pub user_id: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// Sealed JSON: subject, the conversation.
    pub details: Vec<u8>,
    /// Creation, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
    /// When it was resolved (deleted after the retention grace period).
    pub resolved_at: Option<i64>,
}

/// What the retention job deletes: everything older than each cutoff (Unix milliseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purge {
    /// Now: expired sessions and one-time tokens go.
    pub now: i64,
    /// Access-log entries before this go.
    pub access_logs_before: i64,
    /// Call logs that started before this go.
    pub call_logs_before: i64,
    /// Transfer logs before this go.
    pub transfer_logs_before: i64,
    /// Tickets resolved before this go.
    pub tickets_resolved_before: i64,
    /// Invitations used, revoked or expired before this go.
    pub invitations_before: i64,
    /// Consents withdrawn before this go.
    pub consents_withdrawn_before: i64,
    /// Audit-log entries before this go.
    pub audit_log_before: i64,
    /// Absences that ended before this go.
    pub absences_ended_before: i64,
    /// Attendance of days before this day (days since 1970-01-01, UTC) goes.
    pub attendance_before_day: i64,
    /// Calendar entries that ended before this go.
    pub calendar_entries_ended_before: i64,
    /// Waiting messages and files of messages that expire before this go.
    pub messages_expired_before: i64,
}

/// How many rows the retention job deleted, per category.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Access-log entries.
    pub access_logs: u64,
    /// Call logs.
    pub call_logs: u64,
    /// Transfer logs.
    pub transfer_logs: u64,
    /// Support tickets.
    pub tickets: u64,
    /// Invitations.
    pub invitations: u64,
    /// Expired sessions and one-time tokens.
    pub sessions_and_tokens: u64,
    /// Withdrawn consents past their period.
    pub consents: u64,
    /// Accounts erased after their deactivation period.
    pub accounts: u64,
    /// Audit-log entries.
    pub audit_log: u64,
    /// Absences past their period.
    pub absences: u64,
    /// Days of attendance past their period.
    pub attendance_days: u64,
    /// Calendar entries past their period.
    pub calendar_entries: u64,
    /// Waiting messages past their period (not fetched by every device).
    pub messages: u64,
    /// Files of messages past their period (not deleted by their uploader before).
    pub message_files: u64,
}

/// The attendance of one user on one day: the intervals they were present, sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceRow {
    /// `<user id>:<day>`.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The user.
    pub user_id: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Sealed JSON: the intervals.
    pub details: Vec<u8>,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// An absence of a user (vacation and others). The dates are clear; the kind, the deputy and
/// the note are sealed in `details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsenceRow {
    /// Absence id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The absent user.
    pub user_id: String,
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// Sealed JSON: kind, deputy, note.
    pub details: Vec<u8>,
    /// When it was entered, Unix milliseconds.
    pub created_at: i64,
}

/// A user's calendar: the sealed connection to their own calendar (if any) and what they chose
/// to show. Times of the last reading and its error are Bureau's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarRow {
    /// The user.
    pub user_id: String,
    /// The organisation.
    pub org_id: String,
    /// Sealed JSON: kind (CalDAV or ICS), address, user name and password; `None` when only
    /// entries by hand are used.
    pub source: Option<Vec<u8>>,
    /// Colleagues see the next busy interval on the floor plan and in the directory.
    pub share_next_busy: bool,
    /// Knocks ring during a meeting.
    pub ring_in_meetings: bool,
    /// When the calendar was last read, Unix milliseconds.
    pub synced_at: Option<i64>,
    /// Why the last reading failed, a sentence Bureau wrote.
    pub sync_error: Option<String>,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

/// A busy interval of a user: read from their calendar (`imported`) or entered by hand. The
/// times are clear; a title typed by hand is sealed in `details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEntryRow {
    /// Entry id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The user.
    pub user_id: String,
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// Read from the user's calendar (replaced at each reading), not entered by hand.
    pub imported: bool,
    /// Sealed JSON: the title, for entries by hand.
    pub details: Vec<u8>,
    /// When it was stored, Unix milliseconds.
    pub created_at: i64,
}

/// A device of end-to-end encrypted messaging: the public halves of its keys, in clear, and
/// its name, sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceKeyRow {
    /// Device id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The device's user.
    pub user_id: String,
    /// Sealed UTF-8: the name the user gave it.
    pub name: Vec<u8>,
    /// X25519 public key (HPKE), 32 bytes.
    pub hpke_public: Vec<u8>,
    /// Ed25519 public key, 32 bytes.
    pub sign_public: Vec<u8>,
    /// Ed25519 signature binding the two keys to the user, 64 bytes.
    pub self_signature: Vec<u8>,
    /// When it was registered, Unix milliseconds.
    pub created_at: i64,
}

/// A message waiting for devices: its envelope (signed header and ciphertext body, made by the
/// sender's browser) sealed again with the organisation's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBodyRow {
    /// Message id (the server's).
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who sent it.
    pub sender_user: String,
    /// Sealed JSON: header, signature, body.
    pub envelope: Vec<u8>,
    /// Bytes of the sender's header and body.
    pub size: i64,
    /// When it was queued, Unix milliseconds.
    pub created_at: i64,
    /// When it is deleted even if not every device fetched it.
    pub expires_at: i64,
}

/// A group conversation (a named team channel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    /// Conversation id (random).
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The sealed name.
    pub name: Vec<u8>,
    /// Grows with every change of membership.
    pub epoch: i64,
    /// Who made it (`None` once their account is erased).
    pub created_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The meeting room whose chat it is; `None` for a team channel.
    pub room_id: Option<String>,
}

/// A recipient device of a message for the queue, with what the queue must know of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueTarget {
    /// The device.
    pub device: DeviceKeyRow,
    /// Its user is active (devices of deactivated users get nothing).
    pub user_active: bool,
    /// Entries waiting for it now.
    pub waiting: i64,
}

/// One recipient device's entry for a waiting message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    /// Entry id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The recipient device.
    pub device_id: String,
    /// The message.
    pub body_id: String,
    /// The message key sealed to the device (HPKE), as the sender made it.
    pub sealed_key: Vec<u8>,
    /// When it was queued, Unix milliseconds.
    pub queued_at: i64,
}

/// A file uploaded for end-to-end encrypted messages: its bytes (`message_file_chunks`) are
/// ciphertext made by the uploader's browser, whose key travels only inside messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFileRow {
    /// File id: random, 128 bits, base64url.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who uploaded it.
    pub uploader: String,
    /// Bytes of ciphertext.
    pub size: i64,
    /// When it was uploaded, Unix milliseconds.
    pub created_at: i64,
    /// When it is deleted (the organisation's message retention), Unix milliseconds.
    pub expires_at: i64,
}

/// What one user's uploads hold at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileUsage {
    /// Files.
    pub files: i64,
    /// Bytes, all files together.
    pub bytes: i64,
}

/// An organisation's choices for end-to-end encrypted messaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgMessagingRow {
    /// Messages may wait on the server for devices that are offline.
    pub store_and_forward: bool,
    /// Days a waiting message (and an uploaded file) is kept at most.
    pub retention_days: i64,
    /// The largest file accepted, in MiB.
    pub max_file_mb: i64,
}

/// A data-subject request to the organisation, due one month after it was made (art. 12(3)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivacyRequestRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who asked (`None` once erased).
    pub user_id: Option<String>,
    /// `access`, `rectification`, `erasure`, `restriction`, `objection`, `withdrawal` or `other`.
    pub kind: String,
    /// `open`, `done` or `rejected`.
    pub status: String,
    /// Sealed JSON: the request text and the answer.
    pub details: Vec<u8>,
    /// When it was made, Unix milliseconds.
    pub created_at: i64,
    /// The deadline, Unix milliseconds.
    pub due_at: i64,
    /// Who handled it.
    pub handled_by: Option<String>,
    /// When.
    pub handled_at: Option<i64>,
}

/// An administrative access to personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The administrator.
    pub actor_id: String,
    /// What was done, e.g. `view_user`.
    pub action: String,
    /// Whose data, if one person's.
    pub target_id: Option<String>,
    /// When, Unix milliseconds.
    pub at: i64,
}

/// One version of an organisation's privacy policy or terms of use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalRow {
    /// The organisation.
    pub org_id: String,
    /// `privacy` or `terms`.
    pub kind: String,
    /// Version, from 1.
    pub version: u32,
    /// Markdown; `None` returns to the built-in default text.
    pub body: Option<String>,
    /// When, Unix milliseconds.
    pub created_at: i64,
    /// The administrator who saved it.
    pub created_by: Option<String>,
}

/// A consent to the use of camera and microphone; the details (devices allowed) are sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who consented.
    pub user_id: Option<String>,
    /// The version of the consent template they read.
    pub template_version: u32,
    /// Sealed JSON: which devices were allowed.
    pub details: Vec<u8>,
    /// When, Unix milliseconds.
    pub given_at: i64,
    /// When it was withdrawn.
    pub withdrawn_at: Option<i64>,
}

/// A link that lets guests into one conference room; only its token's SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLinkRow {
    /// Random id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The room guests may enter.
    pub room_id: String,
    /// SHA-256 of the link's token.
    pub token_hash: Vec<u8>,
    /// Guests join without waiting in the lobby.
    pub direct: bool,
    /// The member who made it.
    pub created_by: Option<String>,
    /// Creation, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// How many guests may join through it in all.
    pub max_guests: i64,
}

/// Where a guest account may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestRow {
    /// The guest's user id.
    pub user_id: String,
    /// The organisation.
    pub org_id: String,
    /// Their one room.
    pub room_id: String,
    /// Whether they may join without being admitted.
    pub direct: bool,
    /// The link they came through.
    pub link_id: Option<String>,
}
