//! Data-subject rights and routine deletion: the complete export of what Bureau holds about a
//! user (GDPR art. 15 and 20), erasure (art. 17) and the retention periods enforced by the
//! background job. The export's shape is versioned and described by `docs/export.schema.json`.

use std::sync::Arc;

use bureau_store::PrivacyStore;
use bureau_store::vault::Slot;
use bureau_store::{OrgId, Purge, Purged, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::AccessDetails;
use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::rights::Actor;
use crate::{Accounts, Directory, Joining, Rooms, Support, TwoFactor, WorkingDay};
use crate::{CallEntry, OrgView, TicketView, UserView, password};

/// The export format version; bump it (and the schema) when the shape changes.
pub const EXPORT_VERSION: u32 = 3;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// How long each category of data is kept, in days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetentionPeriods {
    /// Access-log entries (sign-ins with IP address and browser).
    pub access_logs_days: u32,
    /// Call logs.
    pub call_logs_days: u32,
    /// Message and file transfer logs.
    pub transfer_logs_days: u32,
    /// Support tickets, counted from their resolution.
    pub resolved_tickets_days: u32,
    /// Invitations, counted from their use, revocation or expiry.
    pub invitations_days: u32,
    /// Deactivated accounts, counted from the deactivation; then erased.
    pub deactivated_accounts_days: u32,
    /// Consent records, counted from their withdrawal (proof of past consent).
    pub withdrawn_consents_days: u32,
    /// Guest accounts, counted from their creation; then erased.
    pub guests_days: u32,
    /// Audit-log entries (who of the administrators read or changed whose data, when).
    pub audit_log_days: u32,
    /// Absences, counted from their end.
    pub absences_days: u32,
    /// Attendance times, counted from the day.
    pub attendance_days: u32,
    /// Calendar entries (busy intervals), counted from their end.
    pub calendar_days: u32,
    /// Messages waiting for a device that did not fetch them, counted from when they were sent.
    pub messages_days: u32,
}

impl Default for RetentionPeriods {
    fn default() -> Self {
        RetentionPeriods {
            access_logs_days: 90,
            call_logs_days: 365,
            transfer_logs_days: 365,
            resolved_tickets_days: 30,
            invitations_days: 30,
            deactivated_accounts_days: 365,
            withdrawn_consents_days: 1095,
            guests_days: 30,
            audit_log_days: 730,
            absences_days: 90,
            attendance_days: 90,
            calendar_days: 30,
            messages_days: 30,
        }
    }
}

/// One access-log entry in an export.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExportedAccess {
    /// When, Unix milliseconds.
    pub at: i64,
    /// What happened and from where.
    #[serde(flatten)]
    pub details: AccessDetails,
}

/// One peer-to-peer transfer in an export (metadata only).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExportedTransfer {
    /// Sender's user id.
    pub from_user: String,
    /// Recipient's user id.
    pub to_user: String,
    /// `message` or `file`.
    pub kind: String,
    /// Size in bytes.
    pub size: i64,
    /// When, Unix milliseconds.
    pub at: i64,
}

/// How and when the user registered.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedRegistration {
    /// When, Unix milliseconds.
    pub at: i64,
    /// The IP address and browser at registration, and the acceptance of the terms.
    pub details: serde_json::Value,
}

