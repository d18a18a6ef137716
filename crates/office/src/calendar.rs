//! The calendar: when a user is busy. A user connects their own calendar (a CalDAV account or
//! an ICS subscription) and may add entries by hand. Of an outside calendar Bureau keeps busy
//! intervals only: a CalDAV server is asked for free/busy time (RFC 4791 free-busy-query), so
//! titles never leave it; an ICS subscription is read whole and only its times are kept
//! ([`crate::calendar_import`]). The connection (address, user name, password) is sealed,
//! bound to `calendars.source/<user id>`; a title typed by hand is sealed with its entry.
//!
//! During a busy interval the user shows "in a meeting" and knocks do not ring unless they
//! chose so; colleagues see the next busy interval only if the user shares it. The floor plan
//! carries both ([`CalendarNow`]), like an absence. Reading outside calendars needs the network:
//! the server supplies a [`CalendarReader`] (and reads every connected calendar periodically
//! through [`WorkingDay::sync_calendar`]).

use std::collections::HashMap;

use async_trait::async_trait;
use bureau_store::vault::{OrgKeys, Slot};
use bureau_store::{CalendarEntryRow, CalendarRow, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar_import::{Busy, busy_intervals};
use crate::error::{OfficeError, Result};
use crate::rights::Actor;
use crate::WorkingDay;

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// How far ahead a calendar is read (the next busy interval is within it).
pub const LOOKAHEAD_MS: i64 = 14 * DAY_MS;
/// How far back a calendar is read: a meeting that began before the reading still counts.
const LOOKBACK_MS: i64 = DAY_MS;
/// The most busy intervals kept from one reading.
pub const MAX_IMPORTED: usize = 500;
/// Entries by hand not yet over that one user may have.
pub const MAX_ENTRIES: usize = 200;
/// The longest entry by hand.
const MAX_ENTRY_MS: i64 = 7 * DAY_MS;
/// How far ahead an entry may start.
const AHEAD_MS: i64 = 365 * DAY_MS;
/// The longest title, in characters.
const MAX_TITLE: usize = 100;
/// Readings one user may ask for per hour (connecting, "read now"): each makes the server
/// fetch an address they chose.
pub(crate) const READS_PER_HOUR: usize = 20;
/// The longest address, user name and password, in bytes.
const MAX_URL: usize = 2000;
const MAX_CREDENTIAL: usize = 500;

/// How Bureau reaches a user's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// A CalDAV calendar collection, asked for free/busy time only.
    Caldav,
    /// An ICS subscription address (`https://…` or `webcal://…`), read whole; only times kept.
    Ics,
}

/// How to reach a calendar: what is sealed at rest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSource {
    /// CalDAV or ICS.
    pub kind: CalendarKind,
    /// The address (`webcal://` already made `https://`).
    pub url: String,
    /// User name for HTTP basic authentication.
    pub username: Option<String>,
    /// Password for HTTP basic authentication.
    pub password: Option<String>,
}

impl std::fmt::Debug for CalendarSource {
    // Never the address or the credentials: they may end in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarSource").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Why a calendar could not be read: a sentence for the user's profile page, which names
/// neither the address nor the credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(pub String);

/// Something that fetches a calendar document over the network: for CalDAV the answer to a
/// free-busy-query between `from` and `to`, for ICS the subscription document.
#[async_trait]
pub trait CalendarReader: Send + Sync + 'static {
    /// The iCalendar text at `source`.
    async fn read(&self, source: &CalendarSource, from: i64, to: i64) -> std::result::Result<String, ReadError>;
}

/// The reader of an office nobody gave one: nothing outside is read.
pub struct NoCalendarReader;

#[async_trait]
impl CalendarReader for NoCalendarReader {
    async fn read(&self, _source: &CalendarSource, _from: i64, _to: i64) -> std::result::Result<String, ReadError> {
        Err(ReadError("this server does not read outside calendars".into()))
    }
}

/// A calendar to connect.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectCalendar {
    /// CalDAV or ICS.
    pub kind: CalendarKind,
    /// For CalDAV the calendar collection's address, for ICS the subscription address.
    pub url: String,
    /// User name (HTTP basic authentication), if the server asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (HTTP basic authentication); sealed at rest, never shown again.
    #[serde(default)]
    pub password: Option<String>,
}

/// What the user shares and whether meetings ring. Absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// Colleagues see the next busy interval on the floor plan and in the directory.
    pub share_next_busy: Option<bool>,
    /// Knocks ring during a meeting (by default they do not).
    pub ring_in_meetings: Option<bool>,
}

