//! Stock holds: ending an order's holds (released or converted) and applying the product
//! counter changes in SKU order.

use std::collections::BTreeMap;

use lunas_core::{HoldState, OrderId};

use crate::sql::{Db, DbResult, Dialect, params};

/// Moves every line of the order that still holds stock to `to` (released or converted) and
/// adjusts the product counters, in SKU order. The `hold = 'held'` guard makes this happen once
/// per line.
pub(crate) fn end_holds(db: &mut dyn Db, id: OrderId, to: HoldState) -> DbResult<()> {
    let mut stock = StockChanges::new();
    end_holds_into(db, id, to, &mut stock)?;
    apply_stock_changes(db, &stock)
}

/// Units to take off each product's `reserved` and `on_hand` counters, by SKU.
pub(crate) type StockChanges = BTreeMap<String, (i64, i64)>;

/// What a batch of expiries changes in rows other transactions also change — product counters,
/// buyers' expired counts — applied once, at the end of the batch, in key order (products by SKU,
/// then buyers by id), so that concurrent batches and payments never wait on each other in a
/// cycle.
#[derive(Default)]
pub struct BatchChanges {
    pub(crate) stock: StockChanges,
    pub(crate) expired_by_customer: BTreeMap<i64, i64>,
    /// COD orders their buyers never confirmed, counted as cancelled by the buyer.
    pub(crate) unconfirmed_by_customer: BTreeMap<i64, i64>,
    /// Orders paid in full, and the money that paid them, by buyer.
    pub(crate) paid_by_customer: BTreeMap<i64, (i64, i64)>,
}

impl BatchChanges {
    /// One more of this buyer's orders expired in the batch.
    pub fn count_expired(&mut self, customer_id: i64) {
        *self.expired_by_customer.entry(customer_id).or_default() += 1;
    }

    /// One more of this buyer's COD orders went unconfirmed in the batch.
    pub fn count_unconfirmed(&mut self, customer_id: i64) {
        *self.unconfirmed_by_customer.entry(customer_id).or_default() += 1;
    }

    /// One more of this buyer's orders paid in full in the batch, by a payment of `amount`.
    pub fn count_paid(&mut self, customer_id: i64, amount: lunas_core::Money) {
        let paid = self.paid_by_customer.entry(customer_id).or_default();
        paid.0 += 1;
        paid.1 += amount.minor_units();
    }

    /// The SKUs whose stock the batch changed, in order.
    pub fn skus(&self) -> Vec<lunas_core::Sku> {
        self.stock
            .keys()
            .cloned()
            .map(lunas_core::Sku::from_stored)
            .collect()
    }

    pub fn absorb(&mut self, other: BatchChanges) {
        for (sku, (reserved, on_hand)) in other.stock {
            let change = self.stock.entry(sku).or_default();
            change.0 += reserved;
            change.1 += on_hand;
        }
        for (customer, expired) in other.expired_by_customer {
            *self.expired_by_customer.entry(customer).or_default() += expired;
        }
        for (customer, n) in other.unconfirmed_by_customer {
            *self.unconfirmed_by_customer.entry(customer).or_default() += n;
        }
        for (customer, (orders, amount)) in other.paid_by_customer {
            let paid = self.paid_by_customer.entry(customer).or_default();
            paid.0 += orders;
            paid.1 += amount;
        }
    }

    pub(crate) fn apply(&self, db: &mut dyn Db) -> DbResult<()> {
        apply_stock_changes(db, &self.stock)?;
        for (customer, expired) in &self.expired_by_customer {
            db.execute(
                "UPDATE customers SET orders_expired = orders_expired + ?2 WHERE id = ?1",
                params![*customer, *expired],
            )?;
        }
        for (customer, n) in &self.unconfirmed_by_customer {
            db.execute(
                "UPDATE customers SET orders_cancelled_by_buyer = orders_cancelled_by_buyer + ?2 WHERE id = ?1",
                params![*customer, *n],
            )?;
        }
        for (customer, (orders, amount)) in &self.paid_by_customer {
            db.execute(
                "UPDATE customers SET orders_paid = orders_paid + ?2, amount_paid = amount_paid + ?3 WHERE id = ?1",
                params![*customer, *orders, *amount],
            )?;
        }
        Ok(())
    }
}

/// `end_holds` without touching the products yet: the counter changes are added to `stock`, to
/// be applied by `apply_stock_changes`. A batch of expiries applies them once, at its end, in
/// SKU order: one update per product instead of one per order, and the product rows are locked
/// last and always in the same order, so concurrent batches never deadlock on them.
pub(crate) fn end_holds_into(
    db: &mut dyn Db,
    id: OrderId,
    to: HoldState,
    stock: &mut StockChanges,
) -> DbResult<()> {
    let ended: Vec<(String, i64)> = match db.dialect() {
        // SQLite keeps a `RETURNING`'s rows in a temporary b-tree it opens and closes each time
        // (a tenth of an expiry batch's work went to such trees). Its one writer runs one
        // transaction at a time, so the lines read here are the lines the update ends.
        Dialect::Sqlite => {
            let held = db.rows(
                "SELECT sku, qty FROM order_items WHERE order_id = ?1 AND hold = 'held'",
                params![id.0],
                |row| Ok((row.text(0)?, row.int(1)?)),
            )?;
            if !held.is_empty() {
                // `OR FAIL`: no statement journal (see `stop_awaiting`).
                db.execute(
                    "UPDATE OR FAIL order_items SET hold = ?2 WHERE order_id = ?1 AND hold = 'held'",
                    params![id.0, to.as_str()],
                )?;
            }
            held
        }
        // Concurrent transactions: the lines this one ended, as it ended them.
        Dialect::Postgres => db.rows(
            "UPDATE order_items SET hold = ?2 WHERE order_id = ?1 AND hold = 'held' RETURNING sku, qty",
            params![id.0, to.as_str()],
            |row| Ok((row.text(0)?, row.int(1)?)),
        )?,
    };
    for (sku, qty) in ended {
        let change = stock.entry(sku).or_default();
        change.0 += qty;
        match to {
            HoldState::Released => {}
            HoldState::Converted => change.1 += qty,
            HoldState::Held => unreachable!("holds end as released or converted"),
        }
    }
    Ok(())
}

pub(crate) fn apply_stock_changes(db: &mut dyn Db, stock: &StockChanges) -> DbResult<()> {
    for (sku, &(reserved, on_hand)) in stock {
        db.execute(
            "UPDATE products SET reserved = reserved - ?2, on_hand = on_hand - ?3 WHERE sku = ?1",
            params![sku, reserved, on_hand],
        )?;
    }
    Ok(())
}
