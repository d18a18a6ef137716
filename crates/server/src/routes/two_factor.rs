//! Two-factor sign-in over HTTP: the second step of a sign-in, enrolment required by the
//! organisation, and the signed-in user's own second factors.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bureau_office::{Challenge, OfficeError, Proof, RecoveryCodes, TotpEnrolment, TwoFactorStatus, UserView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::signed_in_response;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session, client};
use crate::AppState;
use crate::requester::Requester;

/// The 202 answer of `POST /api/auth/login` when a second factor is needed.
#[derive(Serialize, ToSchema)]
pub struct SecondFactorEnvelope {
    /// The pending second step.
    pub second_factor: Challenge,
}

/// The 202 response that carries a challenge (no session cookie).
pub fn challenge_response(challenge: Challenge) -> Response {
    (StatusCode::ACCEPTED, Json(SecondFactorEnvelope { second_factor: challenge })).into_response()
}

/// Body of `POST /api/auth/second-factor`: the token and exactly one of the other fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    /// The challenge token from the 202 answer of the sign-in.
    pub token: String,
    /// A code from the authenticator app or from the SMS.
    #[serde(default)]
    pub code: Option<String>,
    /// A single-use recovery code.
    #[serde(default)]
    pub recovery_code: Option<String>,
    /// `true`: send (or send again) a code by SMS instead of signing in.
    #[serde(default)]
    pub send_sms: bool,
}

/// Body of `POST /api/auth/enrol-totp`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The challenge token from the 202 answer of the sign-in (`enrol_required`).
    pub token: String,
    /// Without it: a new secret. With it: the code that confirms the authenticator.
    #[serde(default)]
    pub code: Option<String>,
}

/// The answer of a confirmed enrolment during sign-in.
#[derive(Serialize, ToSchema)]
pub struct EnrolledEnvelope {
    /// The signed-in user.
    pub user: UserView,
    /// Recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
}

/// A code that confirms an enrolment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six-digit code.
    pub code: String,
}

/// A phone number to enrol.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneRequest {
    /// International form, e.g. `+49 151 12345678`.
    pub phone: String,
}

/// The password that confirms turning two-factor sign-in off.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The user's password.
    pub password: String,
}

fn invalid(field: &'static str, message: &str) -> OfficeError {
    OfficeError::Invalid { field, message: message.into() }
}

/// Completes a sign-in with a second factor (and sets the session cookie), or sends an SMS code.
#[utoipa::path(post, path = "/api/auth/second-factor", tag = "auth", request_body = SecondFactorRequest,
    responses((status = 200, body = super::auth::UserEnvelope), (status = 204), (status = 401, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn second_factor(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SecondFactorRequest>,
) -> ApiResult<Response> {
    let proof = match (body.code, body.recovery_code, body.send_sms) {
        (None, None, true) => {
            state.office.accounts.send_sign_in_sms(&body.token).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        (Some(code), None, false) => Proof::Code(code),
        (None, Some(code), false) => Proof::RecoveryCode(code),
        _ => return Err(invalid("code", "send exactly one of code, recovery_code and send_sms").into()),
    };
    let signed_in = state.office.accounts.complete_second_factor(&body.token, proof, &client(&headers, &requester)).await?;
    Ok(signed_in_response(StatusCode::OK, signed_in, state.clock.now_ms(), requester.secure))
}

/// Enrols an authenticator during a sign-in the organisation requires it for: without `code`
/// a new secret, with `code` the confirmation, which signs in and shows the recovery codes.
#[utoipa::path(post, path = "/api/auth/enrol-totp", tag = "auth", request_body = EnrolRequest,
    responses((status = 200, body = EnrolledEnvelope), (status = 401, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn enrol_totp(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EnrolRequest>,
) -> ApiResult<Response> {
    let Some(code) = body.code else {
        return Ok(Json(state.office.accounts.start_required_totp(&body.token).await?).into_response());
    };
    let (signed_in, codes) = state.office.accounts.confirm_required_totp(&body.token, &code, &client(&headers, &requester)).await?;
    let cookies = [
        (header::SET_COOKIE, crate::session::cookie_for(&signed_in, state.clock.now_ms(), requester.secure)),
        (header::SET_COOKIE, crate::session::device_cookie(&signed_in, requester.secure)),
    ];
    let body = EnrolledEnvelope { user: signed_in.user, recovery_codes: codes.recovery_codes };
    Ok((StatusCode::OK, axum::response::AppendHeaders(cookies), Json(body)).into_response())
}

/// The signed-in user's second factors.
#[utoipa::path(get, path = "/api/me/2fa", tag = "two-factor", responses((status = 200, body = TwoFactorStatus)))]
pub async fn status(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<TwoFactorStatus>> {
    Ok(Json(state.office.two_factor.two_factor_status(&session.actor).await?))
}

/// Starts enrolling an authenticator app: a new secret, pending until confirmed.
#[utoipa::path(post, path = "/api/me/2fa/totp", tag = "two-factor", responses((status = 200, body = TotpEnrolment)))]
pub async fn start_totp(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<TotpEnrolment>> {
    Ok(Json(state.office.two_factor.start_totp(&session.actor).await?))
}

/// Confirms the authenticator with a code; answers the new recovery codes (shown once).
#[utoipa::path(post, path = "/api/me/2fa/totp/confirm", tag = "two-factor", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody)))]
pub async fn confirm_totp(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<CodeRequest>) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(state.office.two_factor.confirm_totp(&session.actor, &body.code).await?))
}

/// Starts enrolling a phone: sends it a code by SMS.
#[utoipa::path(post, path = "/api/me/2fa/sms", tag = "two-factor", request_body = PhoneRequest,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn start_sms(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<PhoneRequest>) -> ApiResult<StatusCode> {
    state.office.two_factor.start_sms(&session.actor, &body.phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms the phone with the code it received; answers the new recovery codes (shown once).
#[utoipa::path(post, path = "/api/me/2fa/sms/confirm", tag = "two-factor", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody)))]
pub async fn confirm_sms(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<CodeRequest>) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(state.office.two_factor.confirm_sms(&session.actor, &body.code).await?))
}

/// Turns two-factor sign-in off (the password confirms it).
#[utoipa::path(delete, path = "/api/me/2fa", tag = "two-factor", request_body = PasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn disable(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<PasswordRequest>) -> ApiResult<StatusCode> {
    state.office.two_factor.disable_two_factor(&session.actor, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
