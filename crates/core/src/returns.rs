//! Returns (*retur*): the store's policy — how many days after delivery a buyer may ask, on what
//! conditions, who pays the way back, refund or exchange — and the states a request goes
//! through: `requested` → `approved` or `rejected` → `received` → `refunded` or `exchanged`.
//!
//! `decide_return_request` and `decide_return_step` are the only places that decide them.

use serde::{Deserialize, Serialize};

use crate::{OrderStatus, Timestamp};

/// Longest text of the policy's conditions, in characters.
pub const CONDITIONS_LEN_MAX: usize = 1000;
/// Most photos one return request carries.
pub const RETURN_PHOTOS_MAX: usize = 3;
/// Most days after delivery a store may allow returns for.
pub const RETURN_WINDOW_DAYS_MAX: u32 = 30;

/// Who pays for sending a returned item back to the store.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnShippingPaidBy {
    Buyer,
    Seller,
}

/// What a buyer gets for an accepted return.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnRemedy {
    Refund,
    Exchange,
    /// The store decides per request.
    RefundOrExchange,
}

/// The store's return policy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReturnPolicy {
    /// Days after delivery a buyer may ask for a return (0 to 30; 0: no returns). When they
    /// pass, the order is completed. Default 2 (*komplain maksimal 2x24 jam*).
    #[cfg_attr(feature = "openapi", schema(maximum = 30))]
    pub window_days: u32,
    /// The conditions in the seller's words, shown to buyers and quoted when a request is
    /// refused.
    pub conditions: String,
    pub shipping_paid_by: ReturnShippingPaidBy,
    pub remedy: ReturnRemedy,
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        ReturnPolicy {
            window_days: 2,
            conditions:
                "Retur hanya untuk barang rusak, cacat produksi atau tidak sesuai pesanan. \
                         Sertakan foto dan video unboxing. Label dan kemasan masih lengkap."
                    .to_owned(),
            shipping_paid_by: ReturnShippingPaidBy::Seller,
            remedy: ReturnRemedy::RefundOrExchange,
        }
    }
}

impl ReturnPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if self.window_days > RETURN_WINDOW_DAYS_MAX {
            return Err(format!(
                "returns.window_days must be 0 to {RETURN_WINDOW_DAYS_MAX}"
            ));
        }
        if self.conditions.chars().count() > CONDITIONS_LEN_MAX {
            return Err(format!(
                "returns.conditions must be at most {CONDITIONS_LEN_MAX} characters"
            ));
        }
        Ok(())
    }

    /// The window as a duration.
    pub fn window(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(24 * i64::from(self.window_days))
    }

    /// When an order delivered at `delivered_at` is completed: its window's end.
    pub fn closes_at(&self, delivered_at: Timestamp) -> Timestamp {
        delivered_at + self.window()
    }
}

/// Where a return request stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Refunded,
    Exchanged,
}

impl ReturnStatus {
    pub const ALL: [ReturnStatus; 6] = [
        ReturnStatus::Requested,
        ReturnStatus::Approved,
        ReturnStatus::Rejected,
        ReturnStatus::Received,
        ReturnStatus::Refunded,
        ReturnStatus::Exchanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
            ReturnStatus::Exchanged => "exchanged",
        }
    }

    pub fn parse(raw: &str) -> Option<ReturnStatus> {
        ReturnStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the request is still being handled (the order waits for it to finish).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReturnStatus::Requested | ReturnStatus::Approved | ReturnStatus::Received
        )
    }
}

/// An order's latest return request, as the order shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSummary {
    pub id: i64,
    pub status: ReturnStatus,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: Timestamp,
    /// What staff answered (why it was rejected, what happens next).
    pub note: Option<String>,
    /// The money paid back, once refunded.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub refund: Option<crate::Money>,
    /// How many photos the request carries.
    pub photos: i64,
}

/// A step staff take on a return request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStep {
    Approve,
    Reject,
    Receive,
    Refund,
    Exchange,
}

impl ReturnStep {
    pub fn target(self) -> ReturnStatus {
        match self {
            ReturnStep::Approve => ReturnStatus::Approved,
            ReturnStep::Reject => ReturnStatus::Rejected,
            ReturnStep::Receive => ReturnStatus::Received,
            ReturnStep::Refund => ReturnStatus::Refunded,
            ReturnStep::Exchange => ReturnStatus::Exchanged,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStep::Approve => "approve",
            ReturnStep::Reject => "reject",
            ReturnStep::Receive => "receive",
            ReturnStep::Refund => "refund",
            ReturnStep::Exchange => "exchange",
        }
    }
}

