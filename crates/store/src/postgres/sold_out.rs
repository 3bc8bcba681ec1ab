//! What this process knows to be sold out, on PostgreSQL: in a flash sale, ten thousand buyers
//! ask for a hundred units within a second, and every refusal would otherwise be a transaction
//! (the buyer's standing, the conditional hold, the product read, the rollback) shared by every
//! lunas process on one server. A SKU a placement found with nothing available is remembered,
//! and the next buyers of it are refused from memory — until any process frees stock of it: the
//! schema's trigger announces every product whose available stock grows on the channel
//! `lunas_stock` (migration 0022), and a connection of this process listens there.
//!
//! A refusal from memory is as true as one from the database a moment earlier: a SKU is
//! remembered only if no announcement arrived between the start of the transaction that found it
//! sold out and the remembering (`mark`, `note`), so an announcement of stock freed after that
//! transaction's read always finds it there to forget; an announcement arrives once the freeing
//! transaction commits, within a few milliseconds. While the connection is down (or not yet
//! listening) nothing is remembered or answered from memory; what was remembered is forgotten
//! when it goes down, since announcements may have been missed. A remembered SKU is also
//! forgotten after `REMEMBERED_MAX`, whatever happened.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::url::PgUrl;

/// The channel the schema's trigger announces freed stock on.
const CHANNEL: &str = "lunas_stock";
/// A remembered SKU is forgotten after this long even without an announcement.
const REMEMBERED_MAX: Duration = Duration::from_secs(60);
/// How often the listening thread looks whether the store was closed.
const POLL: Duration = Duration::from_millis(500);
/// How long the listening thread waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How long `start` waits for the connection to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    /// Announcements received (and connections lost or made): a transaction's `mark`.
    seq: u64,
    listening: bool,
    skus: HashMap<String, Instant>,
}

#[derive(Default)]
pub(crate) struct SoldOut {
    state: Mutex<State>,
    started: AtomicBool,
    /// Signalled whenever the state changes (listening starts or stops, a SKU is forgotten).
    ready: Condvar,
    closed: AtomicBool,
}

impl SoldOut {
    /// Starts listening (once per process), on a thread and connection of its own; waits until
    /// it listens. `false` if it could not.
    pub(crate) fn start(self: &Arc<Self>, url: &PgUrl) -> bool {
        if !self.started.swap(true, Ordering::SeqCst) {
            let (this, url) = (self.clone(), url.clone());
            let spawned = std::thread::Builder::new()
                .name("lunas-stock-listen".into())
                .spawn(move || this.listen(&url));
            if spawned.is_err() {
                return false;
            }
        }
        let state = self.state.lock().expect("sold-out lock");
        let (state, _) = self
            .ready
            .wait_timeout_while(state, START_TIMEOUT, |s| !s.listening)
            .expect("sold-out lock");
        state.listening
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Where announcements stand now, to pass to `note` after a transaction started now; `None`
    /// while not listening.
    pub(crate) fn mark(&self) -> Option<u64> {
        let state = self.state.lock().expect("sold-out lock");
        state.listening.then_some(state.seq)
    }

    /// Whether `sku` is known to be sold out.
    pub(crate) fn is_sold_out(&self, sku: &str) -> bool {
        let state = self.state.lock().expect("sold-out lock");
        state.listening
            && state
                .skus
                .get(sku)
                .is_some_and(|at| at.elapsed() < REMEMBERED_MAX)
    }

    /// Remembers `sku` as sold out, found so by a transaction that started at `mark` — unless
    /// stock was announced freed (or the connection changed) since.
    pub(crate) fn note(&self, sku: &str, mark: u64) {
        let mut state = self.state.lock().expect("sold-out lock");
        if state.listening && state.seq == mark {
            state.skus.insert(sku.to_owned(), Instant::now());
        }
    }

    fn forget(&self, sku: Option<&str>, listening: bool) {
        let mut state = self.state.lock().expect("sold-out lock");
        state.seq += 1;
        match sku {
            Some(sku) => {
                state.skus.remove(sku);
            }
            None => state.skus.clear(),
        }
        state.listening = listening;
        self.ready.notify_all();
    }

    /// Waits until `sku` is no longer remembered sold out, at most `timeout`; whether it was
    /// forgotten while listening (a lost connection, which forgets everything, answers `false`).
    #[cfg(feature = "testing")]
    pub(crate) fn wait_forgotten(&self, sku: &str, timeout: Duration) -> bool {
        let state = self.state.lock().expect("sold-out lock");
        let (state, _) = self
            .ready
            .wait_timeout_while(state, timeout, |s| s.listening && s.skus.contains_key(sku))
            .expect("sold-out lock");
        state.listening && !state.skus.contains_key(sku)
    }

    fn listen(&self, url: &PgUrl) {
        while !self.closed.load(Ordering::SeqCst) {
            if let Err(e) = self.listen_once(url) {
                tracing::warn!(error = %e, "lost the connection that hears of freed stock; answering every buyer from the database until it is back");
            }
            self.forget(None, false);
            if !self.closed.load(Ordering::SeqCst) {
                std::thread::sleep(RECONNECT_DELAY);
            }
        }
    }

    fn listen_once(&self, url: &PgUrl) -> Result<(), postgres::Error> {
        let mut client = url.config().connect(postgres::NoTls)?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        self.forget(None, true);
        while !self.closed.load(Ordering::SeqCst) {
            let mut notifications = client.notifications();
            let mut heard = notifications.timeout_iter(POLL);
            while let Some(notice) =
                postgres::fallible_iterator::FallibleIterator::next(&mut heard)?
            {
                self.forget(Some(notice.payload()), true);
            }
        }
        Ok(())
    }
}
