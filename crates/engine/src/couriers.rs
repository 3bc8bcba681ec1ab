//! Couriers' webhooks: Biteship's `order.status` and `order.waybill_id` events, KiriminAja's
//! package callbacks, and a generic format of lunas's own. Each is authenticated by a secret the
//! seller configures, compared in constant time; each event becomes a [`CourierEvent`] with its
//! identity at its source, applied once by `fulfilment::apply_courier_event`.

use lunas_core::Timestamp;
use lunas_core::fulfilment::{Step, clean_shipment_text};
use serde_json::Value;

use crate::fulfilment::{CourierEvent, CourierOutcome};
use crate::gateways::CallbackError;
pub use crate::gateways::Couriers;
use crate::{Engine, Error};

/// Most events one delivery carries.
pub const EVENTS_PER_DELIVERY_MAX: usize = 500;

/// Which webhook a delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourierSource {
    Biteship,
    KiriminAja,
    Generic,
}

impl CourierSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CourierSource::Biteship => "biteship",
            CourierSource::KiriminAja => "kiriminaja",
            CourierSource::Generic => "lunas",
        }
    }
}

/// What a Biteship status means here. Statuses before pickup and problems on the way change
/// nothing (the parcel is still the seller's, or still on its way).
pub fn biteship_step(status: &str) -> Option<Step> {
    match status {
        "picked" | "dropping_off" | "on_hold" => Some(Step::Ship),
        "delivered" => Some(Step::Deliver),
        "returned" => Some(Step::ReturnToSender),
        _ => None,
    }
}

/// What a KiriminAja callback's method means here.
pub fn kiriminaja_step(method: &str) -> Option<Step> {
    match method {
        "shipped_packages" => Some(Step::Ship),
        "finished_packages" => Some(Step::Deliver),
        "returned_packages" | "return_finished_packages" => Some(Step::ReturnToSender),
        _ => None,
    }
}

/// The generic format's statuses: `picked_up`, `in_transit`, `delivered`, `returned`,
/// `cancelled`, `other`.
pub const GENERIC_STATUSES: [&str; 6] = [
    "picked_up",
    "in_transit",
    "delivered",
    "returned",
    "cancelled",
    "other",
];

fn generic_step(status: &str) -> Option<Step> {
    match status {
        "picked_up" | "in_transit" => Some(Step::Ship),
        "delivered" => Some(Step::Deliver),
        "returned" => Some(Step::ReturnToSender),
        _ => None,
    }
}

/// Whether `given` is `expected`, compared in constant time.
fn same_secret(given: Option<&str>, expected: &str) -> bool {
    given.is_some_and(|given| crate::tokens::same_secret(given, expected))
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn malformed(what: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(what.into())
}

fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) => clean_shipment_text(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn time(value: &Value, field: &str) -> Option<Timestamp> {
    let raw = value.get(field)?.as_str()?;
    raw.parse::<Timestamp>().ok().or_else(|| {
        // `2026-12-06 10:00:00` and the like, read as Jakarta time.
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", raw)
            .ok()?
            .in_tz("Asia/Jakarta")
            .ok()
            .map(|z| z.timestamp())
    })
}

/// Reads a Biteship delivery: one event, or none (an event without a waybill yet, a price
/// change).
pub fn read_biteship(body: &Value) -> Result<Vec<CourierEvent>, CallbackError> {
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("event is missing"))?;
    if !matches!(event, "order.status" | "order.waybill_id") {
        return Ok(Vec::new());
    }
    let Some(waybill) = text(body, "courier_waybill_id") else {
        return Ok(Vec::new());
    };
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let happened_at = time(body, "updated_at");
    let key = format!(
        "{}:{event}:{status}:{}",
        text(body, "order_id").unwrap_or_else(|| waybill.clone()),
        body.get("updated_at")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    Ok(vec![CourierEvent {
        source: CourierSource::Biteship.as_str(),
        key,
        step: biteship_step(&status),
        status,
        waybill,
        courier: text(body, "courier_company"),
        happened_at,
    }])
}

/// Reads a KiriminAja callback: `{"method": …, "data": [{"awb": …}, …]}`.
pub fn read_kiriminaja(body: &Value) -> Result<Vec<CourierEvent>, CallbackError> {
    let method = body
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("method is missing"))?;
    let packages = match body.get("data") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        _ => return Err(malformed("data must be a list of packages")),
    };
    if packages.len() > EVENTS_PER_DELIVERY_MAX {
        return Err(malformed(format!(
            "at most {EVENTS_PER_DELIVERY_MAX} packages a delivery"
        )));
    }
    packages
        .iter()
        .enumerate()
        .map(|(n, package)| {
            let waybill = text(package, "awb")
                .ok_or_else(|| malformed(format!("data[{n}].awb is missing")))?;
            Ok(CourierEvent {
                source: CourierSource::KiriminAja.as_str(),
                key: format!("{method}:{waybill}"),
                step: kiriminaja_step(method),
                status: method.to_owned(),
                courier: text(package, "service"),
                happened_at: ["shipped_at", "finished_at", "returned_at", "date"]
                    .iter()
                    .find_map(|field| time(package, field)),
                waybill,
            })
        })
        .collect()
}

