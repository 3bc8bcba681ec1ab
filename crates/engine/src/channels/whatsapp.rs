//! WhatsApp Cloud API: sending messages to buyers, and receiving theirs.
//!
//! WhatsApp's 24-hour rule: a business may send free-form text only within 24 hours of the
//! buyer's last message; outside it, only a pre-approved template. lunas keeps when each buyer
//! last wrote (from the inbound webhook), sends `text` inside the window and the configured
//! approved template outside it (the rendered message as its one body parameter), and records
//! which was sent. Without an approved template, a message outside the window goes to the manual
//! WhatsApp queue rather than being lost.

use std::time::Duration;

use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use jiff::SignedDuration;
use lunas_core::outbox::{InboundMessage, Message};
use lunas_core::{Phone, Timestamp};
use lunas_store::Store;
use sha2::Sha256;

use lunas_core::messages::Channel;

use crate::channels::{Deliver, Delivering, DeliveryError, Handed};

/// Longest one API call may take.
const WHATSAPP_TIMEOUT_SECONDS: u64 = 15;
/// WhatsApp's customer-service window.
const SERVICE_WINDOW_HOURS: i64 = 24;
/// Longest text WhatsApp takes in a template body parameter.
const TEMPLATE_PARAMETER_LEN_MAX: usize = 1024;
/// The Graph API base URL used when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";

#[derive(Clone)]
pub struct WhatsAppConfig {
    /// `https://graph.facebook.com/v21.0` by default; tests point it at a local server.
    pub base_url: String,
    pub token: String,
    pub phone_number_id: String,
    /// An approved template with one body parameter, for messages outside the 24-hour window.
    pub template: Option<String>,
    pub template_language: String,
}

impl std::fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("base_url", &self.base_url)
            .field("phone_number_id", &self.phone_number_id)
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

pub struct WhatsAppChannel {
    client: crate::http::HttpsClient,
    config: WhatsAppConfig,
    store: Store,
}

impl WhatsAppChannel {
    pub fn new(config: WhatsAppConfig, store: Store) -> Result<WhatsAppChannel, String> {
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            return Err("LUNAS_WHATSAPP_BASE_URL must be an http(s) URL".into());
        }
        if config.token.trim().is_empty() || config.phone_number_id.trim().is_empty() {
            return Err(
                "WhatsApp needs LUNAS_WHATSAPP_TOKEN and LUNAS_WHATSAPP_PHONE_NUMBER_ID".into(),
            );
        }
        let client = crate::http::https_client(
            HttpConnector::new(),
            Duration::from_secs(WHATSAPP_TIMEOUT_SECONDS),
        );
        Ok(WhatsAppChannel {
            client,
            config,
            store,
        })
    }

    pub async fn send(&self, message: &Message, now: Timestamp) -> Result<Handed, DeliveryError> {
        self.send_body(&message.recipient, &message.body, message.id.as_str(), now)
            .await
    }

    /// A reply in a conversation: a text inside the 24-hour window, the approved template
    /// outside it; an error when neither can go.
    pub async fn send_text(
        &self,
        phone: &Phone,
        body: &str,
        now: Timestamp,
    ) -> Result<(), DeliveryError> {
        let id = format!("reply_{}", crate::tokens::random_hex(8));
        match self.send_body(phone.as_str(), body, &id, now).await? {
            Handed::Sent { .. } => Ok(()),
            Handed::ToManual(why) => Err(DeliveryError::Permanent(why)),
        }
    }

    async fn send_body(
        &self,
        recipient: &str,
        body: &str,
        callback: &str,
        now: Timestamp,
    ) -> Result<Handed, DeliveryError> {
        let phone = Phone::from_stored(recipient.to_owned());
        let last = self
            .store
            .last_inbound_at(phone)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        let in_window = last.is_some_and(|at| {
            now.duration_since(at) < SignedDuration::from_hours(SERVICE_WINDOW_HOURS)
        });
        let to = recipient.trim_start_matches('+');
        let (variant, payload) = if in_window {
            let payload = serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": {"preview_url": false, "body": body},
                "biz_opaque_callback_data": callback,
            });
            ("text", payload)
        } else if let Some(template) = &self.config.template {
            // Template parameters may not hold line breaks or tabs.
            let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let flat: String = flat.chars().take(TEMPLATE_PARAMETER_LEN_MAX).collect();
            let payload = serde_json::json!({
                "messaging_product": "whatsapp",
                "to": to,
                "type": "template",
                "template": {
                    "name": template,
                    "language": {"code": self.config.template_language},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": flat}]}],
                },
                "biz_opaque_callback_data": callback,
            });
            ("template", payload)
        } else {
            return Ok(Handed::ToManual(
                "outside WhatsApp's 24-hour window and no approved template is configured; moved to the manual queue".into(),
            ));
        };
        let url = format!(
            "{}/{}/messages",
            self.config.base_url.trim_end_matches('/'),
            self.config.phone_number_id
        );
        let request = hyper::Request::post(url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.config.token))
            .body(Full::new(Bytes::from(payload.to_string())))
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the request: {e}")))?;
        let (status, body) = crate::http::send(
            &self.client,
            request,
            Duration::from_secs(WHATSAPP_TIMEOUT_SECONDS),
        )
        .await
        .map_err(DeliveryError::Transient)?;
        let detail: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        match status.as_u16() {
            200..=299 => Ok(Handed::Sent {
                variant: Some(variant),
            }),
            429 | 500..=599 => Err(DeliveryError::Transient(format!("HTTP {status}: {detail}"))),
            _ => Err(DeliveryError::Permanent(format!("HTTP {status}: {detail}"))),
        }
    }
}

