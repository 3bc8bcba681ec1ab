//! Payment windows: how long a buyer has to pay before the hold is released.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Shortest window: one second, for live-stream drops and tests.
pub const PAY_WINDOW_SECONDS_MIN: i64 = 1;
/// Longest window: 30 days. A booking held longer than that is a pre-order, not a hold.
pub const PAY_WINDOW_SECONDS_MAX: i64 = 30 * 24 * 60 * 60;

/// The durations the API document describes: the short forms sellers type (`30m`, `24h`, `2d`)
/// and the forms lunas writes back (`1day 2h 30m`, `2days`), from one second to 30 days. Tests
/// check both ways: every string it describes parses, and every window is written in it.
pub const PAY_WINDOW_PATTERN: &str = concat!(
    r"^(30(d|days)",
    r"|([1-9]|[12][0-9])(d|days?)( ([1-9]|1[0-9]|2[0-3])h)?( [1-5]?[0-9]m)?( [1-5]?[0-9]s)?",
    r"|([1-9]|[1-9][0-9]|[1-6][0-9]{2}|7[01][0-9])h( [1-5]?[0-9]m)?( [1-5]?[0-9]s)?|720h",
    r"|[1-9][0-9]{0,3}m( [1-5]?[0-9]s)?|[1-9][0-9]{0,4}s)$"
);

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PayWindow {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(PAY_WINDOW_PATTERN))
            .description(Some(
                "A duration from 1 second to 30 days: `30m`, `24h`, `2d`, `1day 2h`.",
            ))
            .examples(["30m", "24h", "2d"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PayWindow {}

/// A positive duration between one second and 30 days, written as `"30m"`, `"24h"`, `"5s"`,
/// `"1h30m"` or `"2d"` (or any form `humantime` reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PayWindow {
    seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayWindowError {
    #[error("not a duration; write it like \"30 menit\", \"6 jam\", \"1 hari\" (or 30m, 6h, 1d)")]
    Unparseable,
    #[error("must be at least 1 second")]
    TooShort,
    #[error("must be at most 30 days")]
    TooLong,
}

/// The unit words sellers type, in Indonesian and English, with their length in seconds; a word
/// comes before any word it begins with (`hours` before `hour`).
const UNITS: &[(&str, i64)] = &[
    ("detik", 1),
    ("dtk", 1),
    ("menit", 60),
    ("mnt", 60),
    ("jam", 3600),
    ("hari", 86_400),
    ("minggu", 7 * 86_400),
    ("seconds", 1),
    ("second", 1),
    ("minutes", 60),
    ("minute", 60),
    ("hours", 3600),
    ("hour", 3600),
    ("days", 86_400),
    ("day", 86_400),
    ("weeks", 7 * 86_400),
    ("week", 7 * 86_400),
];

/// A duration written in words: `6 jam`, `1 hari 2 jam`, `30 menit`, `6jam`, `2 hours 30
/// minutes` (`None` when it is not written that way).
fn parse_indonesian(raw: &str) -> Option<i64> {
    let lower = raw.to_lowercase();
    let mut rest = lower.trim();
    let mut seconds: i64 = 0;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 6 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let (unit, length) = UNITS.iter().find(|(unit, _)| rest.starts_with(unit))?;
        rest = rest[unit.len()..].trim_start();
        // A separator between parts: a space (already skipped), a comma or "dan".
        rest = rest
            .strip_prefix(',')
            .or_else(|| rest.strip_prefix("dan "))
            .unwrap_or(rest)
            .trim_start();
        seconds = seconds.checked_add(number.checked_mul(*length)?)?;
        parts += 1;
    }
    (parts > 0).then_some(seconds)
}

impl PayWindow {
    /// Reads a duration as sellers type it: in Indonesian (`6 jam`, `1 hari`, `30 menit`,
    /// `1 hari 2 jam`) or in the short forms (`6h`, `1d`, `30m`, `1h 30m`, and whatever else
    /// `humantime` reads).
    pub fn parse(raw: &str) -> Result<PayWindow, PayWindowError> {
        if let Some(seconds) = parse_indonesian(raw) {
            return PayWindow::from_seconds(seconds);
        }
        let duration =
            humantime::parse_duration(raw.trim()).map_err(|_| PayWindowError::Unparseable)?;
        if duration.subsec_nanos() != 0 && duration.as_secs() == 0 {
            return Err(PayWindowError::TooShort);
        }
        let seconds = i64::try_from(duration.as_secs()).map_err(|_| PayWindowError::TooLong)?;
        PayWindow::from_seconds(seconds)
    }

    pub fn from_seconds(seconds: i64) -> Result<PayWindow, PayWindowError> {
        if seconds < PAY_WINDOW_SECONDS_MIN {
            return Err(PayWindowError::TooShort);
        }
        if seconds > PAY_WINDOW_SECONDS_MAX {
            return Err(PayWindowError::TooLong);
        }
        Ok(PayWindow { seconds })
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }

    pub fn as_duration(self) -> SignedDuration {
        SignedDuration::from_secs(self.seconds)
    }

    /// The window as people say it: `1 hari 2 jam`, `30 menit` (Indonesian) or `1 day 2 hours`,
    /// `30 minutes` (English); [`PayWindow::parse`] reads the Indonesian form back.
    pub fn words(self, english: bool) -> String {
        let units: [(i64, &str, &str, &str); 4] = [
            (86_400, "hari", "day", "days"),
            (3600, "jam", "hour", "hours"),
            (60, "menit", "minute", "minutes"),
            (1, "detik", "second", "seconds"),
        ];
        let mut left = self.seconds;
        let mut parts = Vec::new();
        for (length, id, one, many) in units {
            let count = left / length;
            left %= length;
            if count > 0 {
                let unit = match (english, count) {
                    (false, _) => id,
                    (true, 1) => one,
                    (true, _) => many,
                };
                parts.push(format!("{count} {unit}"));
            }
        }
        parts.join(" ")
    }
}

impl TryFrom<String> for PayWindow {
    type Error = PayWindowError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        PayWindow::parse(&raw)
    }
}

