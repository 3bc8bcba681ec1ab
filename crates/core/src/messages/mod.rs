//! Messages to buyers: kinds, languages, the seller-editable templates and how they are rendered.
//!
//! Templates are rendered by minijinja, a sandboxed runtime template engine, with undefined
//! variables treated as errors. `Composer::new` compiles every template and renders each once
//! against a sample order, so a template that cannot render is refused when it is saved, never
//! when a message is sent.

use jiff::tz::TimeZone;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::{Honorific, Order, OrderStatus, PaymentMethod, Settings, Timestamp};

mod context;
pub use context::*;

/// Longest template source accepted, in bytes.
pub const TEMPLATE_LEN_MAX: usize = 4096;

/// The templates the API document describes: plain text with the common variables in
/// `{{ … }}`. Templates may do much more (conditions, loops, filters: minijinja's whole
/// language); a test checks that every template this pattern describes renders.
pub const TEMPLATE_PATTERN: &str = concat!(
    r"^([ -z|~\n]|\{\{ (buyer\.greeting|buyer\.name|buyer\.first_name|order\.id|order\.total",
    r"|order\.amount_due|order\.balance|order\.deadline|order\.items_summary|order\.link|store\.name",
    r"|order\.courier|order\.waybill|order\.tracking_link|order\.confirm_by|order\.return_update",
    r"|payment\.instructions|reminder_number) \}\})*$"
);

/// How a message reaches its recipient: each has one string it is stored as.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The manual WhatsApp queue: staff open the `wa.me` link and mark it sent.
    ManualWhatsapp,
    /// The WhatsApp Cloud API: the message goes to the buyer's number through Meta's API.
    Whatsapp,
    /// Email to the buyer's address over SMTP.
    Email,
    /// An outgoing webhook: the recipient is the endpoint's id, the body the JSON payload.
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::ManualWhatsapp,
        Channel::Whatsapp,
        Channel::Email,
        Channel::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::ManualWhatsapp => "manual_whatsapp",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(raw: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Reminder,
    OrderReceived,
    PaymentReceived,
    HoldReleased,
    Cancelled,
    /// Staff gave the order a later deadline: the buyer is told the new time.
    DeadlineMoved,
    /// A COD order asks its buyer to confirm it ("Ya, kirim") before it is packed.
    CodConfirm,
    /// The parcel is packed.
    Packed,
    /// The parcel left with the courier: the waybill and the tracking link.
    Shipped,
    /// The courier delivered it; returns are open for the policy's window.
    Delivered,
    /// A return request moved: asked, approved, rejected, received, refunded or exchanged.
    ReturnUpdate,
    /// A unit of a product a buyer waited for is held for them: the claim link and until when.
    /// Not an order's message, and not among the templates a seller edits (`ALL`).
    WaitlistOffer,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "id")]
    Indonesian,
    #[serde(rename = "en")]
    English,
}

