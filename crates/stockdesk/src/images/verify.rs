//! Looking over the whole blob store: verifying that every referenced blob is there with the
//! right hash, and queueing what nothing references (orphans a crash left, stale temp files).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::Instrument;

use super::outbox::{failing_blob_deletions, sweep_outbox};
use super::staging::expire_staged_blobs;
use super::{blob_store, blocking, key_of, repo, BlobStore, STAGE_TTL, SWEEP_BATCH};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{GcReport, MissingBlob, UploadSweep, VerifyReport};

/// A file found with no registry row is left this long before it is queued for deletion (it may
/// belong to an upload that is between writing its file and recording it).
const ORPHAN_GRACE: TimeDelta = TimeDelta::hours(1);
/// Temp files older than this (by the file system's clock) belong to a writer that died.
const TEMP_GRACE: Duration = Duration::from_secs(3600);

/// Checks that every referenced blob exists with the right hash and that no unreferenced
/// blob is older than the time limit.
pub async fn blobs_verify(ctx: &Ctx) -> Result<VerifyReport> {
    let span = tracing::info_span!("blobs_verify", backend = ?ctx.blob_backend);
    async {
        let inv = inventory(ctx).await?;
        let now = ctx.now();
        let store = blob_store(ctx);
        let mut missing = Vec::new();
        for (key, used_by) in &inv.refs {
            if !inv.stored.contains_key(key) {
                missing.push(MissingBlob {
                    key: key.clone(),
                    uses: used_by.len() as i64,
                    used_by: used_by.iter().take(10).cloned().collect(),
                });
            }
        }
        let mut corrupt = Vec::new();
        let mut orphans = Vec::new();
        let mut unreferenced_recent = 0;
        for (key, stored_at) in &inv.stored {
            let bytes = {
                let mut tx = ctx.store.read().await?;
                store.read(&mut tx, key).await?
            };
            if bytes.is_none_or(|b| key_of(&b) != *key) {
                corrupt.push(key.clone());
            }
            if inv.refs.contains_key(key) {
                continue;
            }
            let since = inv
                .queued
                .get(key)
                .map(|q| q.first_queued_at)
                .or_else(|| inv.registered.get(key).copied())
                .unwrap_or(*stored_at);
            if now - since > STAGE_TTL {
                orphans.push(key.clone());
            } else {
                unreferenced_recent += 1;
            }
        }
        if let BlobStore::Dir(dir) = &store {
            for (path, modified) in dir.temp_files()? {
                if modified.elapsed().unwrap_or_default() > STAGE_TTL.to_std().unwrap_or(TEMP_GRACE)
                {
                    orphans.push(path.display().to_string());
                }
            }
        }
        let report = VerifyReport {
            ok: missing.is_empty() && corrupt.is_empty() && orphans.is_empty(),
            backend: ctx.blob_backend,
            referenced: inv.refs.len() as i64,
            stored: inv.stored.len() as i64,
            missing,
            corrupt,
            orphans,
            unreferenced_recent,
            pending_deletions: inv.queued.len() as i64,
            failing_deletions: inv.queued.values().filter(|q| q.attempts > 0).count() as i64,
        };
        if !report.ok {
            tracing::warn!(
                missing = report.missing.len(),
                corrupt = report.corrupt.len(),
                orphans = report.orphans.len(),
                "blob store is not consistent"
            );
        }
        Ok(report)
    }
    .instrument(span)
    .await
}

/// The sweeper's first image job: expires unclaimed uploads (their blobs are queued), queues
/// stored blobs that nothing uses or has queued, and removes stale temp files.
pub async fn sweep_uploads(ctx: &Ctx) -> Result<UploadSweep> {
    let mut out = UploadSweep::default();
    loop {
        let n = expire_staged_blobs(ctx, SWEEP_BATCH).await?;
        out.expired_uploads += n;
        if n < SWEEP_BATCH {
            break;
        }
    }
    out.orphans_queued = queue_orphan_blobs(ctx).await?;
    out.temp_files_removed = remove_stale_temp_files(ctx).await?;
    Ok(out)
}

