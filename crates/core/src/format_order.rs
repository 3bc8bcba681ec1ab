//! Reading a "format order": the filled template sellers ask buyers to reply with (`Nama:`,
//! `No HP:`, `Alamat:`, `Pesanan:`, `Jumlah:`, `Ongkir:`, `Pembayaran: TF/COD`), as buyers really
//! answer it — labels in any case, `HP/WA`, bullets and emoji, lines out of order, `2 pcs`, `2x`,
//! product names instead of SKUs. The result is a [`Draft`] for staff to check, never an order.
//!
//! The lines and labels are read here by hand (they are a handful of words); product names are
//! matched to the catalogue with `rapidfuzz`'s normalised Indel ratio over names normalised the
//! same way on both sides, after a word index has narrowed the catalogue to the products that
//! share a word with the line.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::{Money, PaymentMethod, Phone, Sku};

/// Longest text read, in characters; a longer paste is refused at the edge.
pub const TEXT_CHARS_MAX: usize = 8000;
/// Most lines read as parts of the order; the lines after them go to `unparsed` as they are.
pub const LINES_MAX: usize = 100;
/// Most item lines a draft carries.
pub const ITEMS_MAX: usize = crate::order::ITEMS_PER_ORDER_MAX;
/// Products compared in full with one line: those sharing its rarest words.
const CANDIDATES_MAX: usize = 48;
/// Largest catalogue a line that shares no word with any product is compared with whole.
const FULL_SCAN_PRODUCTS_MAX: usize = 1000;
/// How alike a line and a product name must be (0 to 1) to be taken as that product.
pub const NAME_SCORE_MIN: f64 = 0.72;

/// How a draft line found its product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The line names the SKU itself.
    Sku,
    /// The line names the product, as close as [`NAME_SCORE_MIN`] or closer.
    Name,
}

/// The products a paste is matched against, indexed once.
#[derive(Debug, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
    /// A normalised SKU (letters and digits only) → its entry.
    by_sku: HashMap<String, usize>,
    /// A word of a normalised name → the entries whose name has it.
    by_word: HashMap<String, Vec<usize>>,
}

#[derive(Debug)]
struct Entry {
    sku: Sku,
    /// Lower case, words of letters and digits separated by one space.
    name: String,
    /// The same words in sorted order, for lines that name them in another order.
    sorted: String,
    /// The words, sorted, each once.
    words: Vec<String>,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Sku => "sku",
            MatchedBy::Name => "name",
        }
    }
}

impl Catalogue {
    /// Indexes `products` (SKU and name, a variant's name with its variant).
    pub fn new(products: impl IntoIterator<Item = (Sku, String)>) -> Catalogue {
        let mut catalogue = Catalogue::default();
        for (sku, name) in products {
            let index = catalogue.entries.len();
            let name = normalise(&name);
            for word in name.split(' ').filter(|w| !w.is_empty()) {
                let list = catalogue.by_word.entry(word.to_owned()).or_default();
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
            catalogue.by_sku.insert(sku_key(sku.as_str()), index);
            let mut words: Vec<String> = name.split(' ').map(str::to_owned).collect();
            words.sort_unstable();
            words.dedup();
            catalogue.entries.push(Entry {
                sku,
                sorted: sorted_words(&name),
                words,
                name,
            });
        }
        catalogue
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The product `phrase` names: by its SKU, or by the closest name at or above
    /// [`NAME_SCORE_MIN`]; with how alike they are.
    pub fn find(&self, phrase: &str) -> Option<(&Sku, MatchedBy, f64)> {
        let key = sku_key(phrase);
        if let Some(&index) = self.by_sku.get(&key) {
            return Some((&self.entries[index].sku, MatchedBy::Sku, 1.0));
        }
        // A SKU written inside the line ("GAMIS-HTM-L 2 pcs" was cut already, "kode GAMIS-HTM-L").
        for word in phrase.split_whitespace() {
            if word.len() >= 3
                && let Some(&index) = self.by_sku.get(&sku_key(word))
            {
                return Some((&self.entries[index].sku, MatchedBy::Sku, 1.0));
            }
        }
        let name = normalise(phrase);
        let words: Vec<&str> = name.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return None;
        }
        // The products sharing the rarest words with the line, each word weighed by how few
        // names have it (a line's "hitam" says less than its "rayon"); only the best of them are
        // compared in full.
        let mut weight: HashMap<usize, f64> = HashMap::new();
        let mut phrase_words: Vec<&str> = words.clone();
        phrase_words.sort_unstable();
        phrase_words.dedup();
        for word in &phrase_words {
            if let Some(list) = self.by_word.get(*word) {
                let rarity = (self.entries.len() as f64 / list.len() as f64).ln() + 1.0;
                for &index in list {
                    *weight.entry(index).or_default() += rarity;
                }
            }
        }
        let candidates: Vec<usize> = if weight.is_empty() {
            // Every word misspelt: the whole catalogue, while it is small enough that a paste of
            // a hundred such lines stays cheap; a larger one leaves the line for staff to choose.
            if self.entries.len() > FULL_SCAN_PRODUCTS_MAX {
                return None;
            }
            (0..self.entries.len()).collect()
        } else {
            let mut ranked: Vec<(usize, f64)> = weight.into_iter().collect();
            ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(CANDIDATES_MAX);
            ranked.into_iter().map(|(index, _)| index).collect()
        };
        let sorted = sorted_words(&name);
        let mut best: Option<(usize, f64)> = None;
        for index in candidates {
            let entry = &self.entries[index];
            // The whole line against the whole name, in its order and sorted; and the words
            // both share against each side's whole, so that "kopi gayo" finds "Kopi Arabika
            // Gayo 250 gr". The shared words weigh most; the whole breaks ties between names
            // that share the same words (the closest in length wins).
            let whole = ratio(&name, &entry.name).max(ratio(&sorted, &entry.sorted));
            let score = 0.6 * shared_words_score(&phrase_words, &entry.words) + 0.4 * whole;
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((index, score));
            }
        }
        best.filter(|(_, score)| *score >= NAME_SCORE_MIN)
            .map(|(index, score)| (&self.entries[index].sku, MatchedBy::Name, score))
    }
}

