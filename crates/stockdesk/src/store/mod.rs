//! Opening SQLite or Postgres, migrations, transactions and transient-error retries.
//!
//! Every query in the core is written once and runs on both backends: it is a `Stmt` (its SQL text
//! and its values) run on a `Tx` or a `Conn`, and what it returns is a named row (`Record`) or one
//! column (`fetch_scalar`, …). What differs between the dialects lives in `dialect.rs` and nowhere
//! else.

pub mod batch;
mod dialect;
pub mod idempotency;
mod retry;
pub mod session;
pub mod turns;
pub mod url;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::{Error, Result};

pub use batch::{Arg, Batch, ColumnType, Prelude, Record, Session, Stmt};
pub use dialect::{placeholders, Backend, ProductSearch};
pub use retry::{is_transient, with_retry};
pub use session::PgSession;
pub use turns::{TurnFn, TurnItem, Turns};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a SQLite writer waits for the write lock before giving up. Writers queue on the lock
/// (`BEGIN IMMEDIATE`), so this is a bound on a queue, not a failure mode under normal load.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How an SQLite write transaction starts: with the write lock taken up front.
pub(crate) const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One open transaction. Statements run on it through `Stmt`.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection outside any transaction: each statement on it reads what is committed
/// when it starts. For a look that may settle a request without a transaction (no `BEGIN`, no
/// write lock); `begin_write` then turns it into a write transaction on the same connection.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// Runs `$body` with `$c` bound to the backend's transaction (`&mut Transaction<…>`), compiled
/// once per backend. Not how the core issues queries (that is `Stmt`): it is here for code that
/// must reach sqlx itself, such as the benches' raw-SQL baselines.
#[macro_export]
#[doc(hidden)]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite($c) => $body,
            $crate::store::Tx::Postgres($c) => $body,
        }
    };
}
pub use crate::on_tx;

