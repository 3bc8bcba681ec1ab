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
    #[error("not a duration; write it like \"30m\", \"24h\" or \"5s\"")]
    Unparseable,
    #[error("must be at least 1 second")]
    TooShort,
    #[error("must be at most 30 days")]
    TooLong,
}

impl PayWindow {
    pub fn parse(raw: &str) -> Result<PayWindow, PayWindowError> {
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
