//! After the payment: a paid order (or a COD order its buyer confirmed) is packed, shipped with a
//! courier's waybill, delivered, and completed when its return window closes. A COD order first
//! waits for its buyer to confirm it; a parcel refused at the door goes back to the seller.
//!
//! `decide_step` is the only place that decides whether a step is allowed. Steps only move an
//! order forward: a step the order already took, or one it is past (a courier's event arriving
//! late), changes nothing and says so, so a webhook delivered a hundred times, or out of order,
//! leaves the order where the latest real step put it.

use serde::{Deserialize, Serialize};

use crate::{OrderStatus, PayWindow, PaymentMethod, Timestamp, TransitionError};

/// Longest courier name, service or waybill, in characters.
pub const SHIPMENT_TEXT_MAX: usize = 60;

/// A step of an order after its payment (or, for COD, its confirmation).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The COD buyer said "Ya, kirim".
    ConfirmCod,
    /// Staff packed the parcel.
    Pack,
    /// The parcel left with the courier, under a waybill.
    Ship,
    /// The courier delivered it.
    Deliver,
    /// The return window closed without a return (a timer).
    Complete,
    /// The parcel came back: refused at the door (COD) or undeliverable.
    ReturnToSender,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::ConfirmCod,
        Step::Pack,
        Step::Ship,
        Step::Deliver,
        Step::Complete,
        Step::ReturnToSender,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::ConfirmCod => "confirm_cod",
            Step::Pack => "pack",
            Step::Ship => "ship",
            Step::Deliver => "deliver",
            Step::Complete => "complete",
            Step::ReturnToSender => "return_to_sender",
        }
    }

    pub fn parse(raw: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The status the step leads to.
    pub fn target(self) -> OrderStatus {
        match self {
            Step::ConfirmCod => OrderStatus::Confirmed,
            Step::Pack => OrderStatus::Packed,
            Step::Ship => OrderStatus::Shipped,
            Step::Deliver => OrderStatus::Delivered,
            Step::Complete => OrderStatus::Completed,
            Step::ReturnToSender => OrderStatus::ReturnedToSender,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Step::ConfirmCod => "confirmed for COD",
            Step::Pack => "packed",
            Step::Ship => "shipped",
            Step::Deliver => "delivered",
            Step::Complete => "completed",
            Step::ReturnToSender => "returned to sender",
        }
    }
}

/// How far along its way after payment an order is: a step moves an order only to a later rank.
/// `None` for an order that is not on that way (unpaid, ended).
fn rank(status: OrderStatus) -> Option<u8> {
    match status {
        OrderStatus::AwaitingConfirmation => Some(0),
        OrderStatus::Paid | OrderStatus::Confirmed => Some(1),
        OrderStatus::Packed => Some(2),
        OrderStatus::Shipped => Some(3),
        OrderStatus::Delivered => Some(4),
        OrderStatus::Completed | OrderStatus::ReturnedToSender => Some(5),
        OrderStatus::AwaitingPayment
        | OrderStatus::AwaitingBalance
        | OrderStatus::PaidNeedsRefund
        | OrderStatus::Expired
        | OrderStatus::Cancelled => None,
    }
}

/// What a step does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDecision {
    /// The order moves to the step's status.
    Move(OrderStatus),
    /// The order already took this step, or is past it (an event that came late): nothing
    /// changes.
    Already,
}

/// Why a step cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    /// The order is not paid (and not a confirmed COD order): nothing leaves before the money.
    #[error("order is {}: it is not paid, so it cannot be {action}", status.as_str())]
    NotPaid {
        status: OrderStatus,
        action: &'static str,
    },
    /// The COD buyer has not confirmed the order yet.
    #[error("the buyer has not confirmed this COD order yet")]
    NotConfirmed,
    /// Only a COD order is confirmed by its buyer.
    #[error("only a COD order is confirmed by its buyer")]
    NotCod,
}

