//! The store's settings document, kept as one JSON row.

use lunas_core::Settings;

use crate::sql::{Db, DbResult, params};

pub(crate) const SETTINGS_NAME: &str = "store";

pub(crate) fn settings_json(db: &mut dyn Db) -> DbResult<Option<String>> {
    db.row(
        "SELECT value FROM settings WHERE name = ?1",
        params![SETTINGS_NAME],
        |row| row.text(0),
    )
}

pub(crate) fn put_settings(db: &mut dyn Db, settings: &Settings) -> DbResult<()> {
    let raw = serde_json::to_string(settings).expect("settings always serialise");
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![SETTINGS_NAME, &raw],
    )?;
    Ok(())
}
