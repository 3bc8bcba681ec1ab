//! One transaction as a use case sees it: [`Tx`] holds the connection the backend opened and
//! offers the repositories' statements as methods; [`Store::transact`](crate::Store::transact)
//! opens, commits and, when it lost a race, reruns it. A use case never begins or commits by
//! itself, so gathering many of them into one commit (as SQLite's writer already does) is the
//! store's business alone.

use std::collections::{BTreeMap, HashMap, HashSet};

use lunas_core::customers::{CustomerProfile, Standing};
use lunas_core::ledger::{GatewayNotification, NewPayment, Review, ReviewKind, StatementCredit};
use lunas_core::messages::MessageKind;
use lunas_core::outbox::{Message, MessageId};
use lunas_core::payments::{OpenOrder, PaymentSource};
use lunas_core::placing::{IdempotencyKey, Messaging, NewOrderLine, PlaceError};
use lunas_core::reliability::Pin;
use lunas_core::timers::PlannedTimer;
use lunas_core::{
    Actor, CancelledBy, CustomerInfo, HoldState, Money, Order, OrderId, OrderItem, OrderStatus,
    Phone, Sku, Timestamp,
};

use crate::repo;

mod after_payment;
mod placing_many;
pub use crate::repo::fulfilment::{CourierEventRow, FulfilmentRow, KeptCourierEvent};
pub use crate::repo::orders::{OrderDeadline, OrderMoney};
pub use crate::repo::placement::{Held, InsertedOrder, OrderHead};
pub use crate::repo::placement_many::{BatchOrder, FirstMessage, LockedProducts};
pub use crate::repo::proofs::{ProofTarget, StoredProof};
pub use crate::repo::returns::{ReturnChange, ReturnRow};
pub use crate::repo::waitlist::{NextInLine, OfferRow};
pub use crate::repo::{BatchChanges, DueTimer, ExpiringOrder};
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
    pub fn hold_stock(
        &mut self,
        lines: &[NewOrderLine],
        charges: lunas_core::shipping::Charges,
    ) -> TxResult<Result<Held, PlaceError>> {
        Ok(repo::hold_stock(self.db, lines, charges)?)
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
        Ok(repo::order_money_for_update(self.db, id)?.map(|money| money.status))
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

    // ---- money: payments, the review list, statements and gateway notifications ----

    /// The order's status, amount due, amount paid and deposit, its row locked.
    pub fn order_money_for_update(&mut self, id: OrderId) -> TxResult<Option<OrderMoney>> {
        Ok(repo::order_money_for_update(self.db, id)?)
    }

    /// The order as the answer to a payment: with its payments and events when `history`.
    pub fn order_with(&mut self, id: OrderId, history: bool) -> TxResult<Option<Order>> {
        Ok(repo::load_order_with(self.db, id, history)?)
    }

    /// Whether a payment with this identity at `source` was recorded.
    pub fn payment_seen(&mut self, source: PaymentSource, external_id: &str) -> TxResult<bool> {
        Ok(repo::payment_seen(self.db, source, external_id)?)
    }

    pub fn insert_payment(&mut self, id: OrderId, payment: &NewPayment) -> TxResult<()> {
        Ok(repo::insert_payment(self.db, id, payment)?)
    }

    /// A payment that leaves the order's status as it was.
    pub fn set_amount_paid(&mut self, id: OrderId, paid: Money, now: Timestamp) -> TxResult<()> {
        Ok(repo::set_amount_paid(self.db, id, paid, now)?)
    }

    /// The deposit is paid; the balance is due by `balance_by`.
    pub fn start_balance(
        &mut self,
        id: OrderId,
        paid: Money,
        balance_by: Timestamp,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::start_balance(self.db, id, paid, balance_by, now)?)
    }

    /// Paid in full while it awaited payment.
    pub fn mark_paid(
        &mut self,
        id: OrderId,
        paid: Money,
        written_off: Money,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::mark_paid(self.db, id, paid, written_off, now)?)
    }

    /// Paid in full by a payment of exactly what was left, if the order is still `status` with
    /// `paid_before` of `due` paid; the buyer's id, or `None` when it changed since it was read.
    pub fn mark_paid_from(
        &mut self,
        id: OrderId,
        status: OrderStatus,
        paid_before: Money,
        due: Money,
        now: Timestamp,
    ) -> TxResult<Option<i64>> {
        Ok(repo::mark_paid_from(
            self.db,
            id,
            (status, paid_before, due),
            now,
        )?)
    }

    /// Paid after it had ended, its stock taken again.
    pub fn mark_revived(&mut self, id: OrderId, paid: Money, now: Timestamp) -> TxResult<()> {
        Ok(repo::mark_revived(self.db, id, paid, now)?)
    }

    /// Paid after it had ended, the money to be refunded; the order moves to `to`.
    pub fn mark_needs_refund(
        &mut self,
        id: OrderId,
        to: OrderStatus,
        paid: Money,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::mark_needs_refund(self.db, id, to, paid, now)?)
    }

    /// Adds the payment to what the buyer has paid (their record).
    pub fn credit_buyer(&mut self, id: OrderId, amount: Money) -> TxResult<()> {
        Ok(repo::credit_buyer(self.db, id, amount)?)
    }

    /// Counts the order as paid in its buyer's record.
    pub fn count_paid(&mut self, id: OrderId) -> TxResult<()> {
        Ok(repo::count_outcome(self.db, id, repo::Ended::Paid)?)
    }

    /// The buyer's record counted the order expired; it is paid after all.
    pub fn expired_became_paid(&mut self, id: OrderId) -> TxResult<()> {
        Ok(repo::expired_became_paid(self.db, id)?)
    }

    /// Adds timers to the order.
    pub fn insert_timers(&mut self, id: OrderId, timers: &[PlannedTimer]) -> TxResult<()> {
        Ok(repo::insert_timers(self.db, id, timers)?)
    }

    /// Units of each SKU the order's lines hold or held, in SKU order.
    pub fn stock_wanted(&mut self, id: OrderId) -> TxResult<BTreeMap<Sku, i64>> {
        Ok(repo::stock_wanted(self.db, id)?)
    }

    /// Whether every product has the units available (rows locked in SKU order).
    pub fn stock_available(&mut self, wanted: &BTreeMap<Sku, i64>) -> TxResult<bool> {
        Ok(repo::stock_available(self.db, wanted)?)
    }

    /// Sells an expired order's units again (checked by `stock_available` in this transaction).
    pub fn take_stock_again(&mut self, id: OrderId, wanted: &BTreeMap<Sku, i64>) -> TxResult<()> {
        Ok(repo::take_stock_again(self.db, id, wanted)?)
    }

    /// Puts money on the review list (once per source, identity and kind).
    pub fn add_review(
        &mut self,
        kind: ReviewKind,
        payment: &NewPayment,
        order: Option<OrderId>,
        detail: &serde_json::Value,
    ) -> TxResult<()> {
        Ok(repo::add_review(self.db, kind, payment, order, detail)?)
    }

    /// The orders that await payment or a balance.
    pub fn open_orders(&mut self) -> TxResult<Vec<OpenOrder>> {
        Ok(repo::open_orders(self.db)?)
    }

    /// Which of `credits` were imported before.
    pub fn known_fingerprints(&mut self, credits: &[StatementCredit]) -> TxResult<HashSet<String>> {
        Ok(repo::known_fingerprints(self.db, credits)?)
    }

    /// Keeps an imported line with its outcome (`matched` or `review`).
    pub fn insert_statement_line(
        &mut self,
        credit: &StatementCredit,
        source: PaymentSource,
        now: Timestamp,
        outcome: &str,
        order: Option<OrderId>,
    ) -> TxResult<()> {
        Ok(repo::insert_statement_line(
            self.db, credit, source, now, outcome, order,
        )?)
    }

    /// A statement line assigned to an order from the review list.
    pub fn statement_line_matched(&mut self, fingerprint: &str, order: OrderId) -> TxResult<()> {
        Ok(repo::statement_line_matched(self.db, fingerprint, order)?)
    }

    pub fn order_exists(&mut self, id: OrderId) -> TxResult<bool> {
        Ok(repo::order_exists(self.db, id)?)
    }

    /// An unconfirmed delivery of this transaction is settled by this one.
    pub fn settle_unconfirmed(&mut self, notification: &GatewayNotification) -> TxResult<()> {
        Ok(repo::settle_unconfirmed(self.db, notification)?)
    }

    /// Keeps a notification as received, with what was done with it.
    pub fn keep_notification(
        &mut self,
        notification: &GatewayNotification,
        order: Option<OrderId>,
        outcome: &str,
    ) -> TxResult<()> {
        Ok(repo::keep_notification(
            self.db,
            notification,
            order,
            outcome,
        )?)
    }

    /// A review item, its row locked when `for_update`.
    pub fn review(&mut self, id: i64, for_update: bool) -> TxResult<Option<Review>> {
        Ok(repo::review(self.db, id, for_update)?)
    }

    /// Closes a review item with what staff did.
    pub fn close_review(
        &mut self,
        id: i64,
        actor: &Actor,
        note: &str,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::close_review(self.db, id, actor, note, now)?)
    }

    /// A corrupt state found by a use case: the transaction is rolled back and the store reports
    /// `what`.
    pub fn corrupt(what: String) -> TxError {
        TxError(DbError::Corrupt(what))
    }

    // ---- timers ----

    /// Takes (and deletes) up to `limit` timers due by `now`, earliest first.
    pub fn take_due_timers(&mut self, now: Timestamp, limit: usize) -> TxResult<Vec<DueTimer>> {
        Ok(repo::take_due_timers(self.db, now, limit)?)
    }

    /// The ids of the seller's webhook endpoints, for messages written knowing them.
    pub fn webhook_endpoint_ids(&mut self) -> TxResult<Vec<String>> {
        Ok(repo::webhook_endpoint_ids(self.db)?)
    }

    /// For the reminder timers among `due`: whether each order still wants its reminder (a
    /// proof of transfer sent after `proof_since` and still waiting for staff pauses them).
    pub fn reminder_states(
        &mut self,
        due: &[DueTimer],
        proof_since: Timestamp,
    ) -> TxResult<HashMap<i64, bool>> {
        Ok(repo::reminder_states(self.db, due, proof_since)?)
    }

    /// Creates or changes a product (see `Store::put_product`).
    pub fn put_product(
        &mut self,
        input: &lunas_core::catalog::ProductInput,
        now: Timestamp,
    ) -> TxResult<Result<lunas_core::catalog::Product, lunas_core::catalog::ProductError>> {
        Ok(repo::put_product(self.db, input, now)?)
    }

    /// A product as it is now in this transaction.
    pub fn product(&mut self, sku: &Sku) -> TxResult<Option<lunas_core::catalog::Product>> {
        Ok(repo::product_row(self.db, sku)?)
    }

    /// The buyers to offer `sku`'s available units to, first in line first (the product locked).
    pub fn next_in_line(&mut self, sku: &Sku) -> TxResult<Vec<NextInLine>> {
        Ok(repo::next_in_line(self.db, sku)?)
    }

    /// Offers a unit to a waitlist entry: the unit held, the entry offered, its message written
    /// on `channel` (`message`: recipient, body).
    #[allow(clippy::too_many_arguments)]
    pub fn make_offer(
        &mut self,
        id: i64,
        sku: &Sku,
        until: Timestamp,
        token: &str,
        channel: lunas_core::messages::Channel,
        message: (&str, &str),
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::make_offer(
            self.db, id, sku, until, token, channel, message, now,
        )?)
    }

    /// Offers that passed unclaimed, their rows locked: entry id and SKU.
    pub fn lapsed_offers(&mut self, now: Timestamp, limit: usize) -> TxResult<Vec<(i64, Sku)>> {
        Ok(repo::lapsed_offers(self.db, now, limit)?)
    }

    /// An offer ends, lapsed or claimed: its unit is no longer held for it.
    pub fn end_offer(
        &mut self,
        id: i64,
        sku: &Sku,
        outcome: lunas_core::waitlist::WaitStatus,
        order: Option<OrderId>,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::end_offer(
            self.db,
            id,
            sku,
            outcome,
            order.map(|o| o.0),
            now,
        )?)
    }

    /// The order a claimed offer placed.
    pub fn offer_claimed_by(&mut self, id: i64, order: OrderId) -> TxResult<()> {
        Ok(repo::offer_claimed_by(self.db, id, order.0)?)
    }

    /// The offer whose claim link carries `token`, locked.
    pub fn offer_by_token(&mut self, token: &str) -> TxResult<Option<OfferRow>> {
        Ok(repo::offer_by_token(self.db, token, true)?)
    }

    /// The order a proof of transfer is for, its row locked.
    pub fn proof_target(&mut self, id: OrderId) -> TxResult<Option<ProofTarget>> {
        Ok(repo::proof_target(self.db, id)?)
    }

    /// Keeps a proof's file; the order's latest proof is this one, sent at `at`.
    pub fn insert_proof(
        &mut self,
        order: OrderId,
        at: Timestamp,
        format: lunas_core::proofs::ProofFormat,
        sha256: &str,
        body: &[u8],
    ) -> TxResult<i64> {
        Ok(repo::insert_proof(
            self.db, order, at, format, sha256, body,
        )?)
    }

    /// Staff confirmed or rejected a proof of the order.
    pub fn proof_resolved(&mut self, order: OrderId, confirmed: bool) -> TxResult<()> {
        Ok(repo::proof_resolved(self.db, order, confirmed)?)
    }

    /// The order was paid: proofs of it that waited are closed.
    pub fn settle_proofs(&mut self, order: OrderId, now: Timestamp) -> TxResult<()> {
        Ok(repo::settle_proofs(self.db, order, now)?)
    }

    /// Puts a taken timer back, to fire at `due_at`.
    pub fn put_back(&mut self, timer: &DueTimer, due_at: Timestamp, attempts: i64) -> TxResult<()> {
        Ok(repo::put_back(self.db, timer, due_at, attempts)?)
    }

    /// What an expiry reads of its order, locked; `None` when another transaction holds it.
    pub fn expiring_order(&mut self, id: OrderId) -> TxResult<Option<ExpiringOrder>> {
        Ok(repo::expiring_order(self.db, id)?)
    }

    /// The order expired (and its paid deposit, if any, is `forfeited`).
    pub fn mark_expired(
        &mut self,
        id: OrderId,
        forfeited: Option<&str>,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::mark_expired(self.db, id, forfeited, now)?)
    }

    /// Releases the order's held lines, the products' counters changed later by `apply_batch`.
    pub fn release_holds_into(&mut self, id: OrderId, batch: &mut BatchChanges) -> TxResult<()> {
        Ok(repo::end_holds_into(
            self.db,
            id,
            HoldState::Released,
            &mut batch.stock,
        )?)
    }

    /// Turns the order's held lines into sales, the products' counters changed later by
    /// `apply_batch`.
    pub fn convert_holds_into(&mut self, id: OrderId, batch: &mut BatchChanges) -> TxResult<()> {
        Ok(repo::end_holds_into(
            self.db,
            id,
            HoldState::Converted,
            &mut batch.stock,
        )?)
    }

    /// Applies a batch's counter changes: products in SKU order, then buyers.
    pub fn apply_batch(&mut self, batch: &BatchChanges) -> TxResult<()> {
        Ok(batch.apply(self.db)?)
    }

    /// The order as its message needs it (without payments and events).
    pub fn order_for_message(&mut self, id: OrderId) -> TxResult<Option<Order>> {
        Ok(repo::load_order_for_message(self.db, id)?)
    }

    /// Writes reminder number `ordinal` about `order` (a cadence step's own template when given),
    /// with a webhook delivery to each of `webhooks`.
    pub fn enqueue_reminder(
        &mut self,
        messaging: &Messaging,
        order: &Order,
        step: Option<(lunas_core::PaymentMethod, usize)>,
        ordinal: usize,
        webhooks: &[String],
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::enqueue_with(
            self.db,
            messaging,
            MessageKind::Reminder,
            step,
            ordinal,
            order,
            None,
            Some(webhooks.to_vec()),
            crate::repo::millis(now),
        )?)
    }

    /// Opens a savepoint, so that one step's failure or refusal (a timer, a placement of a batch)
    /// undoes only its own writes.
    pub fn savepoint(&mut self) -> TxResult<()> {
        self.db.execute("SAVEPOINT step", crate::sql::params![])?;
        Ok(())
    }

    /// Keeps what was written since the savepoint.
    pub fn release_savepoint(&mut self) -> TxResult<()> {
        self.db.execute("RELEASE step", crate::sql::params![])?;
        Ok(())
    }

    /// Undoes what was written since the savepoint.
    pub fn rollback_to_savepoint(&mut self) -> TxResult<()> {
        self.db.execute("ROLLBACK TO step", crate::sql::params![])?;
        self.db.execute("RELEASE step", crate::sql::params![])?;
        Ok(())
    }

    // ---- buyers ----

    /// Pins `phone` to a band (`None` unpins), creating the buyer's row for a number that never
    /// ordered.
    pub fn upsert_pin(&mut self, phone: &Phone, pin: Option<&Pin>, now: Timestamp) -> TxResult<()> {
        Ok(repo::upsert_pin(self.db, phone, pin, now)?)
    }

    /// The buyer's row id, locked; `None` for a number lunas does not know.
    pub fn customer_id_for_update(&mut self, phone: &Phone) -> TxResult<Option<i64>> {
        Ok(repo::customer_id_for_update(self.db, phone)?)
    }

    pub fn set_notes(
        &mut self,
        phone: &Phone,
        notes: Option<&str>,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::set_notes(self.db, phone, notes, now)?)
    }

    pub fn set_tags(&mut self, phone: &Phone, tags: &[String], now: Timestamp) -> TxResult<()> {
        Ok(repo::set_tags(self.db, phone, tags, now)?)
    }

    /// How many times the number with this HMAC was erased before.
    pub fn erasures_of(&mut self, phone_hmac: &str) -> TxResult<i64> {
        Ok(repo::erasures_of(self.db, phone_hmac)?)
    }

    /// Removes the personal data of buyer `id` everywhere, keying what stays by `pseudonym`.
    pub fn erase_personal_data(
        &mut self,
        id: i64,
        phone: &Phone,
        pseudonym: &str,
        phone_hmac: &str,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::erase_personal_data(
            self.db, id, phone, pseudonym, phone_hmac, now,
        )?)
    }

    /// The record the latest erasure of this number left.
    pub fn erased_profile(&mut self, phone_hmac: &str) -> TxResult<Option<CustomerProfile>> {
        Ok(repo::erased_profile(self.db, phone_hmac)?)
    }

    /// A line of the audit log.
    pub fn audit(
        &mut self,
        actor: &Actor,
        action: lunas_core::AuditAction,
        subject: &str,
        detail: &serde_json::Value,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::audit_line(
            self.db,
            actor.as_str(),
            action,
            subject,
            detail,
            now,
        )?)
    }

    // ---- messages ----

    /// A message, its row locked.
    pub fn message_for_update(&mut self, id: &MessageId) -> TxResult<Option<Message>> {
        Ok(repo::message_for_update(self.db, id)?)
    }

    /// Staff sent a manual message by hand.
    pub fn mark_sent_by(&mut self, id: &MessageId, actor: &Actor, now: Timestamp) -> TxResult<()> {
        Ok(repo::mark_sent_by(self.db, id, actor, now)?)
    }

    /// The manual messages of an order still waiting that name its old deadline leave the queue.
    pub fn supersede_manual_waiting(&mut self, id: OrderId) -> TxResult<()> {
        Ok(repo::supersede_manual_waiting(self.db, id)?)
    }

    /// Staff skipped a manual message.
    pub fn mark_skipped_by(
        &mut self,
        id: &MessageId,
        actor: &Actor,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::mark_skipped_by(self.db, id, actor, now)?)
    }

    /// A dead message goes back in the queue.
    pub fn requeue(&mut self, id: &MessageId, now: Timestamp) -> TxResult<()> {
        Ok(repo::requeue(self.db, id, now)?)
    }

    // ---- sign-ins ----

    /// Makes counting `key`'s failures and reserving an attempt one step (PostgreSQL's advisory
    /// lock; SQLite's single writer needs none).
    pub fn lock_throttle_key(&mut self, key: &str) -> TxResult<()> {
        Ok(crate::accounts::lock_throttle_key(self.db, key)?)
    }

    /// `key`'s failed and reserved sign-ins within the throttle window.
    pub fn sign_in_failures(
        &mut self,
        key: &str,
        now: Timestamp,
    ) -> TxResult<lunas_core::accounts::Failures> {
        Ok(crate::accounts::failures(self.db, key, now)?)
    }

    /// Writes an attempt down against `key` (as a failure until forgiven); its row id.
    pub fn reserve_attempt(&mut self, key: &str, now: Timestamp) -> TxResult<Option<i64>> {
        Ok(crate::accounts::reserve_attempt(self.db, key, now)?)
    }
}

impl TxError {
    /// A race lost to another transaction: the backend runs the whole transaction again.
    pub fn is_conflict(&self) -> bool {
        self.0.is_conflict()
    }
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
