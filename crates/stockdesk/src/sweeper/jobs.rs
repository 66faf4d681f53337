//! The sweep jobs.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use futures::future::BoxFuture;

use super::{runs, Job, Sweeper};
use crate::error::Result;
use crate::images;
use crate::model::ChangeEvent;
use crate::stock;

/// Orders per transaction. A batch is three statements and one commit whatever its size, so its
/// time is mostly the rows' own page and index writes: about 0.04 s on Postgres and 0.1 s on
/// SQLite for 1,000 beside a million pending orders (measured here). That is how long payments
/// may queue behind a batch (on SQLite every writer; on Postgres only the batch's own orders).
const EXPIRE_BATCH: i64 = 1_000;
/// Batches per run, so one run ends even if orders keep lapsing while it works (and, on SQLite,
/// so a large backlog is cleared over several runs rather than in one long stretch of writes).
const EXPIRE_MAX_BATCHES: i64 = 10;
/// How long sweep runs are kept.
const KEEP_RUNS_DAYS: i64 = 30;

/// Marks overdue pending orders expired and their reservations with them. Purely tidying: a
/// lapsed hold already counts for nothing in `available`.
pub struct ExpireOrders;

impl Job for ExpireOrders {
    fn name(&self) -> &'static str {
        "expire_orders"
    }

    fn run<'a>(&'a self, s: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>> {
        Box::pin(async move {
            let (mut orders, mut reservations) = (0, 0);
            if s.ctx.replica.is_some() {
                // A terminal's replica does not decide orders: the shop's sweeper expires them,
                // and the replica pulls that (a lapsed hold counts for nothing meanwhile).
                return Ok(BTreeMap::new());
            }
            for _ in 0..EXPIRE_MAX_BATCHES {
                let (batch, expired) =
                    stock::expire_overdue_orders(s.ctx, s.actor, EXPIRE_BATCH).await?;
                for id in expired {
                    s.ctx.emit(ChangeEvent::Order { id });
                }
                orders += batch.orders_expired;
                reservations += batch.reservations_expired;
                // A short batch: nothing left, or the rest is locked by another sweeper.
                if batch.locked < EXPIRE_BATCH {
                    break;
                }
            }
            Ok(BTreeMap::from([
                ("orders_expired".to_string(), orders),
                ("reservations_expired".to_string(), reservations),
            ]))
        })
    }
}

/// Forgets sweep runs older than a month.
pub struct PruneSweepRuns;

impl Job for PruneSweepRuns {
    fn name(&self) -> &'static str {
        "prune_sweep_runs"
    }

    fn run<'a>(&'a self, s: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>> {
        Box::pin(async move {
            let before = s.ctx.now() - TimeDelta::days(KEEP_RUNS_DAYS);
            let n = runs::prune(&s.ctx.store, before).await?;
            Ok(BTreeMap::from([("runs_pruned".to_string(), n)]))
        })
    }
}

/// Forgets what terminals said they were editing once they stopped saying so (150 s).
pub struct ForgetGoneEditors;

impl Job for ForgetGoneEditors {
    fn name(&self) -> &'static str {
        "forget_gone_editors"
    }

    fn run<'a>(&'a self, s: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>> {
        Box::pin(async move {
            let n = crate::presence::forget_gone(s.ctx).await?;
            Ok(BTreeMap::from([("editors_forgotten".to_string(), n)]))
        })
    }
}

/// Removes staged image uploads that no edit claimed before their limit, and queues for deletion
/// blobs that nothing uses (see docs/images.md). Never touches a blob something references.
pub struct ExpireStagedBlobs;

impl Job for ExpireStagedBlobs {
    fn name(&self) -> &'static str {
        "expire_staged_blobs"
    }

    fn run<'a>(&'a self, s: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>> {
        Box::pin(async move {
            let u = images::sweep_uploads(s.ctx).await?;
            Ok(BTreeMap::from([
                ("uploads_expired".to_string(), u.expired_uploads),
                ("orphans_queued".to_string(), u.orphans_queued),
                ("temp_files_removed".to_string(), u.temp_files_removed),
            ]))
        })
    }
}

/// Deletes the blobs in the deletion outbox that nothing references any more; failures are
/// recorded per entry and retried with backoff (health: `failing_blob_deletions`).
pub struct WorkBlobOutbox;

impl Job for WorkBlobOutbox {
    fn name(&self) -> &'static str {
        "blob_outbox"
    }

    fn run<'a>(&'a self, s: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>> {
        Box::pin(async move {
            let run = images::sweep_outbox(s.ctx).await?;
            Ok(BTreeMap::from([
                ("blobs_deleted".to_string(), run.deleted),
                ("entries_kept".to_string(), run.kept),
                ("deletions_failed".to_string(), run.failed),
            ]))
        })
    }
}
