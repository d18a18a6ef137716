//! Sign-in, sign-out and the first-admin setup link.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::{Extension, Json};
use bureau_office::{OfficeError, SignInStep, SignedIn, UserView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::metrics::LoginOutcome;
use crate::session::{ApiJson, Session, clear_cookie, client, cookie_for};
use crate::AppState;
use crate::requester::Requester;

/// Credentials for `POST /api/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// The organisation's slug, when the same email belongs to accounts in several (the answer
    /// `409 choose_organisation` names them).
    #[serde(default)]
    pub org: Option<String>,
}

/// A user wrapped in an object (room for more fields later).
#[derive(Serialize, ToSchema)]
pub struct UserEnvelope {
    /// The signed-in user.
    pub user: UserView,
}

/// Body of `POST /api/setup/check`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupCheck {
    /// The token from the setup link.
    pub token: String,
}

/// Answer of `POST /api/setup/check`.
#[derive(Serialize, ToSchema)]
pub struct SetupValidity {
    /// Whether the token can still be used.
    pub valid: bool,
}

/// Body of `POST /api/setup`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the setup link.
    pub token: String,
    /// The first administrator's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their password (at least 10 characters).
    pub password: String,
}

pub(super) fn signed_in_response(status: StatusCode, signed_in: SignedIn, now_ms: i64, tls: bool) -> Response {
    let cookies = [(header::SET_COOKIE, cookie_for(&signed_in, now_ms, tls)), (header::SET_COOKIE, crate::session::device_cookie(&signed_in, tls))];
    (status, AppendHeaders(cookies), Json(UserEnvelope { user: signed_in.user })).into_response()
}

/// Signs in with email and password and sets the session cookie; when a second factor is needed,
/// answers 202 with a challenge and sets no cookie (see `POST /api/auth/second-factor`).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = UserEnvelope), (status = 202, body = super::two_factor::SecondFactorEnvelope), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let result = state.office.accounts.sign_in_to(&body.email, &body.password, body.org.as_deref(), &client(&headers, &requester)).await;
    state.metrics.login(match &result {
        Ok(_) => LoginOutcome::Success,
        Err(OfficeError::RateLimited(_)) => LoginOutcome::RateLimited,
        Err(_) => LoginOutcome::Failure,
    });
    match result? {
        SignInStep::Done(signed_in) => Ok(signed_in_response(StatusCode::OK, *signed_in, state.clock.now_ms(), requester.secure)),
        SignInStep::SecondFactor(challenge) => Ok(super::two_factor::challenge_response(challenge)),
    }
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    session: Option<Session>,
) -> ApiResult<Response> {
    if let Some(session) = session {
        state.office.accounts.logout(&session.actor, &session.token).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear_cookie(requester.secure))]).into_response())
}

/// Whether a setup token is still valid.
#[utoipa::path(post, path = "/api/setup/check", tag = "auth", request_body = SetupCheck,
    responses((status = 200, body = SetupValidity)))]
pub async fn setup_check(State(state): State<Arc<AppState>>, ApiJson(body): ApiJson<SetupCheck>) -> ApiResult<Json<SetupValidity>> {
    Ok(Json(SetupValidity { valid: state.office.accounts.setup_token_valid(&body.token).await? }))
}

/// Creates the first administrator with the setup token and signs them in.
#[utoipa::path(post, path = "/api/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = UserEnvelope), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn setup(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<Response> {
    let signed_in = state
        .office
        .accounts.complete_setup(&body.token, &body.name, &body.email, &body.password, &client(&headers, &requester))
        .await?;
    // The office the administrator walks into is not empty: a meeting room and the reception.
    // (Failing that, the administrator adds rooms by hand: not a reason to fail the setup.)
    if let Err(err) = state.office.rooms.create_default_rooms(&signed_in.org_id).await {
        tracing::error!("could not create the default rooms: {err}");
    }
    Ok(signed_in_response(StatusCode::CREATED, signed_in, state.clock.now_ms(), requester.secure))
}
