//! Messages in the outbox: their status, a stored message, the verdicts of staff actions on one,
//! what a delivery attempt came to, inbound WhatsApp messages, and webhook endpoints.

use crate::messages::{Channel, MessageKind};
use crate::{OrderId, Phone, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Pending,
    Sent,
    Failed,
    Dead,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageStatus> {
        [
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Failed,
            MessageStatus::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A message to a buyer, as kept in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// For WhatsApp: `text` or `template`, once sent.
    pub variant: Option<String>,
    pub order_id: OrderId,
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
    pub wa_message_id: String,
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
