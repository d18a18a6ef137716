//! Busy time from a user's own calendar: an iCalendar document (RFC 5545) fetched from their
//! ICS subscription address, or the answer of a CalDAV `free-busy-query` REPORT (RFC 4791
//! §7.10), read into busy intervals and nothing else. Titles, attendees, places and
//! descriptions are never parsed past their property name, let alone kept: Bureau keeps busy
//! intervals only. The UIDs are held while one document is read (to match a moved instance of
//! a recurring event with its series) and dropped with it.
//!
//! The parser is pure (text in, intervals out) and fuzzed (`bench/fuzz`, target `calendar`).
//! It reads untrusted text from any server a user names, so it never panics, takes time about
//! linear in the input (no recursion on the nesting of components, no scan of the whole stack
//! per line) and bounds the expansion of recurring events whatever their rules say.
//!
//! What counts as busy:
//! - a `VEVENT` with a start time and an end (`DTEND` or `DURATION`), unless it is
//!   `TRANSP:TRANSPARENT` or `STATUS:CANCELLED`, and unless it lasts whole days (a `DATE`
//!   start: holidays and birthdays; Bureau's absences cover days off);
//! - its repetitions (`RRULE`, see [`Rule`]), less its `EXDATE`s and the instances that a
//!   `VEVENT` with the same `UID` and a `RECURRENCE-ID` moves or cancels (that one counts as an
//!   event of its own);
//! - the `FREEBUSY` periods of a `VFREEBUSY` that are not `FBTYPE=FREE`, and a `VFREEBUSY`
//!   without `FREEBUSY` whose `FBTYPE` property says busy (Radicale 3's answer: one component
//!   per busy interval, `DTSTART`/`DTEND`).
//!
//! Time zones: a date-time ending in `Z` is UTC; one with a `TZID` parameter is read in that
//! zone of the system's tz database (`/usr/share/zoneinfo`), by its name or, for names such as
//! `/mozilla.org/20070129_1/Europe/Berlin`, by their trailing `Area/Location`. An unknown
//! `TZID` (Outlook's Windows names such as `W. Europe Standard Time`) and a floating time
//! (neither `Z` nor `TZID`) are read as UTC: the `VTIMEZONE` definitions are not interpreted.

use std::collections::{HashMap, HashSet};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Periods (days, weeks, months or years) one recurrence rule may step through, counted from
/// where it starts to matter (rules whose periods are all alike jump to the window first).
const MAX_RULE_STEPS: u32 = 20_000;
/// Periods all the rules of one document may step through together: thousands of rules that
/// cannot jump (a monthly rule on the 31st with a `COUNT`) would otherwise cost
/// thousands × [`MAX_RULE_STEPS`].
const MAX_DOCUMENT_STEPS: u32 = 200_000;
/// Components nested deeper are ignored (real calendars nest four deep at most); it keeps the
/// search of the stack for the component an `END` closes constant.
const MAX_DEPTH: usize = 16;
/// Day numbers (days since 1970-01-01) of 0000-01-01 and 9999-12-31, the years a 4-digit
/// iCalendar date can name; rules stop outside.
const MIN_DAY: i64 = -719_528;
const MAX_DAY: i64 = 2_932_896;

/// A busy interval, Unix milliseconds, [starts_at, ends_at).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Busy {
    /// First millisecond of the interval.
    pub starts_at: i64,
    /// First millisecond after the interval.
    pub ends_at: i64,
}

/// Why a document gives no intervals. The texts are sentences for the user's profile page.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// No `BEGIN:VCALENDAR` line: an HTML page (a sign-in form, an error page), another format
    /// or bytes that are not text.
    #[error("the address did not answer a calendar (iCalendar) document")]
    NotCalendar,
}

/// The busy intervals of `text` that overlap [from, to), clipped to it, sorted, overlapping and
/// touching ones merged, at most `max` (the first ones). Malformed events and properties are
/// skipped; only a document that is no calendar at all is an error.
pub fn busy_intervals(text: &str, from: i64, to: i64, max: usize) -> Result<Vec<Busy>, ImportError> {
    let document = Document::read(text)?;
    let mut found = Window { from, to, intervals: document.periods.iter().copied().filter_map(|(s, e)| clip(s, e, from, to)).collect() };
    let mut budget = MAX_DOCUMENT_STEPS;
    for event in &document.events {
        document.occurrences(event, &mut found, &mut budget);
    }
    let mut intervals = found.intervals;
    intervals.sort_unstable();
    let mut merged: Vec<Busy> = Vec::new();
    for (starts_at, ends_at) in intervals {
        if let Some(last) = merged.last_mut() && starts_at <= last.ends_at {
            last.ends_at = last.ends_at.max(ends_at);
            continue;
        }
        // Only now: a later interval may still extend the last one kept.
        if merged.len() >= max {
            break;
        }
        merged.push(Busy { starts_at, ends_at });
    }
    Ok(merged)
}

/// The part of [starts_at, ends_at) inside [from, to), if any.
fn clip(starts_at: i64, ends_at: i64, from: i64, to: i64) -> Option<(i64, i64)> {
    let (s, e) = (starts_at.max(from), ends_at.min(to));
    (s < e).then_some((s, e))
}

/// The window asked for and the clipped intervals found in it so far.
struct Window {
    from: i64,
    to: i64,
    intervals: Vec<(i64, i64)>,
}

