//! Operations endpoints: health, readiness, Prometheus metrics and the OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the node is not shutting down, the database answers, and so does Redis when the
/// nodes share one.
pub async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.live.draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    if !state.live.ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable");
    }
    match state.office.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    text.push_str(&state.live.render_metrics());
    if let Some(turn) = &state.turn_metrics {
        text.push_str(&turn.render());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The OpenAPI 3 description of the REST API, generated from the handlers' annotations.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(super::api_doc())
}