/// Everything Bureau holds about one user.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Export {
    /// The format version ([`EXPORT_VERSION`]).
    pub version: u32,
    /// When the export was made, Unix milliseconds.
    pub generated_at: i64,
    /// The organisation (the controller).
    pub organisation: OrgView,
    /// The profile.
    pub profile: UserView,
    /// Registration IP address and time, when registered through an invitation.
    pub registration: Option<ExportedRegistration>,
    /// Sign-ins: time, IP address, browser.
    pub access_log: Vec<ExportedAccess>,
    /// Calls taken part in.
    pub calls: Vec<CallEntry>,
    /// Messages and files sent or received (metadata).
    pub transfers: Vec<ExportedTransfer>,
    /// Support tickets.
    pub support_tickets: Vec<TicketView>,
    /// Consents to camera and microphone, with withdrawals.
    pub consents: Vec<crate::ConsentView>,
    /// Absences (vacation and others), with their kind, deputy and note.
    pub absences: Vec<crate::AbsenceView>,
    /// Attendance times: per day, the intervals present.
    pub attendance: Vec<crate::AttendanceDay>,
    /// Calendar entries: busy intervals read from the connected calendar and entries by hand.
    pub calendar: Vec<crate::EntryView>,
    /// Devices of end-to-end encrypted messaging: names and public keys (private keys never
    /// leave the devices).
    pub devices: Vec<crate::DeviceView>,
    /// Files uploaded for end-to-end encrypted messages and still kept: id, size and times (not
    /// their bytes, ciphertext whose key only the recipients' devices have).
    pub message_files: Vec<crate::MessageFileView>,
    /// Recipients personal data is passed to (for notification under art. 19).
    pub recipients: Vec<String>,
    /// Restriction and objections.
    pub privacy_settings: PrivacySettings,
    /// Privacy requests made.
    pub privacy_requests: Vec<crate::PrivacyRequestView>,
    /// How long each category is kept.
    pub retention: RetentionPeriods,
}

/// Erasure of one's own account: confirmed by the password and, when two-factor sign-in is
/// on, an authenticator code or a recovery code.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The account's password.
    pub password: String,
    /// An authenticator (TOTP) code, when two-factor sign-in is on.
    #[serde(default)]
    pub code: Option<String>,
    /// Or a recovery code.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// An optional processing a user may object to (art. 21).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Objection {
    /// Keeping the extended profile fields: they are deleted and cannot be set again.
    ExtendedProfile,
    /// Naming the user in call logs: calls are logged with an anonymous participant instead.
    CallLogs,
    /// Recording attendance times.
    Attendance,
}

impl Objection {
    const ALL: [Objection; 3] = [Objection::ExtendedProfile, Objection::CallLogs, Objection::Attendance];

    fn as_str(self) -> &'static str {
        match self {
            Objection::ExtendedProfile => "extended_profile",
            Objection::CallLogs => "call_logs",
            Objection::Attendance => "attendance",
        }
    }
}

/// Parses the stored objections.
pub(crate) fn objections_from(column: &str) -> Vec<Objection> {
    column.split(',').filter_map(|name| Objection::ALL.into_iter().find(|o| o.as_str() == name)).collect()
}

/// A user's restriction and objections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrivacySettings {
    /// Processing restricted: the data is kept but the user is hidden from the directory and
    /// the office (no presence), until lifted.
    pub restricted: bool,
    /// The optional processing the user objected to.
    pub objections: Vec<Objection>,
}

/// A change to the privacy settings; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettingsPatch {
    /// Restrict (true) or lift the restriction (false).
    pub restricted: Option<bool>,
    /// The complete list of objections.
    pub objections: Option<Vec<Objection>>,
}

/// Consent and legal texts ([`crate::consent`], [`crate::legal`]), privacy requests and the
/// audit log ([`crate::requests`]), export, erasure and retention: it reads what every other
/// feature keeps about a person.
pub struct Privacy {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn PrivacyStore>,
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) joining: Arc<Joining>,
    pub(crate) two_factor: Arc<TwoFactor>,
    pub(crate) directory: Arc<Directory>,
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) working_day: Arc<WorkingDay>,
    pub(crate) support: Arc<Support>,
    pub(crate) messaging: Arc<crate::Messaging>,
}

impl Privacy {
    /// The actor's restriction and objections.
    pub async fn privacy_settings(&self, actor: &Actor) -> Result<PrivacySettings> {
        let row = self.core.store.user(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::NotFound("user"))?;
        Ok(PrivacySettings { restricted: row.restricted, objections: objections_from(&row.objections) })
    }

