//! Invitations, registration through an invitation link, and in-app support.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use bureau_office::{InvitationView, NewInvitation, NewTicket, RegisterRequest, RegistrationInfo, TicketView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::UserEnvelope;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session, client};
use crate::AppState;
use crate::requester::Requester;

/// The organisation's invitations.
#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    /// Newest first.
    pub invitations: Vec<InvitationView>,
}

/// A registration token to look up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The token from the invitation link.
    pub token: String,
}

/// Tickets visible to the signed-in user.
#[derive(Serialize, ToSchema)]
pub struct TicketList {
    /// Newest first.
    pub tickets: Vec<TicketView>,
}

/// An admin's answer to a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketAnswer {
    /// The answer, emailed to the ticket's author.
    pub message: String,
}

/// Invites someone by name and email (admins, or the `invite` right); the email carries the link.
#[utoipa::path(post, path = "/api/invitations", tag = "joining", request_body = NewInvitation,
    responses((status = 201, body = InvitationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn invite(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<NewInvitation>) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    Ok((StatusCode::CREATED, Json(state.office.joining.invite(&session.actor, body).await?)))
}

/// The organisation's invitations.
#[utoipa::path(get, path = "/api/invitations", tag = "joining", responses((status = 200, body = InvitationList)))]
pub async fn invitations(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<InvitationList>> {
    Ok(Json(InvitationList { invitations: state.office.joining.invitations(&session.actor).await? }))
}

/// Sends an invitation again with a fresh link (the old one stops working).
#[utoipa::path(post, path = "/api/invitations/{id}/resend", tag = "joining", params(("id" = String, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationView), (status = 404, body = ErrorBody)))]
pub async fn resend(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<InvitationView>> {
    Ok(Json(state.office.joining.resend_invitation(&session.actor, &id).await?))
}

/// Revokes an invitation.
#[utoipa::path(delete, path = "/api/invitations/{id}", tag = "joining", params(("id" = String, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationView), (status = 404, body = ErrorBody)))]
pub async fn revoke(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<InvitationView>> {
    Ok(Json(state.office.joining.revoke_invitation(&session.actor, &id).await?))
}

/// What the registration page shows for an invitation link (410 when it cannot be used).
#[utoipa::path(post, path = "/api/register/check", tag = "joining", request_body = TokenBody,
    responses((status = 200, body = RegistrationInfo), (status = 410, body = ErrorBody)))]
pub async fn check(State(state): State<Arc<AppState>>, ApiJson(body): ApiJson<TokenBody>) -> ApiResult<Json<RegistrationInfo>> {
    Ok(Json(state.office.joining.registration_info(&body.token).await?))
}

/// Registers through an invitation link: accepts the policy and terms, sets the password,
/// records the IP address and time, and signs in.
#[utoipa::path(post, path = "/api/register", tag = "joining", request_body = RegisterRequest,
    responses((status = 201, body = UserEnvelope), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    let signed_in = state.office.joining.register(body, &client(&headers, &requester)).await?;
    Ok(super::auth::signed_in_response(StatusCode::CREATED, signed_in, state.clock.now_ms(), requester.secure))
}

/// Sends a support request.
#[utoipa::path(post, path = "/api/support", tag = "support", request_body = NewTicket,
    responses((status = 201, body = TicketView), (status = 422, body = ErrorBody)))]
pub async fn open_ticket(State(state): State<Arc<AppState>>, session: Session, ApiJson(body): ApiJson<NewTicket>) -> ApiResult<(StatusCode, Json<TicketView>)> {
    Ok((StatusCode::CREATED, Json(state.office.support.open_ticket(&session.actor, body).await?)))
}

/// Tickets: all for admins, one's own otherwise.
#[utoipa::path(get, path = "/api/support", tag = "support", responses((status = 200, body = TicketList)))]
pub async fn tickets(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<TicketList>> {
    let tickets = state.office.support.tickets(&session.actor).await?;
    if session.actor.is_admin() {
        super::audit_read(&state, &session.actor, "view_tickets", None);
    }
    Ok(Json(TicketList { tickets }))
}

/// Answers a ticket by email (admins).
#[utoipa::path(post, path = "/api/support/{id}/answer", tag = "support", request_body = TicketAnswer,
    params(("id" = String, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn answer(
    State(state): State<Arc<AppState>>,
    session: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TicketAnswer>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(state.office.support.answer_ticket(&session.actor, &id, &body.message).await?))
}

/// Resolves a ticket (admins or its author).
#[utoipa::path(post, path = "/api/support/{id}/resolve", tag = "support", params(("id" = String, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn resolve(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Json<TicketView>> {
    Ok(Json(state.office.support.resolve_ticket(&session.actor, &id).await?))
}

/// What the guest page shows for a link (410 when it cannot be used).
#[utoipa::path(post, path = "/api/guest/check", tag = "joining", request_body = TokenBody,
    responses((status = 200, body = bureau_office::GuestLinkInfo), (status = 410, body = ErrorBody)))]
pub async fn guest_check(State(state): State<Arc<AppState>>, ApiJson(body): ApiJson<TokenBody>) -> ApiResult<Json<bureau_office::GuestLinkInfo>> {
    Ok(Json(state.office.joining.guest_link_info(&body.token).await?))
}

/// A guest's session and room.
#[derive(Serialize, ToSchema)]
pub struct GuestSession {
    /// The guest account.
    pub user: bureau_office::UserView,
    /// The one room the guest may enter.
    pub room_id: String,
}

/// Joins as a guest through a link: at least a name; signs the guest in.
#[utoipa::path(post, path = "/api/guest/join", tag = "joining", request_body = bureau_office::GuestJoin,
    responses((status = 201, body = GuestSession), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn guest_join(
    State(state): State<Arc<AppState>>,
    Extension(requester): Extension<Requester>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<bureau_office::GuestJoin>,
) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let (signed_in, room_id) = state.office.joining.join_as_guest(body, &client(&headers, &requester)).await?;
    let cookie = crate::session::cookie_for(&signed_in, state.clock.now_ms(), requester.secure);
    let body = GuestSession { user: signed_in.user, room_id };
    Ok((StatusCode::CREATED, [(axum::http::header::SET_COOKIE, cookie)], Json(body)).into_response())
}
