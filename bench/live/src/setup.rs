//! `setup --data-dir D [--database-url postgres://…] [--orgs 100] [--users-per-org 1] [--big-org 1000] --out users.txt`
//!
//! Creates organisations `idle-N` with a few users each and one organisation `big` with many
//! users, directly through `bureau-office` on the data folder of a stopped server (the CLI
//! only creates users in an existing organisation). Writes `org email` lines. Every password is
//! [`PASSWORD`].

use std::path::Path;
use std::sync::Arc;

use bureau_office::{NewUser, Office, Policy, ProfileMode, Role, SystemClock};
use bureau_store::Backend;
use bureau_store::vault::{Key, MasterKey};
use tokio::sync::Semaphore;

use crate::args::Args;

/// The password of every bench user.
pub const PASSWORD: &str = "bench password 2026";

pub async fn run(args: &Args) -> Result<(), String> {
    let dir = args.str("data-dir");
    let orgs: usize = args.num("orgs", 100);
    let per_org: usize = args.num("users-per-org", 1);
    let big: usize = args.num("big-org", 1000);
    let out = args.str("out");
    let database_url = args.num("database-url", String::new());
    let office = Arc::new(open(Path::new(&dir), Some(database_url.as_str()).filter(|u| !u.is_empty())).await?);
    let mut plan = Vec::new();
    for o in 0..orgs {
        plan.push((format!("idle-{o}"), per_org));
    }
    if big > 0 {
        plan.push(("big".to_owned(), big));
    }
    let limit = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for (slug, count) in &plan {
        office.accounts.create_org(slug, slug, ProfileMode::Entry).await.map_err(|e| format!("create org {slug}: {e}"))?;
        for u in 0..*count {
            let (office, limit, slug) = (office.clone(), limit.clone(), slug.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire().await;
                let email = format!("user{u}@{slug}.bench.example");
                let user = NewUser {
                    name: format!("Bench User {u} of {slug}"),
                    email: email.clone(),
                    role: Role::Member,
                    rights: vec![],
                    password: Some(PASSWORD.to_owned()),
                };
                office.accounts.create_user_in(Some(&slug), user).await.map_err(|e| format!("create {email}: {e}"))?;
                Ok::<_, String>(format!("{slug} {email}\n"))
            }));
        }
    }
    let mut lines = String::new();
    for task in tasks {
        lines.push_str(&task.await.map_err(|e| e.to_string())??);
    }
    std::fs::write(&out, lines).map_err(|e| format!("{out}: {e}"))?;
    println!("setup: {} organisations, {} users", plan.len(), plan.iter().map(|p| p.1).sum::<usize>());
    Ok(())
}

/// Opens the data folder (and the PostgreSQL database, if given) the way `bureau` does,
/// creating the master key if there is none yet.
async fn open(dir: &Path, database_url: Option<&str>) -> Result<Office, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let key_path = dir.join("master.key");
    if !key_path.exists() {
        Key::generate().write_new_file(&key_path).map_err(|e| e.to_string())?;
    }
    let store = Backend::open(database_url, &dir.join("bureau.db")).await.map_err(|e| e.to_string())?;
    let key = Key::read_file(&key_path).map_err(|e| e.to_string())?;
    Office::open(store.shared(), MasterKey::new(key), Arc::new(SystemClock), Policy::default())
        .await
        .map_err(|e| e.to_string())
}
