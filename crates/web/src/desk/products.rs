//! The Products page: the catalogue as sellers see it (each product with its variants and their
//! stock counters), adding a product, and one product's page to edit it from its row and give
//! it variants.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use lunas_core::Sku;
use lunas_core::catalog::Product;
use lunas_core::messages::format_rupiah;
use lunas_core::queries::Page;
use minijinja::{Value, context};
use serde::Deserialize;

use super::pages::{Query_, engine_err, url_params, whole_number};
use super::{Desk, FieldErrors, LIST_LEN, PageError, Posted, done, notice, refusal, ser};
use crate::ApiError;
use crate::api::products;

/// A product as a row of the list or the product page shows it.
fn row(p: &Product) -> Value {
    context! {
        sku => p.sku.as_str(), name => &p.name, price => p.price.minor_units(),
        on_hand => p.on_hand, reserved => p.reserved, available => p.available, tips => &p.tips,
        variant => &p.variant, own_price => p.own_price, group => p.is_group(),
    }
}

/// A product with its variants: the units of the group are its variants'.
fn group(product: &Product, variants: &[Product]) -> Value {
    let sum = |f: fn(&Product) -> i64| variants.iter().map(f).sum::<i64>();
    context! {
        product => row(product),
        variants => variants.iter().map(row).collect::<Vec<_>>(),
        on_hand => sum(|v| v.on_hand), reserved => sum(|v| v.reserved), available => sum(|v| v.available),
    }
}

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
        .product_groups(Page {
            after,
            limit: LIST_LEN,
        })
        .await
        .map_err(engine_err)?;
    let next = (found.len() == LIST_LEN)
        .then(|| {
            found
                .last()
                .map(|(p, _)| format!("/products?{}", url_params(&[("after", p.sku.as_str())])))
        })
        .flatten();
    let groups: Vec<Value> = found.iter().map(|(p, vs)| group(p, vs)).collect();
    desk.page_with_status(
        status,
        "products.html",
        "products",
        context! { notice => notice, groups => groups, next => next, errors => ser(&errors), values => ser(&values) },
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

/// A product added from the Products page, edited on its own page, or a variant added there.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProductForm {
    sku: String,
    name: String,
    variant: String,
    price: String,
    stock: String,
    tips: String,
}

/// What the form says, read as the API reads a product: `parent` makes it a variant, whose
/// price may be left empty to follow its product's.
async fn put_from_form(
    desk: &Desk,
    sku: &str,
    typed: ProductForm,
    parent: Option<&Sku>,
) -> Result<Product, ApiError> {
    let price = match (typed.price.trim(), parent) {
        ("", Some(_)) => None,
        (price, _) => Some(super::pages::rupiah(desk, price, "invalid_price")?),
    };
    let stock = whole_number(desk, &typed.stock, "invalid_stock")?;
    let sku = products::parse_sku(sku.trim())?;
    if parent == Some(&sku) {
        // Said here in words: the catalogue would call the SKU taken.
        return Err(ApiError::unprocessable(
            "invalid_parent",
            "a variant's SKU must differ from its product's",
        ));
    }
    let input = products::parse_product(
        sku,
        products::PutProduct {
            name: Some(typed.name),
            price,
            stock,
            tips: Some(typed.tips),
            parent: parent.map(|p| p.as_str().to_owned()),
            variant: parent.map(|_| typed.variant),
        },
    )?;
    Ok(desk.state.engine.put_product(input).await?)
}

