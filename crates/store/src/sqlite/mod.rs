//! The SQLite backend: WAL mode, `synchronous=FULL`, one writer thread with group commit, and a
//! pool of read-only connections.

mod checkpoint;
mod schema;

use std::collections::VecDeque;
use std::path::PathBuf;
#[cfg(test)]
use std::sync::Arc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::sql::{Db, DbError, DbResult, SqliteDb};
use crate::{OpenOptions, StoreError};

/// A unit of work for the writer. It runs inside the group's transaction and says how it went,
/// and hands back what to do once the transaction committed (or failed to). It is given no
/// connection when its transaction could not begin; it then only answers.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (JobOutcome, Completion) + Send>;
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// How a job went. A `Rejected` job must have changed nothing (the writer checks); a `Failed` job
/// may have left partial changes, so its whole group is rolled back.
enum JobOutcome {
    Kept,
    Rejected,
    Failed(StoreError),
}

pub(crate) struct Sqlite {
    path: PathBuf,
    options: OpenOptions,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer_thread: Mutex<Option<JoinHandle<()>>>,
    /// Who copies the write-ahead log into the database (the thread or the writer), and how
    /// often each did.
    #[cfg_attr(not(test), allow(dead_code))]
    checkpoints: std::sync::Arc<checkpoint::Checkpoints>,
    readers: Mutex<Vec<Connection>>,
    /// The schema version the database had when it was opened, before any migration.
    version_at_open: i64,
}

impl Sqlite {
    pub(crate) async fn open(path: PathBuf, options: OpenOptions) -> Result<Sqlite, StoreError> {
        let (mut opened, version_at_open) = {
            let path = path.clone();
            let options = options.clone();
            tokio::task::spawn_blocking(move || open_writer(&path, &options))
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))??
        };
        let (checkpointer, checkpoints) =
            checkpoint::start_checkpointer(&path, &options, &mut opened)?;
        let (sender, receiver) = mpsc::channel(options.write_queue_len_max);
        let group_len_max = options.group_commit_len_max;
        let thread = std::thread::Builder::new()
            .name("lunas-sqlite-writer".into())
            .spawn(move || run_writer(opened, receiver, group_len_max))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Sqlite {
            path,
            options,
            writer: Mutex::new(Some(sender)),
            writer_thread: Mutex::new(Some(thread)),
            checkpointer_thread: Mutex::new(Some(checkpointer)),
            checkpoints,
            readers: Mutex::new(Vec::new()),
            version_at_open,
        })
    }

    pub(crate) async fn close(&self) {
        self.writer.lock().expect("writer lock").take();
        // The writer ends first; its connection closes, and with it the checkpointer's wake-up,
        // so the checkpointer ends too.
        for slot in [&self.writer_thread, &self.checkpointer_thread] {
            let thread = slot.lock().expect("thread lock").take();
            if let Some(thread) = thread {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
        }
        self.readers.lock().expect("readers lock").clear();
    }

    /// Runs `f` on the writer inside the group's transaction. The outer `Result` is the storage
    /// outcome; the inner one is the operation's own verdict. A rejected operation must have
    /// changed nothing (the writer checks). The answer comes only after the commit is durable.
    pub(crate) async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<Result<T, E>> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        self.write_conn(move |conn| f(&mut SqliteDb { conn })).await
    }

    /// `write` on the bare connection (for migrations).
    async fn write_conn<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> DbResult<Result<T, E>> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let sender = self
            .writer
            .lock()
            .expect("writer lock")
            .clone()
            .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?;
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = conn.map(f);
            let job_outcome = match &outcome {
                Some(Ok(Ok(_))) => JobOutcome::Kept,
                Some(Ok(Err(_))) | None => JobOutcome::Rejected,
                Some(Err(e)) => JobOutcome::Failed(map_db_error(e)),
            };
            let completion: Completion = Box::new(move |committed| {
                let result = match outcome {
                    None => Err(committed.err().unwrap_or_else(|| {
                        StoreError::Internal("the operation was skipped".into())
                    })),
                    Some(Err(e)) => Err(map_db_error(&e)),
                    Some(Ok(Ok(value))) => committed.map(|()| Ok(value)),
                    // A rejection changed nothing, so it stands whether or not the group committed.
                    Some(Ok(Err(verdict))) => Ok(Err(verdict)),
                };
                let _ = reply.send(result);
            });
            (job_outcome, completion)
        });
        sender
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the writer stopped before answering".into()))?
    }

    /// Runs `f` on a read-only connection inside one read transaction (a consistent snapshot).
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = match self.readers.lock().expect("readers lock").pop() {
            Some(conn) => conn,
            None => open_reader(&self.path, &self.options)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = (|| {
                let tx = conn.unchecked_transaction()?;
                let value = f(&mut SqliteDb { conn: &tx })?;
                tx.finish()?;
                Ok(value)
            })();
            (conn, result)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut readers = self.readers.lock().expect("readers lock");
        if readers.len() < self.options.readers_max {
            readers.push(conn);
        }
        result.map_err(|e| map_db_error(&e))
    }

    /// `read` on the calling thread, for a lookup short enough not to hold an async worker (one
    /// row by a unique key). Past the pooled connections it opens one, as `read` does.
    pub(crate) fn read_inline<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> DbResult<T>,
    ) -> Result<T, StoreError> {
        let conn = match self.readers.lock().expect("readers lock").pop() {
            Some(conn) => conn,
            None => open_reader(&self.path, &self.options)?,
        };
        let result = (|| {
            let tx = conn.unchecked_transaction()?;
            let value = f(&mut SqliteDb { conn: &tx })?;
            tx.finish()?;
            Ok(value)
        })();
        let mut readers = self.readers.lock().expect("readers lock");
        if readers.len() < self.options.readers_max {
            readers.push(conn);
        }
        result.map_err(|e| map_db_error(&e))
    }

    pub(crate) async fn migrate(&self) -> Result<(i64, i64), StoreError> {
        let (_, after) = self
            .write_conn(|conn| Ok(schema::migrate_in_transaction(conn)?))
            .await??;
        Ok((self.version_at_open, after))
    }
}

