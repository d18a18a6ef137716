//! When rooms use the media server (docs/sfu.md, "When a room uses the SFU"): the organisation's
//! own threshold and rooms marked large, who may set them, their bounds, and that the live
//! office hears of every change (the hub reloads the floor plan that carries them).

use bureau_office::{Actor, Change, NewRoom, Office, OfficeError, OrgSettingsPatch, RoomKind, RoomPatch, RoomView};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

fn patch(json: &str) -> OrgSettingsPatch {
    serde_json::from_str(json).unwrap()
}

/// How many floor-plan changes were emitted since the last call (and nothing else).
fn floor_plans(changes: &mut tokio::sync::mpsc::UnboundedReceiver<Change>) -> usize {
    let mut count = 0;
    while let Ok(change) = changes.try_recv() {
        assert!(matches!(change, Change::FloorPlan { .. }), "{change:?}");
        count += 1;
    }
    count
}

async fn signed_in_member(office: &Office, admin: &Actor, name: &str, email: &str) -> Actor {
    office.accounts.create_user(admin, member(name, email)).await.unwrap();
    let session = office.accounts.login(email, "member password 1", &client("10.0.0.2")).await.unwrap();
    office.accounts.authenticate(&session.token).await.unwrap()
}

fn find<'a>(rooms: &'a [RoomView], id: &str) -> &'a RoomView {
    rooms.iter().find(|r| r.id == id).unwrap()
}

