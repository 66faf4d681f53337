//! The shop's tables a replica copies, and copying rows of any of them between two databases:
//! read on one as values of the column's type, written on the other as they are. The columns
//! come from the shop's schema (both ends run the same migrations), so a column added to a
//! table is copied without a change here.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::store::{Arg, Backend, ColumnType, Session, Stmt, Tx};

/// A table the replica copies, its key, and columns that are each database's own (kept as they
/// are on an update, and not compared).
pub struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub local: &'static [&'static str],
    /// Which rows a copy takes, when not all.
    pub copied_only: Option<&'static str>,
}

/// Every table a replica holds a copy of, parents before children (foreign keys). The rest are
/// each database's own: the change feed and op ids (`applied_ops`), uploads and the deletion
/// outbox, sweep runs, who is editing, sign-in events, and the sync tables themselves.
pub const TABLES: &[Table] = &[
    table("shop_settings", &["key"]),
    table("categories", &["id"]),
    table("attributes", &["id"]),
    table("attribute_values", &["id"]),
    table("products", &["id"]),
    table("variants", &["id"]),
    table("variant_attributes", &["variant_id", "attribute_id"]),
    table("images", &["id"]),
    Table {
        name: "blobs",
        key: &["key"],
        // When this database first held the bytes (an upload made here came before the shop's).
        local: &["created_at"],
        // Image bytes that images use; an upload waiting on the server is the server's own.
        copied_only: Some(BLOBS_IN_USE),
    },
    table("product_history", &["product_id", "version"]),
    table("stock_movements", &["id"]),
    table("orders", &["id"]),
    table("order_items", &["id"]),
    table("reservations", &["id"]),
    table("allotments", &["terminal_id", "variant_id"]),
    table("allotment_policies", &["variant_id"]),
    table("oversell_exceptions", &["id"]),
    Table {
        name: "staff",
        key: &["id"],
        // Wrong PINs and lockouts count on the terminal where they were typed.
        local: &["failed_attempts", "locked_until"],
        copied_only: None,
    },
];

/// The image bytes in use: those an image row names.
pub const BLOBS_IN_USE: &str = "(key IN (SELECT blob_key FROM images) \
    OR key IN (SELECT thumb_key FROM images WHERE thumb_key IS NOT NULL))";

const fn table(name: &'static str, key: &'static [&'static str]) -> Table {
    Table {
        name,
        key,
        local: &[],
        copied_only: None,
    }
}

pub fn table_named(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} is not a replicated table"))
}

/// The columns of every replicated table, with their types, as the shop's server has them.
#[derive(Debug, Clone)]
pub struct Columns {
    by_table: BTreeMap<&'static str, Vec<(String, ColumnType)>>,
}

impl Columns {
    /// Reads the columns from the server's catalog (Postgres's `information_schema`).
    pub async fn read(on: &mut impl Session) -> Result<Columns> {
        #[derive(sqlx::FromRow)]
        struct Row {
            table_name: String,
            column_name: String,
            data_type: String,
        }
        let rows: Vec<Row> = Stmt::new(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
        )
        .fetch(on)
        .await?;
        let mut by_table = BTreeMap::new();
        for t in TABLES {
            let cols: Vec<(String, ColumnType)> = rows
                .iter()
                .filter(|r| r.table_name == t.name)
                .map(|r| Ok((r.column_name.clone(), column_type(&r.data_type)?)))
                .collect::<Result<_>>()?;
            if cols.is_empty() {
                return Err(Error::Internal(format!(
                    "the shop's database has no table {}",
                    t.name
                )));
            }
            by_table.insert(t.name, cols);
        }
        Ok(Columns { by_table })
    }

    pub fn of(&self, table: &str) -> &[(String, ColumnType)] {
        &self.by_table[table]
    }

    fn names(&self, table: &str) -> Vec<&str> {
        self.of(table).iter().map(|(n, _)| n.as_str()).collect()
    }

    fn types(&self, table: &str) -> Vec<ColumnType> {
        self.of(table).iter().map(|(_, t)| *t).collect()
    }

    /// The position of `column` among `table`'s columns.
    pub fn index(&self, table: &str, column: &str) -> usize {
        self.of(table)
            .iter()
            .position(|(n, _)| n == column)
            .unwrap_or_else(|| panic!("{table} has no column {column}"))
    }

