//! What the binary's test files share: a running `bureau serve` and a sign-in over plain HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The binary under test.
pub fn bureau() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bureau"))
}

/// A running `bureau serve` on the data folder `data` (on PostgreSQL at `database_url` if
/// given) and its HTTP address, read from its first line of output.
pub fn serve(data: &Path, database_url: Option<&str>) -> (Child, String) {
    let mut command = bureau();
    command
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"])
        .env("BUREAU_TURN_LISTEN", "127.0.0.1:0")
        .env("BUREAU_SFU_LISTEN", "127.0.0.1:0");
    if let Some(url) = database_url {
        command.env("BUREAU_DATABASE_URL", url);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_else(|| panic!("{line:?}")).to_owned();
    (child, addr)
}

/// Stops a server with SIGTERM and checks it exits cleanly.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
}

/// The HTTP status of a sign-in.
pub fn sign_in(addr: &str, email: &str, password: &str) -> u16 {
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split_whitespace().nth(1).unwrap().parse().unwrap()
}