/// The connected calendar as its user sees it: never the password, the address only by host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SourceView {
    /// CalDAV or ICS.
    pub kind: CalendarKind,
    /// The address's host, to recognise it.
    pub host: String,
    /// The user name, if any.
    pub username: Option<String>,
}

/// A busy interval of the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntryView {
    /// Entry id.
    pub id: String,
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// The title typed by hand (imported entries have none).
    pub title: Option<String>,
    /// Read from the connected calendar (replaced at each reading; not removable by hand).
    pub imported: bool,
}

/// The user's calendar page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CalendarView {
    /// The connected calendar, if any.
    pub source: Option<SourceView>,
    /// Colleagues see the next busy interval.
    pub share_next_busy: bool,
    /// Knocks ring during a meeting.
    pub ring_in_meetings: bool,
    /// When the calendar was last read, Unix milliseconds.
    pub synced_at: Option<i64>,
    /// Why the last reading failed (the busy times read before stay).
    pub sync_error: Option<String>,
    /// Busy intervals not yet over, earliest first.
    pub entries: Vec<EntryView>,
}

/// An entry to add by hand.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds; at most 7 days after the start.
    pub ends_at: i64,
    /// A title to show colleagues (up to 100 characters), e.g. "Client meeting".
    #[serde(default)]
    pub title: Option<String>,
}

/// A user in a meeting now, as the floor plan shows it on their office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Meeting {
    /// When the meeting ends, Unix milliseconds.
    pub until: i64,
    /// The title the user typed for an entry by hand.
    pub title: Option<String>,
    /// Knocks ring anyway (the user chose so).
    pub rings: bool,
}

/// The next busy interval of a user who shares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct NextBusy {
    /// Start, Unix milliseconds.
    pub starts_at: i64,
    /// End (exclusive), Unix milliseconds.
    pub ends_at: i64,
    /// The title the user typed for an entry by hand.
    pub title: Option<String>,
}

/// A user's calendar as the floor plan carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarNow {
    /// In a meeting now.
    pub meeting: Option<Meeting>,
    /// The next busy interval after now, if shared.
    pub next_busy: Option<NextBusy>,
}

/// What is sealed of an entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct EntryDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

fn source_slot(user_id: &str) -> Slot<'_> {
    Slot { table: "calendars", column: "source", row: user_id }
}

fn entry_slot(id: &str) -> Slot<'_> {
    Slot { table: "calendar_entries", column: "details", row: id }
}

fn invalid(field: &'static str, message: &str) -> OfficeError {
    OfficeError::Invalid { field, message: message.into() }
}

/// The connection as entered, checked: an `http`, `https` or `webcal` address with a host and
/// no credentials in it, credentials of sane length.
fn checked_source(new: ConnectCalendar) -> Result<CalendarSource> {
    let url = new.url.trim();
    let url = match url.strip_prefix("webcal://").or_else(|| url.strip_prefix("webcals://")) {
        Some(rest) => format!("https://{rest}"),
        None => url.to_owned(),
    };
    if url.len() > MAX_URL || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("url", "must be one address of at most 2000 characters"));
    }
    let host = host_of(&url).ok_or_else(|| invalid("url", "must be an http, https or webcal address with a host name"))?;
    if host.contains('@') {
        return Err(invalid("url", "put the user name and password in their own fields, not in the address"));
    }
    let credential = |value: Option<String>| value.filter(|v| !v.is_empty());
    let (username, password) = (credential(new.username), credential(new.password));
    if [&username, &password].iter().any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_CREDENTIAL || v.chars().any(char::is_control))) {
        return Err(invalid("password", "user name and password are at most 500 characters, on one line"));
    }
    Ok(CalendarSource { kind: new.kind, url, username, password })
}

/// The authority of an `http(s)` address (host and port, with any `user@`), if it has one.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then_some(authority)
}

