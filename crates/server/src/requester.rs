//! Who sent a request and which address they opened: the client's IP address (for the access
//! log, registrations and the rate limits) and the host they asked for (for the same-origin
//! checks). Both come from the connection itself, and from `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`/`X-Forwarded-Host` only when the connection comes from one of the
//! configured `trusted_proxies`: anyone else could write those headers.
//!
//! The host a client asked for is the `Host` header over HTTP/1.1 and the `:authority`
//! pseudo-header over HTTP/2, which hyper puts in the request's URI (browsers send no `Host`
//! header over HTTP/2).

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::{AppState, ConnInfo};

/// The client of one request, as far as this server can tell. Added to every request's
/// extensions by [`identify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requester {
    /// The client's address: the peer's, or the one a trusted proxy forwarded.
    pub ip: IpAddr,
    /// The `host[:port]` the client opened, lower-cased; `None` when the request names none.
    pub authority: Option<String>,
    /// Whether the client used HTTPS: this connection's TLS, or a trusted proxy's.
    pub secure: bool,
}

impl Requester {
    /// Reads the requester from a request that arrived on `conn`.
    pub fn of(conn: &ConnInfo, uri: &Uri, headers: &HeaderMap, trusted: &[ProxyRange]) -> Requester {
        let own_authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned));
        let mut requester = Requester { ip: conn.peer.ip(), authority: own_authority.map(|a| a.to_ascii_lowercase()), secure: conn.tls };
        if !is_trusted(conn.peer.ip(), trusted) {
            return requester;
        }
        let forwarded = Forwarded::parse(headers);
        // The chain of addresses, nearest proxy last: the client is the last one that is not a
        // trusted proxy itself (anything left of it may be forged by the client).
        if let Some(ip) = forwarded.chain.iter().rev().find(|ip| !is_trusted(**ip, trusted)).or(forwarded.chain.first()) {
            requester.ip = *ip;
        }
        if let Some(host) = forwarded.host {
            requester.authority = Some(host.to_ascii_lowercase());
        }
        if let Some(proto) = forwarded.proto {
            requester.secure = proto.eq_ignore_ascii_case("https");
        }
        requester
    }

    /// Whether a browser's `Origin` header names this server: the address the client opened
    /// (any scheme, as before proxies and HTTP/2 were considered), or `public_url`.
    pub fn same_origin(&self, origin: &str, public_url: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        if origin.eq_ignore_ascii_case(public_origin(public_url)) {
            return true;
        }
        let origin_authority = origin.split_once("://").map(|(_, rest)| rest);
        matches!((origin_authority, &self.authority), (Some(o), Some(a)) if o.eq_ignore_ascii_case(a))
    }
}

/// `scheme://host[:port]` of a URL (what browsers send as `Origin`).
fn public_origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(path) => &url[..after_scheme + path],
        None => url,
    }
}

/// Middleware: works out the [`Requester`] of every request once and adds it as an extension.
pub async fn identify(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    if let Some(conn) = request.extensions().get::<ConnInfo>().copied() {
        let requester = Requester::of(&conn, request.uri(), request.headers(), &state.config.trusted_proxies);
        request.extensions_mut().insert(requester);
    }
    next.run(request).await
}

/// What the forwarding headers say, before deciding whom to believe.
#[derive(Default)]
struct Forwarded {
    /// Client addresses, the original client first, each proxy appending the one it saw.
    chain: Vec<IpAddr>,
    /// The host the client asked the first proxy for.
    host: Option<String>,
    /// The scheme the client used with the first proxy.
    proto: Option<String>,
}

impl Forwarded {
    /// `Forwarded` when present (the standard), else the `X-Forwarded-*` pair.
    fn parse(headers: &HeaderMap) -> Forwarded {
        let values = |name: &str| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
        let standard = values("forwarded");
        if !standard.is_empty() {
            let mut forwarded = Forwarded::default();
            for element in standard {
                for pair in element.split(';') {
                    let Some((name, value)) = pair.trim().split_once('=') else { continue };
                    let value = value.trim_matches('"');
                    if name.eq_ignore_ascii_case("for") {
                        forwarded.chain.extend(node_ip(value));
                    } else if name.eq_ignore_ascii_case("host") && forwarded.host.is_none() && valid_host(value) {
                        forwarded.host = Some(value.to_owned());
                    } else if name.eq_ignore_ascii_case("proto") && forwarded.proto.is_none() {
                        forwarded.proto = Some(value.to_owned());
                    }
                }
            }
            return forwarded;
        }
        Forwarded {
            chain: values("x-forwarded-for").into_iter().filter_map(node_ip).collect(),
            host: values("x-forwarded-host").into_iter().next().filter(|h| valid_host(h)).map(str::to_owned),
            proto: values("x-forwarded-proto").into_iter().next().map(str::to_owned),
        }
    }
}

/// The address of a `for=` node (`192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`);
/// obfuscated and `unknown` nodes have none.
fn node_ip(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(value) {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| IpAddr::from_str(ip).ok());
    }
    value.rsplit_once(':').and_then(|(ip, _)| IpAddr::from_str(ip).ok())
}

