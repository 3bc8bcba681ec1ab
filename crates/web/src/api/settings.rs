//! `/api/v1/settings`: the store's settings as one JSON document.

use axum::Json;
use axum::extract::State;
use lunas_core::Settings;

use crate::extract::ApiJson;
use crate::{ApiError, AppState};

pub(crate) async fn get(State(state): State<AppState>) -> Json<Settings> {
    Json((*state.engine.settings()).clone())
}

/// Merges a partial document into the settings and returns the whole: objects merge key by key,
/// any other value given (an array, a string, `null`) replaces the current one — so `null` sets
/// an optional field to none — and what is left out stays. The merged result is checked whole
/// before anything is saved.
pub(crate) async fn put(
    State(state): State<AppState>,
    body: ApiJson<serde_json::Value>,
) -> Result<Json<Settings>, ApiError> {
    if !body.value.is_object() {
        return Err(ApiError::unprocessable(
            "invalid_settings",
            "settings must be a JSON object",
        ));
    }
    let mut merged =
        serde_json::to_value(&*state.engine.settings()).expect("settings always serialise");
    merge(&mut merged, body.value);
    let settings: Settings = serde_json::from_value(merged).map_err(|e| {
        ApiError::unprocessable("invalid_settings", format!("the settings do not fit: {e}"))
    })?;
    let settings = state.engine.put_settings(settings).await?;
    Ok(Json((*settings).clone()))
}

/// Merges `patch` into `target`. Unlike JSON Merge Patch (RFC 7386), `null` is a value here, not
/// a deletion: deleting a key would bring back its default, and `"quiet_hours": null` means "no
/// quiet hours".
fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(target), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}
