//! Placements in batches, on PostgreSQL. There every statement is a round trip and an executor's
//! start and end, whatever it writes, and a placement is about seven of them: PostgreSQL spent on
//! those what `pgbench` spends on `tpcb-like` twice over, and batching commits alone did not
//! change it (BENCHMARKS.md, issue 21 steps eight and nine). Here the one-line placements that
//! arrive while a batch runs wait in this process and go into the next batch together (at most
//! `BATCH_LEN_MAX`, no waiting on a timer: a batch is what gathered meanwhile, so a lone buyer
//! waits for nothing), and a batch is placed with one statement per step for all of its
//! placements (`place_many`; the store's `*_many`), each decided as it would be alone, each
//! answered only once the batch's transaction is durable. At most `BATCHES_AT_ONCE` batches run
//! at once in a process.
//!
//! While sold-out SKUs are remembered (a flash sale; see `Engine::watch_sold_out`), a placement of
//! a SKU found sold out while it waited is refused without being tried, and a refusal for a SKU
//! with nothing left is remembered.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lunas_core::placing::{NewOrder, PlaceError, Placed};
use lunas_core::{CustomerInfo, Phone};
use lunas_store::{BatchOrder, FirstMessage, LockedProducts, Tx, TxResult};

use crate::placing::{
    decide, first_message, head, new_order, out_of_stock, place, remember_sold_out,
    total_with_charges,
};

/// A placement's result as the store gives it: placed, or refused with nothing written.
type Placing = Result<Result<Placed, PlaceError>, lunas_store::StoreError>;

type Answer = tokio::sync::oneshot::Sender<Placing>;

/// A one-line placement waiting for a batch.
pub(crate) struct Waiting {
    pub new: NewOrder,
    /// Draws the first unique code to try; a batch that runs again draws the same.
    pub random: u64,
    /// The sold-out memory's mark, taken before the placement was decided (`None`: not
    /// remembering).
    pub mark: Option<u64>,
}

/// The most placements one batch takes.
const BATCH_LEN_MAX: usize = 64;

/// Batches running at once in a process: while one waits for PostgreSQL, the next is decided.
pub(crate) const BATCHES_AT_ONCE: usize = 2;

/// The placements waiting for a batch, each with its number.
type Queue = Arc<std::sync::Mutex<VecDeque<(u64, Waiting, Answer)>>>;

pub(crate) struct Batches {
    waiting: Queue,
    running: Arc<tokio::sync::Semaphore>,
    /// Numbers the waiting placements, so that one whose requester went can be taken out.
    next: AtomicU64,
    /// How many batches ran (one transaction each, however often it ran again).
    ran: AtomicU64,
}

impl Default for Batches {
    fn default() -> Self {
        Batches {
            waiting: Queue::default(),
            running: Arc::new(tokio::sync::Semaphore::new(BATCHES_AT_ONCE)),
            next: AtomicU64::new(0),
            ran: AtomicU64::new(0),
        }
    }
}

impl Batches {
    /// Places `waiting` in a batch and answers when that batch has committed.
    pub(crate) async fn place(&self, store: &lunas_store::Store, waiting: Waiting) -> Placing {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (answer, mut answered) = tokio::sync::oneshot::channel();
        self.waiting
            .lock()
            .expect("batches lock")
            .push_back((id, waiting, answer));
        let _queued = Queued { batches: self, id };
        loop {
            if let Ok(placing) = answered.try_recv() {
                return placing;
            }
            let permit = self
                .running
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let batch: Option<Vec<(Waiting, Answer)>> = {
                let mut waiting = self.waiting.lock().expect("batches lock");
                waiting.iter().any(|(i, _, _)| *i == id).then(|| {
                    let len = waiting.len().min(BATCH_LEN_MAX);
                    waiting.drain(..len).map(|(_, w, a)| (w, a)).collect()
                })
            };
            let Some(batch) = batch else {
                // Taken into a batch that another caller started: its answer comes from there.
                drop(permit);
                return answered.await.unwrap_or_else(|_| {
                    Err(lunas_store::StoreError::Internal(
                        "a batch of placements ended without answering".into(),
                    ))
                });
            };
            // The batch runs in a task of its own, so that a request dropped by its client never
            // leaves the others of its batch unanswered.
            self.ran.fetch_add(1, Ordering::Relaxed);
            let (placing, queue) = (store.clone(), self.waiting.clone());
            let run = tokio::spawn(async move {
                place_batch(placing, queue, batch).await;
                drop(permit);
            });
            // Its answers are sent before the task ends; ours is among them or in a later batch.
            let _ = run.await;
            self.refuse_sold_out(store);
        }
    }