impl Window {
    fn add(&mut self, starts_at: i64, ends_at: i64) {
        if let Some(interval) = clip(starts_at, ends_at, self.from, self.to) {
            self.intervals.push(interval);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the document: content lines, components, the properties that carry time.

/// A wall-clock time: a day number (days since 1970-01-01, proleptic Gregorian) and a time of
/// day, to be read in some zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Local {
    day: i64,
    hour: i8,
    minute: i8,
    second: i8,
}

/// An iCalendar DATE or DATE-TIME value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    /// `YYYYMMDD`, a day number.
    Date(i64),
    /// `YYYYMMDDTHHMMSS`, with `utc` for a trailing `Z`.
    Time { local: Local, utc: bool },
}

/// A date or date-time property as written: its value and the parameters that say how to read
/// it.
#[derive(Clone, Debug, Default)]
struct Raw {
    value: String,
    tzid: Option<String>,
    /// `VALUE=DATE`.
    date: bool,
}

impl Raw {
    fn new(params: &str, value: &str) -> Raw {
        let date = param(params, "VALUE").is_some_and(|v| v.trim().eq_ignore_ascii_case("DATE"));
        Raw { value: value.trim().to_owned(), tzid: param(params, "TZID").map(|t| t.trim().to_owned()), date }
    }
}

/// The time properties of a `VEVENT` being read; nothing else of it is kept.
#[derive(Default)]
struct EventDraft {
    uid: Option<String>,
    start: Option<Raw>,
    end: Option<Raw>,
    duration: Option<String>,
    rrule: Option<String>,
    exdates: Vec<Raw>,
    recurrence_id: Option<Raw>,
    free: bool,
}

/// The time properties of a `VFREEBUSY` being read.
#[derive(Default)]
struct FreeBusyDraft {
    start: Option<Raw>,
    end: Option<Raw>,
    /// The busy `FREEBUSY` periods, UTC.
    periods: Vec<(i64, i64)>,
    /// It has `FREEBUSY` properties (busy or free): the standard form, whose `DTSTART` and
    /// `DTEND` are only the range the answer covers.
    has_freebusy: bool,
    /// Its `FBTYPE` property (Radicale's form), true unless `FREE`.
    fbtype_busy: Option<bool>,
}

/// An open component.
enum Frame {
    Calendar,
    Event(Box<EventDraft>),
    FreeBusy(Box<FreeBusyDraft>),
    /// Any other component (`VTIMEZONE`, `VALARM`, `VTODO`, …), by its upper-case name; its
    /// properties are ignored.
    Other(String),
}

impl Frame {
    fn name(&self) -> &str {
        match self {
            Frame::Calendar => "VCALENDAR",
            Frame::Event(_) => "VEVENT",
            Frame::FreeBusy(_) => "VFREEBUSY",
            Frame::Other(name) => name,
        }
    }
}

/// How long an event lasts, which gives each occurrence's end from its start.
#[derive(Clone, Copy, Debug)]
enum Length {
    /// From `DTEND`: the same exact duration for every occurrence (RFC 5545 §3.8.5.3).
    Exact(i64),
    /// From `DURATION`: days are nominal (the same wall-clock time that many days later, 23 or
    /// 25 hours across a DST change), the rest exact.
    Nominal { days: i64, ms: i64 },
}

/// A busy event, read: its start in its zone and what repeats it.
struct Event {
    uid: Option<String>,
    zone: TimeZone,
    start: Local,
    length: Length,
    rule: Option<Rule>,
    /// Excluded starts (`EXDATE` date-times), sorted.
    exdates: Vec<i64>,
    /// Excluded days (`EXDATE` dates, in the event's zone), sorted.
    exdays: Vec<i64>,
    /// It is a moved instance (`RECURRENCE-ID`) of a series: the series' overrides do not apply
    /// to it.
    is_override: bool,
}

/// A repetition rule (`RRULE`) this parser expands: `FREQ=DAILY|WEEKLY|MONTHLY|YEARLY` with
/// `INTERVAL`, `COUNT`, `UNTIL` (date or date-time) and, for `WEEKLY` only, `BYDAY` with plain
/// day codes (`MO`…`SU`); `WKST` is ignored (weeks start on Monday). `BYMONTHDAY` and
/// `BYMONTH` are accepted only when they name the start's own day and month, which changes
/// nothing (Outlook writes them so). Any other part (`BYSETPOS`, `BYDAY` with numbers or on
/// another frequency, `BYMONTHDAY` naming other days, `HOURLY`, an unknown `FREQ`, …) makes
/// the event count with its first occurrence only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    freq: Freq,
    interval: i64,
    count: Option<i64>,
    until: Option<Stamp>,
    /// `BYDAY` of a weekly rule, Monday first.
    weekdays: Option<[bool; 7]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// The instances of one series (`UID`) that `RECURRENCE-ID` components replace, by their
/// original start.
#[derive(Default)]
struct Replaced {
    /// `RECURRENCE-ID`s in UTC or with a `TZID`.
    instants: HashSet<i64>,
    /// Floating ones, matched with the series' wall-clock times whatever its zone.
    locals: HashSet<Local>,
}

impl Replaced {
    fn contains(&self, starts_at: i64, local: Local) -> bool {
        self.instants.contains(&starts_at) || self.locals.contains(&local)
    }
}

/// A document, read.
struct Document {
    events: Vec<Event>,
    /// `VFREEBUSY` periods, absolute.
    periods: Vec<(i64, i64)>,
    /// Per `UID`, the instances that a `RECURRENCE-ID` component replaces.
    overrides: HashMap<String, Replaced>,
    /// `TZID` → zone, looked up once per document.
    zones: HashMap<String, Option<TimeZone>>,
}

impl Document {
    fn read(text: &str) -> Result<Document, ImportError> {
        let mut document = Document { events: Vec::new(), periods: Vec::new(), overrides: HashMap::new(), zones: HashMap::new() };
        let mut stack: Vec<Frame> = Vec::new();
        // BEGINs past MAX_DEPTH, not on the stack: the next ENDs close them, whatever they name.
        let mut too_deep = 0usize;
        let mut calendar = false;
        for_each_line(text, |line| {
            let Some((name, params, value)) = split_line(line) else { return };
            if name.eq_ignore_ascii_case("BEGIN") {
                let component = value.trim().to_ascii_uppercase();
                if stack.len() >= MAX_DEPTH {
                    too_deep += 1;
                    return;
                }
                let in_calendar = matches!(stack.last(), Some(Frame::Calendar));
                stack.push(match component.as_str() {
                    "VCALENDAR" => {
                        calendar = true;
                        Frame::Calendar
                    }
                    // Only directly in a calendar, where RFC 5545 puts them.
                    "VEVENT" if in_calendar => Frame::Event(Box::default()),
                    "VFREEBUSY" if in_calendar => Frame::FreeBusy(Box::default()),
                    _ => Frame::Other(component),
                });
            } else if name.eq_ignore_ascii_case("END") {
                if too_deep > 0 {
                    too_deep -= 1;
                    return;
                }
                let component = value.trim();
                // An END that closes nothing open is ignored; one that skips components closes
                // them too, dropping what they held (a VALARM left open inside a VEVENT).
                let Some(depth) = stack.iter().rposition(|f| f.name().eq_ignore_ascii_case(component)) else { return };
                stack.truncate(depth + 1);
                match stack.pop() {
                    Some(Frame::Event(draft)) => document.finish_event(*draft),
                    Some(Frame::FreeBusy(draft)) => document.finish_free_busy(*draft),
                    _ => {}
                }
            } else {
                match stack.last_mut() {
                    Some(Frame::Event(draft)) => event_property(draft, name, params, value),
                    Some(Frame::FreeBusy(draft)) => free_busy_property(draft, name, params, value),
                    _ => {}
                }
            }
        });
        // Components left open at the end (a truncated download) are dropped.
        if calendar { Ok(document) } else { Err(ImportError::NotCalendar) }
    }

    /// The zone a `TZID` names; UTC when there is none or it is unknown.
    fn zone(&mut self, tzid: Option<&str>) -> TimeZone {
        let Some(name) = tzid.filter(|n| !n.is_empty()) else { return TimeZone::UTC };
        if let Some(zone) = self.zones.get(name) {
            return zone.clone().unwrap_or(TimeZone::UTC);
        }
        let zone = lookup_zone(name);
        self.zones.insert(name.to_owned(), zone.clone());
        zone.unwrap_or(TimeZone::UTC)
    }

    /// A date-time property as an instant: `Z` is UTC, a `TZID` its zone, a floating time is
    /// read in `floating`. Dates are refused.
    fn instant(&mut self, raw: &Raw, floating: &TimeZone) -> Option<i64> {
        match parse_stamp(&raw.value)? {
            Stamp::Date(_) => None,
            Stamp::Time { local, utc: true } => instant(&TimeZone::UTC, local),
            Stamp::Time { local, utc: false } if raw.tzid.is_some() => {
                let zone = self.zone(raw.tzid.as_deref());
                instant(&zone, local)
            }
            Stamp::Time { local, utc: false } => instant(floating, local),
        }
    }

