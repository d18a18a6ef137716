//! Sessions over HTTP: the cookie, the [`Session`] extractor, the CSRF guard and the JSON body
//! extractor that turns every malformed body into a clear [`ApiError`].

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use bureau_office::{Actor, Client};

use crate::error::ApiError;
use crate::AppState;
use crate::requester::Requester;

/// The session cookie's name.
pub const COOKIE: &str = "bureau_session";
/// The known-device cookie's name: sent only to the sign-in endpoints, kept for a year.
pub const DEVICE_COOKIE: &str = "bureau_device";

/// A JSON body; rejections become [`ApiError`]s with the `{"code","message"}` shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// The signed-in user of a request, with the session token it came with.
#[derive(Clone)]
pub struct Session {
    /// Who is acting.
    pub actor: Actor,
    /// An administrator chose the password: until the user chose theirs, the session serves
    /// only that (`routes::access`).
    pub must_change_password: bool,
    /// The raw token (to end the session on logout).
    pub token: String,
    /// When the session ends, Unix milliseconds.
    pub expires_at: i64,
}

/// The session token from the `Cookie` header of `headers`, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name` of `headers`, if any.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_owned())
}

impl FromRequestParts<Arc<AppState>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        // The access guard of the route signed the caller in already.
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        Session::from_headers(state, &parts.headers).await
    }
}

impl Session {
    /// Signs in the caller of a request with these headers by the session cookie.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
        let token = token_from_headers(headers).ok_or(ApiError::Office(bureau_office::OfficeError::Unauthenticated))?;
        let auth = state.office.accounts.authenticate_session(&token).await?;
        Ok(Session { actor: auth.actor, token, expires_at: auth.expires_at, must_change_password: auth.must_change_password })
    }
}

impl axum::extract::OptionalFromRequestParts<Arc<AppState>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Option<Self>, ApiError> {
        Ok(<Session as FromRequestParts<_>>::from_request_parts(parts, state).await.ok())
    }
}

/// The client's address and browser, for the access log.
pub fn client(parts_headers: &axum::http::HeaderMap, requester: &Requester) -> Client {
    Client {
        device: cookie_value(parts_headers, DEVICE_COOKIE).filter(|d| d.len() <= 128),
        ip: requester.ip.to_string(),
        user_agent: parts_headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect()),
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// The `Set-Cookie` value for a sign-in that just succeeded, lasting as long as its session.
pub fn cookie_for(signed_in: &bureau_office::SignedIn, now_ms: i64, secure: bool) -> String {
    let max_age = ((signed_in.expires_at - now_ms) / 1000).max(0);
    session_cookie(&signed_in.token, max_age, secure)
}

/// The `Set-Cookie` value that marks this browser as a known device of the signed-in user.
pub fn device_cookie(signed_in: &bureau_office::SignedIn, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{DEVICE_COOKIE}={}; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age=31536000{secure}", signed_in.device)
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// CSRF guard for state-changing requests: they must carry JSON, or raw bytes
/// (`application/octet-stream`, the files of messages), neither of which a cross-site HTML form
/// can send without a CORS preflight, and must not come from another origin. Together with
/// SameSite=Strict cookies this closes cross-site request forgery. (A JSON route still refuses
/// raw bytes: its extractor wants JSON.)
pub async fn csrf_guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Result<Response, ApiError> {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(request).await);
    }
    let headers = request.headers();
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Err(ApiError::CrossOrigin);
    }
    check_origin(&state, headers, request.extensions().get::<Requester>())?;
    let preflighted = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json") || m.trim().eq_ignore_ascii_case("application/octet-stream"))
    });
    if !preflighted {
        return Err(ApiError::NotJson);
    }
    Ok(next.run(request).await)
}

/// Refuses a request whose `Origin` (sent by browsers on every cross-origin request, every
/// non-GET request and every WebSocket handshake) is not this server: neither the address the
/// client opened nor `public_url`. A request without `Origin` is not a browser's cross-site one.
pub fn check_origin(state: &AppState, headers: &HeaderMap, requester: Option<&Requester>) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let same = origin.to_str().ok().zip(requester).is_some_and(|(origin, requester)| requester.same_origin(origin, &state.config.public_url));
    if same { Ok(()) } else { Err(ApiError::CrossOrigin) }
}
