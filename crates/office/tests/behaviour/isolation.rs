//! A member never sees or touches another organisation's data.

use bureau_office::{OfficeError, UserPatch};
use bureau_store::vault::Key;

use crate::{member, office_in, org_with_admin};

#[tokio::test]
async fn organisations_cannot_see_or_edit_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    let alice = office.accounts.create_user(&acme, member("Alice Acme", "alice@acme.example")).await.unwrap();

    let globex_directory = office.directory.users(&globex, None).await.unwrap();
    assert_eq!(globex_directory.len(), 1);
    assert!(globex_directory.iter().all(|u| u.email.ends_with("@globex.example")));
    assert!(matches!(office.directory.user(&globex, &alice.id).await, Err(OfficeError::NotFound(_))));
    let patch: UserPatch = serde_json::from_str(r#"{"name":"Hijacked"}"#).unwrap();
    assert!(matches!(office.directory.update_user(&globex, &alice.id, patch).await, Err(OfficeError::NotFound(_))));
    assert_eq!(office.directory.user(&acme, &alice.id).await.unwrap().name, "Alice Acme");

    // The same email may exist in both organisations without clashing.
    office.accounts.create_user(&globex, member("Alice Globex", "alice@acme.example")).await.unwrap();
    assert!(matches!(
        office.accounts.create_user(&acme, member("Dup", "ALICE@acme.example")).await,
        Err(OfficeError::Conflict("email"))
    ));
}

