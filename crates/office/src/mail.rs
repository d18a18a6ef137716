//! Outgoing email: the [`Mailer`] the server provides (SMTP, or an outbox folder), and the
//! messages Bureau sends, in plain text and HTML, in the organisation's language.

use std::sync::Mutex;

use async_trait::async_trait;

/// One email to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Why an email could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("email could not be sent: {0}")]
pub struct MailError(pub String);

/// Sends emails. Implemented by the server (SMTP through lettre, or `.eml` files in an outbox).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands one email over for delivery.
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}

/// Keeps every email in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryMailer(Mutex<Vec<Mail>>);

impl MemoryMailer {
    /// The emails sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.0.lock().map_err(|_| MailError("mailer poisoned".into()))?.push(mail);
        Ok(())
    }
}

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A mail from paragraphs of text and at most one call-to-action link, rendered both as plain
/// text and as simple, escaped HTML.
pub fn compose(to: &str, subject: &str, paragraphs: &[String], action: Option<(&str, &str)>, footer_links: &[(&str, String)]) -> Mail {
    let mut text = paragraphs.join("\n\n");
    let mut html = String::from("<!doctype html><html><body style=\"font-family: sans-serif; line-height: 1.5; color: #1f2937\">");
    for p in paragraphs {
        html.push_str(&format!("<p>{}</p>", html_escape(p).replace('\n', "<br>")));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("\n\n{label}: {url}"));
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"background:#2c5282;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{}</a></p>",
            html_escape(url),
            html_escape(label)
        ));
    }
    if !footer_links.is_empty() {
        text.push_str("\n\n--");
        html.push_str("<hr><p style=\"font-size: 0.9em\">");
        for (i, (label, url)) in footer_links.iter().enumerate() {
            text.push_str(&format!("\n{label}: {url}"));
            if i > 0 {
                html.push_str(" · ");
            }
            html.push_str(&format!("<a href=\"{}\">{}</a>", html_escape(url), html_escape(label)));
        }
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    Mail { to: to.into(), subject: subject.into(), text, html }
}

/// The languages Bureau writes emails in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English (the default).
    En,
    /// German.
    De,
}

impl Language {
    /// From the stored code; anything unknown is English.
    pub fn from_code(code: &str) -> Self {
        if code == "de" { Language::De } else { Language::En }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, de: &'a str) -> &'a str {
        match self {
            Language::En => en,
            Language::De => de,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_keeps_the_link() {
        let mail = compose(
            "a@b.de",
            "Hi",
            &["<script>alert(1)</script> & more".into()],
            Some(("Join", "https://x.example/register#token=a&b")),
            &[("Privacy", "https://x.example/privacy".into())],
        );
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.html.contains("token=a&amp;b"));
        assert!(mail.text.contains("Join: https://x.example/register#token=a&b"));
        assert!(mail.text.contains("Privacy: https://x.example/privacy"));
    }
}
