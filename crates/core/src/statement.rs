//! Bank statements (mutasi rekening) as CSV: the generic layout lunas documents, and the export
//! layouts of BCA, Mandiri and BRI, told apart by their header row. Each line becomes a signed
//! amount (credit positive) with a fingerprint that identifies it across imports, so importing the
//! same statement twice records nothing twice.
//!
//! Parsing is all or nothing per line: a line that does not read is reported with its line number
//! and its reason, and the caller decides whether the rest is imported.

use std::collections::HashMap;

use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Most lines one statement may have.
pub const STATEMENT_LINES_MAX: usize = 200_000;
/// Longest description kept, in characters.
const DESCRIPTION_LEN_MAX: usize = 500;
/// Most bad lines reported one by one.
pub const LINE_ERRORS_LISTED_MAX: usize = 100;

/// Which layout a statement was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementFormat {
    /// `date,description,amount,balance`, amounts signed.
    Generic,
    /// KlikBCA / myBCA: `Tanggal Transaksi,Keterangan,Cabang,Jumlah,…,Saldo`, amounts marked CR/DB.
    Bca,
    /// Mandiri (Livin' / MCM): a date, a description, `Debit` and `Kredit` columns, `Saldo`.
    Mandiri,
    /// BRI (CMS / BRImo): `TGL_TRAN,DESK_TRAN,…,MUTASI_DEBET,MUTASI_KREDIT,SALDO_AKHIR_MUTASI`.
    Bri,
}

impl StatementFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::Generic => "generic",
            StatementFormat::Bca => "bca",
            StatementFormat::Mandiri => "mandiri",
            StatementFormat::Bri => "bri",
        }
    }
}

/// One line of money in or out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The line number in the file, from 1.
    pub line: usize,
    pub date: Date,
    pub description: String,
    /// Rupiah; a credit (money in) is positive.
    pub amount: i64,
    pub balance: Option<i64>,
    /// Identifies this line across imports of overlapping statements (hex).
    pub fingerprint: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub format: StatementFormat,
    pub lines: Vec<StatementLine>,
    /// Lines that did not read, in file order.
    pub errors: Vec<LineError>,
    /// Rows that are not transactions: blank rows, totals, pending (`PEND`) lines.
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error(
        "no header row found; the generic layout starts with date,description,amount,balance (BCA, Mandiri and BRI exports are recognised by their own headers)"
    )]
    NoHeader,
    #[error("a statement has at most {STATEMENT_LINES_MAX} lines")]
    TooManyLines,
}

/// Where each field is in a row, found from the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    format: StatementFormat,
    date: usize,
    description: usize,
    amount: Option<usize>,
    debit: Option<usize>,
    credit: Option<usize>,
    balance: Option<usize>,
}

fn normalise(cell: &str) -> String {
    cell.trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_end_matches('.')
        .trim()
        .to_lowercase()
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| names.contains(&h.as_str()))
}

fn header_columns(row: &csv::StringRecord) -> Option<Columns> {
    let headers: Vec<String> = row.iter().map(normalise).collect();
    let date = find(
        &headers,
        &[
            "date",
            "tanggal",
            "tanggal transaksi",
            "tgl",
            "tgl_tran",
            "posting date",
            "transaction date",
        ],
    )?;
    let description = find(
        &headers,
        &[
            "description",
            "keterangan",
            "rincian transaksi",
            "uraian",
            "uraian transaksi",
            "desk_tran",
            "remarks",
        ],
    )?;
    let amount = find(&headers, &["amount", "jumlah", "mutasi", "nominal"]);
    let debit = find(&headers, &["debit", "debet", "mutasi_debet"]);
    let credit = find(&headers, &["credit", "kredit", "mutasi_kredit"]);
    let balance = find(
        &headers,
        &["balance", "saldo", "saldo_akhir_mutasi", "saldo akhir"],
    );
    let format = if headers[date] == "tgl_tran" {
        StatementFormat::Bri
    } else if amount.is_some() && headers.iter().any(|h| h == "cabang" || h == "jumlah") {
        StatementFormat::Bca
    } else if amount.is_none() && debit.is_some() && credit.is_some() {
        StatementFormat::Mandiri
    } else if amount.is_some() {
        StatementFormat::Generic
    } else {
        return None;
    };
    Some(Columns {
        format,
        date,
        description,
        amount: if format == StatementFormat::Mandiri || format == StatementFormat::Bri {
            None
        } else {
            amount
        },
        debit,
        credit,
        balance,
    })
}

