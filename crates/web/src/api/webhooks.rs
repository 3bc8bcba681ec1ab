//! `/api/v1/webhooks`: outgoing webhook endpoints. The signing secret is shown once, when the
//! endpoint is created.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use lunas_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Where to deliver events.
#[derive(Deserialize, ToSchema)]
#[schema(as = WebhookInput)]
pub(crate) struct CreateBody {
    #[schema(value_type = super::document::WebhookUrl)]
    url: String,
}

/// A new endpoint, with its signing secret (shown once).
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookCreated)]
pub(crate) struct CreatedView {
    id: String,
    url: String,
    /// `whsec_…`: verify deliveries with it; it is not shown again.
    secret: String,
    created_at: Timestamp,
}

/// A webhook endpoint (without its secret).
#[derive(Serialize, ToSchema)]
#[schema(as = Webhook)]
pub(crate) struct EndpointView {
    id: String,
    url: String,
    created_at: Timestamp,
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "createWebhook",
    summary = "Register a webhook endpoint",
    description = "Returns the signing secret (whsec_…) once. Deliveries are signed per Standard Webhooks. URLs must be http(s) and, unless the server allows it, public.",
    request_body = CreateBody,
    responses((status = 201, description = "Created", body = CreatedView))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "listWebhooks",
    summary = "Webhook endpoints (without secrets)",
    responses((status = 200, body = Vec<EndpointView>))
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    operation_id = "deleteWebhook",
    summary = "Remove a webhook endpoint",
    params(("id" = String, Path)),
    responses((status = 204, description = "Removed."), (status = 404, response = super::document::ErrorResponse))
)]
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
