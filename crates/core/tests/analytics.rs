//! The metrics' definitions as data: a hand-built store whose every figure is worked out in the
//! comments, then a generated store of thousands of orders checked against a plain recount, and
//! facts refreshed piece by piece equal to facts read at once.

use lunas_core::analytics::{Facts, Filter, ItemRow, OrderRow, Source, date_day};
use lunas_core::reliability::Band;
use lunas_core::{CancelledBy, OrderStatus, PaymentMethod};

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

fn utc() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

/// Day `d` of December 2026 (d may be negative: days before), at `hour` UTC, in milliseconds.
fn at(d: i64, hour: i64) -> i64 {
    jiff::civil::date(2026, 12, 1)
        .to_zoned(utc())
        .unwrap()
        .timestamp()
        .as_millisecond()
        + d * 24 * HOUR
        + hour * HOUR
}

struct O {
    id: i64,
    buyer: i64,
    status: OrderStatus,
    method: PaymentMethod,
    by: Option<CancelledBy>,
    placed: i64,
    ended_after: Option<i64>,
    total: i64,
    units: i64,
    sku: &'static str,
}

fn o(id: i64, buyer: i64, status: OrderStatus, method: PaymentMethod, placed: i64) -> O {
    O {
        id,
        buyer,
        status,
        method,
        by: None,
        placed,
        ended_after: None,
        total: 100_000,
        units: 1,
        sku: "KAOS-M",
    }
}

fn rows(orders: &[O]) -> (Vec<OrderRow>, Vec<ItemRow>) {
    let rows = orders
        .iter()
        .map(|x| OrderRow {
            id: x.id,
            customer_id: x.buyer,
            status: x.status,
            method: x.method,
            cancelled_by: x.by,
            band: Some(Band::Normal),
            source: if x.method == PaymentMethod::Cod {
                Source::Shop
            } else {
                Source::Dashboard
            },
            placed_at: x.placed,
            ended_at: x.ended_after.map(|d| x.placed + d),
            delivered_at: (x.method == PaymentMethod::Cod)
                .then(|| x.ended_after.map(|d| x.placed + d))
                .flatten(),
            pay_by: (x.method != PaymentMethod::Cod).then_some(x.placed + 24 * HOUR),
            total: x.total,
            ship_cost: if x.method == PaymentMethod::Cod {
                10_000
            } else {
                0
            },
            return_cost: if x.method == PaymentMethod::Cod {
                12_000
            } else {
                0
            },
        })
        .collect();
    let items = orders
        .iter()
        .map(|x| ItemRow {
            order_id: x.id,
            sku: x.sku.to_owned(),
            qty: x.units,
            amount: x.total,
        })
        .collect();
    (rows, items)
}

fn december(from: i64, to: i64) -> Filter {
    Filter {
        from: date_day(jiff::civil::date(2026, 12, 1)) + from as i32,
        to: date_day(jiff::civil::date(2026, 12, 1)) + to as i32,
        source: None,
        method: None,
        band: None,
        sku: None,
        within_hours: 6,
    }
}

