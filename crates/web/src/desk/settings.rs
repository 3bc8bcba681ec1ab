//! The owner's Settings page, section by section, with previews of reminders and messages.
//! Settings go through `Engine::update_settings`, the
//! path `PUT /api/v1/settings` takes, so the whole document is checked the same way and the
//! change lands in the audit log.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lunas_core::messages::{BankAccount, Language, MessageKind};
use lunas_core::reminders::{Anchor, Cadence, QuietHours, ReminderStep};
use lunas_core::settings::Channels;
use lunas_core::{PayWindow, PaymentMethod, SettingsPatch};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::json;

use super::cadence_lines::{cadence_line, read_cadence_line};
use super::i18n::language_options;
use super::pages::Query_;
use super::{
    Desk, FieldErrors, PageError, Posted, Strings, done, i18n, notice, reauthenticate, refusal, ser,
};
use crate::ApiError;

const SECTIONS: [&str; 12] = [
    "general",
    "shop",
    "shipping",
    "deadlines",
    "reminders",
    "messages",
    "quiet",
    "bank",
    "channels",
    "risk",
    "conversations",
    "webhooks",
];

/// The lifecycle messages the Messages section edits, in the order a buyer meets them.
const LIFECYCLE: [(MessageKind, &str); 10] = [
    (MessageKind::OrderReceived, "tpl_order_received"),
    (MessageKind::CodConfirm, "tpl_cod_confirm"),
    (MessageKind::DeadlineMoved, "tpl_deadline_moved"),
    (MessageKind::PaymentReceived, "tpl_payment_received"),
    (MessageKind::HoldReleased, "tpl_hold_released"),
    (MessageKind::Cancelled, "tpl_cancelled"),
    (MessageKind::Packed, "tpl_packed"),
    (MessageKind::Shipped, "tpl_shipped"),
    (MessageKind::Delivered, "tpl_delivered"),
    (MessageKind::ReturnUpdate, "tpl_return_update"),
];

/// The payment methods that have a deadline and reminders.
const TIMED: [PaymentMethod; 4] = [
    PaymentMethod::BankTransfer,
    PaymentMethod::VirtualAccount,
    PaymentMethod::Ewallet,
    PaymentMethod::Qris,
];

