//! Orders, their items and holds, and the order state machine.
//!
//! The functions `decide_*` are the only place where lunas decides whether a transition is allowed.
//! Storage calls them inside the transaction that applies the transition, with the order's current
//! state as read in that transaction, so a late, repeated or racing request still gets one answer.

use serde::{Deserialize, Serialize};

use crate::{Money, Phone, Sku, Timestamp};

/// Most lines one order may have.
pub const ITEMS_PER_ORDER_MAX: usize = 100;
/// Most units of one SKU on one order.
pub const QUANTITY_MAX: i64 = 10_000;
/// Longest buyer name, product name, reason or payment reference, in characters.
pub const TEXT_LEN_MAX: usize = 200;
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_LEN_MAX: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub i64);

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    /// The deposit the buyer's band asked for is paid; the rest is due by the balance deadline.
    /// Stock stays held.
    AwaitingBalance,
    Paid,
    /// Money arrived after the order ended and could not buy it (the stock was gone, it fell
    /// short, the order was cancelled): it is kept on the order and waits in the review list to
    /// be refunded.
    PaidNeedsRefund,
    Expired,
    Cancelled,
    /// A COD order waiting for its buyer to confirm it ("Ya, kirim") within the store's window.
    /// Stock stays held.
    AwaitingConfirmation,
    /// A COD order its buyer confirmed: it may be packed; the money comes at the door.
    Confirmed,
    /// Packed and waiting for the courier.
    Packed,
    /// With the courier, under a waybill.
    Shipped,
    /// Delivered; the return window runs.
    Delivered,
    /// The return window closed: the sale is final.
    Completed,
    /// The parcel came back to the seller: refused at the door (COD) or undeliverable.
    ReturnedToSender,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    BankTransfer,
    Ewallet,
    Qris,
    VirtualAccount,
    Cod,
}

/// What became of the stock an order line holds. A hold moves out of `Held` exactly once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    /// The units count as `reserved` on the product.
    Held,
    /// The order expired or was cancelled; the units are on sale again.
    Released,
    /// The order was paid; the units left `on_hand` as a sale.
    Converted,
}

/// How the seller addresses the buyer in messages; `kak` when nothing was chosen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Honorific {
    Kak,
    Sis,
    Bund,
    Gan,
    Pak,
    Bu,
    Mas,
    Mbak,
}

/// A positive count of units on one order line, at most `QUANTITY_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(i64);

/// Who made a transition: `system` (timers), `api:<token name>`, later staff and gateways.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInfo {
    pub phone: Phone,
    pub name: String,
    pub email: Option<String>,
    pub honorific: Option<Honorific>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub qty: Quantity,
    pub hold: HoldState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub amount: Money,
    pub reference: Option<String>,
    /// Where it came from: staff, a statement, a mutation service, a gateway.
    #[serde(default = "staff_source")]
    pub source: crate::payments::PaymentSource,
    /// The gateway's transaction id or the statement line's fingerprint: the payment's identity.
    #[serde(default)]
    pub external_id: Option<String>,
    pub recorded_at: Timestamp,
    pub actor: Actor,
}

fn staff_source() -> crate::payments::PaymentSource {
    crate::payments::PaymentSource::Staff
}

