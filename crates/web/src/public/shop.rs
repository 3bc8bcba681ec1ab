//! The shop's catalogue, which buyers order from by themselves: `/shop` (the products, a page at
//! a time, with photos lazy-loaded), `/shop/{sku}` (a product, its variants, how many to buy),
//! `/shop/cart` (the cart and the checkout form) and `POST /shop/checkout`, which places the order
//! by the same rules as the API — the buyer's band and its policy, the deadline, the unique code —
//! and lands on the order's own page. Closed unless the seller opened it (`shop.enabled`).
//!
//! Abuse: every page counts against the address's budget, and the checkout also against the
//! stricter budget of forms; a hidden field catches bots; a number may hold only so many unpaid
//! orders; a refusal by the buyer's band is said in the same words as the cap, so no page tells
//! whether a number is a customer, let alone how reliable one is.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lunas_core::catalog::Product;
use lunas_core::messages::Language;
use lunas_core::placing::{IdempotencyKey, NewOrderLine, PlaceError};
use lunas_core::queries::Page;
use lunas_core::shipping::{Address, AddressInput};
use lunas_core::{Actor, CustomerInfo, PaymentMethod, Phone, Quantity, Sku};
use minijinja::{Value, context};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::cart::Cart;
use super::{Budget, message, page, query_of};
use crate::AppState;
use crate::desk::PageError;
use crate::desk::i18n::Strings;

/// Products on one page of the catalogue.
pub(crate) const PAGE_LEN: usize = 48;
/// Longest note a buyer may write.
const NOTE_LEN_MAX: usize = 500;
/// The methods a buyer may choose at checkout, in the order shown.
pub(crate) const METHODS: [PaymentMethod; 5] = [
    PaymentMethod::BankTransfer,
    PaymentMethod::Qris,
    PaymentMethod::Ewallet,
    PaymentMethod::VirtualAccount,
    PaymentMethod::Cod,
];

/// A request to a shop page: `public::admit`, and the shop open; or the page that refuses it.
#[allow(clippy::result_large_err)]
fn admit(state: &AppState, req: &Request, budget: Budget) -> Result<Language, Response> {
    let language = super::admit(state, req, budget)?;
    if !state.engine.settings().shop.enabled {
        return Err(message(
            state,
            StatusCode::NOT_FOUND,
            language,
            "shop_closed_title",
            "shop_closed",
        ));
    }
    Ok(language)
}

/// A product's photo address in a size, if it has a photo.
fn photo(product: &Product, size: &str) -> Option<String> {
    product
        .photo_version
        .map(|v| format!("/shop/photos/{}/{size}?v={v}", product.sku.as_str()))
}

/// A product of the list: a group shows its cheapest variant's price and is available when any
/// variant is.
fn card(product: &Product, variants: &[Product]) -> Value {
    let (price, available, from) = if variants.is_empty() {
        (product.price.minor_units(), product.available > 0, false)
    } else {
        let cheapest = variants.iter().map(|v| v.price.minor_units()).min();
        (
            cheapest.unwrap_or(product.price.minor_units()),
            variants.iter().any(|v| v.available > 0),
            variants.iter().any(|v| v.price != product.price),
        )
    };
    context! {
        sku => product.sku.as_str(), name => &product.name, price => price, from => from,
        available => available, photo => photo(product, "s"),
    }
}

pub(crate) async fn catalogue(State(state): State<AppState>, req: Request) -> Response {
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let query = query_of(&req);
    let after = query
        .get("after")
        .and_then(|a| Sku::parse(a).ok())
        .map(|s| s.as_str().to_owned());
    let groups = match state
        .engine
        .product_groups(Page {
            after: after.clone(),
            limit: PAGE_LEN,
        })
        .await
    {
        Ok(groups) => groups,
        Err(e) => return PageError::from_engine(e).into_response(),
    };
    let next = (groups.len() == PAGE_LEN)
        .then(|| groups.last().map(|(p, _)| p.sku.as_str().to_owned()))
        .flatten();
    let products: Vec<Value> = groups.iter().map(|(p, v)| card(p, v)).collect();
    page(
        &state,
        StatusCode::OK,
        language,
        "shop.html",
        context! { products => products, next => next, first => after.is_none(), cart => Cart::read(req.headers()).lines.len() },
    )
}

