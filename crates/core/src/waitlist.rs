//! The waitlist: buyers who asked to be told when a sold-out product or variant is on sale again,
//! in the order they asked. A number waits once per product; its place is its rank among those
//! still waiting.

use serde::Serialize;

use crate::{Phone, Timestamp};

/// Where an entry of the waitlist stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitStatus {
    /// In line.
    Waiting,
    /// A unit was offered to this buyer and waits for their claim.
    Offered,
    /// The buyer claimed the unit offered.
    Claimed,
    /// The offer passed unclaimed.
    Lapsed,
}

impl WaitStatus {
    pub const ALL: [WaitStatus; 4] = [
        WaitStatus::Waiting,
        WaitStatus::Offered,
        WaitStatus::Claimed,
        WaitStatus::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitStatus::Waiting => "waiting",
            WaitStatus::Offered => "offered",
            WaitStatus::Claimed => "claimed",
            WaitStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(raw: &str) -> Option<WaitStatus> {
        WaitStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One buyer on a product's waitlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub phone: Phone,
    pub name: Option<String>,
    /// Place in line (1 is next) while waiting or offered; `None` after.
    pub position: Option<i64>,
    pub status: WaitStatus,
    pub joined_at: Timestamp,
}

/// What the offer's message says: the buyer, the store, the product, until when the unit is held
/// and where to claim it.
#[derive(Debug, Clone, Serialize)]
pub struct OfferContext {
    pub buyer: OfferBuyer,
    pub store: OfferStore,
    pub product: OfferProduct,
    pub offer: OfferTerms,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferBuyer {
    /// "Kak Sari", or "Kak" without a name.
    pub greeting: String,
    /// How the message says "you": "Kakak" / "you".
    pub you: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferStore {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferProduct {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferTerms {
    /// Until when the unit is held, in the store's words and time zone.
    pub until: String,
    /// The claim link.
    pub link: String,
}

/// The claim link of an offer: `{public_base}/o/claim/{token}`.
pub fn claim_link(public_base: &str, token: &str) -> String {
    format!("{public_base}/o/claim/{token}")
}

/// Why a number cannot join a product's waitlist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitlistError {
    #[error("no such product")]
    UnknownProduct,
    #[error("this product is sold through its variants; join the waitlist of a variant")]
    VariantRequired,
    #[error("this product is on sale now ({available} available); order it instead")]
    InStock { available: i64 },
}

/// Whether a product with `available` units and `variants` variants takes waiting buyers: only
/// a sold-out product that is sold by itself does.
pub fn decide_join(available: i64, variants: i64) -> Result<(), WaitlistError> {
    if variants > 0 {
        return Err(WaitlistError::VariantRequired);
    }
    if available > 0 {
        return Err(WaitlistError::InStock { available });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sold_out_product_sold_by_itself_takes_waiting_buyers() {
        assert_eq!(decide_join(0, 0), Ok(()));
        assert_eq!(
            decide_join(3, 0),
            Err(WaitlistError::InStock { available: 3 })
        );
        assert_eq!(decide_join(0, 4), Err(WaitlistError::VariantRequired));
        for status in WaitStatus::ALL {
            assert_eq!(WaitStatus::parse(status.as_str()), Some(status));
        }
    }
}
