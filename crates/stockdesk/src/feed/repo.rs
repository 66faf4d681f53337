//! The feed's queries over `applied_ops` (see the module doc for why they look like this).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::Cursor;
use crate::error::Result;
use crate::model::Change;
use crate::store::{Backend, Conn, Stmt};

/// Kinds of writes that are no command: their outcome is the list of what they changed.
pub const SYSTEM_KINDS: &[&str] = &["expire_orders", "sync_pull", "right_size_allotments"];

#[derive(sqlx::FromRow)]
pub struct Row {
    pub seq: i64,
    pub tx: i64,
    op_id: Uuid,
    kind: String,
    actor: Option<String>,
    outcome: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
}

impl Row {
    pub fn into_change(self, cursor: Cursor) -> Result<Change> {
        Ok(Change {
            cursor: cursor.to_string(),
            changed: super::changed_by(&self.kind, self.outcome.0)?,
            op_id: self.op_id,
            kind: self.kind,
            actor: self.actor,
            at: self.created_at,
        })
    }
}

/// The first transaction id whose changes may not all be in yet: on Postgres, the lowest id of
/// a transaction of this database still writing to the feed, or else the next id to be handed
/// out (a transaction that starts writing from now on gets a higher one). Read live from the
/// lock table *before* the rows are read, so a writer that commits in between is either seen
/// here or its rows are visible there. Every writer takes the feed's lock first (`idempotency`), so a transaction
/// holds the feed's lock from the moment it has an id. `i64::MAX` on SQLite, where whatever is
/// committed is complete.
async fn fence(conn: &mut Conn) -> Result<i64> {
    if conn.backend() == Backend::Sqlite {
        return Ok(i64::MAX);
    }
    // `pg_locks` names transactions by 32-bit id; the epoch of the next id makes them 64-bit.
    // Live transactions are within 2^31 of each other, and pg_locks is read after the snapshot,
    // so a transaction that began since has an id above `next`: the nearest epoch is the right
    // one (taking every id above `next` for the previous epoch made the fence negative).
    Stmt::new(
        "WITH next AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid), \
         writing AS ( \
           SELECT own.transactionid::text::bigint AS xid FROM pg_locks feed \
           JOIN pg_locks own ON own.pid = feed.pid AND own.locktype = 'transactionid' \
             AND own.mode = 'ExclusiveLock' AND own.granted \
           WHERE feed.locktype = 'relation' AND feed.mode = 'RowExclusiveLock' \
             AND feed.relation = 'applied_ops'::regclass \
             AND feed.database = (SELECT oid FROM pg_database WHERE datname = current_database())), \
         full_ids AS ( \
           SELECT CASE \
             WHEN (next.xid >> 32 << 32 | w.xid) > next.xid + 2147483648 \
               THEN (next.xid >> 32 << 32 | w.xid) - 4294967296 \
             WHEN (next.xid >> 32 << 32 | w.xid) < next.xid - 2147483648 \
               THEN (next.xid >> 32 << 32 | w.xid) + 4294967296 \
             ELSE next.xid >> 32 << 32 | w.xid END AS xid \
           FROM next, writing w) \
         SELECT LEAST((SELECT xid FROM next), COALESCE((SELECT MIN(xid) FROM full_ids), \
           (SELECT xid FROM next)))",
    )
    .fetch_scalar(conn)
    .await
}

pub async fn after(conn: &mut Conn, after: Cursor, limit: i64) -> Result<Vec<Row>> {
    let fence = fence(conn).await?;
    Stmt::new(
        "SELECT seq, tx, op_id, kind, actor, outcome, created_at FROM applied_ops \
         WHERE (tx > $1 OR (tx = $1 AND seq > $2)) AND tx < $3 AND outcome IS NOT NULL \
         ORDER BY tx, seq LIMIT $4",
    )
    .arg(after.tx)
    .arg(after.seq)
    .arg(fence)
    .arg(limit)
    .fetch(conn)
    .await
}

pub async fn last(conn: &mut Conn) -> Result<Option<Cursor>> {
    let fence = fence(conn).await?;
    let row: Option<(i64, i64)> = Stmt::new(
        "SELECT tx, seq FROM applied_ops WHERE tx < $1 AND outcome IS NOT NULL \
         ORDER BY tx DESC, seq DESC LIMIT 1",
    )
    .arg(fence)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(tx, seq)| Cursor { tx, seq }))
}
