//! Reading users' outside calendars over HTTP(S) ([`bureau_office::CalendarReader`]), and the
//! job that reads every connected calendar of the organisations homed on this node.
//!
//! The address comes from a user, so the reader guards against server-side request forgery:
//! every address a host name resolves to (and every IP address written in a URL, a redirect's
//! too) must be globally routable — loopback, private, link-local and the other special ranges
//! are refused like the TURN server's peers, unless `calendar.allow_networks` names them. The
//! connection then goes to the checked address (no second lookup). A reading takes at most 10
//! seconds and 5 MiB, follows at most 3 redirects, and its errors are sentences that name
//! neither the address nor the credentials.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bureau_office::{CalendarKind, CalendarReader, CalendarSource, Office, ReadError};
use bureau_stun::policy::{Cidr, PeerPolicy};
use futures_util::StreamExt;

/// The most bytes one reading may take.
const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The longest one reading may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed at most.
const MAX_REDIRECTS: usize = 3;
/// Calendars read at once by the job.
const PARALLEL: usize = 4;
/// Calendars of one organisation read per round of the job.
const PER_ROUND: u32 = 200;

/// Which addresses calendars may be read from.
#[derive(Clone, Debug, Default)]
struct Addresses(PeerPolicy);

impl Addresses {
    fn allowed(&self, ip: IpAddr) -> bool {
        self.0.is_allowed(ip)
    }
}

/// Resolves host names to the allowed addresses only.
struct CheckedResolver(Addresses);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addresses = self.0.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| addresses.allowed(a.ip())).collect();
            if allowed.is_empty() && !found.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// What the user reads when an address points into a network the reader refuses.
const PRIVATE_NETWORK: &str = "the calendar address points into a private network, which Bureau does not reach (an administrator can allow it with calendar.allow_networks)";

/// A host that resolves only to refused addresses.
#[derive(Debug, thiserror::Error)]
#[error("the address points into a private network")]
struct Refused;

/// Reads calendars over HTTP(S) with the guards above.
pub struct HttpCalendarReader {
    http: reqwest::Client,
    addresses: Addresses,
}

impl HttpCalendarReader {
    /// A reader that may reach the public internet and the networks in `allow`.
    pub fn new(allow: Vec<Cidr>) -> Result<Self, String> {
        let addresses = Addresses(PeerPolicy { allow_loopback: false, allow });
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let checked = addresses.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(ReadError("the calendar address redirects too often".into()))
            } else if !literal_allowed(&checked, attempt.url()) {
                attempt.error(Refused)
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(redirects)
            .dns_resolver(Arc::new(CheckedResolver(addresses.clone())))
            .user_agent(concat!("Bureau/", env!("CARGO_PKG_VERSION"), " (calendar free/busy)"))
            .build()
            .map_err(|e| format!("HTTP client setup failed: {e}"))?;
        Ok(HttpCalendarReader { http, addresses })
    }
}

/// Whether a URL's host, when it is an IP address, is allowed (names go through the resolver).
fn literal_allowed(addresses: &Addresses, url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => addresses.allowed(ip),
        Err(_) => true,
    }
}

/// The sentence for a failed request: never the URL, which may hold a secret token.
fn failure(err: &reqwest::Error) -> ReadError {
    let refused = std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source()).any(|e| e.is::<Refused>());
    let text = if refused {
        PRIVATE_NETWORK
    } else if err.is_timeout() {
        "the calendar server did not answer within 10 seconds"
    } else if err.is_redirect() {
        "the calendar address redirects too often"
    } else if err.is_connect() {
        "the calendar server could not be reached"
    } else {
        "the calendar server could not be read"
    };
    ReadError(text.into())
}

#[async_trait]
impl CalendarReader for HttpCalendarReader {
    async fn read(&self, source: &CalendarSource, from: i64, to: i64) -> Result<String, ReadError> {
        let url = reqwest::Url::parse(&source.url).map_err(|_| ReadError("the calendar address is not a valid address".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ReadError("the calendar address must start with http:// or https://".into()));
        }
        if !literal_allowed(&self.addresses, &url) {
            return Err(ReadError(PRIVATE_NETWORK.into()));
        }
        let request = match source.kind {
            // RFC 4791 7.10: the server answers free/busy time only, never an event's details.
            CalendarKind::Caldav => {
                let body = bureau_office::free_busy_query(from, to);
                let report = reqwest::Method::from_bytes(b"REPORT").map_err(|_| ReadError("internal error".into()))?;
                self.http.request(report, url).header("Depth", "1").header("Content-Type", "application/xml; charset=utf-8").body(body)
            }
            CalendarKind::Ics => self.http.get(url).header("Accept", "text/calendar"),
        };
        let request = match &source.username {
            Some(user) => request.basic_auth(user, source.password.as_deref()),
            None => request,
        };
        let mut response = request.send().await.map_err(|e| failure(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ReadError(match status.as_u16() {
                401 | 403 => "the calendar server refused the user name or password".into(),
                404 | 410 => "the calendar server has no calendar at this address".into(),
                code => format!("the calendar server answered with HTTP status {code}"),
            }));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failure(&e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(ReadError("the calendar is larger than 5 MiB".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// Reads, every `interval`, the connected calendars of the organisations `homed()` names that
/// were not read for `interval`, a few at once, for as long as the process runs.
pub async fn sync_job(office: Arc<Office>, interval: Duration, homed: impl Fn() -> Vec<String> + Send + 'static) {
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    // A round every tenth of the interval spreads the readings over it.
    let mut tick = tokio::time::interval((interval / 10).max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for org in homed() {
            let due = match office.working_day.calendars_due(&org, interval_ms, PER_ROUND).await {
                Ok(due) => due,
                Err(err) => {
                    tracing::warn!("could not list the calendars to read: {err}");
                    continue;
                }
            };
            let office = &office;
            let org = &org;
            futures_util::stream::iter(due)
                .for_each_concurrent(PARALLEL, |user_id| async move {
                    if let Err(err) = office.working_day.sync_calendar(org, &user_id).await {
                        tracing::warn!("could not read a calendar: {err}");
                    }
                })
                .await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let strict = Addresses::default();
        for ip in ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1"] {
            assert!(!strict.allowed(ip.parse().unwrap()), "{ip}");
        }
        assert!(strict.allowed("93.184.215.14".parse().unwrap()));
        let local = Addresses(PeerPolicy { allow_loopback: false, allow: vec!["127.0.0.1/32".parse().unwrap()] });
        assert!(local.allowed("127.0.0.1".parse().unwrap()));
        assert!(!local.allowed("127.0.0.2".parse().unwrap()));
        assert!(!literal_allowed(&strict, &"http://169.254.169.254/latest/meta-data".parse().unwrap()));
        assert!(!literal_allowed(&strict, &"http://[::1]:5232/".parse().unwrap()));
        assert!(literal_allowed(&strict, &"https://calendar.example.org/a.ics".parse().unwrap()));
    }
}
