//! Buyer reliability: the record lunas keeps of every buyer (by phone number), the score that
//! predicts whether their next order will be paid, the band it puts them in, and the policy each
//! band applies to a new order.
//!
//! **Score.** The probability that the buyer's next order is paid, as the mean of a Beta posterior:
//! the prior is the store's own base rate `p0` with the weight of `m` orders (`prior_strength`),
//! and each of the buyer's finished orders counts as a paid or unpaid observation weighted by its
//! age, `0.5^(age / half_life)`:
//!
//! ```text
//! score = (m·p0 + Σ w_paid) / (m + Σ w_paid + Σ w_unpaid)
//! ```
//!
//! A new buyer starts at the store's average; one bad order moves a long-standing good buyer only a
//! little; recent behaviour weighs more than old. Orders the seller cancelled are not held against
//! the buyer; orders still open are not counted yet.
//!
//! **Bands.** A band pinned by staff wins. Otherwise `watch` when the buyer's most recent finished
//! orders were unpaid `watch_after_unpaid_in_a_row` times in a row (two by default) or the score is
//! below `watch_below_score_percent`; `trusted` when the score is at least
//! `trusted_min_score_percent` with at least `trusted_min_paid` paid orders; else `normal`.
//! `blocked` is only ever pinned.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::messages::Language;
use crate::{PayWindow, PaymentMethod};

/// The window the explanation counts orders in.
pub const EXPLANATION_DAYS: i64 = 90;
/// How many of a buyer's most recent finished orders the score reads; older ones weigh little.
pub const HISTORY_LEN: usize = 50;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Trusted,
    Normal,
    Watch,
    Blocked,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Trusted, Band::Normal, Band::Watch, Band::Blocked];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Trusted => "trusted",
            Band::Normal => "normal",
            Band::Watch => "watch",
            Band::Blocked => "blocked",
        }
    }

    pub fn parse(raw: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|band| band.as_str() == raw)
    }
}

/// How a finished order ended, as far as the buyer's reliability goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    /// Expired unpaid (the hit-and-run), cancelled by the buyer, or refused at the door.
    Unpaid,
}

/// One of the buyer's finished orders: when it ended and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastOrder {
    pub ended_at: Timestamp,
    pub outcome: Outcome,
}

/// What lunas counts for every buyer, updated in the transaction of each change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub orders_placed: i64,
    pub orders_paid: i64,
    /// Expired unpaid: the hit-and-run.
    pub orders_expired: i64,
    pub orders_cancelled_by_buyer: i64,
    /// Not held against the buyer.
    pub orders_cancelled_by_seller: i64,
    pub cod_refused: i64,
    pub returns: i64,
    /// Money paid on the buyer's orders, in rupiah.
    pub amount_paid: i64,
    pub first_order_at: Option<Timestamp>,
    pub last_order_at: Option<Timestamp>,
}

impl Record {
    /// Finished orders that count for the store's base rate: (paid, unpaid).
    pub fn outcomes(&self) -> (i64, i64) {
        (
            self.orders_paid,
            self.orders_expired + self.orders_cancelled_by_buyer + self.cod_refused,
        )
    }
}

/// The store's own record over all buyers: the prior of every score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BaseRate {
    pub paid: i64,
    pub unpaid: i64,
}

impl BaseRate {
    /// The store's paid share, drawn towards `default_percent` with the weight of `weight` orders:
    /// a new store starts at the default, and its own history takes over as orders accumulate
    /// (without this, one prank order in a new store would make every new buyer look risky).
    pub fn mean(self, default_percent: u8, weight: u32) -> f64 {
        let weight = f64::from(weight);
        (self.paid as f64 + weight * f64::from(default_percent) / 100.0)
            / ((self.paid + self.unpaid) as f64 + weight)
    }
}

/// The score and what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// The probability that the next order is paid.
    pub probability: f64,
    pub prior_mean: f64,
    pub prior_strength: f64,
    pub weighted_paid: f64,
    pub weighted_unpaid: f64,
}

/// The Beta posterior mean: `(m·p0 + paid) / (m + paid + unpaid)`.
pub fn posterior_mean(prior_mean: f64, prior_strength: f64, paid: f64, unpaid: f64) -> f64 {
    (prior_strength * prior_mean + paid) / (prior_strength + paid + unpaid)
}

