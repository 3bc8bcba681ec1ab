//! Payments that confirm themselves: the unique code of a bank transfer, the grace given to slow
//! methods, where a payment comes from and what its identity is, late money, and matching a bank
//! statement's credits to open orders.
//!
//! Nothing here reads a clock or a database: the store hands in what it read, in the transaction
//! that applies the decision.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Money, OrderId, OrderStatus, PayWindow, PaymentMethod, TransitionError};

/// Widest range of unique codes: 100,000 codes (a code is at most five digits).
pub const UNIQUE_CODE_MAX: i64 = 99_999;

/// Whether the unique code is added to the total (the buyer pays a little more, the usual way) or
/// taken off it (the buyer gets a small discount).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeDirection {
    #[default]
    Add,
    Subtract,
}

/// The unique code of bank transfers: Rp150.000 becomes Rp150.237, so a statement line tells
/// which order it pays.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UniqueCodes {
    pub enabled: bool,
    pub min: i64,
    pub max: i64,
    pub direction: CodeDirection,
}

impl Default for UniqueCodes {
    fn default() -> Self {
        UniqueCodes {
            enabled: true,
            min: 1,
            max: 999,
            direction: CodeDirection::Add,
        }
    }
}

/// Extra time before an unpaid order expires, per method, for methods whose confirmation arrives
/// late (a statement imported the next morning, a gateway that settles slowly). The deadline the
/// buyer is told stays `pay_by`; `null` is no grace.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GracePeriods {
    pub bank_transfer: Option<PayWindow>,
    pub virtual_account: Option<PayWindow>,
    pub ewallet: Option<PayWindow>,
    pub qris: Option<PayWindow>,
}

/// The store's payment settings (`payments` in the settings document).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    pub unique_code: UniqueCodes,
    pub grace: GracePeriods,
    /// How much short of the amount due still pays an order, in minor units (the difference is
    /// written off); `null`: as much as the order's unique code, so a transfer of the total
    /// without its code pays it.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    pub short_tolerance: Option<i64>,
}

/// Most the short-payment tolerance may be (Rp1.000.000).
pub const SHORT_TOLERANCE_MAX: i64 = 1_000_000;

impl GracePeriods {
    pub fn for_method(&self, method: PaymentMethod) -> Option<PayWindow> {
        match method {
            PaymentMethod::BankTransfer => self.bank_transfer,
            PaymentMethod::VirtualAccount => self.virtual_account,
            PaymentMethod::Ewallet => self.ewallet,
            PaymentMethod::Qris => self.qris,
            PaymentMethod::Cod => None,
        }
    }
}

impl PaymentSettings {
    /// How much short of its amount due an order with `unique_code` may be paid.
    pub fn tolerance(&self, unique_code: Option<i64>) -> Money {
        Money::from_stored(
            self.short_tolerance
                .unwrap_or_else(|| unique_code.map_or(0, i64::abs)),
        )
    }

    pub fn validate(&self) -> Result<(), String> {
        if self
            .short_tolerance
            .is_some_and(|t| !(0..=SHORT_TOLERANCE_MAX).contains(&t))
        {
            return Err(format!(
                "payments.short_tolerance must be 0 to {SHORT_TOLERANCE_MAX}, or null for the order's unique code"
            ));
        }
        let codes = &self.unique_code;
        if !(1..=UNIQUE_CODE_MAX).contains(&codes.min)
            || !(1..=UNIQUE_CODE_MAX).contains(&codes.max)
            || codes.min > codes.max
        {
            return Err(format!(
                "payments.unique_code: min and max must be 1 to {UNIQUE_CODE_MAX}, min at most max"
            ));
        }
        Ok(())
    }

    /// When an order of `method` whose deadline is `pay_by` expires: the deadline plus the
    /// method's grace.
    pub fn expires_at(&self, method: PaymentMethod, pay_by: crate::Timestamp) -> crate::Timestamp {
        match self.grace.for_method(method) {
            Some(grace) => pay_by
                .checked_add(grace.as_duration())
                .expect("a 30-day grace cannot leave jiff's range for any real clock"),
            None => pay_by,
        }
    }
}

