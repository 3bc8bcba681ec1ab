//! The store's history as facts for analytics: one compact row per order (when it was placed,
//! how it ended, through which channel, method and band), its lines and its reminders, held in
//! memory and refreshed by the orders that changed. Every metric of `metrics.rs` is a pass over
//! these vectors, so a store of a million orders is answered in milliseconds, not by a million
//! rows read again per page.
//!
//! Definitions (the Analitik page and docs/analytics.md say the same in words):
//! - an order is **paid** when its money arrived before it ended: a transfer or e-wallet order
//!   reached `paid` (and whatever followed), a COD order was delivered (`delivered`,
//!   `completed`); its payment time is when it left `awaiting_payment` (COD: its delivery);
//! - an order is a **hit-and-run** when it was released unpaid by the buyer's doing: its deadline
//!   passed (`expired`, and `paid_needs_refund` — money that came after the deadline), the buyer
//!   cancelled it (a COD order never confirmed counts here), or a COD parcel was refused
//!   (`returned_to_sender` of a COD order); a seller's cancellation is neither paid nor a
//!   hit-and-run;
//! - everything else is still **open** (awaiting payment, a deposit's balance, a COD
//!   confirmation, or a COD parcel on its way).

pub mod conversations;
mod metrics;

pub use metrics::*;

use std::collections::HashMap;

use serde::Serialize;

use crate::reliability::Band;
use crate::{CancelledBy, OrderStatus, PaymentMethod};

/// How an order ended, as analytics counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Paid,
    Released(Release),
    CancelledBySeller,
}

/// Why an order was released unpaid by the buyer's doing (a hit-and-run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The deadline passed.
    Expired,
    /// The buyer cancelled it, or never confirmed a COD order.
    CancelledByBuyer,
    /// A COD parcel refused at the door (or undeliverable).
    CodRefused,
    /// Money came after the deadline and waits to be refunded.
    PaidLate,
}

impl Outcome {
    /// The outcome of an order in `status`; `cancelled_by` for a cancelled one.
    pub fn of(
        status: OrderStatus,
        method: PaymentMethod,
        cancelled_by: Option<CancelledBy>,
    ) -> Outcome {
        let cod = method == PaymentMethod::Cod;
        match status {
            OrderStatus::AwaitingPayment
            | OrderStatus::AwaitingBalance
            | OrderStatus::AwaitingConfirmation
            | OrderStatus::Confirmed => Outcome::Open,
            OrderStatus::Packed | OrderStatus::Shipped if cod => Outcome::Open,
            OrderStatus::Paid
            | OrderStatus::Packed
            | OrderStatus::Shipped
            | OrderStatus::Delivered
            | OrderStatus::Completed => Outcome::Paid,
            OrderStatus::ReturnedToSender if cod => Outcome::Released(Release::CodRefused),
            OrderStatus::ReturnedToSender => Outcome::Paid,
            OrderStatus::Expired => Outcome::Released(Release::Expired),
            OrderStatus::PaidNeedsRefund => Outcome::Released(Release::PaidLate),
            OrderStatus::Cancelled => match cancelled_by {
                Some(CancelledBy::Seller) => Outcome::CancelledBySeller,
                Some(CancelledBy::Buyer) | None => Outcome::Released(Release::CancelledByBuyer),
            },
        }
    }
}

