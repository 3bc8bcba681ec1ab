//! The transactional outbox: writing messages in the transaction of their cause, leasing them
//! to the sender, recording deliveries, the manual WhatsApp queue and replays.

use lunas_core::messages::{Channel, MessageContext, MessageKind};
use lunas_core::{Actor, Order, OrderId, PaymentMethod, Sku, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Dialect, Row, corrupt, params};
use lunas_core::outbox::{Delivery, Message, MessageId, MessageStatus};
use lunas_core::placing::Messaging;

/// Writes the message `kind` about `order` (a lifecycle one only if the store has it switched
/// on): a reminder's `step` picks its own template, and `reminder_number` is its ordinal.
#[allow(clippy::too_many_arguments)]
pub(crate) fn enqueue_with(
    db: &mut dyn Db,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(PaymentMethod, usize)>,
    reminder_number: usize,
    order: &Order,
    known_tips: Option<Vec<Option<String>>>,
    known_webhooks: Option<Vec<String>>,
    now_ms: i64,
) -> DbResult<()> {
    match message_rows(
        db,
        messaging,
        kind,
        step,
        reminder_number,
        order,
        known_tips,
        known_webhooks,
        now_ms,
    )? {
        Some(rows) => insert_messages(db, order.id, now_ms, &rows),
        None => Ok(()),
    }
}

/// The rows of `enqueue_with`'s message and its webhook deliveries, rendered now; `None` when
/// the store does not send messages of `kind`.
#[allow(clippy::too_many_arguments)]
pub(super) fn message_rows(
    db: &mut dyn Db,
    messaging: &Messaging,
    kind: MessageKind,
    step: Option<(PaymentMethod, usize)>,
    reminder_number: usize,
    order: &Order,
    known_tips: Option<Vec<Option<String>>>,
    known_webhooks: Option<Vec<String>>,
    now_ms: i64,
) -> DbResult<Option<Vec<MessageRow>>> {
    if !messaging.settings.messages.enabled(kind) {
        return Ok(None);
    }
    let tips = match known_tips {
        Some(tips) => tips,
        // Read only for a template that uses them.
        None if messaging.composer.needs_tips(kind, step) => {
            let skus: Vec<Sku> = order.items.iter().map(|item| item.sku.clone()).collect();
            product_tips(db, &skus)?
        }
        None => vec![None; order.items.len()],
    };
    let context = MessageContext::new(
        order,
        &tips,
        &messaging.settings,
        &messaging.public_base,
        reminder_number,
    );
    // Templates are checked when saved, so rendering does not fail; if it ever did, the message is
    // kept as dead with the reason rather than lost or allowed to block the order.
    let (body, status, error) = match messaging.composer.render(kind, step, &context) {
        Ok(body) => (body, MessageStatus::Pending, None),
        Err(e) => (String::new(), MessageStatus::Dead, Some(e.to_string())),
    };
    // WhatsApp through the Cloud API when this server has it and the store wants it (buyers here
    // live on WhatsApp); else email when the server can send it, the store wants it and the buyer
    // gave an address; otherwise the manual WhatsApp queue, which every seller has.
    let whatsapp = messaging.whatsapp_available && messaging.settings.channels.whatsapp;
    let email = order
        .customer
        .email
        .as_deref()
        .filter(|_| messaging.email_available && messaging.settings.channels.email);
    let (channel, recipient, subject) = match email.filter(|_| !whatsapp) {
        None if whatsapp => (
            Channel::Whatsapp,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
        Some(address) => (
            Channel::Email,
            address.to_owned(),
            Some(lunas_core::messages::subject(
                kind,
                order.id,
                messaging.settings.language,
            )),
        ),
        None => (
            Channel::ManualWhatsapp,
            order.customer.phone.as_str().to_owned(),
            None,
        ),
    };
    let id = new_message_id(now_ms);
    let mut rows = vec![MessageRow {
        id: id.clone(),
        kind,
        channel,
        recipient: recipient.clone(),
        subject,
        body: body.clone(),
        status,
        last_error: error,
    }];
    // One webhook delivery per endpoint, so the seller's own systems (a WhatsApp gateway, a CRM)
    // hear of the message. Each delivery has its own stable id, sent as `webhook-id` on every
    // attempt.
    let endpoints = match known_webhooks {
        Some(endpoints) => endpoints,
        None => webhook_endpoint_ids(db)?,
    };
    if !endpoints.is_empty() {
        let payload = serde_json::json!({
            "type": "message.created",
            "timestamp": timestamp(now_ms)?,
            "data": {
                "message_id": id,
                "order_id": order.id.0,
                "kind": kind.as_str(),
                "channel": channel.as_str(),
                "to": recipient,
                "phone": order.customer.phone.as_str(),
                "body": body,
            }
        })
        .to_string();
        for endpoint in endpoints {
            rows.push(MessageRow {
                id: new_message_id(now_ms),
                kind,
                channel: Channel::Webhook,
                recipient: endpoint,
                subject: None,
                body: payload.clone(),
                status: MessageStatus::Pending,
                last_error: None,
            });
        }
    }
    Ok(Some(rows))
}

/// A message row to write.
pub(super) struct MessageRow {
    id: MessageId,
    kind: MessageKind,
    channel: Channel,
    recipient: String,
    subject: Option<String>,
    body: String,
    status: MessageStatus,
    last_error: Option<String>,
}

impl MessageRow {
    fn json(&self, order: OrderId) -> serde_json::Value {
        serde_json::json!({
            "order_id": order.0,
            "id": self.id,
            "kind": self.kind.as_str(),
            "channel": self.channel.as_str(),
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "status": self.status.as_str(),
            "last_error": self.last_error,
        })
    }
}

/// Writes messages about several orders in one statement (PostgreSQL; their fields travel as
/// JSON), in their order.
pub(super) fn insert_messages_of_orders(
    db: &mut dyn Db,
    now_ms: i64,
    rows: &[(OrderId, &MessageRow)],
) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let json: serde_json::Value = rows.iter().map(|(order, m)| m.json(*order)).collect();
    db.execute(
        "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
         SELECT x.id, x.order_id, x.kind, x.channel, x.recipient, x.subject, x.body, x.status, x.last_error, ?1
         FROM ROWS FROM (jsonb_to_recordset(CAST(CAST(?2 AS TEXT) AS JSONB))
                 AS (order_id BIGINT, id TEXT, kind TEXT, channel TEXT, recipient TEXT, subject TEXT,
                     body TEXT, status TEXT, last_error TEXT))
             WITH ORDINALITY AS x(order_id, id, kind, channel, recipient, subject, body, status, last_error, n)
         ORDER BY x.n",
        params![now_ms, &json.to_string()],
    )?;
    Ok(())
}

