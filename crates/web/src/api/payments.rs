//! `/api/v1/statements`, `/api/v1/payments/review` and `/api/v1/orders/{id}/payment-link`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use lunas_core::ledger::ResolveAction;
use lunas_core::order::clean_text;
use lunas_engine::gateways::Gateway;
use serde::{Deserialize, Serialize};

use super::orders::parse_order_id;
use super::views::{OrderView, PageView, ReviewView};
use crate::auth::Caller;
use crate::extract::{ApiJson, RawBody};
use crate::{ApiError, AppState};

/// Largest statement accepted: a 200,000-line export is about 20 MB.
pub(crate) const STATEMENT_BYTES_MAX: usize = 32 * 1024 * 1024;

#[derive(Serialize)]
pub(crate) struct ImportView {
    pub format: &'static str,
    pub lines: usize,
    pub matched: usize,
    pub review: usize,
    pub duplicates: usize,
    pub ignored: usize,
    /// Lines that did not read and were skipped (`skip_bad_lines=true`).
    pub bad_lines: Vec<lunas_core::statement::LineError>,
}

fn flag(query: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::unprocessable(
            "invalid_query",
            format!("{name} must be true or false"),
        )),
    }
}

pub(crate) async fn import_statement(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
    body: RawBody,
) -> Result<Json<ImportView>, ApiError> {
    let skip_bad_lines = flag(&query, "skip_bad_lines")?;
    let text = std::str::from_utf8(&body.0).map_err(|_| {
        ApiError::unprocessable("invalid_statement", "the statement is not UTF-8 text")
    })?;
    let import = state
        .engine
        .import_statement(text, skip_bad_lines, caller.actor())
        .await?;
    Ok(Json(ImportView {
        format: import.format.as_str(),
        lines: import.lines,
        matched: import.report.matched,
        review: import.report.review,
        duplicates: import.report.duplicates,
        ignored: import.report.ignored,
        bad_lines: import.bad_lines,
    }))
}

pub(crate) async fn review_list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageView<ReviewView, i64>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let all = flag(&query, "all")?;
    let after = match query.get("after") {
        None => 0,
        Some(raw) => raw.parse::<i64>().map_err(|_| {
            ApiError::unprocessable("invalid_query", "after must be a review item id")
        })?,
    };
    let items = state.engine.reviews(all, after, limit).await?;
    let next_after = (items.len() == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(PageView {
        items: items.into_iter().map(ReviewView::from).collect(),
        next_after,
    }))
}

#[derive(Deserialize)]
pub(crate) struct ResolveBody {
    /// Apply the money to this order.
    pub(crate) order_id: Option<i64>,
    /// Or close the item with this note.
    pub(crate) note: Option<String>,
}

pub(crate) fn parse_resolution(body: ResolveBody) -> Result<ResolveAction, ApiError> {
    let note = match body.note.as_deref() {
        None => None,
        Some(raw) => clean_text(raw)
            .map_err(|e| ApiError::unprocessable("invalid_note", format!("note {e}")))?,
    };
    match (body.order_id, note) {
        (Some(order), None) => Ok(ResolveAction::Assign(parse_order_id(&order.to_string())?)),
        (None, Some(note)) => Ok(ResolveAction::Close(note)),
        _ => Err(ApiError::unprocessable(
            "invalid_resolution",
            "give either order_id (to apply the money to that order) or a note (to close the item)",
        )),
    }
}

pub(crate) fn parse_review_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("review item"))
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<ResolveBody>,
) -> Result<Json<ReviewView>, ApiError> {
    let id = parse_review_id(&id)?;
    let action = parse_resolution(body.value)?;
    let review = state
        .engine
        .resolve_review(id, action, caller.actor())
        .await?;
    Ok(Json(review.into()))
}

#[derive(Deserialize)]
pub(crate) struct PaymentLinkBody {
    gateway: String,
}

pub(crate) async fn payment_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: ApiJson<PaymentLinkBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let gateway = Gateway::parse(&body.value.gateway).ok_or_else(|| {
        ApiError::unprocessable("invalid_gateway", "gateway must be midtrans or xendit")
    })?;
    let order = state.engine.create_payment_link(id, gateway).await?;
    Ok(Json(OrderView::new(
        order,
        state.engine.settings().currency.code(),
    )))
}
