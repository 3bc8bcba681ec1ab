//! The audit log: one row per action, written in the transaction of the change it records.

use lunas_core::{AuditAction, Timestamp};

use crate::repo::millis;
use crate::sql::{Db, DbResult, params};

pub(crate) fn audit_line(
    db: &mut dyn Db,
    actor: &str,
    action: AuditAction,
    subject: &str,
    detail: &serde_json::Value,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            millis(now),
            actor,
            action.as_str(),
            subject,
            &detail.to_string()
        ],
    )?;
    Ok(())
}
