//! Conversations read back: the numbers buyers wrote from, newest first, and one number's
//! messages in both directions — what they sent (every kind, kept once) and what lunas sent them
//! over WhatsApp (by a channel, or marked sent from the manual queue).

use lunas_core::conversations::{
    AnsweredBy, ConversationMessage, ConversationSummary, Delivery, DeliveryStatus, Direction,
    FaqNote, FaqState, InboundKind, Reply,
};
use lunas_core::faq::FaqEntry;
use lunas_core::messages::Channel;
use lunas_core::{Phone, Timestamp};

use std::collections::HashMap;

use crate::repo::{millis, timestamp};
use crate::sql::{Db, DbResult, params};
use crate::{Store, StoreError};

/// The orders of the buyer whose number is `?1`: what lunas sent a number is found through its
/// orders (`orders_by_customer`, `messages_by_order`), so no index of messages by recipient
/// costs every message written (measured: a fifth of the couriers' event rate).
macro_rules! orders_of_phone {
    () => {
        "(SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.phone = ?1)"
    };
}

/// The numbers buyers wrote from, by their latest message (`?1` before, `?2` at most), each
/// with its name, latest message and count; whether it waits (its first message after the shop
/// last wrote: a reply, a message of its orders sent over WhatsApp — `?3`, `?4` —, or an order
/// placed) and the newest order placed after its first message. The page is chosen first, so
/// the per-number reads are made for its rows only, in one statement. `$max` is the dialect's
/// greatest-of function (SQLite's `MAX`, PostgreSQL's `GREATEST`).
macro_rules! conversations_sql {
    ($max:literal) => {
        concat!(
            "SELECT p.phone, p.name, p.received_at, p.body, p.kind, p.n,
               (SELECT MIN(w.received_at) FROM inbound_messages w
                WHERE w.phone = p.phone AND w.received_at > ",
            $max,
            "(
                  COALESCE((SELECT MAX(r.created_at) FROM replies r
                            WHERE r.phone = p.phone AND r.error IS NULL), 0),
                  COALESCE((SELECT MAX(COALESCE(m.sent_at, m.created_at)) FROM messages m
                            JOIN orders o ON o.id = m.order_id
                            WHERE o.customer_id = p.customer_id AND m.recipient = p.phone
                              AND m.channel IN (?3, ?4) AND m.status = 'sent'), 0),
                  COALESCE((SELECT MAX(o.placed_at) FROM orders o
                            WHERE o.customer_id = p.customer_id), 0))),
               (SELECT MAX(o.id) FROM orders o WHERE o.customer_id = p.customer_id
                  AND o.placed_at >= (SELECT MIN(f.received_at) FROM inbound_messages f
                                      WHERE f.phone = p.phone))
             FROM (SELECT i.phone, c.name, c.id AS customer_id, i.received_at, i.body, i.kind,
                          last.n, i.id
                   FROM (SELECT phone, MAX(id) AS id, COUNT(*) AS n FROM inbound_messages
                         WHERE phone LIKE '+%' GROUP BY phone) AS last
                   JOIN inbound_messages i ON i.id = last.id
                   LEFT JOIN customers c ON c.phone = i.phone
                   WHERE i.received_at < ?1
                   ORDER BY i.received_at DESC, i.id DESC
                   LIMIT ?2) AS p
             ORDER BY p.received_at DESC, p.id DESC"
        )
    };
}

/// Most messages one conversation answers with (the newest).
pub const CONVERSATION_MESSAGES_MAX: i64 = 500;

fn kind_of(raw: &str) -> InboundKind {
    InboundKind::parse(raw).unwrap_or(InboundKind::Unknown)
}

impl Store {
    /// The numbers buyers wrote from, by their latest message, newest first; `before` (ms) pages.
    pub async fn conversations(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        self.read(move |db| {
            let sql = db.pick(conversations_sql!("MAX"), conversations_sql!("GREATEST"));
            db.rows(
                sql,
                params![
                    before.unwrap_or(i64::MAX),
                    limit as i64,
                    Channel::Whatsapp.as_str(),
                    Channel::ManualWhatsapp.as_str()
                ],
                |row| -> DbResult<ConversationSummary> {
                    Ok(ConversationSummary {
                        phone: Phone::from_stored(row.text(0)?),
                        name: row.opt_text(1)?,
                        last_at: timestamp(row.int(2)?)?,
                        last_text: row.opt_text(3)?,
                        last_kind: kind_of(&row.text(4)?),
                        inbound: row.int(5)?,
                        waiting_since: row.opt_int(6)?.map(timestamp).transpose()?,
                        order_id: row.opt_int(7)?,
                    })
                },
            )
        })
        .await
    }