/// Template sources per kind; `None` means the built-in default of the store's language.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindTemplates {
    pub reminder: Option<String>,
    pub order_received: Option<String>,
    pub payment_received: Option<String>,
    pub hold_released: Option<String>,
    pub cancelled: Option<String>,
    pub deadline_moved: Option<String>,
    pub cod_confirm: Option<String>,
    pub packed: Option<String>,
    pub shipped: Option<String>,
    pub delivered: Option<String>,
    pub return_update: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Templates {
    pub id: KindTemplates,
    pub en: KindTemplates,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccount {
    pub bank: String,
    pub number: String,
    pub holder: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {name}: {detail}")]
pub struct TemplateError {
    pub name: String,
    pub detail: String,
}

impl MessageKind {
    pub const ALL: [MessageKind; 11] = [
        MessageKind::Reminder,
        MessageKind::OrderReceived,
        MessageKind::PaymentReceived,
        MessageKind::HoldReleased,
        MessageKind::Cancelled,
        MessageKind::DeadlineMoved,
        MessageKind::CodConfirm,
        MessageKind::Packed,
        MessageKind::Shipped,
        MessageKind::Delivered,
        MessageKind::ReturnUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Reminder => "reminder",
            MessageKind::OrderReceived => "order_received",
            MessageKind::PaymentReceived => "payment_received",
            MessageKind::HoldReleased => "hold_released",
            MessageKind::Cancelled => "cancelled",
            MessageKind::DeadlineMoved => "deadline_moved",
            MessageKind::CodConfirm => "cod_confirm",
            MessageKind::Packed => "packed",
            MessageKind::Shipped => "shipped",
            MessageKind::Delivered => "delivered",
            MessageKind::ReturnUpdate => "return_update",
            MessageKind::WaitlistOffer => "waitlist_offer",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageKind> {
        MessageKind::ALL
            .into_iter()
            .chain([MessageKind::WaitlistOffer])
            .find(|k| k.as_str() == raw)
    }
}

impl KindTemplates {
    /// The seller's template of `kind`, if they wrote one.
    pub fn get(&self, kind: MessageKind) -> Option<&String> {
        match kind {
            MessageKind::Reminder => self.reminder.as_ref(),
            MessageKind::OrderReceived => self.order_received.as_ref(),
            MessageKind::PaymentReceived => self.payment_received.as_ref(),
            MessageKind::HoldReleased => self.hold_released.as_ref(),
            MessageKind::Cancelled => self.cancelled.as_ref(),
            MessageKind::DeadlineMoved => self.deadline_moved.as_ref(),
            MessageKind::CodConfirm => self.cod_confirm.as_ref(),
            MessageKind::Packed => self.packed.as_ref(),
            MessageKind::Shipped => self.shipped.as_ref(),
            MessageKind::Delivered => self.delivered.as_ref(),
            MessageKind::ReturnUpdate => self.return_update.as_ref(),
            MessageKind::WaitlistOffer => None,
        }
    }
}

/// Formats rupiah the Indonesian way: `Rp150.000`.
pub fn format_rupiah(amount: i64) -> String {
    format!(
        "{}Rp{}",
        if amount < 0 { "-" } else { "" },
        group_thousands(amount.unsigned_abs())
    )
}

/// A whole number the Indonesian way, `.` between thousands: `1.234.567` (`-45.000`).
pub fn format_number(n: i64) -> String {
    format!(
        "{}{}",
        if n < 0 { "-" } else { "" },
        group_thousands(n.unsigned_abs())
    )
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    grouped
}

const HARI: [&str; 7] = [
    "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
];
const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name Indonesians use for a zone (WIB, WITA, WIT), else the zone's own abbreviation.
fn zone_name(tz: &TimeZone, at: Timestamp) -> String {
    match tz.iana_name() {
        Some("Asia/Jakarta" | "Asia/Pontianak") => "WIB".to_owned(),
        Some("Asia/Makassar") => "WITA".to_owned(),
        Some("Asia/Jayapura") => "WIT".to_owned(),
        _ => tz.to_offset_info(at).abbreviation().to_string(),
    }
}

/// A deadline as buyers read it: `Sabtu, 22 November 2026 pukul 14.00 WIB` or
/// `Saturday, 22 November 2026 at 14:00 WIB`.
pub fn format_deadline(at: Timestamp, tz: &TimeZone, language: Language) -> String {
    let local = at.to_zoned(tz.clone());
    let weekday = local.weekday().to_monday_zero_offset() as usize;
    let month = (local.month() - 1) as usize;
    let zone = zone_name(tz, at);
    match language {
        Language::Indonesian => format!(
            "{}, {} {} {} pukul {:02}.{:02} {zone}",
            HARI[weekday],
            local.day(),
            BULAN[month],
            local.year(),
            local.hour(),
            local.minute()
        ),
        Language::English => format!(
            "{}, {} {} {} at {:02}:{:02} {zone}",
            DAYS[weekday],
            local.day(),
            MONTHS[month],
            local.year(),
            local.hour(),
            local.minute()
        ),
    }
}

/// A time as staff read it in lists: `1 Des 2026 14.00` or `1 Dec 2026 14:00`, in `tz`.
pub fn format_short(at: Timestamp, tz: &TimeZone, language: Language) -> String {
    let local = at.to_zoned(tz.clone());
    let month = (local.month() - 1) as usize;
    match language {
        Language::Indonesian => format!(
            "{} {} {} {:02}.{:02}",
            local.day(),
            &BULAN[month][..3],
            local.year(),
            local.hour(),
            local.minute()
        ),
        Language::English => format!(
            "{} {} {} {:02}:{:02}",
            local.day(),
            &MONTHS[month][..3],
            local.year(),
            local.hour(),
            local.minute()
        ),
    }
}

/// The built-in templates, written in the warm, polite register sellers use.
pub fn default_template(kind: MessageKind, language: Language) -> &'static str {
    match (language, kind) {
        (Language::Indonesian, MessageKind::OrderReceived) => concat!(
            "Halo {{ buyer.greeting }}, terima kasih sudah order di {{ store.name }} 😊\n",
            "Pesanan #{{ order.id }}:\n",
            "{% for item in order.items %}- {{ item.name }} x{{ item.qty }} = {{ item.subtotal }}\n{% endfor %}",
            "{% if order.shipping_cost %}Ongkir: {{ order.shipping_cost }}\n{% endif %}",
            "{% if order.discount %}Diskon: -{{ order.discount }}\n{% endif %}",
            "Total: {{ order.total }}\n",
            "{% if order.deadline %}Barangnya kami simpan untuk {{ buyer.honorific }} sampai {{ order.deadline }}, mohon diselesaikan pembayarannya sebelum itu ya.\n{% endif %}",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Lihat pesanan & cara bayar: {{ order.link }}\n{% endif %}",
            "Kalau ada pertanyaan, balas saja pesan ini ya {{ buyer.honorific }}. Terima kasih 🙏"
        ),
        (Language::Indonesian, MessageKind::Reminder) => concat!(
            "Halo {{ buyer.greeting }}, semoga sehat selalu 🙏\n",
            "Mau mengingatkan pesanan #{{ order.id }} ({{ order.items_summary }}) sebesar {{ order.balance }} masih menunggu pembayaran. ",
            "Barangnya masih kami simpan untuk {{ buyer.honorific }} sampai {{ order.deadline }}.\n",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Lihat pesanan & cara bayar: {{ order.link }}\n{% endif %}",
            "{% if tip %}Tips: {{ tip }}\n{% endif %}",
            "Kalau ada kendala, kabari kami saja ya {{ buyer.honorific }}. Terima kasih!"
        ),
        (Language::Indonesian, MessageKind::PaymentReceived) => concat!(
            "Terima kasih {{ buyer.greeting }}! Pembayaran pesanan #{{ order.id }} sebesar {{ order.amount_paid }} sudah kami terima. ",
            "Pesanan segera kami proses ya 😊{% if order.link %}\nPantau pesanan di {{ order.link }}{% endif %}"
        ),
        (Language::Indonesian, MessageKind::HoldReleased) => concat!(
            "Halo {{ buyer.greeting }}, karena sampai {{ order.deadline }} pembayaran pesanan #{{ order.id }} belum kami terima, ",
            "booking-nya sudah kami lepas ya. ",
            "Kalau {{ buyer.honorific }} masih berminat, silakan order lagi{% if store.link %} di {{ store.link }}{% endif %}, dengan senang hati kami bantu. Terima kasih 🙏"
        ),
        (Language::Indonesian, MessageKind::Cancelled) => concat!(
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} sudah kami batalkan{% if order.cancel_reason %} ({{ order.cancel_reason }}){% endif %}. ",
            "Semoga lain kali bisa belanja lagi di {{ store.name }} ya. Terima kasih!"
        ),
        (Language::English, MessageKind::OrderReceived) => concat!(
            "Hi {{ buyer.greeting }}, thank you for your order at {{ store.name }}!\n",
            "Order #{{ order.id }}:\n",
            "{% for item in order.items %}- {{ item.name }} x{{ item.qty }} = {{ item.subtotal }}\n{% endfor %}",
            "{% if order.shipping_cost %}Shipping: {{ order.shipping_cost }}\n{% endif %}",
            "{% if order.discount %}Discount: -{{ order.discount }}\n{% endif %}",
            "Total: {{ order.total }}\n",
            "{% if order.deadline %}We are holding it for you until {{ order.deadline }}; please complete the payment before then.\n{% endif %}",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Your order and how to pay: {{ order.link }}\n{% endif %}",
            "Any questions? Just reply to this message."
        ),
        (Language::English, MessageKind::Reminder) => concat!(
            "Hi {{ buyer.greeting }}, a friendly reminder: order #{{ order.id }} ({{ order.items_summary }}) of {{ order.balance }} is still waiting for payment. ",
            "We are holding it for you until {{ order.deadline }}.\n",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Your order and how to pay: {{ order.link }}\n{% endif %}",
            "{% if tip %}Tip: {{ tip }}\n{% endif %}",
            "If anything is in the way, just let us know. Thank you!"
        ),
        (Language::English, MessageKind::PaymentReceived) => {
            "Thank you {{ buyer.greeting }}! We received {{ order.amount_paid }} for order #{{ order.id }} and will process it right away.{% if order.link %}\nFollow your order at {{ order.link }}{% endif %}"
        }
        (Language::English, MessageKind::HoldReleased) => concat!(
            "Hi {{ buyer.greeting }}, we did not receive the payment for order #{{ order.id }} by {{ order.deadline }}, so the booking has been released. ",
            "If you still want it, you are welcome to order again{% if store.link %} at {{ store.link }}{% endif %}. Thank you!"
        ),
        (Language::English, MessageKind::Cancelled) => concat!(
            "Hi {{ buyer.greeting }}, order #{{ order.id }} has been cancelled{% if order.cancel_reason %} ({{ order.cancel_reason }}){% endif %}. ",
            "We hope to see you again at {{ store.name }}."
        ),
        (Language::Indonesian, MessageKind::DeadlineMoved) => concat!(
            "Halo {{ buyer.greeting }}, batas pembayaran pesanan #{{ order.id }} sudah kami perpanjang sampai {{ order.deadline }} ya. ",
            "Barangnya tetap kami simpan untuk {{ buyer.honorific }} sampai waktu itu.\n",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Lihat pesanan & cara bayar: {{ order.link }}\n{% endif %}",
            "Terima kasih 🙏"
        ),
        (Language::English, MessageKind::DeadlineMoved) => concat!(
            "Hi {{ buyer.greeting }}, we have extended the payment deadline of order #{{ order.id }} to {{ order.deadline }}. ",
            "We are holding it for you until then.\n",
            "{% if payment.instructions %}{{ payment.instructions }}\n{% endif %}",
            "{% if order.link %}Your order and how to pay: {{ order.link }}\n{% endif %}",
            "Thank you!"
        ),
        (Language::Indonesian, MessageKind::CodConfirm) => concat!(
            "Halo {{ buyer.greeting }}, terima kasih sudah order di {{ store.name }} 😊\n",
            "Pesanan #{{ order.id }} (bayar di tempat/COD):\n",
            "{% for item in order.items %}- {{ item.name }} x{{ item.qty }} = {{ item.subtotal }}\n{% endfor %}",
            "{% if order.shipping_cost %}Ongkir: {{ order.shipping_cost }}\n{% endif %}",
            "Total dibayar ke kurir: {{ order.total }}\n",
            "Sebelum kami kemas, mohon konfirmasi dulu ya {{ buyer.honorific }}: pesanan ini benar dan siap diterima di alamat tujuan? ",
            "{% if order.link %}Tekan \"Ya, kirim\" di {{ order.link }} {% endif %}atau balas YA",
            "{% if order.confirm_by %} sebelum {{ order.confirm_by }}; tanpa konfirmasi pesanan kami batalkan{% endif %}. Terima kasih 🙏"
        ),
        (Language::English, MessageKind::CodConfirm) => concat!(
            "Hi {{ buyer.greeting }}, thank you for your order at {{ store.name }}!\n",
            "Order #{{ order.id }} (cash on delivery):\n",
            "{% for item in order.items %}- {{ item.name }} x{{ item.qty }} = {{ item.subtotal }}\n{% endfor %}",
            "{% if order.shipping_cost %}Shipping: {{ order.shipping_cost }}\n{% endif %}",
            "To pay the courier: {{ order.total }}\n",
            "Before we pack it, please confirm the order is right and you will be there to receive it: ",
            "{% if order.link %}press \"Yes, send it\" at {{ order.link }} {% endif %}or reply YES",
            "{% if order.confirm_by %} by {{ order.confirm_by }}; unconfirmed orders are cancelled{% endif %}. Thank you!"
        ),
        (Language::Indonesian, MessageKind::Packed) => concat!(
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} ({{ order.items_summary }}) sudah kami kemas dan siap dikirim ya 📦",
            "{% if order.link %}\nPantau pesanan di {{ order.link }}{% endif %}"
        ),
        (Language::English, MessageKind::Packed) => concat!(
            "Hi {{ buyer.greeting }}, order #{{ order.id }} ({{ order.items_summary }}) is packed and ready to ship.",
            "{% if order.link %}\nFollow it at {{ order.link }}{% endif %}"
        ),
        (Language::Indonesian, MessageKind::Shipped) => concat!(
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} sudah dikirim{% if order.courier %} lewat {{ order.courier }}{% endif %} 🚚\n",
            "{% if order.waybill %}No. resi: {{ order.waybill }}\n{% endif %}",
            "{% if order.tracking_link %}Lacak paket: {{ order.tracking_link }}\n{% endif %}",
            "{% if order.link %}Pantau pesanan: {{ order.link }}\n{% endif %}",
            "{% if order.cod %}Mohon siapkan {{ order.total }} untuk kurir ya {{ buyer.honorific }}.\n{% endif %}",
            "Terima kasih 🙏"
        ),
        (Language::English, MessageKind::Shipped) => concat!(
            "Hi {{ buyer.greeting }}, order #{{ order.id }} is on its way{% if order.courier %} with {{ order.courier }}{% endif %}.\n",
            "{% if order.waybill %}Waybill: {{ order.waybill }}\n{% endif %}",
            "{% if order.tracking_link %}Track it: {{ order.tracking_link }}\n{% endif %}",
            "{% if order.link %}Your order: {{ order.link }}\n{% endif %}",
            "{% if order.cod %}Please have {{ order.total }} ready for the courier.\n{% endif %}",
            "Thank you!"
        ),
        (Language::Indonesian, MessageKind::Delivered) => concat!(
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} sudah sampai ya 🎉 Semoga suka!\n",
            "Kalau ada yang tidak sesuai, {{ buyer.honorific }} bisa ajukan retur{% if order.link %} di {{ order.link }}{% endif %}. ",
            "Ditunggu order berikutnya di {{ store.name }} 🙏"
        ),
        (Language::English, MessageKind::Delivered) => concat!(
            "Hi {{ buyer.greeting }}, order #{{ order.id }} has been delivered. We hope you like it!\n",
            "If anything is wrong, you can ask for a return{% if order.link %} at {{ order.link }}{% endif %}. ",
            "See you again at {{ store.name }}."
        ),
        (Language::Indonesian, MessageKind::ReturnUpdate) => concat!(
            "Halo {{ buyer.greeting }}, kabar retur pesanan #{{ order.id }}: {{ order.return_update }}",
            "{% if order.link %}\nDetailnya di {{ order.link }}{% endif %}"
        ),
        (Language::English, MessageKind::ReturnUpdate) => concat!(
            "Hi {{ buyer.greeting }}, about the return of order #{{ order.id }}: {{ order.return_update }}",
            "{% if order.link %}\nDetails at {{ order.link }}{% endif %}"
        ),
        (Language::Indonesian, MessageKind::WaitlistOffer) => concat!(
            "Halo {{ buyer.greeting }}, kabar baik dari {{ store.name }}! {{ product.name }} yang {{ buyer.you }} tunggu tersedia lagi. ",
            "Satu sudah kami simpan untuk {{ buyer.you }} sampai {{ offer.until }}.\n",
            "Ambil di sini: {{ offer.link }}\n",
            "Kalau tidak diambil sampai waktu itu, kami tawarkan ke pembeli berikutnya. Terima kasih 🙏"
        ),
        (Language::English, MessageKind::WaitlistOffer) => concat!(
            "Hi {{ buyer.greeting }}, good news from {{ store.name }}! {{ product.name }}, which you were waiting for, is back. ",
            "We are holding one for you until {{ offer.until }}.\n",
            "Claim it here: {{ offer.link }}\n",
            "If it is not claimed by then, it goes to the next buyer in line. Thank you!"
        ),
    }
}

