//! PostgreSQL migrations, rendered from the same `migrations/*.sql` as SQLite's (see
//! `crate::migrations`), so a schema version means the same tables on both. The version is kept in
//! `lunas_schema`; migrating takes a transaction-scoped advisory lock, so several lunas processes
//! starting at once migrate one after the other, and each finds the work done.

use postgres::Client;

use crate::StoreError;
pub(crate) use crate::migrations::SCHEMA_VERSION;

/// The advisory lock key that serialises migrations ("lunas" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c_75_6e_61_73;

fn version(client: &mut impl postgres::GenericClient) -> Result<i64, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('lunas_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client.query_opt("SELECT version FROM lunas_schema", &[])?;
    Ok(row.map_or(0, |row| row.get(0)))
}

/// Applies the migrations the database lacks, in one transaction. A database newer than this
/// build is refused before anything is written.
pub(crate) fn migrate(
    client: &mut Client,
) -> Result<Result<(i64, i64), StoreError>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let before = version(&mut tx)?;
    if before > SCHEMA_VERSION {
        return Ok(Err(StoreError::SchemaTooNew {
            found: before,
            known: SCHEMA_VERSION,
        }));
    }
    if before == SCHEMA_VERSION {
        tx.commit()?;
        return Ok(Ok((before, SCHEMA_VERSION)));
    }
    tx.batch_execute("CREATE TABLE IF NOT EXISTS lunas_schema (version BIGINT NOT NULL)")?;
    for sql in crate::migrations::rendered(crate::sql::Dialect::Postgres).skip(before as usize) {
        tx.batch_execute(&sql)?;
    }
    tx.execute("DELETE FROM lunas_schema", &[])?;
    tx.execute(
        "INSERT INTO lunas_schema (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )?;
    tx.commit()?;
    Ok(Ok((before, SCHEMA_VERSION)))
}

/// Refuses databases that are not at this build's schema version.
pub(crate) fn check_version(
    client: &mut Client,
) -> Result<Result<(), StoreError>, postgres::Error> {
    let found = version(client)?;
    Ok(if found > SCHEMA_VERSION {
        Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        })
    } else if found < SCHEMA_VERSION {
        Err(StoreError::NotMigrated)
    } else {
        Ok(())
    })
}