#[tokio::test]
async fn members_cannot_administer() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let session = office.accounts.login("mia@acme.example", "member password 1", &crate::client("10.0.0.2")).await.unwrap();
    let mia = office.accounts.authenticate(&session.token).await.unwrap();
    assert!(matches!(office.accounts.create_user(&mia, member("X", "x@acme.example")).await, Err(OfficeError::Forbidden)));
    let promote: UserPatch = serde_json::from_str(r#"{"role":"admin"}"#).unwrap();
    assert!(office.directory.update_me(&mia, promote).await.is_err());
    let demote: UserPatch = serde_json::from_str(r#"{"role":"member"}"#).unwrap();
    assert!(office.directory.update_user(&admin, &admin.user_id, demote).await.is_err(), "last admin stays admin");
}

#[tokio::test]
async fn a_signed_in_user_reads_the_legal_texts_of_their_own_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    let patch: bureau_office::LegalPatch = serde_json::from_str(r#"{"privacy_markdown":"Globex's own policy"}"#).unwrap();
    office.privacy.set_legal(&globex, patch).await.unwrap();
    let own = office.privacy.legal(&globex).await.unwrap();
    assert_eq!(own.privacy.markdown.as_deref(), Some("Globex's own policy"));
    let other = office.privacy.legal(&acme).await.unwrap();
    assert_eq!(other.privacy.markdown, None, "Acme's members read Acme's (default) policy");
}

#[tokio::test]
async fn two_administrators_removing_each_other_at_once_leave_one() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    for round in 0..8 {
        let ada = org_with_admin(&office, &format!("org{round}"), &format!("ada{round}@acme.example")).await;
        let mut second = member("Bea", &format!("bea{round}@acme.example"));
        second.role = bureau_office::Role::Admin;
        office.accounts.create_user(&ada, second).await.unwrap();
        let session = office.accounts.login(&format!("bea{round}@acme.example"), "member password 1", &crate::client("10.0.0.3")).await.unwrap();
        let bea = office.accounts.authenticate(&session.token).await.unwrap();
        // Half the rounds demote, half erase: each checks and writes in one transaction.
        let (a, b) = if round % 2 == 0 {
            let demote = || -> UserPatch { serde_json::from_str(r#"{"role":"member"}"#).unwrap() };
            let (a, b) = tokio::join!(office.directory.update_user(&ada, &bea.user_id, demote()), office.directory.update_user(&bea, &ada.user_id, demote()));
            (a.map(|_| ()), b.map(|_| ()))
        } else {
            tokio::join!(office.privacy.erase_user(&ada, &bea.user_id), office.privacy.erase_user(&bea, &ada.user_id))
        };
        assert!(a.is_ok() != b.is_ok(), "round {round}: exactly one may win: {a:?} {b:?}");
        let refused = if a.is_err() { a } else { b };
        assert!(matches!(refused, Err(OfficeError::Invalid { .. })), "round {round}: {refused:?}");
        let survivor = if office.accounts.authenticate(&session.token).await.is_ok_and(|a| a.is_admin()) { bea } else { ada };
        let admins = office.directory.users(&survivor, None).await.unwrap().into_iter().filter(|u| u.role == bureau_office::Role::Admin && u.active).count();
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test]
async fn the_same_email_in_two_organisations_signs_into_the_one_the_password_or_the_choice_names() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    let mut in_acme = member("Sam at Acme", "sam@example.org");
    in_acme.password = Some("acme password 1".into());
    office.accounts.create_user(&acme, in_acme).await.unwrap();
    let mut in_globex = member("Sam at Globex", "sam@example.org");
    in_globex.password = Some("globex password 1".into());
    office.accounts.create_user(&globex, in_globex).await.unwrap();
    let org_of = |signed_in: bureau_office::SignedIn| signed_in.org_id;
    assert_eq!(org_of(office.accounts.login("sam@example.org", "acme password 1", &crate::client("10.0.0.9")).await.unwrap()), acme.org_id);
    assert_eq!(org_of(office.accounts.login("sam@example.org", "globex password 1", &crate::client("10.0.0.9")).await.unwrap()), globex.org_id);
    assert!(matches!(office.accounts.login("sam@example.org", "wrong password 1", &crate::client("10.0.0.9")).await, Err(OfficeError::InvalidCredentials)));

    // The same password in both: the answer asks which (only to someone who knows it).
    for org in [&acme, &globex] {
        let mut kim = member("Kim", "kim@example.org");
        kim.password = Some("shared password 1".into());
        office.accounts.create_user(org, kim).await.unwrap();
    }
    let both = office.accounts.login("kim@example.org", "shared password 1", &crate::client("10.0.0.9")).await;
    assert!(matches!(&both, Err(OfficeError::ChooseOrganisation(slugs)) if slugs.len() == 2 && slugs.contains(&"globex".to_owned())), "{both:?}");
    let chosen = office.accounts.sign_in_to("kim@example.org", "shared password 1", Some("globex"), &crate::client("10.0.0.9")).await.unwrap();
    let bureau_office::SignInStep::Done(signed_in) = chosen else { panic!("no second factor here") };
    assert_eq!(signed_in.org_id, globex.org_id);
}

#[tokio::test]
async fn absences_stay_in_their_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    for admin in [&acme, &globex] {
        let extended: bureau_office::OrgSettingsPatch = serde_json::from_str(r#"{"profile_mode":"extended"}"#).unwrap();
        office.directory.update_org(admin, extended).await.unwrap();
    }
    let alice = office.accounts.create_user(&acme, member("Alice Acme", "alice@acme.example")).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let new = |user: Option<&str>, deputy: Option<&str>| -> bureau_office::NewAbsence {
        serde_json::from_value(serde_json::json!({"user_id": user, "kind": "vacation", "starts_at": now, "ends_at": now + 86_400_000, "deputy_id": deputy})).unwrap()
    };
    let absence = office.working_day.add_absence(&acme, new(Some(&alice.id), None)).await.unwrap();
    // Globex's admin holds every right, in Globex only: Acme's users and absences are unknown.
    assert!(matches!(office.working_day.add_absence(&globex, new(Some(&alice.id), None)).await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.working_day.add_absence(&globex, new(None, Some(&alice.id))).await, Err(OfficeError::Invalid { field: "deputy_id", .. })));
    assert!(matches!(office.working_day.remove_absence(&globex, &absence.id).await, Err(OfficeError::NotFound(_))));
    assert!(office.working_day.absences(&globex, now - 1, now + 1).await.unwrap().is_empty());
    assert_eq!(office.working_day.absences(&acme, now - 1, now + 1).await.unwrap().len(), 1);
}
