//! The dashboard's words as `(key, Indonesian, English)` rows, in three tables by where they
//! appear: the pages staff work in, the settings and account pages, and the words for codes,
//! errors, statuses and the audit log. `i18n` reads them as one.

mod codes;
mod pages;
mod settings;

/// Every table, in the order they are read.
pub(super) const TABLES: [&[(&str, &str, &str)]; 3] =
    [pages::PAGES, settings::SETTINGS, codes::CODES];

/// Every row of every table.
pub(super) fn rows() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.into_iter().flatten()
}
