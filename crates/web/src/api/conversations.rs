//! `GET /api/v1/conversations` and `GET /api/v1/conversations/{phone}`: the numbers buyers wrote
//! from, and one number's messages in both directions, oldest first.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use lunas_core::Phone;
use lunas_core::conversations::{AnsweredBy, Direction};
use serde::Serialize;
use utoipa::ToSchema;

use super::document::ErrorResponse;
use super::{PAGE_LEN_DEFAULT, PAGE_LEN_MAX};
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
#[schema(as = ConversationListItem)]
pub(crate) struct SummaryView {
    /// The buyer's number, E.164.
    phone: String,
    /// The buyer's name, when the number has ordered.
    name: Option<String>,
    /// The latest message from this number.
    #[schema(format = DateTime)]
    last_at: String,
    last_text: Option<String>,
    last_kind: &'static str,
    /// Messages from this number.
    inbound: i64,
    /// The buyer's first message since lunas last wrote to them over WhatsApp: waiting for an
    /// answer since then; null when answered.
    #[schema(format = DateTime)]
    waiting_since: Option<String>,
    /// How long they have waited, in minutes of the shop's business hours
    /// (`business_hours` in the settings: nights, closed days and holidays not counted).
    waiting_business_minutes: Option<i64>,
    /// `open`, `ordered` (an order was placed after their first message) or `ghosted` (no
    /// order, quiet for the settings' `conversations.ghosted_after_days`).
    state: lunas_core::conversations::InquiryState,
    /// The order the inquiry became.
    order_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConversationList)]
pub(crate) struct ListView {
    items: Vec<SummaryView>,
    /// Pass as `before` for the next page; absent on the last.
    next_before: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConversationMessageView)]
pub(crate) struct MessageView {
    direction: Direction,
    #[schema(format = DateTime)]
    at: String,
    text: Option<String>,
    /// A buyer's message's kind (`text`, `image`, `choice`…); a message to them, its kind
    /// (`reminder`, `order_placed`…).
    kind: String,
    /// Who answered, for a reply to the buyer: `staff` or `bot`; null otherwise.
    answered_by: Option<AnsweredBy>,
    /// For a buyer's message the FAQ bot matched: the entry, and what became of it (`sent`,
    /// `suggested`, `accepted`, `dismissed`, `corrected`).
    faq_id: Option<String>,
    faq_state: Option<lunas_core::conversations::FaqState>,
    /// For a message to the buyer sent through WhatsApp: what WhatsApp last said of it (`sent`,
    /// `delivered`, `read`, `failed`).
    delivery: Option<lunas_core::conversations::Delivery>,
    /// A buyer's message that reads as a format order (a product of the catalogue and a name or
    /// an address): a draft for staff to confirm (`POST /api/v1/orders/parse` reads it whole).
    format_order: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Conversation)]
pub(crate) struct ConversationView {
    phone: String,
    /// What the number's messages say next to what it bought: a `tire_kicker` never paid and
    /// asked a lot (15 messages), on many days (3), or haggled often (3 times).
    signals: lunas_core::signals::ChatSignals,
    messages: Vec<MessageView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    operation_id = "listConversations",
    summary = "The numbers buyers wrote from",
    description = "By their latest message, newest first, with the buyer's name when the number has ordered, and, for a buyer waiting for an answer, since when and for how many minutes of the shop's business hours.",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 100, description = "Default 50."),
        ("before" = Option<String>, Query, format = DateTime, description = "Only conversations whose latest message is before this time (the previous page's `next_before`)."),
    ),
    responses(
        (status = 200, description = "The conversations.", body = ListView),
        (status = 422, response = ErrorResponse),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<ListView>, ApiError> {
    // A parameter given must read: an empty one is not "absent".
    let limit = match query.get("limit").map(|l| l.trim()) {
        None => PAGE_LEN_DEFAULT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=PAGE_LEN_MAX).contains(l))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_query",
                    format!("limit must be 1 to {PAGE_LEN_MAX}"),
                )
            })?,
    };
    let before = match query.get("before").map(|b| b.trim()) {
        None => None,
        Some(raw) => Some(raw.parse::<lunas_core::Timestamp>().map_err(|_| {
            ApiError::unprocessable("invalid_query", "before must be an RFC 3339 time")
        })?),
    };
    let found = state.engine.conversations(before, limit).await?;
    let settings = state.engine.settings();
    let (now, tz) = (state.engine.now(), settings.time_zone());
    let next_before = (found.len() == limit)
        .then(|| found.last().map(|c| c.last_at.to_string()))
        .flatten();
    Ok(Json(ListView {
        items: found
            .into_iter()
            .map(|c| SummaryView {
                state: c.state(now, settings.conversations.ghosted_after_days),
                phone: c.phone.as_str().to_owned(),
                name: c.name,
                last_at: c.last_at.to_string(),
                last_text: c.last_text,
                last_kind: c.last_kind.as_str(),
                inbound: c.inbound,
                waiting_since: c.waiting_since.map(|t| t.to_string()),
                waiting_business_minutes: c
                    .waiting_since
                    .map(|since| settings.business_hours.between(since, now, &tz).as_mins()),
                order_id: c.order_id,
            })
            .collect(),
        next_before,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/conversations/{phone}",
    operation_id = "getConversation",
    summary = "One number's conversation",
    description = "The messages the buyer sent (every kind, each once however often it was delivered) and those lunas sent them over WhatsApp (by the channel, or marked sent from the manual queue), oldest first; the newest 500. A number nobody wrote from answers an empty list.",
    params(("phone" = String, Path, description = "The buyer's number in any common form (`0812…`, `+62812…`).")),
    responses(
        (status = 200, description = "The conversation.", body = ConversationView),
        (status = 404, response = ErrorResponse),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    let phone = Phone::parse(&phone).map_err(|_| ApiError::not_found("conversation"))?;
    let messages = state.engine.conversation(phone.clone()).await?;
    let mut orders = Vec::with_capacity(messages.len());
    for m in &messages {
        let order = match (&m.text, m.direction) {
            (Some(text), Direction::In) => state.engine.chat_order(text).await?.is_some(),
            _ => false,
        };
        orders.push(order);
    }
    let signals = state.engine.chat_signals(&phone).await?;
    Ok(Json(ConversationView {
        signals,
        phone: phone.as_str().to_owned(),
        messages: messages
            .into_iter()
            .zip(orders)
            .map(|(m, format_order)| MessageView {
                format_order,
                direction: m.direction,
                at: m.at.to_string(),
                text: m.text,
                kind: m.kind,
                answered_by: m.answered_by,
                faq_id: m.faq.as_ref().map(|f| f.faq_id.clone()),
                faq_state: m.faq.map(|f| f.state),
                delivery: m.delivery,
            })
            .collect(),
    }))
}