pub(crate) async fn product(
    State(state): State<AppState>,
    sku: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let sku = sku.ok().map(|Path(s)| s).unwrap_or_default();
    product_page(
        &state,
        language,
        &sku,
        StatusCode::OK,
        Waitlisting::default(),
    )
    .await
}

/// What the product page says of its waitlist form: what was typed and why it was refused, or
/// that the number is in line.
#[derive(Default)]
struct Waitlisting {
    phone: String,
    name: String,
    error: Option<&'static str>,
    joined: bool,
}

/// A product's page (a variant's address shows its product with the variant chosen).
async fn product_page(
    state: &AppState,
    language: Language,
    sku: &str,
    status: StatusCode,
    waitlisting: Waitlisting,
) -> Response {
    let state = state.clone();
    let missing = || {
        message(
            &state,
            StatusCode::NOT_FOUND,
            language,
            "shop_no_product_title",
            "shop_no_product",
        )
    };
    let Ok(sku) = Sku::parse(sku) else {
        return missing();
    };
    let engine = &state.engine;
    let shown = match engine.product(sku).await {
        Ok(Some(product)) => product,
        Ok(None) => return missing(),
        Err(e) => return PageError::from_engine(e).into_response(),
    };
    // A variant's address shows its product with the variant chosen.
    let (product, chosen) = match &shown.parent {
        Some(parent) => match engine.product(parent.clone()).await {
            Ok(Some(parent)) => (parent, Some(shown.sku.clone())),
            Ok(None) => return missing(),
            Err(e) => return PageError::from_engine(e).into_response(),
        },
        None => (shown, None),
    };
    let variants = if product.is_group() {
        match engine.variants_of(product.sku.clone()).await {
            Ok(variants) => variants,
            Err(e) => return PageError::from_engine(e).into_response(),
        }
    } else {
        Vec::new()
    };
    let chosen = chosen.or_else(|| {
        variants
            .iter()
            .find(|v| v.available > 0)
            .map(|v| v.sku.clone())
    });
    let options: Vec<Value> = variants
        .iter()
        .map(|v| {
            context! {
                sku => v.sku.as_str(), label => v.variant.as_deref().unwrap_or(&v.name),
                price => v.price.minor_units(), available => v.available > 0,
                chosen => Some(&v.sku) == chosen.as_ref(),
            }
        })
        .collect();
    let available = if variants.is_empty() {
        product.available
    } else {
        variants.iter().map(|v| v.available).max().unwrap_or(0)
    };
    let strings = Strings::of(language);
    page(
        &state,
        status,
        language,
        "shop_product.html",
        context! {
            waitlist => context! {
                phone => waitlisting.phone, name => waitlisting.name, joined => waitlisting.joined,
                error => waitlisting.error.map(|key| strings.get(key)),
            },
            sku => product.sku.as_str(), name => &product.name,
            price => product.price.minor_units(), available => available > 0,
            most => available.clamp(1, super::cart::QTY_MAX),
            photo => photo(&product, "m"), photo_large => photo(&product, "l"),
            variants => options,
        },
    )
}

/// A product's photo in a size: cached by browsers, its address changing with every upload.
pub(crate) async fn photo_file(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    if let Err(refused) = admit(&state, &req, Budget::None) {
        return refused;
    }
    let Ok(Path((sku, size))) = path else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.engine.product_photo(&sku, &size).await {
        Ok(Some((content_type, body))) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            if let Ok(content_type) = HeaderValue::from_str(&content_type) {
                headers.insert(header::CONTENT_TYPE, content_type);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => PageError::from_engine(e).into_response(),
    }
}

/// A line put in the cart (or changed, or taken out with `qty` 0).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CartForm {
    sku: String,
    qty: String,
}

