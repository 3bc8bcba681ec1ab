//! Payment gateways: Midtrans and Xendit. Their notifications are verified (Midtrans'
//! `signature_key`, Xendit's `x-callback-token`, both compared in constant time) and read into a
//! `GatewayNotification`; the store applies it. Creating a payment page at the gateway is a thin
//! client whose base URL is configurable, so tests talk to a local fake.
//!
//! Secrets never reach a log or an error message: a failed check says which check failed, not
//! what the secret or the expected value was.

use std::time::Duration;

use crate::tokens::same_secret;
use base64::Engine as _;
use http_body_util::Full;
use hyper::body::Bytes;
use lunas_core::payments::{PaymentSource, parse_rupiah};
use lunas_core::{Money, Order, OrderId, Timestamp};
use lunas_store::{GatewayNotification, GatewayStatus};
use sha2::{Digest, Sha512};

use crate::http::{HttpsClient, https_client, send};

/// Midtrans' production API (Snap); the sandbox is `https://app.sandbox.midtrans.com`.
pub const MIDTRANS_API_BASE_DEFAULT: &str = "https://app.midtrans.com";
/// Xendit's API, the same for test and live keys.
pub const XENDIT_API_BASE_DEFAULT: &str = "https://api.xendit.co";
/// Longest a request to a gateway may take.
const GATEWAY_TIMEOUT_MS: u64 = 10_000;
/// Longest notification body lunas reads.
pub const CALLBACK_BODY_BYTES_MAX: usize = 64 * 1024;

/// The gateways this server is configured for.
#[derive(Clone, Default)]
pub struct Gateways {
    pub midtrans: Option<MidtransConfig>,
    pub xendit: Option<XenditConfig>,
    /// The secret a bank-mutation service signs its deliveries with.
    pub mutation_secret: Option<String>,
}

#[derive(Clone)]
pub struct MidtransConfig {
    pub server_key: String,
    pub api_base: String,
}

#[derive(Clone)]
pub struct XenditConfig {
    /// The verification token Xendit sends in `x-callback-token`.
    pub callback_token: String,
    /// The secret API key, for creating invoices (optional: callbacks work without it).
    pub secret_key: Option<String>,
    pub api_base: String,
}

/// Why a callback was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("this server is not configured for {0}")]
    NotConfigured(&'static str),
    /// The signature or token did not match; nothing is changed.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Well signed, but not a notification lunas can read.
    #[error("{0}")]
    Malformed(String),
}

/// Why a payment page could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentLinkError {
    #[error("this server is not configured to create {0} payments")]
    NotConfigured(&'static str),
    #[error("the order has nothing left to pay")]
    NothingToPay,
    #[error("the gateway did not create the payment: {0}")]
    Gateway(String),
}