fn hand_built() -> Facts {
    use OrderStatus as S;
    use PaymentMethod as M;
    let orders = [
        // 1: buyer 1 pays a transfer after 30 minutes.
        O {
            ended_after: Some(30 * MINUTE),
            ..o(1, 1, S::Paid, M::BankTransfer, at(0, 10))
        },
        // 2: buyer 1's order of 2 units expires after 24 hours: 48 stock-hours.
        O {
            ended_after: Some(24 * HOUR),
            units: 2,
            sku: "KAOS-L",
            ..o(2, 1, S::Expired, M::BankTransfer, at(1, 10))
        },
        // 3: buyer 2's COD parcel is delivered after 48 hours: paid, in the `over_2d` bucket
        //    (each bucket's upper bound is exclusive).
        O {
            ended_after: Some(48 * HOUR),
            ..o(3, 2, S::Completed, M::Cod, at(2, 9))
        },
        // 4: buyer 3 refuses a COD parcel: 10,000 + 12,000 shipping lost; no stock-hours.
        O {
            ended_after: Some(72 * HOUR),
            ..o(4, 3, S::ReturnedToSender, M::Cod, at(2, 11))
        },
        // 5: buyer 2 cancels after 2 hours: 2 stock-hours.
        O {
            by: Some(CancelledBy::Buyer),
            ended_after: Some(2 * HOUR),
            ..o(5, 2, S::Cancelled, M::BankTransfer, at(3, 8))
        },
        // 6: the seller cancels buyer 4's order: neither paid nor a hit-and-run.
        O {
            by: Some(CancelledBy::Seller),
            ended_after: Some(HOUR),
            ..o(6, 4, S::Cancelled, M::BankTransfer, at(3, 9))
        },
        // 7: buyer 5's order is still open.
        o(7, 5, S::AwaitingPayment, M::BankTransfer, at(4, 9)),
        // 8: buyer 1 pays by QRIS after 3 hours, 250,000.
        O {
            ended_after: Some(3 * HOUR),
            total: 250_000,
            ..o(8, 1, S::Shipped, M::Qris, at(4, 12))
        },
        // 9: buyer 6 pays after the deadline (24 h): a hit-and-run, 24 stock-hours.
        O {
            ended_after: Some(24 * HOUR),
            ..o(9, 6, S::PaidNeedsRefund, M::BankTransfer, at(5, 7))
        },
        // 10: buyer 2 paid long before the period (November): counts for her history only.
        O {
            ended_after: Some(HOUR),
            ..o(10, 2, S::Completed, M::BankTransfer, at(-20, 10))
        },
    ];
    let (rows, items) = rows(&orders);
    let reminders = vec![
        (1, at(0, 10) + 20 * MINUTE, true), // paid 10 minutes later: converted
        (2, at(1, 11), true),               // never paid
        (2, at(1, 22), true),               // step 2, never paid
        (8, at(4, 13), true),               // paid 2 hours later: converted
        (9, at(5, 8), false),               // left in the manual queue: not counted
    ];
    let mut facts = Facts::default();
    facts.upsert(rows, items, reminders, &utc());
    facts
}

