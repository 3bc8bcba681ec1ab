//! The metrics of a period, computed in a few passes over the facts: counts and rates of the
//! orders placed in it, time to pay, what reminders brought, the stock held by orders never
//! paid, COD refusals, repeat buyers, breakdowns by channel, method, band and product, a series
//! by day or month, and monthly acquisition cohorts.

use std::collections::HashMap;

use serde::Serialize;

use super::{Facts, OrderFact, Outcome, Release, Source, date_day, day_date};
use crate::PaymentMethod;
use crate::reliability::Band;

/// Which orders a summary counts: those placed from `from` to `to` (local days, inclusive),
/// narrowed by channel, method, band or product.
#[derive(Debug, Clone)]
pub struct Filter {
    pub from: i32,
    pub to: i32,
    pub source: Option<Source>,
    pub method: Option<PaymentMethod>,
    pub band: Option<Band>,
    pub sku: Option<String>,
    /// A reminder converted when the order was paid within this many hours of it.
    pub within_hours: u32,
}

/// Longest period a summary covers, in days (ten years).
pub const PERIOD_DAYS_MAX: i32 = 3_660;
/// A series is by day up to this many days, by month beyond.
pub const DAILY_SERIES_DAYS_MAX: i32 = 62;
/// Products listed in the breakdown, most ordered first.
pub const PRODUCTS_LISTED: usize = 20;
/// Cohorts shown, one per month up to the period's end.
pub const COHORT_MONTHS: usize = 12;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// The period, local dates, inclusive.
    pub from: String,
    pub to: String,
    pub placed: u64,
    pub paid: u64,
    /// Released unpaid by the buyer's doing: deadline passed, cancelled by the buyer, COD refused.
    pub hit_and_run: u64,
    pub hit_and_run_by_kind: HitAndRunKinds,
    pub cancelled_by_seller: u64,
    /// Not ended yet.
    pub open: u64,
    /// Paid ÷ placed, 0 to 1.
    pub paid_rate: f64,
    /// Hit-and-run ÷ placed, 0 to 1.
    pub hit_and_run_rate: f64,
    /// What the paid orders were worth (their totals), in rupiah.
    pub revenue: i64,
    pub average_order_value: i64,
    pub time_to_pay: TimeToPay,
    pub reminders: ReminderConversion,
    /// Units × hours held for orders that were released unpaid (deadline passed, cancelled by
    /// the buyer, paid late).
    pub stock_hours_unpaid: f64,
    pub cod: CodSummary,
    pub buyers: BuyerSummary,
    pub series: Series,
    pub by_source: Vec<Breakdown>,
    pub by_method: Vec<Breakdown>,
    pub by_band: Vec<Breakdown>,
    pub by_product: Vec<Breakdown>,
    pub cohorts: Vec<Cohort>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct HitAndRunKinds {
    pub expired: u64,
    pub cancelled_by_buyer: u64,
    pub cod_refused: u64,
    /// Money that came after the deadline.
    pub paid_late: u64,
}

/// How long paid orders took from placement to payment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeToPay {
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    pub buckets: Vec<Bucket>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bucket {
    /// `under_15m`, `15m_1h`, `1h_3h`, `3h_6h`, `6h_12h`, `12h_24h`, `1d_2d`, `over_2d`.
    pub key: &'static str,
    pub count: u64,
}

/// Time-to-pay buckets: key and upper bound in minutes (exclusive).
pub const TIME_TO_PAY_BUCKETS: [(&str, f64); 8] = [
    ("under_15m", 15.0),
    ("15m_1h", 60.0),
    ("1h_3h", 180.0),
    ("3h_6h", 360.0),
    ("6h_12h", 720.0),
    ("12h_24h", 1_440.0),
    ("1d_2d", 2_880.0),
    ("over_2d", f64::INFINITY),
];

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReminderConversion {
    pub within_hours: u32,
    pub steps: Vec<ReminderStep>,
}

