//! The store's settings that the core rules read. Stored by `store` as one JSON document and
//! edited through the API; every field has a default, so a new store works at once.

use serde::{Deserialize, Serialize};

use crate::messages::{BankAccount, Composer, Language, TemplateError, Templates};
use crate::reminders::{Cadence, QuietHours, ReminderStep};
use crate::{Currency, PayWindow, PaymentMethod, Timestamp};

/// Longest store name or link, in characters.
pub const SETTING_TEXT_LEN_MAX: usize = 500;
/// Most bank accounts shown in payment instructions.
pub const BANK_ACCOUNTS_MAX: usize = 10;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub currency: Currency,
    /// IANA time zone used to show times to the seller and buyers.
    pub timezone: String,
    pub payment_windows: PaymentWindows,
    /// The language of messages to buyers: `id` (default) or `en`.
    pub language: Language,
    /// The shop's name as buyers know it, used in messages.
    pub store_name: String,
    /// Where a buyer can order again (shown when a booking is released).
    pub store_link: Option<String>,
    /// The shop's WhatsApp number: buyers' order pages link to a chat with it (E.164).
    pub store_whatsapp: Option<String>,
    /// No reminders go out in these local hours; `null` for none.
    pub quiet_hours: Option<QuietHours>,
    /// The reminder cadence per payment method. COD has none: the buyer pays the courier.
    pub reminders: Reminders,
    /// Which lifecycle messages are sent.
    pub messages: LifecycleMessages,
    /// Which automatic channels the store uses when the server offers them.
    pub channels: Channels,
    /// The seller's own templates; missing ones use the defaults of `language`.
    pub templates: Templates,
    /// Accounts shown in the payment instructions of bank transfers.
    pub bank_accounts: Vec<BankAccount>,
    /// A payment page for non-transfer methods, shown in the instructions.
    pub payment_link: Option<String>,
    /// Buyer reliability: how the score is computed and what each band does to a new order.
    pub risk: crate::reliability::Risk,
    /// Unique codes of bank transfers and the grace slow methods get before an order expires.
    pub payments: crate::payments::PaymentSettings,
    /// The buyer's side: the catalogue buyers order from, proofs of transfer, the waitlist.
    pub shop: ShopSettings,
    /// After the payment: COD confirmation and the COD refusal rule.
    pub fulfilment: crate::fulfilment::FulfilmentSettings,
    /// The return policy.
    pub returns: crate::returns::ReturnPolicy,
    /// When the shop answers buyers: response times are counted in these hours.
    pub business_hours: crate::business_hours::BusinessHours,
    /// The FAQ bot, the waiting alert and when an inquiry counts as ghosted.
    pub conversations: crate::conversations::ConversationSettings,
}

/// Most open orders per phone the shop's limit may be set to.
pub const OPEN_ORDERS_PER_PHONE_MAX: u32 = 20;

/// The buyer's side of the store.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopSettings {
    /// Whether the catalogue at `/shop` is open to buyers (off by default: the seller opens it).
    pub enabled: bool,
    /// Most unpaid orders one phone number may have open from the catalogue (1 to 20).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20))]
    pub open_orders_per_phone: u32,
    /// How long a proof of transfer waiting for staff pauses the order's reminders and keeps its
    /// hold (default 6 hours).
    pub proof_pause: PayWindow,
    /// How long a waitlist offer holds its unit for the buyer it was offered to (default 30
    /// minutes).
    pub waitlist_offer: PayWindow,
}

impl Default for ShopSettings {
    fn default() -> Self {
        ShopSettings {
            enabled: false,
            open_orders_per_phone: 2,
            proof_pause: PayWindow::from_seconds(6 * 3600).expect("6 hours is a window"),
            waitlist_offer: PayWindow::from_seconds(30 * 60).expect("30 minutes is a window"),
        }
    }
}

