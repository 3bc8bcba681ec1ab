//! What a template can use: the buyer, the order, the store and how to pay, formatted for the
//! store's language and time zone.

use serde::Serialize;

use super::{BankAccount, Language, format_deadline, format_rupiah};
use crate::{Honorific, Order, OrderStatus, PaymentMethod, Settings};

/// What a template can use. Amounts are already formatted (`Rp150.000`) and the deadline is in
/// the store's time zone and language.
#[derive(Debug, Clone, Serialize)]
pub struct MessageContext {
    pub buyer: BuyerContext,
    pub order: OrderContext,
    pub store: StoreContext,
    pub payment: PaymentContext,
    /// One product tip (the first line's product that has one), or empty.
    pub tip: String,
    /// 1 for the first reminder of the order, 2 for the second… (0 outside reminders).
    pub reminder_number: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuyerContext {
    pub name: String,
    pub first_name: String,
    pub honorific: String,
    /// `Kak Sari`, `Bu Aisyah` (Indonesian) or the first name (English).
    pub greeting: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderContext {
    pub id: i64,
    pub status: String,
    pub total: String,
    /// What the buyer must pay in all: the total, with the unique code of a bank transfer.
    pub amount_due: String,
    /// The unique code of a bank transfer, or empty.
    pub unique_code: String,
    pub amount_paid: String,
    /// What is left to pay of `amount_due`.
    pub balance: String,
    pub deadline: String,
    pub payment_method: String,
    pub items: Vec<ItemContext>,
    /// `Gamis Rayon x1, Kerudung x2`.
    pub items_summary: String,
    pub cancel_reason: String,
    /// The shipping cost (ongkir) in the total, or empty when there is none.
    pub shipping_cost: String,
    /// The discount taken off the total, or empty when there is none.
    pub discount: String,
    /// The buyer's own page of the order (what to pay and how, time left), or empty
    /// for an order without one.
    pub link: String,
    /// The courier and its service (`JNE REG`), or empty before shipping.
    pub courier: String,
    /// The waybill (*nomor resi*), or empty before shipping.
    pub waybill: String,
    /// The courier's own tracking page, or empty.
    pub tracking_link: String,
    /// By when a COD buyer must confirm, or empty.
    pub confirm_by: String,
    /// Where the latest return request stands, in one sentence, or empty.
    pub return_update: String,
    /// Whether the buyer pays the courier (COD).
    pub cod: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemContext {
    pub name: String,
    pub qty: i64,
    pub unit_price: String,
    pub subtotal: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreContext {
    pub name: String,
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentContext {
    /// Ready-made lines telling how to pay: bank accounts for transfers, the payment link otherwise.
    pub instructions: String,
    pub bank_accounts: Vec<BankAccount>,
    pub link: String,
}

fn method_label(method: PaymentMethod, language: Language) -> &'static str {
    match (method, language) {
        (PaymentMethod::BankTransfer, Language::Indonesian) => "transfer bank",
        (PaymentMethod::BankTransfer, Language::English) => "bank transfer",
        (PaymentMethod::VirtualAccount, _) => "virtual account",
        (PaymentMethod::Ewallet, _) => "e-wallet",
        (PaymentMethod::Qris, _) => "QRIS",
        (PaymentMethod::Cod, Language::Indonesian) => "bayar di tempat (COD)",
        (PaymentMethod::Cod, Language::English) => "cash on delivery (COD)",
    }
}

impl MessageContext {
    /// The context for `order`, with `tips` the tips of its lines' products (in line order,
    /// `None` where a product has none).
    pub fn new(
        order: &Order,
        tips: &[Option<String>],
        settings: &Settings,
        public_base: &str,
        reminder_number: usize,
    ) -> MessageContext {
        let language = settings.language;
        let tz = settings.time_zone();
        let first_name = order
            .customer
            .name
            .split_whitespace()
            .next()
            .unwrap_or(&order.customer.name)
            .to_owned();
        let honorific = order.customer.honorific.unwrap_or(Honorific::Kak).as_str();
        let greeting = match language {
            Language::Indonesian => {
                let mut h = honorific.to_owned();
                if let Some(first) = h.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{h} {first_name}")
            }
            Language::English => first_name.clone(),
        };
        let items: Vec<ItemContext> = order
            .items
            .iter()
            .map(|i| ItemContext {
                name: i.name.clone(),
                qty: i.qty.units(),
                unit_price: format_rupiah(i.unit_price.minor_units()),
                subtotal: format_rupiah(i.unit_price.minor_units() * i.qty.units()),
            })
            .collect();
        let items_summary = items
            .iter()
            .map(|i| format!("{} x{}", i.name, i.qty))
            .collect::<Vec<_>>()
            .join(", ");
        let total = order.total.minor_units();
        let due = order.amount_due.minor_units();
        let paid = order.amount_paid.minor_units();
        // The order's own payment page (made at a gateway) before the store's general one.
        let link = order
            .payment_url
            .clone()
            .or_else(|| settings.payment_link.clone())
            .unwrap_or_default();
        let instructions = payment_instructions(order, settings, &link);
        let cancel_reason = if order.status == OrderStatus::Cancelled {
            order
                .events
                .last()
                .and_then(|e| e.reason.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        MessageContext {
            buyer: BuyerContext {
                name: order.customer.name.clone(),
                first_name,
                honorific: honorific.to_owned(),
                greeting,
            },
            order: OrderContext {
                id: order.id.0,
                status: order.status.as_str().to_owned(),
                total: format_rupiah(total),
                amount_due: format_rupiah(due),
                unique_code: order
                    .unique_code
                    .map(|code| code.to_string())
                    .unwrap_or_default(),
                amount_paid: format_rupiah(paid),
                balance: format_rupiah((due - paid).max(0)),
                deadline: order
                    .pay_by
                    .map(|d| format_deadline(d, &tz, language))
                    .unwrap_or_default(),
                payment_method: method_label(order.payment_method, language).to_owned(),
                items,
                items_summary,
                cancel_reason,
                shipping_cost: money_or_empty(order.shipping_cost),
                discount: money_or_empty(order.discount),
                link: order_link(public_base, order).unwrap_or_default(),
                courier: [
                    order.shipment.courier.as_deref(),
                    order.shipment.service.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
                waybill: order.shipment.waybill.clone().unwrap_or_default(),
                tracking_link: order.shipment.tracking_url().unwrap_or_default(),
                confirm_by: order
                    .shipment
                    .confirm_by
                    .map(|d| format_deadline(d, &tz, language))
                    .unwrap_or_default(),
                return_update: order
                    .return_request
                    .as_ref()
                    .map(|r| return_update(r, language))
                    .unwrap_or_default(),
                cod: order.payment_method == PaymentMethod::Cod,
            },
            store: StoreContext {
                name: settings.store_name.clone(),
                link: settings.store_link.clone().unwrap_or_default(),
            },
            payment: PaymentContext {
                instructions,
                bank_accounts: settings.bank_accounts.clone(),
                link,
            },
            tip: tips.iter().flatten().next().cloned().unwrap_or_default(),
            reminder_number,
        }
    }
}

/// Ready-made lines telling how to pay: for a transfer with a unique code the exact amount to
/// send (what is left of `amount_due`), the bank accounts, and the payment link otherwise.
fn payment_instructions(order: &Order, settings: &Settings, link: &str) -> String {
    let id = settings.language == Language::Indonesian;
    let method = order.payment_method;
    let accounts = !settings.bank_accounts.is_empty();
    let mut lines = Vec::new();
    let exact = order
        .unique_code
        .filter(|_| method == PaymentMethod::BankTransfer)
        .map(|code| {
            let rest = format_rupiah(
                (order.amount_due.minor_units() - order.amount_paid.minor_units()).max(0),
            );
            let end = match (id, accounts) {
                (true, true) => " ke:",
                (false, true) => " to:",
                (_, false) => ".",
            };
            if id {
                format!("Mohon transfer tepat {rest} (sudah termasuk kode unik {code}){end}")
            } else {
                format!("Please transfer exactly {rest} (unique code {code} included){end}")
            }
        });
    if method == PaymentMethod::BankTransfer && (accounts || exact.is_some()) {
        lines.push(exact.unwrap_or_else(|| {
            if id {
                "Pembayaran bisa transfer ke:"
            } else {
                "Please transfer to:"
            }
            .to_owned()
        }));
    }
    if method == PaymentMethod::BankTransfer && accounts {
        for account in &settings.bank_accounts {
            let holder = if id { "a.n." } else { "in the name of" };
            lines.push(format!(
                "- {} {} {holder} {}",
                account.bank, account.number, account.holder
            ));
        }
    }
    if !link.is_empty() && method != PaymentMethod::Cod {
        lines.push(if id {
            format!("Bayar lewat tautan: {link}")
        } else {
            format!("Pay with this link: {link}")
        });
    }
    lines.join("\n")
}

/// An amount in rupiah, or empty when it is zero (so that `{% if … %}` leaves its line out).
/// The absolute link to `order`'s page under `public_base` (`https://toko.example`), if the
/// order has a page.
pub fn order_link(public_base: &str, order: &Order) -> Option<String> {
    let token = order.public_token.as_deref()?;
    Some(format!("{}/o/{token}", public_base.trim_end_matches('/')))
}

/// Where a return request stands, as the buyer is told.
fn return_update(request: &crate::returns::ReturnSummary, language: Language) -> String {
    use crate::returns::ReturnStatus as S;
    let id = language == Language::Indonesian;
    let base = match (request.status, id) {
        (S::Requested, true) => {
            "pengajuan retur sudah kami terima dan sedang kami periksa.".to_owned()
        }
        (S::Requested, false) => {
            "we received your return request and are looking at it.".to_owned()
        }
        (S::Approved, true) => {
            "retur disetujui. Silakan kirim barangnya kembali ke kami.".to_owned()
        }
        (S::Approved, false) => {
            "your return is approved. Please send the item back to us.".to_owned()
        }
        (S::Rejected, true) => "mohon maaf, retur tidak dapat kami terima.".to_owned(),
        (S::Rejected, false) => "we are sorry, the return cannot be accepted.".to_owned(),
        (S::Received, true) => "barang retur sudah kami terima.".to_owned(),
        (S::Received, false) => "we received the returned item.".to_owned(),
        (S::Refunded, true) => match request.refund {
            Some(amount) => format!(
                "dana {} sudah kami kembalikan.",
                format_rupiah(amount.minor_units())
            ),
            None => "dana sudah kami kembalikan.".to_owned(),
        },
        (S::Refunded, false) => match request.refund {
            Some(amount) => format!("we refunded {}.", format_rupiah(amount.minor_units())),
            None => "we refunded your payment.".to_owned(),
        },
        (S::Exchanged, true) => "barang pengganti sudah kami kirim.".to_owned(),
        (S::Exchanged, false) => "we sent the replacement.".to_owned(),
    };
    match &request.note {
        Some(note) => format!("{base} {note}"),
        None => base,
    }
}

fn money_or_empty(amount: crate::Money) -> String {
    match amount.minor_units() {
        0 => String::new(),
        units => format_rupiah(units),
    }
}