/// The weight of an order that ended `age` ago: 1 now, 1/2 after one half-life.
pub fn weight(age: SignedDuration, half_life_days: u32) -> f64 {
    let age_days = age.as_secs_f64().max(0.0) / 86_400.0;
    0.5f64.powf(age_days / f64::from(half_life_days.max(1)))
}

/// Scores a buyer from their finished orders (any order), at `now`.
pub fn score(history: &[PastOrder], now: Timestamp, base: BaseRate, risk: &Risk) -> Score {
    let (mut paid, mut unpaid) = (0.0, 0.0);
    for order in history {
        let w = weight(now.duration_since(order.ended_at), risk.half_life_days);
        match order.outcome {
            Outcome::Paid => paid += w,
            Outcome::Unpaid => unpaid += w,
        }
    }
    let prior_mean = base.mean(risk.base_rate_default_percent, risk.base_rate_weight);
    let prior_strength = f64::from(risk.prior_strength);
    Score {
        probability: posterior_mean(prior_mean, prior_strength, paid, unpaid),
        prior_mean,
        prior_strength,
        weighted_paid: paid,
        weighted_unpaid: unpaid,
    }
}

/// Why a buyer is in their band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BandReason {
    /// Staff pinned the band, with this reason.
    Pinned { reason: String },
    /// The most recent finished orders were all unpaid, this many in a row.
    UnpaidInARow { count: usize },
    /// Never paid, and asked a lot, on many days or haggled often in chat (when the risk policy
    /// reads it).
    TireKicker { messages: usize, haggles: usize },
    /// The score is below the `watch` threshold.
    LowScore,
    /// The score and the paid orders reach the `trusted` thresholds.
    HighScore,
    /// None of the above.
    Usual,
}

/// A staff decision about one buyer's band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub band: Band,
    pub reason: String,
}

/// A buyer's band, why, and the score, with a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub band: Band,
    pub reason: BandReason,
    pub score: Score,
    pub explanation: String,
}

/// Places a buyer in a band. `history` is the buyer's finished orders, most recent first.
pub fn assess(
    pin: Option<&Pin>,
    history: &[PastOrder],
    chat: Option<&crate::signals::ChatCounts>,
    now: Timestamp,
    base: BaseRate,
    risk: &Risk,
    language: Language,
) -> Assessment {
    let score = score(history, now, base, risk);
    let unpaid_in_a_row = history
        .iter()
        .take_while(|order| order.outcome == Outcome::Unpaid)
        .count();
    let paid = history
        .iter()
        .filter(|order| order.outcome == Outcome::Paid)
        .count();
    let (band, reason) = if let Some(pin) = pin {
        (
            pin.band,
            BandReason::Pinned {
                reason: pin.reason.clone(),
            },
        )
    } else if risk.watch_after_unpaid_in_a_row > 0
        && unpaid_in_a_row >= risk.watch_after_unpaid_in_a_row as usize
    {
        (
            Band::Watch,
            BandReason::UnpaidInARow {
                count: unpaid_in_a_row,
            },
        )
    } else if let Some(chat) = chat.filter(|c| risk.watch_tire_kickers && c.tire_kicker(paid)) {
        (
            Band::Watch,
            BandReason::TireKicker {
                messages: chat.messages,
                haggles: chat.haggles,
            },
        )
    } else if score.probability * 100.0 < f64::from(risk.watch_below_score_percent) {
        (Band::Watch, BandReason::LowScore)
    } else if score.probability * 100.0 >= f64::from(risk.trusted_min_score_percent)
        && paid >= risk.trusted_min_paid as usize
    {
        (Band::Trusted, BandReason::HighScore)
    } else {
        (Band::Normal, BandReason::Usual)
    };
    let explanation = explain(&reason, history, now, language);
    Assessment {
        band,
        reason,
        score,
        explanation,
    }
}