#[tokio::test]
async fn the_organisation_sets_its_own_threshold_within_bounds_and_the_floor_plan_carries_it() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = signed_in_member(&office, &admin, "Mia", "mia@acme.example").await;
    let mut changes = office.subscribe();

    // None until an administrator chooses: the server's default.
    assert_eq!(office.directory.org(&mia).await.unwrap().sfu_threshold, None);
    assert!(office.rooms.floor_plan(&admin.org_id).await.unwrap().iter().all(|r| r.sfu_threshold.is_none()));

    let by_member = office.directory.update_org(&mia, patch(r#"{"sfu_threshold": 3}"#)).await;
    assert!(matches!(by_member, Err(OfficeError::Forbidden)), "{by_member:?}");
    for people in [0, 1, 101, 1000] {
        let refused = office.directory.update_org(&admin, patch(&format!(r#"{{"sfu_threshold": {people}}}"#))).await;
        let Err(OfficeError::Invalid { field: "sfu_threshold", message }) = refused else { panic!("{people}: {refused:?}") };
        assert_eq!(message, "must be 2 to 100 people, or null for the server's default");
    }
    assert!(serde_json::from_str::<OrgSettingsPatch>(r#"{"sfu_threshold": -3}"#).is_err(), "not a number of people");
    assert_eq!(office.directory.org(&admin).await.unwrap().sfu_threshold, None, "nothing refused was kept");
    assert_eq!(floor_plans(&mut changes), 0, "a refused change emits nothing");

    for people in [2, 100, 7] {
        let org = office.directory.update_org(&admin, patch(&format!(r#"{{"sfu_threshold": {people}}}"#))).await.unwrap();
        assert_eq!(org.sfu_threshold, Some(people));
    }
    assert_eq!(office.directory.org(&mia).await.unwrap().sfu_threshold, Some(7), "members see it");
    assert_eq!(floor_plans(&mut changes), 3, "the hub hears of each change");
    let plan = office.rooms.floor_plan(&admin.org_id).await.unwrap();
    assert!(plan.iter().any(|r| r.kind == RoomKind::Office), "{plan:?}");
    assert!(plan.iter().all(|r| r.sfu_threshold == Some(7)), "offices too: {plan:?}");

    // Other settings leave it, and the floor plan is not reloaded for them.
    let org = office.directory.update_org(&admin, patch(r#"{"name": "Acme GmbH", "messages_max_file_mb": 5}"#)).await.unwrap();
    assert_eq!((org.name.as_str(), org.sfu_threshold), ("Acme GmbH", Some(7)));
    office.directory.update_org(&admin, patch(r#"{"sfu_threshold": 7}"#)).await.unwrap();
    assert_eq!(floor_plans(&mut changes), 0, "unchanged");

    // null returns to the server's default.
    let org = office.directory.update_org(&admin, patch(r#"{"sfu_threshold": null}"#)).await.unwrap();
    assert_eq!(org.sfu_threshold, None);
    assert_eq!(floor_plans(&mut changes), 1);
    assert!(office.rooms.floor_plan(&admin.org_id).await.unwrap().iter().all(|r| r.sfu_threshold.is_none()));
    let shown = serde_json::to_value(office.directory.org(&admin).await.unwrap()).unwrap();
    assert_eq!(shown["sfu_threshold"], serde_json::Value::Null, "shown as null: {shown}");
}

#[tokio::test]
async fn meeting_rooms_and_receptions_may_be_marked_large() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mia = signed_in_member(&office, &admin, "Mia", "mia@acme.example").await;
    let mut changes = office.subscribe();

    // Not large unless asked.
    let small: NewRoom = serde_json::from_str(r#"{"name": "Huddle"}"#).unwrap();
    let small = office.rooms.create_room(&admin, small).await.unwrap();
    assert!(!small.large);
    let hall: NewRoom = serde_json::from_str(r#"{"name": "Town hall", "large": true}"#).unwrap();
    let hall = office.rooms.create_room(&admin, hall).await.unwrap();
    assert!(hall.large);
    let reception = NewRoom { name: "Reception".into(), kind: RoomKind::Reception, capacity: None, large: true };
    let reception = office.rooms.create_room(&admin, reception).await.unwrap();
    assert!(reception.large);
    assert_eq!(floor_plans(&mut changes), 3);
    let plan = office.rooms.rooms(&mia).await.unwrap();
    assert_eq!([&small.id, &hall.id, &reception.id].map(|id| find(&plan, id).large), [false, true, true]);
    assert!(plan.iter().filter(|r| r.kind == RoomKind::Office).all(|r| !r.large), "offices are never large");
    let shown = serde_json::to_value(find(&plan, &hall.id)).unwrap();
    assert_eq!(shown["large"], true, "{shown}");
    assert!(shown.get("sfu_threshold").is_none(), "the organisation's threshold is shown with its settings, not per room: {shown}");

    // Only who may manage rooms marks them; an unknown room is not found.
    let large: RoomPatch = serde_json::from_str(r#"{"large": true}"#).unwrap();
    assert!(matches!(office.rooms.update_room(&mia, &small.id, large.clone()).await, Err(OfficeError::Forbidden)));
    assert!(matches!(office.rooms.update_room(&admin, "no-such-room", large.clone()).await, Err(OfficeError::NotFound(_))));
    assert!(serde_json::from_str::<RoomPatch>(r#"{"large": "yes"}"#).is_err());
    assert_eq!(floor_plans(&mut changes), 0, "a refused change emits nothing");

    let marked = office.rooms.update_room(&admin, &small.id, large).await.unwrap();
    assert!(marked.large);
    let renamed: RoomPatch = serde_json::from_str(r#"{"name": "Big huddle"}"#).unwrap();
    let renamed = office.rooms.update_room(&admin, &small.id, renamed).await.unwrap();
    assert!(renamed.large, "other changes keep it");
    let unmarked: RoomPatch = serde_json::from_str(r#"{"large": false}"#).unwrap();
    assert!(!office.rooms.update_room(&admin, &hall.id, unmarked).await.unwrap().large);
    assert_eq!(floor_plans(&mut changes), 3, "the hub hears of each change");
    let plan = office.rooms.floor_plan(&admin.org_id).await.unwrap();
    assert_eq!([&small.id, &hall.id, &reception.id].map(|id| find(&plan, id).large), [true, false, true]);
}
