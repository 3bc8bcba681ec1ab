//! Messages in the outbox: their status, a stored message, the verdicts of staff actions on one,
//! what a delivery attempt came to, inbound WhatsApp messages, and webhook endpoints.

use std::fmt;

use crate::messages::{Channel, MessageKind};
use crate::{OrderId, Phone, Timestamp};

/// A message's id: `msg_`, its creation time in milliseconds as 12 hex digits (so ids sort by
/// time and new ones append to the index), and 64 random bits as 16 more. It never changes,
/// across retries and replays, and is what receivers deduplicate by (the email `Message-ID`,
/// the webhook's `webhook-id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// Longest id `parse` takes: a bound on what a path may make the store look up.
    const LEN_MAX: usize = 64;

    /// The id of a message created at `created_at_ms` with `random`.
    pub fn new(created_at_ms: i64, random: [u8; 8]) -> MessageId {
        MessageId(format!(
            "msg_{:012x}{:016x}",
            created_at_ms.max(0),
            u64::from_be_bytes(random)
        ))
    }

    /// An id from outside (a path): `msg_` and lowercase letters and digits, at most 64 in all.
    /// Anything else names no message.
    pub fn parse(raw: &str) -> Option<MessageId> {
        let rest = raw.strip_prefix("msg_")?;
        (!rest.is_empty()
            && raw.len() <= MessageId::LEN_MAX
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()))
        .then(|| MessageId(raw.to_owned()))
    }

    /// An id read back from storage.
    pub fn from_stored(raw: String) -> MessageId {
        MessageId(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Pending,
    Sent,
    Failed,
    Dead,
    /// Its reason passed before it went out (a reminder or a "pesanan diterima" for an order
    /// that is now paid, cancelled or expired): it left the queue by itself.
    Superseded,
    /// Staff chose not to send this manual message.
    Skipped,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Dead => "dead",
            MessageStatus::Superseded => "superseded",
            MessageStatus::Skipped => "skipped",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageStatus> {
        [
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Failed,
            MessageStatus::Dead,
            MessageStatus::Superseded,
            MessageStatus::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A message to a buyer, as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    /// For WhatsApp: `text` or `template`, once sent.
    pub variant: Option<String>,
    /// The order the message is about; `None` for an offer to a buyer on a waitlist.
    pub order_id: Option<OrderId>,
    pub kind: MessageKind,
    pub channel: Channel,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub link: Option<String>,
    pub status: MessageStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageOpError {
    #[error("no such message")]
    NotFound,
    #[error("only messages of the manual WhatsApp queue are marked sent by staff")]
    NotManual,
    #[error("the message is {0}, not pending")]
    NotPending(&'static str),
    #[error("only dead messages can be replayed; this one is {0}")]
    NotDead(&'static str),
}

/// The result of one attempt to deliver a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered; `variant` notes how, where the channel has kinds (WhatsApp: `text` or `template`).
    Sent { variant: Option<String> },
    /// The channel cannot carry this message (WhatsApp outside the 24-hour window without an
    /// approved template): hand it to the manual WhatsApp queue instead of losing it.
    Manual { reason: String },
    /// A passing failure: try again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// A permanent failure, or the last allowed attempt: keep the error, stop trying.
    Dead { error: String },
}

/// A message from a buyer, as received from WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub phone: Phone,
    /// The message's identity at its source (WhatsApp's `wamid…`; `msg:` and the sender's id for
    /// lunas's own webhook): a message delivered again is kept once.
    pub wa_message_id: String,
    pub kind: crate::conversations::InboundKind,
    pub body: Option<String>,
    pub received_at: Timestamp,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// `whsec_…`; never shown after creation.
    pub secret: String,
    pub created_at: Timestamp,
}

/// Whether staff may mark `message` sent: only a pending message of the manual WhatsApp queue.
pub fn decide_mark_sent(message: &Message) -> Result<(), MessageOpError> {
    if message.channel != crate::messages::Channel::ManualWhatsapp {
        return Err(MessageOpError::NotManual);
    }
    if message.status != MessageStatus::Pending {
        return Err(MessageOpError::NotPending(message.status.as_str()));
    }
    Ok(())
}

/// Whether staff may skip `message`: a manual WhatsApp message still waiting to be sent.
pub fn decide_skip(message: &Message) -> Result<(), MessageOpError> {
    decide_mark_sent(message)
}

/// Whether `message` may be replayed: only a dead one goes back in the queue.
pub fn decide_replay(message: &Message) -> Result<(), MessageOpError> {
    if message.status != MessageStatus::Dead {
        return Err(MessageOpError::NotDead(message.status.as_str()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn staff_mark_sent_only_pending_manual_messages_and_replay_only_dead_ones() {
        use crate::messages::Channel;
        let message = |channel: Channel, status: MessageStatus| Message {
            id: MessageId::from_stored("msg_1".into()),
            variant: None,
            order_id: Some(crate::OrderId(1)),
            kind: crate::messages::MessageKind::Reminder,
            channel,
            recipient: "+6281234567890".into(),
            subject: None,
            body: "Halo".into(),
            link: None,
            status,
            attempts: 0,
            last_error: None,
            created_at: crate::Timestamp::UNIX_EPOCH,
            sent_at: None,
            sent_by: None,
        };
        let check = |channel,
                     status,
                     sent: Result<(), MessageOpError>,
                     replay: Result<(), MessageOpError>| {
            let m = message(channel, status);
            assert_eq!(
                (decide_mark_sent(&m), decide_replay(&m)),
                (sent, replay),
                "{channel:?} {status:?}"
            );
        };
        use MessageStatus::*;
        check(
            Channel::ManualWhatsapp,
            Pending,
            Ok(()),
            Err(MessageOpError::NotDead("pending")),
        );
        check(
            Channel::ManualWhatsapp,
            Sent,
            Err(MessageOpError::NotPending("sent")),
            Err(MessageOpError::NotDead("sent")),
        );
        check(
            Channel::Email,
            Pending,
            Err(MessageOpError::NotManual),
            Err(MessageOpError::NotDead("pending")),
        );
        check(Channel::Email, Dead, Err(MessageOpError::NotManual), Ok(()));
    }
    use super::*;

    #[test]
    fn message_ids_sort_by_time_and_only_well_formed_ones_parse() {
        let early = MessageId::new(1_764_700_000_000, [0xab; 8]);
        let late = MessageId::new(1_764_700_000_001, [0x00; 8]);
        assert_eq!(early.as_str(), "msg_019ae0510f00abababababababab");
        assert!(early < late);
        assert_eq!(MessageId::parse(early.as_str()), Some(early));
        for bad in [
            "",
            "msg_",
            "msg",
            "MSG_019a",
            "msg_019A",
            "msg_01 9a",
            "msg_019a/../x",
            &format!("msg_{}", "0".repeat(61)),
        ] {
            assert_eq!(MessageId::parse(bad), None, "{bad:?}");
        }
    }
}
