//! Payments as they are recorded: a new payment and what it did to its order, the review list
//! staff resolve, bank statement credits and imports, and gateway notifications.

use crate::payments::{PaymentSource, RefundReason};
use crate::placing::OrderOpError;
use crate::{Actor, Money, Order, OrderId, Timestamp};

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Money,
    pub reference: Option<String>,
    pub actor: Actor,
    pub recorded_at: Timestamp,
    pub source: PaymentSource,
    /// The payment's identity at its source (a gateway's transaction id, a statement line's
    /// fingerprint): a second payment with the same identity is a duplicate and changes nothing.
    pub external_id: Option<String>,
    /// Apply the money only if it is exactly what is left to pay (gateway payments, whose amount
    /// was set when the payment was created); otherwise it goes to the review list.
    pub exact_amount: bool,
}

impl NewPayment {
    /// A payment staff recorded by hand.
    pub fn by_staff(
        amount: Money,
        reference: Option<String>,
        actor: Actor,
        recorded_at: Timestamp,
    ) -> NewPayment {
        NewPayment {
            amount,
            reference,
            actor,
            recorded_at,
            source: PaymentSource::Staff,
            external_id: None,
            exact_amount: false,
        }
    }
}

/// What recording a payment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Some money arrived; the order keeps waiting for the rest (reminders go on for the balance).
    Partial,
    /// The deposit is paid; the order awaits the balance.
    DepositPaid,
    /// The order is paid in full.
    Paid,
    /// A payment with the same identity was recorded before; nothing changed.
    Duplicate,
    /// Paid after it expired, with the stock still there: the order is paid again.
    Revived,
    /// The money is kept on the order and flagged for refund.
    NeedsRefund(RefundReason),
    /// The money was not applied; it waits in the review list.
    Review(ReviewKind),
}

#[derive(Debug, Clone)]
pub struct PaymentOutcome {
    pub order: Order,
    pub effect: PaymentEffect,
    /// More than was due was paid: the excess, flagged for refund.
    pub overpaid: Option<Money>,
}

/// Why money waits for a human.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// A credit that no open order expects.
    Unmatched,
    /// A credit that several open orders expect, with nothing to tell them apart.
    Ambiguous,
    /// A credit whose description names an order that does not expect its amount.
    ReferenceMismatch,
    /// Money kept on an order that it could not buy (late, short, cancelled, already paid).
    NeedsRefund,
    /// More than was due.
    Overpaid,
    /// A gateway notification for an order lunas does not know.
    UnknownOrder,
    /// A gateway payment whose amount is not what the order has left to pay.
    AmountMismatch,
    /// The gateway refunded or charged back a payment.
    GatewayRefund,
    /// The gateway holds a card payment for a fraud check (`challenge`).
    GatewayChallenge,
    /// A notification that would record money, which the gateway's status API could not confirm
    /// (it did not answer); the gateway delivers it again, and a confirmed delivery closes this.
    GatewayUnconfirmed,
    /// A buyer sent a proof of transfer from the order page: staff check the bank and confirm it
    /// (assign it to its order, which records the payment) or reject it (close it with a note).
    ProofOfTransfer,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 11] = [
        ReviewKind::Unmatched,
        ReviewKind::Ambiguous,
        ReviewKind::ReferenceMismatch,
        ReviewKind::NeedsRefund,
        ReviewKind::Overpaid,
        ReviewKind::UnknownOrder,
        ReviewKind::AmountMismatch,
        ReviewKind::GatewayRefund,
        ReviewKind::GatewayChallenge,
        ReviewKind::GatewayUnconfirmed,
        ReviewKind::ProofOfTransfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Unmatched => "unmatched",
            ReviewKind::Ambiguous => "ambiguous",
            ReviewKind::ReferenceMismatch => "reference_mismatch",
            ReviewKind::NeedsRefund => "needs_refund",
            ReviewKind::Overpaid => "overpaid",
            ReviewKind::UnknownOrder => "unknown_order",
            ReviewKind::AmountMismatch => "amount_mismatch",
            ReviewKind::GatewayRefund => "gateway_refund",
            ReviewKind::GatewayChallenge => "gateway_challenge",
            ReviewKind::GatewayUnconfirmed => "gateway_unconfirmed",
            ReviewKind::ProofOfTransfer => "proof_of_transfer",
        }
    }

    pub fn parse(raw: &str) -> Option<ReviewKind> {
        ReviewKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether the money of this item was not applied to any order yet, so staff can assign it
    /// to one.
    pub fn money_unapplied(self) -> bool {
        matches!(
            self,
            ReviewKind::Unmatched
                | ReviewKind::Ambiguous
                | ReviewKind::ReferenceMismatch
                | ReviewKind::UnknownOrder
                | ReviewKind::AmountMismatch
                | ReviewKind::GatewayUnconfirmed
                | ReviewKind::ProofOfTransfer
        )
    }
}

/// One entry of the review list.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: i64,
    pub created_at: Timestamp,
    pub kind: ReviewKind,
    pub source: PaymentSource,
    pub external_id: Option<String>,
    pub order_id: Option<OrderId>,
    pub amount: i64,
    /// What the staff member needs to decide: the statement line, the candidate orders, the
    /// notification.
    pub detail: serde_json::Value,
    pub resolved: Option<Resolution>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub at: Timestamp,
    pub by: String,
    pub note: String,
}

/// What staff do with a review item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveAction {
    /// Apply the money to this order (only for money not applied yet).
    Assign(OrderId),
    /// Close the item with a note (refunded, a transfer that was not a sale…).
    Close(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("no such review item")]
    NotFound,
    #[error("this review item was already resolved")]
    Resolved,
    #[error("the money of this item is already on an order; close it with a note instead")]
    NotAssignable,
    #[error(transparent)]
    Order(#[from] OrderOpError),
}

/// One credit or debit of a statement or a mutation service, ready to be matched.
#[derive(Debug, Clone)]
pub struct StatementCredit {
    pub fingerprint: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub description: String,
    /// Rupiah, a credit positive.
    pub amount: i64,
    pub balance: Option<i64>,
    /// An order number the description names.
    pub reference: Option<OrderId>,
}

/// What importing a statement did, line by line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Credits recorded as payments of an order.
    pub matched: usize,
    /// Credits put on the review list.
    pub review: usize,
    /// Lines imported before.
    pub duplicates: usize,
    /// Debits and rows that are not transactions.
    pub ignored: usize,
}

/// A gateway's settled, pending, failed or refunded transaction, as its notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayStatus {
    Settled,
    Pending,
    Failed,
    Refunded,
    Challenge,
}

/// A gateway notification whose signature verified.
#[derive(Debug, Clone)]
pub struct GatewayNotification {
    pub gateway: PaymentSource,
    pub transaction_id: String,
    /// The order id as the gateway sent it.
    pub order_ref: String,
    pub order_id: Option<OrderId>,
    pub status: GatewayStatus,
    /// The gateway's own word for the status (`settlement`, `PAID`…).
    pub raw_status: String,
    pub amount: Option<Money>,
    pub body: String,
    pub received_at: Timestamp,
}

/// What a gateway notification did.
#[derive(Debug, Clone)]
pub enum GatewayOutcome {
    /// The payment was recorded (or was a duplicate of one recorded before).
    Payment(PaymentOutcome),
    /// A status that changes nothing in lunas (pending, failed, a stale notification).
    NoChange(Option<Order>),
    /// Put on the review list.
    Review(ReviewKind),
    /// The order is not known; the notification is kept for review.
    UnknownOrder,
}