    /// The rows of `table` that match `filter` (a `WHERE` condition with its values), in key
    /// order, each as its column values.
    pub async fn fetch(
        &self,
        on: &mut impl Session,
        table: &str,
        filter: Stmt,
    ) -> Result<Vec<Vec<Arg>>> {
        let t = table_named(table);
        let cols = self.names(table).join(", ");
        let key = t.key.join(", ");
        filter
            .wrap(|f| format!("SELECT {cols} FROM {table} WHERE {f} ORDER BY {key}"))
            .uncached()
            .fetch_values(on, &self.types(table))
            .await
    }

    /// The next `limit` rows of `table` in key order after the key `after` (from the start when
    /// None), and the key of the last one (to continue from).
    pub async fn fetch_page(
        &self,
        on: &mut impl Session,
        table: &str,
        after: Option<&[Arg]>,
        limit: i64,
    ) -> Result<(Vec<Vec<Arg>>, Option<Vec<Arg>>)> {
        let t = table_named(table);
        let key = t.key.join(", ");
        let mut stmt = Stmt::new("");
        let mut cond = match after {
            None => "1 = 1".to_string(),
            Some(values) => format!("({key}) > ({})", stmt.list(values.iter().cloned())),
        };
        if let Some(only) = t.copied_only {
            cond = format!("{cond} AND {only}");
        }
        let limit = stmt.param(limit);
        let cols = self.names(table).join(", ");
        let rows = stmt
            .text(format!(
                "SELECT {cols} FROM {table} WHERE {cond} ORDER BY {key} LIMIT {limit}"
            ))
            .uncached()
            .fetch_values(on, &self.types(table))
            .await?;
        let last = rows.last().map(|row| {
            t.key
                .iter()
                .map(|k| row[self.index(table, k)].clone())
                .collect()
        });
        Ok((rows, last))
    }

    /// Inserts `rows` of `table` (as `fetch` returns them); `upsert` overwrites rows with the
    /// same key (but not the columns each database keeps for itself).
    pub async fn write(
        &self,
        tx: &mut Tx,
        table: &str,
        rows: Vec<Vec<Arg>>,
        upsert: bool,
    ) -> Result<u64> {
        let t = table_named(table);
        let names = self.names(table);
        // Values per statement: SQLite's limit is 32,766, Postgres's 65,535. Bigger statements
        // are fewer trips to SQLite's thread and fewer parses (a full one is prepared once).
        let params = match tx.backend() {
            Backend::Sqlite => 5_000,
            Backend::Postgres => 30_000,
        };
        let per_statement = (params / names.len()).clamp(1, 500);
        let on_conflict = if upsert {
            let set: Vec<String> = names
                .iter()
                .filter(|c| !t.key.contains(c) && !t.local.contains(c))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            if set.is_empty() {
                format!(" ON CONFLICT ({}) DO NOTHING", t.key.join(", "))
            } else {
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    t.key.join(", "),
                    set.join(", ")
                )
            }
        } else {
            String::new()
        };
        let mut written = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Arg>> = rows.by_ref().take(per_statement).collect();
            let full = chunk.len() == per_statement;
            let mut stmt = Stmt::new("");
            let values = match tx.backend() {
                Backend::Sqlite => stmt.values_in_order(chunk),
                Backend::Postgres => stmt.values(chunk),
            };
            let stmt = stmt.text(format!(
                "INSERT INTO {table} ({}) VALUES {values}{on_conflict}",
                names.join(", ")
            ));
            // The text of a full statement repeats for the whole table; a last, shorter one
            // would only push common statements out of the cache.
            written += if full { stmt } else { stmt.uncached() }.run(tx).await?;
        }
        Ok(written)
    }
}

fn column_type(data_type: &str) -> Result<ColumnType> {
    Ok(match data_type {
        "uuid" => ColumnType::Id,
        "text" | "character varying" => ColumnType::Text,
        "bigint" | "integer" | "smallint" => ColumnType::Int,
        "boolean" => ColumnType::Bool,
        "timestamp with time zone" => ColumnType::Time,
        "jsonb" | "json" => ColumnType::Json,
        "bytea" => ColumnType::Bytes,
        other => {
            return Err(Error::Internal(format!(
                "a replica cannot copy a column of type {other}"
            )))
        }
    })
}

/// `Stmt::ids_in` for any values: `column IN ($1, …)`.
pub fn any_of(column: &str, values: impl IntoIterator<Item = Arg>) -> Stmt {
    let mut s = Stmt::new("");
    let list = s.list(values);
    if list.is_empty() {
        return s.text("1 = 0");
    }
    s.text(format!("{column} IN ({list})"))
}
