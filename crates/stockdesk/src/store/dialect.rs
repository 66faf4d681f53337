//! The only place where SQLite and Postgres differ. Queries ask the backend for the fragment they
//! need instead of carrying two spellings of themselves.

use super::Stmt;

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

    /// A lock that keeps a row from changing until the transaction ends without keeping other
    /// readers of it waiting (a staff profile read by every command of that person).
    pub fn for_share(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        }
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

    /// A filter on products `p` whose search text contains `text` (lower-case), its value bound
    /// on `stmt`.
    pub fn product_search(self, stmt: &mut Stmt, text: &str) -> ProductSearch {
        // Trigram indexes need three characters; shorter text scans, which is cheap enough for
        // a query that short and rare.
        let indexed = text.chars().count() >= 3;
        let filter = match self {
            Backend::Sqlite if indexed => {
                // An FTS5 string: the whole text as one phrase, quotes doubled.
                let n = stmt.param(format!("\"{}\"", text.replace('"', "\"\"")));
                format!("p.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {n})")
            }
            _ => {
                let n = stmt.param(format!("%{}%", escape_like(text)));
                format!("p.search_text LIKE {n} ESCAPE '\\'")
            }
        };
        ProductSearch { filter, indexed }
    }

    /// An expression giving a fresh random id, for rows made in bulk by SQL alone (the bench's
    /// seeding). Not UUIDv7 like the ids the core makes, which is fine for throw-away rows.
    pub fn random_id(self) -> &'static str {
        match self {
            Backend::Sqlite => "randomblob(16)",
            Backend::Postgres => "gen_random_uuid()",
        }
    }

    /// Whether a `WITH` can hold INSERTs (Postgres), so that a check and the writes it guards can
    /// be one statement.
    pub fn writes_in_ctes(self) -> bool {
        self == Backend::Postgres
    }

    /// One round trip: the read-only common table expressions `ctes`, data-modifying `writes`
    /// that may read them, then `query` (required on Postgres, where a `WITH` must end in one).
    /// Postgres runs it as one statement (one snapshot: the writes and `query` see the database
    /// as it was before the writes); SQLite runs each part as its own statement, one after
    /// another, repeating `ctes` for each, so `query` must not depend on rows the writes made.
    pub fn writes_with(self, ctes: &str, writes: &[String], query: Option<&str>) -> String {
        match self {
            Backend::Sqlite => writes
                .iter()
                .map(String::as_str)
                .chain(query)
                .map(|part| format!("WITH {ctes} {part}"))
                .collect::<Vec<_>>()
                .join(";\n"),
            Backend::Postgres => {
                let writes: Vec<String> = (1..)
                    .zip(writes)
                    .map(|(n, w)| format!("w{n} AS ({w})"))
                    .collect();
                let query = query.expect("a Postgres WITH ends in a query");
                format!("WITH {ctes}, {} {query}", writes.join(", "))
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

/// A product search as SQL: the filter, and whether the search index serves it (or every product
/// is tested).
pub struct ProductSearch {
    pub filter: String,
    pub indexed: bool,
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
    fn writes_with_is_one_statement_on_postgres() {
        let writes = [
            "INSERT INTO a SELECT x FROM c".to_string(),
            "INSERT INTO b SELECT x FROM c".to_string(),
        ];
        assert_eq!(
            Backend::Postgres.writes_with(
                "c (x) AS (VALUES ($1))",
                &writes,
                Some("SELECT x FROM c")
            ),
            "WITH c (x) AS (VALUES ($1)), w1 AS (INSERT INTO a SELECT x FROM c), \
             w2 AS (INSERT INTO b SELECT x FROM c) SELECT x FROM c"
        );
        assert_eq!(
            Backend::Sqlite.writes_with("c (x) AS (VALUES ($1))", &writes, Some("SELECT x FROM c")),
            "WITH c (x) AS (VALUES ($1)) INSERT INTO a SELECT x FROM c;\n\
             WITH c (x) AS (VALUES ($1)) INSERT INTO b SELECT x FROM c;\n\
             WITH c (x) AS (VALUES ($1)) SELECT x FROM c"
        );
    }
}
