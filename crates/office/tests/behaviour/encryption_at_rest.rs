//! Personal data never reaches the database file in clear; tampering is refused.

use bureau_office::{OfficeError, UserPatch};
use bureau_store::vault::Key;

use crate::{member, office_in, org_with_admin, raw_database};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn no_email_name_or_phone_appears_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "root.admin@acme-example.org").await;
    let mut secrets = vec!["root.admin@acme-example.org".to_string()];
    for i in 0..20 {
        let (name, email, phone) = (format!("Wilhelmina Zebedee{i}"), format!("wz{i}@private-mail.example"), format!("+49 171 55501{i:02}"));
        let user = office.accounts.create_user(&admin, member(&name, &email)).await.unwrap();
        let patch: UserPatch = serde_json::from_value(serde_json::json!({"phone_mobile": phone, "personnel_id": format!("PN-7731-{i}")})).unwrap();
        office.directory.update_user(&admin, &user.id, patch).await.unwrap();
        secrets.extend([name, email, phone, format!("PN-7731-{i}")]);
    }
    // The data is there and readable through the office...
    let listed = office.directory.users(&admin, Some("zebedee19")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].extended.phone_mobile.as_deref(), Some("+49 171 5550119"));
    // ...but nowhere in the raw file, before or after the WAL is folded in.
    for checkpoint in [false, true] {
        if checkpoint {
            store.checkpoint().await.unwrap();
        }
        let raw = raw_database(dir.path(), &store).await;
        assert!(raw.len() > 5_000, "database read");
        for secret in &secrets {
            assert!(!contains(&raw, secret), "{secret} found in clear (checkpoint: {checkpoint})");
        }
        assert!(!contains(&raw, "Zebedee"), "name fragment found in clear");
    }
}

#[tokio::test]
async fn a_tampered_or_moved_profile_is_refused_and_others_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let alice = office.accounts.create_user(&admin, member("Alice", "alice@acme.example")).await.unwrap();
    let bob = office.accounts.create_user(&admin, member("Bob", "bob@acme.example")).await.unwrap();
    use bureau_store::OrgId;
    // Copy Bob's sealed profile into Alice's row: the associated data no longer matches.
    let mut alice_row = store.user(OrgId(&admin.org_id), &alice.id).await.unwrap().unwrap();
    let bob_row = store.user(OrgId(&admin.org_id), &bob.id).await.unwrap().unwrap();
    alice_row.profile = bob_row.profile.clone();
    store.update_user(&alice_row).await.unwrap();
    assert!(matches!(office.directory.user(&admin, &alice.id).await, Err(OfficeError::Tampered)));
    // Flip one byte of Bob's ciphertext.
    let mut bob_row = bob_row;
    let last = bob_row.profile.len() - 1;
    bob_row.profile[last] ^= 1;
    store.update_user(&bob_row).await.unwrap();
    assert!(matches!(office.directory.user(&admin, &bob.id).await, Err(OfficeError::Tampered)));
    // The admin's own record still opens.
    assert_eq!(office.directory.user(&admin, &admin.user_id).await.unwrap().name, "Admin of acme");
    // Listings go on for everyone: the damaged records are shown as unavailable, not a failure.
    let directory = office.directory.users(&admin, None).await.unwrap();
    let unavailable: Vec<&str> = directory.iter().filter(|u| u.unavailable).map(|u| u.id.as_str()).collect();
    assert_eq!(unavailable.len(), 2);
    assert!(unavailable.contains(&alice.id.as_str()) && unavailable.contains(&bob.id.as_str()));
    assert!(directory.iter().filter(|u| u.unavailable).all(|u| u.name == bureau_office::UNAVAILABLE_NAME && u.email.is_empty()));
    assert!(directory.iter().any(|u| u.id == admin.user_id && !u.unavailable && u.name == "Admin of acme"));
    let floor = office.rooms.floor_plan(&admin.org_id).await.unwrap();
    let office_of = |id: &str| floor.iter().find(|r| r.owner_user_id.as_deref() == Some(id)).map(|r| r.name.clone());
    assert_eq!(office_of(&bob.id).as_deref(), Some(bureau_office::UNAVAILABLE_NAME));
    assert_eq!(office_of(&admin.user_id).as_deref(), Some("Admin of acme"));
    assert!(office.rooms.rooms(&admin).await.is_ok());
}