    /// One number's conversation, oldest first (its newest `CONVERSATION_MESSAGES_MAX`).
    pub async fn conversation(&self, phone: Phone) -> Result<Vec<ConversationMessage>, StoreError> {
        self.read(move |db| {
            let mut messages = db.rows(
                "SELECT received_at, body, kind, id, faq_id, faq_score, faq_state
                 FROM inbound_messages WHERE phone = ?1
                 ORDER BY received_at DESC, id DESC LIMIT ?2",
                params![phone.as_str(), CONVERSATION_MESSAGES_MAX],
                |row| {
                    let faq = match (row.opt_text(4)?, row.opt_text(6)?) {
                        (Some(faq_id), Some(state)) => Some(FaqNote {
                            faq_id,
                            score_milli: row.opt_int(5)?.unwrap_or(0),
                            state: FaqState::parse(&state)
                                .ok_or_else(|| crate::sql::corrupt("faq_state", &state))?,
                        }),
                        _ => None,
                    };
                    Ok((
                        row.int(0)?,
                        row.int(3)?,
                        ConversationMessage {
                            inbound_id: Some(row.int(3)?),
                            faq,
                            direction: Direction::In,
                            at: timestamp(row.int(0)?)?,
                            text: row.opt_text(1)?,
                            kind: row.text(2)?,
                            answered_by: None,
                            delivery: None,
                        },
                    ))
                },
            )?;
            messages.extend(db.rows(
                "SELECT created_at, body, answered_by, id, channel FROM replies
                 WHERE phone = ?1 AND error IS NULL
                 ORDER BY created_at DESC, id DESC LIMIT ?2",
                params![phone.as_str(), CONVERSATION_MESSAGES_MAX],
                |row| {
                    let bot = row.text(2)? == AnsweredBy::Bot.as_str();
                    Ok((
                        row.int(0)?,
                        row.int(3)?,
                        ConversationMessage {
                            inbound_id: None,
                            faq: None,
                            direction: Direction::Out,
                            at: timestamp(row.int(0)?)?,
                            text: Some(row.text(1)?),
                            kind: format!("reply_{}", row.text(4)?),
                            answered_by: Some(if bot {
                                AnsweredBy::Bot
                            } else {
                                AnsweredBy::Staff
                            }),
                            delivery: None,
                        },
                    ))
                },
            )?);
            messages.extend(db.rows(
                concat!(
                    "SELECT COALESCE(sent_at, created_at), body, kind, rowid, delivery FROM messages
                     WHERE order_id IN ",
                    orders_of_phone!(),
                    " AND recipient = ?1 AND channel IN (?2, ?3) AND status = 'sent'
                     ORDER BY COALESCE(sent_at, created_at) DESC LIMIT ?4"
                ),
                params![
                    phone.as_str(),
                    Channel::Whatsapp.as_str(),
                    Channel::ManualWhatsapp.as_str(),
                    CONVERSATION_MESSAGES_MAX
                ],
                |row| {
                    Ok((
                        row.int(0)?,
                        row.int(3)?,
                        ConversationMessage {
                            inbound_id: None,
                            faq: None,
                            direction: Direction::Out,
                            at: timestamp(row.int(0)?)?,
                            text: row.opt_text(1)?,
                            kind: row.text(2)?,
                            answered_by: None,
                            delivery: row.opt_text(4)?.as_deref().and_then(Delivery::parse),
                        },
                    ))
                },
            )?);
            // Oldest first; of two at the same instant, the buyer's first.
            messages.sort_by_key(|(at, id, m)| (*at, m.direction == Direction::Out, *id));
            let skip = messages
                .len()
                .saturating_sub(CONVERSATION_MESSAGES_MAX as usize);
            Ok(messages.into_iter().skip(skip).map(|(_, _, m)| m).collect())
        })
        .await
    }
}

