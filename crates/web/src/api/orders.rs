//! `/api/v1/orders`

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use lunas_core::order::{ITEMS_PER_ORDER_MAX, clean_text, looks_like_email};
use lunas_core::placing::{IdempotencyKey, NewOrderLine};
use lunas_core::queries::Page;
use lunas_core::shipping::{Address, AddressInput, ChargeError, Charges};
use lunas_core::{
    CancelledBy, CustomerInfo, Honorific, Money, MoneyError, OrderId, OrderStatus, PayWindow,
    PaymentMethod, Phone, Quantity, Timestamp,
};
use lunas_engine::PlaceOrder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::document::{
    AreaText, Email, ErrorResponse, OptionalAreaText, OptionalText, PhoneNumber, Postcode, SkuCode,
    Street, Text,
};
use super::products::parse_sku;
use super::views::{OrderView, PageView};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Longest `Idempotency-Key` accepted (Stripe's limit).
const IDEMPOTENCY_KEY_LEN_MAX: usize = 255;

/// An order to place.
#[derive(Deserialize, ToSchema)]
#[schema(as = OrderInput)]
pub(crate) struct PlaceBody {
    pub(crate) customer: CustomerBody,
    /// The lines; a SKU given twice is one line of both quantities.
    #[schema(min_items = 1, max_items = 100)]
    pub(crate) items: Vec<ItemBody>,
    #[schema(value_type = PaymentMethod)]
    pub(crate) payment_method: String,
    /// How long the buyer has to pay, instead of the store's window for the method. Not for COD.
    #[schema(value_type = Option<lunas_core::PayWindow>)]
    pub(crate) pay_within: Option<String>,
    /// Where the parcel goes, if the order ships.
    #[serde(default)]
    pub(crate) address: Option<AddressBody>,
    /// The shipping cost (`ongkir`) in minor units, added to the total.
    #[schema(minimum = 0, maximum = 100_000_000_i64)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) shipping_cost: Option<i64>,
    /// A discount in minor units, taken off the total; it must leave something to pay.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) discount: Option<i64>,
}

/// The recipient of the parcel. Personal data: part of the buyer's export, removed by erasure.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = AddressInput)]
pub(crate) struct AddressBody {
    #[schema(value_type = AreaText)]
    pub(crate) recipient: String,
    #[schema(value_type = PhoneNumber)]
    pub(crate) phone: String,
    /// House number, street, RT/RW.
    #[schema(value_type = Street)]
    pub(crate) street: String,
    #[schema(value_type = Option<OptionalAreaText>)]
    pub(crate) kelurahan: Option<String>,
    #[schema(value_type = Option<OptionalAreaText>)]
    pub(crate) kecamatan: Option<String>,
    /// Kota or kabupaten.
    #[schema(value_type = AreaText)]
    pub(crate) city: String,
    #[schema(value_type = AreaText)]
    pub(crate) province: String,
    #[schema(value_type = Option<Postcode>)]
    pub(crate) postcode: Option<String>,
}

/// The buyer, keyed by phone number.
#[derive(Deserialize, ToSchema)]
#[schema(as = CustomerInput)]
pub(crate) struct CustomerBody {
    #[schema(value_type = PhoneNumber)]
    pub(crate) phone: String,
    #[schema(value_type = Text)]
    pub(crate) name: String,
    /// For messages by email, when the store sends them.
    #[schema(value_type = Option<Email>)]
    pub(crate) email: Option<String>,
    #[schema(value_type = Option<Honorific>)]
    pub(crate) honorific: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = OrderLineInput)]
pub(crate) struct ItemBody {
    #[schema(value_type = SkuCode)]
    pub(crate) sku: String,
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(deserialize_with = "crate::extract::whole_number")]
    pub(crate) qty: i64,
}

/// A payment staff received.
#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentInput)]
pub(crate) struct PaymentBody {
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    #[serde(deserialize_with = "crate::extract::whole_number")]
    pub(crate) amount: i64,
    /// The bank's reference or a note.
    #[schema(value_type = Option<OptionalText>)]
    pub(crate) reference: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CancelInput)]
pub(crate) struct CancelBody {
    #[schema(value_type = Text)]
    pub(crate) reason: String,
    /// Who asked: `buyer` (counts in the buyer's reliability record) or `seller` (the default).
    #[schema(value_type = Option<CancelledBy>)]
    pub(crate) by: Option<String>,
}

