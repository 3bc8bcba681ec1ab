//! Why an order changed, as its history records it. The reason is stored (and shown by the API)
//! as one English sentence, which [`EventReason::stored`] writes and [`EventReason::parse`] reads
//! back, so that the dashboard can say it in the member's language with amounts in rupiah and
//! times in the store's zone. A reason staff typed (a cancellation's) is kept as typed.

use crate::payments::RefundReason;
use crate::{Money, OrderStatus, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventReason {
    /// Part of what was due arrived.
    PartialPayment(Money),
    /// The deposit the buyer's band asked for arrived.
    DepositPaid(Money),
    /// Staff moved the deadline to `to`, saying `why`.
    DeadlineMoved { to: Timestamp, why: String },
    /// The payment deadline passed unpaid.
    DeadlinePassed,
    /// The balance deadline passed after a deposit; the deposit is kept or to be refunded.
    BalanceDeadlinePassed { deposit_kept: bool },
    /// Money came after the deadline while the stock was still there.
    Revived,
    /// Money came after the order ended and cannot buy it.
    LateToRefund {
        amount: Money,
        was: OrderStatus,
        why: RefundReason,
    },
    /// Paid short by no more than the store lets go (a transfer without its unique code): the
    /// difference is written off.
    PaidShort { written_off: Money },
    /// Staff accepted the order as paid with what had arrived ("terima sebagai lunas"), the rest
    /// written off, saying `why`.
    AcceptedShort { written_off: Money, why: String },
    /// The parcel left under this waybill (with its courier, as `CGK01 (JNE)`).
    Shipped(String),
    /// A COD buyer did not confirm in time; the order was cancelled.
    CodUnconfirmed,
    /// A return was asked for, for this reason.
    ReturnRequested(String),
    /// A return request took a step.
    Return(crate::returns::ReturnStatus),
    /// The return window closed: the order is completed.
    ReturnWindowClosed,
    /// The return ended after the window had closed: the order is completed.
    ReturnClosed,
    /// Anything else, as written (a reason staff typed).
    Other(String),
}

const REVIVED: &str = "paid after the deadline; the stock was still there, so the order is revived";
const DEADLINE_PASSED: &str = "payment deadline passed";
const BALANCE_KEPT: &str = "balance deadline passed; the deposit is kept";
const BALANCE_REFUNDED: &str = "balance deadline passed; the deposit is to be refunded";
const COD_UNCONFIRMED: &str = "COD order not confirmed by the buyer in time";
const WINDOW_CLOSED: &str = "return window closed";
const RETURN_CLOSED: &str = "return closed";

impl EventReason {
    /// The sentence stored in the order's history (and shown by the API).
    pub fn stored(&self) -> String {
        match self {
            EventReason::PartialPayment(amount) => {
                format!("partial payment of {}", amount.minor_units())
            }
            EventReason::DepositPaid(amount) => format!("deposit of {} paid", amount.minor_units()),
            EventReason::DeadlineMoved { to, why } => format!("deadline moved to {to}: {why}"),
            EventReason::DeadlinePassed => DEADLINE_PASSED.to_owned(),
            EventReason::BalanceDeadlinePassed { deposit_kept: true } => BALANCE_KEPT.to_owned(),
            EventReason::BalanceDeadlinePassed {
                deposit_kept: false,
            } => BALANCE_REFUNDED.to_owned(),
            EventReason::Revived => REVIVED.to_owned(),
            EventReason::LateToRefund { amount, was, why } => format!(
                "payment of {} arrived after the order was {}; to be refunded ({})",
                amount.minor_units(),
                was.as_str(),
                why.as_str()
            ),
            EventReason::PaidShort { written_off } => format!(
                "paid in full; {} short, written off",
                written_off.minor_units()
            ),
            EventReason::AcceptedShort { written_off, why } => format!(
                "accepted as paid; {} written off: {why}",
                written_off.minor_units()
            ),
            EventReason::Shipped(waybill) => format!("waybill {waybill}"),
            EventReason::CodUnconfirmed => COD_UNCONFIRMED.to_owned(),
            EventReason::ReturnRequested(why) => format!("return requested: {why}"),
            EventReason::Return(status) => format!("return {}", status.as_str()),
            EventReason::ReturnWindowClosed => WINDOW_CLOSED.to_owned(),
            EventReason::ReturnClosed => RETURN_CLOSED.to_owned(),
            EventReason::Other(text) => text.clone(),
        }
    }

    /// Reads a stored reason back; one lunas did not write is `Other`.
    pub fn parse(stored: &str) -> EventReason {
        let amount = |raw: &str| raw.parse::<i64>().ok().map(Money::from_stored);
        let parsed = match stored {
            DEADLINE_PASSED => Some(EventReason::DeadlinePassed),
            BALANCE_KEPT => Some(EventReason::BalanceDeadlinePassed { deposit_kept: true }),
            BALANCE_REFUNDED => Some(EventReason::BalanceDeadlinePassed {
                deposit_kept: false,
            }),
            REVIVED => Some(EventReason::Revived),
            COD_UNCONFIRMED => Some(EventReason::CodUnconfirmed),
            WINDOW_CLOSED => Some(EventReason::ReturnWindowClosed),
            RETURN_CLOSED => Some(EventReason::ReturnClosed),
            _ => None,
        };
        let parsed = parsed
            .or_else(|| {
                stored
                    .strip_prefix("partial payment of ")
                    .and_then(amount)
                    .map(EventReason::PartialPayment)
            })
            .or_else(|| {
                stored
                    .strip_prefix("deposit of ")
                    .and_then(|rest| rest.strip_suffix(" paid"))
                    .and_then(amount)
                    .map(EventReason::DepositPaid)
            })
            .or_else(|| {
                let rest = stored.strip_prefix("deadline moved to ")?;
                let (to, why) = rest.split_once(": ")?;
                Some(EventReason::DeadlineMoved {
                    to: to.parse().ok()?,
                    why: why.to_owned(),
                })
            })
            .or_else(|| {
                let rest = stored.strip_prefix("paid in full; ")?;
                let short = rest.strip_suffix(" short, written off")?;
                Some(EventReason::PaidShort {
                    written_off: amount(short)?,
                })
            })
            .or_else(|| {
                let rest = stored.strip_prefix("accepted as paid; ")?;
                let (short, why) = rest.split_once(" written off: ")?;
                Some(EventReason::AcceptedShort {
                    written_off: amount(short)?,
                    why: why.to_owned(),
                })
            })
            .or_else(|| {
                let rest = stored.strip_prefix("payment of ")?;
                let (paid, rest) = rest.split_once(" arrived after the order was ")?;
                let (was, rest) = rest.split_once("; to be refunded (")?;
                let why = rest.strip_suffix(')')?;
                Some(EventReason::LateToRefund {
                    amount: amount(paid)?,
                    was: OrderStatus::parse(was)?,
                    why: RefundReason::parse(why)?,
                })
            });
        let parsed = parsed
            .or_else(|| {
                stored
                    .strip_prefix("waybill ")
                    .map(|w| EventReason::Shipped(w.to_owned()))
            })
            .or_else(|| {
                stored
                    .strip_prefix("return requested: ")
                    .map(|why| EventReason::ReturnRequested(why.to_owned()))
            })
            .or_else(|| {
                stored
                    .strip_prefix("return ")
                    .and_then(crate::returns::ReturnStatus::parse)
                    .map(EventReason::Return)
            });
        parsed.unwrap_or_else(|| EventReason::Other(stored.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_what_is_stored() {
        let at: Timestamp = "2026-12-06T13:00:00Z".parse().unwrap();
        let check = |reason: EventReason, stored: &str| {
            assert_eq!(reason.stored(), stored);
            assert_eq!(EventReason::parse(stored), reason, "{stored}");
        };
        check(
            EventReason::PartialPayment(Money::from_stored(158_000)),
            "partial payment of 158000",
        );
        check(
            EventReason::DepositPaid(Money::from_stored(50_000)),
            "deposit of 50000 paid",
        );
        check(
            EventReason::DeadlineMoved {
                to: at,
                why: "gajian tanggal 25: katanya".into(),
            },
            "deadline moved to 2026-12-06T13:00:00Z: gajian tanggal 25: katanya",
        );
        check(EventReason::DeadlinePassed, "payment deadline passed");
        check(
            EventReason::Shipped("CGK01 (JNE)".into()),
            "waybill CGK01 (JNE)",
        );
        check(
            EventReason::CodUnconfirmed,
            "COD order not confirmed by the buyer in time",
        );
        check(
            EventReason::ReturnRequested("noda: di ujung".into()),
            "return requested: noda: di ujung",
        );
        check(
            EventReason::Return(crate::returns::ReturnStatus::Approved),
            "return approved",
        );
        check(EventReason::ReturnWindowClosed, "return window closed");
        check(EventReason::ReturnClosed, "return closed");
        check(
            EventReason::BalanceDeadlinePassed { deposit_kept: true },
            "balance deadline passed; the deposit is kept",
        );
        check(
            EventReason::BalanceDeadlinePassed {
                deposit_kept: false,
            },
            "balance deadline passed; the deposit is to be refunded",
        );
        check(
            EventReason::Revived,
            "paid after the deadline; the stock was still there, so the order is revived",
        );
        check(
            EventReason::LateToRefund {
                amount: Money::from_stored(150_237),
                was: OrderStatus::Expired,
                why: RefundReason::LateStockGone,
            },
            "payment of 150237 arrived after the order was expired; to be refunded (late_stock_gone)",
        );
        check(
            EventReason::PaidShort {
                written_off: Money::from_stored(673),
            },
            "paid in full; 673 short, written off",
        );
        check(
            EventReason::AcceptedShort {
                written_off: Money::from_stored(2_500),
                why: "biaya admin bank: dipotong".into(),
            },
            "accepted as paid; 2500 written off: biaya admin bank: dipotong",
        );
        check(EventReason::Other("stok habis".into()), "stok habis");
        check(
            EventReason::Other("partial payment of lots".into()),
            "partial payment of lots",
        );
    }
}