    fn finish_event(&mut self, draft: EventDraft) {
        let mut is_override = false;
        if let Some(rid) = &draft.recurrence_id {
            // The replaced instance leaves the series whatever becomes of the replacement
            // (cancelled, transparent, malformed). A DATE one replaces an all-day instance,
            // which never counted.
            if let Some(uid) = &draft.uid && let Some(Stamp::Time { local, utc }) = parse_stamp(&rid.value) {
                if utc || rid.tzid.is_some() {
                    let zone = if utc { TimeZone::UTC } else { self.zone(rid.tzid.as_deref()) };
                    if let Some(starts_at) = instant(&zone, local) {
                        self.overrides.entry(uid.clone()).or_default().instants.insert(starts_at);
                    }
                } else {
                    self.overrides.entry(uid.clone()).or_default().locals.insert(local);
                }
            }
            is_override = true;
        }
        if draft.free {
            return;
        }
        let Some(start) = &draft.start else { return };
        if start.date {
            return;
        }
        // A DATE start is an all-day event too.
        let Some(Stamp::Time { local, utc }) = parse_stamp(&start.value) else { return };
        let zone = if utc { TimeZone::UTC } else { self.zone(start.tzid.as_deref()) };
        let Some(starts_at) = instant(&zone, local) else { return };
        let length = if let Some(end) = &draft.end {
            let Some(ends_at) = self.instant(end, &zone) else { return };
            Length::Exact(ends_at.saturating_sub(starts_at))
        } else if let Some(duration) = &draft.duration {
            let Some((days, ms)) = parse_duration(duration) else { return };
            Length::Nominal { days, ms }
        } else {
            return;
        };
        let event = Event { uid: draft.uid, zone: zone.clone(), start: local, length, rule: None, exdates: Vec::new(), exdays: Vec::new(), is_override };
        match event.end(local, starts_at) {
            Some(ends_at) if ends_at > starts_at => {}
            _ => return,
        }
        // A replacement is one instance: RANGE=THISANDFUTURE is not followed.
        let rule = if is_override { None } else { draft.rrule.as_deref().and_then(|r| parse_rule(r, local)) };
        let mut exdates = Vec::new();
        let mut exdays = Vec::new();
        for raw in &draft.exdates {
            // A floating EXDATE is read in the event's zone: clients write it so for a zoned
            // series as well as for a floating one.
            let exzone = if raw.tzid.is_some() { self.zone(raw.tzid.as_deref()) } else { zone.clone() };
            for value in raw.value.split(',') {
                match parse_stamp(value) {
                    Some(Stamp::Date(day)) => exdays.push(day),
                    Some(Stamp::Time { local, utc }) => exdates.extend(instant_or_utc(utc, &exzone, local)),
                    None => {}
                }
            }
        }
        exdates.sort_unstable();
        exdays.sort_unstable();
        self.events.push(Event { rule, exdates, exdays, ..event });
    }

    fn finish_free_busy(&mut self, draft: FreeBusyDraft) {
        if draft.has_freebusy {
            self.periods.extend(draft.periods);
        } else if draft.fbtype_busy == Some(true) && let (Some(start), Some(end)) = (&draft.start, &draft.end) {
            // Radicale's form. Without an FBTYPE property, DTSTART and DTEND are the range of a
            // standard answer that found nothing busy: not an interval.
            if let (Some(s), Some(e)) = (self.instant(start, &TimeZone::UTC), self.instant(end, &TimeZone::UTC)) && s < e {
                self.periods.push((s, e));
            }
        }
    }

    /// Adds the occurrences of `event` to `window`.
    fn occurrences(&self, event: &Event, window: &mut Window, budget: &mut u32) {
        // A replacement is not replaced by its siblings (nor by itself).
        let replaced = if event.is_override { None } else { event.uid.as_ref().and_then(|uid| self.overrides.get(uid)) };
        // DTSTART is always the first occurrence, whether or not the rule would produce it.
        if event.occurrence(event.start.day, i64::MAX, replaced, window).is_none() {
            return;
        }
        let Some(rule) = event.rule else { return };
        let until = match rule.until {
            None => i64::MAX,
            Some(Stamp::Time { local, utc }) => {
                // An UNTIL out of range: the first occurrence only.
                let Some(until) = instant_or_utc(utc, &event.zone, local) else { return };
                until
            }
            // The whole day, in the event's zone.
            Some(Stamp::Date(day)) => {
                let Some(until) = instant(&event.zone, Local { day, hour: 23, minute: 59, second: 59 }) else { return };
                until.saturating_add(999)
            }
        };
        let mut expansion = Expansion { event, until, replaced, window, budget, steps: 0 };
        expansion.run(&rule);
    }
}

impl Event {
    /// The end of the occurrence starting at `local`, `starts_at`.
    fn end(&self, local: Local, starts_at: i64) -> Option<i64> {
        match self.length {
            Length::Exact(ms) => starts_at.checked_add(ms),
            Length::Nominal { days: 0, ms } => starts_at.checked_add(ms),
            Length::Nominal { days, ms } => instant(&self.zone, Local { day: local.day.checked_add(days)?, ..local })?.checked_add(ms),
        }
    }

    /// Adds the occurrence on `day` (at the start's time of day) unless excluded. `None` when
    /// the rule is over: past `until`, past the window, or out of the calendar's range.
    fn occurrence(&self, day: i64, until: i64, replaced: Option<&Replaced>, window: &mut Window) -> Option<()> {
        let local = Local { day, ..self.start };
        let starts_at = instant(&self.zone, local)?;
        if starts_at > until || starts_at >= window.to {
            return None;
        }
        if self.exdates.binary_search(&starts_at).is_err() && self.exdays.binary_search(&day).is_err() && !replaced.is_some_and(|r| r.contains(starts_at, local))
            && let Some(ends_at) = self.end(local, starts_at) {
            window.add(starts_at, ends_at);
        }
        Some(())
    }

    /// How many whole days an occurrence may reach back from the window's start, plus margin
    /// for the zone's offset: rules jump to that far before the window.
    fn reach_days(&self) -> i64 {
        let ms = match self.length {
            Length::Exact(ms) => ms,
            Length::Nominal { days, ms } => days.saturating_mul(DAY_MS).saturating_add(ms),
        };
        (ms / DAY_MS).saturating_add(3)
    }
}

/// The expansion of one rule, after its first occurrence.
struct Expansion<'a> {
    event: &'a Event,
    until: i64,
    replaced: Option<&'a Replaced>,
    window: &'a mut Window,
    budget: &'a mut u32,
    steps: u32,
}