/// Where an order came from, read from who placed it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Staff in the dashboard (by hand or a pasted format order).
    Dashboard,
    /// The buyer, from the shop's catalogue.
    Shop,
    /// A buyer claiming a unit offered to the waitlist.
    Waitlist,
    /// Another system through the API.
    Api,
    /// Imported from Shopee Seller Centre.
    Shopee,
    /// Imported from TikTok Shop or Tokopedia.
    Tiktok,
    /// Imported from a CSV file of lunas's own columns.
    Imported,
    /// Anything else (the demo, tools).
    Other,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Source::Dashboard,
        Source::Shop,
        Source::Waitlist,
        Source::Api,
        Source::Shopee,
        Source::Tiktok,
        Source::Imported,
        Source::Other,
    ];

    /// The source of an order placed by `actor` (the placement event's actor).
    pub fn of_actor(actor: &str) -> Source {
        match actor {
            "shop" => Source::Shop,
            "waitlist" => Source::Waitlist,
            "import:shopee" => Source::Shopee,
            "import:tiktok" => Source::Tiktok,
            "import:csv" => Source::Imported,
            a if a.starts_with("api:") => Source::Api,
            a if a.starts_with("staff:") => Source::Dashboard,
            _ => Source::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dashboard => "dashboard",
            Source::Shop => "shop",
            Source::Waitlist => "waitlist",
            Source::Api => "api",
            Source::Shopee => "shopee",
            Source::Tiktok => "tiktok",
            Source::Imported => "imported",
            Source::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One order as it was read from storage, before it joins the facts.
#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: i64,
    pub customer_id: i64,
    pub status: OrderStatus,
    pub method: PaymentMethod,
    pub cancelled_by: Option<CancelledBy>,
    pub band: Option<Band>,
    pub source: Source,
    /// Milliseconds since the epoch.
    pub placed_at: i64,
    /// When it left `awaiting_payment` (paid or released).
    pub ended_at: Option<i64>,
    pub delivered_at: Option<i64>,
    /// Its payment deadline (none for COD).
    pub pay_by: Option<i64>,
    pub total: i64,
    /// What the courier charged to ship it and to bring it back (a refused COD parcel's cost).
    pub ship_cost: i64,
    pub return_cost: i64,
}

/// One order line.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub order_id: i64,
    pub sku: String,
    pub qty: i64,
    pub amount: i64,
}

/// An order as analytics keeps it.
#[derive(Debug, Clone, Copy)]
pub struct OrderFact {
    pub id: i64,
    /// The buyer's dense index in these facts.
    pub buyer: u32,
    pub outcome: Outcome,
    pub method: PaymentMethod,
    pub band: Option<Band>,
    pub source: Source,
    pub placed_at: i64,
    /// When it was paid (a COD order: delivered) or released; `None` while open.
    pub ended_at: Option<i64>,
    /// Its payment deadline (none for COD).
    pub pay_by: Option<i64>,
    /// The local day of its placement, days since 1970-01-01 in the store's time zone.
    pub day: i32,
    /// The local day of its payment, when it was paid.
    pub paid_day: Option<i32>,
    pub total: i64,
    pub units: i64,
    /// Shipping there and back of a refused COD parcel.
    pub cod_cost: i64,
}

/// A line: which product, how many, for how much (`sku` indexes `Facts::skus`).
#[derive(Debug, Clone, Copy)]
pub struct ItemFact {
    pub order_id: i64,
    pub sku: u32,
    pub qty: i64,
    pub amount: i64,
}

/// A reminder written for an order: its step (1 for the first), when, and whether it went out
/// (a reminder in the manual WhatsApp queue, or skipped, did not).
#[derive(Debug, Clone, Copy)]
pub struct ReminderFact {
    pub order_id: i64,
    pub step: u8,
    pub at: i64,
    pub sent: bool,
}

/// A reminder as read from storage: its order, when, and whether it went out.
pub type ReminderRow = (i64, i64, bool);

/// The store's orders as analytics reads them, ordered by id.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    orders: Vec<OrderFact>,
    items: Vec<ItemFact>,
    reminders: Vec<ReminderFact>,
    skus: Vec<String>,
    sku_index: HashMap<String, u32>,
    buyers: HashMap<i64, u32>,
    /// The storage ids of the buyers, by dense index.
    buyer_ids: Vec<i64>,
}

/// The local day (days since 1970-01-01) of an instant in `tz`.
pub fn local_day(millis: i64, tz: &jiff::tz::TimeZone) -> i32 {
    let offset = jiff::Timestamp::from_millisecond(millis)
        .map(|t| tz.to_offset(t).seconds() as i64)
        .unwrap_or(0);
    (millis / 1000 + offset).div_euclid(86_400) as i32
}

/// The civil date of a local day number.
pub fn day_date(day: i32) -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(day)))
        .unwrap_or(jiff::civil::date(1970, 1, 1))
}

