//! Rooms of the floor plan and the metadata logs of the live office.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bureau_office::{CallEntry, NewRoom, RoomPatch, RoomView, TransferReport};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// The floor plan.
#[derive(Serialize, ToSchema)]
pub struct RoomList {
    /// Meeting rooms and receptions, then every user's own office.
    pub rooms: Vec<RoomView>,
}

/// The user's call history.
#[derive(Serialize, ToSchema)]
pub struct CallList {
    /// Newest first.
    pub calls: Vec<CallEntry>,
}

/// The rooms of the organisation.
#[utoipa::path(get, path = "/api/rooms", tag = "office", responses((status = 200, body = RoomList)))]
pub async fn list(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<RoomList>> {
    Ok(Json(RoomList { rooms: state.office.rooms.rooms(&session.actor).await? }))
}

/// Creates a meeting room or reception (admins, or the `create_rooms` right).
#[utoipa::path(post, path = "/api/rooms", tag = "office", request_body = NewRoom,
    responses((status = 201, body = RoomView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<Arc<AppState>>, session: Session, ApiJson(room): ApiJson<NewRoom>) -> ApiResult<(StatusCode, Json<RoomView>)> {
    Ok((StatusCode::CREATED, Json(state.office.rooms.create_room(&session.actor, room).await?)))
}

/// Renames a room or changes its capacity.
#[utoipa::path(patch, path = "/api/rooms/{id}", tag = "office", request_body = RoomPatch,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = RoomView), (status = 404, body = ErrorBody)))]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    session: Session,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RoomPatch>,
) -> ApiResult<Json<RoomView>> {
    Ok(Json(state.office.rooms.update_room(&session.actor, &id, patch).await?))
}

/// Removes a room; whoever is in it is moved out.
#[utoipa::path(delete, path = "/api/rooms/{id}", tag = "office", params(("id" = String, Path, description = "Room id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.office.rooms.delete_room(&session.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's call history (metadata only).
#[utoipa::path(get, path = "/api/me/calls", tag = "office", responses((status = 200, body = CallList)))]
pub async fn my_calls(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<CallList>> {
    Ok(Json(CallList { calls: state.office.rooms.my_calls(&session.actor).await? }))
}

/// Records the metadata of a direct message or file the signed-in user sent peer to peer.
#[utoipa::path(post, path = "/api/me/transfers", tag = "office", request_body = TransferReport,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn report_transfer(State(state): State<Arc<AppState>>, session: Session, ApiJson(report): ApiJson<TransferReport>) -> ApiResult<StatusCode> {
    state.office.rooms.record_transfer(&session.actor, report).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The links of a room.
#[derive(Serialize, ToSchema)]
pub struct GuestLinkList {
    /// Newest first.
    pub links: Vec<bureau_office::GuestLinkView>,
}

/// Makes a guest link for a meeting room or the reception (members); the answer holds the link,
/// shown this once.
#[utoipa::path(post, path = "/api/rooms/{id}/guest-links", tag = "office", request_body = bureau_office::NewGuestLink,
    params(("id" = String, Path, description = "Room id")),
    responses((status = 201, body = bureau_office::GuestLinkView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_guest_link(
    State(state): State<Arc<AppState>>,
    session: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<bureau_office::NewGuestLink>,
) -> ApiResult<(StatusCode, Json<bureau_office::GuestLinkView>)> {
    Ok((StatusCode::CREATED, Json(state.office.joining.create_guest_link(&session.actor, &id, body).await?)))
}

/// The guest links of a room.
#[utoipa::path(get, path = "/api/rooms/{id}/guest-links", tag = "office", params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = GuestLinkList)))]
pub async fn guest_links(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<GuestLinkList>> {
    Ok(Json(GuestLinkList { links: state.office.joining.guest_links(&session.actor, &id).await? }))
}

/// Revokes a guest link.
#[utoipa::path(delete, path = "/api/guest-links/{id}", tag = "office", params(("id" = String, Path, description = "Link id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_guest_link(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    // Its guests are signed out; their open sockets close (4002) on whichever node they are.
    state.office.joining.revoke_guest_link(&session.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
