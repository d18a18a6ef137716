//! Access-log details: browser type and version from the User-Agent, and the IP address.
//! Stored sealed, because an IP address is personal data.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who is on the other end of a request, as far as the server can tell.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// The peer's IP address (after trusted-proxy handling in the server).
    pub ip: String,
    /// The raw User-Agent header, if any.
    pub user_agent: Option<String>,
    /// The device cookie the browser sent, if any (see [`crate::SignedIn::device`]).
    pub device: Option<String>,
}

/// One access-log entry as stored (sealed) and exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessDetails {
    /// What happened, e.g. `login`.
    pub event: String,
    /// The client's IP address.
    pub ip: String,
    /// Browser family, e.g. `Chrome`.
    pub browser: String,
    /// Browser version, e.g. `156.0.8078.73`.
    pub browser_version: String,
}

impl AccessDetails {
    /// The details of `event` for `client`.
    pub fn new(event: &str, client: &Client) -> Self {
        let (browser, browser_version) = browser(client.user_agent.as_deref().unwrap_or(""));
        AccessDetails { event: event.into(), ip: client.ip.clone(), browser: browser.into(), browser_version }
    }
}

/// The browser family and version named by a User-Agent string. Order matters: Edge and Opera
/// also claim to be Chrome, and Chrome also claims to be Safari.
pub fn browser(user_agent: &str) -> (&'static str, String) {
    const MARKERS: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Chrome Headless"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
        ("curl/", "curl"),
    ];
    for (marker, name) in MARKERS {
        if let Some(start) = user_agent.find(marker) {
            let version: String = user_agent[start + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .take(32)
                .collect();
            return (name, version);
        }
    }
    ("Unknown", String::new())
}

#[cfg(test)]
mod tests {
    use super::browser;

    #[test]
    fn recognises_common_browsers() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.8078.73 Safari/537.36", "Chrome", "156.0.8078.73"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0.2210.91", "Edge", "120.0.2210.91"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "128.0"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "Safari", "17.2"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Chrome Headless", "156.0.0.0"),
            ("curl/7.88.1", "curl", "7.88.1"),
            ("", "Unknown", ""),
        ];
        for (ua, name, version) in cases {
            assert_eq!(browser(ua), (name, version.to_string()), "{ua}");
        }
    }
}
