//! Persistence of lunas.
//!
//! One `Store` API over the backends (SQLite today, PostgreSQL next), with an error type that does
//! not depend on the backend. Every operation that changes state is one transaction that re-reads
//! the state it depends on and asks `lunas_core` whether the change is allowed; the store applies
//! decisions, it does not make them.
//!
//! On SQLite, all writes go through one writer thread that commits concurrent operations together
//! (group commit): one `COMMIT` (one fsync with `synchronous=FULL`) makes the whole group durable
//! before any caller is answered. Each operation decides before it writes, so a refused one changes
//! nothing; one that fails halfway rolls its group back (see `sqlite::run_writer`). Reads use a
//! small pool of read-only connections beside the writer.

mod model;
mod sqlite;
mod url;

pub use model::*;
pub use url::DatabaseUrl;

use std::sync::Arc;

use lunas_core::{Actor, Order, OrderId, OrderStatus, Phone, Settings, Sku, Timestamp};

/// Errors of the storage layer itself, the same whatever the backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is busy beyond the timeout; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database URL is malformed or names a backend this build does not have.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// The database was migrated by a newer lunas than this one.
    #[error(
        "the database is at schema version {found}, but this lunas knows only up to {known}; upgrade lunas"
    )]
    SchemaTooNew { found: i64, known: i64 },
    /// The database has no lunas schema yet and this command does not create one.
    #[error("the database has not been migrated; run `lunas migrate`")]
    NotMigrated,
    /// Anything else: a bug or a damaged database. The message is for the log, not for users.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// The storage handle. Cheap to clone; all clones share one writer and one reader pool.
#[derive(Clone)]
pub struct Store {
    backend: Arc<sqlite::Sqlite>,
}

