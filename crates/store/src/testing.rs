//! Fresh databases for tests, on either backend (feature `testing`).
//!
//! `TestDb::new(Backend::Sqlite)` is a file in a temporary directory. `TestDb::new(Backend::Postgres)`
//! is a schema of its own, created in the PostgreSQL database named by `LUNAS_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/test`) and dropped with everything in it when the
//! `TestDb` is dropped. A PostgreSQL that cannot be reached fails the test: it never skips.
//!
//! `on_both_backends!(a, b)` turns `async fn a(backend: Backend)` into the tests `sqlite::a` and
//! `postgres::a`.

use std::path::PathBuf;

use crate::{DatabaseUrl, OpenOptions, PgUrl, Store};

/// The PostgreSQL database tests create their schemas in.
pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; removed when dropped.
pub struct TestDb {
    pub url: DatabaseUrl,
    dir: Option<tempfile::TempDir>,
    schema: Option<(PgUrl, String)>,
}

/// The server and database tests use: `LUNAS_TEST_POSTGRES` or the default.
pub fn test_postgres() -> PgUrl {
    let raw = std::env::var("LUNAS_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
    match DatabaseUrl::parse(&raw) {
        Ok(DatabaseUrl::Postgres(url)) => url,
        _ => panic!("LUNAS_TEST_POSTGRES is not a postgres:// URL"),
    }
}

/// Runs `sql` on the test server from a thread of its own (the synchronous driver must not run on
/// a Tokio worker). Panics, naming the server, when PostgreSQL cannot be reached.
pub fn admin_sql(url: &PgUrl, sql: &str) {
    let url = url.clone();
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let mut client = url.config().connect(postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed by this test and cannot be reached at {}: {e} \
                 (start it: see DEVELOPERS.md)",
                url.redacted()
            )
        });
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                TestDb {
                    url: DatabaseUrl::Sqlite(dir.path().join("lunas.db")),
                    dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let admin = test_postgres();
                let mut random = [0u8; 6];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
                let schema = format!("lunas_test_{}", hex::encode(random));
                admin_sql(&admin, &format!("CREATE SCHEMA {schema}"));
                let url = admin.with_options(&format!("-csearch_path={schema}"));
                TestDb {
                    url: DatabaseUrl::Postgres(url),
                    dir: None,
                    schema: Some((admin, schema)),
                }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.url {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL to give a `lunas` process (`--db`), password included.
    pub fn url_arg(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.expose().to_owned(),
        }
    }

    /// A directory that lives as long as this database, for other files of the test.
    pub fn scratch_dir(&self) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.path().to_owned(),
            None => std::env::temp_dir(),
        }
    }

    /// Runs `sql` (one or more statements) in this test database, beside the store: to set up
    /// what no operation writes, such as a damaged row.
    pub fn sql(&self, sql: &str) {
        match &self.url {
            DatabaseUrl::Postgres(url) => admin_sql(url, sql),
            DatabaseUrl::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("the test database");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("a busy timeout");
                conn.execute_batch(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The first column of the first row of `sql`, as an integer, on either backend.
    pub fn scalar(&self, sql: &str) -> i64 {
        match &self.url {
            DatabaseUrl::Postgres(_) => self.pg_scalar(sql),
            DatabaseUrl::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("the test database");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("a busy timeout");
                conn.query_row(sql, [], |row| row.get(0))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// Runs `sql` in this PostgreSQL test schema (panics on SQLite).
    pub fn pg_sql(&self, sql: &str) {
        match &self.url {
            DatabaseUrl::Postgres(url) => admin_sql(url, sql),
            DatabaseUrl::Sqlite(_) => panic!("pg_sql on an SQLite test database"),
        }
    }

    /// The first column of the first row of `sql`, run in this PostgreSQL test schema, as an
    /// integer (for counting what the processes under test did).
    pub fn pg_scalar(&self, sql: &str) -> i64 {
        let DatabaseUrl::Postgres(url) = &self.url else {
            panic!("pg_scalar on an SQLite test database")
        };
        let (url, sql) = (url.clone(), sql.to_owned());
        std::thread::spawn(move || {
            let mut client = url.config().connect(postgres::NoTls).expect("PostgreSQL");
            client
                .query_one(&sql, &[])
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get::<_, i64>(0)
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Runs `sql` (e.g. `SELECT … FOR UPDATE`) in a PostgreSQL transaction of this schema that
    /// stays open, holding its locks, until the returned guard is dropped.
    pub fn pg_hold(&self, sql: &str) -> PgHold {
        let DatabaseUrl::Postgres(url) = &self.url else {
            panic!("pg_hold on an SQLite test database")
        };
        let (url, sql) = (url.clone(), sql.to_owned());
        let (held_tx, held) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut client = url.config().connect(postgres::NoTls).expect("PostgreSQL");
            let mut tx = client.transaction().expect("BEGIN");
            tx.batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            held_tx.send(()).expect("the test waits");
            let _ = released.recv();
            tx.rollback().expect("ROLLBACK");
        });
        held.recv().expect("the lock is held");
        PgHold {
            release: Some(release),
            thread: Some(thread),
        }
    }

    /// Opens the database with default options (migrating it).
    pub async fn open(&self) -> Store {
        self.open_with(OpenOptions::default()).await
    }

    pub async fn open_with(&self, options: OpenOptions) -> Store {
        Store::open(&self.url, options)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.url.redacted()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, schema)) = &self.schema {
            // Connections still open in the schema keep working until they close; dropping the
            // schema does not wait for them.
            let _ = std::panic::catch_unwind(|| {
                admin_sql(admin, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            });
        }
    }
}

/// A PostgreSQL transaction holding locks; dropping it rolls the transaction back.
pub struct PgHold {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for PgHold {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs each named `async fn(Backend)` as two tests, `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::Backend::Postgres).await
                }
            )*
        }
    };
}