impl Store {
    /// The shop's FAQ entries, by id.
    pub async fn faq_entries(&self) -> Result<Vec<FaqEntry>, StoreError> {
        self.read(|db| {
            db.rows(
                "SELECT id, questions, answer, sku FROM faq_entries ORDER BY id",
                params![],
                |row| {
                    let questions = row.text(1)?;
                    Ok(FaqEntry {
                        id: row.text(0)?,
                        questions: serde_json::from_str(&questions).map_err(|_| {
                            crate::sql::corrupt("faq_entries.questions", &questions)
                        })?,
                        answer: row.text(2)?,
                        sku: row.opt_text(3)?,
                    })
                },
            )
        })
        .await
    }

    /// Keeps an entry (checked by the caller), replacing one of the same id; returns whether
    /// it is new.
    pub async fn put_faq(&self, entry: FaqEntry, now: Timestamp) -> Result<bool, StoreError> {
        self.write_always(move |db| put_faq(db, &entry, now)).await
    }

    /// Forgets an entry; returns whether there was one.
    pub async fn delete_faq(&self, id: String) -> Result<bool, StoreError> {
        self.write_always(move |db| {
            Ok(db.execute("DELETE FROM faq_entries WHERE id = ?1", params![&id])? == 1)
        })
        .await
    }

