//! One line of a format order: its label and value, and what a value says (a name, a number, a
//! quantity, an amount, a payment method, the products it lists).

use std::sync::LazyLock;

use regex::Regex;

use super::address::postcode_in;
use super::catalogue::{Catalogue, normalise};
use crate::{Money, PaymentMethod, Phone};

/// What a labelled line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Name,
    Phone,
    Address,
    Kelurahan,
    Kecamatan,
    City,
    Province,
    Postcode,
    Item,
    Qty,
    Variant,
    Shipping,
    Payment,
    Note,
}

/// The labels buyers write, lower case, each with its field; longer ones are tried first.
pub(super) const LABELS: &[(&str, Field)] = &[
    ("nama lengkap", Field::Name),
    ("nama penerima", Field::Name),
    ("nama pemesan", Field::Name),
    ("atas nama", Field::Name),
    ("penerima", Field::Name),
    ("nama", Field::Name),
    ("name", Field::Name),
    ("no hp/wa", Field::Phone),
    ("no.hp", Field::Phone),
    ("no.wa", Field::Phone),
    ("no.telp", Field::Phone),
    ("no", Field::Phone),
    ("no. hp/wa", Field::Phone),
    ("hp/wa", Field::Phone),
    ("no hp", Field::Phone),
    ("no. hp", Field::Phone),
    ("nomor hp", Field::Phone),
    ("nomor wa", Field::Phone),
    ("no wa", Field::Phone),
    ("no. wa", Field::Phone),
    ("no telp", Field::Phone),
    ("no. telp", Field::Phone),
    ("no tlp", Field::Phone),
    ("telepon", Field::Phone),
    ("telp", Field::Phone),
    ("whatsapp", Field::Phone),
    ("handphone", Field::Phone),
    ("nomor", Field::Phone),
    ("hp", Field::Phone),
    ("wa", Field::Phone),
    ("phone", Field::Phone),
    ("alamat lengkap", Field::Address),
    ("alamat pengiriman", Field::Address),
    ("alamat kirim", Field::Address),
    ("alamat", Field::Address),
    ("address", Field::Address),
    ("kelurahan", Field::Kelurahan),
    ("kel", Field::Kelurahan),
    ("desa", Field::Kelurahan),
    ("kecamatan", Field::Kecamatan),
    ("kec", Field::Kecamatan),
    ("kota/kabupaten", Field::City),
    ("kota/kab", Field::City),
    ("kabupaten", Field::City),
    ("kab", Field::City),
    ("kota", Field::City),
    ("provinsi", Field::Province),
    ("prov", Field::Province),
    ("kode pos", Field::Postcode),
    ("kodepos", Field::Postcode),
    ("kd pos", Field::Postcode),
    ("nama barang", Field::Item),
    ("nama produk", Field::Item),
    ("detail pesanan", Field::Item),
    ("pesanan", Field::Item),
    ("orderan", Field::Item),
    ("order", Field::Item),
    ("produk", Field::Item),
    ("barang", Field::Item),
    ("item", Field::Item),
    ("pesan", Field::Item),
    ("jumlah pesanan", Field::Qty),
    ("jumlah", Field::Qty),
    ("jml", Field::Qty),
    ("qty", Field::Qty),
    ("quantity", Field::Qty),
    ("ukuran", Field::Variant),
    ("size", Field::Variant),
    ("warna", Field::Variant),
    ("varian", Field::Variant),
    ("variant", Field::Variant),
    ("ongkos kirim", Field::Shipping),
    ("ongkir", Field::Shipping),
    ("metode pembayaran", Field::Payment),
    ("metode bayar", Field::Payment),
    ("cara bayar", Field::Payment),
    ("pembayaran", Field::Payment),
    ("payment", Field::Payment),
    ("bayar", Field::Payment),
    ("catatan", Field::Note),
    ("keterangan", Field::Note),
    ("note", Field::Note),
];

/// A line without its bullet, emoji, numbering or markdown stars.
pub(super) fn strip_bullet(line: &str) -> &str {
    let line = line.trim();
    let line = line.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '(');
    // "1. Nama: …" or "1) …", not "2 pcs gamis" or "0812…".
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    let line = if (1..=2).contains(&digits)
        && matches!(line[digits..].chars().next(), Some('.' | ')'))
        && line[digits + 1..].starts_with(' ')
    {
        line[digits + 1..].trim_start_matches(|c: char| !c.is_alphanumeric() && c != '+')
    } else {
        line
    };
    line.trim_end_matches(['*', '_', '~']).trim()
}