/// Decides what `step` does to an order in `status` paid by `method`. A step the order took or
/// is past is `Already` (a repeat, a late courier event); one it has not reached its turn for
/// is refused.
pub fn decide_step(
    status: OrderStatus,
    method: PaymentMethod,
    step: Step,
) -> Result<StepDecision, StepError> {
    if step == Step::ConfirmCod && method != PaymentMethod::Cod {
        return Err(StepError::NotCod);
    }
    let target = step.target();
    let Some(current) = rank(status) else {
        return Err(if status.is_open() {
            StepError::NotPaid {
                status,
                action: step.verb(),
            }
        } else {
            TransitionError {
                status,
                action: step.verb(),
            }
            .into()
        });
    };
    let wanted = rank(target).expect("every step leads to a status on the way");
    if status == target || (current >= wanted && step != Step::ReturnToSender) {
        return Ok(StepDecision::Already);
    }
    let allowed = match step {
        Step::ConfirmCod => status == OrderStatus::AwaitingConfirmation,
        // A courier may pick up a parcel staff never ticked as packed.
        Step::Pack | Step::Ship => {
            if status == OrderStatus::AwaitingConfirmation {
                return Err(StepError::NotConfirmed);
            }
            current < wanted
        }
        Step::Deliver => status == OrderStatus::Shipped,
        Step::Complete => status == OrderStatus::Delivered,
        // Refused at the door or undeliverable: only a parcel on its way comes back. One that
        // was delivered and completed is a return, not a refusal.
        Step::ReturnToSender => {
            if status == OrderStatus::Completed {
                return Ok(StepDecision::Already);
            }
            status == OrderStatus::Shipped
        }
    };
    if allowed {
        Ok(StepDecision::Move(target))
    } else {
        Err(TransitionError {
            status,
            action: step.verb(),
        }
        .into())
    }
}

/// Whether a COD confirmation timer firing at `now` cancels an order in `status` whose buyer
/// had until `confirm_by` to confirm.
pub fn cod_unconfirmed(status: OrderStatus, confirm_by: Option<Timestamp>, now: Timestamp) -> bool {
    status == OrderStatus::AwaitingConfirmation && confirm_by.is_some_and(|by| by <= now)
}

/// Whether a buyer's WhatsApp reply confirms a COD order: a short "ya" ("YA", "iya kak", "Ya,
/// kirim", "ok kirim min") and nothing else — a reply that asks for a change ("ya tapi ganti
/// alamat") is left to staff.
pub fn is_yes(reply: &str) -> bool {
    const YES: [&str; 12] = [
        "ya", "yaa", "iya", "iyaa", "y", "yes", "ok", "oke", "okey", "okay", "siap", "lanjut",
    ];
    const ALSO: [&str; 11] = [
        "kirim", "kak", "ka", "kk", "min", "gan", "sis", "aja", "saja", "dikirim", "silakan",
    ];
    let lowered = reply.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.first().is_some_and(|w| YES.contains(w))
        && words.len() <= 4
        && words.iter().all(|w| YES.contains(w) || ALSO.contains(w))
}

/// Where the parcel is: the courier, its service, the waybill and the steps' times.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Shipment {
    /// By when a COD buyer must confirm the order.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub confirm_by: Option<Timestamp>,
    /// The courier (`jne`, `jnt`, `sicepat`…), as staff or the courier's webhook named it.
    pub courier: Option<String>,
    pub service: Option<String>,
    /// The waybill (AWB, *nomor resi*).
    pub waybill: Option<String>,
    /// What the seller paid the courier, in rupiah.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub cost: Option<crate::Money>,
    /// What sending a refused parcel back cost, in rupiah.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub return_cost: Option<crate::Money>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub packed_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub shipped_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub delivered_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub completed_at: Option<Timestamp>,
}

impl Shipment {
    /// Whether nothing of a shipment is known yet (an order before its payment).
    pub fn is_empty(&self) -> bool {
        *self == Shipment::default()
    }

    /// The courier's own tracking page for the waybill, for the couriers lunas knows.
    pub fn tracking_url(&self) -> Option<String> {
        tracking_url(self.courier.as_deref()?, self.waybill.as_deref()?)
    }
}