impl WorkingDay {
    /// The actor's calendar: connection, settings, last reading and the entries not yet over.
    pub async fn my_calendar(&self, actor: &Actor) -> Result<CalendarView> {
        self.check_extended(actor, "calendar").await?;
        let org = OrgId(&actor.org_id);
        let keys = self.core.keys(&actor.org_id).await?;
        let row = self.store.calendar(org, &actor.user_id).await?;
        let source = match row.as_ref().and_then(|r| r.source.as_ref()) {
            Some(sealed) => Some(self.open_source(&keys, &actor.user_id, sealed)?),
            None => None,
        };
        let entries = self.store.user_calendar_entries(org, &actor.user_id, self.core.now()).await?;
        let entries = entries.iter().filter_map(|e| Some(entry_view(e, self.open_entry(&keys, e).ok()?))).collect();
        let row = row.unwrap_or_else(|| self.empty_calendar(actor));
        Ok(CalendarView {
            source: source.map(|s| SourceView { kind: s.kind, host: host_of(&s.url).unwrap_or_default().to_owned(), username: s.username }),
            share_next_busy: row.share_next_busy,
            ring_in_meetings: row.ring_in_meetings,
            synced_at: row.synced_at,
            sync_error: row.sync_error,
            entries,
        })
    }

    /// Connects the actor's calendar: reads it at once, and stores the connection only if that
    /// worked (a wrong address or password is said now, not later).
    pub async fn connect_calendar(&self, actor: &Actor, new: ConnectCalendar) -> Result<CalendarView> {
        self.check_objections(actor).await?;
        let source = checked_source(new)?;
        self.read_allowance(actor).await?;
        let now = self.core.now();
        let busy = self.read_busy(&source, now).await.map_err(|e| invalid("url", &e))?;
        let keys = self.core.keys(&actor.org_id).await?;
        let mut row = self.store.calendar(OrgId(&actor.org_id), &actor.user_id).await?.unwrap_or_else(|| self.empty_calendar(actor));
        let sealed = keys.seal_json(source_slot(&actor.user_id), &source);
        row.source = Some(sealed.clone());
        row.updated_at = now;
        self.store.put_calendar(&row).await?;
        self.store_reading(&actor.org_id, &actor.user_id, &sealed, now, Ok(busy), &keys).await?;
        tracing::info!(org_id = %actor.org_id, user_id = %actor.user_id, kind = ?source.kind, "calendar connected");
        self.my_calendar(actor).await
    }

    /// Disconnects the actor's calendar: the connection and every imported interval go.
    pub async fn disconnect_calendar(&self, actor: &Actor) -> Result<()> {
        self.store.disconnect_calendar(OrgId(&actor.org_id), &actor.user_id, self.core.now()).await?;
        self.core.floor_plan_changed(&actor.org_id);
        Ok(())
    }

    /// Reads the actor's connected calendar now.
    pub async fn sync_my_calendar(&self, actor: &Actor) -> Result<CalendarView> {
        self.check_extended(actor, "calendar").await?;
        self.read_allowance(actor).await?;
        self.sync_calendar(&actor.org_id, &actor.user_id).await?;
        self.my_calendar(actor).await
    }

    /// Changes what the actor shares and whether meetings ring.
    pub async fn set_calendar_settings(&self, actor: &Actor, settings: CalendarSettings) -> Result<CalendarView> {
        self.check_objections(actor).await?;
        let mut row = self.store.calendar(OrgId(&actor.org_id), &actor.user_id).await?.unwrap_or_else(|| self.empty_calendar(actor));
        row.share_next_busy = settings.share_next_busy.unwrap_or(row.share_next_busy);
        row.ring_in_meetings = settings.ring_in_meetings.unwrap_or(row.ring_in_meetings);
        row.updated_at = self.core.now();
        self.store.put_calendar(&row).await?;
        self.core.floor_plan_changed(&actor.org_id);
        self.my_calendar(actor).await
    }

    /// Adds an entry by hand.
    pub async fn add_calendar_entry(&self, actor: &Actor, new: NewEntry) -> Result<EntryView> {
        self.check_objections(actor).await?;
        let now = self.core.now();
        if new.ends_at <= new.starts_at {
            return Err(invalid("ends_at", "must be after the start"));
        }
        if new.ends_at - new.starts_at > MAX_ENTRY_MS {
            return Err(invalid("ends_at", "an entry lasts at most 7 days"));
        }
        if new.ends_at <= now {
            return Err(invalid("ends_at", "must be in the future"));
        }
        if new.starts_at > now + AHEAD_MS {
            return Err(invalid("starts_at", "must be within the next year"));
        }
        let title = new.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE || t.chars().any(char::is_control)) {
            return Err(invalid("title", "at most 100 characters, on one line"));
        }
        let org = OrgId(&actor.org_id);
        let by_hand = self.store.user_calendar_entries(org, &actor.user_id, now).await?.iter().filter(|e| !e.imported).count();
        if by_hand >= MAX_ENTRIES {
            return Err(invalid("starts_at", "at most 200 entries that are not over yet; remove one first"));
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let details = EntryDetails { title };
        let row = CalendarEntryRow {
            details: keys.seal_json(entry_slot(&id), &details),
            id,
            org_id: actor.org_id.clone(),
            user_id: actor.user_id.clone(),
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            imported: false,
            created_at: now,
        };
        self.store.insert_calendar_entry(&row).await?;
        // The entry may begin now or be the next one shown: the floor plan reads it again.
        self.core.floor_plan_changed(&actor.org_id);
        Ok(entry_view(&row, details))
    }

