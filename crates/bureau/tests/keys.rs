//! The customer holds the keys: organisation key file, offline decryption of an organisation
//! export, and encrypted backups — all through the real binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{bureau, serve, sign_in, stop};

const PASSPHRASE: &str = "correct horse battery staple";


/// Runs the binary with `stdin` as standard input.
fn run(args: &[&str], paths: &[(&str, &Path)], stdin: &str) -> Output {
    let mut command = bureau();
    command.args(args);
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) {
    assert!(output.status.success(), "{}", stderr(output));
}

fn failed_with(output: &Output, message: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(stderr(output).contains(message), "expected {message:?} in {:?}", stderr(output));
    assert!(!stderr(output).contains("panicked"), "{}", stderr(output));
}

fn create_user(data: &Path, name: &str, email: &str, password: &str) -> Output {
    run(&["admin", "create-user", "--name", name, "--email", email], &[("--data-dir", data)], &format!("{password}\n"))
}

fn export_key(data: &Path, out: &Path, passphrase: &str) -> Output {
    run(&["admin", "export-org-key"], &[("--data-dir", data), ("--out", out)], &format!("{passphrase}\n"))
}

fn decrypt(key: &Path, export: &Path, out: &Path, passphrase: &str) -> Output {
    run(&["admin", "decrypt-export"], &[("--key", key), ("--in", export), ("--out", out)], &format!("{passphrase}\n"))
}

fn restore(data: &Path, backup: &Path, force: bool) -> Output {
    let mut args = vec!["admin", "restore"];
    if force {
        args.push("--force");
    }
    run(&args, &[("--data-dir", data), ("--in", backup)], "")
}

/// The same JSON file with one character of a base64 field changed.
fn alter_field(path: &Path, field: &str) -> PathBuf {
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let text = json[field].as_str().unwrap().to_owned();
    let mut chars: Vec<char> = text.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    json[field] = serde_json::Value::String(chars.into_iter().collect());
    let altered = path.with_extension("altered");
    std::fs::write(&altered, serde_json::to_vec(&json).unwrap()).unwrap();
    altered
}

#[test]
fn an_organisation_export_opens_offline_with_the_key_file_and_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    succeeded(&create_user(&data, "Ada Lovelace", "ada@example.org", "ada password 1"));
    succeeded(&create_user(&data, "Grace Hopper", "grace@example.org", "grace password 1"));
    let key = dir.path().join("org.key");
    let export = dir.path().join("org.export");

    failed_with(&export_key(&data, &key, "eleven char"), "at least 12 characters");
    assert!(!key.exists());
    succeeded(&export_key(&data, &key, PASSPHRASE));
    failed_with(&export_key(&data, &key, PASSPHRASE), "refusing to overwrite");
    succeeded(&run(&["admin", "export-org"], &[("--data-dir", &data), ("--out", &export)], ""));
    #[cfg(unix)]
    for file in [&key, &export] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key_json: serde_json::Value = serde_json::from_slice(&std::fs::read(&key).unwrap()).unwrap();
    assert_eq!(key_json["format"], "bureau-org-key");
    assert_eq!(key_json["kdf"]["algorithm"], "argon2id");
    assert!(key_json["kdf"]["memory_kib"].as_u64().unwrap() >= 65536);
    let sealed = std::fs::read_to_string(&export).unwrap();
    // Long needles only: random base64 ciphertext contains short words like "Ada" by chance.
    assert!(sealed.contains("bureau-org-export"));
    for secret in ["ada@example.org", "Ada Lovelace", "grace@example.org", "Grace Hopper"] {
        assert!(!sealed.contains(secret), "{secret} in clear in the sealed export");
    }

    // Only the two files, in a fresh place; the data folder and its master key are gone.
    let offline = tempfile::tempdir().unwrap();
    let (key, export) = (offline.path().join("org.key"), offline.path().join("org.export"));
    std::fs::copy(dir.path().join("org.key"), &key).unwrap();
    std::fs::copy(dir.path().join("org.export"), &export).unwrap();
    drop(dir);

    let plain = offline.path().join("plain.json");
    failed_with(&decrypt(&key, &export, &plain, "wrong horse battery staple"), "wrong passphrase");
    assert!(!plain.exists());
    failed_with(&decrypt(&alter_field(&key, "ciphertext"), &export, &plain, PASSPHRASE), "wrong passphrase, or the file was altered");
    failed_with(&decrypt(&key, &alter_field(&export, "ciphertext"), &plain, PASSPHRASE), "does not open");
    failed_with(&decrypt(&key, &key, &plain, PASSPHRASE), "not a Bureau organisation export");
    assert!(!plain.exists());

    succeeded(&decrypt(&key, &export, &plain, PASSPHRASE));
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    assert_eq!(data["format"], "bureau-org-data");
    let users = data["tables"]["users"].as_array().unwrap();
    let profiles: Vec<(&str, &str)> =
        users.iter().map(|u| (u["profile"]["name"].as_str().unwrap(), u["profile"]["email"].as_str().unwrap())).collect();
    assert_eq!(profiles, [("Ada Lovelace", "ada@example.org"), ("Grace Hopper", "grace@example.org")]);
    assert_eq!(data["tables"]["orgs"][0]["slug"], "default");
    assert!(data["tables"]["access_log"].is_array() && data["tables"]["support_tickets"].is_array());
}

