//! API errors: each maps to exactly one HTTP status and a stable `code`; the JSON body is
//! `{"code": "...", "message": "..."}` (plus `field` for a bad field). Internal details are
//! logged, never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bureau_office::OfficeError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answered to an API client.
#[derive(Debug)]
pub enum ApiError {
    /// An error of the domain services.
    Office(OfficeError),
    /// The body is not valid JSON.
    BadJson(String),
    /// The body is JSON with wrong types or unknown fields.
    BadShape(String),
    /// The request body is larger than allowed.
    TooLarge,
    /// A body was sent without `Content-Type: application/json`.
    NotJson,
    /// A file's bytes were sent without `Content-Type: application/octet-stream`.
    NotBytes,
    /// The request body could not be read to its end (the client stopped sending).
    Unreadable,
    /// A state-changing request came from another site.
    CrossOrigin,
    /// No such API route.
    NoRoute,
    /// This node is shutting down: connect again (the load balancer picks another node).
    Draining,
    /// This node moves as many message files as it may at once: try again in a few seconds.
    FilesBusy,
}

/// The JSON body of every error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl From<OfficeError> for ApiError {
    fn from(err: OfficeError) -> Self {
        ApiError::Office(err)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::BadShape(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadJson(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::NotJson,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            other => ApiError::BadJson(other.body_text()),
        }
    }
}

impl ApiError {
    /// The status and code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use OfficeError as O;
        match self {
            ApiError::Office(err) => match err {
                O::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
                O::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
                O::InvalidCode => (StatusCode::UNAUTHORIZED, "invalid_code"),
                O::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "second_factor_required"),
                O::SmsFailed => (StatusCode::BAD_GATEWAY, "sms_unavailable"),
                O::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
                O::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
                O::Restricted => (StatusCode::FORBIDDEN, "restricted"),
                O::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
                O::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                O::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
                O::FieldDisabled(_) => (StatusCode::UNPROCESSABLE_ENTITY, "field_disabled"),
                O::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                O::LinkFull(_) => (StatusCode::CONFLICT, "link_full"),
                O::PeerToPeerOnly => (StatusCode::CONFLICT, "peer_to_peer_only"),
                O::FileTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
                O::QuotaExceeded(_) => (StatusCode::UNPROCESSABLE_ENTITY, "quota_exceeded"),
                O::ChooseOrganisation(_) => (StatusCode::CONFLICT, "choose_organisation"),
                O::InvalidToken => (StatusCode::GONE, "invalid_token"),
                O::MailFailed => (StatusCode::BAD_GATEWAY, "mail_failed"),
                O::Tampered => (StatusCode::INTERNAL_SERVER_ERROR, "integrity"),
                O::Store(_) | O::Vault(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            },
            ApiError::BadJson(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::BadShape(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::NotJson | ApiError::NotBytes => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Unreadable => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::CrossOrigin => (StatusCode::FORBIDDEN, "cross_origin"),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Draining => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
            ApiError::FilesBusy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Office(OfficeError::Tampered) => "stored data failed an integrity check; the incident was logged".into(),
            ApiError::Office(OfficeError::Store(_) | OfficeError::Vault(_)) => {
                "the service is temporarily unavailable; try again shortly".into()
            }
            ApiError::Office(err) => err.to_string(),
            ApiError::BadJson(detail) => format!("the request body is not valid JSON: {detail}"),
            ApiError::BadShape(detail) => format!("the request body does not have the expected shape: {detail}"),
            ApiError::TooLarge => "the request body is too large".into(),
            ApiError::NotJson => "send the body as JSON with Content-Type: application/json".into(),
            ApiError::NotBytes => "send the file's bytes with Content-Type: application/octet-stream".into(),
            ApiError::Unreadable => "the request body could not be read to its end".into(),
            ApiError::CrossOrigin => "cross-site requests are not allowed".into(),
            ApiError::NoRoute => "no such API endpoint".into(),
            ApiError::Draining => "this server is shutting down; connect again".into(),
            ApiError::FilesBusy => "the server is moving as many files as it may at once; try again in a few seconds".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Office(err @ (OfficeError::Store(_) | OfficeError::Vault(_) | OfficeError::Tampered)) = &self {
            tracing::error!(code, "request failed: {err}");
        }
        let field = match &self {
            ApiError::Office(
                OfficeError::Invalid { field, .. } | OfficeError::FieldDisabled(field) | OfficeError::Conflict(field),
            ) => Some(*field),
            _ => None,
        };
        let body = ErrorBody { code, message: self.message(), field };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::Office(OfficeError::RateLimited(seconds)) = self
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let ApiError::FilesBusy = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// The result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;
