//! Who is editing: a terminal with unsaved changes to a product says so about every 15 s, and
//! the shop's other terminals show it ("Ana is editing"). It is a courtesy, never a lock: the
//! version check and the three-way merge decide what a save does, whoever is editing. Not a
//! command either: it is not shop data, is never queued or replayed, and is gone 150 s after
//! the last heartbeat (at once when the terminal says it stopped).

use chrono::{DateTime, TimeDelta, Utc};
use tracing::Instrument;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::Editing;
use crate::store::{with_retry, Stmt};

/// How often a terminal renews what it is editing.
pub const HEARTBEAT_SECS: i64 = 15;
/// How long after its last heartbeat an edit counts as gone (a terminal that vanished).
pub const GONE_AFTER_SECS: i64 = 150;

/// Says that this terminal (`ctx.terminal`) has `product_id` open with unsaved changes, or no
/// longer has.
pub async fn set_editing(ctx: &Ctx, actor: &str, product_id: Uuid, editing: bool) -> Result<()> {
    let span = tracing::debug_span!("set_editing", %product_id, editing);
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        let stmt = if editing {
            Stmt::new(
                "INSERT INTO editing (terminal, product_id, actor, started_at, seen_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (terminal, product_id) \
                 DO UPDATE SET actor = excluded.actor, seen_at = excluded.seen_at",
            )
            .arg(ctx.terminal)
            .arg(product_id)
            .arg(actor)
            .arg(now)
        } else {
            Stmt::new("DELETE FROM editing WHERE terminal = $1 AND product_id = $2")
                .arg(ctx.terminal)
                .arg(product_id)
        };
        let result = stmt.run(&mut tx).await.map(|_| ());
        tx.finish(result).await
    })
    .instrument(span)
    .await
}

/// What the other terminals are editing now, by product and since when.
pub async fn editors(ctx: &Ctx) -> Result<Vec<Editing>> {
    let mut conn = ctx.store.conn().await?;
    let rows: Vec<Row> = Stmt::new(
        "SELECT product_id, actor, MIN(started_at) AS since, MAX(seen_at) AS seen_at FROM editing \
         WHERE terminal <> $1 AND seen_at > $2 GROUP BY product_id, actor \
         ORDER BY product_id, since",
    )
    .arg(ctx.terminal)
    .arg(ctx.now() - TimeDelta::seconds(GONE_AFTER_SECS))
    .fetch(&mut conn)
    .await?;
    Ok(rows.into_iter().map(Row::into_editing).collect())
}

/// Removes edits whose terminal stopped renewing them (the sweeper). Returns how many.
pub async fn forget_gone(ctx: &Ctx) -> Result<i64> {
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let result = Stmt::new("DELETE FROM editing WHERE seen_at <= $1")
            .arg(ctx.now() - TimeDelta::seconds(GONE_AFTER_SECS))
            .run(&mut tx)
            .await;
        tx.finish(result).await
    })
    .await
    .map(|n| n as i64)
}

#[derive(sqlx::FromRow)]
struct Row {
    product_id: Uuid,
    actor: String,
    since: DateTime<Utc>,
    seen_at: DateTime<Utc>,
}

impl Row {
    fn into_editing(self) -> Editing {
        Editing {
            product_id: self.product_id,
            actor: self.actor,
            since: self.since,
            seen_at: self.seen_at,
        }
    }
}
