//! `bureau admin migrate-to-postgres` through the real binary: users made on SQLite sign in on
//! PostgreSQL afterwards, served by a node whose data folder holds only the master key. Ignored
//! without PostgreSQL; scripts/test runs it with `--include-ignored` and BUREAU_TEST_DATABASE_URL.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{bureau, serve, sign_in, stop};


fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn create_user(data: &Path, name: &str, email: &str, password: &str) {
    let output = run(bureau().args(["admin", "create-user", "--name", name, "--email", email, "--data-dir"]).arg(data), &format!("{password}\n"));
    assert!(output.status.success(), "{}", text(&output.stderr));
}

fn migrate(data: &Path, url: &str) -> Output {
    run(bureau().args(["admin", "migrate-to-postgres", "--from"]).arg(data).args(["--to", url]), "")
}

#[test]
#[ignore = "PostgreSQL only: scripts/test runs it with --include-ignored and BUREAU_TEST_DATABASE_URL"]
fn a_sqlite_deployment_moves_to_postgres_and_serves_the_same_users() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = runtime.block_on(bureau_store::postgres_test_database_url());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_user(&data, "Ada Lovelace", "ada@example.org", "ada password 1");
    create_user(&data, "Grace Hopper", "grace@example.org", "grace password 1");

    let output = migrate(&data, &url);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("copied users: 2 rows") && stdout.contains("copied orgs: 1 rows"), "{stdout}");
    assert!(stdout.contains("2 users read and decrypted alike"), "{stdout}");
    assert!(stdout.contains("master.key"), "{stdout}");

    // A second run finds the target in use and changes nothing.
    let again = migrate(&data, &url);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("not empty"), "{}", text(&again.stderr));

    // Another node: a data folder holding only the master key, the database in PostgreSQL.
    let node = dir.path().join("node");
    std::fs::create_dir_all(&node).unwrap();
    std::fs::copy(data.join("master.key"), node.join("master.key")).unwrap();
    let (child, addr) = serve(&node, Some(&url));
    assert_eq!(sign_in(&addr, "grace@example.org", "grace password 1"), 200);
    assert_eq!(sign_in(&addr, "ada@example.org", "ada password 1"), 200);
    assert_eq!(sign_in(&addr, "ada@example.org", "wrong password"), 401);
    stop(child);
    assert!(!node.join("bureau.db").exists(), "the node used PostgreSQL, not a SQLite file");

    // Whole-database backups are SQLite's: on PostgreSQL the command points to pg_dump.
    let backup = run(bureau().args(["admin", "backup", "--data-dir"]).arg(&node).args(["--out"]).arg(dir.path().join("b")).env("BUREAU_DATABASE_URL", &url), "");
    assert_eq!(backup.status.code(), Some(1));
    assert!(text(&backup.stderr).contains("pg_dump"), "{}", text(&backup.stderr));
}
