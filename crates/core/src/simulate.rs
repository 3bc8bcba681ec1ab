//! What if the store had run another policy? Each finished order of a period is replayed under
//! the policy (payment windows per method, reminder cadence and quiet hours, each band's refusal,
//! allowed methods and shortened window) and the outcomes are set beside what happened.
//!
//! The model of the buyers, and its assumptions (docs/analytics.md says the same in words):
//! - A buyer who paid did so when they did, whatever the policy: under a window that closes
//!   earlier, the order is released first (a hit-and-run the store caused, "paid orders lost",
//!   and the money, had it come, "released then paid").
//! - A buyer who never paid by their deadline pays in a longer window with the chance the store's
//!   own orders of the same band show: of the orders of that band still unpaid at the old
//!   deadline whose own deadline reached the new one, the share paid by then. Where no order
//!   reached that far, the data cannot say, the order is counted unpaid and the count of such
//!   orders is reported.
//! - A buyer who cancelled did so when they did, if the order was still open then.
//! - Money that came after the deadline (`paid_needs_refund`) is caught by any longer window.
//! - Reminders are counted as the cadence schedules them before the payment or the deadline;
//!   the time a buyer paid is taken as it was (the Analitik page shows what each reminder step
//!   converted, but not what a buyer would have done without it).
//! - A band's refusal, or a method its policy does not allow, loses the order whole: paid ones
//!   become "paid orders lost", unpaid ones hold nothing.
//! - A buyer keeps the band they had when they ordered.
//! - COD orders have no deadline: only refusals change them. Orders still open are left out.

use std::collections::HashMap;

use serde::Serialize;

use crate::analytics::{Facts, Filter, OrderFact, Outcome, Release};
use crate::reliability::{Band, apply};
use crate::{PaymentMethod, Settings, Timestamp};

/// One side of the comparison: what happened, or what the policy would have made of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Side {
    /// Orders paid (a fraction where the model gives a chance).
    pub paid: f64,
    /// Released unpaid by the buyer's doing (and, simulated, by a window that closed first).
    pub hit_and_run: f64,
    /// Units × hours held by orders that were never paid.
    pub stock_hours_unpaid: f64,
    /// Orders released before their buyer's money came.
    pub released_then_paid: f64,
    /// Orders paid in reality that the policy would have lost (released first, or refused).
    pub paid_lost: f64,
    /// What those lost orders were worth, in rupiah.
    pub revenue_lost: f64,
    /// Orders the policy refuses outright.
    pub refused: u64,
    /// Reminder messages.
    pub messages: u64,
}

/// The comparison over a period's finished orders.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Simulation {
    pub orders: u64,
    pub actual: Side,
    pub simulated: Side,
    /// Unpaid orders given a longer window than the store's history reaches: counted unpaid.
    pub beyond_the_data: u64,
}

/// The chance that an order of a band, unpaid `from` ms after placement, pays by `to`: among the
/// store's orders of that band whose deadline reached `to` and that were unpaid at `from`, the
/// share paid by `to`.
struct Continuation<'a> {
    facts: &'a Facts,
    memo: HashMap<(Option<Band>, i64, i64), Option<f64>>,
}

impl Continuation<'_> {
    fn chance(&mut self, band: Option<Band>, from: i64, to: i64) -> Option<f64> {
        let facts = self.facts;
        *self
            .memo
            .entry((band, from / 60_000, to / 60_000))
            .or_insert_with(|| {
                let mut at_risk = 0u64;
                let mut paid = 0u64;
                for o in facts.orders().iter().filter(|o| o.band == band) {
                    let (Some(deadline), Some(ended)) = (o.pay_by, o.ended_at) else {
                        continue;
                    };
                    if deadline - o.placed_at < to {
                        continue;
                    }
                    let took = ended - o.placed_at;
                    match o.outcome {
                        Outcome::Paid if took > from => {
                            at_risk += 1;
                            if took <= to {
                                paid += 1;
                            }
                        }
                        Outcome::Released(_) if took > from => at_risk += 1,
                        _ => {}
                    }
                }
                (at_risk > 0).then(|| paid as f64 / at_risk as f64)
            })
    }
}

/// Reminders the cadence of `settings` schedules for an order before `until`.
fn reminders_before(settings: &Settings, o: &OrderFact, deadline: Option<i64>, until: i64) -> u64 {
    let (Ok(placed), Some(deadline)) = (Timestamp::from_millisecond(o.placed_at), deadline) else {
        return 0;
    };
    let Ok(deadline) = Timestamp::from_millisecond(deadline) else {
        return 0;
    };
    crate::timers::reminders_for(settings, o.method, placed, Some(deadline))
        .iter()
        .filter(|r| r.due.as_millisecond() < until)
        .count() as u64
}

