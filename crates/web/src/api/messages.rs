//! Messages to buyers: an order's messages, the manual WhatsApp queue, marking sent, replaying,
//! template previews, and a buyer's reminder opt-out.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use lunas_core::messages::MessageKind;
use lunas_core::outbox::MessageId;
use lunas_core::{OrderId, Phone};
use serde::{Deserialize, Serialize};

use super::views::MessageView;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

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

pub(crate) async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id = parse_message_id(&id)?;
    Ok(Json(state.engine.replay_message(id).await?.into()))
}

#[derive(Deserialize)]
pub(crate) struct PreviewBody {
    kind: String,
    order_id: i64,
    template: Option<String>,
    /// For reminders: the cadence step (0-based) whose own template to use.
    step: Option<usize>,
}

#[derive(Serialize)]
pub(crate) struct PreviewView {
    kind: &'static str,
    order_id: i64,
    body: String,
}

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
    let text = state
        .engine
        .preview(kind, body.template, OrderId(body.order_id), body.step)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(PreviewView {
        kind: kind.as_str(),
        order_id: body.order_id,
        body: text,
    }))
}

#[derive(Deserialize)]
pub(crate) struct RemindersBody {
    enabled: bool,
}

#[derive(Serialize)]
pub(crate) struct RemindersView {
    phone: String,
    reminders_enabled: bool,
}

/// A buyer who asked not to be reminded: reminders stop, lifecycle messages still go.
pub(crate) async fn put_reminders(
    State(state): State<AppState>,
    Path(phone): Path<String>,
    body: ApiJson<RemindersBody>,
) -> Result<Json<RemindersView>, ApiError> {
    let phone = Phone::parse(&phone)
        .map_err(|e| ApiError::unprocessable("invalid_phone", e.to_string()))?;
    state
        .engine
        .set_no_reminders(phone.clone(), !body.value.enabled)
        .await?;
    Ok(Json(RemindersView {
        phone: phone.as_str().to_owned(),
        reminders_enabled: body.value.enabled,
    }))
}

pub(crate) async fn get_reminders(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<RemindersView>, ApiError> {
    let phone = Phone::parse(&phone).map_err(|_| ApiError::not_found("buyer"))?;
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
