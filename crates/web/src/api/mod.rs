//! Routes of the JSON API.

pub(crate) mod analytics;
pub(crate) mod conversations;
pub(crate) mod customers;
mod document;
pub(crate) mod drafts;
pub(crate) mod exports;
pub(crate) mod faq;
pub(crate) mod fulfilment;
pub(crate) mod messages;
pub(crate) mod orders;
pub(crate) mod payments;
pub(crate) mod products;
mod settings;
mod views;
pub(crate) mod waitlist;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Router, middleware};

pub(crate) use document::ErrorResponse;
pub use document::document;

use crate::{ApiError, AppState, auth};

/// Most rows one list request returns, and the default.
pub(crate) const PAGE_LEN_MAX: usize = 100;
pub(crate) const PAGE_LEN_DEFAULT: usize = 50;

/// The JSON API under `/api/v1` (behind a bearer token), its document and the health check.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let v1 = Router::new()
        .route("/products", get(products::list))
        .route("/products/{sku}", get(products::get).put(products::put))
        .route(
            "/products/{sku}/waitlist",
            get(waitlist::list).post(waitlist::join),
        )
        .route("/orders", get(orders::list).post(orders::place))
        .route("/orders/parse", post(drafts::parse))
        .route("/orders.csv", get(exports::orders_csv))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/payments", post(orders::pay))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route("/orders/{id}/accept-as-paid", post(orders::accept_as_paid))
        .route("/orders/{id}/deadline", post(orders::extend))
        .route("/orders/{id}/pack", post(fulfilment::pack))
        .route("/orders/{id}/ship", post(fulfilment::ship))
        .route("/orders/{id}/deliver", post(fulfilment::deliver))
        .route("/orders/{id}/confirm-cod", post(fulfilment::confirm_cod))
        .route(
            "/orders/{id}/returned-to-sender",
            post(fulfilment::returned_to_sender),
        )
        .route("/orders/{id}/returns", post(fulfilment::request_return))
        .route("/returns", get(fulfilment::list_returns))
        .route("/returns/{id}/{step}", post(fulfilment::step_return))
        .route("/courier-events", get(fulfilment::kept_events))
        .route("/orders/{id}/payment-link", post(payments::payment_link))
        .route(
            "/statements",
            post(payments::import_statement)
                .layer(DefaultBodyLimit::max(payments::STATEMENT_BYTES_MAX)),
        )
        .route("/payments/review", get(payments::review_list))
        .route("/payments/review/{id}/resolve", post(payments::resolve))
        .route("/orders/{id}/messages", get(messages::of_order))
        .route("/messages/manual-queue", get(messages::manual_queue))
        .route("/messages/{id}/sent", post(messages::mark_sent))
        .route("/messages/{id}/skip", post(messages::skip))
        .route("/messages/{id}/replay", post(messages::replay))
        .route("/templates/preview", post(messages::preview))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/analytics/summary", get(analytics::summary))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{phone}", get(conversations::get))
        .route("/faq", get(faq::list))
        .route("/faq/match", post(faq::match_text))
        .route(
            "/faq/{id}",
            axum::routing::put(faq::put).delete(faq::delete),
        )
        .route("/customers", get(customers::list))
        .route(
            "/customers/{phone}",
            get(customers::get).patch(customers::patch),
        )
        .route("/customers/{phone}/band", post(customers::pin))
        .route("/customers/{phone}/export", get(customers::export))
        .route("/customers/{phone}/erase", post(customers::erase))
        .route(
            "/customers/{phone}/reminders",
            get(messages::get_reminders).put(messages::put_reminders),
        )
        .route("/settings", get(settings::get).put(settings::put))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi))
        .nest("/api/v1", v1)
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    summary = "Readiness",
    responses((status = 200, description = "The server is ready."))
)]
async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document."))
)]
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document::DOCUMENT.as_str(),
    )
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed here",
    )
}

/// Reads an `after` cursor (a row id, 0 or more) from a query string: absent → `None`; anything
/// else → 422 with `code` and `message`.
pub(crate) fn cursor(
    raw: Option<&String>,
    code: &'static str,
    message: &'static str,
) -> Result<Option<i64>, ApiError> {
    raw.map(|raw| {
        raw.parse::<i64>()
            .ok()
            .filter(|after| *after >= 0)
            .ok_or_else(|| ApiError::unprocessable(code, message))
    })
    .transpose()
}

/// Reads `limit` from a query string: absent → default; out of range or not a number → 422.
pub(crate) fn page_len(raw: Option<&String>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(PAGE_LEN_DEFAULT),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=PAGE_LEN_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_query",
                    format!("limit must be a number from 1 to {PAGE_LEN_MAX}"),
                )
            }),
    }
}
