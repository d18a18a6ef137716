//! The HTTP routes: the REST API under `/api`, operations endpoints and the web client.

mod absences;
mod access;
mod auth;
mod calendar;
mod joining;
mod conversations;
mod messaging;
pub(crate) mod message_files;
mod ops;
mod privacy;
mod rooms;
mod two_factor;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use utoipa::OpenApi;

pub use access::{Access, route_access};

use crate::error::ApiError;
use crate::requester::{self, Requester};
use crate::{AppState, session, web};

#[derive(OpenApi)]
#[openapi(
    info(title = "Bureau API", description = "The REST API of Bureau, the privacy-first virtual office. Errors are {\"code\",\"message\"} objects."),
    paths(
        auth::login, auth::logout, auth::setup_check, auth::setup,
        users::me, users::patch_me, users::change_password, users::set_password, users::access_log, users::org, users::patch_org,
        users::list, users::create, users::get, users::patch,
        users::put_picture, users::delete_picture, users::picture, users::export, users::erase_me, users::erase,
        joining::invite, joining::invitations, joining::resend, joining::revoke, joining::check, joining::register,
        joining::open_ticket, joining::tickets, joining::answer, joining::resolve, joining::guest_check, joining::guest_join,
        rooms::create_guest_link, rooms::guest_links, rooms::revoke_guest_link,
        privacy::settings, privacy::update_settings, privacy::file, privacy::list, privacy::close, privacy::audit, privacy::legal, privacy::set_legal, privacy::give_consent, privacy::consents, privacy::withdraw_consent,
        rooms::list, rooms::create, rooms::patch, rooms::delete, rooms::my_calls, rooms::report_transfer,
        two_factor::second_factor, two_factor::enrol_totp, two_factor::status, two_factor::start_totp,
        two_factor::confirm_totp, two_factor::start_sms, two_factor::confirm_sms, two_factor::disable,
        absences::list, absences::mine, absences::create, absences::delete, absences::attendance, absences::attendance_csv,
        absences::feed_status, absences::renew_feed, absences::remove_feed, absences::feed,
        calendar::mine, calendar::connect, calendar::disconnect, calendar::sync, calendar::settings, calendar::add_entry, calendar::remove_entry,
        messaging::register, messaging::mine, messaging::remove, messaging::of_user, messaging::send, messaging::inbox, messaging::acknowledge,
        conversations::create, conversations::of_room, conversations::mine, conversations::one, conversations::add, conversations::remove,
        message_files::upload, message_files::download, message_files::delete,
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The JSON Schema (2020-12) of the personal data export (`GET /api/me/export`), generated
/// from the same types as the export itself; published as `docs/export.schema.json`.
pub fn export_schema() -> serde_json::Value {
    use utoipa::{PartialSchema, ToSchema};
    let mut defs = Vec::new();
    <bureau_office::Export as ToSchema>::schemas(&mut defs);
    let mut schema = serde_json::to_value(<bureau_office::Export as PartialSchema>::schema()).unwrap_or_default();
    let defs: serde_json::Map<String, serde_json::Value> =
        defs.into_iter().map(|(name, def)| (name, serde_json::to_value(def).unwrap_or_default())).collect();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$schema".into(), "https://json-schema.org/draft/2020-12/schema".into());
        let version = bureau_office::EXPORT_VERSION;
        object.insert("$id".into(), format!("https://bureau.example/schemas/export-v{version}.json").into());
        object.insert("title".into(), format!("Bureau personal data export, version {version}").into());
        object.insert("$defs".into(), serde_json::Value::Object(defs));
    }
    let text = serde_json::to_string(&schema).unwrap_or_default().replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap_or_default()
}

/// Records an administrative read of personal data without making the reader wait for the
/// write (a listing must not pay for a database write per request); a failure is logged.
pub(crate) fn audit_read(state: &AppState, actor: &bureau_office::Actor, action: &'static str, target: Option<&str>) {
    let (office, actor, target) = (state.office.clone(), actor.clone(), target.map(str::to_owned));
    tokio::spawn(async move {
        if let Err(err) = office.privacy.audit(&actor, action, target.as_deref()).await {
            tracing::error!(action, "could not write the audit log: {err}");
        }
    });
}

/// [`audit_read`] of a listing an administrator makes on many page views (the directory): once
/// per session and action on this node, so the log says who looked without a line per page.
pub(crate) fn audit_read_once(state: &AppState, session: &crate::session::Session, action: &'static str) {
    use std::hash::{BuildHasher, Hash, Hasher};
    // The session is known by a keyed hash of its token: the raw token is not kept.
    let mut hasher = state.audited_reads.keys.build_hasher();
    (session.token.as_str(), action).hash(&mut hasher);
    let key = hasher.finish();
    let now = state.clock.now_ms();
    let first = {
        let Ok(mut seen) = state.audited_reads.seen.lock() else { return audit_read(state, &session.actor, action, None) };
        seen.retain(|_, until| *until > now);
        seen.insert(key, session.expires_at).is_none()
    };
    if first {
        audit_read(state, &session.actor, action, None);
    }
}

/// Writes an audit-log entry of a change made for someone else before the answer goes out, so
/// that whoever reads the log next finds it (reads are logged in the background instead).
pub(crate) async fn audit_change(state: &AppState, actor: &bureau_office::Actor, action: &'static str, target: Option<&str>) {
    if let Err(err) = state.office.privacy.audit(actor, action, target).await {
        tracing::error!(action, "could not write the audit log: {err}");
    }
}

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let api = access::api_router(&state)
        .fallback(|| async { ApiError::NoRoute })
        .layer(middleware::from_fn_with_state(state.clone(), session::csrf_guard))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    let dev_dir = state.config.web_dir.clone();
    Router::new()
        .nest("/api", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(|| async { ApiError::NoRoute }))
        .fallback(move |uri| web::serve(uri, dev_dir.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), count_and_harden))
        .layer(middleware::from_fn_with_state(state.clone(), requester::identify))
        .with_state(state)
}

/// The metrics listener's application: `GET /metrics` alone.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", get(ops::metrics)).with_state(state)
}

/// Counts every response for the metrics and adds the security headers.
async fn count_and_harden(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let tls = request.extensions().get::<Requester>().is_some_and(|r| r.secure);
    let mut response = next.run(request).await;
    state.metrics.response(response.status().as_u16());
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