/// Reminder `step` (1 for the first): how many were sent, and how many orders were paid within
/// the hours after it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReminderStep {
    pub step: u8,
    pub sent: u64,
    pub paid_within: u64,
    pub rate: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CodSummary {
    pub orders: u64,
    pub delivered: u64,
    pub refused: u64,
    /// Refused ÷ (delivered + refused).
    pub refusal_rate: f64,
    /// Shipping there and back of the refused parcels, in rupiah.
    pub refusal_cost: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BuyerSummary {
    /// Buyers with an order placed in the period.
    pub ordering: u64,
    /// Buyers with a paid order placed in the period.
    pub paying: u64,
    /// Paying buyers whose first paid order is in the period.
    pub new: u64,
    /// Paying buyers with at least two paid orders up to the period's end, ÷ paying.
    pub repeat_rate: f64,
    /// Of every buyer who ever paid up to the period's end, the share who paid exactly once.
    pub one_time_share: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    /// `day` or `month`.
    pub unit: &'static str,
    pub points: Vec<Point>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Point {
    /// The day, or the month's first day.
    pub start: String,
    pub placed: u64,
    pub paid: u64,
    pub hit_and_run: u64,
    pub revenue: i64,
}

/// The figures of one channel, method, band or product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Breakdown {
    pub key: String,
    pub placed: u64,
    pub paid: u64,
    pub hit_and_run: u64,
    pub paid_rate: f64,
    pub hit_and_run_rate: f64,
    pub revenue: i64,
}

/// Buyers whose first paid order fell in `month` (`YYYY-MM`), and the share of them who paid
/// again in each month after (`retention[0]` is the first month itself, 1).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cohort {
    pub month: String,
    pub buyers: u64,
    pub retention: Vec<f64>,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    placed: u64,
    paid: u64,
    hit_and_run: u64,
    revenue: i64,
}

impl Tally {
    fn add(&mut self, order: &OrderFact) {
        self.placed += 1;
        match order.outcome {
            Outcome::Paid => {
                self.paid += 1;
                self.revenue += order.total;
            }
            Outcome::Released(_) => self.hit_and_run += 1,
            Outcome::Open | Outcome::CancelledBySeller => {}
        }
    }

    fn breakdown(self, key: String) -> Breakdown {
        Breakdown {
            key,
            placed: self.placed,
            paid: self.paid,
            hit_and_run: self.hit_and_run,
            paid_rate: ratio(self.paid, self.placed),
            hit_and_run_rate: ratio(self.hit_and_run, self.placed),
            revenue: self.revenue,
        }
    }
}

/// Months as `year * 12 + month - 1`, looked up by local day over the days the facts span.
struct Months {
    first_day: i32,
    of_day: Vec<i32>,
}

impl Months {
    fn new(first_day: i32, last_day: i32) -> Months {
        let mut of_day = Vec::with_capacity((last_day - first_day + 1).max(0) as usize);
        let mut date = day_date(first_day);
        for _ in first_day..=last_day {
            of_day.push(i32::from(date.year()) * 12 + i32::from(date.month()) - 1);
            date = date.tomorrow().unwrap_or(date);
        }
        Months { first_day, of_day }
    }

    fn of(&self, day: i32) -> i32 {
        self.of_day[(day - self.first_day) as usize]
    }
}

fn month_start(month: i32) -> jiff::civil::Date {
    jiff::civil::date((month / 12) as i16, (month % 12 + 1) as i8, 1)
}