/// `SHA512(order_id + status_code + gross_amount + server_key)`, lowercase hex, as Midtrans signs
/// its notifications.
pub fn midtrans_signature(
    order_id: &str,
    status_code: &str,
    gross_amount: &str,
    server_key: &str,
) -> String {
    let mut hash = Sha512::new();
    for part in [order_id, status_code, gross_amount, server_key] {
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

fn text<'a>(body: &'a serde_json::Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(serde_json::Value::as_str)
}

/// The order a gateway's `order_id` / `external_id` names: lunas writes its order number, and a
/// seller who had to make a second transaction for one order may add `-anything`.
pub fn order_of(reference: &str) -> Option<OrderId> {
    let number = reference.split('-').next()?;
    if number.is_empty() || number.len() > 18 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok().filter(|id| *id > 0).map(OrderId)
}

fn body_json(body: &[u8]) -> Result<serde_json::Value, CallbackError> {
    serde_json::from_slice(body)
        .map_err(|e| CallbackError::Malformed(format!("the body is not JSON: {e}")))
}

/// Verifies and reads a Midtrans HTTP notification. Statuses: `capture` (accepted by fraud
/// detection) and `settlement` pay; `capture` held as `challenge` is for review; `pending` and
/// `authorize` wait; `deny`, `cancel`, `expire` and `failure` change nothing in lunas (the
/// order keeps its own deadline); `refund`, `partial_refund` and the chargebacks go to review.
pub fn read_midtrans(
    config: &MidtransConfig,
    body: &[u8],
    received_at: Timestamp,
) -> Result<GatewayNotification, CallbackError> {
    let json = body_json(body)?;
    let field = |name: &'static str| {
        text(&json, name).ok_or(CallbackError::Unauthorized(
            "the notification is not signed (order_id, status_code, gross_amount and signature_key are required)",
        ))
    };
    let (order_ref, status_code, gross_amount, signature) = (
        field("order_id")?,
        field("status_code")?,
        field("gross_amount")?,
        field("signature_key")?,
    );
    let expected = midtrans_signature(order_ref, status_code, gross_amount, &config.server_key);
    if !same_secret(&expected, &signature.trim().to_ascii_lowercase()) {
        return Err(CallbackError::Unauthorized(
            "the signature_key does not match",
        ));
    }
    let raw_status = text(&json, "transaction_status")
        .ok_or_else(|| CallbackError::Malformed("transaction_status is missing".into()))?;
    let transaction_id = text(&json, "transaction_id")
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| CallbackError::Malformed("transaction_id is missing".into()))?;
    let fraud = text(&json, "fraud_status").unwrap_or("accept");
    let status = match (raw_status, fraud) {
        ("capture", "challenge") => GatewayStatus::Challenge,
        ("capture", "deny") => GatewayStatus::Failed,
        ("capture" | "settlement", _) => GatewayStatus::Settled,
        ("refund" | "partial_refund" | "chargeback" | "partial_chargeback", _) => {
            GatewayStatus::Refunded
        }
        ("deny" | "cancel" | "expire" | "failure", _) => GatewayStatus::Failed,
        _ => GatewayStatus::Pending,
    };
    let amount = parse_rupiah(gross_amount).and_then(|a| Money::payment(a).ok());
    Ok(GatewayNotification {
        gateway: PaymentSource::Midtrans,
        transaction_id: transaction_id.to_owned(),
        order_ref: order_ref.to_owned(),
        order_id: order_of(order_ref),
        status,
        raw_status: raw_status.to_owned(),
        amount,
        body: String::from_utf8_lossy(body).into_owned(),
        received_at,
    })
}

/// Verifies and reads a Xendit callback: an invoice callback (`id`, `external_id`, `status`
/// `PAID`/`SETTLED` pay, `EXPIRED` changes nothing, `paid_amount`) or a fixed virtual account
/// payment callback (`payment_id`, `external_id`, `amount`: a payment by itself).
pub fn read_xendit(
    config: &XenditConfig,
    token: Option<&str>,
    body: &[u8],
    received_at: Timestamp,
) -> Result<GatewayNotification, CallbackError> {
    let token_matches = token.is_some_and(|token| same_secret(token, &config.callback_token));
    if !token_matches {
        return Err(CallbackError::Unauthorized(
            "the x-callback-token does not match",
        ));
    }
    let json = body_json(body)?;
    let order_ref = text(&json, "external_id")
        .ok_or_else(|| CallbackError::Malformed("external_id is missing".into()))?;
    let number = |name: &str| match json.get(name) {
        Some(serde_json::Value::Number(n)) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f > 0.0 && *f < 1e13)
                .map(|f| f as i64)
        }),
        Some(serde_json::Value::String(s)) => parse_rupiah(s),
        _ => None,
    };
    let (transaction_id, raw_status, status, amount) = if let Some(payment_id) =
        text(&json, "payment_id").filter(|_| json.get("status").is_none())
    {
        (
            payment_id,
            "VA_PAYMENT",
            GatewayStatus::Settled,
            number("amount"),
        )
    } else {
        let id =
            text(&json, "id").ok_or_else(|| CallbackError::Malformed("id is missing".into()))?;
        let raw_status = text(&json, "status")
            .ok_or_else(|| CallbackError::Malformed("status is missing".into()))?;
        let status = match raw_status {
            "PAID" | "SETTLED" | "SUCCEEDED" => GatewayStatus::Settled,
            "EXPIRED" | "FAILED" => GatewayStatus::Failed,
            _ => GatewayStatus::Pending,
        };
        (
            id,
            raw_status,
            status,
            number("paid_amount").or_else(|| number("amount")),
        )
    };
    if transaction_id.is_empty() || transaction_id.len() > 200 {
        return Err(CallbackError::Malformed(
            "the payment id is not valid".into(),
        ));
    }
    Ok(GatewayNotification {
        gateway: PaymentSource::Xendit,
        transaction_id: transaction_id.to_owned(),
        order_ref: order_ref.to_owned(),
        order_id: order_of(order_ref),
        status,
        raw_status: raw_status.to_owned(),
        amount: amount.and_then(|a| Money::payment(a).ok()),
        body: String::from_utf8_lossy(body).into_owned(),
        received_at,
    })
}

