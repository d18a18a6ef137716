//! Text messages, through a provider the server supplies (Twilio, or a log for development).
//! The office decides what is sent; the provider only carries it. Only the phone number and
//! the message (which holds nothing but a code) leave the server.

use async_trait::async_trait;

/// Why a text message could not be sent. The message is for the operator's log; it never
/// contains the phone number or the text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SmsError(pub String);

/// Something that delivers text messages.
#[async_trait]
pub trait SmsProvider: Send + Sync + 'static {
    /// Sends `text` to `phone` (E.164, e.g. `+4915112345678`).
    async fn send(&self, phone: &str, text: &str) -> Result<(), SmsError>;
}

/// The provider of an office nobody gave one: every send fails.
pub struct NoSms;

#[async_trait]
impl SmsProvider for NoSms {
    async fn send(&self, _phone: &str, _text: &str) -> Result<(), SmsError> {
        Err(SmsError("no SMS provider is configured".into()))
    }
}

/// A normalised phone number in E.164 form: `+`, then 8 to 15 digits; spaces, dashes, dots and
/// brackets are dropped, a leading `00` becomes `+`.
pub fn normalise_phone(text: &str) -> Option<String> {
    let kept: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/')).collect();
    let digits = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00"))?;
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(normalise_phone("+49 151 1234-5678").as_deref(), Some("+4915112345678"));
        assert_eq!(normalise_phone("0049 (151) 12345678").as_deref(), Some("+4915112345678"));
        assert_eq!(normalise_phone("0151 12345678"), None, "needs a country code");
        assert_eq!(normalise_phone("+12"), None);
        assert_eq!(normalise_phone("+49 151 abc"), None);
    }
}
