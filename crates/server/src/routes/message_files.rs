//! Files of end-to-end encrypted messages (docs/messaging.md): the sender's browser uploads a
//! file's ciphertext as the raw request body, and the recipients' browsers download it by the
//! id that travels, with the key, inside an end-to-end encrypted message.
//!
//! The upload's body is read here, not by an extractor under the API's `max_body_bytes`
//! (1 MiB by default): the limit is the organisation's `messages_max_file_mb` (at most
//! 100 MiB), told before a byte is read when `Content-Length` already exceeds it, and enforced
//! while reading a body without one. No other route's limit changes.
//!
//! Each transfer holds its whole file in memory, so one node moves at most [`MAX_AT_ONCE`]
//! files at once (uploads and downloads together); one more is answered `503 busy` with
//! `Retry-After`, and the browser tries again.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bureau_office::{FileUploaded, OfficeError};
use futures_util::StreamExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::session::Session;

const MIB: usize = 1024 * 1024;
/// Message files one node uploads or downloads at once: at most 800 MiB of them in memory.
pub const MAX_AT_ONCE: usize = 8;

/// A place among the transfers running now, held until the response is made.
fn transfer_slot(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state.file_transfers.clone().try_acquire_owned().map_err(|_| ApiError::FilesBusy)
}

/// Uploads a file for end-to-end encrypted messages: the body is its ciphertext, made by the
/// sender's browser with a key the server never sees (`Content-Type: application/octet-stream`).
/// Kept until the organisation's message retention ends, or until the uploader deletes it.
/// Refused: empty (`422`), larger than the organisation's `messages_max_file_mb` (`413
/// file_too_large`), store and forward off (`409 peer_to_peer_only`), more than 60 uploads an
/// hour (`429`), more than 200 files or 1 GiB kept by the user at once (`422 quota_exceeded`).
#[utoipa::path(post, path = "/api/message-files", tag = "messaging",
    request_body(content = [u8], content_type = "application/octet-stream", description = "The file's ciphertext"),
    responses((status = 201, body = FileUploaded), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn upload(State(state): State<Arc<AppState>>, session: Session, headers: HeaderMap, body: Body) -> ApiResult<(StatusCode, Json<FileUploaded>)> {
    let octet_stream = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(|m| m.trim().eq_ignore_ascii_case("application/octet-stream"));
    if !octet_stream {
        return Err(ApiError::NotBytes);
    }
    let max = state.office.messaging.upload_limit(&session.actor).await?;
    let _slot = transfer_slot(&state)?;
    let too_large = || ApiError::from(OfficeError::FileTooLarge { max_mb: u32::try_from(max / MIB).unwrap_or(u32::MAX) });
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(too_large());
    }
    // What the client declared, within the limit, is reserved once; the bytes are then held once.
    let mut bytes = Vec::with_capacity(declared.map_or(0, |length| length as usize));
    let mut frames = body.into_data_stream();
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|_| ApiError::Unreadable)?;
        if bytes.len() + frame.len() > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&frame);
    }
    Ok((StatusCode::CREATED, Json(state.office.messaging.upload(&session.actor, bytes).await?)))
}

/// A file's ciphertext, for any member of the uploader's organisation. The id travels only
/// inside end-to-end encrypted messages, and the bytes are useless without the key that travels
/// with it (see `bureau_office`'s `message_files` module). `404` for an unknown or expired id
/// and for another organisation's file.
#[utoipa::path(get, path = "/api/message-files/{id}", tag = "messaging", params(("id" = String, Path, description = "File id")),
    responses((status = 200, content_type = "application/octet-stream", description = "The file's ciphertext"), (status = 404, body = ErrorBody)))]
pub async fn download(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<Response> {
    let _slot = transfer_slot(&state)?;
    let bytes = state.office.messaging.download(&session.actor, &id).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream"),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::CONTENT_DISPOSITION, "attachment"),
    ];
    Ok((headers, bytes).into_response())
}

/// Deletes one of the signed-in member's uploads (its message was deleted, or it is no longer
/// needed); anyone else's is not found.
#[utoipa::path(delete, path = "/api/message-files/{id}", tag = "messaging", params(("id" = String, Path, description = "File id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<Arc<AppState>>, session: Session, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.office.messaging.delete_file(&session.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
