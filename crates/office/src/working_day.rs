//! The working day: absences (vacation and others, with a deputy). During an absence the user
//! shows out of office on the floor plan, with the date they are back, and knocks on their
//! office go to their deputy (the signaling hub does that from [`RoomView::away`]).
//!
//! Absences are vacation times of the extended profile: an organisation in entry mode has none.
//! At rest the dates are clear (the floor plan asks who is away now, retention deletes by end
//! date); the kind, the deputy and the note are sealed, bound to `absences.details/<id>`. Others
//! see that a colleague is away, until when and who stands in — never the kind (a sick leave is
//! health data) or the note: those are for the user and whoever manages absences.

use std::collections::HashMap;
use std::sync::Arc;

use bureau_store::vault::{OrgKeys, Slot};
use bureau_store::{AbsenceRow, OrgId, WorkingDayStore};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::profile::ProfileMode;
use crate::rights::{Actor, Right, Role};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// The longest absence one entry may cover.
const MAX_DAYS: i64 = 366;
/// How far back an absence may be entered (a sick day recorded afterwards).
const PAST_DAYS: i64 = 90;
/// How far ahead an absence may start.
const AHEAD_DAYS: i64 = 2 * 365;
/// Absences not yet over that one user may have: enough for any holiday plan, and a bound on
/// what one member can make the floor plan read.
pub const MAX_UPCOMING: usize = 50;
/// The longest note, in characters.
const MAX_NOTE: usize = 200;
/// The longest span the team view reads at once.
const MAX_SPAN_DAYS: i64 = 62;

/// What kind of absence it is (seen by the user and by whoever manages absences only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    /// Vacation.
    Vacation,
    /// Sick leave.
    Sick,
    /// A business trip.
    BusinessTrip,
    /// Training.
    Training,
    /// Anything else.
    Other,
}

/// An absence to enter.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAbsence {
    /// Whose absence: oneself when absent; another user needs `manage_absences` (or admin).
    #[serde(default)]
    pub user_id: Option<String>,
    /// What kind of absence.
    pub kind: AbsenceKind,
    /// Start, Unix milliseconds (the page sends the start of the first day in the user's time zone).
    pub starts_at: i64,
    /// End, exclusive, Unix milliseconds (the start of the day after the last day).
    pub ends_at: i64,
    /// The colleague who stands in: knocks on the absent user's office ring them.
    #[serde(default)]
    pub deputy_id: Option<String>,
    /// A short note (up to 200 characters) for the user and absence managers.
    #[serde(default)]
    pub note: Option<String>,
}

/// An absence as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AbsenceView {
    /// Absence id.
    pub id: String,
    /// The absent user.
    pub user_id: String,
    /// Their display name.
    pub name: String,
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// Who stands in.
    pub deputy_id: Option<String>,
    /// The deputy's display name.
    pub deputy_name: Option<String>,
    /// The kind: only for the user and absence managers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<AbsenceKind>,
    /// The note: only for the user and absence managers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A user away now, as the floor plan shows it on their office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Away {
    /// When they are back, Unix milliseconds.
    pub until: i64,
    /// Who stands in (knocks go to them).
    pub deputy_id: Option<String>,
}

/// What is sealed of an absence.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Details {
    kind: AbsenceKind,
    deputy_id: Option<String>,
    note: Option<String>,
}

fn slot(id: &str) -> Slot<'_> {
    Slot { table: "absences", column: "details", row: id }
}

fn invalid(field: &'static str, message: &str) -> OfficeError {
    OfficeError::Invalid { field, message: message.into() }
}

/// Whether `actor` may see and change the absences of `user_id`.
fn manages(actor: &Actor, user_id: &str) -> bool {
    actor.user_id == user_id || actor.can(Right::ManageAbsences)
}

/// The working day: absences, attendance times ([`crate::attendance`]) and the calendar
/// ([`crate::calendar`]).
pub struct WorkingDay {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn WorkingDayStore>,
    /// Fetches users' outside calendars.
    pub(crate) calendar_reader: Arc<dyn crate::CalendarReader>,
    /// Readings a user asks for (connecting, "read now"): each makes the server fetch an
    /// address the user chose.
    pub(crate) calendar_limiter: crate::Limiter,
    /// Since when each present user (organisation, user) has been present.
    pub(crate) present_since: std::sync::Mutex<HashMap<(String, String), i64>>,
    /// One attendance write at a time (each reads, merges and writes a day).
    pub(crate) attendance_writes: tokio::sync::Mutex<()>,
}

