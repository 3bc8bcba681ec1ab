//! The Settings page's section for what comes after the payment: how long a COD buyer has to
//! confirm, after how many refused COD parcels in how many days COD is refused, and the return
//! policy (days after delivery, the conditions in the seller's words, who pays the way back,
//! refund or exchange). Durations are written as sellers say them (`24 jam`).

use std::collections::BTreeMap;

use lunas_core::PayWindow;
use lunas_core::fulfilment::FulfilmentSettings;
use lunas_core::returns::{
    CONDITIONS_LEN_MAX, RETURN_WINDOW_DAYS_MAX, ReturnPolicy, ReturnRemedy, ReturnShippingPaidBy,
};

use super::FieldErrors;
use super::i18n::Strings;

/// The form's values for the settings as they are.
pub(super) fn values(
    fulfilment: &FulfilmentSettings,
    returns: &ReturnPolicy,
    english: bool,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (
            "cod_confirm_within",
            fulfilment.cod_confirm_within.words(english),
        ),
        ("cod_refusals_max", fulfilment.cod_refusals_max.to_string()),
        ("cod_refusal_days", fulfilment.cod_refusal_days.to_string()),
        ("return_days", returns.window_days.to_string()),
        ("return_conditions", returns.conditions.clone()),
        (
            "return_shipping",
            match returns.shipping_paid_by {
                ReturnShippingPaidBy::Buyer => "buyer",
                ReturnShippingPaidBy::Seller => "seller",
            }
            .to_owned(),
        ),
        (
            "return_remedy",
            match returns.remedy {
                ReturnRemedy::Refund => "refund",
                ReturnRemedy::Exchange => "exchange",
                ReturnRemedy::RefundOrExchange => "either",
            }
            .to_owned(),
        ),
    ])
}

/// The section's form read, or the errors of its fields.
pub(super) fn read(
    strings: &Strings,
    named: &BTreeMap<&str, &str>,
) -> Result<(FulfilmentSettings, ReturnPolicy), FieldErrors> {
    let mut errors = FieldErrors::new();
    let typed = |name: &str| named.get(name).map_or("", |v| v.trim());
    let mut number = |name: &'static str, min: u32, max: u32| {
        super::form_number(strings, named, &mut errors, name, (min, max))
    };
    let refusals = number("cod_refusals_max", 0, 20);
    let days = number("cod_refusal_days", 1, 365);
    let window_days = number("return_days", 0, RETURN_WINDOW_DAYS_MAX);
    let confirm = match PayWindow::parse(typed("cod_confirm_within")) {
        Ok(window) => Some(window),
        Err(e) => {
            errors.insert("cod_confirm_within", e.to_string());
            None
        }
    };
    let conditions = named
        .get("return_conditions")
        .map_or("", |v| v.trim())
        .replace('\r', "");
    if conditions.chars().count() > CONDITIONS_LEN_MAX
        || conditions.chars().any(|c| c.is_control() && c != '\n')
    {
        errors.insert(
            "return_conditions",
            strings
                .get("err_text_max")
                .replace("{max}", &CONDITIONS_LEN_MAX.to_string()),
        );
    }
    let shipping_paid_by = match typed("return_shipping") {
        "buyer" => ReturnShippingPaidBy::Buyer,
        _ => ReturnShippingPaidBy::Seller,
    };
    let remedy = match typed("return_remedy") {
        "refund" => ReturnRemedy::Refund,
        "exchange" => ReturnRemedy::Exchange,
        _ => ReturnRemedy::RefundOrExchange,
    };
    match (confirm, refusals, days, window_days) {
        (
            Some(cod_confirm_within),
            Some(cod_refusals_max),
            Some(cod_refusal_days),
            Some(window_days),
        ) if errors.is_empty() => Ok((
            FulfilmentSettings {
                cod_confirm_within,
                cod_refusals_max,
                cod_refusal_days,
            },
            ReturnPolicy {
                window_days,
                conditions,
                shipping_paid_by,
                remedy,
            },
        )),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunas_core::messages::Language;

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let strings = Strings::of(Language::Indonesian);
        let (fulfilment, returns) = (FulfilmentSettings::default(), ReturnPolicy::default());
        let shown = values(&fulfilment, &returns, false);
        assert_eq!(shown["cod_confirm_within"], "1 hari");
        let mut named: BTreeMap<&str, &str> = shown.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(read(strings, &named), Ok((fulfilment, returns)));
        named.insert("cod_confirm_within", "sehari semalam");
        named.insert("return_days", "31");
        let errors = read(strings, &named).unwrap_err();
        assert!(errors.contains_key("cod_confirm_within") && errors.contains_key("return_days"));
    }
}
