//! The signed-in user, the directory and the organisation's settings.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bureau_office::{AccessDetails, NewUser, OrgSettingsPatch, OrgView, UserPatch, UserView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// The directory.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    /// Matching users, oldest account first.
    pub users: Vec<UserView>,
}

/// Directory search.
#[derive(Deserialize, IntoParams)]
pub struct Search {
    /// Text matched against name, email, username, role, location and qualification.
    pub q: Option<String>,
    /// `true`: the organisation's guests instead of its members (administrators only). Guests
    /// are never in the directory itself.
    pub guests: Option<bool>,
}

/// One access-log entry.
#[derive(Serialize, ToSchema)]
pub struct AccessEntry {
    /// When, Unix milliseconds.
    pub at: i64,
    /// What happened and from where.
    #[serde(flatten)]
    pub details: AccessDetails,
}

/// The user's own access log.
#[derive(Serialize, ToSchema)]
pub struct AccessLog {
    /// Newest first.
    pub entries: Vec<AccessEntry>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "directory",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<UserView>> {
    Ok(Json(state.office.directory.user(&session.actor, &session.actor.user_id).await?))
}

/// Body of `POST /api/me/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one (at least 10 characters).
    pub password: String,
}

/// Body of `PUT /api/users/{id}/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSet {
    /// The new password, which the user must change at their next sign-in.
    pub password: String,
}

