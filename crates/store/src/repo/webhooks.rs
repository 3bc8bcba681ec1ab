//! Webhook endpoints, each change audited in the transaction that makes it.

use lunas_core::{Actor, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, params};
use lunas_core::outbox::WebhookEndpoint;

pub(crate) fn create_webhook(
    db: &mut dyn Db,
    endpoint: &WebhookEndpoint,
    actor: &Actor,
) -> DbResult<()> {
    crate::repo::audit_line(
        db,
        actor.as_str(),
        lunas_core::AuditAction::WebhookAdd,
        &endpoint.url,
        &serde_json::json!({ "id": endpoint.id }),
        endpoint.created_at,
    )?;
    db.execute(
        "INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            &endpoint.id,
            &endpoint.url,
            &endpoint.secret,
            millis(endpoint.created_at)
        ],
    )?;
    Ok(())
}

/// The ids of the seller's webhook endpoints, oldest first: a message gets a delivery for each.
pub(crate) fn webhook_endpoint_ids(db: &mut dyn Db) -> DbResult<Vec<String>> {
    db.rows(
        "SELECT id FROM webhook_endpoints ORDER BY created_at",
        params![],
        |row| row.text(0),
    )
}

pub(crate) fn webhooks(db: &mut dyn Db) -> DbResult<Vec<WebhookEndpoint>> {
    db.rows(
        "SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY created_at",
        params![],
        |row| {
            Ok(WebhookEndpoint {
                id: row.text(0)?,
                url: row.text(1)?,
                secret: row.text(2)?,
                created_at: timestamp(row.int(3)?)?,
            })
        },
    )
}

/// Removes an endpoint; deliveries still queued for it go dead when their turn comes.
/// Deletes an endpoint (in the audit log when there was one); whether there was.
pub(crate) fn delete_webhook(
    db: &mut dyn Db,
    id: &str,
    actor: &Actor,
    now: Timestamp,
) -> DbResult<bool> {
    let url = db.row(
        "DELETE FROM webhook_endpoints WHERE id = ?1 RETURNING url",
        params![id],
        |row| row.text(0),
    )?;
    let Some(url) = url else {
        return Ok(false);
    };
    crate::repo::audit_line(
        db,
        actor.as_str(),
        lunas_core::AuditAction::WebhookDelete,
        &url,
        &serde_json::json!({ "id": id }),
        now,
    )?;
    Ok(true)
}
