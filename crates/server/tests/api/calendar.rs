//! The calendar against a real CalDAV server (Radicale, started here from the Python package
//! scripts/test installs) and small local ICS servers: an event turns the user's presence to
//! "in a meeting" at its start (a fake clock moves the server's time), knocks do not ring unless
//! the user chose so, colleagues see the next busy interval only when shared, addresses that
//! answer garbage, nothing or point into a private network get a clear error and leave presence
//! alone, and no event title reaches the data folder.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use bureau_office::FakeClock;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::live::{Socket, connect, cookie, next, send};
use crate::{Running, call, member, now_ms};

const MINUTE: i64 = 60 * 1000;
const HOUR: i64 = 60 * MINUTE;
/// What only the calendars know: none of it may reach Bureau's data folder.
const SECRET_TITLE: &str = "Quarterly figures with Acme";
const SECRET_PLACE: &str = "Boardroom Zeppelin";
const CALDAV_PASSWORD: &str = "radicale password 7";

/// `YYYYMMDDTHHMMSSZ`.
fn ics_time(ms: i64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// An iCalendar document with one event per `(uid, start, end)`, each with the secret title
/// and place.
fn calendar(events: &[(&str, i64, i64)]) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bureau tests//EN\r\n");
    for (uid, start, end) in events {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{SECRET_TITLE}\r\nLOCATION:{SECRET_PLACE}\r\nATTENDEE:mailto:ceo@acme.example\r\nEND:VEVENT\r\n",
            ics_time(*start),
            ics_time(*start),
            ics_time(*end)
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// A Radicale server on a free loopback port, with one user (`bob`, [`CALDAV_PASSWORD`]).
struct Radicale {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Radicale {
    async fn start() -> Radicale {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::write(dir.path().join("users"), format!("bob:{CALDAV_PASSWORD}\n")).unwrap();
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n[storage]\nfilesystem_folder = {store}\n[logging]\nlevel = warning\n",
            users = dir.path().join("users").display(),
            store = dir.path().join("collections").display()
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let child = Command::new("python3")
            .args(["-m", "radicale", "--config"])
            .arg(dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with the radicale package (scripts/test installs it)");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Radicale { child, base, _dir: dir };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("Radicale did not start (is the radicale package installed? scripts/test installs it)");
    }

    /// Creates Bob's calendar `work` with `events`; its address.
    async fn calendar_with(&self, events: &[(&str, i64, i64)]) -> String {
        let url = format!("{}/bob/work/", self.base);
        let http = reqwest::Client::new();
        let mkcalendar = reqwest::Method::from_bytes(b"MKCALENDAR").unwrap();
        let status = http.request(mkcalendar, &url).basic_auth("bob", Some(CALDAV_PASSWORD)).send().await.unwrap().status();
        assert_eq!(status, 201);
        for event in events {
            let response = http
                .put(format!("{url}{}.ics", event.0))
                .basic_auth("bob", Some(CALDAV_PASSWORD))
                .header("Content-Type", "text/calendar")
                .body(calendar(&[*event]))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        url
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the small ICS server answers.
#[derive(Clone)]
enum Answer {
    Calendar(String),
    Garbage,
    Silence,
}

/// A one-address HTTP server whose answer the test changes; its URL.
async fn ics_server(answer: Arc<Mutex<Answer>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/team.ics", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let answer = answer.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let body = match answer {
                    Answer::Calendar(text) => text,
                    Answer::Garbage => "<html><body>Sign in to see this calendar</body></html>".into(),
                    Answer::Silence => {
                        // Holds the connection open without a word.
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                        return;
                    }
                };
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
            });
        }
    });
    url
}

/// The next presence of `user_id` for which `wanted` holds (other frames skipped); bounded so
/// that a presence that never comes fails instead of hanging.
async fn presence_until(socket: &mut Socket, user_id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1000 {
        let msg = next(socket, "presence").await;
        if msg["user"]["user_id"] == user_id && wanted(&msg["user"]) {
            return msg["user"].clone();
        }
    }
    panic!("no presence of {user_id} as wanted");
}

/// Every file under `dir` holds none of `secrets` (the raw bytes: database, WAL, logs, keys).
fn assert_absent_from_files(dir: &Path, secrets: &[&str]) {
    let mut scanned = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            scanned += bytes.len();
            for secret in secrets {
                assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} found in {}", path.display());
            }
        }
    }
    assert!(scanned > 0, "nothing scanned in {}", dir.display());
}