    /// Answers at once the waiting placements of SKUs now remembered sold out (a flash sale's
    /// queue once its stock is gone), instead of taking them batch by batch.
    fn refuse_sold_out(&self, store: &lunas_store::Store) {
        if store.sold_out_mark().is_none() {
            return;
        }
        let refused: Vec<(Waiting, Answer)> = {
            let mut waiting = self.waiting.lock().expect("batches lock");
            let (gone, kept) = std::mem::take(&mut *waiting)
                .into_iter()
                .partition(|(_, w, _)| store.is_sold_out(&w.new.lines[0].sku));
            *waiting = kept;
            gone.into_iter().map(|(_, w, a)| (w, a)).collect()
        };
        for (w, answer) in refused {
            let _ = answer.send(Ok(Err(out_of_stock(&w.new.lines[0]))));
        }
    }
}

/// A placement in the queue until its requester has its answer or goes: a placement not yet
/// taken into a batch leaves with its requester (a client that hung up).
struct Queued<'a> {
    batches: &'a Batches,
    id: u64,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.batches
            .waiting
            .lock()
            .expect("batches lock")
            .retain(|(id, _, _)| *id != self.id);
    }
}

/// Places `batch` in one transaction and answers each: all of them with the store's error if the
/// transaction failed. The batch first locks its products, then takes from `queue` the
/// placements of those products that arrived while it waited for them (up to `BATCH_LEN_MAX`):
/// when buyers of one SKU queue behind its row (a flash sale), each wait for the row gathers a
/// batch instead of ending in a batch of one.
async fn place_batch(store: lunas_store::Store, queue: Queue, batch: Vec<(Waiting, Answer)>) {
    // Sold out while these waited: refused without a transaction.
    let untried = batch
        .iter()
        .all(|(w, _)| store.is_sold_out(&w.new.lines[0].sku));
    let members = Arc::new(std::sync::Mutex::new(batch));
    let (placing, remembering) = (members.clone(), store.clone());
    let outcome = match untried {
        true => Ok(None),
        false => {
            store
                .transact_always(move |tx| {
                    let mut members = placing.lock().expect("batch lock");
                    // Owned: `gather` adds to the members while the SKUs are in use.
                    let skus: std::collections::BTreeSet<String> = members
                        .iter()
                        .map(|(w, _)| w.new.lines[0].sku.as_str().to_owned())
                        .collect();
                    let skus: Vec<&str> = skus.iter().map(String::as_str).collect();
                    let locked = tx.lock_products(&skus)?;
                    gather(&queue, &skus, &mut members);
                    place_members(tx, &remembering, &members, &locked).map(Some)
                })
                .await
        }
    };
    let members = std::mem::take(&mut *members.lock().expect("batch lock"));
    let results: Vec<Placing> = match outcome {
        Ok(Some(results)) => results.into_iter().map(Ok).collect(),
        Ok(None) => members
            .iter()
            .map(|(w, _)| Ok(Err(out_of_stock(&w.new.lines[0]))))
            .collect(),
        Err(e) => members.iter().map(|_| Err(e.clone())).collect(),
    };
    for ((w, answer), result) in members.into_iter().zip(results) {
        if let (Ok(Err(refused)), Some(mark)) = (&result, w.mark) {
            remember_sold_out(&store, refused, mark);
        }
        // The requester may have gone (its client hung up): the order stands all the same.
        let _ = answer.send(result);
    }
}