impl Deliver for std::sync::Arc<WhatsAppChannel> {
    fn channel(&self) -> Channel {
        Channel::Whatsapp
    }

    fn deliver<'a>(&'a self, message: &'a Message, now: Timestamp) -> Delivering<'a> {
        Box::pin(self.send(message, now))
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the app secret>`, in
/// constant time.
pub fn verify_signature(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_signature) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(signature) = hex::decode(hex_signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// The buyers' messages in a WhatsApp webhook payload (`entry[].changes[].value.messages[]`), of
/// every kind (`conversations::whatsapp_message` says what each says). Entries that are not
/// messages (delivery statuses) are skipped; a message without a readable `timestamp` is dated
/// `received_at` (the engine's clock). A sender whose number does not read is kept under the
/// digits it came with, so nothing a buyer sends is lost; a message without an id (nothing to
/// keep it once by) is left out.
pub fn parse_inbound(
    payload: &serde_json::Value,
    raw: &str,
    received_at: Timestamp,
) -> Vec<InboundMessage> {
    let mut found = Vec::new();
    let entries = payload["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for change in entries.iter().flat_map(|e| {
        e["changes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }) {
        for message in change["value"]["messages"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (Some(from), Some(id)) = (message["from"].as_str(), message["id"].as_str()) else {
                continue;
            };
            if id.is_empty() || id.len() > 200 {
                continue;
            }
            let phone = Phone::parse(&format!("+{from}")).unwrap_or_else(|_| {
                let kept: String = from
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(32)
                    .collect();
                Phone::from_stored(format!("+{kept}"))
            });
            let at = message["timestamp"]
                .as_str()
                .and_then(|t| t.parse::<i64>().ok())
                .and_then(|s| Timestamp::from_second(s).ok())
                .unwrap_or(received_at);
            let (kind, body) = lunas_core::conversations::whatsapp_message(message);
            found.push(InboundMessage {
                phone,
                wa_message_id: id.to_owned(),
                kind,
                body,
                received_at: at,
                raw: raw.to_owned(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_against_the_app_secret() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"rahasia").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(verify_signature("rahasia", body, Some(&good)));
        assert!(!verify_signature("lain", body, Some(&good)));
        assert!(!verify_signature("rahasia", b"{}", Some(&good)));
        assert!(!verify_signature("rahasia", body, None));
        assert!(!verify_signature("rahasia", body, Some("sha256=zz")));
    }

    #[test]
    fn buyer_messages_are_read_out_of_a_webhook_payload() {
        let payload = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
            "messages": [{"from": "6281234567890", "id": "wamid.A", "timestamp": "1795000000", "type": "text", "text": {"body": "kak, masih ada?"}}],
            "statuses": [{"id": "wamid.B", "status": "delivered"}]
        }}]}]});
        let found = parse_inbound(&payload, "{}", Timestamp::from_second(0).unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].phone.as_str(), "+6281234567890");
        assert_eq!(found[0].body.as_deref(), Some("kak, masih ada?"));
        assert!(
            parse_inbound(
                &serde_json::json!({"entry": "nonsense"}),
                "",
                Timestamp::from_second(0).unwrap()
            )
            .is_empty()
        );
    }
}
