//! After the payment, in the API: an order's steps (`pack`, `ship`, `deliver`, `confirm-cod`,
//! `returned-to-sender`), its return requests and their steps, and the couriers' events kept for
//! staff.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use lunas_core::Money;
use lunas_core::fulfilment::{Step, clean_shipment_text};
use lunas_core::returns::ReturnStep;
use lunas_engine::fulfilment::ShipInfo;
use lunas_engine::returns::ReturnDetails;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ErrorResponse, OptionalText, ShipmentText, Text};
use super::orders::{parse_order_id, parse_reason};
use super::views::OrderView;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// The parcel as it leaves.
#[derive(Deserialize, ToSchema)]
#[schema(as = ShipInput)]
pub(crate) struct ShipBody {
    /// The courier: `jne`, `jnt`, `sicepat`, `anteraja`, `pos`, `ninja`, `idexpress`, `tiki`,
    /// `lion`, `sap` get a tracking link; any other name is kept as written.
    #[schema(value_type = ShipmentText)]
    pub(crate) courier: String,
    /// The courier's service (`REG`, `YES`, `Halu`).
    #[schema(value_type = Option<ShipmentText>)]
    pub(crate) service: Option<String>,
    /// The waybill (AWB, *nomor resi*): one order's only.
    #[schema(value_type = ShipmentText)]
    pub(crate) waybill: String,
    /// What the seller paid the courier.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) cost: Option<i64>,
}

/// What a parcel that came back cost.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = ReturnedToSenderInput)]
pub(crate) struct ReturnedBody {
    /// The return shipping the seller paid, recorded against the order.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) return_cost: Option<i64>,
}

fn shipment_text(field: &str, raw: &str) -> Result<String, ApiError> {
    clean_shipment_text(raw).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_shipment",
            format!("{field} must be 1 to 60 characters without control characters"),
        )
    })
}

/// The most a courier's charge for one parcel may be (the document's `maximum` for `cost` and
/// `return_cost` says the same).
const COURIER_COST_MAX: i64 = 1_000_000_000;

fn cost(field: &str, raw: Option<i64>) -> Result<Option<Money>, ApiError> {
    raw.map(|units| {
        Money::price(units)
            .ok()
            .filter(|_| units <= COURIER_COST_MAX)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_amount",
                    format!("{field} must be from 0 to {COURIER_COST_MAX}"),
                )
            })
    })
    .transpose()
}

/// Reads a ship body into what the engine takes.
pub(crate) fn parse_ship(body: ShipBody) -> Result<ShipInfo, ApiError> {
    Ok(ShipInfo {
        courier: Some(shipment_text("courier", &body.courier)?),
        service: body
            .service
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| shipment_text("service", s))
            .transpose()?,
        waybill: Some(shipment_text("waybill", &body.waybill)?),
        cost: cost("cost", body.cost)?,
    })
}

async fn take(
    state: &AppState,
    caller: &Caller,
    id: &str,
    step: Step,
    ship: ShipInfo,
    return_cost: Option<Money>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_order_id(id)?;
    let stepped = state
        .engine
        .step_order(id, step, ship, return_cost, caller.actor())
        .await?;
    Ok(Json(OrderView::new(stepped.order, &state.engine)))
}

