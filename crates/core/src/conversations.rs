//! Conversations with buyers before (and after) the sale: what each kind of message a buyer sends
//! says in a conversation, and a conversation's messages in both directions. (Issue 20; the
//! first part: inbound messages of every kind kept once, and the conversation read back.)

use serde::Serialize;

use crate::Timestamp;

/// What kind of message a buyer sent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundKind {
    Text,
    /// A tap on a quick-reply button of a template.
    Button,
    /// A tap on an interactive message's button or list row.
    Choice,
    Image,
    Video,
    Audio,
    Document,
    Sticker,
    Location,
    Contacts,
    Reaction,
    /// A type lunas does not read (kept as received, shown as such).
    Unknown,
}

impl InboundKind {
    pub const ALL: [InboundKind; 12] = [
        InboundKind::Text,
        InboundKind::Button,
        InboundKind::Choice,
        InboundKind::Image,
        InboundKind::Video,
        InboundKind::Audio,
        InboundKind::Document,
        InboundKind::Sticker,
        InboundKind::Location,
        InboundKind::Contacts,
        InboundKind::Reaction,
        InboundKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Text => "text",
            InboundKind::Button => "button",
            InboundKind::Choice => "choice",
            InboundKind::Image => "image",
            InboundKind::Video => "video",
            InboundKind::Audio => "audio",
            InboundKind::Document => "document",
            InboundKind::Sticker => "sticker",
            InboundKind::Location => "location",
            InboundKind::Contacts => "contacts",
            InboundKind::Reaction => "reaction",
            InboundKind::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Option<InboundKind> {
        InboundKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Longest text kept of one message (a buyer's essay is cut, not refused).
pub const TEXT_CHARS_MAX: usize = 4_096;

fn clip(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(TEXT_CHARS_MAX).collect())
}

/// What a message of the WhatsApp Cloud API's webhook (`value.messages[]`) says: its kind and its
/// text — the text of a text message, the title of a tapped button or list row, a photo's or a
/// file's caption (or the file's name), a place's name or coordinates, a contact's name, a
/// reaction's emoji. `None` where the message has no words.
pub fn whatsapp_message(message: &serde_json::Value) -> (InboundKind, Option<String>) {
    let s = |v: &serde_json::Value| v.as_str().and_then(clip);
    match message["type"].as_str().unwrap_or("") {
        "text" => (InboundKind::Text, s(&message["text"]["body"])),
        "button" => (InboundKind::Button, s(&message["button"]["text"])),
        "interactive" => {
            let reply = &message["interactive"];
            let title = s(&reply["button_reply"]["title"]).or_else(|| {
                let row = &reply["list_reply"];
                match (s(&row["title"]), s(&row["description"])) {
                    (Some(t), Some(d)) => Some(format!("{t} — {d}")),
                    (t, _) => t,
                }
            });
            (InboundKind::Choice, title)
        }
        kind @ ("image" | "video" | "audio" | "document" | "sticker") => {
            let media = &message[kind];
            let text = s(&media["caption"]).or_else(|| s(&media["filename"]));
            let kind = match kind {
                "image" => InboundKind::Image,
                "video" => InboundKind::Video,
                "audio" => InboundKind::Audio,
                "document" => InboundKind::Document,
                _ => InboundKind::Sticker,
            };
            (kind, text)
        }
        "location" => {
            let place = &message["location"];
            let text = s(&place["name"])
                .or_else(|| s(&place["address"]))
                .or_else(
                    || match (place["latitude"].as_f64(), place["longitude"].as_f64()) {
                        (Some(lat), Some(long)) => Some(format!("{lat:.5}, {long:.5}")),
                        _ => None,
                    },
                );
            (InboundKind::Location, text)
        }
        "contacts" => (
            InboundKind::Contacts,
            s(&message["contacts"][0]["name"]["formatted_name"]),
        ),
        "reaction" => (InboundKind::Reaction, s(&message["reaction"]["emoji"])),
        _ => (InboundKind::Unknown, None),
    }
}

/// What WhatsApp says became of a message lunas sent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// WhatsApp took it.
    Sent,
    /// It reached the buyer's phone.
    Delivered,
    /// The buyer opened it.
    Read,
    /// WhatsApp could not deliver it.
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Read => "read",
            Delivery::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Delivery> {
        [
            Delivery::Sent,
            Delivery::Delivered,
            Delivery::Read,
            Delivery::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == raw)
    }
}

/// One of a WhatsApp webhook's `statuses[]`: which message of lunas's (the
/// `biz_opaque_callback_data` it was sent with), what became of it, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStatus {
    pub message_id: String,
    pub delivery: Delivery,
    pub at: Option<Timestamp>,
}

/// The statuses of a WhatsApp webhook payload that name a message of lunas's; others (a status
/// of a message sent from the phone app, an unknown status) are left out.
pub fn whatsapp_statuses(payload: &serde_json::Value) -> Vec<DeliveryStatus> {
    let list = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    let mut found = Vec::new();
    for entry in list(&payload["entry"]) {
        for change in list(&entry["changes"]) {
            for status in list(&change["value"]["statuses"]) {
                let (Some(id), Some(delivery)) = (
                    status["biz_opaque_callback_data"]
                        .as_str()
                        .filter(|id| id.starts_with("msg_") && id.len() <= 64),
                    status["status"].as_str().and_then(Delivery::parse),
                ) else {
                    continue;
                };
                let at = status["timestamp"]
                    .as_str()
                    .and_then(|t| t.parse::<i64>().ok())
                    .and_then(|s| Timestamp::from_second(s).ok());
                found.push(DeliveryStatus {
                    message_id: id.to_owned(),
                    delivery,
                    at,
                });
            }
        }
    }
    found
}

/// A buyer's message delivered to lunas's own webhook (`POST /webhooks/messages`).
#[derive(Debug, Clone, PartialEq)]
pub struct GenericMessage {
    /// The sender's identity of the message: it is kept once however often it comes.
    pub id: String,
    pub from: crate::Phone,
    pub at: Option<Timestamp>,
    pub kind: InboundKind,
    pub text: Option<String>,
}

/// Most messages one delivery of the generic webhook carries.
pub const GENERIC_MESSAGES_MAX: usize = 100;

/// Reads a delivery of lunas's own messages webhook: one message
/// `{"id", "from", "text"?, "at"?, "type"?}` or `{"messages": [...]}`. A message whose id,
/// number, time or type does not read refuses the whole delivery (the sender keeps it and can
/// correct it), with its position and why.
pub fn read_generic(payload: &serde_json::Value) -> Result<Vec<GenericMessage>, String> {
    let list: Vec<&serde_json::Value> = match payload.get("messages") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(_) => return Err("messages must be an array".into()),
        None if payload.is_object() => vec![payload],
        None => return Err("the body must be a message object or {\"messages\": [...]}".into()),
    };
    if list.is_empty() {
        return Err("messages is empty".into());
    }
    if list.len() > GENERIC_MESSAGES_MAX {
        return Err(format!(
            "at most {GENERIC_MESSAGES_MAX} messages a delivery"
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let bad = |what: &str| format!("messages[{i}]: {what}");
            let id = m["id"]
                .as_str()
                .map(str::trim)
                .filter(|id| !id.is_empty() && id.len() <= 200 && !id.chars().any(char::is_control))
                .ok_or_else(|| bad("id must be 1 to 200 characters"))?;
            let from = m["from"]
                .as_str()
                .and_then(|f| crate::Phone::parse(f).ok())
                .ok_or_else(|| bad("from must be a phone number"))?;
            let at = match &m["at"] {
                serde_json::Value::Null => None,
                v => Some(
                    v.as_str()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .ok_or_else(|| bad("at must be an RFC 3339 time"))?,
                ),
            };
            let kind = match &m["type"] {
                serde_json::Value::Null => InboundKind::Text,
                v => v
                    .as_str()
                    .and_then(InboundKind::parse)
                    .ok_or_else(|| bad("type is not a kind lunas knows"))?,
            };
            let text = match &m["text"] {
                serde_json::Value::Null => None,
                v => clip(v.as_str().ok_or_else(|| bad("text must be a string"))?),
            };
            Ok(GenericMessage {
                id: id.to_owned(),
                from,
                at,
                kind,
                text,
            })
        })
        .collect()
}

/// Which way a message went.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the buyer.
    In,
    /// To the buyer.
    Out,
}

