//! The use cases of lunas: they combine the store, the clock and (later) the channels.
//!
//! Nothing here knows about HTTP. Every operation reads the time from the engine's `Clock`, so
//! tests drive days of a store's life by moving a `ManualClock`, and background work is a
//! steppable `tick()` that the scheduler loop calls and tests call directly.

pub mod accounts;
pub mod analytics;
mod batches;
pub mod channels;
pub mod clock;
pub mod couriers;
mod customers;
pub mod demo;
mod demo_conversations;
mod demo_history;
pub mod desk;
pub mod faq;
pub mod fulfilment;
pub mod gateways;
mod http;
pub mod imports;
mod inbound;
mod integrations;
mod ledger;
mod offers;
mod orders;
pub mod outbox;
mod pages;
pub mod passwords;
pub mod payments;
pub mod pictures;
mod placing;
mod products;
pub mod proofs;
pub mod returns;
mod shared_reads;
#[cfg(feature = "testing")]
pub mod testing;
mod timers;
pub mod tokens;
pub mod waitlist;
pub mod warm;

pub use clock::{Clock, ManualClock, SystemClock};

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use lunas_core::catalog::ProductError;
use lunas_core::customers::CustomerNotFound;
use lunas_core::customers::CustomerProfile;
use lunas_core::ledger::NewPayment;
use lunas_core::messages::{Composer, MessageContext, MessageKind, TemplateError};
use lunas_core::outbox::{Message, MessageId, MessageOpError, MessageStatus};
use lunas_core::placing::{
    FiredTimers, IdempotencyKey, Messaging, NewOrderLine, OrderOpError, PlaceError,
};
use lunas_core::queries::Page;
use lunas_core::reliability::{Assessment, Band, BaseRate, PolicyRefusal};
use lunas_core::{
    Actor, CustomerInfo, Order, OrderId, OrderStatus, PayWindow, PaymentMethod, Phone, Settings,
    SettingsError, Timestamp,
};
use lunas_store::Store;

use crate::channels::webhooks;
/// A storage failure (the database unavailable, a conflict that kept failing, damaged data), as
/// the engine's callers see it inside [`Error::Store`].
pub use lunas_store::StoreError;
use tokio::sync::Notify;

