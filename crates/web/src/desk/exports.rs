//! *Unduh pesanan*: the orders of a range as a CSV file, with the columns named in the member's
//! language; the same file as `GET /api/v1/orders.csv`.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::pages::Query_;
use super::{Desk, FieldErrors, PageError, refusal, ser};
use crate::ApiError;
use crate::api::exports::{csv_download, parse_range};

/// The export page: a range, this month's by default.
pub(crate) async fn export_page(desk: Desk) -> Result<Response, PageError> {
    let tz = desk.state.engine.settings().time_zone();
    let now = desk.state.engine.now().to_zoned(tz.clone());
    let first = now.first_of_month().map_err(|_| PageError::Internal)?;
    let values = BTreeMap::from([
        ("from", first.strftime("%Y-%m-%d").to_string()),
        ("to", now.strftime("%Y-%m-%d").to_string()),
    ]);
    show(&desk, StatusCode::OK, FieldErrors::new(), values).await
}

async fn show(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, String>,
) -> Result<Response, PageError> {
    desk.page_with_status(
        status,
        "orders_export.html",
        "orders",
        context! { errors => ser(&errors), values => ser(&values) },
    )
}

/// The file, or the page again with what was wrong with the range.
pub(crate) async fn export_csv(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let tz = engine.settings().time_zone();
    let from = query.get("from").map(String::as_str);
    let to = query.get("to").map(String::as_str);
    let result: Result<_, ApiError> = async {
        let (start, end) = parse_range(from, to, engine.now(), &tz)?;
        let orders = engine.export_orders(start, end).await?;
        Ok((orders, start, end))
    }
    .await;
    match result {
        Ok((orders, start, end)) => {
            let csv = lunas_core::export::orders_csv(&orders, &tz, desk.language());
            Ok(csv_download(csv, start, end, &tz))
        }
        Err(e) => {
            let (_, message) = refusal(desk.strings(), e)?;
            let values = BTreeMap::from([
                ("from", from.unwrap_or("").to_owned()),
                ("to", to.unwrap_or("").to_owned()),
            ]);
            show(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([("from", message)]),
                values,
            )
            .await
        }
    }
}