/// The amounts a code can make of `total`, lowest first: `total + min ..= total + max` when codes
/// are added, `total - max ..= total - min` (never below one rupiah) when they are taken off.
pub fn code_amounts(total: Money, codes: &UniqueCodes) -> Option<(i64, i64)> {
    let total = total.minor_units();
    let (lo, hi) = match codes.direction {
        CodeDirection::Add => (total + codes.min, total + codes.max),
        CodeDirection::Subtract => ((total - codes.max).max(1), total - codes.min),
    };
    (lo <= hi).then_some((lo, hi))
}

/// A random amount of `code_amounts`' range, the first one tried for a new order: chosen at
/// random so consecutive orders do not get 1, 2, 3… (a guessable code invites a buyer to "round
/// down"). `None` when the range is empty.
pub fn random_amount(total: Money, codes: &UniqueCodes, random: u64) -> Option<i64> {
    let (lo, hi) = code_amounts(total, codes)?;
    let span = (hi - lo + 1) as u64;
    Some(lo + (random % span) as i64)
}

/// Where a payment came from. Staff record payments through the API; the others arrive by
/// themselves and are never refused: money that cannot be applied goes to the review list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentSource {
    Staff,
    Statement,
    Mutation,
    Midtrans,
    Xendit,
}

impl PaymentSource {
    pub const ALL: [PaymentSource; 5] = [
        PaymentSource::Staff,
        PaymentSource::Statement,
        PaymentSource::Mutation,
        PaymentSource::Midtrans,
        PaymentSource::Xendit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentSource::Staff => "staff",
            PaymentSource::Statement => "statement",
            PaymentSource::Mutation => "mutation",
            PaymentSource::Midtrans => "midtrans",
            PaymentSource::Xendit => "xendit",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentSource> {
        PaymentSource::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether money from this source that arrives after the order ended is applied by the late
    /// payment rules (revive or refund) rather than refused. A staff member recording a payment
    /// by hand sees the order's state and is answered with it instead.
    pub fn arrives_by_itself(self) -> bool {
        self != PaymentSource::Staff
    }
}

/// What money arriving for an order that no longer awaits payment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateDecision {
    /// The order expired, the money covers what was due and the stock is still there: the order
    /// is revived to `paid` with a new hold that becomes a sale at once.
    Revive { amount_paid: Money },
    /// The money cannot buy the order any more (the stock is gone, it falls short, the order was
    /// cancelled or is already paid): it is kept on the order and flagged for a refund. An
    /// expired order becomes `paid_needs_refund` (it holds money now); any other keeps its status.
    NeedsRefund {
        amount_paid: Money,
        why: RefundReason,
        to: OrderStatus,
    },
}

/// Why money is flagged for refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// Paid after the deadline and the stock went to another buyer.
    LateStockGone,
    /// Paid after the deadline, but less than was due.
    LateShort,
    /// Paid for an order that was cancelled.
    Cancelled,
    /// Paid for an order that was already paid (a double transfer).
    AlreadyPaid,
    /// Paid more than was due.
    Overpaid,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::LateStockGone => "late_stock_gone",
            RefundReason::LateShort => "late_short",
            RefundReason::Cancelled => "cancelled",
            RefundReason::AlreadyPaid => "already_paid",
            RefundReason::Overpaid => "overpaid",
        }
    }

    pub const ALL: [RefundReason; 5] = [
        RefundReason::LateStockGone,
        RefundReason::LateShort,
        RefundReason::Cancelled,
        RefundReason::AlreadyPaid,
        RefundReason::Overpaid,
    ];

    pub fn parse(raw: &str) -> Option<RefundReason> {
        RefundReason::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// Decides what money from a source that `arrives_by_itself` does to an order that is not open.
/// `stock_available` says whether every line's units could be taken again (read by the store in
/// the same transaction, with the product rows locked).
pub fn decide_late_payment(
    status: OrderStatus,
    amount_due: Money,
    amount_paid: Money,
    amount: Money,
    stock_available: bool,
) -> Result<LateDecision, TransitionError> {
    let amount_paid = amount_paid
        .checked_add(amount)
        .expect("amounts are bounded by AMOUNT_MAX, so a sum cannot overflow");
    let why = match status {
        OrderStatus::AwaitingPayment | OrderStatus::AwaitingBalance => {
            return Err(TransitionError {
                status,
                action: "paid late",
            });
        }
        OrderStatus::Expired if amount_paid < amount_due => RefundReason::LateShort,
        OrderStatus::Expired if stock_available => {
            return Ok(LateDecision::Revive { amount_paid });
        }
        OrderStatus::Expired => RefundReason::LateStockGone,
        OrderStatus::Cancelled | OrderStatus::ReturnedToSender => RefundReason::Cancelled,
        // Money for an order on its way (or a COD order, paid at the door): kept, to refund.
        OrderStatus::Paid
        | OrderStatus::PaidNeedsRefund
        | OrderStatus::AwaitingConfirmation
        | OrderStatus::Confirmed
        | OrderStatus::Packed
        | OrderStatus::Shipped
        | OrderStatus::Delivered
        | OrderStatus::Completed => RefundReason::AlreadyPaid,
    };
    let to = match status {
        OrderStatus::Expired => OrderStatus::PaidNeedsRefund,
        other => other,
    };
    Ok(LateDecision::NeedsRefund {
        amount_paid,
        why,
        to,
    })
}

/// An open order as the statement matcher sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOrder {
    pub id: OrderId,
    pub status: OrderStatus,
    pub amount_due: Money,
    /// The total without the unique code (the same as `amount_due` when there is none).
    pub total: Money,
    pub amount_paid: Money,
    pub deposit: Option<Money>,
}