/// What the Settings page shows in each section's fields, from the current settings, in the
/// member's language (`english`).
fn current_values(settings: &lunas_core::Settings, english: bool) -> BTreeMap<&'static str, Value> {
    let window = |w: PayWindow| w.words(english);
    let mut deadlines = BTreeMap::new();
    let mut reminders = BTreeMap::new();
    let mut step_rows = BTreeMap::new();
    for method in TIMED {
        let m = method.as_str();
        if let Some(w) = settings.payment_windows.for_method(method) {
            deadlines.insert(format!("window_{m}"), window(w));
        }
        if let Some(tolerance) = settings.payments.short_tolerance {
            deadlines.insert(
                "short_tolerance".into(),
                lunas_core::messages::format_rupiah(tolerance),
            );
        }
        if let Some(cadence) = settings.reminders.for_method(method) {
            // Each step a row: when, and from what it counts.
            for (n, step) in cadence.steps.iter().enumerate() {
                let (window, from) = match &step.anchor {
                    Anchor::AfterOrder(w) => (w, AFTER_ORDER),
                    Anchor::BeforeDeadline(w) => (w, BEFORE_DEADLINE),
                };
                reminders.insert(format!("step_{m}_{n}_when"), window.words(english));
                reminders.insert(format!("step_{m}_{n}_from"), from.to_owned());
            }
            reminders.insert(format!("max_{m}"), cadence.max_count.to_string());
        }
        // Two empty rows to add a step, within the most a cadence may have.
        let steps = settings
            .reminders
            .for_method(method)
            .map_or(0, |c| c.steps.len());
        step_rows.insert(
            m,
            (0..(steps + 2).min(lunas_core::reminders::STEPS_MAX)).collect::<Vec<_>>(),
        );
    }
    let templates = match settings.language {
        Language::Indonesian => &settings.templates.id,
        Language::English => &settings.templates.en,
    };
    reminders.insert(
        "template".to_owned(),
        templates.reminder.clone().unwrap_or_default(),
    );
    let mut messages = BTreeMap::new();
    // Each kind's own template and switch (a list zipped by position once showed one message's
    // template under another's name).
    for (kind, field) in LIFECYCLE {
        messages.insert(
            field.to_string(),
            json!(templates.get(kind).cloned().unwrap_or_default()),
        );
        messages.insert(
            format!("send_{}", kind.as_str()),
            json!(settings.messages.enabled(kind)),
        );
    }
    let hhmm = |t: jiff::civil::Time| format!("{:02}:{:02}", t.hour(), t.minute());
    // The accounts as rows of fields, with two empty rows to add one (at most the store's limit).
    let mut banks: BTreeMap<String, String> = BTreeMap::new();
    for (n, account) in settings.bank_accounts.iter().enumerate() {
        banks.insert(format!("bank_{n}_name"), account.bank.clone());
        banks.insert(format!("bank_{n}_number"), account.number.clone());
        banks.insert(format!("bank_{n}_holder"), account.holder.clone());
    }
    let bank_rows = (settings.bank_accounts.len() + 2).min(lunas_core::settings::BANK_ACCOUNTS_MAX);
    BTreeMap::from([
        (
            "general",
            ser(json!({
                "store_name": settings.store_name,
                "store_link": settings.store_link.clone().unwrap_or_default(),
                "store_whatsapp": settings.store_whatsapp.as_deref()
                    .map(|n| lunas_core::Phone::from_stored(n.to_owned()).international())
                    .unwrap_or_default(),
                "language": i18n::code(settings.language),
                "timezone": settings.timezone,
            })),
        ),
        ("deadlines", ser(&deadlines)),
        ("reminders", ser(&reminders)),
        ("step_rows", ser(&step_rows)),
        ("messages", ser(&messages)),
        (
            "quiet",
            ser(json!({
                "quiet_start": settings.quiet_hours.map(|q| hhmm(q.start)).unwrap_or_default(),
                "quiet_end": settings.quiet_hours.map(|q| hhmm(q.end)).unwrap_or_default(),
            })),
        ),
        ("bank", ser(&banks)),
        ("bank_rows", ser((0..bank_rows).collect::<Vec<_>>())),
        (
            "channels",
            ser(json!({
                "whatsapp": settings.channels.whatsapp, "email": settings.channels.email,
            })),
        ),
        ("risk", ser(super::risk::values(&settings.risk, english))),
        (
            "shop",
            ser(super::shop_settings::values(&settings.shop, english)),
        ),
        (
            "shipping",
            ser(super::shipping_settings::values(
                &settings.fulfilment,
                &settings.returns,
                english,
            )),
        ),
        (
            "conversations",
            ser(super::conversation_settings::values(settings)),
        ),
        ("webhooks", ser(json!({}))),
    ])
}

/// The Settings page; `failed` is a section whose form did not go through, with its errors and
/// what was typed.
async fn settings_view(
    desk: &Desk,
    status: StatusCode,
    failed: Option<(&str, FieldErrors, BTreeMap<&str, &str>)>,
    preview: Vec<Value>,
    preview_error: Option<String>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.require_owner()?;
    let engine = &desk.state.engine;
    let settings = engine.settings();
    let mut values = current_values(&settings, desk.language() == Language::English);
    let preview_for = failed
        .as_ref()
        .map_or("", |(section, _, _)| *section)
        .to_owned();
    let mut errors: BTreeMap<&str, Value> = SECTIONS
        .iter()
        .map(|s| (*s, ser(FieldErrors::new())))
        .collect();
    if let Some((section, section_errors, typed)) = failed
        && let Some(slot) = SECTIONS.iter().find(|s| **s == section)
    {
        errors.insert(slot, ser(&section_errors));
        values.insert(slot, ser(&typed));
    }
    let webhooks = engine.webhooks().await.map_err(PageError::from_engine)?;
    desk.page_with_status(
        status,
        "settings.html",
        "settings",
        context! {
            notice => notice,
            sections => ser(SECTIONS),
            shop_url => engine.shop_url(),
            methods => TIMED.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            all_methods => PaymentMethod::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            bands => lunas_core::reliability::Band::ALL.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
            lifecycle => LIFECYCLE.iter().map(|(kind, _)| kind.as_str()).collect::<Vec<_>>(),
            v => ser(&values),
            e => ser(&errors),
            languages => ser(language_options(desk.strings())),
            webhooks => webhooks.iter().map(|w| context! { id => &w.id, url => &w.url }).collect::<Vec<_>>(),
            preview => preview,
            preview_error => preview_error,
            preview_for => preview_for,
        },
    )
}

