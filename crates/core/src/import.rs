//! Order history from elsewhere, read into orders lunas can keep: lunas's own CSV columns, the
//! order export of Shopee Seller Centre, and that of TikTok Shop / Tokopedia. A file is a table
//! (its first row the header) whatever its container (CSV or xlsx, read at the edge); its format
//! is recognised by its header. Marketplace exports list one row per order line: rows are grouped
//! by the order's number. Every refused row is reported with its line and why.

use std::collections::BTreeMap;

use crate::{Money, PaymentMethod, Phone, Timestamp};

/// Rows of a file at most (a marketplace's export of several years fits).
pub const ROWS_MAX: usize = 1_000_000;
/// Lines of one order at most.
pub const ORDER_LINES_MAX: usize = 100;

/// Where a file came from, told by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `order_id,placed_at,status,phone,name,product,qty,unit_price,…` (docs/analytics.md).
    Lunas,
    Shopee,
    Tiktok,
}

impl Format {
    /// The actor of the imported orders' events, which analytics reads as their channel.
    pub fn actor(self) -> &'static str {
        match self {
            Format::Lunas => "import:csv",
            Format::Shopee => "import:shopee",
            Format::Tiktok => "import:tiktok",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Lunas => "lunas CSV",
            Format::Shopee => "Shopee Seller Centre",
            Format::Tiktok => "TikTok Shop / Tokopedia",
        }
    }

    /// The columns a file of this format must have.
    fn required(self) -> &'static [&'static str] {
        match self {
            Format::Lunas => &[
                "order_id",
                "placed_at",
                "status",
                "phone",
                "name",
                "product",
                "qty",
                "unit_price",
            ],
            Format::Shopee => &[
                "No. Pesanan",
                "Status Pesanan",
                "Waktu Pesanan Dibuat",
                "No. Telepon",
                "Nama Produk",
                "Jumlah",
            ],
            Format::Tiktok => &[
                "Order ID",
                "Order Status",
                "Created Time",
                "Product Name",
                "Quantity",
            ],
        }
    }

    /// The format whose key column the header has.
    pub fn detect(header: &[String]) -> Option<Format> {
        let has = |name: &str| header.iter().any(|h| h.trim() == name);
        if has("No. Pesanan") {
            Some(Format::Shopee)
        } else if has("Order ID") {
            Some(Format::Tiktok)
        } else if has("order_id") {
            Some(Format::Lunas)
        } else {
            None
        }
    }
}

/// How an imported order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Paid,
    /// Never paid: the marketplace cancelled it for want of payment, or its deadline passed.
    Unpaid,
    CancelledByBuyer,
    CancelledBySeller,
    /// A COD parcel refused, or a parcel returned.
    Returned,
}

impl Ending {
    /// The lunas status the order is kept in.
    pub fn status(self, method: PaymentMethod) -> crate::OrderStatus {
        use crate::OrderStatus as S;
        match self {
            Ending::Paid => S::Completed,
            Ending::Unpaid => S::Expired,
            Ending::CancelledByBuyer | Ending::CancelledBySeller => S::Cancelled,
            Ending::Returned if method == PaymentMethod::Cod => S::ReturnedToSender,
            Ending::Returned => S::Completed,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedLine {
    /// The seller's SKU when the file has one.
    pub sku: Option<String>,
    pub name: String,
    pub qty: i64,
    pub unit_price: Money,
}

/// The buyer of an imported order: a number, or an anonymous buyer when the marketplace masked
/// it (`0812****678`), known by whatever identity the file gives (a username, the masked number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportedBuyer {
    Known(Phone),
    Anonymous(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOrder {
    pub external_id: String,
    /// The file's line of the order's first row (1 is the header).
    pub line: usize,
    pub buyer: ImportedBuyer,
    pub name: String,
    pub placed_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    /// When it ended, if the file says (else its payment, else its placement).
    pub ended_at: Option<Timestamp>,
    pub ending: Ending,
    pub method: PaymentMethod,
    pub lines: Vec<ImportedLine>,
    pub total: Money,
    /// The shipping the order paid, when the file says: a refused COD parcel costs the seller
    /// this much each way.
    pub shipping: Option<Money>,
}

/// A row refused, with its line in the file and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

/// What a file holds: the orders read, the rows refused, and the orders left out because the
/// marketplace has not finished them (they are not lunas's to follow).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Read {
    pub orders: Vec<ImportedOrder>,
    pub errors: Vec<RowError>,
    pub still_open: usize,
}

/// Why a whole file is refused before its rows are read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the header is not one lunas knows (lunas CSV, Shopee Seller Centre or TikTok Shop / Tokopedia); it starts {0:?}"
    )]
    UnknownFormat(String),
    #[error("the {format} export lacks the columns {missing}")]
    MissingColumns {
        format: &'static str,
        missing: String,
    },
    #[error("the file has more than {ROWS_MAX} rows")]
    TooManyRows,
}

