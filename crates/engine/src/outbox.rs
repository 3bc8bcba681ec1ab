//! The outbox sender: delivers the messages of the automatic channels (email, webhooks) at least
//! once, with exponential backoff and jitter, and keeps the last error of a message that dies.
//!
//! Messages are written by the store in the transaction that causes them; this worker only
//! reads them back. It leases what it takes, so a process that dies mid-send leaves nothing
//! stuck: the lease runs out and the message is taken again. Every message carries its stable id
//! (the email `Message-ID`), so a receiver can drop the rare duplicate.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use lunas_core::messages::Channel;
use lunas_core::outbox::{Delivery, Message};
use lunas_store::{Store, StoreError};
use rand::Rng;

use crate::Clock;
use crate::webhooks::WebhookChannel;
use crate::whatsapp::{WhatsAppChannel, WhatsAppOutcome};

/// Attempts before a message is given up as dead.
pub const MESSAGE_ATTEMPTS_MAX: i64 = 8;
/// Messages taken in one tick.
pub const OUTBOX_BATCH_LEN_MAX: usize = 100;
/// How long a taken message is reserved for the process that took it.
const LEASE_SECONDS: i64 = 120;
/// The first retry waits about this long; each further one twice as long, up to the cap.
const BACKOFF_BASE_SECONDS: i64 = 30;
const BACKOFF_CAP_SECONDS: i64 = 3600;
/// Longest the worker idles before looking for due messages again.
const OUTBOX_IDLE_MS_MAX: u64 = 1000;
/// Longest one SMTP exchange may take.
const SMTP_TIMEOUT_SECONDS: u64 = 30;

/// Why a delivery did not happen: passing (try again later) or permanent (give up now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    Transient(String),
    Permanent(String),
}

/// Email over SMTP with lettre: `smtp://host:port` (plain), `smtp://…?tls=required` (STARTTLS),
/// `smtps://host:465` (TLS), with optional `user:password@`.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailChannel {
    /// Builds the channel from the server's configuration. Errors never repeat the URL, which may
    /// hold a password.
    pub fn new(url: &str, from: &str) -> Result<EmailChannel, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "LUNAS_SMTP_URL is not a valid smtp:// or smtps:// URL".to_owned())?
            .timeout(Some(Duration::from_secs(SMTP_TIMEOUT_SECONDS)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("LUNAS_SMTP_FROM is not an email address: {e}"))?;
        Ok(EmailChannel { transport, from })
    }

    pub async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let to = message
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| DeliveryError::Permanent(format!("not an email address: {e}")))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .message_id(Some(format!("<{}@lunas>", message.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            // 5xx: the server will not take it, now or later.
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
            // 4xx, timeouts, refused connections: the server may take it later.
            Err(e) => Err(DeliveryError::Transient(e.to_string())),
        }
    }
}

/// What one outbox step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxOutcome {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Handed to the manual WhatsApp queue (WhatsApp outside the 24-hour window, no template).
    pub manual: usize,
    /// More were due than one step takes.
    pub more: bool,
}

pub struct Outbox {
    store: Store,
    clock: Arc<dyn Clock>,
    email: Option<EmailChannel>,
    webhooks: WebhookChannel,
    whatsapp: Option<WhatsAppChannel>,
}

