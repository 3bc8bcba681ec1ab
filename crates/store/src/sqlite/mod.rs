//! The SQLite backend: WAL mode, `synchronous=FULL`, one writer thread with group commit, and a
//! pool of read-only connections.

mod ops;
mod schema;

use std::path::PathBuf;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::{OpenOptions, StoreError};

/// A unit of work for the writer: it runs inside its own savepoint and says whether to keep its
/// changes, and hands back what to do once the enclosing transaction committed (or failed to).
/// It is given no connection when its transaction could not begin; it then only answers.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

pub(crate) struct Sqlite {
    path: PathBuf,
    options: OpenOptions,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    /// The schema version the database had when it was opened, before any migration.
    version_at_open: i64,
}

impl Sqlite {
    pub(crate) async fn open(path: PathBuf, options: OpenOptions) -> Result<Sqlite, StoreError> {
        let (opened, version_at_open) = {
            let path = path.clone();
            let options = options.clone();
            tokio::task::spawn_blocking(move || open_writer(&path, &options))
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))??
        };
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
            readers: Mutex::new(Vec::new()),
            version_at_open,
        })
    }

    pub(crate) async fn close(&self) {
        self.writer.lock().expect("writer lock").take();
        let thread = self
            .writer_thread
            .lock()
            .expect("writer thread lock")
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.readers.lock().expect("readers lock").clear();
    }

    /// Runs `f` on the writer inside a savepoint. The outer `Result` is the storage outcome; the
    /// inner one is the operation's own verdict. Either kind of error rolls the savepoint back, so
    /// a rejected operation changes nothing. The answer comes only after the commit is durable.
    pub(crate) async fn write<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<Result<T, E>, rusqlite::Error> + Send + 'static,
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
            let keep = matches!(outcome, Some(Ok(Ok(_))));
            let completion: Completion = Box::new(move |committed| {
                let result = match outcome {
                    None => Err(committed.err().unwrap_or_else(|| {
                        StoreError::Internal("the operation was skipped".into())
                    })),
                    Some(Err(e)) => Err(map_error(e)),
                    Some(Ok(Ok(value))) => committed.map(|()| Ok(value)),
                    Some(Ok(Err(verdict))) => Ok(Err(verdict)),
                };
                let _ = reply.send(result);
            });
            (keep, completion)
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
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = match self.readers.lock().expect("readers lock").pop() {
            Some(conn) => conn,
            None => open_reader(&self.path, &self.options)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = (|| {
                let tx = conn.unchecked_transaction()?;
                let value = f(&tx)?;
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
        result.map_err(map_error)
    }

    pub(crate) async fn migrate(&self) -> Result<(i64, i64), StoreError> {
        let (_, after) = self.write(|conn| Ok(schema::migrate(conn))).await??;
        Ok((self.version_at_open, after))
    }
}

/// Opens the writer connection; returns it with the schema version found before migrating.
fn open_writer(path: &std::path::Path, options: &OpenOptions) -> Result<(Connection, i64), StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if options.migrate {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms))
        .map_err(map_error)?;
    // WAL lets readers work beside the writer; FULL syncs the WAL at every commit, so an
    // acknowledged order survives power loss. Group commit pays for that fsync once per group.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(map_error)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(map_error)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(map_error)?;
    conn.set_prepared_statement_cache_capacity(64);
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
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms))
        .map_err(map_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer loop: take one job, then whatever else is already queued (up to `group_len_max`),
/// run them all in one transaction with a savepoint each, commit once, then answer every caller.
fn run_writer(conn: Connection, mut jobs: mpsc::Receiver<Job>, group_len_max: usize) {
    let mut group: Vec<Job> = Vec::with_capacity(group_len_max);
    let mut completions: Vec<(Result<(), StoreError>, Completion)> =
        Vec::with_capacity(group_len_max);
    while let Some(first) = jobs.blocking_recv() {
        group.push(first);
        while group.len() < group_len_max {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let error = map_error(e);
            for job in group.drain(..) {
                let (_, completion) = job(None);
                completion(Err(error.clone()));
            }
            continue;
        }
        for job in group.drain(..) {
            if let Err(e) = run_cached(&conn, "SAVEPOINT job") {
                let (_, completion) = job(None);
                completions.push((Err(map_error(e)), completion));
                continue;
            }
            let (keep, completion) = job(Some(&conn));
            let ended = if keep {
                run_cached(&conn, "RELEASE job")
            } else {
                run_cached(&conn, "ROLLBACK TO job").and_then(|()| run_cached(&conn, "RELEASE job"))
            };
            completions.push((ended.map_err(map_error), completion));
        }
        let committed = conn.execute_batch("COMMIT").map_err(map_error);
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for (ended, completion) in completions.drain(..) {
            completion(committed.clone().and(ended));
        }
    }
}

/// Runs a statement without parameters through the statement cache; the writer runs the same
/// few savepoint statements for every operation, so parsing them each time would be waste.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

pub(crate) fn map_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
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
