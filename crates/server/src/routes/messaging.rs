//! End-to-end encrypted messaging (docs/messaging.md): the devices' public keys.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bureau_office::{DeviceView, NewDevice};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// A user's devices, oldest first.
#[derive(Serialize, ToSchema)]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<DeviceView>,
}

/// Registers a device of the signed-in member: the public halves of its HPKE (X25519) and
/// signing (Ed25519) keys, with the signing key's signature over `"bureau-device-v1" ‖ user id ‖
/// hpke_public`. At most 10 devices per user.
#[utoipa::path(post, path = "/api/me/devices", tag = "messaging", request_body = NewDevice,
    responses((status = 201, body = DeviceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(State(state): State<Arc<AppState>>, session: Session, ApiJson(device): ApiJson<NewDevice>) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    Ok((StatusCode::CREATED, Json(state.office.messaging.register_device(&session.actor, device).await?)))
}

/// The signed-in member's devices.
#[utoipa::path(get, path = "/api/me/devices", tag = "messaging", responses((status = 200, body = DeviceList)))]
pub async fn mine(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<DeviceList>> {
    Ok(Json(DeviceList { devices: state.office.messaging.devices(&session.actor, &session.actor.user_id).await? }))
}

/// Removes one of the signed-in member's devices: nothing is encrypted to it any more.
#[utoipa::path(delete, path = "/api/me/devices/{id}", tag = "messaging", params(("id" = String, Path, description = "Device id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.office.messaging.remove_device(&session.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A colleague's devices, to encrypt to them and to compute the pair's safety code.
#[utoipa::path(get, path = "/api/users/{id}/devices", tag = "messaging", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = DeviceList), (status = 404, body = ErrorBody)))]
pub async fn of_user(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<DeviceList>> {
    Ok(Json(DeviceList { devices: state.office.messaging.devices(&session.actor, &id).await? }))
}
