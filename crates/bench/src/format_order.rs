//! Reading a pasted format order against a catalogue of 5,000 products: each read timed, its p99
//! against the 2 ms bound, and how many of the lines found the product they were written from.

use std::time::Instant;

use lunas_core::Sku;
use lunas_core::format_order::{Catalogue, read};

/// The p99 a read must stay under.
const P99_MS_MAX: f64 = 2.0;

const KINDS: &[&str] = &[
    "Gamis", "Kaos", "Kemeja", "Celana", "Kerudung", "Pashmina", "Tas", "Dompet", "Sepatu",
    "Sandal", "Jaket", "Rok", "Mukena", "Sarung", "Daster", "Cardigan", "Blouse", "Tunik",
    "Hoodie", "Sweater",
];
const MATERIALS: &[&str] = &[
    "Rayon", "Katun", "Voal", "Ceruty", "Kulit", "Denim", "Linen", "Satin", "Jersey", "Wolfis",
];
const COLOURS: &[&str] = &[
    "Hitam", "Putih", "Navy", "Mocca", "Maroon", "Abu", "Coklat", "Hijau", "Merah", "Biru",
];
const SIZES: &[&str] = &["S", "M", "L", "XL", "XXL"];

/// A small deterministic generator (SplitMix64), so every run reads the same messages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The catalogue: `products` names of kind, material, colour and size, each its own SKU.
fn catalogue(products: usize) -> Vec<(Sku, String)> {
    let mut out = Vec::with_capacity(products);
    'all: for kind in KINDS {
        for material in MATERIALS {
            for colour in COLOURS {
                for size in SIZES {
                    if out.len() == products {
                        break 'all;
                    }
                    let sku = Sku::parse(&format!("P{:05}", out.len() + 1)).expect("a SKU");
                    out.push((sku, format!("{kind} {material} {colour} {size}")));
                }
            }
        }
    }
    out
}

/// A product as a buyer writes it: lower case, words moved, a letter dropped, "uk" before the
/// size, or the SKU itself.
fn as_written(rng: &mut Rng, sku: &Sku, name: &str) -> String {
    let words: Vec<&str> = name.split(' ').collect();
    match rng.below(6) {
        0 => sku.as_str().to_lowercase(),
        1 => name.to_lowercase(),
        2 => format!("{} {} {} uk {}", words[0], words[2], words[1], words[3]).to_lowercase(),
        3 => {
            // A letter dropped from the material.
            let material = words[1];
            let cut = 1 + rng.below(material.len() - 2);
            format!(
                "{} {}{} {} {}",
                words[0],
                &material[..cut],
                &material[cut + 1..],
                words[2],
                words[3]
            )
        }
        4 => {
            format!("{} {} size {}", words[0], words[2], words[3]).to_lowercase()
                + &format!(" {}", words[1].to_lowercase())
        }
        _ => name.to_uppercase(),
    }
}

fn message(rng: &mut Rng, products: &[(Sku, String)]) -> (String, Vec<Sku>) {
    let lines = 1 + rng.below(3);
    let mut wanted = Vec::new();
    let mut order = String::new();
    for _ in 0..lines {
        let (sku, name) = &products[rng.below(products.len())];
        let written = as_written(rng, sku, name);
        let qty = 1 + rng.below(4);
        let line = match rng.below(4) {
            0 => format!("- {written} {qty} pcs\n"),
            1 => format!("• {qty}x {written}\n"),
            2 => format!("{written} x{qty}\n"),
            _ => format!("{written} ({qty})\n"),
        };
        order.push_str(&line);
        wanted.push(sku.clone());
    }
    let text = format!(
        "*FORMAT ORDER*\nNama : Pembeli {n}\nNo HP/WA : 0812-{a:04}-{b:04}\nAlamat : Jl. Melati No. {n}, Kel. Sukamaju, Kec. Cilodong, Kota Depok, Jawa Barat 16415\nPesanan :\n{order}Ongkir : 18rb\nPembayaran : {method}\n",
        n = rng.below(500) + 1,
        a = rng.below(10_000),
        b = rng.below(10_000),
        method = ["TF BCA", "COD", "transfer", "QRIS"][rng.below(4)],
    );
    (text, wanted)
}

pub(crate) fn run(products: usize, messages: usize) -> anyhow::Result<()> {
    println!("== bench format-order ({})", crate::machine());
    let products = catalogue(products);
    let started = Instant::now();
    let index = Catalogue::new(products.clone());
    let index_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "catalogue of {} products indexed in {index_ms:.1} ms (kept by the engine between reads)",
        index.len()
    );
    let mut rng = Rng(0x1a2b_3c4d);
    let cases: Vec<(String, Vec<Sku>)> = (0..messages)
        .map(|_| message(&mut rng, &products))
        .collect();
    // Warm up the caches and the lazily built patterns.
    for (text, _) in cases.iter().take(50) {
        std::hint::black_box(read(text, &index));
    }
    let mut times_ms = Vec::with_capacity(cases.len());
    let (mut lines, mut right) = (0usize, 0usize);
    for (text, wanted) in &cases {
        let started = Instant::now();
        let draft = std::hint::black_box(read(text, &index));
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        lines += wanted.len();
        right += draft
            .items
            .iter()
            .zip(wanted)
            .filter(|(item, sku)| item.sku.as_ref() == Some(*sku))
            .count();
    }
    times_ms.sort_by(f64::total_cmp);
    let at = |q: f64| times_ms[((times_ms.len() as f64 * q) as usize).min(times_ms.len() - 1)];
    let p99 = at(0.99);
    println!(
        "{} format orders ({} product lines): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times_ms.len(),
        lines,
        at(0.5),
        p99,
        times_ms.last().copied().unwrap_or(0.0)
    );
    println!(
        "lines read as the product they were written from: {right}/{lines} ({:.1} %)",
        100.0 * right as f64 / lines.max(1) as f64
    );
    println!(
        "p99 / bound ({P99_MS_MAX} ms): ratio {:.2} (under 1.0 holds)",
        p99 / P99_MS_MAX
    );
    Ok(())
}
