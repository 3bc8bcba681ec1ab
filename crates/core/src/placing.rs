//! Placing an order: the request as the store receives it (lines, the buyer, the messaging it
//! writes with), what comes back, and the verdicts that refuse it; the verdicts of the later
//! operations on an order; what a timer tick did.

use std::sync::Arc;

use crate::messages::Composer;
use crate::{
    Actor, CustomerInfo, Order, PaymentMethod, Quantity, Settings, Sku, Timestamp, TransitionError,
};

/// What the store needs to write messages in the transaction that causes them: the settings they
/// follow and the compiled templates.
#[derive(Clone, Debug)]
pub struct Messaging {
    pub settings: Arc<Settings>,
    pub composer: Arc<Composer>,
    /// Whether this server can send email (SMTP is configured).
    pub email_available: bool,
    /// Whether this server can send WhatsApp messages through the Cloud API.
    pub whatsapp_available: bool,
}

#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub sku: Sku,
    pub qty: Quantity,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer: CustomerInfo,
    pub lines: Vec<NewOrderLine>,
    pub payment_method: PaymentMethod,
    /// The window the caller asked for; `None` for the store's window of the method.
    pub pay_within: Option<crate::PayWindow>,
    pub placed_at: Timestamp,
    pub actor: Actor,
    pub idempotency: Option<IdempotencyKey>,
    pub messaging: Messaging,
    /// The store's base rate, the prior of the buyer's score.
    pub base_rate: crate::reliability::BaseRate,
    /// HMAC of the buyer's number, to find the record an erasure left behind.
    pub phone_hmac: String,
}

/// A client's idempotency key, scoped to the caller, with a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    /// True when the idempotency key was seen before and `order` is the first response, replayed.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("not enough stock of {sku}: {requested} requested, {available} available")]
    OutOfStock {
        sku: Sku,
        requested: i64,
        available: i64,
    },
    #[error("no product with SKU {sku}")]
    UnknownSku { sku: Sku },
    #[error("the order total is zero; lunas takes orders that have something to pay")]
    ZeroTotal,
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The buyer's band does not allow this order.
    #[error(transparent)]
    Policy(#[from] crate::reliability::PolicyRefusal),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderOpError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error(transparent)]
    Extend(crate::ExtendError),
}

/// What one pass over due timers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiredTimers {
    /// Timers taken and removed.
    pub fired: usize,
    /// Orders that expired because of them.
    pub expired: usize,
    /// Timers that failed and were pushed back to try again later.
    pub failed: usize,
    /// Timers left for the next tick because another transaction held their order.
    pub busy: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
    pub events: i64,
    pub payments: i64,
    pub timers: i64,
    pub payments_sum: i64,
    pub on_hand_sum: i64,
    pub reserved_sum: i64,
}