    /// Removes one of the actor's entries made by hand.
    pub async fn remove_calendar_entry(&self, actor: &Actor, id: &str) -> Result<()> {
        self.check_extended(actor, "calendar").await?;
        if !self.store.delete_calendar_entry(OrgId(&actor.org_id), &actor.user_id, id).await? {
            return Err(OfficeError::NotFound("calendar entry"));
        }
        self.core.floor_plan_changed(&actor.org_id);
        Ok(())
    }

    /// The organisation's connected calendars not read for `interval_ms`, least recently read
    /// first, at most `limit`: the server reads them with [`Self::sync_calendar`].
    pub async fn calendars_due(&self, org_id: &str, interval_ms: i64, limit: u32) -> Result<Vec<String>> {
        let due = self.store.calendars_due(OrgId(org_id), self.core.now() - interval_ms, limit).await?;
        Ok(due.into_iter().map(|row| row.user_id).collect())
    }

    /// Reads one user's connected calendar and keeps its busy intervals; a failure is recorded
    /// for their profile page and keeps the intervals read before. Nothing happens in an
    /// organisation in entry mode or for a user who objected to the extended profile.
    pub async fn sync_calendar(&self, org_id: &str, user_id: &str) -> Result<()> {
        let org = OrgId(org_id);
        let Some(row) = self.store.calendar(org, user_id).await? else { return Ok(()) };
        let Some(sealed) = &row.source else { return Ok(()) };
        let user = self.core.store.user(org, user_id).await?.filter(|u| u.active).ok_or(OfficeError::NotFound("user"))?;
        let owner = Actor { org_id: org_id.to_owned(), user_id: user_id.to_owned(), role: user.role, rights: Vec::new() };
        if self.check_objections(&owner).await.is_err() {
            return Ok(());
        }
        let keys = self.core.keys(org_id).await?;
        let source = self.open_source(&keys, user_id, sealed)?;
        let now = self.core.now();
        let reading = self.read_busy(&source, now).await;
        if let Err(error) = &reading {
            tracing::info!(org_id, user_id, "calendar reading failed: {error}");
        }
        self.store_reading(org_id, user_id, sealed, now, reading, &keys).await
    }

    /// Each user's meeting now and (if shared) next busy interval, for the floor plan.
    /// Entries whose details fail to open count without a title.
    pub async fn calendar_now(&self, org_id: &str, keys: &OrgKeys) -> Result<HashMap<String, CalendarNow>> {
        let org = OrgId(org_id);
        let now = self.core.now();
        let entries = self.store.calendar_entries_between(org, now, now + LOOKAHEAD_MS).await?;
        // An organisation back in entry mode shows no calendar (its rows wait for retention).
        let entry_mode = || async { Ok::<_, OfficeError>(crate::ProfileMode::from_name(&self.core.org_row(org_id).await?.profile_mode) == crate::ProfileMode::Entry) };
        if entries.is_empty() || entry_mode().await? {
            return Ok(HashMap::new());
        }
        let settings: HashMap<String, CalendarRow> = self.store.org_calendars(org).await?.into_iter().map(|c| (c.user_id.clone(), c)).collect();
        let mut calendars: HashMap<String, CalendarNow> = HashMap::new();
        for entry in &entries {
            let (share, rings) = settings.get(&entry.user_id).map_or((false, false), |c| (c.share_next_busy, c.ring_in_meetings));
            let title = || self.open_entry(keys, entry).ok().and_then(|d| d.title);
            let calendar = calendars.entry(entry.user_id.clone()).or_default();
            if entry.starts_at <= now {
                // Of overlapping meetings, the one that ends last.
                if calendar.meeting.as_ref().is_none_or(|m| m.until < entry.ends_at) {
                    calendar.meeting = Some(Meeting { until: entry.ends_at, title: title(), rings });
                }
            } else if share && calendar.next_busy.is_none() {
                calendar.next_busy = Some(NextBusy { starts_at: entry.starts_at, ends_at: entry.ends_at, title: title() });
            }
        }
        // A next interval that only continues the meeting going on is not "next".
        for calendar in calendars.values_mut() {
            if let (Some(meeting), Some(next)) = (&calendar.meeting, &calendar.next_busy)
                && next.starts_at <= meeting.until
            {
                calendar.next_busy = None;
            }
        }
        Ok(calendars)
    }

