//! The placement peer on PostgreSQL: `pgbench` running, one order per transaction, the
//! statements a lunas placement sends (`BEGIN`, the buyer's standing, the hold, the buyer's
//! upsert, the search for a free amount due, the order's rows in one statement, its message,
//! `COMMIT`), on a fresh database with lunas's schema and products, from `pgbench`'s own
//! clients: no engine, no pool, no Rust driver. What it reaches is what PostgreSQL allows those
//! statements on this machine, one order per transaction; `bench pg-orders` prints it beside
//! `tpcb-like`. What varies per order (the SKU, the buyer, the amount due, the tokens, the
//! message ids) is made by the server from `pgbench`'s random numbers; the rest is copied from an
//! order lunas wrote in the same run. Its rows per order are checked against lunas's.

use std::process::Stdio;

use lunas_store::PgUrl;

/// What lunas wrote for one order, copied into the peer's statements.
pub(crate) struct Sample {
    policy: Option<String>,
    actor: String,
    status: String,
    method: String,
    timers: String,
    messages: String,
    rows_per_order: Vec<(&'static str, f64)>,
}

/// `pgbench` takes every `:name` in a statement for a variable, even inside a string; in JSON as
/// PostgreSQL prints it a colon between key and value is followed by a space, so a colon followed
/// by a letter, digit or `_` is inside a string, where `\u003a` is the same character.
fn escape_colons(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(next) if c == ':' && (next.is_ascii_alphanumeric() || *next == '_') => {
                out.push_str("\\u003a");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Tables a placement writes rows into, besides `orders`.
const PER_ORDER: [&str; 4] = ["order_items", "order_events", "timers", "messages"];

fn rows_per_order(client: &mut postgres::Client) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let orders: i64 = client.query_one("SELECT COUNT(*) FROM orders", &[])?.get(0);
    anyhow::ensure!(orders > 0, "no orders written");
    let mut rows = Vec::new();
    for table in PER_ORDER {
        let n: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
            .get(0);
        rows.push((table, n as f64 / orders as f64));
    }
    Ok(rows)
}

impl Sample {
    /// Reads lunas's first order and its rows from the database at `url`.
    pub(crate) async fn read(url: &PgUrl) -> anyhow::Result<Sample> {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
            let order = client.query_one(
                "SELECT id, policy, status, payment_method, placed_at FROM orders ORDER BY id LIMIT 1",
                &[],
            )?;
            let (id, placed_at): (i64, i64) = (order.get(0), order.get(4));
            let actor: String = client
                .query_one("SELECT actor FROM order_events WHERE order_id = $1", &[&id])?
                .get(0);
            // The timers due as long after the peer's placement as after lunas's.
            let timers: String = client
                .query_one(
                    "SELECT CAST(COALESCE(jsonb_agg(jsonb_build_object('due_at', due_at - $2 + 1765000000000,
                         'kind', kind, 'step', step, 'ordinal', ordinal) ORDER BY id), '[]') AS TEXT)
                     FROM timers WHERE order_id = $1",
                    &[&id, &placed_at],
                )?
                .get(0);
            let messages: String = client
                .query_one(
                    "SELECT CAST(COALESCE(jsonb_agg(jsonb_build_object('kind', kind, 'channel', channel,
                         'recipient', recipient, 'subject', subject, 'body', body, 'status', status,
                         'last_error', last_error) ORDER BY id), '[]') AS TEXT)
                     FROM messages WHERE order_id = $1",
                    &[&id],
                )?
                .get(0);
            // The policy as lunas stored it, read back through JSONB so that it can be escaped.
            let policy: Option<String> = client
                .query_one(
                    "SELECT CAST(CAST(policy AS JSONB) AS TEXT) FROM orders WHERE id = $1",
                    &[&id],
                )?
                .get(0);
            Ok(Sample {
                policy: policy.as_deref().map(escape_colons),
                timers: escape_colons(&timers),
                messages: escape_colons(&messages),
                status: order.get(2),
                method: order.get(3),
                actor,
                rows_per_order: rows_per_order(&mut client)?,
            })
        })
        .await?
    }

    /// The `pgbench` script: `per_transaction` placements in each transaction. With more than
    /// one, each client places only its own SKU for its own buyers, as a batching writer would
    /// have to arrange: placements of random SKUs and buyers batched together wait on each
    /// other's row locks in cycles (tried: one order a second, every transaction a deadlock).
    fn script(&self, per_transaction: usize, clients: usize) -> String {
        let placement = self.placement();
        let placement = if per_transaction == 1 {
            placement
        } else {
            let per_client = (crate::BENCH_BUYERS / clients).max(1);
            placement
                .replacen(
                    &format!("\\set b random(0, {})", crate::BENCH_BUYERS - 1),
                    &format!(
                        "\\set b (:client_id % {clients}) * {per_client} + random(0, {})",
                        per_client - 1
                    ),
                    1,
                )
                .replacen(
                    &format!("\\set s random(0, {})", crate::BENCH_SKUS - 1),
                    &format!("\\set s :client_id % {}", crate::BENCH_SKUS),
                    1,
                )
        };
        format!("BEGIN;\n{}END;\n", placement.repeat(per_transaction))
    }

    /// The `pgbench` script of a writer that places `n` orders with multi-row statements: each
    /// client places its own SKU for its own buyers, `n` orders a transaction, in three
    /// statements — the buyers' standing, the search for free amounts due, and one statement
    /// holding the stock, upserting the buyers (each once, with its count of orders) and writing
    /// the orders with their lines, events, timers and messages. The most such a writer could
    /// reach: one product row a batch, no decision between the statements.
    fn multi_row_script(&self, n: usize, clients: usize) -> String {
        let per = (crate::BENCH_BUYERS / clients).max(1);
        let last = n - 1;
        let quote = |text: &str| format!("$lunas${text}$lunas$");
        let policy = self.policy.as_deref().map_or("NULL".to_owned(), |policy| {
            format!("CAST(CAST({} AS JSONB) AS TEXT)", quote(policy))
        });
        let standing = "orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused";
        let buyer = format!("(:b0 + g % {per})");
        let phone = format!("'+62812' || CAST(10000000 + {buyer} AS TEXT)");
        format!(
            r#"\set b0 (:client_id % {clients}) * {per}
\set s :client_id % {skus}
\set amount random(1, 9000000000000)
BEGIN;
SELECT id, band_pin, band_reason, {standing}, CAST(0 AS BIGINT) FROM customers WHERE phone IN (SELECT {phone} FROM generate_series(0, {last}) g) UNION ALL SELECT id, band_pin, band_reason, {standing}, CAST(1 AS BIGINT) FROM customers WHERE phone_hmac IN (SELECT md5(CAST({buyer} AS TEXT)) FROM generate_series(0, {last}) g) AND erased_at IS NOT NULL;
SELECT y.a, x.amount_due FROM generate_series(0, {last}) g CROSS JOIN LATERAL (SELECT CAST(:amount AS BIGINT) + g * 1000 AS a) y LEFT JOIN LATERAL (SELECT amount_due FROM orders WHERE amount_due BETWEEN y.a AND y.a + 999 AND status = 'awaiting_payment' AND unique_code IS NOT NULL ORDER BY amount_due LIMIT 64) x ON true;
WITH b AS (SELECT g, {phone} AS phone, {buyer} AS k FROM generate_series(0, {last}) g), h AS (UPDATE products SET reserved = reserved + {n} WHERE sku = 'SKU-' || lpad(CAST(:s AS TEXT), 3, '0') AND on_hand - reserved >= {n} AND price > 0 AND variants = 0 RETURNING sku, name, price), c AS (INSERT INTO customers (phone, name, email, honorific, created_at, updated_at, orders_placed, first_order_at, last_order_at) SELECT phone, 'Pembeli ' || CAST(MIN(k) AS TEXT), NULL, NULL, 1765000000000, 1765000000000, COUNT(*), 1765000000000, 1765000000000 FROM b GROUP BY phone ORDER BY phone ON CONFLICT (phone) DO UPDATE SET name = excluded.name, email = COALESCE(excluded.email, customers.email), honorific = COALESCE(excluded.honorific, customers.honorific), updated_at = excluded.updated_at, orders_placed = customers.orders_placed + excluded.orders_placed, first_order_at = COALESCE(customers.first_order_at, excluded.first_order_at), last_order_at = excluded.last_order_at RETURNING id, phone, name, email, honorific), o AS (INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by) SELECT c.id, '{status}', '{method}', h.price, 0, 1765086400000, 1765000000000, 1765000000000, {policy}, NULL, CAST(:amount AS BIGINT) + b.g * 1000, 1, 0, 0, md5(random()::text) || md5(random()::text), NULL, NULL FROM b JOIN c USING (phone) CROSS JOIN h ON CONFLICT DO NOTHING RETURNING id), i AS (INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) SELECT o.id, 0, h.sku, h.name, h.price, 1, 'held' FROM o CROSS JOIN h), e AS (INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason) SELECT o.id, 1765000000000, {actor}, NULL, '{status}', NULL FROM o), t AS (INSERT INTO timers (due_at, kind, order_id, step, ordinal) SELECT x.due_at, x.kind, o.id, x.step, x.ordinal FROM o CROSS JOIN jsonb_to_recordset(CAST({timers} AS JSONB)) AS x(due_at BIGINT, kind TEXT, step BIGINT, ordinal BIGINT)), m AS (INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at) SELECT 'msg_' || md5(random()::text), o.id, x.kind, x.channel, x.recipient, x.subject, x.body, x.status, x.last_error, 1765000000000 FROM o CROSS JOIN jsonb_to_recordset(CAST({messages} AS JSONB)) AS x(kind TEXT, channel TEXT, recipient TEXT, subject TEXT, body TEXT, status TEXT, last_error TEXT)) SELECT COUNT(*), (SELECT COALESCE(string_agg(w.id, ' ' ORDER BY w.created_at), '') FROM webhook_endpoints w) FROM o;
END;
"#,
            skus = crate::BENCH_SKUS,
            status = self.status,
            method = self.method,
            actor = quote(&self.actor),
            timers = quote(&self.timers),
            messages = quote(&self.messages),
        )
    }

    /// One placement's commands.
    fn placement(&self) -> String {
        // Dollar-quoted, so that the copied texts need no escaping.
        let quote = |text: &str| format!("$lunas${text}$lunas$");
        let policy = self.policy.as_deref().map_or("NULL".to_owned(), |policy| {
            format!("CAST(CAST({} AS JSONB) AS TEXT)", quote(policy))
        });
        let phone = "'+62812' || CAST(10000000 + CAST(:b AS BIGINT) AS TEXT)";
        let standing = "orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused";
        format!(
            r#"\set b random(0, {buyers})
\set s random(0, {skus})
\set amount random(1, 9000000000000)
SELECT id, band_pin, band_reason, {standing}, CAST(0 AS BIGINT) FROM customers WHERE phone = {phone} UNION ALL SELECT id, band_pin, band_reason, {standing}, CAST(1 AS BIGINT) FROM customers WHERE phone_hmac = md5(CAST(:b AS TEXT)) AND erased_at IS NOT NULL;
UPDATE products SET reserved = reserved + 1 WHERE sku = 'SKU-' || lpad(CAST(:s AS TEXT), 3, '0') AND on_hand - reserved >= 1 AND price > 0 AND variants = 0 AND price * 1 + 0 > 0 RETURNING sku, name, price, on_hand, reserved, tips, parent, variant, inherits_price, variants, photo_version \gset p_
INSERT INTO customers (phone, name, email, honorific, created_at, updated_at, orders_placed, first_order_at, last_order_at) VALUES ({phone}, 'Pembeli ' || CAST(:b AS TEXT), NULL, NULL, 1765000000000, 1765000000000, 1, 1765000000000, 1765000000000) ON CONFLICT (phone) DO UPDATE SET name = excluded.name, email = COALESCE(excluded.email, customers.email), honorific = COALESCE(excluded.honorific, customers.honorific), updated_at = excluded.updated_at, orders_placed = customers.orders_placed + 1, first_order_at = COALESCE(customers.first_order_at, excluded.first_order_at), last_order_at = excluded.last_order_at RETURNING id, phone, name, email, honorific \gset c_
SELECT amount_due FROM orders WHERE amount_due BETWEEN CAST(:amount AS BIGINT) AND CAST(:amount AS BIGINT) + 999 AND status = 'awaiting_payment' AND unique_code IS NOT NULL ORDER BY amount_due LIMIT 64;
WITH o AS (INSERT INTO orders (customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at, policy, deposit, amount_due, unique_code, shipping_cost, discount, public_token, note, confirm_by) VALUES (CAST(:c_id AS BIGINT), '{status}', '{method}', CAST(:p_price AS BIGINT), 0, 1765086400000, 1765000000000, 1765000000000, {policy}, NULL, CAST(:amount AS BIGINT), 1, 0, 0, md5(random()::text) || md5(random()::text), NULL, NULL) ON CONFLICT DO NOTHING RETURNING id), a AS (INSERT INTO order_addresses (order_id, recipient, phone, street, kelurahan, kecamatan, city, province, postcode) SELECT o.id, x.recipient, x.phone, x.street, x.kelurahan, x.kecamatan, x.city, x.province, x.postcode FROM o, jsonb_to_recordset(CAST('[]' AS JSONB)) AS x(recipient TEXT, phone TEXT, street TEXT, kelurahan TEXT, kecamatan TEXT, city TEXT, province TEXT, postcode TEXT)), i AS (INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) SELECT o.id, x.line, x.sku, x.name, x.unit_price, x.qty, 'held' FROM o, jsonb_to_recordset(jsonb_build_array(jsonb_build_object('line', 0, 'sku', CAST(:p_sku AS TEXT), 'name', CAST(:p_name AS TEXT), 'unit_price', CAST(:p_price AS BIGINT), 'qty', 1))) AS x(line BIGINT, sku TEXT, name TEXT, unit_price BIGINT, qty BIGINT)), e AS (INSERT INTO order_events (order_id, at, actor, from_status, to_status, reason) SELECT o.id, 1765000000000, {actor}, NULL, '{status}', NULL FROM o), t AS (INSERT INTO timers (due_at, kind, order_id, step, ordinal) SELECT x.due_at, x.kind, o.id, x.step, x.ordinal FROM o, jsonb_to_recordset(CAST({timers} AS JSONB)) AS x(due_at BIGINT, kind TEXT, step BIGINT, ordinal BIGINT)) SELECT o.id, (SELECT COALESCE(string_agg(w.id, ' ' ORDER BY w.created_at), '') FROM webhook_endpoints w) AS hooks FROM o \gset o_
INSERT INTO messages (id, order_id, kind, channel, recipient, subject, body, status, last_error, created_at) SELECT 'msg_' || md5(random()::text), CAST(:o_id AS BIGINT), x.kind, x.channel, x.recipient, x.subject, x.body, x.status, x.last_error, 1765000000000 FROM ROWS FROM (jsonb_to_recordset(CAST({messages} AS JSONB)) AS (kind TEXT, channel TEXT, recipient TEXT, subject TEXT, body TEXT, status TEXT, last_error TEXT)) WITH ORDINALITY AS x(kind, channel, recipient, subject, body, status, last_error, n) ORDER BY x.n;
"#,
            buyers = crate::BENCH_BUYERS - 1,
            skus = crate::BENCH_SKUS - 1,
            status = self.status,
            method = self.method,
            actor = quote(&self.actor),
            timers = quote(&self.timers),
            messages = quote(&self.messages),
        )
    }
}

