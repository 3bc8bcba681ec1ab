//! The Settings page's section for the buyer's side: whether the catalogue at `/shop` is open,
//! how many unpaid orders one number may hold from it, how long a proof of transfer pauses the
//! reminders, and how long a waitlist offer holds its unit. Durations are written as sellers say
//! them (`6 jam`, `30 menit`).

use std::collections::BTreeMap;

use lunas_core::PayWindow;
use lunas_core::settings::{OPEN_ORDERS_PER_PHONE_MAX, ShopSettings};

use super::FieldErrors;
use super::i18n::Strings;

/// The form's values for the settings as they are.
pub(super) fn values(shop: &ShopSettings, english: bool) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("shop_enabled", shop.enabled.to_string()),
        (
            "open_orders_per_phone",
            shop.open_orders_per_phone.to_string(),
        ),
        ("proof_pause", shop.proof_pause.words(english)),
        ("waitlist_offer", shop.waitlist_offer.words(english)),
    ])
}

/// The section's form read into the shop's settings, or the errors of its fields.
pub(super) fn read(
    strings: &Strings,
    named: &BTreeMap<&str, &str>,
) -> Result<ShopSettings, FieldErrors> {
    let mut errors = FieldErrors::new();
    let typed = |name: &str| named.get(name).map_or("", |v| v.trim());
    let mut window = |name: &'static str| match PayWindow::parse(typed(name)) {
        Ok(window) => Some(window),
        Err(e) => {
            errors.insert(name, e.to_string());
            None
        }
    };
    let (proof_pause, waitlist_offer) = (window("proof_pause"), window("waitlist_offer"));
    let open_orders = typed("open_orders_per_phone")
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=OPEN_ORDERS_PER_PHONE_MAX).contains(n));
    if open_orders.is_none() {
        errors.insert(
            "open_orders_per_phone",
            strings
                .get("err_between")
                .replace("{min}", "1")
                .replace("{max}", &OPEN_ORDERS_PER_PHONE_MAX.to_string()),
        );
    }
    match (proof_pause, waitlist_offer, open_orders) {
        (Some(proof_pause), Some(waitlist_offer), Some(open_orders_per_phone))
            if errors.is_empty() =>
        {
            Ok(ShopSettings {
                enabled: named.contains_key("shop_enabled"),
                open_orders_per_phone,
                proof_pause,
                waitlist_offer,
            })
        }
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
        let shop = ShopSettings {
            enabled: true,
            ..ShopSettings::default()
        };
        let shown = values(&shop, false);
        assert_eq!(shown["proof_pause"], "6 jam");
        let mut named: BTreeMap<&str, &str> = shown.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(read(strings, &named), Ok(shop));
        named.remove("shop_enabled");
        assert!(!read(strings, &named).unwrap().enabled, "an unticked box");
        named.insert("proof_pause", "6 jam lagi");
        named.insert("open_orders_per_phone", "0");
        let errors = read(strings, &named).unwrap_err();
        assert!(errors.contains_key("proof_pause") && errors.contains_key("open_orders_per_phone"));
    }
}
