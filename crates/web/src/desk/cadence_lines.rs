//! Reminder steps as sellers read and write them on the Settings page and in the simulator:
//! `2 jam setelah pesanan`, `1 jam sebelum batas bayar`.

use lunas_core::PayWindow;
use lunas_core::reminders::Anchor;

/// A reminder step as the Settings page writes it: `2 jam setelah pesanan`, `1 jam sebelum batas
/// bayar` (or `2 hours after the order`, `1 hour before the deadline`).
pub(crate) fn cadence_line(anchor: &Anchor, english: bool) -> String {
    let (window, after) = match anchor {
        Anchor::AfterOrder(w) => (w, true),
        Anchor::BeforeDeadline(w) => (w, false),
    };
    let words = window.words(english);
    match (english, after) {
        (false, true) => format!("{words} setelah pesanan"),
        (false, false) => format!("{words} sebelum batas bayar"),
        (true, true) => format!("{words} after the order"),
        (true, false) => format!("{words} before the deadline"),
    }
}

/// Reads a reminder step line: what [`cadence_line`] writes in either language, or the short
/// form of earlier versions (`after_order 2h`, `before_deadline 1h`).
pub(crate) fn read_cadence_line(line: &str) -> Option<Anchor> {
    let lower = line.trim().to_lowercase();
    let short = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .filter(|rest| rest.starts_with(' '))
            .and_then(|rest| PayWindow::parse(rest).ok())
    };
    if let Some(window) = short("after_order") {
        return Some(Anchor::AfterOrder(window));
    }
    if let Some(window) = short("before_deadline") {
        return Some(Anchor::BeforeDeadline(window));
    }
    const AFTER: [&str; 4] = [
        " setelah pesanan",
        " setelah pesan",
        " after the order",
        " after order",
    ];
    const BEFORE: [&str; 4] = [
        " sebelum batas bayar",
        " sebelum batas",
        " before the deadline",
        " before deadline",
    ];
    let window = |suffixes: &[&str]| {
        suffixes
            .iter()
            .find_map(|suffix| lower.strip_suffix(suffix))
            .and_then(|duration| PayWindow::parse(duration).ok())
    };
    if let Some(window) = window(&AFTER) {
        return Some(Anchor::AfterOrder(window));
    }
    window(&BEFORE).map(Anchor::BeforeDeadline)
}
