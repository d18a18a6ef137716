//! Two-factor sign-in: TOTP enrolment and sign-in, the ±1 step window, replay, recovery codes,
//! SMS codes, lockout, challenge expiry and enrolment required by the organisation.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bureau_office::{
    Actor, Clock, Office, OfficeError, OrgSettingsPatch, Proof, SignInStep, SmsError, SmsProvider, base32_decode, code_at_step, step_at,
};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

const PASSWORD: &str = "member password 1";

/// Records every message instead of sending it.
#[derive(Default)]
struct Outbox(Mutex<Vec<(String, String)>>);

#[async_trait]
impl SmsProvider for Outbox {
    async fn send(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        self.0.lock().unwrap().push((phone.into(), text.into()));
        Ok(())
    }
}

impl Outbox {
    fn last_code(&self) -> String {
        let sent = self.0.lock().unwrap();
        let text = &sent.last().unwrap().1;
        text.split_whitespace().find(|w| w.len() == 7 && w.ends_with('.')).unwrap().trim_end_matches('.').to_owned()
    }
}

fn code(secret: &[u8], now_ms: i64, steps: i64) -> String {
    code_at_step(secret, step_at(now_ms) + steps)
}

/// Signs in with the password and expects a challenge; returns its token.
async fn challenge(office: &Office, email: &str) -> String {
    match office.accounts.sign_in(email, PASSWORD, &client("10.0.0.9")).await.unwrap() {
        SignInStep::SecondFactor(challenge) => challenge.token,
        SignInStep::Done(_) => panic!("expected a second-factor challenge"),
    }
}

/// An office with a member "mia" who has enrolled TOTP; returns the secret and recovery codes.
async fn mia_with_totp(office: &Office, admin: &Actor, now: i64) -> (Actor, Vec<u8>, Vec<String>) {
    office.accounts.create_user(admin, member("Mia", "mia@acme.example")).await.unwrap();
    let signed_in = office.accounts.login("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap();
    let mia = office.accounts.authenticate(&signed_in.token).await.unwrap();
    let enrolment = office.two_factor.start_totp(&mia).await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/acme:mia%40acme.example?secret="));
    let secret = base32_decode(&enrolment.secret).unwrap();
    let codes = office.two_factor.confirm_totp(&mia, &code(&secret, now, 0)).await.unwrap().recovery_codes;
    assert_eq!(codes.len(), 10);
    (mia, secret, codes)
}

#[tokio::test]
async fn totp_enrolment_then_sign_in_within_one_step_and_never_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let (_, secret, _) = mia_with_totp(&office, &admin, clock.now_ms()).await;
    let status = office.two_factor.two_factor_status(&office.accounts.authenticate(&office_token(&office, &secret, &clock).await).await.unwrap()).await.unwrap();
    assert!(status.totp && !status.sms && status.recovery_codes_left == 10);

    // The password alone no longer signs in.
    assert!(matches!(office.accounts.login("mia@acme.example", PASSWORD, &client("10.0.0.9")).await, Err(OfficeError::SecondFactorRequired)));

    clock.advance_ms(60_000);
    let token = challenge(&office, "mia@acme.example").await;
    let now = clock.now_ms();
    assert!(matches!(
        office.accounts.complete_second_factor(&token, Proof::Code(code(&secret, now, -2)), &client("10.0.0.9")).await,
        Err(OfficeError::InvalidCode)
    ));
    let previous = code(&secret, now, -1);
    let signed_in = office.accounts.complete_second_factor(&token, Proof::Code(previous.clone()), &client("10.0.0.9")).await.unwrap();
    office.accounts.authenticate(&signed_in.token).await.unwrap();
    let log = office.accounts.my_access_log(&office.accounts.authenticate(&signed_in.token).await.unwrap()).await.unwrap();
    assert_eq!(log[0].1.event, "login_totp");

    // The challenge is used up, and the same code is refused in a new one.
    assert!(matches!(
        office.accounts.complete_second_factor(&token, Proof::Code(code(&secret, now, 0)), &client("10.0.0.9")).await,
        Err(OfficeError::InvalidToken)
    ));
    let token = challenge(&office, "mia@acme.example").await;
    assert!(matches!(office.accounts.complete_second_factor(&token, Proof::Code(previous), &client("10.0.0.9")).await, Err(OfficeError::InvalidCode)));
    // A code one step ahead is accepted.
    office.accounts.complete_second_factor(&token, Proof::Code(code(&secret, now, 1)), &client("10.0.0.9")).await.unwrap();
}