impl Outbox {
    /// The sender for this server: email when SMTP is configured; webhooks always (deliveries
    /// are only written when the store has registered endpoints).
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        email: Option<EmailChannel>,
        webhooks_allow_private: bool,
    ) -> Outbox {
        let webhooks = WebhookChannel::new(store.clone(), webhooks_allow_private);
        Outbox {
            store,
            clock,
            email,
            webhooks,
            whatsapp: None,
        }
    }

    /// Adds the WhatsApp Cloud API channel.
    pub fn with_whatsapp(mut self, whatsapp: Option<WhatsAppChannel>) -> Outbox {
        self.whatsapp = whatsapp;
        self
    }

    fn channels(&self) -> Vec<Channel> {
        let mut channels = vec![Channel::Webhook];
        if self.email.is_some() {
            channels.push(Channel::Email);
        }
        if self.whatsapp.is_some() {
            channels.push(Channel::Whatsapp);
        }
        channels
    }

    /// The wait before attempt `attempts + 1`, with ±20 % jitter so that retries of many
    /// messages do not arrive together.
    fn backoff(attempts: i64) -> SignedDuration {
        let exponent = attempts.clamp(0, 20) as u32;
        let seconds = BACKOFF_BASE_SECONDS
            .saturating_mul(1i64 << exponent)
            .min(BACKOFF_CAP_SECONDS);
        let jitter = rand::rng().random_range(0.8..1.2);
        SignedDuration::from_secs_f64(seconds as f64 * jitter)
    }

    /// Takes the due messages and tries each once.
    pub async fn tick(&self) -> Result<OutboxOutcome, StoreError> {
        let channels = self.channels();
        if channels.is_empty() {
            return Ok(OutboxOutcome::default());
        }
        let now = self.clock.now();
        let lease_until = now + SignedDuration::from_secs(LEASE_SECONDS);
        let messages = self
            .store
            .claim_messages(channels, now, lease_until, OUTBOX_BATCH_LEN_MAX)
            .await?;
        let mut outcome = OutboxOutcome {
            more: messages.len() == OUTBOX_BATCH_LEN_MAX,
            ..OutboxOutcome::default()
        };
        for message in messages {
            let result = match (message.channel, &self.email, &self.whatsapp) {
                (Channel::Email, Some(email), _) => email.send(&message).await.map(|()| None),
                (Channel::Webhook, _, _) => self
                    .webhooks
                    .send(&message, self.clock.now())
                    .await
                    .map(|()| None),
                (Channel::Whatsapp, _, Some(whatsapp)) => {
                    whatsapp.send(&message, self.clock.now()).await.map(Some)
                }
                // Only the channels above are claimed; one not configured here (or the manual
                // queue, which staff send) is never handed to this sender.
                (
                    channel @ (Channel::Email | Channel::Whatsapp | Channel::ManualWhatsapp),
                    _,
                    _,
                ) => Err(DeliveryError::Permanent(format!(
                    "no channel {channel} on this server"
                ))),
            };
            let now = self.clock.now();
            let delivery = match result {
                Ok(Some(WhatsAppOutcome::NeedsManual(reason))) => {
                    outcome.manual += 1;
                    Delivery::Manual { reason }
                }
                Ok(sent) => {
                    outcome.sent += 1;
                    let variant = match sent {
                        Some(WhatsAppOutcome::Sent(variant)) => Some(variant.to_owned()),
                        _ => None,
                    };
                    Delivery::Sent { variant }
                }
                Err(DeliveryError::Transient(error))
                    if message.attempts + 1 < MESSAGE_ATTEMPTS_MAX =>
                {
                    outcome.retried += 1;
                    tracing::warn!(message = %message.id, channel = %message.channel, %error, "delivery failed; will retry");
                    Delivery::Retry {
                        error,
                        next_attempt_at: now + Outbox::backoff(message.attempts),
                    }
                }
                Err(DeliveryError::Transient(error) | DeliveryError::Permanent(error)) => {
                    outcome.dead += 1;
                    tracing::error!(message = %message.id, channel = %message.channel, %error, "message is dead");
                    Delivery::Dead { error }
                }
            };
            self.store
                .record_delivery(message.id, delivery, now)
                .await?;
        }
        Ok(outcome)
    }

    /// Delivers until `shutdown` completes, looking for due messages at least every second.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait_ms = match self.tick().await {
                Ok(outcome) if outcome.more => 0,
                Ok(_) => OUTBOX_IDLE_MS_MAX,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox tick failed; retrying");
                    OUTBOX_IDLE_MS_MAX
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait_ms)) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_an_hour() {
        for (attempts, base) in [
            (0, 30.0),
            (1, 60.0),
            (2, 120.0),
            (6, 1920.0),
            (7, 3600.0),
            (30, 3600.0),
        ] {
            let wait = Outbox::backoff(attempts).as_secs_f64();
            assert!(
                wait >= base * 0.8 && wait <= base * 1.2,
                "attempt {attempts}: {wait}"
            );
        }
    }
}