/// Replays the finished orders `filter` selects under `settings` (the policy to try).
pub fn simulate(facts: &Facts, filter: &Filter, settings: &Settings) -> Simulation {
    let mut sim = Simulation::default();
    let mut continuation = Continuation {
        facts,
        memo: HashMap::new(),
    };
    let written: HashMap<i64, u64> = facts.reminders().iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.order_id).or_default() += 1;
        m
    });
    let hours = |ms: i64| ms.max(0) as f64 / 3_600_000.0;
    for o in facts.orders() {
        if o.day < filter.from
            || o.day > filter.to
            || filter.source.is_some_and(|s| s != o.source)
            || filter.method.is_some_and(|m| m != o.method)
            || (filter.band.is_some() && filter.band != o.band)
        {
            continue;
        }
        let Some(ended) = o.ended_at else { continue };
        if matches!(o.outcome, Outcome::Open | Outcome::CancelledBySeller) {
            continue;
        }
        sim.orders += 1;
        let took = ended - o.placed_at;
        // What happened.
        let a = &mut sim.actual;
        a.messages += written.get(&o.id).copied().unwrap_or(0);
        match o.outcome {
            Outcome::Paid => a.paid += 1.0,
            Outcome::Released(release) => {
                a.hit_and_run += 1.0;
                if release == Release::PaidLate {
                    a.released_then_paid += 1.0;
                }
                if release != Release::CodRefused {
                    a.stock_hours_unpaid += o.units as f64 * hours(took);
                }
            }
            Outcome::Open | Outcome::CancelledBySeller => {}
        }
        // What the policy would have made of it.
        let s = &mut sim.simulated;
        let policy = settings
            .risk
            .policies
            .for_band(o.band.unwrap_or(Band::Normal));
        let window = match apply(
            policy,
            o.method,
            o.units,
            settings.payment_windows.for_method(o.method),
        ) {
            Ok(window) => window,
            Err(_) => {
                s.refused += 1;
                if o.outcome == Outcome::Paid {
                    s.paid_lost += 1.0;
                    s.revenue_lost += o.total as f64;
                }
                continue;
            }
        };
        let Some(window) = window.filter(|_| o.method != PaymentMethod::Cod) else {
            // COD: no deadline, nothing else changes.
            match o.outcome {
                Outcome::Paid => s.paid += 1.0,
                _ => s.hit_and_run += 1.0,
            }
            continue;
        };
        let limit = window.seconds() * 1000;
        let deadline = o.placed_at + limit;
        match o.outcome {
            Outcome::Paid if took <= limit => {
                s.paid += 1.0;
                s.messages += reminders_before(settings, o, Some(deadline), ended);
            }
            Outcome::Paid => {
                // Released before the money came.
                s.hit_and_run += 1.0;
                s.released_then_paid += 1.0;
                s.paid_lost += 1.0;
                s.revenue_lost += o.total as f64;
                s.stock_hours_unpaid += o.units as f64 * hours(limit);
                s.messages += reminders_before(settings, o, Some(deadline), deadline);
            }
            Outcome::Released(Release::CancelledByBuyer) if took <= limit => {
                s.hit_and_run += 1.0;
                s.stock_hours_unpaid += o.units as f64 * hours(took);
                s.messages += reminders_before(settings, o, Some(deadline), ended);
            }
            Outcome::Released(Release::PaidLate)
                if o.pay_by.is_some_and(|d| limit > d - o.placed_at) =>
            {
                s.paid += 1.0;
                s.messages += reminders_before(settings, o, Some(deadline), deadline);
            }
            Outcome::Released(release) => {
                let old = o.pay_by.map(|d| d - o.placed_at).unwrap_or(took);
                let chance = if limit > old && release != Release::CancelledByBuyer {
                    match continuation.chance(o.band, old, limit) {
                        Some(p) => p,
                        None => {
                            sim.beyond_the_data += 1;
                            0.0
                        }
                    }
                } else {
                    0.0
                };
                let s = &mut sim.simulated;
                s.paid += chance;
                s.hit_and_run += 1.0 - chance;
                if release == Release::PaidLate {
                    s.released_then_paid += 1.0 - chance;
                }
                s.stock_hours_unpaid += (1.0 - chance) * o.units as f64 * hours(limit);
                s.messages += reminders_before(settings, o, Some(deadline), deadline);
            }
            Outcome::Open | Outcome::CancelledBySeller => {}
        }
    }
    for side in [&mut sim.actual, &mut sim.simulated] {
        side.stock_hours_unpaid = (side.stock_hours_unpaid * 10.0).round() / 10.0;
        side.paid = (side.paid * 10.0).round() / 10.0;
        side.hit_and_run = (side.hit_and_run * 10.0).round() / 10.0;
        side.released_then_paid = (side.released_then_paid * 10.0).round() / 10.0;
    }
    sim
}