#[test]
fn a_backup_taken_while_serving_restores_into_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    succeeded(&create_user(&data, "Ada Lovelace", "ada@example.org", "ada password 1"));
    let backup = dir.path().join("bureau.backup");
    let (server, _) = serve(&data, None);
    succeeded(&run(&["admin", "backup"], &[("--data-dir", &data), ("--out", &backup)], ""));
    stop(server);
    failed_with(&run(&["admin", "backup"], &[("--data-dir", &data), ("--out", &backup)], ""), "refusing to overwrite");
    let bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.starts_with(b"BUREAUBK"));
    assert!(!bytes.windows(b"CREATE TABLE".len()).any(|w| w == b"CREATE TABLE"), "the backup is encrypted");
    assert!(!String::from_utf8_lossy(&bytes).contains(&std::fs::read_to_string(data.join("master.key")).unwrap().trim().to_owned()));
    let leftovers: Vec<_> = std::fs::read_dir(&data).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.contains(".backup-")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Without the master key, a restore says what to do.
    let fresh = dir.path().join("fresh");
    failed_with(&restore(&fresh, &backup, false), "no master key");
    std::fs::copy(data.join("master.key"), fresh.join("master.key")).unwrap();

    // Truncated (inside a chunk, at a chunk boundary) and altered backups are refused; nothing is left.
    let header = 32;
    for (name, cut) in [("inside", bytes.len() - 100), ("boundary", header + (64 * 1024 + 16)), ("header", header)] {
        let cut_file = dir.path().join(format!("cut-{name}"));
        std::fs::write(&cut_file, &bytes[..cut]).unwrap();
        let output = restore(&fresh, &cut_file, false);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(stderr(&output).contains("truncated") || stderr(&output).contains("cut short"), "{name}: {}", stderr(&output));
    }
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    let flipped_file = dir.path().join("flipped");
    std::fs::write(&flipped_file, flipped).unwrap();
    failed_with(&restore(&fresh, &flipped_file, false), "does not open");
    assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 1, "only master.key is left");

    succeeded(&restore(&fresh, &backup, false));
    failed_with(&restore(&fresh, &backup, false), "--force");
    succeeded(&restore(&fresh, &backup, true));

    // The users are there: the same email conflicts, and the password still signs in.
    failed_with(&create_user(&fresh, "Ada Again", "ada@example.org", "another password"), "already exists");
    let (server, addr) = serve(&fresh, None);
    assert_eq!(sign_in(&addr, "ada@example.org", "ada password 1"), 200);
    assert_eq!(sign_in(&addr, "ada@example.org", "wrong password 1"), 401);
    stop(server);

    // Another installation's master key neither opens the backup nor backs up this database.
    let other = dir.path().join("other");
    succeeded(&create_user(&other, "Someone", "someone@example.org", "someone password"));
    std::fs::remove_file(other.join("bureau.db")).unwrap();
    failed_with(&restore(&other, &backup, false), "another master key");
    std::fs::copy(other.join("master.key"), dir.path().join("other.key")).unwrap();
    std::fs::copy(dir.path().join("other.key"), fresh.join("master.key.other")).unwrap();
    std::fs::rename(fresh.join("master.key.other"), fresh.join("master.key")).unwrap();
    failed_with(&run(&["admin", "backup"], &[("--data-dir", &fresh), ("--out", &dir.path().join("b2"))], ""), "not made with this master key");
}
