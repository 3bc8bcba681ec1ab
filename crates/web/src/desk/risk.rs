//! The risk policy as form fields on the Settings page: when a buyer becomes trusted or watched,
//! and per band what an order may be (refused, which methods, the longest window, the most units,
//! a deposit). No JSON on the page: each field explains itself, and a wrong one is said beside it
//! in the member's language.
//!
//! The fields are named from the enums (`band_<band>_…`, `band_<band>_method_<method>`), so the
//! form is read by those names rather than by a struct of forty fields.

use std::collections::BTreeMap;

use lunas_core::reliability::{Band, ForfeitedDeposit, Policy, Risk};
use lunas_core::{PayWindow, PaymentMethod};

use super::FieldErrors;
use super::i18n::Strings;

/// The store-wide numbers, each with its field name and its bounds.
const NUMBERS: [(&str, u32, u32); 5] = [
    ("trusted_min_score_percent", 0, 100),
    ("trusted_min_paid", 0, 1000),
    ("watch_below_score_percent", 0, 100),
    ("watch_after_unpaid_in_a_row", 0, 100),
    ("half_life_days", 1, 3650),
];

fn number_of(risk: &Risk, name: &str) -> u32 {
    match name {
        "trusted_min_score_percent" => u32::from(risk.trusted_min_score_percent),
        "trusted_min_paid" => risk.trusted_min_paid,
        "watch_below_score_percent" => u32::from(risk.watch_below_score_percent),
        "watch_after_unpaid_in_a_row" => risk.watch_after_unpaid_in_a_row,
        _ => risk.half_life_days,
    }
}

fn set_number(risk: &mut Risk, name: &str, value: u32) {
    // Bounds were checked against NUMBERS: the percentages fit a u8.
    let percent = || u8::try_from(value).unwrap_or(100);
    match name {
        "trusted_min_score_percent" => risk.trusted_min_score_percent = percent(),
        "trusted_min_paid" => risk.trusted_min_paid = value,
        "watch_below_score_percent" => risk.watch_below_score_percent = percent(),
        "watch_after_unpaid_in_a_row" => risk.watch_after_unpaid_in_a_row = value,
        _ => risk.half_life_days = value,
    }
}

fn field(band: Band, what: &str) -> String {
    format!("band_{}_{what}", band.as_str())
}

/// The form's values for the settings as they are.
pub(super) fn values(risk: &Risk, english: bool) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (name, _, _) in NUMBERS {
        values.insert(name.to_owned(), number_of(risk, name).to_string());
    }
    if risk.watch_tire_kickers {
        values.insert("watch_tire_kickers".into(), "on".into());
    }
    values.insert("balance_window".into(), risk.balance_window.words(english));
    values.insert(
        "forfeited_deposit".into(),
        match risk.forfeited_deposit {
            ForfeitedDeposit::Keep => "keep",
            ForfeitedDeposit::Refund => "refund",
        }
        .into(),
    );
    for band in Band::ALL {
        let policy = risk.policies.for_band(band);
        if policy.refuse {
            values.insert(field(band, "refuse"), "on".into());
        }
        for method in PaymentMethod::ALL {
            let allowed = policy
                .allowed_methods
                .as_ref()
                .is_none_or(|methods| methods.contains(&method));
            if allowed {
                values.insert(
                    field(band, &format!("method_{}", method.as_str())),
                    "on".into(),
                );
            }
        }
        if let Some(window) = policy.pay_within_max {
            values.insert(field(band, "window"), window.words(english));
        }
        if let Some(units) = policy.max_units {
            values.insert(field(band, "max_units"), units.to_string());
        }
        if let Some(percent) = policy.deposit_percent.filter(|p| *p > 0) {
            values.insert(field(band, "deposit"), percent.to_string());
        }
    }
    values
}