/// A masked number: the marketplace hid some digits.
fn is_masked(raw: &str) -> bool {
    raw.contains('*')
}

/// A date and time as the exports write them, in the store's time zone: `2024-01-05 14:03[:09]`,
/// `2024-01-05T14:03:09+07:00`, `05/01/2024 14:03[:09]` (day first), or with `AM`/`PM`.
pub fn parse_time(raw: &str, tz: &jiff::tz::TimeZone) -> Option<Timestamp> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Some(at);
    }
    const FORMATS: [&str; 10] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %I:%M:%S %p",
        "%d/%m/%Y %I:%M %p",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
    ];
    for format in FORMATS {
        if let Ok(dt) = jiff::civil::DateTime::strptime(format, raw) {
            return dt.to_zoned(tz.clone()).ok().map(|z| z.timestamp());
        }
    }
    for format in ["%Y-%m-%d", "%d/%m/%Y"] {
        if let Ok(date) = jiff::civil::Date::strptime(format, raw) {
            return date.to_zoned(tz.clone()).ok().map(|z| z.timestamp());
        }
    }
    None
}

/// A rupiah amount as the exports write it: `150000`, `150.000`, `Rp 150.000`, `150000.00`.
pub fn parse_amount(raw: &str) -> Option<i64> {
    let cleaned: String = raw
        .trim()
        .trim_start_matches("Rp")
        .trim_start_matches("IDR")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    let negative = cleaned.starts_with('-');
    let digits = cleaned.trim_start_matches('-');
    // `150000.00` or `150000,00`: decimals; `150.000` or `1.500.000`: thousands.
    let whole = match digits.rsplit_once(['.', ',']) {
        Some((head, tail)) if tail.len() == 2 && !head.contains(['.', ',']) => head.to_owned(),
        _ => digits.replace(['.', ','], ""),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || whole.len() > 15 {
        return None;
    }
    let value: i64 = whole.parse().ok()?;
    Some(if negative { -value } else { value })
}

fn method_of(raw: &str) -> PaymentMethod {
    let raw = raw.to_lowercase();
    if raw.contains("cod") || raw.contains("bayar di tempat") || raw.contains("cash on delivery") {
        PaymentMethod::Cod
    } else if raw.contains("qris") {
        PaymentMethod::Qris
    } else if raw.contains("virtual") || raw.contains("va ") || raw.ends_with(" va") {
        PaymentMethod::VirtualAccount
    } else if [
        "shopeepay",
        "gopay",
        "ovo",
        "dana",
        "linkaja",
        "e-wallet",
        "ewallet",
        "wallet",
    ]
    .iter()
    .any(|w| raw.contains(w))
    {
        PaymentMethod::Ewallet
    } else {
        PaymentMethod::BankTransfer
    }
}

/// How a marketplace status (and its cancellation's reason) ends an order; `None` while the
/// marketplace has not finished it.
fn ending_of(
    format: Format,
    status: &str,
    cancelled_by: &str,
    paid: bool,
) -> Result<Option<Ending>, String> {
    let s = status.trim().to_lowercase();
    let by = cancelled_by.trim().to_lowercase();
    let cancelled = |paid: bool| {
        if by.contains("penjual") || by.contains("seller") {
            Ending::CancelledBySeller
        } else if !paid && (by.is_empty() || by.contains("sistem") || by.contains("system")) {
            Ending::Unpaid
        } else {
            Ending::CancelledByBuyer
        }
    };
    Ok(match format {
        Format::Lunas => match s.as_str() {
            "paid" | "completed" | "selesai" | "lunas" => Some(Ending::Paid),
            "unpaid" | "expired" => Some(Ending::Unpaid),
            "cancelled" | "cancelled_by_buyer" => Some(Ending::CancelledByBuyer),
            "cancelled_by_seller" => Some(Ending::CancelledBySeller),
            "returned" | "cod_refused" => Some(Ending::Returned),
            "open" => None,
            _ => return Err(format!("unknown status {status:?}")),
        },
        Format::Shopee => {
            if s.contains("batal") {
                Some(cancelled(paid))
            } else if s.contains("pengembalian")
                || s.contains("dikembalikan")
                || s.contains("gagal")
            {
                Some(Ending::Returned)
            } else if s.contains("selesai") || s.contains("telah dikirim") || s.contains("diterima")
            {
                Some(Ending::Paid)
            } else if s.contains("belum bayar")
                || s.contains("perlu dikirim")
                || s.contains("sedang dikirim")
                || s.contains("dikirim")
                || s.contains("dikemas")
            {
                None
            } else {
                return Err(format!("unknown Shopee status {status:?}"));
            }
        }
        Format::Tiktok => {
            if s.contains("cancel") {
                Some(cancelled(paid))
            } else if s.contains("return") || s.contains("refund") || s.contains("failed") {
                Some(Ending::Returned)
            } else if s.contains("completed") || s.contains("delivered") || s == "selesai" {
                Some(Ending::Paid)
            } else if s.contains("unpaid")
                || s.contains("ship")
                || s.contains("rts")
                || s.contains("ready")
                || s.contains("transit")
                || s.contains("awaiting")
                || s.contains("pending")
            {
                // RTS is "ready to ship", not "returned to sender".
                None
            } else {
                return Err(format!("unknown TikTok status {status:?}"));
            }
        }
    })
}

/// The columns each field is read from, the first present of several.
struct Names {
    id: &'static [&'static str],
    status: &'static [&'static str],
    created: &'static [&'static str],
    paid: &'static [&'static str],
    phone: &'static [&'static str],
    product: &'static [&'static str],
    sku: &'static [&'static str],
    qty: &'static [&'static str],
    price: &'static [&'static str],
    total: &'static [&'static str],
    method: &'static [&'static str],
    name: &'static [&'static str],
    by: &'static [&'static str],
    ended: &'static [&'static str],
    shipping: &'static [&'static str],
}