/// Reads the generic format: one event `{"event_id", "waybill", "status", "courier"?, "at"?}`,
/// or `{"events": [ … ]}`.
pub fn read_generic(body: &Value) -> Result<Vec<CourierEvent>, CallbackError> {
    let events = match body.get("events") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => return Err(malformed("events must be a list")),
        None => std::slice::from_ref(body),
    };
    if events.len() > EVENTS_PER_DELIVERY_MAX {
        return Err(malformed(format!(
            "at most {EVENTS_PER_DELIVERY_MAX} events a delivery"
        )));
    }
    events
        .iter()
        .enumerate()
        .map(|(n, event)| {
            let field = |name: &str| {
                text(event, name).ok_or_else(|| {
                    malformed(format!("events[{n}].{name} must be 1 to 60 characters"))
                })
            };
            let status = field("status")?;
            if !GENERIC_STATUSES.contains(&status.as_str()) {
                return Err(malformed(format!(
                    "events[{n}].status must be one of {}",
                    GENERIC_STATUSES.join(", ")
                )));
            }
            Ok(CourierEvent {
                source: CourierSource::Generic.as_str(),
                key: field("event_id")?,
                waybill: field("waybill")?,
                step: generic_step(&status),
                status,
                courier: text(event, "courier"),
                happened_at: time(event, "at"),
            })
        })
        .collect()
}

/// Whether a delivery is a courier dashboard's test: no body, `{}` or `null`.
pub fn is_test_delivery(body: &[u8]) -> bool {
    let trimmed = body.trim_ascii();
    trimmed.is_empty()
        || serde_json::from_slice::<Value>(trimmed)
            .is_ok_and(|v| v.is_null() || v == Value::Object(Default::default()))
}

impl Engine {
    /// Takes a courier's webhook delivery to `source`, authenticated by `secret` (Biteship's
    /// signature header, or the bearer token of the others): its events, each applied once.
    pub async fn courier_callback(
        &self,
        source: CourierSource,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<CourierOutcome>, Error> {
        let couriers = &self.gateways.couriers;
        let expected = match source {
            CourierSource::Biteship => couriers.biteship.as_ref().map(|(_, key)| key),
            CourierSource::KiriminAja => couriers.kiriminaja_key.as_ref(),
            CourierSource::Generic => couriers.generic_secret.as_ref(),
        }
        .ok_or(CallbackError::NotConfigured(source.as_str()))?;
        if !same_secret(secret, expected) {
            return Err(CallbackError::Unauthorized("the courier's secret does not match").into());
        }
        let body: Value =
            serde_json::from_slice(body).map_err(|_| malformed("the body is not JSON"))?;
        let events = match source {
            CourierSource::Biteship => read_biteship(&body)?,
            CourierSource::KiriminAja => read_kiriminaja(&body)?,
            CourierSource::Generic => read_generic(&body)?,
        };
        self.courier_events(events).await
    }

    /// The header Biteship's signature comes in, as configured.
    pub fn biteship_header(&self) -> Option<&str> {
        self.gateways
            .couriers
            .biteship
            .as_ref()
            .map(|(header, _)| header.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn biteship_events_are_read_with_their_identity() {
        let body = json!({
            "event": "order.status", "order_id": "5dd599ebdefcd4158eb8470b",
            "courier_tracking_id": "6d05d5f0", "courier_waybill_id": "WYB-1",
            "courier_company": "jne", "status": "delivered",
            "updated_at": "2026-12-06T10:00:00+07:00"
        });
        let events = read_biteship(&body).unwrap();
        assert_eq!(events[0].waybill, "WYB-1");
        assert_eq!(events[0].step, Some(Step::Deliver));
        assert_eq!(
            events[0].key,
            "5dd599ebdefcd4158eb8470b:order.status:delivered:2026-12-06T10:00:00+07:00"
        );
        assert!(
            read_biteship(&json!({"event": "order.price"}))
                .unwrap()
                .is_empty()
        );
        assert!(
            read_biteship(&json!({"event": "order.status", "status": "confirmed"}))
                .unwrap()
                .is_empty()
        );
        assert!(read_biteship(&json!({"status": "x"})).is_err());
    }

    #[test]
    fn kiriminaja_packages_each_become_an_event() {
        let body = json!({"method": "finished_packages", "data": [
            {"awb": "KA1", "order_id": "OID-1", "finished_at": "2026-12-06 10:00:00"},
            {"awb": "KA2", "order_id": "OID-2"}
        ]});
        let events = read_kiriminaja(&body).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].key, "finished_packages:KA2");
        assert_eq!(events[0].step, Some(Step::Deliver));
        assert!(events[0].happened_at.is_some());
        assert!(read_kiriminaja(&json!({"method": "x", "data": [{"order_id": 1}]})).is_err());
    }

    #[test]
    fn the_generic_format_names_its_statuses() {
        let one = json!({"event_id": "e1", "waybill": "W1", "status": "returned"});
        assert_eq!(
            read_generic(&one).unwrap()[0].step,
            Some(Step::ReturnToSender)
        );
        let bad = json!({"event_id": "e1", "waybill": "W1", "status": "teleported"});
        assert!(read_generic(&bad).is_err());
        assert!(is_test_delivery(b""));
        assert!(is_test_delivery(b" {} "));
        assert!(is_test_delivery(b"null"));
        assert!(!is_test_delivery(b"{\"a\":1}"));
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_scheme_case() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(None), None);
    }
}