/// Opens the writer connection; returns it with the schema version found before migrating.
fn open_writer(
    path: &std::path::Path,
    options: &OpenOptions,
) -> Result<(Connection, i64), StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if options.migrate {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = connect(path, flags, options)?;
    // WAL lets readers work beside the writer; FULL syncs the WAL at every commit, so an
    // acknowledged order survives power loss. Group commit pays for that fsync once per group.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| map_error(&e))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| map_error(&e))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| map_error(&e))?;
    // The savepoints of the careful timer path keep their undo pages in memory, and a larger page
    // cache keeps the hot parts of the indexes the writer touches in memory (64 MiB at most;
    // pages are allocated only as they are used).
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| map_error(&e))?;
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(|e| map_error(&e))?;
    plan_once(&conn)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_LEN);
    let version_at_open = if options.migrate {
        schema::migrate(&conn)?.0
    } else {
        schema::SCHEMA_VERSION
    };
    schema::check_version(&conn)?;
    Ok((conn, version_at_open))
}

fn open_reader(path: &std::path::Path, options: &OpenOptions) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = connect(path, flags, options)?;
    plan_once(&conn)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_LEN);
    Ok(conn)
}

/// Opens a connection to `path`, waiting up to the store's busy timeout for another's lock.
fn connect(
    path: &std::path::Path,
    flags: OpenFlags,
    options: &OpenOptions,
) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms))
        .map_err(|e| map_error(&e))?;
    Ok(conn)
}

/// Plans each statement once, whatever values are bound to it (SQLite's query planner stability
/// guarantee). Without it, SQLite marks a cached statement to be parsed and planned again when a
/// new value is bound to a parameter its plan looked at — a `WHERE order_id = ?1 … ORDER BY`,
/// a `LIMIT ?` — and then does so on nearly every run: 16% of expiring orders' CPU went to
/// re-preparing the order-lines statement alone (issue 21). lunas's statements are written for
/// the indexes they use and the database keeps no statistics, so no plan depends on a value.
fn plan_once(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(|e| map_error(&e))?;
    Ok(())
}

/// Prepared statements kept per connection. Every operation's statements must fit, or the cache
/// evicts and re-parses statements on every order (measured: 64 halved placement throughput once
/// the reliability statements were added).
const STATEMENT_CACHE_LEN: usize = 256;

