//! Analytics over the store's own history: the facts read once and kept current by the orders
//! that changed since (`Store::analytics_changed`), the summary of a period computed off the
//! async threads, and the customer-base models (BG/NBD and Gamma-Gamma) fitted to the store's
//! paid orders, refitted at most once an hour.

use std::sync::{Arc, RwLock};

use lunas_core::analytics::{Facts, Filter, Outcome, Summary};
use lunas_core::clv::{BgNbd, GammaGamma, Purchase, Summary as BuyerHistory, summarise};

use crate::{Engine, Error};

/// How long a fit of the customer-base models is used before it is made again.
const FIT_FOR_MS: i64 = 60 * 60 * 1000;
/// Buyers with a repeat purchase a fit needs before its answers mean anything.
pub const FIT_REPEAT_BUYERS_MIN: usize = 20;
/// The horizon of a buyer's expected purchases and value, in weeks (a year).
pub const HORIZON_WEEKS: f64 = 52.0;

/// The facts and what they are current to.
#[derive(Default)]
pub(crate) struct Cache {
    facts: Arc<RwLock<Loaded>>,
    /// Serialises refreshes, so two pages opened at once read the changes once.
    refreshing: tokio::sync::Mutex<()>,
    fit: RwLock<Option<(Arc<CustomerBase>, i64)>>,
}

#[derive(Default)]
struct Loaded {
    facts: Facts,
    cursor: i64,
    /// The time zone the local days were computed in; another one reads everything again.
    time_zone: Option<String>,
}

/// The customer-base models fitted to the store's paid orders, and each buyer's history.
#[derive(Debug, Clone)]
pub struct CustomerBase {
    pub bgnbd: BgNbd,
    pub log_likelihood: f64,
    pub gamma_gamma: Option<GammaGamma>,
    /// The buyers with a paid order: storage id and history, in weeks up to the fit's day; by id.
    pub buyers: Vec<(i64, BuyerHistory)>,
    pub repeat_buyers: usize,
    pub fitted_on: jiff::civil::Date,
}

/// What the models say of one buyer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuyerOutlook {
    /// The chance the buyer still buys, 0 to 1.
    pub p_alive: f64,
    /// Purchases expected in the next year.
    pub expected_purchases: f64,
    /// What one purchase of theirs is expected to be worth, in rupiah.
    pub expected_spend: Option<f64>,
    /// Expected purchases × expected spend: the next year's value, in rupiah.
    pub expected_value: Option<f64>,
    /// Purchases on distinct days after the first, and the average paid.
    pub repeat_purchases: u32,
    pub average_spend: f64,
    /// Weeks since the last purchase.
    pub weeks_since_last: f64,
}

impl CustomerBase {
    pub fn outlook(&self, history: &BuyerHistory) -> BuyerOutlook {
        let p_alive = self.bgnbd.p_alive(history.x, history.t_x, history.t);
        let expected_purchases =
            self.bgnbd
                .expected_purchases(HORIZON_WEEKS, history.x, history.t_x, history.t);
        let expected_spend = self
            .gamma_gamma
            .map(|gg| gg.expected_spend(history.x, history.monetary));
        BuyerOutlook {
            p_alive,
            expected_purchases,
            expected_spend,
            expected_value: expected_spend.map(|s| s * expected_purchases),
            repeat_purchases: history.x as u32,
            average_spend: history.monetary,
            weeks_since_last: (history.t - history.t_x).max(0.0),
        }
    }

    /// A buyer's outlook, if they have a paid order.
    pub fn of(&self, customer_id: i64) -> Option<BuyerOutlook> {
        self.buyers
            .binary_search_by_key(&customer_id, |(id, _)| *id)
            .ok()
            .map(|at| self.outlook(&self.buyers[at].1))
    }

    /// Valuable buyers slipping away: repeat buyers whose chance of still buying fell below
    /// `p_alive_below`, most spent first.
    pub fn fading(&self, p_alive_below: f64, limit: usize) -> Vec<(i64, BuyerOutlook)> {
        let mut fading: Vec<(i64, BuyerOutlook, f64)> = self
            .buyers
            .iter()
            .filter(|(_, h)| h.x >= 1.0)
            .map(|(id, h)| (*id, self.outlook(h), h.monetary * (h.x + 1.0)))
            .filter(|(_, o, _)| o.p_alive < p_alive_below)
            .collect();
        fading.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        fading
            .into_iter()
            .take(limit)
            .map(|(id, o, _)| (id, o))
            .collect()
    }
}

impl Engine {
    /// The facts, brought up to date with the orders that changed since the last read.
    async fn fresh_facts(&self) -> Result<Arc<RwLock<Loaded>>, Error> {
        let cache = &self.analytics;
        let _one_at_a_time = cache.refreshing.lock().await;
        let settings = self.settings();
        let tz = settings.time_zone();
        let (cursor, open, known_zone) = {
            let loaded = cache.facts.read().expect("analytics lock");
            (
                loaded.cursor,
                loaded.facts.open_ids(),
                loaded.time_zone.clone(),
            )
        };
        let (read, reset) = if known_zone.as_deref() == Some(settings.timezone.as_str()) {
            (self.store.analytics_changed(cursor, open).await?, false)
        } else {
            (self.store.analytics_all().await?, true)
        };
        let facts = cache.facts.clone();
        let zone = settings.timezone.clone();
        tokio::task::spawn_blocking(move || {
            let mut loaded = facts.write().expect("analytics lock");
            if reset {
                *loaded = Loaded::default();
                loaded.time_zone = Some(zone);
            }
            loaded
                .facts
                .upsert(read.rows, read.items, read.reminders, &tz);
            loaded.cursor = read.cursor;
        })
        .await
        .map_err(|e| joined("analytics refresh", e))?;
        Ok(cache.facts.clone())
    }

