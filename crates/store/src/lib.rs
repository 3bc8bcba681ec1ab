//! Persistence of lunas.
//!
//! One `Store` API over two backends, SQLite (embedded, the default) and PostgreSQL (several
//! processes on one database), with an error type that does not depend on the backend. The
//! operations are written once (`ops`, over the SQL interface of `sql`). Every operation that
//! changes state is one transaction that re-reads the state it depends on and asks `lunas_core`
//! whether the change is allowed; the store applies decisions, it does not make them.
//!
//! On SQLite, all writes go through one writer thread that commits concurrent operations together
//! (group commit): one `COMMIT` (one fsync with `synchronous=FULL`) makes the whole group durable
//! before any caller is answered. Each operation decides before it writes, so a refused one changes
//! nothing; one that fails halfway rolls its group back (see `sqlite::run_writer`). Reads use a
//! small pool of read-only connections beside the writer. On PostgreSQL, each operation is a
//! transaction on a pooled connection, with row locks and `SKIP LOCKED` where processes share work
//! (see `postgres`).

mod accounts;
mod analytics;
mod conversations;
mod copy;
mod desk;
mod imports;
mod migrations;
mod model;
mod postgres;
mod repo;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
mod url;

pub use analytics::FactsRead;
pub use conversations::CONVERSATION_MESSAGES_MAX;
pub use copy::{CopyError, CopyReport};
pub use imports::ImportReport;
pub use model::OpenOptions;
pub use tx::{
    BatchChanges, BatchOrder, CourierEventRow, DueTimer, ExpiringOrder, FirstMessage,
    FulfilmentRow, Held, InsertedOrder, KeptCourierEvent, LockedProducts, NextInLine, OfferRow,
    OrderDeadline, OrderHead, OrderMoney, ProofTarget, ReturnChange, ReturnRow, StoredProof, Tx,
    TxError, TxResult,
};
pub use url::{DatabaseUrl, PgUrl};

use std::sync::Arc;

use sql::{Db, DbResult};

use lunas_core::accounts::ApiToken;
use lunas_core::catalog::{Product, ProductError, ProductInput};
use lunas_core::customers::{CustomerExport, CustomerNotFound, CustomerProfile};
use lunas_core::ledger::Review;
use lunas_core::messages::Channel;
use lunas_core::outbox::{
    Delivery, InboundMessage, Message, MessageId, MessageStatus, WebhookEndpoint,
};
use lunas_core::placing::Totals;
use lunas_core::queries::Page;
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
    /// The database server refused the connection for good: wrong credentials, no such database.
    #[error("{0}")]
    Refused(String),
    /// The database has no lunas schema yet and this command does not create one.
    #[error("the database has not been migrated; run `lunas migrate`")]
    NotMigrated,
    /// Anything else: a bug or a damaged database. The message is for the log, not for users.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// The storage handle. Cheap to clone; all clones share the backend's connections.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

