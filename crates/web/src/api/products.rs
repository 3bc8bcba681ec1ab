//! `/api/v1/products`

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use lunas_core::catalog::{ProductInput, VARIANT_LEN_MAX, VariantInput};
use lunas_core::order::clean_text;
use lunas_core::queries::Page;
use lunas_core::{Money, MoneyError, Sku};
use serde::Deserialize;
use utoipa::ToSchema;

use super::document::{ErrorResponse, ParentSku, SkuCode, Text, Tips, VariantLabel};
use super::views::{PageView, ProductDetailView, ProductView};
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Most units of one product lunas counts; more is a typo.
pub(crate) const STOCK_MAX: i64 = 1_000_000_000;

/// A product or a variant as `PUT /api/v1/products/{sku}` takes it: a product has a `name` and a
/// `price`; a variant has a `parent` and a `variant` label, and a `price` only if it is its own.
#[derive(Deserialize, Default)]
pub(crate) struct PutProduct {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) price: Option<i64>,
    #[serde(deserialize_with = "crate::extract::whole_number")]
    pub(crate) stock: i64,
    #[serde(default)]
    pub(crate) tips: Option<String>,
    #[serde(default)]
    pub(crate) parent: Option<String>,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// The request body as the document describes it: a product, or a variant of one.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
#[allow(dead_code)] // only described, never built: `PutProduct` reads both shapes
#[schema(as = ProductInput)]
pub(crate) enum PutProductDoc {
    Product(ProductBodyDoc),
    Variant(VariantBodyDoc),
}

/// A product's name, price and stock on hand.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
#[schema(as = PlainProductInput)]
pub(crate) struct ProductBodyDoc {
    #[schema(value_type = Text)]
    name: String,
    /// In rupiah; 0 for a free gift.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    price: i64,
    /// Units on hand, not below those held by unpaid orders.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: i64,
    #[schema(value_type = Option<Tips>)]
    tips: Option<String>,
}

/// A variant (size, colour) of the product `parent`, with its own stock. Its name is the
/// product's with the variant label; its price is the product's unless `price` is given.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
#[schema(as = VariantInput)]
pub(crate) struct VariantBodyDoc {
    /// The SKU of the product this is a variant of (a product that is not itself a variant).
    #[schema(value_type = ParentSku)]
    parent: String,
    /// What sets this variant apart, as buyers read it: `Hitam / L`.
    #[schema(value_type = VariantLabel)]
    variant: String,
    /// The variant's own price in rupiah; absent or null to follow the product's.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    price: Option<i64>,
    /// Units on hand, not below those held by unpaid orders.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: i64,
    #[schema(value_type = Option<Tips>)]
    tips: Option<String>,
}

/// Longest product tip, in characters.
pub(crate) const TIPS_LEN_MAX: usize = 500;

pub(crate) fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::unprocessable("invalid_sku", e.to_string()))
}

fn parse_price(raw: i64) -> Result<Money, ApiError> {
    Money::price(raw).map_err(|e| {
        let message = match e {
            MoneyError::TooLarge => format!("price {e}"),
            _ => "price must be 0 or more".to_owned(),
        };
        ApiError::unprocessable("invalid_price", message)
    })
}

/// A variant label: one line of text, not blank, at most [`VARIANT_LEN_MAX`] characters.
fn parse_variant_label(raw: &str) -> Result<String, ApiError> {
    let refused = || {
        ApiError::unprocessable(
            "invalid_variant",
            format!(
                "variant must be one line of at most {VARIANT_LEN_MAX} characters, such as \"Hitam / L\""
            ),
        )
    };
    let label = clean_text(raw)
        .map_err(|_| refused())?
        .ok_or_else(refused)?;
    if label.chars().count() > VARIANT_LEN_MAX {
        return Err(refused());
    }
    Ok(label.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub(crate) fn parse_product(sku: Sku, body: PutProduct) -> Result<ProductInput, ApiError> {
    let variant = match (body.parent, body.variant) {
        (Some(parent), label) => {
            let parent = Sku::parse(&parent)
                .map_err(|e| ApiError::unprocessable("invalid_parent", format!("parent: {e}")))?;
            // A SKU naming itself as parent is refused by the catalogue (`unknown_parent` or
            // `sku_taken`): whether it is depends on what is stored, as for any parent.
            let label = parse_variant_label(label.as_deref().unwrap_or(""))?;
            Some(VariantInput {
                parent,
                label,
                own_price: body.price.is_some(),
            })
        }
        (None, Some(_)) => {
            return Err(ApiError::unprocessable(
                "invalid_variant",
                "a variant needs parent, the SKU of its product",
            ));
        }
        (None, None) => None,
    };
    let name = match (&variant, body.name) {
        // A variant is named after its product.
        (Some(v), _) => v.label.clone(),
        (None, name) => clean_text(name.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::unprocessable("invalid_name", format!("name {e}")))?
            .ok_or_else(|| ApiError::unprocessable("invalid_name", "name must not be empty"))?,
    };
    let price = match (body.price, &variant) {
        (Some(price), _) => parse_price(price)?,
        (None, Some(_)) => Money::ZERO,
        (None, None) => {
            return Err(ApiError::unprocessable(
                "invalid_price",
                "price is required (0 for a free gift)",
            ));
        }
    };
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
        variant,
    })
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{sku}",
    operation_id = "putProduct",
    summary = "Create or update a product",
    description = "Sets name, price and stock on hand; or, with `parent` and `variant`, makes the SKU a variant of another product (its own stock, its product's name and price unless it has its own). Stock below the units held by unpaid orders is refused with `stock_below_reserved`; a SKU that is already another kind of product with `sku_taken`; a label the product already has with `variant_taken`; a parent that is missing or is a variant with `unknown_parent` or `parent_is_variant`.",
    params(("sku" = SkuCode, Path)),
    request_body = PutProductDoc,
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
    description = "Stock on hand, units held by unpaid orders, and units available for sale; a product that is not a variant lists its `variants`.",
    params(("sku" = SkuCode, Path)),
    responses((status = 200, body = ProductDetailView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Json<ProductDetailView>, ApiError> {
    let sku = Sku::parse(&sku).map_err(|_| ApiError::not_found("product"))?;
    let product = state
        .engine
        .product(sku.clone())
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let variants = match product.parent {
        Some(_) => None,
        None if product.is_group() => Some(state.engine.variants_of(sku).await?),
        None => Some(Vec::new()),
    };
    Ok(Json(ProductDetailView {
        product: product.into(),
        variants: variants.map(|v| v.into_iter().map(Into::into).collect()),
    }))
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
