//! The store's settings that the core rules read. Stored by `store` as one JSON document and
//! edited through the API; every field has a default, so a new store works at once.

use serde::{Deserialize, Serialize};

use crate::{Currency, PayWindow, PaymentMethod, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub currency: Currency,
    /// IANA time zone used to show times to the seller and buyers.
    pub timezone: String,
    pub payment_windows: PaymentWindows,
}

/// How long a buyer has to pay, per payment method. COD has no payment deadline: the buyer pays the
/// courier, so the order holds its stock until it is paid or cancelled.
///
/// Defaults: bank transfer and virtual account 24 hours (a buyer who orders in the evening can pay
/// at the bank or in m-banking the next day); e-wallet and QRIS 1 hour (the buyer pays from the
/// phone they are ordering on, so a long hold only keeps stock from other buyers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentWindows {
    pub bank_transfer: PayWindow,
    pub virtual_account: PayWindow,
    pub ewallet: PayWindow,
    pub qris: PayWindow,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            currency: Currency::IDR,
            timezone: "Asia/Jakarta".to_owned(),
            payment_windows: PaymentWindows::default(),
        }
    }
}

impl Default for PaymentWindows {
    fn default() -> Self {
        let hours =
            |h: i64| PayWindow::from_seconds(h * 3600).expect("default windows are in range");
        PaymentWindows {
            bank_transfer: hours(24),
            virtual_account: hours(24),
            ewallet: hours(1),
            qris: hours(1),
        }
    }
}

impl PaymentWindows {
    /// The window for `method`, or `None` for COD.
    pub fn for_method(&self, method: PaymentMethod) -> Option<PayWindow> {
        match method {
            PaymentMethod::BankTransfer => Some(self.bank_transfer),
            PaymentMethod::VirtualAccount => Some(self.virtual_account),
            PaymentMethod::Ewallet => Some(self.ewallet),
            PaymentMethod::Qris => Some(self.qris),
            PaymentMethod::Cod => None,
        }
    }
}

impl Settings {
    /// The payment deadline of an order placed at `placed_at`: the per-order window when one was
    /// given, otherwise the store's window for the method. COD orders have none.
    pub fn pay_by(
        &self,
        method: PaymentMethod,
        placed_at: Timestamp,
        pay_within: Option<PayWindow>,
    ) -> Option<Timestamp> {
        if method == PaymentMethod::Cod {
            return None;
        }
        let window = pay_within.or(self.payment_windows.for_method(method))?;
        Some(
            placed_at
                .checked_add(window.as_duration())
                .expect("a 30-day window cannot leave jiff's range for any real clock"),
        )
    }

    /// Checks what serde cannot: that the time zone exists.
    pub fn validate(&self) -> Result<(), String> {
        jiff::tz::TimeZone::get(&self.timezone)
            .map(|_| ())
            .map_err(|_| format!("unknown time zone {:?}", self.timezone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_comes_from_the_method_unless_the_order_overrides_it() {
        let settings = Settings::default();
        let placed: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let bank = settings
            .pay_by(PaymentMethod::BankTransfer, placed, None)
            .unwrap();
        assert_eq!(bank.to_string(), "2026-11-23T10:00:00Z");
        let live = settings
            .pay_by(
                PaymentMethod::BankTransfer,
                placed,
                Some(PayWindow::parse("5s").unwrap()),
            )
            .unwrap();
        assert_eq!(live.to_string(), "2026-11-22T10:00:05Z");
        assert_eq!(settings.pay_by(PaymentMethod::Cod, placed, None), None);
    }

    #[test]
    fn settings_read_partial_documents_and_reject_unknown_fields() {
        let settings: Settings =
            serde_json::from_str(r#"{"payment_windows": {"qris": "15m"}}"#).unwrap();
        assert_eq!(settings.payment_windows.qris.seconds(), 900);
        assert_eq!(settings.payment_windows.bank_transfer.seconds(), 86_400);
        assert!(serde_json::from_str::<Settings>(r#"{"paymnet_windows": {}}"#).is_err());
        assert!(
            serde_json::from_str::<Settings>(r#"{"payment_windows": {"qris": "0s"}}"#).is_err()
        );
    }
}