/// A plausible `host[:port]`: what a proxy may tell us the client asked for.
fn valid_host(value: &str) -> bool {
    !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// Whether `ip` is one of the trusted proxies.
pub(crate) fn is_trusted(ip: IpAddr, trusted: &[ProxyRange]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|range| range.contains(ip))
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:192.0.2.1`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One entry of `trusted_proxies`: an address, or a range in CIDR notation (`10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyRange {
    network: IpAddr,
    prefix: u8,
}

impl ProxyRange {
    fn contains(&self, ip: IpAddr) -> bool {
        let (network, ip, width) = match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => (u128::from(u32::from(net)), u128::from(u32::from(ip)), 32),
            (IpAddr::V6(net), IpAddr::V6(ip)) => (u128::from(net), u128::from(ip), 128),
            _ => return false,
        };
        // Equal in the first `prefix` bits: nothing is left of the difference once the host
        // bits are shifted out (a shift by the whole width, prefix 0, matches everything).
        (network ^ ip).checked_shr(width - u32::from(self.prefix)).unwrap_or(0) == 0
    }
}

impl FromStr for ProxyRange {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().map_err(|_| ())?)),
            None => (text, None),
        };
        let network = canonical(IpAddr::from_str(address.trim()).map_err(|_| ())?);
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return Err(());
        }
        Ok(ProxyRange { network, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requester(peer: &str, uri: &str, headers: &[(&str, &str)], trusted: &[&str]) -> Requester {
        let conn = ConnInfo { peer: peer.parse().unwrap(), tls: false };
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        let trusted: Vec<ProxyRange> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        Requester::of(&conn, &uri.parse().unwrap(), &map, &trusted)
    }

    #[test]
    fn the_authority_is_the_host_header_or_the_http2_authority() {
        let http1 = requester("192.0.2.7:5000", "/api/users", &[("host", "Office.Example:8443")], &[]);
        assert_eq!(http1.authority.as_deref(), Some("office.example:8443"));
        let http2 = requester("192.0.2.7:5000", "https://127.0.0.1:8443/api/users", &[], &[]);
        assert_eq!(http2.authority.as_deref(), Some("127.0.0.1:8443"));
        assert!(http2.same_origin("https://127.0.0.1:8443", "https://elsewhere.example"));
        assert!(!http2.same_origin("https://evil.example", "https://elsewhere.example"));
        let neither = requester("192.0.2.7:5000", "/api/users", &[], &[]);
        assert!(!neither.same_origin("https://127.0.0.1:8443", "https://office.example"));
        assert!(neither.same_origin("https://office.example", "https://office.example/"));
        assert!(!neither.same_origin("null", "https://office.example"));
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let forged = [("x-forwarded-for", "203.0.113.9"), ("x-forwarded-host", "evil.example"), ("host", "office.example")];
        let direct = requester("192.0.2.7:5000", "/", &forged, &["10.0.0.0/8"]);
        assert_eq!((direct.ip.to_string(), direct.authority.as_deref()), ("192.0.2.7".into(), Some("office.example")));
        let proxied = requester("10.1.2.3:5000", "/", &forged, &["10.0.0.0/8"]);
        assert_eq!((proxied.ip.to_string(), proxied.authority.as_deref()), ("203.0.113.9".into(), Some("evil.example")));
        // A client's own X-Forwarded-For is kept left of what the proxy appends: not believed.
        let chained = requester("10.1.2.3:5000", "/", &[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.9.9.9")], &["10.0.0.0/8"]);
        assert_eq!(chained.ip.to_string(), "203.0.113.9");
        let standard = requester("[::ffff:10.1.2.3]:5000", "/", &[("forwarded", "for=\"[2001:db8::1]:4711\";host=office.example;proto=https")], &["10.1.2.3"]);
        assert_eq!((standard.ip.to_string(), standard.authority.as_deref(), standard.secure), ("2001:db8::1".into(), Some("office.example"), true));
        let forged_proto = requester("192.0.2.7:5000", "/", &[("x-forwarded-proto", "https")], &["10.0.0.0/8"]);
        assert!(!forged_proto.secure);
        let garbage = requester("10.1.2.3:5000", "/", &[("x-forwarded-for", "unknown, _hidden"), ("x-forwarded-host", "a b<c>")], &["10.0.0.0/8"]);
        assert_eq!((garbage.ip.to_string(), garbage.authority), ("10.1.2.3".into(), None));
    }

    #[test]
    fn proxy_ranges() {
        let range: ProxyRange = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains("10.255.0.1".parse().unwrap()) && !range.contains("11.0.0.1".parse().unwrap()));
        let all: ProxyRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()) && !all.contains("::1".parse().unwrap()));
        let one: ProxyRange = "fd00::1".parse().unwrap();
        assert!(one.contains("fd00::1".parse().unwrap()) && !one.contains("fd00::2".parse().unwrap()));
        let v6: ProxyRange = "fd00::/16".parse().unwrap();
        assert!(v6.contains("fd00:1::2".parse().unwrap()) && !v6.contains("fd01::2".parse().unwrap()));
        for bad in ["10.0.0.0/33", "fd00::/129", "proxy", "10.0.0.0/", "/8"] {
            assert!(bad.parse::<ProxyRange>().is_err(), "{bad}");
        }
    }
}