/// Who answered a buyer's message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    Staff,
    Bot,
}

impl AnsweredBy {
    pub fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Staff => "staff",
            AnsweredBy::Bot => "bot",
        }
    }
}

/// How a reply reached the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyChannel {
    /// Sent through the WhatsApp Cloud API.
    Whatsapp,
    /// Staff opened a `wa.me` link with the text and sent it from their phone.
    Link,
    /// Staff wrote down a reply they gave elsewhere.
    Logged,
}

impl ReplyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyChannel::Whatsapp => "whatsapp",
            ReplyChannel::Link => "link",
            ReplyChannel::Logged => "logged",
        }
    }

    pub fn parse(raw: &str) -> Option<ReplyChannel> {
        [
            ReplyChannel::Whatsapp,
            ReplyChannel::Link,
            ReplyChannel::Logged,
        ]
        .into_iter()
        .find(|c| c.as_str() == raw)
    }
}

/// A reply to a buyer outside an order's messages: staff's from the dashboard, or the FAQ bot's.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub phone: crate::Phone,
    pub body: String,
    pub answered_by: AnsweredBy,
    /// Who: `user:<id>` for staff, `bot` for the FAQ bot.
    pub actor: String,
    /// The FAQ entry the answer came from.
    pub faq_id: Option<String>,
    pub channel: ReplyChannel,
    /// Why sending failed (`None`: it went out).
    pub error: Option<String>,
    pub at: Timestamp,
}

