//! A shop's business hours, and how much of them passed between two instants: a buyer who wrote
//! at 22:00 and was answered at 08:05 the next morning waited five minutes of business time, not
//! ten hours. Hours per weekday in the store's time zone (a day may be closed), holidays skipped.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Days a span is counted over at most (ten years): a longer one is counted to there.
const DAYS_MAX: i64 = 3_660;

/// Opening and closing time of one weekday (closing after opening, the same day).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:00"))]
    pub open: Time,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "20:00"))]
    pub close: Time,
}

/// The hours of each weekday, Monday first (`None`: closed), and the days the shop is closed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub weekdays: [Option<Opening>; 7],
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub holidays: Vec<Date>,
}

impl Default for BusinessHours {
    /// Monday to Saturday 08:00–20:00, Sunday closed: how most small online shops answer.
    fn default() -> Self {
        let day = Some(Opening {
            open: Time::constant(8, 0, 0, 0),
            close: Time::constant(20, 0, 0, 0),
        });
        BusinessHours {
            weekdays: [day, day, day, day, day, day, None],
            holidays: Vec::new(),
        }
    }
}

/// Why business hours are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("on {weekday} the shop must close after it opens")]
    CloseBeforeOpen { weekday: &'static str },
    #[error("at most 366 holidays")]
    TooManyHolidays,
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl BusinessHours {
    pub fn validate(&self) -> Result<(), HoursError> {
        for (i, day) in self.weekdays.iter().enumerate() {
            if let Some(d) = day
                && d.close <= d.open
            {
                return Err(HoursError::CloseBeforeOpen {
                    weekday: WEEKDAYS[i],
                });
            }
        }
        if self.holidays.len() > 366 {
            return Err(HoursError::TooManyHolidays);
        }
        Ok(())
    }

    /// The opening of a date, if the shop is open that day.
    fn opening(&self, date: Date) -> Option<Opening> {
        if self.holidays.contains(&date) {
            return None;
        }
        let index = date.weekday().to_monday_zero_offset() as usize;
        self.weekdays[index]
    }

    /// How much business time passed from `from` to `to` (zero when `to` is not after `from`).
    pub fn between(&self, from: Timestamp, to: Timestamp, tz: &TimeZone) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        let mut total = SignedDuration::ZERO;
        let mut date = from.to_zoned(tz.clone()).date();
        let last = to.to_zoned(tz.clone()).date();
        for _ in 0..DAYS_MAX {
            if date > last {
                break;
            }
            if let Some(opening) = self.opening(date) {
                let at = |time: Time| {
                    date.to_datetime(time)
                        .to_zoned(tz.clone())
                        .map(|z| z.timestamp())
                        .ok()
                };
                if let (Some(open), Some(close)) = (at(opening.open), at(opening.close)) {
                    let start = open.max(from);
                    let end = close.min(to);
                    if end > start {
                        total += end.duration_since(start);
                    }
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jakarta() -> TimeZone {
        TimeZone::get("Asia/Jakarta").unwrap()
    }

    /// A local time in Jakarta, `YYYY-MM-DD HH:MM`.
    fn at(local: &str) -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", local)
            .unwrap()
            .to_zoned(jakarta())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn business_time_skips_nights_sundays_and_holidays() {
        // 2026-12-05 is a Saturday, 12-06 a Sunday, 12-25 a Friday (Christmas).
        let hours = BusinessHours {
            holidays: vec![jiff::civil::date(2026, 12, 25)],
            ..BusinessHours::default()
        };
        let cases: &[(&str, &str, i64, &str)] = &[
            ("2026-12-07 10:00", "2026-12-07 10:07", 7, "within a day"),
            ("2026-12-07 07:00", "2026-12-07 08:15", 15, "before opening"),
            ("2026-12-07 19:50", "2026-12-07 23:00", 10, "after closing"),
            ("2026-12-07 22:00", "2026-12-08 08:05", 5, "over the night"),
            ("2026-12-05 19:30", "2026-12-07 08:10", 40, "over Sunday"),
            (
                "2026-12-24 19:00",
                "2026-12-26 09:00",
                120,
                "over Christmas",
            ),
            ("2026-12-06 10:00", "2026-12-06 18:00", 0, "all on a Sunday"),
            (
                "2026-12-07 10:00",
                "2026-12-07 09:00",
                0,
                "answered before asked",
            ),
            (
                "2026-12-07 08:00",
                "2026-12-14 08:00",
                6 * 12 * 60,
                "a whole week",
            ),
        ];
        for (from, to, minutes, what) in cases {
            assert_eq!(
                hours.between(at(from), at(to), &jakarta()),
                SignedDuration::from_mins(*minutes),
                "{what}"
            );
        }
    }

    #[test]
    fn hours_that_close_before_they_open_are_refused() {
        let mut hours = BusinessHours::default();
        assert_eq!(hours.validate(), Ok(()));
        hours.weekdays[2] = Some(Opening {
            open: Time::constant(17, 0, 0, 0),
            close: Time::constant(9, 0, 0, 0),
        });
        assert_eq!(
            hours.validate(),
            Err(HoursError::CloseBeforeOpen {
                weekday: "wednesday"
            })
        );
    }
}