/// Changes the signed-in user's password; their other sessions end.
#[utoipa::path(post, path = "/api/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<PasswordChange>) -> ApiResult<StatusCode> {
    state.office.accounts.change_password(&session.actor, &session.token, &body.current_password, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a member's password (administrators): their sessions end and they must choose their
/// own at the next sign-in.
#[utoipa::path(put, path = "/api/users/{id}/password", tag = "directory", request_body = PasswordSet,
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_password(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>, ApiJson(body): ApiJson<PasswordSet>) -> ApiResult<StatusCode> {
    state.office.accounts.set_password(&session.actor, &id, &body.password).await?;
    super::audit_change(&state, &session.actor, "set_password", Some(&id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Edits the signed-in user's own profile.
#[utoipa::path(patch, path = "/api/me", tag = "directory", request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 422, body = ErrorBody)))]
pub async fn patch_me(State(state): State<Arc<AppState>>, session: Session, ApiJson(patch): ApiJson<UserPatch>) -> ApiResult<Json<UserView>> {
    Ok(Json(state.office.directory.update_me(&session.actor, patch).await?))
}

/// The signed-in user's sign-ins (browser, IP address, time).
#[utoipa::path(get, path = "/api/me/access-log", tag = "directory", responses((status = 200, body = AccessLog)))]
pub async fn access_log(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<AccessLog>> {
    let entries = state.office.accounts.my_access_log(&session.actor).await?;
    Ok(Json(AccessLog { entries: entries.into_iter().map(|(at, details)| AccessEntry { at, details }).collect() }))
}

/// The organisation's settings.
#[utoipa::path(get, path = "/api/org", tag = "organisation", responses((status = 200, body = OrgView)))]
pub async fn org(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<OrgView>> {
    Ok(Json(state.office.directory.org(&session.actor).await?))
}

/// Changes the organisation's settings (administrators).
#[utoipa::path(patch, path = "/api/org", tag = "organisation", request_body = OrgSettingsPatch,
    responses((status = 200, body = OrgView), (status = 403, body = ErrorBody)))]
pub async fn patch_org(State(state): State<Arc<AppState>>, session: Session, ApiJson(patch): ApiJson<OrgSettingsPatch>) -> ApiResult<Json<OrgView>> {
    Ok(Json(state.office.directory.update_org(&session.actor, patch).await?))
}

/// The directory, optionally filtered.
#[utoipa::path(get, path = "/api/users", tag = "directory", params(Search),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<Arc<AppState>>, session: Session, Query(search): Query<Search>) -> ApiResult<Json<UserList>> {
    if search.guests == Some(true) {
        let users = state.office.directory.guests(&session.actor, search.q.as_deref()).await?;
        super::audit_read_once(&state, &session, "list_guests");
        return Ok(Json(UserList { users }));
    }
    let mut users = state.office.directory.users(&session.actor, search.q.as_deref()).await?;
    with_next_busy(&state, &session.actor.org_id, &mut users).await?;
    if session.actor.is_admin() {
        // Pages list the directory on every view: once per sign-in says as much.
        super::audit_read_once(&state, &session, "list_users");
    }
    Ok(Json(UserList { users }))
}

/// Adds the next busy interval of those who share it (their calendar).
async fn with_next_busy(state: &AppState, org_id: &str, users: &mut [UserView]) -> Result<(), bureau_office::OfficeError> {
    let mut next = state.office.working_day.shared_next_busy(org_id).await?;
    for user in users {
        user.next_busy = next.remove(&user.id);
    }
    Ok(())
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/api/users", tag = "directory", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(State(state): State<Arc<AppState>>, session: Session, ApiJson(user): ApiJson<NewUser>) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((StatusCode::CREATED, Json(state.office.accounts.create_user(&session.actor, user).await?)))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "directory", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<UserView>> {
    let mut user = state.office.directory.user(&session.actor, &id).await?;
    with_next_busy(&state, &session.actor.org_id, std::slice::from_mut(&mut user)).await?;
    if session.actor.is_admin() && id != session.actor.user_id {
        super::audit_read(&state, &session.actor, "view_user", Some(&id));
    }
    Ok(Json(user))
}

/// Edits a user, including role, rights and deactivation (administrators).
#[utoipa::path(patch, path = "/api/users/{id}", tag = "directory", request_body = UserPatch,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    session: Session,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let user = state.office.directory.update_user(&session.actor, &id, patch).await?;
    state.office.privacy.audit(&session.actor, "update_user", Some(&id)).await?;
    Ok(Json(user))
}

/// A picture upload.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PictureUpload {
    /// `data:image/png;base64,...` (PNG, JPEG or WebP, at most 256 KiB).
    pub data_url: String,
}

/// Sets the signed-in user's picture.
#[utoipa::path(put, path = "/api/me/picture", tag = "directory", request_body = PictureUpload,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn put_picture(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<PictureUpload>) -> ApiResult<StatusCode> {
    let image = bureau_office::decode_data_url(&body.data_url)?;
    state.office.directory.set_my_picture(&session.actor, Some(image)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the signed-in user's picture.
#[utoipa::path(delete, path = "/api/me/picture", tag = "directory", responses((status = 204)))]
pub async fn delete_picture(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<StatusCode> {
    state.office.directory.set_my_picture(&session.actor, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's picture (the image bytes).
#[utoipa::path(get, path = "/api/users/{id}/picture", tag = "directory", params(("id" = String, Path, description = "User id")),
    responses((status = 200, content_type = "image/*"), (status = 404, body = ErrorBody)))]
pub async fn picture(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (kind, bytes) = state.office.directory.picture(&session.actor, &id).await?.ok_or(bureau_office::OfficeError::NotFound("picture"))?;
    let headers = [(axum::http::header::CONTENT_TYPE, kind), (axum::http::header::CACHE_CONTROL, "private, no-store")];
    Ok((headers, bytes).into_response())
}

/// Everything Bureau holds about the signed-in user, as a JSON download (GDPR art. 15 and 20;
/// the shape is described by `docs/export.schema.json`).
#[utoipa::path(get, path = "/api/me/export", tag = "privacy", responses((status = 200, body = bureau_office::Export)))]
pub async fn export(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let export = state.office.privacy.export(&session.actor).await?;
    let headers = [
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"bureau-export.json\""),
        (axum::http::header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, Json(export)).into_response())
}

/// Erases the signed-in user's account (confirmed by the password).
#[utoipa::path(delete, path = "/api/me", tag = "privacy", request_body = bureau_office::EraseRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn erase_me(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<bureau_office::EraseRequest>) -> ApiResult<StatusCode> {
    state.office.privacy.erase_me(&session.actor, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a user of the organisation (administrators).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "privacy", params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erase(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.office.privacy.erase_user(&session.actor, &id).await?;
    state.office.privacy.audit(&session.actor, "erase_user", Some(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