impl Format {
    fn names(self) -> Names {
        match self {
            Format::Lunas => Names {
                id: &["order_id"],
                status: &["status"],
                created: &["placed_at"],
                paid: &["paid_at"],
                phone: &["phone"],
                product: &["product"],
                sku: &["sku"],
                qty: &["qty"],
                price: &["unit_price"],
                total: &["total"],
                method: &["payment_method"],
                name: &["name"],
                by: &["cancelled_by"],
                ended: &["ended_at"],
                shipping: &["shipping_cost"],
            },
            Format::Shopee => Names {
                id: &["No. Pesanan"],
                status: &["Status Pesanan"],
                created: &["Waktu Pesanan Dibuat"],
                paid: &["Waktu Pembayaran Dilakukan"],
                phone: &["No. Telepon"],
                product: &["Nama Produk"],
                sku: &["Nomor Referensi SKU", "SKU Induk"],
                qty: &["Jumlah"],
                price: &["Harga Setelah Diskon", "Harga Awal"],
                total: &["Total Pembayaran"],
                method: &["Metode Pembayaran"],
                name: &["Username (Pembeli)", "Nama Penerima"],
                by: &["Alasan Pembatalan", "Dibatalkan oleh"],
                ended: &["Waktu Pesanan Selesai"],
                shipping: &[
                    "Ongkos Kirim Dibayar oleh Pembeli",
                    "Perkiraan Ongkos Kirim",
                ],
            },
            Format::Tiktok => Names {
                id: &["Order ID"],
                status: &["Order Status"],
                created: &["Created Time"],
                paid: &["Paid Time"],
                phone: &["Phone #"],
                product: &["Product Name"],
                sku: &["Seller SKU"],
                qty: &["Quantity"],
                price: &["SKU Unit Original Price", "SKU Subtotal After Discount"],
                total: &["Order Amount"],
                method: &["Payment Method"],
                name: &["Buyer Username", "Recipient"],
                by: &["Cancel By", "Cancelation/Return Type"],
                ended: &["Delivered Time", "Cancelled Time"],
                shipping: &["Shipping Fee After Discount", "Original Shipping Fee"],
            },
        }
    }
}

struct Columns<'a> {
    header: &'a [String],
}

impl Columns<'_> {
    fn get<'r>(&self, row: &'r [String], names: &[&str]) -> &'r str {
        names
            .iter()
            .find_map(|name| self.header.iter().position(|h| h.trim() == *name))
            .and_then(|i| row.get(i))
            .map(|v| v.trim())
            .unwrap_or("")
    }
}

