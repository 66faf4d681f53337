//! Retries for what the database itself reports as transient — never for business outcomes.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::{Error, Result};

const ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Serialisation failures and deadlocks (Postgres), busy/locked (SQLite).
pub fn is_transient(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return matches!(e, sqlx::Error::PoolTimedOut);
    };
    match db.code().as_deref() {
        // Postgres: serialization_failure, deadlock_detected.
        Some("40001") | Some("40P01") => true,
        // SQLite primary result codes BUSY (5) and LOCKED (6), with their extended codes.
        Some(code) => code
            .parse::<i32>()
            .map(|n| matches!(n & 0xff, 5 | 6))
            .unwrap_or(false),
        None => false,
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
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Err(Error::Busy) if n < ATTEMPTS => {
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
