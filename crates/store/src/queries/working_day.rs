//! The working day: absences ([`crate::WorkingDayStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, params};
use crate::*;

row!(attendance_row, ATTENDANCE_COLUMNS, AttendanceRow { id, org_id, user_id, day, details, updated_at });
row!(absence_row, ABSENCE_COLUMNS, AbsenceRow { id, org_id, user_id, starts_at, ends_at, details, created_at });
row!(calendar_row, CALENDAR_COLUMNS, CalendarRow { user_id, org_id, source, share_next_busy, ring_in_meetings, synced_at, sync_error, updated_at });
row!(entry_row, ENTRY_COLUMNS, CalendarEntryRow { id, org_id, user_id, starts_at, ends_at, imported, details, created_at });

const INSERT_ENTRY: &str = "INSERT INTO calendar_entries (id, org_id, user_id, starts_at, ends_at, imported, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

#[async_trait]
impl WorkingDayStore for SqlStore {
    async fn insert_absence(&self, a: &AbsenceRow) -> Result<()> {
        let sql = "INSERT INTO absences (id, org_id, user_id, starts_at, ends_at, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.db.execute(sql, params![a.id, a.org_id, a.user_id, a.starts_at, a.ends_at, a.details, a.created_at]).await.map(drop)
    }

    async fn absence(&self, org: OrgId<'_>, id: &str) -> Result<Option<AbsenceRow>> {
        self.db.one(format!("SELECT {ABSENCE_COLUMNS} FROM absences WHERE org_id = $1 AND id = $2"), params![org.0, id], absence_row).await
    }

    async fn delete_absence(&self, org: OrgId<'_>, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM absences WHERE org_id = $1 AND id = $2", params![org.0, id]).await? == 1)
    }

    async fn delete_user_absences(&self, org: OrgId<'_>, user_id: &str) -> Result<u64> {
        self.db.execute("DELETE FROM absences WHERE org_id = $1 AND user_id = $2", params![org.0, user_id]).await
    }

    async fn user_absences(&self, org: OrgId<'_>, user_id: &str, after: i64) -> Result<Vec<AbsenceRow>> {
        let sql = format!("SELECT {ABSENCE_COLUMNS} FROM absences WHERE org_id = $1 AND user_id = $2 AND ends_at > $3 ORDER BY starts_at, id");
        self.db.all(sql, params![org.0, user_id, after], absence_row).await
    }

