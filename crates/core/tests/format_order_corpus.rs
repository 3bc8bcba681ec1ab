//! The format-order reader against a corpus of messages as buyers send them
//! (`fixtures/format_orders.toml`): each field a seller reads counts, and the field-level F1 over
//! the whole corpus must stay at 0.95 or above. Run with `--nocapture` to see it per field.

use std::collections::BTreeMap;

use lunas_core::Sku;
use lunas_core::format_order::{Catalogue, Draft, read};

#[derive(serde::Deserialize)]
struct Corpus {
    product: Vec<Product>,
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Product {
    sku: String,
    name: String,
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    name: Option<String>,
    phone: Option<String>,
    street: Option<String>,
    kelurahan: Option<String>,
    kecamatan: Option<String>,
    city: Option<String>,
    province: Option<String>,
    postcode: Option<String>,
    #[serde(default)]
    items: Vec<(String, i64)>,
    shipping: Option<i64>,
    payment: Option<String>,
}

/// A value as compared: case, spacing and trailing punctuation aside.
fn same(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', ','])
        .to_lowercase()
}

fn expected(case: &Case) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut put = |field: &str, value: &Option<String>| {
        if let Some(value) = value {
            fields.insert(field.to_owned(), same(value));
        }
    };
    put("name", &case.name);
    put("phone", &case.phone);
    put("street", &case.street);
    put("kelurahan", &case.kelurahan);
    put("kecamatan", &case.kecamatan);
    put("city", &case.city);
    put("province", &case.province);
    put("postcode", &case.postcode);
    put("payment", &case.payment);
    put("shipping", &case.shipping.map(|s| s.to_string()));
    for (sku, qty) in &case.items {
        fields.insert(format!("item {sku}"), qty.to_string());
    }
    fields
}

fn found(draft: &Draft) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut put = |field: &str, value: Option<&str>| {
        if let Some(value) = value {
            fields.insert(field.to_owned(), same(value));
        }
    };
    put("name", draft.customer.name.as_deref());
    put("phone", draft.customer.phone.as_deref());
    if let Some(address) = &draft.address {
        put("street", address.street.as_deref());
        put("kelurahan", address.kelurahan.as_deref());
        put("kecamatan", address.kecamatan.as_deref());
        put("city", address.city.as_deref());
        put("province", address.province.as_deref());
        put("postcode", address.postcode.as_deref());
    }
    put("payment", draft.payment_method.map(|m| m.as_str()));
    put(
        "shipping",
        draft
            .shipping_cost
            .map(|s| s.minor_units().to_string())
            .as_deref(),
    );
    for item in &draft.items {
        let sku = item.sku.as_ref().map_or("(none)", Sku::as_str);
        fields.insert(format!("item {sku}"), item.qty.to_string());
    }
    fields
}

#[derive(serde::Deserialize)]
struct Holdout {
    case: Vec<Case>,
}

/// The field-level F1 of reading `cases`, printed per field kind with every miss.
fn field_f1(title: &str, cases: &[Case], catalogue: &Catalogue) -> f64 {
    // Per field kind: true positives, false positives, false negatives.
    let mut counts: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let want = expected(case);
        let got = found(&read(&case.text, catalogue));
        let kind = |field: &str| field.split(' ').next().unwrap().to_owned();
        for (field, value) in &want {
            let entry = counts.entry(kind(field)).or_default();
            match got.get(field) {
                Some(v) if v == value => entry.0 += 1,
                other => {
                    entry.2 += 1;
                    misses.push(format!(
                        "case {}: {field} wanted {value:?}, read {other:?}",
                        n + 1
                    ));
                }
            }
        }
        for (field, value) in &got {
            if want.get(field) != Some(value) {
                counts.entry(kind(field)).or_default().1 += 1;
                if !want.contains_key(field) {
                    misses.push(format!(
                        "case {}: {field} read {value:?}, not in the message",
                        n + 1
                    ));
                }
            }
        }
    }
    let f1 = |(tp, fp, fne): (u32, u32, u32)| {
        2.0 * f64::from(tp) / (2.0 * f64::from(tp) + f64::from(fp) + f64::from(fne)).max(1.0)
    };
    let total = counts
        .values()
        .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    println!("{title}: {} messages", cases.len());
    for (kind, c) in &counts {
        println!(
            "  {kind:<10} F1 {:.3}  (tp {}, fp {}, fn {})",
            f1(*c),
            c.0,
            c.1,
            c.2
        );
    }
    println!("  all fields F1 {:.3}", f1(total));
    for miss in &misses {
        println!("  {miss}");
    }
    f1(total)
}

#[test]
fn the_corpus_is_read_with_a_field_f1_of_at_least_095() {
    let corpus: Corpus =
        toml::from_str(include_str!("fixtures/format_orders.toml")).expect("the corpus reads");
    let holdout: Holdout = toml::from_str(include_str!("fixtures/format_orders_holdout.toml"))
        .expect("the held-out messages read");
    assert!(corpus.case.len() >= 60, "{} cases", corpus.case.len());
    let catalogue = Catalogue::new(
        corpus
            .product
            .iter()
            .map(|p| (Sku::parse(&p.sku).unwrap(), p.name.clone())),
    );
    let f1 = field_f1("format-order corpus", &corpus.case, &catalogue);
    // Written after the reader was tuned on the corpus, and not tuned on since: how it does on
    // shapes it has not seen. Kept as a floor against getting worse, not as a target.
    let held_out = field_f1("held-out messages", &holdout.case, &catalogue);
    assert!(f1 >= 0.95, "field F1 {f1:.3} is below 0.95");
    assert!(
        held_out >= 0.85,
        "held-out field F1 {held_out:.3} is below 0.85"
    );
}
