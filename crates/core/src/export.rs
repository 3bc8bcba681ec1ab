//! Orders as a CSV file a seller opens in a spreadsheet: one row per order, amounts in rupiah as
//! whole numbers, times in the store's zone.
//!
//! Every text cell that a spreadsheet would read as a formula (one starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return: a buyer named `=HYPERLINK(…)`) is written with a leading `'`,
//! as OWASP's CSV-injection advice says, so opening the file never runs anything.

use crate::messages::Language;
use crate::{Order, Timestamp};

/// Most orders one export holds; a longer range is refused, to be asked for in parts.
pub const EXPORT_ORDERS_MAX: usize = 50_000;

/// The columns, in the member's language.
fn header(language: Language) -> [&'static str; 20] {
    match language {
        Language::Indonesian => [
            "no_pesanan",
            "dipesan",
            "status",
            "nama_pembeli",
            "hp_pembeli",
            "cara_bayar",
            "barang",
            "jumlah_barang",
            "harga_barang",
            "ongkir",
            "diskon",
            "total",
            "kode_unik",
            "harus_dibayar",
            "sudah_dibayar",
            "dihapuskan",
            "batas_bayar",
            "kota",
            "provinsi",
            "kode_pos",
        ],
        Language::English => [
            "order_id",
            "placed_at",
            "status",
            "buyer_name",
            "buyer_phone",
            "payment_method",
            "items",
            "units",
            "items_total",
            "shipping_cost",
            "discount",
            "total",
            "unique_code",
            "amount_due",
            "amount_paid",
            "written_off",
            "pay_by",
            "city",
            "province",
            "postcode",
        ],
    }
}

/// A text cell a spreadsheet will not read as a formula.
pub fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// Rows as CSV, every cell made safe for a spreadsheet (the first row is the header).
pub fn csv_rows(rows: &[Vec<String>]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(row.iter().map(|cell| safe_cell(cell)))
            .expect("writing to memory cannot fail");
    }
    String::from_utf8(out.into_inner().expect("writing to memory cannot fail"))
        .expect("every cell is UTF-8")
}

/// `orders` as CSV with a header row, times in `tz` (`2026-12-06 14:05`).
pub fn orders_csv(orders: &[Order], tz: &jiff::tz::TimeZone, language: Language) -> String {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(orders.len() * 200 + 256));
    out.write_record(header(language))
        .expect("writing to memory cannot fail");
    let when = |at: Timestamp| {
        at.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    for order in orders {
        let items = order
            .items
            .iter()
            .map(|i| format!("{} x{}", i.name, i.qty.units()))
            .collect::<Vec<_>>()
            .join("; ");
        let units: i64 = order.items.iter().map(|i| i.qty.units()).sum();
        let address = order.address.as_ref();
        let record: [String; 20] = [
            order.id.0.to_string(),
            when(order.placed_at),
            order.status.as_str().to_owned(),
            safe_cell(&order.customer.name),
            safe_cell(order.customer.phone.as_str()),
            order.payment_method.as_str().to_owned(),
            safe_cell(&items),
            units.to_string(),
            order.items_total().minor_units().to_string(),
            order.shipping_cost.minor_units().to_string(),
            order.discount.minor_units().to_string(),
            order.total.minor_units().to_string(),
            order.unique_code.map(|c| c.to_string()).unwrap_or_default(),
            order.amount_due.minor_units().to_string(),
            order.amount_paid.minor_units().to_string(),
            order.written_off.minor_units().to_string(),
            order.pay_by.map(when).unwrap_or_default(),
            address.map(|a| safe_cell(&a.city)).unwrap_or_default(),
            address.map(|a| safe_cell(&a.province)).unwrap_or_default(),
            address.and_then(|a| a.postcode.clone()).unwrap_or_default(),
        ];
        out.write_record(&record)
            .expect("writing to memory cannot fail");
    }
    String::from_utf8(out.into_inner().expect("writing to memory cannot fail"))
        .expect("every cell is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text() {
        for (typed, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+62812", "'+62812"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Sari Wulandari", "Sari Wulandari"),
            ("", ""),
        ] {
            assert_eq!(safe_cell(typed), written, "{typed:?}");
        }
    }

    #[test]
    fn an_order_is_one_row_in_the_stores_time() {
        let mut order = crate::messages::sample_order();
        order.customer.name = "=cmd|' /C calc'!A0".into();
        let tz = jiff::tz::TimeZone::get("Asia/Jakarta").unwrap();
        let csv = orders_csv(&[order], &tz, Language::Indonesian);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("no_pesanan,dipesan,status")
        );
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("1042,2026-11-22 10:00,awaiting_payment,'=cmd|"),
            "{row}"
        );
        assert!(row.contains(",'+6281234567890,"), "{row}");
        assert!(row.contains("Gamis Rayon Hitam x1"), "{row}");
        assert!(row.contains(",150000,0,0,150000,237,150237,0,0,"), "{row}");
        assert_eq!(lines.next(), None);
    }
}
