//! Values that cross the storage API.

use std::sync::Arc;

use lunas_core::messages::{Channel, Composer, MessageKind};
use lunas_core::payments::{PaymentSource, RefundReason};
use lunas_core::{
    Actor, CustomerInfo, Money, Order, OrderId, PaymentMethod, Phone, Quantity, Settings, Sku,
    Timestamp, TransitionError,
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
    /// PostgreSQL: most connections open at once (each runs one transaction at a time).
    pub pool_size: usize,
    /// PostgreSQL: longest a statement may run, or wait for a lock, before it is cancelled.
    pub statement_timeout_ms: u64,
    /// PostgreSQL: longest wait for a new connection.
    pub connect_timeout_ms: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            migrate: true,
            readers_max: 4,
            write_queue_len_max: 4096,
            group_commit_len_max: 256,
            busy_timeout_ms: 5000,
            pool_size: 16,
            statement_timeout_ms: 5000,
            connect_timeout_ms: 5000,
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
    /// A tip for buyers, quoted in reminders ("buyers who understand the product pay").
    pub tips: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub tips: Option<String>,
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
    /// The window the caller asked for; `None` for the store's window of the method.
    pub pay_within: Option<lunas_core::PayWindow>,
    pub placed_at: Timestamp,
    pub actor: Actor,
    pub idempotency: Option<IdempotencyKey>,
    pub messaging: Messaging,
    /// The store's base rate, the prior of the buyer's score.
    pub base_rate: lunas_core::reliability::BaseRate,
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
    Policy(#[from] lunas_core::reliability::PolicyRefusal),
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Money,
    pub reference: Option<String>,
    pub actor: Actor,
    pub recorded_at: Timestamp,
    pub source: PaymentSource,
    /// The payment's identity at its source (a gateway's transaction id, a statement line's
    /// fingerprint): a second payment with the same identity is a duplicate and changes nothing.
    pub external_id: Option<String>,
    /// Apply the money only if it is exactly what is left to pay (gateway payments, whose amount
    /// was set when the payment was created); otherwise it goes to the review list.
    pub exact_amount: bool,
}

impl NewPayment {
    /// A payment staff recorded by hand.
    pub fn by_staff(
        amount: Money,
        reference: Option<String>,
        actor: Actor,
        recorded_at: Timestamp,
    ) -> NewPayment {
        NewPayment {
            amount,
            reference,
            actor,
            recorded_at,
            source: PaymentSource::Staff,
            external_id: None,
            exact_amount: false,
        }
    }
}

/// What recording a payment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Some money arrived; the order keeps waiting for the rest (reminders go on for the balance).
    Partial,
    /// The deposit is paid; the order awaits the balance.
    DepositPaid,
    /// The order is paid in full.
    Paid,
    /// A payment with the same identity was recorded before; nothing changed.
    Duplicate,
    /// Paid after it expired, with the stock still there: the order is paid again.
    Revived,
    /// The money is kept on the order and flagged for refund.
    NeedsRefund(RefundReason),
    /// The money was not applied; it waits in the review list.
    Review(ReviewKind),
}

#[derive(Debug, Clone)]
pub struct PaymentOutcome {
    pub order: Order,
    pub effect: PaymentEffect,
    /// More than was due was paid: the excess, flagged for refund.
    pub overpaid: Option<Money>,
}

