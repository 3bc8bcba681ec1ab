//! Order history files read into orders: each format by its own header, marketplace statuses
//! into endings, masked numbers into anonymous buyers, and every bad row refused with its line.

use lunas_core::PaymentMethod;
use lunas_core::import::{
    Ending, FileError, Format, ImportedBuyer, parse_amount, parse_time, read,
};

fn jakarta() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Jakarta").unwrap()
}

fn now() -> jiff::Timestamp {
    "2026-12-06T00:00:00Z".parse().unwrap()
}

fn table(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}

#[test]
fn lunas_columns_read_with_every_ending() {
    let file = table(concat!(
        "order_id|placed_at|status|phone|name|sku|product|qty|unit_price|total|payment_method|paid_at\n",
        "A-1|2025-03-01 10:00|paid|081234567890|Sari|GAMIS-01|Gamis Hitam|1|150000|168000|bank_transfer|2025-03-01 12:30\n",
        "A-1|2025-03-01 10:00|paid|081234567890|Sari||Kerudung Voal|2|65000||bank_transfer|\n",
        "A-2|2025-03-02 09:00|expired|081298765432|Dimas||Kemeja Batik|1|145000||bank_transfer|\n",
        "A-3|2025-03-03 09:00|cod_refused|081311112222|Rina||Kopi Gayo|1|85000||cod|\n",
        "A-4|2025-03-04 09:00|cancelled_by_seller|081311112222|Rina||Kopi Gayo|1|85000||qris|\n",
        "A-5|2025-03-05 09:00|open|081311112222|Rina||Kopi Gayo|1|85000||qris|\n",
    ));
    let read = read(&file, now(), &jakarta()).unwrap();
    assert_eq!(read.errors, vec![]);
    assert_eq!(read.still_open, 1);
    assert_eq!(read.orders.len(), 4);
    let a1 = &read.orders[0];
    assert_eq!(a1.external_id, "A-1");
    assert_eq!(a1.lines.len(), 2);
    assert_eq!(a1.lines[0].sku.as_deref(), Some("GAMIS-01"));
    assert_eq!(
        a1.total.minor_units(),
        168_000,
        "the file's total wins over the lines' sum"
    );
    assert_eq!(a1.ending, Ending::Paid);
    assert_eq!(
        a1.placed_at.to_string(),
        "2025-03-01T03:00:00Z",
        "10:00 in Jakarta"
    );
    assert_eq!(a1.paid_at.unwrap().to_string(), "2025-03-01T05:30:00Z");
    assert!(matches!(&a1.buyer, ImportedBuyer::Known(p) if p.as_str() == "+6281234567890"));
    assert_eq!(read.orders[1].ending, Ending::Unpaid);
    assert_eq!(
        read.orders[1].total.minor_units(),
        145_000,
        "no total: the lines' sum"
    );
    assert_eq!(
        (read.orders[2].ending, read.orders[2].method),
        (Ending::Returned, PaymentMethod::Cod)
    );
    assert_eq!(read.orders[3].ending, Ending::CancelledBySeller);
}

#[test]
fn a_shopee_export_reads_its_statuses_and_masked_numbers() {
    let file = table(concat!(
        "No. Pesanan|Status Pesanan|Alasan Pembatalan|Waktu Pesanan Dibuat|Waktu Pembayaran Dilakukan|Metode Pembayaran|Nama Produk|Nomor Referensi SKU|Harga Setelah Diskon|Jumlah|Total Pembayaran|Username (Pembeli)|No. Telepon\n",
        "240105ABC|Selesai||2024-01-05 14:03|2024-01-05 14:10|ShopeePay|Gamis Rayon Hitam|GAMIS-01|Rp 150.000|1|Rp 161.500|sari_w|6281234567890\n",
        "240106DEF|Batal|Dibatalkan otomatis oleh sistem. Belum bayar||||Kaos Oversize|KAOS-M|89.000|2|178.000|dimas99|******7890\n",
        "240107GHI|Belum Bayar||2024-01-07 08:00||Transfer Bank|Kaos Oversize|KAOS-M|89.000|1|89.000|budi|******1111\n",
        "240108JKL|Batal|Dibatalkan oleh Pembeli|2024-01-08 08:00||COD|Kaos Oversize|KAOS-M|89.000|1|89.000|rina_k|62813*****22\n",
    ));
    let read = read(&file, now(), &jakarta()).unwrap();
    // The second order has no time of placement: refused with its line.
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert_eq!(
        (read.errors[0].line, read.errors[0].code),
        (3, "invalid_time")
    );
    assert_eq!(read.still_open, 1);
    assert_eq!(read.orders.len(), 2);
    let first = &read.orders[0];
    assert_eq!(
        (first.ending, first.method),
        (Ending::Paid, PaymentMethod::Ewallet)
    );
    assert_eq!(first.total.minor_units(), 161_500);
    assert_eq!(first.lines[0].unit_price.minor_units(), 150_000);
    let cancelled = &read.orders[1];
    assert_eq!(
        (cancelled.ending, cancelled.method),
        (Ending::CancelledByBuyer, PaymentMethod::Cod)
    );
    assert_eq!(cancelled.buyer, ImportedBuyer::Anonymous("rina_k".into()));
}