/// The statement period of a BCA export (`Periode : 01/11/2026 - 30/11/2026`), for dates written
/// without a year.
fn period(row: &csv::StringRecord) -> Option<(Date, Date)> {
    let text = row.iter().collect::<Vec<_>>().join(" ");
    if !text.to_lowercase().contains("periode") && !text.to_lowercase().contains("period") {
        return None;
    }
    let dates: Vec<Date> = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == ':' || c == ',')
        .filter_map(|word| parse_date(word, None).ok())
        .collect();
    match dates.as_slice() {
        [start, end, ..] => Some((*start, *end)),
        [one] => Some((*one, *one)),
        [] => None,
    }
}

const MONTHS: [[&str; 2]; 12] = [
    ["jan", "jan"],
    ["feb", "feb"],
    ["mar", "mar"],
    ["apr", "apr"],
    ["may", "mei"],
    ["jun", "jun"],
    ["jul", "jul"],
    ["aug", "agu"],
    ["sep", "sep"],
    ["oct", "okt"],
    ["nov", "nov"],
    ["dec", "des"],
];

/// `YYYY-MM-DD`, `DD/MM/YYYY`, `DD-MM-YYYY`, `DD/MM/YY`, `DD Mon YYYY` (English or Indonesian
/// month), each optionally followed by a time; `DD/MM` takes its year from the statement period.
fn parse_date(raw: &str, period: Option<(Date, Date)>) -> Result<Date, String> {
    let raw = raw.trim().trim_start_matches('\'');
    let bad = || format!("date {raw:?} is not YYYY-MM-DD or DD/MM/YYYY");
    let day_part = raw.split([' ', 'T']).next().unwrap_or(raw);
    let number = |s: &str| s.parse::<i16>().map_err(|_| bad());
    let parts: Vec<&str> = day_part.split(['-', '/', '.']).collect();
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] if y.len() == 4 => (number(y)?, number(m)?, number(d)?),
        [d, m, y] if y.len() == 4 => (number(y)?, number(m)?, number(d)?),
        [d, m, y] if y.len() == 2 => (2000 + number(y)?, number(m)?, number(d)?),
        [d, m] if d.len() <= 2 && m.len() <= 2 => {
            let (start, end) = period.ok_or_else(|| {
                format!("date {raw:?} has no year and the statement names no period")
            })?;
            let (month, day) = (number(m)?, number(d)?);
            let in_start_year =
                Date::new(start.year(), month as i8, day as i8).map_err(|_| bad())?;
            let year = if in_start_year < start {
                end.year()
            } else {
                start.year()
            };
            (year, month, day)
        }
        _ => {
            // `01 Nov 2026`, `1 Agu 2026`
            let words: Vec<&str> = raw.split_whitespace().collect();
            let [d, m, y, ..] = words.as_slice() else {
                return Err(bad());
            };
            let m = m.to_lowercase();
            let month = MONTHS
                .iter()
                .position(|names| names.iter().any(|n| m.starts_with(n)))
                .ok_or_else(bad)? as i16
                + 1;
            (number(y)?, month, number(d)?)
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Date::new(year, month as i8, day as i8).map_err(|_| bad())
}

/// A date as a mutation service or a statement writes it, without a statement period.
pub fn parse_line_date(raw: &str) -> Result<Date, String> {
    parse_date(raw, None)
}

fn amount_of(raw: &str) -> Result<i64, String> {
    crate::payments::parse_rupiah(raw)
        .ok_or_else(|| format!("amount {:?} is not a rupiah amount", raw.trim()))
}