/// The subject line of an email message.
pub fn subject(kind: MessageKind, order: crate::OrderId, language: Language) -> String {
    let text = match (language, kind) {
        (Language::Indonesian, MessageKind::OrderReceived) => "Pesanan diterima",
        (Language::Indonesian, MessageKind::Reminder) => "Pengingat pembayaran pesanan",
        (Language::Indonesian, MessageKind::PaymentReceived) => "Pembayaran diterima untuk pesanan",
        (Language::Indonesian, MessageKind::HoldReleased) => "Booking dilepas untuk pesanan",
        (Language::Indonesian, MessageKind::Cancelled) => "Pesanan dibatalkan",
        (Language::Indonesian, MessageKind::DeadlineMoved) => {
            "Batas bayar diperpanjang untuk pesanan"
        }
        (Language::English, MessageKind::OrderReceived) => "Order received",
        (Language::English, MessageKind::Reminder) => "Payment reminder for order",
        (Language::English, MessageKind::PaymentReceived) => "Payment received for order",
        (Language::English, MessageKind::HoldReleased) => "Booking released for order",
        (Language::English, MessageKind::Cancelled) => "Order cancelled",
        (Language::English, MessageKind::DeadlineMoved) => "Payment deadline extended for order",
        (Language::Indonesian, MessageKind::CodConfirm) => "Mohon konfirmasi pesanan COD",
        (Language::Indonesian, MessageKind::Packed) => "Pesanan sudah dikemas",
        (Language::Indonesian, MessageKind::Shipped) => "Pesanan sudah dikirim",
        (Language::Indonesian, MessageKind::Delivered) => "Pesanan sudah sampai",
        (Language::Indonesian, MessageKind::ReturnUpdate) => "Kabar retur pesanan",
        (Language::English, MessageKind::CodConfirm) => "Please confirm your COD order",
        (Language::English, MessageKind::Packed) => "Packed: order",
        (Language::English, MessageKind::Shipped) => "Shipped: order",
        (Language::English, MessageKind::Delivered) => "Delivered: order",
        (Language::English, MessageKind::ReturnUpdate) => "About the return of order",
        (Language::Indonesian, MessageKind::WaitlistOffer) => "Barang yang Anda tunggu tersedia",
        (Language::English, MessageKind::WaitlistOffer) => "The item you waited for is back",
    };
    format!("{text} #{order}")
}