/// The local day number of a civil date.
pub fn date_day(date: jiff::civil::Date) -> i32 {
    date.since(jiff::civil::date(1970, 1, 1))
        .map(|span| span.get_days())
        .unwrap_or(0)
}

impl Facts {
    pub fn orders(&self) -> &[OrderFact] {
        &self.orders
    }

    pub fn items(&self) -> &[ItemFact] {
        &self.items
    }

    pub fn reminders(&self) -> &[ReminderFact] {
        &self.reminders
    }

    pub fn sku_name(&self, index: u32) -> &str {
        &self.skus[index as usize]
    }

    pub fn sku_index(&self, sku: &str) -> Option<u32> {
        self.sku_index.get(sku).copied()
    }

    pub fn buyer_count(&self) -> usize {
        self.buyer_ids.len()
    }

    /// The storage id of the buyer at a dense index.
    pub fn buyer_id(&self, buyer: u32) -> i64 {
        self.buyer_ids[buyer as usize]
    }

    /// The position of an order by id.
    pub fn position(&self, id: i64) -> Option<usize> {
        self.orders.binary_search_by_key(&id, |o| o.id).ok()
    }

    /// The ids of the orders still open: their facts may change without a new event.
    pub fn open_ids(&self) -> Vec<i64> {
        self.orders
            .iter()
            .filter(|o| o.outcome == Outcome::Open)
            .map(|o| o.id)
            .collect()
    }