/// Reads a table (its first row the header) into orders, as of `now` in `tz`.
pub fn read(
    table: &[Vec<String>],
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Result<Read, FileError> {
    let (header, rows) = table.split_first().ok_or(FileError::Empty)?;
    if rows.len() > ROWS_MAX {
        return Err(FileError::TooManyRows);
    }
    let format = Format::detect(header).ok_or_else(|| {
        FileError::UnknownFormat(header.iter().take(4).cloned().collect::<Vec<_>>().join(","))
    })?;
    let missing: Vec<&str> = format
        .required()
        .iter()
        .copied()
        .filter(|name| !header.iter().any(|h| h.trim() == *name))
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns {
            format: format.name(),
            missing: missing.join(", "),
        });
    }
    let c = Columns { header };
    let n = format.names();
    let mut read = Read::default();
    // Rows by order number, in the order the numbers first appear.
    let mut groups: BTreeMap<String, Vec<(usize, &Vec<String>)>> = BTreeMap::new();
    let mut first_seen: Vec<String> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        if row.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let id = c.get(row, n.id);
        if id.is_empty() {
            read.errors.push(RowError {
                line,
                code: "missing_order_id",
                message: "no order number".into(),
            });
            continue;
        }
        if id.chars().count() > 64 || id.chars().any(char::is_control) {
            read.errors.push(RowError {
                line,
                code: "invalid_order_id",
                message: format!("order number {id:?} is not one"),
            });
            continue;
        }
        let group = groups.entry(id.to_owned()).or_default();
        if group.is_empty() {
            first_seen.push(id.to_owned());
        }
        group.push((line, row));
    }
    for id in first_seen {
        let group = &groups[&id];
        match read_order(format, &c, &n, &id, group, now, tz) {
            Ok(Some(order)) => read.orders.push(order),
            Ok(None) => read.still_open += 1,
            Err(e) => read.errors.push(e),
        }
    }
    Ok(read)
}

