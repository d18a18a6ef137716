//! The privacy centre's API: restriction and objections, the privacy request queue with its
//! deadlines, and the audit log of administrative access.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bureau_office::{AuditEntry, CloseRequest, NewPrivacyRequest, PrivacyRequestView, PrivacySettings, PrivacySettingsPatch};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// Privacy requests.
#[derive(Serialize, ToSchema)]
pub struct RequestList {
    /// Earliest deadline first.
    pub requests: Vec<PrivacyRequestView>,
}

/// The audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// The signed-in user's restriction and objections.
#[utoipa::path(get, path = "/api/me/privacy", tag = "privacy", responses((status = 200, body = PrivacySettings)))]
pub async fn settings(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<PrivacySettings>> {
    Ok(Json(state.office.privacy.privacy_settings(&session.actor).await?))
}

/// Restricts processing (art. 18) or objects to optional processing (art. 21).
#[utoipa::path(patch, path = "/api/me/privacy", tag = "privacy", request_body = PrivacySettingsPatch,
    responses((status = 200, body = PrivacySettings), (status = 422, body = ErrorBody)))]
pub async fn update_settings(
    State(state): State<Arc<AppState>>,
    session: Session,
    ApiJson(patch): ApiJson<PrivacySettingsPatch>,
) -> ApiResult<Json<PrivacySettings>> {
    Ok(Json(state.office.privacy.set_privacy_settings(&session.actor, patch).await?))
}

/// Files a privacy request (due within one month).
#[utoipa::path(post, path = "/api/privacy/requests", tag = "privacy", request_body = NewPrivacyRequest,
    responses((status = 201, body = PrivacyRequestView), (status = 422, body = ErrorBody)))]
pub async fn file(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<NewPrivacyRequest>) -> ApiResult<(StatusCode, Json<PrivacyRequestView>)> {
    Ok((StatusCode::CREATED, Json(state.office.privacy.file_privacy_request(&session.actor, body).await?)))
}

/// Privacy requests: the queue for admins and the `manage_privacy` right, one's own otherwise.
#[utoipa::path(get, path = "/api/privacy/requests", tag = "privacy", responses((status = 200, body = RequestList)))]
pub async fn list(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<RequestList>> {
    let requests = state.office.privacy.privacy_requests(&session.actor).await?;
    if session.actor.can(bureau_office::Right::ManagePrivacy) {
        super::audit_read(&state, &session.actor, "view_privacy_requests", None);
    }
    Ok(Json(RequestList { requests }))
}

/// Closes a request with an answer (emailed to the person).
#[utoipa::path(post, path = "/api/privacy/requests/{id}/close", tag = "privacy", request_body = CloseRequest,
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = PrivacyRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn close(
    State(state): State<Arc<AppState>>,
    session: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseRequest>,
) -> ApiResult<Json<PrivacyRequestView>> {
    Ok(Json(state.office.privacy.close_privacy_request(&session.actor, &id, body).await?))
}

/// The audit log of administrative access to personal data.
#[utoipa::path(get, path = "/api/privacy/audit", tag = "privacy", responses((status = 200, body = AuditList), (status = 403, body = ErrorBody)))]
pub async fn audit(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<AuditList>> {
    Ok(Json(AuditList { entries: state.office.privacy.audit_log(&session.actor).await? }))
}

/// Which organisation's legal texts (default: the signed-in user's, else the first).
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct LegalQuery {
    /// Organisation slug.
    pub org: Option<String>,
}

/// The privacy policy and terms of use (public: invitees read them before registering).
#[utoipa::path(get, path = "/api/legal", tag = "privacy", params(LegalQuery), responses((status = 200, body = bureau_office::LegalTexts)))]
pub async fn legal(
    State(state): State<Arc<AppState>>,
    session: Option<Session>,
    axum::extract::Query(query): axum::extract::Query<LegalQuery>,
) -> ApiResult<Json<bureau_office::LegalTexts>> {
    if query.org.is_none()
        && let Some(session) = session
    {
        return Ok(Json(state.office.privacy.legal(&session.actor).await?));
    }
    Ok(Json(state.office.privacy.public_legal(query.org.as_deref()).await?))
}

/// Saves new versions of the privacy policy and terms (administrators).
#[utoipa::path(put, path = "/api/legal", tag = "privacy", request_body = bureau_office::LegalPatch,
    responses((status = 200, body = bureau_office::LegalTexts), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_legal(State(state): State<Arc<AppState>>, session: Session, ApiJson(patch): ApiJson<bureau_office::LegalPatch>) -> ApiResult<Json<bureau_office::LegalTexts>> {
    Ok(Json(state.office.privacy.set_legal(&session.actor, patch).await?))
}

/// The signed-in user's consents.
#[derive(Serialize, ToSchema)]
pub struct ConsentList {
    /// Newest first.
    pub consents: Vec<bureau_office::ConsentView>,
}

/// Records consent to camera and microphone after reading the consent text; the organisation
/// gets a confirmation email.
#[utoipa::path(post, path = "/api/consents", tag = "privacy", request_body = bureau_office::GiveConsent,
    responses((status = 201, body = bureau_office::ConsentView), (status = 422, body = ErrorBody)))]
pub async fn give_consent(
    State(state): State<Arc<AppState>>,
    session: Session,
    ApiJson(body): ApiJson<bureau_office::GiveConsent>,
) -> ApiResult<(StatusCode, Json<bureau_office::ConsentView>)> {
    Ok((StatusCode::CREATED, Json(state.office.privacy.give_consent(&session.actor, body).await?)))
}

/// The signed-in user's consents and withdrawals.
#[utoipa::path(get, path = "/api/consents", tag = "privacy", responses((status = 200, body = ConsentList)))]
pub async fn consents(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<ConsentList>> {
    Ok(Json(ConsentList { consents: state.office.privacy.my_consents(&session.actor).await? }))
}

/// Withdraws a consent (the browser stops camera and microphone).
#[utoipa::path(post, path = "/api/consents/{id}/withdraw", tag = "privacy", params(("id" = String, Path, description = "Consent id")),
    responses((status = 200, body = bureau_office::ConsentView), (status = 404, body = ErrorBody)))]
pub async fn withdraw_consent(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<bureau_office::ConsentView>> {
    Ok(Json(state.office.privacy.withdraw_consent(&session.actor, &id).await?))
}
