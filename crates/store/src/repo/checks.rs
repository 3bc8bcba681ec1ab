//! The consistency report behind `lunas check` and the totals the metrics page shows.

use crate::sql::{Db, DbResult, params};
use lunas_core::placing::Totals;

pub(crate) fn consistency_report(db: &mut dyn Db) -> DbResult<Vec<String>> {
    let mut problems = Vec::new();
    // Units are held by unpaid orders' lines and by offers to the waitlist (one each).
    for (sku, counted, held) in db.rows(
        "SELECT sku, reserved, held FROM (
             SELECT p.sku, p.reserved,
                 CAST(COALESCE((SELECT SUM(i.qty) FROM order_items i WHERE i.sku = p.sku AND i.hold = 'held'), 0)
                      + (SELECT COUNT(*) FROM waitlist w WHERE w.sku = p.sku AND w.status = 'offered') AS BIGINT) AS held
             FROM products p) AS counted
         WHERE reserved != held",
        params![],
        |r| Ok((r.text(0)?, r.int(1)?, r.int(2)?)),
    )? {
        problems.push(format!(
            "{sku}: reserved is {counted} but held lines and offers add up to {held}"
        ));
    }
    for (id, status, hold) in db.rows(
        "SELECT o.id, o.status, i.hold FROM orders o JOIN order_items i ON i.order_id = o.id
         WHERE (o.status IN ('awaiting_payment', 'awaiting_balance', 'awaiting_confirmation', 'confirmed') AND i.hold != 'held')
            OR (o.status IN ('paid', 'packed', 'shipped', 'delivered', 'completed') AND i.hold != 'converted'
                -- A return received as resellable put its units back on sale.
                AND NOT (i.hold = 'released' AND EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.id AND r.resellable)))
            OR (o.status IN ('expired', 'cancelled', 'paid_needs_refund', 'returned_to_sender') AND i.hold != 'released')",
        params![],
        |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?)),
    )? {
        problems.push(format!(
            "order {id} is {status} but a line's hold is {hold}"
        ));
    }
    for sku in db.rows(
        "SELECT sku FROM products WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand",
        params![],
        |r| r.text(0),
    )? {
        problems.push(format!("{sku}: stock counters out of range"));
    }
    for id in db.rows(
        "SELECT o.id FROM orders o WHERE o.status IN ('awaiting_payment', 'awaiting_balance') AND o.pay_by IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.order_id = o.id AND t.kind = 'expire')",
        params![],
        |r| r.int(0),
    )? {
        problems.push(format!(
            "order {id} awaits payment with a deadline but has no expiry timer"
        ));
    }
    for id in db.rows(
        // (A delivered order whose return is being handled is completed when the return ends.)
        "SELECT o.id FROM orders o WHERE o.status IN ('awaiting_confirmation', 'delivered')
         AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.order_id = o.id AND t.kind IN ('confirm_cod', 'complete'))
         AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.id AND r.status IN ('requested', 'approved', 'received'))",
        params![],
        |r| r.int(0),
    )? {
        problems.push(format!(
            "order {id} waits for its COD confirmation or its return window but has no timer"
        ));
    }
    Ok(problems)
}

pub(crate) fn totals(db: &mut dyn Db) -> DbResult<Totals> {
    Ok(Totals {
        products: db.scalar("SELECT COUNT(*) FROM products", params![])?,
        customers: db.scalar("SELECT COUNT(*) FROM customers", params![])?,
        orders: db.scalar("SELECT COUNT(*) FROM orders", params![])?,
        events: db.scalar("SELECT COUNT(*) FROM order_events", params![])?,
        payments: db.scalar("SELECT COUNT(*) FROM payments", params![])?,
        timers: db.scalar("SELECT COUNT(*) FROM timers", params![])?,
        payments_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payments",
            params![],
        )?,
        on_hand_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM products",
            params![],
        )?,
        reserved_sum: db.scalar(
            "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM products",
            params![],
        )?,
    })
}
