//! Two-factor sign-in over HTTP, with SMS through a local stand-in for Twilio's Messages API.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use bureau_office::{base32_decode, code_at_step, step_at};
use serde_json::{Value, json};

use crate::{Running, call};

const SID: &str = "ACtest0123456789";
const AUTH_TOKEN: &str = "twilio-auth-token";
const FROM: &str = "+15550001111";

/// One message as Twilio would have received it.
#[derive(Clone, Debug)]
struct Received {
    to: String,
    from: String,
    body: String,
}

#[derive(Clone, Default)]
struct Twilio {
    received: Arc<Mutex<Vec<Received>>>,
}

impl Twilio {
    /// Listens on 127.0.0.1:0 and answers like Twilio's Messages API.
    async fn start() -> (Twilio, String) {
        let twilio = Twilio::default();
        let app = axum::Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(messages))
            .with_state(twilio.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (twilio, base)
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The six-digit code of the last message.
    fn last_code(&self) -> String {
        let received = self.received.lock().unwrap();
        let body = &received.last().unwrap().body;
        body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned()
    }
}

async fn messages(State(twilio): State<Twilio>, Path(sid): Path<String>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{AUTH_TOKEN}")));
    if sid != SID || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, json!({"code": 20003, "message": "Authenticate"}).to_string());
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-www-form-urlencoded") {
        return (StatusCode::BAD_REQUEST, json!({"code": 21601}).to_string());
    }
    let field = |name: &str| form_field(&body, name).unwrap_or_default();
    let received = Received { to: field("To"), from: field("From"), body: field("Body") };
    if received.to.is_empty() || received.body.is_empty() {
        return (StatusCode::BAD_REQUEST, json!({"code": 21604}).to_string());
    }
    twilio.received.lock().unwrap().push(received);
    (StatusCode::CREATED, json!({"sid": "SM0123", "status": "queued"}).to_string())
}

/// One field of an `application/x-www-form-urlencoded` body.
fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn totp_now(secret_base32: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    code_at_step(&base32_decode(secret_base32).unwrap(), step_at(now))
}

