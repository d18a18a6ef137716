//! Email delivery for the office's [`Mailer`]: SMTP through lettre (plain, STARTTLS or
//! implicit TLS, with credentials, as the URL says), or, with no mail server configured, `.eml`
//! files in the data folder's `outbox/` so that a zero-configuration start still works.

use std::path::PathBuf;

use async_trait::async_trait;
use bureau_office::{Mail, MailError, Mailer};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

fn build(from: &Mailbox, mail: Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|_| MailError("invalid recipient address".into()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject)
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| MailError(e.to_string()))
}

/// Parses the configured sender.
pub fn sender(from: &str) -> Result<Mailbox, String> {
    from.parse().map_err(|e| format!("mail_from `{from}`: {e}"))
}

/// The TLS mode of `url` (implicit for `smtps://`, STARTTLS for `?tls=required` or
/// `?tls=opportunistic`), trusting the certificate authority in the PEM file `ca` besides the
/// public roots.
fn tls_trusting(url: &str, ca: &std::path::Path) -> Result<Tls, String> {
    let pem = std::fs::read(ca).map_err(|e| format!("smtp_ca_file {}: {e}", ca.display()))?;
    let certificate = Certificate::from_pem(&pem).map_err(|e| format!("smtp_ca_file {}: {e}", ca.display()))?;
    let parameters = TlsParameters::builder(server_name(url)).add_root_certificate(certificate).build_rustls().map_err(|e| format!("smtp_ca_file: {e}"))?;
    if url.starts_with("smtps://") {
        Ok(Tls::Wrapper(parameters))
    } else if url.contains("tls=required") {
        Ok(Tls::Required(parameters))
    } else if url.contains("tls=opportunistic") {
        Ok(Tls::Opportunistic(parameters))
    } else {
        Err("smtp_ca_file needs an smtp_url with TLS: smtps://... or smtp://...?tls=required".into())
    }
}

/// Pauses between delivery attempts of one email.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];

/// Sends through an SMTP server. An email the server does not take after a few attempts is
/// kept in the `undelivered` folder (mode 0600) and sent again by [`SmtpMailer::redeliver`],
/// so a mail server that is down loses nothing; the action that sent it is told it failed.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    undelivered: PathBuf,
}

impl SmtpMailer {
    /// A mailer for `smtp://` or `smtps://` URLs (credentials and `?tls=` as lettre reads them).
    /// The server's certificate must chain to the public roots, or to `ca` (a PEM file: a
    /// company's own certificate authority) when given.
    pub fn new(url: &str, from: Mailbox, undelivered: PathBuf, ca: Option<&std::path::Path>) -> Result<Self, String> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("smtp_url: {e}"))?;
        if let Some(ca) = ca {
            builder = builder.tls(tls_trusting(url, ca)?);
        }
        Ok(SmtpMailer { transport: builder.build(), from, undelivered })
    }

    async fn attempt(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), String> {
        let mut result = self.transport.send_raw(envelope, raw).await.map(|_| ()).map_err(|e| e.to_string());
        for delay in RETRY_DELAYS {
            if result.is_ok() {
                break;
            }
            tokio::time::sleep(delay).await;
            result = self.transport.send_raw(envelope, raw).await.map(|_| ()).map_err(|e| e.to_string());
        }
        result
    }

    /// Sends the kept emails again; returns how many went out. Run periodically by the server.
    pub async fn redeliver(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.undelivered) else { return 0 };
        let mut sent = 0;
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")) {
            let to_path = path.with_extension("to");
            let (Ok(raw), Ok(to)) = (std::fs::read(&path), std::fs::read_to_string(&to_path)) else { continue };
            let Ok(to) = to.trim().parse::<Address>() else { continue };
            let Ok(envelope) = Envelope::new(Some(self.from.email.clone()), vec![to]) else { continue };
            if self.transport.send_raw(&envelope, &raw).await.is_ok() {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(&to_path);
                sent += 1;
            }
        }
        sent
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Address = mail.to.parse().map_err(|_| MailError("invalid recipient address".into()))?;
        let message = build(&self.from, mail)?;
        let envelope = message.envelope().clone();
        let raw = message.formatted();
        match self.attempt(&envelope, &raw).await {
            Ok(()) => Ok(()),
            Err(reason) => {
                let name = unique_name();
                write_private(&self.undelivered, &format!("{name}.eml"), &raw).map_err(|e| MailError(format!("undelivered: {e}")))?;
                write_private(&self.undelivered, &format!("{name}.to"), to.to_string().as_bytes())
                    .map_err(|e| MailError(format!("undelivered: {e}")))?;
                Err(MailError(format!("{reason} (kept; it will be sent again)")))
            }
        }
    }
}

