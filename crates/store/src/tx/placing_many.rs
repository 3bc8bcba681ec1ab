//! The statements of a batch of one-line placements, each one statement for the whole batch
//! (PostgreSQL only; see `repo::placement_many`). A use case placing a batch calls them in this
//! order: standings, holds, buyers, orders, messages.

use lunas_core::customers::Standing;
use lunas_core::placing::{NewOrderLine, PlaceError};
use lunas_core::shipping::Charges;
use lunas_core::{CustomerInfo, Phone, Timestamp};

use super::{Tx, TxError, TxResult};
use crate::repo::{self, BatchOrder, FirstMessage, Held, InsertedOrder, LockedProducts};
use crate::sql::{DbError, Dialect};

impl Tx<'_> {
    /// The `*_many` statements are PostgreSQL's only (see `Store::places_in_batches`).
    fn batches_only(&mut self) -> TxResult<()> {
        match self.db.dialect() == Dialect::Postgres {
            true => Ok(()),
            false => Err(TxError(DbError::Corrupt(
                "a batch of placements on SQLite".into(),
            ))),
        }
    }

    /// Each buyer's standing and an earlier erasure's, by number and its HMAC, in their order.
    pub fn standings_many(
        &mut self,
        buyers: &[(&Phone, &str)],
    ) -> TxResult<Vec<(Option<Standing>, Option<Standing>)>> {
        self.batches_only()?;
        Ok(repo::standings_many(self.db, buyers)?)
    }

    /// Reads the products `skus` with their rows locked (SKU order) until the transaction ends,
    /// before a batch takes its last placements (those of these products that arrived meanwhile).
    pub fn lock_products(&mut self, skus: &[&str]) -> TxResult<LockedProducts> {
        self.batches_only()?;
        Ok(repo::lock_products(self.db, skus)?)
    }

    /// Holds each one-line placement's stock in the batch's order, or says why not, from the
    /// products `locked` (every line's SKU must have been among those locked).
    pub fn hold_many(
        &mut self,
        lines: &[(&NewOrderLine, Charges)],
        locked: &LockedProducts,
    ) -> TxResult<Vec<Result<Held, PlaceError>>> {
        self.batches_only()?;
        Ok(repo::hold_many(self.db, lines, locked)?)
    }

    /// Counts each order for its buyer; each order's buyer row id and buyer as stored.
    pub fn upsert_buyers(
        &mut self,
        customers: &[&CustomerInfo],
        now: Timestamp,
    ) -> TxResult<Vec<(i64, CustomerInfo)>> {
        self.batches_only()?;
        Ok(repo::upsert_buyers(self.db, customers, now)?)
    }

    /// Writes the orders with their rows, each with a free unique code.
    pub fn insert_orders(&mut self, orders: &[BatchOrder<'_>]) -> TxResult<Vec<InsertedOrder>> {
        self.batches_only()?;
        Ok(repo::insert_orders(self.db, orders)?)
    }

    /// Writes each order's first message (see `FirstMessage`).
    pub fn enqueue_many(
        &mut self,
        messages: Vec<FirstMessage<'_>>,
        now: Timestamp,
    ) -> TxResult<()> {
        self.batches_only()?;
        Ok(repo::enqueue_many(
            self.db,
            messages,
            crate::repo::millis(now),
        )?)
    }
}
