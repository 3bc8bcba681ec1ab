//! Tire kickers (seed 003: the buyers who ask for many photos, bargain hard and never buy): what
//! a number's messages say next to what it bought — how much it asked, on how many days, how often
//! it haggled, and whether it ever paid.

use serde::Serialize;

use crate::Timestamp;
use crate::faq::words;

/// Stems of the words of haggling ("bisa kurang?", "nego dong", "harga pas?", "diskon dong").
const HAGGLE_TERMS: [&str; 6] = ["tawar", "nego", "kurang", "diskon", "murah", "pas"];

/// Messages, days with messages, or haggles from which a buyer who never paid counts as a tire
/// kicker.
pub const MESSAGES_MIN: usize = 15;
pub const DAYS_MIN: usize = 3;
pub const HAGGLES_MIN: usize = 3;

/// Whether a message haggles: it asks the price down.
pub fn haggles(text: &str) -> bool {
    let terms = words::terms(text);
    let has = |t: &str| terms.iter().any(|term| term == t);
    // "kurang" alone is also "kurang jelas" / "kurang tahu": with a price, or asked as a favour.
    HAGGLE_TERMS.iter().any(|t| match *t {
        "kurang" => {
            has("kurang") && (has("harga") || has("bisa") || has("boleh") || terms.len() <= 2)
        }
        "pas" => has("pas") && has("harga"),
        t => has(t),
    })
}

/// A number's messages as counted when they arrive (what the risk policy reads while an order
/// is placed, without reading the messages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatCounts {
    pub messages: usize,
    pub days: usize,
    pub haggles: usize,
}

impl ChatCounts {
    /// Whether a buyer with `paid` paid orders and these messages is a tire kicker.
    pub fn tire_kicker(&self, paid: usize) -> bool {
        paid == 0
            && (self.messages >= MESSAGES_MIN
                || self.days >= DAYS_MIN
                || self.haggles >= HAGGLES_MIN)
    }
}

/// What a number's messages and orders say.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatSignals {
    /// Messages the number sent.
    pub messages: usize,
    /// Days (in the store's time zone) it wrote on.
    pub days: usize,
    /// Messages that asked the price down.
    pub haggles: usize,
    pub orders_placed: i64,
    pub orders_paid: i64,
    /// Never paid, and asked a lot, on many days, or haggled often.
    pub tire_kicker: bool,
}

/// The signals of a number's messages (when and what) and its orders.
pub fn chat_signals(
    messages: &[(Timestamp, Option<String>)],
    tz: &jiff::tz::TimeZone,
    orders_placed: i64,
    orders_paid: i64,
) -> ChatSignals {
    let mut days: Vec<jiff::civil::Date> = messages
        .iter()
        .map(|(at, _)| at.to_zoned(tz.clone()).date())
        .collect();
    days.sort_unstable();
    days.dedup();
    let haggles = messages
        .iter()
        .filter(|(_, text)| text.as_deref().is_some_and(haggles))
        .count();
    let tire_kicker = ChatCounts {
        messages: messages.len(),
        days: days.len(),
        haggles,
    }
    .tire_kicker(orders_paid.max(0) as usize);
    ChatSignals {
        messages: messages.len(),
        days: days.len(),
        haggles,
        orders_placed,
        orders_paid,
        tire_kicker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haggling_is_asking_the_price_down() {
        for text in [
            "bisa kurang gak kak",
            "nego dong",
            "boleh ditawar?",
            "harga pas ya?",
            "diskon dong kak",
            "kurang dikit",
            "bisa lebih murah?",
        ] {
            assert!(haggles(text), "{text}");
        }
        for text in [
            "ready kak?",
            "alamatnya kurang jelas kak, tolong kirim ulang",
            "pas ukurannya?",
        ] {
            assert!(!haggles(text), "{text}");
        }
    }

    #[test]
    fn a_buyer_who_asks_and_never_pays_is_a_tire_kicker() {
        let tz = jiff::tz::TimeZone::get("Asia/Jakarta").unwrap();
        let at = |day: i8| {
            jiff::civil::date(2026, 12, day)
                .at(10, 0, 0, 0)
                .to_zoned(tz.clone())
                .unwrap()
                .timestamp()
        };
        let asked: Vec<(Timestamp, Option<String>)> = (1..=3)
            .map(|d| (at(d), Some("ready kak? bisa kurang?".to_owned())))
            .collect();
        let signals = chat_signals(&asked, &tz, 0, 0);
        assert_eq!((signals.messages, signals.days, signals.haggles), (3, 3, 3));
        assert!(signals.tire_kicker);
        assert!(
            !chat_signals(&asked, &tz, 2, 1).tire_kicker,
            "they paid once"
        );
        assert!(
            !chat_signals(&asked[..1], &tz, 0, 0).tire_kicker,
            "one question"
        );
    }
}