/// Headings and greetings: nothing to place. A line is one when every word of it is a word of
/// greeting or heading ("Halo kak, saya mau order ya", "*FORMAT ORDER*", "Terima kasih kak 🙏").
pub(super) fn is_decoration(line: &str) -> bool {
    const WORDS: &[&str] = &[
        "halo",
        "hallo",
        "hai",
        "hi",
        "hei",
        "kak",
        "kakak",
        "min",
        "admin",
        "sis",
        "gan",
        "bund",
        "bunda",
        "permisi",
        "saya",
        "aku",
        "mau",
        "ingin",
        "order",
        "orderan",
        "pesan",
        "pesanan",
        "ya",
        "yaa",
        "dong",
        "nih",
        "ini",
        "selamat",
        "pagi",
        "siang",
        "sore",
        "malam",
        "ok",
        "oke",
        "okay",
        "sudah",
        "udah",
        "data",
        "pembeli",
        "pemesan",
        "penerima",
        "detail",
        "ditunggu",
        "terima",
        "kasih",
        "terimakasih",
        "makasih",
        "thanks",
        "thank",
        "you",
        "format",
        "berikut",
        "sebagai",
        "assalamualaikum",
        "wr",
        "wb",
        "mohon",
        "diproses",
        "tolong",
        "dicek",
        "kirim",
    ];
    let mut words = line
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .peekable();
    words.peek().is_none() || words.all(|w| WORDS.contains(&w.as_str()))
}

/// The field and value of a labelled line: a known label, then `:`, `=`, `-` or `.` (or only a
/// space, where the value says what it is).
pub(super) fn labelled(line: &str) -> Option<(Field, &str)> {
    static SORTED: LazyLock<Vec<(&'static str, Field)>> = LazyLock::new(|| {
        let mut labels = LABELS.to_vec();
        labels.sort_by_key(|(label, _)| std::cmp::Reverse(label.len()));
        labels
    });
    let lower = line.to_lowercase();
    for (label, field) in SORTED.iter() {
        if !lower.starts_with(label) || !line.is_char_boundary(label.len()) {
            continue;
        }
        let rest = &line[label.len()..];
        let after = rest.trim_start();
        let Some(first) = after.chars().next() else {
            // "Alamat" or "Pesanan" alone, its value on the lines below.
            return matches!(field, Field::Address | Field::Item).then_some((*field, ""));
        };
        if rest.starts_with(|c: char| c.is_alphanumeric()) {
            // "Namaku…", "orderan" read as "order": not this label.
            continue;
        }
        if matches!(first, ':' | '=' | '-' | '–' | '.' | '>') {
            let value = after[first.len_utf8()..]
                .trim_start_matches([':', '=', '-', '–', '.', '>', ' '])
                .trim();
            return Some((*field, value));
        }
        // Only a space: a number after a phone, quantity or shipping label, or a method.
        let value = after.trim();
        let taken = match field {
            Field::Phone => phone_in(value).is_some(),
            Field::Qty => qty_in(value).is_some(),
            Field::Shipping => rupiah_in(value).is_some(),
            Field::Payment => method_in(value).is_some(),
            Field::Postcode => postcode_in(value).is_some(),
            _ => false,
        };
        if taken {
            return Some((*field, value));
        }
    }
    None
}

pub(super) fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A buyer's name as they wrote it, without the honorific they may have put before it.
pub(super) fn tidy_name(value: &str) -> String {
    let value = value.trim();
    let lower = value.to_lowercase();
    for title in [
        "kak ", "ibu ", "bu ", "bapak ", "pak ", "mbak ", "mas ", "sis ", "bunda ",
    ] {
        if lower.starts_with(title) && value.len() > title.len() + 1 {
            return value[title.len()..].trim().to_owned();
        }
    }
    value.to_owned()
}