impl OpenOrder {
    /// The amounts a single transfer for this order is expected to be: what is left to pay, and
    /// while the deposit is unpaid, what is left of the deposit.
    pub fn expected_amounts(&self) -> impl Iterator<Item = i64> {
        let rest = self.amount_due.minor_units() - self.amount_paid.minor_units();
        let deposit = self
            .deposit
            .filter(|_| self.status == OrderStatus::AwaitingPayment)
            .map(|d| d.minor_units() - self.amount_paid.minor_units())
            .filter(|d| *d > 0 && *d != rest);
        std::iter::once(rest).filter(|r| *r > 0).chain(deposit)
    }

    /// What is left to pay without the unique code, when the order has one: a buyer who forgot
    /// the code transfers this.
    pub fn bare_amount(&self) -> Option<i64> {
        let bare = self.total.minor_units() - self.amount_paid.minor_units();
        (self.total != self.amount_due && bare > 0).then_some(bare)
    }
}

/// What a credit matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one open order expects this amount (and the reference, if any, names it).
    Order(OrderId),
    /// Several open orders expect this amount and nothing tells them apart.
    Ambiguous(Vec<OrderId>),
    /// The reference names an order that does not expect this amount.
    ReferenceMismatch(OrderId),
    /// No open order expects this amount.
    Unmatched,
}

/// The open orders by the amounts they expect, for matching many credits in one pass. Orders are
/// taken out as credits pay them, so two credits never pay one order twice.
#[derive(Debug, Default)]
pub struct Matcher {
    by_amount: HashMap<i64, Vec<OrderId>>,
    /// The orders by what is left without their unique code, asked only when no order expects
    /// the amount exactly.
    by_bare_amount: HashMap<i64, Vec<OrderId>>,
    orders: HashMap<OrderId, OpenOrder>,
}

/// Most orders `Match::Ambiguous` lists.
pub const AMBIGUOUS_LISTED_MAX: usize = 10;

impl Matcher {
    pub fn new(open: impl IntoIterator<Item = OpenOrder>) -> Matcher {
        let mut matcher = Matcher::default();
        for order in open {
            matcher.insert(order);
        }
        matcher
    }

