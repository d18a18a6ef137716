//! Attendance times: recorded from the hub's presence flips per UTC day (split at midnight,
//! near intervals joined), seen by the user and by `see_attendance`, exported, stopped and
//! deleted by an objection, never recorded in entry mode.

use std::sync::Arc;

use bureau_office::{Actor, Office, OfficeError, WorkingDay};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

const HOUR: i64 = 3600 * 1000;
/// 2027-01-15 08:00 UTC.
const T0: i64 = 1_800_000_000_000;

async fn present(working_day: &Arc<WorkingDay>, who: &Actor, from: i64, to: i64) {
    assert!(working_day.presence_changed(&who.org_id, &who.user_id, true, from).is_none());
    working_day.presence_changed(&who.org_id, &who.user_id, false, to).expect("an interval ended").await.unwrap();
}

async fn signed_in(office: &Office, admin: &Actor, name: &str, email: &str) -> Actor {
    office.accounts.create_user(admin, member(name, email)).await.unwrap();
    let session = office.accounts.login(email, "member password 1", &client("10.0.0.5")).await.unwrap();
    office.accounts.authenticate(&session.token).await.unwrap()
}

#[tokio::test]
async fn attendance_is_recorded_per_day_and_seen_by_whom_it_must_be() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let ada = signed_in(&office, &admin, "Ada, Countess", "ada@acme.example").await;
    let bob = signed_in(&office, &admin, "Bob", "bob@acme.example").await;
    let day = &office.working_day;

    present(day, &ada, T0, T0 + 2 * HOUR).await;
    present(day, &ada, T0 + 2 * HOUR + 30_000, T0 + 4 * HOUR).await; // back within a minute: one interval
    present(day, &ada, T0 + 15 * HOUR, T0 + 17 * HOUR).await; // 23:00 to 01:00: split at midnight
    present(day, &ada, T0 + 20 * HOUR, T0 + 20 * HOUR + 500).await; // too short to count

    let report = day.attendance(&ada, &ada.user_id, T0 - 8 * HOUR, T0 + 40 * HOUR).await.unwrap();
    let days: Vec<(&str, i64, usize, i64)> = report.days.iter().map(|d| (d.date.as_str(), d.first_seen, d.intervals.len(), d.present_minutes)).collect();
    assert_eq!(days, vec![("2027-01-15", T0, 2, 4 * 60 + 60), ("2027-01-16", T0 + 16 * HOUR, 1, 60)]);
    // Friday the 15th and Saturday the 16th are one week, from Monday the 11th.
    let weeks: Vec<(&str, i64)> = report.weeks.iter().map(|w| (w.week_of.as_str(), w.present_minutes)).collect();
    assert_eq!(weeks, vec![("2027-01-11", 360)]);

    // Bob sees only his own; the admin holds see_attendance; a span over 62 days is refused.
    assert!(matches!(day.attendance(&bob, &ada.user_id, T0, T0 + HOUR).await, Err(OfficeError::Forbidden)));
    assert_eq!(day.attendance(&admin, &ada.user_id, T0, T0 + HOUR).await.unwrap().days.len(), 1);
    assert!(matches!(day.attendance(&ada, &ada.user_id, T0, T0 + 63 * 24 * HOUR).await, Err(OfficeError::Invalid { field: "to", .. })));
    assert!(matches!(day.attendance_csv(&bob, T0, T0 + HOUR).await, Err(OfficeError::Forbidden)));
    let csv = day.attendance_csv(&admin, T0 - 8 * HOUR, T0 + 40 * HOUR).await.unwrap();
    assert_eq!(csv.lines().collect::<Vec<_>>(), vec![
        "name,email,date,first_seen_utc,present_minutes",
        "\"Ada, Countess\",ada@acme.example,2027-01-15,08:00,300",
        "\"Ada, Countess\",ada@acme.example,2027-01-16,00:00,60",
    ]);

    // The export carries it; an objection deletes it and stops the recording.
    let export = serde_json::to_value(office.privacy.export(&ada).await.unwrap()).unwrap();
    assert_eq!(export["attendance"].as_array().map(Vec::len), Some(2));
    let patch: bureau_office::PrivacySettingsPatch = serde_json::from_str(r#"{"objections":["attendance"]}"#).unwrap();
    office.privacy.set_privacy_settings(&ada, patch).await.unwrap();
    assert!(day.attendance(&ada, &ada.user_id, T0, T0 + 40 * HOUR).await.unwrap().days.is_empty());
    present(day, &ada, T0 + 30 * HOUR, T0 + 31 * HOUR).await;
    assert!(day.attendance(&ada, &ada.user_id, T0, T0 + 40 * HOUR).await.unwrap().days.is_empty());
    // Bob, who did not object, is still recorded.
    present(day, &bob, T0 + 30 * HOUR, T0 + 31 * HOUR).await;
    assert_eq!(day.attendance(&bob, &bob.user_id, T0, T0 + 40 * HOUR).await.unwrap().days.len(), 1);
}

#[tokio::test]
async fn nothing_is_recorded_in_entry_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let entry: bureau_office::OrgSettingsPatch = serde_json::from_str(r#"{"profile_mode":"entry"}"#).unwrap();
    office.directory.update_org(&admin, entry).await.unwrap();
    let ada = signed_in(&office, &admin, "Ada", "ada@acme.example").await;
    present(&office.working_day, &ada, T0, T0 + HOUR).await;
    assert!(matches!(office.working_day.attendance(&ada, &ada.user_id, T0, T0 + HOUR).await, Err(OfficeError::FieldDisabled(_))));
    let export = serde_json::to_value(office.privacy.export(&ada).await.unwrap()).unwrap();
    assert_eq!(export["attendance"], serde_json::json!([]));
}
