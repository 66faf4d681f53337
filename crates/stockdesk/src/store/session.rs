//! How Stockdesk's Postgres sessions behave, so that several terminals can share one server and
//! none is ever stuck behind another that vanished (README, "Several terminals on one Postgres").

use std::time::Duration;

/// Limits set on every Postgres session Stockdesk opens (sent at connect as `-c name=value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSession {
    /// Connections per process. Ten terminals and a server sweeper at 8 each stay well inside
    /// Postgres's default `max_connections` of 100 (less its 3 superuser slots).
    pub pool_size: u32,
    /// The longest a statement waits for a row lock. A buyer behind a terminal that holds a lock
    /// hears `busy` (after the bounded retries) instead of waiting for it indefinitely.
    pub lock_timeout: Duration,
    /// The longest one statement runs. Far above anything a shop's write takes; it ends a
    /// runaway statement instead of letting it hold locks and a connection.
    pub statement_timeout: Duration,
    /// How long a session may sit inside a transaction without sending anything before the
    /// server ends it and frees its locks: a terminal that dropped off the network mid-payment
    /// holds them this long at most.
    pub idle_in_transaction_timeout: Duration,
    /// Server-side TCP keepalive: a terminal whose connection went silent (cable pulled, laptop
    /// shut) is noticed after about idle + interval × count seconds, also outside transactions.
    pub keepalive_idle: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_count: u32,
    /// How long opening a store waits for the server's first answer before it reports the
    /// database `unreachable` (a terminal whose Postgres is down learns so at once).
    pub connect_timeout: Duration,
    /// How long an unused connection stays open. A terminal syncing every few seconds keeps
    /// one; fifty terminals that went quiet should not hold fifty of the server's slots.
    pub idle_close: Duration,
}

impl Default for PgSession {
    fn default() -> Self {
        PgSession {
            pool_size: 8,
            lock_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(60),
            idle_in_transaction_timeout: Duration::from_secs(10),
            keepalive_idle: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(2),
            keepalive_count: 3,
            connect_timeout: Duration::from_secs(5),
            idle_close: Duration::from_secs(600),
        }
    }
}

impl PgSession {
    /// The settings as `(name, value)` pairs for the connection's startup options.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let ms = |d: Duration| format!("{}ms", d.as_millis());
        vec![
            ("lock_timeout", ms(self.lock_timeout)),
            ("statement_timeout", ms(self.statement_timeout)),
            (
                "idle_in_transaction_session_timeout",
                ms(self.idle_in_transaction_timeout),
            ),
            (
                "tcp_keepalives_idle",
                self.keepalive_idle.as_secs().to_string(),
            ),
            (
                "tcp_keepalives_interval",
                self.keepalive_interval.as_secs().to_string(),
            ),
            ("tcp_keepalives_count", self.keepalive_count.to_string()),
            // Stockdesk's statements are short. A report joins its rows to a list of days whose
            // bounds Postgres cannot estimate, so it expects a million rows where there are
            // thousands, and past `jit_above_cost` compiling the plan took longer (50–150 ms)
            // than running it.
            ("jit", "off".to_string()),
        ]
    }
}