/// A paste read as an order, for staff to check before placing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Draft {
    pub customer: DraftCustomer,
    pub address: Option<DraftAddress>,
    pub items: Vec<DraftItem>,
    pub payment_method: Option<PaymentMethod>,
    pub shipping_cost: Option<Money>,
    /// A note the buyer added (`Catatan:`).
    pub note: Option<String>,
    /// The lines that could not be placed, as written.
    pub unparsed: Vec<String>,
    /// How much of an order the paste gave, from 0 (nothing) to 1 (buyer, number, items all
    /// matched, address and method).
    pub confidence: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DraftCustomer {
    pub name: Option<String>,
    /// E.164 when the number reads as one; otherwise as written.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DraftAddress {
    pub street: Option<String>,
    pub kelurahan: Option<String>,
    pub kecamatan: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftItem {
    /// `None` when nothing in the catalogue matched the line.
    pub sku: Option<Sku>,
    pub qty: i64,
    pub matched_by: Option<MatchedBy>,
    /// The line as the buyer wrote the product.
    pub text: String,
}

/// What a labelled line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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
const LABELS: &[(&str, Field)] = &[
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

/// Reads `text` as an order against `catalogue`. Never fails: what it cannot place is in
/// `unparsed`.
pub fn read(text: &str, catalogue: &Catalogue) -> Draft {
    let mut draft = Draft::default();
    let mut address = AddressParts::default();
    // The field a line without a label continues: an address over several lines, or a list of
    // items under `Pesanan:`.
    let mut open: Option<Field> = None;
    // A `Jumlah:` or `Ukuran:` line names the item before it, or the next one.
    let mut pending_qty: Option<i64> = None;
    let mut pending_variant: Vec<String> = Vec::new();
    let mut raw_items: Vec<(String, Option<i64>)> = Vec::new();

    for (number, raw) in text.lines().enumerate() {
        if number >= LINES_MAX {
            if !raw.trim().is_empty() {
                draft.unparsed.push(raw.trim().to_owned());
            }
            continue;
        }
        let line = strip_bullet(raw);
        if line.is_empty() || is_decoration(line) {
            continue;
        }
        match labelled(line) {
            Some((field, value)) => {
                // The parts of an address written on lines of their own keep it open.
                let address_part = matches!(
                    field,
                    Field::Kelurahan
                        | Field::Kecamatan
                        | Field::City
                        | Field::Province
                        | Field::Postcode
                );
                if !(address_part && open == Some(Field::Address)) {
                    open = None;
                }
                match field {
                    Field::Name => {
                        if draft.customer.name.is_none() && !value.is_empty() {
                            draft.customer.name = Some(tidy_name(value));
                        }
                    }
                    Field::Phone => match phone_in(value) {
                        Some(phone) => draft.customer.phone = Some(phone),
                        None => draft.unparsed.push(raw.trim().to_owned()),
                    },
                    Field::Address => {
                        if !value.is_empty() {
                            address.lines.push(value.to_owned());
                        }
                        open = Some(Field::Address);
                    }
                    Field::Kelurahan => address.kelurahan = non_empty(value),
                    Field::Kecamatan => address.kecamatan = non_empty(value),
                    Field::City => address.city = non_empty(value).map(|c| city_words(&c)),
                    Field::Province => {
                        address.province = non_empty(value).map(|p| province_of(&p).unwrap_or(p))
                    }
                    Field::Postcode => address.postcode = postcode_in(value),
                    Field::Item => {
                        raw_items.extend(items_in(value, catalogue));
                        open = Some(Field::Item);
                    }
                    Field::Qty => match qty_in(value) {
                        Some(qty) => match raw_items.last_mut() {
                            Some((_, q @ None)) => *q = Some(qty),
                            _ => pending_qty = Some(qty),
                        },
                        None => draft.unparsed.push(raw.trim().to_owned()),
                    },
                    Field::Variant => {
                        if !value.is_empty() {
                            match raw_items.last_mut() {
                                Some((phrase, _)) => {
                                    phrase.push(' ');
                                    phrase.push_str(value);
                                }
                                None => pending_variant.push(value.to_owned()),
                            }
                        }
                    }
                    Field::Shipping => match rupiah_in(value) {
                        Some(cost) => draft.shipping_cost = Some(cost),
                        None => draft.unparsed.push(raw.trim().to_owned()),
                    },
                    Field::Payment => match method_in(value) {
                        Some(method) => draft.payment_method = Some(method),
                        None => draft.unparsed.push(raw.trim().to_owned()),
                    },
                    Field::Note => draft.note = non_empty(value),
                }
            }
            None => {
                // A line of its own: the address or the list goes on, or a number, a method or
                // a product by itself.
                if open == Some(Field::Address) && !looks_like_item(line, catalogue) {
                    address.lines.push(line.to_owned());
                } else if draft.customer.phone.is_none()
                    && let Some(phone) = phone_alone(line)
                {
                    draft.customer.phone = Some(phone);
                } else if let Some(method) = method_alone(line) {
                    draft.payment_method = Some(method);
                } else if open == Some(Field::Item) || looks_like_item(line, catalogue) {
                    raw_items.extend(items_in(line, catalogue));
                    open = Some(Field::Item);
                } else {
                    draft.unparsed.push(raw.trim().to_owned());
                }
            }
        }
    }

    for (index, (mut phrase, qty)) in raw_items.into_iter().take(ITEMS_MAX).enumerate() {
        if index == 0 && !pending_variant.is_empty() {
            phrase = format!("{phrase} {}", pending_variant.join(" "));
        }
        let qty = qty
            .or(if index == 0 { pending_qty } else { None })
            .unwrap_or(1);
        let found = catalogue.find(&phrase);
        draft.items.push(DraftItem {
            sku: found.map(|(sku, _, _)| sku.clone()),
            qty,
            matched_by: found.map(|(_, by, _)| by),
            text: phrase,
        });
    }
    draft.address = address.finish();
    draft.confidence = confidence(&draft);
    draft
}

/// How much of an order the draft holds (see [`Draft::confidence`]).
fn confidence(draft: &Draft) -> f64 {
    let mut score = 0.0;
    if draft.customer.name.is_some() {
        score += 0.15;
    }
    if draft
        .customer
        .phone
        .as_deref()
        .is_some_and(|p| p.starts_with('+'))
    {
        score += 0.2;
    }
    if !draft.items.is_empty() {
        let matched = draft.items.iter().filter(|i| i.sku.is_some()).count();
        score += 0.35 * matched as f64 / draft.items.len() as f64;
    }
    if draft.payment_method.is_some() {
        score += 0.1;
    }
    if let Some(address) = &draft.address {
        score += match (&address.street, &address.city) {
            (Some(_), Some(_)) => 0.2,
            _ => 0.1,
        };
    } else if draft.payment_method.is_some() && draft.payment_method != Some(PaymentMethod::Cod) {
        // An order picked up or sent digitally needs no address.
        score += 0.1;
    }
    let penalty = 0.05 * draft.unparsed.len() as f64;
    ((score - penalty).clamp(0.0, 1.0) * 100.0).round() / 100.0
}

/// The pieces of an address as they arrive: the `Alamat:` lines, and the parts named on lines
/// of their own.
#[derive(Default)]
struct AddressParts {
    lines: Vec<String>,
    kelurahan: Option<String>,
    kecamatan: Option<String>,
    city: Option<String>,
    province: Option<String>,
    postcode: Option<String>,
}

impl AddressParts {
    /// Splits the address lines into street, areas, province and postcode: parts named by their
    /// prefix (`Kel.`, `Kec.`, `Kab.`, `Kota`), the province and the postcode by what they are,
    /// and the unnamed parts before the province taken as city, kecamatan and kelurahan from the
    /// right, as Indonesian addresses are written.
    fn finish(mut self) -> Option<DraftAddress> {
        let joined = self.lines.join(", ");
        let mut segments: Vec<String> = Vec::new();
        for segment in joined.split([',', ';', '\n']) {
            let mut segment = segment.trim().trim_end_matches('.').trim().to_owned();
            if let Some(code) = trailing_postcode(&segment) {
                if self.postcode.is_none() {
                    self.postcode = Some(code.to_owned());
                }
                segment = segment[..segment.len() - code.len()]
                    .trim()
                    .trim_end_matches(['-', ',', '.'])
                    .trim()
                    .to_owned();
            }
            if !segment.is_empty() {
                segments.push(segment);
            }
        }
        // A province written at the end of the last part without a comma ("… kab. sumedang jawa
        // barat") is a part of its own.
        // (Only after a street or an area: "Bandar Lampung" is a city.)
        if let Some(last) = segments.last_mut()
            && province_of(last).is_none()
            && let Some((rest, province)) = trailing_province(last)
            && (looks_like_street(&rest.to_lowercase())
                || ["kab", "kota ", "kec"]
                    .iter()
                    .any(|w| rest.to_lowercase().contains(w)))
        {
            *last = rest;
            segments.push(province);
        }
        // The province is the last part that names one. A city that shares its province's name
        // (Yogyakarta, Jambi, Bengkulu…) written last with no other city is the city.
        let province_at = segments.iter().rposition(|s| province_of(s).is_some());
        let named_city = segments.iter().any(|s| {
            let lower = s.to_lowercase();
            lower.starts_with("kota ") || lower.starts_with("kab")
        });
        let province_at = province_at.filter(|&at| {
            let shared = ["yogyakarta", "jambi", "bengkulu", "gorontalo"];
            let bare = normalise(&segments[at]);
            !(shared.contains(&bare.as_str())
                && !named_city
                && self.city.is_none()
                && at + 1 == segments.len()
                && segments[..at]
                    .iter()
                    .filter(|s| province_of(s).is_none())
                    .count()
                    <= 1)
        });
        let mut street: Vec<String> = Vec::new();
        let mut unnamed: Vec<String> = Vec::new();
        for (at, segment) in segments.into_iter().enumerate() {
            let lower = segment.to_lowercase();
            if let Some(rest) = strip_any(
                &lower,
                &segment,
                &["kelurahan ", "kel. ", "kel ", "desa ", "ds. ", "ds "],
            ) {
                self.kelurahan.get_or_insert(rest);
            } else if let Some(rest) = strip_any(&lower, &segment, &["kecamatan ", "kec. ", "kec "])
            {
                self.kecamatan.get_or_insert(rest);
            } else if lower.starts_with("kota ") || lower.starts_with("kab") {
                self.city.get_or_insert(city_words(&segment));
            } else if Some(at) == province_at {
                let province = province_of(&segment).expect("the part names a province");
                self.province.get_or_insert(province);
            } else if province_of(&segment).is_some() && !street.is_empty() {
                unnamed.push(segment);
            } else if street.is_empty()
                || looks_like_street(&lower)
                || !unnamed.is_empty() && looks_like_street(&lower)
            {
                if unnamed.is_empty() {
                    street.push(segment);
                } else {
                    unnamed.push(segment);
                }
            } else {
                unnamed.push(segment);
            }
        }
        // The unnamed parts, from the right: city, kecamatan, kelurahan; anything more is street.
        let slots = [&mut self.city, &mut self.kecamatan, &mut self.kelurahan];
        let mut slot = 0;
        while let Some(part) = unnamed.pop() {
            while slot < slots.len() && slots[slot].is_some() {
                slot += 1;
            }
            if slot < slots.len() {
                *slots[slot] = Some(part);
                slot += 1;
            } else {
                unnamed.push(part);
                break;
            }
        }
        street.extend(unnamed);
        let address = DraftAddress {
            street: (!street.is_empty()).then(|| street.join(", ")),
            kelurahan: self.kelurahan,
            kecamatan: self.kecamatan,
            city: self.city,
            province: self.province,
            postcode: self.postcode,
        };
        (address != DraftAddress::default()).then_some(address)
    }
}

/// `segment` without the first of `prefixes` it starts with (compared in `lower`), as written.
fn strip_any(lower: &str, segment: &str, prefixes: &[&str]) -> Option<String> {
    prefixes
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| segment[p.len()..].trim().to_owned())
        .filter(|rest| !rest.is_empty())
}

fn looks_like_street(lower: &str) -> bool {
    static STREET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(^|\b)(jl|jln|jalan|gg|gang|rt|rw|no|blok|perum|perumahan|komplek|kompleks|komp|dusun|dsn|lorong|lr|apartemen|tower|lantai|ruko|kp|kampung)\b|\d")
            .expect("a valid pattern")
    });
    STREET.is_match(lower)
}

