//! `/api/v1/settings`: the store's settings as one JSON document.

use axum::Json;
use axum::extract::State;
use lunas_core::Settings;

use crate::extract::ApiJson;
use crate::{ApiError, AppState};

pub(crate) async fn get(State(state): State<AppState>) -> Json<Settings> {
    Json((*state.engine.settings()).clone())
}

/// Replaces the settings; fields left out take their defaults.
pub(crate) async fn put(
    State(state): State<AppState>,
    body: Result<ApiJson<Settings>, ApiError>,
) -> Result<Json<Settings>, ApiError> {
    let body = body.map_err(|e| match e.code {
        "invalid_request" => ApiError::unprocessable("invalid_settings", e.message),
        _ => e,
    })?;
    let settings = state.engine.put_settings(body.value).await?;
    Ok(Json((*settings).clone()))
}
