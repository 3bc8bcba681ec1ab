//! The Settings page's section for conversations: what the FAQ bot does and from what
//! confidence, when a waiting buyer raises an alert, when an inquiry counts as gone quiet, and
//! the shop's opening hours per weekday with its holidays (waits are counted in them).

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use lunas_core::business_hours::{BusinessHours, Opening};
use lunas_core::conversations::{ConversationSettings, FaqMode};

use super::FieldErrors;
use super::i18n::Strings;

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// The form's values for the settings as they are.
pub(super) fn values(settings: &lunas_core::Settings) -> BTreeMap<String, String> {
    let c = &settings.conversations;
    let mut values = BTreeMap::from([
        (
            "faq_mode".to_owned(),
            match c.faq_mode {
                FaqMode::Off => "off",
                FaqMode::Suggest => "suggest",
                FaqMode::Send => "send",
            }
            .to_owned(),
        ),
        (
            "faq_threshold".to_owned(),
            c.faq_threshold_percent.to_string(),
        ),
        (
            "waiting_alert".to_owned(),
            c.waiting_alert_minutes.to_string(),
        ),
        ("ghosted_days".to_owned(), c.ghosted_after_days.to_string()),
    ]);
    for (day, opening) in settings.business_hours.weekdays.iter().enumerate() {
        if let Some(o) = opening {
            values.insert(format!("open_{day}"), hhmm(o.open));
            values.insert(format!("close_{day}"), hhmm(o.close));
        }
    }
    let holidays: Vec<String> = settings
        .business_hours
        .holidays
        .iter()
        .map(|d| d.to_string())
        .collect();
    values.insert("holidays".to_owned(), holidays.join("\n"));
    values
}

/// The section's form read, or the errors of its fields.
pub(super) fn read(
    strings: &Strings,
    named: &BTreeMap<&str, &str>,
) -> Result<(ConversationSettings, BusinessHours), FieldErrors> {
    let mut errors = FieldErrors::new();
    let typed = |name: &str| named.get(name).map_or("", |v| v.trim());
    let mut number = |name: &'static str, min: u32, max: u32| {
        super::form_number(strings, named, &mut errors, name, (min, max)).unwrap_or(min)
    };
    let settings = ConversationSettings {
        faq_mode: match typed("faq_mode") {
            "off" => FaqMode::Off,
            "send" => FaqMode::Send,
            _ => FaqMode::Suggest,
        },
        faq_threshold_percent: number("faq_threshold", 10, 100),
        waiting_alert_minutes: number("waiting_alert", 1, 1_440),
        ghosted_after_days: number("ghosted_days", 1, 90),
    };
    let mut weekdays = [None; 7];
    for (day, slot) in weekdays.iter_mut().enumerate() {
        let (open_name, close_name) = (format!("open_{day}"), format!("close_{day}"));
        let (open, close) = (typed(&open_name), typed(&close_name));
        if open.is_empty() && close.is_empty() {
            continue;
        }
        let read = |raw: &str| Time::strptime("%H:%M", raw.replace('.', ":")).ok();
        match (read(open), read(close)) {
            (Some(open), Some(close)) if close > open => *slot = Some(Opening { open, close }),
            _ => {
                let key: &'static str = [
                    "open_0", "open_1", "open_2", "open_3", "open_4", "open_5", "open_6",
                ][day];
                errors.insert(key, strings.get("err_hours").to_owned());
            }
        }
    }
    let mut holidays = Vec::new();
    for line in typed("holidays")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match line.parse::<Date>() {
            Ok(date) => holidays.push(date),
            Err(_) => {
                errors.insert(
                    "holidays",
                    strings.get("err_holidays").replace("{line}", line),
                );
                break;
            }
        }
    }
    holidays.sort();
    holidays.dedup();
    let hours = BusinessHours { weekdays, holidays };
    if hours.validate().is_err() && !errors.contains_key("holidays") {
        errors.insert(
            "holidays",
            strings.get("err_holidays").replace("{line}", ""),
        );
    }
    if errors.is_empty() {
        Ok((settings, hours))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunas_core::messages::Language;

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let strings = Strings::of(Language::Indonesian);
        let mut settings = lunas_core::Settings::default();
        settings.business_hours.holidays = vec![jiff::civil::date(2026, 12, 25)];
        let shown = values(&settings);
        assert_eq!(shown["open_0"], "08:00");
        assert!(!shown.contains_key("open_6"), "Sunday is closed");
        let mut named: BTreeMap<&str, &str> = shown
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            read(strings, &named),
            Ok((
                settings.conversations.clone(),
                settings.business_hours.clone()
            ))
        );
        named.insert("open_6", "10.00");
        named.insert("close_6", "14:00");
        let (_, hours) = read(strings, &named).unwrap();
        assert!(
            hours.weekdays[6].is_some(),
            "Sunday opens, 10.00 read as 10:00"
        );
        named.insert("close_2", "07:00");
        named.insert("faq_threshold", "5");
        named.insert("holidays", "25 Desember");
        let errors = read(strings, &named).unwrap_err();
        for field in ["open_2", "faq_threshold", "holidays"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }
}