/// The phone number in a value: the whole value, or the first run of digits long enough to be
/// one ("0812-3456-7890 (WA)").
pub(super) fn phone_in(value: &str) -> Option<String> {
    static RUN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\+?\(?\d[\d\s\-\.\(\)]{7,18}\d").expect("a valid pattern"));
    if let Ok(phone) = Phone::parse(value.trim()) {
        return Some(phone.as_str().to_owned());
    }
    let run = RUN.find(value)?.as_str();
    Some(match Phone::parse(run) {
        Ok(phone) => phone.as_str().to_owned(),
        Err(_) => run.to_owned(),
    })
}

/// A line that is nothing but a phone number.
pub(super) fn phone_alone(line: &str) -> Option<String> {
    let digits = line.chars().filter(|c| c.is_ascii_digit()).count();
    let other = line
        .chars()
        .filter(|c| !c.is_ascii_digit() && !" +-().".contains(*c))
        .count();
    (digits >= 9 && other == 0)
        .then(|| Phone::parse(line).ok().map(|p| p.as_str().to_owned()))
        .flatten()
}

/// A whole number of units in a value ("2", "2 pcs", "2x", "dua").
pub(super) fn qty_in(value: &str) -> Option<i64> {
    let lower = value.trim().to_lowercase();
    let digits: String = lower.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() {
        return digits
            .parse()
            .ok()
            .filter(|q| (1..=crate::order::QUANTITY_MAX).contains(q));
    }
    const WORDS: &[(&str, i64)] = &[
        ("satu", 1),
        ("dua", 2),
        ("tiga", 3),
        ("empat", 4),
        ("lima", 5),
        ("enam", 6),
        ("tujuh", 7),
        ("delapan", 8),
        ("sembilan", 9),
        ("sepuluh", 10),
    ];
    let first = lower.split_whitespace().next()?;
    WORDS.iter().find(|(w, _)| *w == first).map(|(_, n)| *n)
}

/// An amount in rupiah in a value: `18.000`, `Rp 18.000`, `18rb`, `18k`, `18 ribu`.
pub(super) fn rupiah_in(value: &str) -> Option<Money> {
    static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:rp\.?\s*)?(\d{1,3}(?:[.,]\d{3})+|\d+)(?:\s*(rb|ribu|k)\b)?")
            .expect("a valid pattern")
    });
    let lower = value.to_lowercase();
    if lower.contains("gratis") || lower.contains("free") {
        return Some(Money::ZERO);
    }
    let found = AMOUNT.captures(value)?;
    let number: i64 = found[1].replace(['.', ','], "").parse().ok()?;
    let amount = match found.get(2) {
        Some(_) => number.checked_mul(1000)?,
        None => number,
    };
    (0..=crate::shipping::SHIPPING_COST_MAX)
        .contains(&amount)
        .then(|| Money::from_stored(amount))
}

/// The payment method a value names: `TF`, `transfer`, a bank's name, `COD`, `QRIS`, an
/// e-wallet, a virtual account.
pub(super) fn method_in(value: &str) -> Option<PaymentMethod> {
    let words = normalise(value);
    let has = |w: &str| words.split(' ').any(|x| x == w);
    let has_phrase = |p: &str| format!(" {words} ").contains(&format!(" {p} "));
    if has("cod") || has_phrase("bayar di tempat") || has_phrase("bayar ditempat") {
        Some(PaymentMethod::Cod)
    } else if has("qris") || has("qr") {
        Some(PaymentMethod::Qris)
    } else if has("va") || has_phrase("virtual account") {
        Some(PaymentMethod::VirtualAccount)
    } else if [
        "ovo",
        "gopay",
        "dana",
        "shopeepay",
        "linkaja",
        "ewallet",
        "e wallet",
    ]
    .iter()
    .any(|w| has_phrase(w))
    {
        Some(PaymentMethod::Ewallet)
    } else if [
        "tf", "transfer", "trf", "bca", "bri", "bni", "mandiri", "bsi", "bank", "rekening",
    ]
    .iter()
    .any(|w| has(w))
    {
        Some(PaymentMethod::BankTransfer)
    } else {
        None
    }
}

/// A line that is only a payment method ("COD", "TF BCA ya kak").
pub(super) fn method_alone(line: &str) -> Option<PaymentMethod> {
    let words = normalise(line);
    (words.split(' ').count() <= 4)
        .then(|| method_in(line))
        .flatten()
        .filter(|_| {
            // "Transfer" alone, not a product that happens to hold a bank's name.
            !words.chars().any(|c| c.is_ascii_digit())
        })
}

/// Whether a line without a label names a product: it holds a quantity, or the catalogue knows it.
pub(super) fn looks_like_item(line: &str, catalogue: &Catalogue) -> bool {
    let (phrase, qty) = item_parts(line);
    qty.is_some() && !phrase.is_empty() || catalogue.find(&phrase).is_some()
}