fn parse_customer(body: CustomerBody) -> Result<CustomerInfo, ApiError> {
    let phone = Phone::parse(&body.phone)
        .map_err(|e| ApiError::unprocessable("invalid_phone", format!("customer.phone: {e}")))?;
    let name = clean_text(&body.name)
        .map_err(|e| ApiError::unprocessable("invalid_name", format!("customer.name {e}")))?
        .ok_or_else(|| {
            ApiError::unprocessable("invalid_name", "customer.name must not be empty")
        })?;
    let email = match body
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(email) if looks_like_email(email) => Some(email.to_owned()),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_email",
                "customer.email is not an email address",
            ));
        }
    };
    let honorific = match body
        .honorific
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        None => None,
        Some(raw) => Some(Honorific::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = Honorific::ALL.iter().map(|h| h.as_str()).collect();
            ApiError::unprocessable(
                "invalid_honorific",
                format!("customer.honorific must be one of {}", known.join(", ")),
            )
        })?),
    };
    Ok(CustomerInfo {
        phone,
        name,
        email,
        honorific,
    })
}

/// Parses the lines, merging repeated SKUs into one line each, in order of first appearance.
fn parse_lines(items: Vec<ItemBody>) -> Result<Vec<NewOrderLine>, ApiError> {
    if items.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_order",
            "items must list at least one product",
        ));
    }
    if items.len() > ITEMS_PER_ORDER_MAX {
        return Err(ApiError::unprocessable(
            "too_many_items",
            format!("an order has at most {ITEMS_PER_ORDER_MAX} lines"),
        ));
    }
    let mut lines: Vec<NewOrderLine> = Vec::with_capacity(items.len());
    for item in items {
        let sku = parse_sku(&item.sku)?;
        let bad_qty = || {
            ApiError::unprocessable(
                "invalid_quantity",
                format!(
                    "qty of {sku} must be a whole number from 1 to {}",
                    lunas_core::order::QUANTITY_MAX
                ),
            )
        };
        let qty = Quantity::new(item.qty).ok_or_else(bad_qty)?;
        match lines.iter_mut().find(|l| l.sku == sku) {
            Some(line) => {
                line.qty = Quantity::new(line.qty.units() + qty.units()).ok_or_else(bad_qty)?
            }
            None => lines.push(NewOrderLine { sku, qty }),
        }
    }
    Ok(lines)
}

fn idempotency_key(
    headers: &HeaderMap,
    caller: &Caller,
    canonical: &serde_json::Value,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= IDEMPOTENCY_KEY_LEN_MAX && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_LEN_MAX} visible ASCII characters"),
            )
        })?;
    // serde_json's maps are sorted, so two bodies with the same content hash the same whatever
    // their key order or spacing.
    let body = serde_json::to_vec(canonical).expect("a parsed JSON value serialises");
    Ok(Some(IdempotencyKey {
        scope: caller.token_name.clone(),
        key: key.to_owned(),
        request_hash: hex::encode(Sha256::digest(&body)),
    }))
}

/// An order to place, parsed from the API's body or the dashboard's form.
pub(crate) struct ParsedOrder {
    pub(crate) customer: CustomerInfo,
    pub(crate) lines: Vec<NewOrderLine>,
    pub(crate) address: Option<Address>,
    pub(crate) charges: Charges,
    pub(crate) payment_method: PaymentMethod,
    pub(crate) pay_within: Option<PayWindow>,
}

/// Parses an address as the API and the dashboard's form give it.
pub(crate) fn parse_address(body: &AddressBody) -> Result<Address, ApiError> {
    Address::parse(&AddressInput {
        recipient: &body.recipient,
        phone: &body.phone,
        street: &body.street,
        kelurahan: body.kelurahan.as_deref().unwrap_or(""),
        kecamatan: body.kecamatan.as_deref().unwrap_or(""),
        city: &body.city,
        province: &body.province,
        postcode: body.postcode.as_deref().unwrap_or(""),
    })
    .map_err(|e| ApiError::unprocessable("invalid_address", e.to_string()))
}

