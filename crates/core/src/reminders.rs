//! The reminder cadence: when polite reminders go out for an unpaid order, and quiet hours.
//!
//! A cadence is a list of steps, each a duration after the order was placed or before its
//! deadline. `schedule` turns a cadence into due times for one order: steps in the past of the
//! order or at/after the deadline are dropped, a step inside quiet hours moves to the end of the
//! quiet period (or is dropped if that is at/after the deadline), and at most `max_count` remain.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::{PayWindow, Timestamp};

/// Most steps one cadence may have, and the highest `max_count`.
pub const STEPS_MAX: usize = 10;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    AfterOrder(PayWindow),
    BeforeDeadline(PayWindow),
}

/// One step: `{"after_order": "2h"}` or `{"before_deadline": "1h"}`, with an optional template
/// of its own (otherwise the store's reminder template is used).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderStep {
    #[serde(flatten)]
    pub anchor: Anchor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub steps: Vec<ReminderStep>,
    #[cfg_attr(feature = "openapi", schema(maximum = 10))]
    pub max_count: usize,
}

/// Local times during which no reminder is sent, e.g. 21:00–08:00 (it may cross midnight).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: Time,
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub end: Time,
}

/// A reminder due for one order: which step, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledReminder {
    pub step: usize,
    pub due: Timestamp,
}

/// Why a cadence does not fit its payment window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CadenceError {
    #[error("at most {STEPS_MAX} steps")]
    TooManySteps,
    #[error("max_count must be at most {STEPS_MAX}")]
    MaxCountTooHigh,
    /// Step `step` (1-based) falls at or outside the `window` it serves.
    #[error("{}", outside_words(*.step, .anchor, *.window))]
    StepOutsideWindow {
        step: usize,
        anchor: Anchor,
        window: PayWindow,
    },
}

fn outside_words(step: usize, anchor: &Anchor, window: PayWindow) -> String {
    match anchor {
        Anchor::AfterOrder(d) => format!(
            "step {step}: {} after the order is at or beyond the {} deadline",
            String::from(*d),
            String::from(window)
        ),
        Anchor::BeforeDeadline(d) => format!(
            "step {step}: {} before the deadline is at or before the order itself (window {})",
            String::from(*d),
            String::from(window)
        ),
    }
}

impl Cadence {
    /// Checks the cadence against the payment window it will serve: every step must fall strictly
    /// inside the window.
    pub fn validate(&self, window: PayWindow) -> Result<(), CadenceError> {
        if self.steps.len() > STEPS_MAX {
            return Err(CadenceError::TooManySteps);
        }
        if self.max_count > STEPS_MAX {
            return Err(CadenceError::MaxCountTooHigh);
        }
        for (i, step) in self.steps.iter().enumerate() {
            let (Anchor::AfterOrder(d) | Anchor::BeforeDeadline(d)) = step.anchor;
            if d.seconds() >= window.seconds() {
                return Err(CadenceError::StepOutsideWindow {
                    step: i + 1,
                    anchor: step.anchor.clone(),
                    window,
                });
            }
        }
        Ok(())
    }
}

impl QuietHours {
    pub fn new(start: Time, end: Time) -> QuietHours {
        QuietHours { start, end }
    }