impl Facts {
    /// The summary of the orders `filter` selects.
    pub fn summary(&self, filter: &Filter) -> Summary {
        let orders = self.orders();
        let by_sku = filter
            .sku
            .as_deref()
            .map(|sku| self.orders_with(self.sku_index(sku)));
        let keep = |position: usize, o: &OrderFact| -> bool {
            filter.source.is_none_or(|s| o.source == s)
                && filter.method.is_none_or(|m| o.method == m)
                && (filter.band.is_none() || o.band == filter.band)
                && by_sku.as_ref().is_none_or(|set| set[position])
        };
        let in_period = |o: &OrderFact| o.day >= filter.from && o.day <= filter.to;

        let mut total = Tally::default();
        let mut kinds = HitAndRunKinds::default();
        let mut cancelled_by_seller = 0;
        let mut minutes: Vec<f32> = Vec::new();
        let mut stock_hours = 0.0;
        let mut cod = CodSummary::default();
        let mut sources: HashMap<Source, Tally> = HashMap::new();
        let mut methods: HashMap<PaymentMethod, Tally> = HashMap::new();
        let mut bands: HashMap<Option<Band>, Tally> = HashMap::new();
        let daily = filter.to - filter.from < DAILY_SERIES_DAYS_MAX;
        let (first_day, last_day) = orders.iter().fold((filter.from, filter.to), |(lo, hi), o| {
            let paid = o.paid_day.unwrap_or(o.day);
            (lo.min(o.day).min(paid), hi.max(o.day).max(paid))
        });
        let months = Months::new(first_day, last_day);
        let series_index = |day: i32| -> usize {
            if daily {
                (day - filter.from) as usize
            } else {
                (months.of(day) - months.of(filter.from)) as usize
            }
        };
        let mut series = vec![Tally::default(); series_index(filter.to) + 1];
        let mut selected = vec![false; orders.len()];
        // Per buyer: paid orders up to the end, the first paid month, whether they ordered and
        // paid in the period.
        let buyers = self.buyer_count();
        let mut paid_count = vec![0u32; buyers];
        let mut first_paid = vec![i32::MAX; buyers];
        let mut ordered_in = vec![false; buyers];
        let mut paid_in = vec![false; buyers];

        for (position, o) in orders.iter().enumerate() {
            if !keep(position, o) {
                continue;
            }
            if let (Outcome::Paid, Some(day)) = (o.outcome, o.paid_day)
                && day <= filter.to
                && o.day <= filter.to
            {
                paid_count[o.buyer as usize] += 1;
                first_paid[o.buyer as usize] = first_paid[o.buyer as usize].min(day);
            }
            if !in_period(o) {
                continue;
            }
            selected[position] = true;
            ordered_in[o.buyer as usize] = true;
            total.add(o);
            sources.entry(o.source).or_default().add(o);
            methods.entry(o.method).or_default().add(o);
            bands.entry(o.band).or_default().add(o);
            series[series_index(o.day)].add(o);
            if o.method == PaymentMethod::Cod {
                cod.orders += 1;
            }
            match o.outcome {
                Outcome::Paid => {
                    paid_in[o.buyer as usize] = true;
                    if let Some(ended) = o.ended_at {
                        minutes.push(((ended - o.placed_at).max(0) as f64 / 60_000.0) as f32);
                    }
                    if o.method == PaymentMethod::Cod {
                        cod.delivered += 1;
                    }
                }
                Outcome::Released(release) => {
                    match release {
                        Release::Expired => kinds.expired += 1,
                        Release::CancelledByBuyer => kinds.cancelled_by_buyer += 1,
                        Release::CodRefused => kinds.cod_refused += 1,
                        Release::PaidLate => kinds.paid_late += 1,
                    }
                    if release == Release::CodRefused {
                        cod.refused += 1;
                        cod.refusal_cost += o.cod_cost;
                    } else if let Some(ended) = o.ended_at {
                        stock_hours +=
                            o.units as f64 * (ended - o.placed_at).max(0) as f64 / 3_600_000.0;
                    }
                }
                Outcome::CancelledBySeller => cancelled_by_seller += 1,
                Outcome::Open => {}
            }
        }
        cod.refusal_rate = ratio(cod.refused, cod.delivered + cod.refused);

        let mut buyer_summary = BuyerSummary::default();
        let mut ever_paid = 0u64;
        let mut paid_once = 0u64;
        let mut repeat = 0u64;
        for b in 0..buyers {
            if paid_count[b] > 0 {
                ever_paid += 1;
                if paid_count[b] == 1 {
                    paid_once += 1;
                }
            }
            if ordered_in[b] {
                buyer_summary.ordering += 1;
            }
            if paid_in[b] {
                buyer_summary.paying += 1;
                if paid_count[b] >= 2 {
                    repeat += 1;
                }
                if first_paid[b] >= filter.from {
                    buyer_summary.new += 1;
                }
            }
        }
        buyer_summary.repeat_rate = ratio(repeat, buyer_summary.paying);
        buyer_summary.one_time_share = ratio(paid_once, ever_paid);

        Summary {
            from: day_date(filter.from).to_string(),
            to: day_date(filter.to).to_string(),
            placed: total.placed,
            paid: total.paid,
            hit_and_run: total.hit_and_run,
            hit_and_run_by_kind: kinds,
            cancelled_by_seller,
            open: total.placed - total.paid - total.hit_and_run - cancelled_by_seller,
            paid_rate: ratio(total.paid, total.placed),
            hit_and_run_rate: ratio(total.hit_and_run, total.placed),
            revenue: total.revenue,
            average_order_value: if total.paid == 0 {
                0
            } else {
                total.revenue / total.paid as i64
            },
            time_to_pay: time_to_pay(minutes),
            reminders: self.reminder_conversion(&selected, filter.within_hours),
            stock_hours_unpaid: (stock_hours * 10.0).round() / 10.0,
            cod,
            buyers: buyer_summary,
            series: Series {
                unit: if daily { "day" } else { "month" },
                points: series
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Point {
                        start: if daily {
                            day_date(filter.from + i as i32).to_string()
                        } else {
                            month_start(months.of(filter.from) + i as i32).to_string()
                        },
                        placed: t.placed,
                        paid: t.paid,
                        hit_and_run: t.hit_and_run,
                        revenue: t.revenue,
                    })
                    .collect(),
            },
            by_source: Source::ALL
                .into_iter()
                .filter_map(|s| sources.get(&s).map(|t| t.breakdown(s.as_str().to_owned())))
                .collect(),
            by_method: PaymentMethod::ALL
                .into_iter()
                .filter_map(|m| methods.get(&m).map(|t| t.breakdown(m.as_str().to_owned())))
                .collect(),
            by_band: [None]
                .into_iter()
                .chain(Band::ALL.map(Some))
                .filter_map(|b| {
                    bands
                        .get(&b)
                        .map(|t| t.breakdown(b.map_or("none", Band::as_str).to_owned()))
                })
                .collect(),
            by_product: self.by_product(&selected),
            cohorts: self.cohorts(&first_paid, &months, filter, |position, o| {
                keep(position, o)
            }),
        }
    }

    /// Which orders (by position) have a line of the product.
    fn orders_with(&self, sku: Option<u32>) -> Vec<bool> {
        let mut set = vec![false; self.orders().len()];
        let Some(sku) = sku else { return set };
        for item in self.items().iter().filter(|i| i.sku == sku) {
            if let Some(position) = self.position(item.order_id) {
                set[position] = true;
            }
        }
        set
    }

    fn reminder_conversion(&self, selected: &[bool], within_hours: u32) -> ReminderConversion {
        let within = i64::from(within_hours) * 3_600_000;
        let mut steps: Vec<(u64, u64)> = Vec::new();
        let orders = self.orders();
        let mut position = 0;
        for reminder in self.reminders() {
            while position < orders.len() && orders[position].id < reminder.order_id {
                position += 1;
            }
            if position == orders.len() || orders[position].id != reminder.order_id {
                continue;
            }
            if !selected[position] || !reminder.sent {
                continue;
            }
            let step = usize::from(reminder.step.max(1)) - 1;
            if steps.len() <= step {
                steps.resize(step + 1, (0, 0));
            }
            steps[step].0 += 1;
            let o = &orders[position];
            if let (Outcome::Paid, Some(ended)) = (o.outcome, o.ended_at)
                && ended >= reminder.at
                && ended - reminder.at <= within
            {
                steps[step].1 += 1;
            }
        }
        ReminderConversion {
            within_hours,
            steps: steps
                .into_iter()
                .enumerate()
                .map(|(i, (sent, paid_within))| ReminderStep {
                    step: (i + 1) as u8,
                    sent,
                    paid_within,
                    rate: ratio(paid_within, sent),
                })
                .collect(),
        }
    }

    fn by_product(&self, selected: &[bool]) -> Vec<Breakdown> {
        let mut tallies: HashMap<u32, Tally> = HashMap::new();
        let orders = self.orders();
        let mut position = 0;
        for item in self.items() {
            while position < orders.len() && orders[position].id < item.order_id {
                position += 1;
            }
            if position == orders.len() || orders[position].id != item.order_id {
                continue;
            }
            if !selected[position] {
                continue;
            }
            let o = &orders[position];
            let tally = tallies.entry(item.sku).or_default();
            tally.placed += 1;
            match o.outcome {
                Outcome::Paid => {
                    tally.paid += 1;
                    tally.revenue += item.amount;
                }
                Outcome::Released(_) => tally.hit_and_run += 1,
                Outcome::Open | Outcome::CancelledBySeller => {}
            }
        }
        let mut rows: Vec<(u32, Tally)> = tallies.into_iter().collect();
        rows.sort_by(|a, b| {
            b.1.placed
                .cmp(&a.1.placed)
                .then_with(|| self.sku_name(a.0).cmp(self.sku_name(b.0)))
        });
        rows.into_iter()
            .take(PRODUCTS_LISTED)
            .map(|(sku, t)| t.breakdown(self.sku_name(sku).to_owned()))
            .collect()
    }

    /// The cohorts of the twelve months up to the period's end: buyers by the month of their
    /// first paid order, and who paid again in each month after.
    fn cohorts(
        &self,
        first_paid: &[i32],
        months: &Months,
        filter: &Filter,
        keep: impl Fn(usize, &OrderFact) -> bool,
    ) -> Vec<Cohort> {
        let last = months.of(filter.to);
        let first = last - COHORT_MONTHS as i32 + 1;
        let mut buyers = vec![0u64; COHORT_MONTHS];
        // (buyer, month) pairs already counted, so a buyer paying twice in a month counts once.
        let mut active: Vec<Vec<u64>> = vec![vec![0; COHORT_MONTHS]; COHORT_MONTHS];
        let mut seen: std::collections::HashSet<(u32, i32)> = std::collections::HashSet::new();
        for &day in first_paid.iter().filter(|&&day| day != i32::MAX) {
            let month = months.of(day);
            if (first..=last).contains(&month) {
                buyers[(month - first) as usize] += 1;
            }
        }
        for (position, o) in self.orders().iter().enumerate() {
            let (Outcome::Paid, Some(day)) = (o.outcome, o.paid_day) else {
                continue;
            };
            if day > filter.to || o.day > filter.to || !keep(position, o) {
                continue;
            }
            let start = first_paid[o.buyer as usize];
            if start == i32::MAX {
                continue;
            }
            let cohort = months.of(start);
            if !(first..=last).contains(&cohort) {
                continue;
            }
            let month = months.of(day);
            let offset = (month - cohort) as usize;
            if offset < COHORT_MONTHS && seen.insert((o.buyer, month)) {
                active[(cohort - first) as usize][offset] += 1;
            }
        }
        (0..COHORT_MONTHS)
            .map(|i| {
                let month = first + i as i32;
                let age = (last - month) as usize + 1;
                Cohort {
                    month: month_start(month).strftime("%Y-%m").to_string(),
                    buyers: buyers[i],
                    retention: active[i][..age]
                        .iter()
                        .map(|&n| ratio(n, buyers[i]))
                        .collect(),
                }
            })
            .collect()
    }
}

