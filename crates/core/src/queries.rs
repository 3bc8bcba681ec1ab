//! What the dashboard and the API ask for and get back beyond single values: a page of a
//! list, an order search, the counts and the soon-due timers of Today.

use crate::{Money, OrderId, OrderStatus, Phone, Timestamp};

/// A page request: at most `limit` rows after the cursor `after`.
#[derive(Debug, Clone)]
pub struct Page<C> {
    pub after: Option<C>,
    pub limit: usize,
}

/// What a period of the shop's sales came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SalesPeriod {
    /// Orders placed in the period.
    pub placed: i64,
    /// Orders that became paid in the period.
    pub paid: i64,
    /// Orders whose hold was released unpaid in the period.
    pub released: i64,
    /// What the orders paid in the period brought in (omzet).
    pub omzet: crate::Money,
}

/// Sales of the store's day and month so far, in its time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sales {
    pub today: SalesPeriod,
    pub month: SalesPeriod,
}

/// The start of the day and of the month that `now` falls in, in `tz`.
pub fn day_and_month_start(
    now: crate::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> (crate::Timestamp, crate::Timestamp) {
    let local = now.to_zoned(tz.clone());
    let day = local.start_of_day().expect("every day has a start");
    let month = local
        .first_of_month()
        .expect("every month has a first day")
        .start_of_day()
        .expect("every day has a start");
    (day.timestamp(), month.timestamp())
}

/// How many orders there are in each status, and what waits for staff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskCounts {
    pub by_status: Vec<(OrderStatus, i64)>,
    pub reviews_open: i64,
    pub manual_queue: i64,
}

/// An order whose timer (its release, or a reminder) is due soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Releasing {
    pub order_id: OrderId,
    pub due_at: Timestamp,
    pub status: OrderStatus,
    pub name: String,
    pub phone: Phone,
    pub amount_due: Money,
    pub amount_paid: Money,
}

/// Which orders a list shows: of one status, matching a text (an order number, a phone number
/// or part of a buyer's name), newest first after `page.after`.
#[derive(Debug, Clone)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    pub number: Option<OrderId>,
    pub phone: Option<Phone>,
    /// Part of a buyer's name, lowercased.
    pub name: Option<String>,
    pub page: Page<OrderId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_and_the_month_start_in_the_stores_time_zone() {
        let tz = jiff::tz::TimeZone::get("Asia/Jakarta").unwrap();
        // 2026-12-01 01:30 in Jakarta is still 30 November in UTC.
        let now: crate::Timestamp = "2026-11-30T18:30:00Z".parse().unwrap();
        let (day, month) = day_and_month_start(now, &tz);
        assert_eq!(day.to_string(), "2026-11-30T17:00:00Z");
        assert_eq!(month.to_string(), "2026-11-30T17:00:00Z");
        let later: crate::Timestamp = "2026-12-15T03:00:00Z".parse().unwrap();
        let (day, month) = day_and_month_start(later, &tz);
        assert_eq!(day.to_string(), "2026-12-14T17:00:00Z");
        assert_eq!(month.to_string(), "2026-11-30T17:00:00Z");
    }
}
