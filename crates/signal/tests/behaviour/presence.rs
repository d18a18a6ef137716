//! Presence: fan-out within the organisation, several tabs, the grace period.

use std::time::Duration;

use bureau_signal::{CloseCode, ErrorCode, Notice, ServerMsg, Status, UserPresence};
use serde_json::json;

use crate::{Office, kinds};

fn presences(msgs: &[ServerMsg]) -> Vec<UserPresence> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Presence { user } => Some(user.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn presence_reaches_the_organisation_and_never_another() {
    let mut office = Office::default();
    let (a, _) = office.connect("acme", "ada");
    let (other, _) = office.connect("globex", "gus");
    office.clear();
    let (b, pb) = office.connect("acme", "bob");
    let seen = presences(&office.take(a));
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].user_id.as_str(), seen[0].status), ("bob", Status::Online));
    assert_eq!(seen[0].peers, [pb]);
    let welcome = office.take(b);
    let Some(ServerMsg::Welcome { presence, .. }) = welcome.first() else { panic!("{welcome:?}") };
    let mut users: Vec<&str> = presence.iter().map(|p| p.user_id.as_str()).collect();
    users.sort_unstable();
    assert_eq!(users, ["ada", "bob"]);

    office.send(b, json!({"type": "set_presence", "status": "dnd", "location": "home_office",
        "out_of_office": true, "deputy_id": "ada", "note": "back Monday"}));
    let seen = presences(&office.take(a));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, Status::Dnd);
    assert_eq!(seen[0].deputy_id.as_deref(), Some("ada"));
    assert!(seen[0].out_of_office);
    assert!(office.take(other).is_empty(), "another organisation sees nothing");
}

#[test]
fn several_tabs_are_one_presence() {
    let mut office = Office::default();
    let (watcher, _) = office.connect("acme", "ada");
    let (tab1, p1) = office.connect("acme", "bob");
    let (tab2, p2) = office.connect("acme", "bob");
    office.clear();
    office.send(tab2, json!({"type": "set_presence", "status": "away"}));
    assert_eq!(office.hub.presence("acme", "bob").map(|p| p.status), Some(Status::Away));
    assert_eq!(presences(&office.take(tab1))[0].peers, [p1, p2.clone()]);
    office.clear();
    office.disconnect(tab1);
    office.advance(Duration::from_secs(60));
    let seen = presences(&office.take(watcher));
    assert_eq!(seen.len(), 1, "only the peer list changed: {seen:?}");
    assert_eq!((seen[0].status, seen[0].peers.clone()), (Status::Away, vec![p2]));
}