/// Why money waits for a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// A credit that no open order expects.
    Unmatched,
    /// A credit that several open orders expect, with nothing to tell them apart.
    Ambiguous,
    /// A credit whose description names an order that does not expect its amount.
    ReferenceMismatch,
    /// Money kept on an order that it could not buy (late, short, cancelled, already paid).
    NeedsRefund,
    /// More than was due.
    Overpaid,
    /// A gateway notification for an order lunas does not know.
    UnknownOrder,
    /// A gateway payment whose amount is not what the order has left to pay.
    AmountMismatch,
    /// The gateway refunded or charged back a payment.
    GatewayRefund,
    /// The gateway holds a card payment for a fraud check (`challenge`).
    GatewayChallenge,
    /// A notification that would record money, which the gateway's status API could not confirm
    /// (it did not answer); the gateway delivers it again, and a confirmed delivery closes this.
    GatewayUnconfirmed,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 10] = [
        ReviewKind::Unmatched,
        ReviewKind::Ambiguous,
        ReviewKind::ReferenceMismatch,
        ReviewKind::NeedsRefund,
        ReviewKind::Overpaid,
        ReviewKind::UnknownOrder,
        ReviewKind::AmountMismatch,
        ReviewKind::GatewayRefund,
        ReviewKind::GatewayChallenge,
        ReviewKind::GatewayUnconfirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Unmatched => "unmatched",
            ReviewKind::Ambiguous => "ambiguous",
            ReviewKind::ReferenceMismatch => "reference_mismatch",
            ReviewKind::NeedsRefund => "needs_refund",
            ReviewKind::Overpaid => "overpaid",
            ReviewKind::UnknownOrder => "unknown_order",
            ReviewKind::AmountMismatch => "amount_mismatch",
            ReviewKind::GatewayRefund => "gateway_refund",
            ReviewKind::GatewayChallenge => "gateway_challenge",
            ReviewKind::GatewayUnconfirmed => "gateway_unconfirmed",
        }
    }

    pub fn parse(raw: &str) -> Option<ReviewKind> {
        ReviewKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether the money of this item was not applied to any order yet, so staff can assign it
    /// to one.
    pub fn money_unapplied(self) -> bool {
        matches!(
            self,
            ReviewKind::Unmatched
                | ReviewKind::Ambiguous
                | ReviewKind::ReferenceMismatch
                | ReviewKind::UnknownOrder
                | ReviewKind::AmountMismatch
                | ReviewKind::GatewayUnconfirmed
        )
    }
}

/// One entry of the review list.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: i64,
    pub created_at: Timestamp,
    pub kind: ReviewKind,
    pub source: PaymentSource,
    pub external_id: Option<String>,
    pub order_id: Option<OrderId>,
    pub amount: i64,
    /// What the staff member needs to decide: the statement line, the candidate orders, the
    /// notification.
    pub detail: serde_json::Value,
    pub resolved: Option<Resolution>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub at: Timestamp,
    pub by: String,
    pub note: String,
}

/// What staff do with a review item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveAction {
    /// Apply the money to this order (only for money not applied yet).
    Assign(OrderId),
    /// Close the item with a note (refunded, a transfer that was not a sale…).
    Close(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("no such review item")]
    NotFound,
    #[error("this review item was already resolved")]
    Resolved,
    #[error("the money of this item is already on an order; close it with a note instead")]
    NotAssignable,
    #[error(transparent)]
    Order(#[from] OrderOpError),
}

/// One credit or debit of a statement or a mutation service, ready to be matched.
#[derive(Debug, Clone)]
pub struct StatementCredit {
    pub fingerprint: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub description: String,
    /// Rupiah, a credit positive.
    pub amount: i64,
    pub balance: Option<i64>,
    /// An order number the description names.
    pub reference: Option<OrderId>,
}

/// What importing a statement did, line by line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Credits recorded as payments of an order.
    pub matched: usize,
    /// Credits put on the review list.
    pub review: usize,
    /// Lines imported before.
    pub duplicates: usize,
    /// Debits and rows that are not transactions.
    pub ignored: usize,
}

/// A gateway's settled, pending, failed or refunded transaction, as its notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayStatus {
    Settled,
    Pending,
    Failed,
    Refunded,
    Challenge,
}

/// A gateway notification whose signature verified.
#[derive(Debug, Clone)]
pub struct GatewayNotification {
    pub gateway: PaymentSource,
    pub transaction_id: String,
    /// The order id as the gateway sent it.
    pub order_ref: String,
    pub order_id: Option<OrderId>,
    pub status: GatewayStatus,
    /// The gateway's own word for the status (`settlement`, `PAID`…).
    pub raw_status: String,
    pub amount: Option<Money>,
    pub body: String,
    pub received_at: Timestamp,
}

