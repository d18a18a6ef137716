//! Absences over HTTP and in the live office: extended profile only; one's own or, with the
//! `manage_absences` right, a colleague's; others see who is away and until when, never the
//! kind or the note; the floor plan and a knock follow. (Other organisations: office tests.)

use serde_json::{Value, json};

use crate::live::{connect, cookie, next, send};
use crate::{Running, call, member, now_ms};

const DAY: i64 = 24 * 3600 * 1000;

fn absence(starts_at: i64, ends_at: i64, deputy: Option<&str>) -> Value {
    json!({"kind": "sick", "starts_at": starts_at, "ends_at": ends_at, "deputy_id": deputy, "note": "doctor says a week"})
}

#[tokio::test]
async fn absences_are_extended_profile_data_seen_by_whom_they_must_be() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (bob, bob_id) = member(&server, &admin, "Bob Away", "bob@example.org").await;
    let (cleo, cleo_id) = member(&server, &admin, "Cleo Deputy", "cleo@example.org").await;
    let now = now_ms();

    // Entry mode: there are no absences.
    let (status, err) = call(bob.post(server.url("/api/absences")).json(&absence(now - DAY, now + 7 * DAY, Some(&cleo_id)))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("field_disabled")), "{err}");
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;

    // Wrong values get clear errors, naming the field.
    for (body, field) in [
        (absence(now + DAY, now, None), "ends_at"),
        (absence(now, now + 400 * DAY, None), "ends_at"),
        (absence(now - 200 * DAY, now - 100 * DAY, None), "ends_at"),
        (absence(now, now + DAY, Some(&bob_id)), "deputy_id"),
        (absence(now, now + DAY, Some("nobody")), "deputy_id"),
        (json!({"kind": "sick", "starts_at": now, "ends_at": now + DAY, "note": "x".repeat(201)}), "note"),
    ] {
        let (status, err) = call(bob.post(server.url("/api/absences")).json(&body)).await;
        assert_eq!((status, err["field"].as_str()), (422, Some(field)), "{body} → {err}");
    }
    let (status, _) = call(bob.post(server.url("/api/absences")).json(&json!({"kind": "nap", "starts_at": now, "ends_at": now + DAY}))).await;
    assert_eq!(status, 422);

    // Bob is sick from yesterday for a week; Cleo stands in.
    let (status, created) = call(bob.post(server.url("/api/absences")).json(&absence(now - DAY, now + 7 * DAY, Some(&cleo_id)))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["kind"].as_str(), created["deputy_name"].as_str()), (Some("sick"), Some("Cleo Deputy")));
    let (_, mine) = call(bob.get(server.url("/api/me/absences"))).await;
    assert_eq!(mine["absences"][0]["note"], "doctor says a week");

    // Cleo sees that Bob is away, until when and who stands in; not why.
    let span = format!("/api/absences?from={}&to={}", now - 7 * DAY, now + 14 * DAY);
    let (status, team) = call(cleo.get(server.url(&span))).await;
    assert_eq!(status, 200, "{team}");
    let seen = &team["absences"][0];
    assert_eq!((seen["name"].as_str(), seen["ends_at"].as_i64(), seen["deputy_id"].as_str()), (Some("Bob Away"), Some(now + 7 * DAY), Some(cleo_id.as_str())));
    assert!(seen.get("kind").is_none() && seen.get("note").is_none(), "{seen}");
    let (status, err) = call(cleo.get(server.url(&format!("/api/absences?from={now}&to={}", now + 100 * DAY)))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("to")));
    let (status, err) = call(cleo.get(server.url("/api/absences?from=yesterday&to=1"))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("from")));

    // Nobody but Bob (or the right) removes or enters it; the admin holds every right.
    let id = created["id"].as_str().unwrap();
    let (status, _) = call(cleo.delete(server.url(&format!("/api/absences/{id}"))).json(&json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = call(cleo.post(server.url("/api/absences")).json(&json!({"user_id": bob_id, "kind": "vacation", "starts_at": now + 30 * DAY, "ends_at": now + 31 * DAY}))).await;
    assert_eq!(status, 403);
    let (status, entered) = call(admin.post(server.url("/api/absences")).json(&json!({"user_id": bob_id, "kind": "vacation", "starts_at": now + 30 * DAY, "ends_at": now + 31 * DAY}))).await;
    assert_eq!(status, 201, "{entered}");
    let (_, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "enter_absence" && e["target_id"] == bob_id.as_str()), "{audit}");

    // The floor plan shows Bob's office away, with the deputy.
    let (_, rooms) = call(cleo.get(server.url("/api/rooms"))).await;
    let office = rooms["rooms"].as_array().unwrap().iter().find(|r| r["owner_user_id"] == bob_id.as_str()).cloned().unwrap();
    assert_eq!((office["away"]["until"].as_i64(), office["away"]["deputy_id"].as_str()), (Some(now + 7 * DAY), Some(cleo_id.as_str())));

    // A knock on Bob's office rings Cleo, and the caller is told why.
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let cleo_cookie = cookie(&server, "cleo@example.org", "member password 1").await;
    let mut ada_socket = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut ada_socket, "welcome").await;
    let mut cleo_socket = connect(&server, Some(&cleo_cookie), None).await.unwrap();
    next(&mut cleo_socket, "welcome").await;
    send(&mut ada_socket, json!({"type": "call", "to_user": bob_id})).await;
    let away = next(&mut ada_socket, "away").await;
    assert_eq!((away["until"].as_i64(), away["deputy_id"].as_str()), (Some(now + 7 * DAY), Some(cleo_id.as_str())));
    let ring = next(&mut cleo_socket, "ring").await;
    assert_eq!(ring["for_user"].as_str(), Some(bob_id.as_str()));

    // The export carries the absences with every detail; objecting to the extended profile
    // deletes them and the floor plan forgets.
    let (_, export) = call(bob.get(server.url("/api/me/export"))).await;
    assert_eq!(export["absences"].as_array().map(Vec::len), Some(2), "{export}");
    assert_eq!(export["absences"][0]["kind"], "sick");
    let (status, _) = call(admin.delete(server.url(&format!("/api/absences/{}", entered["id"].as_str().unwrap()))).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (_, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "remove_absence" && e["target_id"] == bob_id.as_str()), "{audit}");
    let (status, _) = call(bob.patch(server.url("/api/me/privacy")).json(&json!({"objections": ["extended_profile"]}))).await;
    assert_eq!(status, 200);
    let (_, mine) = call(bob.get(server.url("/api/me/absences"))).await;
    assert_eq!(mine["absences"], json!([]));
    let (status, err) = call(admin.post(server.url("/api/absences")).json(&json!({"user_id": bob_id, "kind": "vacation", "starts_at": now, "ends_at": now + DAY}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("user_id")));
    let (_, rooms) = call(cleo.get(server.url("/api/rooms"))).await;
    assert!(rooms["rooms"].as_array().unwrap().iter().all(|r| r.get("away").is_none()), "{rooms}");
}

