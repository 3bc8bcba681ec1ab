//! Reading a "format order": the filled template sellers ask buyers to reply with (`Nama:`,
//! `No HP:`, `Alamat:`, `Pesanan:`, `Jumlah:`, `Ongkir:`, `Pembayaran: TF/COD`), as buyers really
//! answer it — labels in any case, `HP/WA`, bullets and emoji, lines out of order, `2 pcs`, `2x`,
//! product names instead of SKUs. The result is a [`Draft`] for staff to check, never an order.
//!
//! `read` walks the lines here; `lines` reads one line (its label, a number, a quantity, a
//! method), `address` splits an address into its parts, and `catalogue` matches product names to
//! SKUs with `rapidfuzz`'s normalised Indel ratio over names normalised the same way on both
//! sides, after a word index has narrowed the catalogue to the products that share a word with
//! the line. The lines and labels are read by hand (they are a handful of words).

mod address;
mod catalogue;
mod lines;

use serde::Serialize;

use crate::{Money, PaymentMethod, Sku};
use address::{AddressParts, city_words, postcode_in, province_of};
pub use catalogue::{Catalogue, MatchedBy, NAME_SCORE_MIN, normalise};
use lines::{
    Field, is_decoration, items_in, labelled, looks_like_item, method_alone, method_in, non_empty,
    phone_alone, phone_in, qty_in, rupiah_in, strip_bullet, tidy_name,
};

/// Longest text read, in characters; a longer paste is refused at the edge.
pub const TEXT_CHARS_MAX: usize = 8000;

/// Most lines read as parts of the order; the lines after them go to `unparsed` as they are.
pub const LINES_MAX: usize = 100;

/// Most item lines a draft carries.
pub const ITEMS_MAX: usize = crate::order::ITEMS_PER_ORDER_MAX;

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

impl Draft {
    /// Whether the text gave nothing of an order: no buyer, number, address or product.
    pub fn found_nothing(&self) -> bool {
        self.items.is_empty()
            && self.customer.name.is_none()
            && self.customer.phone.is_none()
            && self.address.is_none()
    }
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

#[cfg(test)]
mod tests {
    use super::lines::item_parts;
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
