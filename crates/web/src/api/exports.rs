//! `GET /api/v1/orders.csv`: the orders placed in a range, as CSV for a spreadsheet.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lunas_core::Timestamp;
use lunas_core::messages::Language;

use super::document::ErrorResponse;
use crate::{ApiError, AppState};

/// The range an export covers: `from` and `to` as dates in the store's time zone (both days
/// whole) or as RFC 3339 instants; by default the month so far.
pub(crate) fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let bad = |name: &str| {
        ApiError::unprocessable(
            "invalid_range",
            format!("{name} must be a date (2026-12-01) or an RFC 3339 time"),
        )
    };
    // A date is its whole day: `to` runs to the start of the next day.
    let read = |raw: &str, name: &str, end: bool| -> Result<Timestamp, ApiError> {
        let raw = raw.trim();
        if let Ok(at) = raw.parse::<Timestamp>() {
            return Ok(at);
        }
        let date: jiff::civil::Date = raw.parse().map_err(|_| bad(name))?;
        let date = if end {
            date.tomorrow().map_err(|_| bad(name))?
        } else {
            date
        };
        date.to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|_| bad(name))
    };
    let (_, month) = lunas_core::queries::day_and_month_start(now, tz);
    let from = match from.filter(|f| !f.trim().is_empty()) {
        Some(raw) => read(raw, "from", false)?,
        None => month,
    };
    let to = match to.filter(|t| !t.trim().is_empty()) {
        Some(raw) => read(raw, "to", true)?,
        None => now,
    };
    if to <= from {
        return Err(ApiError::unprocessable(
            "invalid_range",
            "to must be later than from",
        ));
    }
    Ok((from, to))
}

/// The file as a download named after its range.
pub(crate) fn csv_download(
    csv: String,
    from: Timestamp,
    to: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Response {
    let day = |at: Timestamp| at.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string();
    let last = to - jiff::SignedDuration::from_secs(1);
    let name = format!(
        "attachment; filename=\"pesanan-{}-{}.csv\"",
        day(from),
        day(last)
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/orders.csv",
    operation_id = "exportOrders",
    summary = "Export orders as CSV",
    description = "The orders placed in the range, oldest first, one row each: number, time placed, status, buyer, method, items, items total, ongkir, discount, total, unique code, amount due, paid, written off, deadline, city, province, postcode. Times are in the store's time zone; text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) starts with `'`. At most 50,000 orders; a longer range is `422 range_too_large`.",
    params(
        ("from" = Option<String>, Query, format = Date, description = "A date (`2026-12-01`, the whole day in the store's time zone; an RFC 3339 time is read too); default: the start of this month."),
        ("to" = Option<String>, Query, format = Date, description = "A date, included whole (an RFC 3339 time is read too, and excluded); not before `from`; default: now."),
    ),
    responses(
        (status = 200, description = "The orders as CSV.", content_type = "text/csv", body = String),
        (status = 422, response = ErrorResponse),
    )
)]
pub(crate) async fn orders_csv(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let engine = &state.engine;
    let tz = engine.settings().time_zone();
    let (from, to) = parse_range(
        query.get("from").map(String::as_str),
        query.get("to").map(String::as_str),
        engine.now(),
        &tz,
    )?;
    let orders = engine.export_orders(from, to).await?;
    let csv = lunas_core::export::orders_csv(&orders, &tz, Language::English);
    Ok(csv_download(csv, from, to, &tz))
}
