//! The channels the outbox sender delivers by, each behind [`Deliver`]: email over SMTP
//! (`email`), signed webhooks (`webhooks`) and the WhatsApp Cloud API (`whatsapp`), with the
//! HTTPS client the last two share (`http`). A channel knows how to hand one message over and
//! says how that went; when to try, how often and what to record is the outbox's business, so
//! nothing here depends on it.

use std::future::Future;
use std::pin::Pin;

use lunas_core::Timestamp;
use lunas_core::messages::Channel;
use lunas_core::outbox::Message;

pub mod email;
pub mod webhooks;
pub mod whatsapp;

/// Why a delivery did not happen: passing (try again later) or permanent (give up now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    Transient(String),
    Permanent(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::Transient(why) | DeliveryError::Permanent(why) => f.write_str(why),
        }
    }
}

/// What a channel did with a message it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handed {
    /// Delivered; for WhatsApp, which form went (`text` or `template`).
    Sent { variant: Option<&'static str> },
    /// The channel cannot send it now and staff can (WhatsApp outside the 24-hour window without
    /// an approved template): it goes to the manual queue, with the reason.
    ToManual(String),
}

/// The future a channel's `deliver` returns.
pub type Delivering<'a> = Pin<Box<dyn Future<Output = Result<Handed, DeliveryError>> + Send + 'a>>;

/// One way out for messages.
pub trait Deliver: Send + Sync {
    /// The channel whose messages this delivers.
    fn channel(&self) -> Channel;

    /// Hands `message` over once, at `now` (the sender's clock, for signatures and the 24-hour
    /// window).
    fn deliver<'a>(&'a self, message: &'a Message, now: Timestamp) -> Delivering<'a>;
}