/// Which gateway to make a payment page at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    Midtrans,
    Xendit,
}

impl Gateway {
    pub fn parse(raw: &str) -> Option<Gateway> {
        match raw {
            "midtrans" => Some(Gateway::Midtrans),
            "xendit" => Some(Gateway::Xendit),
            _ => None,
        }
    }
}

/// The client that asks a gateway for a payment page.
pub(crate) struct GatewayClient {
    client: HttpsClient,
}

impl GatewayClient {
    pub(crate) fn new() -> GatewayClient {
        GatewayClient {
            client: https_client(
                hyper_util::client::legacy::connect::HttpConnector::new(),
                Duration::from_millis(GATEWAY_TIMEOUT_MS),
            ),
        }
    }

    /// Creates a payment for what `order` has left to pay and returns the page's address.
    pub(crate) async fn create(
        &self,
        gateways: &Gateways,
        gateway: Gateway,
        order: &Order,
        now: Timestamp,
    ) -> Result<String, PaymentLinkError> {
        let left = order.amount_due.minor_units() - order.amount_paid.minor_units();
        if left <= 0 || !order.status.is_open() {
            return Err(PaymentLinkError::NothingToPay);
        }
        let (url, key, body, url_field) = match gateway {
            Gateway::Midtrans => {
                let config = gateways
                    .midtrans
                    .as_ref()
                    .ok_or(PaymentLinkError::NotConfigured("Midtrans"))?;
                let body = serde_json::json!({
                    "transaction_details": {"order_id": order.id.to_string(), "gross_amount": left},
                    "customer_details": {
                        "first_name": order.customer.name,
                        "phone": order.customer.phone.as_str(),
                        "email": order.customer.email,
                    },
                });
                (
                    format!(
                        "{}/snap/v1/transactions",
                        config.api_base.trim_end_matches('/')
                    ),
                    config.server_key.clone(),
                    body,
                    "redirect_url",
                )
            }
            Gateway::Xendit => {
                let config = gateways
                    .xendit
                    .as_ref()
                    .ok_or(PaymentLinkError::NotConfigured("Xendit"))?;
                let key = config
                    .secret_key
                    .clone()
                    .ok_or(PaymentLinkError::NotConfigured("Xendit"))?;
                let seconds = order
                    .pay_by
                    .map(|by| (by.as_second() - now.as_second()).max(60))
                    .unwrap_or(86_400);
                let body = serde_json::json!({
                    "external_id": order.id.to_string(),
                    "amount": left,
                    "description": format!("Order #{}", order.id),
                    "invoice_duration": seconds,
                    "customer": {"given_names": order.customer.name, "mobile_number": order.customer.phone.as_str()},
                });
                (
                    format!("{}/v2/invoices", config.api_base.trim_end_matches('/')),
                    key,
                    body,
                    "invoice_url",
                )
            }
        };
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        let request = hyper::Request::post(&url)
            .header("authorization", format!("Basic {auth}"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| PaymentLinkError::Gateway(format!("bad gateway address: {e}")))?;
        let (status, answer) = send(
            &self.client,
            request,
            Duration::from_millis(GATEWAY_TIMEOUT_MS),
        )
        .await
        .map_err(|e| match e {
            crate::outbox::DeliveryError::Transient(m)
            | crate::outbox::DeliveryError::Permanent(m) => PaymentLinkError::Gateway(m),
        })?;
        if !status.is_success() {
            return Err(PaymentLinkError::Gateway(format!(
                "the gateway answered {status}"
            )));
        }
        let answer: serde_json::Value = serde_json::from_slice(&answer)
            .map_err(|_| PaymentLinkError::Gateway("the answer is not JSON".into()))?;
        text(&answer, url_field)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_owned)
            .ok_or_else(|| PaymentLinkError::Gateway(format!("the answer has no {url_field}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_order_ids_name_lunas_orders() {
        assert_eq!(order_of("1042"), Some(OrderId(1042)));
        assert_eq!(order_of("1042-2"), Some(OrderId(1042)));
        assert_eq!(order_of("test-transaction-321"), None);
        assert_eq!(order_of("0"), None);
        assert_eq!(order_of(""), None);
    }
}
