//! Order history imported from a file: read by `core::import` in the store's time zone, refused
//! whole when a row is bad (unless the bad rows are to be skipped), then written by the store in
//! one transaction; the customer-base fit is made again afterwards.

use lunas_core::import::{FileError, Format, RowError};
use lunas_store::ImportReport;

use crate::{Engine, Error};

/// What an import read and did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub format: Format,
    /// Orders the file holds that lunas can keep (finished on the marketplace).
    pub orders: usize,
    /// Orders the marketplace has not finished yet: left out.
    pub still_open: usize,
    /// Rows refused, with their lines and why.
    pub errors: Vec<RowError>,
    /// What was written (or, in a dry run, would be); `None` when bad rows refused the file.
    pub report: Option<ImportReport>,
}

impl Engine {
    /// Imports the orders of a table (its first row the header). A file with a bad row imports
    /// nothing unless `skip_bad`; `dry_run` writes nothing and reports what would be created.
    pub async fn import_orders(
        &self,
        table: Vec<Vec<String>>,
        dry_run: bool,
        skip_bad: bool,
    ) -> Result<ImportOutcome, Error> {
        let now = self.now();
        let tz = self.settings().time_zone();
        let (format, read) = tokio::task::spawn_blocking(move || {
            let format = table.first().and_then(|header| Format::detect(header));
            lunas_core::import::read(&table, now, &tz).map(|read| (format, read))
        })
        .await
        .map_err(|e| Error::Store(lunas_store::StoreError::Internal(e.to_string())))??;
        let format = format.ok_or(Error::ImportFile(FileError::Empty))?;
        let mut outcome = ImportOutcome {
            format,
            orders: read.orders.len(),
            still_open: read.still_open,
            errors: read.errors,
            report: None,
        };
        if !outcome.errors.is_empty() && !skip_bad {
            return Ok(outcome);
        }
        let report = self
            .store
            .import_orders(format, read.orders, dry_run, now)
            .await?;
        if !dry_run && report.created > 0 {
            self.forget_customer_base();
        }
        outcome.report = Some(report);
        Ok(outcome)
    }
}
