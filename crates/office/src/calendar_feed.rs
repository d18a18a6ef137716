//! Each user's private calendar feed: their Bureau absences and the calendar entries they made
//! by hand, as an iCalendar document (RFC 5545)
//! at a secret address, for their own calendar program, which cannot sign in. The secret is
//! shown once (only its SHA-256 is stored) and renewing it makes the old address stop working.
//! The feed is the user's own data: it carries the kind, the deputy and the note. Busy times
//! read from the user's own calendar are left out (they came from there).

use std::collections::HashMap;

use bureau_store::OrgId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{new_token, token_hash};
use crate::attendance::date_of;
use crate::error::{OfficeError, Result};
use crate::rights::Actor;
use crate::{AbsenceKind, AbsenceView, EntryView, WorkingDay};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// How far back the feed reaches: absences that ended longer ago are left out.
const FEED_PAST_DAYS: i64 = 90;

/// A fresh feed address, shown once.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// The feed's address path (`/api/calendar/<secret>.ics`), to put after the server's address.
    pub path: String,
}

/// Whether the user has a feed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CalendarFeedStatus {
    /// A feed address exists (it is not shown again; renew it to get one).
    pub active: bool,
}

impl WorkingDay {
    /// A new secret feed address for the actor; the previous one stops working.
    pub async fn renew_calendar_feed(&self, actor: &Actor) -> Result<CalendarFeed> {
        self.check_extended(actor, "absences").await?;
        let (token, hash) = new_token();
        self.store.put_calendar_feed(OrgId(&actor.org_id), &actor.user_id, &hash, self.core.now()).await?;
        Ok(CalendarFeed { path: format!("/api/calendar/{token}.ics") })
    }

    /// Whether the actor has a feed.
    pub async fn calendar_feed_status(&self, actor: &Actor) -> Result<CalendarFeedStatus> {
        self.check_extended(actor, "absences").await?;
        Ok(CalendarFeedStatus { active: self.store.has_calendar_feed(OrgId(&actor.org_id), &actor.user_id).await? })
    }

    /// Turns the actor's feed off.
    pub async fn remove_calendar_feed(&self, actor: &Actor) -> Result<()> {
        self.store.delete_calendar_feed(OrgId(&actor.org_id), &actor.user_id).await?;
        Ok(())
    }

    /// The feed with this secret: an iCalendar document of its owner's absences. Unknown
    /// secrets, deactivated users and organisations back in entry mode all answer `NotFound`.
    pub async fn calendar_feed(&self, secret: &str) -> Result<String> {
        let secret = secret.strip_suffix(".ics").unwrap_or(secret);
        let (org_id, user_id) = self.store.calendar_feed_owner(&token_hash(secret)).await?.ok_or(OfficeError::NotFound("calendar feed"))?;
        let user = self.core.store.user(OrgId(&org_id), &user_id).await?.filter(|u| u.active).ok_or(OfficeError::NotFound("calendar feed"))?;
        let owner = crate::Actor { org_id, user_id, role: user.role, rights: Vec::new() };
        if self.check_extended(&owner, "absences").await.is_err() {
            return Err(OfficeError::NotFound("calendar feed"));
        }
        let since = self.core.now() - FEED_PAST_DAYS * DAY_MS;
        let absences: Vec<AbsenceView> = self.exported(&owner.org_id, &owner.user_id).await?.into_iter().filter(|a| a.ends_at > since).collect();
        let entries = self.entries_by_hand(&owner.org_id, &owner.user_id, since).await?;
        Ok(ics(&absences, &entries, self.core.now()))
    }
}

fn kind_name(kind: Option<AbsenceKind>) -> &'static str {
    match kind {
        Some(AbsenceKind::Vacation) => "Vacation",
        Some(AbsenceKind::Sick) => "Sick leave",
        Some(AbsenceKind::BusinessTrip) => "Business trip",
        Some(AbsenceKind::Training) => "Training",
        Some(AbsenceKind::Other) | None => "Absence",
    }
}

