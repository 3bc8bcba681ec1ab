//! Email over SMTP with lettre. Every message carries its stable id as `Message-ID`, so a
//! receiver can drop the rare duplicate a retry makes.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use lunas_core::Timestamp;
use lunas_core::messages::Channel;
use lunas_core::outbox::Message;

use crate::channels::{Deliver, Delivering, DeliveryError, Handed};

/// Longest one SMTP exchange may take.
const SMTP_TIMEOUT_SECONDS: u64 = 30;

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

impl Deliver for EmailChannel {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    fn deliver<'a>(&'a self, message: &'a Message, _now: Timestamp) -> Delivering<'a> {
        Box::pin(async move {
            self.send(message).await?;
            Ok(Handed::Sent { variant: None })
        })
    }
}
