//! One small SQL interface over both backends, so each storage operation is written once.
//!
//! Operations (`crate::ops`) run against `&mut dyn Db` inside a transaction the backend opened.
//! SQL is written once in the dialect both databases share, with numbered parameters (`?1`) and
//! row locks spelled `FOR [NO KEY] UPDATE [SKIP LOCKED]`. Each backend adapts it once per
//! statement and caches the result: PostgreSQL gets `$1` parameters; SQLite, whose single writer
//! already serialises every writing transaction, drops the lock clauses (`FOR [NO KEY] UPDATE
//! [SKIP LOCKED]`).
//!
//! Values cross as `Val` (parameters) and `Row` (results): integers, text, booleans, bytes (the
//! proofs' files) and NULL are all the schema uses. Integer columns are `INTEGER` on SQLite and `BIGINT` on PostgreSQL.

use std::collections::HashMap;
use std::error::Error as StdError;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// A parameter value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bool(bool),
    Bytes(&'a [u8]),
}

impl<'a> From<&'a [u8]> for Val<'a> {
    fn from(v: &'a [u8]) -> Self {
        Val::Bytes(v)
    }
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<bool> for Val<'_> {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(v)
    }
}

impl<'a> From<&'a String> for Val<'a> {
    fn from(v: &'a String) -> Self {
        Val::Text(v)
    }
}

impl From<Option<bool>> for Val<'_> {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Val::Null, Val::Bool)
    }
}

impl From<Option<i64>> for Val<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Val::Null, Val::Int)
    }
}

impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Val::Null, Val::Text)
    }
}

impl<'a> From<&'a Option<String>> for Val<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Val::Null, Val::Text)
    }
}

impl<'a> From<&'a lunas_core::outbox::MessageId> for Val<'a> {
    fn from(v: &'a lunas_core::outbox::MessageId) -> Self {
        Val::Text(v.as_str())
    }
}

/// `params![a, b]`: a parameter list for `Db` calls.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::sql::Val::from($value)),*][..]
    };
}
pub(crate) use params;

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(v),
            Val::Text(v) => ValueRef::Text(v.as_bytes()),
            Val::Bool(v) => ValueRef::Integer(i64::from(v)),
            Val::Bytes(v) => ValueRef::Blob(v),
        }))
    }
}

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
            Val::Int(v) if *ty == Type::BOOL => (v != 0).to_sql(ty, out),
            Val::Int(v) => v.to_sql(ty, out),
            Val::Text(v) => v.to_sql(ty, out),
            Val::Bool(v) if *ty == Type::INT8 => i64::from(v).to_sql(ty, out),
            Val::Bool(v) => v.to_sql(ty, out),
            Val::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One result row.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    pub(crate) fn int(&self, i: usize) -> DbResult<i64> {
        match self {
            Row::Sqlite(row) => Ok(row.get(i)?),
            // Integer columns are BIGINT; an expression may come back as INTEGER.
            Row::Pg(row) => match row.try_get::<_, i64>(i) {
                Ok(v) => Ok(v),
                Err(_) => Ok(row.try_get::<_, i32>(i)?.into()),
            },
        }
    }

    pub(crate) fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        self.get(i)
    }

    pub(crate) fn text(&self, i: usize) -> DbResult<String> {
        self.get(i)
    }

    pub(crate) fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        self.get(i)
    }

    pub(crate) fn boolean(&self, i: usize) -> DbResult<bool> {
        self.get(i)
    }

    /// A boolean that may be NULL (a comparison with a NULL column).
    pub(crate) fn opt_bool(&self, i: usize) -> DbResult<Option<bool>> {
        self.get(i)
    }

    pub(crate) fn bytes(&self, i: usize) -> DbResult<Vec<u8>> {
        self.get(i)
    }

    /// A column as any type both drivers can read.
    fn get<T>(&self, i: usize) -> DbResult<T>
    where
        T: rusqlite::types::FromSql + for<'r> postgres::types::FromSql<'r>,
    {
        match self {
            Row::Sqlite(row) => Ok(row.get(i)?),
            Row::Pg(row) => Ok(row.try_get(i)?),
        }
    }
}

/// An error of either driver, or a value in the database that lunas cannot read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_detail(.0))]
    Pg(#[from] postgres::Error),
    #[error("{0}")]
    Corrupt(String),
}

impl DbError {
    /// A conflict with a concurrent transaction that running the operation again resolves:
    /// a deadlock, a serialisation failure, or a unique key another transaction just took.
    pub(crate) fn is_conflict(&self) -> bool {
        use postgres::error::SqlState;
        match self {
            DbError::Pg(e) => e.code().is_some_and(|code| {
                *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::UNIQUE_VIOLATION
            }),
            _ => false,
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// The driver's error with the server's message and SQLSTATE, which its own `Display` leaves out
/// ("db error").
fn pg_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// An unexpected value read from the database.
pub(crate) fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Corrupt(format!("unexpected {what} {value:?} in the database"))
}

/// Which SQL dialect a connection speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection inside a transaction.
pub(crate) trait Db {
    fn dialect(&self) -> Dialect;
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &'static str, params: &[Val<'_>]) -> DbResult<u64>;
    /// Runs a query and hands each row to `f`.
    fn each_row(
        &mut self,
        sql: &'static str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&Row<'_>) -> DbResult<()>,
    ) -> DbResult<()>;
}

