//! `/api/v1/settings`: the store's settings as one JSON document.

use axum::Json;
use axum::extract::{Extension, State};
use lunas_core::Settings;

use crate::auth::Caller;
use crate::extract::ApiValue;
use crate::{ApiError, AppState};

pub(crate) async fn get(State(state): State<AppState>) -> Json<Settings> {
    Json((*state.engine.settings()).clone())
}

/// Merges a partial document into the settings and returns the whole (see
/// `Engine::update_settings`); the change is written to the audit log.
pub(crate) async fn put(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiValue(patch): ApiValue,
) -> Result<Json<Settings>, ApiError> {
    let settings = state.engine.update_settings(patch, caller.actor()).await?;
    Ok(Json((*settings).clone()))
}