fn read_order(
    format: Format,
    c: &Columns<'_>,
    n: &Names,
    id: &str,
    rows: &[(usize, &Vec<String>)],
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Result<Option<ImportedOrder>, RowError> {
    let (line, first) = rows[0];
    let bad = |line: usize, code: &'static str, message: String| RowError {
        line,
        code,
        message,
    };
    if rows.len() > ORDER_LINES_MAX {
        return Err(bad(
            line,
            "too_many_lines",
            format!("order {id} has more than {ORDER_LINES_MAX} lines"),
        ));
    }
    let created = c.get(first, n.created);
    let placed_at = parse_time(created, tz).ok_or_else(|| {
        bad(
            line,
            "invalid_time",
            format!("order {id}: {created:?} is not a date and time"),
        )
    })?;
    if placed_at > now {
        return Err(bad(
            line,
            "future_time",
            format!("order {id} is placed in the future ({created})"),
        ));
    }
    let paid_raw = c.get(first, n.paid);
    let paid_at = match paid_raw {
        "" | "-" => None,
        raw => Some(parse_time(raw, tz).ok_or_else(|| {
            bad(
                line,
                "invalid_time",
                format!("order {id}: paid time {raw:?} is not a date and time"),
            )
        })?),
    };
    if paid_at.is_some_and(|p| p > now) {
        return Err(bad(
            line,
            "future_time",
            format!("order {id} is paid in the future ({paid_raw})"),
        ));
    }
    let ended_at = parse_time(c.get(first, n.ended), tz).filter(|t| *t <= now && *t >= placed_at);
    let Some(ending) = ending_of(
        format,
        c.get(first, n.status),
        c.get(first, n.by),
        paid_at.is_some(),
    )
    .map_err(|message| bad(line, "unknown_status", format!("order {id}: {message}")))?
    else {
        return Ok(None);
    };
    let method = match (format, c.get(first, n.method)) {
        (Format::Lunas, raw) if !raw.is_empty() => PaymentMethod::parse(raw).ok_or_else(|| {
            bad(
                line,
                "invalid_payment_method",
                format!("order {id}: unknown payment method {raw:?}"),
            )
        })?,
        (_, raw) => method_of(raw),
    };
    let phone_raw = c.get(first, n.phone);
    let name_raw = c.get(first, n.name);
    let name = if name_raw.is_empty() {
        "Pembeli".to_owned()
    } else {
        name_raw.chars().take(100).collect()
    };
    let buyer = if phone_raw.is_empty() || is_masked(phone_raw) {
        let identity = if name_raw.is_empty() {
            phone_raw
        } else {
            name_raw
        };
        if identity.is_empty() {
            return Err(bad(
                line,
                "missing_buyer",
                format!("order {id} names no buyer"),
            ));
        }
        ImportedBuyer::Anonymous(identity.chars().take(100).collect())
    } else {
        ImportedBuyer::Known(Phone::parse(phone_raw).map_err(|_| {
            bad(
                line,
                "invalid_phone",
                format!("order {id}: {phone_raw:?} is not a phone number"),
            )
        })?)
    };
    let mut lines = Vec::with_capacity(rows.len());
    for &(line, row) in rows {
        let product = c.get(row, n.product);
        if product.is_empty() {
            return Err(bad(
                line,
                "missing_product",
                format!("order {id} has a line without a product"),
            ));
        }
        let qty_raw = c.get(row, n.qty);
        let qty = qty_raw
            .parse::<i64>()
            .ok()
            .filter(|q| (1..=crate::order::QUANTITY_MAX).contains(q))
            .ok_or_else(|| {
                bad(
                    line,
                    "invalid_quantity",
                    format!("order {id}: quantity {qty_raw:?} is not a whole number from 1"),
                )
            })?;
        let price_raw = c.get(row, n.price);
        let price = match parse_amount(price_raw) {
            Some(p) if p >= 0 => p,
            Some(_) => {
                return Err(bad(
                    line,
                    "negative_amount",
                    format!("order {id}: price {price_raw} is negative"),
                ));
            }
            None if price_raw.is_empty() && format != Format::Lunas => 0,
            None => {
                return Err(bad(
                    line,
                    "invalid_amount",
                    format!("order {id}: price {price_raw:?} is not an amount"),
                ));
            }
        };
        let unit_price = Money::price(price).map_err(|_| {
            bad(
                line,
                "invalid_amount",
                format!("order {id}: price {price_raw:?} is out of range"),
            )
        })?;
        let sku = Some(c.get(row, n.sku))
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        lines.push(ImportedLine {
            sku,
            name: product.chars().take(200).collect(),
            qty,
            unit_price,
        });
    }
    let items_total: i64 = lines
        .iter()
        .map(|l| l.unit_price.minor_units() * l.qty)
        .sum();
    let total_raw = c.get(first, n.total);
    let total = match parse_amount(total_raw) {
        Some(t) if t < 0 => {
            return Err(bad(
                line,
                "negative_amount",
                format!("order {id}: total {total_raw} is negative"),
            ));
        }
        Some(t) if t > 0 => t,
        _ => items_total,
    };
    let total = Money::price(total)
        .ok()
        .filter(|t| t.minor_units() > 0)
        .ok_or_else(|| {
            bad(
                line,
                "invalid_amount",
                format!("order {id}: the total is zero or out of range"),
            )
        })?;
    let shipping_raw = c.get(first, n.shipping);
    let shipping = match parse_amount(shipping_raw) {
        None if shipping_raw.is_empty() => None,
        Some(s) if s >= 0 => Money::price(s).ok(),
        _ => {
            return Err(bad(
                line,
                "invalid_amount",
                format!("order {id}: shipping {shipping_raw:?} is not an amount"),
            ));
        }
    };
    Ok(Some(ImportedOrder {
        external_id: id.to_owned(),
        line,
        buyer,
        name,
        placed_at,
        paid_at: if ending == Ending::Paid {
            paid_at.or(ended_at).or(Some(placed_at))
        } else {
            paid_at
        },
        ended_at,
        ending,
        method,
        lines,
        total,
        shipping,
    }))
}

/// The SKU an imported line's product is kept under: the file's own when it is a valid SKU, else
/// `IMP-` and the first 40 bits of the SHA-256 of the product's name (the same name, the same
/// SKU, in every import).
pub fn sku_for(line: &ImportedLine) -> crate::Sku {
    if let Some(sku) = line.sku.as_deref().and_then(|s| crate::Sku::parse(s).ok()) {
        return sku;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(line.name.trim().to_lowercase().as_bytes());
    let hex: String = digest[..5].iter().map(|b| format!("{b:02X}")).collect();
    crate::Sku::parse(&format!("IMP-{hex}")).expect("IMP- and hex digits make a SKU")
}

/// The phone column of an anonymous buyer's row: not a number, so no message can reach it, and
/// one row per identity and source.
pub fn anonymous_key(format: Format, identity: &str) -> String {
    format!(
        "anon:{}:{}",
        format.actor().trim_start_matches("import:"),
        identity.trim().to_lowercase()
    )
}

/// The source named in an anonymous buyer's key (`shopee`, `tiktok`, `csv`), if it is one.
pub fn anonymous_source(stored_phone: &str) -> Option<&str> {
    stored_phone.strip_prefix("anon:")?.split(':').next()
}