/// Defaults: bank transfer and virtual account (24 h): a gentle reminder two hours in, a check-in
/// the next morning (14 h in, moved out of quiet hours), and a last notice two hours before the
/// hold is released; e-wallet and QRIS (1 h): one reminder 15 minutes in and one 10 minutes
/// before the deadline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reminders {
    pub bank_transfer: Cadence,
    pub virtual_account: Cadence,
    pub ewallet: Cadence,
    pub qris: Cadence,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleMessages {
    pub order_received: bool,
    pub payment_received: bool,
    pub hold_released: bool,
    pub cancelled: bool,
    pub deadline_moved: bool,
    pub cod_confirm: bool,
    pub packed: bool,
    pub shipped: bool,
    pub delivered: bool,
    pub return_update: bool,
}

/// Which automatic channel a message takes: WhatsApp through the Cloud API when the server has it
/// and `whatsapp` is on; else email when the server has SMTP, `email` is on and the buyer gave an
/// address; else the manual WhatsApp queue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Channels {
    pub email: bool,
    pub whatsapp: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            email: true,
            whatsapp: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    /// A payment method's reminder cadence does not fit its payment window.
    #[error("reminders.{}: {error}", .method.as_str())]
    Cadence {
        method: PaymentMethod,
        error: crate::reminders::CadenceError,
    },
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// How long a buyer has to pay, per payment method. COD has no payment deadline: the buyer pays the
/// courier, so the order holds its stock until it is paid or cancelled.
///
/// Defaults: bank transfer and virtual account 24 hours (a buyer who orders in the evening can pay
/// at the bank or in m-banking the next day); e-wallet and QRIS 1 hour (the buyer pays from the
/// phone they are ordering on, so a long hold only keeps stock from other buyers).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            language: Language::Indonesian,
            store_name: "Toko Kami".to_owned(),
            store_link: None,
            store_whatsapp: None,
            quiet_hours: Some(QuietHours::new(
                jiff::civil::time(21, 0, 0, 0),
                jiff::civil::time(8, 0, 0, 0),
            )),
            reminders: Reminders::default(),
            messages: LifecycleMessages::default(),
            channels: Channels::default(),
            templates: Templates::default(),
            bank_accounts: Vec::new(),
            payment_link: None,
            risk: crate::reliability::Risk::default(),
            payments: crate::payments::PaymentSettings::default(),
            shop: ShopSettings::default(),
            fulfilment: crate::fulfilment::FulfilmentSettings::default(),
            returns: crate::returns::ReturnPolicy::default(),
            business_hours: crate::business_hours::BusinessHours::default(),
            conversations: crate::conversations::ConversationSettings::default(),
        }
    }
}

fn cadence(steps: &[(&str, &str)], max_count: usize) -> Cadence {
    let steps = steps
        .iter()
        .map(|(anchor, duration)| {
            let d = PayWindow::parse(duration).expect("default durations are valid");
            let anchor = match *anchor {
                "after_order" => crate::reminders::Anchor::AfterOrder(d),
                _ => crate::reminders::Anchor::BeforeDeadline(d),
            };
            ReminderStep {
                anchor,
                template: None,
            }
        })
        .collect();
    Cadence { steps, max_count }
}

impl Default for Reminders {
    fn default() -> Self {
        let day = cadence(
            &[
                ("after_order", "2h"),
                ("after_order", "14h"),
                ("before_deadline", "2h"),
            ],
            3,
        );
        let hour = cadence(&[("after_order", "15m"), ("before_deadline", "10m")], 2);
        Reminders {
            bank_transfer: day.clone(),
            virtual_account: day,
            ewallet: hour.clone(),
            qris: hour,
        }
    }
}