fn time_to_pay(mut minutes: Vec<f32>) -> TimeToPay {
    let mut counts = [0u64; TIME_TO_PAY_BUCKETS.len()];
    for &m in &minutes {
        let i = TIME_TO_PAY_BUCKETS
            .iter()
            .position(|&(_, bound)| f64::from(m) < bound)
            .unwrap_or(TIME_TO_PAY_BUCKETS.len() - 1);
        counts[i] += 1;
    }
    let mut quantile = |q: f64| -> Option<f64> {
        if minutes.is_empty() {
            return None;
        }
        let k = ((minutes.len() - 1) as f64 * q).round() as usize;
        let (_, v, _) = minutes.select_nth_unstable_by(k, f32::total_cmp);
        Some((f64::from(*v) * 10.0).round() / 10.0)
    };
    TimeToPay {
        median_minutes: quantile(0.5),
        p90_minutes: quantile(0.9),
        buckets: TIME_TO_PAY_BUCKETS
            .iter()
            .zip(counts)
            .map(|(&(key, _), count)| Bucket { key, count })
            .collect(),
    }
}

/// The default period: the 30 days up to `today`.
pub fn last_30_days(today: jiff::civil::Date) -> (i32, i32) {
    let to = date_day(today);
    (to - 29, to)
}
