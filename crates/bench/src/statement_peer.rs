//! The statement import's peer: raw rusqlite writing, for the same statement on a copy of the
//! same database, the rows lunas's import writes for an exact payment — the order paid, the
//! payment, its timers gone, the waiting manual message withdrawn, the line's hold converted, the
//! event, the "pembayaran diterima" message, the statement line, and once per 10,000 lines the
//! products' and buyers' counters — with none of lunas's engine: no settings, no templates, no
//! duplicate check, no review, but lunas's own statements in SQLite's cheapest forms (no
//! `RETURNING`, `OR FAIL` where several rows may change). What it takes is what the rows alone cost on this machine; the
//! import's bound (2 s) is reachable only if the peer is well under it. Its rows are checked table
//! by table against lunas's.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use lunas_core::statement::parse_statement;
use rusqlite::{Connection, params};

/// Lines per transaction, as lunas imports them.
const CHUNK_LINES: usize = 10_000;

/// A copy of the database at `from` (the store may be open: a reader's snapshot) at `to`.
pub(crate) fn snapshot(from: &Path, to: &Path) -> anyhow::Result<()> {
    let conn = Connection::open(from)?;
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    Ok(())
}

/// What lunas wrote for one exact payment, to be written alike.
struct Sample {
    actor: String,
    payment_source: String,
    line_source: String,
    message_kind: String,
    channel: String,
    body: String,
    superseded_error: Option<String>,
}

impl Sample {
    fn read(conn: &Connection) -> anyhow::Result<Sample> {
        let (order, actor, payment_source): (i64, String, String) = conn.query_row(
            "SELECT order_id, actor, source FROM payments ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let line_source: String =
            conn.query_row("SELECT source FROM statement_lines LIMIT 1", [], |r| {
                r.get(0)
            })?;
        let (message_kind, channel, body): (String, String, String) = conn.query_row(
            "SELECT kind, channel, body FROM messages WHERE order_id = ?1 ORDER BY rowid DESC LIMIT 1",
            [order],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let superseded_error = conn
            .query_row(
                "SELECT last_error FROM messages WHERE status = 'superseded' LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        Ok(Sample {
            actor,
            payment_source,
            line_source,
            message_kind,
            channel,
            body,
            superseded_error,
        })
    }
}

/// Every table's row count, and the messages and order lines by status.
pub(crate) fn counts(path: &Path) -> anyhow::Result<Vec<(String, i64)>> {
    let conn = Connection::open(path)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut counts = Vec::new();
    for table in tables {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })?;
        counts.push((table, n));
    }
    for (what, sql) in [
        (
            "messages by status",
            "SELECT status, COUNT(*) FROM messages GROUP BY status",
        ),
        (
            "orders by status",
            "SELECT status, COUNT(*) FROM orders GROUP BY status",
        ),
        (
            "order lines by hold",
            "SELECT hold, COUNT(*) FROM order_items GROUP BY hold",
        ),
    ] {
        let mut statement = conn.prepare(sql)?;
        let groups =
            statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for group in groups {
            let (key, n) = group?;
            counts.push((format!("{what}: {key}"), n));
        }
    }
    Ok(counts)
}