/// A signed-in session token for Mia through the second factor (advancing the clock a step).
async fn office_token(office: &Office, secret: &[u8], clock: &bureau_office::FakeClock) -> String {
    clock.advance_ms(30_000);
    let token = challenge(office, "mia@acme.example").await;
    office.accounts.complete_second_factor(&token, Proof::Code(code(secret, clock.now_ms(), 0)), &client("10.0.0.9")).await.unwrap().token
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let (_, _, codes) = mia_with_totp(&office, &admin, clock.now_ms()).await;
    let token = challenge(&office, "mia@acme.example").await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    let signed_in = office.accounts.complete_second_factor(&token, Proof::RecoveryCode(typed), &client("10.0.0.9")).await.unwrap();
    let mia = office.accounts.authenticate(&signed_in.token).await.unwrap();
    assert_eq!(office.two_factor.two_factor_status(&mia).await.unwrap().recovery_codes_left, 9);
    let token = challenge(&office, "mia@acme.example").await;
    let again = office.accounts.complete_second_factor(&token, Proof::RecoveryCode(codes[3].clone()), &client("10.0.0.9")).await;
    assert!(matches!(again, Err(OfficeError::InvalidCode)));
}

#[tokio::test]
async fn five_wrong_codes_kill_the_challenge_and_lock_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let (_, secret, _) = mia_with_totp(&office, &admin, clock.now_ms()).await;
    clock.advance_ms(30_000);
    let token = challenge(&office, "mia@acme.example").await;
    let right = code(&secret, clock.now_ms(), 0);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    for _ in 0..5 {
        let result = office.accounts.complete_second_factor(&token, Proof::Code(wrong.into()), &client("10.0.0.9")).await;
        assert!(matches!(result, Err(OfficeError::InvalidCode)));
    }
    assert!(matches!(
        office.accounts.complete_second_factor(&token, Proof::Code(right.clone()), &client("10.0.0.9")).await,
        Err(OfficeError::InvalidToken)
    ));
    // A fresh challenge is rate-limited too, until the window passes.
    let token = challenge(&office, "mia@acme.example").await;
    assert!(matches!(
        office.accounts.complete_second_factor(&token, Proof::Code(right), &client("10.0.0.9")).await,
        Err(OfficeError::RateLimited(_))
    ));
    clock.advance_ms(15 * 60 * 1000 + 1);
    let token = challenge(&office, "mia@acme.example").await;
    office.accounts.complete_second_factor(&token, Proof::Code(code(&secret, clock.now_ms(), 0)), &client("10.0.0.9")).await.unwrap();
}

#[tokio::test]
async fn challenges_expire_after_five_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let (_, secret, _) = mia_with_totp(&office, &admin, clock.now_ms()).await;
    let token = challenge(&office, "mia@acme.example").await;
    clock.advance_ms(5 * 60 * 1000);
    let late = office.accounts.complete_second_factor(&token, Proof::Code(code(&secret, clock.now_ms(), 0)), &client("10.0.0.9")).await;
    assert!(matches!(late, Err(OfficeError::InvalidToken)));
    assert!(matches!(
        office.accounts.complete_second_factor("not a token", Proof::Code("123456".into()), &client("10.0.0.9")).await,
        Err(OfficeError::InvalidToken)
    ));
}

