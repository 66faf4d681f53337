//! Whether this database is a terminal's replica with commands it has not sent to the shop's
//! server yet (its outbox, `sync_outbox`, rows still `pending`): restoring over it would lose
//! them, so a restore refuses.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::store::Stmt;

/// Commands in this database's outbox that the shop's server has not decided yet.
pub async fn pending_commands(ctx: &Ctx) -> Result<i64> {
    let mut tx = ctx.store.read().await?;
    Stmt::new("SELECT COUNT(*) FROM sync_outbox WHERE status = 'pending'")
        .fetch_scalar(&mut tx)
        .await
}