    /// The next busy interval of each user who shares it, for the directory.
    pub async fn shared_next_busy(&self, org_id: &str) -> Result<HashMap<String, NextBusy>> {
        let keys = self.core.keys(org_id).await?;
        let calendars = self.calendar_now(org_id, &keys).await?;
        Ok(calendars.into_iter().filter_map(|(user, now)| Some((user, now.next_busy?))).collect())
    }

    /// Who is in a meeting now and whose next shared interval is which, as entry ids in a
    /// stable order: the live office compares it every half minute with the absences.
    pub async fn calendar_fingerprint(&self, org_id: &str) -> Result<Vec<(String, String)>> {
        let now = self.core.now();
        let entries = self.store.calendar_entries_between(OrgId(org_id), now, now + LOOKAHEAD_MS).await?;
        // Without settings a meeting may have begun: its id is what changes. The first entry of
        // each user stands for both the meeting going on and the next interval.
        let mut seen = std::collections::BTreeMap::new();
        for entry in entries {
            let current = entry.starts_at <= now;
            seen.entry(entry.user_id).or_insert((entry.id, current));
        }
        Ok(seen.into_iter().map(|(user, (id, current))| (user, format!("{id}:{current}"))).collect())
    }

    /// Every calendar entry of a user, for their personal export (imported ones without title).
    pub(crate) async fn exported_calendar(&self, org_id: &str, user_id: &str) -> Result<Vec<EntryView>> {
        let keys = self.core.keys(org_id).await?;
        let rows = self.store.user_calendar_entries(OrgId(org_id), user_id, i64::MIN).await?;
        rows.iter().map(|row| Ok(entry_view(row, self.open_entry(&keys, row)?))).collect()
    }

    /// The actor's entries made by hand not yet over (their calendar feed carries them).
    pub(crate) async fn entries_by_hand(&self, org_id: &str, user_id: &str, after: i64) -> Result<Vec<EntryView>> {
        Ok(self.exported_calendar(org_id, user_id).await?.into_iter().filter(|e| !e.imported && e.ends_at > after).collect())
    }

    /// Refuses guests, organisations in entry mode, and users who objected to the extended
    /// profile (calendar entries are part of it).
    async fn check_objections(&self, actor: &Actor) -> Result<()> {
        self.check_extended(actor, "calendar").await?;
        let user = self.core.store.user(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::NotFound("user"))?;
        if crate::privacy::objections_from(&user.objections).contains(&crate::Objection::ExtendedProfile) {
            return Err(invalid("calendar", "you objected to the extended profile, which calendar entries are part of"));
        }
        Ok(())
    }

    /// Counts one reading the actor asked for; `RateLimited` past their hourly share.
    async fn read_allowance(&self, actor: &Actor) -> Result<()> {
        let key = crate::accounts::limit_key("calendar-read", &actor.user_id);
        let now = self.core.now();
        if let Some(seconds) = self.calendar_limiter.blocked(&key, now).await {
            return Err(OfficeError::RateLimited(seconds));
        }
        self.calendar_limiter.fail(&key, now).await;
        Ok(())
    }

    /// Reads `source` over the calendar window and keeps its busy intervals.
    async fn read_busy(&self, source: &CalendarSource, now: i64) -> std::result::Result<Vec<Busy>, String> {
        let (from, to) = (now - LOOKBACK_MS, now + LOOKAHEAD_MS);
        let text = self.calendar_reader.read(source, from, to).await.map_err(|e| e.0)?;
        busy_intervals(&text, from, to, MAX_IMPORTED).map_err(|e| e.to_string())
    }

