//! Durable timers: what a timer does when it falls due. Timers are rows (see `store`); their kind
//! is stored as its `as_str`.

/// What a timer does when it falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The order's deadline (or its balance's): release the hold unless it was paid.
    Expire,
    /// A payment reminder, written only if the order still awaits payment.
    Remind,
}

impl TimerKind {
    pub const ALL: [TimerKind; 2] = [TimerKind::Expire, TimerKind::Remind];

    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Expire => "expire",
            TimerKind::Remind => "remind",
        }
    }

    pub fn parse(raw: &str) -> Option<TimerKind> {
        TimerKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
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
