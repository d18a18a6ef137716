//! Email delivery for the office's [`Mailer`]: SMTP through lettre (plain, STARTTLS or
//! implicit TLS, with credentials, as the URL says), or, with no mail server configured, `.eml`
//! files in the data folder's `outbox/` so that a zero-configuration start still works.

use std::path::PathBuf;

use async_trait::async_trait;
use bureau_office::{Mail, MailError, Mailer};
use lettre::message::{Mailbox, MultiPart};
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

/// Sends through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `smtp://` or `smtps://` URLs (credentials and `?tls=` as lettre reads them).
    pub fn new(url: &str, from: Mailbox) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("smtp_url: {e}"))?.build();
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build(&self.from, mail)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| MailError(e.to_string()))
    }
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
        let name = format!(
            "{}-{}.eml",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()),
            uuid::Uuid::new_v4()
        );
        let path = self.folder.join(name);
        let folder = self.folder.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            std::fs::create_dir_all(&folder)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(&path)?.write_all(&message.formatted())
        })
        .await
        .map_err(|e| MailError(e.to_string()))?
        .map_err(|e| MailError(format!("outbox: {e}")))
    }
}