/// Compiled templates of one store, ready to render many messages.
pub struct Composer {
    env: Environment<'static>,
    language: Language,
    /// The templates that use `tip`: only their messages read the products' tips.
    uses_tip: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

fn step_template_name(method: PaymentMethod, step: usize) -> String {
    format!("reminder.{}.{step}", method.as_str())
}

impl Composer {
    /// Compiles the store's templates (its overrides, else the defaults of its language) and
    /// renders each against a sample order, so that none can fail later.
    pub fn new(settings: &Settings) -> Result<Composer, TemplateError> {
        let mut env = sandbox();
        let language = settings.language;
        let overrides = match language {
            Language::Indonesian => &settings.templates.id,
            Language::English => &settings.templates.en,
        };
        let mut names = Vec::new();
        for kind in MessageKind::ALL {
            let source = overrides
                .get(kind)
                .cloned()
                .unwrap_or_else(|| default_template(kind, language).to_owned());
            add(&mut env, kind.as_str().to_owned(), source)?;
            names.push(kind.as_str().to_owned());
        }
        for (method, cadence) in settings.reminders.iter() {
            for (step, s) in cadence.steps.iter().enumerate() {
                if let Some(source) = &s.template {
                    let name = step_template_name(method, step);
                    add(&mut env, name.clone(), source.clone())?;
                    names.push(name);
                }
            }
        }
        let uses_tip = names
            .iter()
            .filter(|name| {
                env.get_template(name)
                    .is_ok_and(|t| t.undeclared_variables(false).contains("tip"))
            })
            .cloned()
            .collect();
        let composer = Composer {
            env,
            language,
            uses_tip,
        };
        let sample = MessageContext::new(
            &sample_order(),
            &[Some("Cuci dengan air dingin agar warnanya awet.".into())],
            settings,
            SAMPLE_BASE,
            1,
        );
        for name in names {
            composer.render_named(&name, &sample)?;
        }
        Ok(composer)
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// Whether the template a message of `kind` renders with uses `tip` (the products' tips need
    /// reading only then).
    pub fn needs_tips(
        &self,
        kind: MessageKind,
        reminder_step: Option<(PaymentMethod, usize)>,
    ) -> bool {
        if let (MessageKind::Reminder, Some((method, step))) = (kind, reminder_step) {
            let name = step_template_name(method, step);
            if self.env.get_template(&name).is_ok() {
                return self.uses_tip.contains(&name);
            }
        }
        self.uses_tip.contains(kind.as_str())
    }

    /// Renders a message of `kind`; a reminder uses its step's own template when it has one.
    pub fn render(
        &self,
        kind: MessageKind,
        reminder_step: Option<(PaymentMethod, usize)>,
        context: &MessageContext,
    ) -> Result<String, TemplateError> {
        if let (MessageKind::Reminder, Some((method, step))) = (kind, reminder_step) {
            let name = step_template_name(method, step);
            if self.env.get_template(&name).is_ok() {
                return self.render_named(&name, context);
            }
        }
        self.render_named(kind.as_str(), context)
    }

    fn render_named(&self, name: &str, context: &MessageContext) -> Result<String, TemplateError> {
        render_in(&self.env, name, context)
    }

    /// The message offering a buyer on a waitlist the unit held for them.
    pub fn render_offer(
        &self,
        offer: &crate::waitlist::OfferContext,
    ) -> Result<String, TemplateError> {
        let source = default_template(MessageKind::WaitlistOffer, self.language);
        self.env
            .render_str(source, minijinja::value::Serde(offer))
            .map_err(|e| TemplateError {
                name: MessageKind::WaitlistOffer.as_str().to_owned(),
                detail: e.to_string(),
            })
    }

    /// Renders an arbitrary template source against `context`, for previews of unsaved templates.
    pub fn preview(source: &str, context: &MessageContext) -> Result<String, TemplateError> {
        let mut env = sandbox();
        add(&mut env, "preview".to_owned(), source.to_owned())?;
        render_in(&env, "preview", context)
    }
}

/// The environment every template runs in: undefined variables are errors, and nothing is
/// escaped (messages are plain text, never HTML).
fn sandbox() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

fn render_in(
    env: &Environment<'static>,
    name: &str,
    context: &MessageContext,
) -> Result<String, TemplateError> {
    let error = |detail: String| TemplateError {
        name: name.to_owned(),
        detail,
    };
    let template = env.get_template(name).map_err(|e| error(e.to_string()))?;
    template
        .render(minijinja::value::Serde(context))
        .map(|s| s.trim().to_owned())
        .map_err(|e| error(describe(&e)))
}

fn add(env: &mut Environment<'static>, name: String, source: String) -> Result<(), TemplateError> {
    if source.len() > TEMPLATE_LEN_MAX {
        return Err(TemplateError {
            name,
            detail: format!("longer than {TEMPLATE_LEN_MAX} bytes"),
        });
    }
    env.add_template_owned(name.clone(), source)
        .map_err(|e| TemplateError {
            name,
            detail: describe(&e),
        })
}

fn describe(e: &minijinja::Error) -> String {
    let mut detail = e.to_string();
    if let Some(line) = e.line() {
        detail = format!("{detail} (line {line})");
    }
    detail
}

/// A believable order used to check templates when they are saved.
pub fn sample_order() -> Order {
    use crate::{
        Actor, CustomerInfo, HoldState, Money, OrderEvent, OrderId, OrderItem, Phone, Quantity, Sku,
    };
    let placed: Timestamp = "2026-11-22T03:00:00Z".parse().expect("a valid timestamp");
    Order {
        id: OrderId(1042),
        status: OrderStatus::AwaitingPayment,
        customer: CustomerInfo {
            phone: Phone::from_stored("+6281234567890".into()),
            name: "Sari Wulandari".into(),
            email: None,
            honorific: Some(Honorific::Kak),
        },
        items: vec![OrderItem {
            sku: Sku::from_stored("GAMIS-01".into()),
            name: "Gamis Rayon Hitam".into(),
            unit_price: Money::from_stored(150_000),
            qty: Quantity::from_stored(1),
            hold: HoldState::Held,
        }],
        total: Money::from_stored(150_000),
        amount_due: Money::from_stored(150_237),
        unique_code: Some(237),
        payment_url: None,
        amount_paid: Money::ZERO,
        payment_method: PaymentMethod::BankTransfer,
        pay_by: Some(placed + jiff::SignedDuration::from_hours(24)),
        placed_at: placed,
        payments: Vec::new(),
        events: vec![OrderEvent {
            at: placed,
            actor: Actor::system(),
            from: None,
            to: OrderStatus::AwaitingPayment,
            reason: None,
        }],
        deposit: None,
        deposit_forfeited: None,
        policy: None,
        address: None,
        shipping_cost: Money::ZERO,
        discount: Money::ZERO,
        written_off: Money::ZERO,
        public_token: Some("5f0c2a9e7d3b41c8a6e19b0d4f7a2c31".into()),
        proof: None,
        note: None,
        shipment: crate::fulfilment::Shipment {
            confirm_by: Some(placed + jiff::SignedDuration::from_hours(24)),
            courier: Some("JNE".into()),
            service: Some("REG".into()),
            waybill: Some("CGK1234567890".into()),
            ..Default::default()
        },
        return_request: Some(crate::returns::ReturnSummary {
            id: 7,
            status: crate::returns::ReturnStatus::Approved,
            reason: "Ukuran tidak sesuai".into(),
            requested_at: placed + jiff::SignedDuration::from_hours(72),
            note: Some("Kirim ke alamat toko ya.".into()),
            refund: None,
            photos: 1,
        }),
    }
}

/// Where the sample order's page is, in previews and in the check of every template.
pub const SAMPLE_BASE: &str = "https://toko.example";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_template_the_document_describes_renders(
            raw in proptest::string::string_regex(&TEMPLATE_PATTERN[1..TEMPLATE_PATTERN.len() - 1]).unwrap()
        ) {
            prop_assume!(raw.len() <= TEMPLATE_LEN_MAX);
            let settings = Settings::default();
            let context = MessageContext::new(&sample_order(), &[], &settings, SAMPLE_BASE, 1);
            let rendered = Composer::preview(&raw, &context);
            prop_assert!(rendered.is_ok(), "{raw:?}: {rendered:?}");
        }
    }

