//! The rows of buyers' proofs of transfer: the files as kept, and where an order's latest proof
//! stands (`orders.proof_status`, `proof_at`, `proofs`).

use lunas_core::ledger::ReviewKind;
use lunas_core::proofs::{OrderProof, ProofFormat, ProofStatus};
use lunas_core::{OrderId, OrderStatus, PaymentMethod, Timestamp};

use super::{millis, status_of, timestamp};
use crate::sql::{Db, DbResult, corrupt, params};

/// An order's proof columns as read, made into what the order carries.
pub(crate) fn read_order_proof(
    (status, at, count): (Option<String>, Option<i64>, i64),
) -> DbResult<Option<OrderProof>> {
    let (Some(status), Some(at)) = (status, at) else {
        return Ok(None);
    };
    Ok(Some(OrderProof {
        status: ProofStatus::parse(&status).ok_or_else(|| corrupt("proof status", &status))?,
        submitted_at: timestamp(at)?,
        count,
    }))
}

/// What taking a proof reads of its order, the row locked.
pub struct ProofTarget {
    pub status: OrderStatus,
    pub method: PaymentMethod,
    pub sent: i64,
    /// What is left to pay.
    pub left: i64,
}

pub(crate) fn proof_target(db: &mut dyn Db, id: OrderId) -> DbResult<Option<ProofTarget>> {
    let row = db.row(
        "SELECT status, payment_method, proofs, COALESCE(amount_due, total) - amount_paid
         FROM orders WHERE id = ?1 FOR NO KEY UPDATE",
        params![id.0],
        |row| Ok((row.text(0)?, row.text(1)?, row.int(2)?, row.int(3)?)),
    )?;
    row.map(|(status, method, sent, left)| {
        Ok(ProofTarget {
            status: status_of(&status)?,
            method: PaymentMethod::parse(&method)
                .ok_or_else(|| corrupt("payment method", &method))?,
            sent,
            left,
        })
    })
    .transpose()
}

/// Keeps a proof's file and marks the order's latest proof as sent now; answers the proof's id.
pub(crate) fn insert_proof(
    db: &mut dyn Db,
    order: OrderId,
    at: Timestamp,
    format: ProofFormat,
    sha256: &str,
    body: &[u8],
) -> DbResult<i64> {
    let id = db.scalar(
        "INSERT INTO payment_proofs (order_id, created_at, content_type, bytes, sha256, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            order.0,
            millis(at),
            format.content_type(),
            body.len() as i64,
            sha256,
            body
        ],
    )?;
    db.execute(
        "UPDATE orders SET proof_status = 'submitted', proof_at = ?2, proofs = proofs + 1 WHERE id = ?1",
        params![order.0, millis(at)],
    )?;
    Ok(id)
}

/// A proof's file as kept.
#[derive(Debug, Clone)]
pub struct StoredProof {
    pub id: i64,
    pub order_id: OrderId,
    pub created_at: Timestamp,
    pub format: ProofFormat,
    pub body: Vec<u8>,
}

pub(crate) fn proof(db: &mut dyn Db, id: i64) -> DbResult<Option<StoredProof>> {
    let row = db.row(
        "SELECT order_id, created_at, content_type, body FROM payment_proofs WHERE id = ?1",
        params![id],
        |row| Ok((row.int(0)?, row.int(1)?, row.text(2)?, row.bytes(3)?)),
    )?;
    row.map(|(order, at, content_type, body)| {
        Ok(StoredProof {
            id,
            order_id: OrderId(order),
            created_at: timestamp(at)?,
            format: ProofFormat::from_content_type(&content_type)
                .ok_or_else(|| corrupt("proof content type", &content_type))?,
            body,
        })
    })
    .transpose()
}

/// An order's proofs, oldest first, without their files: id, when, content type, size.
pub(crate) fn proofs_of(
    db: &mut dyn Db,
    order: OrderId,
) -> DbResult<Vec<(i64, Timestamp, String, i64)>> {
    let rows = db.rows(
        "SELECT id, created_at, content_type, bytes FROM payment_proofs WHERE order_id = ?1 ORDER BY id",
        params![order.0],
        |row| Ok((row.int(0)?, row.int(1)?, row.text(2)?, row.int(3)?)),
    )?;
    rows.into_iter()
        .map(|(id, at, kind, bytes)| Ok((id, timestamp(at)?, kind, bytes)))
        .collect()
}

/// A proof of the order was resolved: confirmed, or rejected when no other proof of it still
/// waits (a later proof keeps the order waiting).
pub(crate) fn proof_resolved(db: &mut dyn Db, order: OrderId, confirmed: bool) -> DbResult<()> {
    if confirmed {
        db.execute(
            "UPDATE orders SET proof_status = 'confirmed' WHERE id = ?1",
            params![order.0],
        )?;
        return Ok(());
    }
    let waiting = db.scalar(
        "SELECT COUNT(*) FROM payment_reviews WHERE order_id = ?1 AND status = 'open' AND kind = ?2",
        params![order.0, ReviewKind::ProofOfTransfer.as_str()],
    )?;
    if waiting == 0 {
        db.execute(
            "UPDATE orders SET proof_status = 'rejected' WHERE id = ?1 AND proof_status = 'submitted'",
            params![order.0],
        )?;
    }
    Ok(())
}

/// The order was paid while proofs of it waited: they are closed as confirmed by the payment.
pub(crate) fn settle_proofs(db: &mut dyn Db, order: OrderId, now: Timestamp) -> DbResult<()> {
    db.execute(
        "UPDATE payment_reviews SET status = 'resolved', resolved_at = ?2, resolved_by = 'system',
             resolution = 'the order was paid'
         WHERE order_id = ?1 AND status = 'open' AND kind = ?3",
        params![order.0, millis(now), ReviewKind::ProofOfTransfer.as_str()],
    )?;
    db.execute(
        "UPDATE orders SET proof_status = 'confirmed' WHERE id = ?1",
        params![order.0],
    )?;
    Ok(())
}