/// Writes messages about one order: one statement each, or on PostgreSQL all in one statement.
fn insert_messages(
    db: &mut dyn Db,
    order: OrderId,
    now_ms: i64,
    rows: &[MessageRow],
) -> DbResult<()> {
    if rows.len() > 1 && db.dialect() == Dialect::Postgres {
        let rows: Vec<(OrderId, &MessageRow)> = rows.iter().map(|m| (order, m)).collect();
        return insert_messages_of_orders(db, now_ms, &rows);
    }
    for m in rows {
        db.execute(
            "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                &m.id,
                order.0,
                m.kind.as_str(),
                m.channel.as_str(),
                &m.recipient,
                &m.subject,
                &m.body,
                m.status.as_str(),
                &m.last_error,
                now_ms
            ],
        )?;
    }
    Ok(())
}

/// The columns `read_message` reads, in its order.
macro_rules! message_columns {
    () => {
        "id, order_id, kind, channel, recipient, subject, body, variant, status, attempts, last_error, created_at, sent_at, sent_by"
    };
}

fn read_message(row: &Row<'_>) -> DbResult<Message> {
    let kind = row.text(2)?;
    let status = row.text(8)?;
    let channel = row.text(3)?;
    let channel = Channel::parse(&channel).ok_or_else(|| corrupt("message channel", &channel))?;
    let recipient = row.text(4)?;
    let body = row.text(6)?;
    // The wa.me link is derived, not stored: it is the body again, three times longer.
    let link = (channel == Channel::ManualWhatsapp).then(|| wa_me_link(&recipient, &body));
    Ok(Message {
        id: MessageId::from_stored(row.text(0)?),
        order_id: row.opt_int(1)?.map(OrderId),
        kind: MessageKind::parse(&kind).ok_or_else(|| corrupt("message kind", &kind))?,
        channel,
        recipient,
        subject: row.opt_text(5)?,
        body,
        link,
        variant: row.opt_text(7)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status", &status))?,
        attempts: row.int(9)?,
        last_error: row.opt_text(10)?,
        created_at: timestamp(row.int(11)?)?,
        sent_at: row.opt_int(12)?.map(timestamp).transpose()?,
        sent_by: row.opt_text(13)?,
    })
}

pub(crate) fn message_for_update(db: &mut dyn Db, id: &MessageId) -> DbResult<Option<Message>> {
    db.row(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE id = ?1 FOR NO KEY UPDATE"
        ),
        params![id],
        read_message,
    )
}