/// One sentence, in the store's language, on why the buyer is where they are.
pub fn explain(
    reason: &BandReason,
    history: &[PastOrder],
    now: Timestamp,
    language: Language,
) -> String {
    let english = language == Language::English;
    match reason {
        BandReason::Pinned { reason } => {
            if english {
                format!("Set by staff: {reason}")
            } else {
                format!("Ditetapkan oleh staf: {reason}")
            }
        }
        BandReason::UnpaidInARow { count } => {
            if english {
                format!("The last {count} orders in a row were not paid")
            } else {
                format!("{count} pesanan terakhir berturut-turut tidak dibayar")
            }
        }
        BandReason::TireKicker { messages, haggles } => {
            if english {
                format!("Asks a lot and never paid: {messages} messages, {haggles} haggles")
            } else {
                format!(
                    "Sering bertanya tanpa pernah membayar: {messages} pesan, {haggles} kali menawar"
                )
            }
        }
        _ => {
            let since = now - SignedDuration::from_hours(24 * EXPLANATION_DAYS);
            let recent: Vec<_> = history.iter().filter(|o| o.ended_at >= since).collect();
            let unpaid = recent
                .iter()
                .filter(|o| o.outcome == Outcome::Unpaid)
                .count();
            let total = recent.len();
            match (english, total, history.is_empty()) {
                (true, _, true) => "New buyer: no finished orders yet".to_owned(),
                (false, _, true) => "Pembeli baru: belum ada pesanan yang selesai".to_owned(),
                (true, 0, false) => {
                    format!("No finished orders in the last {EXPLANATION_DAYS} days")
                }
                (false, 0, false) => {
                    format!("Tidak ada pesanan selesai dalam {EXPLANATION_DAYS} hari terakhir")
                }
                (true, _, _) if unpaid == 0 => {
                    format!("All {total} orders of the last {EXPLANATION_DAYS} days were paid")
                }
                (false, _, _) if unpaid == 0 => {
                    format!(
                        "{total} pesanan dalam {EXPLANATION_DAYS} hari terakhir, semuanya dibayar"
                    )
                }
                (true, _, _) => format!(
                    "{unpaid} of the last {total} orders were not paid within {EXPLANATION_DAYS} days"
                ),
                (false, _, _) => format!(
                    "{unpaid} dari {total} pesanan terakhir tidak dibayar dalam {EXPLANATION_DAYS} hari"
                ),
            }
        }
    }
}

/// What a band does to a new order. The default restricts nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Refuse the order (`403 customer_blocked`).
    pub refuse: bool,
    /// The payment methods the buyer may choose; `null` for all.
    pub allowed_methods: Option<Vec<PaymentMethod>>,
    /// The longest payment window the buyer gets (shorter than the store's usual one).
    pub pay_within_max: Option<PayWindow>,
    /// The most units one order may hold.
    pub max_units: Option<i64>,
    /// A deposit, in percent of the total (0–100; 0 or `null` for none), due by the payment
    /// deadline; the rest is then due within `risk.balance_window`. Not asked of COD orders (the
    /// courier collects).
    pub deposit_percent: Option<u8>,
}

/// The policy of each band.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policies {
    pub trusted: Policy,
    pub normal: Policy,
    pub watch: Policy,
    pub blocked: Policy,
}

impl Default for Policies {
    /// `watch`: no COD (the parcel a prankster refuses at the door costs the seller the postage
    /// twice), a payment window of at most two hours, at most five units; `blocked`: refused.
    fn default() -> Self {
        Policies {
            trusted: Policy::default(),
            normal: Policy::default(),
            watch: Policy {
                refuse: false,
                allowed_methods: Some(vec![
                    PaymentMethod::BankTransfer,
                    PaymentMethod::VirtualAccount,
                    PaymentMethod::Ewallet,
                    PaymentMethod::Qris,
                ]),
                pay_within_max: Some(PayWindow::from_seconds(2 * 3600).expect("2 h is a window")),
                max_units: Some(5),
                deposit_percent: Some(50),
            },
            blocked: Policy {
                refuse: true,
                ..Policy::default()
            },
        }
    }
}

impl Policies {
    pub fn for_band(&self, band: Band) -> &Policy {
        match band {
            Band::Trusted => &self.trusted,
            Band::Normal => &self.normal,
            Band::Watch => &self.watch,
            Band::Blocked => &self.blocked,
        }
    }
}

/// The store's risk settings: how the score is computed and what each band does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Risk {
    /// Days after which an order counts half as much in the score.
    pub half_life_days: u32,
    /// How many orders' worth of weight the store's base rate has in a buyer's score.
    pub prior_strength: u32,
    /// The paid share a store is assumed to have before its own orders say otherwise…
    pub base_rate_default_percent: u8,
    /// …and how many orders' worth that assumption weighs against the store's own history.
    pub base_rate_weight: u32,
    pub trusted_min_score_percent: u8,
    pub trusted_min_paid: u32,
    pub watch_below_score_percent: u8,
    /// Unpaid finished orders in a row that put a buyer in `watch` (0: never by this rule).
    pub watch_after_unpaid_in_a_row: u32,
    /// Whether a tire kicker — never paid, and asked a lot (15 messages), on many days (3) or
    /// haggled often (3 times) in chat — is in `watch`. Off by default.
    pub watch_tire_kickers: bool,
    pub policies: Policies,
    /// How long the buyer has to pay the balance once the deposit is paid.
    pub balance_window: PayWindow,
    /// What happens to a paid deposit when the balance never comes.
    pub forfeited_deposit: ForfeitedDeposit,
}