/// A signed amount: `-50000`, `+150000`, `150,237.00 CR`, `50,000.00 DB`; `marker` is a separate
/// CR/DB cell next to it, as BCA's export has.
fn signed_amount(raw: &str, marker: Option<&str>) -> Result<i64, String> {
    let text = raw.trim();
    let upper = text.to_ascii_uppercase();
    let (number, sign) = if let Some(rest) = upper.strip_suffix("CR") {
        (rest.trim().to_owned(), 1)
    } else if let Some(rest) = upper.strip_suffix("DB") {
        (rest.trim().to_owned(), -1)
    } else if let Some(rest) = text.strip_prefix('-') {
        (rest.trim().to_owned(), -1)
    } else if let Some(rest) = text.strip_prefix('+') {
        (rest.trim().to_owned(), 1)
    } else {
        let sign = match marker.map(|m| m.trim().to_ascii_uppercase()).as_deref() {
            Some("DB") | Some("D") => -1,
            _ => 1,
        };
        (text.to_owned(), sign)
    };
    Ok(sign * amount_of(&number)?)
}

fn optional_amount(raw: Option<&str>) -> Result<Option<i64>, String> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => {
            let negative = raw.starts_with('-');
            let value = amount_of(raw.trim_start_matches(['-', '+']))?;
            Ok(Some(if negative { -value } else { value }))
        }
    }
}

fn is_summary(first: &str) -> bool {
    let first = normalise(first);
    [
        "saldo awal",
        "saldo akhir",
        "mutasi debet",
        "mutasi debit",
        "mutasi kredit",
        "total",
        "opening balance",
        "closing balance",
        "ending balance",
    ]
    .iter()
    .any(|label| first.starts_with(label))
}

fn clean_description(raw: &str) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let joined = words.join(" ");
    joined
        .chars()
        .filter(|c| !c.is_control())
        .take(DESCRIPTION_LEN_MAX)
        .collect()
}

/// A row read: its date, description, signed amount and balance.
type Transaction = (Date, String, i64, Option<i64>);

fn read_line(
    row: &csv::StringRecord,
    columns: &Columns,
    period: Option<(Date, Date)>,
) -> Result<Option<Transaction>, String> {
    let cell = |i: usize| row.get(i).unwrap_or("");
    let date_cell = cell(columns.date).trim().trim_start_matches('\'');
    if date_cell.eq_ignore_ascii_case("pend") {
        return Ok(None);
    }
    let date = parse_date(date_cell, period)?;
    let description = clean_description(cell(columns.description));
    let amount = match (columns.amount, columns.debit, columns.credit) {
        (Some(at), _, _) => signed_amount(cell(at), row.get(at + 1))?,
        (None, Some(debit), Some(credit)) => {
            let debit = optional_amount(Some(cell(debit)))?.unwrap_or(0).abs();
            let credit = optional_amount(Some(cell(credit)))?.unwrap_or(0).abs();
            match (debit, credit) {
                (0, 0) => return Err("neither a debit nor a credit".to_owned()),
                (0, credit) => credit,
                (debit, 0) => -debit,
                _ => return Err("both a debit and a credit".to_owned()),
            }
        }
        _ => unreachable!("a header has an amount column or debit and credit columns"),
    };
    let balance = optional_amount(columns.balance.map(cell))?;
    Ok(Some((date, description, amount, balance)))
}

/// The statements the API document describes: the generic layout, with dates of the years lunas
/// runs in, plain descriptions and whole rupiah amounts. [`parse_statement`] reads every one of
/// them without a bad line (a test checks it); it reads much more (bank exports, quoting, `;`).
pub const STATEMENT_PATTERN: &str = concat!(
    r"^date,description,amount,balance\r?\n",
    r"(20[2-3][0-9]-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]),[A-Za-z0-9 #/.-]{0,60},-?[1-9][0-9]{0,9},[0-9]{1,12}\r?\n)*$"
);

