//! The HTTP routes: the REST API under `/api`, operations endpoints and the web client.

mod auth;
mod joining;
mod ops;
mod rooms;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::error::ApiError;
use crate::{AppState, ConnInfo, session, web};

#[derive(OpenApi)]
#[openapi(
    info(title = "Bureau API", description = "The REST API of Bureau, the privacy-first virtual office. Errors are {\"code\",\"message\"} objects."),
    paths(
        auth::login, auth::logout, auth::setup_check, auth::setup,
        users::me, users::patch_me, users::access_log, users::org, users::patch_org,
        users::list, users::create, users::get, users::patch,
        users::put_picture, users::delete_picture, users::picture,
        joining::invite, joining::invitations, joining::resend, joining::revoke, joining::check, joining::register,
        joining::open_ticket, joining::tickets, joining::answer, joining::resolve,
        rooms::list, rooms::create, rooms::patch, rooms::delete, rooms::my_calls, rooms::report_transfer,
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/setup/check", post(auth::setup_check))
        .route("/setup", post(auth::setup))
        .route("/me", get(users::me).patch(users::patch_me))
        .route("/me/access-log", get(users::access_log))
        .route("/me/picture", axum::routing::put(users::put_picture).delete(users::delete_picture))
        .route("/org", get(users::org).patch(users::patch_org))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::patch))
        .route("/users/{id}/picture", get(users::picture))
        .route("/rooms", get(rooms::list).post(rooms::create))
        .route("/rooms/{id}", axum::routing::patch(rooms::patch).delete(rooms::delete))
        .route("/me/calls", get(rooms::my_calls))
        .route("/me/transfers", post(rooms::report_transfer))
        .route("/ws", get(crate::live::ws::upgrade))
        .route("/invitations", get(joining::invitations).post(joining::invite))
        .route("/invitations/{id}", axum::routing::delete(joining::revoke))
        .route("/invitations/{id}/resend", post(joining::resend))
        .route("/register/check", post(joining::check))
        .route("/register", post(joining::register))
        .route("/support", get(joining::tickets).post(joining::open_ticket))
        .route("/support/{id}/answer", post(joining::answer))
        .route("/support/{id}/resolve", post(joining::resolve))
        .route("/openapi.json", get(ops::openapi))
        .fallback(|| async { ApiError::NoRoute })
        .layer(middleware::from_fn(session::csrf_guard))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    let dev_dir = state.config.web_dir.clone();
    Router::new()
        .nest("/api", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(move |uri| web::serve(uri, dev_dir.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), count_and_harden))
        .with_state(state)
}

/// Counts every response for the metrics and adds the security headers.
async fn count_and_harden(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let tls = request.extensions().get::<ConnInfo>().is_some_and(|c| c.tls);
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
