//! Conversations read back: the numbers buyers wrote from, newest first, and one number's
//! messages in both directions — what they sent (every kind, kept once) and what lunas sent them
//! over WhatsApp (by a channel, or marked sent from the manual queue).

use lunas_core::Phone;
use lunas_core::conversations::{ConversationMessage, ConversationSummary, Direction, InboundKind};
use lunas_core::messages::Channel;

use crate::repo::timestamp;
use crate::sql::{DbResult, params};
use crate::{Store, StoreError};

/// The orders of the buyer whose number is `?1`: what lunas sent a number is found through its
/// orders (`orders_by_customer`, `messages_by_order`), so no index of messages by recipient
/// costs every message written (measured: a fifth of the couriers' event rate).
macro_rules! orders_of_phone {
    () => {
        "(SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.phone = ?1)"
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
            let mut found = db.rows(
                "SELECT i.phone, c.name, i.received_at, i.body, i.kind, last.n
                 FROM (SELECT phone, MAX(id) AS id, COUNT(*) AS n FROM inbound_messages
                       WHERE phone LIKE '+%' GROUP BY phone) AS last
                 JOIN inbound_messages i ON i.id = last.id
                 LEFT JOIN customers c ON c.phone = i.phone
                 WHERE i.received_at < ?1
                 ORDER BY i.received_at DESC, i.id DESC
                 LIMIT ?2",
                params![before.unwrap_or(i64::MAX), limit as i64],
                |row| -> DbResult<ConversationSummary> {
                    Ok(ConversationSummary {
                        phone: Phone::from_stored(row.text(0)?),
                        name: row.opt_text(1)?,
                        last_at: timestamp(row.int(2)?)?,
                        last_text: row.opt_text(3)?,
                        last_kind: kind_of(&row.text(4)?),
                        inbound: row.int(5)?,
                        waiting_since: None,
                    })
                },
            )?;
            // Waiting: the buyer's first message after lunas last wrote to them.
            for summary in &mut found {
                let phone = summary.phone.as_str();
                let last_out = db.scalar(
                    concat!(
                        "SELECT COALESCE(MAX(COALESCE(sent_at, created_at)), 0) FROM messages
                         WHERE order_id IN ",
                        orders_of_phone!(),
                        " AND recipient = ?1 AND channel IN (?2, ?3) AND status = 'sent'"
                    ),
                    params![
                        phone,
                        Channel::Whatsapp.as_str(),
                        Channel::ManualWhatsapp.as_str()
                    ],
                )?;
                summary.waiting_since = db
                    .row(
                        "SELECT MIN(received_at) FROM inbound_messages
                         WHERE phone = ?1 AND received_at > ?2",
                        params![phone, last_out],
                        |row| row.opt_int(0),
                    )?
                    .flatten()
                    .map(timestamp)
                    .transpose()?;
            }
            Ok(found)
        })
        .await
    }

    /// One number's conversation, oldest first (its newest `CONVERSATION_MESSAGES_MAX`).
    pub async fn conversation(&self, phone: Phone) -> Result<Vec<ConversationMessage>, StoreError> {
        self.read(move |db| {
            let mut messages = db.rows(
                "SELECT received_at, body, kind, id FROM inbound_messages WHERE phone = ?1
                 ORDER BY received_at DESC, id DESC LIMIT ?2",
                params![phone.as_str(), CONVERSATION_MESSAGES_MAX],
                |row| {
                    Ok((
                        row.int(0)?,
                        row.int(3)?,
                        ConversationMessage {
                            direction: Direction::In,
                            at: timestamp(row.int(0)?)?,
                            text: row.opt_text(1)?,
                            kind: row.text(2)?,
                            answered_by: None,
                        },
                    ))
                },
            )?;
            messages.extend(db.rows(
                concat!(
                    "SELECT COALESCE(sent_at, created_at), body, kind, rowid FROM messages
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
                            direction: Direction::Out,
                            at: timestamp(row.int(0)?)?,
                            text: row.opt_text(1)?,
                            kind: row.text(2)?,
                            answered_by: None,
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
