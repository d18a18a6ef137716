//! Data-subject rights and retention: a complete export, erasure that keeps colleagues' history
//! anonymised, and expired data gone from the database file itself.

use bureau_office::{FinishedCall, MemoryMailer, NewInvitation, NewTicket, RegisterRequest, Role, TransferKind, TransferReport};
use bureau_store::vault::Key;
use bureau_store::OrgId;

use crate::{client, member, office_in, org_with_admin, raw_database};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_export_holds_everything_and_erasure_leaves_colleagues_anonymised_history() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, clock) = office_in(dir.path(), &Key::generate()).await;
    let mailer = std::sync::Arc::new(MemoryMailer::default());
    let office = office.with_mail(mailer.clone(), "https://bureau.example").with_recipients(vec!["Email relay".into()]);
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;

    // Nora joins through an invitation, signs in, calls the admin, sends a file, asks support.
    office.joining.invite(&admin, NewInvitation { name: "Nora".into(), email: "nora@acme.example".into(), role: Role::Member }).await.unwrap();
    let link = mailer.sent()[0].text.clone();
    let token = link.split("#token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let request = RegisterRequest { token, name: None, password: "nora password 1".into(), accept_terms: true };
    let signed_in = office.joining.register(request, &client("192.0.2.7")).await.unwrap();
    let nora = office.accounts.authenticate(&signed_in.token).await.unwrap();
    clock.advance_ms(1000);
    let call = FinishedCall {
        org_id: admin.org_id.clone(),
        call_id: "call-1".into(),
        room_id: None,
        started_at: clock_now(&clock),
        duration_ms: 60_000,
        participants: vec![admin.user_id.clone(), nora.user_id.clone()],
    };
    office.rooms.record_call(call).await.unwrap();
    office.rooms.record_transfer(&nora, TransferReport { to_user: admin.user_id.clone(), kind: TransferKind::File, size: 42 }).await.unwrap();
    office.support.open_ticket(&nora, NewTicket { subject: "Help".into(), message: "Where is the printer?".into() }).await.unwrap();

    let export = serde_json::to_value(office.privacy.export(&nora).await.unwrap()).unwrap();
    assert_eq!(export["version"], bureau_office::EXPORT_VERSION);
    assert_eq!(export["calendar"], serde_json::json!([]));
    assert_eq!(export["profile"]["email"], "nora@acme.example");
    assert_eq!(export["registration"]["details"]["ip"], "192.0.2.7");
    assert_eq!(export["access_log"][0]["event"], "register");
    assert_eq!(export["calls"][0]["call_id"], "call-1");
    assert_eq!(export["transfers"][0]["size"], 42);
    assert_eq!(export["support_tickets"][0]["subject"], "Help");
    assert_eq!(export["recipients"][0], "Email relay");
    assert_eq!(export["organisation"]["slug"], "acme");

    // Erasure: Nora's sealed profile leaves the file; the admin still sees the call, anonymised.
    let sealed_profile = store.user(OrgId(&admin.org_id), &nora.user_id).await.unwrap().unwrap().profile;
    store.checkpoint().await.unwrap();
    assert!(contains(&raw_database(dir.path(), &store).await, &sealed_profile), "sanity: the sealed profile is in the file");
    assert!(office.privacy.erase_me(&nora, bureau_office::EraseRequest { password: "wrong".into(), code: None, recovery_code: None }).await.is_err());
    office.privacy.erase_me(&nora, bureau_office::EraseRequest { password: "nora password 1".into(), code: None, recovery_code: None }).await.unwrap();
    store.checkpoint().await.unwrap();
    assert!(!contains(&raw_database(dir.path(), &store).await, &sealed_profile), "erased data is gone from the file");
    assert!(office.accounts.authenticate(&signed_in.token).await.is_err());
    let calls = office.rooms.my_calls(&admin).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].participants.contains(&admin.user_id));
    assert!(calls[0].participants.iter().any(|p| p.starts_with("erased-")), "{:?}", calls[0].participants);
    assert!(!calls[0].participants.contains(&nora.user_id));
}

fn clock_now(clock: &bureau_office::FakeClock) -> i64 {
    use bureau_office::Clock;
    clock.now_ms()
}

