//! The SMS providers behind [`bureau_office::SmsProvider`]: Twilio's Messages API, and a log
//! for development. Only the phone number and the message text (a code) leave the server.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bureau_office::{SmsError, SmsProvider};

use crate::config::{SmsSettings, TwilioSettings};

/// The provider the configuration names.
pub fn provider(settings: &SmsSettings) -> Result<Arc<dyn SmsProvider>, SmsError> {
    Ok(match settings {
        SmsSettings::Log => Arc::new(LogSms),
        SmsSettings::Twilio(twilio) => Arc::new(Twilio::new(twilio.clone())?),
    })
}

/// Development: logs that a message went out. The text (with its code) appears only at debug
/// level, for signing in on a machine without a phone; the number never does.
pub struct LogSms;

#[async_trait]
impl SmsProvider for LogSms {
    async fn send(&self, _phone: &str, text: &str) -> Result<(), SmsError> {
        tracing::info!("text message sent (sms.provider = \"log\": not delivered)");
        tracing::debug!("development text message: {text}");
        Ok(())
    }
}

/// Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded
/// `To`, `From` (or `MessagingServiceSid`) and `Body`, with HTTP basic authentication.
pub struct Twilio {
    settings: TwilioSettings,
    http: reqwest::Client,
}

impl Twilio {
    /// A client for the configured account; TLS with rustls (aws-lc-rs) and the Mozilla roots.
    pub fn new(settings: TwilioSettings) -> Result<Self, SmsError> {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| SmsError(format!("TLS setup failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SmsError(format!("HTTP client setup failed: {e}")))?;
        Ok(Twilio { settings, http })
    }
}

#[async_trait]
impl SmsProvider for Twilio {
    async fn send(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        let s = &self.settings;
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", s.base_url, s.account_sid);
        let sender = if s.from.starts_with("MG") { "MessagingServiceSid" } else { "From" };
        let form = [("To", phone), (sender, s.from.as_str()), ("Body", text)];
        let response = self
            .http
            .post(&url)
            .basic_auth(&s.account_sid, Some(&s.auth_token))
            .form(&form)
            .send()
            .await
            // The error may name the URL (the account SID) but never the number or the text.
            .map_err(|e| SmsError(format!("Twilio unreachable: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!("text message handed to Twilio");
            return Ok(());
        }
        // Twilio's error body has a numeric `code`; it is safe to log (no number, no text).
        let code = response.json::<serde_json::Value>().await.ok().and_then(|v| v.get("code").and_then(serde_json::Value::as_i64));
        Err(SmsError(format!("Twilio answered {status} (error code {code:?})")))
    }
}
