//! Durable timers: what a timer does when it falls due, and which timers an order's deadline
//! needs. Timers are rows (see `store`); their kind is stored as its `as_str`.

use crate::reminders::ScheduledReminder;
use crate::{PaymentMethod, Settings, Timestamp};

/// What a timer does when it falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The order's deadline (or its balance's): release the hold unless it was paid.
    Expire,
    /// A payment reminder, written only if the order still awaits payment.
    Remind,
    /// The end of a COD buyer's time to confirm: an order still unconfirmed is cancelled.
    ConfirmCod,
    /// The end of a delivered order's return window: the order is completed.
    Complete,
}

impl TimerKind {
    pub const ALL: [TimerKind; 4] = [
        TimerKind::Expire,
        TimerKind::Remind,
        TimerKind::ConfirmCod,
        TimerKind::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Expire => "expire",
            TimerKind::Remind => "remind",
            TimerKind::ConfirmCod => "confirm_cod",
            TimerKind::Complete => "complete",
        }
    }

    pub fn parse(raw: &str) -> Option<TimerKind> {
        TimerKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// A timer row's id: kept when a timer that failed is put back, so logs follow one timer
/// across its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub i64);

impl std::fmt::Display for TimerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A timer to write: when it is due, what it does, and for a reminder its cadence step and its
/// number among the order's reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedTimer {
    pub due: Timestamp,
    pub kind: TimerKind,
    pub step: Option<i64>,
    pub ordinal: Option<i64>,
}

impl PlannedTimer {
    /// A timer of `kind` at `due` that is not a reminder.
    pub fn at(kind: TimerKind, due: Timestamp) -> PlannedTimer {
        PlannedTimer {
            due,
            kind,
            step: None,
            ordinal: None,
        }
    }

    /// The release of a hold (or of a deposit's balance) at `due`.
    pub fn expire(due: Timestamp) -> PlannedTimer {
        PlannedTimer {
            due,
            kind: TimerKind::Expire,
            step: None,
            ordinal: None,
        }
    }
}

/// The reminders of an order paid by `method`, placed at `placed_at` and due by `deadline`,
/// from the store's cadence and quiet hours (none for COD).
pub fn reminders_for(
    settings: &Settings,
    method: PaymentMethod,
    placed_at: Timestamp,
    deadline: Option<Timestamp>,
) -> Vec<ScheduledReminder> {
    match settings.reminders.for_method(method) {
        Some(cadence) => crate::reminders::schedule(
            cadence,
            placed_at,
            deadline,
            settings.quiet_hours.as_ref(),
            &settings.time_zone(),
        ),
        None => Vec::new(),
    }
}

/// An order's timers for the deadline `deadline`: its release (slow methods get their grace
/// before the hold is released; the buyer is told the deadline) and `reminders`, numbered from
/// `first_ordinal`.
pub fn deadline_timers(
    settings: &Settings,
    method: PaymentMethod,
    deadline: Option<Timestamp>,
    reminders: &[ScheduledReminder],
    first_ordinal: i64,
) -> Vec<PlannedTimer> {
    let expiry = deadline
        .map(|deadline| PlannedTimer::expire(settings.payments.expires_at(method, deadline)));
    let reminders = reminders
        .iter()
        .enumerate()
        .map(|(n, reminder)| PlannedTimer {
            due: reminder.due,
            kind: TimerKind::Remind,
            step: Some(reminder.step as i64),
            ordinal: Some(first_ordinal + n as i64),
        });
    expiry.into_iter().chain(reminders).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timer_kind_reads_back_from_what_it_is_stored_as() {
        for kind in TimerKind::ALL {
            assert_eq!(TimerKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TimerKind::parse("remind "), None);
    }
}
