//! `lunas import orders FILE`: years of order history from a marketplace's export (Shopee Seller
//! Centre's xlsx, TikTok Shop / Tokopedia's CSV) or lunas's own CSV columns, imported into the
//! store as if the orders had happened in lunas. A file with a bad row imports nothing, unless
//! `--skip-bad`; `--dry-run` reports what would be created.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use lunas_engine::{Engine, SystemClock};

/// Largest file read: a marketplace's export of many years is far smaller.
pub(crate) const FILE_BYTES_MAX: u64 = 100 * 1024 * 1024;
/// Bad rows listed at most (the count says how many there were).
const ERRORS_SHOWN: usize = 50;

/// The file as a table of text cells, its first row the header.
fn table(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if size > FILE_BYTES_MAX {
        bail!(
            "{} is {} MB; lunas reads order files of at most {} MB (split it by year)",
            path.display(),
            size / (1024 * 1024),
            FILE_BYTES_MAX / (1024 * 1024)
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx(bytes, path);
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{} is neither an xlsx workbook nor UTF-8 text",
            path.display()
        )
    })?;
    let text = text.trim_start_matches('\u{feff}');
    // Exports from spreadsheets in Indonesian locales separate with `;`.
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("{}: line {} is not CSV", path.display(), i + 1))?;
        rows.push(record.iter().map(str::to_owned).collect());
        if rows.len() > lunas_core::import::ROWS_MAX + 1 {
            bail!(
                "{} has more than {} rows",
                path.display(),
                lunas_core::import::ROWS_MAX
            );
        }
    }
    Ok(rows)
}

/// The first sheet of a workbook (Shopee's export has its orders there). Dates stored as numbers
/// are written as `YYYY-MM-DD HH:MM:SS`.
fn xlsx(bytes: Vec<u8>, path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .with_context(|| format!("{} is not an xlsx workbook lunas can read", path.display()))?;
    let range = workbook
        .worksheet_range_at(0)
        .with_context(|| format!("{} has no sheet", path.display()))?
        .with_context(|| format!("the first sheet of {} does not read", path.display()))?;
    if range.height() > lunas_core::import::ROWS_MAX + 1 {
        bail!(
            "{} has more than {} rows",
            path.display(),
            lunas_core::import::ROWS_MAX
        );
    }
    let cell = |data: &Data| -> String {
        match data {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(dt) => excel_time(dt.as_f64()),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    Ok(range
        .rows()
        .map(|row| row.iter().map(cell).collect())
        .collect())
}

/// An Excel serial date (days since 1899-12-30, the day's fraction its time) as text.
fn excel_time(serial: f64) -> String {
    let seconds = (serial * 86_400.0).round() as i64;
    jiff::civil::date(1899, 12, 30)
        .to_datetime(jiff::civil::Time::midnight())
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .map(|dt| dt.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Shows that a long step is alive: on a terminal a spinner with the seconds elapsed, redrawn in
/// place and wiped when the step ends; in a pipe nothing (the lines before and the summary after
/// are the record).
pub(crate) struct Spinner {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    pub(crate) fn start(what: &'static str) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let frames = ['|', '/', '-', '\\'];
                let mut n = 0;
                while !done.load(Ordering::Relaxed) {
                    let mut err = std::io::stderr().lock();
                    let _ = write!(
                        err,
                        "\r{} {what} {:.0} s",
                        frames[n % frames.len()],
                        started.elapsed().as_secs_f64()
                    );
                    let _ = err.flush();
                    drop(err);
                    n += 1;
                    std::thread::park_timeout(std::time::Duration::from_millis(120));
                }
                let _ = write!(std::io::stderr(), "\r\x1b[K");
            })
        });
        Spinner { done, thread }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

pub(crate) async fn run(
    common: &crate::CommonArgs,
    file: &Path,
    dry_run: bool,
    skip_bad: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    eprintln!("reading {}…", file.display());
    let spinner = Spinner::start("reading");
    let table = table(file);
    drop(spinner);
    let table = table?;
    let rows = table.len().saturating_sub(1);
    eprintln!("{rows} rows read; checking and importing…");
    let database = crate::config::Config::for_command(common)?;
    let url = lunas_store::DatabaseUrl::parse(&database.url)?;
    let store = crate::open(&url, database.options).await?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock)).await?;
    let spinner = Spinner::start(if dry_run { "checking" } else { "importing" });
    let result = engine.import_orders(table, dry_run, skip_bad).await;
    drop(spinner);
    store.close().await;
    let outcome = result.map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    for error in outcome.errors.iter().take(ERRORS_SHOWN) {
        eprintln!(
            "{}:{}: {} [{}]{}",
            file.display(),
            error.line,
            error.message,
            error.code,
            if skip_bad { " (skipped)" } else { "" }
        );
    }
    if outcome.errors.len() > ERRORS_SHOWN {
        eprintln!("… and {} more", outcome.errors.len() - ERRORS_SHOWN);
    }
    let Some(report) = outcome.report else {
        bail!(
            "{} row(s) of {} were refused; nothing was imported (--skip-bad imports the rest)",
            outcome.errors.len(),
            file.display()
        );
    };
    println!(
        "{} export, {rows} rows: {} orders{} {} created, {} already imported, {} new buyers, {} new products; {} left out (not finished on the marketplace), {} refused rows, in {:.1} s",
        outcome.format.name(),
        outcome.orders,
        if dry_run {
            " (dry run: nothing written);"
        } else {
            ";"
        },
        report.created,
        report.already,
        report.new_buyers,
        report.new_products,
        outcome.still_open,
        outcome.errors.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