impl Expansion<'_> {
    /// Takes one period (day, week, month, year) from the rule's and the document's allowance;
    /// false when either is spent.
    fn step(&mut self) -> bool {
        if self.steps >= MAX_RULE_STEPS || *self.budget == 0 {
            return false;
        }
        self.steps += 1;
        *self.budget -= 1;
        true
    }

    fn occurrence(&mut self, day: i64) -> bool {
        self.event.occurrence(day, self.until, self.replaced, self.window).is_some()
    }

    fn run(&mut self, rule: &Rule) {
        let first = self.event.start.day;
        // The day before which occurrences cannot reach the window.
        let target = self.window.from.div_euclid(DAY_MS).saturating_sub(self.event.reach_days()).clamp(MIN_DAY, MAX_DAY);
        // Occurrences so far (with DTSTART) are counted only against COUNT.
        let count = rule.count.unwrap_or(i64::MAX);
        match (rule.freq, rule.weekdays) {
            (Freq::Weekly, Some(weekdays)) => {
                let monday = first - weekday(first);
                let Some(stride) = rule.interval.checked_mul(7) else { return };
                // The rule's days as offsets from Monday.
                let days: Vec<i64> = (0i64..).zip(weekdays).filter(|&(_, on)| on).map(|(d, _)| d).collect();
                let per_week = days.len() as i64;
                let first_week = days.iter().filter(|&&d| monday + d > first).count() as i64;
                // Every week but the first has the same occurrences, so the jump keeps COUNT exact.
                let mut week = if target > monday { (target - monday) / stride } else { 0 };
                let mut emitted = if week == 0 { 1 } else { (week - 1).saturating_mul(per_week).saturating_add(first_week).saturating_add(1) };
                while self.step() {
                    let Some(start) = week.checked_mul(stride).and_then(|d| monday.checked_add(d)) else { return };
                    if start > MAX_DAY {
                        return;
                    }
                    for &d in &days {
                        let day = start + d;
                        if day <= first {
                            continue;
                        }
                        if emitted >= count || !self.occurrence(day) {
                            return;
                        }
                        emitted += 1;
                    }
                    week += 1;
                }
            }
            (Freq::Daily | Freq::Weekly, _) => {
                let stride = if rule.freq == Freq::Weekly { rule.interval.checked_mul(7) } else { Some(rule.interval) };
                let Some(stride) = stride else { return };
                // Every period has one occurrence: the k-th period is the (k+1)-th occurrence.
                let mut k = if target > first { ((target - first) / stride).max(1) } else { 1 };
                while k < count && self.step() {
                    let Some(day) = k.checked_mul(stride).and_then(|d| first.checked_add(d)) else { return };
                    if !self.occurrence(day) {
                        return;
                    }
                    k += 1;
                }
            }
            (Freq::Monthly | Freq::Yearly, _) => {
                let (year, month, day) = civil_from_days(first);
                let monthly = rule.freq == Freq::Monthly;
                let months = if monthly { rule.interval } else { rule.interval.saturating_mul(12) };
                let first_month = year * 12 + month - 1;
                // Months without the start's day (the 31st, 29 February) have no occurrence; the
                // jump keeps COUNT exact only when every period has one.
                let every_period = if monthly { day <= 28 } else { !(month == 2 && day == 29) };
                let mut k = 1;
                if rule.count.is_none() || every_period {
                    let (ty, tm, _) = civil_from_days(target);
                    let target_month = ty * 12 + tm - 1;
                    if target_month > first_month {
                        k = ((target_month - first_month) / months).max(1);
                    }
                }
                let mut emitted = k;
                while self.step() {
                    let Some(m) = k.checked_mul(months).and_then(|m| first_month.checked_add(m)) else { return };
                    let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) + 1);
                    if !(0..=9999).contains(&y) {
                        return;
                    }
                    if day <= days_in_month(y, mo) {
                        if emitted >= count || !self.occurrence(days_from_civil(y, mo, day)) {
                            return;
                        }
                        emitted += 1;
                    }
                    k += 1;
                }
            }
        }
    }
}

/// Calls `f` with each unfolded content line of `text`: CRLF or LF line ends, a line starting
/// with a space or a tab continues the previous one, a leading BOM and blank lines are skipped.
fn for_each_line(text: &str, mut f: impl FnMut(&str)) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut line = String::new();
    for physical in text.split('\n') {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if let Some(rest) = physical.strip_prefix([' ', '\t']) {
            line.push_str(rest);
            continue;
        }
        if !line.is_empty() {
            f(&line);
        }
        line.clear();
        line.push_str(physical);
    }
    if !line.is_empty() {
        f(&line);
    }
}

/// A content line's name, parameters (from the first `;`, or empty) and value (after the
/// first `:` outside double quotes); `None` without a value.
fn split_line(line: &str) -> Option<(&str, &str, &str)> {
    let name_end = line.find([';', ':'])?;
    let mut quoted = false;
    for (i, c) in line[name_end..].char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                let colon = name_end + i;
                return Some((line[..name_end].trim(), &line[name_end..colon], &line[colon + 1..]));
            }
            _ => {}
        }
    }
    None
}

/// The first value of parameter `wanted` (any case) in `params` (`;NAME=VALUE;…`), without its
/// double quotes.
fn param<'a>(params: &'a str, wanted: &str) -> Option<&'a str> {
    let mut rest = params;
    while let Some(after) = rest.strip_prefix(';') {
        // The parameter ends at the next ';' outside double quotes.
        let mut quoted = false;
        let end = after.char_indices().find(|&(_, c)| {
            if c == '"' {
                quoted = !quoted;
            }
            c == ';' && !quoted
        }).map_or(after.len(), |(i, _)| i);
        let (item, next) = after.split_at(end);
        rest = next;
        let Some((name, value)) = item.split_once('=') else { continue };
        if !name.trim().eq_ignore_ascii_case(wanted) {
            continue;
        }
        return Some(match value.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or(quoted),
            None => value.split(',').next().unwrap_or(value),
        });
    }
    None
}

fn event_property(draft: &mut EventDraft, name: &str, params: &str, value: &str) {
    // Only the properties that carry time or say whether the time is busy are looked at.
    match name.to_ascii_uppercase().as_str() {
        "UID" => {
            draft.uid.get_or_insert_with(|| value.trim().to_owned());
        }
        "DTSTART" => {
            draft.start.get_or_insert_with(|| Raw::new(params, value));
        }
        "DTEND" => {
            draft.end.get_or_insert_with(|| Raw::new(params, value));
        }
        "DURATION" => {
            draft.duration.get_or_insert_with(|| value.trim().to_owned());
        }
        "RRULE" => {
            draft.rrule.get_or_insert_with(|| value.trim().to_owned());
        }
        "EXDATE" => draft.exdates.push(Raw::new(params, value)),
        "RECURRENCE-ID" => {
            draft.recurrence_id.get_or_insert_with(|| Raw::new(params, value));
        }
        "TRANSP" if value.trim().eq_ignore_ascii_case("TRANSPARENT") => draft.free = true,
        "STATUS" if value.trim().eq_ignore_ascii_case("CANCELLED") => draft.free = true,
        _ => {}
    }
}