pub(crate) async fn settings_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    settings_view(&desk, StatusCode::OK, None, Vec::new(), None, notice).await
}

/// Every field of the Settings page's sections; each section's form sends its own, the rest read
/// as empty. Checkboxes are present (`Some`) when ticked.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    store_name: String,
    store_link: String,
    store_whatsapp: String,
    language: String,
    timezone: String,
    window_bank_transfer: String,
    window_virtual_account: String,
    window_ewallet: String,
    window_qris: String,
    window_cod: String,
    short_tolerance: String,
    cadence_bank_transfer: String,
    cadence_virtual_account: String,
    cadence_ewallet: String,
    cadence_qris: String,
    cadence_cod: String,
    max_bank_transfer: String,
    max_virtual_account: String,
    max_ewallet: String,
    max_qris: String,
    max_cod: String,
    template: String,
    quiet_start: String,
    quiet_end: String,
    bank_accounts: String,
    tpl_order_received: String,
    tpl_payment_received: String,
    tpl_hold_released: String,
    tpl_cancelled: String,
    tpl_deadline_moved: String,
    tpl_cod_confirm: String,
    tpl_packed: String,
    tpl_shipped: String,
    tpl_delivered: String,
    tpl_return_update: String,
    send_order_received: Option<String>,
    send_payment_received: Option<String>,
    send_hold_released: Option<String>,
    send_cancelled: Option<String>,
    send_deadline_moved: Option<String>,
    send_cod_confirm: Option<String>,
    send_packed: Option<String>,
    send_shipped: Option<String>,
    send_delivered: Option<String>,
    send_return_update: Option<String>,
    whatsapp: Option<String>,
    email: Option<String>,
    /// The Webhooks section: an endpoint to add, or the id of one to remove.
    url: String,
    id: String,
    /// Present when the member asked for a preview instead of saving.
    preview: Option<String>,
}

impl SettingsForm {
    /// The value typed in `field` of `method` (the field named `field_name(field, method)`).
    fn timed(&self, field: TimedField, method: PaymentMethod) -> &str {
        use PaymentMethod as M;
        use TimedField as F;
        match (field, method) {
            (F::Window, M::BankTransfer) => &self.window_bank_transfer,
            (F::Window, M::VirtualAccount) => &self.window_virtual_account,
            (F::Window, M::Ewallet) => &self.window_ewallet,
            (F::Window, M::Qris) => &self.window_qris,
            (F::Window, M::Cod) => &self.window_cod,
            (F::Cadence, M::BankTransfer) => &self.cadence_bank_transfer,
            (F::Cadence, M::VirtualAccount) => &self.cadence_virtual_account,
            (F::Cadence, M::Ewallet) => &self.cadence_ewallet,
            (F::Cadence, M::Qris) => &self.cadence_qris,
            (F::Cadence, M::Cod) => &self.cadence_cod,
            (F::Max, M::BankTransfer) => &self.max_bank_transfer,
            (F::Max, M::VirtualAccount) => &self.max_virtual_account,
            (F::Max, M::Ewallet) => &self.max_ewallet,
            (F::Max, M::Qris) => &self.max_qris,
            (F::Max, M::Cod) => &self.max_cod,
        }
    }