#[tokio::test]
async fn an_absence_is_removed_by_its_owner_and_unseen_without_a_session() {
    let server = Running::start().await;
    let admin = server.admin().await;
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    let (bob, _) = member(&server, &admin, "Bob Away", "bob@example.org").await;
    let now = now_ms();
    let (status, created) = call(bob.post(server.url("/api/absences")).json(&absence(now, now + DAY, None))).await;
    assert_eq!(status, 201);
    // Removing an id that is not one's own, or not there, is the same 404.
    let (status, _) = call(bob.delete(server.url("/api/absences/no-such-absence")).json(&json!({}))).await;
    assert_eq!(status, 404);
    let (status, _) = call(bob.delete(server.url(&format!("/api/absences/{}", created["id"].as_str().unwrap()))).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (status, _) = call(Running::client().get(server.url(&format!("/api/absences?from={now}&to={}", now + DAY)))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn presence_in_the_live_office_becomes_attendance_times() {
    let server = Running::start().await;
    let admin = server.admin().await;
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    let (bob, bob_id) = member(&server, &admin, "Bob Present", "bob@example.org").await;
    let bob_cookie = cookie(&server, "bob@example.org", "member password 1").await;
    let mut socket = connect(&server, Some(&bob_cookie), None).await.unwrap();
    next(&mut socket, "welcome").await;
    // Present for a little over a second (shorter intervals are not recorded), then away.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    send(&mut socket, json!({"type": "set_presence", "status": "away"})).await;
    let span = format!("from={}&to={}", now_ms() - DAY, now_ms() + DAY);
    let mut report = Value::Null;
    for _ in 0..200 {
        report = call(bob.get(server.url(&format!("/api/attendance?{span}")))).await.1;
        if report["days"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let interval = &report["days"][0]["intervals"][0];
    let length = interval["to"].as_i64().unwrap() - interval["from"].as_i64().unwrap();
    assert!((1000..60_000).contains(&length), "{report}");

    // Others' attendance and the CSV need see_attendance (the admin holds it), and are audited.
    let (status, _) = call(bob.get(server.url(&format!("/api/attendance/export?{span}")))).await;
    assert_eq!(status, 403);
    let response = admin.get(server.url(&format!("/api/attendance/export?{span}"))).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(csv.lines().nth(1).is_some_and(|l| l.starts_with("Bob Present,bob@example.org,")), "{csv}");
    let (status, seen) = call(admin.get(server.url(&format!("/api/attendance?user_id={bob_id}&{span}")))).await;
    assert_eq!((status, seen["name"].as_str()), (200, Some("Bob Present")));
    let (_, audit) = call(admin.get(server.url("/api/privacy/audit"))).await;
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"export_attendance") && actions.contains(&"view_attendance"), "{actions:?}");
}

#[tokio::test]
async fn a_private_calendar_feed_carries_the_absences_until_it_is_renewed() {
    let server = Running::start().await;
    let admin = server.admin().await;
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    let (bob, _) = member(&server, &admin, "Bob Away", "bob@example.org").await;
    let now = now_ms();
    let vacation = json!({"kind": "vacation", "starts_at": now + DAY, "ends_at": now + 3 * DAY, "note": "Lisbon, then Porto"});
    assert_eq!(call(bob.post(server.url("/api/absences")).json(&vacation)).await.0, 201);
    assert_eq!(call(bob.get(server.url("/api/me/calendar-feed"))).await.1["active"], false);
    let (status, feed) = call(bob.post(server.url("/api/me/calendar-feed")).json(&json!({}))).await;
    assert_eq!(status, 201, "{feed}");
    let path = feed["path"].as_str().unwrap().to_owned();
    assert_eq!(call(bob.get(server.url("/api/me/calendar-feed"))).await.1["active"], true);

    // A calendar program fetches it without a session.
    let response = Running::client().get(server.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = response.text().await.unwrap();
    assert!(ics.contains("SUMMARY:Away: Vacation\r\n") && ics.contains("DESCRIPTION:Lisbon\\, then Porto\r\n"), "{ics}");

    // Renewing makes the old address stop working; a made-up one never worked.
    let (_, renewed) = call(bob.post(server.url("/api/me/calendar-feed")).json(&json!({}))).await;
    assert_ne!(renewed["path"], feed["path"]);
    assert_eq!(Running::client().get(server.url(&path)).send().await.unwrap().status(), 404);
    assert_eq!(Running::client().get(server.url("/api/calendar/guessed.ics")).send().await.unwrap().status(), 404);
    let renewed = renewed["path"].as_str().unwrap().to_owned();
    assert_eq!(Running::client().get(server.url(&renewed)).send().await.unwrap().status(), 200);
    // Turned off: gone.
    assert_eq!(call(bob.delete(server.url("/api/me/calendar-feed")).json(&json!({}))).await.0, 204);
    assert_eq!(Running::client().get(server.url(&renewed)).send().await.unwrap().status(), 404);
}