fn free_busy_property(draft: &mut FreeBusyDraft, name: &str, params: &str, value: &str) {
    match name.to_ascii_uppercase().as_str() {
        "DTSTART" => {
            draft.start.get_or_insert_with(|| Raw::new(params, value));
        }
        "DTEND" => {
            draft.end.get_or_insert_with(|| Raw::new(params, value));
        }
        "FBTYPE" => {
            draft.fbtype_busy.get_or_insert(!value.trim().eq_ignore_ascii_case("FREE"));
        }
        "FREEBUSY" => {
            draft.has_freebusy = true;
            // RFC 5545 §3.2.9: BUSY is the default, and unknown types count as BUSY.
            if param(params, "FBTYPE").is_some_and(|t| t.trim().eq_ignore_ascii_case("FREE")) {
                return;
            }
            draft.periods.extend(value.split(',').filter_map(period));
        }
        _ => {}
    }
}

/// A `FREEBUSY` period, `start/end` or `start/duration`, UTC (floating read as UTC).
fn period(text: &str) -> Option<(i64, i64)> {
    let (start, end) = text.trim().split_once('/')?;
    let Stamp::Time { local, .. } = parse_stamp(start)? else { return None };
    let starts_at = instant(&TimeZone::UTC, local)?;
    let ends_at = match parse_stamp(end) {
        Some(Stamp::Time { local, .. }) => instant(&TimeZone::UTC, local)?,
        Some(Stamp::Date(_)) => return None,
        None => {
            let (days, ms) = parse_duration(end)?;
            starts_at.checked_add(days.checked_mul(DAY_MS)?.checked_add(ms)?)?
        }
    };
    (starts_at < ends_at).then_some((starts_at, ends_at))
}

/// The zone named `name` in the system's tz database: as given, else its last three or two
/// `/`-separated parts (`/mozilla.org/20070129_1/Europe/Berlin`, `/citadel.org/…`).
fn lookup_zone(name: &str) -> Option<TimeZone> {
    if let Ok(zone) = TimeZone::get(name) {
        return Some(zone);
    }
    // Positions of the last three slashes, the last first; longest suffix tried first.
    let slashes: Vec<usize> = name.rmatch_indices('/').map(|(i, _)| i).take(3).collect();
    slashes.iter().skip(1).rev().find_map(|&i| TimeZone::get(&name[i + 1..]).ok())
}

/// `local` in `zone` as Unix milliseconds. A wall-clock time skipped by a DST change counts
/// after it, a repeated one the first time (RFC 5545 §3.3.5).
fn instant(zone: &TimeZone, local: Local) -> Option<i64> {
    if !(MIN_DAY..=MAX_DAY).contains(&local.day) {
        return None;
    }
    let (y, m, d) = civil_from_days(local.day);
    let civil = DateTime::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?, local.hour, local.minute, local.second, 0).ok()?;
    Some(zone.to_timestamp(civil).ok()?.as_millisecond())
}

