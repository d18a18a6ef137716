//! The changes the live office must hear about come from the domain itself, in the order they
//! were made: no request handler has to remember them.

use bureau_office::{Change, NewRoom, RoomKind, UserPatch};
use bureau_store::vault::Key;

use crate::{client, member, office_in, org_with_admin};

/// What was emitted since the last call, as short names.
fn drained(changes: &mut tokio::sync::mpsc::UnboundedReceiver<Change>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(change) = changes.try_recv() {
        out.push(match change {
            Change::FloorPlan { .. } => "floor plan".to_owned(),
            Change::Removed { user_id, .. } => format!("removed {user_id}"),
            Change::Profile { name, new_picture, .. } => format!("profile {name} {new_picture}"),
            Change::SignedOut { user_id, .. } => format!("signed out {user_id}"),
            Change::MessagesWaiting { user_ids, .. } => format!("messages for {}", user_ids.join(" ")),
            Change::ConversationsChanged { user_ids, .. } => format!("conversations of {}", user_ids.join(" ")),
        });
    }
    out
}

#[tokio::test]
async fn users_rooms_and_sessions_tell_the_live_office_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (office, _, _) = office_in(dir.path(), &Key::generate()).await;
    let admin = org_with_admin(&office, "acme", "admin@acme.example").await;
    let mut changes = office.subscribe();

    let mia = office.accounts.create_user(&admin, member("Mia", "mia@acme.example")).await.unwrap();
    assert_eq!(drained(&mut changes), ["floor plan"], "her office appears");

    let rename: UserPatch = serde_json::from_str(r#"{"name":"Mia Wong"}"#).unwrap();
    office.directory.update_user(&admin, &mia.id, rename).await.unwrap();
    assert_eq!(drained(&mut changes), ["floor plan", "profile Mia Wong false"]);

    let room = office.rooms.create_room(&admin, NewRoom { name: "Board".into(), kind: RoomKind::Meeting, capacity: None, large: false }).await.unwrap();
    office.rooms.delete_room(&admin, &room.id).await.unwrap();
    assert_eq!(drained(&mut changes), ["floor plan", "floor plan"]);

    let session = office.accounts.login("mia@acme.example", "member password 1", &client("10.0.0.2")).await.unwrap();
    let actor = office.accounts.authenticate(&session.token).await.unwrap();
    office.accounts.logout(&actor, &session.token).await.unwrap();
    assert_eq!(drained(&mut changes), [format!("signed out {}", mia.id)]);

    let deactivate: UserPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
    office.directory.update_user(&admin, &mia.id, deactivate).await.unwrap();
    assert_eq!(drained(&mut changes), [format!("removed {}", mia.id), "floor plan".to_owned()], "her connections end before her office goes");

    // A refused change emits nothing.
    let demote_last_admin: UserPatch = serde_json::from_str(r#"{"role":"member"}"#).unwrap();
    assert!(office.directory.update_user(&admin, &admin.user_id, demote_last_admin).await.is_err());
    assert_eq!(drained(&mut changes), Vec::<String>::new());
}
