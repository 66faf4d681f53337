//! Writes sent to the database together.
//!
//! On SQLite every call crosses to sqlx's worker thread and back, which costs more than a small
//! write itself; a `Batch` goes over in one call. Postgres gets the same statements one by one
//! (sqlx sends no pipelines), to the same effect: they run in order, in the caller's transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::types::Json;
use uuid::Uuid;

use super::{on_tx, Tx};
use crate::error::{Error, Result};

/// A value bound to a statement.
pub enum Arg {
    Id(Uuid),
    OptId(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Json(Box<RawValue>),
}

impl Arg {
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

/// One statement, with placeholders `$1…`, and its values.
pub struct Stmt {
    sql: String,
    args: Vec<Arg>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, value: impl Into<Arg>) -> Stmt {
        self.args.push(value.into());
        self
    }

    /// Runs it now; returns the rows it changed.
    pub async fn run(self, tx: &mut Tx) -> Result<u64> {
        run_one(tx, &self.sql, &self.args).await
    }
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
        let (sql, args) = self.join(None);
        run_one(tx, &sql, &args).await.map(|_| ())
    }

    /// Runs the batch and then `last`, a statement that returns rows (`… RETURNING`); returns
    /// how many it returned. The batch's own statements must return none.
    pub async fn run_then(self, tx: &mut Tx, last: Stmt) -> Result<usize> {
        if tx.backend().has_row_locks() {
            self.run(tx).await?;
            return count_rows(tx, &last.sql, &last.args).await;
        }
        let (sql, args) = self.join(Some(last));
        count_rows(tx, &sql, &args).await
    }

    /// One SQL text and one list of values for all the statements.
    fn join(self, last: Option<Stmt>) -> (String, Vec<Arg>) {
        let mut sql = String::new();
        let mut args = Vec::new();
        for s in self.stmts.into_iter().chain(last) {
            sql.push_str(&renumber(&s.sql, args.len()));
            sql.push_str(";\n");
            args.extend(s.args);
        }
        (sql, args)
    }
}

macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query($sql);
        for a in $args {
            q = match a {
                Arg::Id(v) => q.bind(*v),
                Arg::OptId(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Int(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
                Arg::OptTime(v) => q.bind(*v),
                Arg::Json(v) => q.bind(Json(&**v)),
            };
        }
        q
    }};
}

async fn count_rows(tx: &mut Tx, sql: &str, args: &[Arg]) -> Result<usize> {
    Ok(on_tx!(tx, c => bound!(sql, args).fetch_all(&mut **c).await?.len()))
}

async fn run_one(tx: &mut Tx, sql: &str, args: &[Arg]) -> Result<u64> {
    Ok(on_tx!(tx, c => bound!(sql, args).execute(&mut **c).await?.rows_affected()))
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
