//! The PostgreSQL backend: a pool of connections, one transaction per operation, row locks where
//! an operation reads what it will change, and `FOR UPDATE SKIP LOCKED` where several processes
//! take work from one table (timers, the outbox). Several `lunas serve` processes can share one
//! database; nothing here assumes it is alone.
//!
//! The driver is the synchronous `postgres` crate, run on Tokio's blocking threads, so that the
//! storage operations (`crate::ops`) are the same code as on SQLite. A connection lives on one
//! blocking thread for the length of one transaction.

mod schema;
mod sold_out;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls};
use tokio::sync::Semaphore;

use crate::sql::{Db, DbError, DbResult, PgDb};
use crate::url::PgUrl;
use crate::{OpenOptions, StoreError};

/// How many times an operation that lost a race (a deadlock, a key taken meanwhile) is run again.
const CONFLICT_RETRIES: usize = 8;

pub(crate) struct Postgres {
    url: PgUrl,
    options: OpenOptions,
    idle: Mutex<Vec<PgConn>>,
    permits: Arc<Semaphore>,
    closed: AtomicBool,
    /// The schema version the database had when it was opened, before any migration.
    version_at_open: i64,
    /// SKUs this process knows to be sold out, once `watch_sold_out` started listening.
    sold_out: Arc<sold_out::SoldOut>,
}

/// A connection and the statements prepared on it.
struct PgConn {
    client: Client,
    statements: HashMap<(usize, usize), postgres::Statement>,
}

impl Postgres {
    pub(crate) async fn open(url: PgUrl, options: OpenOptions) -> Result<Postgres, StoreError> {
        let (conn, version_at_open) = {
            let url = url.clone();
            let options = options.clone();
            blocking(move || {
                let mut conn = connect(&url, &options)?;
                let before = if options.migrate {
                    schema::migrate(&mut conn.client)
                        .map_err(|e| map_error(&e, &url))??
                        .0
                } else {
                    schema::SCHEMA_VERSION
                };
                schema::check_version(&mut conn.client).map_err(|e| map_error(&e, &url))??;
                Ok((conn, before))
            })
            .await?
        };
        Ok(Postgres {
            permits: Arc::new(Semaphore::new(options.pool_size.max(1))),
            url,
            options,
            idle: Mutex::new(vec![conn]),
            closed: AtomicBool::new(false),
            version_at_open,
            sold_out: Arc::default(),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(i64, i64), StoreError> {
        let after = self
            .run(|conn| Ok(schema::migrate(&mut conn.client)?))
            .await??
            .1;
        Ok((self.version_at_open, after))
    }

    /// Starts hearing of freed stock, so that refusals of sold-out SKUs can be answered from
    /// memory (`sold_out`); `false` if the connection for it could not be made.
    pub(crate) async fn watch_sold_out(&self) -> bool {
        let (sold_out, url) = (self.sold_out.clone(), self.url.clone());
        tokio::task::spawn_blocking(move || sold_out.start(&url))
            .await
            .unwrap_or(false)
    }

    pub(crate) fn sold_out(&self) -> &sold_out::SoldOut {
        &self.sold_out
    }

    /// Waits (on a blocking thread) until `sku` is forgotten, at most `timeout`.
    #[cfg(feature = "testing")]
    pub(crate) async fn wait_sold_out_forgotten(&self, sku: String, timeout: Duration) -> bool {
        let sold_out = self.sold_out.clone();
        tokio::task::spawn_blocking(move || sold_out.wait_forgotten(&sku, timeout))
            .await
            .unwrap_or(false)
    }

    pub(crate) async fn close(&self) {
        self.sold_out.close();
        self.closed.store(true, Ordering::SeqCst);
        // Wait for the transactions under way, then drop every connection.
        let all = self.options.pool_size.max(1) as u32;
        let _permits = self.permits.acquire_many(all).await;
        drop_off_runtime(std::mem::take(&mut *self.idle.lock().expect("pool lock")));
    }

    /// Runs `f` in a transaction of its own: committed when it returns `Ok(Ok(_))`, rolled back
    /// when it refuses (`Ok(Err(_))`) or fails. An operation that lost a race with a concurrent
    /// transaction is run again from the start.
    pub(crate) async fn write<T, E>(
        &self,
        mut f: impl FnMut(&mut dyn Db) -> DbResult<Result<T, E>> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.run(move |conn| {
            let mut attempt = 0;
            loop {
                attempt += 1;
                match transaction(conn, false, &mut f) {
                    Err(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => {
                        tracing::debug!(error = %e, attempt, "transaction conflict; running it again");
                        continue;
                    }
                    other => return other,
                }
            }
        })
        .await
    }

    /// Runs `f` in a read-only transaction that sees one snapshot.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let mut f = Some(f);
        self.run(move |conn| {
            transaction(conn, true, &mut |db| {
                let f = f.take().expect("a read runs once");
                f(db).map(Ok::<T, std::convert::Infallible>)
            })
            .map(|done| match done {
                Ok(value) => value,
                Err(never) => match never {},
            })
        })
        .await
    }

    /// `read` for one statement (a lookup by a unique key, which every request makes: an API
    /// token), run without a transaction around it: one round trip instead of three (`BEGIN`,
    /// the statement, `COMMIT`), since a statement alone is a transaction and sees one snapshot.
    pub(crate) async fn read_point<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |conn| {
            let PgConn { client, statements } = conn;
            f(&mut PgDb {
                tx: client,
                statements,
            })
        })
        .await
    }

    /// Runs `work` on a pooled connection on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut PgConn) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self.permit().await?;
        let mut conn = self.checkout().await?;
        let (conn, result) = blocking(move || {
            let result = work(&mut conn);
            // A connection the server closed (restarted, killed) is dropped here; the next
            // operation opens a fresh one, so work resumes once the server is back.
            Ok(((!conn.client.is_closed()).then_some(conn), result))
        })
        .await?;
        if let Some(conn) = conn {
            self.checkin(conn);
        }
        result.map_err(|e| map_db_error(&e, &self.url))
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        self.permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))
    }

    async fn checkout(&self) -> Result<PgConn, StoreError> {
        if let Some(conn) = self.idle.lock().expect("pool lock").pop() {
            return Ok(conn);
        }
        let url = self.url.clone();
        let options = self.options.clone();
        blocking(move || connect(&url, &options)).await
    }

    fn checkin(&self, conn: PgConn) {
        if self.closed.load(Ordering::SeqCst) {
            drop_off_runtime(vec![conn]);
        } else {
            self.idle.lock().expect("pool lock").push(conn);
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        drop_off_runtime(std::mem::take(self.idle.get_mut().expect("pool lock")));
    }
}