impl Store {
    /// Opens the database at `url`, creating it (and applying migrations) when `migrate` is true.
    pub async fn open(url: &DatabaseUrl, options: OpenOptions) -> Result<Store, StoreError> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                let backend = sqlite::Sqlite::open(path.clone(), options).await?;
                Ok(Store {
                    backend: Arc::new(backend),
                })
            }
        }
    }

    /// Applies pending migrations; returns the schema version the database had when this store
    /// opened it (opening already migrates) and the version it has now.
    pub async fn migrate(&self) -> Result<(i64, i64), StoreError> {
        self.backend.migrate().await
    }

    /// Waits for queued writes, then closes the writer. Later calls on clones fail as unavailable.
    pub async fn close(&self) {
        self.backend.close().await;
    }

    pub async fn put_product(
        &self,
        product: ProductInput,
        now: Timestamp,
    ) -> Result<Result<Product, ProductError>, StoreError> {
        self.backend.put_product(product, now).await
    }

    pub async fn product(&self, sku: Sku) -> Result<Option<Product>, StoreError> {
        self.backend.product(sku).await
    }

    pub async fn products(&self, page: Page<String>) -> Result<Vec<Product>, StoreError> {
        self.backend.products(page).await
    }

    /// Places an order: reserves every line's stock or none, creates the buyer if new, records the
    /// placement event and the expiry timer, all in one transaction.
    pub async fn place_order(
        &self,
        order: NewOrder,
    ) -> Result<Result<Placed, PlaceError>, StoreError> {
        self.backend.place_order(order).await
    }

    /// Records a payment; a payment that settles the order writes the "payment received" message.
    pub async fn record_payment(
        &self,
        id: OrderId,
        payment: NewPayment,
        messaging: Messaging,
    ) -> Result<Result<Order, OrderOpError>, StoreError> {
        self.backend.record_payment(id, payment, messaging).await
    }

    pub async fn cancel_order(
        &self,
        id: OrderId,
        reason: String,
        actor: Actor,
        now: Timestamp,
        messaging: Messaging,
    ) -> Result<Result<Order, OrderOpError>, StoreError> {
        self.backend
            .cancel_order(id, reason, actor, now, messaging)
            .await
    }

    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.backend.order(id).await
    }

    /// Orders newest first, optionally of one status; `page.after` is the last id already seen.
    pub async fn orders(
        &self,
        status: Option<OrderStatus>,
        page: Page<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.backend.orders(status, page).await
    }

    /// Handles up to `limit` timers due at or before `now`, each exactly once: expiries release
    /// holds (and cancel the order's pending reminders), reminders write their message.
    pub async fn fire_due_timers(
        &self,
        now: Timestamp,
        limit: usize,
        messaging: Messaging,
    ) -> Result<FiredTimers, StoreError> {
        self.backend.fire_due_timers(now, limit, messaging).await
    }

    /// The messages written about an order, oldest first.
    pub async fn order_messages(&self, order: OrderId) -> Result<Vec<Message>, StoreError> {
        self.backend.order_messages(order).await
    }

    /// Messages of one channel in one status, oldest first (e.g. the manual WhatsApp queue).
    pub async fn messages(
        &self,
        channel: String,
        status: MessageStatus,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.backend.messages(channel, status, limit).await
    }

    /// Staff sent a message of the manual WhatsApp queue.
    pub async fn mark_message_sent(
        &self,
        id: String,
        actor: Actor,
        now: Timestamp,
    ) -> Result<Result<Message, MessageOpError>, StoreError> {
        self.backend.mark_message_sent(id, actor, now).await
    }

    /// Puts a dead message back in the queue.
    pub async fn replay_message(
        &self,
        id: String,
        now: Timestamp,
    ) -> Result<Result<Message, MessageOpError>, StoreError> {
        self.backend.replay_message(id, now).await
    }

    /// Marks a buyer as wanting no reminders (lifecycle messages still go), or not.
    pub async fn set_no_reminders(
        &self,
        phone: Phone,
        no_reminders: bool,
    ) -> Result<Result<(), CustomerNotFound>, StoreError> {
        self.backend.set_no_reminders(phone, no_reminders).await
    }

    /// Whether the buyer opted out of reminders; `None` for an unknown buyer.
    pub async fn no_reminders(&self, phone: Phone) -> Result<Option<bool>, StoreError> {
        self.backend.no_reminders(phone).await
    }

    /// Takes due messages of `channels` for delivery, leasing them until `lease_until`.
    pub async fn claim_messages(
        &self,
        channels: Vec<String>,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.backend
            .claim_messages(channels, now, lease_until, limit)
            .await
    }

    /// Records the outcome of a delivery attempt.
    pub async fn record_delivery(
        &self,
        id: String,
        outcome: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.backend.record_delivery(id, outcome, now).await
    }

    pub async fn create_webhook(&self, endpoint: WebhookEndpoint) -> Result<(), StoreError> {
        self.backend.create_webhook(endpoint).await
    }

    /// Webhook endpoints, oldest first, with their secrets (for signing; never list these out).
    pub async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.backend.webhooks().await
    }

    /// Removes an endpoint; returns whether it existed.
    pub async fn delete_webhook(&self, id: String) -> Result<bool, StoreError> {
        self.backend.delete_webhook(id).await
    }

    /// Keeps a buyer's WhatsApp message; returns whether it was new.
    pub async fn record_inbound(&self, inbound: InboundMessage) -> Result<bool, StoreError> {
        self.backend.record_inbound(inbound).await
    }

    /// When the buyer last wrote to the shop on WhatsApp, if ever.
    pub async fn last_inbound_at(&self, phone: Phone) -> Result<Option<Timestamp>, StoreError> {
        self.backend.last_inbound_at(phone).await
    }

    /// The tips of `skus`' products, in order.
    pub async fn product_tips(&self, skus: Vec<Sku>) -> Result<Vec<Option<String>>, StoreError> {
        self.backend.product_tips(skus).await
    }

    /// The due time of the earliest timer, if any.
    pub async fn next_timer_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.backend.next_timer_due().await
    }

    /// Forgets idempotency keys created before `before`, at most `limit` of them.
    pub async fn prune_idempotency_keys(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<usize, StoreError> {
        self.backend.prune_idempotency_keys(before, limit).await
    }

    pub async fn create_api_token(
        &self,
        name: String,
        token_hash: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.backend.create_api_token(name, token_hash, now).await
    }

    /// The name of the token with this hash, if it exists.
    pub async fn api_token_name(&self, token_hash: String) -> Result<Option<String>, StoreError> {
        self.backend.api_token_name(token_hash).await
    }

    pub async fn settings(&self) -> Result<Settings, StoreError> {
        self.backend.settings().await
    }

    pub async fn put_settings(&self, settings: Settings) -> Result<(), StoreError> {
        self.backend.put_settings(settings).await
    }

    /// Cross-checks the stock counters against the holds and the hold states against the order
    /// statuses. An empty report means the invariants hold.
    pub async fn consistency_report(&self) -> Result<Vec<String>, StoreError> {
        self.backend.consistency_report().await
    }

    /// Row counts and money sums, for the operator and for tests.
    pub async fn totals(&self) -> Result<Totals, StoreError> {
        self.backend.totals().await
    }
}
