//! Placing an order: the request as the store receives it (lines, the buyer, the messaging it
//! writes with), `decide_placement` — what the buyer's band and the store's settings make of it
//! before a row is written —, what comes back, and the verdicts that refuse it; the verdicts of
//! the later operations on an order; what a timer tick did.

use std::sync::Arc;

use crate::messages::Composer;
use crate::reliability::{AppliedPolicy, Assessment, BandReason, PolicyRefusal};
use crate::timers::PlannedTimer;
use crate::{
    Actor, CustomerInfo, Money, Order, PayWindow, PaymentMethod, Quantity, Settings, Sku,
    Timestamp, TransitionError,
};

/// What the store needs to write messages in the transaction that causes them: the settings they
/// follow and the compiled templates.
#[derive(Clone, Debug)]
pub struct Messaging {
    pub settings: Arc<Settings>,
    pub composer: Arc<Composer>,
    /// Whether this server can send email (SMTP is configured).
    pub email_available: bool,
    /// Whether this server can send WhatsApp messages through the Cloud API.
    pub whatsapp_available: bool,
    /// Where buyers reach this server (`LUNAS_PUBLIC_URL`): their order pages' links start here.
    pub public_base: Arc<str>,
}

/// What placing an order decides before anything is written: the policy of the buyer's band as
/// it applies to this order, the deadline, the timers that deadline needs, and whether the
/// amount due carries a unique code. The deposit waits for the total, which only holding the
/// stock tells (`Placement::policy`).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    applied: AppliedPolicy,
    deposit_percent: Option<u8>,
    /// When the order must be paid by; `None` for COD.
    pub pay_by: Option<Timestamp>,
    /// The release of the hold and the reminders before it.
    pub timers: Vec<PlannedTimer>,
    /// A bank transfer gets a unique code when the store uses them.
    pub unique_code: bool,
    /// The status the order starts in: awaiting payment, or a COD order's buyer's confirmation.
    pub status: crate::OrderStatus,
    /// By when a COD buyer must confirm the order.
    pub confirm_by: Option<Timestamp>,
}

impl Placement {
    /// The policy the order records, with the deposit it asks of `total` (only where there is a
    /// deadline to pay it by: never of COD).
    pub fn policy(&self, total: Money) -> AppliedPolicy {
        AppliedPolicy {
            deposit: self
                .deposit_percent
                .filter(|percent| *percent > 0 && self.pay_by.is_some())
                .map(|percent| crate::reliability::deposit_amount(total, percent)),
            ..self.applied.clone()
        }
    }
}

/// Decides an order of `units` units paid by `method` at `placed_at` for a buyer assessed as
/// `assessment`: refused by the band's policy, or the deadline (the window the caller asked for,
/// `pay_within`, or the store's for the method, shortened by the policy), its timers, and the
/// policy as it applies. A COD order waits for its buyer's confirmation instead of a payment,
/// and is refused to a buyer with `cod_refusals` parcels refused at the door in the store's
/// period, as many as its rule allows.
pub fn decide_placement(
    settings: &Settings,
    assessment: Assessment,
    method: PaymentMethod,
    pay_within: Option<PayWindow>,
    units: i64,
    placed_at: Timestamp,
    cod_refusals: i64,
) -> Result<Placement, PolicyRefusal> {
    if method == PaymentMethod::Cod && !settings.fulfilment.cod_allowed(cod_refusals) {
        return Err(PolicyRefusal::CodRefusals {
            refusals: cod_refusals,
            days: settings.fulfilment.cod_refusal_days,
        });
    }
    let band_policy = settings.risk.policies.for_band(assessment.band);
    let window = pay_within.or_else(|| settings.payment_windows.for_method(method));
    let allowed = crate::reliability::apply(band_policy, method, units, window)?;
    let applied = AppliedPolicy {
        band: assessment.band,
        reason: assessment.explanation,
        score_percent: (assessment.score.probability * 100.0)
            .round()
            .clamp(0.0, 100.0) as u8,
        pinned: matches!(assessment.reason, BandReason::Pinned { .. }),
        pay_within: allowed.filter(|_| allowed != window),
        deposit: None,
    };
    let pay_by = settings.pay_by(method, placed_at, allowed);
    let reminders = crate::timers::reminders_for(settings, method, placed_at, pay_by);
    let mut timers = crate::timers::deadline_timers(settings, method, pay_by, &reminders, 1);
    let confirm_by = (method == PaymentMethod::Cod)
        .then(|| placed_at + settings.fulfilment.cod_confirm_within.as_duration());
    timers.extend(confirm_by.map(|by| PlannedTimer::at(crate::timers::TimerKind::ConfirmCod, by)));
    Ok(Placement {
        applied,
        deposit_percent: band_policy.deposit_percent,
        pay_by,
        timers,
        unique_code: method == PaymentMethod::BankTransfer && settings.payments.unique_code.enabled,
        status: if confirm_by.is_some() {
            crate::OrderStatus::AwaitingConfirmation
        } else {
            crate::OrderStatus::AwaitingPayment
        },
        confirm_by,
    })
}

