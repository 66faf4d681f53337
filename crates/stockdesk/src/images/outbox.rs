//! The deletion outbox: blobs an edit stopped using are queued in its transaction and deleted
//! once nothing references them — right after the commit, or later by the sweeper, with retries
//! and backoff for a deletion that fails.

use std::time::Duration;

use chrono::TimeDelta;
use uuid::Uuid;

use super::{blob_store, repo, SWEEP_BATCH};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::OutboxRun;

/// Attempts at a deletion right after the commit that queued it; then the sweeper takes over.
const INLINE_ATTEMPTS: u32 = 3;
const INLINE_BACKOFF: Duration = Duration::from_millis(5);
/// The sweeper's backoff for a failing deletion: doubles per attempt up to the cap.
const RETRY_FIRST: TimeDelta = TimeDelta::minutes(1);
const RETRY_MAX: TimeDelta = TimeDelta::hours(1);

/// Deletions queued by a commit, attempted right away with a few quick retries. Whatever
/// still fails stays in the outbox with its error recorded, for the sweeper.
pub async fn work_outbox_now(ctx: &Ctx, ids: &[Uuid]) {
    for &id in ids {
        let mut backoff = INLINE_BACKOFF;
        for attempt in 1..=INLINE_ATTEMPTS {
            match delete_if_unreferenced(ctx, id).await {
                Ok(_) => break,
                Err(e) => {
                    record_outbox_failure(ctx, id, &e).await;
                    if attempt < INLINE_ATTEMPTS {
                        tokio::time::sleep(backoff).await;
                        backoff *= 4;
                    }
                }
            }
        }
    }
}

/// Works off one batch of due outbox entries. A failure is recorded on its entry (attempts,
/// last error, next attempt with backoff) and does not stop the batch.
pub async fn work_blob_outbox(ctx: &Ctx, limit: i64) -> Result<OutboxRun> {
    let due = {
        let mut tx = ctx.store.read().await?;
        repo::due_outbox(&mut tx, ctx.now(), limit).await?
    };
    let mut run = OutboxRun::default();
    for id in due {
        match delete_if_unreferenced(ctx, id).await {
            Ok(Some(true)) => run.deleted += 1,
            Ok(Some(false)) => run.kept += 1,
            Ok(None) => {}
            Err(e) => {
                run.failed += 1;
                record_outbox_failure(ctx, id, &e).await;
            }
        }
    }
    Ok(run)
}

/// The sweeper's second image job: works off every due outbox entry, batch by batch. A
/// batch with failures ends the run (they are recorded and retried with backoff).
pub async fn sweep_outbox(ctx: &Ctx) -> Result<OutboxRun> {
    let mut out = OutboxRun::default();
    loop {
        let run = work_blob_outbox(ctx, SWEEP_BATCH).await?;
        out.deleted += run.deleted;
        out.kept += run.kept;
        out.failed += run.failed;
        if run.deleted + run.kept + run.failed < SWEEP_BATCH || run.failed > 0 {
            return Ok(out);
        }
    }
}

/// Outbox entries whose deletion has failed at least once (the sweeper's health shows it).
pub async fn failing_blob_deletions(ctx: &Ctx) -> Result<i64> {
    repo::failing_deletions(&mut ctx.store.read().await?).await
}

/// Deletes the blob of outbox entry `id` if nothing references it, and the entry with it.
/// Some(true): deleted; Some(false): in use, entry dropped; None: gone or being worked on.
async fn delete_if_unreferenced(ctx: &Ctx, id: Uuid) -> Result<Option<bool>> {
    let store = blob_store(ctx);
    let mut tx = ctx.store.write().await?;
    let now = ctx.now();
    let Some(key) = repo::lock_outbox(&mut tx, id).await? else {
        return Ok(None);
    };
    // Holding the registry lock: an upload of the same bytes waits, then rewrites its file.
    repo::lock_blob(&mut tx, &key, now).await?;
    let unused = repo::count_refs(&mut tx, &key).await? == 0;
    ctx.failpoint("outbox.before_delete")?;
    if unused {
        store.remove(&key).await?;
        repo::unregister_blob(&mut tx, &key).await?;
    }
    ctx.failpoint("outbox.after_delete")?;
    repo::delete_outbox(&mut tx, id).await?;
    tx.commit().await?;
    tracing::debug!(%key, deleted = unused, "outbox entry done");
    Ok(Some(unused))
}

async fn record_outbox_failure(ctx: &Ctx, id: Uuid, error: &Error) {
    tracing::warn!(outbox_id = %id, %error, "blob deletion failed; will retry");
    let result = async {
        let mut tx = ctx.store.write().await?;
        let attempts = repo::outbox_attempts(&mut tx, id).await?.unwrap_or(0);
        let wait = RETRY_FIRST
            .checked_mul(1 << attempts.clamp(0, 10))
            .unwrap_or(RETRY_MAX)
            .min(RETRY_MAX);
        repo::record_failure(&mut tx, id, &error.to_string(), ctx.now() + wait).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        // The entry keeps its old schedule; the sweeper retries it all the same.
        tracing::warn!(outbox_id = %id, error = %e, "could not record the failure");
    }
}
