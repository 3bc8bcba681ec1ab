//! Conversations on *Analitik*: how many who asked went on to order, how long they waited for an
//! answer (in the shop's business hours), and what the FAQ bot did — answered, was corrected or
//! set aside by staff.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::business_hours::BusinessHours;
use crate::conversations::FaqState;

/// A buyer's message of the period.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundFact {
    pub phone: String,
    pub at: Timestamp,
    pub has_text: bool,
    pub faq: Option<FaqState>,
}

/// Upper bounds of the response-time buckets, in business minutes; the last bucket is beyond.
pub const BUCKETS_MINUTES: [i64; 4] = [5, 15, 60, 240];

/// How long buyers waited for an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Responses {
    pub answered: usize,
    pub unanswered: usize,
    /// In business minutes.
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    /// Answered within 5, 15, 60, 240 business minutes, and later.
    pub buckets: [usize; 5],
}

impl Responses {
    fn of(mut minutes: Vec<i64>, unanswered: usize) -> Responses {
        minutes.sort_unstable();
        let mut buckets = [0; 5];
        for &m in &minutes {
            let slot = BUCKETS_MINUTES
                .iter()
                .position(|&bound| m < bound)
                .unwrap_or(BUCKETS_MINUTES.len());
            buckets[slot] += 1;
        }
        let at = |q: f64| {
            (!minutes.is_empty())
                .then(|| minutes[((minutes.len() - 1) as f64 * q).round() as usize] as f64)
        };
        Responses {
            answered: minutes.len(),
            unanswered,
            median_minutes: at(0.5),
            p90_minutes: at(0.9),
            buckets,
        }
    }
}

/// The conversations of a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConversationMetrics {
    /// Numbers that wrote in the period.
    pub inquiries: usize,
    /// Of them, those who placed an order after their first message of the period.
    pub ordered: usize,
    pub messages: usize,
    /// The first answer to each number's first message of the period.
    pub first_response: Responses,
    /// Every answer: each time a buyer wrote after the shop last did, until the shop answered.
    pub every_response: Responses,
    /// Buyers' messages with words the FAQ bot read.
    pub texts: usize,
    /// Answered by the bot: by itself, or staff sent its suggestion.
    pub bot_answered: usize,
    /// Staff set the suggestion aside or named another entry.
    pub bot_overridden: usize,
    /// The bot matched (any state).
    pub bot_matched: usize,
}

/// Counts a period's conversations: `inbound` (any order), what the shop sent each number
/// (`outs`: replies and WhatsApp messages, any order), the orders each number placed, measured
/// in `hours` in `tz`; a message nobody answered by `now` is unanswered.
pub fn conversation_metrics(
    inbound: &[InboundFact],
    outs: &HashMap<String, Vec<Timestamp>>,
    orders: &HashMap<String, Vec<Timestamp>>,
    hours: &BusinessHours,
    tz: &TimeZone,
) -> ConversationMetrics {
    let mut by_phone: HashMap<&str, Vec<&InboundFact>> = HashMap::new();
    for fact in inbound {
        by_phone.entry(fact.phone.as_str()).or_default().push(fact);
    }
    let mut metrics = ConversationMetrics {
        inquiries: by_phone.len(),
        messages: inbound.len(),
        ..ConversationMetrics::default()
    };
    for fact in inbound {
        metrics.texts += usize::from(fact.has_text);
        if let Some(state) = fact.faq {
            metrics.bot_matched += 1;
            match state {
                FaqState::Sent | FaqState::Accepted => metrics.bot_answered += 1,
                FaqState::Dismissed | FaqState::Corrected => metrics.bot_overridden += 1,
                FaqState::Suggested => {}
            }
        }
    }
    let (mut first, mut first_unanswered) = (Vec::new(), 0);
    let (mut every, mut every_unanswered) = (Vec::new(), 0);
    let none = Vec::new();
    for (phone, mut messages) in by_phone {
        messages.sort_by_key(|m| m.at);
        let mut sent = outs.get(phone).unwrap_or(&none).clone();
        sent.sort_unstable();
        let first_at = messages[0].at;
        if orders
            .get(phone)
            .is_some_and(|placed| placed.iter().any(|&p| p >= first_at))
        {
            metrics.ordered += 1;
        }
        // A wait starts with a message after the shop last wrote (or the period's first).
        let mut answered_until: Option<Timestamp> = None;
        for (n, message) in messages.iter().enumerate() {
            if answered_until.is_some_and(|until| message.at <= until) {
                continue;
            }
            let answer = sent.iter().find(|&&out| out >= message.at).copied();
            match answer {
                Some(out) => {
                    let minutes = hours.between(message.at, out, tz).as_mins();
                    every.push(minutes);
                    if n == 0 {
                        first.push(minutes);
                    }
                    answered_until = Some(out);
                }
                None => {
                    every_unanswered += 1;
                    first_unanswered += usize::from(n == 0);
                    break;
                }
            }
        }
    }
    metrics.first_response = Responses::of(first, first_unanswered);
    metrics.every_response = Responses::of(every, every_unanswered);
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hhmm: &str) -> Timestamp {
        // Tuesday 1 December 2026 in Jakarta (UTC+7).
        format!("2026-12-01T{hhmm}:00+07:00").parse().unwrap()
    }

    fn fact(phone: &str, when: &str, faq: Option<FaqState>) -> InboundFact {
        InboundFact {
            phone: phone.into(),
            at: at(when),
            has_text: true,
            faq,
        }
    }

    #[test]
    fn waits_orders_and_the_bot_are_counted() {
        let tz = TimeZone::get("Asia/Jakarta").unwrap();
        let inbound = [
            // A: asked at 09:00, answered 09:03; asked again 10:00, answered 10:30; ordered.
            fact("A", "09:00", Some(FaqState::Accepted)),
            fact("A", "09:01", None),
            fact("A", "10:00", Some(FaqState::Corrected)),
            // B: asked at 07:00 (before opening), answered 08:10: ten business minutes.
            fact("B", "07:00", Some(FaqState::Sent)),
            // C: nobody answered.
            fact("C", "11:00", Some(FaqState::Suggested)),
        ];
        let outs = HashMap::from([
            ("A".to_owned(), vec![at("10:30"), at("09:03")]),
            ("B".to_owned(), vec![at("08:10")]),
        ]);
        let orders = HashMap::from([
            ("A".to_owned(), vec![at("10:45")]),
            ("C".to_owned(), vec![at("08:00")]),
        ]);
        let m = conversation_metrics(&inbound, &outs, &orders, &BusinessHours::default(), &tz);
        assert_eq!((m.inquiries, m.ordered, m.messages), (3, 1, 5));
        assert_eq!(m.first_response.answered, 2);
        assert_eq!(m.first_response.unanswered, 1);
        assert_eq!(m.first_response.buckets, [1, 1, 0, 0, 0]);
        assert_eq!(m.every_response.answered, 3);
        assert_eq!(m.every_response.buckets, [1, 1, 1, 0, 0]);
        assert_eq!(m.every_response.median_minutes, Some(10.0));
        assert_eq!((m.bot_matched, m.bot_answered, m.bot_overridden), (4, 2, 1));
    }
}