pub(crate) async fn put_product(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: ProductForm = form.parse()?;
    let sku = typed.sku.clone();
    match put_from_form(&desk, &sku, typed, None).await {
        Ok(product) => Ok(done(&format!("/products/{}", product.sku), "saved")),
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

/// Which of the product page's two forms a refusal belongs to.
#[derive(Clone, Copy, PartialEq)]
enum ProductPageForm {
    Edit,
    AddVariant,
}

async fn product_page(
    desk: &Desk,
    sku: &str,
    status: StatusCode,
    refused: Option<(ProductPageForm, FieldErrors, BTreeMap<&str, &str>)>,
    notice: Option<&str>,
    photo_error: Option<&str>,
) -> Result<Response, PageError> {
    let not_found = || PageError::NotFound(desk.language());
    let sku = Sku::parse(sku).map_err(|_| not_found())?;
    let engine = &desk.state.engine;
    let product = engine
        .product(sku.clone())
        .await
        .map_err(engine_err)?
        .ok_or_else(not_found)?;
    let parent = match &product.parent {
        Some(parent) => engine.product(parent.clone()).await.map_err(engine_err)?,
        None => None,
    };
    let variants = match product.parent {
        None if product.is_group() => engine.variants_of(sku).await.map_err(engine_err)?,
        _ => Vec::new(),
    };
    // Who waits for it (a product sold by itself; a product with variants has its lines on them).
    let waitlist: Vec<Value> = if product.is_group() {
        Vec::new()
    } else {
        engine
            .waitlist(product.sku.clone())
            .await
            .map_err(engine_err)?
            .into_iter()
            .map(|e| {
                context! {
                    position => e.position, name => e.name, phone => e.phone.international(),
                    chat => format!("https://wa.me/{}", e.phone.wa_digits()),
                    status => e.status.as_str(), joined => desk.when(e.joined_at),
                }
            })
            .collect()
    };
    // The edit form starts from what is stored; a refused form keeps what was typed.
    let stored_price = match product.own_price {
        true => format_rupiah(product.price.minor_units()).replacen("Rp", "", 1),
        false => String::new(),
    };
    let stored_stock = product.on_hand.to_string();
    let stored: BTreeMap<&str, &str> = BTreeMap::from([
        ("name", product.name.as_str()),
        ("variant", product.variant.as_deref().unwrap_or("")),
        ("price", stored_price.as_str()),
        ("stock", stored_stock.as_str()),
        ("tips", product.tips.as_deref().unwrap_or("")),
    ]);
    let (edit_errors, edit_values, add_errors, add_values) = match refused {
        Some((ProductPageForm::Edit, errors, values)) => {
            (errors, values, FieldErrors::new(), BTreeMap::new())
        }
        Some((ProductPageForm::AddVariant, errors, values)) => {
            (FieldErrors::new(), stored, errors, values)
        }
        None => (
            FieldErrors::new(),
            stored,
            FieldErrors::new(),
            BTreeMap::new(),
        ),
    };
    desk.page_with_status(
        status,
        "product.html",
        "products",
        context! {
            notice => notice,
            p => row(&product),
            parent => parent.as_ref().map(row),
            group => group(&product, &variants),
            edit_errors => ser(&edit_errors), edit_values => ser(&edit_values),
            add_errors => ser(&add_errors), add_values => ser(&add_values),
            sku_prefix => format!("{}-", product.sku),
            waitlist => waitlist,
            photo => product.photo_version.map(|v| format!("/products/{}/photo?v={v}", product.sku)),
            photo_error => photo_error.map(|code| desk.strings().get(&format!("photo_err_{code}"))),
        },
    )
}

pub(crate) async fn product(
    desk: Desk,
    Path(sku): Path<String>,
    Query(query): Query_,
) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    // Only the codes an upload sends are shown, never words from the address.
    let photo_error = query
        .get("photo_error")
        .and_then(|code| {
            super::photos::PHOTO_ERRORS
                .iter()
                .find(|c| **c == code.as_str())
        })
        .copied();
    product_page(&desk, &sku, StatusCode::OK, None, notice, photo_error).await
}

/// Saves the product page's edit form; a variant stays a variant of its product.
pub(crate) async fn edit_product(
    Path(sku): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: ProductForm = form.parse()?;
    let stored = Sku::parse(&sku).ok();
    let stored = match stored {
        Some(sku) => desk.state.engine.product(sku).await.map_err(engine_err)?,
        None => None,
    };
    let Some(stored) = stored else {
        return Err(PageError::NotFound(desk.language()));
    };
    match put_from_form(&desk, &sku, typed, stored.parent.as_ref()).await {
        Ok(_) => Ok(done(&format!("/products/{sku}"), "saved")),
        Err(e) => refused(&desk, &sku, ProductPageForm::Edit, &form, e).await,
    }
}

/// The product page again, with the refusal beside the field of the form that was sent and
/// what was typed kept.
async fn refused(
    desk: &Desk,
    sku: &str,
    which: ProductPageForm,
    form: &super::FormData,
    e: ApiError,
) -> Result<Response, PageError> {
    let (field, message) = refusal(desk.strings(), e)?;
    let errors = FieldErrors::from([(field, message)]);
    let refused = Some((which, errors, form.values()));
    product_page(
        desk,
        sku,
        StatusCode::UNPROCESSABLE_ENTITY,
        refused,
        None,
        None,
    )
    .await
}

/// Adds a variant to the product of the page.
pub(crate) async fn add_variant(
    Path(sku): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: ProductForm = form.parse()?;
    let Ok(parent) = Sku::parse(&sku) else {
        return Err(PageError::NotFound(desk.language()));
    };
    let variant_sku = typed.sku.clone();
    match put_from_form(&desk, &variant_sku, typed, Some(&parent)).await {
        Ok(_) => Ok(done(&format!("/products/{sku}#variants"), "variant_added")),
        Err(e) => refused(&desk, &sku, ProductPageForm::AddVariant, &form, e).await,
    }
}
