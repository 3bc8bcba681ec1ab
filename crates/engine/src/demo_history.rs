//! The demo store's past year, so that a newcomer's Analitik page has something to say: about a
//! thousand orders of 160 buyers — loyal ones, one-time ones, and a few who order and never pay —
//! written as the two files a seller would import (a Shopee Seller Centre export and lunas's own
//! CSV columns) and imported through `Engine::import_orders`, as a seller's history would be.
//! Deterministic: the same demo every time.

use jiff::SignedDuration;
use lunas_core::Timestamp;

/// The products of the history: SKU, name, price (the demo's own catalogue).
const SOLD: &[(&str, &str, i64)] = &[
    (
        "GAMIS-RAYON-HTM",
        "Gamis Syar'i Rayon Premium - Hitam",
        189_000,
    ),
    ("KRD-VOAL-MTF", "Kerudung Segi Empat Voal Motif", 65_000),
    (
        "BATIK-PRIA-L",
        "Kemeja Batik Pria Lengan Panjang (L)",
        145_000,
    ),
    ("SAMBAL-ROA-200", "Sambal Roa Khas Manado 200 g", 45_000),
    ("KOPI-GAYO-250", "Kopi Arabika Gayo 250 g", 85_000),
    ("SERUM-NIA-20", "Serum Niacinamide 10% 20 ml", 79_000),
];

const FIRST_NAMES: &[&str] = &[
    "Siti", "Dewi", "Putri", "Ayu", "Rina", "Wulan", "Indah", "Fitri", "Nur", "Ratna", "Budi",
    "Andi", "Rizky", "Fajar", "Yusuf", "Hendra", "Bayu", "Eko", "Wahyu", "Dian",
];
const LAST_NAMES: &[&str] = &[
    "Lestari",
    "Rahayu",
    "Saputra",
    "Wijaya",
    "Hidayat",
    "Kurniawan",
    "Susanti",
    "Pratiwi",
    "Nugroho",
    "Permata",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The history as two tables (Shopee's export, then lunas's CSV), each with its header, placed
/// in the year before `until` (times in Jakarta).
pub(crate) fn tables(until: Timestamp) -> [Vec<Vec<String>>; 2] {
    let tz = jiff::tz::TimeZone::get("Asia/Jakarta").unwrap_or(jiff::tz::TimeZone::UTC);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let shopee_header = [
        "No. Pesanan",
        "Status Pesanan",
        "Alasan Pembatalan",
        "Waktu Pesanan Dibuat",
        "Waktu Pembayaran Dilakukan",
        "Metode Pembayaran",
        "Nama Produk",
        "Nomor Referensi SKU",
        "Harga Setelah Diskon",
        "Jumlah",
        "Total Pembayaran",
        "Username (Pembeli)",
        "No. Telepon",
        "Ongkos Kirim Dibayar oleh Pembeli",
    ];
    let lunas_header = [
        "order_id",
        "placed_at",
        "status",
        "phone",
        "name",
        "sku",
        "product",
        "qty",
        "unit_price",
        "payment_method",
        "paid_at",
        "ended_at",
        "shipping_cost",
    ];
    let row = |cells: &[&str]| {
        cells
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<Vec<String>>()
    };
    let mut shopee = vec![row(&shopee_header)];
    let mut lunas = vec![row(&lunas_header)];
    let when = |at: Timestamp| {
        at.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut number = 0u64;
    for buyer in 0..160u64 {
        let name = format!(
            "{} {}",
            FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize],
            LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize]
        );
        let phone = format!("0812{:08}", 77_000_000 + buyer * 37);
        // Loyal (a fifth) buy every few weeks; regulars every few months; the rest once.
        let (gap_days, repeats) = match rng.below(10) {
            0 | 1 => (12 + rng.below(20), 4 + rng.below(10)),
            2..=5 => (45 + rng.below(60), 1 + rng.below(3)),
            _ => (0, 0),
        };
        // Some buyers order and rarely pay: the hit-and-run kind.
        let pays = if rng.chance(15) { 35 } else { 93 };
        let on_shopee = rng.chance(45);
        let mut at = until - SignedDuration::from_hours(24 * (3 + rng.below(360) as i64));
        for _ in 0..=repeats {
            if at >= until - SignedDuration::from_hours(24) {
                break;
            }
            number += 1;
            let (sku, product, price) = SOLD[rng.below(SOLD.len() as u64) as usize];
            let qty = 1 + rng.below(2);
            let method = match rng.below(20) {
                0..=9 => "bank_transfer",
                10..=13 => "ewallet",
                14..=16 => "qris",
                _ => "cod",
            };
            let paid = rng.chance(pays);
            let pay_minutes =
                [4, 15, 40, 90, 200, 420, 900, 1_400][rng.below(8) as usize] + rng.below(30) as i64;
            let paid_at = paid.then(|| at + SignedDuration::from_mins(pay_minutes));
            let status = match (paid, method, rng.below(10)) {
                (true, _, _) => "paid",
                (false, "cod", 0..=6) => "cod_refused",
                (false, _, 0..=1) => "cancelled_by_buyer",
                (false, _, _) => "expired",
            };
            let ended = paid_at.unwrap_or(at + SignedDuration::from_hours(24));
            let shipping = [9_000, 12_000, 18_000, 24_000][rng.below(4) as usize];
            let total = price * qty as i64 + shipping;
            if on_shopee && method != "qris" {
                let (shopee_status, reason) = match status {
                    "paid" => ("Selesai", ""),
                    "cod_refused" => ("Pengembalian Dana/Barang", ""),
                    "cancelled_by_buyer" => ("Batal", "Dibatalkan oleh Pembeli"),
                    _ => (
                        "Batal",
                        "Dibatalkan otomatis oleh sistem. Pembeli belum bayar",
                    ),
                };
                let shopee_method = match method {
                    "ewallet" => "ShopeePay",
                    "cod" => "COD (Bayar di Tempat)",
                    _ => "Transfer Bank",
                };
                let masked = format!("******{}", &phone[phone.len() - 4..]);
                shopee.push(vec![
                    format!("24{number:06}SHP"),
                    shopee_status.to_owned(),
                    reason.to_owned(),
                    when(at),
                    paid_at.map(when).unwrap_or_default(),
                    shopee_method.to_owned(),
                    product.to_owned(),
                    sku.to_owned(),
                    price.to_string(),
                    qty.to_string(),
                    total.to_string(),
                    format!("{}{buyer}", name.to_lowercase().replace(' ', "_")),
                    // Shopee masks most buyers' numbers.
                    if rng.chance(70) {
                        masked
                    } else {
                        phone.clone()
                    },
                    shipping.to_string(),
                ]);
            } else {
                lunas.push(vec![
                    format!("RZ-{number:05}"),
                    when(at),
                    status.to_owned(),
                    phone.clone(),
                    name.clone(),
                    sku.to_owned(),
                    product.to_owned(),
                    qty.to_string(),
                    price.to_string(),
                    method.to_owned(),
                    paid_at.map(when).unwrap_or_default(),
                    when(ended),
                    shipping.to_string(),
                ]);
            }
            if gap_days == 0 {
                break;
            }
            at += SignedDuration::from_hours(24 * (gap_days / 2 + rng.below(gap_days)) as i64)
                + SignedDuration::from_mins(rng.below(600) as i64);
        }
    }
    [shopee, lunas]
}
