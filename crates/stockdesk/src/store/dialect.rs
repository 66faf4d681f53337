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

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}
