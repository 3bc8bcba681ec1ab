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
use lunas_core::ledger::{GatewayNotification, GatewayStatus};
use lunas_core::payments::{PaymentSource, parse_rupiah};
use lunas_core::{Money, Order, OrderId, Timestamp};
use sha2::{Digest, Sha512};

use crate::http::{HttpsClient, https_client, send};

/// Midtrans' production API (Snap); the sandbox is `https://app.sandbox.midtrans.com`.
pub const MIDTRANS_API_BASE_DEFAULT: &str = "https://app.midtrans.com";
/// Midtrans' Core API, where a transaction's status is asked; the sandbox is
/// `https://api.sandbox.midtrans.com`.
pub const MIDTRANS_STATUS_API_BASE_DEFAULT: &str = "https://api.midtrans.com";
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
    /// The couriers' webhook secrets.
    pub couriers: Couriers,
    /// The secret (`whsec_…`) senders of lunas's own messages webhook sign with (Standard
    /// Webhooks).
    pub messages_secret: Option<String>,
}

/// The couriers' secrets this server is configured with.
#[derive(Clone, Default)]
pub struct Couriers {
    /// Biteship: the header it sends (`x-biteship-signature` by default) and the key it must
    /// carry.
    pub biteship: Option<(String, String)>,
    /// KiriminAja: the API key its callbacks carry as `Authorization: Bearer <key>`.
    pub kiriminaja_key: Option<String>,
    /// The generic format: the secret its senders carry as `Authorization: Bearer <secret>`.
    pub generic_secret: Option<String>,
}

#[derive(Clone)]
pub struct MidtransConfig {
    pub server_key: String,
    /// Snap, for payment pages.
    pub api_base: String,
    /// The Core API, for `GET /v2/{order_id}/status`.
    pub status_api_base: String,
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
    /// A status that does not agree with the signed `status_code`: the notification was
    /// rewritten after it was signed; nothing is changed.
    #[error("the status_code does not agree with the transaction_status")]
    StatusMismatch,
    /// Well signed, but not a notification lunas can read.
    #[error("{0}")]
    Malformed(String),
    /// The gateway's status API could not confirm the notification (it did not answer, or not
    /// sensibly); the notification is kept for review and the gateway should deliver it again.
    #[error("{0}")]
    Unconfirmed(String),
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

/// The `status_code` Midtrans sends with a `transaction_status` (and `fraud_status`), where its
/// documentation fixes one: `200` for a payment that succeeded (and for what follows one: a
/// refund, a chargeback, a cancelled capture), `201` for one still pending or held for a fraud
/// challenge, `202` for a denied one, `407` for an expired one. The signature covers the code but
/// not the status, so a status that disagrees with its code has been rewritten.
fn midtrans_status_code(transaction_status: &str, fraud_status: &str) -> Option<&'static str> {
    match (transaction_status, fraud_status) {
        ("capture", "challenge") => Some("201"),
        (
            "capture" | "settlement" | "authorize" | "cancel" | "refund" | "partial_refund"
            | "chargeback" | "partial_chargeback",
            _,
        ) => Some("200"),
        ("pending", _) => Some("201"),
        ("deny", _) => Some("202"),
        ("expire", _) => Some("407"),
        _ => None,
    }
}

/// What lunas makes of a Midtrans status. `capture` (accepted by fraud detection) and
/// `settlement` pay; `capture` held as `challenge` is for review; `pending` and `authorize`
/// wait; `deny`, `cancel`, `expire` and `failure` change nothing in lunas (the order keeps its
/// own deadline); `refund`, `partial_refund` and the chargebacks go to review.
fn midtrans_status(transaction_status: &str, fraud_status: &str) -> GatewayStatus {
    match (transaction_status, fraud_status) {
        ("capture", "challenge") => GatewayStatus::Challenge,
        ("capture", "deny") => GatewayStatus::Failed,
        ("capture" | "settlement", _) => GatewayStatus::Settled,
        ("refund" | "partial_refund" | "chargeback" | "partial_chargeback", _) => {
            GatewayStatus::Refunded
        }
        ("deny" | "cancel" | "expire" | "failure", _) => GatewayStatus::Failed,
        _ => GatewayStatus::Pending,
    }
}

/// A Midtrans transaction as a notification or the status API describes it: checked for a
/// status that agrees with its code, and read.
struct MidtransTransaction<'a> {
    order_ref: &'a str,
    transaction_id: &'a str,
    raw_status: &'a str,
    status: GatewayStatus,
    amount: Option<Money>,
}

