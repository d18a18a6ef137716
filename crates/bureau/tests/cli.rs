//! The command-line contract operators and tests rely on, run against the real binary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn bureau() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bureau"))
}

#[test]
fn bad_configuration_exits_with_code_2_naming_key_and_source() {
    let output = bureau().args(["serve", "--listen", "not-an-address"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`listen`") && stderr.contains("--listen"), "{stderr}");

    let output = bureau().arg("serve").env("BUREAU_SESSION_TTL_HOURS", "forever").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("BUREAU_SESSION_TTL_HOURS"));
}

#[test]
fn config_example_is_printed_and_accepted() {
    let output = bureau().args(["config", "example"]).output().unwrap();
    assert!(output.status.success());
    let example = String::from_utf8(output.stdout).unwrap();
    assert!(example.contains("data_dir = \"./bureau-data\""));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bureau.toml");
    // Serve must accept the example; point it at free ports and a temp folder, then stop it.
    std::fs::write(&path, example).unwrap();
    let mut child = bureau()
        .args(["serve", "--config"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"])
        .env("BUREAU_TURN_LISTEN", "127.0.0.1:0")
        .env("BUREAU_SFU_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    assert!(first_line.starts_with("Bureau is running"), "{first_line}");
    let mut second_line = String::new();
    stdout.read_line(&mut second_line).unwrap();
    assert!(second_line.contains("/setup#token="), "{second_line}");
    stop(&mut child);
}

fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

fn create_user(data_dir: &std::path::Path, email: &str, password: &str, admin: bool) -> std::process::Output {
    let mut command = bureau();
    command.args(["admin", "create-user", "--data-dir"]).arg(data_dir).args(["--email", email, "--name", "Cli User"]);
    if admin {
        command.arg("--admin");
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_commands_create_users_and_rotate_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = create_user(&data, "cli@example.org", "cli password 1", true);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("created user "));

    let duplicate = create_user(&data, "CLI@example.org", "cli password 1", false);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let weak = create_user(&data, "weak@example.org", "short", false);
    assert!(!weak.status.success());

    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let output = bureau().args(["admin", "rotate-master-key", "--data-dir"]).arg(&data).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 organisation keys re-wrapped"));
    let new_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!data.join("master.key.next").exists());

    // Everything still opens with the new key.
    let output = create_user(&data, "second@example.org", "second password", false);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // With the old key back in place, Bureau refuses to start with a clear message.
    std::fs::write(data.join("master.key"), old_key).unwrap();
    let output = create_user(&data, "third@example.org", "third password", false);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("master key does not match"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_standalone_turn_node_serves_its_metrics_and_health() {
    let mut child = bureau()
        .args(["turn", "--listen", "127.0.0.1:0", "--auth-secret", "metrics-test", "--metrics-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("metrics ") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "bureau turn printed no metrics address");
    }
    let addr = line.trim().trim_start_matches("metrics http://").trim_end_matches("/metrics").to_owned();
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        answer
    };
    let metrics = get("/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("# TYPE bureau_turn_allocations gauge"), "{metrics}");
    assert!(get("/healthz").ends_with("ok"));
    stop(&mut child);
}