async fn extended_org(server: &Running) -> reqwest::Client {
    let admin = server.admin().await;
    let (status, _) = call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;
    assert_eq!(status, 200);
    admin
}

fn allow_loopback() -> Vec<(&'static str, String)> {
    vec![("BUREAU_CALENDAR_ALLOW_NETWORKS", "127.0.0.1/32".to_owned())]
}

#[tokio::test]
async fn a_caldav_event_turns_presence_to_in_a_meeting_at_its_start() {
    let radicale = Radicale::start().await;
    let start = now_ms() / MINUTE * MINUTE;
    let clock = Arc::new(FakeClock::at(start));
    let server = Running::start_clocked(tempfile::tempdir().unwrap(), &allow_loopback(), clock.clone()).await.unwrap();
    let admin = extended_org(&server).await;
    let (bob, bob_id) = member(&server, &admin, "Bob Busy", "bob@example.org").await;
    let (meeting, later) = ((start + HOUR, start + 2 * HOUR), (start + 3 * HOUR, start + 4 * HOUR));
    let url = radicale.calendar_with(&[("quarterly", meeting.0, meeting.1), ("review", later.0, later.1)]).await;

    // A wrong password is said at once, and nothing is connected.
    let connect_with = |password: &str| json!({"kind": "caldav", "url": url, "username": "bob", "password": password});
    let (status, err) = call(bob.put(server.url("/api/me/calendar/source")).json(&connect_with("wrong"))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("url")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("refused the user name or password"), "{err}");
    let (_, view) = call(bob.get(server.url("/api/me/calendar"))).await;
    assert_eq!(view["source"], Value::Null, "{view}");

    // Connected: the busy intervals arrive, and nothing else.
    let (status, view) = call(bob.put(server.url("/api/me/calendar/source")).json(&connect_with(CALDAV_PASSWORD))).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["source"]["kind"], "caldav");
    assert_eq!(view["source"]["host"].as_str(), radicale.base.strip_prefix("http://"));
    assert!(view["source"].get("password").is_none() && !view.to_string().contains(CALDAV_PASSWORD));
    let busy: Vec<(i64, i64, bool)> = view["entries"].as_array().unwrap().iter().map(|e| (e["starts_at"].as_i64().unwrap(), e["ends_at"].as_i64().unwrap(), e["title"].is_null())).collect();
    assert_eq!(busy, vec![(meeting.0, meeting.1, true), (later.0, later.1, true)]);

    // Ada watches the live office: Bob is not in a meeting yet, and a knock rings him.
    let ada_cookie = cookie(&server, "ada@example.org", "ada password 1").await;
    let bob_cookie = cookie(&server, "bob@example.org", "member password 1").await;
    let mut ada = connect(&server, Some(&ada_cookie), None).await.unwrap();
    next(&mut ada, "welcome").await;
    let mut bob_socket = connect(&server, Some(&bob_cookie), None).await.unwrap();
    let welcome = next(&mut bob_socket, "welcome").await;
    let own = welcome["presence"].as_array().unwrap().iter().find(|p| p["user_id"] == bob_id.as_str()).unwrap();
    assert!(own.get("meeting").is_none() && own.get("next_busy").is_none(), "not shared: {own}");
    let (_, users) = call(admin.get(server.url("/api/users"))).await;
    assert!(users["users"].as_array().unwrap().iter().all(|u| u.get("next_busy").is_none()), "not shared: {users}");

    // The meeting's start: within the live office's next look, Bob shows in a meeting until
    // its end, and a knock does not ring.
    clock.advance_ms(HOUR + MINUTE);
    let presence = presence_until(&mut ada, &bob_id, |p| p.get("meeting").is_some()).await;
    assert_eq!((presence["meeting"]["until"].as_i64(), presence["meeting"]["rings"].as_bool()), (Some(meeting.1), Some(false)), "{presence}");
    assert_eq!(presence["status"], "online", "his own status stays");
    send(&mut ada, json!({"type": "call", "to_user": bob_id})).await;
    assert_eq!(next(&mut ada, "call_update").await["state"], "busy");

    // Bob lets knocks ring in meetings and shares his next busy interval.
    let (status, view) = call(bob.patch(server.url("/api/me/calendar")).json(&json!({"ring_in_meetings": true, "share_next_busy": true}))).await;
    assert_eq!((status, view["ring_in_meetings"].as_bool(), view["share_next_busy"].as_bool()), (200, Some(true), Some(true)), "{view}");
    let presence = presence_until(&mut ada, &bob_id, |p| p["meeting"]["rings"] == true && p.get("next_busy").is_some()).await;
    assert_eq!((presence["next_busy"]["starts_at"].as_i64(), presence["next_busy"]["ends_at"].as_i64()), (Some(later.0), Some(later.1)));
    // The directory shows it too, to colleagues.
    let (_, users) = call(admin.get(server.url("/api/users"))).await;
    let listed = users["users"].as_array().unwrap().iter().find(|u| u["id"] == bob_id.as_str()).unwrap().clone();
    assert_eq!(listed["next_busy"]["starts_at"].as_i64(), Some(later.0), "{listed}");
    send(&mut ada, json!({"type": "call", "to_user": bob_id})).await;
    assert_eq!(next(&mut ada, "call_update").await["state"], "ringing");
    assert_eq!(next(&mut bob_socket, "ring").await["for_user"], Value::Null);

    // After the meeting Bob is back to his own status.
    clock.advance_ms(HOUR);
    let presence = presence_until(&mut ada, &bob_id, |p| p.get("meeting").is_none()).await;
    assert_eq!(presence["status"], "online");

    // Neither the title, nor the place, nor the CalDAV password is in the data folder
    // (SQLite: the database file and its WAL are there; PostgreSQL keeps the rows elsewhere
    // and sealed alike).
    assert_absent_from_files(&server.data_dir, &[SECRET_TITLE, SECRET_PLACE, CALDAV_PASSWORD, "ceo@acme.example"]);

    // Disconnecting forgets the intervals.
    let (status, _) = call(bob.delete(server.url("/api/me/calendar/source")).json(&json!({}))).await;
    assert_eq!(status, 204);
    let (_, view) = call(bob.get(server.url("/api/me/calendar"))).await;
    assert_eq!((view["source"].clone(), view["entries"].clone()), (Value::Null, json!([])), "{view}");
}

