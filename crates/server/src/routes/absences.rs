//! The working day: absences (vacation and others, with a deputy) and attendance times.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use bureau_office::{AbsenceView, AttendanceReport, CalendarFeed, CalendarFeedStatus, NewAbsence, OfficeError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::session::{ApiJson, Session};

/// Absences, earliest first.
#[derive(Serialize, ToSchema)]
pub struct AbsenceList {
    /// The absences.
    pub absences: Vec<AbsenceView>,
}

/// The span of the team view.
#[derive(Deserialize, IntoParams)]
pub struct Span {
    /// Start, Unix milliseconds.
    pub from: Option<String>,
    /// End (exclusive), Unix milliseconds; at most 62 days after `from`.
    pub to: Option<String>,
}

/// Reads a required Unix-milliseconds query parameter, with a clear error.
fn millis(field: &'static str, value: Option<&str>) -> Result<i64, OfficeError> {
    value.and_then(|v| v.parse().ok()).ok_or(OfficeError::Invalid { field, message: "a time in Unix milliseconds is required".into() })
}

/// Who is away between two times (the team view): everyone's absences, with the kind and the
/// note only where the caller may see them (their own; all with `manage_absences`). Extended
/// profile only.
#[utoipa::path(get, path = "/api/absences", tag = "working day", params(Span),
    responses((status = 200, body = AbsenceList), (status = 422, body = ErrorBody)))]
pub async fn list(State(state): State<Arc<AppState>>, session: Session, Query(span): Query<Span>) -> ApiResult<Json<AbsenceList>> {
    let (from, to) = (millis("from", span.from.as_deref())?, millis("to", span.to.as_deref())?);
    Ok(Json(AbsenceList { absences: state.office.working_day.absences(&session.actor, from, to).await? }))
}

/// The signed-in user's absences that are not over yet.
#[utoipa::path(get, path = "/api/me/absences", tag = "working day", responses((status = 200, body = AbsenceList), (status = 422, body = ErrorBody)))]
pub async fn mine(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<AbsenceList>> {
    Ok(Json(AbsenceList { absences: state.office.working_day.my_absences(&session.actor).await? }))
}

/// Enters an absence: one's own, or a colleague's with the `manage_absences` right. While it
/// goes on the user shows out of office and knocks on their office ring the deputy.
#[utoipa::path(post, path = "/api/absences", tag = "working day", request_body = NewAbsence,
    responses((status = 201, body = AbsenceView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<Arc<AppState>>, session: Session, ApiJson(absence): ApiJson<NewAbsence>) -> ApiResult<(StatusCode, Json<AbsenceView>)> {
    let created = state.office.working_day.add_absence(&session.actor, absence).await?;
    if created.user_id != session.actor.user_id {
        super::audit_change(&state, &session.actor, "enter_absence", Some(&created.user_id)).await;
    }
    Ok((StatusCode::CREATED, Json(created)))
}

/// Removes an absence (its user, or the `manage_absences` right).
#[utoipa::path(delete, path = "/api/absences/{id}", tag = "working day", params(("id" = String, Path, description = "Absence id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let user_id = state.office.working_day.remove_absence(&session.actor, &id).await?;
    if user_id != session.actor.user_id {
        super::audit_change(&state, &session.actor, "remove_absence", Some(&user_id)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Whose attendance, over which span.
#[derive(Deserialize, IntoParams)]
pub struct AttendanceQuery {
    /// The user (default: oneself); another user needs `see_attendance`.
    pub user_id: Option<String>,
    /// Start, Unix milliseconds.
    pub from: Option<String>,
    /// End (exclusive), Unix milliseconds; at most 62 days after `from`.
    pub to: Option<String>,
}

/// Attendance times over a span (days are UTC days): one's own, or a colleague's with
/// `see_attendance` (written to the audit log). Extended profile only.
#[utoipa::path(get, path = "/api/attendance", tag = "working day", params(AttendanceQuery),
    responses((status = 200, body = AttendanceReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attendance(State(state): State<Arc<AppState>>, session: Session, Query(query): Query<AttendanceQuery>) -> ApiResult<Json<AttendanceReport>> {
    let (from, to) = (millis("from", query.from.as_deref())?, millis("to", query.to.as_deref())?);
    let user_id = query.user_id.unwrap_or_else(|| session.actor.user_id.clone());
    let report = state.office.working_day.attendance(&session.actor, &user_id, from, to).await?;
    if user_id != session.actor.user_id {
        super::audit_read(&state, &session.actor, "view_attendance", Some(&user_id));
    }
    Ok(Json(report))
}

/// Everyone's attendance over a span as CSV, one line per person and day (`see_attendance`;
/// written to the audit log).
#[utoipa::path(get, path = "/api/attendance/export", tag = "working day", params(Span),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attendance_csv(State(state): State<Arc<AppState>>, session: Session, Query(span): Query<Span>) -> ApiResult<impl IntoResponse> {
    let (from, to) = (millis("from", span.from.as_deref())?, millis("to", span.to.as_deref())?);
    let csv = state.office.working_day.attendance_csv(&session.actor, from, to).await?;
    super::audit_read(&state, &session.actor, "export_attendance", None);
    let headers = [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"bureau-attendance.csv\"")];
    Ok((headers, csv))
}

/// Whether the signed-in user has a private calendar feed of their absences.
#[utoipa::path(get, path = "/api/me/calendar-feed", tag = "working day", responses((status = 200, body = CalendarFeedStatus), (status = 422, body = ErrorBody)))]
pub async fn feed_status(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<Json<CalendarFeedStatus>> {
    Ok(Json(state.office.working_day.calendar_feed_status(&session.actor).await?))
}

/// A new secret address of the signed-in user's calendar feed (shown once; the previous
/// address stops working).
#[utoipa::path(post, path = "/api/me/calendar-feed", tag = "working day", responses((status = 201, body = CalendarFeed), (status = 422, body = ErrorBody)))]
pub async fn renew_feed(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<(StatusCode, Json<CalendarFeed>)> {
    Ok((StatusCode::CREATED, Json(state.office.working_day.renew_calendar_feed(&session.actor).await?)))
}

/// Turns the signed-in user's calendar feed off.
#[utoipa::path(delete, path = "/api/me/calendar-feed", tag = "working day", responses((status = 204)))]
pub async fn remove_feed(State(state): State<Arc<AppState>>, session: Session) -> ApiResult<StatusCode> {
    state.office.working_day.remove_calendar_feed(&session.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A calendar feed (iCalendar) of its owner's absences, for calendar programs: the secret in
/// the address is the only credential. Unknown or renewed secrets answer 404.
#[utoipa::path(get, path = "/api/calendar/{secret}", tag = "working day", params(("secret" = String, Path, description = "The feed's secret, with `.ics`")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody)))]
pub async fn feed(State(state): State<Arc<AppState>>, Path(secret): Path<String>) -> ApiResult<impl IntoResponse> {
    let ics = state.office.working_day.calendar_feed(&secret).await?;
    let headers = [(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=300")];
    Ok((headers, ics))
}
