//! Behaviour tests of the domain services against a real SQLite file and a fake clock.

mod encryption_at_rest;
mod isolation;
mod privacy;
mod sign_in;
mod two_factor;

use std::path::Path;
use std::sync::Arc;

use bureau_office::{Actor, Client, FakeClock, NewUser, Office, Policy, Role};
use bureau_store::SqliteStore;
use bureau_store::vault::{Key, MasterKey};

/// An office over a fresh database file in `dir`.
pub async fn office_in(dir: &Path, master: &Key) -> (Office, SqliteStore, Arc<FakeClock>) {
    let store = SqliteStore::open(&dir.join("bureau.db")).await.unwrap();
    let clock = Arc::new(FakeClock::at(1_800_000_000_000));
    let office = Office::open(Arc::new(store.clone()), MasterKey::new(master.clone()), clock.clone(), Policy::default())
        .await
        .unwrap();
    (office, store, clock)
}

/// A client as the server would describe it.
pub fn client(ip: &str) -> Client {
    Client { ip: ip.into(), user_agent: Some("Mozilla/5.0 Firefox/128.0".into()) }
}

/// Creates an organisation with an admin and returns the admin as an actor.
pub async fn org_with_admin(office: &Office, slug: &str, email: &str) -> Actor {
    office.create_org(slug, slug, bureau_office::ProfileMode::Extended).await.unwrap();
    let user = NewUser {
        name: format!("Admin of {slug}"),
        email: email.into(),
        role: Role::Admin,
        rights: vec![],
        password: Some("correct horse battery".into()),
    };
    office.create_user_in(Some(slug), user).await.unwrap();
    let signed_in = office.login(email, "correct horse battery", &client("10.0.0.1")).await.unwrap();
    office.authenticate(&signed_in.token).await.unwrap()
}

/// A member to create.
pub fn member(name: &str, email: &str) -> NewUser {
    NewUser { name: name.into(), email: email.into(), role: Role::Member, rights: vec![], password: Some("member password 1".into()) }
}