/// A city as written, with `Kab.` spelt out.
fn city_words(city: &str) -> String {
    let lower = city.to_lowercase();
    for short in ["kab. ", "kab "] {
        if lower.starts_with(short) {
            return format!("Kabupaten {}", city[short.len()..].trim());
        }
    }
    city.trim().to_owned()
}

/// The province a part of an address names, spelt as the government does; `None` when it names
/// none.
fn province_of(part: &str) -> Option<String> {
    const PROVINCES: &[(&str, &[&str])] = &[
        ("Aceh", &["nad", "nanggroe aceh darussalam"]),
        ("Sumatera Utara", &["sumut", "sumatra utara"]),
        ("Sumatera Barat", &["sumbar", "sumatra barat"]),
        ("Riau", &[]),
        ("Kepulauan Riau", &["kepri"]),
        ("Jambi", &[]),
        ("Sumatera Selatan", &["sumsel", "sumatra selatan"]),
        ("Kepulauan Bangka Belitung", &["babel", "bangka belitung"]),
        ("Bengkulu", &[]),
        ("Lampung", &[]),
        ("DKI Jakarta", &["jakarta", "dki"]),
        ("Jawa Barat", &["jabar", "jawa barat"]),
        ("Banten", &[]),
        ("Jawa Tengah", &["jateng"]),
        (
            "DI Yogyakarta",
            &[
                "diy",
                "yogyakarta",
                "jogja",
                "jogjakarta",
                "d.i. yogyakarta",
                "daerah istimewa yogyakarta",
            ],
        ),
        ("Jawa Timur", &["jatim"]),
        ("Bali", &[]),
        ("Nusa Tenggara Barat", &["ntb"]),
        ("Nusa Tenggara Timur", &["ntt"]),
        ("Kalimantan Barat", &["kalbar"]),
        ("Kalimantan Tengah", &["kalteng"]),
        ("Kalimantan Selatan", &["kalsel"]),
        ("Kalimantan Timur", &["kaltim"]),
        ("Kalimantan Utara", &["kaltara"]),
        ("Sulawesi Utara", &["sulut"]),
        ("Gorontalo", &[]),
        ("Sulawesi Tengah", &["sulteng"]),
        ("Sulawesi Barat", &["sulbar"]),
        ("Sulawesi Selatan", &["sulsel"]),
        ("Sulawesi Tenggara", &["sultra"]),
        ("Maluku", &[]),
        ("Maluku Utara", &["malut"]),
        ("Papua", &[]),
        ("Papua Barat", &[]),
        ("Papua Barat Daya", &[]),
        ("Papua Tengah", &[]),
        ("Papua Pegunungan", &[]),
        ("Papua Selatan", &[]),
    ];
    let key = normalise(part);
    let key = key
        .strip_prefix("provinsi ")
        .or_else(|| key.strip_prefix("prov "))
        .unwrap_or(&key);
    PROVINCES
        .iter()
        .find(|(name, aliases)| {
            normalise(name) == key || aliases.iter().any(|a| normalise(a) == key)
        })
        .map(|(name, _)| (*name).to_owned())
}