    fn insert(&mut self, order: OpenOrder) {
        for amount in order.expected_amounts() {
            self.by_amount.entry(amount).or_default().push(order.id);
        }
        if let Some(bare) = order.bare_amount() {
            self.by_bare_amount.entry(bare).or_default().push(order.id);
        }
        self.orders.insert(order.id, order);
    }

    fn remove(&mut self, id: OrderId) {
        let Some(order) = self.orders.remove(&id) else {
            return;
        };
        for amount in order.expected_amounts() {
            if let Some(ids) = self.by_amount.get_mut(&amount) {
                ids.retain(|other| *other != id);
                if ids.is_empty() {
                    self.by_amount.remove(&amount);
                }
            }
        }
        if let Some(bare) = order.bare_amount()
            && let Some(ids) = self.by_bare_amount.get_mut(&bare)
        {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.by_bare_amount.remove(&bare);
            }
        }
    }

    /// The open order this credit pays, if one can be told without guessing. An amount no order
    /// expects exactly is looked up as what is left without a unique code (the buyer forgot the
    /// code): the payment then pays by the store's short-payment tolerance.
    pub fn find(&self, amount: i64, reference: Option<OrderId>) -> Match {
        let exact = self.by_amount.get(&amount).map(Vec::as_slice);
        let ids = exact
            .or_else(|| self.by_bare_amount.get(&amount).map(Vec::as_slice))
            .unwrap_or(&[]);
        match reference {
            Some(named) if ids.contains(&named) => Match::Order(named),
            // The named order does not expect this amount, or is not open (then it is the
            // store's to look at: it may be a late payment); the amount alone decides nothing.
            Some(named) => Match::ReferenceMismatch(named),
            None => match ids {
                [] => Match::Unmatched,
                [one] => Match::Order(*one),
                many => Match::Ambiguous(many.iter().take(AMBIGUOUS_LISTED_MAX).copied().collect()),
            },
        }
    }

    /// The order after a payment was applied to it: still open with less to pay, or gone.
    pub fn update(&mut self, order: Option<OpenOrder>, id: OrderId) {
        self.remove(id);
        if let Some(order) = order.filter(|o| o.status.is_open()) {
            self.insert(order);
        }
    }

    pub fn get(&self, id: OrderId) -> Option<&OpenOrder> {
        self.orders.get(&id)
    }
}

/// Finds an order number a buyer wrote in a transfer's description: `#1042`, `order 1042`,
/// `pesanan 1042`, `inv 1042`, `invoice 1042` or `lunas-1042` (any case). Bare numbers are not
/// references: descriptions are full of account numbers and times.
pub fn order_reference(description: &str) -> Option<OrderId> {
    let lower = description.to_lowercase();
    let bytes = lower.as_bytes();
    for marker in ["#", "order", "pesanan", "invoice", "inv", "lunas-", "lunas"] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(marker) {
            let start = from + found;
            from = start + marker.len();
            // A word marker must start a word ("inv", not "prinv").
            if marker.len() > 1 && start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &lower[from..];
            let rest = rest.trim_start_matches([' ', ':', '.', '-', '#', '_']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = rest[digits.len()..].chars().next();
            if !digits.is_empty()
                && digits.len() <= 12
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                && let Ok(id) = digits.parse::<i64>()
                && id > 0
            {
                return Some(OrderId(id));
            }
        }
    }
    None
}