impl Reminders {
    pub fn for_method(&self, method: PaymentMethod) -> Option<&Cadence> {
        match method {
            PaymentMethod::BankTransfer => Some(&self.bank_transfer),
            PaymentMethod::VirtualAccount => Some(&self.virtual_account),
            PaymentMethod::Ewallet => Some(&self.ewallet),
            PaymentMethod::Qris => Some(&self.qris),
            PaymentMethod::Cod => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (PaymentMethod, &Cadence)> {
        PaymentMethod::ALL
            .into_iter()
            .filter_map(|m| self.for_method(m).map(|c| (m, c)))
    }
}

impl Default for LifecycleMessages {
    fn default() -> Self {
        LifecycleMessages {
            order_received: true,
            payment_received: true,
            hold_released: true,
            cancelled: true,
            deadline_moved: true,
            cod_confirm: true,
            packed: true,
            shipped: true,
            delivered: true,
            return_update: true,
        }
    }
}

impl LifecycleMessages {
    pub fn enabled(&self, kind: crate::messages::MessageKind) -> bool {
        use crate::messages::MessageKind;
        match kind {
            MessageKind::Reminder => true,
            MessageKind::OrderReceived => self.order_received,
            MessageKind::PaymentReceived => self.payment_received,
            MessageKind::HoldReleased => self.hold_released,
            MessageKind::Cancelled => self.cancelled,
            MessageKind::DeadlineMoved => self.deadline_moved,
            MessageKind::CodConfirm => self.cod_confirm,
            MessageKind::Packed => self.packed,
            MessageKind::Shipped => self.shipped,
            MessageKind::Delivered => self.delivered,
            MessageKind::ReturnUpdate => self.return_update,
            MessageKind::WaitlistOffer => true,
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

    /// The store's time zone; settings are validated when saved, so it exists.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// Checks what serde cannot: the time zone exists, every cadence fits its payment window,
    /// links are web addresses, and every template compiles and renders. Returns the compiled
    /// templates, ready for use.
    pub fn validate(&self) -> Result<Composer, SettingsError> {
        self.risk.validate().map_err(SettingsError::Invalid)?;
        self.payments.validate().map_err(SettingsError::Invalid)?;
        self.fulfilment.validate().map_err(SettingsError::Invalid)?;
        self.returns.validate().map_err(SettingsError::Invalid)?;
        self.conversations
            .validate()
            .map_err(SettingsError::Invalid)?;
        self.business_hours
            .validate()
            .map_err(|e| SettingsError::Invalid(format!("business_hours: {e}")))?;
        jiff::tz::TimeZone::get(&self.timezone).map_err(|_| {
            SettingsError::Invalid(format!("unknown time zone {:?}", self.timezone))
        })?;
        for (method, cadence) in self.reminders.iter() {
            let window = self
                .payment_windows
                .for_method(method)
                .expect("methods with reminders have windows");
            cadence
                .validate(window)
                .map_err(|error| SettingsError::Cadence { method, error })?;
        }
        let name = self.store_name.trim();
        if name.is_empty() || name.chars().count() > SETTING_TEXT_LEN_MAX {
            return Err(SettingsError::Invalid(
                "store_name must be 1 to 500 characters".into(),
            ));
        }
        for (field, link) in [
            ("store_link", &self.store_link),
            ("payment_link", &self.payment_link),
        ] {
            if let Some(link) = link
                && !is_web_link(link)
            {
                return Err(SettingsError::Invalid(format!(
                    "{field} must be an http(s) address"
                )));
            }
        }
        if let Some(number) = &self.store_whatsapp
            && crate::Phone::parse(number).is_err()
        {
            return Err(SettingsError::Invalid(
                "store_whatsapp must be a phone number such as +6281234567890".into(),
            ));
        }
        if !(1..=OPEN_ORDERS_PER_PHONE_MAX).contains(&self.shop.open_orders_per_phone) {
            return Err(SettingsError::Invalid(format!(
                "shop.open_orders_per_phone must be 1 to {OPEN_ORDERS_PER_PHONE_MAX}"
            )));
        }
        if self.bank_accounts.len() > BANK_ACCOUNTS_MAX {
            return Err(SettingsError::Invalid(format!(
                "at most {BANK_ACCOUNTS_MAX} bank accounts"
            )));
        }
        for account in &self.bank_accounts {
            let fields = [&account.bank, &account.number, &account.holder];
            if fields
                .iter()
                .any(|f| f.trim().is_empty() || f.chars().count() > 100)
            {
                return Err(SettingsError::Invalid(
                    "bank accounts need a bank, a number and a holder".into(),
                ));
            }
        }
        Ok(Composer::new(self)?)
    }
}

/// Whether `link` is a web address a buyer can open: `http(s)://`, no spaces, not too long.
pub fn is_web_link(link: &str) -> bool {
    (link.starts_with("https://") || link.starts_with("http://"))
        && link.len() <= SETTING_TEXT_LEN_MAX
        && !link.chars().any(char::is_whitespace)
}

/// A change to the settings, one section at a time, as the dashboard's forms make them: a field
/// left `None` stays as it is, and the per-method and per-kind entries given replace only
/// themselves. [`SettingsPatch::to_json`] is the JSON merge patch `PUT /api/v1/settings` takes, so
/// the dashboard and the API change the settings the same way.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
    /// `Some(None)` removes the link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_link: Option<Option<String>>,
    /// `Some(None)` removes the number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_whatsapp: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip)]
    pub payment_windows: Vec<(PaymentMethod, PayWindow)>,
    #[serde(skip)]
    pub reminders: Vec<(PaymentMethod, Cadence)>,
    /// A template per language and kind; `None` goes back to the built-in one.
    #[serde(skip)]
    pub templates: Vec<(Language, crate::messages::MessageKind, Option<String>)>,
    /// Which lifecycle messages are sent.
    #[serde(skip)]
    pub messages: Vec<(crate::messages::MessageKind, bool)>,
    /// `Some(None)`: no quiet hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_accounts: Option<Vec<BankAccount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<Channels>,
    /// The risk settings as the seller wrote them (a JSON object merged into the current ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<serde_json::Value>,
    /// `Some(None)`: as much as each order's unique code.
    #[serde(skip)]
    pub short_tolerance: Option<Option<i64>>,
    /// The buyer's side, whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop: Option<ShopSettings>,
    /// After the payment (COD's confirmation and refusal rule), whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<crate::fulfilment::FulfilmentSettings>,
    /// The return policy, whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returns: Option<crate::returns::ReturnPolicy>,
    /// The FAQ bot, the waiting alert and when an inquiry is gone quiet, whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversations: Option<crate::conversations::ConversationSettings>,
    /// The opening hours, whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<crate::business_hours::BusinessHours>,
}

impl SettingsPatch {
    /// The JSON merge patch this is: the whole-value fields as they serialise, the per-method
    /// and per-kind entries each under its own key.
    pub fn to_json(&self) -> serde_json::Value {
        fn value(v: impl Serialize) -> serde_json::Value {
            serde_json::to_value(v).expect("a settings value serialises")
        }
        fn key(k: impl Serialize) -> String {
            value(k)
                .as_str()
                .expect("a key serialises as a string")
                .to_owned()
        }
        let mut patch = value(self);
        for (method, window) in &self.payment_windows {
            patch["payment_windows"][key(method)] = value(window);
        }
        for (method, cadence) in &self.reminders {
            patch["reminders"][key(method)] = value(cadence);
        }
        for (language, kind, source) in &self.templates {
            patch["templates"][key(language)][key(kind)] = value(source);
        }
        for (kind, sent) in &self.messages {
            patch["messages"][key(kind)] = value(sent);
        }
        if let Some(tolerance) = self.short_tolerance {
            patch["payments"]["short_tolerance"] = value(tolerance);
        }
        patch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_is_the_merge_patch_the_api_takes() {
        use crate::messages::MessageKind;
        let check = |patch: SettingsPatch, expect: serde_json::Value| {
            assert_eq!(patch.to_json(), expect);
        };
        check(SettingsPatch::default(), serde_json::json!({}));
        check(
            SettingsPatch {
                store_name: Some("Toko Rina".into()),
                store_link: Some(None),
                quiet_hours: Some(None),
                ..SettingsPatch::default()
            },
            serde_json::json!({"store_name": "Toko Rina", "store_link": null, "quiet_hours": null}),
        );
        check(
            SettingsPatch {
                payment_windows: vec![(PaymentMethod::Qris, PayWindow::parse("30m").unwrap())],
                templates: vec![
                    (Language::Indonesian, MessageKind::Reminder, None),
                    (
                        Language::Indonesian,
                        MessageKind::Cancelled,
                        Some("Maaf".into()),
                    ),
                ],
                messages: vec![(MessageKind::Cancelled, false)],
                ..SettingsPatch::default()
            },
            serde_json::json!({
                "payment_windows": {"qris": "30m"},
                "templates": {"id": {"reminder": null, "cancelled": "Maaf"}},
                "messages": {"cancelled": false},
            }),
        );
    }

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