#[tokio::test]
async fn sms_enrolment_and_sign_in_with_a_texted_code() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let outbox = Arc::new(Outbox::default());
    let office = office.with_sms_provider(outbox.clone());
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let mia = office.accounts.authenticate(&office.accounts.login("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap().token).await.unwrap();

    assert!(matches!(office.two_factor.start_sms(&mia, "0151 123").await, Err(OfficeError::Invalid { field: "phone", .. })));
    office.two_factor.start_sms(&mia, "+49 151 1234 5678").await.unwrap();
    assert_eq!(outbox.0.lock().unwrap()[0].0, "+4915112345678");
    let codes = office.two_factor.confirm_sms(&mia, &outbox.last_code()).await.unwrap();
    assert_eq!(codes.recovery_codes.len(), 10);
    let status = office.two_factor.two_factor_status(&mia).await.unwrap();
    assert_eq!((status.sms, status.phone_ending.as_deref()), (true, Some("78")));

    let token = match office.accounts.sign_in("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap() {
        SignInStep::SecondFactor(c) => {
            assert_eq!(serde_json::to_value(&c.methods).unwrap(), serde_json::json!(["sms", "recovery"]));
            c.token
        }
        SignInStep::Done(_) => panic!("expected a challenge"),
    };
    office.accounts.send_sign_in_sms(&token).await.unwrap();
    let texted = outbox.last_code();
    let signed_in = office.accounts.complete_second_factor(&token, Proof::Code(texted), &client("10.0.0.9")).await.unwrap();
    assert_eq!(office.accounts.my_access_log(&mia).await.unwrap()[0].1.event, "login_sms");
    office.accounts.authenticate(&signed_in.token).await.unwrap();

    // Turning it off needs the password; afterwards the password alone signs in again.
    assert!(matches!(office.two_factor.disable_two_factor(&mia, "wrong password").await, Err(OfficeError::InvalidCredentials)));
    office.two_factor.disable_two_factor(&mia, PASSWORD).await.unwrap();
    office.accounts.login("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap();
}

#[tokio::test]
async fn an_organisation_that_requires_2fa_makes_users_enrol_before_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let mia = office.accounts.authenticate(&office.accounts.login("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap().token).await.unwrap();
    let patch = OrgSettingsPatch { require_two_factor: Some(true), ..OrgSettingsPatch::default() };
    assert!(matches!(office.directory.update_org(&mia, patch.clone()).await, Err(OfficeError::Forbidden)));
    assert!(office.directory.update_org(&admin, patch).await.unwrap().require_two_factor);

    let challenge = match office.accounts.sign_in("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap() {
        SignInStep::SecondFactor(c) => c,
        SignInStep::Done(_) => panic!("enrolment is required"),
    };
    assert!(challenge.enrol_required && challenge.methods.is_empty());
    // The token is not a sign-in challenge: codes are refused there.
    assert!(matches!(
        office.accounts.complete_second_factor(&challenge.token, Proof::Code("123456".into()), &client("10.0.0.9")).await,
        Err(OfficeError::InvalidToken)
    ));
    let enrolment = office.accounts.start_required_totp(&challenge.token).await.unwrap();
    let secret = base32_decode(&enrolment.secret).unwrap();
    let (signed_in, codes) =
        office.accounts.confirm_required_totp(&challenge.token, &code(&secret, clock.now_ms(), 0), &client("10.0.0.9")).await.unwrap();
    assert_eq!(codes.recovery_codes.len(), 10);
    let mia = office.accounts.authenticate(&signed_in.token).await.unwrap();
    assert!(office.two_factor.two_factor_status(&mia).await.unwrap().totp);
    assert!(matches!(office.accounts.start_required_totp(&challenge.token).await, Err(OfficeError::InvalidToken)), "single use");
    // From now on Mia signs in with the authenticator.
    clock.advance_ms(30_000);
    assert!(matches!(
        office.accounts.sign_in("mia@acme.example", PASSWORD, &client("10.0.0.9")).await.unwrap(),
        SignInStep::SecondFactor(c) if !c.enrol_required
    ));
}

#[tokio::test]
async fn erasing_an_account_with_two_factor_needs_a_second_factor() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    use bureau_office::Clock;
    let (mia, secret, recovery) = mia_with_totp(&office, &admin, clock.now_ms()).await;
    let erase = |code: Option<String>, recovery_code: Option<String>| bureau_office::EraseRequest {
        password: "member password 1".into(),
        code,
        recovery_code,
    };
    let missing = office.privacy.erase_me(&mia, erase(None, None)).await.unwrap_err();
    assert!(matches!(missing, OfficeError::Invalid { field: "code", .. }), "{missing:?}");
    let wrong_code = if code(&secret, clock.now_ms(), 0) == "000000" { "111111" } else { "000000" };
    let wrong = office.privacy.erase_me(&mia, erase(Some(wrong_code.into()), None)).await.unwrap_err();
    assert!(matches!(wrong, OfficeError::Invalid { field: "code", .. }), "{wrong:?}");
    assert!(store.user(bureau_store::OrgId(&admin.org_id), &mia.user_id).await.unwrap().is_some(), "still there");
    // A code from the authenticator works too; a recovery code is used here.
    assert_eq!(secret.len(), 20);
    office.privacy.erase_me(&mia, erase(None, Some(recovery[0].clone()))).await.unwrap();
    assert!(store.user(bureau_store::OrgId(&admin.org_id), &mia.user_id).await.unwrap().is_none());
}