/// What happens to a paid deposit when the balance deadline passes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForfeitedDeposit {
    /// The seller keeps it (the buyer was told so with the deposit request).
    #[default]
    Keep,
    /// It is to be paid back: the order says `to_refund`.
    Refund,
}

impl ForfeitedDeposit {
    /// As the order records it.
    pub fn outcome(self) -> &'static str {
        match self {
            ForfeitedDeposit::Keep => "kept",
            ForfeitedDeposit::Refund => "to_refund",
        }
    }
}

/// The deposit `percent` of `total` asks for, rounded up to a whole rupiah.
pub fn deposit_amount(total: crate::Money, percent: u8) -> crate::Money {
    let minor = total.minor_units();
    let deposit = ((minor * i64::from(percent) + 99) / 100).max(1);
    crate::Money::from_stored(deposit.min(minor))
}

impl Default for Risk {
    fn default() -> Self {
        Risk {
            half_life_days: 180,
            prior_strength: 4,
            base_rate_default_percent: 80,
            base_rate_weight: 20,
            trusted_min_score_percent: 90,
            trusted_min_paid: 3,
            watch_below_score_percent: 50,
            watch_after_unpaid_in_a_row: 2,
            watch_tire_kickers: false,
            policies: Policies::default(),
            balance_window: PayWindow::from_seconds(3 * 86_400).expect("3 days is a window"),
            forfeited_deposit: ForfeitedDeposit::Keep,
        }
    }
}

impl Risk {
    /// Checks the settings whole; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3650).contains(&self.half_life_days) {
            return Err("risk.half_life_days must be between 1 and 3650".into());
        }
        if !(1..=1000).contains(&self.prior_strength) {
            return Err("risk.prior_strength must be between 1 and 1000".into());
        }
        if self.base_rate_weight > 100_000 {
            return Err("risk.base_rate_weight must be at most 100000".into());
        }
        for (field, percent) in [
            ("base_rate_default_percent", self.base_rate_default_percent),
            ("trusted_min_score_percent", self.trusted_min_score_percent),
            ("watch_below_score_percent", self.watch_below_score_percent),
        ] {
            if percent > 100 {
                return Err(format!("risk.{field} must be between 0 and 100"));
            }
        }
        if self.watch_below_score_percent > self.trusted_min_score_percent {
            return Err(
                "risk.watch_below_score_percent must not be above trusted_min_score_percent".into(),
            );
        }
        for band in Band::ALL {
            let policy = self.policies.for_band(band);
            let field = format!("risk.policies.{}", band.as_str());
            if let Some(methods) = &policy.allowed_methods
                && methods.is_empty()
                && !policy.refuse
            {
                return Err(format!(
                    "{field}.allowed_methods allows no payment method at all; set refuse instead"
                ));
            }
            if let Some(max) = policy.max_units
                && max < 1
            {
                return Err(format!("{field}.max_units must be at least 1"));
            }
            if let Some(percent) = policy.deposit_percent
                && percent > 100
            {
                return Err(format!(
                    "{field}.deposit_percent must be between 0 and 100 (0 or null for none)"
                ));
            }
        }
        Ok(())
    }
}

/// Why a policy refuses an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    /// Deliberately without detail: the caller must not learn what the store holds.
    #[error("this order cannot be placed")]
    Blocked,
    #[error("{} is not available for this order", method.as_str())]
    MethodNotAllowed { method: PaymentMethod },
    #[error("this order may hold at most {max} units")]
    TooManyUnits { max: i64 },
    /// The buyer refused COD parcels at the door as often as the store's rule allows.
    #[error("COD is not available: {refusals} COD parcels were refused in the last {days} days")]
    CodRefusals { refusals: i64, days: u32 },
}

