//! Sign-in: sessions, rate limits, no account enumeration, access log, deactivation.

use bureau_office::{OfficeError, UserPatch};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

#[tokio::test]
async fn wrong_password_and_unknown_account_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    org_with_admin(&office, "acme", "admin@acme.example").await;
    let wrong = office.accounts.login("admin@acme.example", "wrong password!", &client("10.0.0.3")).await.unwrap_err();
    let unknown = office.accounts.login("nobody@acme.example", "wrong password!", &client("10.0.0.3")).await.unwrap_err();
    assert!(matches!(wrong, OfficeError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn one_address_guessing_an_account_waits_and_the_owner_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    org_with_admin(&office, "acme", "admin@acme.example").await;
    for _ in 0..10 {
        assert!(matches!(office.accounts.login("admin@acme.example", "nope nope nope", &client("10.66.0.1")).await, Err(OfficeError::InvalidCredentials)));
    }
    // That address now waits, even with the right password...
    let held = office.accounts.login("admin@acme.example", "correct horse battery", &client("10.66.0.1")).await;
    assert!(matches!(held, Err(OfficeError::RateLimited(_))));
    // ...while the owner, from their own address, signs in at once.
    office.accounts.login("admin@acme.example", "correct horse battery", &client("10.2.0.1")).await.unwrap();
    // Unknown accounts are held the same way, so being held reveals nothing.
    for _ in 0..10 {
        let _ = office.accounts.login("ghost@acme.example", "nope nope nope", &client("10.3.0.1")).await;
    }
    assert!(matches!(office.accounts.login("ghost@acme.example", "x", &client("10.3.0.1")).await, Err(OfficeError::RateLimited(_))));
    clock.advance_ms(15 * 60 * 1000 + 1);
    office.accounts.login("admin@acme.example", "correct horse battery", &client("10.66.0.1")).await.unwrap();
}

#[tokio::test]
async fn many_addresses_guessing_an_account_hold_up_new_devices_but_not_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    // The owner signed in on their laptop before: it is a known device now.
    let laptop = office.accounts.login("admin@acme.example", "correct horse battery", &client("10.2.0.1")).await.unwrap().device;
    let mias_device = office.accounts.login("mia@acme.example", "member password 1", &client("10.2.0.9")).await.unwrap().device;
    // Fifty wrong passwords from five addresses: the account-wide limit.
    for i in 0..50 {
        let ip = format!("10.1.0.{}", i % 5);
        assert!(matches!(office.accounts.login("admin@acme.example", "nope nope nope", &client(&ip)).await, Err(OfficeError::InvalidCredentials)));
    }
    let on = |ip: &str, device: Option<&str>| bureau_office::Client { device: device.map(str::to_owned), ..client(ip) };
    // A new device waits, whatever its address...
    let fresh = office.accounts.login("admin@acme.example", "correct horse battery", &on("10.9.0.1", None)).await;
    assert!(matches!(fresh, Err(OfficeError::RateLimited(_))), "{fresh:?}");
    // ...and so do forged device cookies and another user's device...
    for forged in ["garbage", "abc.def", mias_device.as_str(), &format!("{}x", &laptop[..laptop.len() - 1])] {
        let refused = office.accounts.login("admin@acme.example", "correct horse battery", &on("10.9.0.1", Some(forged))).await;
        assert!(matches!(refused, Err(OfficeError::RateLimited(_))), "{forged}: {refused:?}");
    }
    // ...but the owner's laptop signs in, from any address.
    office.accounts.login("admin@acme.example", "correct horse battery", &on("10.9.0.2", Some(&laptop))).await.unwrap();
    let still = office.accounts.login("admin@acme.example", "correct horse battery", &on("10.9.0.3", None)).await;
    assert!(matches!(still, Err(OfficeError::RateLimited(_))), "the owner's sign-in does not reset the account-wide count");
    // The known device does not help a wrong password, and one address is still held to its share.
    for _ in 0..10 {
        let wrong = office.accounts.login("admin@acme.example", "nope nope nope", &on("10.8.0.1", Some(&laptop))).await;
        assert!(matches!(wrong, Err(OfficeError::InvalidCredentials)), "{wrong:?}");
    }
    let held = office.accounts.login("admin@acme.example", "correct horse battery", &on("10.8.0.1", Some(&laptop))).await;
    assert!(matches!(held, Err(OfficeError::RateLimited(_))));
    clock.advance_ms(15 * 60 * 1000 + 1);
    office.accounts.login("admin@acme.example", "correct horse battery", &client("10.9.0.1")).await.unwrap();
}

#[tokio::test]
async fn sessions_end_on_logout_expiry_and_deactivation() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();

    let first = office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    let actor = office.accounts.authenticate(&first.token).await.unwrap();
    office.accounts.logout(&actor, &first.token).await.unwrap();
    assert!(matches!(office.accounts.authenticate(&first.token).await, Err(OfficeError::Unauthenticated)));

    let second = office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    clock.advance_ms(7 * 24 * 3600 * 1000 + 1);
    assert!(office.accounts.authenticate(&second.token).await.is_err(), "expired");

    let third = office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await.unwrap();
    let deactivate: UserPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
    office.directory.update_user(&admin, &mia.id, deactivate).await.unwrap();
    assert!(office.accounts.authenticate(&third.token).await.is_err(), "deactivated");
    assert!(matches!(
        office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.5")).await,
        Err(OfficeError::InvalidCredentials)
    ));
    assert!(office.accounts.authenticate("forged-token").await.is_err());
}

#[tokio::test]
async fn each_sign_in_writes_an_access_log_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let log = office.accounts.my_access_log(&admin).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1.ip, "10.0.0.1");
    assert_eq!(log[0].1.browser, "Firefox");
    assert_eq!(log[0].1.browser_version, "128.0");
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let token = office.accounts.prepare_first_start("default", "Bureau").await.unwrap().expect("a setup link");
    assert!(office.accounts.setup_token_valid(&token).await.unwrap());
    let signed_in = office.accounts.complete_setup(&token, "Ada", "ada@example.org", "long enough pass", &client("127.0.0.1")).await.unwrap();
    assert_eq!(signed_in.user.role, bureau_office::Role::Admin);
    assert!(matches!(
        office.accounts.complete_setup(&token, "Eve", "eve@example.org", "long enough pass", &client("127.0.0.1")).await,
        Err(OfficeError::InvalidToken)
    ));
    assert_eq!(office.accounts.prepare_first_start("default", "Bureau").await.unwrap(), None, "no link once an admin exists");
}