pub(crate) async fn cart_change(State(state): State<AppState>, req: Request) -> Response {
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let secure = state.secure_cookies;
    let mut cart = Cart::read(req.headers());
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let form: CartForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    // A line that does not read changes nothing; the cart page shows what the cart holds.
    if let (Ok(sku), Ok(qty)) = (Sku::parse(form.sku.trim()), form.qty.trim().parse::<i64>())
        && (0..=super::cart::QTY_MAX).contains(&qty)
    {
        // Only what the catalogue sells by itself (not a product with variants) goes in.
        let sold = matches!(state.engine.product(sku.clone()).await, Ok(Some(p)) if !p.is_group());
        if sold || qty == 0 {
            cart.set(sku, qty);
        }
    }
    let mut response =
        Redirect::to(&format!("/shop/cart?lang={}", super::code(language))).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cart.cookie(secure));
    response
}

/// What the cart page shows of the cart: each line with the catalogue's price now; lines whose
/// product is gone are left out.
async fn cart_lines(state: &AppState, cart: &Cart) -> Result<(Vec<Value>, i64), PageError> {
    let mut lines = Vec::new();
    let mut total = 0;
    for (sku, qty) in &cart.lines {
        let Some(product) = state
            .engine
            .product(sku.clone())
            .await
            .map_err(PageError::from_engine)?
        else {
            continue;
        };
        let subtotal = product.price.minor_units() * qty;
        total += subtotal;
        lines.push(context! {
            sku => sku.as_str(), name => &product.name, qty => qty,
            price => product.price.minor_units(), subtotal => subtotal,
            short => product.available < *qty, available => product.available.max(0),
        });
    }
    Ok((lines, total))
}

/// The checkout's fields, as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct CheckoutForm {
    name: String,
    phone: String,
    street: String,
    kecamatan: String,
    city: String,
    province: String,
    postcode: String,
    payment_method: String,
    note: String,
    /// The form's own random id: a second press of the button places nothing more.
    form_id: String,
    /// Left empty by people; bots fill every field they find.
    website: String,
}

/// The cart page, with the checkout's errors and what was typed when it comes back refused.
async fn cart_page(
    state: &AppState,
    language: Language,
    cart: &Cart,
    status: StatusCode,
    typed: &CheckoutForm,
    errors: BTreeMap<&'static str, String>,
    refusal: Option<String>,
) -> Response {
    let (lines, total) = match cart_lines(state, cart).await {
        Ok(lines) => lines,
        Err(e) => return e.into_response(),
    };
    let strings = Strings::of(language);
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|m| context! { value => m.as_str(), label => strings.get(&format!("method_{}", m.as_str())) })
        .collect();
    let form_id = if typed.form_id.len() == 32 {
        typed.form_id.clone()
    } else {
        lunas_engine::tokens::random_hex(16)
    };
    page(
        state,
        status,
        language,
        "shop_cart.html",
        context! {
            lines => lines, total => total, methods => methods,
            v => context! {
                name => &typed.name, phone => &typed.phone, street => &typed.street,
                kecamatan => &typed.kecamatan, city => &typed.city, province => &typed.province,
                postcode => &typed.postcode, note => &typed.note,
                payment_method => if typed.payment_method.is_empty() { "bank_transfer" } else { typed.payment_method.as_str() },
            },
            e => errors, refusal => refusal, form_id => form_id,
        },
    )
}

pub(crate) async fn cart(State(state): State<AppState>, req: Request) -> Response {
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let cart = Cart::read(req.headers());
    cart_page(
        &state,
        language,
        &cart,
        StatusCode::OK,
        &CheckoutForm::default(),
        BTreeMap::new(),
        None,
    )
    .await
}

/// The checkout's fields as the order takes them: the buyer, where the parcel goes, how they
/// pay, their note.
type Checkout = (CustomerInfo, Address, PaymentMethod, Option<String>);

