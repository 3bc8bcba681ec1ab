//! What the dashboard and the API ask for and get back beyond single values: a page of a
//! list, an order search, the counts and the soon-due timers of Today.

use crate::{Money, OrderId, OrderStatus, Phone, Timestamp};

/// A page request: at most `limit` rows after the cursor `after`.
#[derive(Debug, Clone)]
pub struct Page<C> {
    pub after: Option<C>,
    pub limit: usize,
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
