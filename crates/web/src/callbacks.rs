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