/// Longest reply staff may write.
pub use crate::faq::REPLY_CHARS_MAX;

/// What the FAQ matcher made of a buyer's message, and what became of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaqState {
    /// The bot answered.
    Sent,
    /// The answer waits for staff to send it.
    Suggested,
    /// Staff sent the suggested answer.
    Accepted,
    /// Staff set the suggestion aside.
    Dismissed,
    /// Staff named another entry; the message became one of its questions.
    Corrected,
}

impl FaqState {
    pub fn as_str(self) -> &'static str {
        match self {
            FaqState::Sent => "sent",
            FaqState::Suggested => "suggested",
            FaqState::Accepted => "accepted",
            FaqState::Dismissed => "dismissed",
            FaqState::Corrected => "corrected",
        }
    }

    pub fn parse(raw: &str) -> Option<FaqState> {
        [
            FaqState::Sent,
            FaqState::Suggested,
            FaqState::Accepted,
            FaqState::Dismissed,
            FaqState::Corrected,
        ]
        .into_iter()
        .find(|c| c.as_str() == raw)
    }
}

/// The FAQ matcher's note on a buyer's message.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqNote {
    pub faq_id: String,
    /// Confidence in thousandths.
    pub score_milli: i64,
    pub state: FaqState,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationMessage {
    /// The buyer's message's id (`None` for what went out).
    pub inbound_id: Option<i64>,
    /// For a buyer's message: what the FAQ matcher made of it.
    pub faq: Option<FaqNote>,
    pub direction: Direction,
    pub at: Timestamp,
    pub text: Option<String>,
    /// An inbound message's kind (`text`, `image`…); an outbound one's message kind
    /// (`reminder`, `order_placed`…).
    pub kind: String,
    /// For a message to the buyer that answers them: who answered. `None` for what lunas sends
    /// by itself (a reminder, an order's news).
    pub answered_by: Option<AnsweredBy>,
    /// For a message to the buyer sent through WhatsApp: what WhatsApp last said of it.
    pub delivery: Option<Delivery>,
}