#[tokio::test]
async fn master_key_rotation_rewraps_and_the_old_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let old = Key::generate();
    let new = Key::generate();
    {
        let (office, store, _) = office_in(dir.path(), &old).await;
        org_with_admin(&office, "acme", "admin@acme.example").await;
        let rewrapped = office.keyring().rotate_master(&*store, &bureau_store::vault::MasterKey::new(new.clone())).await.unwrap();
        assert_eq!(rewrapped, 2, "one data key and one index key");
        store.close().await;
    }
    // The new key opens everything; sign-in (blind index + profile) still works.
    let (office, _, _) = office_in(dir.path(), &new).await;
    office.accounts.login("admin@acme.example", "correct horse battery", &crate::client("10.0.0.9")).await.unwrap();
    // A node started with the old key refuses to start.
    let store = crate::backend_in(dir.path()).await.shared();
    let clock = std::sync::Arc::new(bureau_office::FakeClock::at(0));
    let refused = bureau_office::Office::open(
        store,
        bureau_store::vault::MasterKey::new(old),
        clock,
        Default::default(),
    )
    .await;
    assert!(matches!(refused, Err(OfficeError::Vault(bureau_store::VaultError::WrongMasterKey))));
}

#[tokio::test]
async fn a_database_edit_that_makes_a_member_an_admin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let master = Key::generate();
    let (office, store, _) = office_in(dir.path(), &master).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let session = office.accounts.login("mia@acme.example", "member password 1", &crate::client("10.0.0.2")).await.unwrap();
    assert!(!office.accounts.authenticate(&session.token).await.unwrap().is_admin());
    use bureau_store::OrgId;
    // Someone with write access to the database promotes Mia in the clear `role` column.
    let mut row = store.user(OrgId(&admin.org_id), &mia.id).await.unwrap().unwrap();
    let honest = row.clone();
    row.role = bureau_office::Role::Admin;
    row.rights = vec![bureau_office::Right::Invite, bureau_office::Right::ManagePrivacy];
    store.update_user(&row).await.unwrap();
    assert!(matches!(office.accounts.authenticate(&session.token).await, Err(OfficeError::Tampered)), "the edited row is refused, not trusted");
    assert!(office.accounts.login("mia@acme.example", "member password 1", &crate::client("10.0.0.2")).await.is_err());
    // Everyone else is unaffected, and the directory lists her (with her clear role).
    assert!(office.accounts.authenticate(&office.accounts.login("admin@acme.example", "correct horse battery", &crate::client("10.0.0.1")).await.unwrap().token).await.is_ok());
    // An administrator's real change seals the new grant.
    store.update_user(&honest).await.unwrap();
    let promote: bureau_office::UserPatch = serde_json::from_str(r#"{"role":"admin"}"#).unwrap();
    office.directory.update_user(&admin, &mia.id, promote).await.unwrap();
    assert!(office.accounts.authenticate(&session.token).await.unwrap().is_admin());
}

#[tokio::test]
async fn profiles_sealed_before_grants_existed_get_theirs_on_the_next_start() {
    use bureau_store::OrgId;
    use bureau_store::vault::Slot;
    let dir = tempfile::tempdir().unwrap();
    let master = Key::generate();
    let org_id;
    {
        let (office, store, _) = office_in(dir.path(), &master).await;
        let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
        org_id = admin.org_id.clone();
        // As an older Bureau wrote it: the profile sealed without a grant.
        let mut row = store.user(OrgId(&org_id), &admin.user_id).await.unwrap().unwrap();
        let keys = office.keyring().org(&*store, OrgId(&org_id)).await.unwrap();
        let slot = Slot { table: "users", column: "profile", row: &row.id };
        row.profile = keys.seal_json(slot, &serde_json::json!({"name": "Admin of acme", "email": "admin@acme.example"}));
        store.update_user(&row).await.unwrap();
        store.put_meta("profile_grants_sealed", b"0").await.unwrap();
        store.close().await;
    }
    let (office, store, _) = office_in(dir.path(), &master).await;
    let signed_in = office.accounts.login("admin@acme.example", "correct horse battery", &crate::client("10.0.0.1")).await.unwrap();
    assert!(office.accounts.authenticate(&signed_in.token).await.unwrap().is_admin(), "the legacy administrator still signs in");
    assert_eq!(store.meta("profile_grants_sealed").await.unwrap().as_deref(), Some(&b"1"[..]));
}
