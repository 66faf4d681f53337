//! Statements, and writes sent to the database together.
//!
//! A `Stmt` (SQL text with placeholders `$1…`, and its values) is how the core issues every
//! statement: run in a transaction (`Tx`), or read on a connection outside any (`Conn`), it
//! returns the rows it changed, named rows (`Record`), or the values of its one column.
//!
//! On SQLite every call crosses to sqlx's worker thread and back, which costs more than a small
//! write itself; a `Batch` goes over in one call. Postgres gets the same statements one by one
//! (sqlx sends no pipelines), to the same effect: they run in order, in the caller's transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::{FromRow, Sqlite, Transaction};
use uuid::Uuid;

use super::{placeholders, Conn, Tx, SQLITE_BEGIN_WRITE};
use crate::error::{Error, Result};

/// A row both backends can decode into: what `Stmt::fetch` and its kin return. Name the columns
/// (`#[derive(sqlx::FromRow)]` on a struct whose fields say what each value is).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Where a statement runs: in a transaction (`Tx`), or on a connection outside any (`Conn`),
/// where each statement reads what is committed when it starts.
pub trait Session: sealed::Sealed + Send {
    fn backend(&self) -> super::Backend;
}

impl Session for Tx {
    fn backend(&self) -> super::Backend {
        Tx::backend(self)
    }
}

impl Session for Conn {
    fn backend(&self) -> super::Backend {
        Conn::backend(self)
    }
}

mod sealed {
    use sqlx::{PgConnection, SqliteConnection};

    /// The backend's connection under a `Session`, for the one statement about to run on it.
    pub enum Connection<'c> {
        Sqlite(&'c mut SqliteConnection),
        Postgres(&'c mut PgConnection),
    }

    pub trait Sealed {
        fn connection(&mut self) -> Connection<'_>;
    }
}

impl sealed::Sealed for Tx {
    fn connection(&mut self) -> sealed::Connection<'_> {
        match self {
            Tx::Sqlite(t) => sealed::Connection::Sqlite(t),
            Tx::Postgres(t) => sealed::Connection::Postgres(t),
        }
    }
}

impl sealed::Sealed for Conn {
    fn connection(&mut self) -> sealed::Connection<'_> {
        match self {
            Conn::Sqlite(c) => sealed::Connection::Sqlite(c),
            Conn::Postgres(c) => sealed::Connection::Postgres(c),
        }
    }
}

/// Runs `$body` with `$c` bound to the backend's connection under `$on` (a `Session`): one body,
/// compiled once per backend.
macro_rules! on_session {
    ($on:expr, $c:ident => $body:expr) => {
        match sealed::Sealed::connection($on) {
            sealed::Connection::Sqlite($c) => $body,
            sealed::Connection::Postgres($c) => $body,
        }
    };
}

/// A value bound to a statement.
#[derive(Clone)]
pub enum Arg {
    Id(Uuid),
    OptId(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    OptBytes(Option<Vec<u8>>),
    Json(Box<RawValue>),
    OptInt(Option<i64>),
    OptBool(Option<bool>),
    OptJson(Option<Box<RawValue>>),
}

/// What a column holds, for statements that copy rows whatever their table (`Stmt::fetch_values`):
/// a replica copying the shop's rows. Every value is read as nullable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Id,
    Text,
    Int,
    Bool,
    Time,
    Json,
    Bytes,
}

impl Arg {
    /// The value as JSON, for comparing rows read from two databases (a replica and its shop):
    /// ids and times in one spelling, bytes as a hash, JSON as the value it holds.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Value};
        let json_of = |raw: &RawValue| serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        match self {
            Arg::Id(v) => json!(v),
            Arg::OptId(v) => json!(v),
            Arg::Text(v) => json!(v),
            Arg::OptText(v) => json!(v),
            Arg::Int(v) => json!(v),
            Arg::OptInt(v) => json!(v),
            Arg::Bool(v) => json!(v),
            Arg::OptBool(v) => json!(v),
            Arg::Time(v) => json!(v.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            Arg::OptTime(v) => {
                json!(v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
            }
            Arg::OptBytes(v) => json!(v.as_ref().map(|b| {
                use sha2::{Digest, Sha256};
                format!("{} bytes, sha256 {:x}", b.len(), Sha256::digest(b))
            })),
            Arg::Json(v) => json_of(v),
            Arg::OptJson(v) => v.as_deref().map_or(Value::Null, json_of),
        }
    }

    /// A value stored as JSON (serialised now, exactly as `Json(value)` would be).
    pub fn json(value: &impl Serialize) -> Result<Arg> {
        serde_json::value::to_raw_value(value)
            .map(Arg::Json)
            .map_err(|e| Error::BadInput(format!("cannot store as JSON: {e}")))
    }
}

macro_rules! arg_from {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(x: $t) -> Arg {
                Arg::$v(x.into())
            }
        }
    )*};
}
arg_from!(Uuid => Id, Option<Uuid> => OptId, String => Text, &str => Text, i64 => Int,
    bool => Bool, DateTime<Utc> => Time, Option<DateTime<Utc>> => OptTime);