/// Moves from `queue` into `members` the placements of `skus` (whose rows the batch holds), in
/// their order of arrival, until the batch is full.
fn gather(queue: &Queue, skus: &[&str], members: &mut Vec<(Waiting, Answer)>) {
    let mut queue = queue.lock().expect("batches lock");
    let mut kept = VecDeque::with_capacity(queue.len());
    for (id, w, answer) in queue.drain(..) {
        match members.len() < BATCH_LEN_MAX && skus.contains(&w.new.lines[0].sku.as_str()) {
            true => members.push((w, answer)),
            false => kept.push_back((id, w, answer)),
        }
    }
    *queue = kept;
}

/// The batch's results, in its order: a placement of a SKU remembered sold out refused without
/// being tried, the others placed with `place_many`.
fn place_members(
    tx: &mut Tx<'_>,
    store: &lunas_store::Store,
    members: &[(Waiting, Answer)],
    locked: &LockedProducts,
) -> TxResult<Vec<Result<Placed, PlaceError>>> {
    let skipped: Vec<Option<PlaceError>> = members
        .iter()
        .map(|(w, _)| {
            let line = &w.new.lines[0];
            store.is_sold_out(&line.sku).then(|| out_of_stock(line))
        })
        .collect();
    let batch: Vec<(&NewOrder, u64)> = members
        .iter()
        .zip(&skipped)
        .filter(|(_, skipped)| skipped.is_none())
        .map(|((w, _), _)| (&w.new, w.random))
        .collect();
    let mut placed = match batch.is_empty() {
        true => Vec::new(),
        false => place_many(tx, &batch, locked)?,
    }
    .into_iter();
    Ok(skipped
        .into_iter()
        .map(|skipped| match skipped {
            Some(refused) => Err(refused),
            None => placed.next().expect("a result for every placement tried"),
        })
        .collect())
}