    /// Restricts processing or objects, for the actor. Objecting to the extended profile deletes
    /// its fields at once.
    pub async fn set_privacy_settings(&self, actor: &Actor, patch: PrivacySettingsPatch) -> Result<PrivacySettings> {
        let mut row = self.core.store.user(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::NotFound("user"))?;
        if let Some(restricted) = patch.restricted {
            row.restricted = restricted;
        }
        if let Some(mut objections) = patch.objections {
            objections.sort();
            objections.dedup();
            if objections.contains(&Objection::ExtendedProfile) {
                let keys = self.core.keys(&actor.org_id).await?;
                let mut profile = self.core.open_profile(&keys, &row)?;
                profile.extended = Default::default();
                Core::seal_profile(&keys, &mut row, &profile);
                // Absences (vacation times) and the calendar are part of the extended profile.
                if self.working_day.store.delete_user_absences(OrgId(&actor.org_id), &actor.user_id).await? > 0 {
                    self.core.floor_plan_changed(&actor.org_id);
                }
                self.working_day.store.delete_calendar(OrgId(&actor.org_id), &actor.user_id).await?;
            }
            // The objection stops the recording (checked at each write) and deletes the record.
            if objections.contains(&Objection::Attendance) || objections.contains(&Objection::ExtendedProfile) {
                self.working_day.store.delete_user_attendance(OrgId(&actor.org_id), &actor.user_id).await?;
            }
            row.objections = objections.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(",");
        }
        row.updated_at = self.core.now();
        self.core.store.update_user(&row).await?;
        // A restricted user leaves the live office: their connections close and presence ends.
        if row.restricted {
            self.core.emit(crate::Change::Removed { org_id: actor.org_id.clone(), user_id: actor.user_id.clone() });
        }
        self.core.floor_plan_changed(&actor.org_id);
        Ok(PrivacySettings { restricted: row.restricted, objections: objections_from(&row.objections) })
    }

    /// The complete export of the actor's data.
    pub async fn export(&self, actor: &Actor) -> Result<Export> {
        let keys = self.core.keys(&actor.org_id).await?;
        let org = OrgId(&actor.org_id);
        let registration = match self.joining.store.registration(org, &actor.user_id).await? {
            Some(row) => {
                let slot = Slot { table: "registrations", column: "details", row: &row.user_id };
                Some(ExportedRegistration { at: row.at, details: keys.open_json(slot, &row.details)? })
            }
            None => None,
        };
        let transfers = self
            .rooms
            .store
            .user_transfers(org, &actor.user_id)
            .await?
            .into_iter()
            .map(|t| ExportedTransfer { from_user: t.from_user, to_user: t.to_user, kind: t.kind, size: t.size, at: t.at })
            .collect();
        Ok(Export {
            version: EXPORT_VERSION,
            generated_at: self.core.now(),
            organisation: self.directory.org(actor).await?,
            profile: self.directory.user(actor, &actor.user_id).await?,
            registration,
            access_log: self.accounts.my_access_log(actor).await?.into_iter().map(|(at, details)| ExportedAccess { at, details }).collect(),
            calls: self.rooms.my_calls(actor).await?,
            transfers,
            support_tickets: self.support.my_tickets(actor).await?,
            consents: self.my_consents(actor).await?,
            absences: self.working_day.exported(&actor.org_id, &actor.user_id).await?,
            attendance: self.working_day.exported_attendance(&actor.org_id, &actor.user_id).await?,
            calendar: self.working_day.exported_calendar(&actor.org_id, &actor.user_id).await?,
            devices: if actor.role == crate::Role::Guest { Vec::new() } else { self.messaging.devices(actor, &actor.user_id).await? },
            message_files: self.messaging.files_of(&actor.org_id, &actor.user_id).await?,
            recipients: self.core.recipients.clone(),
            privacy_settings: self.privacy_settings(actor).await?,
            privacy_requests: self
                .privacy_requests(actor)
                .await?
                .into_iter()
                .filter(|r| r.user_id.as_deref() == Some(actor.user_id.as_str()))
                .collect(),
            retention: self.core.policy.retention.clone(),
        })
    }