/// Reads a gateway's or a statement's amount of rupiah: `150000`, `150000.00`, `150,000.00`,
/// `150.000` or `150.000,00`. A fraction other than zero is refused (rupiah have no sen in use),
/// and so is anything that is not a plain number. The sign is the caller's business.
pub fn parse_rupiah(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 24 {
        return None;
    }
    // The decimal separator is the last `.` or `,` followed by exactly two digits at the end.
    let (whole, fraction) = match raw
        .char_indices()
        .rev()
        .find(|(_, c)| *c == '.' || *c == ',')
    {
        Some((at, _)) if raw.len() - at == 3 => (&raw[..at], Some(&raw[at + 1..])),
        _ => (raw, None),
    };
    if let Some(fraction) = fraction
        && fraction.bytes().any(|b| b != b'0')
    {
        return None;
    }
    // What is left may group thousands with `.` or `,` (one kind), in groups of three.
    let separator = whole.chars().find(|c| *c == '.' || *c == ',');
    let digits: String = match separator {
        None => whole.to_owned(),
        Some(sep) => {
            let groups: Vec<&str> = whole.split(sep).collect();
            let well_grouped = !groups[0].is_empty()
                && groups[0].len() <= 3
                && groups[1..].iter().all(|g| g.len() == 3);
            if !well_grouped {
                return None;
            }
            groups.concat()
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse()
        .ok()
        .filter(|n| *n <= crate::money::AMOUNT_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: i64) -> Money {
        Money::from_stored(amount)
    }

    #[test]
    fn code_amounts_and_random_ones_stay_in_the_range() {
        let codes = UniqueCodes::default();
        assert_eq!(
            code_amounts(money(150_000), &codes),
            Some((150_001, 150_999))
        );
        assert_eq!(random_amount(money(150_000), &codes, 236), Some(150_237));
        let subtract = UniqueCodes {
            direction: CodeDirection::Subtract,
            ..codes
        };
        assert_eq!(code_amounts(money(500), &subtract), Some((1, 499)));
        let narrow = UniqueCodes {
            min: 5,
            max: 7,
            ..codes
        };
        for seed in 0..100 {
            let amount = random_amount(money(1_000), &narrow, seed).unwrap();
            assert!((1_005..=1_007).contains(&amount), "{amount}");
        }
    }

    #[test]
    fn late_money_revives_an_expired_order_only_when_it_covers_and_stock_is_there() {
        let late = |status, paid, amount, stock| {
            decide_late_payment(status, money(150_237), money(paid), money(amount), stock)
        };
        assert_eq!(
            late(OrderStatus::Expired, 0, 150_237, true),
            Ok(LateDecision::Revive {
                amount_paid: money(150_237)
            })
        );
        assert_eq!(
            late(OrderStatus::Expired, 0, 150_237, false),
            Ok(LateDecision::NeedsRefund {
                amount_paid: money(150_237),
                why: RefundReason::LateStockGone,
                to: OrderStatus::PaidNeedsRefund
            })
        );
        assert_eq!(
            late(OrderStatus::Expired, 0, 100_000, true),
            Ok(LateDecision::NeedsRefund {
                amount_paid: money(100_000),
                why: RefundReason::LateShort,
                to: OrderStatus::PaidNeedsRefund
            })
        );
        assert!(matches!(
            late(OrderStatus::Paid, 150_237, 150_237, true),
            Ok(LateDecision::NeedsRefund {
                why: RefundReason::AlreadyPaid,
                to: OrderStatus::Paid,
                ..
            })
        ));
        assert!(matches!(
            late(OrderStatus::Cancelled, 0, 150_237, true),
            Ok(LateDecision::NeedsRefund {
                why: RefundReason::Cancelled,
                to: OrderStatus::Cancelled,
                ..
            })
        ));
        assert!(late(OrderStatus::AwaitingPayment, 0, 1, true).is_err());
    }

    #[test]
    fn matching_never_guesses_between_orders_expecting_the_same_amount() {
        let open = |id, due| OpenOrder {
            id: OrderId(id),
            status: OrderStatus::AwaitingPayment,
            amount_due: money(due),
            total: money(due - due % 1000),
            amount_paid: Money::ZERO,
            deposit: None,
        };
        let mut matcher = Matcher::new([open(1, 150_237), open(2, 99_000), open(3, 99_000)]);
        assert_eq!(matcher.find(150_237, None), Match::Order(OrderId(1)));
        assert_eq!(
            matcher.find(99_000, None),
            Match::Ambiguous(vec![OrderId(2), OrderId(3)])
        );
        assert_eq!(
            matcher.find(99_000, Some(OrderId(3))),
            Match::Order(OrderId(3))
        );
        assert_eq!(
            matcher.find(140_000, Some(OrderId(1))),
            Match::ReferenceMismatch(OrderId(1))
        );
        assert_eq!(matcher.find(5, None), Match::Unmatched);
        matcher.update(None, OrderId(2));
        assert_eq!(matcher.find(99_000, None), Match::Order(OrderId(3)));
    }

    #[test]
    fn a_transfer_without_its_unique_code_finds_its_order_when_no_other_could_be_meant() {
        let open = |id, due, total| OpenOrder {
            id: OrderId(id),
            status: OrderStatus::AwaitingPayment,
            amount_due: money(due),
            total: money(total),
            amount_paid: Money::ZERO,
            deposit: None,
        };
        // 1 and 2 both cost Rp150.000 (codes 237 and 412); 3 costs Rp99.000 (code 15); 4 expects
        // Rp120.000 exactly, and 5 is Rp120.000 before its code.
        let mut matcher = Matcher::new([
            open(1, 150_237, 150_000),
            open(2, 150_412, 150_000),
            open(3, 99_015, 99_000),
            open(4, 120_000, 120_000),
            open(5, 120_150, 120_000),
        ]);
        assert_eq!(matcher.find(99_000, None), Match::Order(OrderId(3)));
        assert_eq!(
            matcher.find(150_000, None),
            Match::Ambiguous(vec![OrderId(1), OrderId(2)])
        );
        assert_eq!(
            matcher.find(150_000, Some(OrderId(2))),
            Match::Order(OrderId(2))
        );
        // An order that expects the amount exactly comes first.
        assert_eq!(matcher.find(120_000, None), Match::Order(OrderId(4)));
        matcher.update(None, OrderId(1));
        assert_eq!(matcher.find(150_000, None), Match::Order(OrderId(2)));
    }

    #[test]
    fn a_deposit_is_an_expected_amount_until_it_is_paid() {
        let order = OpenOrder {
            id: OrderId(9),
            status: OrderStatus::AwaitingPayment,
            amount_due: money(200_000),
            total: money(200_000),
            amount_paid: Money::ZERO,
            deposit: Some(money(100_000)),
        };
        assert_eq!(
            order.expected_amounts().collect::<Vec<_>>(),
            vec![200_000, 100_000]
        );
        let balance = OpenOrder {
            status: OrderStatus::AwaitingBalance,
            amount_paid: money(100_000),
            ..order
        };
        assert_eq!(
            balance.expected_amounts().collect::<Vec<_>>(),
            vec![100_000]
        );
    }

    #[test]
    fn references_are_order_numbers_behind_a_marker() {
        for (description, expected) in [
            (
                "TRSF E-BANKING CR 0112/FTSCY/WS95031 #1042 SARI",
                Some(1042),
            ),
            ("transfer pesanan 77 bu sari", Some(77)),
            ("Order: 5", Some(5)),
            ("INV-1200", Some(1200)),
            ("LUNAS-31 kak rina", Some(31)),
            ("TRSF 0112 150237.00 SARI WULANDARI", None),
            ("#abc", None),
            ("PRINV 33", None),
            ("#12a", None),
        ] {
            assert_eq!(
                order_reference(description).map(|id| id.0),
                expected,
                "{description}"
            );
        }
    }

    #[test]
    fn rupiah_amounts_read_the_ways_banks_and_gateways_write_them() {
        for (raw, expected) in [
            ("150000", Some(150_000)),
            ("150000.00", Some(150_000)),
            ("150,237.00", Some(150_237)),
            ("150.237", Some(150_237)),
            ("150.237,00", Some(150_237)),
            ("1,500,237.00", Some(1_500_237)),
            ("150000.50", None),
            ("15,00,00", None),
            ("abc", None),
            ("", None),
            ("-5", None),
            ("9999999999999999", None),
        ] {
            assert_eq!(parse_rupiah(raw), expected, "{raw}");
        }
    }
}
