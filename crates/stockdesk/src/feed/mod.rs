//! The change feed: every committed write, for other terminals to follow. Each write already
//! records its op id in `applied_ops` inside its own transaction (commands, the shared turns of
//! orders, and the sweeper's expiries), so that table is the feed: nothing is written twice and
//! nothing commits without its entry.
//!
//! Order. A sequence number alone would skip changes: on Postgres a transaction that took number
//! 7 can commit after the one that took number 8, and a reader who saw 8 would never look at 7
//! again. So each row also carries its transaction's id (`tx`), readers go in (tx, seq) order,
//! and they only read rows of transactions older than every transaction still running (the
//! snapshot's `xmin`): those are all finished, so no row can appear before the cursor later. A
//! long transaction delays the feed (by at most Postgres's timeouts), never makes it skip. On
//! SQLite there is one writer at a time, so `seq` is commit order and `tx` is 0.
//!
//! Waking. Followers poll every 0.5 s, and this process's own commits wake them at once.

mod follow;
mod repo;

use std::fmt;
use std::str::FromStr;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{ChangeEvent, ChangePage};

pub use follow::{follow, Follower, POLL_EVERY};

/// The most changes one page holds.
pub const MAX_PAGE: i64 = 1000;

/// A position in the feed: after the change of transaction `tx`, number `seq`. Written
/// `TX-SEQ` (`0-0` is the start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub tx: i64,
    pub seq: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.tx, self.seq)
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Cursor> {
        let bad = || {
            Error::BadInput(format!(
                "not a change cursor: {s:?} (expected TX-SEQ, e.g. 0-0)"
            ))
        };
        let (tx, seq) = s.trim().split_once('-').ok_or_else(bad)?;
        let (tx, seq) = (
            tx.parse().map_err(|_| bad())?,
            seq.parse().map_err(|_| bad())?,
        );
        if tx < 0 || seq < 0 {
            return Err(bad());
        }
        Ok(Cursor { tx, seq })
    }
}

/// Up to `limit` changes after `after`, oldest first, and the cursor to continue from (`after`
/// itself when there is nothing new).
pub async fn page(ctx: &Ctx, after: Cursor, limit: i64) -> Result<ChangePage> {
    Ok(read(ctx, after, limit).await?.0)
}

/// `page`, with the cursor to continue from as a value too (for a follower).
async fn read(ctx: &Ctx, after: Cursor, limit: i64) -> Result<(ChangePage, Cursor)> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut conn = ctx.store.conn().await?;
    let rows = repo::after(&mut conn, after, limit).await?;
    let mut cursor = after;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        cursor = Cursor {
            tx: row.tx,
            seq: row.seq,
        };
        changes.push(row.into_change(cursor)?);
    }
    let page = ChangePage {
        changes,
        cursor: cursor.to_string(),
    };
    Ok((page, cursor))
}

/// The cursor after every change that has settled: a reader starting here sees only what
/// comes next.
pub async fn latest(ctx: &Ctx) -> Result<Cursor> {
    let mut conn = ctx.store.conn().await?;
    Ok(repo::last(&mut conn).await?.unwrap_or_default())
}

/// What a change of `kind` changed, from what `applied_ops` recorded: a command's outcome, or
/// the list a system write (the sweeper) recorded itself.
fn changed_by(kind: &str, outcome: serde_json::Value) -> Result<Vec<ChangeEvent>> {
    let unreadable =
        |e: serde_json::Error| Error::Internal(format!("change feed entry of {kind}: {e}"));
    if repo::SYSTEM_KINDS.contains(&kind) {
        return serde_json::from_value(outcome).map_err(unreadable);
    }
    let outcome: crate::model::Outcome = serde_json::from_value(outcome).map_err(unreadable)?;
    Ok(outcome.changed())
}