    /// A lifecycle message's template (the field `tpl_<kind>`) and whether it is sent; `None`
    /// for reminders, which the Reminders section edits.
    fn lifecycle(&self, kind: MessageKind) -> Option<(&str, bool)> {
        match kind {
            MessageKind::OrderReceived => {
                Some((&self.tpl_order_received, self.send_order_received.is_some()))
            }
            MessageKind::PaymentReceived => Some((
                &self.tpl_payment_received,
                self.send_payment_received.is_some(),
            )),
            MessageKind::HoldReleased => {
                Some((&self.tpl_hold_released, self.send_hold_released.is_some()))
            }
            MessageKind::Cancelled => Some((&self.tpl_cancelled, self.send_cancelled.is_some())),
            MessageKind::DeadlineMoved => {
                Some((&self.tpl_deadline_moved, self.send_deadline_moved.is_some()))
            }
            MessageKind::CodConfirm => {
                Some((&self.tpl_cod_confirm, self.send_cod_confirm.is_some()))
            }
            MessageKind::Packed => Some((&self.tpl_packed, self.send_packed.is_some())),
            MessageKind::Shipped => Some((&self.tpl_shipped, self.send_shipped.is_some())),
            MessageKind::Delivered => Some((&self.tpl_delivered, self.send_delivered.is_some())),
            MessageKind::ReturnUpdate => {
                Some((&self.tpl_return_update, self.send_return_update.is_some()))
            }
            MessageKind::Reminder | MessageKind::WaitlistOffer => None,
        }
    }
}

/// What a reminder step counts from, as the Settings page's rows name it.
const AFTER_ORDER: &str = "pesanan";
const BEFORE_DEADLINE: &str = "batas_bayar";

/// A method's reminder steps as the Settings page's rows give them (`step_<method>_<n>_when`, a
/// duration as sellers say it, and `_from`, what it counts from): a row without a time is
/// skipped, one whose time does not read is refused, naming the row. `None` when the form has no
/// rows (the one-line-per-step text of earlier versions, which is read instead).
fn step_rows(
    strings: &Strings,
    method: PaymentMethod,
    named: &BTreeMap<&str, &str>,
    errors: &mut FieldErrors,
) -> Option<Vec<Anchor>> {
    let m = method.as_str();
    if !named.contains_key(format!("step_{m}_0_when").as_str()) {
        return None;
    }
    let mut anchors = Vec::new();
    // Rows beyond the most a cadence may have are read too, so that the settings refuse them.
    for n in 0..=lunas_core::reminders::STEPS_MAX {
        let get = |what: &str| {
            named
                .get(format!("step_{m}_{n}_{what}").as_str())
                .map_or("", |v| v.trim())
        };
        let when = get("when");
        if when.is_empty() {
            continue;
        }
        let Ok(window) = PayWindow::parse(when) else {
            errors.insert(
                field_name(TimedField::Cadence, method),
                strings
                    .get("err_step_when")
                    .replace("{n}", &(n + 1).to_string())
                    .replace("{typed}", when),
            );
            continue;
        };
        anchors.push(match get("from") {
            BEFORE_DEADLINE => Anchor::BeforeDeadline(window),
            _ => Anchor::AfterOrder(window),
        });
    }
    Some(anchors)
}

/// The bank accounts as the Settings page's rows give them (`bank_<n>_name`, `_number`,
/// `_holder`): a row left empty is skipped, a row half filled is refused. `None` when the form has
/// no rows (the one-line-per-account text of earlier versions, which is read instead).
fn bank_rows(
    strings: &Strings,
    named: &BTreeMap<&str, &str>,
    errors: &mut FieldErrors,
) -> Option<Vec<BankAccount>> {
    if !named.contains_key("bank_0_name") {
        return None;
    }
    let mut accounts = Vec::new();
    for n in 0..lunas_core::settings::BANK_ACCOUNTS_MAX {
        let get = |what: &str| {
            named
                .get(format!("bank_{n}_{what}").as_str())
                .map_or("", |v| v.trim())
        };
        let (bank, number, holder) = (get("name"), get("number"), get("holder"));
        match (bank.is_empty(), number.is_empty(), holder.is_empty()) {
            (true, true, true) => {}
            (false, false, false) => accounts.push(BankAccount {
                bank: bank.to_owned(),
                number: number.to_owned(),
                holder: holder.to_owned(),
            }),
            _ => {
                errors.insert("bank_accounts", strings.get("err_bank_row").to_owned());
            }
        }
    }
    Some(accounts)
}

