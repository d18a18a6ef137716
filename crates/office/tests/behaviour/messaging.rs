//! The device registry of end-to-end encrypted messaging: keys bound to their user by a
//! self-signature, seen by colleagues of the same organisation only, in the export, gone with
//! the account.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bureau_office::{Actor, NewDevice, OfficeError};
use bureau_store::vault::Key;
use bureau_store::OrgId;

use crate::{client, member, office_in, org_with_admin};

/// A device with fresh keys (the HPKE key is any 32 bytes here: the server never uses it),
/// its keys signed for the user `signed_for`.
fn device(signed_for: &str, name: &str) -> NewDevice {
    let pair = Ed25519KeyPair::generate().unwrap();
    let hpke: [u8; 32] = rand_bytes();
    let signature = pair.sign(&[b"bureau-device-v1".as_slice(), signed_for.as_bytes(), &hpke].concat());
    NewDevice {
        name: name.into(),
        hpke_public: URL_SAFE_NO_PAD.encode(hpke),
        sign_public: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        self_signature: URL_SAFE_NO_PAD.encode(signature.as_ref()),
    }
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

async fn signed_in(office: &bureau_office::Office, email: &str) -> Actor {
    let session = office.accounts.login(email, "member password 1", &client("10.0.0.2")).await.unwrap();
    office.accounts.authenticate(&session.token).await.unwrap()
}

/// A device of `actor`, registered, with its signing key pair.
async fn laptop_of(office: &bureau_office::Office, actor: &Actor) -> (bureau_office::DeviceView, Ed25519KeyPair) {
    let pair = Ed25519KeyPair::generate().unwrap();
    let hpke = rand_bytes();
    let new = NewDevice {
        name: "Laptop".into(),
        hpke_public: URL_SAFE_NO_PAD.encode(hpke),
        sign_public: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        self_signature: URL_SAFE_NO_PAD.encode(pair.sign(&[b"bureau-device-v1".as_slice(), actor.user_id.as_bytes(), &hpke].concat()).as_ref()),
    };
    (office.messaging.register_device(actor, new).await.unwrap(), pair)
}

/// An office with organisation "acme", its admin, and member Alice signed in with one device.
struct Alice {
    office: bureau_office::Office,
    store: crate::Backend,
    clock: std::sync::Arc<bureau_office::FakeClock>,
    acme: Actor,
    alice: Actor,
    laptop: bureau_office::DeviceView,
    pair: Ed25519KeyPair,
}

async fn alice_with_laptop(dir: &std::path::Path) -> Alice {
    let (office, store, clock) = office_in(dir, &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&acme, member("Alice Acme", "alice@acme.example")).await.unwrap();
    let alice = signed_in(&office, "alice@acme.example").await;
    let (laptop, pair) = laptop_of(&office, &alice).await;
    Alice { office, store, clock, acme, alice, laptop, pair }
}

/// The proof of `device` for `GET /inbox` at `time` (the office tests' stand-in path).
fn inbox_proof(device: &bureau_office::DeviceView, pair: &Ed25519KeyPair, time: i64) -> bureau_office::DeviceProof {
    let signed = bureau_office::DeviceProof::message(&device.id, "GET", "/inbox", time);
    bureau_office::DeviceProof { device_id: device.id.clone(), time, signature: URL_SAFE_NO_PAD.encode(pair.sign(&signed).as_ref()) }
}

/// A message of `actor`'s device to itself (random bytes where the browser's ciphertext goes).
fn note_to_self(actor: &Actor, device: &bureau_office::DeviceView, pair: &Ed25519KeyPair) -> bureau_office::NewMessage {
    let header = serde_json::to_vec(&serde_json::json!({"sender_user": actor.user_id, "sender_device": device.id, "recipients": [device.id]})).unwrap();
    bureau_office::NewMessage {
        signature: URL_SAFE_NO_PAD.encode(pair.sign(&header).as_ref()),
        header: URL_SAFE_NO_PAD.encode(&header),
        body: URL_SAFE_NO_PAD.encode([1u8; 100]),
        keys: [(device.id.clone(), URL_SAFE_NO_PAD.encode([2u8; 80]))].into(),
    }
}

#[tokio::test]
async fn devices_are_bound_to_their_user_and_stay_in_their_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    office.accounts.create_user(&acme, member("Alice Acme", "alice@acme.example")).await.unwrap();
    let alice = signed_in(&office, "alice@acme.example").await;

    // Keys signed for someone else are refused: a client cannot register keys it cannot sign for.
    let stolen = office.messaging.register_device(&alice, device(&acme.user_id, "Laptop")).await;
    assert!(matches!(stolen, Err(OfficeError::Invalid { field: "self_signature", .. })), "{stolen:?}");
    let laptop = office.messaging.register_device(&alice, device(&alice.user_id, "Laptop")).await.unwrap();
    assert_eq!((laptop.user_id.as_str(), laptop.name.as_str()), (alice.user_id.as_str(), "Laptop"));

    // A colleague sees the same keys; another organisation sees nothing and removes nothing.
    let seen = office.messaging.devices(&acme, &alice.user_id).await.unwrap();
    assert_eq!(seen, vec![laptop.clone()]);
    assert!(matches!(office.messaging.devices(&globex, &alice.user_id).await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.messaging.remove_device(&globex, &laptop.id).await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.messaging.remove_device(&acme, &laptop.id).await, Err(OfficeError::NotFound(_))), "only its user removes it");

    // At most ten.
    for i in 1..bureau_office::MAX_DEVICES {
        office.messaging.register_device(&alice, device(&alice.user_id, &format!("Phone {i}"))).await.unwrap();
    }
    let one_more = office.messaging.register_device(&alice, device(&alice.user_id, "One too many")).await;
    assert!(matches!(one_more, Err(OfficeError::Invalid { .. })), "{one_more:?}");

    // The export carries them; erasure deletes them.
    let export = serde_json::to_value(office.privacy.export(&alice).await.unwrap()).unwrap();
    assert_eq!(export["devices"].as_array().map(Vec::len), Some(bureau_office::MAX_DEVICES));
    assert!(export["devices"].as_array().unwrap().iter().any(|d| d["id"] == laptop.id.as_str() && d["sign_public"] == laptop.sign_public.as_str()));
    let erase = bureau_office::EraseRequest { password: "member password 1".into(), code: None, recovery_code: None };
    office.privacy.erase_me(&alice, erase).await.unwrap();
    assert!(store.shared().device_keys(OrgId(&acme.org_id), &alice.user_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_same_keys_registered_twice_at_once_make_one_device() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    office.accounts.create_user(&acme, member("Alice Acme", "alice@acme.example")).await.unwrap();
    let alice = signed_in(&office, "alice@acme.example").await;

    // Two tabs of one browser register its keys at the same moment: both pass the check for an
    // existing device before either inserts, and only the database can refuse the second.
    for round in 0..5 {
        let keys = device(&alice.user_id, &format!("Tab {round}"));
        let (first, second) = tokio::join!(
            office.messaging.register_device(&alice, keys.clone()),
            office.messaging.register_device(&alice, keys.clone()),
        );
        let refused = [&first, &second].iter().filter(|r| matches!(r, Err(OfficeError::Conflict(_)))).count();
        assert_eq!((first.is_ok() as usize + second.is_ok() as usize, refused), (1, 1), "round {round}: {first:?} {second:?}");
        let devices = store.shared().device_keys(OrgId(&acme.org_id), &alice.user_id).await.unwrap();
        assert_eq!(devices.len(), round + 1, "one device per key pair");
    }
}

#[tokio::test]
async fn a_message_is_queued_for_the_devices_of_active_members_only_and_never_for_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, store, acme, alice, laptop, pair, .. } = alice_with_laptop(dir.path()).await;
    let mut colleagues = Vec::new();
    for (name, email) in [("Bob Acme", "bob@acme.example"), ("Cleo Acme", "cleo@acme.example")] {
        office.accounts.create_user(&acme, member(name, email)).await.unwrap();
        let actor = signed_in(&office, email).await;
        let (device, _) = laptop_of(&office, &actor).await;
        colleagues.push((actor, device));
    }
    let to = |ids: &[&str]| {
        let header = serde_json::to_vec(&serde_json::json!({"sender_user": alice.user_id, "sender_device": laptop.id, "recipients": ids})).unwrap();
        bureau_office::NewMessage {
            signature: URL_SAFE_NO_PAD.encode(pair.sign(&header).as_ref()),
            header: URL_SAFE_NO_PAD.encode(&header),
            body: URL_SAFE_NO_PAD.encode([1u8; 100]),
            keys: ids.iter().map(|id| (id.to_string(), URL_SAFE_NO_PAD.encode([2u8; 80]))).collect(),
        }
    };
    let (bob_device, cleo_device) = (colleagues[0].1.id.clone(), colleagues[1].1.id.clone());
    let queued = office.messaging.send(&alice, to(&[&bob_device, &cleo_device])).await.unwrap();
    assert_eq!(queued.devices, 2);

    // Cleo is deactivated: her device gets nothing more, Bob's still does.
    let deactivate: bureau_office::UserPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
    office.directory.update_user(&acme, &colleagues[1].0.user_id, deactivate).await.unwrap();
    let queued = office.messaging.send(&alice, to(&[&bob_device, &cleo_device])).await.unwrap();
    assert_eq!(queued.devices, 1);
    let waiting = |device: String| { let store = store.shared(); let org = acme.org_id.clone(); async move { store.queued_count(OrgId(&org), &device).await.unwrap() } };
    assert_eq!((waiting(bob_device.clone()).await, waiting(cleo_device.clone()).await), (2, 1));

    // A device that does not exist refuses the whole message.
    let refused = office.messaging.send(&alice, to(&[&bob_device, "no-such-device"])).await;
    assert!(matches!(refused, Err(OfficeError::Invalid { field: "keys", .. })), "{refused:?}");
    assert_eq!(waiting(bob_device).await, 2, "nothing queued");
}