impl From<Option<&[u8]>> for Arg {
    fn from(x: Option<&[u8]>) -> Arg {
        Arg::OptBytes(x.map(<[u8]>::to_vec))
    }
}

/// `$query(sql)` (`sqlx::query`, `sqlx::query_as`, …) with the statement's values bound.
macro_rules! bound {
    ($query:expr, $stmt:expr) => {{
        let stmt: &Stmt = $stmt;
        let mut q = $query(&stmt.sql).persistent(stmt.cached);
        for a in &stmt.args {
            q = match a {
                Arg::Id(v) => q.bind(*v),
                Arg::OptId(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Int(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
                Arg::OptTime(v) => q.bind(*v),
                Arg::OptBytes(v) => q.bind(v.as_deref()),
                Arg::Json(v) => q.bind(Json(&**v)),
                Arg::OptInt(v) => q.bind(*v),
                Arg::OptBool(v) => q.bind(*v),
                Arg::OptJson(v) => q.bind(v.as_deref().map(Json)),
            };
        }
        q
    }};
}

/// One statement, with placeholders `$1…`, and its values.
#[derive(Clone)]
pub struct Stmt {
    sql: String,
    args: Vec<Arg>,
    cached: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
            cached: true,
        }
    }

    /// `column IN (…)` over `ids`, as a filter for `Tx::lock_rows` or a statement of its own.
    pub fn ids_in(column: &str, ids: impl IntoIterator<Item = Uuid>) -> Stmt {
        let mut s = Stmt::new("");
        let list = s.list(ids.into_iter().map(Arg::Id));
        s.text(format!("{column} IN ({list})"))
    }

    /// Keeps the statement out of the connection's statement cache: for SQL whose text varies
    /// with the size of a batch, which would only push the common statements out.
    pub fn uncached(mut self) -> Stmt {
        self.cached = false;
        self
    }

    /// This statement's text inside `f`'s, with the same values.
    pub fn wrap(mut self, f: impl FnOnce(&str) -> String) -> Stmt {
        self.sql = f(&self.sql);
        self
    }

    pub fn arg(mut self, value: impl Into<Arg>) -> Stmt {
        self.args.push(value.into());
        self
    }

    /// Appends `rows` (each of the same length) to the statement's values and returns their
    /// placeholders for a `VALUES` list: `($4, $5), ($6, $7)`.
    pub fn values(&mut self, rows: impl IntoIterator<Item = Vec<Arg>>) -> String {
        let rows: Vec<Vec<Arg>> = rows.into_iter().collect();
        let cols = rows.first().map_or(0, Vec::len);
        let sql = placeholders(self.args.len() + 1, rows.len(), cols);
        self.args.extend(rows.into_iter().flatten());
        sql
    }

    /// `values` for a statement that has no other values, with anonymous placeholders:
    /// `(?, ?), (?, ?)`. For big batches on SQLite, which finds a numbered `$n` by a scan of
    /// the statement's names when parsing and again when binding (the square of the statement's
    /// size); anonymous ones bind in order, in linear time. Postgres does not take them.
    pub fn values_in_order(&mut self, rows: impl IntoIterator<Item = Vec<Arg>>) -> String {
        assert!(
            self.args.is_empty(),
            "anonymous placeholders only bind in order"
        );
        let rows: Vec<Vec<Arg>> = rows.into_iter().collect();
        let cols = rows.first().map_or(0, Vec::len);
        let row = format!("({})", vec!["?"; cols].join(", "));
        let sql = vec![row; rows.len()].join(", ");
        self.args.extend(rows.into_iter().flatten());
        sql
    }

    /// Appends `items` to the statement's values; returns their placeholders: `$4, $5, $6`.
    pub fn list(&mut self, items: impl IntoIterator<Item = Arg>) -> String {
        let first = self.args.len() + 1;
        self.args.extend(items);
        (first..=self.args.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Appends one value; returns its placeholder.
    pub fn param(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Appends `column = $n` to `set`, an `UPDATE`'s `SET` list, if `differs`.
    pub fn set_if(
        &mut self,
        set: &mut Vec<String>,
        column: &str,
        differs: bool,
        value: impl Into<Arg>,
    ) {
        if differs {
            set.push(format!("{column} = {}", self.param(value)));
        }
    }

    /// Sets the statement's text (after `values` has numbered its placeholders).
    pub fn text(mut self, sql: impl Into<String>) -> Stmt {
        self.sql = sql.into();
        self
    }

    /// Runs it now; returns the rows it changed.
    pub async fn run(self, tx: &mut Tx) -> Result<u64> {
        run_one(tx, &self).await
    }

    /// Runs it now; returns how many rows it returned (`… RETURNING`).
    pub async fn rows(self, tx: &mut Tx) -> Result<usize> {
        count_rows(tx, &self).await
    }

    /// Runs it now; returns the rows it returned, as `T`.
    pub async fn fetch<T: Record>(self, on: &mut impl Session) -> Result<Vec<T>> {
        Ok(on_session!(on, c => bound!(sqlx::query_as::<_, T>, &self).fetch_all(c).await?))
    }

    /// Runs it now; returns its one row, as `T` (an error if it returned none).
    pub async fn fetch_one<T: Record>(self, on: &mut impl Session) -> Result<T> {
        Ok(on_session!(on, c => bound!(sqlx::query_as::<_, T>, &self).fetch_one(c).await?))
    }

    /// Runs it now; returns its first row, as `T`, if it returned any.
    pub async fn fetch_optional<T: Record>(self, on: &mut impl Session) -> Result<Option<T>> {
        Ok(on_session!(on, c => bound!(sqlx::query_as::<_, T>, &self).fetch_optional(c).await?))
    }

    /// `fetch_one` of a statement that returns one column: its value.
    pub async fn fetch_scalar<T>(self, on: &mut impl Session) -> Result<T>
    where
        (T,): Record,
    {
        Ok(self.fetch_one::<(T,)>(on).await?.0)
    }

    /// `fetch_optional` of a statement that returns one column: its value, if there was a row.
    pub async fn scalar_optional<T>(self, on: &mut impl Session) -> Result<Option<T>>
    where
        (T,): Record,
    {
        Ok(self.fetch_optional::<(T,)>(on).await?.map(|(v,)| v))
    }

    /// Runs it now; returns each row's values as `Arg`s, read by `types` (one per column, in
    /// order), so they can be bound to another statement on either backend as they are.
    pub async fn fetch_values(
        self,
        on: &mut impl Session,
        types: &[ColumnType],
    ) -> Result<Vec<Vec<Arg>>> {
        on_session!(on, c => {
            let rows = bound!(sqlx::query, &self).fetch_all(c).await?;
            rows.iter()
                .map(|row| {
                    types
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            use sqlx::Row;
                            Ok(match t {
                                ColumnType::Id => Arg::OptId(row.try_get(i)?),
                                ColumnType::Text => Arg::OptText(row.try_get(i)?),
                                ColumnType::Int => Arg::OptInt(row.try_get(i)?),
                                ColumnType::Bool => Arg::OptBool(row.try_get(i)?),
                                ColumnType::Time => Arg::OptTime(row.try_get(i)?),
                                ColumnType::Json => Arg::OptJson(
                                    row.try_get::<Option<Json<Box<RawValue>>>, _>(i)?
                                        .map(|j| j.0),
                                ),
                                ColumnType::Bytes => Arg::OptBytes(row.try_get(i)?),
                            })
                        })
                        .collect::<Result<Vec<Arg>>>()
                })
                .collect()
        })
    }

    /// `fetch_scalar` of a `SELECT COUNT(*) …`: whether it counted any rows.
    pub async fn counts_any(self, on: &mut impl Session) -> Result<bool> {
        Ok(self.fetch_scalar::<i64>(on).await? > 0)
    }

    /// `fetch` of a statement that returns one column: its value in each row.
    pub async fn scalars<T>(self, on: &mut impl Session) -> Result<Vec<T>>
    where
        (T,): Record,
    {
        let rows = self.fetch::<(T,)>(on).await?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// Runs it as a write transaction of its own on `conn`, and returns the rows it returned as
    /// `T`: on Postgres as one statement outside any transaction (it commits as it ends, so its
    /// row locks last only while it runs); on SQLite inside `BEGIN IMMEDIATE … COMMIT`, since
    /// there the statement text may be several statements.
    pub async fn write_alone<T: Record>(self, conn: &mut Conn) -> Result<Vec<T>> {
        match conn {
            Conn::Postgres(c) => Ok(bound!(sqlx::query_as::<_, T>, &self)
                .fetch_all(&mut **c)
                .await?),
            Conn::Sqlite(c) => {
                let mut tx: Transaction<'_, Sqlite> =
                    Transaction::begin(&mut **c, Some(SQLITE_BEGIN_WRITE.into())).await?;
                let rows = bound!(sqlx::query_as::<_, T>, &self)
                    .fetch_all(&mut *tx)
                    .await;
                match rows {
                    Ok(rows) => {
                        tx.commit().await?;
                        Ok(rows)
                    }
                    Err(e) => {
                        // Rolled back now, not when the connection is next used (see Tx::finish).
                        let _ = tx.rollback().await;
                        Err(e.into())
                    }
                }
            }
        }
    }
}

/// Common table expressions that another statement runs first, inside itself (Postgres): a
/// command's claim of its op id and its role check, run by the first statement of its body
/// (`Op::with_prelude`). `ctes` is their text (`a AS (…), b AS (…)`) with their values, `first` a
/// condition that holds once they ran (a statement that must run them before anything else
/// puts it in its first step), and `column` a select-list item that reports what they found, as
/// JSON named `prelude`.
pub struct Prelude {
    pub ctes: Stmt,
    pub first: &'static str,
    pub column: &'static str,
}

/// Statements to run one after another.
#[derive(Default)]
pub struct Batch {
    stmts: Vec<Stmt>,
}

impl Batch {
    pub fn push(&mut self, stmt: Stmt) {
        self.stmts.push(stmt);
    }

    pub async fn run(self, tx: &mut Tx) -> Result<()> {
        if self.stmts.is_empty() {
            return Ok(());
        }
        if tx.backend().has_row_locks() {
            for s in self.stmts {
                s.run(tx).await?;
            }
            return Ok(());
        }
        run_one(tx, &self.join(None)).await.map(|_| ())
    }

    /// Runs the batch and then `last`, a statement that returns rows (`… RETURNING`); returns
    /// how many it returned. The batch's own statements must return none.
    pub async fn run_then(self, tx: &mut Tx, last: Stmt) -> Result<usize> {
        if tx.backend().has_row_locks() {
            self.run(tx).await?;
            return last.rows(tx).await;
        }
        count_rows(tx, &self.join(Some(last))).await
    }

    /// `run_then`, as one statement on Postgres too: the batch's statements become the
    /// data-modifying parts of a `WITH` whose query is `last` (SQLite runs them one after
    /// another, as `run_then` does). All of them see the database as it was before any of them
    /// ran, so this is for batches where no two statements touch the same row and none needs
    /// another's effect (a row it inserts, a unique value it frees); the caller decides that.
    pub async fn run_fused_then(self, tx: &mut Tx, last: Stmt) -> Result<usize> {
        if !tx.backend().writes_in_ctes() || self.stmts.is_empty() {
            return self.run_then(tx, last).await;
        }
        let mut fused = Stmt::new("WITH ");
        fused.cached = last.cached;
        for (n, s) in self.stmts.into_iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            let sql = renumber(&s.sql, fused.args.len());
            fused.sql.push_str(&format!("{sep}w{n} AS ({sql})"));
            fused.args.extend(s.args);
            fused.cached &= s.cached;
        }
        fused.sql.push(' ');
        fused.sql.push_str(&renumber(&last.sql, fused.args.len()));
        fused.args.extend(last.args);
        count_rows(tx, &fused).await
    }

    /// One statement text and one list of values for all the statements.
    fn join(self, last: Option<Stmt>) -> Stmt {
        let mut joined = Stmt::new("");
        for s in self.stmts.into_iter().chain(last) {
            joined.sql.push_str(&renumber(&s.sql, joined.args.len()));
            joined.sql.push_str(";\n");
            joined.args.extend(s.args);
            joined.cached &= s.cached;
        }
        joined
    }
}

async fn count_rows(tx: &mut Tx, stmt: &Stmt) -> Result<usize> {
    Ok(on_session!(tx, c => bound!(sqlx::query, stmt).fetch_all(c).await?.len()))
}

async fn run_one(tx: &mut Tx, stmt: &Stmt) -> Result<u64> {
    Ok(on_session!(tx, c => bound!(sqlx::query, stmt).execute(c).await?.rows_affected()))
}

/// `$n` → `$(n + by)`, so statements with their own `$1…` can share one list of values.
fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        out.push(ch);
        if ch != '$' {
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + 1;
            chars.next();
        }
        if end > start {
            let n: usize = sql[start..end].parse().expect("digits");
            out.push_str(&(n + by).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn renumbering_shifts_every_placeholder() {
        assert_eq!(
            renumber("UPDATE t SET a = $2, b = $10 WHERE id = $1", 3),
            "UPDATE t SET a = $5, b = $13 WHERE id = $4"
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }
}