/// Runs the peer for `seconds` with `clients` on `url` (lunas's schema and products, no
/// orders), `per_transaction` placements in each transaction; returns the orders it placed per
/// second, having checked its rows per order.
pub(crate) async fn run(
    url: &PgUrl,
    sample: &Sample,
    clients: usize,
    seconds: u64,
    per_transaction: usize,
    multi_row: bool,
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("placement.sql");
    let text = if multi_row {
        sample.multi_row_script(per_transaction, clients)
    } else {
        sample.script(per_transaction, clients)
    };
    std::fs::write(&script, text)?;
    let script = script.to_string_lossy();
    let tps = pgbench(&["-n", "-f", &script], clients, seconds, url).await?;
    let url = url.clone();
    let peer_rows = tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)?;
        rows_per_order(&mut client)
    })
    .await??;
    anyhow::ensure!(
        peer_rows == sample.rows_per_order,
        "the peer wrote {peer_rows:?} rows per order, lunas {:?}",
        sample.rows_per_order
    );
    Ok(tps * per_transaction as f64)
}

/// Runs `pgbench` with `workload` (`-b …` or `-f …`), prepared statements, `clients` clients
/// and two threads for `seconds` on `url`; returns its transactions per second.
pub(crate) async fn pgbench(
    workload: &[&str],
    clients: usize,
    seconds: u64,
    url: &PgUrl,
) -> anyhow::Result<f64> {
    let out = tokio::process::Command::new("pgbench")
        .args(workload)
        .args([
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
        ])
        .arg(seconds.to_string())
        .arg(url.expose())
        .stdin(Stdio::null())
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench {workload:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output:\n{text}"))
}