impl Store {
    /// Opens the database at `url`, creating it (and applying migrations) when `migrate` is true.
    pub async fn open(url: &DatabaseUrl, options: OpenOptions) -> Result<Store, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => {
                Backend::Sqlite(sqlite::Sqlite::open(path.clone(), options).await?)
            }
            DatabaseUrl::Postgres(config) => {
                Backend::Postgres(postgres::Postgres::open(config.clone(), options).await?)
            }
        };
        Ok(Store {
            backend: Arc::new(backend),
        })
    }

    /// Whether placements are written in batches with `Tx`'s `*_many` statements: on PostgreSQL,
    /// where each statement is a round trip (SQLite's one writer groups them already).
    pub fn places_in_batches(&self) -> bool {
        matches!(&*self.backend, Backend::Postgres(_))
    }

    /// Which backend this store runs on: `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations; returns the schema version the database had when this store
    /// opened it (opening already migrates) and the version it has now.
    pub async fn migrate(&self) -> Result<(i64, i64), StoreError> {
        match &*self.backend {
            Backend::Sqlite(db) => db.migrate().await,
            Backend::Postgres(db) => db.migrate().await,
        }
    }

    /// On PostgreSQL, starts hearing of stock freed by any process (once per store), so that a
    /// placement refused because its SKU is sold out lets the next ones be refused without a
    /// transaction (see `postgres::sold_out`); `false` on SQLite (one process: its writer answers
    /// refusals itself) or when the connection for it could not be made.
    pub async fn watch_sold_out(&self) -> bool {
        match &*self.backend {
            Backend::Sqlite(_) => false,
            Backend::Postgres(db) => db.watch_sold_out().await,
        }
    }

    /// Where the news of freed stock stands, taken before a placement's transaction and passed to
    /// `note_sold_out` after it; `None` when refusals are not remembered.
    pub fn sold_out_mark(&self) -> Option<u64> {
        match &*self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => db.sold_out().mark(),
        }
    }

    /// Whether `sku` is known to be sold out (no process freed stock of it since it was found so).
    pub fn is_sold_out(&self, sku: &lunas_core::Sku) -> bool {
        match &*self.backend {
            Backend::Sqlite(_) => false,
            Backend::Postgres(db) => db.sold_out().is_sold_out(sku.as_str()),
        }
    }

    /// For tests: waits until `sku` is no longer remembered sold out (the announcement of freed
    /// stock arrived), at most `timeout`; whether it is not. Always `true` on SQLite.
    #[cfg(feature = "testing")]
    pub async fn wait_sold_out_forgotten(
        &self,
        sku: &lunas_core::Sku,
        timeout: std::time::Duration,
    ) -> bool {
        match &*self.backend {
            Backend::Sqlite(_) => true,
            Backend::Postgres(db) => {
                db.wait_sold_out_forgotten(sku.as_str().to_owned(), timeout)
                    .await
            }
        }
    }

    /// Remembers `sku` as sold out, found so by a transaction begun at `mark`.
    pub fn note_sold_out(&self, sku: &lunas_core::Sku, mark: u64) {
        if let Backend::Postgres(db) = &*self.backend {
            db.sold_out().note(sku.as_str(), mark);
        }
    }

    /// Waits for queued writes, then closes the connections. Later calls on clones fail as
    /// unavailable.
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }

    /// Runs a writing operation in a transaction of its own (or of its commit group, on SQLite).
    /// On PostgreSQL an operation that lost a race with a concurrent transaction (a deadlock, a
    /// unique key taken meanwhile) is run again from the start, so `f` may run more than once.
    async fn write<T, E>(
        &self,
        f: impl FnMut(&mut dyn Db) -> DbResult<Result<T, E>> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        match &*self.backend {
            Backend::Sqlite(db) => db.write(f).await,
            Backend::Postgres(db) => db.write(f).await,
        }
    }

    /// `write` for an operation that has no verdict of its own.
    async fn write_always<T: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self
            .write(move |db| f(db).map(Ok::<T, std::convert::Infallible>))
            .await?
        {
            Ok(value) => Ok(value),
            Err(never) => match never {},
        }
    }

    /// Runs a reading operation on a consistent snapshot.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        match &*self.backend {
            Backend::Sqlite(db) => db.read(f).await,
            Backend::Postgres(db) => db.read(f).await,
        }
    }

    /// `read` for one lookup by a unique key, which every request makes (an API token). On
    /// SQLite it runs on the calling thread: a point read from the page cache takes a few
    /// microseconds, less than handing it to a blocking thread and back (measured: the handoff
    /// cost about a third of `bench http`'s throughput). On PostgreSQL it is one statement
    /// without a transaction around it (one round trip, not three). `f` runs one statement.
    async fn read_point<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        match &*self.backend {
            Backend::Sqlite(db) => db.read_inline(f),
            Backend::Postgres(db) => db.read_point(f).await,
        }
    }

    pub async fn put_product(
        &self,
        product: ProductInput,
        now: Timestamp,
    ) -> Result<Result<Product, ProductError>, StoreError> {
        self.write(move |db| repo::put_product(db, &product, now))
            .await
    }

    pub async fn product(&self, sku: Sku) -> Result<Option<Product>, StoreError> {
        self.read(move |db| repo::product_row(db, &sku)).await
    }

    pub async fn products(&self, page: Page<String>) -> Result<Vec<Product>, StoreError> {
        self.read(move |db| repo::products(db, &page)).await
    }

    /// Products that are not variants, by SKU, each with its variants.
    pub async fn product_groups(
        &self,
        page: Page<String>,
    ) -> Result<Vec<(Product, Vec<Product>)>, StoreError> {
        self.read(move |db| repo::product_groups(db, &page)).await
    }

    /// A product's variants, by SKU.
    pub async fn variants_of(&self, parent: Sku) -> Result<Vec<Product>, StoreError> {
        self.read(move |db| repo::variants_of(db, &parent)).await
    }

    /// Runs `op` in one transaction and commits it; answers once the commit is durable. `op`
    /// may run more than once — a PostgreSQL transaction that lost a race is run again from the
    /// start, and on SQLite a group that failed is run again without the operation that failed —
    /// so it reads and writes only through `tx`. An `Ok(Err(verdict))` must have written
    /// nothing (on SQLite the writer checks, and rolls back a verdict that wrote anyway).
    pub async fn transact<T, E>(
        &self,
        mut op: impl FnMut(&mut Tx<'_>) -> TxResult<Result<T, E>> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.write(move |db| op(&mut Tx::new(db)).map_err(|e| e.0))
            .await
    }

    /// `transact` for a use case that has no verdict of its own: it writes, or fails.
    pub async fn transact_always<T: Send + 'static>(
        &self,
        mut op: impl FnMut(&mut Tx<'_>) -> TxResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.write_always(move |db| op(&mut Tx::new(db)).map_err(|e| e.0))
            .await
    }

    /// The review list, oldest first after `after` (open items only unless `all`).
    pub async fn reviews(
        &self,
        all: bool,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Review>, StoreError> {
        self.read(move |db| repo::reviews(db, all, after, limit))
            .await
    }

    /// The orders that await payment or a balance, with what they expect.
    pub async fn open_orders(&self) -> Result<Vec<lunas_core::payments::OpenOrder>, StoreError> {
        self.read(repo::open_orders).await
    }

    /// Keeps the gateway payment page made for an order; false for an unknown order.
    pub async fn set_payment_url(&self, id: OrderId, url: String) -> Result<bool, StoreError> {
        self.write_always(move |db| repo::set_payment_url(db, id, &url))
            .await
    }

    /// Gives an order awaiting payment the later deadline `to` (see `repo::extend_deadline`).
    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.read(move |db| repo::load_order(db, id)).await
    }

    /// Replaces a product's photo with these sizes (name, JPEG bytes); the photo's new version,
    /// or `None` for an unknown product.
    pub async fn put_product_photos(
        &self,
        sku: Sku,
        sizes: Vec<(&'static str, Vec<u8>)>,
    ) -> Result<Option<i64>, StoreError> {
        // The closure may run again (a transaction that lost a race): it borrows the sizes.
        let written = self
            .write(move |db| {
                repo::put_photos(db, &sku, &sizes).map(Ok::<_, std::convert::Infallible>)
            })
            .await?;
        Ok(written.unwrap_or_else(|never| match never {}))
    }

    /// One size of a product's photo: its content type and bytes.
    pub async fn product_photo(
        &self,
        sku: String,
        size: &'static str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.read(move |db| repo::photo(db, &sku, size)).await
    }

    /// The courier events kept for staff (unknown waybills, ended orders), newest first.
    pub async fn kept_courier_events(
        &self,
        limit: usize,
    ) -> Result<Vec<KeptCourierEvent>, StoreError> {
        self.read(move |db| repo::kept_courier_events(db, limit))
            .await
    }

    /// The newest COD order of this number waiting for its buyer's confirmation.
    pub async fn awaiting_confirmation_of(
        &self,
        phone: Phone,
    ) -> Result<Option<OrderId>, StoreError> {
        self.read(move |db| repo::awaiting_confirmation_of(db, phone.as_str()))
            .await
    }

    /// The return requests still being handled, oldest first.
    pub async fn open_returns(&self, limit: usize) -> Result<Vec<ReturnRow>, StoreError> {
        self.read(move |db| repo::open_returns(db, limit)).await
    }

    /// The `n`th photo (from 0) of return request `id`: its content type and bytes.
    pub async fn return_photo(
        &self,
        id: i64,
        n: i64,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.read(move |db| repo::return_photo(db, id, n)).await
    }

    /// The orders this number placed since `since` and the COD parcels it refused ever.
    pub async fn buyer_signals(
        &self,
        phone: Phone,
        since: Timestamp,
    ) -> Result<(i64, i64), StoreError> {
        self.read(move |db| repo::buyer_signals(db, phone.as_str(), since))
            .await
    }

    /// How many orders of the buyer with this number still await payment.
    pub async fn open_orders_of(&self, phone: Phone) -> Result<i64, StoreError> {
        self.read(move |db| repo::open_orders_of(db, phone.as_str()))
            .await
    }

    /// Puts a number in line for a sold-out product; a number already in line keeps its place.
    pub async fn join_waitlist(
        &self,
        sku: Sku,
        phone: Phone,
        name: Option<String>,
        now: Timestamp,
    ) -> Result<
        Result<lunas_core::waitlist::WaitlistEntry, lunas_core::waitlist::WaitlistError>,
        StoreError,
    > {
        self.write(move |db| repo::join_waitlist(db, &sku, &phone, name.as_deref(), now))
            .await
    }

    /// Whether an offer to the waitlist passed unclaimed by `now`.
    pub async fn has_lapsed_offers(&self, now: Timestamp) -> Result<bool, StoreError> {
        self.read(move |db| repo::has_lapsed_offers(db, now)).await
    }

    /// The offer whose claim link carries `token` (not locked), for its page.
    pub async fn offer_by_token(&self, token: String) -> Result<Option<OfferRow>, StoreError> {
        self.read(move |db| repo::offer_by_token(db, &token, false))
            .await
    }

    /// A product's waitlist: those in line in their order, then past entries.
    pub async fn waitlist(
        &self,
        sku: Sku,
    ) -> Result<Vec<lunas_core::waitlist::WaitlistEntry>, StoreError> {
        self.read(move |db| repo::waitlist_of(db, sku.as_str()))
            .await
    }

    /// A buyer's proof of transfer, with its file.
    pub async fn proof(&self, id: i64) -> Result<Option<StoredProof>, StoreError> {
        self.read(move |db| repo::proof(db, id)).await
    }

    /// An order's proofs of transfer, oldest first, without their files: id, when, content type,
    /// size in bytes.
    pub async fn proofs_of(
        &self,
        order: OrderId,
    ) -> Result<Vec<(i64, Timestamp, String, i64)>, StoreError> {
        self.read(move |db| repo::proofs_of(db, order)).await
    }

    /// The order whose page `token` opens, read in one transaction.
    pub async fn order_by_token(&self, token: String) -> Result<Option<Order>, StoreError> {
        self.read(move |db| match repo::order_id_by_token(db, &token)? {
            Some(id) => repo::load_order(db, id),
            None => Ok(None),
        })
        .await
    }

    /// Orders newest first, optionally of one status; `page.after` is the last id already seen.
    pub async fn orders(
        &self,
        status: Option<OrderStatus>,
        page: Page<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.read(move |db| repo::orders(db, status, &page)).await
    }

    /// The messages written about an order, oldest first.
    pub async fn order_messages(&self, order: OrderId) -> Result<Vec<Message>, StoreError> {
        self.read(move |db| repo::order_messages(db, order)).await
    }

    /// Messages of one channel in one status, oldest first (e.g. the manual WhatsApp queue).
    pub async fn messages(
        &self,
        channel: Channel,
        status: MessageStatus,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.read(move |db| repo::messages(db, channel, status, limit))
            .await
    }

    /// Marks a buyer as wanting no reminders (lifecycle messages still go), or not.
    pub async fn set_no_reminders(
        &self,
        phone: Phone,
        no_reminders: bool,
    ) -> Result<Result<(), CustomerNotFound>, StoreError> {
        self.write(move |db| repo::set_no_reminders(db, &phone, no_reminders))
            .await
    }

    /// Whether the buyer opted out of reminders; `None` for an unknown buyer.
    pub async fn no_reminders(&self, phone: Phone) -> Result<Option<bool>, StoreError> {
        self.read(move |db| repo::no_reminders(db, &phone)).await
    }

    /// Takes due messages of `channels` for delivery, leasing them until `lease_until`.
    pub async fn claim_messages(
        &self,
        channels: Vec<Channel>,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.write_always(move |db| repo::claim_messages(db, &channels, now, lease_until, limit))
            .await
    }

    /// Records the outcome of a delivery attempt.
    pub async fn record_delivery(
        &self,
        id: MessageId,
        outcome: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| repo::record_delivery(db, &id, &outcome, now))
            .await
    }

    /// Adds a webhook endpoint, in the audit log as `actor`'s.
    pub async fn create_webhook(
        &self,
        endpoint: WebhookEndpoint,
        actor: Actor,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| repo::create_webhook(db, &endpoint, &actor))
            .await
    }

    /// Webhook endpoints, oldest first, with their secrets (for signing; never list these out).
    pub async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.read(repo::webhooks).await
    }

    /// Removes an endpoint; returns whether it existed.
    /// Deletes a webhook endpoint, in the audit log as `actor`'s; whether it existed.
    pub async fn delete_webhook(
        &self,
        id: String,
        actor: Actor,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_always(move |db| repo::delete_webhook(db, &id, &actor, now))
            .await
    }

    /// Keeps a buyer's WhatsApp message; returns whether it was new.
    pub async fn record_inbound(&self, inbound: InboundMessage) -> Result<bool, StoreError> {
        self.write_always(move |db| repo::record_inbound(db, &inbound))
            .await
    }

    /// When the buyer last wrote to the shop on WhatsApp, if ever.
    pub async fn last_inbound_at(&self, phone: Phone) -> Result<Option<Timestamp>, StoreError> {
        self.read(move |db| repo::last_inbound_at(db, &phone)).await
    }

    /// The tips of `skus`' products, in order.
    pub async fn product_tips(&self, skus: Vec<Sku>) -> Result<Vec<Option<String>>, StoreError> {
        self.read(move |db| repo::product_tips(db, &skus)).await
    }

    /// The due time of the earliest timer, if any.
    pub async fn next_timer_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.read(repo::next_timer_due).await
    }

    /// Forgets idempotency keys created before `before`, at most `limit` of them.
    pub async fn prune_idempotency_keys(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<usize, StoreError> {
        self.write_always(move |db| repo::prune_idempotency_keys(db, before, limit))
            .await
    }

    pub async fn create_api_token(
        &self,
        name: String,
        token_hash: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| repo::create_api_token(db, &name, &token_hash, now))
            .await
    }

    /// The API tokens, by name.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.read(repo::api_tokens).await
    }

    /// Revokes every token named `name` (in the audit log as `actor`); how many there were.
    pub async fn revoke_api_token(
        &self,
        name: String,
        actor: Actor,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write_always(move |db| repo::revoke_api_token(db, &name, actor.as_str(), now))
            .await
    }

    /// The name of the token with this hash, if it exists.
    pub async fn api_token_name(&self, token_hash: String) -> Result<Option<String>, StoreError> {
        self.read_point(move |db| repo::api_token_name(db, &token_hash))
            .await
    }

    pub async fn settings(&self) -> Result<Settings, StoreError> {
        match self.read(repo::settings_json).await? {
            None => Ok(Settings::default()),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| StoreError::Internal(format!("stored settings do not parse: {e}"))),
        }
    }

    pub async fn put_settings(&self, settings: Settings) -> Result<(), StoreError> {
        self.write_always(move |db| repo::put_settings(db, &settings))
            .await
    }

    /// Cross-checks the stock counters against the holds and the hold states against the order
    /// statuses. An empty report means the invariants hold.
    pub async fn consistency_report(&self) -> Result<Vec<String>, StoreError> {
        self.read(repo::consistency_report).await
    }

    /// A buyer's reliability profile (record, pin, notes, tags, recent finished orders).
    pub async fn customer_profile(
        &self,
        phone: Phone,
    ) -> Result<Option<CustomerProfile>, StoreError> {
        self.read(move |db| repo::customer_profile(db, &phone))
            .await
    }

    /// Buyers' profiles by id, after `after` (0 for the first page).
    pub async fn customer_profiles(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<CustomerProfile>, StoreError> {
        self.read(move |db| repo::customer_profiles(db, after, limit))
            .await
    }

    /// Buyers found by part of their name or number (see `repo::search_customer_profiles`).
    pub async fn search_customer_profiles(
        &self,
        text: String,
        digits: String,
        limit: usize,
    ) -> Result<Vec<CustomerProfile>, StoreError> {
        self.read(move |db| repo::search_customer_profiles(db, &text, &digits, limit))
            .await
    }

    /// The store's paid and unpaid finished orders over all buyers.
    pub async fn base_rate(&self) -> Result<lunas_core::reliability::BaseRate, StoreError> {
        self.read(repo::base_rate).await
    }

    /// Every buyer's reliability record, by phone.
    pub async fn reliability_records(
        &self,
    ) -> Result<Vec<(String, lunas_core::reliability::Record)>, StoreError> {
        self.read(repo::reliability_records).await
    }

    /// Recomputes every buyer's record from the orders and payments; returns the number of buyers.
    pub async fn rebuild_reputation(&self) -> Result<usize, StoreError> {
        self.write_always(repo::rebuild_reputation).await
    }

    /// The database's privacy key (hex), created on first use.
    pub async fn privacy_key(&self) -> Result<String, StoreError> {
        self.write_always(repo::privacy_key).await
    }

    /// The key that signs the sign-in form's tokens (see `repo::login_key`).
    pub async fn login_key(&self) -> Result<String, StoreError> {
        self.write_always(repo::login_key).await
    }

    /// A buyer's profile and the record an earlier erasure of the same number left behind.
    pub async fn customer_and_erased(
        &self,
        phone: Phone,
        phone_hmac: String,
    ) -> Result<(Option<CustomerProfile>, Option<CustomerProfile>), StoreError> {
        self.read(move |db| repo::customer_and_erased(db, &phone, &phone_hmac))
            .await
    }

    /// Everything lunas holds about one buyer; `None` for an unknown number.
    pub async fn customer_export(
        &self,
        phone: Phone,
    ) -> Result<Option<CustomerExport>, StoreError> {
        self.read(move |db| repo::customer_export(db, &phone)).await
    }

    /// Row counts and money sums, for the operator and for tests.
    pub async fn totals(&self) -> Result<Totals, StoreError> {
        self.read(repo::totals).await
    }
}