impl Store {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…` and brings the schema up to
    /// date.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, &PgSession::default()).await
    }

    /// `open`, with Postgres sessions set up as `session` says.
    pub async fn open_with(url: &str, session: &PgSession) -> Result<Store> {
        let _turn = sqlite_opening_turn(url).await?;
        let store = Store::connect_with(url, session).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without migrating (for `stockdesk migrate` to report what it does).
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &PgSession::default()).await
    }

    pub async fn connect_with(url: &str, session: &PgSession) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| {
                    Error::BadInput(format!("bad Postgres URL {:?}: {e}", url::redact(url)))
                })?
                .application_name("stockdesk")
                .options(session.settings());
            // One plain connection first says whether the server is there at all and why not
            // (the pool would retry until its acquire timeout and report only that).
            match tokio::time::timeout(session.connect_timeout, opts.connect()).await {
                Ok(Ok(probe)) => {
                    let _ = sqlx::Connection::close(probe).await;
                }
                Ok(Err(e)) => return Err(connect_error(url, e)),
                Err(_) => {
                    return Err(Error::Unreachable {
                        database: url::redact(url),
                        reason: format!("no answer within {:?}", session.connect_timeout),
                    })
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(session.pool_size)
                .idle_timeout(session.idle_close)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await
                .map_err(|e| connect_error(url, e))?;
            Ok(Store::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::BadInput(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed sale survives a power cut (see README, "Durability").
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            if let Some(dir) = opts.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(SQLITE_BUSY_TIMEOUT + Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            Ok(Store::Sqlite(pool))
        } else {
            Err(Error::BadInput(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                url::redact(url)
            )))
        }
    }

    /// The database's own time, sampled once: Postgres's clock and when it was read (the middle
    /// of the round trip). None on SQLite, whose one terminal keeps the system clock.
    pub async fn database_time(
        &self,
    ) -> Result<Option<(chrono::DateTime<chrono::Utc>, std::time::Instant)>> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?;
        let before = std::time::Instant::now();
        let now: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&mut *conn)
            .await?;
        let taken = before + before.elapsed() / 2;
        Ok(Some((now, taken)))
    }

    /// The file of an SQLite store (None on Postgres or in memory).
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match self {
            Store::Sqlite(p) => {
                let f = p.connect_options().get_filename().to_path_buf();
                (!f.as_os_str().is_empty() && f != Path::new(":memory:")).then_some(f)
            }
            Store::Postgres(_) => None,
        }
    }

    /// An SQLite file nothing else writes (a backup's copy), opened read-only: no journal, no
    /// lock, nothing written to it.
    pub async fn open_sqlite_copy(path: &Path) -> Result<Store> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        Ok(Store::Sqlite(pool))
    }

    /// The schema migrations this Stockdesk knows for `backend`, by version.
    pub fn migration_versions(backend: Backend) -> Vec<i64> {
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// The SQLite URL of a file path.
    pub fn sqlite_url(path: &Path) -> String {
        format!("sqlite://{}", path.display())
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            // A terminal's Postgres role may own nothing (docs/security.md): it cannot run even
            // the migrator's `CREATE TABLE IF NOT EXISTS`, so a schema that is up to date is left
            // alone, and only the owner's role migrates (`stockdesk migrate`).
            Store::Postgres(p) if postgres_up_to_date(p).await? => {}
            Store::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// A read transaction: one consistent snapshot, no write lock.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Store::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes can never fail to upgrade its lock; writers queue
    /// on the busy timeout instead of failing with "database is locked".
    pub async fn write(&self) -> Result<Tx> {
        self.conn().await?.begin_write().await
    }

    pub async fn conn(&self) -> Result<Conn> {
        Ok(match self {
            Store::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Store::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// A write transaction on this connection (see `Store::write`).
    pub async fn begin_write(self) -> Result<Tx> {
        Ok(match self {
            Conn::Sqlite(c) => {
                Tx::Sqlite(Transaction::begin(c, Some(SQLITE_BEGIN_WRITE.into())).await?)
            }
            Conn::Postgres(c) => Tx::Postgres(Transaction::begin(c, None).await?),
        })
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Locks the rows of `table` that match `filter` (a `WHERE` condition with its values), in id
    /// order, on Postgres; SQLite's write transaction already holds the only write lock there is.
    /// Writers that lock several rows of one table all take them in id order, so they never wait
    /// on each other in a cycle.
    pub async fn lock_rows(&mut self, table: &str, filter: Stmt) -> Result<()> {
        if self.backend().has_row_locks() {
            let lock = self.backend().for_update();
            filter
                .wrap(|f| format!("SELECT id FROM {table} WHERE {f} ORDER BY id{lock}"))
                .rows(self)
                .await?;
        }
        Ok(())
    }

    /// Rolls back now (see `finish`).
    pub async fn rollback(self) -> Result<()> {
        on_tx!(self, c => c.rollback().await?);
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        on_tx!(self, c => c.commit().await?);
        Ok(())
    }

    /// Commits on success; on failure rolls back before returning, so row locks are gone by the
    /// time the caller sees the error. (A dropped transaction is rolled back too, but only when
    /// its connection is next touched: until then its locks can make another writer wait or a
    /// sweeper skip rows.)
    pub async fn finish<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rb) = self.rollback().await {
                    tracing::warn!(error = %rb, "rollback failed; the pool drops the connection");
                }
                Err(e)
            }
        }
    }
}

/// Why a first connection failed, as the core reports it: a server that answered and said no
/// (no such database, wrong password) is bad input; no answer at all, or a server starting up
/// or shutting down, is `unreachable`.
fn connect_error(url_text: &str, e: sqlx::Error) -> Error {
    let database = url::redact(url_text);
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if code.starts_with("08") || code.starts_with("57P0") {
                Error::Unreachable {
                    database,
                    reason: db.message().to_string(),
                }
            } else {
                Error::BadInput(format!(
                    "the database at {database} refused: {}",
                    db.message()
                ))
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::Protocol(_) => Error::Unreachable {
            database,
            reason: e.to_string(),
        },
        other => other.into(),
    }
}

/// Whether the database has exactly this build's migrations applied, each successfully and with
/// the same checksum (anything else goes to the migrator, which applies or refuses as before).
async fn postgres_up_to_date(pool: &PgPool) -> Result<bool> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(false);
    }
    let applied: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations")
            .fetch_all(pool)
            .await?;
    let wanted: Vec<_> = POSTGRES_MIGRATIONS
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    Ok(applied.len() == wanted.len()
        && wanted.iter().all(|m| {
            applied
                .iter()
                .any(|(v, ok, sum)| *v == m.version && *ok && sum[..] == m.checksum[..])
        }))
}

/// sqlx locks a Postgres database while it migrates, but not an SQLite file: two processes
/// opening a new file at once (the app and a script) would both create it and run its first
/// migration. A lock file beside the database makes them take turns, until the file is set up.
async fn sqlite_opening_turn(url: &str) -> Result<Option<std::fs::File>> {
    if !url.starts_with("sqlite:") {
        return Ok(None);
    }
    let Ok(opts) = SqliteConnectOptions::from_str(url) else {
        return Ok(None); // connect reports the bad URL
    };
    let file = opts.get_filename();
    if file.as_os_str().is_empty() || file == Path::new(":memory:") {
        return Ok(None);
    }
    let mut name = file.as_os_str().to_owned();
    name.push(".open-lock");
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let f = std::fs::File::create(name)?;
        f.lock()?;
        Ok(f)
    })
    .await
    .map_err(|e| Error::Internal(format!("waiting to open the database: {e}")))??;
    Ok(Some(lock))
}