/// The risk settings the form describes, starting from `current` (the score's finer weights,
/// which the page does not show, stay as they are), or the errors of its fields.
pub(super) fn read(
    strings: &Strings,
    typed: &BTreeMap<&str, &str>,
    current: &Risk,
) -> Result<Risk, FieldErrors> {
    let mut risk = current.clone();
    let mut errors = FieldErrors::new();
    let text = |name: &str| typed.get(name).map_or("", |v| v.trim());
    let range_error = |low: u32, high: u32| {
        strings
            .get("err_range")
            .replace("{low}", &low.to_string())
            .replace("{high}", &high.to_string())
    };
    for (name, low, high) in NUMBERS {
        match text(name).parse::<u32>() {
            Ok(value) if (low..=high).contains(&value) => set_number(&mut risk, name, value),
            _ => {
                errors.insert(name, range_error(low, high));
            }
        }
    }
    match PayWindow::parse(text("balance_window")) {
        Ok(window) => risk.balance_window = window,
        Err(_) => {
            errors.insert("balance_window", strings.get("err_window").to_owned());
        }
    }
    risk.watch_tire_kickers = typed.contains_key("watch_tire_kickers");
    risk.forfeited_deposit = match text("forfeited_deposit") {
        "refund" => ForfeitedDeposit::Refund,
        _ => ForfeitedDeposit::Keep,
    };
    for band in Band::ALL {
        let name = |what: &str| field(band, what);
        let methods: Vec<PaymentMethod> = PaymentMethod::ALL
            .into_iter()
            .filter(|m| typed.contains_key(name(&format!("method_{}", m.as_str())).as_str()))
            .collect();
        let mut policy = Policy {
            refuse: typed.contains_key(name("refuse").as_str()),
            allowed_methods: (methods.len() < PaymentMethod::ALL.len()).then_some(methods),
            ..Policy::default()
        };
        let key = |what: &str| -> &'static str { error_key(band, what) };
        match text(&name("window")) {
            "" => {}
            raw => match PayWindow::parse(raw) {
                Ok(window) => policy.pay_within_max = Some(window),
                Err(_) => {
                    errors.insert(key("window"), strings.get("err_window").to_owned());
                }
            },
        }
        match text(&name("max_units")) {
            "" => {}
            raw => match raw.parse::<i64>() {
                Ok(units) if (1..=lunas_core::order::QUANTITY_MAX).contains(&units) => {
                    policy.max_units = Some(units)
                }
                _ => {
                    errors.insert(key("max_units"), range_error(1, 10_000));
                }
            },
        }
        match text(&name("deposit")) {
            "" | "0" => {}
            raw => match raw.trim_end_matches('%').trim().parse::<u8>() {
                Ok(percent) if (1..=100).contains(&percent) => {
                    policy.deposit_percent = Some(percent)
                }
                _ => {
                    errors.insert(key("deposit"), range_error(0, 100));
                }
            },
        }
        if policy.allowed_methods.as_ref().is_some_and(Vec::is_empty) && !policy.refuse {
            errors.insert(key("methods"), strings.get("err_no_method").to_owned());
        }
        *policy_of(&mut risk, band) = policy;
    }
    if errors.is_empty() {
        Ok(risk)
    } else {
        Err(errors)
    }
}

fn policy_of(risk: &mut Risk, band: Band) -> &mut Policy {
    match band {
        Band::Trusted => &mut risk.policies.trusted,
        Band::Normal => &mut risk.policies.normal,
        Band::Watch => &mut risk.policies.watch,
        Band::Blocked => &mut risk.policies.blocked,
    }
}

/// The error key of a band's field: one of a fixed set, named without allocating per request.
fn error_key(band: Band, what: &str) -> &'static str {
    macro_rules! keys {
        ($band:literal) => {
            match what {
                "window" => concat!("band_", $band, "_window"),
                "max_units" => concat!("band_", $band, "_max_units"),
                "deposit" => concat!("band_", $band, "_deposit"),
                _ => concat!("band_", $band, "_methods"),
            }
        };
    }
    match band {
        Band::Trusted => keys!("trusted"),
        Band::Normal => keys!("normal"),
        Band::Watch => keys!("watch"),
        Band::Blocked => keys!("blocked"),
    }
}
