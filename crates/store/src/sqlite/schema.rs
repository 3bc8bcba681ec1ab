//! SQLite migrations, rendered from `migrations/*.sql` (see `crate::migrations`) and applied in
//! order. The schema version is SQLite's `user_version`, so a database migrated by a newer lunas
//! is recognised and refused instead of being misread.

use rusqlite::Connection;

use crate::StoreError;
pub(crate) use crate::migrations::SCHEMA_VERSION;

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations the database lacks, in a transaction of its own.
pub(crate) fn migrate(conn: &Connection) -> Result<(i64, i64), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| super::map_error(&e))?;
    match migrate_in_transaction(conn) {
        Ok(Ok(versions)) => {
            conn.execute_batch("COMMIT")
                .map_err(|e| super::map_error(&e))?;
            Ok(versions)
        }
        Ok(Err(refused)) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(refused)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(super::map_error(&e))
        }
    }
}

/// Applies the migrations the database lacks inside the caller's transaction. A database newer
/// than this build is refused before anything is written; an SQL error is returned as such, so
/// the caller rolls back.
pub(crate) fn migrate_in_transaction(
    conn: &Connection,
) -> rusqlite::Result<Result<(i64, i64), StoreError>> {
    let before = version(conn)?;
    if before > SCHEMA_VERSION {
        return Ok(Err(StoreError::SchemaTooNew {
            found: before,
            known: SCHEMA_VERSION,
        }));
    }
    for (index, sql) in crate::migrations::rendered(crate::sql::Dialect::Sqlite)
        .enumerate()
        .skip(before as usize)
    {
        conn.execute_batch(&sql)?;
        conn.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    Ok(Ok((before, SCHEMA_VERSION)))
}

/// Refuses databases that are not at this build's schema version.
pub(crate) fn check_version(conn: &Connection) -> Result<(), StoreError> {
    let found = version(conn).map_err(|e| super::map_error(&e))?;
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