/// Why a return cannot be asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    /// The order was not delivered (yet): there is nothing to return.
    #[error("order is {}: only a delivered order can be returned", status.as_str())]
    NotDelivered { status: OrderStatus },
    /// The window after delivery has passed (or the store takes no returns).
    #[error("the return window of {days} days after delivery has passed")]
    OutsideWindow { days: u32 },
    /// A request for this order is being handled already.
    #[error("a return for this order is already being handled")]
    AlreadyOpen,
}

impl ReturnRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ReturnRefusal::NotDelivered { .. } => "not_delivered",
            ReturnRefusal::OutsideWindow { .. } => "outside_return_window",
            ReturnRefusal::AlreadyOpen => "return_open",
        }
    }
}

/// Whether an order in `status`, delivered at `delivered_at`, with a request `open` already, may
/// have a return asked for at `now` under `policy`.
pub fn decide_return_request(
    status: OrderStatus,
    delivered_at: Option<Timestamp>,
    open: bool,
    policy: &ReturnPolicy,
    now: Timestamp,
) -> Result<(), ReturnRefusal> {
    let delivered_at = match (status, delivered_at) {
        (OrderStatus::Delivered | OrderStatus::Completed, Some(at)) => at,
        _ => return Err(ReturnRefusal::NotDelivered { status }),
    };
    if open {
        return Err(ReturnRefusal::AlreadyOpen);
    }
    if policy.window_days == 0 || now > policy.closes_at(delivered_at) {
        return Err(ReturnRefusal::OutsideWindow {
            days: policy.window_days,
        });
    }
    Ok(())
}

/// Decides whether a request in `status` may take `step`. Taking the step it already took is
/// `Ok(false)` (a repeat changes nothing); moving is `Ok(true)`.
pub fn decide_return_step(status: ReturnStatus, step: ReturnStep) -> Result<bool, ReturnStepError> {
    if status == step.target() {
        return Ok(false);
    }
    let allowed = match step {
        ReturnStep::Approve | ReturnStep::Reject => status == ReturnStatus::Requested,
        ReturnStep::Receive => status == ReturnStatus::Approved,
        ReturnStep::Refund | ReturnStep::Exchange => status == ReturnStatus::Received,
    };
    if allowed {
        Ok(true)
    } else {
        Err(ReturnStepError {
            status,
            step: step.as_str(),
        })
    }
}

/// A step the request's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the return is {}, it cannot {step}", status.as_str())]
pub struct ReturnStepError {
    pub status: ReturnStatus,
    pub step: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    #[test]
    fn a_return_is_asked_for_within_the_window_after_delivery_only() {
        let policy = ReturnPolicy::default();
        let delivered = at("2026-12-01T10:00:00Z");
        let ok = |now| {
            decide_return_request(OrderStatus::Delivered, Some(delivered), false, &policy, now)
        };
        assert_eq!(ok(at("2026-12-03T09:59:00Z")), Ok(()));
        assert_eq!(
            ok(at("2026-12-03T10:00:01Z")),
            Err(ReturnRefusal::OutsideWindow { days: 2 })
        );
        assert_eq!(
            decide_return_request(OrderStatus::Shipped, None, false, &policy, delivered),
            Err(ReturnRefusal::NotDelivered {
                status: OrderStatus::Shipped
            })
        );
        assert_eq!(
            decide_return_request(
                OrderStatus::Delivered,
                Some(delivered),
                true,
                &policy,
                delivered
            ),
            Err(ReturnRefusal::AlreadyOpen)
        );
        let none = ReturnPolicy {
            window_days: 0,
            ..ReturnPolicy::default()
        };
        assert!(
            decide_return_request(
                OrderStatus::Delivered,
                Some(delivered),
                false,
                &none,
                delivered
            )
            .is_err()
        );
    }

    #[test]
    fn a_return_goes_through_its_states_in_order() {
        use ReturnStatus as S;
        use ReturnStep as T;
        assert_eq!(decide_return_step(S::Requested, T::Approve), Ok(true));
        assert_eq!(decide_return_step(S::Requested, T::Reject), Ok(true));
        assert_eq!(decide_return_step(S::Approved, T::Receive), Ok(true));
        assert_eq!(decide_return_step(S::Received, T::Refund), Ok(true));
        assert_eq!(decide_return_step(S::Received, T::Exchange), Ok(true));
        assert_eq!(decide_return_step(S::Approved, T::Approve), Ok(false));
        assert!(decide_return_step(S::Requested, T::Receive).is_err());
        assert!(decide_return_step(S::Rejected, T::Approve).is_err());
        assert!(decide_return_step(S::Approved, T::Refund).is_err());
        for s in ReturnStatus::ALL {
            assert_eq!(ReturnStatus::parse(s.as_str()), Some(s));
        }
    }
}
