//! `/callbacks/midtrans`, `/callbacks/xendit` and `/callbacks/mutations`: payment gateways and
//! bank-mutation services tell lunas that money arrived. These routes are outside `/api/v1` and
//! take no API token: each delivery is authenticated by its own signature (Midtrans'
//! `signature_key`, Xendit's `x-callback-token`, the mutation service's `Signature`). A delivery
//! that fails its check is answered 401 and changes nothing; one for an order lunas does not know
//! is answered 404 and kept for review.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use lunas_core::ledger::{GatewayOutcome, PaymentEffect};
use serde::Serialize;

use crate::extract::RawBody;
use crate::{ApiError, AppState};

/// What a notification did.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CallbackOutcome)]
pub(crate) struct CallbackView {
    /// `recorded`, `duplicate`, `revived`, `needs_refund`, `no_change` or `review`.
    pub outcome: &'static str,
    pub order_id: Option<i64>,
    #[schema(value_type = Option<lunas_core::OrderStatus>)]
    pub order_status: Option<&'static str>,
}

/// A gateway's notification, as the gateway writes it (any JSON object; its fields are read as
/// each gateway documents them).
#[derive(utoipa::ToSchema)]
#[schema(as = GatewayNotification)]
#[allow(dead_code)] // The document's name for the body the callbacks read raw.
pub(crate) struct GatewayNotification(serde_json::Map<String, serde_json::Value>);

fn answer(outcome: GatewayOutcome) -> Result<Json<CallbackView>, ApiError> {
    let (outcome, order) = match outcome {
        GatewayOutcome::Payment(applied) => {
            let outcome = match applied.effect {
                PaymentEffect::Duplicate => "duplicate",
                PaymentEffect::Revived => "revived",
                PaymentEffect::NeedsRefund(_) => "needs_refund",
                PaymentEffect::Review(_) => "review",
                PaymentEffect::Partial | PaymentEffect::DepositPaid | PaymentEffect::Paid => {
                    "recorded"
                }
            };
            (outcome, Some(applied.order))
        }
        GatewayOutcome::NoChange(order) => ("no_change", order),
        GatewayOutcome::Review(_) => ("review", None),
        GatewayOutcome::UnknownOrder => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_order",
                "no such order; the notification is kept for review",
            ));
        }
    };
    Ok(Json(CallbackView {
        outcome,
        order_id: order.as_ref().map(|o| o.id.0),
        order_status: order.map(|o| o.status.as_str()),
    }))
}

#[utoipa::path(
    post,
    path = "/callbacks/midtrans",
    operation_id = "midtransNotification",
    summary = "Midtrans HTTP notification",
    description = "Authenticated by signature_key = SHA512(order_id + status_code + gross_amount + server key), checked in constant time (401 otherwise; nothing changes). order_id is the lunas order id (optionally with -suffix). settlement and accepted capture pay the order if gross_amount is what is left to pay (else review); pending, deny, cancel, expire change nothing; refunds and challenges go to review. A transaction_id seen before is a duplicate. 404 (kept for review) for an unknown order; 404 when the server has no Midtrans key.",
    request_body = GatewayNotification,
    responses(
        (status = 200, description = "Taken (recorded, a duplicate, no change, or put on the review list).", body = CallbackView),
    )
)]
pub(crate) async fn midtrans(
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Json<CallbackView>, ApiError> {
    answer(state.engine.midtrans_notification(&body.0).await?)
}

#[utoipa::path(
    post,
    path = "/callbacks/xendit",
    operation_id = "xenditCallback",
    summary = "Xendit invoice or virtual account callback",
    description = "Authenticated by the x-callback-token header (the server's verification token, compared in constant time). external_id is the lunas order id. Invoice status PAID/SETTLED pays (paid_amount must be what is left), EXPIRED changes nothing; a fixed virtual account payment callback (payment_id, amount) pays.",
    params(("x-callback-token" = String, Header)),
    request_body = GatewayNotification,
    responses(
        (status = 200, description = "Taken (recorded, a duplicate, no change, or put on the review list).", body = CallbackView),
    )
)]
pub(crate) async fn xendit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<CallbackView>, ApiError> {
    let token = headers
        .get("x-callback-token")
        .and_then(|v| v.to_str().ok());
    answer(state.engine.xendit_notification(token, &body.0).await?)
}