    use super::*;

    #[test]
    fn only_templates_that_use_tip_need_the_tips() {
        let composer = Composer::new(&Settings::default()).unwrap();
        assert!(composer.needs_tips(MessageKind::Reminder, None));
        assert!(!composer.needs_tips(MessageKind::Delivered, None));
        assert!(!composer.needs_tips(MessageKind::HoldReleased, None));
    }

    #[test]
    fn every_channel_reads_back_from_what_it_is_stored_as() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("sms"), None);
    }

    #[test]
    fn rupiah_is_grouped_with_dots() {
        for (amount, text) in [
            (0, "Rp0"),
            (999, "Rp999"),
            (1000, "Rp1.000"),
            (150_000, "Rp150.000"),
            (1_234_567, "Rp1.234.567"),
            (-5000, "-Rp5.000"),
        ] {
            assert_eq!(format_rupiah(amount), text);
        }
    }

    #[test]
    fn deadlines_read_in_indonesian_and_english_in_the_store_zone() {
        let at: Timestamp = "2026-11-22T07:00:00Z".parse().unwrap();
        let jakarta = TimeZone::get("Asia/Jakarta").unwrap();
        assert_eq!(
            format_deadline(at, &jakarta, Language::Indonesian),
            "Minggu, 22 November 2026 pukul 14.00 WIB"
        );
        assert_eq!(
            format_deadline(at, &jakarta, Language::English),
            "Sunday, 22 November 2026 at 14:00 WIB"
        );
        let makassar = TimeZone::get("Asia/Makassar").unwrap();
        assert_eq!(
            format_deadline(at, &makassar, Language::Indonesian),
            "Minggu, 22 November 2026 pukul 15.00 WITA"
        );
    }

    fn settings() -> Settings {
        let mut settings = Settings::default();
        settings.store_name = "Razha & Co".into();
        settings.bank_accounts = vec![BankAccount {
            bank: "BCA".into(),
            number: "1234567890".into(),
            holder: "Muri Handayani".into(),
        }];
        settings
    }

    #[test]
    fn default_reminder_greets_the_buyer_politely_with_everything_needed_to_pay() {
        let settings = settings();
        let composer = Composer::new(&settings).unwrap();
        let context = MessageContext::new(
            &sample_order(),
            &[Some("Cuci dengan air dingin.".into())],
            &settings,
            SAMPLE_BASE,
            1,
        );
        let text = composer
            .render(MessageKind::Reminder, None, &context)
            .unwrap();
        assert!(text.starts_with("Halo Kak Sari"), "{text}");
        assert!(
            text.contains("sebesar Rp150.237 masih menunggu pembayaran."),
            "{text}"
        );
        assert!(
            text.contains(
                "Mohon transfer tepat Rp150.237 (sudah termasuk kode unik 237) ke:\n- BCA"
            ),
            "{text}"
        );
        assert!(
            text.contains("Senin, 23 November 2026 pukul 10.00 WIB"),
            "{text}"
        );
        assert!(
            text.contains("BCA 1234567890 a.n. Muri Handayani"),
            "{text}"
        );
        assert!(text.contains("Tips: Cuci dengan air dingin."), "{text}");
    }

    #[test]
    fn every_default_renders_in_both_languages() {
        for language in [Language::Indonesian, Language::English] {
            let mut settings = settings();
            settings.language = language;
            let composer = Composer::new(&settings).unwrap();
            let context = MessageContext::new(&sample_order(), &[], &settings, SAMPLE_BASE, 1);
            for kind in MessageKind::ALL {
                let text = composer.render(kind, None, &context).unwrap();
                assert!(text.contains("1042"), "{kind:?} {language:?}: {text}");
            }
        }
    }

    #[test]
    fn broken_templates_are_refused_when_saved() {
        for (source, needle) in [
            ("Halo {{ buyer.name ", "syntax"),
            ("Halo {{ pembeli.nama }}", "undefined"),
            ("{% for x in order.items %}", "syntax"),
            ("{{ order.total | nosuchfilter }}", "filter"),
        ] {
            let mut settings = settings();
            settings.templates.id.reminder = Some(source.into());
            let error = Composer::new(&settings).unwrap_err();
            assert!(
                error.to_string().to_lowercase().contains(needle) || error.name == "reminder",
                "{source}: {error}"
            );
            assert_eq!(error.name, "reminder");
        }
    }

    #[test]
    fn a_step_may_have_its_own_template() {
        let mut settings = settings();
        settings.reminders.bank_transfer.steps[0].template =
            Some("Kak {{ buyer.first_name }}, yuk diselesaikan 🙏".into());
        let composer = Composer::new(&settings).unwrap();
        let context = MessageContext::new(&sample_order(), &[], &settings, SAMPLE_BASE, 1);
        let first = composer
            .render(
                MessageKind::Reminder,
                Some((PaymentMethod::BankTransfer, 0)),
                &context,
            )
            .unwrap();
        assert_eq!(first, "Kak Sari, yuk diselesaikan 🙏");
        let second = composer
            .render(
                MessageKind::Reminder,
                Some((PaymentMethod::BankTransfer, 1)),
                &context,
            )
            .unwrap();
        assert!(second.starts_with("Halo Kak Sari"));
    }
}
