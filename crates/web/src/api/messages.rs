//! Messages to buyers: an order's messages, the manual WhatsApp queue, marking sent, replaying,
//! template previews, and a buyer's reminder opt-out.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use lunas_core::OrderId;
use lunas_core::messages::MessageKind;
use lunas_core::outbox::MessageId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ErrorResponse, PhoneNumber};
use super::views::MessageView;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/messages",
    operation_id = "orderMessages",
    summary = "An order's messages",
    description = "Every message written about the order, oldest first, with its status, attempts and last error.",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Vec<MessageView>), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn of_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let id = super::orders::parse_order_id(&id)?;
    if state.engine.order(id).await?.is_none() {
        return Err(ApiError::not_found("order"));
    }
    let messages = state.engine.order_messages(id).await?;
    Ok(Json(messages.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    get,
    path = "/api/v1/messages/manual-queue",
    operation_id = "manualQueue",
    summary = "The manual WhatsApp queue",
    description = "Messages staff still have to send by hand, oldest first, each with its wa.me link.",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 100)),
    responses((status = 200, body = Vec<MessageView>), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn manual_queue(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let messages = state.engine.manual_queue(limit).await?;
    Ok(Json(messages.into_iter().map(Into::into).collect()))
}

/// A message id from a path; one that is not well formed names no message.
pub(crate) fn parse_message_id(raw: &str) -> Result<MessageId, ApiError> {
    MessageId::parse(raw).ok_or_else(|| ApiError::not_found("message"))
}

#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/sent",
    operation_id = "markSent",
    summary = "Mark a manual message sent",
    params(("id" = String, Path, max_length = 64)),
    responses((status = 200, body = MessageView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn mark_sent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id = parse_message_id(&id)?;
    Ok(Json(
        state
            .engine
            .mark_message_sent(id, caller.actor())
            .await?
            .into(),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/skip",
    operation_id = "skipMessage",
    summary = "Skip a manual message",
    description = "Takes a pending message off the manual WhatsApp queue without sending it (the buyer was told another way, or it is no longer wanted); it is kept as `skipped`, with who skipped it in `sent_by`.",
    params(("id" = String, Path, max_length = 64)),
    responses((status = 200, body = MessageView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn skip(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id = parse_message_id(&id)?;
    Ok(Json(
        state.engine.skip_message(id, caller.actor()).await?.into(),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/replay",
    operation_id = "replayMessage",
    summary = "Replay a dead message",
    description = "Puts a dead message back in the queue with its attempts reset; its id stays the same.",
    params(("id" = String, Path, max_length = 64)),
    responses((status = 200, body = MessageView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id = parse_message_id(&id)?;
    Ok(Json(state.engine.replay_message(id).await?.into()))
}

/// A template to render against a real order.
#[derive(Deserialize, ToSchema)]
#[schema(as = PreviewInput)]
pub(crate) struct PreviewBody {
    #[schema(value_type = MessageKind)]
    kind: String,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    order_id: i64,
    /// The template to try; absent or `null` for the store's own.
    #[schema(value_type = Option<super::document::TemplateText>)]
    template: Option<String>,
    /// For reminders: the cadence step (0-based) whose own template to use.
    #[schema(minimum = 0, maximum = 9)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    step: Option<i64>,
}

/// A template as rendered.
#[derive(Serialize, ToSchema)]
#[schema(as = Preview)]
pub(crate) struct PreviewView {
    #[schema(value_type = MessageKind)]
    kind: &'static str,
    order_id: i64,
    body: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/templates/preview",
    operation_id = "previewTemplate",
    summary = "Render a template against a real order",
    request_body = PreviewBody,
    responses((status = 200, body = PreviewView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    body: ApiJson<PreviewBody>,
) -> Result<Json<PreviewView>, ApiError> {
    let body = body.value;
    let kind = MessageKind::parse(&body.kind).ok_or_else(|| {
        let known: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::unprocessable(
            "invalid_kind",
            format!("kind must be one of {}", known.join(", ")),
        )
    })?;
    let step = body
        .step
        .map(|s| {
            usize::try_from(s).map_err(|_| {
                ApiError::unprocessable("invalid_step", "step must be a whole number from 0")
            })
        })
        .transpose()?;
    let text = state
        .engine
        .preview(kind, body.template, OrderId(body.order_id), step)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(PreviewView {
        kind: kind.as_str(),
        order_id: body.order_id,
        body: text,
    }))
}

/// Whether the buyer gets reminders.
#[derive(Deserialize, ToSchema)]
#[schema(as = RemindersInput)]
pub(crate) struct RemindersBody {
    enabled: bool,
}

/// Whether a buyer gets reminders.
#[derive(Serialize, ToSchema)]
#[schema(as = BuyerReminders)]
pub(crate) struct RemindersView {
    /// E.164.
    phone: String,
    reminders_enabled: bool,
}

/// A buyer who asked not to be reminded: reminders stop, lifecycle messages still go.
#[utoipa::path(
    put,
    path = "/api/v1/customers/{phone}/reminders",
    operation_id = "putReminders",
    summary = "Opt a buyer out of reminders (or back in)",
    description = "Lifecycle messages still go.",
    params(("phone" = PhoneNumber, Path)),
    request_body = RemindersBody,
    responses((status = 200, body = RemindersView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn put_reminders(
    State(state): State<AppState>,
    Path(phone): Path<String>,
    body: ApiJson<RemindersBody>,
) -> Result<Json<RemindersView>, ApiError> {
    let phone = super::customers::parse_phone(&phone)?;
    state
        .engine
        .set_no_reminders(phone.clone(), !body.value.enabled)
        .await?;
    Ok(Json(RemindersView {
        phone: phone.as_str().to_owned(),
        reminders_enabled: body.value.enabled,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{phone}/reminders",
    operation_id = "getReminders",
    summary = "Whether a buyer gets reminders",
    params(("phone" = PhoneNumber, Path)),
    responses((status = 200, body = RemindersView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn get_reminders(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<RemindersView>, ApiError> {
    let phone = super::customers::parse_phone(&phone)?;
    let no_reminders = state
        .engine
        .no_reminders(phone.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("buyer"))?;
    Ok(Json(RemindersView {
        phone: phone.as_str().to_owned(),
        reminders_enabled: !no_reminders,
    }))
}