/// `local` in UTC when `utc` (a `Z` value), else in `zone`.
fn instant_or_utc(utc: bool, zone: &TimeZone, local: Local) -> Option<i64> {
    if utc { instant(&TimeZone::UTC, local) } else { instant(zone, local) }
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]`.
fn parse_stamp(text: &str) -> Option<Stamp> {
    let b = text.trim().as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let day = days_from_civil(year, month, day);
    if b.len() == 8 {
        return Some(Stamp::Date(day));
    }
    let utc = match b.len() {
        15 => false,
        16 if b[15].eq_ignore_ascii_case(&b'Z') => true,
        _ => return None,
    };
    if !b[8].eq_ignore_ascii_case(&b'T') {
        return None;
    }
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // A leap second (60) is read as the second before it.
    let local = Local { day, hour: i8::try_from(hour).ok()?, minute: i8::try_from(minute).ok()?, second: i8::try_from(second.min(59)).ok()? };
    Some(Stamp::Time { local, utc })
}

/// An RFC 5545 dur-value (`[+|-]P[nW][nD][T[nH][nM][nS]]`; weeks and days together are
/// accepted) as nominal days and exact milliseconds, both with the sign.
fn parse_duration(text: &str) -> Option<(i64, i64)> {
    let text = text.trim();
    let (negative, text) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let text = text.strip_prefix(['P', 'p'])?;
    let (mut days, mut ms) = (0i64, 0i64);
    let mut number: Option<i64> = None;
    let mut in_time = false;
    let mut parts = 0;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(digit))?);
            continue;
        }
        let c = c.to_ascii_uppercase();
        if c == 'T' {
            if in_time || number.is_some() {
                return None;
            }
            in_time = true;
            continue;
        }
        let n = number.take()?;
        match (c, in_time) {
            ('W', false) => days = days.checked_add(n.checked_mul(7)?)?,
            ('D', false) => days = days.checked_add(n)?,
            ('H', true) => ms = ms.checked_add(n.checked_mul(3_600_000)?)?,
            ('M', true) => ms = ms.checked_add(n.checked_mul(60_000)?)?,
            ('S', true) => ms = ms.checked_add(n.checked_mul(1000)?)?,
            _ => return None,
        }
        parts += 1;
    }
    if number.is_some() || parts == 0 {
        return None;
    }
    Some(if negative { (-days, -ms) } else { (days, ms) })
}

/// The rule of `text` if this parser expands it ([`Rule`] says which), for an event starting at
/// `start`; `None` means the first occurrence only.
fn parse_rule(text: &str, start: Local) -> Option<Rule> {
    let (_, start_month, start_day) = civil_from_days(start.day);
    let mut freq = None;
    let mut interval = 1;
    let mut count = None;
    let mut until = None;
    let mut byday = None;
    // BYMONTHDAY (MONTHLY, YEARLY) and BYMONTH (YEARLY) naming the start's own day and month.
    let mut same_day = false;
    let mut same_month = false;
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=')?;
        let value = value.trim();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => {
                freq = Some(match value.to_ascii_uppercase().as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    "YEARLY" => Freq::Yearly,
                    _ => return None,
                })
            }
            "INTERVAL" => interval = value.parse::<i64>().ok().filter(|&n| n >= 1)?,
            "COUNT" => count = Some(value.parse::<i64>().ok().filter(|&n| n >= 1)?),
            "UNTIL" => until = Some(parse_stamp(value)?),
            "BYDAY" => byday = Some(value),
            "WKST" => {}
            // Redundant when it names the start's own day or month.
            "BYMONTHDAY" if value.parse::<i64>().ok() == Some(start_day) => same_day = true,
            "BYMONTH" if value.parse::<i64>().ok() == Some(start_month) => same_month = true,
            _ => return None,
        }
    }
    let freq = freq?;
    let weekdays = match byday {
        None => None,
        Some(list) if freq == Freq::Weekly => {
            let mut days = [false; 7];
            for code in list.split(',') {
                let i = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"].iter().position(|d| code.trim().eq_ignore_ascii_case(d))?;
                days[i] = true;
            }
            Some(days)
        }
        Some(_) => return None,
    };
    // On a shorter frequency they filter, not repeat: not expanded.
    if (same_day && matches!(freq, Freq::Daily | Freq::Weekly)) || (same_month && freq != Freq::Yearly) {
        return None;
    }
    Some(Rule { freq, interval, count, until, weekdays })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
/// Callers keep `year` within 0..=9999.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]; Howard Hinnant's
/// civil-from-days algorithm). Callers keep `days` within [`MIN_DAY`]..=[`MAX_DAY`].
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An instant written in RFC 3339, read by jiff's own parser (not this module's).
    fn utc(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn busy(from: &str, to: &str) -> Busy {
        Busy { starts_at: utc(from), ends_at: utc(to) }
    }

    /// A calendar holding `body`, CRLF line ends as RFC 5545 writes them.
    fn calendar(body: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bureau//tests//EN\r\n{}END:VCALENDAR\r\n", body.replace('\n', "\r\n"))
    }

    /// The intervals of `text` in [from, to), at most 1000.
    fn read(text: &str, from: &str, to: &str) -> Vec<Busy> {
        busy_intervals(text, utc(from), utc(to), 1000).unwrap()
    }

    const JANUARY: (&str, &str) = ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");

    #[test]
    fn the_test_clock_reads_known_instants() {
        assert_eq!(utc("2026-12-07T08:00:00Z"), 1_796_630_400_000);
        assert_eq!(utc("2026-01-01T00:00:00Z"), 1_767_225_600_000);
        assert_eq!(utc("2026-03-19T08:00:00Z"), 1_773_907_200_000);
    }

    #[test]
    fn a_single_utc_event() {
        let text = calendar("BEGIN:VEVENT\nUID:one@example.org\nDTSTAMP:20251220T120000Z\nDTSTART:20260105T090000Z\nDTEND:20260105T103000Z\nSUMMARY:Dentist\nLOCATION:Somewhere\nEND:VEVENT\n");
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![Busy { starts_at: 1_767_603_600_000, ends_at: 1_767_609_000_000 }]);
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![busy("2026-01-05T09:00:00Z", "2026-01-05T10:30:00Z")]);
        // Outside the window: nothing.
        assert_eq!(read(&text, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"), vec![]);
    }

    #[test]
    fn a_weekly_berlin_series_keeps_its_wall_clock_time_across_dst_with_exdate_and_a_moved_instance() {
        // Europe/Berlin goes from UTC+1 to UTC+2 on 29 March 2026. The VTIMEZONE's own DTSTART
        // and RRULE must not be taken for an event's.
        let text = calendar(
            "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:DAYLIGHT\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nDTSTART:19810329T020000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nDTSTART:19961027T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nEND:VTIMEZONE\n\
             BEGIN:VEVENT\nUID:weekly-1\nDTSTART;TZID=Europe/Berlin:20260319T090000\nDTEND;TZID=Europe/Berlin:20260319T100000\nRRULE:FREQ=WEEKLY;COUNT=5\nEXDATE;TZID=Europe/Berlin:20260402T090000\nSUMMARY:Team meeting\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:weekly-1\nRECURRENCE-ID;TZID=Europe/Berlin:20260409T090000\nDTSTART;TZID=Europe/Berlin:20260409T140000\nDTEND;TZID=Europe/Berlin:20260409T150000\nSUMMARY:Team meeting (moved)\nEND:VEVENT\n",
        );
        assert_eq!(read(&text, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"), vec![
            busy("2026-03-19T08:00:00Z", "2026-03-19T09:00:00Z"),
            busy("2026-03-26T08:00:00Z", "2026-03-26T09:00:00Z"),
            // 2 April excluded; 9 April moved to the afternoon.
            busy("2026-04-09T12:00:00Z", "2026-04-09T13:00:00Z"),
            // Summer time: 09:00 in Berlin is 07:00 UTC. COUNT=5 ends the series here.
            busy("2026-04-16T07:00:00Z", "2026-04-16T08:00:00Z"),
        ]);
    }

    #[test]
    fn a_weekly_series_on_several_days_every_other_week_until_a_date_with_a_cancelled_instance() {
        // Mozilla's TZID prefix; Monday 16 March 2026 and Wednesdays, every other week.
        let text = calendar(
            "BEGIN:VEVENT\nUID:course\nDTSTART;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260316T180000\nDTEND;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260316T183000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=MO;UNTIL=20260420T000000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:course\nRECURRENCE-ID;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260401T180000\nDTSTART;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260401T180000\nDTEND;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260401T183000\nSTATUS:CANCELLED\nEND:VEVENT\n",
        );
        assert_eq!(read(&text, "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z"), vec![
            busy("2026-03-16T17:00:00Z", "2026-03-16T17:30:00Z"),
            busy("2026-03-18T17:00:00Z", "2026-03-18T17:30:00Z"),
            busy("2026-03-30T16:00:00Z", "2026-03-30T16:30:00Z"),
            // Wednesday 1 April cancelled.
            busy("2026-04-13T16:00:00Z", "2026-04-13T16:30:00Z"),
            busy("2026-04-15T16:00:00Z", "2026-04-15T16:30:00Z"),
        ]);
    }

    #[test]
    fn a_rule_jumps_to_the_window_and_still_counts_exactly() {
        // Wednesday 1 January 2025 (DTSTART, not a rule day, counts first), then Friday 3
        // January, then 52 weeks of Monday and Friday: the 106th is Friday 2 January 2026.
        let series = |count: u32| calendar(&format!("BEGIN:VEVENT\nUID:x\nDTSTART:20250101T090000Z\nDTEND:20250101T100000Z\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR;COUNT={count}\nEND:VEVENT\n"));
        assert_eq!(read(&series(106), JANUARY.0, JANUARY.1), vec![busy("2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z")]);
        assert_eq!(read(&series(105), JANUARY.0, JANUARY.1), vec![]);
        assert_eq!(read(&series(107), JANUARY.0, JANUARY.1).len(), 2);
        // Daily with COUNT from 25 December: the 10th is 3 January.
        let daily = calendar("BEGIN:VEVENT\nUID:y\nDTSTART:20251225T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=10\nEND:VEVENT\n");
        assert_eq!(read(&daily, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"),
            busy("2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z"),
            busy("2026-01-03T09:00:00Z", "2026-01-03T10:00:00Z"),
        ]);
        // Every third day until 10 January (a DATE: that whole day).
        let every_third = calendar("BEGIN:VEVENT\nUID:z\nDTSTART:20251229T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260110\nEND:VEVENT\n");
        assert_eq!(read(&every_third, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"),
            busy("2026-01-04T09:00:00Z", "2026-01-04T10:00:00Z"),
            busy("2026-01-07T09:00:00Z", "2026-01-07T10:00:00Z"),
            busy("2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z"),
        ]);
    }

    #[test]
    fn monthly_and_yearly_rules_skip_the_months_and_years_without_the_day() {
        let monthly = calendar("BEGIN:VEVENT\nUID:m\nDTSTART:20260131T090000Z\nDTEND:20260131T100000Z\nRRULE:FREQ=MONTHLY;COUNT=4;BYMONTHDAY=31\nEND:VEVENT\n");
        assert_eq!(read(&monthly, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), vec![
            busy("2026-01-31T09:00:00Z", "2026-01-31T10:00:00Z"),
            busy("2026-03-31T09:00:00Z", "2026-03-31T10:00:00Z"),
            busy("2026-05-31T09:00:00Z", "2026-05-31T10:00:00Z"),
            busy("2026-07-31T09:00:00Z", "2026-07-31T10:00:00Z"),
        ]);
        let yearly = calendar("BEGIN:VEVENT\nUID:leap\nDTSTART:20240229T120000Z\nDTEND:20240229T130000Z\nRRULE:FREQ=YEARLY;BYMONTH=2\nEND:VEVENT\n");
        assert_eq!(read(&yearly, "2025-01-01T00:00:00Z", "2029-01-01T00:00:00Z"), vec![busy("2028-02-29T12:00:00Z", "2028-02-29T13:00:00Z")]);
    }

    #[test]
    fn rules_this_parser_does_not_expand_count_with_their_first_occurrence() {
        for rule in ["FREQ=MONTHLY;BYMONTHDAY=5,20", "FREQ=MONTHLY;BYDAY=1MO", "FREQ=WEEKLY;BYDAY=1MO", "FREQ=DAILY;BYDAY=MO,TU", "FREQ=YEARLY;BYSETPOS=1", "FREQ=HOURLY", "FREQ=SECONDLY", "FREQ=FORTNIGHTLY", "FREQ=DAILY;INTERVAL=0", "INTERVAL=2", "FREQ=DAILY;UNTIL=tomorrow", "FREQ=WEEKLY;BYDAY=XX"] {
            let text = calendar(&format!("BEGIN:VEVENT\nUID:r\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nRRULE:{rule}\nEND:VEVENT\n"));
            assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![busy("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z")], "{rule}");
        }
        let start = parse_stamp("20260105T090000Z");
        let Some(Stamp::Time { local, .. }) = start else { panic!("{start:?}") };
        assert_eq!(parse_rule("freq=weekly;byday=mo,we;interval=2;count=3", local), Some(Rule { freq: Freq::Weekly, interval: 2, count: Some(3), until: None, weekdays: Some([true, false, true, false, false, false, false]) }));
        assert_eq!(parse_rule("FREQ=MONTHLY;BYMONTH=1", local), None);
    }

    #[test]
    fn durations_nominal_days_and_events_without_an_end() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T090000Z\nDURATION:PT1H30M\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART:20260112T090000Z\nDURATION:P1W\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART:20260106T090000Z\nDURATION:-PT1H\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:d\nDTSTART:20260107T090000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:e\nDTSTART:20260108T090000Z\nDTEND:20260108T090000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:f\nDTSTART:20260109T090000Z\nDURATION:P1Y\nEND:VEVENT\n",
        );
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-05T09:00:00Z", "2026-01-05T10:30:00Z"),
            busy("2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z"),
        ]);
        // P1D across the change to summer time: noon to noon in Berlin, 23 hours.
        let dst = calendar("BEGIN:VEVENT\nUID:g\nDTSTART;TZID=Europe/Berlin:20260328T120000\nDURATION:P1D\nEND:VEVENT\n");
        assert_eq!(read(&dst, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"), vec![busy("2026-03-28T11:00:00Z", "2026-03-29T10:00:00Z")]);
        assert_eq!(parse_duration("P1DT2H3M4S"), Some((1, 7_384_000)));
        assert_eq!(parse_duration("-P2W"), Some((-14, 0)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("P1H"), None);
        assert_eq!(parse_duration("P99999999999999999999D"), None);
    }

    #[test]
    fn transparent_cancelled_and_all_day_events_are_not_busy() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:t\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nTRANSP:TRANSPARENT\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART:20260106T090000Z\nDTEND:20260106T100000Z\nSTATUS:CANCELLED\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:h\nDTSTART;VALUE=DATE:20260107\nDTEND;VALUE=DATE:20260108\nSUMMARY:Holiday\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART:20260108\nDTEND:20260109\nRRULE:FREQ=YEARLY\nSUMMARY:Birthday\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:o\nDTSTART:20260109T090000Z\nDTEND:20260109T100000Z\nTRANSP:OPAQUE\nSTATUS:TENTATIVE\nEND:VEVENT\n",
        );
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![busy("2026-01-09T09:00:00Z", "2026-01-09T10:00:00Z")]);
    }

    #[test]
    fn folded_lines_any_case_a_bom_lf_ends_and_a_valarm() {
        // The VALARM's DURATION and TRIGGER are the alarm's, not the event's.
        let text = "\u{feff}BEGIN:VCALENDAR\n\nbegin:vevent\nDTST\n ART;tzid=\"Europe/Berlin\":20260105T0900\n\t00\ndtend;X-NOTE=\"a;b:c\";TZID=Europe/Berlin:20260105T100000\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nDURATION:PT5M\nREPEAT:2\nEND:VALARM\nDESCRIPTION:a long\n  description\nRRULE:FREQ=DAILY;\n COUNT=2\nEnd:VEvent\nEND:VCALENDAR\n";
        let expected = vec![busy("2026-01-05T08:00:00Z", "2026-01-05T09:00:00Z"), busy("2026-01-06T08:00:00Z", "2026-01-06T09:00:00Z")];
        assert_eq!(read(text, JANUARY.0, JANUARY.1), expected);
        assert_eq!(read(&text.replace('\n', "\r\n"), JANUARY.0, JANUARY.1), expected);
        // An alarm left open is closed by its event's END.
        let open = calendar("BEGIN:VEVENT\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nBEGIN:VALARM\nTRIGGER:-PT15M\nEND:VEVENT\n");
        assert_eq!(read(&open, JANUARY.0, JANUARY.1), vec![busy("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z")]);
        // A VEVENT not directly in a calendar, and one never closed, are not read.
        let stray = calendar("BEGIN:VTODO\nBEGIN:VEVENT\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nEND:VEVENT\nEND:VTODO\nBEGIN:VEVENT\nDTSTART:20260106T090000Z\nDTEND:20260106T100000Z\n");
        assert_eq!(read(&stray, JANUARY.0, JANUARY.1), vec![]);
    }

    #[test]
    fn unknown_zones_and_floating_times_count_as_utc() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:w\nDTSTART;TZID=W. Europe Standard Time:20260105T090000\nDTEND;TZID=W. Europe Standard Time:20260105T100000\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:f\nDTSTART:20260106T090000\nDTEND:20260106T100000\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:n\nDTSTART;TZID=America/New_York:20260107T090000\nDTEND;TZID=America/New_York:20260107T100000\nEND:VEVENT\n",
        );
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"),
            busy("2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"),
            busy("2026-01-07T14:00:00Z", "2026-01-07T15:00:00Z"),
        ]);
    }

    #[test]
    fn free_busy_periods_except_free_ones() {
        // A CalDAV free-busy-query answer: DTSTART and DTEND are the range asked for.
        let text = calendar(
            "METHOD:REPLY\nBEGIN:VFREEBUSY\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T000000Z\nDTEND:20260201T000000Z\n\
             FREEBUSY;FBTYPE=BUSY:20260105T090000Z/20260105T100000Z,20260106T090000Z/PT30M\n\
             FREEBUSY;FBTYPE=FREE:20260107T090000Z/20260107T100000Z\n\
             FREEBUSY:20260108T090000Z/20260108T100000Z\n\
             freebusy;fbtype=BUSY-TENTATIVE:20260109T090000Z/PT1H\n\
             FREEBUSY;FBTYPE=\"BUSY-UNAVAILABLE\":20260110T090000Z/PT1H\n\
             FREEBUSY:20260111T090000Z/20260111T080000Z,garbage\n\
             END:VFREEBUSY\n",
        );
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"),
            busy("2026-01-06T09:00:00Z", "2026-01-06T09:30:00Z"),
            busy("2026-01-08T09:00:00Z", "2026-01-08T10:00:00Z"),
            busy("2026-01-09T09:00:00Z", "2026-01-09T10:00:00Z"),
            busy("2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z"),
        ]);
    }

    #[test]
    fn radicale_answers_one_free_busy_component_per_busy_interval() {
        let text = calendar(
            "BEGIN:VFREEBUSY\nDTSTAMP:20251201T000000Z\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nFBTYPE:BUSY\nEND:VFREEBUSY\n\
             BEGIN:VFREEBUSY\nDTSTAMP:20251201T000000Z\nDTSTART:20260106T090000Z\nDTEND:20260106T100000Z\nFBTYPE:BUSY-TENTATIVE\nEND:VFREEBUSY\n\
             BEGIN:VFREEBUSY\nDTSTAMP:20251201T000000Z\nDTSTART:20260107T090000Z\nDTEND:20260107T100000Z\nFBTYPE:FREE\nEND:VFREEBUSY\n",
        );
        assert_eq!(read(&text, JANUARY.0, JANUARY.1), vec![
            busy("2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"),
            busy("2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"),
        ]);
        // A standard answer that found nothing busy: only the range asked for, which is free.
        let nothing = calendar("BEGIN:VFREEBUSY\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T000000Z\nDTEND:20260201T000000Z\nEND:VFREEBUSY\n");
        assert_eq!(read(&nothing, JANUARY.0, JANUARY.1), vec![]);
    }

    #[test]
    fn intervals_are_clipped_merged_and_limited() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:1\nDTSTART:20251231T230000Z\nDTEND:20260101T010000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:2\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:3\nDTSTART:20260105T100000Z\nDTEND:20260105T110000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:4\nDTSTART:20260105T103000Z\nDTEND:20260105T120000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:5\nDTSTART:20260106T090000Z\nDTEND:20260106T100000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:6\nDTSTART:20260106T093000Z\nDTEND:20260106T094500Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:7\nDTSTART:20260107T090000Z\nDTEND:20260107T100000Z\nEND:VEVENT\n",
        );
        let (from, to) = (utc("2026-01-01T00:00:00Z"), utc("2026-01-07T09:30:00Z"));
        let all = vec![
            busy("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
            busy("2026-01-05T09:00:00Z", "2026-01-05T12:00:00Z"),
            busy("2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"),
            busy("2026-01-07T09:00:00Z", "2026-01-07T09:30:00Z"),
        ];
        assert_eq!(busy_intervals(&text, from, to, 10).unwrap(), all);
        assert_eq!(busy_intervals(&text, from, to, 3).unwrap(), all[..3]);
        assert_eq!(busy_intervals(&text, from, to, 0).unwrap(), vec![]);
        assert_eq!(busy_intervals(&text, to, from, 10).unwrap(), vec![]);
        // The last kept interval still grows by the ones merged into it.
        assert_eq!(busy_intervals(&text, utc("2026-01-05T00:00:00Z"), to, 1).unwrap(), vec![busy("2026-01-05T09:00:00Z", "2026-01-05T12:00:00Z")]);
    }

    #[test]
    fn what_is_not_a_calendar_is_refused() {
        let garbage = String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x42, 0x80, 0x0a, 0xc3]).into_owned();
        for text in ["<!DOCTYPE html>\n<html><body>Sign in</body></html>", &garbage, "", "BEGIN:VEVENT\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nEND:VEVENT\n", "X-BEGIN:VCALENDAR\n"] {
            assert_eq!(busy_intervals(text, 0, i64::MAX, 10), Err(ImportError::NotCalendar), "{text:?}");
        }
        assert_eq!(ImportError::NotCalendar.to_string(), "the address did not answer a calendar (iCalendar) document");
        assert_eq!(busy_intervals("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", 0, i64::MAX, 10), Ok(vec![]));
        // Nesting deeper than anything real, and ENDs that close nothing, are harmless.
        let deep = format!("BEGIN:VCALENDAR\n{}{}END:X\nEND:VCALENDAR\n", "BEGIN:X\n".repeat(10_000), "END:Y\n".repeat(10_000));
        assert_eq!(busy_intervals(&deep, 0, i64::MAX, 10), Ok(vec![]));
    }

    #[test]
    fn a_daily_rule_from_1900_without_end_is_read_promptly_and_bounded() {
        let started = std::time::Instant::now();
        let text = calendar("BEGIN:VEVENT\nUID:old\nDTSTART:19000101T090000Z\nDTEND:19000101T100000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\n");
        let found = read(&text, JANUARY.0, JANUARY.1);
        assert_eq!(found.len(), 31);
        assert_eq!(found[0], busy("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"));
        assert_eq!(found[30], busy("2026-01-31T09:00:00Z", "2026-01-31T10:00:00Z"));
        // The widest window: at most MAX_RULE_STEPS occurrences.
        let everything = busy_intervals(&text, i64::MIN, i64::MAX, usize::MAX).unwrap();
        assert_eq!(everything.len(), MAX_RULE_STEPS as usize + 1);
        // Rules that cannot jump (the 31st with a COUNT, 29 February with a COUNT), a thousand
        // times: the document's allowance bounds them all together.
        let slow = "BEGIN:VEVENT\nDTSTART:00010131T090000Z\nDTEND:00010131T100000Z\nRRULE:FREQ=MONTHLY;COUNT=999999999\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART:00040229T090000Z\nDTEND:00040229T100000Z\nRRULE:FREQ=YEARLY;COUNT=999999999\nEND:VEVENT\n".repeat(500);
        assert_eq!(read(&calendar(&slow), JANUARY.0, JANUARY.1), vec![]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn dates_and_date_times_are_read_strictly() {
        assert_eq!(parse_stamp("19700101"), Some(Stamp::Date(0)));
        assert_eq!(parse_stamp("20260105T090000Z"), Some(Stamp::Time { local: Local { day: 20_458, hour: 9, minute: 0, second: 0 }, utc: true }));
        assert_eq!(parse_stamp("20261231T235960"), Some(Stamp::Time { local: Local { day: 20_818, hour: 23, minute: 59, second: 59 }, utc: false }));
        for bad in ["2026010", "20260230", "20261301", "20260105T240000", "20260105 090000", "20260105T0900", "+2026010T090000", "２０２６０１０５"] {
            assert_eq!(parse_stamp(bad), None, "{bad}");
        }
        for day in [MIN_DAY, -1, 0, 59, 20_458, MAX_DAY] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(MIN_DAY), (0, 1, 1));
        assert_eq!(civil_from_days(MAX_DAY), (9999, 12, 31));
        assert_eq!(weekday(days_from_civil(2026, 1, 5)), 0);
        // Out of jiff's range once a zone's offset applies: no instant, no panic.
        assert_eq!(instant(&TimeZone::get("America/New_York").unwrap(), Local { day: MAX_DAY, hour: 23, minute: 0, second: 0 }), None);
    }
}