#[utoipa::path(
    post,
    path = "/callbacks/mutations",
    operation_id = "mutationDelivery",
    summary = "Bank mutations from a mutation service",
    description = "A JSON array of mutations (or {\"mutations\": […]}), each with mutation_id, date, amount, type (CR/DB), description and optionally balance and bank_type, signed with HMAC-SHA256 of the body in the Signature header (hex). Matched like a statement; a mutation seen before is a duplicate. A malformed mutation refuses the delivery (422, with each bad item's number).",
    params(("Signature" = String, Header)),
    request_body(content = serde_json::Value, description = "The mutations."),
    responses(
        (status = 200, description = "Imported", body = lunas_core::ledger::ImportReport),
        (status = 422, response = crate::api::ErrorResponse),
    )
)]
pub(crate) async fn mutations(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<lunas_core::ledger::ImportReport>, ApiError> {
    let signature = headers.get("signature").and_then(|v| v.to_str().ok());
    Ok(Json(
        state.engine.import_mutations(signature, &body.0).await?,
    ))
}

/// What a courier's delivery did.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CourierCallbackOutcome)]
pub(crate) struct CourierView {
    /// Events whose step the order took.
    pub applied: usize,
    /// Repeats, late events and events that mean no step: nothing changed.
    pub unchanged: usize,
    /// Events for waybills no order has: kept, and applied when an order ships under one.
    pub kept_for_review: usize,
    /// Events for orders that had ended: kept for staff.
    pub order_ended: usize,
}

/// A courier's event, as the courier writes it (any JSON object; the fields read are in the
/// operation's description).
#[derive(utoipa::ToSchema)]
#[schema(as = CourierNotification)]
#[allow(dead_code)] // The document's name for the body the callbacks read raw.
pub(crate) struct CourierNotification(serde_json::Map<String, serde_json::Value>);

/// The answer to a courier's delivery: 200 with what it did; one event alone for a waybill no
/// order has is 404 `unknown_waybill`, for an ended order 409 `order_ended` (both kept).
fn courier_answer(
    outcomes: Vec<lunas_engine::fulfilment::CourierOutcome>,
) -> Result<Json<CourierView>, ApiError> {
    use lunas_engine::fulfilment::CourierOutcome as O;
    if let [single] = outcomes.as_slice() {
        match single {
            O::UnknownWaybill => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_waybill",
                    "no order has this waybill; the event is kept and applies when one ships under it",
                ));
            }
            O::OrderEnded(id) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "order_ended",
                    format!("order {id} cannot take this event; it is kept for staff"),
                ));
            }
            O::Applied(_) | O::Unchanged(_) => {}
        }
    }
    let count = |f: fn(&O) -> bool| outcomes.iter().filter(|o| f(o)).count();
    Ok(Json(CourierView {
        applied: count(|o| matches!(o, O::Applied(_))),
        unchanged: count(|o| matches!(o, O::Unchanged(_))),
        kept_for_review: count(|o| matches!(o, O::UnknownWaybill)),
        order_ended: count(|o| matches!(o, O::OrderEnded(_))),
    }))
}

async fn courier(
    state: &AppState,
    source: lunas_engine::couriers::CourierSource,
    secret: Option<&str>,
    body: &[u8],
) -> Result<Json<CourierView>, ApiError> {
    // A courier's dashboard tests the address with an empty POST: taken, nothing changes.
    if lunas_engine::couriers::is_test_delivery(body) {
        return courier_answer(Vec::new());
    }
    courier_answer(state.engine.courier_callback(source, secret, body).await?)
}