fn midtrans_transaction<'a>(
    json: &'a serde_json::Value,
    order_ref: &'a str,
    status_code: &str,
    gross_amount: &str,
) -> Result<MidtransTransaction<'a>, CallbackError> {
    let raw_status = text(json, "transaction_status")
        .ok_or_else(|| CallbackError::Malformed("transaction_status is missing".into()))?;
    let transaction_id = text(json, "transaction_id")
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| CallbackError::Malformed("transaction_id is missing".into()))?;
    let fraud = text(json, "fraud_status").unwrap_or("accept");
    if midtrans_status_code(raw_status, fraud).is_some_and(|code| code != status_code) {
        return Err(CallbackError::StatusMismatch);
    }
    Ok(MidtransTransaction {
        order_ref,
        transaction_id,
        raw_status,
        status: midtrans_status(raw_status, fraud),
        amount: parse_rupiah(gross_amount).and_then(|a| Money::payment(a).ok()),
    })
}

/// Verifies and reads a Midtrans HTTP notification: its `signature_key`, then that its status
/// agrees with its `status_code`. A notification that would record money is not yet to be
/// believed: `needs_confirmation` says so, and `confirm_midtrans` reads the status API's answer.
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
    let transaction = midtrans_transaction(&json, order_ref, status_code, gross_amount)?;
    Ok(notification_of(
        &transaction,
        String::from_utf8_lossy(body).into_owned(),
        received_at,
    ))
}

fn notification_of(
    transaction: &MidtransTransaction<'_>,
    body: String,
    received_at: Timestamp,
) -> GatewayNotification {
    GatewayNotification {
        gateway: PaymentSource::Midtrans,
        transaction_id: transaction.transaction_id.to_owned(),
        order_ref: transaction.order_ref.to_owned(),
        order_id: order_of(transaction.order_ref),
        status: transaction.status,
        raw_status: transaction.raw_status.to_owned(),
        amount: transaction.amount,
        body,
        received_at,
    }
}

/// Whether a notification would record money or put money on the review list, so that the
/// status API must confirm it first (as Midtrans recommends).
pub fn needs_confirmation(notification: &GatewayNotification) -> bool {
    matches!(
        notification.status,
        GatewayStatus::Settled | GatewayStatus::Challenge
    )
}