/// One transition in an order's history. `from` is `None` for the placement itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub status: OrderStatus,
    pub customer: CustomerInfo,
    pub items: Vec<OrderItem>,
    pub total: Money,
    /// What the buyer must pay: the total, plus or minus the unique code of a bank transfer.
    /// (Zero in an order serialised before lunas had unique codes; read it as the total.)
    #[serde(default)]
    pub amount_due: Money,
    /// The unique code of a bank transfer (`amount_due` differs from `total` by it).
    #[serde(default)]
    pub unique_code: Option<i64>,
    /// The gateway's payment page made for this order, if one was asked for.
    #[serde(default)]
    pub payment_url: Option<String>,
    pub amount_paid: Money,
    pub payment_method: PaymentMethod,
    pub pay_by: Option<Timestamp>,
    pub placed_at: Timestamp,
    pub payments: Vec<PaymentRecord>,
    pub events: Vec<OrderEvent>,
    /// The deposit the buyer's band asked for, due by `pay_by`; the rest is then due by the
    /// balance deadline.
    #[serde(default)]
    pub deposit: Option<Money>,
    /// What became of a paid deposit when the balance never came: `kept` or `to_refund`.
    #[serde(default)]
    pub deposit_forfeited: Option<String>,
    /// The buyer's band and the policy that applied when the order was placed.
    #[serde(default)]
    pub policy: Option<crate::reliability::AppliedPolicy>,
    /// Where the parcel goes, when the order ships.
    #[serde(default)]
    pub address: Option<crate::shipping::Address>,
    /// The shipping cost (`ongkir`), part of `total`.
    #[serde(default)]
    pub shipping_cost: Money,
    /// Taken off `total`.
    #[serde(default)]
    pub discount: Money,
    /// What the store let go of `amount_due` when it took the order as paid: a transfer without
    /// its unique code, or short by what staff accepted.
    #[serde(default)]
    pub written_off: Money,
    /// The token of the buyer's own order page (`/o/{token}`): random, at least 128 bits.
    #[serde(default)]
    pub public_token: Option<String>,
    /// The buyer's proofs of transfer, if any were sent.
    #[serde(default)]
    pub proof: Option<crate::proofs::OrderProof>,
    /// What the buyer wrote for the seller when ordering from the shop.
    #[serde(default)]
    pub note: Option<String>,
    /// The parcel after the payment: courier, waybill, the steps' times.
    #[serde(default)]
    pub shipment: crate::fulfilment::Shipment,
    /// The latest return request, if the buyer asked for one.
    #[serde(default)]
    pub return_request: Option<crate::returns::ReturnSummary>,
}

impl Order {
    /// What the items cost: the total without shipping and discount.
    pub fn items_total(&self) -> Money {
        Money::from_stored(
            self.total.minor_units() - self.shipping_cost.minor_units()
                + self.discount.minor_units(),
        )
    }
}

/// Who cancelled an order: a buyer's cancellation counts against their reliability, a seller's
/// (out of stock, a mistake) does not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    Buyer,
    #[default]
    Seller,
}

impl CancelledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelledBy::Buyer => "buyer",
            CancelledBy::Seller => "seller",
        }
    }
}

/// A transition the order's current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order is {}, it cannot be {action}", status.as_str())]
pub struct TransitionError {
    pub status: OrderStatus,
    pub action: &'static str,
}

/// What recording a payment does to an order that is awaiting payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentDecision {
    /// Some money arrived; the order keeps waiting for the rest.
    Partial { amount_paid: Money },
    /// The deposit is covered (not the total): the order now awaits the balance.
    DepositPaid { amount_paid: Money },
    /// The total is covered, or all but what the store lets go (`written_off`: a transfer of
    /// the total without its unique code): the order becomes `paid` and its holds become sales.
    PaidInFull {
        amount_paid: Money,
        written_off: Money,
    },
}

/// What a fired expiry timer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryDecision {
    /// The order is unpaid and its deadline has passed: expire it and release its holds.
    Expire,
    /// The deadline moved later than the timer; leave the order alone.
    NotDue,
    /// The order already left `awaiting_payment`; the timer has nothing to do.
    Moot,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 13] = [
        OrderStatus::AwaitingPayment,
        OrderStatus::AwaitingBalance,
        OrderStatus::Paid,
        OrderStatus::PaidNeedsRefund,
        OrderStatus::Expired,
        OrderStatus::Cancelled,
        OrderStatus::AwaitingConfirmation,
        OrderStatus::Confirmed,
        OrderStatus::Packed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::ReturnedToSender,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::AwaitingBalance => "awaiting_balance",
            OrderStatus::Paid => "paid",
            OrderStatus::PaidNeedsRefund => "paid_needs_refund",
            OrderStatus::Expired => "expired",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::AwaitingConfirmation => "awaiting_confirmation",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Packed => "packed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::ReturnedToSender => "returned_to_sender",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the order still holds stock that is neither sold nor released: while it waits
    /// for money, and a COD order until it is packed.
    pub fn holds_stock(self) -> bool {
        self.is_open()
            || matches!(
                self,
                OrderStatus::AwaitingConfirmation | OrderStatus::Confirmed
            )
    }

    /// Whether the order is a sale: paid (or, for COD, packed for the buyer who confirmed it)
    /// and not come back. The statuses the day's sales and a buyer's paid orders count.
    pub fn is_sold(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid
                | OrderStatus::Packed
                | OrderStatus::Shipped
                | OrderStatus::Delivered
                | OrderStatus::Completed
        )
    }

    /// The statuses of `is_sold`, as SQL's `IN` list.
    pub const SOLD_SQL: &'static str = "('paid', 'packed', 'shipped', 'delivered', 'completed')";

    /// Whether the order still waits for money (all of it, or the balance after a deposit).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::AwaitingPayment | OrderStatus::AwaitingBalance
        )
    }
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::BankTransfer,
        PaymentMethod::Ewallet,
        PaymentMethod::Qris,
        PaymentMethod::VirtualAccount,
        PaymentMethod::Cod,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Ewallet => "ewallet",
            PaymentMethod::Qris => "qris",
            PaymentMethod::VirtualAccount => "virtual_account",
            PaymentMethod::Cod => "cod",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Held => "held",
            HoldState::Released => "released",
            HoldState::Converted => "converted",
        }
    }

    pub fn parse(raw: &str) -> Option<HoldState> {
        [HoldState::Held, HoldState::Released, HoldState::Converted]
            .into_iter()
            .find(|h| h.as_str() == raw)
    }
}