/// Reads a statement. The delimiter is `,` unless the header row has more `;` (as some exports
/// do). Rows before the header (account details, the period) are read only for the period.
pub fn parse_statement(text: &str) -> Result<Statement, StatementError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let delimiter = text
        .lines()
        .find(|line| {
            let lower = line.to_lowercase();
            ["date", "tanggal", "tgl"].iter().any(|d| lower.contains(d))
                && (line.contains(',') || line.contains(';'))
        })
        .map(|line| {
            if line.matches(';').count() > line.matches(',').count() {
                b';'
            } else {
                b','
            }
        })
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut columns = None;
    let mut statement_period = None;
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = 0;
    let mut seen: HashMap<Transaction, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                if columns.is_some() {
                    errors.push(LineError {
                        line,
                        message: format!("not a CSV row: {e}"),
                    });
                }
                continue;
            }
        }
        let Some(cols) = columns else {
            columns = header_columns(&record);
            if columns.is_none() {
                statement_period = statement_period.or_else(|| period(&record));
            }
            continue;
        };
        if record.iter().all(|c| c.trim().is_empty()) || is_summary(record.get(0).unwrap_or("")) {
            skipped += 1;
            continue;
        }
        if lines.len() + errors.len() >= STATEMENT_LINES_MAX {
            return Err(StatementError::TooManyLines);
        }
        match read_line(&record, &cols, statement_period) {
            Ok(None) => skipped += 1,
            Ok(Some((date, description, amount, balance))) => {
                let key = (date, description, amount, balance);
                let occurrence = seen.entry(key.clone()).or_insert(0);
                *occurrence += 1;
                let (date, description, amount, balance) = key;
                let fingerprint = fingerprint(
                    cols.format,
                    date,
                    &description,
                    amount,
                    balance,
                    *occurrence,
                );
                lines.push(StatementLine {
                    line,
                    date,
                    description,
                    amount,
                    balance,
                    fingerprint,
                });
            }
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    let format = columns.ok_or(StatementError::NoHeader)?.format;
    Ok(Statement {
        format,
        lines,
        errors,
        skipped,
    })
}

