//! A buyer's proof of transfer (*bukti transfer*): what a file must be to be taken, when an order
//! takes one, and what a proof waiting for staff does to the order's reminders and release.
//!
//! A proof is not money: it goes to the review list, where staff confirm it (the order is paid)
//! or reject it. While one waits, reminders are not sent and the hold is kept, for the store's
//! pause (`shop.proof_pause`, default 6 hours), so a buyer is not chased for money already sent.

use serde::{Deserialize, Serialize};

use crate::{OrderStatus, PayWindow, PaymentMethod, Timestamp};

/// Largest file a buyer may send: 5 MB.
pub const PROOF_BYTES_MAX: usize = 5 * 1024 * 1024;
/// Most proofs one order takes (a wrong photo, then the right one, then a second transfer).
pub const PROOFS_PER_ORDER: i64 = 3;

/// What a sent file is, read from its first bytes, never from its name or declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFormat {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl ProofFormat {
    /// The format of `bytes` by their signature, or `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<ProofFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ProofFormat::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ProofFormat::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ProofFormat::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(ProofFormat::Pdf)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ProofFormat::Jpeg => "image/jpeg",
            ProofFormat::Png => "image/png",
            ProofFormat::Webp => "image/webp",
            ProofFormat::Pdf => "application/pdf",
        }
    }

    /// The stored content type read back; `None` for one lunas never stores.
    pub fn from_content_type(raw: &str) -> Option<ProofFormat> {
        [
            ProofFormat::Jpeg,
            ProofFormat::Png,
            ProofFormat::Webp,
            ProofFormat::Pdf,
        ]
        .into_iter()
        .find(|f| f.content_type() == raw)
    }
}

/// Where an order's latest proof stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// Sent by the buyer, waiting for staff.
    Submitted,
    /// Staff confirmed it (or the order was paid while it waited).
    Confirmed,
    /// Staff rejected it; reminders go on.
    Rejected,
}

impl ProofStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProofStatus::Submitted => "submitted",
            ProofStatus::Confirmed => "confirmed",
            ProofStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<ProofStatus> {
        [
            ProofStatus::Submitted,
            ProofStatus::Confirmed,
            ProofStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// An order's proofs of transfer, as the order carries them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderProof {
    /// Where the latest proof stands.
    pub status: ProofStatus,
    /// When the latest proof was sent.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub submitted_at: Timestamp,
    /// How many proofs the buyer sent for this order.
    pub count: i64,
}

impl OrderProof {
    /// Until when a proof waiting for staff pauses the order's reminders and keeps its hold:
    /// `None` when no proof waits.
    pub fn pauses_until(&self, pause: PayWindow) -> Option<Timestamp> {
        (self.status == ProofStatus::Submitted).then(|| {
            self.submitted_at
                .checked_add(pause.as_duration())
                .expect("a pause of at most 30 days stays in range")
        })
    }
}

/// Why an order does not take a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofRefusal {
    #[error("the order is paid")]
    AlreadyPaid,
    #[error("the order no longer waits for payment")]
    Closed,
    #[error("a cash-on-delivery order is paid to the courier")]
    CashOnDelivery,
    #[error("this order already has {PROOFS_PER_ORDER} proofs")]
    TooMany,
}

impl ProofRefusal {
    /// The stable code of the refusal.
    pub fn code(self) -> &'static str {
        match self {
            ProofRefusal::AlreadyPaid => "already_paid",
            ProofRefusal::Closed => "order_closed",
            ProofRefusal::CashOnDelivery => "cod_order",
            ProofRefusal::TooMany => "too_many_proofs",
        }
    }
}

/// Whether an order in `status`, paid by `method`, with `sent` proofs so far, takes another.
pub fn decide_proof(
    status: OrderStatus,
    method: PaymentMethod,
    sent: i64,
) -> Result<(), ProofRefusal> {
    match status {
        OrderStatus::AwaitingPayment | OrderStatus::AwaitingBalance => {}
        OrderStatus::AwaitingConfirmation | OrderStatus::Confirmed => {
            return Err(ProofRefusal::CashOnDelivery);
        }
        OrderStatus::Paid
        | OrderStatus::PaidNeedsRefund
        | OrderStatus::Packed
        | OrderStatus::Shipped
        | OrderStatus::Delivered
        | OrderStatus::Completed => return Err(ProofRefusal::AlreadyPaid),
        OrderStatus::Expired | OrderStatus::Cancelled | OrderStatus::ReturnedToSender => {
            return Err(ProofRefusal::Closed);
        }
    }
    if method == PaymentMethod::Cod {
        return Err(ProofRefusal::CashOnDelivery);
    }
    if sent >= PROOFS_PER_ORDER {
        return Err(ProofRefusal::TooMany);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(
            ProofFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ProofFormat::Jpeg)
        );
        assert_eq!(
            ProofFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ProofFormat::Png)
        );
        assert_eq!(
            ProofFormat::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ProofFormat::Webp)
        );
        assert_eq!(ProofFormat::sniff(b"%PDF-1.7\n"), Some(ProofFormat::Pdf));
        for other in [
            &b"GIF89a"[..],
            b"<html>",
            b"RIFF\0\0\0\0WAVE",
            b"",
            b"\xFF\xD8",
        ] {
            assert_eq!(ProofFormat::sniff(other), None, "{other:?}");
        }
        for format in [ProofFormat::Jpeg, ProofFormat::Pdf] {
            assert_eq!(
                ProofFormat::from_content_type(format.content_type()),
                Some(format)
            );
        }
    }

    #[test]
    fn an_open_transfer_order_takes_a_few_proofs() {
        let bank = PaymentMethod::BankTransfer;
        assert_eq!(decide_proof(OrderStatus::AwaitingPayment, bank, 0), Ok(()));
        assert_eq!(decide_proof(OrderStatus::AwaitingBalance, bank, 2), Ok(()));
        assert_eq!(
            decide_proof(OrderStatus::AwaitingPayment, bank, PROOFS_PER_ORDER),
            Err(ProofRefusal::TooMany)
        );
        assert_eq!(
            decide_proof(OrderStatus::Paid, bank, 0),
            Err(ProofRefusal::AlreadyPaid)
        );
        assert_eq!(
            decide_proof(OrderStatus::Expired, bank, 0),
            Err(ProofRefusal::Closed)
        );
        assert_eq!(
            decide_proof(OrderStatus::AwaitingPayment, PaymentMethod::Cod, 0),
            Err(ProofRefusal::CashOnDelivery)
        );
    }

    #[test]
    fn only_a_waiting_proof_pauses() {
        let at: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let pause = PayWindow::parse("6 jam").unwrap();
        let mut proof = OrderProof {
            status: ProofStatus::Submitted,
            submitted_at: at,
            count: 1,
        };
        assert_eq!(
            proof.pauses_until(pause),
            Some("2026-12-06T16:00:00Z".parse().unwrap())
        );
        proof.status = ProofStatus::Rejected;
        assert_eq!(proof.pauses_until(pause), None);
    }
}
