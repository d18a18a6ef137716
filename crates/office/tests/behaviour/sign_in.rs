//! Sign-in: sessions, rate limits, no account enumeration, access log, deactivation.

use bureau_office::{OfficeError, UserPatch};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

#[tokio::test]
async fn wrong_password_and_unknown_account_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    org_with_admin(&office, "acme", "admin@acme.example").await;
    let wrong = office.login("admin@acme.example", "wrong password!", &client("10.0.0.3")).await.unwrap_err();
    let unknown = office.login("nobody@acme.example", "wrong password!", &client("10.0.0.3")).await.unwrap_err();
    assert!(matches!(wrong, OfficeError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_window_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    org_with_admin(&office, "acme", "admin@acme.example").await;
    for i in 0..10 {
        let ip = format!("10.1.0.{i}");
        assert!(matches!(office.login("admin@acme.example", "nope nope nope", &client(&ip)).await, Err(OfficeError::InvalidCredentials)));
    }
    // Even the right password is refused now, from any address.
    let locked = office.login("admin@acme.example", "correct horse battery", &client("10.2.0.1")).await;
    assert!(matches!(locked, Err(OfficeError::RateLimited(_))));
    // Unknown accounts lock the same way, so locking reveals nothing.
    for _ in 0..10 {
        let _ = office.login("ghost@acme.example", "nope nope nope", &client("10.3.0.1")).await;
    }
    assert!(matches!(office.login("ghost@acme.example", "x", &client("10.4.0.1")).await, Err(OfficeError::RateLimited(_))));
    clock.advance_ms(15 * 60 * 1000 + 1);
    office.login("admin@acme.example", "correct horse battery", &client("10.2.0.1")).await.unwrap();
}

#[tokio::test]
async fn sessions_end_on_logout_expiry_and_deactivation() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = office.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();

    let first = office.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    office.authenticate(&first.token).await.unwrap();
    office.logout(&first.token).await.unwrap();
    assert!(matches!(office.authenticate(&first.token).await, Err(OfficeError::Unauthenticated)));

    let second = office.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    clock.advance_ms(7 * 24 * 3600 * 1000 + 1);
    assert!(office.authenticate(&second.token).await.is_err(), "expired");

    let third = office.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    let deactivate: UserPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
    office.update_user(&admin, &mia.id, deactivate).await.unwrap();
    assert!(office.authenticate(&third.token).await.is_err(), "deactivated");
    assert!(matches!(
        office.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await,
        Err(OfficeError::InvalidCredentials)
    ));
    assert!(office.authenticate("forged-token").await.is_err());
}

#[tokio::test]
async fn each_sign_in_writes_an_access_log_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let log = office.my_access_log(&admin).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1.ip, "10.0.0.1");
    assert_eq!(log[0].1.browser, "Firefox");
    assert_eq!(log[0].1.browser_version, "128.0");
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let token = office.prepare_first_start("default", "Bureau").await.unwrap().expect("a setup link");
    assert!(office.setup_token_valid(&token).await.unwrap());
    let signed_in = office.complete_setup(&token, "Ada", "ada@example.org", "long enough pass", &client("127.0.0.1")).await.unwrap();
    assert_eq!(signed_in.user.role, bureau_office::Role::Admin);
    assert!(matches!(
        office.complete_setup(&token, "Eve", "eve@example.org", "long enough pass", &client("127.0.0.1")).await,
        Err(OfficeError::InvalidToken)
    ));
    assert_eq!(office.prepare_first_start("default", "Bureau").await.unwrap(), None, "no link once an admin exists");
}
