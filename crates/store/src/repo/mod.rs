//! The storage operations, written once for both backends. Each writing operation runs in one
//! transaction the backend opened; it re-reads what it depends on (locking the rows it will
//! change, on PostgreSQL), asks `lunas_core` for the decision, and only then writes. A refused
//! operation has written nothing.
//!
//! Lock order, so that concurrent transactions on PostgreSQL do not deadlock: an order row, then
//! its timers, then product rows (in SKU order when several; a product before its variants when
//! a product is written), then the buyer's row. The timer path takes its timers
//! first and never waits for an order row (`SKIP LOCKED`): an order another transaction holds is
//! left for the next tick. Rows are locked `FOR NO KEY UPDATE` (no key ever changes), which does
//! not block the key-share locks that foreign-key checks take when a timer, an event or an order
//! line referencing the row is inserted.
//!
//! One file per aggregate, each holding the SQL of its rows: `products`, `placement` (an order's
//! first transaction), `orders`, `payments` (payments, the review list, statement lines, gateway
//! notifications), `proofs` (buyers' proofs of transfer), `photos` (product photos by size), `waitlist`, `holds`, `timers`, `outbox`, `buyers` (messaging preferences,
//! reliability records), `privacy` (export and erasure), `webhooks`, `tokens`, `settings`,
//! `checks`; `placement_many` writes a batch of placements with a statement per step on PostgreSQL. Operations that span aggregates call across files; the lock order above is kept by
//! every caller.

use lunas_core::{OrderStatus, Timestamp};

use crate::sql::{DbError, DbResult, corrupt};

/// The columns `read_profile` reads, in its order.
macro_rules! profile_columns {
    () => {
        "id, phone, name, email, honorific, orders_placed, orders_paid, orders_expired,
         orders_cancelled_by_buyer, orders_cancelled_by_seller, cod_refused, returns, amount_paid,
         first_order_at, last_order_at, band_pin, band_reason, notes, tags, no_reminders"
    };
}

/// The columns `read_product` reads, in its order.
macro_rules! product_columns {
    () => {
        "sku, name, price, on_hand, reserved, tips, parent, variant, inherits_price, variants, photo_version"
    };
}

/// What a new order does to its buyer's row when the number is known (`excluded` holds the
/// orders counted and the buyer as given): the `ON CONFLICT` of the placement's upsert, alone
/// (`placement`) and in a batch (`placement_many`).
macro_rules! buyer_counted {
    () => {
        "ON CONFLICT (phone) DO UPDATE
         SET name = excluded.name,
             email = COALESCE(excluded.email, customers.email),
             honorific = COALESCE(excluded.honorific, customers.honorific),
             updated_at = excluded.updated_at,
             orders_placed = customers.orders_placed + excluded.orders_placed,
             first_order_at = COALESCE(customers.first_order_at, excluded.first_order_at),
             last_order_at = excluded.last_order_at"
    };
}

mod audit;
mod buyers;
mod checks;
pub(crate) mod fulfilment;
mod holds;
pub(crate) mod orders;
mod outbox;
mod payments;
mod photos;
pub(crate) mod placement;
pub(crate) mod placement_many;
mod privacy;
mod products;
pub(crate) mod proofs;
pub(crate) mod returns;
mod settings;
mod timers;
mod tokens;
pub(crate) mod waitlist;
mod webhooks;

pub(crate) use audit::*;
pub(crate) use buyers::*;
pub(crate) use checks::*;
pub(crate) use fulfilment::*;
pub use holds::BatchChanges;
pub(crate) use holds::*;
pub(crate) use orders::*;
pub(crate) use outbox::*;
pub(crate) use payments::*;
pub(crate) use photos::*;
pub(crate) use placement::*;
pub(crate) use placement_many::*;
pub(crate) use privacy::*;
pub(crate) use products::*;
pub(crate) use proofs::*;
pub(crate) use returns::*;
pub(crate) use settings::*;
pub(crate) use timers::*;
pub use timers::{DueTimer, ExpiringOrder};
pub(crate) use tokens::*;
pub(crate) use waitlist::*;
pub(crate) use webhooks::*;

pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn timestamp(ms: i64) -> DbResult<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| DbError::Corrupt(format!("bad time {ms}: {e}")))
}

pub(crate) fn status_of(raw: &str) -> DbResult<OrderStatus> {
    OrderStatus::parse(raw).ok_or_else(|| corrupt("order status", raw))
}
