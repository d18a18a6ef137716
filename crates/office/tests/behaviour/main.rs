//! Behaviour tests of the domain services against a real database and a fake clock: a SQLite
//! file, or PostgreSQL when BUREAU_TEST_DATABASE_URL is set (a fresh schema per test folder).

mod attendance;
mod changes;
mod encryption_at_rest;
mod fuzz_corpus;
mod isolation;
mod media_server;
mod messaging;
mod privacy;
mod sign_in;
mod two_factor;

use std::path::Path;
use std::sync::Arc;

use bureau_office::{Actor, Client, FakeClock, NewUser, Office, Policy, Role};
use bureau_store::Backend;
use bureau_store::vault::{Key, MasterKey};

/// The database of the test folder `dir`: its SQLite file, or with BUREAU_TEST_DATABASE_URL a
/// PostgreSQL schema made for this folder on first use (its URL kept in the folder, so opening
/// the folder again opens the same database).
pub async fn backend_in(dir: &Path) -> Backend {
    let remembered = dir.join("database_url");
    let url = match std::fs::read_to_string(&remembered) {
        Ok(url) => Some(url),
        Err(_) => {
            let url = bureau_store::test_database_url().await.unwrap();
            if let Some(url) = &url {
                std::fs::write(&remembered, url).unwrap();
            }
            url
        }
    };
    Backend::open(url.as_deref(), &dir.join("bureau.db")).await.unwrap()
}

/// Everything someone who copies the database gets: the SQLite file and its write-ahead log, or
/// every text and bytea value of every PostgreSQL table.
pub async fn raw_database(dir: &Path, store: &Backend) -> Vec<u8> {
    match store {
        Backend::Sqlite(_) => ["bureau.db", "bureau.db-wal"].iter().filter_map(|name| std::fs::read(dir.join(name)).ok()).flatten().collect(),
        Backend::Postgres(pg) => pg.raw_values().await.unwrap(),
    }
}

/// An office over a fresh database in `dir`.
pub async fn office_in(dir: &Path, master: &Key) -> (Office, Backend, Arc<FakeClock>) {
    let store = backend_in(dir).await;
    let clock = Arc::new(FakeClock::at(1_800_000_000_000));
    let office = Office::open(store.shared(), MasterKey::new(master.clone()), clock.clone(), Policy::default())
        .await
        .unwrap();
    (office, store, clock)
}

/// A client as the server would describe it.
pub fn client(ip: &str) -> Client {
    Client { ip: ip.into(), user_agent: Some("Mozilla/5.0 Firefox/128.0".into()), device: None }
}

/// Creates an organisation with an admin and returns the admin as an actor.
pub async fn org_with_admin(office: &Office, slug: &str, email: &str) -> Actor {
    office.accounts.create_org(slug, slug, bureau_office::ProfileMode::Extended).await.unwrap();
    let user = NewUser {
        name: format!("Admin of {slug}"),
        email: email.into(),
        role: Role::Admin,
        rights: vec![],
        password: Some("correct horse battery".into()),
        must_change_password: None,
    };
    office.accounts.create_user_in(Some(slug), user).await.unwrap();
    let signed_in = office.accounts.login(email, "correct horse battery", &client("10.0.0.1")).await.unwrap();
    office.accounts.authenticate(&signed_in.token).await.unwrap()
}

/// A member to create.
pub fn member(name: &str, email: &str) -> NewUser {
    NewUser { name: name.into(), email: email.into(), role: Role::Member, rights: vec![], password: Some("member password 1".into()), must_change_password: Some(false) }
}