/// A parcel's label, when it is printed with its waybill (booked at an aggregator).
#[derive(Deserialize, ToSchema)]
#[schema(as = PackInput)]
pub(crate) struct PackBody {
    #[schema(value_type = Option<ShipmentText>)]
    pub(crate) courier: Option<String>,
    #[schema(value_type = Option<ShipmentText>)]
    pub(crate) service: Option<String>,
    /// The waybill on the label: one order's only. The courier's pickup event then ships the
    /// order.
    #[schema(value_type = Option<ShipmentText>)]
    pub(crate) waybill: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/pack",
    operation_id = "packOrder",
    summary = "Mark an order packed",
    description = "A paid order (or a COD order its buyer confirmed) is packed: the buyer is told. A COD order's units leave the shelf now. The body is optional: a label printed with its waybill names the parcel now (`waybill_taken` when another order has it), and the courier's pickup event then ships the order. Again on a packed order, or later, changes nothing. Refused with `not_paid` for an unpaid order, `cod_not_confirmed` before a COD buyer confirmed, `invalid_transition` for an ended one.",
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = Option<PackBody>, description = "Optional: the label's courier and waybill.", content_type = "application/json"),
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn pack(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: crate::extract::OptionalJson<PackBody>,
) -> Result<Json<OrderView>, ApiError> {
    // No body (or `null`) packs without a label.
    let ship = match body.0 {
        None => ShipInfo::default(),
        Some(label) => {
            // A field given must say something; leave it out (or `null`) for none.
            let text = |field: &str, raw: Option<String>| {
                raw.map(|r| shipment_text(field, &r)).transpose()
            };
            ShipInfo {
                courier: text("courier", label.courier)?,
                service: text("service", label.service)?,
                waybill: text("waybill", label.waybill)?,
                cost: None,
            }
        }
    };
    take(&state, &caller, &id, Step::Pack, ship, None).await
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/ship",
    operation_id = "shipOrder",
    summary = "Ship an order under a waybill",
    description = "The parcel left with `courier` under `waybill` (packed or not): the buyer is told, with the courier's tracking link. Couriers' events that came for this waybill before are applied now. Refused with `waybill_taken` when another order has the waybill, `not_paid` for an unpaid order.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = ShipBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn ship(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<ShipBody>,
) -> Result<Json<OrderView>, ApiError> {
    // `parse_ship` is shared with the dashboard's form, where an empty service means none; a
    // service given through the API must say something (leave it out, or `null`, for none).
    if let Some(service) = &body.value.service {
        shipment_text("service", service)?;
    }
    let ship = parse_ship(body.value)?;
    take(&state, &caller, &id, Step::Ship, ship, None).await
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/deliver",
    operation_id = "deliverOrder",
    summary = "Mark an order delivered",
    description = "The courier delivered a shipped order: the buyer is told, the return window starts, and the order is completed when it closes. A COD order's money is recorded as paid at the door.",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn deliver(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    take(
        &state,
        &caller,
        &id,
        Step::Deliver,
        ShipInfo::default(),
        None,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/confirm-cod",
    operation_id = "confirmCodOrder",
    summary = "Confirm a COD order for its buyer",
    description = "The buyer confirmed the COD order (by chat or phone): it may be packed, and is no longer cancelled when the confirmation window ends. Refused with `not_cod` for other orders.",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse))
)]
pub(crate) async fn confirm_cod(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    take(
        &state,
        &caller,
        &id,
        Step::ConfirmCod,
        ShipInfo::default(),
        None,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/returned-to-sender",
    operation_id = "returnedToSender",
    summary = "A shipped parcel came back",
    description = "Refused at the door (COD) or undeliverable: the order becomes `returned_to_sender`, what the way back cost is recorded, the units are back on sale (offered to the waitlist first), and a COD refusal counts in the buyer's reliability record.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = ReturnedBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn returned_to_sender(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<ReturnedBody>,
) -> Result<Json<OrderView>, ApiError> {
    let return_cost = cost("return_cost", body.value.return_cost)?;
    take(
        &state,
        &caller,
        &id,
        Step::ReturnToSender,
        ShipInfo::default(),
        return_cost,
    )
    .await
}

/// A return asked for by staff (a buyer asks from the order's page, with photos).
#[derive(Deserialize, ToSchema)]
#[schema(as = ReturnInput)]
pub(crate) struct ReturnBody {
    #[schema(value_type = Text)]
    pub(crate) reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/returns",
    operation_id = "requestReturn",
    summary = "Ask for a return",
    description = "A delivered order's return, within the policy's window after delivery. Refused with `not_delivered`, `outside_return_window` (the policy's conditions are in the settings) or `return_open`.",
    params(("id" = i64, Path, minimum = 1)),
    request_body = ReturnBody,
    responses((status = 201, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn request_return(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: ApiJson<ReturnBody>,
) -> Result<(axum::http::StatusCode, Json<OrderView>), ApiError> {
    let id = parse_order_id(&id)?;
    let reason = parse_reason(&body.value.reason)?;
    let order = state
        .engine
        .request_return(id, reason, Vec::new(), caller.actor())
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(OrderView::new(order, &state.engine)),
    ))
}

/// What staff say with a return's step.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = ReturnStepInput)]
pub(crate) struct ReturnStepBody {
    /// To the buyer: why it was rejected, where to send the item.
    #[schema(value_type = Option<OptionalText>)]
    pub(crate) note: Option<String>,
    /// `receive`: whether the item can be sold again (required).
    pub(crate) resellable: Option<bool>,
    /// `refund`: the money paid back (required).
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[serde(default, deserialize_with = "crate::extract::whole_number_or_null")]
    pub(crate) amount: Option<i64>,
    /// `refund`: how it was paid back (required): `transfer BCA`, `e-wallet`.
    #[schema(value_type = Option<Text>)]
    pub(crate) method: Option<String>,
    /// `refund`: the transfer's reference.
    #[schema(value_type = Option<OptionalText>)]
    pub(crate) reference: Option<String>,
}

fn optional_text(field: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(|raw| {
        lunas_core::order::clean_text(raw)
            .map_err(|e| ApiError::unprocessable("invalid_text", format!("{field} {e}")))
    })
    .transpose()
    .map(Option::flatten)
}

/// Reads a return step's body for `step`: every field given is checked, whatever the step; the
/// step says which it needs.
pub(crate) fn parse_return_step(
    step: ReturnStep,
    body: ReturnStepBody,
) -> Result<ReturnDetails, ApiError> {
    let note = optional_text("note", body.note.as_deref())?;
    let method = optional_text("method", body.method.as_deref())?;
    let reference = optional_text("reference", body.reference.as_deref())?;
    let amount = body
        .amount
        .map(|a| {
            Money::payment(a)
                .map_err(|_| ApiError::unprocessable("invalid_amount", "amount must be above 0"))
        })
        .transpose()?;
    if step == ReturnStep::Receive && body.resellable.is_none() {
        return Err(ApiError::unprocessable(
            "resellable_required",
            "receive needs resellable: true or false",
        ));
    }
    let refund = if step == ReturnStep::Refund {
        let amount = amount.ok_or_else(|| {
            ApiError::unprocessable("invalid_amount", "refund needs an amount above 0")
        })?;
        let method = method.ok_or_else(|| {
            ApiError::unprocessable("invalid_text", "refund needs the method it was paid by")
        })?;
        Some((amount, method, reference))
    } else {
        None
    };
    Ok(ReturnDetails {
        note,
        resellable: body.resellable,
        refund,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/returns/{id}/{step}",
    operation_id = "stepReturn",
    summary = "Take a step on a return",
    description = "`approve` or `reject` a request; `receive` the item (`resellable: true` puts its units back on sale); then `refund` (money out: `amount`, `method`, `reference`) or `exchange`. The buyer is told each step. A step the return already took changes nothing; one out of turn is `invalid_return_transition`.",
    params(
        ("id" = i64, Path, minimum = 1),
        ("step" = String, Path, pattern = "^(approve|reject|receive|refund|exchange)$"),
    ),
    request_body = ReturnStepBody,
    responses((status = 200, body = OrderView), (status = 404, response = ErrorResponse), (status = 409, response = ErrorResponse), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn step_return(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, step)): Path<(String, String)>,
    body: ApiJson<ReturnStepBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("return"))?;
    let step = match step.as_str() {
        "approve" => ReturnStep::Approve,
        "reject" => ReturnStep::Reject,
        "receive" => ReturnStep::Receive,
        "refund" => ReturnStep::Refund,
        "exchange" => ReturnStep::Exchange,
        _ => return Err(ApiError::not_found("return step")),
    };
    let details = parse_return_step(step, body.value)?;
    let order = state
        .engine
        .return_step(id, step, details, caller.actor())
        .await?;
    Ok(Json(OrderView::new(order, &state.engine)))
}

/// A return request staff still handle.
#[derive(Serialize, ToSchema)]
#[schema(as = OpenReturn)]
pub(crate) struct OpenReturnView {
    pub order_id: i64,
    pub buyer: String,
    #[serde(flatten)]
    pub request: lunas_core::returns::ReturnSummary,
}

#[utoipa::path(
    get,
    path = "/api/v1/returns",
    operation_id = "listReturns",
    summary = "Returns to handle",
    description = "The return requests still being handled (requested, approved, received), oldest first, at most 200.",
    responses((status = 200, body = Vec<OpenReturnView>))
)]
pub(crate) async fn list_returns(
    State(state): State<AppState>,
) -> Result<Json<Vec<OpenReturnView>>, ApiError> {
    let rows = state.engine.open_returns(200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| OpenReturnView {
                order_id: r.order_id.0,
                buyer: r.buyer,
                request: r.summary,
            })
            .collect(),
    ))
}

