//! The working day: absences (vacation and others, with a deputy) and attendance times: the
//! database boundary of `bureau_office`'s working-day service.

use async_trait::async_trait;

use crate::*;

/// The working day: absences and attendance times.
#[async_trait]
pub trait WorkingDayStore: Send + Sync + 'static {
    /// Stores an absence.
    async fn insert_absence(&self, absence: &AbsenceRow) -> Result<()>;
    /// One absence of the organisation.
    async fn absence(&self, org: OrgId<'_>, id: &str) -> Result<Option<AbsenceRow>>;
    /// Deletes an absence; false if there was none.
    async fn delete_absence(&self, org: OrgId<'_>, id: &str) -> Result<bool>;
    /// Deletes every absence of a user (they objected to the extended profile); how many.
    async fn delete_user_absences(&self, org: OrgId<'_>, user_id: &str) -> Result<u64>;
    /// A user's absences that end after `after`, earliest first.
    async fn user_absences(&self, org: OrgId<'_>, user_id: &str, after: i64) -> Result<Vec<AbsenceRow>>;
    /// The organisation's absences overlapping `[from, to)`, earliest first.
    async fn absences_between(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<AbsenceRow>>;
    /// Who is away at `at`, as `(user id, absence id)`, in a stable order: cheap enough for the
    /// live office to ask every minute whether the floor plan changed.
    async fn away_at(&self, org: OrgId<'_>, at: i64) -> Result<Vec<(String, String)>>;

    /// One user's attendance on one day.
    async fn attendance_day(&self, org: OrgId<'_>, user_id: &str, day: i64) -> Result<Option<AttendanceRow>>;
    /// Inserts or replaces a day of attendance.
    async fn put_attendance(&self, row: &AttendanceRow) -> Result<()>;
    /// One user's attendance on the days `from..to`, earliest first.
    async fn user_attendance(&self, org: OrgId<'_>, user_id: &str, from: i64, to: i64) -> Result<Vec<AttendanceRow>>;
    /// Everyone's attendance on the days `from..to`, by day then user.
    async fn org_attendance(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<AttendanceRow>>;
    /// Deletes a user's attendance (they objected); how many days.
    async fn delete_user_attendance(&self, org: OrgId<'_>, user_id: &str) -> Result<u64>;

    /// Sets (or replaces) the hash of a user's calendar feed secret.
    async fn put_calendar_feed(&self, org: OrgId<'_>, user_id: &str, token_hash: &[u8], now: i64) -> Result<()>;
    /// Removes a user's calendar feed; false if there was none.
    async fn delete_calendar_feed(&self, org: OrgId<'_>, user_id: &str) -> Result<bool>;
    /// Whether the user has a calendar feed.
    async fn has_calendar_feed(&self, org: OrgId<'_>, user_id: &str) -> Result<bool>;
    /// The user whose feed has this secret, as `(org id, user id)`, in any organisation.
    async fn calendar_feed_owner(&self, token_hash: &[u8]) -> Result<Option<(String, String)>>;

    /// A user's calendar settings and connection.
    async fn calendar(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<CalendarRow>>;
    /// Inserts or replaces a user's calendar settings and connection.
    async fn put_calendar(&self, row: &CalendarRow) -> Result<()>;
    /// The calendars of the organisation's users (the floor plan reads who shares what).
    async fn org_calendars(&self, org: OrgId<'_>) -> Result<Vec<CalendarRow>>;
    /// The organisation's calendars with a connection last read before `before` (or never),
    /// least recently read first, at most `limit`.
    async fn calendars_due(&self, org: OrgId<'_>, before: i64, limit: u32) -> Result<Vec<CalendarRow>>;
    /// Records a reading of the connection `source` (sealed, as read before the reading): the
    /// time and the error (none when it worked). `imported` replaces the user's imported entries
    /// when the reading worked; a failed reading keeps them. Nothing is written when the
    /// connection changed or went meanwhile (false).
    async fn calendar_synced(&self, org: OrgId<'_>, user_id: &str, source: &[u8], at: i64, error: Option<&str>, imported: Option<&[CalendarEntryRow]>) -> Result<bool>;
    /// Forgets a user's calendar connection and the entries read from it (they disconnected);
    /// their settings and entries by hand stay.
    async fn disconnect_calendar(&self, org: OrgId<'_>, user_id: &str, now: i64) -> Result<()>;
    /// Deletes a user's calendar connection, settings and entries (they objected).
    async fn delete_calendar(&self, org: OrgId<'_>, user_id: &str) -> Result<()>;
    /// Stores an entry.
    async fn insert_calendar_entry(&self, entry: &CalendarEntryRow) -> Result<()>;
    /// Deletes one of the user's entries made by hand; false if there was none.
    async fn delete_calendar_entry(&self, org: OrgId<'_>, user_id: &str, id: &str) -> Result<bool>;
    /// A user's entries that end after `after`, earliest first.
    async fn user_calendar_entries(&self, org: OrgId<'_>, user_id: &str, after: i64) -> Result<Vec<CalendarEntryRow>>;
    /// The organisation's entries overlapping `[from, to)`, earliest first.
    async fn calendar_entries_between(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<CalendarEntryRow>>;
}
