//! The calendar: connecting one's own calendar (CalDAV or ICS, free/busy only), entries by
//! hand, and what colleagues see of them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bureau_office::{CalendarSettings, CalendarView, ConnectCalendar, EntryView, NewEntry};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// The signed-in user's calendar: the connection (by host, never the password), what they
/// share, the last reading and its error, and the busy intervals not yet over.
#[utoipa::path(get, path = "/api/me/calendar", tag = "working day", responses((status = 200, body = CalendarView), (status = 422, body = ErrorBody)))]
pub async fn mine(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<CalendarView>> {
    Ok(Json(state.office.working_day.my_calendar(&session.actor).await?))
}

/// Connects the signed-in user's calendar, replacing any before: a CalDAV calendar collection
/// (asked for free/busy time only) or an ICS subscription address (only times are kept). The
/// calendar is read at once; an address that cannot be read is refused with the reason.
#[utoipa::path(put, path = "/api/me/calendar/source", tag = "working day", request_body = ConnectCalendar,
    responses((status = 200, body = CalendarView), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn connect(State(state): State<Arc<AppState>>, session: Session, ApiJson(new): ApiJson<ConnectCalendar>) -> ApiResult<Json<CalendarView>> {
    Ok(Json(state.office.working_day.connect_calendar(&session.actor, new).await?))
}

/// Disconnects the signed-in user's calendar; the busy intervals read from it go too.
#[utoipa::path(delete, path = "/api/me/calendar/source", tag = "working day", responses((status = 204)))]
pub async fn disconnect(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<StatusCode> {
    state.office.working_day.disconnect_calendar(&session.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the signed-in user's connected calendar now (it is read every few minutes anyway).
#[utoipa::path(post, path = "/api/me/calendar/sync", tag = "working day",
    responses((status = 200, body = CalendarView), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sync(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<CalendarView>> {
    Ok(Json(state.office.working_day.sync_my_calendar(&session.actor).await?))
}

/// Whether colleagues see the next busy interval, and whether knocks ring during a meeting.
#[utoipa::path(patch, path = "/api/me/calendar", tag = "working day", request_body = CalendarSettings,
    responses((status = 200, body = CalendarView), (status = 422, body = ErrorBody)))]
pub async fn settings(State(state): State<Arc<AppState>>, session: Session, ApiJson(settings): ApiJson<CalendarSettings>) -> ApiResult<Json<CalendarView>> {
    Ok(Json(state.office.working_day.set_calendar_settings(&session.actor, settings).await?))
}

/// Adds a busy interval by hand, with a title to show if the user wants one.
#[utoipa::path(post, path = "/api/me/calendar/entries", tag = "working day", request_body = NewEntry,
    responses((status = 201, body = EntryView), (status = 422, body = ErrorBody)))]
pub async fn add_entry(State(state): State<Arc<AppState>>, session: Session, ApiJson(entry): ApiJson<NewEntry>) -> ApiResult<(StatusCode, Json<EntryView>)> {
    Ok((StatusCode::CREATED, Json(state.office.working_day.add_calendar_entry(&session.actor, entry).await?)))
}

/// Removes one of the signed-in user's entries made by hand.
#[utoipa::path(delete, path = "/api/me/calendar/entries/{id}", tag = "working day", params(("id" = String, Path, description = "Entry id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_entry(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.office.working_day.remove_calendar_entry(&session.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