#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub sku: Sku,
    pub qty: Quantity,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer: CustomerInfo,
    pub lines: Vec<NewOrderLine>,
    /// Where the parcel goes, if the order ships.
    pub address: Option<crate::shipping::Address>,
    /// The shipping cost and the discount, added to and taken from the items' total.
    pub charges: crate::shipping::Charges,
    pub payment_method: PaymentMethod,
    /// The window the caller asked for; `None` for the store's window of the method.
    pub pay_within: Option<crate::PayWindow>,
    pub placed_at: Timestamp,
    pub actor: Actor,
    pub idempotency: Option<IdempotencyKey>,
    pub messaging: Messaging,
    /// The store's base rate, the prior of the buyer's score.
    pub base_rate: crate::reliability::BaseRate,
    /// HMAC of the buyer's number, to find the record an erasure left behind.
    pub phone_hmac: String,
    /// The token of the order's page, drawn before the transaction (a rerun keeps it).
    pub public_token: String,
    /// What the buyer wrote for the seller.
    pub note: Option<String>,
}

/// A client's idempotency key, scoped to the caller, with a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    /// True when the idempotency key was seen before and `order` is the first response, replayed.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error("not enough stock of {sku}: {requested} requested, {available} available")]
    OutOfStock {
        sku: Sku,
        requested: i64,
        available: i64,
    },
    #[error("no product with SKU {sku}")]
    UnknownSku { sku: Sku },
    /// The product has variants; the order must name one of them.
    #[error("{sku} is sold by its variants; order a variant's SKU")]
    VariantRequired { sku: Sku },
    #[error("the order total is zero; lunas takes orders that have something to pay")]
    ZeroTotal,
    /// The discount is as large as the items and the shipping together, or larger.
    #[error("discount {} is not below the order's {} of items and shipping", discount.minor_units(), before.minor_units())]
    DiscountAboveTotal { discount: Money, before: Money },
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The buyer's band does not allow this order.
    #[error(transparent)]
    Policy(#[from] crate::reliability::PolicyRefusal),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderOpError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error(transparent)]
    Extend(crate::ExtendError),
    /// Staff cannot accept it as paid with what has arrived.
    #[error(transparent)]
    Accept(crate::order::AcceptError),
    /// A step after payment the order cannot take.
    #[error(transparent)]
    Step(#[from] crate::fulfilment::StepError),
    /// The waybill is another order's.
    #[error("waybill {waybill} belongs to order {order}")]
    WaybillTaken {
        waybill: String,
        order: crate::OrderId,
    },
    /// Shipping needs the courier and the waybill.
    #[error("shipping needs the courier and the waybill")]
    WaybillRequired,
    /// A return that cannot be asked for.
    #[error(transparent)]
    Return(#[from] crate::returns::ReturnRefusal),
    /// A step the return request cannot take.
    #[error(transparent)]
    ReturnStep(#[from] crate::returns::ReturnStepError),
    #[error("no such return")]
    ReturnNotFound,
}

/// What one pass over due timers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiredTimers {
    /// Timers taken and removed.
    pub fired: usize,
    /// Orders that expired because of them.
    pub expired: usize,
    /// COD orders cancelled because their buyers never confirmed them.
    pub unconfirmed: usize,
    /// Timers that failed and were pushed back to try again later.
    pub failed: usize,
    /// Timers left for the next tick because another transaction held their order.
    pub busy: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
    pub events: i64,
    pub payments: i64,
    pub timers: i64,
    pub payments_sum: i64,
    pub on_hand_sum: i64,
    pub reserved_sum: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reliability::{Band, BaseRate, Pin, assess};
    use crate::timers::TimerKind;

    const HOUR: i64 = 3600;

    /// What a case expects of the placement: the deadline in hours after placing, the window the
    /// policy shortened it to, the deposit asked of a Rp100.000 order, and a unique code.
    #[derive(Debug, PartialEq)]
    struct Expect {
        pay_by_hours: Option<i64>,
        shortened_to_hours: Option<i64>,
        deposit: Option<i64>,
        unique_code: bool,
    }

    fn check(
        band: Band,
        method: PaymentMethod,
        pay_within_hours: Option<i64>,
        units: i64,
        expect: Result<Expect, PolicyRefusal>,
    ) {
        let settings = Settings::default();
        let placed_at: Timestamp = "2026-12-03T03:00:00Z".parse().unwrap();
        let pin = Pin {
            band,
            reason: "uji".into(),
        };
        let assessment = assess(
            Some(&pin),
            &[],
            None,
            placed_at,
            BaseRate { paid: 0, unpaid: 0 },
            &settings.risk,
            settings.language,
        );
        let pay_within = pay_within_hours.map(|h| PayWindow::from_seconds(h * HOUR).unwrap());
        let got = decide_placement(
            &settings, assessment, method, pay_within, units, placed_at, 0,
        )
        .map(|placement| {
            // The timers follow the deadline: a release when there is one (after the
            // method's grace), reminders before it, numbered from one.
            match placement.pay_by {
                Some(pay_by) => {
                    let release = &placement.timers[0];
                    assert_eq!(release.kind, TimerKind::Expire);
                    assert_eq!(release.due, settings.payments.expires_at(method, pay_by));
                    for (n, reminder) in placement.timers[1..].iter().enumerate() {
                        assert_eq!(reminder.kind, TimerKind::Remind);
                        assert_eq!(reminder.ordinal, Some(n as i64 + 1));
                        assert!(reminder.due > placed_at && reminder.due < pay_by);
                    }
                }
                None => assert!(
                    placement
                        .timers
                        .iter()
                        .all(|t| t.kind == TimerKind::ConfirmCod),
                    "{:?}",
                    placement.timers
                ),
            }
            let policy = placement.policy(Money::from_stored(100_000));
            assert_eq!(policy.band, band);
            assert!(policy.pinned);
            Expect {
                pay_by_hours: placement
                    .pay_by
                    .map(|t| t.duration_since(placed_at).as_secs() / HOUR),
                shortened_to_hours: policy.pay_within.map(|w| w.as_duration().as_secs() / HOUR),
                deposit: policy.deposit.map(|d| d.minor_units()),
                unique_code: placement.unique_code,
            }
        });
        assert_eq!(
            got, expect,
            "{band:?} {method:?} {pay_within_hours:?} {units}"
        );
    }

    #[test]
    fn a_placement_follows_the_band_the_method_and_the_window() {
        use PaymentMethod::*;
        let plain = |hours, code| Expect {
            pay_by_hours: hours,
            shortened_to_hours: None,
            deposit: None,
            unique_code: code,
        };
        // The store's windows: a day for a bank transfer (with a unique code), none for COD.
        check(
            Band::Normal,
            BankTransfer,
            None,
            1,
            Ok(plain(Some(24), true)),
        );
        check(Band::Trusted, Qris, None, 3, Ok(plain(Some(1), false)));
        check(Band::Normal, Cod, None, 1, Ok(plain(None, false)));
        // The window the caller asked for.
        check(
            Band::Normal,
            BankTransfer,
            Some(6),
            1,
            Ok(plain(Some(6), true)),
        );
        // Watch: the window shortened to two hours and half the total asked first.
        check(
            Band::Watch,
            BankTransfer,
            None,
            2,
            Ok(Expect {
                pay_by_hours: Some(2),
                shortened_to_hours: Some(2),
                deposit: Some(50_000),
                unique_code: true,
            }),
        );
        check(
            Band::Watch,
            BankTransfer,
            Some(1),
            2,
            Ok(Expect {
                pay_by_hours: Some(1),
                shortened_to_hours: None,
                deposit: Some(50_000),
                unique_code: true,
            }),
        );
        // Watch refuses COD and more than five units; blocked refuses everything.
        check(
            Band::Watch,
            Cod,
            None,
            1,
            Err(PolicyRefusal::MethodNotAllowed { method: Cod }),
        );
        check(
            Band::Watch,
            BankTransfer,
            None,
            6,
            Err(PolicyRefusal::TooManyUnits { max: 5 }),
        );
        check(
            Band::Blocked,
            BankTransfer,
            None,
            1,
            Err(PolicyRefusal::Blocked),
        );
    }
}