/// `part` split before a province named at its end by one to three words.
fn trailing_province(part: &str) -> Option<(String, String)> {
    let words: Vec<&str> = part.split_whitespace().collect();
    (1..=3.min(words.len().saturating_sub(1)))
        .rev()
        .find_map(|n| {
            let tail = words[words.len() - n..].join(" ");
            province_of(&tail).map(|_| (words[..words.len() - n].join(" "), tail))
        })
}

/// The five-digit postcode at the end of `segment`, if any.
fn trailing_postcode(segment: &str) -> Option<&str> {
    let word = segment.rsplit([' ', ',', '-']).next()?;
    crate::shipping::is_postcode(word).then_some(word)
}

fn postcode_in(value: &str) -> Option<String> {
    value
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| crate::shipping::is_postcode(w))
        .map(str::to_owned)
}

/// A line without its bullet, emoji, numbering or markdown stars.
fn strip_bullet(line: &str) -> &str {
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
fn is_decoration(line: &str) -> bool {
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
fn labelled(line: &str) -> Option<(Field, &str)> {
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

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A buyer's name as they wrote it, without the honorific they may have put before it.
fn tidy_name(value: &str) -> String {
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
fn phone_in(value: &str) -> Option<String> {
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
fn phone_alone(line: &str) -> Option<String> {
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
fn qty_in(value: &str) -> Option<i64> {
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
fn rupiah_in(value: &str) -> Option<Money> {
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
fn method_in(value: &str) -> Option<PaymentMethod> {
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
fn method_alone(line: &str) -> Option<PaymentMethod> {
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
fn looks_like_item(line: &str, catalogue: &Catalogue) -> bool {
    let (phrase, qty) = item_parts(line);
    qty.is_some() && !phrase.is_empty() || catalogue.find(&phrase).is_some()
}

/// The products a value lists: one, or several separated by `,`, `;`, `&`, `+` or `dan`. A
/// piece that is neither a product nor has a quantity ("Gamis hitam, L") stays with the one
/// before it.
fn items_in(value: &str, catalogue: &Catalogue) -> Vec<(String, Option<i64>)> {
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
fn bare_quantity(parts: (String, Option<i64>), catalogue: &Catalogue) -> (String, Option<i64>) {
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
fn item_parts(line: &str) -> (String, Option<i64>) {
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

/// Lower case, letters and digits only, words separated by one space; size letters and the
/// noise words buyers add ("uk", "ukuran", "size", "warna", "yang") dropped.
pub fn normalise(text: &str) -> String {
    const NOISE: &[&str] = &[
        "uk", "ukuran", "size", "warna", "color", "yang", "yg", "varian", "model", "motif", "isi",
        "ya", "kak", "aja", "saja", "mau", "order", "pesan", "beli",
    ];
    let mut out = String::with_capacity(text.len());
    // "250gr" is "250 gr", "20ml" is "20 ml": a number and its unit are two words.
    let mut spaced = String::with_capacity(text.len() + 8);
    let mut last: Option<char> = None;
    for c in text.chars() {
        if let Some(prev) = last
            && (prev.is_ascii_digit() && c.is_alphabetic()
                || prev.is_alphabetic() && c.is_ascii_digit())
        {
            spaced.push(' ');
        }
        spaced.push(c);
        last = Some(c);
    }
    for word in spaced
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if NOISE.contains(&word.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The token-set ratio of two sorted word lists: the words both have, compared with each side's
/// words (shared first, then its own), with `rapidfuzz`'s ratio; the best of the three.
fn shared_words_score(phrase: &[&str], name: &[String]) -> f64 {
    let shared: Vec<&str> = phrase
        .iter()
        .copied()
        .filter(|w| name.binary_search_by(|n| n.as_str().cmp(w)).is_ok())
        .collect();
    if shared.is_empty() {
        return 0.0;
    }
    let only_phrase: Vec<&str> = phrase
        .iter()
        .copied()
        .filter(|w| !shared.contains(w))
        .collect();
    let only_name: Vec<&str> = name
        .iter()
        .map(String::as_str)
        .filter(|w| !shared.contains(w))
        .collect();
    let shared_text = shared.join(" ");
    let with = |rest: &[&str]| match rest.is_empty() {
        true => shared_text.clone(),
        false => format!("{shared_text} {}", rest.join(" ")),
    };
    let (phrase_text, name_text) = (with(&only_phrase), with(&only_name));
    ratio(&shared_text, &phrase_text)
        .max(ratio(&shared_text, &name_text))
        .max(ratio(&phrase_text, &name_text))
}

/// `rapidfuzz`'s ratio (the normalised Indel similarity), from 0 to 1.
fn ratio(a: &str, b: &str) -> f64 {
    rapidfuzz::fuzz::ratio(a.chars(), b.chars())
}

fn sorted_words(normalised: &str) -> String {
    let mut words: Vec<&str> = normalised.split(' ').collect();
    words.sort_unstable();
    words.join(" ")
}

/// A SKU compared without case and punctuation: `gamis-htm-l` is `GAMIS-HTM-L` is `GAMISHTML`.
fn sku_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::new(
            [
                ("GAMIS-HTM-L", "Gamis Rayon Hitam L"),
                ("GAMIS-HTM-M", "Gamis Rayon Hitam M"),
                ("KRD-VOAL-MOCCA", "Kerudung Voal Mocca"),
            ]
            .map(|(sku, name)| (Sku::parse(sku).unwrap(), name.to_owned())),
        )
    }

    fn check_item(line: &str, expect: (&str, Option<i64>)) {
        let (phrase, qty) = item_parts(line);
        assert_eq!((phrase.as_str(), qty), expect, "{line}");
    }

    #[test]
    fn a_quantity_is_read_wherever_the_buyer_put_it() {
        check_item("2x Gamis Hitam L", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L x2", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L x 2", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L 2 pcs", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L 2pcs", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L (2)", ("Gamis Hitam L", Some(2)));
        check_item("Gamis Hitam L = 3", ("Gamis Hitam L", Some(3)));
        check_item("Gamis Hitam L - 3 pcs", ("Gamis Hitam L", Some(3)));
        check_item("3 Gamis Hitam L", ("Gamis Hitam L", Some(3)));
        check_item("Gamis Hitam L", ("Gamis Hitam L", None));
        check_item("Madu Hutan 500 gr", ("Madu Hutan 500 gr", None));
    }

    #[test]
    fn names_find_their_products_and_strangers_find_none() {
        let catalogue = catalogue();
        let sku = |phrase| {
            catalogue
                .find(phrase)
                .map(|(sku, by, _)| (sku.as_str().to_owned(), by))
        };
        assert_eq!(
            sku("gamis-htm-l"),
            Some(("GAMIS-HTM-L".into(), MatchedBy::Sku))
        );
        assert_eq!(
            sku("gamis rayon hitam uk L"),
            Some(("GAMIS-HTM-L".into(), MatchedBy::Name))
        );
        assert_eq!(
            sku("gamis hitam rayon size M"),
            Some(("GAMIS-HTM-M".into(), MatchedBy::Name))
        );
        assert_eq!(
            sku("kerudung voal moca"),
            Some(("KRD-VOAL-MOCCA".into(), MatchedBy::Name))
        );
        assert_eq!(sku("sepatu lari"), None);
    }

    #[test]
    fn an_address_on_one_line_is_split_into_its_parts() {
        let draft = read(
            "Alamat: Jl. Melati No. 12 RT 03/RW 05, Sukamaju, Cilodong, Depok, Jawa Barat 16415",
            &catalogue(),
        );
        let address = draft.address.unwrap();
        assert_eq!(
            address.street.as_deref(),
            Some("Jl. Melati No. 12 RT 03/RW 05")
        );
        assert_eq!(address.kelurahan.as_deref(), Some("Sukamaju"));
        assert_eq!(address.kecamatan.as_deref(), Some("Cilodong"));
        assert_eq!(address.city.as_deref(), Some("Depok"));
        assert_eq!(address.province.as_deref(), Some("Jawa Barat"));
        assert_eq!(address.postcode.as_deref(), Some("16415"));
    }

    #[test]
    fn nothing_recognisable_is_all_unparsed_with_no_confidence() {
        let draft = read("asdf qwerty\nzxcv 123 uiop\n🙂🙂", &catalogue());
        assert_eq!(draft.unparsed, ["asdf qwerty", "zxcv 123 uiop"]);
        assert!(draft.items.is_empty() && draft.address.is_none());
        assert_eq!(draft.confidence, 0.0);
    }
}