/// The identity of a statement line: its format, date, description, amount and balance, and which
/// occurrence of that same line it is in the file (two equal transfers on one day without a
/// running balance are still two).
pub fn fingerprint(
    format: StatementFormat,
    date: Date,
    description: &str,
    amount: i64,
    balance: Option<i64>,
    occurrence: usize,
) -> String {
    let mut hash = Sha256::new();
    for part in [
        format.as_str().to_owned(),
        date.to_string(),
        description.to_owned(),
        amount.to_string(),
        balance.map(|b| b.to_string()).unwrap_or_default(),
        occurrence.to_string(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    hex_prefix(&hash.finalize())
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_statement_the_document_describes_reads_without_a_bad_line(
            raw in proptest::string::string_regex(&super::STATEMENT_PATTERN[1..super::STATEMENT_PATTERN.len() - 1]).unwrap()
        ) {
            let statement = super::parse_statement(&raw);
            prop_assert!(statement.as_ref().is_ok_and(|s| s.errors.is_empty()), "{raw:?}: {statement:?}");
        }
    }

    use super::*;

    fn check(text: &str, format: StatementFormat, expected: &[(&str, &str, i64, Option<i64>)]) {
        let statement = parse_statement(text).unwrap();
        assert_eq!(statement.format, format);
        assert_eq!(statement.errors, vec![], "{text}");
        let got: Vec<(String, String, i64, Option<i64>)> = statement
            .lines
            .iter()
            .map(|l| {
                (
                    l.date.to_string(),
                    l.description.clone(),
                    l.amount,
                    l.balance,
                )
            })
            .collect();
        let expected: Vec<(String, String, i64, Option<i64>)> = expected
            .iter()
            .map(|(d, s, a, b)| (d.to_string(), s.to_string(), *a, *b))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_generic_layout_reads_both_date_forms_and_signed_amounts() {
        check(
            "date,description,amount,balance\n\
             2026-12-01,TRF SARI #12,150237,1150237\n\
             01/12/2026,BIAYA ADM,-6500,1143737\n",
            StatementFormat::Generic,
            &[
                ("2026-12-01", "TRF SARI #12", 150_237, Some(1_150_237)),
                ("2026-12-01", "BIAYA ADM", -6_500, Some(1_143_737)),
            ],
        );
    }

    #[test]
    fn a_bca_export_takes_its_year_from_the_period_and_skips_pending_and_totals() {
        check(
            "No. rekening : 0123456789\n\
             Nama : RAZHA CO\n\
             Periode : 25/12/2026 - 05/01/2027\n\
             Kode Mata Uang : IDR\n\
             \n\
             Tanggal Transaksi,Keterangan,Cabang,Jumlah,,Saldo\n\
             '30/12,TRSF E-BANKING CR 3012/FTSCY/WS95031 150237.00 SARI WULANDARI,'0000,\"150,237.00\",CR,\"1,150,237.00\"\n\
             '02/01,BIAYA ADM,'0000,\"10,000.00 DB\",,\"1,140,237.00\"\n\
             PEND,SWITCHING CR,'0000,\"99,000.00\",CR,\n\
             Saldo Awal,\"1,000,000.00\"\n\
             Saldo Akhir,\"1,140,237.00\"\n",
            StatementFormat::Bca,
            &[
                (
                    "2026-12-30",
                    "TRSF E-BANKING CR 3012/FTSCY/WS95031 150237.00 SARI WULANDARI",
                    150_237,
                    Some(1_150_237),
                ),
                ("2027-01-02", "BIAYA ADM", -10_000, Some(1_140_237)),
            ],
        );
    }

    #[test]
    fn mandiri_and_bri_exports_read_their_debit_and_credit_columns() {
        check(
            "Tgl.;Tgl. Val.;Rincian Transaksi;No. Referensi;Debit;Kredit;Saldo\n\
             01/12/2026;01/12/2026;TRANSFER DARI SARI WULANDARI;FT123;0,00;150.237,00;1.150.237,00\n\
             02/12/2026;02/12/2026;BIAYA ADMIN;FT124;12.500,00;0,00;1.137.737,00\n",
            StatementFormat::Mandiri,
            &[
                (
                    "2026-12-01",
                    "TRANSFER DARI SARI WULANDARI",
                    150_237,
                    Some(1_150_237),
                ),
                ("2026-12-02", "BIAYA ADMIN", -12_500, Some(1_137_737)),
            ],
        );
        check(
            "NOREK,TGL_TRAN,TGL_EFEKTIF,JAM_TRAN,KODE_TRAN,DESK_TRAN,SALDO_AWAL_MUTASI,MUTASI_DEBET,MUTASI_KREDIT,SALDO_AKHIR_MUTASI\n\
             0123,2026-12-01 10:22:01,2026-12-01,102201,8888,NBMB SARI TO RAZHA,1000000,0,150237,1150237\n",
            StatementFormat::Bri,
            &[("2026-12-01", "NBMB SARI TO RAZHA", 150_237, Some(1_150_237))],
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_line_numbers() {
        let statement = parse_statement(
            "date,description,amount,balance\n\
             2026-12-01,OK,150237,\n\
             2026-13-01,BAD MONTH,1000,\n\
             2026-12-02,BAD AMOUNT,12.5x,\n\
             2026-12-02,SEN,100.50,\n",
        )
        .unwrap();
        assert_eq!(statement.lines.len(), 1);
        let lines: Vec<usize> = statement.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(statement.errors[0].message.contains("2026-13-01"));
        assert_eq!(
            parse_statement("hello,world\n1,2\n"),
            Err(StatementError::NoHeader)
        );
    }

    #[test]
    fn equal_lines_get_distinct_fingerprints_and_a_reimport_the_same_ones() {
        let text = "date,description,amount,balance\n\
                    2026-12-01,SETORAN TUNAI,50000,\n\
                    2026-12-01,SETORAN TUNAI,50000,\n";
        let first = parse_statement(text).unwrap();
        let again = parse_statement(text).unwrap();
        assert_ne!(first.lines[0].fingerprint, first.lines[1].fingerprint);
        assert_eq!(first.lines, again.lines);
    }
}
