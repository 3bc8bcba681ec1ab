//! One transaction as a use case sees it: [`Tx`] holds the connection the backend opened and
//! offers the repositories' statements as methods; [`Store::transact`](crate::Store::transact)
//! opens, commits and, when it lost a race, reruns it. A use case never begins or commits by
//! itself, so gathering many of them into one commit (as SQLite's writer already does) is the
//! store's business alone.

use lunas_core::customers::Standing;
use lunas_core::messages::MessageKind;
use lunas_core::placing::{IdempotencyKey, Messaging, NewOrderLine, PlaceError};
use lunas_core::timers::PlannedTimer;
use lunas_core::{
    Actor, CancelledBy, CustomerInfo, HoldState, Order, OrderId, OrderItem, OrderStatus, Phone, Timestamp,
};

use crate::repo;
pub use crate::repo::orders::OrderDeadline;
pub use crate::repo::placement::{Held, InsertedOrder, OrderHead};
use crate::sql::{Db, DbError};

/// A failed statement inside a transaction: the transaction is rolled back (and, for a race
/// lost to another, run again). What failed is the store's to report.
#[derive(Debug)]
pub struct TxError(pub(crate) DbError);

impl From<DbError> for TxError {
    fn from(e: DbError) -> TxError {
        TxError(e)
    }
}

pub type TxResult<T> = Result<T, TxError>;

/// The open transaction.
pub struct Tx<'a> {
    db: &'a mut dyn Db,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(db: &'a mut dyn Db) -> Tx<'a> {
        Tx { db }
    }

    /// What `key` was first used with: the request's hash and the order it placed.
    pub fn seen_idempotency_key(
        &mut self,
        key: &IdempotencyKey,
    ) -> TxResult<Option<(String, Order)>> {
        Ok(repo::seen_idempotency_key(self.db, key)?)
    }

    /// Remembers `order` as the response to `key`.
    pub fn remember_idempotency_key(
        &mut self,
        key: &IdempotencyKey,
        order: &Order,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::remember_idempotency_key(self.db, key, order, now)?)
    }

    /// The buyer's own standing and the one an erasure left behind under `phone_hmac`.
    pub fn standings(
        &mut self,
        phone: &Phone,
        phone_hmac: &str,
    ) -> TxResult<(Option<Standing>, Option<Standing>)> {
        Ok(repo::standings(self.db, phone, phone_hmac)?)
    }

    /// Holds the stock of `lines` (SKU order, rows locked on PostgreSQL), or says why not having
    /// held nothing.
    pub fn hold_stock(&mut self, lines: &[NewOrderLine]) -> TxResult<Result<Held, PlaceError>> {
        Ok(repo::hold_stock(self.db, lines)?)
    }

    /// Counts an order for the buyer, creating their row on the first; their row id and the
    /// buyer as stored.
    pub fn upsert_buyer(
        &mut self,
        customer: &CustomerInfo,
        now: Timestamp,
    ) -> TxResult<(i64, CustomerInfo)> {
        Ok(repo::upsert_buyer(self.db, customer, now)?)
    }

    /// Writes a new order, its lines, event and timers, with a free unique code.
    pub fn insert_order(
        &mut self,
        head: &OrderHead<'_>,
        codes: &lunas_core::payments::UniqueCodes,
        items: &[OrderItem],
        timers: &[PlannedTimer],
    ) -> TxResult<InsertedOrder> {
        Ok(repo::insert_order(self.db, head, codes, items, timers)?)
    }

    /// Writes the message of `kind` about `order` (and its webhook deliveries), rendered now.
    /// `tips` are the lines' products' tips when the caller has them, `webhooks` the endpoints.
    pub fn enqueue(
        &mut self,
        messaging: &Messaging,
        kind: MessageKind,
        order: &Order,
        tips: Option<Vec<Option<String>>>,
        webhooks: Option<Vec<String>>,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::enqueue_with(
            self.db,
            messaging,
            kind,
            None,
            0,
            order,
            tips,
            webhooks,
            crate::repo::millis(now),
        )?)
    }

    /// The order's status, its row locked.
    pub fn status_for_update(&mut self, id: OrderId) -> TxResult<Option<OrderStatus>> {
        Ok(repo::order_money_for_update(self.db, id)?.map(|(status, ..)| status))
    }

    /// What moving the deadline reads, its row locked.
    pub fn deadline_for_update(&mut self, id: OrderId) -> TxResult<Option<OrderDeadline>> {
        Ok(repo::deadline_for_update(self.db, id)?)
    }

    /// How many reminders the order has had written.
    pub fn reminders_written(&mut self, id: OrderId) -> TxResult<i64> {
        Ok(repo::reminders_written(self.db, id)?)
    }

    /// Moves the order's deadline to `to`, its timers replaced by `timers`.
    pub fn move_deadline(
        &mut self,
        id: OrderId,
        to: Timestamp,
        timers: &[PlannedTimer],
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::move_deadline(self.db, id, to, timers, now)?)
    }

    /// Marks the order cancelled by `by`.
    pub fn mark_cancelled(&mut self, id: OrderId, by: CancelledBy, now: Timestamp) -> TxResult<()> {
        Ok(repo::mark_cancelled(self.db, id, by, now)?)
    }

    /// The order stops awaiting payment: its pending timers go and its undelivered reminders are
    /// withdrawn.
    pub fn stop_awaiting(&mut self, id: OrderId) -> TxResult<()> {
        Ok(repo::stop_awaiting(self.db, id)?)
    }

    /// Every line still holding stock moves to `to`, and the product counters with it.
    pub fn end_holds(&mut self, id: OrderId, to: HoldState) -> TxResult<()> {
        Ok(repo::end_holds(self.db, id, to)?)
    }

    /// Counts the order's end in its buyer's reliability record.
    pub fn count_cancelled(&mut self, id: OrderId, by: CancelledBy) -> TxResult<()> {
        Ok(repo::count_outcome(
            self.db,
            id,
            repo::Ended::CancelledBy(by),
        )?)
    }

    /// Records a step of the order's history.
    pub fn insert_event(
        &mut self,
        id: OrderId,
        at: Timestamp,
        actor: &Actor,
        from: Option<OrderStatus>,
        to: OrderStatus,
        reason: Option<&str>,
    ) -> TxResult<()> {
        Ok(repo::insert_event(
            self.db,
            id,
            crate::repo::millis(at),
            actor,
            from,
            to,
            reason,
        )?)
    }

    /// The order whole, as it is in this transaction.
    pub fn order(&mut self, id: OrderId) -> TxResult<Option<Order>> {
        Ok(repo::load_order(self.db, id)?)
    }
}