#[tokio::test]
async fn retention_deletes_expired_data_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, clock) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let old_entry = store.user_access(OrgId(&admin.org_id), &admin.user_id).await.unwrap().remove(0);
    office.privacy.audit(&admin, "view_user", Some(&mia.id)).await.unwrap();

    // 91 days later: a fresh sign-in, and the deactivation of Mia.
    clock.advance_ms(91 * 24 * 3600 * 1000);
    office.accounts.login("admin@acme.example", "correct horse battery", &client("10.9.9.9")).await.unwrap();
    let deactivate: bureau_office::UserPatch = serde_json::from_str(r#"{"active": false}"#).unwrap();
    office.directory.update_user(&admin, &mia.id, deactivate).await.unwrap();
    store.checkpoint().await.unwrap();
    assert!(contains(&raw_database(dir.path(), &store).await, &old_entry.details));

    let purged = office.privacy.enforce_retention().await.unwrap();
    assert_eq!(purged.access_logs, 1, "{purged:?}");
    assert_eq!(purged.accounts, 0, "Mia was deactivated only now");
    store.checkpoint().await.unwrap();
    assert!(!contains(&raw_database(dir.path(), &store).await, &old_entry.details), "the expired entry's bytes are gone");
    assert_eq!(office.accounts.my_access_log(&admin).await.unwrap().len(), 1, "the recent sign-in stays");

    clock.advance_ms(366 * 24 * 3600 * 1000);
    let purged = office.privacy.enforce_retention().await.unwrap();
    assert_eq!(purged.accounts, 1);
    assert!(store.user(OrgId(&admin.org_id), &mia.id).await.unwrap().is_none());
    let viewed = |log: &[bureau_office::AuditEntry]| log.iter().any(|e| e.action == "view_user" && e.target_id.as_deref() == Some(mia.id.as_str()));
    assert!(viewed(&office.privacy.audit_log(&admin).await.unwrap()), "the audit log is kept two years by default");

    // Past two years, the audit entry goes too.
    clock.advance_ms(300 * 24 * 3600 * 1000);
    let purged = office.privacy.enforce_retention().await.unwrap();
    assert!(purged.audit_log >= 1, "{purged:?}");
    assert!(!viewed(&office.privacy.audit_log(&admin).await.unwrap()));
}

#[tokio::test]
async fn an_objection_to_call_logs_changes_what_is_recorded_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    let call = |id: &str| FinishedCall {
        org_id: admin.org_id.clone(),
        call_id: id.into(),
        room_id: None,
        started_at: 0,
        duration_ms: 1000,
        participants: vec![admin.user_id.clone(), mia.id.clone()],
    };
    office.rooms.record_call(call("before")).await.unwrap();
    let session = office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.8")).await.unwrap();
    let mia_actor = office.accounts.authenticate(&session.token).await.unwrap();
    let patch = bureau_office::PrivacySettingsPatch { restricted: None, objections: Some(vec![bureau_office::Objection::CallLogs]) };
    office.privacy.set_privacy_settings(&mia_actor, patch).await.unwrap();
    office.rooms.record_call(call("after")).await.unwrap();
    let calls = office.rooms.my_calls(&admin).await.unwrap();
    let by_id = |id: &str| calls.iter().find(|c| c.call_id == id).unwrap().participants.clone();
    assert!(by_id("before").contains(&mia.id), "what was recorded before stays");
    assert!(!by_id("after").contains(&mia.id));
    assert!(by_id("after").iter().any(|p| p.starts_with("anonymous-")));
}

#[tokio::test]
async fn no_one_makes_bureau_mail_anyone_in_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, clock) = office_in(dir.path(), &Key::generate()).await;
    let mailer = std::sync::Arc::new(MemoryMailer::default());
    let office = office.with_mail(mailer.clone(), "https://bureau.example");
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&admin, crate::member("Mia", "mia@acme.example")).await.unwrap();
    let mia = office.accounts.authenticate(&office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.2")).await.unwrap().token).await.unwrap();
    // A member opens fifty tickets and gives fifty consents: every one is saved, but the
    // administrators are mailed ten times in the hour.
    for i in 0..50 {
        office.support.open_ticket(&mia, NewTicket { subject: format!("Help {i}"), message: "Please".into() }).await.unwrap();
        let consent = bureau_office::GiveConsent { template_version: 0, camera: true, microphone: true };
        office.privacy.give_consent(&mia, consent).await.unwrap();
    }
    assert_eq!(mailer.sent().len(), 10, "ten emails in the hour, whatever the member does");
    assert_eq!(office.support.tickets(&admin).await.unwrap().len(), 50, "every ticket is kept");
    // An hour later the member may cause emails again.
    clock.advance_ms(3600 * 1000 + 1);
    office.support.open_ticket(&mia, NewTicket { subject: "Later".into(), message: "Please".into() }).await.unwrap();
    assert_eq!(mailer.sent().len(), 11);
    // An administrator's invitations have a larger share, and are refused beyond it.
    for i in 0..200 {
        office.joining.invite(&admin, NewInvitation { name: format!("N{i}"), email: format!("n{i}@acme.example"), role: Role::Member }).await.unwrap();
    }
    let over = office.joining.invite(&admin, NewInvitation { name: "One more".into(), email: "more@acme.example".into(), role: Role::Member }).await;
    assert!(matches!(over, Err(bureau_office::OfficeError::RateLimited(_))), "{over:?}");
}
