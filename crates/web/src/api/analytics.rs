//! `GET /api/v1/analytics/summary`: the Analitik page's figures as JSON, for one period and
//! optionally one channel, payment method, band or product.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use lunas_core::PaymentMethod;
use lunas_core::analytics::{Filter, PERIOD_DAYS_MAX, Source, Summary, date_day, last_30_days};
use lunas_core::reliability::Band;

use super::document::ErrorResponse;
use crate::{ApiError, AppState};

/// Hours after a reminder within which a payment counts as its conversion: default and bounds.
pub(crate) const WITHIN_HOURS_DEFAULT: u32 = 6;
pub(crate) const WITHIN_HOURS_MAX: u32 = 168;

/// Reads the period and the narrowing of a summary from a query; `today` is the store's date.
pub(crate) fn parse_filter(
    query: &BTreeMap<String, String>,
    today: jiff::civil::Date,
) -> Result<Filter, ApiError> {
    let get = |name: &str| query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let date = |name: &str| -> Result<Option<i32>, ApiError> {
        get(name)
            .map(|raw| {
                raw.parse::<jiff::civil::Date>().map(date_day).map_err(|_| {
                    ApiError::unprocessable(
                        "invalid_range",
                        format!("{name} must be a date like 2026-12-01"),
                    )
                })
            })
            .transpose()
    };
    let (default_from, default_to) = last_30_days(today);
    let to = date("to")?.unwrap_or(default_to);
    let from = date("from")?.unwrap_or(if get("to").is_some() {
        to - 29
    } else {
        default_from
    });
    if to < from {
        return Err(ApiError::unprocessable(
            "invalid_range",
            "to must not be before from",
        ));
    }
    if to - from >= PERIOD_DAYS_MAX {
        return Err(ApiError::unprocessable(
            "invalid_range",
            format!("a period covers at most {PERIOD_DAYS_MAX} days"),
        ));
    }
    let bad = |name: &str, allowed: String| {
        ApiError::unprocessable("invalid_filter", format!("{name} must be one of {allowed}"))
    };
    let source = get("channel")
        .map(|raw| {
            Source::parse(raw)
                .ok_or_else(|| bad("channel", Source::ALL.map(Source::as_str).join(", ")))
        })
        .transpose()?;
    let method = get("method")
        .map(|raw| {
            PaymentMethod::parse(raw).ok_or_else(|| {
                bad(
                    "method",
                    PaymentMethod::ALL.map(PaymentMethod::as_str).join(", "),
                )
            })
        })
        .transpose()?;
    let band = get("band")
        .map(|raw| {
            Band::parse(raw).ok_or_else(|| bad("band", Band::ALL.map(Band::as_str).join(", ")))
        })
        .transpose()?;
    let sku = get("sku").map(str::to_owned);
    if sku.as_ref().is_some_and(|s| s.chars().count() > 64) {
        return Err(ApiError::unprocessable(
            "invalid_filter",
            "sku is at most 64 characters",
        ));
    }
    let within_hours = match get("within_hours") {
        None => WITHIN_HOURS_DEFAULT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|h| (1..=WITHIN_HOURS_MAX).contains(h))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_filter",
                    format!("within_hours must be a whole number from 1 to {WITHIN_HOURS_MAX}"),
                )
            })?,
    };
    Ok(Filter {
        from,
        to,
        source,
        method,
        band,
        sku,
        within_hours,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/summary",
    operation_id = "analyticsSummary",
    summary = "Hit-and-run analytics of a period",
    description = "The orders placed in the period (dates in the store's time zone, both included; default the last 30 days), narrowed by channel, payment method, band or product when asked: placed, paid, hit-and-run (released unpaid by the buyer's doing: deadline passed, cancelled by the buyer or a COD confirmation never given, a COD parcel refused, money after the deadline) and their rates; revenue; time to pay; reminder conversion; stock-hours held by orders never paid; COD refusals and their shipping cost; repeat and one-time buyers; a series by day (up to 62 days) or month; breakdowns by channel, method, band and product; monthly acquisition cohorts with retention. Rates are 0 to 1. Definitions: docs/analytics.md.",
    params(
        ("from" = Option<String>, Query, format = Date, description = "First day, `2026-11-01`; default 29 days before `to`."),
        ("to" = Option<String>, Query, format = Date, description = "Last day, included; default today. At most 3,660 days after `from`."),
        ("channel" = Option<String>, Query, description = "Only orders from one channel: dashboard, shop, waitlist, api, shopee, tiktok, imported, other."),
        ("method" = Option<String>, Query, description = "Only orders of one payment method: bank_transfer, ewallet, qris, virtual_account, cod."),
        ("band" = Option<String>, Query, description = "Only orders placed in one band: trusted, normal, watch, blocked."),
        ("sku" = Option<String>, Query, description = "Only orders with a line of this product (at most 64 characters)."),
        ("within_hours" = Option<u32>, Query, minimum = 1, maximum = 168, description = "A reminder counts as converted when the order was paid within this many hours of it; default 6."),
    ),
    responses(
        (status = 200, description = "The period's figures.", body = Summary),
        (status = 422, response = ErrorResponse),
    )
)]
pub(crate) async fn summary(
    State(state): State<AppState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Summary>, ApiError> {
    let engine = &state.engine;
    let filter = parse_filter(&query, engine.local_today())?;
    Ok(Json(engine.analytics_summary(filter).await?))
}