/// A UTC date-time, `YYYYMMDDTHHMMSSZ`.
pub(crate) fn ics_time(ms: i64) -> String {
    let (day, rest) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS) / 1000);
    format!("{}T{:02}{:02}{:02}Z", date_of(day).replace('-', ""), rest / 3600, rest / 60 % 60, rest % 60)
}

/// Text as a property value: backslash, semicolon, comma and line breaks escaped (RFC 5545
/// 3.3.11); other control characters dropped.
fn ics_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets (on character boundaries), ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The iCalendar document of `absences` and `entries`.
fn ics(absences: &[AbsenceView], entries: &[EntryView], now: i64) -> String {
    let mut out = String::new();
    for fixed in ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bureau//Absences//EN", "CALSCALE:GREGORIAN", "X-WR-CALNAME:Bureau absences"] {
        line(&mut out, fixed);
    }
    let deputies: HashMap<&str, &str> = absences.iter().filter_map(|a| Some((a.deputy_id.as_deref()?, a.deputy_name.as_deref()?))).collect();
    for a in absences {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@bureau", a.id));
        line(&mut out, &format!("DTSTAMP:{}", ics_time(now)));
        line(&mut out, &format!("DTSTART:{}", ics_time(a.starts_at)));
        line(&mut out, &format!("DTEND:{}", ics_time(a.ends_at)));
        line(&mut out, &format!("SUMMARY:{}", ics_text(&format!("Away: {}", kind_name(a.kind)))));
        let deputy = a.deputy_id.as_deref().and_then(|d| deputies.get(d)).map(|name| format!("{name} stands in."));
        let description: Vec<String> = deputy.into_iter().chain(a.note.clone()).collect();
        if !description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", ics_text(&description.join("\n"))));
        }
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    for e in entries {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@bureau", e.id));
        line(&mut out, &format!("DTSTAMP:{}", ics_time(now)));
        line(&mut out, &format!("DTSTART:{}", ics_time(e.starts_at)));
        line(&mut out, &format!("DTEND:{}", ics_time(e.ends_at)));
        line(&mut out, &format!("SUMMARY:{}", ics_text(e.title.as_deref().unwrap_or("Busy"))));
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_text_and_folding_follow_rfc_5545() {
        assert_eq!(ics_time(1_800_000_000_000), "20270115T080000Z");
        assert_eq!(ics_text("Lisbon; then Porto, by train\\bus\nback"), "Lisbon\\; then Porto\\, by train\\\\bus\\nback");
        let mut out = String::new();
        line(&mut out, &format!("DESCRIPTION:{}", "ä".repeat(60)));
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.iter().all(|l| l.len() <= 75), "{lines:?}");
        assert!(lines[1].starts_with(' '));
        assert_eq!(lines.concat().replace(' ', "").chars().filter(|c| *c == 'ä').count(), 60);
    }

    #[test]
    fn a_feed_holds_one_event_per_absence_and_entry() {
        let absence = AbsenceView {
            id: "a1".into(),
            user_id: "u1".into(),
            name: "Ada".into(),
            starts_at: 1_800_000_000_000,
            ends_at: 1_800_086_400_000,
            deputy_id: Some("u2".into()),
            deputy_name: Some("Cleo".into()),
            kind: Some(AbsenceKind::Vacation),
            note: Some("Lisbon".into()),
        };
        let entry = EntryView { id: "e1".into(), starts_at: 1_800_100_000_000, ends_at: 1_800_103_600_000, title: Some("Client, Lisbon".into()), imported: false };
        let feed = ics(&[absence], &[entry], 1_799_000_000_000);
        assert!(feed.contains("\r\nUID:e1@bureau\r\n"), "{feed}");
        assert!(feed.contains("\r\nSUMMARY:Client\\, Lisbon\r\n"), "{feed}");
        assert!(feed.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(feed.contains("\r\nUID:a1@bureau\r\nDTSTAMP:20270103T181320Z\r\nDTSTART:20270115T080000Z\r\nDTEND:20270116T080000Z\r\nSUMMARY:Away: Vacation\r\nDESCRIPTION:Cleo stands in.\\nLisbon\r\n"), "{feed}");
        assert!(feed.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    }
}
