//! The one error type of the HTTP edge. 4xx errors carry a stable machine `code` and a message for
//! the user; 5xx errors are logged once here and never show internals to the caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lunas_core::reliability::PolicyRefusal;
use lunas_engine::Error as EngineError;
use lunas_store::{MessageOpError, OrderOpError, PlaceError, ProductError, StoreError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API token is required: Authorization: Bearer <token>",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(detail) | StoreError::Refused(detail) => {
                tracing::warn!(%detail, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let message = e.to_string();
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::Place(PlaceError::OutOfStock { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "out_of_stock", message)
            }
            EngineError::Place(PlaceError::UnknownSku { .. }) => {
                ApiError::unprocessable("unknown_sku", message)
            }
            EngineError::Place(PlaceError::ZeroTotal) => {
                ApiError::unprocessable("zero_total", message)
            }
            EngineError::Place(PlaceError::IdempotencyKeyReused) => {
                ApiError::unprocessable("idempotency_key_reused", message)
            }
            EngineError::Order(OrderOpError::NotFound) => ApiError::not_found("order"),
            EngineError::Order(OrderOpError::InvalidTransition(_)) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", message)
            }
            EngineError::Product(ProductError::StockBelowReserved { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "stock_below_reserved", message)
            }
            EngineError::PayWithinOnCod => ApiError::unprocessable("invalid_pay_within", message),
            EngineError::InvalidSettings(_) => ApiError::unprocessable("invalid_settings", message),
            EngineError::InvalidTemplate(_) => ApiError::unprocessable("invalid_template", message),
            EngineError::Message(MessageOpError::NotFound) => ApiError::not_found("message"),
            EngineError::Message(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_message_state", message)
            }
            EngineError::CustomerNotFound(_) => ApiError::not_found("buyer"),
            EngineError::InvalidWebhookUrl(_) => {
                ApiError::unprocessable("invalid_webhook_url", message)
            }
            EngineError::Policy(refused) | EngineError::Place(PlaceError::Policy(refused)) => {
                match refused {
                    // Without detail: the caller must not learn that the number is on a list.
                    PolicyRefusal::Blocked => ApiError::new(
                        StatusCode::FORBIDDEN,
                        "customer_blocked",
                        "this order cannot be placed",
                    ),
                    PolicyRefusal::MethodNotAllowed { .. } => {
                        ApiError::unprocessable("payment_method_not_allowed", message)
                    }
                    PolicyRefusal::TooManyUnits { .. } => {
                        ApiError::unprocessable("quantity_limited", message)
                    }
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        })
        .expect("error bodies always serialise");
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