/// Places `batch` (one-line placements without idempotency keys, each with its `random`) with
/// one statement per step for all of them, deciding each as `placing::place` would one after
/// another: the standings, then each placement's policy, the holds (stock counted down in the
/// batch's order, from the products `locked`, which hold every placement's SKU), the buyers, the
/// orders with their rows, their first messages. Answers in the batch's order.
pub(crate) fn place_many(
    tx: &mut Tx<'_>,
    batch: &[(&NewOrder, u64)],
    locked: &LockedProducts,
) -> TxResult<Vec<Result<Placed, PlaceError>>> {
    // A lone buyer (nobody arrived while the last batch ran): the one-order path's statements are
    // fewer (BENCHMARKS.md, issue 21 step nine: 0.6 ms less a placement).
    if let [(new, random)] = batch {
        return Ok(vec![place(tx, new, *random)?]);
    }
    let mut results: Vec<Option<Result<Placed, PlaceError>>> =
        (0..batch.len()).map(|_| None).collect();
    let buyers: Vec<(&Phone, &str)> = batch
        .iter()
        .map(|(new, _)| (&new.customer.phone, new.phone_hmac.as_str()))
        .collect();
    let standings = tx.standings_many(&buyers)?;
    let mut decided = Vec::with_capacity(batch.len());
    for (i, ((new, _), (own, erased))) in batch.iter().zip(&standings).enumerate() {
        match decide(tx, new, own.as_ref(), erased.as_ref())? {
            Ok(placement) => decided.push((i, placement)),
            Err(refused) => results[i] = Some(Err(refused)),
        }
    }
    let lines: Vec<_> = decided
        .iter()
        .map(|(i, _)| (&batch[*i].0.lines[0], batch[*i].0.charges))
        .collect();
    let held = tx.hold_many(&lines, locked)?;
    let mut going = Vec::with_capacity(decided.len());
    for ((i, placement), held) in decided.into_iter().zip(held) {
        match held {
            Ok(held) => {
                let total = total_with_charges(batch[i].0, held.total)?;
                let policy = placement.policy(total);
                going.push((i, placement, held, total, policy));
            }
            Err(refused) => results[i] = Some(Err(refused)),
        }
    }
    if !going.is_empty() {
        // The batch's rows carry its latest placement's time.
        let now = batch
            .iter()
            .map(|(new, _)| new.placed_at)
            .max()
            .expect("a batch has placements");
        let customers: Vec<&CustomerInfo> =
            going.iter().map(|(i, ..)| &batch[*i].0.customer).collect();
        let buyers = tx.upsert_buyers(&customers, now)?;
        let orders: Vec<BatchOrder<'_>> = going
            .iter()
            .zip(&buyers)
            .map(|((i, placement, held, total, policy), (customer_id, _))| {
                let (new, random) = batch[*i];
                BatchOrder {
                    head: head(new, placement, policy, *customer_id, *total, random),
                    items: &held.items,
                    timers: &placement.timers,
                    codes: &new.messaging.settings.payments.unique_code,
                }
            })
            .collect();
        let inserted = tx.insert_orders(&orders)?;
        drop(orders);
        let mut placed = Vec::with_capacity(going.len());
        for (((i, placement, held, total, policy), (_, customer)), inserted) in
            going.into_iter().zip(buyers).zip(inserted)
        {
            let new = batch[i].0;
            let order = new_order(
                new, &placement, policy, customer, held.items, total, &inserted,
            );
            let webhooks = inserted.webhooks.unwrap_or_default();
            placed.push((i, order, held.tips, webhooks));
        }
        let messages: Vec<FirstMessage<'_>> = placed
            .iter_mut()
            .map(|(i, order, tips, webhooks)| {
                (
                    &batch[*i].0.messaging,
                    first_message(order.status),
                    &*order,
                    std::mem::take(tips),
                    std::mem::take(webhooks),
                )
            })
            .collect();
        tx.enqueue_many(messages, now)?;
        for (i, order, _, _) in placed {
            results[i] = Some(Ok(Placed {
                order,
                replayed: false,
            }));
        }
    }
    Ok(results
        .into_iter()
        .map(|result| result.expect("every placement of the batch is answered"))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lunas_core::catalog::{ProductInput, VariantInput};
    use lunas_core::placing::{NewOrder, NewOrderLine, PlaceError};
    use lunas_core::shipping::{Address, Charges};
    use lunas_core::{
        Actor, CustomerInfo, Honorific, Money, OrderStatus, PaymentMethod, Phone, Quantity, Sku,
    };
    use lunas_store::testing::{Backend, TestDb};

    use crate::{Engine, ManualClock};

    async fn product(engine: &Engine, sku: &str, stock: i64, price: i64, parent: Option<&str>) {
        engine
            .put_product(ProductInput {
                sku: Sku::parse(sku).unwrap(),
                name: sku.into(),
                price: Money::price(price).unwrap(),
                stock,
                tips: Some(format!("tip {sku}")),
                variant: parent.map(|parent| VariantInput {
                    parent: Sku::parse(parent).unwrap(),
                    label: "Merah".into(),
                    own_price: false,
                }),
            })
            .await
            .unwrap();
    }

    /// A placement as `place_order` would make it, for `phone` of `sku`.
    async fn new_order(engine: &Engine, phone: &str, sku: &str, qty: i64) -> NewOrder {
        let phone = Phone::parse(phone).unwrap();
        let placed_at = engine.now();
        NewOrder {
            phone_hmac: engine.phone_hmac(&phone).await.unwrap(),
            customer: CustomerInfo {
                phone,
                name: "Pembeli".into(),
                email: None,
                honorific: None,
            },
            lines: vec![NewOrderLine {
                sku: Sku::parse(sku).unwrap(),
                qty: Quantity::new(qty).unwrap(),
            }],
            address: None,
            charges: Charges::default(),
            payment_method: PaymentMethod::BankTransfer,
            pay_within: None,
            placed_at,
            actor: Actor::api_token("test"),
            idempotency: None,
            messaging: engine.messaging(),
            base_rate: engine.base_rate().await.unwrap(),
            public_token: crate::pages::new_token(placed_at),
            note: None,
        }
    }

    /// One batch placed with a statement per step answers each placement as it would be answered
    /// alone, one after another: stock counted down in the batch's order, a number ordering twice
    /// counted twice, every refusal with its reason and nothing written for it, amounts due drawn
    /// alike moved apart, each order with its rows and first message.
    #[tokio::test]
    async fn a_batch_decides_each_placement_as_one_after_another_would() {
        let db = TestDb::new(Backend::Postgres);
        let store = db.open().await;
        let clock = Arc::new(ManualClock::new(
            jiff::Timestamp::from_second(1_765_000_000).unwrap(),
        ));
        let engine = Engine::new(store.clone(), clock).await.unwrap();
        let mut settings = (*engine.settings()).clone();
        // Three amounts due per total: the batch's orders of one price must share them.
        settings.payments.unique_code.max = 3;
        engine.put_settings(settings).await.unwrap();
        product(&engine, "A", 3, 10_000, None).await;
        product(&engine, "B", 5, 20_000, None).await;
        product(&engine, "G", 0, 30_000, None).await;
        product(&engine, "G-M", 4, 30_000, Some("G")).await;

        let mut batch = vec![
            new_order(&engine, "081200000001", "A", 1).await,
            new_order(&engine, "081200000002", "A", 2).await,
            new_order(&engine, "081200000003", "A", 1).await, // none left
            new_order(&engine, "081200000001", "B", 1).await, // the same number again
            new_order(&engine, "081200000004", "NOPE", 1).await,
            new_order(&engine, "081200000005", "G", 1).await, // a product sold by its variants
            new_order(&engine, "081200000006", "B", 1).await, // a discount above its total
            new_order(&engine, "081200000007", "B", 1).await, // with an address
            new_order(&engine, "081200000008", "B", 1).await,
            new_order(&engine, "081200000009", "B", 1).await, // no amount left
        ];
        batch[3].customer.email = Some("sari@example.com".into());
        batch[3].customer.honorific = Some(Honorific::Bu);
        batch[6].charges.discount = Money::from_stored(50_000);
        batch[7].address = Some(Address {
            recipient: "Sari".into(),
            phone: Phone::parse("081200000007").unwrap(),
            street: "Jl. Melati 1".into(),
            kelurahan: Some("Sukajadi".into()),
            kecamatan: Some("Sukajadi".into()),
            city: "Bandung".into(),
            province: "Jawa Barat".into(),
            postcode: Some("40162".into()),
        });
        let batch = Arc::new(batch);
        let placing = batch.clone();
        let results = store
            .transact_always(move |tx| {
                let batch: Vec<(&NewOrder, u64)> = placing
                    .iter()
                    .enumerate()
                    .map(|(i, new)| (new, i as u64 % 2))
                    .collect();
                let locked = tx.lock_products(&["A", "B", "G", "G-M", "NOPE"])?;
                super::place_many(tx, &batch, &locked)
            })
            .await
            .unwrap();

        let refused = |i: usize| results[i].as_ref().err().cloned();
        let placed = |i: usize| &results[i].as_ref().expect("placed").order;
        assert!(matches!(
            refused(2),
            Some(PlaceError::OutOfStock {
                requested: 1,
                available: 0,
                ..
            })
        ));
        assert!(matches!(refused(4), Some(PlaceError::UnknownSku { .. })));
        assert!(matches!(
            refused(5),
            Some(PlaceError::VariantRequired { .. })
        ));
        assert!(matches!(
            refused(6),
            Some(PlaceError::DiscountAboveTotal { .. })
        ));
        for i in [0, 1, 3, 7, 8, 9] {
            let order = placed(i);
            assert_eq!(order.status, OrderStatus::AwaitingPayment, "{i}");
            assert_eq!(
                order.public_token.as_deref(),
                Some(batch[i].public_token.as_str())
            );
        }
        assert_eq!(placed(1).total, Money::from_stored(20_000));
        // The number that ordered twice: counted twice, both orders carry its row after both.
        assert_eq!(
            placed(0).customer.email.as_deref(),
            Some("sari@example.com")
        );
        assert_eq!(
            db.pg_scalar("SELECT orders_placed FROM customers WHERE phone = '+6281200000001'"),
            2
        );
        // Five orders of 20,000 (two A, four B) for three amounts: three codes drawn alike moved
        // apart, two orders without one.
        let mut amounts: Vec<_> = [1, 3, 7, 8, 9]
            .iter()
            .map(|&i| placed(i).amount_due.minor_units())
            .collect();
        amounts.sort();
        assert_eq!(amounts, [20_000, 20_000, 20_001, 20_002, 20_003]);
        assert_eq!(placed(7).address, batch[7].address);

        // What was written: stock, rows per order, the first messages.
        let stock = |sku: &str| {
            db.pg_scalar(&format!(
                "SELECT reserved FROM products WHERE sku = '{sku}'"
            ))
        };
        assert_eq!((stock("A"), stock("B"), stock("G-M")), (3, 4, 0));
        assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM orders"), 6);
        assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM order_items"), 6);
        assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM order_events"), 6);
        assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM order_addresses"), 1);
        assert_eq!(
            db.pg_scalar("SELECT COUNT(DISTINCT order_id) FROM timers"),
            6,
            "every order has its deadline"
        );
        assert_eq!(
            db.pg_scalar(
                "SELECT COUNT(DISTINCT m.order_id) FROM messages m JOIN orders o ON o.id = m.order_id
                 WHERE m.kind = 'order_received'"
            ),
            6
        );
        assert_eq!(
            db.pg_scalar("SELECT COUNT(*) FROM customers"),
            5,
            "refused numbers leave no row"
        );
        assert!(store.consistency_report().await.unwrap().is_empty());
    }

    /// Buyers of one SKU that arrive while the batches before them wait for its row (a flash
    /// sale: another process holds it) go into the first batch that gets the row, not into
    /// batches of their own after it.
    #[tokio::test]
    async fn a_batch_waiting_for_its_product_takes_the_buyers_that_arrived_meanwhile() {
        let db = TestDb::new(Backend::Postgres);
        let store = db.open().await;
        let clock = Arc::new(ManualClock::new(
            jiff::Timestamp::from_second(1_765_000_000).unwrap(),
        ));
        let engine = Arc::new(Engine::new(store.clone(), clock).await.unwrap());
        product(&engine, "GATHER", 10, 20_000, None).await;
        // Another process holds the product's row.
        let hold = db.pg_hold("SELECT 1 FROM products WHERE sku = 'GATHER' FOR NO KEY UPDATE");
        let batches = &engine.placing;
        let place = |n: u32| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .place_order(crate::PlaceOrder {
                        customer: CustomerInfo {
                            phone: Phone::parse(&format!("0812000003{n:02}")).unwrap(),
                            name: "Pembeli".into(),
                            email: None,
                            honorific: None,
                        },
                        lines: vec![NewOrderLine {
                            sku: Sku::parse("GATHER").unwrap(),
                            qty: Quantity::new(1).unwrap(),
                        }],
                        address: None,
                        charges: Charges::default(),
                        payment_method: PaymentMethod::BankTransfer,
                        pay_within: None,
                        actor: Actor::api_token("test"),
                        idempotency: None,
                        note: None,
                    })
                    .await
            })
        };
        // Two batches (as many as run at once) wait for the row, six buyers queue behind them.
        let mut placing = vec![place(0)];
        until(batches, 1, 0).await;
        placing.push(place(1));
        until(batches, 0, 0).await;
        placing.extend((2..8).map(place));
        until(batches, 0, 6).await;
        drop(hold);
        for placed in placing {
            placed.await.unwrap().unwrap();
        }

        // The first batch to get the row took the six: two batches in all, not three.
        assert_eq!(batches.ran.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM orders"), 8);
        assert_eq!(
            db.pg_scalar("SELECT reserved FROM products WHERE sku = 'GATHER'"),
            8
        );
        assert!(store.consistency_report().await.unwrap().is_empty());
    }

    /// Waits (yielding to the placements, no clock) until `free` more batches could start and
    /// `queued` placements wait for one.
    async fn until(batches: &super::Batches, free: usize, queued: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while batches.running.available_permits() != free
            || batches.waiting.lock().unwrap().len() != queued
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the batches never got there"
            );
            tokio::task::yield_now().await;
        }
    }
}
