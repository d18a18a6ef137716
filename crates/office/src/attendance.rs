//! Attendance times: the intervals a user was present in the live office (online and not away:
//! available, busy or do-not-disturb), per day, with the first time they were seen that day —
//! only with the extended profile, and never for a user who objects (`attendance`, or the whole
//! `extended_profile`).
//!
//! The signaling hub says when a user starts and stops being present; the working day keeps
//! the start in memory and writes the interval when it ends (an interval still open when the
//! process stops gracefully is written by [`WorkingDay::flush_attendance`]; a crash loses it).
//! Days are UTC days (days since 1970-01-01): an interval over midnight is split. Each day's
//! intervals are sealed, bound to `attendance.details/<user id>:<day>`; the day is clear.
//!
//! The user sees their own; holders of `see_attendance` see everyone's (the server writes each
//! such access to the audit log), per person and per day, and as CSV.

use std::collections::HashMap;
use std::sync::Arc;

use bureau_store::vault::{OrgKeys, Slot};
use bureau_store::{AttendanceRow, OrgId, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::profile::ProfileMode;
use crate::rights::{Actor, Right, Role};
use crate::{Objection, WorkingDay};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Intervals this close are one (a reload, a network drop inside the presence grace).
const JOIN_GAP_MS: i64 = 60 * 1000;
/// Shorter intervals are not recorded.
const MIN_INTERVAL_MS: i64 = 1000;
/// The longest span read at once, in days.
const MAX_SPAN_DAYS: i64 = 62;

/// One interval of presence, Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Interval {
    /// Start.
    pub from: i64,
    /// End (exclusive).
    pub to: i64,
}

/// A user's attendance on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttendanceDay {
    /// The day, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// When the user was first present that day, Unix milliseconds.
    pub first_seen: i64,
    /// The intervals present, earliest first.
    pub intervals: Vec<Interval>,
    /// Minutes present in all.
    pub present_minutes: i64,
}

/// A user's attendance over a span, with the weekly totals.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AttendanceReport {
    /// The user.
    pub user_id: String,
    /// Their display name.
    pub name: String,
    /// Contracted weekly hours (real office and home office together), when set.
    pub contracted_weekly_hours: Option<f32>,
    /// The days with attendance, earliest first.
    pub days: Vec<AttendanceDay>,
    /// Minutes present per week (weeks start on Monday, UTC), earliest first.
    pub weeks: Vec<WeekTotal>,
}

/// The minutes present in one week.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct WeekTotal {
    /// The Monday the week starts on, `YYYY-MM-DD`.
    pub week_of: String,
    /// Minutes present.
    pub present_minutes: i64,
}

/// What is sealed of a day.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Sealed {
    intervals: Vec<Interval>,
}

fn slot(id: &str) -> Slot<'_> {
    Slot { table: "attendance", column: "details", row: id }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), proleptic Gregorian.
