//! `/api/v1/settings`: the store's settings as one JSON document.

use axum::Json;
use axum::extract::{Extension, State};
use lunas_core::Settings;

use crate::auth::Caller;
use crate::extract::ApiValue;
use crate::{ApiError, AppState};

#[utoipa::path(
    get,
    path = "/api/v1/settings",
    operation_id = "getSettings",
    summary = "Read the store's settings",
    responses((status = 200, body = Settings))
)]
pub(crate) async fn get(State(state): State<AppState>) -> Json<Settings> {
    Json((*state.engine.settings()).clone())
}

/// Merges a partial document into the settings and returns the whole (see
/// `Engine::update_settings`); the change is written to the audit log.
#[utoipa::path(
    put,
    path = "/api/v1/settings",
    operation_id = "putSettings",
    summary = "Change the store's settings",
    description = "Merges a partial document into the settings: objects merge key by key, any other value (including null) replaces, fields left out stay. Unknown fields, and settings that do not hold together (a minimum above its maximum, a template that does not render), are refused with `invalid_settings` and change nothing. docs/api.md lists every key and its default.",
    request_body = Settings,
    responses((status = 200, body = Settings))
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiValue(patch): ApiValue,
) -> Result<Json<Settings>, ApiError> {
    let settings = state.engine.update_settings(patch, caller.actor()).await?;
    Ok(Json((*settings).clone()))
}
