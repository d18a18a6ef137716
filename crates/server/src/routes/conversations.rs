//! Group conversations of end-to-end encrypted messaging (docs/messaging.md, "Groups"): named
//! team channels, the chat of each meeting room, and their members. What is said in them never
//! reaches the server in clear.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bureau_office::{ConversationView, NewConversation, NewMember, OfficeError, RoomKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// The group conversations of the signed-in member.
#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    /// Oldest first.
    pub conversations: Vec<ConversationView>,
}

/// Makes a group conversation with the colleagues named (the maker is a member); at most 200
/// members. Their open pages get `{type: "conversations"}`.
#[utoipa::path(post, path = "/api/conversations", tag = "messaging", request_body = NewConversation,
    responses((status = 201, body = ConversationView), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<Arc<AppState>>, session: Session, ApiJson(new): ApiJson<NewConversation>) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    Ok((StatusCode::CREATED, Json(state.office.messaging.create_conversation(&session.actor, new).await?)))
}

/// The chat of a meeting room: made with the signed-in member as its first member when nobody
/// opened it before; the member joins it (a new epoch) when they are not in it yet. Any member
/// may walk into a meeting room, so any member may open its chat; not the reception or offices.
#[utoipa::path(post, path = "/api/rooms/{id}/conversation", tag = "messaging", params(("id" = String, Path, description = "Room id")),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn of_room(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<ConversationView>> {
    let rooms = state.office.rooms.rooms(&session.actor).await?;
    let room = rooms.into_iter().find(|r| r.id == id).ok_or(OfficeError::NotFound("room"))?;
    if room.kind != RoomKind::Meeting {
        return Err(OfficeError::Invalid { field: "room", message: "only meeting rooms have a chat".into() }.into());
    }
    Ok(Json(state.office.messaging.room_conversation(&session.actor, &room.id, &room.name).await?))
}

/// The group conversations the signed-in member is in.
#[utoipa::path(get, path = "/api/conversations", tag = "messaging", responses((status = 200, body = ConversationList)))]
pub async fn mine(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<ConversationList>> {
    Ok(Json(ConversationList { conversations: state.office.messaging.conversations(&session.actor).await? }))
}

/// One group conversation of the signed-in member, with its current epoch and members.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn one(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<ConversationView>> {
    Ok(Json(state.office.messaging.conversation(&session.actor, &id).await?))
}

/// Adds a colleague (any member may): a new epoch begins.
#[utoipa::path(post, path = "/api/conversations/{id}/members", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    request_body = NewMember, responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>, ApiJson(member): ApiJson<NewMember>) -> ApiResult<Json<ConversationView>> {
    Ok(Json(state.office.messaging.add_member(&session.actor, &id, &member.user_id).await?))
}

/// Removes a member: oneself (leaving), or anyone for the conversation's maker and
/// administrators. A new epoch begins, whose keys the removed member never gets.
#[utoipa::path(delete, path = "/api/conversations/{id}/members/{user_id}", tag = "messaging",
    params(("id" = String, Path, description = "Conversation id"), ("user_id" = String, Path, description = "The member")),
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(State(state): State<Arc<AppState>>, session: Session, Path((id, user_id)): Path<(String, String)>) -> ApiResult<Json<ConversationView>> {
    Ok(Json(state.office.messaging.remove_member(&session.actor, &id, &user_id).await?))
}