#[tokio::test]
async fn ics_addresses_that_answer_garbage_nothing_or_a_private_network_are_refused_clearly() {
    let server = Running::start_with(&allow_loopback()).await;
    let admin = extended_org(&server).await;
    let (bob, _) = member(&server, &admin, "Bob Subscribed", "bob@example.org").await;
    // Whole seconds, as iCalendar writes times.
    let now = now_ms() / 1000 * 1000;
    let answer = Arc::new(Mutex::new(Answer::Garbage));
    let url = ics_server(answer.clone()).await;
    let connect = |url: &str| json!({"kind": "ics", "url": url});

    let refused = async |url: &str| {
        let (status, err) = call(bob.put(server.url("/api/me/calendar/source")).json(&connect(url))).await;
        assert_eq!((status, err["field"].as_str()), (422, Some("url")), "{url}: {err}");
        err["message"].as_str().unwrap().to_owned()
    };
    assert!(refused(&url).await.contains("did not answer a calendar"));
    for private in ["http://10.1.2.3/cal.ics", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/x.ics", "http://127.0.0.2/cal.ics"] {
        assert!(refused(private).await.contains("private network"), "{private}");
    }
    assert!(refused("ftp://example.org/cal.ics").await.contains("http, https or webcal"));
    *answer.lock().unwrap() = Answer::Silence;
    assert!(refused(&url).await.contains("did not answer within 10 seconds"));

    // A real subscription: only the times are kept.
    *answer.lock().unwrap() = Answer::Calendar(calendar(&[("standup", now - 5 * MINUTE, now + 25 * MINUTE)]));
    let (status, view) = call(bob.put(server.url("/api/me/calendar/source")).json(&connect(&url))).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!((view["source"]["kind"].as_str(), view["sync_error"].clone()), (Some("ics"), Value::Null));
    assert_eq!(view["entries"][0]["ends_at"].as_i64(), Some(now + 25 * MINUTE));

    // The address turns to garbage later: the reading says so and the intervals stay.
    *answer.lock().unwrap() = Answer::Garbage;
    let (status, view) = call(bob.post(server.url("/api/me/calendar/sync")).json(&json!({}))).await;
    assert_eq!(status, 200, "{view}");
    assert!(view["sync_error"].as_str().unwrap().contains("did not answer a calendar"), "{view}");
    assert_eq!(view["entries"].as_array().map(Vec::len), Some(1), "{view}");
    assert_absent_from_files(&server.data_dir, &[SECRET_TITLE, SECRET_PLACE, "ceo@acme.example"]);

    // Readings a user asks for are limited (each makes the server fetch their address).
    let mut limited = false;
    for _ in 0..25 {
        let (status, _) = call(bob.post(server.url("/api/me/calendar/sync")).json(&json!({}))).await;
        limited |= status == 429;
    }
    assert!(limited, "asking for readings without end is refused");
}

