//! Injectable time: the shop's clock, which decides every deadline, expiry and lateness. On SQLite
//! (one terminal) it is the system clock; on a shared Postgres it is the database's clock
//! (`DatabaseClock`), so a terminal whose clock is off by hours decides nothing differently.
//! Tests move a manual clock forward, so nothing in the test-suite sleeps to make time pass.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// Microsecond precision: both databases keep exactly this much, so a value read back equals the
/// value written (snapshots compare equal across SQLite and Postgres).
fn trunc(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        trunc(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(trunc(start))))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut t = self.0.lock().expect("clock poisoned");
        *t += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().expect("clock poisoned") = trunc(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock poisoned")
    }
}

/// The database's clock, sampled: the database's time at the last sample plus the time this
/// machine's monotonic clock counted since. This machine's wall clock — skewed, stepped by NTP,
/// faked — plays no part; between samples the error is the monotonic clock's drift (parts per
/// million) and half the round trip of the sample.
#[derive(Debug)]
pub struct DatabaseClock(Mutex<Sample>);

#[derive(Debug, Clone, Copy)]
struct Sample {
    database: DateTime<Utc>,
    taken: Instant,
}

impl DatabaseClock {
    /// A clock from a first sample: `database` was the database's time at `taken`.
    pub fn new(database: DateTime<Utc>, taken: Instant) -> DatabaseClock {
        DatabaseClock(Mutex::new(Sample { database, taken }))
    }

    /// Takes a newer sample.
    pub fn resample(&self, database: DateTime<Utc>, taken: Instant) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Sample { database, taken };
    }

    /// Since when the last sample is.
    pub fn age(&self) -> std::time::Duration {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .taken
            .elapsed()
    }
}

impl Clock for DatabaseClock {
    fn now(&self) -> DateTime<Utc> {
        let s = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        let since = TimeDelta::from_std(s.taken.elapsed()).unwrap_or(TimeDelta::MAX);
        trunc(s.database + since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_clock_runs_on_from_its_sample() {
        let at = Utc::now() - TimeDelta::hours(3);
        let clock = DatabaseClock::new(at, Instant::now());
        let first = clock.now();
        assert!(first >= trunc(at) && first - at < TimeDelta::seconds(5));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(clock.now() > first, "time moves on between samples");
        clock.resample(at + TimeDelta::hours(1), Instant::now());
        assert!(clock.now() - first > TimeDelta::minutes(59));
    }
}