pub(crate) fn date_of(day: i64) -> String {
    let (y, m, d) = crate::calendar_import::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Adds `interval` to a day's sorted intervals, joining those that touch or nearly do.
fn merge(intervals: &mut Vec<Interval>, interval: Interval) {
    intervals.push(interval);
    intervals.sort_by_key(|i| i.from);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for next in intervals.drain(..) {
        match merged.last_mut() {
            Some(last) if next.from <= last.to + JOIN_GAP_MS => last.to = last.to.max(next.to),
            _ => merged.push(next),
        }
    }
    *intervals = merged;
}

/// Splits `[from, to)` at UTC midnights: `(day, interval)` pieces.
fn by_day(from: i64, to: i64) -> Vec<(i64, Interval)> {
    let mut pieces = Vec::new();
    let mut start = from;
    while start < to {
        let day = start.div_euclid(DAY_MS);
        let end = to.min((day + 1) * DAY_MS);
        pieces.push((day, Interval { from: start, to: end }));
        start = end;
    }
    pieces
}

fn minutes(intervals: &[Interval]) -> i64 {
    intervals.iter().map(|i| i.to - i.from).sum::<i64>() / 60_000
}

impl WorkingDay {
    /// The hub's word that a user started or stopped being present, at `now` (Unix ms).
    /// Returns at once; an interval that ended is written in the background, in order (the
    /// handle is for whoever wants to wait for the write).
    pub fn presence_changed(self: &Arc<Self>, org_id: &str, user_id: &str, present: bool, now: i64) -> Option<tokio::task::JoinHandle<()>> {
        let key = (org_id.to_owned(), user_id.to_owned());
        let mut open = self.present_since.lock().ok()?;
        if present {
            // A start whose end never came (this node's hub gave the organisation up to another
            // node, say) is replaced: an interval is never longer than what was seen.
            open.insert(key, now);
            return None;
        }
        let since = open.remove(&key)?;
        drop(open);
        let this = self.clone();
        Some(tokio::spawn(async move {
            if let Err(err) = this.record(&key.0, &key.1, since, now).await {
                tracing::error!("could not record attendance: {err}");
            }
        }))
    }

    /// Writes every interval still open, ending now (the process is stopping).
    pub async fn flush_attendance(&self) {
        let open: Vec<((String, String), i64)> = match self.present_since.lock() {
            Ok(mut open) => open.drain().collect(),
            Err(_) => return,
        };
        let now = self.core.now();
        for ((org_id, user_id), since) in open {
            if let Err(err) = self.record(&org_id, &user_id, since, now).await {
                tracing::error!("could not record attendance: {err}");
            }
        }
    }

    /// Whether attendance of this user is recorded: a member of an organisation with the
    /// extended profile, who does not object.
    async fn recorded(&self, org_id: &str, user: &UserRow) -> Result<bool> {
        let org = self.core.org_row(org_id).await?;
        let objections = crate::privacy::objections_from(&user.objections);
        let objects = objections.contains(&Objection::Attendance) || objections.contains(&Objection::ExtendedProfile);
        Ok(ProfileMode::from_name(&org.profile_mode) == ProfileMode::Extended && user.role != Role::Guest && user.active && !objects)
    }

    /// Adds the interval `[from, to)` to the user's days, when it is recorded at all.
    async fn record(&self, org_id: &str, user_id: &str, from: i64, to: i64) -> Result<()> {
        if to - from < MIN_INTERVAL_MS {
            return Ok(());
        }
        let Some(user) = self.core.store.user(OrgId(org_id), user_id).await? else { return Ok(()) };
        if !self.recorded(org_id, &user).await? {
            return Ok(());
        }
        let keys = self.core.keys(org_id).await?;
        // Read, merge and write one day at a time, one writer at a time.
        let _writing = self.attendance_writes.lock().await;
        for (day, interval) in by_day(from, to) {
            let id = format!("{user_id}:{day}");
            let mut sealed = match self.store.attendance_day(OrgId(org_id), user_id, day).await? {
                Some(row) => self.open_day(&keys, &row)?,
                None => Sealed::default(),
            };
            merge(&mut sealed.intervals, interval);
            let row = AttendanceRow {
                details: keys.seal_json(slot(&id), &sealed),
                id,
                org_id: org_id.to_owned(),
                user_id: user_id.to_owned(),
                day,
                updated_at: self.core.now(),
            };
            self.store.put_attendance(&row).await?;
        }
        Ok(())
    }

    fn open_day(&self, keys: &OrgKeys, row: &AttendanceRow) -> Result<Sealed> {
        keys.open_json(slot(&row.id), &row.details).map_err(|err| {
            tracing::error!(attendance_id = %row.id, "sealed attendance failed to open: {err}");
            OfficeError::Tampered
        })
    }

    /// Refuses guests and organisations in entry mode, and checks the span.
    async fn attendance_span(&self, actor: &Actor, from: i64, to: i64) -> Result<(i64, i64)> {
        self.check_extended(actor, "attendance").await?;
        let (first, end) = (from.div_euclid(DAY_MS), (to + DAY_MS - 1).div_euclid(DAY_MS));
        if to <= from || end - first > MAX_SPAN_DAYS {
            return Err(OfficeError::Invalid { field: "to", message: "must be after `from`, at most 62 days later".into() });
        }
        Ok((first, end))
    }

    /// A user's attendance over a span: one's own, or anyone's with `see_attendance`.
    pub async fn attendance(&self, actor: &Actor, user_id: &str, from: i64, to: i64) -> Result<AttendanceReport> {
        let (first, end) = self.attendance_span(actor, from, to).await?;
        if user_id != actor.user_id && !actor.can(Right::SeeAttendance) {
            return Err(OfficeError::Forbidden);
        }
        let user = self.core.store.user(OrgId(&actor.org_id), user_id).await?.filter(|u| u.role != Role::Guest).ok_or(OfficeError::NotFound("user"))?;
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.user_attendance(OrgId(&actor.org_id), user_id, first, end).await?;
        self.report(&keys, &user, rows)
    }

    /// Everyone's attendance over a span, as CSV (`see_attendance`): one line per person and
    /// day with the date, the first time seen (UTC) and the minutes present.
    pub async fn attendance_csv(&self, actor: &Actor, from: i64, to: i64) -> Result<String> {
        let (first, end) = self.attendance_span(actor, from, to).await?;
        if !actor.can(Right::SeeAttendance) {
            return Err(OfficeError::Forbidden);
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let users: HashMap<String, UserRow> = self.core.store.users(OrgId(&actor.org_id)).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
        let mut csv = String::from("name,email,date,first_seen_utc,present_minutes\r\n");
        for row in self.store.org_attendance(OrgId(&actor.org_id), first, end).await? {
            let Some(user) = users.get(&row.user_id) else { continue };
            let Ok(day) = self.open_day(&keys, &row) else { continue };
            let (profile, _) = self.core.open_profile_or_placeholder(&keys, user);
            let first_seen = day.intervals.first().map_or(0, |i| i.from);
            let time = first_seen.rem_euclid(DAY_MS) / 60_000;
            let line = [csv_field(&profile.name), csv_field(&profile.email), date_of(row.day), format!("{:02}:{:02}", time / 60, time % 60), minutes(&day.intervals).to_string()];
            csv.push_str(&line.join(","));
            csv.push_str("\r\n");
        }
        Ok(csv)
    }

    /// Every day of one user's attendance, for their personal export.
    pub(crate) async fn exported_attendance(&self, org_id: &str, user_id: &str) -> Result<Vec<AttendanceDay>> {
        let keys = self.core.keys(org_id).await?;
        let rows = self.store.user_attendance(OrgId(org_id), user_id, i64::MIN, i64::MAX).await?;
        rows.iter().map(|row| Ok(day_view(row.day, self.open_day(&keys, row)?))).collect()
    }

    fn report(&self, keys: &OrgKeys, user: &UserRow, rows: Vec<AttendanceRow>) -> Result<AttendanceReport> {
        let profile = self.core.open_profile(keys, user)?;
        let contracted = match (profile.extended.office_hours_weekly, profile.extended.home_office_hours_weekly) {
            (None, None) => None,
            (office, home) => Some(office.unwrap_or(0.0) + home.unwrap_or(0.0)),
        };
        let mut days = Vec::with_capacity(rows.len());
        let mut weeks: Vec<(i64, i64)> = Vec::new();
        for row in &rows {
            let Ok(sealed) = self.open_day(keys, row) else { continue };
            let view = day_view(row.day, sealed);
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier.
            let monday = row.day - (row.day + 3).rem_euclid(7);
            match weeks.last_mut() {
                Some((week, total)) if *week == monday => *total += view.present_minutes,
                _ => weeks.push((monday, view.present_minutes)),
            }
            days.push(view);
        }
        let weeks = weeks.into_iter().map(|(monday, present_minutes)| WeekTotal { week_of: date_of(monday), present_minutes }).collect();
        Ok(AttendanceReport { user_id: user.id.clone(), name: profile.name, contracted_weekly_hours: contracted, days, weeks })
    }
}

fn day_view(day: i64, sealed: Sealed) -> AttendanceDay {
    AttendanceDay {
        date: date_of(day),
        first_seen: sealed.intervals.first().map_or(0, |i| i.from),
        present_minutes: minutes(&sealed.intervals),
        intervals: sealed.intervals,
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` is defused so that a spreadsheet does not run a name as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\r', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_day_numbers() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(20_790), "2026-12-03");
        assert_eq!(date_of(11_016), "2000-02-29");
        assert_eq!(date_of(-1), "1969-12-31");
    }

    #[test]
    fn intervals_split_at_midnight_and_join_when_close() {
        let pieces = by_day(DAY_MS - 1000, DAY_MS + 5000);
        assert_eq!(pieces, vec![(0, Interval { from: DAY_MS - 1000, to: DAY_MS }), (1, Interval { from: DAY_MS, to: DAY_MS + 5000 })]);
        let mut day = vec![Interval { from: 0, to: 10_000 }];
        merge(&mut day, Interval { from: 50_000, to: 60_000 });
        assert_eq!(day, vec![Interval { from: 0, to: 60_000 }], "a gap under a minute joins");
        merge(&mut day, Interval { from: 200_000, to: 260_000 });
        assert_eq!(day.len(), 2);
        assert_eq!(minutes(&day), 2);
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("Ada"), "Ada");
        assert_eq!(csv_field("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