/// The courier's own tracking page for `waybill`: the couriers Indonesian sellers use most, else
/// none (the buyer still sees the waybill to look up).
pub fn tracking_url(courier: &str, waybill: &str) -> Option<String> {
    let waybill =
        percent_encoding::utf8_percent_encode(waybill.trim(), percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let courier = courier
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-', '&'], "");
    let url = match courier.as_str() {
        "jne" => format!("https://www.jne.co.id/tracking-package?resi={waybill}"),
        "jnt" | "j&t" | "jtexpress" => format!("https://jet.co.id/track?awb={waybill}"),
        "sicepat" => format!("https://www.sicepat.com/checkAwb?awb={waybill}"),
        "anteraja" => format!("https://anteraja.id/tracking/{waybill}"),
        "pos" | "posindonesia" => format!("https://www.posindonesia.co.id/id/tracking/{waybill}"),
        "ninja" | "ninjaxpress" | "ninjavan" => {
            format!("https://www.ninjaxpress.co/id-id/tracking?id={waybill}")
        }
        "idexpress" | "ide" => format!("https://idexpress.com/lacak-paket/?data={waybill}"),
        "tiki" => format!("https://www.tiki.id/id/track?awb={waybill}"),
        "lion" | "lionparcel" => format!("https://lionparcel.com/track/stt?q={waybill}"),
        "sap" | "sapexpress" => {
            format!("https://www.sap-express.id/layanan/tracking?awb={waybill}")
        }
        _ => return None,
    };
    Some(url)
}

/// A courier, service or waybill as staff or a courier typed it: trimmed, 1 to 60 characters,
/// no control characters.
pub fn clean_shipment_text(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()
        && trimmed.chars().count() <= SHIPMENT_TEXT_MAX
        && !trimmed.chars().any(char::is_control))
    .then(|| trimmed.to_owned())
}

/// What happens after payment, as the store sets it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FulfilmentSettings {
    /// How long a COD buyer has to confirm the order before it is cancelled and its stock goes
    /// back on sale (default 24 hours).
    pub cod_confirm_within: PayWindow,
    /// COD is refused to a buyer who refused this many COD parcels at the door in the last
    /// `cod_refusal_days` days (default 2 in 60 days, the rule Shopee Indonesia applies); 0 turns
    /// the rule off.
    #[cfg_attr(feature = "openapi", schema(maximum = 20))]
    pub cod_refusals_max: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub cod_refusal_days: u32,
}

impl Default for FulfilmentSettings {
    fn default() -> Self {
        FulfilmentSettings {
            cod_confirm_within: PayWindow::from_seconds(24 * 3600).expect("a day is a window"),
            cod_refusals_max: 2,
            cod_refusal_days: 60,
        }
    }
}

impl FulfilmentSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.cod_refusals_max > 20 {
            return Err("fulfilment.cod_refusals_max must be 0 to 20".into());
        }
        if !(1..=365).contains(&self.cod_refusal_days) {
            return Err("fulfilment.cod_refusal_days must be 1 to 365".into());
        }
        Ok(())
    }

    /// Since when refusals count against a new COD order placed at `now`.
    pub fn refusals_since(&self, now: Timestamp) -> Timestamp {
        now - jiff::SignedDuration::from_hours(24 * i64::from(self.cod_refusal_days))
    }

    /// Whether a buyer with `refusals` recent refusals may order COD.
    pub fn cod_allowed(&self, refusals: i64) -> bool {
        self.cod_refusals_max == 0 || refusals < i64::from(self.cod_refusals_max)
    }
}

/// What an order's buyer looks like when it is placed, as staff should see it before packing a
/// COD parcel: the signals of a prank or a refusal to come.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskSignal {
    /// The address is too short to find a door by (under 15 characters of street).
    AddressTooShort,
    /// The address has no postcode.
    NoPostcode,
    /// The same number placed three or more other orders in the last 24 hours.
    ManyRecentOrders,
    /// The buyer refused COD parcels at the door before.
    EarlierRefusals,
}

impl RiskSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskSignal::AddressTooShort => "address_too_short",
            RiskSignal::NoPostcode => "no_postcode",
            RiskSignal::ManyRecentOrders => "many_recent_orders",
            RiskSignal::EarlierRefusals => "earlier_refusals",
        }
    }
}

