//! A product's waitlist: `POST /api/v1/products/{sku}/waitlist` puts a number in line for a
//! sold-out product or variant, `GET` lists the line.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lunas_core::waitlist::WaitlistEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ErrorResponse, PhoneNumber, SkuCode, Text};
use super::products::parse_sku;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// A number to put in line.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WaitlistInput)]
pub(crate) struct JoinBody {
    #[schema(value_type = PhoneNumber)]
    phone: String,
    #[schema(value_type = Option<Text>)]
    name: Option<String>,
}

/// A buyer on a product's waitlist.
#[derive(Serialize, ToSchema)]
#[schema(as = WaitlistEntry)]
pub(crate) struct EntryView {
    /// E.164.
    phone: String,
    name: Option<String>,
    /// Place in line (1 is next) while `waiting` or `offered`; `null` after.
    position: Option<i64>,
    #[schema(value_type = lunas_core::waitlist::WaitStatus)]
    status: &'static str,
    joined_at: jiff::Timestamp,
}

impl From<WaitlistEntry> for EntryView {
    fn from(e: WaitlistEntry) -> EntryView {
        EntryView {
            phone: e.phone.as_str().to_owned(),
            name: e.name,
            position: e.position,
            status: e.status.as_str(),
            joined_at: e.joined_at,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/products/{sku}/waitlist",
    operation_id = "joinWaitlist",
    summary = "Put a buyer in line for a sold-out product",
    description = "For a product or variant with nothing available: the number waits its turn, and keeps its place if it is already in line. A product on sale is refused with `in_stock`, a product with variants with `variant_required` (join a variant's line).",
    params(("sku" = SkuCode, Path)),
    request_body = JoinBody,
    responses(
        (status = 201, description = "In line", body = EntryView),
        (status = 404, response = ErrorResponse),
        (status = 409, response = ErrorResponse),
        (status = 422, response = ErrorResponse)
    )
)]
pub(crate) async fn join(
    State(state): State<AppState>,
    Path(sku): Path<String>,
    body: ApiJson<JoinBody>,
) -> Result<(StatusCode, Json<EntryView>), ApiError> {
    let sku = parse_sku(&sku)?;
    let phone = lunas_core::Phone::parse(&body.value.phone)
        .map_err(|e| ApiError::unprocessable("invalid_phone", format!("phone: {e}")))?;
    let name = match body.value.name.as_deref() {
        None => None,
        // Given, a name is text (`null` or leaving it out is none).
        Some(raw) => Some(
            lunas_core::order::clean_text(raw)
                .map_err(|e| ApiError::unprocessable("invalid_name", format!("name {e}")))?
                .ok_or_else(|| ApiError::unprocessable("invalid_name", "name must not be empty"))?,
        ),
    };
    let entry = state.engine.join_waitlist(sku, phone, name).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{sku}/waitlist",
    operation_id = "getWaitlist",
    summary = "A product's waitlist",
    description = "Those in line first, in their order (`position` 1 is next), then past entries (`claimed`, `lapsed`), newest first; at most 500.",
    params(("sku" = SkuCode, Path)),
    responses((status = 200, body = Vec<EntryView>), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let sku = lunas_core::Sku::parse(&sku).map_err(|_| ApiError::not_found("product"))?;
    if state.engine.product(sku.clone()).await?.is_none() {
        return Err(ApiError::not_found("product"));
    }
    let entries = state.engine.waitlist(sku).await?;
    Ok(Json(entries.into_iter().map(EntryView::from).collect()))
}