async fn server_with_twilio() -> (Running, Twilio) {
    let (twilio, base) = Twilio::start().await;
    let env = [
        ("BUREAU_SMS_PROVIDER", "twilio".to_owned()),
        ("BUREAU_SMS_TWILIO_ACCOUNT_SID", SID.to_owned()),
        ("BUREAU_SMS_TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("BUREAU_SMS_TWILIO_FROM", FROM.to_owned()),
        ("BUREAU_SMS_TWILIO_BASE_URL", base),
    ];
    (Running::start_with(&env).await, twilio)
}

async fn login(server: &Running, client: &reqwest::Client, email: &str, password: &str) -> (u16, Value) {
    call(client.post(server.url("/api/auth/login")).json(&json!({"email": email, "password": password}))).await
}

#[tokio::test]
async fn sms_through_twilio_and_totp_complete_the_sign_in() {
    let (mut server, twilio) = server_with_twilio().await;
    let admin = server.admin().await;
    let new_member = json!({"must_change_password": false, "name": "Max Member", "email": "max@example.org", "password": "max password 1"});
    assert_eq!(call(admin.post(server.url("/api/users")).json(&new_member)).await.0, 201);
    let max = Running::client();
    assert_eq!(login(&server, &max, "max@example.org", "max password 1").await.0, 200);

    // Enrol a phone: the code goes to Twilio with the number, the sender and nothing else.
    let (status, err) = call(max.post(server.url("/api/me/2fa/sms")).json(&json!({"phone": "12"}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("phone")));
    let (status, _) = call(max.post(server.url("/api/me/2fa/sms")).json(&json!({"phone": "+49 151 1234 5678"}))).await;
    assert_eq!(status, 204);
    let sent = twilio.received.lock().unwrap()[0].clone();
    assert_eq!((sent.to.as_str(), sent.from.as_str()), ("+4915112345678", FROM));
    assert!(!sent.body.contains("Max") && !sent.body.contains("example.org"), "{}", sent.body);
    let (status, codes) = call(max.post(server.url("/api/me/2fa/sms/confirm")).json(&json!({"code": twilio.last_code()}))).await;
    assert_eq!(status, 200, "{codes}");
    assert_eq!(codes["recovery_codes"].as_array().unwrap().len(), 10);

    // Signing in now takes two steps; the first sets no session.
    let fresh = Running::client();
    let response = fresh.post(server.url("/api/auth/login")).json(&json!({"email": "max@example.org", "password": "max password 1"})).send().await.unwrap();
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("set-cookie").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["second_factor"]["methods"], json!(["sms", "recovery"]));
    let token = body["second_factor"]["token"].as_str().unwrap().to_owned();
    assert_eq!(call(fresh.get(server.url("/api/me"))).await.0, 401);

    let (status, _) = call(fresh.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "send_sms": true}))).await;
    assert_eq!(status, 204);
    assert_eq!(twilio.count(), 2);
    let code = twilio.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, err) = call(fresh.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "code": wrong}))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("invalid_code")));
    let (status, err) = call(fresh.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "code": code, "recovery_code": "x"}))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")));
    let (status, me) = call(fresh.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "code": code}))).await;
    assert_eq!((status, me["user"]["email"].as_str()), (200, Some("max@example.org")));
    assert_eq!(call(fresh.get(server.url("/api/me"))).await.0, 200);
    let (_, log) = call(fresh.get(server.url("/api/me/access-log"))).await;
    assert_eq!(log["entries"][0]["event"], "login_sms");
    let (status, _) = call(fresh.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "code": code}))).await;
    assert_eq!(status, 410, "a challenge is used once");

    // Add an authenticator as well; then a recovery code signs in, once.
    let (status, enrolment) = call(fresh.post(server.url("/api/me/2fa/totp")).json(&json!({}))).await;
    assert_eq!(status, 200);
    assert!(enrolment["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = enrolment["secret"].as_str().unwrap();
    let (status, codes) = call(fresh.post(server.url("/api/me/2fa/totp/confirm")).json(&json!({"code": totp_now(secret)}))).await;
    assert_eq!(status, 200, "{codes}");
    let recovery = codes["recovery_codes"][0].as_str().unwrap().to_owned();
    let (_, status_body) = call(fresh.get(server.url("/api/me/2fa"))).await;
    assert_eq!(status_body, json!({"totp": true, "sms": true, "phone_ending": "78", "recovery_codes_left": 10, "required": false}));

    let third = Running::client();
    let (status, body) = login(&server, &third, "max@example.org", "max password 1").await;
    assert_eq!((status, body["second_factor"]["methods"].clone()), (202, json!(["totp", "sms", "recovery"])));
    let token = body["second_factor"]["token"].as_str().unwrap();
    let (status, _) = call(third.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "recovery_code": recovery}))).await;
    assert_eq!(status, 200);
    let (_, body) = login(&server, &third, "max@example.org", "max password 1").await;
    let token = body["second_factor"]["token"].as_str().unwrap();
    let (status, _) = call(third.post(server.url("/api/auth/second-factor")).json(&json!({"token": token, "recovery_code": recovery}))).await;
    assert_eq!(status, 401);

    // Turning it off needs the password.
    let (status, _) = call(third.delete(server.url("/api/me/2fa")).json(&json!({"password": "wrong"}))).await;
    assert_eq!(status, 401);
    let (status, _) = call(fresh.delete(server.url("/api/me/2fa")).json(&json!({"password": "max password 1"}))).await;
    assert_eq!(status, 204);
    assert_eq!(login(&server, &Running::client(), "max@example.org", "max password 1").await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn an_organisation_requiring_2fa_enrols_users_at_sign_in() {
    let (mut server, _) = server_with_twilio().await;
    let admin = server.admin().await;
    let new_member = json!({"must_change_password": false, "name": "Mia Member", "email": "mia@example.org", "password": "mia password 1"});
    assert_eq!(call(admin.post(server.url("/api/users")).json(&new_member)).await.0, 201);
    let (status, org) = call(admin.patch(server.url("/api/org")).json(&json!({"require_two_factor": true}))).await;
    assert_eq!((status, org["require_two_factor"].as_bool()), (200, Some(true)));

    let mia = Running::client();
    let (status, body) = login(&server, &mia, "mia@example.org", "mia password 1").await;
    assert_eq!((status, body["second_factor"]["enrol_required"].as_bool()), (202, Some(true)), "{body}");
    let token = body["second_factor"]["token"].as_str().unwrap();
    let (status, enrolment) = call(mia.post(server.url("/api/auth/enrol-totp")).json(&json!({"token": token}))).await;
    assert_eq!(status, 200);
    let code = totp_now(enrolment["secret"].as_str().unwrap());
    let (status, done) = call(mia.post(server.url("/api/auth/enrol-totp")).json(&json!({"token": token, "code": code}))).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(done["user"]["email"], "mia@example.org");
    let (_, status_body) = call(mia.get(server.url("/api/me/2fa"))).await;
    assert_eq!((status_body["totp"].as_bool(), status_body["required"].as_bool()), (Some(true), Some(true)));
    server.stop().await;
}
