//! The same-origin guard as browsers meet it: over HTTP/1.1 (`Host`) and HTTP/2 (`:authority`,
//! no `Host`), on the plain and the HTTPS listener, with the request's own origin, another
//! origin and none; `public_url` as an accepted origin; forwarding headers believed only from
//! `trusted_proxies`.

use reqwest::{Client, Version};
use serde_json::{Value, json};

use crate::{Running, call};

const ADA: (&str, &str) = ("ada@example.org", "ada password 1");

/// A client for one protocol: plain HTTP/1.1, plain HTTP/2 (prior knowledge) or HTTPS with the
/// data folder's certificate trusted, HTTP/2 chosen by ALPN as browsers do.
fn client(server: &Running, version: Version, tls: bool) -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = Client::builder().cookie_store(true);
    if tls {
        builder = server.trusting(builder);
    }
    builder = if version == Version::HTTP_2 && !tls { builder.http2_prior_knowledge() } else if version == Version::HTTP_11 { builder.http1_only() } else { builder };
    builder.build().unwrap()
}

fn base(server: &Running, tls: bool) -> String {
    if tls { format!("https://{}", server.https) } else { server.base.clone() }
}

/// Signs in with `origin` (None: no Origin header); the status, the error code and the
/// protocol the answer came in.
async fn sign_in(client: &Client, base: &str, origin: Option<&str>, extra: &[(&str, &str)]) -> (u16, Option<String>, Version) {
    let mut request = client.post(format!("{base}/api/auth/login")).json(&json!({"email": ADA.0, "password": ADA.1}));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, version) = (response.status().as_u16(), response.version());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().map(str::to_owned), version)
}

#[tokio::test]
async fn same_origin_requests_pass_and_cross_origin_ones_fail_over_http1_and_http2() {
    let mut server = Running::start_with(&[("BUREAU_PUBLIC_URL", "https://office.example".into())]).await;
    server.admin().await;
    for tls in [false, true] {
        for version in [Version::HTTP_11, Version::HTTP_2] {
            let base = base(&server, tls);
            let own_origin = base.clone();
            let client = client(&server, version, tls);
            let label = format!("{version:?} tls={tls}");
            let (status, code, spoken) = sign_in(&client, &base, Some(&own_origin), &[]).await;
            assert_eq!((status, code, spoken), (200, None, version), "{label}: the page's own origin");
            let (status, code, _) = sign_in(&client, &base, Some("https://office.example"), &[]).await;
            assert_eq!((status, code), (200, None), "{label}: public_url");
            let (status, code, _) = sign_in(&client, &base, None, &[]).await;
            assert_eq!((status, code), (200, None), "{label}: no Origin (not a browser's cross-site request)");
            for evil in ["https://evil.example", "null", "https://office.example.evil.example", &format!("{own_origin}.evil.example")] {
                let (status, code, _) = sign_in(&client, &base, Some(evil), &[]).await;
                assert_eq!((status, code.as_deref()), (403, Some("cross_origin")), "{label}: Origin {evil}");
            }
            let (status, code, _) = sign_in(&client, &base, None, &[("sec-fetch-site", "cross-site")]).await;
            assert_eq!((status, code.as_deref()), (403, Some("cross_origin")), "{label}: Sec-Fetch-Site");
            // A forged X-Forwarded-Host is not believed without trusted_proxies.
            let (status, code, _) = sign_in(&client, &base, Some("https://evil.example"), &[("x-forwarded-host", "evil.example")]).await;
            assert_eq!((status, code.as_deref()), (403, Some("cross_origin")), "{label}: forged X-Forwarded-Host");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    for trusted in [false, true] {
        let mut env = vec![("BUREAU_PUBLIC_URL", "https://office.example".to_owned())];
        if trusted {
            env.push(("BUREAU_TRUSTED_PROXIES", "127.0.0.0/8, ::1".to_owned()));
        }
        let mut server = Running::start_with(&env).await;
        server.admin().await;
        let client = client(&server, Version::HTTP_11, false);
        let proxy_headers = [("x-forwarded-for", "203.0.113.9"), ("x-forwarded-host", "intranet.example:8443"), ("x-forwarded-proto", "https")];
        let (status, code, _) = sign_in(&client, &server.base, Some("https://intranet.example:8443"), &proxy_headers).await;
        if !trusted {
            assert_eq!((status, code.as_deref()), (403, Some("cross_origin")));
            let (status, _, _) = sign_in(&client, &server.base, None, &proxy_headers).await;
            assert_eq!(status, 200);
        } else {
            assert_eq!((status, code), (200, None), "the host the proxy forwarded is the page's origin");
        }
        let (_, log) = call(client.get(server.url("/api/me/access-log"))).await;
        let text = log.to_string();
        assert_eq!(text.contains("203.0.113.9"), trusted, "the forwarded client address is logged only from a trusted proxy: {text}");
        // Behind a trusted TLS-terminating proxy the cookie is Secure.
        let response = client.post(server.url("/api/auth/login")).headers(header_map(&proxy_headers)).json(&json!({"email": ADA.0, "password": ADA.1})).send().await.unwrap();
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert_eq!(cookie.contains("Secure"), trusted, "{cookie}");
        server.stop().await;
    }
}

fn header_map(headers: &[(&str, &str)]) -> reqwest::header::HeaderMap {
    headers.iter().map(|(n, v)| (reqwest::header::HeaderName::from_bytes(n.as_bytes()).unwrap(), v.parse().unwrap())).collect()
}