#[tokio::test]
async fn entries_by_hand_show_in_presence_and_stay_the_users_own() {
    let server = Running::start().await;
    let admin = server.admin().await;
    let (bob, bob_id) = member(&server, &admin, "Bob Booked", "bob@example.org").await;
    let (cleo, _) = member(&server, &admin, "Cleo Curious", "cleo@example.org").await;
    let now = now_ms();
    let entry = |starts_at: i64, ends_at: i64, title: &str| json!({"starts_at": starts_at, "ends_at": ends_at, "title": title});

    // Entry mode: there is no calendar.
    let (status, err) = call(bob.post(server.url("/api/me/calendar/entries")).json(&entry(now, now + HOUR, "x"))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("field_disabled")), "{err}");
    call(admin.patch(server.url("/api/org")).json(&json!({"profile_mode": "extended"}))).await;

    for (body, field) in [
        (entry(now + HOUR, now, "x"), "ends_at"),
        (entry(now - 2 * HOUR, now - HOUR, "x"), "ends_at"),
        (entry(now, now + 8 * 24 * HOUR, "x"), "ends_at"),
        (entry(now + 400 * 24 * HOUR, now + 401 * 24 * HOUR, "x"), "starts_at"),
        (entry(now, now + HOUR, &"t".repeat(101)), "title"),
        (entry(now, now + HOUR, "two\nlines"), "title"),
    ] {
        let (status, err) = call(bob.post(server.url("/api/me/calendar/entries")).json(&body)).await;
        assert_eq!((status, err["field"].as_str()), (422, Some(field)), "{body} → {err}");
    }

    let bob_cookie = cookie(&server, "bob@example.org", "member password 1").await;
    let cleo_cookie = cookie(&server, "cleo@example.org", "member password 1").await;
    let mut cleo_socket = connect(&server, Some(&cleo_cookie), None).await.unwrap();
    next(&mut cleo_socket, "welcome").await;
    let mut bob_socket = connect(&server, Some(&bob_cookie), None).await.unwrap();
    next(&mut bob_socket, "welcome").await;
    let (status, created) = call(bob.post(server.url("/api/me/calendar/entries")).json(&entry(now - MINUTE, now + HOUR, "Client meeting"))).await;
    assert_eq!(status, 201, "{created}");
    let presence = presence_until(&mut cleo_socket, &bob_id, |p| p.get("meeting").is_some()).await;
    assert_eq!((presence["meeting"]["title"].as_str(), presence["meeting"]["until"].as_i64()), (Some("Client meeting"), Some(now + HOUR)));

    // Only Bob removes it; then he is back.
    let id = created["id"].as_str().unwrap();
    let (status, _) = call(cleo.delete(server.url(&format!("/api/me/calendar/entries/{id}"))).json(&json!({}))).await;
    assert_eq!(status, 404);
    let (_, export) = call(bob.get(server.url("/api/me/export"))).await;
    assert_eq!(export["calendar"][0]["title"], "Client meeting", "{export}");
    let (status, _) = call(bob.delete(server.url(&format!("/api/me/calendar/entries/{id}"))).json(&json!({}))).await;
    assert_eq!(status, 204);
    presence_until(&mut cleo_socket, &bob_id, |p| p.get("meeting").is_none()).await;

    // An objection to the extended profile deletes the calendar and refuses new entries.
    call(bob.post(server.url("/api/me/calendar/entries")).json(&entry(now + HOUR, now + 2 * HOUR, "Later"))).await;
    let (status, _) = call(bob.patch(server.url("/api/me/privacy")).json(&json!({"objections": ["extended_profile"]}))).await;
    assert_eq!(status, 200);
    let (_, view) = call(bob.get(server.url("/api/me/calendar"))).await;
    assert_eq!(view["entries"], json!([]), "{view}");
    let (status, err) = call(bob.post(server.url("/api/me/calendar/entries")).json(&entry(now + HOUR, now + 2 * HOUR, "Later"))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("calendar")), "{err}");
    let (status, _) = call(Running::client().get(server.url("/api/me/calendar"))).await;
    assert_eq!(status, 401);
}
