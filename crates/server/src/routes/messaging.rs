//! End-to-end encrypted messaging (docs/messaging.md): the devices' public keys and the queues
//! of messages waiting for devices that were offline.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bureau_office::{DeviceProof, DeviceView, InboxEntry, NewDevice, NewMessage, Queued};
use serde::{Deserialize, Serialize};
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

/// Queues a message for recipient devices that are offline (docs/messaging.md): the header
/// bytes as the sender device signed them, the signature, the ciphertext body, and per device
/// the message key sealed to it. The server checks the signature and the recipients; it cannot
/// read the message. At most 120 a minute per user.
#[utoipa::path(post, path = "/api/messages", tag = "messaging", request_body = NewMessage,
    responses((status = 201, body = Queued), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn send(State(state): State<Arc<AppState>>, session: Session, ApiJson(message): ApiJson<NewMessage>) -> ApiResult<(StatusCode, Json<Queued>)> {
    Ok((StatusCode::CREATED, Json(state.office.messaging.send(&session.actor, message).await?)))
}

/// The entries waiting for a device.
#[derive(Serialize, ToSchema)]
pub struct Inbox {
    /// Oldest first, at most 100: fetch again after acknowledging them.
    pub entries: Vec<InboxEntry>,
}

/// Entries to acknowledge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledged {
    /// Entry ids (at most 100).
    pub ids: Vec<String>,
}

/// How many entries went.
#[derive(Serialize, ToSchema)]
pub struct Removed {
    /// Entries deleted.
    pub removed: u64,
}

/// The device's proof from the `Bureau-Device` header, for the device in the path. A missing or
/// malformed proof is an empty one: the office answers 404 for a device that is not the
/// caller's, then 403 for a proof that does not verify.
fn proof(headers: &HeaderMap, device_id: &str) -> DeviceProof {
    let given = headers.get("bureau-device").and_then(|v| v.to_str().ok()).and_then(DeviceProof::parse);
    given.filter(|p| p.device_id == device_id).unwrap_or_else(|| DeviceProof { device_id: device_id.to_owned(), time: 0, signature: String::new() })
}

/// The messages waiting for one of the signed-in member's devices. The request carries the
/// device's proof in the `Bureau-Device` header: `<device id> <Unix ms> <signature>`, the
/// signature over `"bureau-device-auth-v1\n<device id>\n<method>\n<path>\n<Unix ms>"`.
#[utoipa::path(get, path = "/api/me/devices/{id}/inbox", tag = "messaging", params(("id" = String, Path, description = "Device id")),
    responses((status = 200, body = Inbox), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn inbox(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Json<Inbox>> {
    let proof = proof(&headers, &id);
    let path = format!("/api/me/devices/{id}/inbox");
    Ok(Json(Inbox { entries: state.office.messaging.inbox(&session.actor, &proof, "GET", &path).await? }))
}

/// Acknowledges fetched entries of a device: they are deleted from the server (with the same
/// `Bureau-Device` proof as the inbox, for this request's method and path).
#[utoipa::path(post, path = "/api/me/devices/{id}/inbox/ack", tag = "messaging", params(("id" = String, Path, description = "Device id")), request_body = Acknowledged,
    responses((status = 200, body = Removed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn acknowledge(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>, headers: HeaderMap, ApiJson(ack): ApiJson<Acknowledged>) -> ApiResult<Json<Removed>> {
    let proof = proof(&headers, &id);
    let path = format!("/api/me/devices/{id}/inbox/ack");
    let removed = state.office.messaging.acknowledge(&session.actor, &proof, "POST", &path, &ack.ids).await?;
    Ok(Json(Removed { removed }))
}