/// A courier's event kept for staff.
#[derive(Serialize, ToSchema)]
#[schema(as = KeptCourierEvent)]
pub(crate) struct KeptEventView {
    pub id: i64,
    /// `biteship`, `kiriminaja` or `lunas`.
    pub source: String,
    pub waybill: String,
    /// The courier's own word.
    pub status: String,
    /// `unknown_waybill` (applied when an order is shipped under it) or `order_ended`.
    pub outcome: String,
    pub order_id: Option<i64>,
    pub received_at: jiff::Timestamp,
}

#[utoipa::path(
    get,
    path = "/api/v1/courier-events",
    operation_id = "listKeptCourierEvents",
    summary = "Couriers' events kept for staff",
    description = "Events for waybills no order has (they apply when an order is shipped under the waybill) and for orders that had ended, newest first, at most 200.",
    responses((status = 200, body = Vec<KeptEventView>))
)]
pub(crate) async fn kept_events(
    State(state): State<AppState>,
) -> Result<Json<Vec<KeptEventView>>, ApiError> {
    let rows = state.engine.kept_courier_events(200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|e| KeptEventView {
                id: e.id,
                source: e.source,
                waybill: e.waybill,
                status: e.status,
                outcome: e.outcome,
                order_id: e.order_id.map(|o| o.0),
                received_at: e.received_at,
            })
            .collect(),
    ))
}