/// Both image sweep jobs in one call (`stockdesk blobs gc`).
pub async fn blobs_gc(ctx: &Ctx) -> Result<GcReport> {
    let span = tracing::info_span!("blobs_gc", backend = ?ctx.blob_backend);
    async {
        let uploads = sweep_uploads(ctx).await?;
        let report = GcReport {
            expired_uploads: uploads.expired_uploads,
            orphans_queued: uploads.orphans_queued,
            temp_files_removed: uploads.temp_files_removed,
            outbox: sweep_outbox(ctx).await?,
            failing_deletions: failing_blob_deletions(ctx).await?,
        };
        tracing::info!(?report, "blobs gc finished");
        Ok(report)
    }
    .instrument(span)
    .await
}

/// Queues stored blobs that nothing references and that are not queued yet: files a crash
/// left between writing and recording them, or entries lost to a restore from backup.
pub async fn queue_orphan_blobs(ctx: &Ctx) -> Result<i64> {
    let inv = inventory(ctx).await?;
    let now = ctx.now();
    let orphans: Vec<&String> = inv
        .stored
        .keys()
        .filter(|k| !inv.refs.contains_key(*k) && !inv.queued.contains_key(*k))
        .collect();
    if orphans.is_empty() {
        return Ok(0);
    }
    let mut tx = ctx.store.write().await?;
    for key in &orphans {
        repo::enqueue(&mut tx, key, now, now + ORPHAN_GRACE).await?;
    }
    tx.commit().await?;
    Ok(orphans.len() as i64)
}

/// Removes temp files that a writer which died mid-write left behind.
pub async fn remove_stale_temp_files(ctx: &Ctx) -> Result<i64> {
    let BlobStore::Dir(dir) = blob_store(ctx) else {
        return Ok(0);
    };
    blocking(move || {
        let mut n = 0;
        for (path, modified) in dir.temp_files()? {
            if modified.elapsed().unwrap_or_default() > TEMP_GRACE {
                std::fs::remove_file(path)?;
                n += 1;
            }
        }
        Ok(n)
    })
    .await
}

async fn inventory(ctx: &Ctx) -> Result<Inventory> {
    let mut tx = ctx.store.read().await?;
    let mut refs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in repo::all_refs(&mut tx).await? {
        refs.entry(r.blob_key).or_default().push(r.owner.clone());
        if let Some(t) = r.thumb_key {
            refs.entry(t).or_default().push(r.owner);
        }
    }
    let registry = repo::registry(&mut tx).await?;
    let queued = repo::outbox_by_key(&mut tx)
        .await?
        .into_iter()
        .map(|q| (q.blob_key.clone(), q))
        .collect();
    drop(tx);
    let registered: HashMap<String, DateTime<Utc>> = registry
        .iter()
        .map(|b| (b.key.clone(), b.created_at))
        .collect();
    let stored = match blob_store(ctx) {
        BlobStore::Dir(dir) => blocking(move || dir.list())
            .await?
            .into_iter()
            .map(|e| (e.key, DateTime::<Utc>::from(e.modified)))
            .collect(),
        BlobStore::Db => registry
            .into_iter()
            .filter(|b| b.has_data)
            .map(|b| (b.key, b.created_at))
            .collect(),
    };
    Ok(Inventory {
        refs,
        stored,
        registered,
        queued,
    })
}

/// What is referenced, stored, registered and queued, read for `verify` and the orphan scan.
struct Inventory {
    refs: BTreeMap<String, Vec<String>>,
    /// Stored blobs with the time they were stored.
    stored: BTreeMap<String, DateTime<Utc>>,
    registered: HashMap<String, DateTime<Utc>>,
    /// Queued keys: first queued at, most attempts.
    queued: HashMap<String, repo::QueuedBlob>,
}
