//! `/api/v1/statements`, `/api/v1/payments/review` and `/api/v1/orders/{id}/payment-link`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use lunas_core::ledger::ResolveAction;
use lunas_core::order::clean_text;
use lunas_engine::gateways::Gateway;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ErrorResponse, StatementCsv, Text};
use super::orders::parse_order_id;
use super::views::{OrderView, PageView, ReviewView};
use crate::auth::Caller;
use crate::extract::{ApiJson, RawBody};
use crate::{ApiError, AppState};

/// Largest statement accepted: a 200,000-line export is about 20 MB.
pub(crate) const STATEMENT_BYTES_MAX: usize = 32 * 1024 * 1024;

/// What importing a statement did.
#[derive(Serialize, ToSchema)]
#[schema(as = StatementImport)]
pub(crate) struct ImportView {
    /// The layout recognised: `generic`, `bca`, `mandiri` or `bri`.
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

#[utoipa::path(
    post,
    path = "/api/v1/statements",
    operation_id = "importStatement",
    summary = "Import a bank statement",
    description = "A CSV statement: the generic layout (header date,description,amount,balance; date YYYY-MM-DD or DD/MM/YYYY; amounts in rupiah, a credit positive) or a BCA, Mandiri or BRI export. Credits are matched to open orders by exact amount (and an order number such as #1042 in the description); ambiguous or unmatched credits go to the review list, never guessed. Lines imported before are duplicates. A line that does not read refuses the whole file (`malformed_lines`, with each bad line's number) unless skip_bad_lines=true.",
    params(("skip_bad_lines" = Option<bool>, Query)),
    request_body(content = StatementCsv, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported", body = ImportView),
        (status = 400, response = ErrorResponse),
        (status = 413, response = ErrorResponse),
        (status = 422, response = ErrorResponse),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/payments/review",
    operation_id = "paymentReviews",
    summary = "Money that needs a human",
    description = "Open review items oldest first (all=true: resolved ones too): unmatched, ambiguous or mismatched credits, money for orders that ended, overpayments, gateway notifications for unknown orders or with the wrong amount, gateway refunds and fraud challenges.",
    params(
        ("all" = Option<bool>, Query),
        ("after" = Option<i64>, Query, minimum = 0, description = "`next_after` of the page before."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
    ),
    responses((status = 200, body = PageView<ReviewView, i64>), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn review_list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageView<ReviewView, i64>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let all = flag(&query, "all")?;
    let after = super::cursor(
        query.get("after"),
        "invalid_query",
        "after must be a review item id",
    )?
    .unwrap_or(0);
    let items = state.engine.reviews(all, after, limit).await?;
    let next_after = (items.len() == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(PageView {
        items: items.into_iter().map(ReviewView::from).collect(),
        next_after,
    }))
}

/// How a review item is resolved: read as one struct, so that giving both or neither gets its
/// own error; described as the choice it is by [`Resolution`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveBody {
    /// Apply the money to this order.
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) order_id: Option<i64>,
    /// Or close the item with this note.
    pub(crate) note: Option<String>,
}

/// Either the money becomes a payment of an order, or the item is closed with a note.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = ResolveInput)]
#[allow(dead_code)] // The document's view of `ResolveBody`.
pub(crate) enum Resolution {
    /// The item's money becomes a payment of this order.
    Assign(AssignResolution),
    /// The item is closed (refunded, not a sale…).
    Close(CloseResolution),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssignResolution)]
#[allow(dead_code)]
pub(crate) struct AssignResolution {
    #[schema(minimum = 1)]
    order_id: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CloseResolution)]
#[allow(dead_code)]
pub(crate) struct CloseResolution {
    #[schema(value_type = Text)]
    note: String,
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

#[utoipa::path(
    post,
    path = "/api/v1/payments/review/{id}/resolve",
    operation_id = "resolvePaymentReview",
    summary = "Resolve a review item",
    description = "Either {\"order_id\": N}: the item's money becomes a payment of that order (by the usual rules: partial, paid, late); only for money that is on no order yet (`review_not_assignable` otherwise). Or {\"note\": \"…\"}: close the item (refunded, not a sale…).",
    params(("id" = i64, Path, minimum = 1)),
    request_body = Resolution,
    responses((status = 200, description = "Resolved", body = ReviewView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
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

/// The gateway to make the payment page at.
#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentLinkInput)]
pub(crate) struct PaymentLinkBody {
    #[schema(value_type = GatewayName)]
    gateway: String,
}

/// A payment gateway lunas makes payment pages at.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // The values `Gateway::parse` reads.
pub(crate) enum GatewayName {
    Midtrans,
    Xendit,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/payment-link",
    operation_id = "createPaymentLink",
    summary = "Make a payment page at a gateway",
    description = "Creates a Midtrans Snap transaction or a Xendit invoice for what the order has left to pay and keeps its address on the order (payment_url); messages to the buyer then point to it. A gateway the server has no key for is refused with `gateway_not_configured` (409).",
    params(("id" = i64, Path, minimum = 1)),
    request_body = PaymentLinkBody,
    responses(
        (status = 200, body = OrderView),
        (status = 404, response = ErrorResponse),
        (status = 409, response = ErrorResponse),
        (status = 502, response = ErrorResponse),
    )
)]
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
    Ok(Json(OrderView::new(order, &state.engine)))
}
