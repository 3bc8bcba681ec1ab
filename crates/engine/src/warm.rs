//! Readying a PostgreSQL store's connections before the first buyer (`lunas serve` at start).
//! A connection is opened when first needed, and each statement is prepared on a connection the
//! first time that connection runs it, by a server process whose caches of the tables start
//! empty: a process that has just started pays all of it on its first placements, under the
//! product's row lock when many buyers want the same product at once — a live sale right after
//! a restart. Measured: the first placement on a new connection took 15–20 ms, and a flash sale
//! started on fresh processes had a p99 of 48–63 ms against 30–38 ms on warm ones (BENCHMARKS.md,
//! issue 21 step ten).
//!
//! Each connection warmed runs a placement alone and a batch of two in a transaction that is
//! rolled back: a product, buyers, orders and messages written and undone, so the statements
//! are prepared and the tables' caches filled, and nothing stays (only sequence numbers are
//! used up, as a rolled-back placement always uses them).

use lunas_core::catalog::ProductInput;
use lunas_core::placing::{NewOrder, NewOrderLine};
use lunas_core::shipping::Charges;
use lunas_core::{Actor, CustomerInfo, Money, PaymentMethod, Phone, Quantity, Sku};

use lunas_store::StoreError;

use crate::batches::place_many;
use crate::placing::place;
use crate::{Engine, Error, pages};

/// Connections readied: as many as run placements at once in a process under a flash sale
/// (the batches at once, a token read, a spare).
pub const CONNECTIONS: usize = crate::batches::BATCHES_AT_ONCE + 2;

impl Engine {
    /// On PostgreSQL, opens `connections` of the store's connections and readies each for
    /// placements (see the module); returns how many it readied (0 on SQLite, whose writer has
    /// one connection, open from the start).
    pub async fn warm_up(&self, connections: usize) -> Result<usize, Error> {
        if !self.store.places_in_batches() {
            return Ok(0);
        }
        let mut trials = Vec::with_capacity(connections);
        for n in 0..connections {
            trials.push(self.trial(n).await?);
        }
        // At once, so that each takes a connection of its own.
        let runs: Vec<_> = trials
            .into_iter()
            .map(|trial| {
                let store = self.store.clone();
                tokio::spawn(async move {
                    store
                        .transact(move |tx| {
                            let [alone, first, second] = &trial.orders;
                            if tx.put_product(&trial.product, alone.placed_at)?.is_err() {
                                return Ok(Err::<(), ()>(()));
                            }
                            // Placed or refused, its statements are ready.
                            let _placed = place(tx, alone, 1)?;
                            let locked = tx.lock_products(&[trial.product.sku.as_str()])?;
                            place_many(tx, &[(first, 2), (second, 3)], &locked)?;
                            // Rolled back: nothing of it stays.
                            Ok(Err(()))
                        })
                        .await
                })
            })
            .collect();
        for run in runs {
            run.await
                .map_err(|e| StoreError::Internal(format!("a warm-up ended early: {e}")))??
                .ok();
        }
        Ok(connections)
    }

    /// A product no seller has (a random SKU, a price of its own so that trials at once never
    /// wait for each other's amounts due) and three orders of it for three new numbers.
    async fn trial(&self, n: usize) -> Result<Trial, Error> {
        let tag: u32 = rand::random();
        let sku = Sku::parse(&format!("LUNAS-WARMUP-{tag:08X}-{n}")).expect("a valid SKU");
        let placed_at = self.now();
        let base_rate = self.base_rate().await?;
        let mut orders = Vec::with_capacity(3);
        for k in 0..3 {
            let phone = Phone::parse(&format!("0899{:08}", (tag % 1_000_000) * 100 + k))
                .expect("a valid mobile number");
            orders.push(NewOrder {
                phone_hmac: self.phone_hmac(&phone).await?,
                customer: CustomerInfo {
                    phone,
                    name: "Pemanasan".into(),
                    email: None,
                    honorific: None,
                },
                lines: vec![NewOrderLine {
                    sku: sku.clone(),
                    qty: Quantity::new(1).expect("one unit"),
                }],
                address: None,
                charges: Charges::default(),
                payment_method: PaymentMethod::BankTransfer,
                pay_within: None,
                placed_at,
                actor: Actor::from_stored("lunas:warm-up".to_owned()),
                idempotency: None,
                messaging: self.messaging(),
                base_rate,
                public_token: pages::new_token(placed_at),
                note: None,
            });
        }
        let [alone, first, second] = <[NewOrder; 3]>::try_from(orders).expect("three orders");
        Ok(Trial {
            product: ProductInput {
                sku,
                name: "Pemanasan".into(),
                price: Money::price(100_000 + 10_000 * n as i64).expect("a valid price"),
                stock: 3,
                tips: None,
                variant: None,
            },
            orders: [alone, first, second],
        })
    }
}

struct Trial {
    product: ProductInput,
    orders: [NewOrder; 3],
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lunas_store::testing::{Backend, TestDb};

    use crate::{Engine, ManualClock};

    /// Warming places for real on each connection and rolls it all back: nothing of it stays,
    /// only the order numbers it drew are used up.
    #[tokio::test]
    async fn warming_up_places_on_each_connection_and_leaves_nothing() {
        let db = TestDb::new(Backend::Postgres);
        let store = db.open().await;
        let clock = Arc::new(ManualClock::new(
            jiff::Timestamp::from_second(1_765_000_000).unwrap(),
        ));
        let engine = Engine::new(store.clone(), clock).await.unwrap();
        assert_eq!(engine.warm_up(3).await.unwrap(), 3);
        for table in [
            "products",
            "customers",
            "orders",
            "order_items",
            "order_events",
            "timers",
            "messages",
        ] {
            assert_eq!(
                db.pg_scalar(&format!("SELECT COUNT(*) FROM {table}")),
                0,
                "{table}"
            );
        }
        // Each of the three placed three orders before it was rolled back.
        assert!(
            db.pg_scalar("SELECT last_value FROM orders_id_seq") >= 9,
            "the trials placed their orders"
        );
    }

    #[tokio::test]
    async fn there_is_nothing_to_warm_on_sqlite() {
        let db = TestDb::new(Backend::Sqlite);
        let store = db.open().await;
        let clock = Arc::new(ManualClock::new(
            jiff::Timestamp::from_second(1_765_000_000).unwrap(),
        ));
        let engine = Engine::new(store, clock).await.unwrap();
        assert_eq!(engine.warm_up(3).await.unwrap(), 0);
    }
}