/// The checkout's fields checked, or each refused field with its words.
fn read_checkout(
    strings: &Strings,
    form: &CheckoutForm,
) -> Result<Checkout, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.insert("name", strings.get("shop_err_name").to_owned());
    }
    let phone = Phone::parse(form.phone.trim());
    if phone.is_err() {
        errors.insert("phone", strings.get("shop_err_phone").to_owned());
    }
    let method = PaymentMethod::parse(form.payment_method.trim());
    if method.is_none() {
        errors.insert("payment_method", strings.get("shop_err_method").to_owned());
    }
    let note = form.note.trim();
    if note.chars().count() > NOTE_LEN_MAX
        || note
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.insert("note", strings.get("shop_err_note").to_owned());
    }
    for (field, typed) in [
        ("street", &form.street),
        ("city", &form.city),
        ("province", &form.province),
    ] {
        if typed.trim().is_empty() {
            errors.insert(field, strings.get(&format!("shop_err_{field}")).to_owned());
        }
    }
    let address = Address::parse(&AddressInput {
        recipient: name,
        phone: form.phone.trim(),
        street: &form.street,
        kelurahan: "",
        kecamatan: &form.kecamatan,
        city: &form.city,
        province: &form.province,
        postcode: &form.postcode,
    });
    if let Err(e) = &address {
        use lunas_core::shipping::AddressField as F;
        let field = match e.field {
            F::Street | F::Kelurahan => "street",
            F::Kecamatan => "kecamatan",
            F::City => "city",
            F::Province => "province",
            F::Postcode => "postcode",
            F::Recipient => "name",
            F::Phone => "phone",
        };
        errors
            .entry(field)
            .or_insert_with(|| strings.get(&format!("shop_err_{field}")).to_owned());
    }
    match (phone, method, address) {
        (Ok(phone), Some(method), Ok(address)) if errors.is_empty() => Ok((
            CustomerInfo {
                phone,
                name: name.to_owned(),
                email: None,
                honorific: None,
            },
            address,
            method,
            (!note.is_empty()).then(|| note.to_owned()),
        )),
        _ => Err(errors),
    }
}

pub(crate) async fn checkout(State(state): State<AppState>, req: Request) -> Response {
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let strings = Strings::of(language);
    let secure = state.secure_cookies;
    let mut cart = Cart::read(req.headers());
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let form: CheckoutForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !form.website.is_empty() {
        // A bot: nothing is placed, and nothing tells it so.
        tracing::info!("shop checkout with the hidden field filled; ignored");
        return Redirect::to(&format!("/shop?lang={}", super::code(language))).into_response();
    }
    let refuse = |status: StatusCode, errors, refusal: Option<String>| {
        let (state, cart, form) = (&state, &cart, &form);
        async move { cart_page(state, language, cart, status, form, errors, refusal).await }
    };
    if cart.lines.is_empty() {
        let said = strings.get("shop_cart_empty").to_owned();
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            BTreeMap::new(),
            Some(said),
        )
        .await;
    }
    let (customer, address, method, note) = match read_checkout(strings, &form) {
        Ok(read) => read,
        Err(errors) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, errors, None).await,
    };
    // The same words for the cap and for a refusal by the buyer's band.
    let not_here = || Some(strings.get("shop_refused").to_owned());
    let cap = i64::from(state.engine.settings().shop.open_orders_per_phone);
    match state.engine.open_orders_of(&customer.phone).await {
        Ok(open) if open >= cap => {
            return refuse(StatusCode::FORBIDDEN, BTreeMap::new(), not_here()).await;
        }
        Ok(_) => {}
        Err(e) => return PageError::from_engine(e).into_response(),
    }
    let form_id = Some(form.form_id.as_str())
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    // The request is the form and the cart it was sent with: the same form with another cart
    // is another request.
    let mut request = Sha256::new();
    request.update(&body);
    for (sku, qty) in &cart.lines {
        request.update(format!("\n{}={qty}", sku.as_str()));
    }
    let request_hash = hex::encode(request.finalize());
    let idempotency = form_id.map(|id| IdempotencyKey {
        scope: "shop".to_owned(),
        key: id.to_owned(),
        request_hash,
    });
    let lines = cart
        .lines
        .iter()
        .map(|(sku, qty)| NewOrderLine {
            sku: sku.clone(),
            qty: Quantity::new(*qty).expect("cart quantities are 1 to 99"),
        })
        .collect();
    let placed = state
        .engine
        .place_order(lunas_engine::PlaceOrder {
            customer,
            lines,
            address: Some(address),
            charges: Default::default(),
            payment_method: method,
            pay_within: None,
            actor: Actor::shop(),
            idempotency,
            note,
        })
        .await;
    match placed {
        Ok(placed) => {
            cart.lines.clear();
            let token = placed.order.public_token.unwrap_or_default();
            let mut response =
                Redirect::to(&format!("/o/{token}?lang={}", super::code(language))).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cart.cookie(secure));
            response
        }
        Err(lunas_engine::Error::Place(PlaceError::OutOfStock { sku, available, .. })) => {
            let said = strings
                .get("shop_out_of_stock")
                .replace("{sku}", sku.as_str())
                .replace("{n}", &available.max(0).to_string());
            refuse(StatusCode::CONFLICT, BTreeMap::new(), Some(said)).await
        }
        Err(lunas_engine::Error::Place(
            PlaceError::UnknownSku { .. }
            | PlaceError::VariantRequired { .. }
            | PlaceError::ZeroTotal,
        )) => {
            let said = strings.get("shop_changed").to_owned();
            refuse(StatusCode::CONFLICT, BTreeMap::new(), Some(said)).await
        }
        Err(lunas_engine::Error::Policy(_) | lunas_engine::Error::Place(PlaceError::Policy(_))) => {
            refuse(StatusCode::FORBIDDEN, BTreeMap::new(), not_here()).await
        }
        Err(lunas_engine::Error::Place(PlaceError::IdempotencyKeyReused)) => {
            // This form placed an order already, with another cart: the page comes back with a
            // new form, so the next press places this cart.
            let said = Some(strings.get("shop_changed").to_owned());
            let fresh = CheckoutForm {
                form_id: String::new(),
                ..form.clone()
            };
            let status = StatusCode::CONFLICT;
            cart_page(
                &state,
                language,
                &cart,
                status,
                &fresh,
                BTreeMap::new(),
                said,
            )
            .await
        }
        Err(e) => PageError::from_engine(e).into_response(),
    }
}