/// The bank accounts as one line each (`BCA | 1234567890 | Sari`), as earlier versions of the
/// page sent them.
fn bank_lines(strings: &Strings, text: &str, errors: &mut FieldErrors) -> Vec<BankAccount> {
    let mut accounts = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        match parts.as_slice() {
            [bank, number, holder]
                if !bank.is_empty() && !number.is_empty() && !holder.is_empty() =>
            {
                accounts.push(BankAccount {
                    bank: (*bank).to_owned(),
                    number: (*number).to_owned(),
                    holder: (*holder).to_owned(),
                });
            }
            _ => {
                errors.insert(
                    "bank_accounts",
                    format!("{} ({line})", strings.get("err_bank_line")),
                );
            }
        }
    }
    accounts
}

/// A section's form as a settings patch, or the errors of its fields. `form` names the page's
/// fixed fields; `named` is the whole form, for the fields named from enums and rows (the risk
/// policy's per band, the bank accounts' per row).
fn section_patch(
    strings: &Strings,
    section: &str,
    form: &SettingsForm,
    named: &BTreeMap<&str, &str>,
    current: &lunas_core::Settings,
) -> Result<SettingsPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let text_or_none = |raw: &str| Some(raw.trim().to_owned()).filter(|t| !t.is_empty());
    let mut patch = SettingsPatch::default();
    match section {
        "general" => {
            // Said here in the member's language rather than as the settings' English refusal.
            use lunas_core::settings::{SETTING_TEXT_LEN_MAX, is_web_link};
            let name = form.store_name.trim();
            if name.is_empty() {
                errors.insert("store_name", strings.get("err_required").to_owned());
            } else if name.chars().count() > SETTING_TEXT_LEN_MAX {
                errors.insert(
                    "store_name",
                    strings
                        .get("err_too_long")
                        .replace("{max}", &SETTING_TEXT_LEN_MAX.to_string()),
                );
            }
            if let Some(link) = text_or_none(&form.store_link)
                && !is_web_link(&link)
            {
                errors.insert("store_link", strings.get("err_web_link").to_owned());
            }
            if jiff::tz::TimeZone::get(form.timezone.trim()).is_err() {
                errors.insert("timezone", strings.get("err_timezone").to_owned());
            }
            let whatsapp = match text_or_none(&form.store_whatsapp) {
                None => None,
                Some(raw) => match lunas_core::Phone::parse(&raw) {
                    Ok(phone) => Some(phone.as_str().to_owned()),
                    Err(_) => {
                        errors.insert(
                            "store_whatsapp",
                            strings.get("code_invalid_phone").to_owned(),
                        );
                        None
                    }
                },
            };
            patch.store_name = Some(form.store_name.trim().to_owned());
            patch.store_link = Some(text_or_none(&form.store_link));
            patch.store_whatsapp = Some(whatsapp);
            match form.language.as_str() {
                "id" => patch.language = Some(Language::Indonesian),
                "en" => patch.language = Some(Language::English),
                _ => {
                    errors.insert("language", strings.get("err_bad_form").to_owned());
                }
            }
            patch.timezone = Some(form.timezone.trim().to_owned());
        }
        "deadlines" => {
            for method in TIMED {
                let raw = form.timed(TimedField::Window, method).trim();
                match PayWindow::parse(raw) {
                    Ok(window) => patch.payment_windows.push((method, window)),
                    Err(e) => {
                        errors.insert(field_name(TimedField::Window, method), e.to_string());
                    }
                }
            }
            // Blank: as much as each order's unique code.
            match form.short_tolerance.trim() {
                "" => patch.short_tolerance = Some(None),
                typed => match lunas_core::money::read_rupiah(typed)
                    .filter(|t| (0..=lunas_core::payments::SHORT_TOLERANCE_MAX).contains(t))
                {
                    Some(tolerance) => patch.short_tolerance = Some(Some(tolerance)),
                    None => {
                        errors.insert(
                            "short_tolerance",
                            strings.get("err_short_tolerance").to_owned(),
                        );
                    }
                },
            }
        }
        "reminders" => {
            for method in TIMED {
                let name = field_name(TimedField::Cadence, method);
                let mut steps = Vec::new();
                let existing = current.reminders.for_method(method);
                let anchors = match step_rows(strings, method, named, &mut errors) {
                    Some(anchors) => anchors,
                    // The one-line-per-step text of earlier versions.
                    None => form
                        .timed(TimedField::Cadence, method)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .filter_map(|line| {
                            let anchor = read_cadence_line(line);
                            if anchor.is_none() {
                                errors.insert(
                                    name,
                                    format!("{} ({line})", strings.get("err_cadence_line")),
                                );
                            }
                            anchor
                        })
                        .collect(),
                };
                for (n, anchor) in anchors.into_iter().enumerate() {
                    // A step keeps its own template when it stays where it was.
                    let template = existing
                        .and_then(|c| c.steps.get(n))
                        .and_then(|s| s.template.clone());
                    steps.push(ReminderStep { anchor, template });
                }
                let max_name = field_name(TimedField::Max, method);
                let max_count = match form.timed(TimedField::Max, method).trim().parse::<usize>() {
                    Ok(max) => max,
                    Err(_) => {
                        errors.insert(max_name, strings.get("err_number").to_owned());
                        0
                    }
                };
                patch.reminders.push((method, Cadence { steps, max_count }));
            }
            patch.templates.push((
                current.language,
                MessageKind::Reminder,
                text_or_none(&form.template),
            ));
        }
        "quiet" => {
            let (start, end) = (form.quiet_start.trim(), form.quiet_end.trim());
            let time = |raw: &str| {
                is_hhmm(raw)
                    .then(|| raw[..5].parse::<jiff::civil::Time>().ok())
                    .flatten()
            };
            match (start.is_empty(), end.is_empty(), time(start), time(end)) {
                (true, true, ..) => patch.quiet_hours = Some(None),
                (false, false, Some(start), Some(end)) => {
                    patch.quiet_hours = Some(Some(QuietHours::new(start, end)));
                }
                _ => {
                    errors.insert("quiet_start", strings.get("err_time").to_owned());
                }
            }
        }
        "bank" => {
            let accounts = match bank_rows(strings, named, &mut errors) {
                Some(accounts) => accounts,
                None => bank_lines(strings, &form.bank_accounts, &mut errors),
            };
            let max = lunas_core::settings::BANK_ACCOUNTS_MAX;
            if accounts.len() > max {
                errors.insert(
                    "bank_accounts",
                    strings
                        .get("err_bank_count")
                        .replace("{max}", &max.to_string()),
                );
            }
            if accounts.iter().any(|a| {
                [&a.bank, &a.number, &a.holder]
                    .iter()
                    .any(|f| f.chars().count() > 100)
            }) {
                errors.insert(
                    "bank_accounts",
                    strings.get("err_too_long").replace("{max}", "100"),
                );
            }
            patch.bank_accounts = Some(accounts);
        }
        "messages" => {
            for (kind, _) in LIFECYCLE {
                let (template, send) = form
                    .lifecycle(kind)
                    .expect("the lifecycle list names lifecycle messages");
                patch
                    .templates
                    .push((current.language, kind, text_or_none(template)));
                patch.messages.push((kind, send));
            }
        }
        "risk" => match super::risk::read(strings, named, &current.risk) {
            Ok(risk) => {
                patch.risk = Some(serde_json::to_value(risk).expect("risk settings serialise"))
            }
            Err(risk_errors) => errors.extend(risk_errors),
        },
        "shop" => match super::shop_settings::read(strings, named) {
            Ok(shop) => patch.shop = Some(shop),
            Err(shop_errors) => errors.extend(shop_errors),
        },
        "shipping" => match super::shipping_settings::read(strings, named) {
            Ok((fulfilment, returns)) => {
                patch.fulfilment = Some(fulfilment);
                patch.returns = Some(returns);
            }
            Err(shipping_errors) => errors.extend(shipping_errors),
        },
        "conversations" => match super::conversation_settings::read(strings, named) {
            Ok((conversations, hours)) => {
                patch.conversations = Some(conversations);
                patch.business_hours = Some(hours);
            }
            Err(more) => errors.extend(more),
        },
        "channels" => {
            patch.channels = Some(Channels {
                whatsapp: form.whatsapp.is_some(),
                email: form.email.is_some(),
            });
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

fn is_hhmm(raw: &str) -> bool {
    raw.len() >= 5
        && raw.is_char_boundary(5)
        && jiff::civil::Time::strptime("%H:%M", &raw[..5]).is_ok()
}

/// The per-method fields of the Deadlines and Reminders sections.
#[derive(Debug, Clone, Copy)]
enum TimedField {
    Window,
    Cadence,
    Max,
}

/// A per-method field's name, as templates and errors use it. Every method is named (COD has no
/// such fields on the page, but a new method is a compile error here, never a silent default).
fn field_name(field: TimedField, method: PaymentMethod) -> &'static str {
    use PaymentMethod as M;
    use TimedField as F;
    match (field, method) {
        (F::Window, M::BankTransfer) => "window_bank_transfer",
        (F::Window, M::VirtualAccount) => "window_virtual_account",
        (F::Window, M::Ewallet) => "window_ewallet",
        (F::Window, M::Qris) => "window_qris",
        (F::Window, M::Cod) => "window_cod",
        (F::Cadence, M::BankTransfer) => "cadence_bank_transfer",
        (F::Cadence, M::VirtualAccount) => "cadence_virtual_account",
        (F::Cadence, M::Ewallet) => "cadence_ewallet",
        (F::Cadence, M::Qris) => "cadence_qris",
        (F::Cadence, M::Cod) => "cadence_cod",
        (F::Max, M::BankTransfer) => "max_bank_transfer",
        (F::Max, M::VirtualAccount) => "max_virtual_account",
        (F::Max, M::Ewallet) => "max_ewallet",
        (F::Max, M::Qris) => "max_qris",
        (F::Max, M::Cod) => "max_cod",
    }
}

/// The preview of the reminders a patch would give: each step's time and text, or why the
/// settings would not be accepted.
fn preview_of(desk: &Desk, patch: &serde_json::Value) -> Result<Vec<Value>, String> {
    desk.state
        .engine
        .preview_reminders(patch, PaymentMethod::BankTransfer)
        .map(|steps| {
            steps
                .into_iter()
                .map(|(due, text)| context! { when => desk.when(due), text => text })
                .collect()
        })
        .map_err(|e| settings_refusal(desk, e))
}

/// Why the settings were refused, in the member's words: a reminder step outside its window is
/// said with the method, the step and the durations in words; anything else as the API says it.
fn settings_refusal(desk: &Desk, e: lunas_engine::Error) -> String {
    use lunas_core::reminders::CadenceError;
    let strings = desk.strings();
    let english = desk.language() == Language::English;
    let lunas_engine::Error::CadenceOutsideWindow { method, error } = &e else {
        return strings.error(&ApiError::from(e));
    };
    let method = strings.get(&format!("method_{}", method.as_str()));
    match error {
        CadenceError::TooManySteps | CadenceError::MaxCountTooHigh => {
            format!("{method}: {}", strings.get("err_cadence_too_many"))
        }
        CadenceError::StepOutsideWindow {
            step,
            anchor,
            window,
        } => {
            let key = match anchor {
                Anchor::AfterOrder(_) => "err_cadence_after_deadline",
                Anchor::BeforeDeadline(_) => "err_cadence_before_order",
            };
            strings
                .get(key)
                .replace("{method}", method)
                .replace("{step}", &step.to_string())
                .replace("{when}", &cadence_line(anchor, english))
                .replace("{window}", &window.words(english))
        }
    }
}

/// The live preview (`?section=reminders`, the default, or `?section=messages`): what the
/// section's form would make of the sample order, as JSON `{steps: [{when, text}], error}`.
pub(crate) async fn preview(Query(query): Query_, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let settings = desk.state.engine.settings();
    let section = match query.get("section").map(String::as_str) {
        Some("messages") => "messages",
        _ => "reminders",
    };
    let body = match section_patch(
        desk.strings(),
        section,
        &form.parse()?,
        &form.values(),
        &settings,
    ) {
        Err(errors) => {
            json!({ "steps": [], "error": errors.values().cloned().collect::<Vec<_>>().join(" ") })
        }
        Ok(patch) => match preview_section(&desk, section, &patch.to_json()) {
            Ok(steps) => json!({ "steps": steps, "error": null }),
            Err(error) => json!({ "steps": [], "error": error }),
        },
    };
    Ok(axum::Json(body).into_response())
}

/// The preview of a section: the reminders with their times, or each lifecycle message under
/// its name.
fn preview_section(
    desk: &Desk,
    section: &str,
    patch: &serde_json::Value,
) -> Result<Vec<Value>, String> {
    if section != "messages" {
        return preview_of(desk, patch);
    }
    let strings = desk.strings();
    desk.state
        .engine
        .preview_messages(patch)
        .map(|messages| {
            messages
                .into_iter()
                .map(|(kind, text)| {
                    context! { when => strings.get(&format!("kind_{}", kind.as_str())), text => text }
                })
                .collect()
        })
        .map_err(|e| strings.error(&ApiError::from(e)))
}

pub(crate) async fn save_section(
    Path(section): Path<String>,
    Query(query): Query_,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let typed: SettingsForm = form.parse()?;
    let section = SECTIONS
        .iter()
        .copied()
        .chain(["webhook-delete"])
        .find(|s| *s == section)
        .ok_or(PageError::NotFound(desk.language()))?;
    let fail = |errors: FieldErrors| {
        let shown = if section == "webhook-delete" {
            "webhooks"
        } else {
            section
        };
        (shown, errors, form.values())
    };
    if matches!(section, "bank" | "webhooks" | "webhook-delete")
        && let Some((field, message)) = reauthenticate(&desk, &form).await?
    {
        let shown = if section == "webhook-delete" {
            "webhooks"
        } else {
            section
        };
        return settings_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((shown, FieldErrors::from([(field, message)]), form.values())),
            Vec::new(),
            None,
            None,
        )
        .await;
    }
    let engine = &desk.state.engine;
    match section {
        "webhooks" => {
            return match engine.create_webhook(typed.url.trim(), desk.actor()).await {
                Ok(_) => Ok(done("/settings#webhooks", "saved")),
                Err(e) => {
                    let (field, message) = refusal(desk.strings(), ApiError::from(e))?;
                    settings_view(
                        &desk,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(fail(FieldErrors::from([(field, message)]))),
                        Vec::new(),
                        None,
                        None,
                    )
                    .await
                }
            };
        }
        "webhook-delete" => {
            let id = typed.id.clone();
            engine
                .delete_webhook(id, desk.actor())
                .await
                .map_err(PageError::from_engine)?;
            return Ok(done("/settings#webhooks", "saved"));
        }
        _ => {}
    }
    let settings = engine.settings();
    let patch = section_patch(desk.strings(), section, &typed, &form.values(), &settings);
    let patch = match patch {
        Ok(patch) => patch,
        Err(errors) => {
            return settings_view(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(fail(errors)),
                Vec::new(),
                None,
                None,
            )
            .await;
        }
    };
    if matches!(section, "reminders" | "messages")
        && (query.contains_key("preview") || typed.preview.is_some())
    {
        let (preview, error) = match preview_section(&desk, section, &patch.to_json()) {
            Ok(steps) => (steps, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        return settings_view(
            &desk,
            StatusCode::OK,
            Some(fail(FieldErrors::new())),
            preview,
            error,
            None,
        )
        .await;
    }
    match engine.update_settings(patch.to_json(), desk.actor()).await {
        Ok(_) => Ok(done(&format!("/settings#{section}"), "saved")),
        Err(e) => {
            let message = match e {
                e @ lunas_engine::Error::CadenceOutsideWindow { .. } => settings_refusal(&desk, e),
                e => refusal(desk.strings(), ApiError::from(e))?.1,
            };
            let errors = FieldErrors::from([("form", message)]);
            settings_view(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(fail(errors)),
                Vec::new(),
                None,
                None,
            )
            .await
        }
    }
}
