//! The one error type of the HTTP edge. 4xx errors carry a stable machine `code` and a message for
//! the user; 5xx errors are logged once here and never show internals to the caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lunas_core::accounts::AccountError;
use lunas_core::catalog::ProductError;
use lunas_core::ledger::ReviewError;
use lunas_core::outbox::MessageOpError;
use lunas_core::placing::{OrderOpError, PlaceError};
use lunas_core::reliability::PolicyRefusal;
use lunas_core::statement::StatementError;
use lunas_engine::Error as EngineError;
use lunas_engine::StoreError;
use lunas_engine::accounts::AccountOpError;
use lunas_engine::gateways::{CallbackError, PaymentLinkError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For a file that did not read: each bad line with its number and reason.
    pub lines: Option<Vec<lunas_core::statement::LineError>>,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
pub(crate) struct Inner<'a> {
    /// Stable, snake_case: what programs branch on.
    code: &'a str,
    /// For people; may change.
    message: &'a str,
    /// For a file that did not read: each bad line with its number and reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<lunas_core::statement::LineError>>)]
    lines: Option<&'a [lunas_core::statement::LineError]>,
}

/// The error body, as the document describes it.
pub(crate) type ErrorDoc = Body<'static>;
pub(crate) type ErrorDetailDoc = Inner<'static>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            lines: None,
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
            EngineError::Faq(e) => {
                use lunas_core::faq::FaqError;
                let status = match &e {
                    FaqError::NotFound => return ApiError::not_found("FAQ entry"),
                    FaqError::UnknownSku(_)
                    | FaqError::TooMany
                    | FaqError::NothingToSettle
                    | FaqError::NeedsProduct => StatusCode::CONFLICT,
                    FaqError::NotSent(_) => StatusCode::BAD_GATEWAY,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), message)
            }
            EngineError::Place(PlaceError::OutOfStock { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "out_of_stock", message)
            }
            // Like `out_of_stock`, the catalogue as it is now refuses a well-formed line.
            EngineError::Place(PlaceError::UnknownSku { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "unknown_sku", message)
            }
            // The product is a group; the order must name one of its variants.
            EngineError::Place(PlaceError::VariantRequired { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "variant_required", message)
            }
            EngineError::Place(PlaceError::ZeroTotal) => {
                ApiError::unprocessable("zero_total", message)
            }
            // The prices as they are now make the discount too large for this order.
            EngineError::Place(PlaceError::DiscountAboveTotal { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "discount_above_total", message)
            }
            EngineError::Place(PlaceError::IdempotencyKeyReused) => {
                ApiError::unprocessable("idempotency_key_reused", message)
            }
            EngineError::Order(OrderOpError::NotFound) => ApiError::not_found("order"),
            EngineError::Order(OrderOpError::InvalidTransition(_))
            | EngineError::Order(OrderOpError::Extend(
                lunas_core::ExtendError::InvalidTransition(_),
            )) => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message),
            EngineError::Order(OrderOpError::Accept(
                lunas_core::order::AcceptError::NothingPaid,
            )) => ApiError::new(StatusCode::CONFLICT, "nothing_paid", message),
            EngineError::Order(OrderOpError::Accept(
                lunas_core::order::AcceptError::InvalidTransition(_),
            )) => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message),
            EngineError::Order(OrderOpError::Step(e)) => {
                use lunas_core::fulfilment::StepError;
                let code = match e {
                    StepError::InvalidTransition(_) => "invalid_transition",
                    StepError::NotPaid { .. } => "not_paid",
                    StepError::NotConfirmed => "cod_not_confirmed",
                    StepError::NotCod => "not_cod",
                };
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            EngineError::Order(OrderOpError::WaybillTaken { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "waybill_taken", message)
            }
            EngineError::Order(OrderOpError::WaybillRequired) => {
                ApiError::unprocessable("waybill_required", message)
            }
            EngineError::Order(OrderOpError::Return(e)) => {
                ApiError::new(StatusCode::CONFLICT, e.code(), message)
            }
            EngineError::Order(OrderOpError::ReturnStep(_)) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_return_transition", message)
            }
            EngineError::Order(OrderOpError::ReturnNotFound) => ApiError::not_found("return"),
            // Not later than the deadline now, or past 30 days from now: the request is well
            // formed, the order's state and the clock refuse it.
            EngineError::Order(OrderOpError::Extend(_)) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_deadline", message)
            }
            EngineError::Account(e) => {
                let code = match e {
                    AccountOpError::Invalid(AccountError::Email) => "invalid_email",
                    AccountOpError::Invalid(AccountError::PasswordLength) => "invalid_password",
                    AccountOpError::EmailTaken => "email_taken",
                    AccountOpError::WrongPassword => "wrong_password",
                    AccountOpError::WrongCode => "wrong_code",
                    AccountOpError::LastOwner => "last_owner",
                    AccountOpError::Throttled { .. } => "throttled",
                };
                let status = if code == "throttled" {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError::new(status, code, message)
            }
            EngineError::Product(ProductError::NotFound { .. }) => ApiError::not_found("product"),
            EngineError::Product(ProductError::StockBelowReserved { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "stock_below_reserved", message)
            }
            // The catalogue as it is now refuses the parent a well-formed variant names.
            EngineError::Product(ProductError::UnknownParent { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "unknown_parent", message)
            }
            EngineError::Product(ProductError::ParentIsVariant { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "parent_is_variant", message)
            }
            EngineError::Product(ProductError::SkuTaken { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "sku_taken", message)
            }
            EngineError::Product(ProductError::VariantTaken { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "variant_taken", message)
            }
            EngineError::Claim(e) => {
                use lunas_engine::waitlist::ClaimError;
                match e {
                    ClaimError::NotFound => ApiError::not_found("offer"),
                    ClaimError::Over => ApiError::new(StatusCode::CONFLICT, "offer_over", message),
                    ClaimError::Refused(PlaceError::Policy(refused)) => {
                        EngineError::Policy(refused).into()
                    }
                    ClaimError::Refused(refused) => EngineError::Place(refused).into(),
                }
            }
            EngineError::Waitlist(e) => {
                use lunas_core::waitlist::WaitlistError;
                match e {
                    WaitlistError::UnknownProduct => ApiError::not_found("product"),
                    WaitlistError::VariantRequired => {
                        ApiError::new(StatusCode::CONFLICT, "variant_required", message)
                    }
                    WaitlistError::InStock { .. } => {
                        ApiError::new(StatusCode::CONFLICT, "in_stock", message)
                    }
                }
            }
            EngineError::File(e) => {
                use lunas_engine::pictures::FileError;
                let status = match e {
                    FileError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    FileError::NotAccepted => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    FileError::Empty | FileError::Unreadable | FileError::TooMany => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    FileError::Refused(_) => StatusCode::CONFLICT,
                };
                ApiError::new(status, e.code(), message)
            }
            EngineError::PayWithinOnCod => ApiError::unprocessable("invalid_pay_within", message),
            EngineError::ExportTooLarge { .. } => {
                ApiError::unprocessable("range_too_large", message)
            }
            EngineError::InvalidSettings(_) | EngineError::CadenceOutsideWindow { .. } => {
                ApiError::unprocessable("invalid_settings", message)
            }
            EngineError::InvalidTemplate(_) => ApiError::unprocessable("invalid_template", message),
            EngineError::ImportFile(_) => ApiError::unprocessable("invalid_import_file", message),
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
                    // A well-formed order the buyer's standing refuses as it is now, like
                    // `out_of_stock`: a conflict with the store's state, not a bad request.
                    PolicyRefusal::MethodNotAllowed { .. } => {
                        ApiError::new(StatusCode::CONFLICT, "payment_method_not_allowed", message)
                    }
                    PolicyRefusal::TooManyUnits { .. } => {
                        ApiError::new(StatusCode::CONFLICT, "quantity_limited", message)
                    }
                    PolicyRefusal::CodRefusals { .. } => {
                        ApiError::new(StatusCode::CONFLICT, "cod_not_allowed", message)
                    }
                }
            }
            EngineError::Statement(StatementError::NoHeader) => {
                ApiError::unprocessable("invalid_statement", message)
            }
            EngineError::Statement(StatementError::TooManyLines) => {
                ApiError::unprocessable("statement_too_long", message)
            }
            EngineError::BadStatementLines { errors, count } => {
                let shown = errors.len();
                let message = if shown < count {
                    format!("{message} (the first {shown} are listed)")
                } else {
                    message
                };
                ApiError {
                    lines: Some(errors),
                    ..ApiError::unprocessable("malformed_lines", message)
                }
            }
            EngineError::Review(ReviewError::NotFound) => ApiError::not_found("review item"),
            EngineError::Review(ReviewError::Resolved) => {
                ApiError::new(StatusCode::CONFLICT, "review_resolved", message)
            }
            EngineError::Review(ReviewError::NotAssignable) => {
                ApiError::new(StatusCode::CONFLICT, "review_not_assignable", message)
            }
            EngineError::Review(ReviewError::Order(e)) => EngineError::Order(e).into(),
            EngineError::Callback(CallbackError::NotConfigured(_)) => {
                ApiError::not_found("resource")
            }
            EngineError::Callback(CallbackError::Unauthorized(why)) => {
                // The reason names the check that failed, never a secret or an expected value.
                tracing::warn!(reason = why, "refused a payment callback");
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", message)
            }
            EngineError::Callback(CallbackError::StatusMismatch) => {
                tracing::warn!("refused a payment callback whose status disagrees with its code");
                ApiError::new(StatusCode::UNAUTHORIZED, "status_mismatch", message)
            }
            EngineError::Callback(CallbackError::Unconfirmed(_)) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway_unconfirmed",
                "the gateway's status API could not confirm this notification; it is kept for review, deliver it again",
            ),
            EngineError::Callback(CallbackError::Malformed(_)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_notification", message)
            }
            // A well-formed request this server's configuration cannot serve.
            EngineError::PaymentLink(PaymentLinkError::NotConfigured(_)) => {
                ApiError::new(StatusCode::CONFLICT, "gateway_not_configured", message)
            }
            EngineError::PaymentLink(PaymentLinkError::NothingToPay) => {
                ApiError::new(StatusCode::CONFLICT, "nothing_to_pay", message)
            }
            EngineError::PaymentLink(PaymentLinkError::Gateway(detail)) => {
                tracing::warn!(%detail, "a gateway did not create a payment");
                ApiError::new(StatusCode::BAD_GATEWAY, "gateway_error", message)
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
                lines: self.lines.as_deref(),
            },
        })
        .expect("error bodies always serialise");
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.code == "unauthorized" {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
