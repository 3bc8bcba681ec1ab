//! A buyer's profile as stored (the record, pin, notes and tags), what an export holds, and
//! `judge`, which turns a buyer's standing into an assessment.

use crate::outbox::Message;
use crate::{CustomerInfo, Order, Settings, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no buyer with this phone number")]
pub struct CustomerNotFound;

/// Everything lunas knows of a buyer's reliability: who they are, their record, a band staff
/// pinned, notes and tags, and their finished orders, most recent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub id: i64,
    pub info: CustomerInfo,
    pub record: crate::reliability::Record,
    pub pin: Option<crate::reliability::Pin>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub no_reminders: bool,
    pub history: Vec<crate::reliability::PastOrder>,
}

/// A buyer's WhatsApp message as kept (for export).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InboundRecord {
    pub wa_message_id: String,
    pub body: Option<String>,
    pub received_at: Timestamp,
}

/// A reply the shop gave a buyer in a conversation (for export).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplyRecord {
    pub body: String,
    /// `staff` or `bot`.
    pub answered_by: String,
    pub channel: String,
    pub at: Timestamp,
}

/// One entry of the audit log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Everything lunas holds about one buyer (UU PDP access request).
#[derive(Debug, Clone)]
pub struct CustomerExport {
    pub profile: CustomerProfile,
    pub orders: Vec<Order>,
    pub messages: Vec<Message>,
    pub inbound: Vec<InboundRecord>,
    pub replies: Vec<ReplyRecord>,
    pub audit: Vec<AuditEntry>,
}

/// What the band of a buyer depends on: a pinned band and the finished orders, most recent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub pin: Option<crate::reliability::Pin>,
    pub history: Vec<crate::reliability::PastOrder>,
}

impl CustomerProfile {
    pub fn standing(&self) -> Standing {
        Standing {
            pin: self.pin.clone(),
            history: self.history.clone(),
        }
    }
}

/// Where a buyer stands: their own record and, when the number was erased before, the record
/// that erasure left (its pinned band and its history still count).
pub fn judge(
    own: Option<&Standing>,
    erased: Option<&Standing>,
    chat: Option<&crate::signals::ChatCounts>,
    now: Timestamp,
    base: crate::reliability::BaseRate,
    settings: &Settings,
) -> crate::reliability::Assessment {
    let pin = own
        .and_then(|p| p.pin.as_ref())
        .or_else(|| erased.and_then(|e| e.pin.as_ref()));
    let mut history: Vec<_> = own
        .into_iter()
        .chain(erased)
        .flat_map(|p| p.history.iter().copied())
        .collect();
    history.sort_by_key(|order| std::cmp::Reverse(order.ended_at));
    crate::reliability::assess(
        pin,
        &history,
        chat,
        now,
        base,
        &settings.risk,
        settings.language,
    )
}

/// The name an erased buyer's orders are kept under: `erased-` and the first 16 hex digits of the
/// HMAC of their number, numbered when the same number was erased before (it ordered again after
/// its first erasure), so that every erased record has a name of its own.
pub fn pseudonym(phone_hmac: &str, earlier_erasures: i64) -> String {
    let base = format!("erased-{}", &phone_hmac[..16.min(phone_hmac.len())]);
    if earlier_erasures == 0 {
        base
    } else {
        format!("{base}-{}", earlier_erasures + 1)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_erased_buyer_gets_a_name_of_their_own() {
        let check = |hmac: &str, earlier: i64, expect: &str| {
            assert_eq!(super::pseudonym(hmac, earlier), expect);
        };
        check("0123456789abcdef0123", 0, "erased-0123456789abcdef");
        check("0123456789abcdef0123", 1, "erased-0123456789abcdef-2");
        check("0123456789abcdef0123", 2, "erased-0123456789abcdef-3");
        check("abc", 0, "erased-abc");
    }
}
