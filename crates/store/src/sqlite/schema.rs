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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with the migrations up to `version` applied, foreign keys on as lunas runs.
    fn at_version(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for (index, sql) in crate::migrations::rendered(crate::sql::Dialect::Sqlite)
            .enumerate()
            .take(version)
        {
            conn.execute_batch(&sql).unwrap();
            conn.pragma_update(None, "user_version", index as i64 + 1)
                .unwrap();
        }
        conn
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// Whether SQLite's program for `sql` opens a temporary b-tree each time it runs.
    fn opens_a_temporary_tree(conn: &Connection, sql: &str) -> bool {
        let mut explain = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let opcodes: Vec<String> = explain
            .query_map([], |row| row.get::<_, String>(1))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        opcodes.iter().any(|op| op == "OpenEphemeral")
    }

    const WRITES: [&str; 4] = [
        "INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold)
         VALUES (1, 2, 'KAOS-M', 'Kaos', 1000, 1, 'held')",
        "UPDATE order_items SET hold = 'released' WHERE order_id = 1 AND hold = 'held'",
        "INSERT INTO messages (id, order_id, kind, channel, recipient, body, status, created_at)
         VALUES ('m2', 1, 'reminder', 'whatsapp', '+628', 'b', 'pending', 0)",
        "INSERT INTO payments (order_id, amount, recorded_at, actor, source) VALUES (1, 5, 0, 'a', 'statement')",
    ];

    #[test]
    fn the_hot_tables_are_rebuilt_with_their_rows_and_checks_that_open_no_temporary_tree() {
        let conn = at_version(22);
        conn.execute_batch(
            "INSERT INTO products (sku, name, price, on_hand, created_at, updated_at) VALUES ('KAOS-M', 'Kaos', 1000, 5, 0, 0);
             INSERT INTO customers (phone, name, created_at, updated_at) VALUES ('+6281234567890', 'Sari', 0, 0);
             INSERT INTO orders (customer_id, status, payment_method, total, placed_at, updated_at)
                 VALUES (1, 'awaiting_payment', 'bank_transfer', 1000, 0, 0);
             INSERT INTO order_items (order_id, line, sku, name, unit_price, qty, hold) VALUES (1, 1, 'KAOS-M', 'Kaos', 1000, 1, 'held');
             INSERT INTO messages (rowid, id, order_id, kind, channel, recipient, body, status, created_at, delivery)
                 VALUES (7, 'm1', 1, 'order_received', 'whatsapp', '+628', 'b', 'sent', 0, 'read');
             INSERT INTO payments (id, order_id, amount, recorded_at, actor, source, external_id)
                 VALUES (3, 1, 1000, 0, 'staff', 'midtrans', 'x-1');",
        )
        .unwrap();
        // As it was: each of these writes built a temporary index of its check's list.
        assert!(WRITES.iter().all(|sql| opens_a_temporary_tree(&conn, sql)));

        assert_eq!(migrate_in_transaction(&conn).unwrap().unwrap().1, 23);

        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM order_items WHERE order_id = 1 AND line = 1 AND hold = 'held'"
            ),
            1
        );
        assert_eq!(
            count(
                &conn,
                "SELECT rowid FROM messages WHERE id = 'm1' AND status = 'sent' AND delivery = 'read'"
            ),
            7
        );
        assert_eq!(
            count(
                &conn,
                "SELECT id FROM payments WHERE source = 'midtrans' AND external_id = 'x-1'"
            ),
            3
        );
        for sql in WRITES {
            assert!(!opens_a_temporary_tree(&conn, sql), "{sql}");
        }
        // The rules themselves are unchanged.
        for bad in [
            "UPDATE order_items SET hold = 'lost'",
            "UPDATE messages SET status = 'lost'",
            "UPDATE payments SET source = 'cash'",
        ] {
            assert!(conn.execute(bad, []).is_err(), "{bad}");
        }
        // The indexes came back: a payment's identity is still unique.
        assert!(
            conn.execute(
                "INSERT INTO payments (order_id, amount, recorded_at, actor, source, external_id) VALUES (1, 5, 0, 'a', 'midtrans', 'x-1')",
                []
            )
            .is_err()
        );
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('messages', 'payments') AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            indexes,
            [
                "messages_by_channel_status",
                "messages_by_order",
                "messages_by_waitlist",
                "payments_by_external",
                "payments_by_order"
            ]
        );
        assert_eq!(
            count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
            0
        );
    }
}