#[tokio::test]
async fn a_message_nobody_fetched_is_deleted_when_its_retention_ends() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, clock, alice, laptop, pair, .. } = alice_with_laptop(dir.path()).await;
    // Alice writes a note to her own device (a second device of hers would do the same).
    office.messaging.send(&alice, note_to_self(&alice, &laptop, &pair)).await.unwrap();
    let inbox = |time: i64| inbox_proof(&laptop, &pair, time);
    let now = || bureau_office::Clock::now_ms(clock.as_ref());
    assert_eq!(office.messaging.inbox(&alice, &inbox(now()), "GET", "/inbox").await.unwrap().len(), 1);
    // A day before its 30 days end it stays; after them it is gone, unread.
    clock.advance_ms(29 * 24 * 3600 * 1000);
    assert_eq!(office.privacy.enforce_retention().await.unwrap().messages, 0);
    clock.advance_ms(2 * 24 * 3600 * 1000);
    assert_eq!(office.privacy.enforce_retention().await.unwrap().messages, 1);
    assert!(office.messaging.inbox(&alice, &inbox(now()), "GET", "/inbox").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_organisation_chooses_whether_messages_wait_and_for_how_long() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, store, clock, acme, alice, laptop, pair } = alice_with_laptop(dir.path()).await;
    let note = || note_to_self(&alice, &laptop, &pair);
    let patch = |json: &str| serde_json::from_str::<bureau_office::OrgSettingsPatch>(json).unwrap();

    // The node's defaults until an administrator chooses.
    let org = office.directory.org(&alice).await.unwrap();
    assert_eq!((org.messages_store_and_forward, org.messages_retention_days), (true, 30));
    // Only administrators choose, within bounds.
    let by_member = office.directory.update_org(&alice, patch(r#"{"messages_store_and_forward": false}"#)).await;
    assert!(matches!(by_member, Err(OfficeError::Forbidden)), "{by_member:?}");
    for days in [0, 366] {
        let out_of_bounds = office.directory.update_org(&acme, patch(&format!(r#"{{"messages_retention_days": {days}}}"#))).await;
        assert!(matches!(out_of_bounds, Err(OfficeError::Invalid { field: "messages_retention_days", .. })), "{out_of_bounds:?}");
    }

    // Strict peer to peer: nothing waits on the server; what waited before stays until fetched.
    office.messaging.send(&alice, note()).await.unwrap();
    let org = office.directory.update_org(&acme, patch(r#"{"messages_store_and_forward": false}"#)).await.unwrap();
    assert_eq!((org.messages_store_and_forward, org.messages_retention_days), (false, 30));
    assert!(matches!(office.messaging.send(&alice, note()).await, Err(OfficeError::PeerToPeerOnly)));
    assert_eq!(store.shared().queued_count(OrgId(&acme.org_id), &laptop.id).await.unwrap(), 1);

    // On again, with two days: a message nobody fetched goes after two days, not thirty.
    let org = office.directory.update_org(&acme, patch(r#"{"messages_store_and_forward": true, "messages_retention_days": 2}"#)).await.unwrap();
    assert_eq!((org.messages_store_and_forward, org.messages_retention_days), (true, 2));
    office.messaging.send(&alice, note()).await.unwrap();
    assert_eq!(store.shared().queued_count(OrgId(&acme.org_id), &laptop.id).await.unwrap(), 2);
    clock.advance_ms(2 * 24 * 3600 * 1000 + 1);
    assert_eq!(office.privacy.enforce_retention().await.unwrap().messages, 1, "the two-day one");
    assert_eq!(store.shared().queued_count(OrgId(&acme.org_id), &laptop.id).await.unwrap(), 1);

    // Erasing Alice deletes her device and everything waiting for it.
    let erase = bureau_office::EraseRequest { password: "member password 1".into(), code: None, recovery_code: None };
    office.privacy.erase_me(&alice, erase).await.unwrap();
    assert_eq!(store.shared().queued_count(OrgId(&acme.org_id), &laptop.id).await.unwrap(), 0);
    assert!(store.shared().device_keys(OrgId(&acme.org_id), &alice.user_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn group_conversations_keep_their_members_and_epochs_and_messages_follow_them() {
    let dir = tempfile::tempdir().unwrap();
    let (office, store, _) = office_in(dir.path(), &Key::generate()).await;
    let acme = org_with_admin(&office, "acme", "admin@acme.example").await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    let mut people = Vec::new();
    for (name, email) in [("Alice", "alice@acme.example"), ("Bob", "bob@acme.example"), ("Carol", "carol@acme.example")] {
        office.accounts.create_user(&acme, member(name, email)).await.unwrap();
        people.push(signed_in(&office, email).await);
    }
    let [alice, bob, carol] = [people[0].clone(), people[1].clone(), people[2].clone()];
    let new = |name: &str, members: Vec<String>| bureau_office::NewConversation { name: name.into(), members };

    // Only colleagues of the organisation can be members.
    let foreign = office.messaging.create_conversation(&alice, new("Launch", vec![globex.user_id.clone()])).await;
    assert!(matches!(foreign, Err(OfficeError::Invalid { field: "members", .. })), "{foreign:?}");
    let launch = office.messaging.create_conversation(&alice, new("Launch", vec![bob.user_id.clone(), carol.user_id.clone()])).await.unwrap();
    assert_eq!((launch.epoch, launch.members.len(), launch.name.as_str()), (1, 3, "Launch"));
    assert_eq!(office.messaging.conversations(&bob).await.unwrap(), vec![launch.clone()]);
    // Another organisation, even its administrator, does not see it.
    assert!(matches!(office.messaging.conversation(&globex, &launch.id).await, Err(OfficeError::NotFound(_))));
    assert!(office.messaging.conversations(&globex).await.unwrap().is_empty());

    // Messages about the group go to its members' devices only, in its current epoch.
    let (alice_laptop, alice_pair) = laptop_of(&office, &alice).await;
    let (bob_laptop, _) = laptop_of(&office, &bob).await;
    let (carol_laptop, carol_pair) = laptop_of(&office, &carol).await;
    let group_message = |epoch: i64, recipients: &[&str]| {
        let header = serde_json::to_vec(&serde_json::json!({"sender_user": alice.user_id, "sender_device": alice_laptop.id,
            "conversation_id": launch.id, "epoch": epoch, "recipients": recipients})).unwrap();
        bureau_office::NewMessage {
            signature: URL_SAFE_NO_PAD.encode(alice_pair.sign(&header).as_ref()),
            header: URL_SAFE_NO_PAD.encode(&header),
            body: URL_SAFE_NO_PAD.encode([1u8; 100]),
            keys: recipients.iter().map(|d| ((*d).to_owned(), String::new())).collect(),
        }
    };
    office.messaging.send(&alice, group_message(1, &[&bob_laptop.id, &carol_laptop.id])).await.unwrap();

    // Carol is removed (by Alice, who made it): a new epoch; Bob may not remove anyone but himself.
    let by_bob = office.messaging.remove_member(&bob, &launch.id, &carol.user_id).await;
    assert!(matches!(by_bob, Err(OfficeError::Forbidden)), "{by_bob:?}");
    let after = office.messaging.remove_member(&alice, &launch.id, &carol.user_id).await.unwrap();
    assert_eq!((after.epoch, after.members.len()), (2, 2));
    assert!(matches!(office.messaging.conversation(&carol, &launch.id).await, Err(OfficeError::NotFound(_))), "Carol sees it no more");
    for (message, field) in [
        (group_message(1, &[&bob_laptop.id]), "header"),
        (group_message(2, &[&bob_laptop.id, &carol_laptop.id]), "keys"),
    ] {
        let refused = office.messaging.send(&alice, message).await;
        assert!(matches!(refused, Err(OfficeError::Invalid { field: f, .. }) if f == field), "{refused:?}");
    }
    office.messaging.send(&alice, group_message(2, &[&bob_laptop.id])).await.unwrap();
    // Carol, no longer a member, cannot write to it either (not even a direct-style message
    // naming it, as sender keys travel).
    let header = serde_json::to_vec(&serde_json::json!({"sender_user": carol.user_id, "sender_device": carol_laptop.id,
        "conversation_id": launch.id, "recipients": [bob_laptop.id]})).unwrap();
    let from_carol = bureau_office::NewMessage {
        signature: URL_SAFE_NO_PAD.encode(carol_pair.sign(&header).as_ref()),
        header: URL_SAFE_NO_PAD.encode(&header),
        body: URL_SAFE_NO_PAD.encode([1u8; 100]),
        keys: [(bob_laptop.id.clone(), URL_SAFE_NO_PAD.encode([2u8; 80]))].into(),
    };
    let refused = office.messaging.send(&carol, from_carol).await;
    assert!(matches!(refused, Err(OfficeError::Invalid { field: "header", .. })), "{refused:?}");

    // Bob adds Carol back: epoch 3. Bob leaves: epoch 4, and he sees it no more.
    assert_eq!(office.messaging.add_member(&bob, &launch.id, &carol.user_id).await.unwrap().epoch, 3);
    let left = office.messaging.remove_member(&bob, &launch.id, &bob.user_id).await.unwrap();
    assert_eq!((left.epoch, left.members.contains(&bob.user_id)), (4, false));
    assert!(office.messaging.conversations(&bob).await.unwrap().is_empty());

    // The last one out deletes it.
    office.messaging.remove_member(&carol, &launch.id, &carol.user_id).await.unwrap();
    office.messaging.remove_member(&alice, &launch.id, &alice.user_id).await.unwrap();
    assert!(store.shared().conversation(OrgId(&acme.org_id), &launch.id).await.unwrap().is_none());

    // One user is in a bounded number of conversations: making or being added to one more is refused.
    for i in 0..bureau_office::MAX_CONVERSATIONS_PER_USER {
        office.messaging.create_conversation(&alice, new(&format!("Room {i}"), vec![])).await.unwrap();
    }
    let one_more = office.messaging.create_conversation(&alice, new("One more", vec![])).await;
    assert!(matches!(one_more, Err(OfficeError::Invalid { field: "members", .. })), "{one_more:?}");
    let bobs = office.messaging.create_conversation(&bob, new("Bob's", vec![])).await.unwrap();
    let adding = office.messaging.add_member(&bob, &bobs.id, &alice.user_id).await;
    assert!(matches!(adding, Err(OfficeError::Invalid { field: "user_id", .. })), "{adding:?}");
}

#[tokio::test]
async fn a_waiting_message_changed_or_moved_in_the_database_is_left_out_and_the_rest_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, store, clock, acme, alice, laptop, pair } = alice_with_laptop(dir.path()).await;
    for _ in 0..3 {
        office.messaging.send(&alice, note_to_self(&alice, &laptop, &pair)).await.unwrap();
    }
    let org = OrgId(&acme.org_id);
    let shared = store.shared();
    let mut rows = shared.inbox(org, &laptop.id, 10).await.unwrap();
    assert_eq!(rows.len(), 3);
    // What a database thief with write access could do, through the store's own calls: one
    // message's sealed envelope gets a flipped byte, another gets the third one's envelope.
    let third = rows[2].1.envelope.clone();
    let ids: Vec<String> = rows.iter().take(2).map(|(q, _)| q.id.clone()).collect();
    shared.acknowledge(org, &laptop.id, &ids).await.unwrap();
    let last = rows[0].1.envelope.len() - 1;
    rows[0].1.envelope[last] ^= 1;
    rows[1].1.envelope = third;
    for (queued, body) in rows.iter().take(2) {
        shared.queue_message(body, std::slice::from_ref(queued)).await.unwrap();
    }
    let proof = |time: i64| inbox_proof(&laptop, &pair, time);
    let now = bureau_office::Clock::now_ms(clock.as_ref());
    let inbox = office.messaging.inbox(&alice, &proof(now), "GET", "/inbox").await.unwrap();
    assert_eq!(inbox.len(), 1, "only the untouched message arrives: {inbox:?}");
    assert_eq!(inbox[0].id, rows[2].0.id);
}

const MIB: usize = 1024 * 1024;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Random bytes where a browser's ciphertext of a file goes.
fn ciphertext(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

/// A guest of `admin`'s organisation, in through a link to a meeting room.
async fn guest_of(office: &bureau_office::Office, admin: &Actor) -> Actor {
    let room = bureau_office::NewRoom { name: "Client meeting".into(), kind: bureau_office::RoomKind::Meeting, capacity: None, large: false };
    let room = office.rooms.create_room(admin, room).await.unwrap();
    let link = bureau_office::NewGuestLink { expires_in_hours: None, max_guests: None, direct: true };
    let link = office.joining.create_guest_link(admin, &room.id, link).await.unwrap();
    let token = link.url.unwrap().split_once("#token=").unwrap().1.to_owned();
    let join = bureau_office::GuestJoin { token, name: "Grace Guest".into(), email: None };
    let (signed_in, _) = office.joining.join_as_guest(join, &client("10.0.0.9")).await.unwrap();
    office.accounts.authenticate(&signed_in.token).await.unwrap()
}

#[tokio::test]
async fn a_file_goes_up_in_chunks_and_down_to_its_organisation_only() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, clock, acme, alice, .. } = alice_with_laptop(dir.path()).await;
    let globex = org_with_admin(&office, "globex", "admin@globex.example").await;
    let now = bureau_office::Clock::now_ms(clock.as_ref());

    // 2.5 MiB: three chunks, back byte for byte to a colleague (and to Alice).
    let file = ciphertext(5 * MIB / 2);
    let uploaded = office.messaging.upload(&alice, file.clone()).await.unwrap();
    assert_eq!((uploaded.size, uploaded.expires_at), (file.len() as i64, now + 30 * DAY_MS), "kept as long as waiting messages");
    assert!(uploaded.id.len() >= 22 && uploaded.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "128 random bits, URL-safe: {}", uploaded.id);
    assert!(office.messaging.download(&acme, &uploaded.id).await.unwrap() == file, "a colleague gets the same bytes");
    assert!(office.messaging.download(&alice, &uploaded.id).await.unwrap() == file);
    // More chunks than the store reads at once: 8 MiB and one byte.
    let larger = ciphertext(8 * MIB + 1);
    let larger_id = office.messaging.upload(&alice, larger.clone()).await.unwrap().id;
    assert!(office.messaging.download(&acme, &larger_id).await.unwrap() == larger);

    // Another organisation finds nothing, not even its administrator; a guest of Alice's is
    // refused a file that exists and told an unknown one is not found; guests upload nothing.
    assert!(matches!(office.messaging.download(&globex, &uploaded.id).await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.messaging.delete_file(&globex, &uploaded.id).await, Err(OfficeError::NotFound(_))));
    let guest = guest_of(&office, &acme).await;
    assert!(matches!(office.messaging.download(&guest, &uploaded.id).await, Err(OfficeError::Forbidden)));
    assert!(matches!(office.messaging.download(&guest, "no-such-file").await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.messaging.upload(&guest, ciphertext(10)).await, Err(OfficeError::Forbidden)));
    assert!(matches!(office.messaging.upload_limit(&guest).await, Err(OfficeError::Forbidden)));
    // Nothing is not a file.
    let empty = office.messaging.upload(&alice, Vec::new()).await;
    assert!(matches!(empty, Err(OfficeError::Invalid { field: "body", .. })), "{empty:?}");

    // Only the uploader deletes it; then it is gone for everyone.
    assert!(matches!(office.messaging.delete_file(&acme, &uploaded.id).await, Err(OfficeError::NotFound(_))), "not even an administrator");
    office.messaging.delete_file(&alice, &uploaded.id).await.unwrap();
    assert!(matches!(office.messaging.download(&acme, &uploaded.id).await, Err(OfficeError::NotFound(_))));
    assert!(matches!(office.messaging.delete_file(&alice, &uploaded.id).await, Err(OfficeError::NotFound(_))));

    // Alice's export lists what is kept of hers: id, size and times, not the bytes.
    let export = serde_json::to_value(office.privacy.export(&alice).await.unwrap()).unwrap();
    let expected = serde_json::json!([{"id": larger_id, "size": larger.len(), "created_at": now, "expires_at": now + 30 * DAY_MS}]);
    assert_eq!(export["message_files"], expected);
    assert_eq!(serde_json::to_value(office.privacy.export(&acme).await.unwrap()).unwrap()["message_files"], serde_json::json!([]));
}

#[tokio::test]
async fn uploads_are_limited_in_size_per_hour_and_in_what_one_person_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, clock, acme, alice, .. } = alice_with_laptop(dir.path()).await;
    let patch = |json: &str| serde_json::from_str::<bureau_office::OrgSettingsPatch>(json).unwrap();

    // The organisation's limit: 25 MiB until an administrator chooses 1 to 100.
    assert_eq!(office.directory.org(&alice).await.unwrap().messages_max_file_mb, 25);
    assert_eq!(office.messaging.upload_limit(&alice).await.unwrap(), 25 * MIB);
    let by_member = office.directory.update_org(&alice, patch(r#"{"messages_max_file_mb": 1}"#)).await;
    assert!(matches!(by_member, Err(OfficeError::Forbidden)), "{by_member:?}");
    for mb in [0, 101] {
        let out_of_bounds = office.directory.update_org(&acme, patch(&format!(r#"{{"messages_max_file_mb": {mb}}}"#))).await;
        assert!(matches!(out_of_bounds, Err(OfficeError::Invalid { field: "messages_max_file_mb", .. })), "{out_of_bounds:?}");
    }
    let org = office.directory.update_org(&acme, patch(r#"{"messages_max_file_mb": 1}"#)).await.unwrap();
    assert_eq!((org.messages_max_file_mb, org.messages_retention_days, org.messages_store_and_forward), (1, 30, true), "the others stay");
    office.messaging.upload(&alice, ciphertext(MIB)).await.unwrap();
    let too_large = office.messaging.upload(&alice, ciphertext(MIB + 1)).await;
    assert!(matches!(&too_large, Err(e @ OfficeError::FileTooLarge { max_mb: 1 }) if e.to_string().contains("1 MiB")), "{too_large:?}");

    // 60 uploads an hour (the refused one above does not count); then wait.
    for _ in 1..bureau_office::UPLOADS_PER_HOUR {
        office.messaging.upload(&alice, ciphertext(100)).await.unwrap();
    }
    let limited = office.messaging.upload(&alice, ciphertext(100)).await;
    assert!(matches!(limited, Err(OfficeError::RateLimited(seconds)) if (3500..=3600).contains(&seconds)), "{limited:?}");
    assert!(matches!(office.messaging.upload_limit(&alice).await, Err(OfficeError::RateLimited(_))), "told before the body is read");
    assert!(matches!(office.messaging.upload(&acme, ciphertext(100)).await, Ok(_)), "others are not limited by Alice's uploads");
    clock.advance_ms(3600 * 1000 + 1);
    office.messaging.upload(&alice, ciphertext(100)).await.unwrap();

    // 200 files kept at once: the next is refused until one goes.
    let mut kept = bureau_office::UPLOADS_PER_HOUR + 1;
    let mut last = String::new();
    while kept < bureau_office::MAX_STORED_FILES as usize {
        if kept % bureau_office::UPLOADS_PER_HOUR == 1 {
            clock.advance_ms(3600 * 1000 + 1);
        }
        last = office.messaging.upload(&alice, ciphertext(10)).await.unwrap().id;
        kept += 1;
    }
    clock.advance_ms(3600 * 1000 + 1);
    let full = office.messaging.upload(&alice, ciphertext(10)).await;
    assert!(matches!(&full, Err(e @ OfficeError::QuotaExceeded(_)) if e.to_string().contains("200")), "{full:?}");
    office.messaging.delete_file(&alice, &last).await.unwrap();
    office.messaging.upload(&alice, ciphertext(10)).await.unwrap();
}

#[tokio::test]
async fn files_go_when_retention_ends_and_with_their_uploader_and_wait_for_nobody_peer_to_peer() {
    let dir = tempfile::tempdir().unwrap();
    let Alice { office, store, clock, acme, alice, .. } = alice_with_laptop(dir.path()).await;
    let patch = |json: &str| serde_json::from_str::<bureau_office::OrgSettingsPatch>(json).unwrap();
    office.directory.update_org(&acme, patch(r#"{"messages_retention_days": 2}"#)).await.unwrap();

    // Kept for the organisation's two days, then deleted by the retention job.
    let file = office.messaging.upload(&alice, ciphertext(3000)).await.unwrap();
    let now = bureau_office::Clock::now_ms(clock.as_ref());
    assert_eq!(file.expires_at, now + 2 * DAY_MS);
    clock.advance_ms(2 * DAY_MS - 1);
    assert_eq!(office.privacy.enforce_retention().await.unwrap().message_files, 0);
    assert_eq!(office.messaging.download(&acme, &file.id).await.unwrap().len(), 3000);
    clock.advance_ms(2);
    assert!(matches!(office.messaging.download(&acme, &file.id).await, Err(OfficeError::NotFound(_))), "expired is gone");
    assert_eq!(office.privacy.enforce_retention().await.unwrap().message_files, 1);
    assert!(store.shared().message_file(OrgId(&acme.org_id), &file.id).await.unwrap().is_none());
    assert!(store.shared().message_file_data(OrgId(&acme.org_id), &file.id).await.unwrap().is_none(), "its bytes too");

    // Strict peer to peer: nothing new is uploaded; what was uploaded before stays until it expires.
    let before = office.messaging.upload(&alice, ciphertext(3000)).await.unwrap();
    office.directory.update_org(&acme, patch(r#"{"messages_store_and_forward": false}"#)).await.unwrap();
    assert!(matches!(office.messaging.upload(&alice, ciphertext(3000)).await, Err(OfficeError::PeerToPeerOnly)));
    assert!(matches!(office.messaging.upload_limit(&alice).await, Err(OfficeError::PeerToPeerOnly)));
    assert_eq!(office.messaging.download(&acme, &before.id).await.unwrap().len(), 3000);

    // Erasing Alice deletes her uploads with their bytes.
    let erase = bureau_office::EraseRequest { password: "member password 1".into(), code: None, recovery_code: None };
    office.privacy.erase_me(&alice, erase).await.unwrap();
    assert!(store.shared().message_file_data(OrgId(&acme.org_id), &before.id).await.unwrap().is_none());
    assert!(store.shared().message_files_of(OrgId(&acme.org_id), &alice.user_id).await.unwrap().is_empty());
}