/// "Kabari saya": a buyer leaves a number to be told when a sold-out product is on sale again.
/// The page says the same whether the number was in line already or not.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WaitlistForm {
    phone: String,
    name: String,
    /// A sold-out variant of the page's product.
    variant: String,
    website: String,
}

pub(crate) async fn join_waitlist(
    State(state): State<AppState>,
    sku: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let sku = sku.ok().map(|Path(s)| s).unwrap_or_default();
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let form: WaitlistForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let joined = Waitlisting {
        joined: true,
        ..Waitlisting::default()
    };
    if !form.website.is_empty() {
        // A bot: told what a person is told, and nothing is kept.
        return product_page(&state, language, &sku, StatusCode::OK, joined).await;
    }
    let refused = |error: &'static str| Waitlisting {
        phone: form.phone.clone(),
        name: form.name.clone(),
        error: Some(error),
        joined: false,
    };
    let Ok(phone) = Phone::parse(form.phone.trim()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return product_page(&state, language, &sku, status, refused("shop_err_phone")).await;
    };
    let name = form.name.trim();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return product_page(&state, language, &sku, status, refused("shop_err_name")).await;
    }
    let name = (!name.is_empty()).then(|| name.to_owned());
    let waits_for = if form.variant.trim().is_empty() {
        sku.as_str()
    } else {
        form.variant.trim()
    };
    let Ok(parsed) = Sku::parse(waits_for) else {
        return product_page(&state, language, &sku, StatusCode::NOT_FOUND, joined).await;
    };
    match state.engine.join_waitlist(parsed, phone, name).await {
        Ok(_) => product_page(&state, language, &sku, StatusCode::OK, joined).await,
        // Back on sale meanwhile, or a product with variants: the page shows what to do now.
        Err(lunas_engine::Error::Waitlist(_)) => {
            let status = StatusCode::CONFLICT;
            product_page(&state, language, &sku, status, Waitlisting::default()).await
        }
        Err(e) => PageError::from_engine(e).into_response(),
    }
}