    /// The summary of the orders `filter` selects, over the store's whole history.
    pub async fn analytics_summary(&self, filter: Filter) -> Result<Summary, Error> {
        let facts = self.fresh_facts().await?;
        tokio::task::spawn_blocking(move || {
            facts.read().expect("analytics lock").facts.summary(&filter)
        })
        .await
        .map_err(|e| joined("analytics summary", e))
    }

    /// The conversations of the local days `from..=to`: who asked and ordered, how long they
    /// waited in business hours, what the FAQ bot did.
    pub async fn conversation_metrics(
        &self,
        from: i32,
        to: i32,
    ) -> Result<lunas_core::analytics::conversations::ConversationMetrics, Error> {
        let settings = self.settings();
        let tz = settings.time_zone();
        let start = |day: i32| -> i64 {
            lunas_core::analytics::day_date(day)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(0)
        };
        let (inbound, outs, orders) = self
            .store
            .conversation_facts(start(from), start(to + 1))
            .await?;
        Ok(lunas_core::analytics::conversations::conversation_metrics(
            &inbound,
            &outs,
            &orders,
            &settings.business_hours,
            &tz,
        ))
    }

    /// The period's finished orders replayed under the store's settings with `policy` (a partial
    /// settings document: payment windows, reminders, quiet hours, the bands' policies) merged
    /// in, beside what happened. The merged settings are checked whole, as saving would.
    pub async fn simulate(
        &self,
        policy: &serde_json::Value,
        filter: Filter,
    ) -> Result<lunas_core::simulate::Simulation, Error> {
        let settings = self.merged_settings(policy)?;
        settings.validate()?;
        let facts = self.fresh_facts().await?;
        tokio::task::spawn_blocking(move || {
            let loaded = facts.read().expect("analytics lock");
            lunas_core::simulate::simulate(&loaded.facts, &filter, &settings)
        })
        .await
        .map_err(|e| joined("simulation", e))
    }

    /// Today's date in the store's time zone.
    pub fn local_today(&self) -> jiff::civil::Date {
        self.now().to_zoned(self.settings().time_zone()).date()
    }

    /// The customer-base models fitted to the store's paid orders (made again once an hour),
    /// or `None` while fewer than `FIT_REPEAT_BUYERS_MIN` buyers have bought twice.
    pub async fn customer_base(&self) -> Result<Option<Arc<CustomerBase>>, Error> {
        let now = self.now().as_millisecond();
        if let Some((fit, at)) = self.analytics.fit.read().expect("fit lock").as_ref()
            && now - at < FIT_FOR_MS
        {
            return Ok(Some(fit.clone()));
        }
        let facts = self.fresh_facts().await?;
        let today = self.local_today();
        let fit = tokio::task::spawn_blocking(move || {
            let loaded = facts.read().expect("analytics lock");
            fit(&loaded.facts, today)
        })
        .await
        .map_err(|e| joined("customer-base fit", e))?;
        let Some(fit) = fit else {
            return Ok(None);
        };
        let fit = Arc::new(fit);
        *self.analytics.fit.write().expect("fit lock") = Some((fit.clone(), now));
        Ok(Some(fit))
    }

    /// The names and numbers of buyers by storage id (erased buyers left out).
    pub async fn buyer_names(
        &self,
        ids: Vec<i64>,
    ) -> Result<Vec<(i64, String, lunas_core::Phone)>, Error> {
        Ok(self.store.buyer_names(ids).await?)
    }

    /// Forgets the fit, so the next question fits again (after an import).
    pub fn forget_customer_base(&self) {
        *self.analytics.fit.write().expect("fit lock") = None;
    }
}

fn joined(what: &str, e: tokio::task::JoinError) -> Error {
    Error::Store(lunas_store::StoreError::Internal(format!("{what}: {e}")))
}

/// Fits BG/NBD and Gamma-Gamma to the paid orders in `facts`, weeks as the unit, up to `today`.
pub fn fit(facts: &Facts, today: jiff::civil::Date) -> Option<CustomerBase> {
    let purchases: Vec<Purchase> = facts
        .orders()
        .iter()
        .filter(|o| o.outcome == Outcome::Paid)
        .filter_map(|o| {
            Some(Purchase {
                customer: facts.buyer_id(o.buyer).to_string(),
                date: lunas_core::analytics::day_date(o.paid_day?),
                amount: o.total as f64,
            })
        })
        .filter(|p| p.date <= today)
        .collect();
    let mut buyers: Vec<(i64, BuyerHistory)> = summarise(&purchases, today)
        .into_iter()
        .filter_map(|(id, s)| Some((id.parse().ok()?, s)))
        .collect();
    // By id, so that a buyer's page finds theirs by binary search.
    buyers.sort_unstable_by_key(|(id, _)| *id);
    let histories: Vec<BuyerHistory> = buyers.iter().map(|(_, s)| *s).collect();
    let repeat_buyers = histories.iter().filter(|s| s.x > 0.0).count();
    if repeat_buyers < FIT_REPEAT_BUYERS_MIN {
        return None;
    }
    let (bgnbd, log_likelihood) = BgNbd::fit(&histories);
    let gamma_gamma = Some(GammaGamma::fit(&histories).0);
    Some(CustomerBase {
        bgnbd,
        log_likelihood,
        gamma_gamma,
        buyers,
        repeat_buyers,
        fitted_on: today,
    })
}
