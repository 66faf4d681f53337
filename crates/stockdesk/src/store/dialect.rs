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

    /// A filter on products `p` whose search text contains `text` (lower-case), using parameter
    /// `$n`.
    pub fn product_search(self, n: usize, text: &str) -> ProductSearch {
        // Trigram indexes need three characters; shorter text scans, which is cheap enough for
        // a query that short and rare.
        let indexed = text.chars().count() >= 3;
        let (filter, pattern) = match self {
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
        };
        ProductSearch {
            filter,
            pattern,
            indexed,
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

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A product search as SQL: the filter, the value to bind to its parameter, and whether the
/// search index serves it (or every product is tested).
pub struct ProductSearch {
    pub filter: String,
    pub pattern: String,
    pub indexed: bool,
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