/// A buyer's conversation in a list: who, and the latest message.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub phone: crate::Phone,
    /// The buyer's name, when the number has ordered.
    pub name: Option<String>,
    pub last_at: Timestamp,
    pub last_text: Option<String>,
    pub last_kind: InboundKind,
    pub inbound: i64,
    /// The first of the buyer's messages since lunas last wrote to them (over WhatsApp, or a
    /// reply from the dashboard), if any: they are waiting for an answer since then.
    pub waiting_since: Option<Timestamp>,
    /// The buyer's newest order placed after their first message, if any: the inquiry became
    /// an order.
    pub order_id: Option<i64>,
}

/// Where an inquiry stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InquiryState {
    /// Still talking.
    Open,
    /// It became an order.
    Ordered,
    /// No order, and the buyer has been quiet for the shop's `ghosted_after_days`.
    Ghosted,
}

impl ConversationSummary {
    pub fn state(&self, now: Timestamp, ghosted_after_days: u32) -> InquiryState {
        if self.order_id.is_some() {
            InquiryState::Ordered
        } else if now.duration_since(self.last_at)
            >= jiff::SignedDuration::from_hours(24 * i64::from(ghosted_after_days))
        {
            InquiryState::Ghosted
        } else {
            InquiryState::Open
        }
    }
}

/// How the shop handles conversations.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationSettings {
    /// What the FAQ bot does with a match above the threshold: `off`, `suggest` (staff send it
    /// with one tap) or `send` (it answers by itself through WhatsApp; suggests where WhatsApp
    /// is not connected).
    pub faq_mode: FaqMode,
    /// The confidence in percent (10 to 100) from which a match is answered or suggested.
    #[cfg_attr(feature = "openapi", schema(minimum = 10, maximum = 100))]
    pub faq_threshold_percent: u32,
    /// Minutes of business time a buyer may wait for an answer before Today raises an alert
    /// (1 to 1,440).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub waiting_alert_minutes: u32,
    /// Days of silence after which an inquiry with no order counts as ghosted (1 to 90).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 90))]
    pub ghosted_after_days: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaqMode {
    Off,
    Suggest,
    Send,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        ConversationSettings {
            faq_mode: FaqMode::Suggest,
            faq_threshold_percent: (crate::faq::DEFAULT_THRESHOLD * 100.0) as u32,
            waiting_alert_minutes: 15,
            ghosted_after_days: 3,
        }
    }
}

