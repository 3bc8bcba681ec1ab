//! `/api/v1/products`

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use lunas_core::catalog::ProductInput;
use lunas_core::order::clean_text;
use lunas_core::queries::Page;
use lunas_core::{Money, MoneyError, Sku};
use serde::Deserialize;
use utoipa::ToSchema;

use super::document::{ErrorResponse, SkuCode, Text, Tips};
use super::views::{PageView, ProductView};
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Most units of one product lunas counts; more is a typo.
pub(crate) const STOCK_MAX: i64 = 1_000_000_000;

/// A product's name, price and stock on hand.
#[derive(Deserialize, ToSchema)]
#[schema(as = ProductInput)]
pub(crate) struct PutProduct {
    #[schema(value_type = Text)]
    pub(crate) name: String,
    /// In rupiah; 0 for a free gift.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(deserialize_with = "crate::extract::whole_number")]
    pub(crate) price: i64,
    /// Units on hand, not below those held by unpaid orders.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(deserialize_with = "crate::extract::whole_number")]
    pub(crate) stock: i64,
    #[schema(value_type = Option<Tips>)]
    pub(crate) tips: Option<String>,
}

/// Longest product tip, in characters.
pub(crate) const TIPS_LEN_MAX: usize = 500;

pub(crate) fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::unprocessable("invalid_sku", e.to_string()))
}

pub(crate) fn parse_product(sku: Sku, body: PutProduct) -> Result<ProductInput, ApiError> {
    let name = clean_text(&body.name)
        .map_err(|e| ApiError::unprocessable("invalid_name", format!("name {e}")))?
        .ok_or_else(|| ApiError::unprocessable("invalid_name", "name must not be empty"))?;
    let price = Money::price(body.price).map_err(|e| {
        let message = match e {
            MoneyError::TooLarge => format!("price {e}"),
            _ => "price must be 0 or more".to_owned(),
        };
        ApiError::unprocessable("invalid_price", message)
    })?;
    if !(0..=STOCK_MAX).contains(&body.stock) {
        return Err(ApiError::unprocessable(
            "invalid_stock",
            format!("stock must be from 0 to {STOCK_MAX}"),
        ));
    }
    let tips = body
        .tips
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if tips.as_ref().is_some_and(|t| {
        t.chars().count() > TIPS_LEN_MAX || t.chars().any(|c| c.is_control() && c != '\n')
    }) {
        return Err(ApiError::unprocessable(
            "invalid_tips",
            format!("tips must be at most {TIPS_LEN_MAX} characters of text"),
        ));
    }
    Ok(ProductInput {
        sku,
        name,
        price,
        stock: body.stock,
        tips,
    })
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{sku}",
    operation_id = "putProduct",
    summary = "Create or update a product",
    description = "Sets name, price and stock on hand. Stock below the units held by unpaid orders is refused with `stock_below_reserved`.",
    params(("sku" = SkuCode, Path)),
    request_body = PutProduct,
    responses((status = 200, body = ProductView), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    Path(sku): Path<String>,
    body: ApiJson<PutProduct>,
) -> Result<Json<ProductView>, ApiError> {
    let sku = parse_sku(&sku)?;
    let product = state
        .engine
        .put_product(parse_product(sku, body.value)?)
        .await?;
    Ok(Json(product.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{sku}",
    operation_id = "getProduct",
    summary = "Read a product",
    description = "Stock on hand, units held by unpaid orders, and units available for sale.",
    params(("sku" = SkuCode, Path)),
    responses((status = 200, body = ProductView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let sku = Sku::parse(&sku).map_err(|_| ApiError::not_found("product"))?;
    let product = state
        .engine
        .product(sku)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(product.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/products",
    operation_id = "listProducts",
    summary = "List products",
    description = "Products ordered by SKU, paged by `after` (the last SKU seen).",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
        ("after" = Option<String>, Query, description = "The last SKU of the page before."),
    ),
    responses((status = 200, body = PageView<ProductView, String>), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageView<ProductView, String>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let after = query.get("after").cloned();
    let products = state.engine.products(Page { after, limit }).await?;
    let next_after = (products.len() == limit)
        .then(|| products.last().map(|p| p.sku.as_str().to_owned()))
        .flatten();
    Ok(Json(PageView {
        items: products.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