impl dyn Db + '_ {
    /// `sqlite` or `postgres`, whichever this connection speaks.
    pub(crate) fn pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }

    /// `IN`-list parameter for `pick`ed statements: a JSON array for SQLite's `json_each`, an
    /// array literal for PostgreSQL's `CAST(… AS BIGINT[])`.
    pub(crate) fn id_list(&self, ids: impl IntoIterator<Item = i64>) -> String {
        let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
        match self.dialect() {
            Dialect::Sqlite => format!("[{}]", ids.join(",")),
            Dialect::Postgres => format!("{{{}}}", ids.join(",")),
        }
    }

    /// Every row of a query, mapped by `f`.
    pub(crate) fn rows<T>(
        &mut self,
        sql: &'static str,
        params: &[Val<'_>],
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        let mut out = Vec::new();
        self.each_row(sql, params, &mut |row| {
            out.push(f(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if any, mapped by `f`.
    pub(crate) fn row<T>(
        &mut self,
        sql: &'static str,
        params: &[Val<'_>],
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each_row(sql, params, &mut |row| {
            if let Some(f) = f.take() {
                out = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first column of the only row of a query that always returns one (a count, a sum).
    pub(crate) fn scalar(&mut self, sql: &'static str, params: &[Val<'_>]) -> DbResult<i64> {
        self.row(sql, params, |row| row.int(0))?
            .ok_or_else(|| DbError::Corrupt(format!("no row from {sql}")))
    }
}

/// SQLite inside the writer's (or a reader's) transaction.
pub(crate) struct SqliteDb<'c> {
    pub(crate) conn: &'c rusqlite::Connection,
}

impl SqliteDb<'_> {
    fn statement(&self, sql: &'static str) -> DbResult<rusqlite::CachedStatement<'_>> {
        Ok(self.conn.prepare_cached(sqlite_dialect(sql))?)
    }
}

impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &'static str, params: &[Val<'_>]) -> DbResult<u64> {
        let changed = self
            .statement(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(changed as u64)
    }

    fn each_row(
        &mut self,
        sql: &'static str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&Row<'_>) -> DbResult<()>,
    ) -> DbResult<()> {
        let mut statement = self.statement(sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            f(&Row::Sqlite(row))?;
        }
        Ok(())
    }
}

/// Statements are `&'static str`: the address and length identify one without hashing its text.
fn statement_key(sql: &'static str) -> (usize, usize) {
    (sql.as_ptr() as usize, sql.len())
}

/// SQLite's version of a statement: the writer thread already serialises writing transactions,
/// so row locks are dropped (SQLite has no such syntax). Adapted once per statement.
fn sqlite_dialect(sql: &'static str) -> &'static str {
    if !sql.contains(" FOR UPDATE") && !sql.contains(" FOR NO KEY UPDATE") {
        return sql;
    }
    thread_local! {
        static ADAPTED: std::cell::RefCell<HashMap<(usize, usize), &'static str>> = Default::default();
    }
    ADAPTED.with(|adapted| {
        *adapted
            .borrow_mut()
            .entry(statement_key(sql))
            .or_insert_with(|| {
                let plain = sql
                    .replace(" FOR NO KEY UPDATE", " FOR UPDATE")
                    .replace(" FOR UPDATE SKIP LOCKED", "")
                    .replace(" FOR UPDATE", "");
                Box::leak(plain.into_boxed_str())
            })
    })
}

/// PostgreSQL on a pooled connection — inside a transaction (`C` is a `postgres::Transaction`),
/// or, for a read of one statement, on the connection itself, which runs the statement as a
/// transaction of its own — with the connection's prepared statements (prepared once per
/// connection, by the text of the statement).
pub(crate) struct PgDb<'c, C: postgres::GenericClient> {
    pub(crate) tx: &'c mut C,
    pub(crate) statements: &'c mut HashMap<(usize, usize), postgres::Statement>,
}

impl<C: postgres::GenericClient> PgDb<'_, C> {
    fn statement(&mut self, sql: &'static str) -> DbResult<postgres::Statement> {
        let key = statement_key(sql);
        if let Some(statement) = self.statements.get(&key) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(&pg_dialect(sql))?;
        self.statements.insert(key, statement.clone());
        Ok(statement)
    }
}

fn pg_params<'a>(params: &'a [Val<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl<C: postgres::GenericClient> Db for PgDb<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &'static str, params: &[Val<'_>]) -> DbResult<u64> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, &pg_params(params))?)
    }

    fn each_row(
        &mut self,
        sql: &'static str,
        params: &[Val<'_>],
        f: &mut dyn FnMut(&Row<'_>) -> DbResult<()>,
    ) -> DbResult<()> {
        let statement = self.statement(sql)?;
        for row in self.tx.query(&statement, &pg_params(params))? {
            f(&Row::Pg(&row))?;
        }
        Ok(())
    }
}

/// PostgreSQL's version of a statement: `?N` parameters become `$N`.
pub(crate) fn pg_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_gets_its_dialect() {
        let sql =
            "SELECT a FROM t WHERE b = ?1 AND c > ?12 ORDER BY a LIMIT ?2 FOR UPDATE SKIP LOCKED";
        assert_eq!(
            pg_dialect(sql),
            "SELECT a FROM t WHERE b = $1 AND c > $12 ORDER BY a LIMIT $2 FOR UPDATE SKIP LOCKED"
        );
        assert_eq!(
            sqlite_dialect(sql),
            "SELECT a FROM t WHERE b = ?1 AND c > ?12 ORDER BY a LIMIT ?2"
        );
        assert_eq!(
            sqlite_dialect("SELECT 1 FROM t WHERE id = ?1 FOR UPDATE"),
            "SELECT 1 FROM t WHERE id = ?1"
        );
        assert_eq!(
            sqlite_dialect("SELECT 1 FROM t WHERE id = ?1 FOR NO KEY UPDATE SKIP LOCKED"),
            "SELECT 1 FROM t WHERE id = ?1"
        );
        let plain = "SELECT 1";
        assert!(std::ptr::eq(sqlite_dialect(plain), plain));
    }
}
