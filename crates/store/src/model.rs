//! Values that cross the storage API.

use std::sync::Arc;

use lunas_core::messages::{Composer, MessageKind};
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

/// The channel of the manual WhatsApp queue: staff open the `wa.me` link and mark it sent.
pub const CHANNEL_MANUAL_WHATSAPP: &str = "manual_whatsapp";

/// A message to a buyer, as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// For WhatsApp: `text` or `template`, once sent.
    pub variant: Option<String>,
    pub order_id: OrderId,
    pub kind: MessageKind,
    pub channel: String,
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

/// The email channel: the message goes to the buyer's address over SMTP.
pub const CHANNEL_EMAIL: &str = "email";

/// The WhatsApp Cloud API channel: the message goes to the buyer's number through Meta's API.
pub const CHANNEL_WHATSAPP: &str = "whatsapp";

/// A message from a buyer, as received from WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub phone: Phone,
    pub wa_message_id: String,
    pub body: Option<String>,
    pub received_at: Timestamp,
    pub raw: String,
}

/// The channel of outgoing webhooks: `recipient` is the endpoint's id, `body` the JSON payload.
pub const CHANNEL_WEBHOOK: &str = "webhook";

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