/// Imports `csv` into the database at `path` (a copy taken before lunas's import) the raw way;
/// `lunas` is lunas's database after its import, read for what a payment's rows hold. Returns
/// the seconds it took.
pub(crate) fn run(path: &Path, lunas: &Path, csv: &str) -> anyhow::Result<f64> {
    let sample = Sample::read(&Connection::open(lunas)?)?;
    let mut conn = crate::orders::like_lunas(path)?;
    let started = Instant::now();
    let now = jiff::Timestamp::now().as_millisecond();
    let statement = parse_statement(csv)?;
    // The open orders by the amount they wait for (every line of the bench pays one exactly).
    let mut open: HashMap<i64, (i64, i64)> = HashMap::new();
    {
        let mut read = conn.prepare(
            "SELECT amount_due, id, customer_id FROM orders WHERE status = 'awaiting_payment'",
        )?;
        for row in read.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))? {
            let (amount, order) = row?;
            open.insert(amount, order);
        }
    }
    let mut random: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in statement.lines.chunks(CHUNK_LINES) {
        let tx = conn.transaction()?;
        let mut paying: Vec<(i64, i64, &lunas_core::statement::StatementLine)> = chunk
            .iter()
            .map(|line| {
                let (order, customer) = open
                    .remove(&line.amount)
                    .ok_or_else(|| anyhow::anyhow!("no open order for {}", line.amount))?;
                Ok((order, customer, line))
            })
            .collect::<anyhow::Result<_>>()?;
        // In the orders' order, as lunas writes a chunk's exact payments.
        paying.sort_by_key(|(order, _, _)| *order);
        let mut stock: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut buyers: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (order, customer, line) in paying {
            let updated = tx
                .prepare_cached(
                    "UPDATE orders SET status = 'paid', amount_paid = ?2, written_off = 0, updated_at = ?3, ended_at = ?3
                     WHERE id = ?1 AND status = 'awaiting_payment' AND amount_paid = 0 AND COALESCE(amount_due, total) = ?2",
                )?
                .execute(params![order, line.amount, now])?;
            anyhow::ensure!(updated == 1, "the peer could not pay order {order}");
            // The payment is known by its line's fingerprint, so a re-import finds it.
            tx.prepare_cached(
                "INSERT INTO payments (order_id, amount, reference, recorded_at, actor, source, external_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                order,
                line.amount,
                format!("{} {}", line.date, line.description),
                now,
                sample.actor,
                sample.payment_source,
                line.fingerprint
            ])?;
            tx.prepare_cached("DELETE FROM timers WHERE order_id = ?1")?
                .execute([order])?;
            tx.prepare_cached(
                "UPDATE OR FAIL messages SET status = 'superseded', next_attempt_at = NULL, last_error = ?2
                 WHERE order_id = ?1 AND status IN ('pending', 'failed')
                   AND (kind = 'reminder' OR (kind IN ('order_received', 'cod_confirm') AND channel = 'manual_whatsapp'))",
            )?
            .execute(params![order, sample.superseded_error])?;
            let held: Vec<(String, i64)> = tx
                .prepare_cached(
                    "SELECT sku, qty FROM order_items WHERE order_id = ?1 AND hold = 'held'",
                )?
                .query_map([order], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            tx.prepare_cached(
                "UPDATE OR FAIL order_items SET hold = 'converted' WHERE order_id = ?1 AND hold = 'held'",
            )?
            .execute([order])?;
            for (sku, qty) in held {
                let change = stock.entry(sku).or_default();
                change.0 += qty;
                change.1 += qty;
            }
            let buyer = buyers.entry(customer).or_default();
            buyer.0 += 1;
            buyer.1 += line.amount;
            tx.prepare_cached(
                "INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason)
                 VALUES (?1, ?2, ?3, 'awaiting_payment', 'paid', NULL)",
            )?
            .execute(params![order, now, sample.actor])?;
            random = random
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            tx.prepare_cached(
                "INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, attempts, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, 'pending', 0, ?7)",
            )?
            .execute(params![
                format!("msg_{:012x}{random:016x}", now),
                order,
                sample.message_kind,
                sample.channel,
                "+6281300000000",
                sample.body,
                now
            ])?;
            tx.prepare_cached(
                "INSERT INTO statement_lines (fingerprint, source, imported_at, line_date, description, amount, balance, outcome, order_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'matched', ?8)",
            )?
            .execute(params![
                line.fingerprint,
                sample.line_source,
                now,
                line.date.to_string(),
                line.description,
                line.amount,
                line.balance,
                order
            ])?;
        }
        for (sku, (reserved, on_hand)) in &stock {
            tx.prepare_cached(
                "UPDATE products SET reserved = reserved - ?2, on_hand = on_hand - ?3 WHERE sku = ?1",
            )?
            .execute(params![sku, reserved, on_hand])?;
        }
        for (customer, (orders, amount)) in &buyers {
            tx.prepare_cached(
                "UPDATE customers SET orders_paid = orders_paid + ?2, amount_paid = amount_paid + ?3 WHERE id = ?1",
            )?
            .execute(params![customer, orders, amount])?;
        }
        tx.commit()?;
    }
    Ok(started.elapsed().as_secs_f64())
}