    fn contains(&self, time: Time) -> bool {
        if self.start == self.end {
            return false;
        }
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// If `at` falls inside quiet hours in `tz`, the instant the quiet period ends; else `at`.
    pub fn defer(&self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        let local = at.to_zoned(tz.clone());
        if !self.contains(local.time()) {
            return at;
        }
        let mut date = local.date();
        if local.time() >= self.end {
            date = date.tomorrow().expect("dates near today have a tomorrow");
        }
        date.to_datetime(self.end)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(at)
    }
}

/// The reminders of an order placed at `placed_at` with deadline `pay_by` (none for COD, which
/// gets no payment reminders), in due order.
pub fn schedule(
    cadence: &Cadence,
    placed_at: Timestamp,
    pay_by: Option<Timestamp>,
    quiet: Option<&QuietHours>,
    tz: &TimeZone,
) -> Vec<ScheduledReminder> {
    let Some(deadline) = pay_by else {
        return Vec::new();
    };
    let mut due: Vec<ScheduledReminder> = Vec::with_capacity(cadence.steps.len());
    for (step, s) in cadence.steps.iter().enumerate() {
        let at = match s.anchor {
            Anchor::AfterOrder(d) => placed_at.checked_add(d.as_duration()),
            Anchor::BeforeDeadline(d) => deadline.checked_sub(d.as_duration()),
        };
        let Ok(mut at) = at else { continue };
        if at <= placed_at || at >= deadline {
            continue;
        }
        if let Some(quiet) = quiet {
            at = quiet.defer(at, tz);
            if at >= deadline {
                continue;
            }
        }
        due.push(ScheduledReminder { step, due: at });
    }
    due.sort_by_key(|r| (r.due, r.step));
    // Two steps that land on the same instant (both deferred to the end of the night) are one.
    due.dedup_by_key(|r| r.due);
    due.truncate(cadence.max_count);
    due
}

mod hhmm {
    use jiff::civil::Time;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", time.hour(), time.minute()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let raw = String::deserialize(d)?;
        let bad = || serde::de::Error::custom(format!("{raw:?} is not a time like \"21:00\""));
        let (h, m) = raw.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        Time::new(h, m, 0, 0).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jakarta() -> TimeZone {
        TimeZone::get("Asia/Jakarta").unwrap()
    }

    /// Local Jakarta time to an instant.
    fn wib(local: &str) -> Timestamp {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(jakarta())
            .unwrap()
            .timestamp()
    }

    fn step(raw: &str) -> ReminderStep {
        serde_json::from_str(raw).unwrap()
    }