    /// Notes what the FAQ matcher made of a buyer's message (by its id at the source).
    pub async fn note_faq_match(
        &self,
        source_id: String,
        faq_id: String,
        score_milli: i64,
        state: FaqState,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "UPDATE inbound_messages SET faq_id = ?2, faq_score = ?3, faq_state = ?4
                 WHERE wa_message_id = ?1",
                params![&source_id, &faq_id, score_milli, state.as_str()],
            )?;
            Ok(())
        })
        .await
    }

    /// A buyer's message by id, with the FAQ note: (phone, text, note).
    pub async fn inbound_message(
        &self,
        id: i64,
    ) -> Result<Option<(Phone, Option<String>, Option<FaqNote>)>, StoreError> {
        self.read(move |db| {
            db.row(
                "SELECT phone, body, faq_id, faq_score, faq_state FROM inbound_messages WHERE id = ?1",
                params![id],
                |row| {
                    let note = match (row.opt_text(2)?, row.opt_text(4)?) {
                        (Some(faq_id), Some(state)) => FaqState::parse(&state).map(|state| FaqNote {
                            faq_id,
                            score_milli: 0,
                            state,
                        }),
                        _ => None,
                    };
                    Ok((Phone::from_stored(row.text(0)?), row.opt_text(1)?, note))
                },
            )
        })
        .await
    }

    /// Moves a suggestion on: staff sent it, set it aside, or corrected it to `faq_id` — in the
    /// last case the message becomes one of that entry's questions in the same transaction.
    /// Returns whether the message was in `from`.
    pub async fn settle_faq(
        &self,
        inbound_id: i64,
        from: Vec<FaqState>,
        to: FaqState,
        corrected: Option<FaqEntry>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_always(move |db| {
            let state: Option<Option<String>> = db.row(
                "SELECT faq_state FROM inbound_messages WHERE id = ?1",
                params![inbound_id],
                |row| row.opt_text(0),
            )?;
            let Some(state) = state else {
                return Ok(false);
            };
            let now_state = state.as_deref().and_then(FaqState::parse);
            let allowed = match now_state {
                Some(s) => from.contains(&s),
                None => to == FaqState::Corrected,
            };
            if !allowed {
                return Ok(false);
            }
            let faq_id = corrected.as_ref().map(|e| e.id.clone());
            db.execute(
                "UPDATE inbound_messages SET faq_state = ?2, faq_id = COALESCE(?3, faq_id)
                 WHERE id = ?1",
                params![inbound_id, to.as_str(), faq_id.as_deref()],
            )?;
            if let Some(entry) = &corrected {
                put_faq(db, entry, now)?;
            }
            Ok(true)
        })
        .await
    }

    /// Notes what WhatsApp said of messages lunas sent, each only forward (sent, delivered,
    /// read; failed from any); returns how many changed.
    pub async fn note_deliveries(
        &self,
        statuses: Vec<DeliveryStatus>,
    ) -> Result<usize, StoreError> {
        self.write_always(move |db| {
            let mut changed = 0;
            for status in &statuses {
                let rank = |d: Delivery| d as i64;
                changed += db.execute(
                    "UPDATE messages SET delivery = ?2, delivery_at = ?3
                     WHERE id = ?1 AND (delivery IS NULL OR ?4 = 3 OR
                       (delivery <> 'failed' AND ?4 > CASE delivery WHEN 'sent' THEN 0
                          WHEN 'delivered' THEN 1 WHEN 'read' THEN 2 ELSE 3 END))",
                    params![
                        status.message_id.as_str(),
                        status.delivery.as_str(),
                        status.at.map(millis),
                        rank(status.delivery)
                    ],
                )? as usize;
            }
            Ok(changed)
        })
        .await
    }

    /// The facts conversation analytics reads: buyers' messages received in `[from, to)` (ms),
    /// and from `from` on, what the shop sent each number (replies, and messages of their orders
    /// sent over WhatsApp) and the orders each placed.
    #[allow(clippy::type_complexity)]
    pub async fn conversation_facts(
        &self,
        from: i64,
        to: i64,
    ) -> Result<
        (
            Vec<lunas_core::analytics::conversations::InboundFact>,
            HashMap<String, Vec<Timestamp>>,
            HashMap<String, Vec<Timestamp>>,
        ),
        StoreError,
    > {
        self.read(move |db| {
            let inbound = db.rows(
                "SELECT phone, received_at, body IS NOT NULL, faq_state FROM inbound_messages
                 WHERE received_at >= ?1 AND received_at < ?2 AND phone LIKE '+%'",
                params![from, to],
                |row| {
                    Ok(lunas_core::analytics::conversations::InboundFact {
                        phone: row.text(0)?,
                        at: timestamp(row.int(1)?)?,
                        has_text: row.boolean(2)?,
                        faq: row.opt_text(3)?.as_deref().and_then(FaqState::parse),
                    })
                },
            )?;
            let mut outs: HashMap<String, Vec<Timestamp>> = HashMap::new();
            let mut orders: HashMap<String, Vec<Timestamp>> = HashMap::new();
            if inbound.is_empty() {
                return Ok((inbound, outs, orders));
            }
            for (phone, at) in db.rows(
                "SELECT phone, created_at FROM replies WHERE created_at >= ?1 AND error IS NULL",
                params![from],
                |row| Ok((row.text(0)?, timestamp(row.int(1)?)?)),
            )? {
                outs.entry(phone).or_default().push(at);
            }
            for (phone, at) in db.rows(
                "SELECT c.phone, COALESCE(m.sent_at, m.created_at) FROM messages m
                 JOIN orders o ON o.id = m.order_id JOIN customers c ON c.id = o.customer_id
                 WHERE m.channel IN (?2, ?3) AND m.status = 'sent' AND m.created_at >= ?1",
                params![
                    from,
                    Channel::Whatsapp.as_str(),
                    Channel::ManualWhatsapp.as_str()
                ],
                |row| Ok((row.text(0)?, timestamp(row.int(1)?)?)),
            )? {
                outs.entry(phone).or_default().push(at);
            }
            for (phone, at) in db.rows(
                "SELECT c.phone, o.placed_at FROM orders o JOIN customers c ON c.id = o.customer_id
                 WHERE o.placed_at >= ?1",
                params![from],
                |row| Ok((row.text(0)?, timestamp(row.int(1)?)?)),
            )? {
                orders.entry(phone).or_default().push(at);
            }
            Ok((inbound, outs, orders))
        })
        .await
    }

    /// When a number wrote and what (its newest `limit` messages).
    pub async fn inbound_texts(
        &self,
        phone: Phone,
        limit: usize,
    ) -> Result<Vec<(Timestamp, Option<String>)>, StoreError> {
        self.read(move |db| {
            db.rows(
                "SELECT received_at, body FROM inbound_messages WHERE phone = ?1
                 ORDER BY received_at DESC LIMIT ?2",
                params![phone.as_str(), limit as i64],
                |row| Ok((timestamp(row.int(0)?)?, row.opt_text(1)?)),
            )
        })
        .await
    }

    /// A number's counted messages, if it wrote.
    pub async fn chat_counts(
        &self,
        phone: Phone,
    ) -> Result<Option<lunas_core::signals::ChatCounts>, StoreError> {
        self.read(move |db| chat_counts(db, &phone)).await
    }

    /// The counted messages of the buyers a page of `customer_profiles(after, limit)` lists, by
    /// number (one read for the page).
    pub async fn chat_counts_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<HashMap<String, lunas_core::signals::ChatCounts>, StoreError> {
        self.read(move |db| {
            let rows = db.rows(
                "SELECT s.phone, s.messages, s.days, s.haggles FROM chat_signals s
                 WHERE s.phone IN (SELECT phone FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2)",
                params![after, limit as i64],
                |row| {
                    Ok((
                        row.text(0)?,
                        lunas_core::signals::ChatCounts {
                            messages: row.int(1)?.max(0) as usize,
                            days: row.int(2)?.max(0) as usize,
                            haggles: row.int(3)?.max(0) as usize,
                        },
                    ))
                },
            )?;
            Ok(rows.into_iter().collect())
        })
        .await
    }

    /// Counts a new message of `phone` (written on local day `day`, haggling or not).
    pub async fn count_chat(&self, phone: Phone, haggle: bool, day: i64) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "INSERT INTO chat_signals (phone, messages, days, haggles, last_day)
                 VALUES (?1, 1, 1, ?2, ?3)
                 ON CONFLICT (phone) DO UPDATE SET
                   messages = chat_signals.messages + 1,
                   haggles = chat_signals.haggles + ?2,
                   days = chat_signals.days + CASE WHEN chat_signals.last_day < ?3 THEN 1 ELSE 0 END,
                   last_day = CASE WHEN chat_signals.last_day < ?3 THEN ?3 ELSE chat_signals.last_day END",
                params![phone.as_str(), i64::from(haggle), day],
            )?;
            Ok(())
        })
        .await
    }

    /// Keeps a reply to a buyer.
    pub async fn add_reply(&self, reply: Reply) -> Result<i64, StoreError> {
        self.write_always(move |db| {
            db.execute(
                "INSERT INTO replies (phone, body, answered_by, actor, faq_id, channel, status, error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    reply.phone.as_str(),
                    &reply.body,
                    reply.answered_by.as_str(),
                    &reply.actor,
                    reply.faq_id.as_deref(),
                    reply.channel.as_str(),
                    if reply.error.is_some() { "failed" } else { "sent" },
                    reply.error.as_deref(),
                    millis(reply.at)
                ],
            )?;
            db.scalar(
                "SELECT MAX(id) FROM replies WHERE phone = ?1",
                params![reply.phone.as_str()],
            )
        })
        .await
    }
}