    /// Stores a reading of the connection `source` (intervals, or the error keeping the old
    /// ones) unless the user disconnected or changed it meanwhile, and tells the live office
    /// when the intervals changed.
    async fn store_reading(&self, org_id: &str, user_id: &str, source: &[u8], now: i64, reading: std::result::Result<Vec<Busy>, String>, keys: &OrgKeys) -> Result<()> {
        let org = OrgId(org_id);
        let busy = match reading {
            Ok(busy) => busy,
            Err(error) => return Ok(self.store.calendar_synced(org, user_id, source, now, Some(&error), None).await.map(drop)?),
        };
        let before: Vec<(i64, i64)> = self.store.user_calendar_entries(org, user_id, i64::MIN).await?.iter().filter(|e| e.imported).map(|e| (e.starts_at, e.ends_at)).collect();
        let rows: Vec<CalendarEntryRow> = busy
            .iter()
            .map(|b| {
                let id = uuid::Uuid::new_v4().to_string();
                CalendarEntryRow {
                    details: keys.seal_json(entry_slot(&id), &EntryDetails::default()),
                    id,
                    org_id: org_id.to_owned(),
                    user_id: user_id.to_owned(),
                    starts_at: b.starts_at,
                    ends_at: b.ends_at,
                    imported: true,
                    created_at: now,
                }
            })
            .collect();
        let stored = self.store.calendar_synced(org, user_id, source, now, None, Some(&rows)).await?;
        if stored && before != busy.iter().map(|b| (b.starts_at, b.ends_at)).collect::<Vec<_>>() {
            self.core.floor_plan_changed(org_id);
        }
        Ok(())
    }

    fn empty_calendar(&self, actor: &Actor) -> CalendarRow {
        CalendarRow {
            user_id: actor.user_id.clone(),
            org_id: actor.org_id.clone(),
            source: None,
            share_next_busy: false,
            ring_in_meetings: false,
            synced_at: None,
            sync_error: None,
            updated_at: self.core.now(),
        }
    }

    fn open_source(&self, keys: &OrgKeys, user_id: &str, sealed: &[u8]) -> Result<CalendarSource> {
        keys.open_json(source_slot(user_id), sealed).map_err(|err| {
            tracing::error!(user_id, "sealed calendar connection failed to open: {err}");
            OfficeError::Tampered
        })
    }

    fn open_entry(&self, keys: &OrgKeys, row: &CalendarEntryRow) -> Result<EntryDetails> {
        keys.open_json(entry_slot(&row.id), &row.details).map_err(|err| {
            tracing::error!(entry_id = %row.id, "sealed calendar entry failed to open: {err}");
            OfficeError::Tampered
        })
    }
}

/// The body of a CalDAV `free-busy-query` REPORT (RFC 4791 7.10) over `[from, to)`: the
/// server answers busy times only, never an event's title, attendees or place.
pub fn free_busy_query(from: i64, to: i64) -> String {
    let (start, end) = (crate::calendar_feed::ics_time(from), crate::calendar_feed::ics_time(to));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:free-busy-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><C:time-range start=\"{start}\" end=\"{end}\"/></C:free-busy-query>"
    )
}

fn entry_view(row: &CalendarEntryRow, details: EntryDetails) -> EntryView {
    EntryView { id: row.id.clone(), starts_at: row.starts_at, ends_at: row.ends_at, title: details.title, imported: row.imported }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn connect(kind: CalendarKind, url: &str) -> ConnectCalendar {
        ConnectCalendar { kind, url: url.into(), username: Some(String::new()), password: None }
    }

    #[test]
    fn addresses_are_checked_and_webcal_becomes_https() {
        let source = checked_source(connect(CalendarKind::Ics, " webcal://cal.example.org/a.ics ")).unwrap();
        assert_eq!(source.url, "https://cal.example.org/a.ics");
        assert_eq!(source.username, None, "an empty user name is none");
        assert_eq!(host_of(&source.url), Some("cal.example.org"));
        for bad in ["ftp://x/y", "https://", "https:///a", "file:///etc/passwd", "https://a b/", "https://user:pw@host/cal"] {
            assert!(checked_source(connect(CalendarKind::Caldav, bad)).is_err(), "{bad}");
        }
        let long = format!("https://x/{}", "a".repeat(MAX_URL));
        assert!(checked_source(connect(CalendarKind::Ics, &long)).is_err());
    }

    #[test]
    fn a_free_busy_query_asks_for_the_window_in_utc() {
        let body = free_busy_query(1_796_630_400_000, 1_796_634_000_000);
        assert!(body.contains("<C:time-range start=\"20261207T080000Z\" end=\"20261207T090000Z\"/>"), "{body}");
    }

    #[test]
    fn a_source_never_prints_its_address_or_password() {
        let source = CalendarSource { kind: CalendarKind::Caldav, url: "https://secret.example/cal".into(), username: Some("ada".into()), password: Some("hunter2".into()) };
        let printed = format!("{source:?}");
        assert!(!printed.contains("secret") && !printed.contains("hunter2") && !printed.contains("ada"), "{printed}");
    }
}