/// Closes connections on a thread of their own: the synchronous driver blocks while it closes a
/// connection, which must not happen on an async worker thread.
fn drop_off_runtime(conns: Vec<PgConn>) {
    if !conns.is_empty() {
        std::thread::spawn(move || drop(conns));
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
}

/// A storage operation: its outcome, or its own verdict refusing it.
type Operation<'a, T, E> = dyn FnMut(&mut dyn Db) -> DbResult<Result<T, E>> + 'a;

fn transaction<T, E>(
    conn: &mut PgConn,
    read_only: bool,
    f: &mut Operation<'_, T, E>,
) -> DbResult<Result<T, E>> {
    let PgConn { client, statements } = conn;
    let mut builder = client.build_transaction();
    if read_only {
        builder = builder
            .read_only(true)
            .isolation_level(IsolationLevel::RepeatableRead);
    }
    let mut tx = builder.start()?;
    let outcome = f(&mut PgDb {
        tx: &mut tx,
        statements,
    });
    match outcome {
        Ok(Ok(value)) => {
            tx.commit()?;
            Ok(Ok(value))
        }
        Ok(Err(verdict)) => {
            tx.rollback()?;
            Ok(Err(verdict))
        }
        // Dropping the transaction rolls it back.
        Err(e) => Err(e),
    }
}

fn connect(url: &PgUrl, options: &OpenOptions) -> Result<PgConn, StoreError> {
    let mut config = url.config();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_millis(options.connect_timeout_ms));
    }
    if config.get_application_name().is_none() {
        config.application_name("lunas");
    }
    let mut client = config.connect(NoTls).map_err(|e| map_error(&e, url))?;
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}",
            options.statement_timeout_ms, options.statement_timeout_ms
        ))
        .map_err(|e| map_error(&e, url))?;
    Ok(PgConn {
        client,
        statements: HashMap::new(),
    })
}

fn map_db_error(e: &DbError, url: &PgUrl) -> StoreError {
    match e {
        DbError::Pg(e) => map_error(e, url),
        other => StoreError::Internal(other.to_string()),
    }
}

/// Maps a driver error onto the backend-neutral `StoreError`. Messages name the server by its
/// redacted URL; the driver's own messages never contain the password.
pub(crate) fn map_error(e: &postgres::Error, url: &PgUrl) -> StoreError {
    let Some(code) = e.code() else {
        // No SQLSTATE: either the connection could not be made or was lost, or the driver itself
        // refused something (a value of the wrong type: a bug).
        let text = e.to_string();
        let unreachable = e.is_closed()
            || [
                "error connecting",
                "error communicating",
                "connection closed",
                "timeout",
            ]
            .iter()
            .any(|prefix| text.starts_with(prefix));
        return if unreachable {
            StoreError::Unavailable(format!(
                "cannot reach PostgreSQL at {}: {e}",
                url.redacted()
            ))
        } else {
            StoreError::Internal(format!("PostgreSQL driver: {e}"))
        };
    };
    let detail = e
        .as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| e.to_string());
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        return StoreError::Refused(format!(
            "PostgreSQL at {} refused the credentials: {detail}",
            url.redacted()
        ));
    }
    if *code == SqlState::INVALID_CATALOG_NAME {
        return StoreError::Refused(format!(
            "PostgreSQL at {} has no such database: {detail}",
            url.redacted()
        ));
    }
    let class = &code.code()[..2];
    if class == "08"
        || class == "57"
        || class == "53"
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
    {
        // Connection exceptions, the server shutting down or out of resources, a statement or
        // lock timeout: the database is not serving now; retrying later may work.
        return StoreError::Unavailable(format!(
            "PostgreSQL at {} is not serving: {detail}",
            url.redacted()
        ));
    }
    StoreError::Internal(format!("PostgreSQL: {detail} ({})", code.code()))
}