#[test]
fn a_hand_built_store_gives_the_figures_worked_out_by_hand() {
    let facts = hand_built();
    let s = facts.summary(&december(0, 6));
    assert_eq!(
        (s.from.as_str(), s.to.as_str()),
        ("2026-12-01", "2026-12-07")
    );
    assert_eq!(s.placed, 9);
    assert_eq!(s.paid, 3); // 1, 3, 8
    assert_eq!(s.hit_and_run, 4); // 2, 4, 5, 9
    assert_eq!(
        (
            s.hit_and_run_by_kind.expired,
            s.hit_and_run_by_kind.cod_refused,
            s.hit_and_run_by_kind.cancelled_by_buyer,
            s.hit_and_run_by_kind.paid_late
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(s.cancelled_by_seller, 1);
    assert_eq!(s.open, 1);
    assert!((s.paid_rate - 3.0 / 9.0).abs() < 1e-12);
    assert!((s.hit_and_run_rate - 4.0 / 9.0).abs() < 1e-12);
    assert_eq!(s.revenue, 450_000);
    assert_eq!(s.average_order_value, 150_000);
    // Time to pay: 30 min, 48 h, 3 h → median 3 h = 180 min, p90 the largest.
    assert_eq!(s.time_to_pay.median_minutes, Some(180.0));
    assert_eq!(s.time_to_pay.p90_minutes, Some(2_880.0));
    let bucket = |key: &str| {
        s.time_to_pay
            .buckets
            .iter()
            .find(|b| b.key == key)
            .unwrap()
            .count
    };
    assert_eq!(
        (bucket("15m_1h"), bucket("3h_6h"), bucket("over_2d")),
        (1, 1, 1)
    );
    assert_eq!(
        s.time_to_pay.buckets.iter().map(|b| b.count).sum::<u64>(),
        3
    );
    // Reminders: step 1 went to orders 1, 2, 8 and two paid within 6 hours; step 2 to order 2.
    assert_eq!(s.reminders.steps.len(), 2);
    assert_eq!(
        (s.reminders.steps[0].sent, s.reminders.steps[0].paid_within),
        (3, 2)
    );
    assert_eq!(
        (s.reminders.steps[1].sent, s.reminders.steps[1].paid_within),
        (1, 0)
    );
    // 2 units × 24 h + 1 × 2 h + 1 × 24 h.
    assert_eq!(s.stock_hours_unpaid, 74.0);
    assert_eq!((s.cod.orders, s.cod.delivered, s.cod.refused), (2, 1, 1));
    assert_eq!(s.cod.refusal_rate, 0.5);
    assert_eq!(s.cod.refusal_cost, 22_000);
    // Buyers: 1–6 ordered; 1 and 2 paid; both have two paid orders by the end; only 1 is new.
    assert_eq!(
        (s.buyers.ordering, s.buyers.paying, s.buyers.new),
        (6, 2, 1)
    );
    assert_eq!(s.buyers.repeat_rate, 1.0);
    assert_eq!(s.buyers.one_time_share, 0.0);
    // A daily series of seven days summing to the totals.
    assert_eq!(s.series.unit, "day");
    assert_eq!(s.series.points.len(), 7);
    assert_eq!(s.series.points[2].placed, 2);
    assert_eq!(s.series.points.iter().map(|p| p.paid).sum::<u64>(), 3);
    // Breakdowns.
    let cod = s.by_method.iter().find(|b| b.key == "cod").unwrap();
    assert_eq!((cod.placed, cod.paid, cod.hit_and_run), (2, 1, 1));
    let large = s.by_product.iter().find(|b| b.key == "KAOS-L").unwrap();
    assert_eq!((large.placed, large.hit_and_run), (1, 1));
    assert_eq!(s.by_source.iter().map(|b| b.placed).sum::<u64>(), 9);
    // Cohorts: buyer 2 first paid in November (and again in December, month 1); buyer 1 in
    // December.
    let november = s.cohorts.iter().find(|c| c.month == "2026-11").unwrap();
    assert_eq!(november.buyers, 1);
    assert_eq!(november.retention, vec![1.0, 1.0]);
    let december_cohort = s.cohorts.last().unwrap();
    assert_eq!(
        (december_cohort.month.as_str(), december_cohort.buyers),
        ("2026-12", 1)
    );
    assert_eq!(s.cohorts.len(), 12);
}

#[test]
fn filters_narrow_every_figure() {
    let facts = hand_built();
    let cod = facts.summary(&Filter {
        method: Some(PaymentMethod::Cod),
        ..december(0, 6)
    });
    assert_eq!((cod.placed, cod.paid, cod.hit_and_run), (2, 1, 1));
    assert_eq!(cod.reminders.steps.len(), 0);
    let large = facts.summary(&Filter {
        sku: Some("KAOS-L".into()),
        ..december(0, 6)
    });
    assert_eq!(
        (large.placed, large.hit_and_run, large.stock_hours_unpaid),
        (1, 1, 48.0)
    );
    let unknown = facts.summary(&Filter {
        sku: Some("NOPE".into()),
        ..december(0, 6)
    });
    assert_eq!(unknown.placed, 0);
    let shop = facts.summary(&Filter {
        source: Some(Source::Shop),
        ..december(0, 6)
    });
    assert_eq!(shop.placed, 2);
    // A year: the series goes by month.
    let year = facts.summary(&december(-330, 30));
    assert_eq!(year.series.unit, "month");
    assert_eq!(year.placed, 10);
    assert_eq!(year.series.points.iter().map(|p| p.placed).sum::<u64>(), 10);
}

/// A deterministic generator (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generated(n: i64, seed: u64) -> Vec<O> {
    use OrderStatus as S;
    let mut rng = Rng(seed);
    let statuses = [
        S::Paid,
        S::Completed,
        S::Expired,
        S::Cancelled,
        S::AwaitingPayment,
        S::ReturnedToSender,
        S::PaidNeedsRefund,
        S::Shipped,
    ];
    (1..=n)
        .map(|id| {
            let status = statuses[rng.below(statuses.len() as u64) as usize];
            let method = PaymentMethod::ALL[rng.below(5) as usize];
            let open = matches!(status, S::AwaitingPayment)
                || (method == PaymentMethod::Cod && status == S::Shipped);
            O {
                id,
                buyer: rng.below((n / 3).max(1) as u64) as i64 + 1,
                status,
                method,
                by: (status == S::Cancelled).then(|| {
                    if rng.below(2) == 0 {
                        CancelledBy::Buyer
                    } else {
                        CancelledBy::Seller
                    }
                }),
                placed: at(-400, 0) + id * 400 * 24 * HOUR / n,
                ended_after: (!open).then(|| rng.below(72 * 60) as i64 * MINUTE),
                total: 10_000 + rng.below(500) as i64 * 1_000,
                units: 1 + rng.below(3) as i64,
                sku: ["A", "B", "C", "D"][rng.below(4) as usize],
            }
        })
        .collect()
}

#[test]
fn a_generated_store_agrees_with_a_plain_recount() {
    let orders = generated(6_000, 0x5eed);
    let (rows, items) = rows(&orders);
    let mut facts = Facts::default();
    facts.upsert(rows, items, vec![], &utc());
    let filter = december(-200, 0);
    let s = facts.summary(&filter);
    let inside: Vec<&O> = orders
        .iter()
        .filter(|x| {
            let day = date_day(
                jiff::Timestamp::from_millisecond(x.placed)
                    .unwrap()
                    .to_zoned(utc())
                    .date(),
            );
            day >= filter.from && day <= filter.to
        })
        .collect();
    let is_paid = |x: &O| match x.status {
        OrderStatus::Paid | OrderStatus::Completed => true,
        OrderStatus::Shipped => x.method != PaymentMethod::Cod,
        OrderStatus::ReturnedToSender => x.method != PaymentMethod::Cod,
        _ => false,
    };
    let is_hit = |x: &O| match x.status {
        OrderStatus::Expired | OrderStatus::PaidNeedsRefund => true,
        OrderStatus::Cancelled => x.by == Some(CancelledBy::Buyer),
        OrderStatus::ReturnedToSender => x.method == PaymentMethod::Cod,
        _ => false,
    };
    assert_eq!(s.placed as usize, inside.len());
    assert_eq!(
        s.paid as usize,
        inside.iter().filter(|x| is_paid(x)).count()
    );
    assert_eq!(
        s.hit_and_run as usize,
        inside.iter().filter(|x| is_hit(x)).count()
    );
    assert_eq!(
        s.revenue,
        inside
            .iter()
            .filter(|x| is_paid(x))
            .map(|x| x.total)
            .sum::<i64>()
    );
    let stock: f64 = inside
        .iter()
        .filter(|x| is_hit(x) && !(x.status == OrderStatus::ReturnedToSender))
        .map(|x| x.units as f64 * x.ended_after.unwrap() as f64 / HOUR as f64)
        .sum();
    assert!(
        (s.stock_hours_unpaid - stock).abs() < 0.1,
        "{} {stock}",
        s.stock_hours_unpaid
    );
    for breakdown in [&s.by_source, &s.by_method, &s.by_band] {
        assert_eq!(breakdown.iter().map(|b| b.placed).sum::<u64>(), s.placed);
        assert_eq!(breakdown.iter().map(|b| b.revenue).sum::<i64>(), s.revenue);
    }
    assert_eq!(
        s.series.points.iter().map(|p| p.hit_and_run).sum::<u64>(),
        s.hit_and_run
    );
    for cohort in &s.cohorts {
        if cohort.buyers > 0 {
            assert_eq!(cohort.retention[0], 1.0, "{cohort:?}");
        }
        assert!(cohort.retention.iter().all(|r| (0.0..=1.0).contains(r)));
    }
}

#[test]
fn facts_refreshed_in_pieces_equal_facts_read_at_once() {
    let orders = generated(3_000, 42);
    let (all_rows, all_items) = rows(&orders);
    let mut whole = Facts::default();
    whole.upsert(all_rows.clone(), all_items.clone(), vec![], &utc());

    // First every order as if it were still open, in batches, then the real rows again out of
    // order (as changed orders come back).
    let mut pieces = Facts::default();
    for chunk in all_rows.chunks(700) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let open: Vec<OrderRow> = chunk
            .iter()
            .map(|r| OrderRow {
                status: OrderStatus::AwaitingPayment,
                ended_at: None,
                ..r.clone()
            })
            .collect();
        let items = all_items
            .iter()
            .filter(|i| ids.contains(&i.order_id))
            .cloned()
            .collect();
        pieces.upsert(open, items, vec![], &utc());
    }
    for chunk in all_rows.rchunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        let items = all_items
            .iter()
            .filter(|i| ids.contains(&i.order_id))
            .cloned()
            .collect();
        pieces.upsert(chunk.to_vec(), items, vec![], &utc());
    }
    let filter = december(-400, 0);
    assert_eq!(pieces.summary(&filter), whole.summary(&filter));
}
