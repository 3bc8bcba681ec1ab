//! The dashboard's words as `(key, Indonesian, English)` rows, in four tables by where they
//! appear: the pages staff work in, the settings and account pages, the words for codes,
//! errors, statuses and the audit log, and the buyer's pages. `i18n` reads them as one.

mod codes;
mod pages;
mod public;
mod settings;

/// Every table, in the order they are read.
pub(super) const TABLES: [&[(&str, &str, &str)]; 4] = [
    pages::PAGES,
    settings::SETTINGS,
    codes::CODES,
    public::PUBLIC,
];

/// Every row of every table.
pub(super) fn rows() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.into_iter().flatten()
}