fn unique_name() -> String {
    format!(
        "{}-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()),
        uuid::Uuid::new_v4()
    )
}

/// Writes a new file readable only by its owner, creating the folder when needed.
fn write_private(folder: &std::path::Path, name: &str, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(folder)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(folder.join(name))?.write_all(contents)
}

/// Writes each email as an `.eml` file (mode 0600) into a folder.
pub struct OutboxMailer {
    folder: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// An outbox in `folder` (created when needed).
    pub fn new(folder: PathBuf, from: Mailbox) -> Self {
        OutboxMailer { folder, from }
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build(&self.from, mail)?;
        let name = format!("{}.eml", unique_name());
        let folder = self.folder.clone();
        tokio::task::spawn_blocking(move || write_private(&folder, &name, &message.formatted()))
            .await
            .map_err(|e| MailError(e.to_string()))?
            .map_err(|e| MailError(format!("outbox: {e}")))
    }
}

/// The host of an SMTP URL, without credentials (named as a recipient of personal data).
pub fn relay_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    host.split(['/', '?']).next().unwrap_or(host).to_owned()
}

/// The name the mail server's certificate must carry: the URL's host without its port.
fn server_name(url: &str) -> String {
    let host = relay_host(url);
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed).to_owned();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_name_is_the_host_without_its_port() {
        assert_eq!(server_name("smtps://user:pw@mail.example.org:465"), "mail.example.org");
        assert_eq!(server_name("smtp://127.0.0.1:2525?tls=required"), "127.0.0.1");
        assert_eq!(server_name("smtp://[::1]:25"), "::1");
        assert_eq!(server_name("smtp://mail.example.org"), "mail.example.org");
    }

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A minimal SMTP server that accepts every message and keeps its data.
    async fn smtp_sink(listener: tokio::net::TcpListener) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                let _ = tx.send(data.take().unwrap_or_default());
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                body.push_str(&line);
                                body.push('\n');
                            }
                            continue;
                        }
                        let reply: &[u8] = match line.get(..4).unwrap_or("").to_ascii_uppercase().as_str() {
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        rx
    }

    fn mail() -> Mail {
        Mail { to: "nora@example.org".into(), subject: "Kept safe".into(), text: "Hello".into(), html: "<p>Hello</p>".into() }
    }

    #[tokio::test]
    async fn a_mail_server_that_is_down_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let undelivered = dir.path().join("undelivered");
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let from = sender("Bureau <bureau@example.org>").unwrap();
        let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), from, undelivered.clone(), None).unwrap();

        let err = mailer.send(mail()).await.unwrap_err();
        assert!(err.to_string().contains("kept"), "{err}");
        assert_eq!(std::fs::read_dir(&undelivered).unwrap().count(), 2, "the message and its recipient are kept");
        assert_eq!(mailer.redeliver().await, 0, "still down");

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let mut received = smtp_sink(listener).await;
        assert_eq!(mailer.redeliver().await, 1);
        let message = received.recv().await.unwrap();
        assert!(message.contains("Subject: Kept safe"), "{message}");
        assert_eq!(std::fs::read_dir(&undelivered).unwrap().count(), 0, "sent mails are removed");
        mailer.send(mail()).await.unwrap();
        assert!(received.recv().await.unwrap().contains("Kept safe"));
    }
}