pub(crate) fn parse_place(body: PlaceBody) -> Result<ParsedOrder, ApiError> {
    let customer = parse_customer(body.customer)?;
    let lines = parse_lines(body.items)?;
    let address = body.address.as_ref().map(parse_address).transpose()?;
    let charges = Charges::new(body.shipping_cost.unwrap_or(0), body.discount.unwrap_or(0))
        .map_err(|e| match e {
            ChargeError::ShippingCost => {
                ApiError::unprocessable("invalid_shipping_cost", e.to_string())
            }
            ChargeError::Discount => ApiError::unprocessable("invalid_discount", e.to_string()),
        })?;
    let payment_method = PaymentMethod::parse(&body.payment_method).ok_or_else(|| {
        let known: Vec<&str> = PaymentMethod::ALL.iter().map(|m| m.as_str()).collect();
        ApiError::unprocessable(
            "invalid_payment_method",
            format!("payment_method must be one of {}", known.join(", ")),
        )
    })?;
    let pay_within = body
        .pay_within
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(PayWindow::parse)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_pay_within", format!("pay_within {e}")))?;
    Ok(ParsedOrder {
        customer,
        lines,
        address,
        charges,
        payment_method,
        pay_within,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/orders",
    operation_id = "placeOrder",
    summary = "Place an order",
    description = "Holds the stock of every line or of none, sets the payment deadline from the store's settings (or `pay_within`), and records the placement. Honours `Idempotency-Key`: the same key with the same body returns the first response (with `Idempotent-Replayed: true`) and creates nothing; with a different body it is refused with `idempotency_key_reused`.",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$",
            description = "Visible ASCII; the same key and body return the first answer."),
    ),
    request_body = PlaceBody,
    responses(
        (status = 201, description = "The order.", body = OrderView, headers(
            ("Location" = String, description = "The order's address."),
            ("Idempotent-Replayed" = String, description = "`true` when this is the first answer again."),
        )),
        (status = 403, response = ErrorResponse),
        (status = 404, response = ErrorResponse),
        (status = 409, response = ErrorResponse),
    )
)]
pub(crate) async fn place(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: ApiJson<PlaceBody>,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_key(&headers, &caller, &body.canonical)?;
    let order = parse_place(body.value)?;
    let placed = state
        .engine
        .place_order(PlaceOrder {
            customer: order.customer,
            lines: order.lines,
            address: order.address,
            charges: order.charges,
            payment_method: order.payment_method,
            pay_within: order.pay_within,
            actor: caller.actor(),
            idempotency,
            note: None,
        })
        .await?;
    let location = format!("/api/v1/orders/{}", placed.order.id);
    let mut response = (
        StatusCode::CREATED,
        Json(OrderView::new(placed.order, &state.engine)),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("an order path is a valid header"),
    );
    if placed.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub(crate) fn parse_order_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(OrderId)
        .ok_or_else(|| ApiError::not_found("order"))
}

#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    operation_id = "getOrder",
    summary = "Read an order",
    description = "The order with its items, payments and history of events.",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let order = state
        .engine
        .order(id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(OrderView::new(order, &state.engine)))
}