/// The signals of an order with `address`, whose number placed `recent_orders` other orders in
/// the last day and refused `refusals` COD parcels before.
pub fn risk_signals(
    address: Option<&crate::shipping::Address>,
    recent_orders: i64,
    refusals: i64,
) -> Vec<RiskSignal> {
    let mut signals = Vec::new();
    if let Some(address) = address {
        if address.street.trim().chars().count() < 15 {
            signals.push(RiskSignal::AddressTooShort);
        }
        if address.postcode.is_none() {
            signals.push(RiskSignal::NoPostcode);
        }
    }
    if recent_orders >= 3 {
        signals.push(RiskSignal::ManyRecentOrders);
    }
    if refusals > 0 {
        signals.push(RiskSignal::EarlierRefusals);
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;
    use PaymentMethod::{BankTransfer, Cod};

    #[test]
    fn every_step_reads_back_from_what_it_is_stored_as() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
    }

    #[test]
    fn a_paid_order_goes_forward_one_way() {
        let order = [
            (S::Paid, Step::Pack, S::Packed),
            (S::Packed, Step::Ship, S::Shipped),
            (S::Paid, Step::Ship, S::Shipped),
            (S::Shipped, Step::Deliver, S::Delivered),
            (S::Delivered, Step::Complete, S::Completed),
            (S::Shipped, Step::ReturnToSender, S::ReturnedToSender),
        ];
        for (from, step, to) in order {
            assert_eq!(
                decide_step(from, BankTransfer, step),
                Ok(StepDecision::Move(to)),
                "{from:?} {step:?}"
            );
        }
    }

    #[test]
    fn a_repeated_or_late_step_changes_nothing() {
        for (from, step) in [
            (S::Packed, Step::Pack),
            (S::Shipped, Step::Pack),
            (S::Delivered, Step::Ship),
            (S::Completed, Step::Deliver),
            (S::Completed, Step::ReturnToSender),
            (S::ReturnedToSender, Step::Deliver),
            (S::ReturnedToSender, Step::ReturnToSender),
        ] {
            assert_eq!(
                decide_step(from, Cod, step),
                Ok(StepDecision::Already),
                "{from:?} {step:?}"
            );
        }
    }

    #[test]
    fn nothing_leaves_before_the_money_or_the_cod_confirmation() {
        assert!(matches!(
            decide_step(S::AwaitingPayment, BankTransfer, Step::Ship),
            Err(StepError::NotPaid { .. })
        ));
        assert_eq!(
            decide_step(S::AwaitingConfirmation, Cod, Step::Pack),
            Err(StepError::NotConfirmed)
        );
        assert_eq!(
            decide_step(S::AwaitingConfirmation, Cod, Step::ConfirmCod),
            Ok(StepDecision::Move(S::Confirmed))
        );
        assert_eq!(
            decide_step(S::Paid, BankTransfer, Step::ConfirmCod),
            Err(StepError::NotCod)
        );
        assert_eq!(
            decide_step(S::Confirmed, Cod, Step::Pack),
            Ok(StepDecision::Move(S::Packed))
        );
        for (from, step) in [
            (S::Cancelled, Step::Ship),
            (S::Expired, Step::Deliver),
            (S::Packed, Step::Deliver),
            (S::Paid, Step::Complete),
            (S::Delivered, Step::ReturnToSender),
        ] {
            assert!(
                matches!(
                    decide_step(from, Cod, step),
                    Err(StepError::InvalidTransition(_))
                ),
                "{from:?} {step:?}"
            );
        }
    }

    #[test]
    fn tracking_links_escape_the_waybill() {
        assert_eq!(
            tracking_url("JNE", "JX 12/3").as_deref(),
            Some("https://www.jne.co.id/tracking-package?resi=JX%2012%2F3")
        );
        assert_eq!(tracking_url("kurir tetangga", "1"), None);
    }

    #[test]
    fn a_short_yes_confirms_and_anything_more_is_left_to_staff() {
        for yes in [
            "YA",
            "ya kak",
            "Ya, kirim",
            "iya kirim aja min",
            "OK kirim 🙏",
            "Siap kak",
        ] {
            assert!(is_yes(yes), "{yes}");
        }
        for not in [
            "",
            "ya tapi ganti alamat",
            "tidak",
            "batal kak",
            "kapan dikirim?",
            "yang merah",
        ] {
            assert!(!is_yes(not), "{not}");
        }
    }

    #[test]
    fn the_cod_rule_refuses_at_the_limit() {
        let rule = FulfilmentSettings::default();
        assert!(rule.cod_allowed(1));
        assert!(!rule.cod_allowed(2));
        let off = FulfilmentSettings {
            cod_refusals_max: 0,
            ..rule
        };
        assert!(off.cod_allowed(50));
    }
}