/// The writer loop: take one job, then whatever else is already queued (up to `group_len_max`),
/// run them all in one transaction, commit once, then answer every caller.
///
/// Operations do not get a savepoint each: every operation decides before it writes (a rejected
/// one has changed nothing, which the loop checks with SQLite's change counter), so the common
/// case pays for no sub-journal. An operation that fails halfway (an I/O error, a full disk, a
/// violated constraint) may have written part of its work; then the whole group is rolled back and
/// every operation that ran in it is answered with the error, and the jobs not yet run go on in a
/// fresh transaction. Nothing is acknowledged that was not committed.
fn run_writer(conn: Connection, mut jobs: mpsc::Receiver<Job>, group_len_max: usize) {
    let mut pending: VecDeque<Job> = VecDeque::with_capacity(group_len_max);
    let mut completions: Vec<Completion> = Vec::with_capacity(group_len_max);
    while let Some(first) = jobs.blocking_recv() {
        pending.push_back(first);
        while pending.len() < group_len_max {
            match jobs.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        while !pending.is_empty() {
            if let Err(e) = run_cached(&conn, "BEGIN IMMEDIATE") {
                let error = map_error(&e);
                for job in pending.drain(..) {
                    let (_, completion) = job(None);
                    completion(Err(error.clone()));
                }
                break;
            }
            let mut poisoned = None;
            while let Some(job) = pending.pop_front() {
                let changes_before = conn.total_changes();
                let (outcome, completion) = job(Some(&conn));
                completions.push(completion);
                match outcome {
                    JobOutcome::Kept => {}
                    JobOutcome::Rejected if conn.total_changes() == changes_before => {}
                    JobOutcome::Rejected => {
                        poisoned = Some(StoreError::Internal(
                            "an operation was rejected after it had written; its group was rolled back".into(),
                        ));
                        break;
                    }
                    JobOutcome::Failed(error) => {
                        poisoned = Some(error);
                        break;
                    }
                }
            }
            let committed = match poisoned {
                Some(error) => {
                    let _ = run_cached(&conn, "ROLLBACK");
                    Err(error)
                }
                None => run_cached(&conn, "COMMIT").map_err(|e| {
                    let _ = conn.execute_batch("ROLLBACK");
                    map_error(&e)
                }),
            };
            for completion in completions.drain(..) {
                completion(committed.clone());
            }
        }
    }
}

/// Runs a statement without parameters through the statement cache; the writer runs the same
/// few savepoint statements for every operation, so parsing them each time would be waste.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

pub(crate) fn map_db_error(e: &DbError) -> StoreError {
    match e {
        DbError::Sqlite(e) => map_error(e),
        other => StoreError::Internal(other.to_string()),
    }
}

pub(crate) fn map_error(e: &rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Unavailable("the database is busy".into())
            }
            ErrorCode::CannotOpen | ErrorCode::DiskFull | ErrorCode::SystemIoFailure => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        },
        _ => StoreError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_statement_is_not_prepared_again_when_new_values_are_bound() {
        let dir = tempfile::tempdir().unwrap();
        open(&dir).await.close().await;
        let path = dir.path().join("lunas.db");
        let (writer, _) = open_writer(&path, &OpenOptions::default()).unwrap();
        let reader = open_reader(&path, &OpenOptions::default()).unwrap();
        // Each of these was parsed again on every new binding before (`ORDER BY` after an
        // equality on a bound parameter, a bound `LIMIT`).
        for conn in [&writer, &reader] {
            for sql in [
                "SELECT sku, name, unit_price, qty, hold FROM order_items WHERE order_id = ?1 ORDER BY line",
                "SELECT at, actor, from_status, to_status, reason FROM order_events WHERE order_id = ?1 ORDER BY id",
                "SELECT amount_due FROM orders WHERE amount_due > ?1 ORDER BY amount_due LIMIT ?1",
            ] {
                let mut statement = conn.prepare(sql).unwrap();
                for value in 1..6i64 {
                    let mut rows = statement.query([value]).unwrap();
                    while rows.next().unwrap().is_some() {}
                }
                assert_eq!(
                    statement.get_status(rusqlite::StatementStatus::RePrepare),
                    0,
                    "{sql}"
                );
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_copied_into_the_database_by_a_thread_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir).await;
        let size = || {
            std::fs::metadata(dir.path().join("lunas.db"))
                .unwrap()
                .len()
        };
        let before = size();
        db.write_conn(|conn| {
            conn.execute_batch("CREATE TABLE scratch (x BLOB)")?;
            for _ in 0..1_500 {
                conn.execute("INSERT INTO scratch VALUES (randomblob(4000))", [])?;
            }
            Ok(Ok::<_, ()>(()))
        })
        .await
        .unwrap()
        .unwrap();
        // The commit put more than `checkpoint::CHECKPOINT_PAGES` (and fewer than
        // `checkpoint::LOG_PAGES_MAX`) pages in the log; the writer did not copy them (it would
        // have, with SQLite's automatic checkpoint): the checkpointer did.
        let checkpointer = db.checkpoints.clone();
        let ran =
            tokio::task::spawn_blocking(move || checkpointer.wait_for(1, Duration::from_secs(60)));
        assert!(ran.await.unwrap(), "no checkpoint ran");
        assert!(size() > before + 1_500 * 4_000, "the log was not copied");
        db.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_writer_keeps_its_log_from_growing_without_end() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir).await;
        let log = dir.path().join("lunas.db-wal");
        db.write_conn(|conn| {
            Ok(Ok::<_, ()>(
                conn.execute_batch("CREATE TABLE scratch (x BLOB)")?,
            ))
        })
        .await
        .unwrap()
        .unwrap();
        // Commit after commit, three times the log's bound in all: a checkpoint beside the writer
        // never copies the whole log, so without the writer's own it would reach them all.
        let frame = 4_096 + 24;
        let mut longest = 0;
        for _ in 0..(3 * checkpoint::LOG_PAGES_MAX / 100) {
            db.write_conn(|conn| {
                for _ in 0..100 {
                    conn.execute("INSERT INTO scratch VALUES (randomblob(4000))", [])?;
                }
                Ok(Ok::<_, ()>(()))
            })
            .await
            .unwrap()
            .unwrap();
            longest = longest.max(std::fs::metadata(&log).unwrap().len());
        }
        let bound = (checkpoint::LOG_PAGES_MAX + 2 * checkpoint::CHECKPOINT_PAGES) as u64 * frame;
        assert!(
            longest <= bound,
            "the log grew to {longest} bytes (bound {bound})"
        );
        assert!(
            db.checkpoints.caught_up() >= 2,
            "the writer never copied the log"
        );
        db.close().await;
    }

    async fn open(dir: &tempfile::TempDir) -> Sqlite {
        Sqlite::open(dir.path().join("lunas.db"), OpenOptions::default())
            .await
            .unwrap()
    }

    fn insert_setting(conn: &Connection, name: &str) -> DbResult<()> {
        conn.execute(
            "INSERT INTO settings (name, value) VALUES (?1, '{}')",
            [name],
        )?;
        Ok(())
    }

    async fn setting_exists(db: &Sqlite, name: &'static str) -> bool {
        db.read(move |db| {
            db.scalar(
                "SELECT COUNT(*) FROM settings WHERE name = ?1",
                crate::sql::params![name],
            )
        })
        .await
        .unwrap()
            == 1
    }

    /// Holds the writer inside a job until `release` is sent, so that the jobs queued meanwhile
    /// are taken as one group when it returns.
    async fn hold_writer(
        db: &Arc<Sqlite>,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (entered_tx, entered) = tokio::sync::oneshot::channel();
        let db = db.clone();
        let holder = tokio::spawn(async move {
            db.write_conn(move |_| {
                let _ = entered_tx.send(());
                let _ = released.recv();
                Ok(Ok::<_, ()>(()))
            })
            .await
            .unwrap()
            .unwrap();
        });
        entered.await.unwrap();
        (release, holder)
    }

    async fn wait_until_queued(db: &Sqlite, count: usize) {
        loop {
            let sender = db.writer.lock().unwrap().clone().unwrap();
            if sender.max_capacity() - sender.capacity() >= count {
                return;
            }
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_operation_that_fails_halfway_rolls_back_its_whole_group_and_later_work_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(&dir).await);
        let (release, holder) = hold_writer(&db).await;
        let good = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_conn(|conn| insert_setting(conn, "good").map(Ok::<_, ()>))
                    .await
            })
        };
        wait_until_queued(&db, 1).await;
        let broken = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_conn(|conn| {
                    insert_setting(conn, "half")?;
                    conn.execute("INSERT INTO no_such_table VALUES (1)", [])
                        .map_err(DbError::from)?;
                    Ok(Ok::<_, ()>(()))
                })
                .await
            })
        };
        wait_until_queued(&db, 2).await;
        release.send(()).unwrap();
        holder.await.unwrap();
        assert!(
            matches!(good.await.unwrap(), Err(StoreError::Internal(_))),
            "the good job was rolled back with its group"
        );
        assert!(matches!(
            broken.await.unwrap(),
            Err(StoreError::Internal(_))
        ));
        assert!(!setting_exists(&db, "good").await);
        assert!(!setting_exists(&db, "half").await);
        db.write_conn(|conn| insert_setting(conn, "after").map(Ok::<_, ()>))
            .await
            .unwrap()
            .unwrap();
        assert!(setting_exists(&db, "after").await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rejected_operation_that_wrote_anyway_is_not_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(&dir).await);
        let (release, holder) = hold_writer(&db).await;
        let sloppy = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_conn(|conn| {
                    insert_setting(conn, "sloppy")?;
                    Ok(Err::<(), _>("refused after writing"))
                })
                .await
            })
        };
        wait_until_queued(&db, 1).await;
        let clean_refusal = {
            let db = db.clone();
            tokio::spawn(async move { db.write_conn(|_| Ok(Err::<(), _>("refused"))).await })
        };
        wait_until_queued(&db, 2).await;
        release.send(()).unwrap();
        holder.await.unwrap();
        assert_eq!(sloppy.await.unwrap().unwrap(), Err("refused after writing"));
        assert_eq!(clean_refusal.await.unwrap().unwrap(), Err("refused"));
        assert!(
            !setting_exists(&db, "sloppy").await,
            "a rejection's writes never reach the database"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clean_rejection_does_not_disturb_the_others_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(&dir).await);
        let (release, holder) = hold_writer(&db).await;
        let refused = {
            let db = db.clone();
            tokio::spawn(async move { db.write_conn(|_| Ok(Err::<(), _>("out of stock"))).await })
        };
        wait_until_queued(&db, 1).await;
        let kept = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_conn(|conn| insert_setting(conn, "kept").map(Ok::<_, ()>))
                    .await
            })
        };
        wait_until_queued(&db, 2).await;
        release.send(()).unwrap();
        holder.await.unwrap();
        assert_eq!(refused.await.unwrap().unwrap(), Err("out of stock"));
        kept.await.unwrap().unwrap().unwrap();
        assert!(setting_exists(&db, "kept").await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reliability_migration_fills_in_the_records_of_existing_buyers() {
        // A database as lunas left it before buyer reliability (schema 4), with history.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lunas.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in crate::migrations::rendered(crate::sql::Dialect::Sqlite).take(4) {
                conn.execute_batch(&sql).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 4;
                 INSERT INTO products (sku, name, price, on_hand, reserved, created_at, updated_at)
                     VALUES ('A', 'A', 1000, 10, 0, 0, 0);
                 INSERT INTO customers (id, phone, name, created_at, updated_at) VALUES (1, '+6281234567890', 'Sari', 0, 0);
                 INSERT INTO orders (id, customer_id, status, payment_method, total, amount_paid, pay_by, placed_at, updated_at)
                     VALUES (1, 1, 'paid', 'qris', 1000, 1000, 100, 10, 50),
                            (2, 1, 'expired', 'qris', 1000, 0, 200, 20, 200),
                            (3, 1, 'cancelled', 'qris', 1000, 0, 300, 30, 60);
                 INSERT INTO payments (order_id, amount, recorded_at, actor) VALUES (1, 1000, 50, 'staff');",
            )
            .unwrap();
        }
        let db = Sqlite::open(path, OpenOptions::default()).await.unwrap();
        let records = db.read(crate::repo::reliability_records).await.unwrap();
        let (_, record) = &records[0];
        assert_eq!(
            (
                record.orders_placed,
                record.orders_paid,
                record.orders_expired,
                record.orders_cancelled_by_seller,
                record.amount_paid
            ),
            (3, 1, 1, 1, 1000)
        );
        assert_eq!(
            (
                record.first_order_at.map(|t| t.as_millisecond()),
                record.last_order_at.map(|t| t.as_millisecond())
            ),
            (Some(10), Some(30))
        );
        // And a rebuild agrees with the migration.
        db.write(|db| crate::repo::rebuild_reputation(db).map(Ok::<_, ()>))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            db.read(crate::repo::reliability_records).await.unwrap(),
            records
        );
    }
}