/// What a gateway notification did.
#[derive(Debug, Clone)]
pub enum GatewayOutcome {
    /// The payment was recorded (or was a duplicate of one recorded before).
    Payment(PaymentOutcome),
    /// A status that changes nothing in lunas (pending, failed, a stale notification).
    NoChange(Option<Order>),
    /// Put on the review list.
    Review(ReviewKind),
    /// The order is not known; the notification is kept for review.
    UnknownOrder,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderOpError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error(transparent)]
    Extend(lunas_core::ExtendError),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Pending,
    Sent,
    Failed,
    Dead,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageStatus> {
        [
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Failed,
            MessageStatus::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A message to a buyer, as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// For WhatsApp: `text` or `template`, once sent.
    pub variant: Option<String>,
    pub order_id: OrderId,
    pub kind: MessageKind,
    pub channel: Channel,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub link: Option<String>,
    pub status: MessageStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageOpError {
    #[error("no such message")]
    NotFound,
    #[error("only messages of the manual WhatsApp queue are marked sent by staff")]
    NotManual,
    #[error("the message is {0}, not pending")]
    NotPending(&'static str),
    #[error("only dead messages can be replayed; this one is {0}")]
    NotDead(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no buyer with this phone number")]
pub struct CustomerNotFound;

/// The result of one attempt to deliver a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered; `variant` notes how, where the channel has kinds (WhatsApp: `text` or `template`).
    Sent { variant: Option<String> },
    /// The channel cannot carry this message (WhatsApp outside the 24-hour window without an
    /// approved template): hand it to the manual WhatsApp queue instead of losing it.
    Manual { reason: String },
    /// A passing failure: try again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// A permanent failure, or the last allowed attempt: keep the error, stop trying.
    Dead { error: String },
}

/// A message from a buyer, as received from WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub phone: Phone,
    pub wa_message_id: String,
    pub body: Option<String>,
    pub received_at: Timestamp,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// `whsec_…`; never shown after creation.
    pub secret: String,
    pub created_at: Timestamp,
}

/// Everything lunas knows of a buyer's reliability: who they are, their record, a band staff
/// pinned, notes and tags, and their finished orders, most recent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub id: i64,
    pub info: CustomerInfo,
    pub record: lunas_core::reliability::Record,
    pub pin: Option<lunas_core::reliability::Pin>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub no_reminders: bool,
    pub history: Vec<lunas_core::reliability::PastOrder>,
}

/// A buyer's WhatsApp message as kept (for export).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InboundRecord {
    pub wa_message_id: String,
    pub body: Option<String>,
    pub received_at: Timestamp,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Everything lunas holds about one buyer (UU PDP access request).
#[derive(Debug, Clone)]
pub struct CustomerExport {
    pub profile: CustomerProfile,
    pub orders: Vec<Order>,
    pub messages: Vec<Message>,
    pub inbound: Vec<InboundRecord>,
    pub audit: Vec<AuditEntry>,
}

/// What the band of a buyer depends on: a pinned band and the finished orders, most recent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub pin: Option<lunas_core::reliability::Pin>,
    pub history: Vec<lunas_core::reliability::PastOrder>,
}

impl CustomerProfile {
    pub fn standing(&self) -> Standing {
        Standing {
            pin: self.pin.clone(),
            history: self.history.clone(),
        }
    }
}

/// Where a buyer stands: their own record and, when the number was erased before, the record
/// that erasure left (its pinned band and its history still count).
pub fn judge(
    own: Option<&Standing>,
    erased: Option<&Standing>,
    now: Timestamp,
    base: lunas_core::reliability::BaseRate,
    settings: &Settings,
) -> lunas_core::reliability::Assessment {
    let pin = own
        .and_then(|p| p.pin.as_ref())
        .or_else(|| erased.and_then(|e| e.pin.as_ref()));
    let mut history: Vec<_> = own
        .into_iter()
        .chain(erased)
        .flat_map(|p| p.history.iter().copied())
        .collect();
    history.sort_by_key(|order| std::cmp::Reverse(order.ended_at));
    lunas_core::reliability::assess(pin, &history, now, base, &settings.risk, settings.language)
}

/// API tokens of one name (a name may have been given to several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    /// When the first of them was made.
    pub created_at: Timestamp,
    pub count: i64,
}
