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

#[derive(Serialize)]
pub(crate) struct CallbackView {
    /// `recorded`, `duplicate`, `revived`, `needs_refund`, `no_change` or `review`.
    pub outcome: &'static str,
    pub order_id: Option<i64>,
    pub order_status: Option<&'static str>,
}

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

pub(crate) async fn midtrans(
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Json<CallbackView>, ApiError> {
    answer(state.engine.midtrans_notification(&body.0).await?)
}

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
