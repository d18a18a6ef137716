//! Mail over TLS against a real SMTP server that speaks it (Python aiosmtpd, `e2e/smtp_sink.py`,
//! with a throwaway certificate): STARTTLS and implicit TLS with SMTP AUTH deliver; a
//! certificate for another name, a certificate nobody vouches for and a wrong password do not,
//! and the action is told (502 `mail_failed`, the email kept for later).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::{Running, call};

/// The SMTP sink, killed on drop.
struct Sink {
    child: Child,
    port: u16,
    folder: tempfile::TempDir,
}

impl Sink {
    /// A sink speaking TLS (`starttls` or `implicit`) with `cert`/`key`, requiring AUTH as
    /// `bureau` / `s3cret`.
    fn start(mode: &str, cert: &Path, key: &Path) -> Sink {
        let extra = ["--tls", mode, "--cert", &cert.display().to_string(), "--key", &key.display().to_string(), "--user", "bureau", "--password", "s3cret"]
            .map(str::to_owned);
        let folder = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../e2e/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(folder.path())
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("smtp_sink.py said {line:?}")).parse().unwrap();
        Sink { child, port, folder }
    }

    fn delivered(&self) -> usize {
        std::fs::read_dir(self.folder.path()).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for `names`, written to `dir`: (certificate, key).
fn certificate(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    let generated = rcgen::generate_simple_self_signed(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    let (cert, key) = (dir.join(format!("{}.pem", names[0])), dir.join(format!("{}-key.pem", names[0])));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
    (cert, key)
}

/// Invites someone through a server that mails through `smtp_url` (trusting `ca` when given);
/// the status of the invitation request.
async fn invite_through(smtp_url: &str, ca: Option<&Path>) -> u16 {
    let mut env = vec![("BUREAU_SMTP_URL", smtp_url.to_owned())];
    if let Some(ca) = ca {
        env.push(("BUREAU_SMTP_CA_FILE", ca.display().to_string()));
    }
    let mut server = Running::start_with(&env).await;
    let admin = server.admin().await;
    let (status, body) = call(admin.post(server.url("/api/invitations")).json(&json!({"name": "Nora", "email": "nora@example.org"}))).await;
    server.stop().await;
    assert!(status == 201 || body["code"] == "mail_failed", "{status} {body}");
    status
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_auth_deliver_and_bad_certificates_or_passwords_do_not() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(certs.path(), &["127.0.0.1", "localhost"]);
    let (other_cert, other_key) = certificate(certs.path(), &["wrong.example"]);
    // STARTTLS, required by the server, then AUTH.
    let sink = Sink::start("starttls", &cert, &key);
    assert_eq!(invite_through(&format!("smtp://bureau:s3cret@127.0.0.1:{}?tls=required", sink.port), Some(&cert)).await, 201);
    assert_eq!(sink.delivered(), 1, "delivered over STARTTLS");
    // The same server with a wrong password: refused, and the action is told.
    assert_eq!(invite_through(&format!("smtp://bureau:wrong@127.0.0.1:{}?tls=required", sink.port), Some(&cert)).await, 502);
    // ...and without the certificate authority: the public roots do not vouch for it.
    assert_eq!(invite_through(&format!("smtp://bureau:s3cret@127.0.0.1:{}?tls=required", sink.port), None).await, 502);
    assert_eq!(sink.delivered(), 1, "nothing more delivered");
    drop(sink);

    // Implicit TLS (smtps), then AUTH.
    let sink = Sink::start("implicit", &cert, &key);
    assert_eq!(invite_through(&format!("smtps://bureau:s3cret@127.0.0.1:{}", sink.port), Some(&cert)).await, 201);
    assert_eq!(sink.delivered(), 1, "delivered over implicit TLS");
    drop(sink);

    // A certificate for another name, even from a trusted authority: refused.
    let sink = Sink::start("starttls", &other_cert, &other_key);
    assert_eq!(invite_through(&format!("smtp://bureau:s3cret@127.0.0.1:{}?tls=required", sink.port), Some(&other_cert)).await, 502);
    assert_eq!(sink.delivered(), 0, "nothing delivered to a server with a wrong certificate");
}

#[tokio::test]
async fn a_ca_file_without_a_tls_url_is_refused_at_start() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, _) = certificate(certs.path(), &["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let env = [("BUREAU_SMTP_URL", "smtp://127.0.0.1:2525".to_owned()), ("BUREAU_SMTP_CA_FILE", cert.display().to_string())];
    let Err(err) = Running::start_in(dir, &env).await else { panic!("a CA file for a plain SMTP URL must be refused") };
    assert!(err.to_string().contains("smtp_ca_file"), "{err}");
}