/// Checks a new order against a policy; returns the payment window it gets (`window` shortened
/// to the policy's maximum), or why it is refused.
pub fn apply(
    policy: &Policy,
    method: PaymentMethod,
    units: i64,
    window: Option<PayWindow>,
) -> Result<Option<PayWindow>, PolicyRefusal> {
    if policy.refuse {
        return Err(PolicyRefusal::Blocked);
    }
    if let Some(allowed) = &policy.allowed_methods
        && !allowed.contains(&method)
    {
        return Err(PolicyRefusal::MethodNotAllowed { method });
    }
    if let Some(max) = policy.max_units
        && units > max
    {
        return Err(PolicyRefusal::TooManyUnits { max });
    }
    Ok(match (window, policy.pay_within_max) {
        (Some(window), Some(max)) if max.seconds() < window.seconds() => Some(max),
        (window, _) => window,
    })
}

/// What the order records of the policy that applied to it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPolicy {
    pub band: Band,
    /// The explanation, in the store's language.
    pub reason: String,
    /// The score in percent when the order was placed.
    pub score_percent: u8,
    pub pinned: bool,
    /// The window the order got when the policy shortened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_within: Option<PayWindow>,
    /// The deposit asked, when the policy asks one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub deposit: Option<crate::Money>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days_ago: i64, now: Timestamp) -> Timestamp {
        now - SignedDuration::from_hours(24 * days_ago)
    }

    #[test]
    fn the_posterior_mean_matches_a_hand_computed_table() {
        // (prior mean, prior strength, weighted paid, weighted unpaid) → score, computed by hand:
        // (m·p0 + paid) / (m + paid + unpaid).
        let table: &[(f64, f64, f64, f64, f64)] = &[
            (0.5, 4.0, 0.0, 0.0, 0.5),          // (2 + 0) / 4
            (0.8, 4.0, 0.0, 0.0, 0.8),          // a new buyer gets the store's rate
            (0.8, 4.0, 0.0, 2.0, 3.2 / 6.0),    // two unpaid: 0.5333…
            (0.8, 4.0, 10.0, 1.0, 13.2 / 15.0), // a good buyer's one miss: 0.88
            (0.8, 4.0, 3.0, 0.0, 6.2 / 7.0),    // 0.8857…
            (0.9, 10.0, 1.0, 1.0, 10.0 / 12.0), // 0.8333…
            (0.5, 1.0, 0.0, 5.0, 0.5 / 6.0),    // 0.0833…
            (0.8, 4.0, 0.5, 0.25, 3.7 / 4.75),  // weights below 1 (older orders)
        ];
        for &(p0, m, paid, unpaid, expected) in table {
            let got = posterior_mean(p0, m, paid, unpaid);
            assert!(
                (got - expected).abs() < 1e-12,
                "p0 {p0}, m {m}, paid {paid}, unpaid {unpaid}: {got} != {expected}"
            );
        }
    }

    #[test]
    fn a_new_store_starts_at_the_default_and_its_own_history_takes_over() {
        let mean = |paid, unpaid| BaseRate { paid, unpaid }.mean(80, 20);
        assert!((mean(0, 0) - 0.8).abs() < 1e-12);
        assert!(
            (mean(0, 1) - 16.0 / 21.0).abs() < 1e-12,
            "one prank barely moves it"
        );
        assert!(
            (mean(500, 500) - 516.0 / 1020.0).abs() < 1e-12,
            "a big history decides"
        );
    }

    #[test]
    fn weights_halve_every_half_life() {
        let now: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
        for (days, expected) in [(0, 1.0), (180, 0.5), (360, 0.25), (90, 0.5f64.sqrt())] {
            let w = weight(now.duration_since(at(days, now)), 180);
            assert!((w - expected).abs() < 1e-12, "{days} days: {w}");
        }
    }

    #[test]
    fn two_unpaid_orders_in_a_row_put_a_buyer_in_watch_and_one_miss_does_not_condemn() {
        let now: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
        let risk = Risk::default();
        let base = BaseRate {
            paid: 80,
            unpaid: 20,
        }; // (80 + 20·0.8) / (100 + 20) = 0.8
        let unpaid = |days| PastOrder {
            ended_at: at(days, now),
            outcome: Outcome::Unpaid,
        };
        let paid = |days| PastOrder {
            ended_at: at(days, now),
            outcome: Outcome::Paid,
        };
        let new = assess(None, &[], None, now, base, &risk, Language::Indonesian);
        assert_eq!(
            (new.band, new.reason.clone()),
            (Band::Normal, BandReason::Usual)
        );
        assert!((new.score.probability - 0.8).abs() < 1e-12);
        assert_eq!(
            new.explanation,
            "Pembeli baru: belum ada pesanan yang selesai"
        );

        let prank = assess(
            None,
            &[unpaid(1), unpaid(3)],
            None,
            now,
            base,
            &risk,
            Language::Indonesian,
        );
        assert_eq!(prank.band, Band::Watch);
        assert_eq!(prank.reason, BandReason::UnpaidInARow { count: 2 });
        assert_eq!(
            prank.explanation,
            "2 pesanan terakhir berturut-turut tidak dibayar"
        );

        let mut loyal: Vec<PastOrder> = (2..22).map(paid).collect();
        loyal.insert(0, unpaid(1));
        let loyal = assess(None, &loyal, None, now, base, &risk, Language::Indonesian);
        assert_eq!(loyal.band, Band::Trusted, "{loyal:?}");
        assert_eq!(
            loyal.explanation,
            "1 dari 21 pesanan terakhir tidak dibayar dalam 90 hari"
        );

        let good = assess(
            None,
            &[paid(3), paid(40)],
            None,
            now,
            base,
            &risk,
            Language::Indonesian,
        );
        assert_eq!(
            good.explanation,
            "2 pesanan dalam 90 hari terakhir, semuanya dibayar"
        );

        let pinned = assess(
            Some(&Pin {
                band: Band::Blocked,
                reason: "pesanan palsu".into(),
            }),
            &[],
            None,
            now,
            base,
            &risk,
            Language::English,
        );
        assert_eq!(pinned.band, Band::Blocked);
        assert_eq!(pinned.explanation, "Set by staff: pesanan palsu");

        // A tire kicker is in `watch` only when the policy reads it, and never once they paid.
        let asks = crate::signals::ChatCounts {
            messages: 20,
            days: 4,
            haggles: 5,
        };
        let off = assess(
            None,
            &[],
            Some(&asks),
            now,
            base,
            &risk,
            Language::Indonesian,
        );
        assert_eq!(off.band, Band::Normal);
        let reading = Risk {
            watch_tire_kickers: true,
            ..risk.clone()
        };
        let kicker = assess(
            None,
            &[],
            Some(&asks),
            now,
            base,
            &reading,
            Language::Indonesian,
        );
        assert_eq!(
            (kicker.band, kicker.reason.clone()),
            (
                Band::Watch,
                BandReason::TireKicker {
                    messages: 20,
                    haggles: 5
                }
            )
        );
        assert_eq!(
            kicker.explanation,
            "Sering bertanya tanpa pernah membayar: 20 pesan, 5 kali menawar"
        );
        let buyer = assess(
            None,
            &[paid(3)],
            Some(&asks),
            now,
            base,
            &reading,
            Language::Indonesian,
        );
        assert_ne!(buyer.band, Band::Watch, "they paid once");
    }

    #[test]
    fn policies_refuse_restrict_and_shorten() {
        let policies = Policies::default();
        let day = PayWindow::from_seconds(86_400).unwrap();
        assert_eq!(
            apply(&policies.watch, PaymentMethod::Cod, 1, None),
            Err(PolicyRefusal::MethodNotAllowed {
                method: PaymentMethod::Cod
            })
        );
        assert_eq!(
            apply(&policies.watch, PaymentMethod::BankTransfer, 1, Some(day)),
            Ok(Some(PayWindow::from_seconds(7200).unwrap()))
        );
        assert_eq!(
            apply(&policies.watch, PaymentMethod::Qris, 6, Some(day)),
            Err(PolicyRefusal::TooManyUnits { max: 5 })
        );
        assert_eq!(
            apply(&policies.blocked, PaymentMethod::Qris, 1, Some(day)),
            Err(PolicyRefusal::Blocked)
        );
        assert_eq!(
            apply(&policies.normal, PaymentMethod::Cod, 100, None),
            Ok(None)
        );
    }

    #[test]
    fn settings_that_allow_no_method_or_nonsense_thresholds_are_refused() {
        let mut risk = Risk::default();
        risk.policies.watch.allowed_methods = Some(Vec::new());
        assert!(
            risk.validate()
                .unwrap_err()
                .contains("allows no payment method")
        );
        let risk = Risk {
            trusted_min_score_percent: 101,
            ..Risk::default()
        };
        assert!(risk.validate().is_err());
        let risk = Risk {
            watch_below_score_percent: 95,
            ..Risk::default()
        };
        assert!(risk.validate().is_err());
        assert!(Risk::default().validate().is_ok());
    }
}
