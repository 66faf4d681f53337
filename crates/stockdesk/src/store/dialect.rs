//! The only place where SQLite and Postgres differ. Queries ask the backend for the fragment they
//! need instead of carrying two spellings of themselves.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Row lock for rows a transaction is about to change. SQLite needs none: its write
    /// transactions already hold the database's single write lock (`BEGIN IMMEDIATE`).
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Whether rows are locked one by one (Postgres), or the write transaction already holds the
    /// only write lock there is (SQLite), so a statement that only locks can be left out.
    pub fn has_row_locks(self) -> bool {
        self == Backend::Postgres
    }

    /// Like `for_update`, but rows another worker holds are passed over (several sweepers on one
    /// Postgres split the work instead of queueing on it).
    pub fn for_update_skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// First statement of a read transaction that must see one snapshot across several queries
    /// (the invariant check). Postgres reads each statement at its own snapshot by default;
    /// an SQLite read transaction keeps one snapshot from its first read.
    pub fn snapshot_read(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// A filter on products `p` whose search text contains `text` (lower-case): the SQL, using
    /// parameter `$n`, and the value to bind to it.
    pub fn product_search(self, n: usize, text: &str) -> (String, String) {
        // Trigram indexes need three characters; shorter text scans, which is cheap enough for
        // a query that short and rare.
        let indexed = text.chars().count() >= 3;
        match self {
            Backend::Sqlite if indexed => (
                format!(
                    "p.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ${n})"
                ),
                // An FTS5 string: the whole text as one phrase, quotes doubled.
                format!("\"{}\"", text.replace('"', "\"\"")),
            ),
            _ => (
                format!("p.search_text LIKE ${n} ESCAPE '\\'"),
                format!("%{}%", escape_like(text)),
            ),
        }
    }

    /// An expression giving a fresh random id, for rows made in bulk by SQL alone (the bench's
    /// seeding). Not UUIDv7 like the ids the core makes, which is fine for throw-away rows.
    pub fn random_id(self) -> &'static str {
        match self {
            Backend::Sqlite => "randomblob(16)",
            Backend::Postgres => "gen_random_uuid()",
        }
    }

    /// One round trip that makes `writes` (INSERTs) and then locks the rows of `table` that
    /// match `filter`, in id order. On Postgres the writes become data-modifying parts of the
    /// locking query, which counts their rows before it scans, so they are done before it
    /// waits for a lock, not while holding one (unreferenced, they would run at its end). SQLite
    /// runs the statements one after another; its write transaction is the lock.
    pub fn writes_then_lock(self, writes: &[String], table: &str, filter: &str) -> String {
        match self {
            Backend::Sqlite => format!(
                "{}; SELECT id FROM {table} WHERE {filter} ORDER BY id",
                writes.join("; ")
            ),
            Backend::Postgres => {
                let names: Vec<String> = (1..=writes.len()).map(|n| format!("w{n}")).collect();
                let parts: Vec<String> = names
                    .iter()
                    .zip(writes)
                    .map(|(name, w)| format!("{name} AS ({w} RETURNING 1)"))
                    .collect();
                let written: Vec<String> = names
                    .iter()
                    .map(|name| format!("(SELECT COUNT(*) FROM {name})"))
                    .collect();
                format!(
                    "WITH {} SELECT id FROM {table} WHERE {filter} AND {} > 0 ORDER BY id FOR UPDATE",
                    parts.join(", "),
                    written.join(" + ")
                )
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// `rows` groups of `cols` numbered placeholders from `$first` on: `($1, $2), ($3, $4)`.
pub fn placeholders(first: usize, rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (0..cols)
                .map(|c| format!("${}", first + r * cols + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(placeholders(3, 2, 2), "($3, $4), ($5, $6)");
    }

    #[test]
    fn writes_come_before_the_lock() {
        let writes = [
            "INSERT INTO a VALUES ($1)".to_string(),
            "INSERT INTO b VALUES ($2)".to_string(),
        ];
        assert_eq!(
            Backend::Postgres.writes_then_lock(&writes, "t", "id = $3"),
            "WITH w1 AS (INSERT INTO a VALUES ($1) RETURNING 1), \
             w2 AS (INSERT INTO b VALUES ($2) RETURNING 1) SELECT id FROM t WHERE id = $3 \
             AND (SELECT COUNT(*) FROM w1) + (SELECT COUNT(*) FROM w2) > 0 ORDER BY id FOR UPDATE"
        );
        assert_eq!(
            Backend::Sqlite.writes_then_lock(&writes, "t", "id = $3"),
            "INSERT INTO a VALUES ($1); INSERT INTO b VALUES ($2); SELECT id FROM t WHERE id = $3 \
             ORDER BY id"
        );
    }
}