#[test]
fn the_last_connection_dropping_turns_offline_after_the_grace_period() {
    let mut office = Office::default();
    let (watcher, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.clear();
    let dropped = office.now;
    office.disconnect(b);
    assert_eq!(office.hub.poll_timeout(), Some(dropped + Duration::from_secs(15)));
    office.advance(Duration::from_secs(14));
    let statuses: Vec<Status> = presences(&office.take(watcher)).iter().map(|p| p.status).collect();
    assert!(!statuses.contains(&Status::Offline), "{statuses:?}");
    office.advance(Duration::from_secs(1));
    let last = presences(&office.take(watcher)).pop();
    assert_eq!(last.map(|p| p.status), Some(Status::Offline));
    assert_eq!(office.hub.poll_timeout(), None);
}

#[test]
fn reconnecting_within_the_grace_period_shows_no_offline() {
    let mut office = Office::default();
    let (watcher, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(b, json!({"type": "set_presence", "status": "busy"}));
    office.disconnect(b);
    office.advance(Duration::from_secs(10));
    let (b2, _) = office.connect("acme", "bob");
    office.advance(Duration::from_secs(60));
    let statuses: Vec<Status> = presences(&office.take(watcher)).iter().map(|p| p.status).collect();
    assert!(!statuses.contains(&Status::Offline), "{statuses:?}");
    assert_eq!(office.hub.presence("acme", "bob").map(|p| p.status), Some(Status::Busy));
    assert!(office.take(b2).first().is_some_and(|m| m.kind() == "welcome"));
}

#[test]
fn sharing_a_room_sets_in_call() {
    let mut office = Office::default();
    office.set_rooms("acme", vec![crate::room("meet", bureau_signal::RoomKind::Meeting, None)]);
    let (a, _) = office.connect("acme", "ada");
    let (b, _) = office.connect("acme", "bob");
    office.send(a, json!({"type": "join_room", "room_id": "meet"}));
    assert_eq!(office.hub.presence("acme", "ada").map(|p| p.in_call), Some(false));
    office.send(b, json!({"type": "join_room", "room_id": "meet"}));
    assert_eq!(office.hub.presence("acme", "ada").map(|p| p.in_call), Some(true));
    office.send(b, json!({"type": "leave_room"}));
    assert_eq!(office.hub.presence("acme", "ada").map(|p| p.in_call), Some(false));
}

#[test]
fn a_removed_user_is_closed_and_offline_at_once() {
    let mut office = Office::default();
    let (watcher, _) = office.connect("acme", "ada");
    let (b1, _) = office.connect("acme", "bob");
    let (b2, _) = office.connect("acme", "bob");
    office.clear();
    office.hub.set_user_removed(office.now, "acme", "bob");
    let mut closes = office.closes();
    closes.sort_by_key(|c| c.0);
    assert_eq!(closes, [(b1, CloseCode::Kicked), (b2, CloseCode::Kicked)]);
    let last = presences(&office.take(watcher)).pop();
    assert_eq!(last.map(|p| p.status), Some(Status::Offline));
    assert_eq!(office.hub.presence("acme", "bob"), None);
    office.disconnect(b1);
    assert_eq!(office.hub.poll_timeout(), None);
}

#[test]
fn a_new_name_or_picture_reaches_the_organisation_once() {
    let mut office = Office::default();
    let (watcher, _) = office.connect("acme", "ada");
    let (bob, _) = office.connect("acme", "bob");
    let (other, _) = office.connect("globex", "gus");
    office.clear();
    office.hub.set_user_profile("acme", "bob", "Robert", true, true);
    for conn in [watcher, bob] {
        let seen = presences(&office.take(conn));
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!((seen[0].name.as_str(), seen[0].has_picture, seen[0].picture_version), ("Robert", true, 1));
    }
    // Nothing changed: nothing sent. Another organisation, or an unknown user: nothing either.
    office.hub.set_user_profile("acme", "bob", "Robert", true, false);
    office.hub.set_user_profile("acme", "nobody", "X", true, true);
    office.hub.set_user_profile("globex", "bob", "Robert", false, false);
    assert!(presences(&office.take(watcher)).is_empty());
    assert!(office.take(other).is_empty());
    // Another picture in place of the first: same name, still a picture, a new version.
    office.hub.set_user_profile("acme", "bob", "Robert", true, true);
    let seen = presences(&office.take(watcher));
    assert_eq!(seen.iter().map(|p| p.picture_version).collect::<Vec<_>>(), [2]);
    // A ring from Bob now carries the new name.
    office.send(bob, json!({"type": "call", "to_user": "ada"}));
    let ring = office.take(watcher);
    assert!(ring.iter().any(|m| matches!(m, ServerMsg::Ring { from_name, .. } if from_name == "Robert")), "{ring:?}");
    // A reconnect reads the profile again, and it wins.
    office.disconnect(bob);
    let (_, _) = office.connect_profile("acme", "bob", "Bob", false);
    let back = office.hub.presence("acme", "bob").unwrap();
    assert_eq!((back.name.as_str(), back.has_picture), ("Bob", false));
}

#[test]
fn a_deputy_is_a_colleague_of_the_same_organisation() {
    let mut office = Office::default();
    let (bob, _) = office.connect("acme", "bob");
    office.connect("globex", "gus");
    office.connect_guest("acme", "gina", "room-1", true);
    office.clear();
    for stranger in ["gus", "gina", "bob", "nobody"] {
        office.send(bob, json!({"type": "set_presence", "out_of_office": true, "deputy_id": stranger}));
        let answer = office.take(bob);
        assert!(matches!(answer.as_slice(), [ServerMsg::Error { code: ErrorCode::BadMessage, .. }]), "{stranger}: {answer:?}");
        let presence = office.hub.presence("acme", "bob").unwrap();
        assert_eq!((presence.deputy_id, presence.out_of_office), (None, false), "{stranger}: nothing of the update applied");
    }
    office.connect("acme", "ada");
    office.clear();
    office.send(bob, json!({"type": "set_presence", "out_of_office": true, "deputy_id": "ada"}));
    assert_eq!(office.hub.presence("acme", "bob").unwrap().deputy_id.as_deref(), Some("ada"));
    office.send(bob, json!({"type": "set_presence", "deputy_id": null}));
    assert_eq!(office.hub.presence("acme", "bob").unwrap().deputy_id, None);
}

#[test]
fn signing_out_closes_that_sessions_connections_only() {
    let mut office = Office::default();
    let (laptop_a, _) = office.connect_in_session("acme", "ada", "Ada", false, "laptop");
    let (laptop_b, _) = office.connect_in_session("acme", "ada", "Ada", false, "laptop");
    let (phone, _) = office.connect_in_session("acme", "ada", "Ada", false, "phone");
    let (bob, _) = office.connect_in_session("acme", "bob", "Bob", false, "laptop");
    office.connect_in_session("globex", "ada", "Ada", false, "laptop");
    office.clear();
    office.hub.set_session_ended(office.now, "acme", "ada", "laptop");
    let mut closed_conns = office.closes();
    closed_conns.sort_by_key(|(c, _)| c.0);
    assert_eq!(closed_conns, [(laptop_a, CloseCode::SignedOut), (laptop_b, CloseCode::SignedOut)]);
    assert!(office.hub.presence("acme", "ada").unwrap().status != Status::Offline, "the phone keeps Ada online");
    office.send(phone, json!({"type": "ping"}));
    office.send(bob, json!({"type": "ping"}));
    assert!(!office.take(phone).is_empty() && !office.take(bob).is_empty(), "the other sessions keep working");
    office.hub.set_session_ended(office.now, "acme", "ada", "no such session");
    assert!(office.closes().is_empty());
}

/// Attendance follows presence: the hub says when a user starts and stops being present
/// (online and not away), once per flip, whatever the number of tabs.
#[test]
fn the_hub_reports_each_flip_of_being_present_once() {
    let mut office = Office::default();
    let flip = |present| ("acme".to_owned(), "ada".to_owned(), present);
    let (a1, _) = office.connect("acme", "ada");
    let (a2, _) = office.connect("acme", "ada");
    assert_eq!(office.present_flips(), vec![flip(true)], "a second tab changes nothing");
    office.send(a1, json!({"type": "set_presence", "status": "busy"}));
    office.send(a1, json!({"type": "set_presence", "status": "dnd"}));
    assert_eq!(office.present_flips(), vec![], "busy and do-not-disturb are still present");
    office.send(a2, json!({"type": "set_presence", "status": "away"}));
    assert_eq!(office.present_flips(), vec![flip(false)]);
    office.send(a2, json!({"type": "set_presence", "status": "online"}));
    assert_eq!(office.present_flips(), vec![flip(true)]);
    office.disconnect(a1);
    office.disconnect(a2);
    office.advance(Duration::from_secs(5));
    assert_eq!(office.present_flips(), vec![], "within the grace the user is still present");
    office.advance(Duration::from_secs(60));
    assert_eq!(office.present_flips(), vec![flip(false)]);
}

#[test]
fn notices_reach_every_tab_of_their_member_only() {
    let mut office = Office::default();
    let (ada, _) = office.connect("acme", "ada");
    let (bob1, _) = office.connect("acme", "bob");
    let (bob2, _) = office.connect("acme", "bob");
    let (gus, _) = office.connect("globex", "bob");
    office.clear();
    office.hub.notify("acme", "bob", Notice::Inbox);
    office.hub.notify("acme", "bob", Notice::Conversations);
    for conn in [bob1, bob2] {
        assert_eq!(kinds(&office.take(conn)), ["inbox", "conversations"]);
    }
    assert!(office.take(ada).is_empty());
    assert!(office.take(gus).is_empty(), "the same user id in another organisation");
    // Nobody of that name online, or an organisation this hub does not know: nothing.
    office.hub.notify("acme", "nobody", Notice::Inbox);
    office.hub.notify("initech", "bob", Notice::Inbox);
    for conn in [ada, bob1, bob2, gus] {
        assert!(office.take(conn).is_empty());
    }
}
