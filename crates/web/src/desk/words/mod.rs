//! The dashboard's words as `(key, Indonesian, English)` rows, in eight tables by where they
//! appear: the pages staff work in, the settings and account pages, the words for codes,
//! errors, statuses and the audit log, the buyer's pages, and what comes after the payment (the buyer's side and staff's), analytics, and conversations. `i18n` reads them as one.

mod analytics;
mod codes;
mod conversations;
mod fulfilment;
mod packing;
mod pages;
mod public;
mod settings;

/// Every table, in the order they are read.
pub(super) const TABLES: [&[(&str, &str, &str)]; 8] = [
    pages::PAGES,
    settings::SETTINGS,
    codes::CODES,
    public::PUBLIC,
    fulfilment::FULFILMENT,
    packing::PACKING,
    analytics::ANALYTICS,
    conversations::CONVERSATIONS,
];

/// Every row of every table.
pub(super) fn rows() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.into_iter().flatten()
}