fn put_faq(db: &mut dyn Db, entry: &FaqEntry, now: Timestamp) -> DbResult<bool> {
    let questions = serde_json::to_string(&entry.questions).expect("strings serialise");
    let updated = db.execute(
        "UPDATE faq_entries SET questions = ?2, answer = ?3, sku = ?4, updated_at = ?5 WHERE id = ?1",
        params![&entry.id, &questions, &entry.answer, entry.sku.as_deref(), millis(now)],
    )?;
    if updated == 1 {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO faq_entries (id, questions, answer, sku, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            &entry.id,
            &questions,
            &entry.answer,
            entry.sku.as_deref(),
            millis(now)
        ],
    )?;
    Ok(true)
}

/// A number's counted messages, if it wrote.
pub(crate) fn chat_counts(
    db: &mut dyn Db,
    phone: &Phone,
) -> DbResult<Option<lunas_core::signals::ChatCounts>> {
    db.row(
        "SELECT messages, days, haggles FROM chat_signals WHERE phone = ?1",
        params![phone.as_str()],
        |row| {
            Ok(lunas_core::signals::ChatCounts {
                messages: row.int(0)?.max(0) as usize,
                days: row.int(1)?.max(0) as usize,
                haggles: row.int(2)?.max(0) as usize,
            })
        },
    )
}
