//! The embedded web client: the `web/` folder is built into the binary. Paths without a file
//! extension get `index.html`, so the client's own router handles `/login`, `/directory`, ...

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../web");

/// Serves a file of the web client, from `dev_dir` when set (development) or the binary.
pub async fn serve(uri: Uri, dev_dir: Option<PathBuf>) -> Response {
    let path = uri.path().trim_start_matches('/');
    let is_file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    let path = if is_file { path } else { "index.html" };
    if path.split('/').any(|part| part == ".." || part.starts_with('.')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body: Option<Body> = match dev_dir {
        Some(dir) => tokio::fs::read(dir.join(path)).await.ok().map(Body::from),
        None => WEB.get_file(path).map(|f| Body::from(f.contents())),
    };
    let Some(body) = body else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.essence_str()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
