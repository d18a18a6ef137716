//! The `[sms]` section: which provider carries second-factor codes by text message.

use super::{ConfigError, Layers, Source, invalid};

/// The SMS provider (`[sms]`).
#[derive(Clone, PartialEq, Eq)]
pub enum SmsSettings {
    /// Development: log that a message was sent (the text only at debug level, never the number).
    Log,
    /// Twilio's Messages API.
    Twilio(TwilioSettings),
}

/// Twilio account and sender (`sms.twilio_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    /// The Account SID (`AC...`).
    pub account_sid: String,
    /// The auth token.
    pub auth_token: String,
    /// The sender: a phone number in E.164 form, or a Messaging Service SID (`MG...`).
    pub from: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
}

impl std::fmt::Debug for SmsSettings {
    // The auth token stays out of debug output (and so out of logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmsSettings::Log => f.write_str("Log"),
            SmsSettings::Twilio(t) => f
                .debug_struct("Twilio")
                .field("account_sid", &t.account_sid)
                .field("from", &t.from)
                .field("base_url", &t.base_url)
                .finish_non_exhaustive(),
        }
    }
}

impl Layers {
    pub(super) fn sms(&self) -> Result<SmsSettings, ConfigError> {
        let (provider, source) = self.required_string("sms.provider")?;
        match provider.as_str() {
            "log" => Ok(SmsSettings::Log),
            "twilio" => {
                let needed = |key: &str| -> Result<String, ConfigError> {
                    match self.string(key)? {
                        Some((value, _)) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
                        found => {
                            let origin = found.map_or(source.clone(), |(_, s)| s);
                            Err(invalid(key, origin, "required when sms.provider = \"twilio\""))
                        }
                    }
                };
                let (base_url, url_source) = self.required_string("sms.twilio_base_url")?;
                if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
                    return Err(invalid("sms.twilio_base_url", url_source, "must start with https:// or http://"));
                }
                let account_sid = needed("sms.twilio_account_sid")?;
                if !account_sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                    let origin = self.raw("sms.twilio_account_sid").map_or(Source::Default, |(_, s)| s);
                    return Err(invalid("sms.twilio_account_sid", origin, "expected letters and digits only (AC...)"));
                }
                Ok(SmsSettings::Twilio(TwilioSettings {
                    account_sid,
                    auth_token: needed("sms.twilio_auth_token")?,
                    from: needed("sms.twilio_from")?,
                    base_url: base_url.trim_end_matches('/').to_owned(),
                }))
            }
            other => Err(invalid("sms.provider", source, &format!("`{other}` is not \"log\" or \"twilio\""))),
        }
    }
}
