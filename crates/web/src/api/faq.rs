//! `/api/v1/faq`: the shop's FAQ entries, and a text matched against them the way a buyer's
//! message is.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lunas_core::faq::FaqEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::ErrorResponse;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// An entry as it is written: the ways buyers ask, and the answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaqInput)]
pub(crate) struct EntryBody {
    /// 1 to 50 ways buyers ask it, 1 to 300 characters each, in their words ("ready kak?").
    #[schema(min_items = 1, max_items = 50)]
    questions: Vec<String>,
    /// 1 to 1,000 characters; `{nama}`, `{harga}` and `{stok}` are filled from the product (the
    /// entry's, or the one the buyer's message names).
    #[schema(min_length = 1, max_length = 1000)]
    answer: String,
    /// The product the entry is about.
    sku: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Faq)]
pub(crate) struct EntryView {
    id: String,
    questions: Vec<String>,
    answer: String,
    sku: Option<String>,
}

impl From<FaqEntry> for EntryView {
    fn from(e: FaqEntry) -> EntryView {
        EntryView {
            id: e.id,
            questions: e.questions,
            answer: e.answer,
            sku: e.sku,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = FaqList)]
pub(crate) struct ListView {
    items: Vec<EntryView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaqMatchInput)]
pub(crate) struct MatchBody {
    /// A buyer's message, as they wrote it.
    #[schema(max_length = 4096)]
    text: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FaqMatch)]
pub(crate) struct MatchView {
    /// The entry that answers the text; null below the shop's threshold.
    faq_id: Option<String>,
    /// How sure the best match is, 0 to 1.
    #[schema(minimum = 0, maximum = 1)]
    score: f64,
    /// The answer a buyer would get, its product's facts filled in; null with `faq_id`.
    answer: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/faq",
    operation_id = "listFaq",
    summary = "The shop's FAQ entries",
    description = "Every entry, by id.",
    responses((status = 200, description = "The entries.", body = ListView))
)]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<ListView>, ApiError> {
    let entries = state.engine.faq_entries().await?;
    Ok(Json(ListView {
        items: entries.into_iter().map(EntryView::from).collect(),
    }))
}

#[utoipa::path(
    put,
    path = "/api/v1/faq/{id}",
    operation_id = "putFaq",
    summary = "Keep an FAQ entry",
    description = "Creates the entry or replaces the one of this id. Questions are trimmed and repeated ones dropped; a question with no words to match (only a greeting) is refused, as is an answer with a placeholder other than `{nama}`, `{harga}`, `{stok}` (`invalid_faq`) and a SKU no product has (`unknown_sku`).",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "1 to 64 letters, digits, `-` or `_`.")),
    request_body = EntryBody,
    responses(
        (status = 200, description = "Replaced.", body = EntryView),
        (status = 201, description = "Created.", body = EntryView),
        (status = 409, response = ErrorResponse),
        (status = 422, response = ErrorResponse),
    )
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: ApiJson<EntryBody>,
) -> Result<(StatusCode, Json<EntryView>), ApiError> {
    let body = body.value;
    let (entry, created) = state
        .engine
        .put_faq(FaqEntry {
            id,
            questions: body.questions,
            answer: body.answer,
            sku: body.sku,
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry.into())))
}

#[utoipa::path(
    delete,
    path = "/api/v1/faq/{id}",
    operation_id = "deleteFaq",
    summary = "Remove an FAQ entry",
    params(("id" = String, Path)),
    responses((status = 204, description = "Removed."), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.delete_faq(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/faq/match",
    operation_id = "matchFaq",
    summary = "Match a text against the FAQ",
    description = "What the FAQ bot makes of a buyer's message: the best entry and its confidence; `faq_id` and `answer` are null below the shop's threshold (`conversations.faq_threshold_percent` in the settings) or when the answer needs a product and the text names none.",
    request_body = MatchBody,
    responses(
        (status = 200, description = "The match.", body = MatchView),
        (status = 422, response = ErrorResponse),
    )
)]
pub(crate) async fn match_text(
    State(state): State<AppState>,
    body: ApiJson<MatchBody>,
) -> Result<Json<MatchView>, ApiError> {
    let text = body.value.text;
    if text.chars().count() > lunas_core::conversations::TEXT_CHARS_MAX {
        return Err(ApiError::unprocessable(
            "invalid_text",
            "text must be at most 4096 characters",
        ));
    }
    let found = state.engine.match_faq(&text).await?;
    Ok(Json(MatchView {
        faq_id: found.faq_id,
        score: found.score,
        answer: found.answer,
    }))
}
