//! API tokens, kept by the SHA-256 of the token.

use lunas_core::Timestamp;

use crate::repo::*;
use crate::sql::{Db, DbResult, params};
use lunas_core::accounts::ApiToken;

pub(crate) fn create_api_token(
    db: &mut dyn Db,
    name: &str,
    token_hash: &str,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, token_hash, millis(now)],
    )?;
    Ok(())
}

/// The API tokens by name: when the first of that name was made, and how many there are.
pub(crate) fn api_tokens(db: &mut dyn Db) -> DbResult<Vec<ApiToken>> {
    db.rows(
        "SELECT name, MIN(created_at), COUNT(*) FROM api_tokens GROUP BY name ORDER BY name",
        params![],
        |row| {
            Ok(ApiToken {
                name: row.text(0)?,
                created_at: timestamp(row.int(1)?)?,
                count: row.int(2)?,
            })
        },
    )
}

/// Deletes every token named `name`; returns how many there were. Each request reads its token
/// from the table, so a revoked token stops working at its next request, in every process.
pub(crate) fn revoke_api_token(
    db: &mut dyn Db,
    name: &str,
    actor: &str,
    now: Timestamp,
) -> DbResult<u64> {
    let revoked = db.execute("DELETE FROM api_tokens WHERE name = ?1", params![name])?;
    if revoked > 0 {
        crate::repo::audit_line(
            db,
            actor,
            lunas_core::AuditAction::TokenRevoke,
            name,
            &serde_json::json!({ "tokens": revoked }),
            now,
        )?;
    }
    Ok(revoked)
}

pub(crate) fn api_token_name(db: &mut dyn Db, token_hash: &str) -> DbResult<Option<String>> {
    db.row(
        "SELECT name FROM api_tokens WHERE token_hash = ?1",
        params![token_hash],
        |row| row.text(0),
    )
}