impl From<PayWindow> for String {
    fn from(window: PayWindow) -> String {
        humantime::format_duration(std::time::Duration::from_secs(window.seconds as u64))
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_window_the_document_describes_parses(
            raw in proptest::string::string_regex(&PAY_WINDOW_PATTERN[1..PAY_WINDOW_PATTERN.len() - 1]).unwrap()
        ) {
            prop_assert!(PayWindow::parse(&raw).is_ok(), "{raw}");
        }

        #[test]
        fn every_window_is_written_as_the_document_describes(seconds in PAY_WINDOW_SECONDS_MIN..=PAY_WINDOW_SECONDS_MAX) {
            let written = String::from(PayWindow::from_seconds(seconds).unwrap());
            let pattern = regex::Regex::new(PAY_WINDOW_PATTERN).unwrap();
            prop_assert!(pattern.is_match(&written), "{written}");
        }
    }

    #[test]
    fn windows_parse_from_the_short_forms_sellers_type() {
        assert_eq!(PayWindow::parse("30m").map(PayWindow::seconds), Ok(1800));
        assert_eq!(PayWindow::parse("24h").map(PayWindow::seconds), Ok(86_400));
        assert_eq!(PayWindow::parse("5s").map(PayWindow::seconds), Ok(5));
        assert_eq!(PayWindow::parse("1h 30m").map(PayWindow::seconds), Ok(5400));
        assert_eq!(
            PayWindow::parse("30days").map(PayWindow::seconds),
            Ok(PAY_WINDOW_SECONDS_MAX)
        );
    }

    #[test]
    fn windows_parse_as_indonesian_sellers_say_them() {
        let check = |raw: &str, expect: Result<i64, PayWindowError>| {
            assert_eq!(
                PayWindow::parse(raw).map(PayWindow::seconds),
                expect,
                "{raw:?}"
            );
        };
        check("6 jam", Ok(6 * 3600));
        check("6jam", Ok(6 * 3600));
        check("6 Jam", Ok(6 * 3600));
        check("1 hari", Ok(86_400));
        check("30 menit", Ok(1800));
        check("1 hari 2 jam", Ok(86_400 + 7200));
        check("1 jam, 30 menit", Ok(5400));
        check("1 jam dan 30 menit", Ok(5400));
        check("2 minggu", Ok(14 * 86_400));
        check("45 detik", Ok(45));
        check("31 hari", Err(PayWindowError::TooLong));
        check("0 jam", Err(PayWindowError::TooShort));
        check("jam", Err(PayWindowError::Unparseable));
        check("6 jam lagi", Err(PayWindowError::Unparseable));
        check("2 hours 30 minutes", Ok(9000));
        check("1 day", Ok(86_400));
    }

    proptest! {
        #[test]
        fn a_window_reads_back_from_its_indonesian_words(seconds in PAY_WINDOW_SECONDS_MIN..=PAY_WINDOW_SECONDS_MAX) {
            let window = PayWindow::from_seconds(seconds).unwrap();
            prop_assert_eq!(PayWindow::parse(&window.words(false)), Ok(window));
            prop_assert_eq!(PayWindow::parse(&window.words(true)), Ok(window));
        }
    }

    #[test]
    fn windows_are_written_in_words() {
        let check = |seconds: i64, id: &str, en: &str| {
            let window = PayWindow::from_seconds(seconds).unwrap();
            assert_eq!(
                (window.words(false).as_str(), window.words(true).as_str()),
                (id, en)
            );
        };
        check(86_400, "1 hari", "1 day");
        check(
            86_400 + 7200 + 60,
            "1 hari 2 jam 1 menit",
            "1 day 2 hours 1 minute",
        );
        check(1800, "30 menit", "30 minutes");
        check(5, "5 detik", "5 seconds");
    }

    #[test]
    fn zero_and_overlong_windows_are_rejected() {
        assert_eq!(PayWindow::parse("0s"), Err(PayWindowError::TooShort));
        assert_eq!(PayWindow::parse("500ms"), Err(PayWindowError::TooShort));
        assert_eq!(PayWindow::parse("31d"), Err(PayWindowError::TooLong));
        assert_eq!(PayWindow::parse("soon"), Err(PayWindowError::Unparseable));
        assert_eq!(PayWindow::parse("-5s"), Err(PayWindowError::Unparseable));
    }

    #[test]
    fn windows_round_trip_through_their_text_form() {
        let window = PayWindow::parse("1h30m").unwrap();
        let text: String = window.into();
        assert_eq!(PayWindow::parse(&text), Ok(window));
    }
}
