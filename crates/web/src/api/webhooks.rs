//! `/api/v1/webhooks`: outgoing webhook endpoints. The signing secret is shown once, when the
//! endpoint is created.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use lunas_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

#[derive(Deserialize)]
pub(crate) struct CreateBody {
    url: String,
}

#[derive(Serialize)]
pub(crate) struct CreatedView {
    id: String,
    url: String,
    /// `whsec_…`: verify deliveries with it; it is not shown again.
    secret: String,
    created_at: Timestamp,
}

#[derive(Serialize)]
pub(crate) struct EndpointView {
    id: String,
    url: String,
    created_at: Timestamp,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let endpoint = state
        .engine
        .create_webhook(&body.value.url, caller.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: endpoint.id,
            url: endpoint.url,
            secret: endpoint.secret,
            created_at: endpoint.created_at,
        }),
    ))
}

pub(crate) async fn list(
    State(state): State<AppState>,
) -> Result<Json<Vec<EndpointView>>, ApiError> {
    let endpoints = state.engine.webhooks().await?;
    Ok(Json(
        endpoints
            .into_iter()
            .map(|e| EndpointView {
                id: e.id,
                url: e.url,
                created_at: e.created_at,
            })
            .collect(),
    ))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.engine.delete_webhook(id, caller.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook"))
    }
}
