//! The outbox sender: delivers the messages of the automatic channels (email, webhooks,
//! WhatsApp; each a [`Deliver`] from `channels`) at least once, with exponential backoff and
//! jitter, and keeps the last error of a message that dies.
//!
//! Messages are written by the store in the transaction that causes them; this worker only
//! reads them back. It leases what it takes, so a process that dies mid-send leaves nothing
//! stuck: the lease runs out and the message is taken again. Every message carries its stable id
//! (the email `Message-ID`), so a receiver can drop the rare duplicate.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use lunas_core::messages::Channel;
use lunas_core::outbox::Delivery;
use lunas_store::{Store, StoreError};
use rand::Rng;

use crate::Clock;
use crate::channels::{Deliver, DeliveryError, Handed};

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
    channels: Vec<Box<dyn Deliver>>,
}

impl Outbox {
    /// A sender with no channels yet; each `with_channel` adds one.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Outbox {
        Outbox {
            store,
            clock,
            channels: Vec::new(),
        }
    }

    /// Adds a way out; the messages of its channel are taken from then on. A channel added twice
    /// replaces the first.
    pub fn with_channel(mut self, channel: impl Deliver + 'static) -> Outbox {
        self.channels.retain(|c| c.channel() != channel.channel());
        self.channels.push(Box::new(channel));
        self
    }

    fn channel(&self, channel: Channel) -> Option<&dyn Deliver> {
        self.channels
            .iter()
            .find(|c| c.channel() == channel)
            .map(|c| c.as_ref())
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
        let channels: Vec<Channel> = self.channels.iter().map(|c| c.channel()).collect();
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
            // Only the channels this sender has are claimed, so each message finds its own.
            let result = match self.channel(message.channel) {
                Some(channel) => channel.deliver(&message, self.clock.now()).await,
                None => Err(DeliveryError::Permanent(format!(
                    "no channel {} on this server",
                    message.channel
                ))),
            };
            let now = self.clock.now();
            let delivery = match result {
                Ok(Handed::ToManual(reason)) => {
                    outcome.manual += 1;
                    Delivery::Manual { reason }
                }
                Ok(Handed::Sent { variant }) => {
                    outcome.sent += 1;
                    Delivery::Sent {
                        variant: variant.map(str::to_owned),
                    }
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