/// The products a value lists: one, or several separated by `,`, `;`, `&`, `+` or `dan`. A
/// piece that is neither a product nor has a quantity ("Gamis hitam, L") stays with the one
/// before it.
pub(super) fn items_in(value: &str, catalogue: &Catalogue) -> Vec<(String, Option<i64>)> {
    static SEPARATOR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\s*(?:[,;&+/]|\bdan\b)\s*").expect("a valid pattern"));
    let mut items: Vec<(String, Option<i64>)> = Vec::new();
    for piece in SEPARATOR
        .split(value)
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (phrase, qty) = bare_quantity(item_parts(piece), catalogue);
        let stands_alone = qty.is_some() || catalogue.find(&phrase).is_some();
        match items.last_mut() {
            Some((last, last_qty)) if !stands_alone => {
                last.push(' ');
                last.push_str(piece);
                // "Gamis hitam, L 2" is "Gamis hitam L" of 2.
                let (joined, joined_qty) = item_parts(last);
                *last = joined;
                *last_qty = last_qty.or(joined_qty);
            }
            _ => items.push((phrase, qty)),
        }
    }
    items
}

/// A line without a quantity marker whose last word is a number ("Mukena bali putih 2"): the
/// number is the quantity unless it is part of the product's name ("Sepatu Sneakers Putih 40"),
/// which the catalogue decides by which reading matches better.
pub(super) fn bare_quantity(
    parts: (String, Option<i64>),
    catalogue: &Catalogue,
) -> (String, Option<i64>) {
    let (phrase, None) = parts else {
        return parts;
    };
    let Some((head, last)) = phrase.rsplit_once(' ') else {
        return (phrase, None);
    };
    let Ok(qty) = last.parse::<i64>() else {
        return (phrase, None);
    };
    if !(1..=999).contains(&qty) {
        return (phrase, None);
    }
    let score = |p: &str| catalogue.find(p).map_or(0.0, |(_, _, score)| score);
    match score(head.trim()) >= score(&phrase) && score(head.trim()) > 0.0 {
        true => (head.trim().to_owned(), Some(qty)),
        false => (phrase, None),
    }
}

/// A product line split into the product as written and its quantity: `2x Gamis`, `Gamis x2`,
/// `Gamis 2 pcs`, `Gamis (2)`, `Gamis @2`, `Gamis = 2`, `Gamis qty 2`, `Gamis - 2`.
pub(super) fn item_parts(line: &str) -> (String, Option<i64>) {
    static QTY: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            r"(?i)^\s*(\d{1,4})\s*(?:x|pcs|pc|buah|bh|biji|pack|pak|botol|btl|lusin|set|lembar|lbr|box|pasang|psg)\b\.?\s*(.+)$",
            r"(?i)^(.+?)\s*(?:\bx|\*)\s*(\d{1,4})\s*(?:pcs|pc|buah|bh)?\.?$",
            r"(?i)^(.+?)\s*[\(\[]\s*(\d{1,4})\s*(?:pcs|pc|buah|bh|x)?\s*[\)\]]\.?$",
            r"(?i)^(.+?)\s*(?:[:=@\-–]|qty|jumlah|jml|sebanyak)\s*(\d{1,4})\s*(?:pcs|pc|buah|bh|botol|btl|pack|pak|biji|lembar|set|box|pasang|psg|x)?\.?$",
            r"(?i)^(.+?)\s+(\d{1,4})\s*(?:pcs|pc|buah|bh|biji|botol|btl|pack|pak|lembar|lbr|set|box|pasang|psg|x)\.?$",
            r"(?i)^(\d{1,4})\s+(.+)$",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("a valid pattern"))
        .collect()
    });
    let line = line.trim();
    for (index, pattern) in QTY.iter().enumerate() {
        let Some(found) = pattern.captures(line) else {
            continue;
        };
        // The patterns with the number first capture it first.
        let (qty, phrase) = match index {
            0 | 5 => (&found[1], &found[2]),
            _ => (&found[2], &found[1]),
        };
        let phrase = phrase.trim().trim_end_matches([',', '-', ':']).trim();
        if let (Ok(qty), false) = (qty.parse::<i64>(), phrase.is_empty())
            && (1..=crate::order::QUANTITY_MAX).contains(&qty)
        {
            return (phrase.to_owned(), Some(qty));
        }
    }
    (line.to_owned(), None)
}