#[test]
fn a_tiktok_export_knows_rts_is_ready_to_ship() {
    let file = table(concat!(
        "Order ID|Order Status|Cancel By|Created Time|Paid Time|Payment Method|Product Name|Seller SKU|Quantity|SKU Unit Original Price|Order Amount|Buyer Username|Phone #\n",
        "576001|Completed||05/01/2024 2:03:04 PM|05/01/2024 2:05:00 PM|GoPay|Serum Niacinamide|SERUM-20|1|79000|84000|ayu.s|(+62)812*****78\n",
        "576002|RTS||06/01/2024 10:00:00 AM|06/01/2024 10:01:00 AM|DANA|Serum Niacinamide|SERUM-20|1|79000|84000|ayu.s|(+62)812*****78\n",
        "576003|Cancelled|System|07/01/2024 10:00:00 AM||Bank Transfer|Serum Niacinamide|SERUM-20|1|79000|84000|wawan|(+62)813*****11\n",
    ));
    let read = read(&file, now(), &jakarta()).unwrap();
    assert_eq!(read.errors, vec![]);
    assert_eq!(read.still_open, 1, "RTS: ready to ship, not finished");
    assert_eq!(read.orders.len(), 2);
    assert_eq!(
        read.orders[0].placed_at.to_string(),
        "2024-01-05T07:03:04Z",
        "day first, 2 PM Jakarta"
    );
    assert_eq!(read.orders[0].method, PaymentMethod::Ewallet);
    assert_eq!(
        read.orders[1].ending,
        Ending::Unpaid,
        "cancelled by the system unpaid: ran off"
    );
}

#[test]
fn bad_files_and_bad_rows_are_refused_with_reasons() {
    assert_eq!(read(&[], now(), &jakarta()), Err(FileError::Empty));
    let other = table("Invoice|Tanggal|Pembeli\nINV/1|2024-01-01|Sari");
    assert!(matches!(
        read(&other, now(), &jakarta()),
        Err(FileError::UnknownFormat(_))
    ));
    let short = table("No. Pesanan|Status Pesanan\n1|Selesai");
    match read(&short, now(), &jakarta()) {
        Err(FileError::MissingColumns { format, missing }) => {
            assert_eq!(format, "Shopee Seller Centre");
            assert!(missing.contains("Waktu Pesanan Dibuat"), "{missing}");
        }
        other => panic!("{other:?}"),
    }
    let file = table(concat!(
        "order_id|placed_at|status|phone|name|product|qty|unit_price|total\n",
        "F-1|2027-01-01 10:00|paid|081234567890|Sari|Gamis|1|150000|150000\n",
        "F-2|2025-01-01 10:00|paid|081234567890|Sari|Gamis|1|150000|-5000\n",
        "F-3|2025-01-01 10:00|paid|081234567890|Sari|Gamis|0|150000|\n",
        "F-4|2025-01-01 10:00|dibayar|081234567890|Sari|Gamis|1|150000|\n",
        "F-5|2025-01-01 10:00|paid|12|Sari|Gamis|1|150000|\n",
        "F-6|2025-01-01 10:00|paid|081234567890|Sari|Gamis|1|lima puluh|\n",
        "|2025-01-01 10:00|paid|081234567890|Sari|Gamis|1|150000|\n",
        "F-7|2025-01-01 10:00|paid|081234567890|Sari|Gamis|1|150000|\n",
    ));
    let read = read(&file, now(), &jakarta()).unwrap();
    let codes: Vec<(usize, &str)> = read.errors.iter().map(|e| (e.line, e.code)).collect();
    assert_eq!(
        codes,
        vec![
            (8, "missing_order_id"),
            (2, "future_time"),
            (3, "negative_amount"),
            (4, "invalid_quantity"),
            (5, "unknown_status"),
            (6, "invalid_phone"),
            (7, "invalid_amount"),
        ]
    );
    assert_eq!(read.orders.len(), 1);
}

#[test]
fn amounts_and_times_read_as_the_exports_write_them() {
    for (raw, value) in [
        ("150000", Some(150_000)),
        ("150.000", Some(150_000)),
        ("Rp 1.500.000", Some(1_500_000)),
        ("150000.00", Some(150_000)),
        ("150000,00", Some(150_000)),
        ("-5.000", Some(-5_000)),
        ("", None),
        ("abc", None),
    ] {
        assert_eq!(parse_amount(raw), value, "{raw}");
    }
    let tz = jakarta();
    for raw in [
        "2024-01-05 14:03:00",
        "05/01/2024 14:03",
        "05/01/2024 2:03:00 PM",
        "2024-01-05T07:03:00Z",
    ] {
        assert_eq!(
            parse_time(raw, &tz).unwrap().to_string(),
            "2024-01-05T07:03:00Z",
            "{raw}"
        );
    }
    assert_eq!(parse_time("kemarin", &tz), None);
    assert_eq!(
        Format::detect(&["Order ID".to_owned()]),
        Some(Format::Tiktok)
    );
}
