//! Copying a whole store from one database to another (`lunas migrate-data`), e.g. from the
//! SQLite file a seller started on to the PostgreSQL a growing shop needs.
//!
//! The source is read in one read transaction (one snapshot) and the target written in one
//! transaction, row by row through a small bounded channel between the two, so memory stays flat
//! however big the store is and the target gets all of it or nothing. The target must be empty.
//! Afterwards every table's row count and the money and stock sums of both are compared.

use crate::sql::{Db, DbError, DbResult, Row, Val, params};
use crate::{Store, StoreError};

/// Every table, parents before children: its name, how to read all of it (in key order), and how
/// to write one row of it. The SQL is written out, not generated, so it can be read and reviewed.
const TABLES: &[(&str, &str, &str)] = &[
    (
        "products",
        // Products before their variants (which name them as parent).
        "SELECT sku, name, price, on_hand, reserved, tips, created_at, updated_at, parent, variant, inherits_price, variants, photo_version
         FROM products ORDER BY parent IS NOT NULL, sku",
        "INSERT INTO products (sku, name, price, on_hand, reserved, tips, created_at, updated_at, parent, variant, inherits_price, variants, photo_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    ),
    (
        "product_photos",
        "SELECT sku, size, content_type, body FROM product_photos ORDER BY sku, size",
        "INSERT INTO product_photos (sku, size, content_type, body) VALUES (?1, ?2, ?3, ?4)",
    ),
    (
        "customers",
        "SELECT id, phone, name, email, honorific, created_at, updated_at, no_reminders, last_inbound_at,
                orders_placed, orders_paid, orders_expired, orders_cancelled_by_buyer, orders_cancelled_by_seller,
                cod_refused, returns, amount_paid, first_order_at, last_order_at, band_pin, band_reason, notes, tags,
                phone_hmac, erased_at
         FROM customers ORDER BY id",
        "INSERT INTO customers (id, phone, name, email, honorific, created_at, updated_at, no_reminders, last_inbound_at,
                orders_placed, orders_paid, orders_expired, orders_cancelled_by_buyer, orders_cancelled_by_seller,
                cod_refused, returns, amount_paid, first_order_at, last_order_at, band_pin, band_reason, notes, tags,
                phone_hmac, erased_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
    ),
    (
        "orders",
        "SELECT id, customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at,
                ended_at, cancelled_by, policy, deposit, deposit_forfeited, amount_due, unique_code, payment_url,
                shipping_cost, discount, written_off, public_token, proof_status, proof_at, proofs, note,
                confirm_by, courier, courier_service, waybill, ship_cost, return_cost, packed_at, shipped_at, delivered_at, completed_at
         FROM orders ORDER BY id",
        "INSERT INTO orders (id, customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at,
                ended_at, cancelled_by, policy, deposit, deposit_forfeited, amount_due, unique_code, payment_url,
                shipping_cost, discount, written_off, public_token, proof_status, proof_at, proofs, note,
                confirm_by, courier, courier_service, waybill, ship_cost, return_cost, packed_at, shipped_at, delivered_at, completed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25,
                 ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)",
    ),
    (
        "order_addresses",
        "SELECT order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode
         FROM order_addresses ORDER BY order_id",
        "INSERT INTO order_addresses (order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    ),
    (
        "order_items",
        "SELECT order_id, line, sku, name, unit_price, qty, hold FROM order_items ORDER BY order_id, line",
        "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    ),
    (
        "payments",
        "SELECT id, order_id, amount, reference, recorded_at, actor, source, external_id FROM payments ORDER BY id",
        "INSERT INTO payments (id, order_id, amount, reference, recorded_at, actor, source, external_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    ),
    (
        "order_events",
        "SELECT id, order_id, at, actor, from_status, to_status, reason FROM order_events ORDER BY id",
        "INSERT INTO order_events (id, order_id, at, actor, from_status, to_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    ),
    (
        "timers",
        "SELECT id, due_at, kind, order_id, attempts, step, ordinal FROM timers ORDER BY id",
        "INSERT INTO timers (id, due_at, kind, order_id, attempts, step, ordinal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    ),
    (
        "api_tokens",
        "SELECT id, name, token_hash, created_at FROM api_tokens ORDER BY id",
        "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
    ),
    (
        "idempotency_keys",
        "SELECT scope, key, request_hash, order_id, response, created_at FROM idempotency_keys ORDER BY scope, key",
        "INSERT INTO idempotency_keys (scope, key, request_hash, order_id, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ),
    (
        "settings",
        "SELECT name, value FROM settings ORDER BY name",
        "INSERT INTO settings (name, value) VALUES (?1, ?2)",
    ),
    (
        "waitlist",
        "SELECT id, sku, phone, name, created_at, status, updated_at, offer_until, claim_token, order_id FROM waitlist ORDER BY id",
        "INSERT INTO waitlist (id, sku, phone, name, created_at, status, updated_at, offer_until, claim_token, order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    ),
    (
        "messages",
        "SELECT rowid, id, order_id, kind, channel, recipient, subject, body, status, attempts, last_error, next_attempt_at, created_at, sent_at, sent_by, variant, waitlist_id, delivery, delivery_at FROM messages ORDER BY rowid",
        "INSERT INTO messages (rowid, id, order_id, kind, channel, recipient, subject, body, status, attempts, last_error, next_attempt_at, created_at, sent_at, sent_by, variant, waitlist_id, delivery, delivery_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    ),
    (
        "webhook_endpoints",
        "SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY created_at, id",
        "INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (?1, ?2, ?3, ?4)",
    ),
    (
        "secrets",
        "SELECT name, value FROM secrets ORDER BY name",
        "INSERT INTO secrets (name, value) VALUES (?1, ?2)",
    ),
    (
        "audit_log",
        "SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id",
        "INSERT INTO audit_log (id, at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ),
    (
        "inbound_messages",
        "SELECT id, phone, wa_message_id, body, received_at, raw, kind, faq_id, faq_score, faq_state FROM inbound_messages ORDER BY id",
        "INSERT INTO inbound_messages (id, phone, wa_message_id, body, received_at, raw, kind, faq_id, faq_score, faq_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    ),
    (
        "payment_reviews",
        "SELECT id, created_at, kind, source, external_id, order_id, amount, detail, status, resolved_at, resolved_by, resolution
         FROM payment_reviews ORDER BY id",
        "INSERT INTO payment_reviews (id, created_at, kind, source, external_id, order_id, amount, detail, status, resolved_at, resolved_by, resolution)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    ),
    (
        "payment_proofs",
        "SELECT id, order_id, created_at, content_type, bytes, sha256, body FROM payment_proofs ORDER BY id",
        "INSERT INTO payment_proofs (id, order_id, created_at, content_type, bytes, sha256, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    ),
    (
        "statement_lines",
        "SELECT fingerprint, source, imported_at, line_date, description, amount, balance, outcome, order_id
         FROM statement_lines ORDER BY fingerprint",
        "INSERT INTO statement_lines (fingerprint, source, imported_at, line_date, description, amount, balance, outcome, order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    ),
    (
        "gateway_notifications",
        "SELECT id, received_at, gateway, transaction_id, order_ref, order_id, status, amount, body, outcome
         FROM gateway_notifications ORDER BY id",
        "INSERT INTO gateway_notifications (id, received_at, gateway, transaction_id, order_ref, order_id, status, amount, body, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    ),
    (
        "courier_events",
        "SELECT id, source, event_key, waybill, status, step, courier, happened_at, received_at, order_id, outcome
         FROM courier_events ORDER BY id",
        "INSERT INTO courier_events (id, source, event_key, waybill, status, step, courier, happened_at, received_at, order_id, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    ),
    (
        "returns",
        "SELECT id, order_id, status, reason, requested_by, requested_at, note, resellable, refund_amount, refund_method,
                refund_reference, updated_at
         FROM returns ORDER BY id",
        "INSERT INTO returns (id, order_id, status, reason, requested_by, requested_at, note, resellable, refund_amount, refund_method,
                refund_reference, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    ),
    (
        "return_photos",
        "SELECT id, return_id, content_type, bytes, body FROM return_photos ORDER BY id",
        "INSERT INTO return_photos (id, return_id, content_type, bytes, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    ),
    (
        "imported_orders",
        "SELECT source, external_id, order_id, imported_at FROM imported_orders ORDER BY source, external_id",
        "INSERT INTO imported_orders (source, external_id, order_id, imported_at) VALUES (?1, ?2, ?3, ?4)",
    ),
    (
        "faq_entries",
        "SELECT id, questions, answer, sku, created_at, updated_at FROM faq_entries ORDER BY id",
        "INSERT INTO faq_entries (id, questions, answer, sku, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ),
    (
        "replies",
        "SELECT id, phone, body, answered_by, actor, faq_id, channel, status, error, created_at FROM replies ORDER BY id",
        "INSERT INTO replies (id, phone, body, answered_by, actor, faq_id, channel, status, error, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    ),
    (
        "chat_signals",
        "SELECT phone, messages, days, haggles, last_day FROM chat_signals ORDER BY phone",
        "INSERT INTO chat_signals (phone, messages, days, haggles, last_day) VALUES (?1, ?2, ?3, ?4, ?5)",
    ),
    (
        "users",
        "SELECT id, email, role, password_hash, totp_secret, totp_step, language, disabled, created_at FROM users ORDER BY id",
        "INSERT INTO users (id, email, role, password_hash, totp_secret, totp_step, language, disabled, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    ),
];

/// Row counts, one per table, in the order of `TABLES`. (Sessions and failed sign-ins are not
/// copied: staff sign in again on the new database.)
const COUNTS: &[&str] = &[
    "SELECT COUNT(*) FROM products",
    "SELECT COUNT(*) FROM product_photos",
    "SELECT COUNT(*) FROM customers",
    "SELECT COUNT(*) FROM orders",
    "SELECT COUNT(*) FROM order_addresses",
    "SELECT COUNT(*) FROM order_items",
    "SELECT COUNT(*) FROM payments",
    "SELECT COUNT(*) FROM order_events",
    "SELECT COUNT(*) FROM timers",
    "SELECT COUNT(*) FROM api_tokens",
    "SELECT COUNT(*) FROM idempotency_keys",
    "SELECT COUNT(*) FROM settings",
    "SELECT COUNT(*) FROM waitlist",
    "SELECT COUNT(*) FROM messages",
    "SELECT COUNT(*) FROM webhook_endpoints",
    "SELECT COUNT(*) FROM secrets",
    "SELECT COUNT(*) FROM audit_log",
    "SELECT COUNT(*) FROM inbound_messages",
    "SELECT COUNT(*) FROM payment_reviews",
    "SELECT COUNT(*) FROM payment_proofs",
    "SELECT COUNT(*) FROM statement_lines",
    "SELECT COUNT(*) FROM gateway_notifications",
    "SELECT COUNT(*) FROM courier_events",
    "SELECT COUNT(*) FROM returns",
    "SELECT COUNT(*) FROM return_photos",
    "SELECT COUNT(*) FROM imported_orders",
    "SELECT COUNT(*) FROM faq_entries",
    "SELECT COUNT(*) FROM replies",
    "SELECT COUNT(*) FROM chat_signals",
    "SELECT COUNT(*) FROM users",
];

/// On PostgreSQL, identity columns continue after the copied ids.
const PG_IDENTITIES: &[&str] = &[
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM customers), false)",
    "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM orders), false)",
    "SELECT setval(pg_get_serial_sequence('payments', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM payments), false)",
    "SELECT setval(pg_get_serial_sequence('order_events', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM order_events), false)",
    "SELECT setval(pg_get_serial_sequence('timers', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM timers), false)",
    "SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM api_tokens), false)",
    "SELECT setval(pg_get_serial_sequence('messages', 'rowid'), (SELECT COALESCE(MAX(rowid), 0) + 1 FROM messages), false)",
    "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log), false)",
    "SELECT setval(pg_get_serial_sequence('inbound_messages', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM inbound_messages), false)",
    "SELECT setval(pg_get_serial_sequence('payment_reviews', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM payment_reviews), false)",
    "SELECT setval(pg_get_serial_sequence('waitlist', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM waitlist), false)",
    "SELECT setval(pg_get_serial_sequence('payment_proofs', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM payment_proofs), false)",
    "SELECT setval(pg_get_serial_sequence('gateway_notifications', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM gateway_notifications), false)",
    "SELECT setval(pg_get_serial_sequence('courier_events', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM courier_events), false)",
    "SELECT setval(pg_get_serial_sequence('returns', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM returns), false)",
    "SELECT setval(pg_get_serial_sequence('return_photos', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM return_photos), false)",
    "SELECT setval(pg_get_serial_sequence('replies', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM replies), false)",
    "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM users), false)",
];

/// A value read from one database to be written to the other.
#[derive(Debug, Clone)]
enum Owned {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl Owned {
    fn as_val(&self) -> Val<'_> {
        match self {
            Owned::Null => Val::Null,
            Owned::Int(v) => Val::Int(*v),
            Owned::Text(v) => Val::Text(v),
            Owned::Bool(v) => Val::Bool(*v),
            Owned::Bytes(v) => Val::Bytes(v),
        }
    }
}

fn read_value(row: &Row<'_>, i: usize) -> DbResult<Owned> {
    match row {
        Row::Sqlite(row) => {
            use rusqlite::types::ValueRef;
            Ok(match row.get_ref(i)? {
                ValueRef::Null => Owned::Null,
                ValueRef::Integer(v) => Owned::Int(v),
                ValueRef::Text(v) => Owned::Text(
                    String::from_utf8(v.to_vec())
                        .map_err(|e| DbError::Corrupt(format!("text that is not UTF-8: {e}")))?,
                ),
                ValueRef::Blob(v) => Owned::Bytes(v.to_vec()),
                other => {
                    return Err(DbError::Corrupt(format!(
                        "unexpected value type {:?} in column {i}",
                        other.data_type()
                    )));
                }
            })
        }
        Row::Pg(row) => {
            use postgres::types::Type;
            let ty = row.columns()[i].type_().clone();
            Ok(if ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?
                    .map_or(Owned::Null, Owned::Int)
            } else if ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map_or(Owned::Null, |v| Owned::Int(v.into()))
            } else if ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)?
                    .map_or(Owned::Null, Owned::Bool)
            } else if ty == Type::BYTEA {
                row.try_get::<_, Option<Vec<u8>>>(i)?
                    .map_or(Owned::Null, Owned::Bytes)
            } else {
                row.try_get::<_, Option<String>>(i)?
                    .map_or(Owned::Null, Owned::Text)
            })
        }
    }
}

/// What was copied and how the two databases compare afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows per table, as counted in the source and in the target after the copy.
    pub tables: Vec<(&'static str, i64, i64)>,
    pub source_totals: lunas_core::placing::Totals,
    pub target_totals: lunas_core::placing::Totals,
}

impl CopyReport {
    /// Whether every count and sum agrees.
    pub fn verified(&self) -> bool {
        self.source_totals == self.target_totals && self.tables.iter().all(|(_, s, t)| s == t)
    }
}

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target database already holds data ({0} rows in {1}); copy only into an empty one"
    )]
    TargetNotEmpty(i64, &'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rows on their way: which table (index into `TABLES`) and their values.
type Batch = (usize, Vec<Vec<Owned>>);
/// The table index that says the reader got to the end.
const DONE: usize = usize::MAX;
const BATCH_ROWS: usize = 500;
/// Bytes of files a batch carries at most (past one file).
const BATCH_BYTES: usize = 8 << 20;

async fn counts(store: &Store) -> Result<Vec<i64>, StoreError> {
    store
        .read(|db| COUNTS.iter().map(|sql| db.scalar(sql, params![])).collect())
        .await
}

impl Store {
    /// Copies everything in this store into `target`, which must be migrated and empty, then
    /// compares row counts and sums. Run it with no lunas serving either database.
    pub async fn copy_into(&self, target: &Store) -> Result<CopyReport, CopyError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(4);
        let reader = self.read(move |db| read_all(db, &sender));
        let target_is_pg = target.backend_name() == "postgres";
        let mut receiver = Some(receiver);
        let writer = target.write(move |db| {
            let receiver = receiver.take().ok_or_else(|| {
                DbError::Corrupt("the copy cannot be retried within one run".into())
            })?;
            write_all(db, receiver, target_is_pg)
        });
        let (read, written) = tokio::join!(reader, writer);
        // A failed read is the cause of whatever the writer says; report it first.
        read?;
        written??;
        let source_counts = counts(self).await?;
        let target_counts = counts(target).await?;
        Ok(CopyReport {
            tables: TABLES
                .iter()
                .zip(source_counts.into_iter().zip(target_counts))
                .map(|((table, _, _), (s, t))| (*table, s, t))
                .collect(),
            source_totals: self.totals().await?,
            target_totals: target.totals().await?,
        })
    }
}

fn read_all(db: &mut dyn Db, sender: &std::sync::mpsc::SyncSender<Batch>) -> DbResult<()> {
    for (index, (_, select, insert)) in TABLES.iter().enumerate() {
        let columns = insert.matches('?').count();
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        let mut batch_bytes = 0;
        let mut gone = false;
        db.each_row(select, params![], &mut |row| {
            if gone {
                return Ok(());
            }
            let values: Vec<Owned> = (0..columns)
                .map(|i| read_value(row, i))
                .collect::<DbResult<_>>()?;
            batch_bytes += values
                .iter()
                .map(|v| match v {
                    Owned::Bytes(b) => b.len(),
                    _ => 0,
                })
                .sum::<usize>();
            batch.push(values);
            // Files (proofs of transfer, up to 5 MB each) go in batches of a few megabytes.
            if batch.len() == BATCH_ROWS || batch_bytes >= BATCH_BYTES {
                batch_bytes = 0;
                // The writer stopped (it refused or failed): its answer is the one that counts.
                gone = sender
                    .send((
                        index,
                        std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS)),
                    ))
                    .is_err();
            }
            Ok(())
        })?;
        if gone || (!batch.is_empty() && sender.send((index, batch)).is_err()) {
            return Ok(());
        }
    }
    // Only now may the writer commit: a reader that failed before this point never sends it.
    let _ = sender.send((DONE, Vec::new()));
    Ok(())
}

fn write_all(
    db: &mut dyn Db,
    receiver: std::sync::mpsc::Receiver<Batch>,
    target_is_pg: bool,
) -> DbResult<Result<(), CopyError>> {
    for ((table, _, _), count) in TABLES.iter().zip(COUNTS) {
        let rows = db.scalar(count, params![])?;
        // A fresh database has the default settings row only if someone saved settings.
        if rows > 0 {
            return Ok(Err(CopyError::TargetNotEmpty(rows, table)));
        }
    }
    let mut done = false;
    for (index, rows) in receiver {
        if index == DONE {
            done = true;
            break;
        }
        let insert = TABLES[index].2;
        for row in rows {
            let values: Vec<Val<'_>> = row.iter().map(Owned::as_val).collect();
            db.execute(insert, &values)?;
        }
    }
    if !done {
        // The reader failed; its error is reported, and nothing of the copy is committed.
        return Err(DbError::Corrupt(
            "the source stopped before the copy finished".into(),
        ));
    }
    if target_is_pg {
        for sql in PG_IDENTITIES {
            db.scalar(sql, params![])?;
        }
    }
    Ok(Ok(()))
}

impl Store {
    /// The tables in which any text value contains `needle` (case-insensitively): to verify that an
    /// erasure left nothing behind. It reads every row of every table; it is for checks, not for
    /// requests.
    pub async fn tables_containing(&self, needle: &str) -> Result<Vec<&'static str>, StoreError> {
        let needle = needle.to_lowercase();
        self.read(move |db| {
            let mut found = Vec::new();
            for (table, select, insert) in TABLES {
                let columns = insert.matches('?').count();
                let mut hit = false;
                db.each_row(select, params![], &mut |row| {
                    for i in 0..columns {
                        if let Owned::Text(text) = read_value(row, i)?
                            && text.to_lowercase().contains(&needle)
                        {
                            hit = true;
                        }
                    }
                    Ok(())
                })?;
                if hit {
                    found.push(*table);
                }
            }
            Ok(found)
        })
        .await
    }
}