    async fn absences_between(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<AbsenceRow>> {
        let sql = format!("SELECT {ABSENCE_COLUMNS} FROM absences WHERE org_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id");
        self.db.all(sql, params![org.0, from, to], absence_row).await
    }

    async fn attendance_day(&self, org: OrgId<'_>, user_id: &str, day: i64) -> Result<Option<AttendanceRow>> {
        let sql = format!("SELECT {ATTENDANCE_COLUMNS} FROM attendance WHERE org_id = $1 AND user_id = $2 AND day = $3");
        self.db.one(sql, params![org.0, user_id, day], attendance_row).await
    }

    async fn put_attendance(&self, a: &AttendanceRow) -> Result<()> {
        let sql = "INSERT INTO attendance (id, org_id, user_id, day, details, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (id) DO UPDATE SET details = excluded.details, updated_at = excluded.updated_at";
        self.db.execute(sql, params![a.id, a.org_id, a.user_id, a.day, a.details, a.updated_at]).await.map(drop)
    }

    async fn user_attendance(&self, org: OrgId<'_>, user_id: &str, from: i64, to: i64) -> Result<Vec<AttendanceRow>> {
        let sql = format!("SELECT {ATTENDANCE_COLUMNS} FROM attendance WHERE org_id = $1 AND user_id = $2 AND day >= $3 AND day < $4 ORDER BY day");
        self.db.all(sql, params![org.0, user_id, from, to], attendance_row).await
    }

    async fn org_attendance(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<AttendanceRow>> {
        let sql = format!("SELECT {ATTENDANCE_COLUMNS} FROM attendance WHERE org_id = $1 AND day >= $2 AND day < $3 ORDER BY day, user_id");
        self.db.all(sql, params![org.0, from, to], attendance_row).await
    }

    async fn delete_user_attendance(&self, org: OrgId<'_>, user_id: &str) -> Result<u64> {
        self.db.execute("DELETE FROM attendance WHERE org_id = $1 AND user_id = $2", params![org.0, user_id]).await
    }

    async fn put_calendar_feed(&self, org: OrgId<'_>, user_id: &str, token_hash: &[u8], now: i64) -> Result<()> {
        let sql = "INSERT INTO calendar_feeds (user_id, org_id, token_hash, created_at) VALUES ($2, $1, $3, $4)
                   ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at";
        self.db.execute(sql, params![org.0, user_id, token_hash, now]).await.map(drop)
    }

    async fn delete_calendar_feed(&self, org: OrgId<'_>, user_id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM calendar_feeds WHERE org_id = $1 AND user_id = $2", params![org.0, user_id]).await? == 1)
    }

    async fn has_calendar_feed(&self, org: OrgId<'_>, user_id: &str) -> Result<bool> {
        let sql = "SELECT 1 FROM calendar_feeds WHERE org_id = $1 AND user_id = $2";
        Ok(self.db.one(sql, params![org.0, user_id], |_| Ok(())).await?.is_some())
    }

    async fn calendar_feed_owner(&self, token_hash: &[u8]) -> Result<Option<(String, String)>> {
        let sql = "SELECT org_id, user_id FROM calendar_feeds WHERE token_hash = $1";
        self.db.one(sql, params![token_hash], |r| Ok((r.get()?, r.get()?))).await
    }

    async fn away_at(&self, org: OrgId<'_>, at: i64) -> Result<Vec<(String, String)>> {
        let sql = "SELECT user_id, id FROM absences WHERE org_id = $1 AND starts_at <= $2 AND ends_at > $2 ORDER BY user_id, id";
        self.db.all(sql, params![org.0, at], |r| Ok((r.get()?, r.get()?))).await
    }

    async fn calendar(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<CalendarRow>> {
        self.db.one(format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE org_id = $1 AND user_id = $2"), params![org.0, user_id], calendar_row).await
    }

    async fn put_calendar(&self, c: &CalendarRow) -> Result<()> {
        let sql = "INSERT INTO calendars (user_id, org_id, source, share_next_busy, ring_in_meetings, synced_at, sync_error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (user_id) DO UPDATE SET source = excluded.source, share_next_busy = excluded.share_next_busy, ring_in_meetings = excluded.ring_in_meetings,
                   synced_at = excluded.synced_at, sync_error = excluded.sync_error, updated_at = excluded.updated_at";
        let values = params![c.user_id, c.org_id, c.source, c.share_next_busy, c.ring_in_meetings, c.synced_at, c.sync_error, c.updated_at];
        self.db.execute(sql, values).await.map(drop)
    }

    async fn org_calendars(&self, org: OrgId<'_>) -> Result<Vec<CalendarRow>> {
        self.db.all(format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE org_id = $1 ORDER BY user_id"), params![org.0], calendar_row).await
    }

    async fn calendars_due(&self, org: OrgId<'_>, before: i64, limit: u32) -> Result<Vec<CalendarRow>> {
        let sql = format!(
            "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE org_id = $1 AND source IS NOT NULL AND coalesce(synced_at, 0) < $2
             ORDER BY coalesce(synced_at, 0), user_id LIMIT $3"
        );
        self.db.all(sql, params![org.0, before, i64::from(limit)], calendar_row).await
    }

    async fn calendar_synced(&self, org: OrgId<'_>, user_id: &str, source: &[u8], at: i64, error: Option<&str>, imported: Option<&[CalendarEntryRow]>) -> Result<bool> {
        let (org, user, source) = (org.0.to_owned(), user_id.to_owned(), source.to_vec());
        let (error, imported) = (error.map(str::to_owned), imported.map(<[_]>::to_vec));
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    // The row lock keeps a disconnect from slipping between the check and the write.
                    let sql = "UPDATE calendars SET synced_at = $3, sync_error = $4 WHERE org_id = $1 AND user_id = $2 AND source = $5";
                    if tx.execute(sql, params![org, user, at, error, source]).await? == 0 {
                        return Ok(false);
                    }
                    if let Some(entries) = imported {
                        tx.execute("DELETE FROM calendar_entries WHERE org_id = $1 AND user_id = $2 AND imported = 1", params![org, user]).await?;
                        for e in entries {
                            tx.execute(INSERT_ENTRY, params![e.id, e.org_id, e.user_id, e.starts_at, e.ends_at, e.imported, e.details, e.created_at]).await?;
                        }
                    }
                    Ok(true)
                })
            })
            .await
    }

    async fn disconnect_calendar(&self, org: OrgId<'_>, user_id: &str, now: i64) -> Result<()> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "UPDATE calendars SET source = NULL, synced_at = NULL, sync_error = NULL, updated_at = $3 WHERE org_id = $1 AND user_id = $2";
                    tx.execute(sql, params![org, user, now]).await?;
                    tx.execute("DELETE FROM calendar_entries WHERE org_id = $1 AND user_id = $2 AND imported = 1", params![org, user]).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn delete_calendar(&self, org: OrgId<'_>, user_id: &str) -> Result<()> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    tx.execute("DELETE FROM calendar_entries WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    tx.execute("DELETE FROM calendars WHERE org_id = $1 AND user_id = $2", params![org, user]).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn insert_calendar_entry(&self, e: &CalendarEntryRow) -> Result<()> {
        self.db.execute(INSERT_ENTRY, params![e.id, e.org_id, e.user_id, e.starts_at, e.ends_at, e.imported, e.details, e.created_at]).await.map(drop)
    }

    async fn delete_calendar_entry(&self, org: OrgId<'_>, user_id: &str, id: &str) -> Result<bool> {
        let sql = "DELETE FROM calendar_entries WHERE org_id = $1 AND user_id = $2 AND id = $3 AND imported = 0";
        Ok(self.db.execute(sql, params![org.0, user_id, id]).await? == 1)
    }

    async fn user_calendar_entries(&self, org: OrgId<'_>, user_id: &str, after: i64) -> Result<Vec<CalendarEntryRow>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM calendar_entries WHERE org_id = $1 AND user_id = $2 AND ends_at > $3 ORDER BY starts_at, id");
        self.db.all(sql, params![org.0, user_id, after], entry_row).await
    }

    async fn calendar_entries_between(&self, org: OrgId<'_>, from: i64, to: i64) -> Result<Vec<CalendarEntryRow>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM calendar_entries WHERE org_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id");
        self.db.all(sql, params![org.0, from, to], entry_row).await
    }
}