impl Honorific {
    pub const ALL: [Honorific; 8] = [
        Honorific::Kak,
        Honorific::Sis,
        Honorific::Bund,
        Honorific::Gan,
        Honorific::Pak,
        Honorific::Bu,
        Honorific::Mas,
        Honorific::Mbak,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Honorific::Kak => "kak",
            Honorific::Sis => "sis",
            Honorific::Bund => "bund",
            Honorific::Gan => "gan",
            Honorific::Pak => "pak",
            Honorific::Bu => "bu",
            Honorific::Mas => "mas",
            Honorific::Mbak => "mbak",
        }
    }

    pub fn parse(raw: &str) -> Option<Honorific> {
        let raw = raw.trim().to_ascii_lowercase();
        Honorific::ALL.into_iter().find(|h| h.as_str() == raw)
    }
}

impl Quantity {
    pub fn new(units: i64) -> Option<Quantity> {
        (1..=QUANTITY_MAX)
            .contains(&units)
            .then_some(Quantity(units))
    }

    /// Wraps a quantity read back from storage, where it was validated on the way in.
    pub fn from_stored(units: i64) -> Quantity {
        Quantity(units)
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

impl Actor {
    pub fn system() -> Actor {
        Actor("system".to_owned())
    }

    /// A buyer ordering from the shop's catalogue.
    pub fn shop() -> Actor {
        Actor("shop".to_owned())
    }

    pub fn api_token(token_name: &str) -> Actor {
        Actor(format!("api:{token_name}"))
    }

    /// A payment gateway or a bank's mutation service acting on its own notification.
    pub fn gateway(source: crate::payments::PaymentSource) -> Actor {
        Actor(format!("gateway:{}", source.as_str()))
    }

    pub fn from_stored(raw: String) -> Actor {
        Actor(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims a free-text field and checks its length; `None` when it is empty after trimming.
/// The one-line texts the API document describes (names, reasons, references): at least one
/// character that is not a space, and no control character. [`clean_text`] takes every such
/// string of at most [`TEXT_LEN_MAX`] characters; a test checks it.
pub const TEXT_PATTERN: &str = concat!(
    r"^[^\u0000-\u001F\u007F-\u009F]*",
    r"[^\s\u0000-\u001F\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    r"[^\u0000-\u001F\u007F-\u009F]*$"
);

/// Free text over several lines (notes, tips): no control character but the line break.
pub const NOTE_PATTERN: &str = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$";

pub fn clean_text(raw: &str) -> Result<Option<String>, TextError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > TEXT_LEN_MAX {
        return Err(TextError::TooLong);
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(TextError::ControlCharacter);
    }
    Ok(Some(trimmed.to_owned()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must be at most {TEXT_LEN_MAX} characters")]
    TooLong,
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A light syntactic check of an email address: one `@` with something on both sides, no spaces,
/// at most 254 bytes. Delivery (a later issue) parses it fully with the SMTP library.
/// The addresses the API document describes: visible ASCII, one `@`, a dotted domain. Every one
/// of at most [`EMAIL_LEN_MAX`] characters is an address [`looks_like_email`] takes.
pub const EMAIL_PATTERN: &str = r"^[!-?A-~]+@[!-\-/-?A-~]+(\.[!-\-/-?A-~]+)+$";

pub fn looks_like_email(raw: &str) -> bool {
    let raw = raw.trim();
    let Some((local, domain)) = raw.split_once('@') else {
        return false;
    };
    raw.len() <= EMAIL_LEN_MAX
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Decides what a payment of `amount` does to an order in `status` that has `amount_paid` of
/// `total` (the amount due, unique code included) so far. Payments are accepted while the order awaits payment, even if its deadline has
/// just passed and the expiry timer has not fired yet: the buyer paid and the stock is still held.
/// Money short of the total by no more than `tolerance` pays it, the shortfall written off.
pub fn decide_payment(
    status: OrderStatus,
    total: Money,
    amount_paid: Money,
    amount: Money,
    deposit: Option<Money>,
    tolerance: Money,
) -> Result<PaymentDecision, TransitionError> {
    if !status.is_open() {
        return Err(TransitionError {
            status,
            action: "paid",
        });
    }
    let amount_paid = amount_paid
        .checked_add(amount)
        .expect("amounts are bounded by AMOUNT_MAX, so a sum cannot overflow");
    let short = total.minor_units() - amount_paid.minor_units();
    if short <= tolerance.minor_units() {
        Ok(PaymentDecision::PaidInFull {
            amount_paid,
            written_off: Money::from_stored(short.max(0)),
        })
    } else if status == OrderStatus::AwaitingPayment && deposit.is_some_and(|d| amount_paid >= d) {
        Ok(PaymentDecision::DepositPaid { amount_paid })
    } else {
        Ok(PaymentDecision::Partial { amount_paid })
    }
}

/// Why staff cannot accept an order as paid with what has arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    /// Nothing has been paid: accepting it would give the goods away, which is a cancellation
    /// or a discount, not a payment.
    #[error("nothing has been paid on this order; record the payment first")]
    NothingPaid,
}

/// Decides whether staff may accept an order in `status` that has `amount_paid` of `due` as paid
/// ("terima sebagai lunas"): an open order that some money has reached. Returns the shortfall
/// to write off (zero when it was paid in full meanwhile).
pub fn decide_accept_short(
    status: OrderStatus,
    due: Money,
    amount_paid: Money,
) -> Result<Money, AcceptError> {
    if !status.is_open() {
        return Err(TransitionError {
            status,
            action: "accepted as paid",
        }
        .into());
    }
    if amount_paid == Money::ZERO {
        return Err(AcceptError::NothingPaid);
    }
    Ok(Money::from_stored(
        (due.minor_units() - amount_paid.minor_units()).max(0),
    ))
}

/// Decides whether an order in `status` may be cancelled: while it waits for money, and a COD
/// order until it is packed.
pub fn decide_cancel(status: OrderStatus) -> Result<(), TransitionError> {
    if !status.holds_stock() {
        return Err(TransitionError {
            status,
            action: "cancelled",
        });
    }
    Ok(())
}

/// Longest a deadline can be moved ahead of now: the longest pay window there is.
pub const EXTENSION_MAX: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

/// Why a deadline cannot be moved where staff asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtendError {
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error("the new deadline must be later than the current one")]
    NotLater,
    #[error("the new deadline must be within 30 days from now")]
    TooFar,
}

/// Decides whether an order in `status` with deadline `pay_by` may be given the later deadline
/// `to` at `now`. Only an order awaiting its first payment has a deadline staff can move (a
/// deposit's balance deadline follows the risk policy; COD has none).
pub fn decide_extension(
    status: OrderStatus,
    pay_by: Option<Timestamp>,
    to: Timestamp,
    now: Timestamp,
) -> Result<(), ExtendError> {
    let Some(current) = pay_by.filter(|_| status == OrderStatus::AwaitingPayment) else {
        return Err(TransitionError {
            status,
            action: "given a later deadline",
        }
        .into());
    };
    if to <= current || to <= now {
        return Err(ExtendError::NotLater);
    }
    if to > now + EXTENSION_MAX {
        return Err(ExtendError::TooFar);
    }
    Ok(())
}

/// Decides what an expiry timer firing at `now` does to an order in `status` due at `pay_by`.
pub fn decide_expiry(
    status: OrderStatus,
    pay_by: Option<Timestamp>,
    now: Timestamp,
) -> ExpiryDecision {
    if !status.is_open() {
        return ExpiryDecision::Moot;
    }
    match pay_by {
        Some(deadline) if deadline <= now => ExpiryDecision::Expire,
        _ => ExpiryDecision::NotDue,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn unanchored(pattern: &str) -> &str {
        &pattern[1..pattern.len() - 1]
    }

    proptest! {
        #[test]
        fn every_text_the_document_describes_is_taken(
            raw in proptest::string::string_regex(unanchored(super::TEXT_PATTERN)).unwrap()
        ) {
            prop_assume!(raw.chars().count() <= super::TEXT_LEN_MAX);
            prop_assert!(matches!(super::clean_text(&raw), Ok(Some(_))), "{raw:?}");
        }

        #[test]
        fn every_note_the_document_describes_has_no_control_character_but_newlines(
            raw in proptest::string::string_regex(unanchored(super::NOTE_PATTERN)).unwrap()
        ) {
            prop_assert!(!raw.chars().any(|c| c.is_control() && c != '\n'), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn every_email_the_document_describes_is_taken(
            raw in proptest::string::string_regex(unanchored(super::EMAIL_PATTERN)).unwrap()
        ) {
            prop_assume!(raw.len() <= super::EMAIL_LEN_MAX);
            prop_assert!(super::looks_like_email(&raw), "{raw:?}");
        }
    }

    #[test]
    fn the_text_pattern_refuses_what_clean_text_refuses() {
        let pattern = regex::Regex::new(super::TEXT_PATTERN).unwrap();
        for raw in ["", "   ", "a\u{7}b", "\u{a0}", "tab\there"] {
            assert!(!pattern.is_match(raw), "{raw:?}");
        }
        for raw in ["Rina", " Bu Rina ", "Transfer dari BCA #1042"] {
            assert!(pattern.is_match(raw), "{raw:?}");
        }
    }
    use super::*;

    fn money(amount: i64) -> Money {
        Money::price(amount).unwrap()
    }

    #[test]
    fn a_deadline_moves_only_later_within_thirty_days_and_only_while_awaiting_payment() {
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let due = now + jiff::SignedDuration::from_hours(2);
        let later = now + jiff::SignedDuration::from_hours(26);
        let open = OrderStatus::AwaitingPayment;
        assert_eq!(decide_extension(open, Some(due), later, now), Ok(()));
        assert_eq!(
            decide_extension(open, Some(due), due, now),
            Err(ExtendError::NotLater)
        );
        assert_eq!(
            decide_extension(
                open,
                Some(due),
                now + EXTENSION_MAX + jiff::SignedDuration::from_secs(1),
                now
            ),
            Err(ExtendError::TooFar)
        );
        for (status, pay_by) in [
            (OrderStatus::Paid, Some(due)),
            (OrderStatus::AwaitingBalance, Some(due)),
            (open, None),
        ] {
            assert!(matches!(
                decide_extension(status, pay_by, later, now),
                Err(ExtendError::InvalidTransition(_))
            ));
        }
    }

    #[test]
    fn payment_covering_the_total_pays_the_order() {
        let decision = decide_payment(
            OrderStatus::AwaitingPayment,
            money(150_000),
            money(50_000),
            money(100_000),
            None,
            Money::ZERO,
        );
        assert_eq!(
            decision,
            Ok(PaymentDecision::PaidInFull {
                amount_paid: money(150_000),
                written_off: Money::ZERO,
            })
        );
    }

    #[test]
    fn payment_short_of_the_total_is_kept_as_partial() {
        let decision = decide_payment(
            OrderStatus::AwaitingPayment,
            money(150_000),
            money(0),
            money(100_000),
            None,
            Money::ZERO,
        );
        assert_eq!(
            decision,
            Ok(PaymentDecision::Partial {
                amount_paid: money(100_000)
            })
        );
    }

    #[test]
    fn a_deposit_moves_the_order_to_awaiting_balance_and_the_rest_pays_it() {
        let deposit = Some(money(75_000));
        let pay = |status, paid, amount| {
            decide_payment(
                status,
                money(150_000),
                money(paid),
                money(amount),
                deposit,
                Money::ZERO,
            )
        };
        assert_eq!(
            pay(OrderStatus::AwaitingPayment, 0, 50_000),
            Ok(PaymentDecision::Partial {
                amount_paid: money(50_000)
            })
        );
        assert_eq!(
            pay(OrderStatus::AwaitingPayment, 50_000, 25_000),
            Ok(PaymentDecision::DepositPaid {
                amount_paid: money(75_000)
            })
        );
        assert_eq!(
            pay(OrderStatus::AwaitingBalance, 75_000, 25_000),
            Ok(PaymentDecision::Partial {
                amount_paid: money(100_000)
            })
        );
        assert_eq!(
            pay(OrderStatus::AwaitingBalance, 100_000, 50_000),
            Ok(PaymentDecision::PaidInFull {
                amount_paid: money(150_000),
                written_off: Money::ZERO,
            })
        );
        assert_eq!(
            pay(OrderStatus::AwaitingPayment, 0, 150_000),
            Ok(PaymentDecision::PaidInFull {
                amount_paid: money(150_000),
                written_off: Money::ZERO,
            }),
            "paying everything at once skips the balance"
        );
        assert!(decide_cancel(OrderStatus::AwaitingBalance).is_ok());
        let deadline: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        assert_eq!(
            decide_expiry(OrderStatus::AwaitingBalance, Some(deadline), deadline),
            ExpiryDecision::Expire
        );
    }

    #[test]
    fn money_short_by_no_more_than_the_tolerance_pays_and_the_rest_is_written_off() {
        // (due, paid before, amount, tolerance) → paid in full with this written off, or partial.
        let check = |due: i64, before: i64, amount: i64, tolerance: i64, expect: Option<i64>| {
            let got = decide_payment(
                OrderStatus::AwaitingPayment,
                money(due),
                money(before),
                money(amount),
                None,
                money(tolerance),
            )
            .unwrap();
            let got = match got {
                PaymentDecision::PaidInFull { written_off, .. } => Some(written_off.minor_units()),
                _ => None,
            };
            assert_eq!(got, expect, "{due} {before} {amount} {tolerance}");
        };
        // The total without its unique code of 673.
        check(150_673, 0, 150_000, 673, Some(673));
        check(150_673, 0, 150_673, 673, Some(0));
        check(150_673, 0, 151_000, 673, Some(0));
        check(150_673, 0, 149_999, 673, None);
        check(150_673, 0, 150_000, 0, None);
        check(150_673, 100_000, 50_000, 1_000, Some(673));
    }

    #[test]
    fn staff_accept_as_paid_only_an_open_order_that_money_reached() {
        assert_eq!(
            decide_accept_short(OrderStatus::AwaitingPayment, money(150_673), money(150_000)),
            Ok(money(673))
        );
        assert_eq!(
            decide_accept_short(OrderStatus::AwaitingBalance, money(150_000), money(149_000)),
            Ok(money(1_000))
        );
        assert_eq!(
            decide_accept_short(OrderStatus::AwaitingPayment, money(150_000), money(0)),
            Err(AcceptError::NothingPaid)
        );
        for status in [
            OrderStatus::Paid,
            OrderStatus::Expired,
            OrderStatus::Cancelled,
        ] {
            assert!(matches!(
                decide_accept_short(status, money(150_000), money(100_000)),
                Err(AcceptError::InvalidTransition(_))
            ));
        }
    }

    #[test]
    fn only_orders_awaiting_payment_can_be_paid_or_cancelled() {
        for status in [
            OrderStatus::Paid,
            OrderStatus::Expired,
            OrderStatus::Cancelled,
        ] {
            assert!(
                decide_payment(status, money(1), money(0), money(1), None, Money::ZERO).is_err()
            );
            assert!(decide_cancel(status).is_err());
        }
        assert!(decide_cancel(OrderStatus::AwaitingPayment).is_ok());
    }

    #[test]
    fn expiry_fires_only_for_unpaid_orders_past_their_deadline() {
        let deadline: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let before: Timestamp = "2026-11-22T09:59:59Z".parse().unwrap();
        let s = OrderStatus::AwaitingPayment;
        assert_eq!(
            decide_expiry(s, Some(deadline), deadline),
            ExpiryDecision::Expire
        );
        assert_eq!(
            decide_expiry(s, Some(deadline), before),
            ExpiryDecision::NotDue
        );
        assert_eq!(decide_expiry(s, None, deadline), ExpiryDecision::NotDue);
        assert_eq!(
            decide_expiry(OrderStatus::Paid, Some(deadline), deadline),
            ExpiryDecision::Moot
        );
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(Quantity::new(0).is_none());
        assert!(Quantity::new(-1).is_none());
        assert!(Quantity::new(QUANTITY_MAX + 1).is_none());
        assert_eq!(Quantity::new(3).map(Quantity::units), Some(3));
    }

    #[test]
    fn emails_get_a_light_check() {
        assert!(looks_like_email("sari@example.co.id"));
        assert!(!looks_like_email("sari@"));
        assert!(!looks_like_email("sari example.com"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("sari@localhost"));
    }
}