impl WorkingDay {
    /// Refuses guests, and organisations in entry mode: absences, attendance times and the
    /// calendar (`what`) are extended-profile data.
    pub(crate) async fn check_extended(&self, actor: &Actor, what: &'static str) -> Result<()> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let org = self.core.org_row(&actor.org_id).await?;
        match ProfileMode::from_name(&org.profile_mode) {
            ProfileMode::Extended => Ok(()),
            ProfileMode::Entry => Err(OfficeError::FieldDisabled(what)),
        }
    }

    /// The names of the organisation's active members, by id.
    async fn member_names(&self, org_id: &str, keys: &OrgKeys) -> Result<HashMap<String, String>> {
        let users = self.core.store.users(OrgId(org_id)).await?;
        Ok(users
            .iter()
            .filter(|u| u.active && u.role != Role::Guest)
            .map(|u| (u.id.clone(), self.core.open_profile_or_placeholder(keys, u).0.name))
            .collect())
    }

    /// Enters an absence for oneself, or for a colleague with `manage_absences`.
    pub async fn add_absence(&self, actor: &Actor, new: NewAbsence) -> Result<AbsenceView> {
        self.check_extended(actor, "absences").await?;
        let user_id = new.user_id.clone().unwrap_or_else(|| actor.user_id.clone());
        if !manages(actor, &user_id) {
            return Err(OfficeError::Forbidden);
        }
        let now = self.core.now();
        if new.ends_at <= new.starts_at {
            return Err(invalid("ends_at", "must be after the start"));
        }
        if new.ends_at - new.starts_at > MAX_DAYS * DAY_MS {
            return Err(invalid("ends_at", "an absence covers at most 366 days; enter a longer one in parts"));
        }
        if new.ends_at < now - PAST_DAYS * DAY_MS {
            return Err(invalid("ends_at", "absences that ended more than 90 days ago cannot be entered"));
        }
        if new.starts_at > now + AHEAD_DAYS * DAY_MS {
            return Err(invalid("starts_at", "must be within the next two years"));
        }
        let note = new.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE || n.chars().any(char::is_control)) {
            return Err(invalid("note", "at most 200 characters, on one line"));
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let names = self.member_names(&actor.org_id, &keys).await?;
        let Some(name) = names.get(&user_id).cloned() else { return Err(OfficeError::NotFound("user")) };
        let target = self.core.store.user(OrgId(&actor.org_id), &user_id).await?.ok_or(OfficeError::NotFound("user"))?;
        if crate::privacy::objections_from(&target.objections).contains(&crate::Objection::ExtendedProfile) {
            return Err(invalid("user_id", "this user objected to the extended profile, which absences are part of"));
        }
        if let Some(deputy) = &new.deputy_id
            && (deputy == &user_id || !names.contains_key(deputy))
        {
            return Err(invalid("deputy_id", "the deputy must be another active member of the organisation"));
        }
        if self.store.user_absences(OrgId(&actor.org_id), &user_id, now).await?.len() >= MAX_UPCOMING {
            return Err(invalid("starts_at", "at most 50 absences that are not over yet; remove one first"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let details = Details { kind: new.kind, deputy_id: new.deputy_id, note };
        let row = AbsenceRow {
            details: keys.seal_json(slot(&id), &details),
            id,
            org_id: actor.org_id.clone(),
            user_id,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            created_at: now,
        };
        self.store.insert_absence(&row).await?;
        tracing::info!(org_id = %row.org_id, absence_id = %row.id, "absence entered");
        if row.starts_at <= now && now < row.ends_at {
            self.core.floor_plan_changed(&actor.org_id);
        }
        Ok(self.view(&row, details, name, &names, true))
    }

    /// Removes an absence (its user, or a manager of absences); whose it was.
    pub async fn remove_absence(&self, actor: &Actor, id: &str) -> Result<String> {
        self.check_extended(actor, "absences").await?;
        let org = OrgId(&actor.org_id);
        let row = self.store.absence(org, id).await?.filter(|row| manages(actor, &row.user_id)).ok_or(OfficeError::NotFound("absence"))?;
        self.store.delete_absence(org, id).await?;
        let now = self.core.now();
        if row.starts_at <= now && now < row.ends_at {
            self.core.floor_plan_changed(&actor.org_id);
        }
        Ok(row.user_id)
    }

    /// The actor's absences that are not over yet, with every detail.
    pub async fn my_absences(&self, actor: &Actor) -> Result<Vec<AbsenceView>> {
        self.check_extended(actor, "absences").await?;
        let rows = self.store.user_absences(OrgId(&actor.org_id), &actor.user_id, self.core.now()).await?;
        self.views(actor, rows).await
    }

    /// The team view: everyone's absences overlapping `[from, to)` (at most 62 days).
    pub async fn absences(&self, actor: &Actor, from: i64, to: i64) -> Result<Vec<AbsenceView>> {
        self.check_extended(actor, "absences").await?;
        if to <= from || to - from > MAX_SPAN_DAYS * DAY_MS {
            return Err(invalid("to", "must be after `from`, at most 62 days later"));
        }
        let rows = self.store.absences_between(OrgId(&actor.org_id), from, to).await?;
        self.views(actor, rows).await
    }

    /// Every absence of one user, with its details, for their personal export.
    pub(crate) async fn exported(&self, org_id: &str, user_id: &str) -> Result<Vec<AbsenceView>> {
        let keys = self.core.keys(org_id).await?;
        let names = self.member_names(org_id, &keys).await?;
        let rows = self.store.user_absences(OrgId(org_id), user_id, i64::MIN).await?;
        rows.into_iter()
            .map(|row| {
                let details = self.open(&keys, &row)?;
                let name = names.get(&row.user_id).cloned().unwrap_or_default();
                Ok(self.view(&row, details, name, &names, true))
            })
            .collect()
    }

    /// Who is away at this moment, for the floor plan: for each user the absence that ends
    /// last among those going on now. Absences whose details fail to open show without deputy.
    pub async fn away_now(&self, org_id: &str, keys: &OrgKeys) -> Result<HashMap<String, Away>> {
        let now = self.core.now();
        let mut away: HashMap<String, Away> = HashMap::new();
        for row in self.store.absences_between(OrgId(org_id), now, now + 1).await? {
            if away.get(&row.user_id).is_some_and(|a| a.until >= row.ends_at) {
                continue;
            }
            let deputy_id = self.open(keys, &row).ok().and_then(|d| d.deputy_id);
            away.insert(row.user_id.clone(), Away { until: row.ends_at, deputy_id });
        }
        Ok(away)
    }

    /// Who is away now, as `(user id, absence id)`: the live office compares it every minute
    /// and reloads the floor plan when an absence began or ended.
    pub async fn away_fingerprint(&self, org_id: &str) -> Result<Vec<(String, String)>> {
        Ok(self.store.away_at(OrgId(org_id), self.core.now()).await?)
    }

    fn open(&self, keys: &OrgKeys, row: &AbsenceRow) -> Result<Details> {
        keys.open_json(slot(&row.id), &row.details).map_err(|err| {
            tracing::error!(absence_id = %row.id, "sealed absence failed to open: {err}");
            OfficeError::Tampered
        })
    }

    async fn views(&self, actor: &Actor, rows: Vec<AbsenceRow>) -> Result<Vec<AbsenceView>> {
        let keys = self.core.keys(&actor.org_id).await?;
        let names = self.member_names(&actor.org_id, &keys).await?;
        let mut views = Vec::with_capacity(rows.len());
        // Absences of deactivated users are not shown; a damaged one is skipped (and logged).
        for row in rows {
            let Some(name) = names.get(&row.user_id).cloned() else { continue };
            let Ok(details) = self.open(&keys, &row) else { continue };
            let full = manages(actor, &row.user_id);
            views.push(self.view(&row, details, name, &names, full));
        }
        Ok(views)
    }

    fn view(&self, row: &AbsenceRow, details: Details, name: String, names: &HashMap<String, String>, full: bool) -> AbsenceView {
        let deputy_name = details.deputy_id.as_ref().and_then(|d| names.get(d).cloned());
        AbsenceView {
            id: row.id.clone(),
            user_id: row.user_id.clone(),
            name,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            deputy_id: details.deputy_id,
            deputy_name,
            kind: full.then_some(details.kind),
            note: if full { details.note } else { None },
        }
    }
}