impl ConversationSettings {
    /// The threshold as a confidence in 0..1.
    pub fn threshold(&self) -> f64 {
        f64::from(self.faq_threshold_percent) / 100.0
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(10..=100).contains(&self.faq_threshold_percent) {
            return Err("conversations.faq_threshold_percent must be 10 to 100".into());
        }
        if !(1..=1_440).contains(&self.waiting_alert_minutes) {
            return Err("conversations.waiting_alert_minutes must be 1 to 1440".into());
        }
        if !(1..=90).contains(&self.ghosted_after_days) {
            return Err("conversations.ghosted_after_days must be 1 to 90".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_message_says_what_it_can() {
        let cases = [
            (
                json!({"type": "text", "text": {"body": " ready kak? "}}),
                InboundKind::Text,
                Some("ready kak?"),
            ),
            (
                json!({"type": "button", "button": {"text": "Ya, kirim", "payload": "YES"}}),
                InboundKind::Button,
                Some("Ya, kirim"),
            ),
            (
                json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Cek ongkir"}}}),
                InboundKind::Choice,
                Some("Cek ongkir"),
            ),
            (
                json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Size L", "description": "Hitam"}}}),
                InboundKind::Choice,
                Some("Size L — Hitam"),
            ),
            (
                json!({"type": "image", "image": {"id": "m1", "caption": "yg ini msh ada?"}}),
                InboundKind::Image,
                Some("yg ini msh ada?"),
            ),
            (
                json!({"type": "image", "image": {"id": "m1"}}),
                InboundKind::Image,
                None,
            ),
            (
                json!({"type": "document", "document": {"id": "m2", "filename": "bukti.pdf"}}),
                InboundKind::Document,
                Some("bukti.pdf"),
            ),
            (
                json!({"type": "location", "location": {"latitude": -6.2, "longitude": 106.816666}}),
                InboundKind::Location,
                Some("-6.20000, 106.81667"),
            ),
            (
                json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Rina"}}]}),
                InboundKind::Contacts,
                Some("Rina"),
            ),
            (
                json!({"type": "reaction", "reaction": {"emoji": "👍"}}),
                InboundKind::Reaction,
                Some("👍"),
            ),
            (
                json!({"type": "order", "order": {}}),
                InboundKind::Unknown,
                None,
            ),
            (json!({}), InboundKind::Unknown, None),
        ];
        for (message, kind, text) in cases {
            assert_eq!(
                whatsapp_message(&message),
                (kind, text.map(str::to_owned)),
                "{message}"
            );
        }
        for kind in InboundKind::ALL {
            assert_eq!(InboundKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn the_generic_webhook_reads_one_or_many_and_refuses_what_does_not_read() {
        let one =
            read_generic(&json!({"id": "m-1", "from": "0812 3456 7890", "text": "ready kak?"}))
                .unwrap();
        assert_eq!(one[0].from.as_str(), "+6281234567890");
        assert_eq!(
            (one[0].kind, one[0].text.as_deref()),
            (InboundKind::Text, Some("ready kak?"))
        );
        let many = read_generic(&json!({"messages": [
            {"id": "m-2", "from": "+6281234567890", "type": "image", "at": "2026-12-06T03:00:00Z"},
            {"id": "m-3", "from": "+6281234567890", "text": "bisa cod gak"}
        ]}))
        .unwrap();
        assert_eq!(many.len(), 2);
        assert_eq!(many[0].at.unwrap().to_string(), "2026-12-06T03:00:00Z");
        for (body, said) in [
            (json!([]), "the body"),
            (json!({"messages": []}), "empty"),
            (
                json!({"messages": [{"id": "", "from": "+6281234567890"}]}),
                "messages[0]: id",
            ),
            (
                json!({"id": "x", "from": "12"}),
                "from must be a phone number",
            ),
            (
                json!({"id": "x", "from": "+6281234567890", "at": "kemarin"}),
                "at must be",
            ),
            (
                json!({"id": "x", "from": "+6281234567890", "type": "hologram"}),
                "type is not",
            ),
            (
                json!({"id": "x", "from": "+6281234567890", "text": 5}),
                "text must be",
            ),
        ] {
            let error = read_generic(&body).unwrap_err();
            assert!(error.contains(said), "{body}: {error}");
        }
    }

    #[test]
    fn statuses_name_lunas_messages() {
        let payload = json!({"entry": [{"changes": [{"value": {"statuses": [
            {"id": "wamid.X", "status": "read", "timestamp": "1795000000", "biz_opaque_callback_data": "msg_0195abc"},
            {"id": "wamid.Y", "status": "delivered", "timestamp": "1795000000"},
            {"id": "wamid.Z", "status": "deleted", "biz_opaque_callback_data": "msg_1"},
            {"id": "wamid.W", "status": "failed", "biz_opaque_callback_data": "msg_2", "errors": [{"code": 131047}]}
        ]}}]}]});
        let found = whatsapp_statuses(&payload);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].message_id.as_str(), found[0].delivery),
            ("msg_0195abc", Delivery::Read)
        );
        assert!(found[0].at.is_some());
        assert_eq!((found[1].delivery, found[1].at), (Delivery::Failed, None));
        assert!(whatsapp_statuses(&json!({"entry": 5})).is_empty());
    }

    #[test]
    fn an_essay_is_cut_not_refused() {
        let long = "a".repeat(TEXT_CHARS_MAX + 10);
        let (_, text) = whatsapp_message(&json!({"type": "text", "text": {"body": long}}));
        assert_eq!(text.unwrap().chars().count(), TEXT_CHARS_MAX);
    }
}