/// Most timers handled in one transaction by one tick, unless configured otherwise
/// (`Engine::with_timer_batch`).
pub const TIMER_BATCH_LEN_MAX: usize = 1000;
/// How often, at most, the scheduler re-reads the settings, so that a change saved through another
/// lunas process on the same database reaches this one.
const SETTINGS_REFRESH_MS: i64 = 1000;
/// How often the store's base rate (the prior of every buyer's score) is recomputed.
const BASE_RATE_REFRESH_MS: i64 = 60_000;
/// Longest the scheduler sleeps before looking for due timers again, even when it knows of none:
/// another process may have added one.
pub const SCHEDULER_IDLE_MS_MAX: i64 = 1000;
/// How long an idempotency key is remembered (as Stripe does: 24 hours).
pub const IDEMPOTENCY_KEY_TTL_HOURS: i64 = 24;
/// How often, at most, old idempotency keys are pruned, and how many per pass.
const IDEMPOTENCY_PRUNE_INTERVAL_MS: i64 = 10 * 60 * 1000;
const IDEMPOTENCY_PRUNE_LEN_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Place(#[from] PlaceError),
    #[error(transparent)]
    Order(#[from] OrderOpError),
    #[error(transparent)]
    Product(#[from] ProductError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("COD orders have no payment deadline, so pay_within does not apply")]
    PayWithinOnCod,
    /// More orders than one export holds were placed in the range asked for.
    #[error("more than {max} orders were placed in this range; export a shorter one")]
    ExportTooLarge { max: usize },
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// A reminder cadence that does not fit its payment window (said in words by the dashboard).
    #[error("invalid settings: reminders.{}: {error}", .method.as_str())]
    CadenceOutsideWindow {
        method: PaymentMethod,
        error: lunas_core::reminders::CadenceError,
    },
    #[error("{0}")]
    InvalidTemplate(#[from] TemplateError),
    /// An order history file lunas cannot read at all.
    #[error("{0}")]
    ImportFile(#[from] lunas_core::import::FileError),
    #[error(transparent)]
    Faq(#[from] lunas_core::faq::FaqError),
    #[error(transparent)]
    Message(#[from] MessageOpError),
    #[error(transparent)]
    CustomerNotFound(#[from] CustomerNotFound),
    #[error(transparent)]
    InvalidWebhookUrl(#[from] webhooks::WebhookUrlError),
    /// The buyer's band does not allow this order.
    #[error(transparent)]
    Policy(#[from] PolicyRefusal),
    /// A statement that cannot be read at all.
    #[error(transparent)]
    Statement(lunas_core::statement::StatementError),
    /// Lines of a statement (or mutations of a delivery) that did not read; nothing was imported.
    #[error("{count} line(s) did not read; nothing was imported")]
    BadStatementLines {
        errors: Vec<lunas_core::statement::LineError>,
        count: usize,
    },
    #[error(transparent)]
    Review(lunas_core::ledger::ReviewError),
    #[error(transparent)]
    Callback(#[from] gateways::CallbackError),
    #[error(transparent)]
    PaymentLink(#[from] gateways::PaymentLinkError),
    #[error(transparent)]
    Account(#[from] accounts::AccountOpError),
    /// A number that cannot join a product's waitlist.
    #[error(transparent)]
    Waitlist(#[from] lunas_core::waitlist::WaitlistError),
    /// A claim of a waitlist offer that placed nothing.
    #[error(transparent)]
    Claim(#[from] waitlist::ClaimError),
    /// A proof of transfer that was not taken.
    #[error(transparent)]
    File(#[from] pictures::FileError),
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Error {
        match e {
            SettingsError::Invalid(message) => Error::InvalidSettings(message),
            SettingsError::Cadence { method, error } => {
                Error::CadenceOutsideWindow { method, error }
            }
            SettingsError::Template(e) => Error::InvalidTemplate(e),
        }
    }
}

/// An order as the caller asks for it, already parsed into domain types.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub customer: CustomerInfo,
    pub lines: Vec<NewOrderLine>,
    /// Where the parcel goes, if the order ships.
    pub address: Option<lunas_core::shipping::Address>,
    /// The shipping cost and the discount.
    pub charges: lunas_core::shipping::Charges,
    pub payment_method: PaymentMethod,
    pub pay_within: Option<PayWindow>,
    pub actor: Actor,
    pub idempotency: Option<IdempotencyKey>,
    /// What the buyer wrote for the seller (the shop's checkout).
    pub note: Option<String>,
}

/// What one scheduler step did; `more` says timers were left due and the next step should not wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickOutcome {
    pub timers: FiredTimers,
    pub more: bool,
}

pub struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The settings and the templates compiled from them, replaced together.
    messaging: RwLock<Messaging>,
    /// Wakes the scheduler when a timer is added that is due before its planned wake-up.
    wake: Notify,
    next_wake_ms: AtomicI64,
    last_prune_ms: AtomicI64,
    last_settings_refresh_ms: AtomicI64,
    /// The store's paid and unpaid orders over all buyers, and when it was read: it moves slowly,
    /// and reading it per order would scan every buyer.
    base_rate: RwLock<(BaseRate, i64)>,
    /// The catalogue indexed for reading pasted format orders, and when it was read.
    format_catalogue: RwLock<Option<(Arc<lunas_core::format_order::Catalogue>, i64)>>,
    /// The key of the phone-number HMACs erased buyers are kept under (from the configuration or
    /// the database), read on first use.
    privacy_key: tokio::sync::OnceCell<Vec<u8>>,
    privacy_key_configured: Option<Vec<u8>>,
    /// The key that signs the sign-in form's tokens, read from the database once.
    login_key: tokio::sync::OnceCell<Vec<u8>>,
    timer_batch_len: usize,
    /// Whether webhook URLs may point at loopback and private networks (server configuration).
    webhooks_allow_private: bool,
    /// The payment gateways this server is configured for.
    gateways: gateways::Gateways,
    /// The client that makes payment pages at the gateways, built on first use.
    gateway_client: std::sync::OnceLock<gateways::GatewayClient>,
    /// The history analytics reads, kept current by the orders that changed.
    analytics: analytics::Cache,
    /// The FAQ entries indexed, and the WhatsApp sender of replies.
    faq: faq::Book,
    /// One-line placements placed in batches, on PostgreSQL (see `batches`).
    placing: batches::Batches,
    /// API tokens' reads shared by the requests that arrive together (see `shared_reads`).
    token_reads: shared_reads::SharedReads<String, Result<Option<String>, StoreError>>,
}

impl Engine {
    pub async fn new(store: Store, clock: Arc<dyn Clock>) -> Result<Engine, StoreError> {
        let settings = store.settings().await?;
        let composer = settings
            .validate()
            .map_err(|e| StoreError::Internal(format!("the stored settings are invalid: {e}")))?;
        let base_rate = store.base_rate().await?;
        let read_at = clock.now().as_millisecond();
        Ok(Engine {
            store,
            clock,
            messaging: RwLock::new(Messaging {
                settings: Arc::new(settings),
                composer: Arc::new(composer),
                email_available: false,
                whatsapp_available: false,
                public_base: Arc::from(pages::PUBLIC_BASE_DEFAULT),
            }),
            wake: Notify::new(),
            next_wake_ms: AtomicI64::new(i64::MIN),
            last_prune_ms: AtomicI64::new(i64::MIN),
            last_settings_refresh_ms: AtomicI64::new(i64::MIN),
            base_rate: RwLock::new((base_rate, read_at)),
            format_catalogue: RwLock::new(None),
            privacy_key: tokio::sync::OnceCell::new(),
            privacy_key_configured: None,
            login_key: tokio::sync::OnceCell::new(),
            timer_batch_len: TIMER_BATCH_LEN_MAX,
            webhooks_allow_private: false,
            gateways: gateways::Gateways::default(),
            gateway_client: std::sync::OnceLock::new(),
            placing: batches::Batches::default(),
            token_reads: shared_reads::SharedReads::default(),
            analytics: analytics::Cache::default(),
            faq: faq::Book::default(),
        })
    }

    /// Uses `key` for the HMACs of erased buyers' numbers instead of the key kept in the
    /// database (every process on one database must be given the same key).
    pub fn with_privacy_key(mut self, key: Option<String>) -> Engine {
        self.privacy_key_configured = key.map(String::into_bytes);
        self
    }

    /// How many due timers one tick takes in one transaction (at least 1).
    pub fn with_timer_batch(mut self, len: usize) -> Engine {
        self.timer_batch_len = len.max(1);
        self
    }

    /// Tells the engine that this server can send email, so buyers with an address get email.
    pub fn with_email(self, available: bool) -> Engine {
        self.messaging
            .write()
            .expect("settings lock")
            .email_available = available;
        self
    }

    /// Tells the engine that this server can send WhatsApp messages through the Cloud API.
    pub fn with_whatsapp(self, available: bool) -> Engine {
        self.messaging
            .write()
            .expect("settings lock")
            .whatsapp_available = available;
        self
    }

    /// Lets webhook URLs point at loopback and private networks (for tests and closed setups).
    pub fn with_webhooks_allow_private(mut self, allow: bool) -> Engine {
        self.webhooks_allow_private = allow;
        self
    }

    /// The store underneath, for tests that set up or inspect rows no use case reaches. The
    /// crates above the engine never see it.
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.messaging
            .read()
            .expect("settings lock")
            .settings
            .clone()
    }

    fn messaging(&self) -> Messaging {
        self.messaging.read().expect("settings lock").clone()
    }

    /// Merges a partial settings document into the current settings, checks the whole, saves
    /// it and writes the change to the audit log. Objects merge key by key; any other value given
    /// (an array, a string, `null`) replaces the current one, so `null` sets an optional field to
    /// none; what is left out stays.
    pub async fn update_settings(
        &self,
        patch: serde_json::Value,
        actor: Actor,
    ) -> Result<Arc<Settings>, Error> {
        let settings = self.merged_settings(&patch)?;
        let saved = self.put_settings(settings).await?;
        let changed: Vec<String> = patch
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        self.store
            .audit(
                actor,
                lunas_core::AuditAction::SettingsUpdate,
                "settings".to_owned(),
                serde_json::json!({ "changed": changed, "patch": patch }),
                self.now(),
            )
            .await?;
        Ok(saved)
    }

    /// The current settings with `patch` merged in, not yet checked whole.
    fn merged_settings(&self, patch: &serde_json::Value) -> Result<Settings, Error> {
        if !patch.is_object() {
            return Err(Error::InvalidSettings(
                "settings must be a JSON object".to_owned(),
            ));
        }
        let mut merged =
            serde_json::to_value(&*self.settings()).expect("settings always serialise");
        merge_settings(&mut merged, patch.clone());
        serde_json::from_value(merged)
            .map_err(|e| Error::InvalidSettings(format!("the settings do not fit: {e}")))
    }

    /// What the reminders of an order paid by `method` would be with `patch` applied to the
    /// settings (nothing is saved): each reminder's due time and text, for the sample order
    /// placed now. The settings are checked whole first, as saving would.
    pub fn preview_reminders(
        &self,
        patch: &serde_json::Value,
        method: PaymentMethod,
    ) -> Result<Vec<(Timestamp, String)>, Error> {
        let settings = self.merged_settings(patch)?;
        let composer = settings.validate()?;
        let mut order = lunas_core::messages::sample_order();
        order.payment_method = method;
        order.placed_at = self.now();
        order.pay_by = settings.pay_by(method, order.placed_at, None);
        let Some(cadence) = settings.reminders.for_method(method) else {
            return Ok(Vec::new());
        };
        let tips = vec![None; order.items.len()];
        let base = self.messaging().public_base;
        lunas_core::reminders::schedule(
            cadence,
            order.placed_at,
            order.pay_by,
            settings.quiet_hours.as_ref(),
            &settings.time_zone(),
        )
        .into_iter()
        .enumerate()
        .map(|(n, reminder)| {
            let context = MessageContext::new(&order, &tips, &settings, &base, n + 1);
            let text = composer.render(
                MessageKind::Reminder,
                Some((method, reminder.step)),
                &context,
            )?;
            Ok((reminder.due, text))
        })
        .collect()
    }

    /// Every lifecycle message (order received, payment received, hold released, cancelled) as
    /// it would read with `patch` applied to the settings (nothing is saved), for the sample
    /// bank-transfer order placed now.
    pub fn preview_messages(
        &self,
        patch: &serde_json::Value,
    ) -> Result<Vec<(MessageKind, String)>, Error> {
        let settings = self.merged_settings(patch)?;
        let composer = settings.validate()?;
        let mut order = lunas_core::messages::sample_order();
        order.placed_at = self.now();
        order.pay_by = settings.pay_by(order.payment_method, order.placed_at, None);
        let tips = vec![None; order.items.len()];
        let base = self.messaging().public_base;
        let context = MessageContext::new(&order, &tips, &settings, &base, 0);
        MessageKind::ALL
            .into_iter()
            .filter(|kind| *kind != MessageKind::Reminder)
            .map(|kind| Ok((kind, composer.render(kind, None, &context)?)))
            .collect()
    }

    /// Replaces the settings after checking them whole: time zone, cadences against their
    /// windows, links, and every template (compiled and rendered against a sample order).
    pub async fn put_settings(&self, settings: Settings) -> Result<Arc<Settings>, Error> {
        let composer = settings.validate()?;
        self.store.put_settings(settings.clone()).await?;
        Ok(self.use_settings(settings, composer))
    }

    fn use_settings(&self, settings: Settings, composer: Composer) -> Arc<Settings> {
        let settings = Arc::new(settings);
        let mut messaging = self.messaging.write().expect("settings lock");
        messaging.settings = settings.clone();
        messaging.composer = Arc::new(composer);
        settings
    }

    /// Re-reads the stored settings and takes them up if another process changed them.
    async fn refresh_settings(&self) -> Result<(), StoreError> {
        let stored = self.store.settings().await?;
        if *self.settings() == stored {
            return Ok(());
        }
        match stored.validate() {
            Ok(composer) => {
                tracing::info!("took up settings changed by another lunas process");
                self.use_settings(stored, composer);
            }
            Err(e) => {
                tracing::error!(error = %e, "the stored settings are invalid; keeping the previous ones")
            }
        }
        Ok(())
    }

    pub async fn record_payment(
        &self,
        id: OrderId,
        amount: lunas_core::Money,
        reference: Option<String>,
        actor: Actor,
    ) -> Result<Order, Error> {
        let payment = NewPayment::by_staff(amount, reference, actor, self.now());
        let messaging = self.messaging();
        Ok(self
            .store
            .transact(move |tx| ledger::record_payment(tx, id, &payment, &messaging))
            .await??
            .order)
    }

    /// Accepts an open order as paid with what has arrived ("terima sebagai lunas"): the
    /// shortfall is written off, with the reason in its history and the audit log.
    pub async fn accept_as_paid(
        &self,
        id: OrderId,
        reason: String,
        actor: Actor,
    ) -> Result<Order, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        Ok(self
            .store
            .transact(move |tx| ledger::accept_short(tx, id, &reason, &actor, now, &messaging))
            .await??)
    }

    /// Gives an order awaiting payment a later deadline; its release and reminders move with it.
    pub async fn extend_deadline(
        &self,
        id: OrderId,
        to: Timestamp,
        reason: String,
        actor: Actor,
    ) -> Result<Order, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        Ok(self
            .store
            .transact(move |tx| orders::extend(tx, id, to, &reason, &actor, now, &messaging))
            .await??)
    }

    /// Cancels an order on the seller's side (not held against the buyer).
    pub async fn cancel_order(
        &self,
        id: OrderId,
        reason: String,
        actor: Actor,
    ) -> Result<Order, Error> {
        self.cancel_order_by(id, reason, actor, lunas_core::CancelledBy::Seller)
            .await
    }

    /// Cancels an order, saying who asked: a buyer's cancellation counts in their record.
    pub async fn cancel_order_by(
        &self,
        id: OrderId,
        reason: String,
        actor: Actor,
        by: lunas_core::CancelledBy,
    ) -> Result<Order, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        let seed: u128 = rand::random();
        Ok(self
            .store
            .transact(move |tx| orders::cancel(tx, id, &reason, &actor, by, now, &messaging, seed))
            .await??)
    }

    /// Wakes the scheduler when `order`'s deadline is earlier than its plan.
    fn wake_for(&self, order: &Order) {
        if let Some(due) = order.pay_by
            && due.as_millisecond() < self.next_wake_ms.load(Ordering::Acquire)
        {
            self.wake.notify_one();
        }
    }

    /// The store's base rate, read again when older than `BASE_RATE_REFRESH_MS`.
    async fn base_rate(&self) -> Result<BaseRate, StoreError> {
        let now_ms = self.now().as_millisecond();
        let (rate, read_at) = *self.base_rate.read().expect("base rate lock");
        if now_ms.saturating_sub(read_at) < BASE_RATE_REFRESH_MS {
            return Ok(rate);
        }
        let rate = self.store.base_rate().await?;
        *self.base_rate.write().expect("base rate lock") = (rate, now_ms);
        Ok(rate)
    }

    /// HMAC-SHA-256 of the number with the privacy key, hex: how an erased buyer's record is
    /// found again without keeping the number.
    async fn phone_hmac(&self, phone: &Phone) -> Result<String, Error> {
        use hmac::Mac;
        let key = self
            .privacy_key
            .get_or_try_init(|| async {
                match &self.privacy_key_configured {
                    Some(key) => Ok::<_, StoreError>(key.clone()),
                    None => Ok(self.store.privacy_key().await?.into_bytes()),
                }
            })
            .await?;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(phone.as_str().as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// A buyer's profile (if lunas knows the number) and where they stand: band, reason, score and
    /// a sentence in the store's language. An unknown number is a new buyer — unless it was erased
    /// before: the record it left (a pinned band, its history) still counts.
    pub async fn assess(
        &self,
        phone: &Phone,
    ) -> Result<(Option<CustomerProfile>, Assessment), Error> {
        let hmac = self.phone_hmac(phone).await?;
        let (profile, erased) = self.store.customer_and_erased(phone.clone(), hmac).await?;
        let base = self.base_rate().await?;
        let chat = self.store.chat_counts(phone.clone()).await?;
        let assessment = lunas_core::customers::judge(
            profile.as_ref().map(CustomerProfile::standing).as_ref(),
            erased.as_ref().map(CustomerProfile::standing).as_ref(),
            chat.as_ref(),
            self.now(),
            base,
            &self.settings(),
        );
        Ok((profile, assessment))
    }

    /// Everything lunas holds about one buyer, for an access request; `None` for an unknown number.
    pub async fn export_customer(
        &self,
        phone: &Phone,
    ) -> Result<Option<(lunas_core::customers::CustomerExport, Assessment)>, Error> {
        let Some(export) = self.store.customer_export(phone.clone()).await? else {
            return Ok(None);
        };
        let (_, assessment) = self.assess(phone).await?;
        Ok(Some((export, assessment)))
    }

    /// Buyers whose name holds `text` or whose number holds its digits (`0812` is read as the
    /// `812` after +62), newest first, with their standing.
    pub async fn search_customers(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<(CustomerProfile, Assessment)>, Error> {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        // A number written the local way starts with 0 where the stored one has +62.
        let digits = match digits.strip_prefix('0') {
            Some(rest) => rest.to_owned(),
            None => digits,
        };
        let digits = if digits.len() >= 3 {
            digits
        } else {
            String::new()
        };
        let found = self
            .store
            .search_customer_profiles(text.trim().to_owned(), digits, limit)
            .await?;
        let (base, settings, now) = (self.base_rate().await?, self.settings(), self.now());
        let mut assessed = Vec::with_capacity(found.len());
        for profile in found {
            let chat = match settings.risk.watch_tire_kickers {
                true => self.store.chat_counts(profile.info.phone.clone()).await?,
                false => None,
            };
            let assessment = assess(&profile, chat.as_ref(), now, base, &settings);
            assessed.push((profile, assessment));
        }
        Ok(assessed)
    }

    /// Buyers in `band` (all when `None`), by id after `after`: at most `limit`, looking at no
    /// more than `scan` buyers (the band is computed, not stored).
    pub async fn customers(
        &self,
        band: Option<Band>,
        after: i64,
        limit: usize,
        scan: usize,
    ) -> Result<Vec<(CustomerProfile, Assessment)>, Error> {
        Ok(self.customers_scan(band, after, limit, scan).await?.0)
    }

    /// `customers`, and the cursor of the last buyer looked at when more may follow (to go on
    /// from there): a page of a rare band is bounded by `scan`, not by the number of buyers.
    pub async fn customers_scan(
        &self,
        band: Option<Band>,
        after: i64,
        limit: usize,
        scan: usize,
    ) -> Result<(Vec<(CustomerProfile, Assessment)>, Option<i64>), Error> {
        let base = self.base_rate().await?;
        let settings = self.settings();
        let now = self.now();
        let mut found = Vec::new();
        let mut cursor = after;
        let mut scanned = 0;
        let mut more = true;
        while more && found.len() < limit && scanned < scan {
            let asked = 100.min(scan - scanned);
            let chats = match settings.risk.watch_tire_kickers {
                true => self.store.chat_counts_after(cursor, asked).await?,
                false => Default::default(),
            };
            let page = self.store.customer_profiles(cursor, asked).await?;
            more = page.len() == asked;
            for profile in page {
                if found.len() == limit {
                    more = true;
                    break;
                }
                scanned += 1;
                cursor = profile.id;
                let chat = chats.get(profile.info.phone.as_str());
                let assessment = assess(&profile, chat, now, base, &settings);
                if band.is_none_or(|band| band == assessment.band) {
                    found.push((profile, assessment));
                }
            }
        }
        Ok((found, more.then_some(cursor)))
    }

    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, Error> {
        Ok(self.store.order(id).await?)
    }

    pub async fn orders(
        &self,
        status: Option<OrderStatus>,
        page: Page<OrderId>,
    ) -> Result<Vec<Order>, Error> {
        Ok(self.store.orders(status, page).await?)
    }

    pub async fn order_messages(&self, id: OrderId) -> Result<Vec<Message>, Error> {
        Ok(self.store.order_messages(id).await?)
    }

    /// The manual WhatsApp queue: messages staff still have to send, oldest first.
    pub async fn manual_queue(&self, limit: usize) -> Result<Vec<Message>, Error> {
        Ok(self
            .store
            .messages(
                lunas_core::messages::Channel::ManualWhatsapp,
                MessageStatus::Pending,
                limit,
            )
            .await?)
    }

    /// Staff sent a message of the manual WhatsApp queue by hand.
    pub async fn mark_message_sent(&self, id: MessageId, actor: Actor) -> Result<Message, Error> {
        let now = self.now();
        self.change_message(id, lunas_core::outbox::decide_mark_sent, move |tx, id| {
            tx.mark_sent_by(id, &actor, now)
        })
        .await
    }

    /// Staff chose not to send a message of the manual WhatsApp queue: it leaves the queue,
    /// recorded as skipped by them.
    pub async fn skip_message(&self, id: MessageId, actor: Actor) -> Result<Message, Error> {
        let now = self.now();
        self.change_message(id, lunas_core::outbox::decide_skip, move |tx, id| {
            tx.mark_skipped_by(id, &actor, now)
        })
        .await
    }

    /// Puts a dead message back in the queue, its attempts reset; its id stays the same.
    pub async fn replay_message(&self, id: MessageId) -> Result<Message, Error> {
        let now = self.now();
        self.change_message(id, lunas_core::outbox::decide_replay, move |tx, id| {
            tx.requeue(id, now)
        })
        .await
    }

    /// Reads message `id` locked, asks `decide` whether the change may be made, makes it with
    /// `write` and answers with the message as it is then; all in one transaction.
    async fn change_message(
        &self,
        id: MessageId,
        decide: fn(&Message) -> Result<(), MessageOpError>,
        write: impl Fn(&mut lunas_store::Tx<'_>, &MessageId) -> lunas_store::TxResult<()>
        + Send
        + 'static,
    ) -> Result<Message, Error> {
        Ok(self
            .store
            .transact(move |tx| {
                let Some(message) = tx.message_for_update(&id)? else {
                    return Ok(Err(MessageOpError::NotFound));
                };
                if let Err(refused) = decide(&message) {
                    return Ok(Err(refused));
                }
                write(tx, &id)?;
                Ok(tx.message_for_update(&id)?.ok_or(MessageOpError::NotFound))
            })
            .await??)
    }

    /// Opts a buyer out of reminders (or back in). Lifecycle messages still go.
    pub async fn set_no_reminders(&self, phone: Phone, no_reminders: bool) -> Result<(), Error> {
        Ok(self.store.set_no_reminders(phone, no_reminders).await??)
    }

    pub async fn no_reminders(&self, phone: Phone) -> Result<Option<bool>, Error> {
        Ok(self.store.no_reminders(phone).await?)
    }

    /// Renders a message of `kind` about a real order: with `source` when given (an unsaved
    /// template), else with the store's template for it (a reminder step's own when `step` is
    /// given). Returns `None` when there is no such order.
    pub async fn preview(
        &self,
        kind: MessageKind,
        source: Option<String>,
        order: OrderId,
        step: Option<usize>,
    ) -> Result<Option<String>, Error> {
        let Some(order) = self.store.order(order).await? else {
            return Ok(None);
        };
        let tips = self
            .store
            .product_tips(order.items.iter().map(|i| i.sku.clone()).collect())
            .await?;
        let messaging = self.messaging();
        let context = MessageContext::new(
            &order,
            &tips,
            &messaging.settings,
            &messaging.public_base,
            step.map_or(0, |s| s + 1),
        );
        let text = match source {
            Some(source) => Composer::preview(&source, &context)?,
            None => messaging.composer.render(
                kind,
                step.map(|s| (order.payment_method, s)),
                &context,
            )?,
        };
        Ok(Some(text))
    }

    /// One step of background work at the clock's current time: take up settings another process
    /// saved (at most once a second), fire due timers (one batch) and, now and then, forget old
    /// idempotency keys.
    pub async fn tick(&self) -> Result<TickOutcome, StoreError> {
        let now = self.now();
        let now_ms = now.as_millisecond();
        let last = self.last_settings_refresh_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) >= SETTINGS_REFRESH_MS {
            self.last_settings_refresh_ms
                .store(now_ms, Ordering::Relaxed);
            self.refresh_settings().await?;
        }
        let timers = self.fire_due_timers(now).await?;
        // Offers to the waitlist that passed unclaimed move to the next buyer in line.
        let lapsed = self.lapse_offers(now).await?;
        if lapsed > 0 {
            tracing::info!(
                lapsed,
                "waitlist offers passed unclaimed; offered to the next in line"
            );
        }
        if timers.expired > 0 {
            tracing::info!(
                expired = timers.expired,
                "released the holds of unpaid orders past their deadline"
            );
        }
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) >= IDEMPOTENCY_PRUNE_INTERVAL_MS {
            self.last_prune_ms.store(now_ms, Ordering::Relaxed);
            let before = now - jiff::SignedDuration::from_hours(IDEMPOTENCY_KEY_TTL_HOURS);
            self.store
                .prune_idempotency_keys(before, IDEMPOTENCY_PRUNE_LEN_MAX)
                .await?;
        }
        Ok(TickOutcome {
            timers,
            more: timers.fired + timers.failed + timers.busy == self.timer_batch_len,
        })
    }

    /// The scheduler: ticks whenever a timer falls due (and at least every
    /// `SCHEDULER_IDLE_MS_MAX`), until `shutdown` completes. Timers that fell due while lunas was
    /// stopped fire on the first tick, right after start.
    pub async fn run_scheduler(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait_ms = match self.tick().await {
                Ok(outcome) if outcome.more => 0,
                Ok(_) => self.ms_until_next_timer().await,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler tick failed; retrying");
                    SCHEDULER_IDLE_MS_MAX
                }
            };
            if wait_ms == 0 {
                tokio::task::yield_now().await;
                continue;
            }
            let now_ms = self.now().as_millisecond();
            self.next_wake_ms.store(now_ms + wait_ms, Ordering::Release);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
                _ = self.wake.notified() => {}
                _ = &mut shutdown => return,
            }
        }
    }

    async fn ms_until_next_timer(&self) -> i64 {
        let now = self.now();
        match self.store.next_timer_due().await {
            Ok(Some(due)) => {
                (due.as_millisecond() - now.as_millisecond()).clamp(0, SCHEDULER_IDLE_MS_MAX)
            }
            Ok(None) => SCHEDULER_IDLE_MS_MAX,
            Err(_) => SCHEDULER_IDLE_MS_MAX,
        }
    }
}

/// Merges `patch` into `target`. Unlike JSON Merge Patch (RFC 7386), `null` is a value here, not
/// a deletion: deleting a key would bring back its default, and `"quiet_hours": null` means "no
/// quiet hours".
fn merge_settings(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(target), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(existing) => merge_settings(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// A listed buyer's band and policy as of `now`, judged from their own record (a list shows no
/// erased buyer's).
fn assess(
    profile: &CustomerProfile,
    chat: Option<&lunas_core::signals::ChatCounts>,
    now: lunas_core::Timestamp,
    base: lunas_core::reliability::BaseRate,
    settings: &lunas_core::Settings,
) -> Assessment {
    lunas_core::customers::judge(Some(&profile.standing()), None, chat, now, base, settings)
}