#[utoipa::path(
    get,
    path = "/api/v1/orders",
    operation_id = "listOrders",
    summary = "List orders",
    description = "Newest first, optionally of one status, paged by `after` (the last id seen).",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
        ("status" = Option<OrderStatus>, Query),
        ("after" = Option<i64>, Query, minimum = 0, description = "The last id of the page before."),
    ),
    responses((status = 200, body = PageView<OrderView, i64>), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageView<OrderView, i64>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let status = query
        .get("status")
        .map(|raw| {
            OrderStatus::parse(raw).ok_or_else(|| {
                let known: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::unprocessable(
                    "invalid_query",
                    format!("status must be one of {}", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let after = super::cursor(
        query.get("after"),
        "invalid_query",
        "after must be an order id",
    )?
    .map(OrderId);
    let orders = state.engine.orders(status, Page { after, limit }).await?;
    let next_after = (orders.len() == limit)
        .then(|| orders.last().map(|o| o.id.0))
        .flatten();
    Ok(Json(PageView {
        items: orders
            .into_iter()
            .map(|o| OrderView::new(o, &state.engine))
            .collect(),
        next_after,
    }))
}

pub(crate) fn parse_payment(body: PaymentBody) -> Result<(Money, Option<String>), ApiError> {
    let amount = Money::payment(body.amount).map_err(|e| {
        let message = match e {
            MoneyError::TooLarge => format!("amount {e}"),
            _ => "amount must be greater than 0".to_owned(),
        };
        ApiError::unprocessable("invalid_amount", message)
    })?;
    let reference = match body.reference.as_deref() {
        None => None,
        Some(raw) => clean_text(raw)
            .map_err(|e| ApiError::unprocessable("invalid_reference", format!("reference {e}")))?,
    };
    Ok((amount, reference))
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/payments",
    operation_id = "recordPayment",
    summary = "Record a payment",
    description = "Adds a payment staff received. A payment of exactly amount_due (the total with a bank transfer's unique code) pays the order: it becomes `paid` and its holds become sales; less keeps it awaiting the rest (reminders go on for the balance); more is recorded as it is and the excess is flagged for refund in the review list. Only orders awaiting payment take staff payments (`invalid_transition` otherwise); money that arrives by itself (statements, gateways) after an order ended follows the late-payment rules instead.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = PaymentBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn pay(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<PaymentBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let (amount, reference) = parse_payment(body.value)?;
    let order = state
        .engine
        .record_payment(id, amount, reference, caller.actor())
        .await?;
    Ok(Json(OrderView::new(order, &state.engine)))
}

/// Why staff take an order as paid with less than was due.
#[derive(Deserialize, ToSchema)]
#[schema(as = AcceptInput)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptBody {
    #[schema(value_type = Text)]
    pub(crate) reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/accept-as-paid",
    operation_id = "acceptAsPaid",
    summary = "Accept an order as paid with what arrived",
    description = "\"Terima sebagai lunas\": an order awaiting payment (or its balance) that some money has reached becomes `paid`; what is missing of `amount_due` is recorded as `written_off`, the reason is in its history and the audit log, and the buyer is told the payment arrived. An order nothing has been paid on is refused with `nothing_paid` (cancel it, or give a discount, instead).",
    params(("id" = i64, Path, minimum = 1)),
    request_body = AcceptBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn accept_as_paid(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<AcceptBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let reason = parse_reason(&body.value.reason)?;
    let order = state
        .engine
        .accept_as_paid(id, reason, caller.actor())
        .await?;
    Ok(Json(OrderView::new(order, &state.engine)))
}

pub(crate) fn parse_reason(raw: &str) -> Result<String, ApiError> {
    clean_text(raw)
        .map_err(|e| ApiError::unprocessable("invalid_reason", format!("reason {e}")))?
        .ok_or_else(|| ApiError::unprocessable("invalid_reason", "reason must not be empty"))
}

pub(crate) fn parse_cancel(body: CancelBody) -> Result<(String, CancelledBy), ApiError> {
    let reason = parse_reason(&body.reason)?;
    let by = match body.by.as_deref() {
        None | Some("seller") => CancelledBy::Seller,
        Some("buyer") => CancelledBy::Buyer,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_cancelled_by",
                "by must be buyer or seller",
            ));
        }
    };
    Ok((reason, by))
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    operation_id = "cancelOrder",
    summary = "Cancel an order",
    description = "Cancels an order awaiting payment and releases its holds.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = CancelBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<CancelBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let (reason, by) = parse_cancel(body.value)?;
    let order = state
        .engine
        .cancel_order_by(id, reason, caller.actor(), by)
        .await?;
    Ok(Json(OrderView::new(order, &state.engine)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = DeadlineInput)]
pub(crate) struct DeadlineBody {
    /// The new deadline, RFC 3339 (`2026-12-02T17:00:00+07:00`): later than the current one, at
    /// most 30 days from now.
    #[schema(value_type = String, format = DateTime)]
    pub(crate) pay_by: String,
    #[schema(value_type = Text)]
    pub(crate) reason: String,
}

pub(crate) fn parse_deadline(body: DeadlineBody) -> Result<(Timestamp, String), ApiError> {
    let pay_by = body.pay_by.trim().parse::<Timestamp>().map_err(|_| {
        ApiError::unprocessable(
            "invalid_deadline",
            "pay_by must be a time with its offset, e.g. 2026-12-02T17:00:00+07:00",
        )
    })?;
    Ok((pay_by, parse_reason(&body.reason)?))
}

/// Gives an order awaiting payment a later deadline (its release and reminders move with it).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/deadline",
    operation_id = "extendDeadline",
    summary = "Give an order a later deadline",
    description = "Moves the payment deadline of an order awaiting payment later (at most 30 days from now); its release and the reminders still ahead move with it, and the change is an event of the order.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = DeadlineBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn extend(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<DeadlineBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(&id)?;
    let (pay_by, reason) = parse_deadline(body.value)?;
    let order = state
        .engine
        .extend_deadline(id, pay_by, reason, caller.actor())
        .await?;
    Ok(Json(OrderView::new(order, &state.engine)))
}