pub(crate) fn order_messages(db: &mut dyn Db, order: OrderId) -> DbResult<Vec<Message>> {
    db.rows(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE order_id = ?1 ORDER BY created_at, rowid"
        ),
        params![order.0],
        read_message,
    )
}

pub(crate) fn messages(
    db: &mut dyn Db,
    channel: Channel,
    status: MessageStatus,
    limit: usize,
) -> DbResult<Vec<Message>> {
    db.rows(
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE channel = ?1 AND status = ?2 ORDER BY created_at, rowid LIMIT ?3"
        ),
        params![channel.as_str(), status.as_str(), limit as i64],
        read_message,
    )
}

/// Staff sent a message of the manual queue by hand.
pub(crate) fn mark_sent_by(
    db: &mut dyn Db,
    id: &MessageId,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2, sent_by = ?3 WHERE id = ?1",
        params![id, millis(now), actor.as_str()],
    )?;
    Ok(())
}

/// Staff chose not to send a manual message: it leaves the queue, with who skipped it.
pub(crate) fn mark_skipped_by(
    db: &mut dyn Db,
    id: &MessageId,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE messages SET status = 'skipped', sent_at = ?2, sent_by = ?3, next_attempt_at = NULL WHERE id = ?1",
        params![id, millis(now), actor.as_str()],
    )?;
    Ok(())
}

/// A dead message goes back in the queue, its attempts reset.
pub(crate) fn requeue(db: &mut dyn Db, id: &MessageId, now: Timestamp) -> DbResult<()> {
    db.execute(
        "UPDATE messages SET status = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
        params![id, millis(now)],
    )?;
    Ok(())
}

/// Takes up to `limit` messages of `channels` that are due (pending or failed, next attempt
/// at or before `now`) and leases them until `lease_until`: if this process dies while
/// sending, the lease runs out and they are taken again (at least once; the stable id lets
/// the receiver drop the duplicate). Rows another process is leasing right now are skipped, so
/// several processes drain the outbox side by side without sending a message twice.
pub(crate) fn claim_messages(
    db: &mut dyn Db,
    channels: &[Channel],
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
) -> DbResult<Vec<Message>> {
    let mut claimed = Vec::new();
    for channel in channels {
        let due = db.rows(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages
                 WHERE channel = ?1 AND status IN ('pending', 'failed')
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)
                 ORDER BY created_at, rowid LIMIT ?3 FOR NO KEY UPDATE SKIP LOCKED"
            ),
            params![
                channel.as_str(),
                millis(now),
                (limit - claimed.len()) as i64
            ],
            read_message,
        )?;
        for message in due {
            db.execute(
                "UPDATE messages SET next_attempt_at = ?2 WHERE id = ?1",
                params![&message.id, millis(lease_until)],
            )?;
            claimed.push(message);
        }
        if claimed.len() >= limit {
            break;
        }
    }
    Ok(claimed)
}

/// Records what an attempt to deliver a message did. Only a message still pending or failed
/// changes, so a late report about a message already settled is ignored.
pub(crate) fn record_delivery(
    db: &mut dyn Db,
    id: &MessageId,
    outcome: &Delivery,
    now: Timestamp,
) -> DbResult<()> {
    match outcome {
        Delivery::Sent { variant } => db.execute(
            "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = ?2,
                 last_error = NULL, next_attempt_at = NULL, variant = ?3
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, millis(now), variant],
        )?,
        Delivery::Manual { reason } => db.execute(
            "UPDATE messages SET channel = ?2, status = 'pending', last_error = ?3,
                 attempts = attempts + 1, next_attempt_at = NULL
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, Channel::ManualWhatsapp.as_str(), reason],
        )?,
        Delivery::Retry {
            error,
            next_attempt_at,
        } => db.execute(
            "UPDATE messages SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = ?3
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, error, millis(*next_attempt_at)],
        )?,
        Delivery::Dead { error } => db.execute(
            "UPDATE messages SET status = 'dead', attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = NULL
             WHERE id = ?1 AND status IN ('pending', 'failed')",
            params![id, error],
        )?,
    };
    Ok(())
}

/// `https://wa.me/<phone digits>?text=<message>`: opens WhatsApp with the message filled in.
fn wa_me_link(phone: &str, body: &str) -> String {
    format!(
        "https://wa.me/{}?text={}",
        phone.trim_start_matches('+'),
        percent_encoding::utf8_percent_encode(body, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// A message id: `msg_`, the creation time in milliseconds (hex, so ids sort by time and new ones
/// land at the end of the index), and 64 random bits.
pub(crate) fn new_message_id(now_ms: i64) -> MessageId {
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    MessageId::new(now_ms, random)
}
