//! Values that cross the storage API.

use lunas_core::{
    Actor, CustomerInfo, Money, Order, PaymentMethod, Quantity, Sku, Timestamp, TransitionError,
};

/// Limits and tuning of a backend, with documented defaults.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the database file and apply migrations if needed.
    pub migrate: bool,
    /// Read-only connections kept beside the writer.
    pub readers_max: usize,
    /// Writes waiting for the writer; callers wait for room beyond this.
    pub write_queue_len_max: usize,
    /// Most operations committed together in one transaction.
    pub group_commit_len_max: usize,
    /// How long a connection waits for a lock held by another process.
    pub busy_timeout_ms: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            migrate: true,
            readers_max: 4,
            write_queue_len_max: 4096,
            group_commit_len_max: 256,
            busy_timeout_ms: 5000,
        }
    }
}

/// A page request: at most `limit` rows after the cursor `after`.
#[derive(Debug, Clone)]
pub struct Page<C> {
    pub after: Option<C>,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct ProductInput {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    /// Units on hand, including those held by unpaid orders.
    pub stock: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("stock {stock} is below the {reserved} units held by unpaid orders")]
    StockBelowReserved { stock: i64, reserved: i64 },
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
    pub pay_by: Option<Timestamp>,
    pub placed_at: Timestamp,
    pub actor: Actor,
    pub idempotency: Option<IdempotencyKey>,
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
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Money,
    pub reference: Option<String>,
    pub actor: Actor,
    pub recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderOpError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
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
