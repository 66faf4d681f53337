//! Retries for what the database itself reports as transient — never for business outcomes.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::{Error, Result};

const ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// No retry starts after this much time went by: with Postgres's `lock_timeout` it bounds how
/// long a caller behind a held lock waits before it hears `busy`.
const BUDGET: Duration = Duration::from_secs(10);

/// Whether the database says "try again": classified per backend, because the two speak
/// different codes (a Postgres SQLSTATE such as 22021 read as an SQLite code would look busy).
/// - Postgres: serialization_failure (40001), deadlock_detected (40P01), lock_not_available
///   (55P03, a `lock_timeout`) and query_canceled (57014, a `statement_timeout`).
/// - SQLite: the primary result codes BUSY (5) and LOCKED (6), with their extended codes.
/// - Either: the connection was lost (an I/O error; on Postgres also the connection_exception
///   class 08 and the server shutting down or starting, 57P01–57P03) or none could be had in
///   time.
///
/// Everything else — a broken constraint, a missing privilege, bad text — is not transient.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                matches!(
                    code,
                    "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03"
                ) || code.starts_with("08")
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|n| matches!(n & 0xff, 5 | 6))
            } else {
                false
            }
        }
        _ => false,
    }
}

/// A database error as the core reports it: what the database calls transient is `busy` (retried
/// by `with_retry`), anything else a storage failure whose details stay in the log.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if is_transient(&e) {
            return Error::Busy;
        }
        Error::Storage(e)
    }
}

/// Runs `attempt` until it succeeds, fails with a non-transient error, or the attempts run out.
/// Backoff is exponential with full jitter so that colliding writers spread out.
pub async fn with_retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut backoff = FIRST_BACKOFF;
    let started = std::time::Instant::now();
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Err(Error::Busy) if n < ATTEMPTS && started.elapsed() < BUDGET => {
                let wait = rand::rng().random_range(Duration::ZERO..=backoff);
                tracing::debug!(attempt = n, ?wait, "transient database error; retrying");
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            other => return other,
        }
    }
    Err(Error::Busy)
}