    /// Puts orders (new or changed) with their lines and reminders into the facts, replacing
    /// whatever was known of them.
    pub fn upsert(
        &mut self,
        rows: Vec<OrderRow>,
        items: Vec<ItemRow>,
        reminders: Vec<ReminderRow>,
        tz: &jiff::tz::TimeZone,
    ) {
        if rows.is_empty() {
            return;
        }
        let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let appending = self
            .orders
            .last()
            .is_none_or(|last| rows.iter().all(|r| r.id > last.id));
        let mut units: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
        if !appending {
            self.items.retain(|i| !ids.contains(&i.order_id));
            self.reminders.retain(|r| !ids.contains(&r.order_id));
        }
        let mut items = items;
        items.sort_by_key(|i| i.order_id);
        for item in items {
            *units.entry(item.order_id).or_default() += item.qty;
            let sku = match self.sku_index.get(&item.sku) {
                Some(&i) => i,
                None => {
                    let i = self.skus.len() as u32;
                    self.sku_index.insert(item.sku.clone(), i);
                    self.skus.push(item.sku);
                    i
                }
            };
            self.items.push(ItemFact {
                order_id: item.order_id,
                sku,
                qty: item.qty,
                amount: item.amount,
            });
        }
        let mut reminders = reminders;
        reminders.sort_unstable();
        let mut step = 0u8;
        let mut last = None;
        for (order_id, at, sent) in reminders {
            step = if last == Some(order_id) {
                step.saturating_add(1)
            } else {
                1
            };
            last = Some(order_id);
            self.reminders.push(ReminderFact {
                order_id,
                step,
                at,
                sent,
            });
        }
        for row in rows {
            let next = self.buyer_ids.len() as u32;
            let buyer = *self.buyers.entry(row.customer_id).or_insert(next);
            if buyer == next {
                self.buyer_ids.push(row.customer_id);
            }
            let outcome = Outcome::of(row.status, row.method, row.cancelled_by);
            let ended_at = match (outcome, row.method) {
                (Outcome::Open, _) => None,
                (Outcome::Paid, PaymentMethod::Cod) => row.delivered_at.or(row.ended_at),
                _ => row.ended_at.or(row.delivered_at),
            };
            let paid_day = match (outcome, ended_at) {
                (Outcome::Paid, Some(at)) => Some(local_day(at, tz)),
                _ => None,
            };
            let cod_cost = match outcome {
                Outcome::Released(Release::CodRefused) => row.ship_cost + row.return_cost,
                _ => 0,
            };
            let fact = OrderFact {
                id: row.id,
                buyer,
                outcome,
                method: row.method,
                band: row.band,
                source: row.source,
                placed_at: row.placed_at,
                ended_at,
                pay_by: row.pay_by,
                day: local_day(row.placed_at, tz),
                paid_day,
                total: row.total,
                units: units.get(&row.id).copied().unwrap_or(0),
                cod_cost,
            };
            match self.orders.binary_search_by_key(&row.id, |o| o.id) {
                Ok(at) => self.orders[at] = fact,
                Err(at) if at == self.orders.len() => self.orders.push(fact),
                Err(at) => self.orders.insert(at, fact),
            }
        }
        if !appending {
            self.items.sort_by_key(|i| i.order_id);
            self.reminders.sort_by_key(|r| (r.order_id, r.step));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_outcome() {
        use OrderStatus as S;
        let cases = [
            (
                S::AwaitingPayment,
                PaymentMethod::BankTransfer,
                None,
                Outcome::Open,
            ),
            (S::Paid, PaymentMethod::BankTransfer, None, Outcome::Paid),
            (S::Shipped, PaymentMethod::BankTransfer, None, Outcome::Paid),
            (S::Shipped, PaymentMethod::Cod, None, Outcome::Open),
            (S::Delivered, PaymentMethod::Cod, None, Outcome::Paid),
            (
                S::ReturnedToSender,
                PaymentMethod::Cod,
                None,
                Outcome::Released(Release::CodRefused),
            ),
            (
                S::ReturnedToSender,
                PaymentMethod::Qris,
                None,
                Outcome::Paid,
            ),
            (
                S::Expired,
                PaymentMethod::Ewallet,
                None,
                Outcome::Released(Release::Expired),
            ),
            (
                S::PaidNeedsRefund,
                PaymentMethod::BankTransfer,
                None,
                Outcome::Released(Release::PaidLate),
            ),
            (
                S::Cancelled,
                PaymentMethod::Cod,
                Some(CancelledBy::Buyer),
                Outcome::Released(Release::CancelledByBuyer),
            ),
            (
                S::Cancelled,
                PaymentMethod::BankTransfer,
                Some(CancelledBy::Seller),
                Outcome::CancelledBySeller,
            ),
        ];
        for (status, method, by, outcome) in cases {
            assert_eq!(
                Outcome::of(status, method, by),
                outcome,
                "{status:?} {method:?}"
            );
        }
    }

    /// What a million orders cost in memory (docs/analytics.md says it).
    #[test]
    fn a_fact_stays_small() {
        assert!(
            std::mem::size_of::<OrderFact>() <= 112,
            "{}",
            std::mem::size_of::<OrderFact>()
        );
        assert!(std::mem::size_of::<ItemFact>() <= 32);
        assert!(std::mem::size_of::<ReminderFact>() <= 24);
    }

    #[test]
    fn sources_are_read_from_the_placing_actor() {
        assert_eq!(Source::of_actor("shop"), Source::Shop);
        assert_eq!(Source::of_actor("api:kasir"), Source::Api);
        assert_eq!(Source::of_actor("staff:sari@toko.id"), Source::Dashboard);
        assert_eq!(Source::of_actor("import:shopee"), Source::Shopee);
        assert_eq!(Source::of_actor("system"), Source::Other);
        for source in Source::ALL {
            assert_eq!(Source::parse(source.as_str()), Some(source));
        }
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let jakarta = jiff::tz::TimeZone::get("Asia/Jakarta").unwrap();
        // 2026-12-05 18:00 UTC is 2026-12-06 01:00 in Jakarta.
        let at = jiff::Timestamp::from_second(1_796_493_600).unwrap();
        assert_eq!(at.to_string(), "2026-12-05T18:00:00Z");
        let day = local_day(at.as_millisecond(), &jakarta);
        assert_eq!(day_date(day), jiff::civil::date(2026, 12, 6));
        assert_eq!(date_day(jiff::civil::date(2026, 12, 6)), day);
        assert_eq!(
            day_date(local_day(at.as_millisecond(), &jiff::tz::TimeZone::UTC)),
            jiff::civil::date(2026, 12, 5)
        );
    }
}