/// The notification as the status API's answer `status` (to `GET /v2/{order_id}/status`)
/// describes it: its status, fraud status, amount and transaction id are the API's; the body kept
/// is the notification's as received. An answer for another order, or one that does not read,
/// confirms nothing.
pub fn confirm_midtrans(
    notification: &GatewayNotification,
    status: &[u8],
) -> Result<GatewayNotification, CallbackError> {
    let json: serde_json::Value = serde_json::from_slice(status).map_err(|_| {
        CallbackError::Unconfirmed("the Midtrans status API did not answer JSON".into())
    })?;
    let (Some(order_ref), Some(status_code), Some(gross_amount)) = (
        text(&json, "order_id"),
        text(&json, "status_code"),
        text(&json, "gross_amount"),
    ) else {
        return Err(CallbackError::Unconfirmed(format!(
            "the Midtrans status API does not know the transaction (status_code {})",
            text(&json, "status_code").unwrap_or("missing")
        )));
    };
    if order_ref != notification.order_ref {
        return Err(CallbackError::Unconfirmed(
            "the Midtrans status API answered for another order".into(),
        ));
    }
    let transaction = midtrans_transaction(&json, order_ref, status_code, gross_amount)
        .map_err(|e| CallbackError::Unconfirmed(format!("the Midtrans status API: {e}")))?;
    Ok(notification_of(
        &transaction,
        notification.body.clone(),
        notification.received_at,
    ))
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

    /// Sends a request to a gateway within `GATEWAY_TIMEOUT_MS`; a failure says why in words.
    async fn send(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<(hyper::StatusCode, Bytes), String> {
        send(
            &self.client,
            request,
            Duration::from_millis(GATEWAY_TIMEOUT_MS),
        )
        .await
    }

    /// Asks Midtrans's status API for the transaction of `order_ref`; returns the answer's body.
    pub(crate) async fn midtrans_status(
        &self,
        config: &MidtransConfig,
        order_ref: &str,
    ) -> Result<Vec<u8>, CallbackError> {
        let url = format!(
            "{}/v2/{}/status",
            config.status_api_base.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(order_ref, percent_encoding::NON_ALPHANUMERIC)
        );
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", config.server_key));
        let request = hyper::Request::get(&url)
            .header("authorization", format!("Basic {auth}"))
            .header("accept", "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|_| {
                CallbackError::Unconfirmed("the status API address is not valid".into())
            })?;
        let (status, answer) = self
            .send(request)
            .await
            .map_err(|m| CallbackError::Unconfirmed(format!("the Midtrans status API: {m}")))?;
        // The status API answers 200 with the transaction's own status_code in the body (404
        // there for an unknown transaction); another HTTP status is an outage.
        if !status.is_success() {
            return Err(CallbackError::Unconfirmed(format!(
                "the Midtrans status API answered {status}"
            )));
        }
        Ok(answer.to_vec())
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
        let (status, answer) = self
            .send(request)
            .await
            .map_err(PaymentLinkError::Gateway)?;
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

    fn config() -> MidtransConfig {
        MidtransConfig {
            server_key: "SB-Mid-server-kunci".into(),
            api_base: MIDTRANS_API_BASE_DEFAULT.into(),
            status_api_base: MIDTRANS_STATUS_API_BASE_DEFAULT.into(),
        }
    }

    fn notification(status: &str, code: &str, fraud: &str) -> Vec<u8> {
        let signature = midtrans_signature("12", code, "150237.00", "SB-Mid-server-kunci");
        serde_json::json!({
            "order_id": "12", "status_code": code, "gross_amount": "150237.00",
            "signature_key": signature, "transaction_status": status,
            "transaction_id": "tx-1", "fraud_status": fraud,
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_midtrans_status_that_disagrees_with_its_signed_code_is_refused() {
        let at = Timestamp::from_second(0).unwrap();
        // A captured pending notification rewritten to settlement keeps the pending code.
        for (status, code, fraud) in [
            ("settlement", "201", "accept"),
            ("capture", "201", "accept"),
            ("capture", "200", "challenge"),
            ("pending", "200", "accept"),
            ("refund", "201", "accept"),
            ("expire", "200", "accept"),
        ] {
            assert_eq!(
                read_midtrans(&config(), &notification(status, code, fraud), at).unwrap_err(),
                CallbackError::StatusMismatch,
                "{status} {code} {fraud}"
            );
        }
        for (status, code, fraud, read) in [
            ("settlement", "200", "accept", GatewayStatus::Settled),
            ("capture", "200", "accept", GatewayStatus::Settled),
            ("capture", "201", "challenge", GatewayStatus::Challenge),
            ("pending", "201", "accept", GatewayStatus::Pending),
            ("deny", "202", "deny", GatewayStatus::Failed),
            ("expire", "407", "accept", GatewayStatus::Failed),
            ("failure", "500", "accept", GatewayStatus::Failed),
        ] {
            let n = read_midtrans(&config(), &notification(status, code, fraud), at).unwrap();
            assert_eq!(n.status, read, "{status}");
            assert_eq!(
                needs_confirmation(&n),
                matches!(read, GatewayStatus::Settled | GatewayStatus::Challenge)
            );
        }
    }

    #[test]
    fn the_status_api_answer_decides_what_a_notification_did() {
        let at = Timestamp::from_second(0).unwrap();
        let n = read_midtrans(&config(), &notification("settlement", "200", "accept"), at).unwrap();
        let answer = |status: &str, code: &str, fraud: &str, order: &str| {
            serde_json::json!({
                "order_id": order, "status_code": code, "gross_amount": "150237.00",
                "transaction_status": status, "transaction_id": "tx-1", "fraud_status": fraud,
            })
            .to_string()
            .into_bytes()
        };
        let confirmed = confirm_midtrans(&n, &answer("settlement", "200", "accept", "12")).unwrap();
        assert_eq!(confirmed.status, GatewayStatus::Settled);
        assert_eq!(
            confirmed.body, n.body,
            "the notification is kept as received"
        );
        // The API says the money is still pending (the notification was forged): nothing paid.
        let pending = confirm_midtrans(&n, &answer("pending", "201", "accept", "12")).unwrap();
        assert_eq!(pending.status, GatewayStatus::Pending);
        // The fraud status comes from the API.
        let held = confirm_midtrans(&n, &answer("capture", "201", "challenge", "12")).unwrap();
        assert_eq!(held.status, GatewayStatus::Challenge);
        for bad in [
            answer("settlement", "200", "accept", "13"),
            br#"{"status_code": "404", "status_message": "Transaction doesn't exist."}"#.to_vec(),
            b"<html>".to_vec(),
        ] {
            assert!(matches!(
                confirm_midtrans(&n, &bad),
                Err(CallbackError::Unconfirmed(_))
            ));
        }
    }

    #[test]
    fn gateway_order_ids_name_lunas_orders() {
        assert_eq!(order_of("1042"), Some(OrderId(1042)));
        assert_eq!(order_of("1042-2"), Some(OrderId(1042)));
        assert_eq!(order_of("test-transaction-321"), None);
        assert_eq!(order_of("0"), None);
        assert_eq!(order_of(""), None);
    }
}