    fn night() -> QuietHours {
        serde_json::from_str(r#"{"start": "21:00", "end": "08:00"}"#).unwrap()
    }

    /// `check(steps, max, placed, deadline, quiet, expected local due times)`.
    fn check(
        steps: &[&str],
        max_count: usize,
        placed: &str,
        deadline: &str,
        quiet: Option<QuietHours>,
        expected: &[&str],
    ) {
        let cadence = Cadence {
            steps: steps.iter().map(|s| step(s)).collect(),
            max_count,
        };
        let got: Vec<Timestamp> = schedule(
            &cadence,
            wib(placed),
            Some(wib(deadline)),
            quiet.as_ref(),
            &jakarta(),
        )
        .into_iter()
        .map(|r| r.due)
        .collect();
        let expected: Vec<Timestamp> = expected.iter().map(|e| wib(e)).collect();
        assert_eq!(
            got, expected,
            "steps {steps:?} placed {placed} deadline {deadline}"
        );
    }

    #[test]
    fn cadence_arithmetic_with_quiet_hours_in_jakarta() {
        let default = [
            r#"{"after_order": "2h"}"#,
            r#"{"after_order": "14h"}"#,
            r#"{"before_deadline": "2h"}"#,
        ];
        // Without quiet hours every step keeps its time.
        check(
            &default,
            3,
            "2026-11-22T09:00",
            "2026-11-23T09:00",
            None,
            &["2026-11-22T11:00", "2026-11-22T23:00", "2026-11-23T07:00"],
        );
        // With quiet hours 21:00–08:00: 23:00 and 07:00 both move to 08:00 the next day and merge.
        check(
            &default,
            3,
            "2026-11-22T09:00",
            "2026-11-23T09:00",
            Some(night()),
            &["2026-11-22T11:00", "2026-11-23T08:00"],
        );
        // Placed at 20:00: +2h is 22:00 (quiet, moves to 08:00), +14h is 10:00, deadline-2h 18:00.
        check(
            &default,
            3,
            "2026-11-22T20:00",
            "2026-11-23T20:00",
            Some(night()),
            &["2026-11-23T08:00", "2026-11-23T10:00", "2026-11-23T18:00"],
        );
        // A step moved past the deadline by quiet hours is skipped.
        check(
            &[r#"{"after_order": "1h"}"#],
            3,
            "2026-11-22T22:00",
            "2026-11-23T07:30",
            Some(night()),
            &[],
        );
        // Exactly at the end of quiet hours is not quiet; exactly at the start is.
        check(
            &[r#"{"after_order": "1h"}"#],
            3,
            "2026-11-22T07:00",
            "2026-11-22T12:00",
            Some(night()),
            &["2026-11-22T08:00"],
        );
        check(
            &[r#"{"after_order": "1h"}"#],
            3,
            "2026-11-22T20:00",
            "2026-11-23T12:00",
            Some(night()),
            &["2026-11-23T08:00"],
        );
        // Quiet hours that do not cross midnight (13:00–14:00 siesta).
        let siesta: QuietHours =
            serde_json::from_str(r#"{"start": "13:00", "end": "14:00"}"#).unwrap();
        check(
            &[r#"{"after_order": "30m"}"#],
            3,
            "2026-11-22T12:45",
            "2026-11-22T18:00",
            Some(siesta),
            &["2026-11-22T14:00"],
        );
        // Steps at or beyond the deadline, or before the order, are dropped.
        check(
            &[
                r#"{"after_order": "5h"}"#,
                r#"{"before_deadline": "5h"}"#,
                r#"{"before_deadline": "1h"}"#,
            ],
            3,
            "2026-11-22T09:00",
            "2026-11-22T13:00",
            None,
            &["2026-11-22T12:00"],
        );
        // Seconds work, for live sales; max_count keeps the earliest.
        check(
            &[
                r#"{"after_order": "10s"}"#,
                r#"{"after_order": "20s"}"#,
                r#"{"before_deadline": "5s"}"#,
            ],
            2,
            "2026-11-22T10:00:00",
            "2026-11-22T10:01:00",
            Some(night()),
            &["2026-11-22T10:00:10", "2026-11-22T10:00:20"],
        );
        // Steps given out of order come out in time order.
        check(
            &[r#"{"before_deadline": "1h"}"#, r#"{"after_order": "1h"}"#],
            3,
            "2026-11-22T09:00",
            "2026-11-22T15:00",
            None,
            &["2026-11-22T10:00", "2026-11-22T14:00"],
        );
    }

    #[test]
    fn cod_orders_get_no_payment_reminders() {
        let cadence = Cadence {
            steps: vec![step(r#"{"after_order": "1h"}"#)],
            max_count: 3,
        };
        assert!(schedule(&cadence, wib("2026-11-22T09:00"), None, None, &jakarta()).is_empty());
    }

    #[test]
    fn cadences_are_checked_against_their_window() {
        let window = PayWindow::parse("24h").unwrap();
        let ok = Cadence {
            steps: vec![
                step(r#"{"after_order": "2h"}"#),
                step(r#"{"before_deadline": "2h"}"#),
            ],
            max_count: 3,
        };
        assert!(ok.validate(window).is_ok());
        let late = Cadence {
            steps: vec![step(r#"{"after_order": "25h"}"#)],
            max_count: 3,
        };
        assert!(
            late.validate(window)
                .unwrap_err()
                .to_string()
                .contains("beyond")
        );
        let early = Cadence {
            steps: vec![step(r#"{"before_deadline": "24h"}"#)],
            max_count: 3,
        };
        assert!(
            early
                .validate(window)
                .unwrap_err()
                .to_string()
                .contains("before the order")
        );
        assert!(serde_json::from_str::<ReminderStep>(r#"{"after_order": "0s"}"#).is_err());
        assert!(
            serde_json::from_str::<QuietHours>(r#"{"start": "25:00", "end": "08:00"}"#).is_err()
        );
        assert!(serde_json::from_str::<QuietHours>(r#"{"start": "9", "end": "08:00"}"#).is_err());
    }
}