#[utoipa::path(
    post,
    path = "/callbacks/biteship",
    operation_id = "biteshipWebhook",
    summary = "Biteship order webhook",
    description = "Biteship's `order.status` and `order.waybill_id` events: `courier_waybill_id` names the order (by the waybill staff entered when shipping), `status` the step — `picked`, `dropping_off` ship it, `delivered` delivers it, `returned` returns it to sender; others change nothing. Authenticated by the header named by LUNAS_BITESHIP_SIGNATURE_HEADER (default `x-biteship-signature`) carrying LUNAS_BITESHIP_SIGNATURE_KEY, compared in constant time (401 otherwise). An event is applied once (by order, event, status and time); a late one never moves an order back. An empty test POST answers 200 and changes nothing. 404 `unknown_waybill` (kept, applied when an order ships under the waybill); 409 `order_ended` (kept).",
    request_body(content = Option<CourierNotification>, description = "The event; none for a dashboard's test.", content_type = "application/json"),
    responses((status = 200, description = "Taken.", body = CourierView))
)]
pub(crate) async fn biteship(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<CourierView>, ApiError> {
    let header = state
        .engine
        .biteship_header()
        .unwrap_or("x-biteship-signature");
    let secret = headers.get(header).and_then(|v| v.to_str().ok());
    courier(
        &state,
        lunas_engine::couriers::CourierSource::Biteship,
        secret,
        &body.0,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/callbacks/kiriminaja",
    operation_id = "kiriminajaCallback",
    summary = "KiriminAja package callback",
    description = "`{\"method\": …, \"data\": [{\"awb\": …}, …]}`: `shipped_packages` ships each package's order (found by `awb`), `finished_packages` delivers it, `returned_packages` returns it to sender; `processed_packages` and `canceled_packages` change nothing. Authenticated by `Authorization: Bearer <LUNAS_KIRIMINAJA_API_KEY>`, compared in constant time (401 otherwise). Each package's event is applied once. An empty test POST answers 200 and changes nothing.",
    params(("Authorization" = Option<String>, Header, description = "`Bearer <key>`: needed for every delivery but an empty test")),
    request_body(content = Option<CourierNotification>, description = "The packages; none for a dashboard's test.", content_type = "application/json"),
    responses((status = 200, description = "Taken.", body = CourierView))
)]
pub(crate) async fn kiriminaja(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<CourierView>, ApiError> {
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    courier(
        &state,
        lunas_engine::couriers::CourierSource::KiriminAja,
        lunas_engine::couriers::bearer(authorization),
        &body.0,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/callbacks/courier",
    operation_id = "courierEvent",
    summary = "A courier event in lunas's own format",
    description = "One event `{\"event_id\", \"waybill\", \"status\", \"courier\"?, \"at\"?}` or `{\"events\": [ … ]}` (at most 500). `status` is `picked_up`, `in_transit` (ship), `delivered`, `returned` (to sender), `cancelled` or `other` (no step). `event_id` is the event's identity: the same one again changes nothing. Authenticated by `Authorization: Bearer <LUNAS_COURIER_WEBHOOK_SECRET>`, compared in constant time. 404 `unknown_waybill` and 409 `order_ended` for a single event (kept for staff).",
    params(("Authorization" = Option<String>, Header, description = "`Bearer <secret>`: needed for every delivery but an empty test")),
    request_body(content = Option<CourierNotification>, description = "The events; none for a test.", content_type = "application/json"),
    responses((status = 200, description = "Taken.", body = CourierView))
)]
pub(crate) async fn generic_courier(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Json<CourierView>, ApiError> {
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    courier(
        &state,
        lunas_engine::couriers::CourierSource::Generic,
        lunas_engine::couriers::bearer(authorization),
        &body.0,
    )
    .await
}
