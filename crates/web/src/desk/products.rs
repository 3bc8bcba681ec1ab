//! The Products page: the catalogue with its stock counters, and adding or updating a product.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use lunas_core::queries::Page;
use minijinja::{Value, context};
use serde::Deserialize;

use super::pages::{Query_, engine_err, url_params, whole_number};
use super::{Desk, FieldErrors, LIST_LEN, PageError, Posted, done, notice, refusal, ser};
use crate::ApiError;
use crate::api::products;

async fn products_page(
    desk: &Desk,
    after: Option<String>,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, &str>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let found = desk
        .state
        .engine
        .products(Page {
            after,
            limit: LIST_LEN,
        })
        .await
        .map_err(engine_err)?;
    let next = (found.len() == LIST_LEN)
        .then(|| {
            found
                .last()
                .map(|p| format!("/products?{}", url_params(&[("after", p.sku.as_str())])))
        })
        .flatten();
    let rows: Vec<Value> = found
        .iter()
        .map(|p| {
            context! {
                sku => p.sku.as_str(), name => &p.name, price => p.price.minor_units(),
                on_hand => p.on_hand, reserved => p.reserved, available => p.available, tips => &p.tips,
            }
        })
        .collect();
    desk.page_with_status(
        status,
        "products.html",
        "products",
        context! { notice => notice, products => rows, next => next, errors => ser(&errors), values => ser(&values) },
    )
}

pub(crate) async fn products(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    products_page(
        &desk,
        query.get("after").cloned(),
        StatusCode::OK,
        FieldErrors::new(),
        BTreeMap::new(),
        notice,
    )
    .await
}

/// A product added or updated from the Products page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProductForm {
    sku: String,
    name: String,
    price: String,
    stock: String,
    tips: String,
}

pub(crate) async fn put_product(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: ProductForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let price = super::pages::rupiah(&desk, &typed.price, "invalid_price")?;
        let stock = whole_number(&desk, &typed.stock, "invalid_stock")?;
        let sku = products::parse_sku(typed.sku.trim())?;
        let input = products::parse_product(
            sku,
            products::PutProduct {
                name: typed.name,
                price,
                stock,
                tips: Some(typed.tips),
            },
        )?;
        desk.state.engine.put_product(input).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(done("/products", "saved")),
        Err(e) => {
            let (field, message) = refusal(desk.strings(), e)?;
            products_page(
                &desk,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([(field, message)]),
                form.values(),
                None,
            )
            .await
        }
    }
}
