//! SQLite migrations, kept as SQL files in `migrations/sqlite/` and applied in order. The schema
//! version is SQLite's `user_version`, so a database migrated by a newer lunas is recognised and
//! refused instead of being misread.

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_orders.sql")];

/// The newest schema this build knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations the database lacks, inside the caller's transaction if there is one.
pub(crate) fn migrate(conn: &Connection) -> Result<(i64, i64), StoreError> {
    let before = version(conn).map_err(super::map_error)?;
    if before > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: before,
            known: SCHEMA_VERSION,
        });
    }
    if before == SCHEMA_VERSION {
        return Ok((before, before));
    }
    let in_transaction = !conn.is_autocommit();
    if !in_transaction {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(super::map_error)?;
    }
    let applied = (|| {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(before as usize) {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", index as i64 + 1)?;
        }
        Ok::<_, rusqlite::Error>(())
    })();
    if !in_transaction {
        let end = if applied.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.execute_batch(end).map_err(super::map_error)?;
    }
    applied.map_err(super::map_error)?;
    Ok((before, SCHEMA_VERSION))
}

/// Refuses databases that are not at this build's schema version.
pub(crate) fn check_version(conn: &Connection) -> Result<(), StoreError> {
    let found = version(conn).map_err(super::map_error)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(StoreError::NotMigrated);
    }
    Ok(())
}