    /// Erases the actor's own account after checking the password.
    pub async fn erase_me(&self, actor: &Actor, request: EraseRequest) -> Result<()> {
        let row = self.core.store.user(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::NotFound("user"))?;
        let hash = row.password_hash.unwrap_or_else(|| self.core.decoy_hash.clone());
        if !password::verify(request.password, hash).await {
            return Err(OfficeError::Invalid { field: "password", message: "is not correct".into() });
        }
        let factors = self.two_factor.two_factor_row(&actor.org_id, &actor.user_id).await?;
        if crate::two_factor::enrolled(&factors) {
            self.two_factor.check_code_limit(&actor.user_id).await?;
            let proof = match (request.code, request.recovery_code) {
                (Some(code), _) => crate::challenge::Proof::Code(code),
                (None, Some(code)) => crate::challenge::Proof::RecoveryCode(code),
                (None, None) => {
                    return Err(OfficeError::Invalid { field: "code", message: "enter a code from your authenticator or a recovery code".into() });
                }
            };
            if self.accounts.check_standing_proof(&actor.org_id, &actor.user_id, &proof).await?.is_none() {
                self.two_factor.failures.fail(&crate::two_factor::limit_key(&actor.user_id), self.core.now()).await;
                return Err(OfficeError::Invalid { field: "code", message: "is not correct".into() });
            }
        }
        self.erase(&actor.org_id, &actor.user_id).await
    }

    /// An administrator erases a user of the organisation (not themselves: use `erase_me`).
    /// Erasing someone already erased is not an error: the outcome is the same.
    pub async fn erase_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.require_admin()?;
        if user_id == actor.user_id {
            return Err(OfficeError::Invalid { field: "id", message: "erase your own account from your privacy page".into() });
        }
        match self.erase(&actor.org_id, user_id).await {
            Err(OfficeError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    async fn erase(&self, org_id: &str, user_id: &str) -> Result<()> {
        match self.store.erase_user(OrgId(org_id), user_id).await {
            Ok(true) => {}
            Ok(false) => return Err(OfficeError::NotFound("user")),
            Err(StoreError::LastAdmin) => return Err(OfficeError::Invalid { field: "id", message: StoreError::LastAdmin.to_string() }),
            Err(err) => return Err(err.into()),
        }
        tracing::info!(org_id, user_id, "user erased");
        self.core.user_gone(org_id, user_id);
        Ok(())
    }

    /// Deletes everything whose retention period has ended, and erases accounts deactivated
    /// longer than their period. Run by the server's background job.
    pub async fn enforce_retention(&self) -> Result<Purged> {
        let now = self.core.now();
        let periods = &self.core.policy.retention;
        let before = |days: u32| now - i64::from(days) * DAY_MS;
        let purge = Purge {
            now,
            access_logs_before: before(periods.access_logs_days),
            call_logs_before: before(periods.call_logs_days),
            transfer_logs_before: before(periods.transfer_logs_days),
            tickets_resolved_before: before(periods.resolved_tickets_days),
            invitations_before: before(periods.invitations_days),
            consents_withdrawn_before: before(periods.withdrawn_consents_days),
            audit_log_before: before(periods.audit_log_days),
            absences_ended_before: before(periods.absences_days),
            attendance_before_day: before(periods.attendance_days).div_euclid(DAY_MS),
            calendar_entries_ended_before: before(periods.calendar_days),
            messages_expired_before: now,
        };
        let mut purged = self.store.purge(&purge).await?;
        let guests = self.joining.store.guests_before(before(periods.guests_days)).await?;
        let deactivated = self.store.deactivated_before(before(periods.deactivated_accounts_days)).await?;
        for (org_id, user_id) in guests.into_iter().chain(deactivated) {
            if self.store.erase_user(OrgId(&org_id), &user_id).await? {
                purged.accounts += 1;
            }
        }
        Ok(purged)
    }
}
