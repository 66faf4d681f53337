//! Product image files: the blob stores (directory, database), input checks and thumbnails,
//! staging, and the deletion outbox. This module owns every byte of every image; it never
//! deletes a blob that an image row or a staged upload references, and it never writes a path
//! that did not come from a hash. The write path and why it is crash-safe: docs/images.md.

mod blobs;
mod check;
mod repo;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use uuid::Uuid;

use crate::catalog::{ImageOps, NewImage, PatchOutcome, PatchRequest, Product, ProductPatch};
use crate::error::{Error, Result};
use crate::store::{with_retry, Tx};
use crate::Stockdesk;

pub use blobs::{is_key, key_of, BlobBackend, BlobStore};
pub use check::{MAX_BYTES, MAX_PIXELS, MAX_SIDE, THUMB_SIDE};

/// How long an upload waits for the edit that uses it (a conflict dialog may take a while).
pub const STAGE_TTL: TimeDelta = TimeDelta::hours(24);
/// A file found with no registry row is left this long before it is queued for deletion (it may
/// belong to an upload that is between writing its file and recording it).
const ORPHAN_GRACE: TimeDelta = TimeDelta::hours(1);
/// Temp files older than this (by the file system's clock) belong to a writer that died.
const TEMP_GRACE: Duration = Duration::from_secs(3600);
/// Attempts at a deletion right after the commit that queued it; then the sweeper takes over.
const INLINE_ATTEMPTS: u32 = 3;
const INLINE_BACKOFF: Duration = Duration::from_millis(5);
/// The sweeper's backoff for a failing deletion: doubles per attempt up to the cap.
const RETRY_FIRST: TimeDelta = TimeDelta::minutes(1);
const RETRY_MAX: TimeDelta = TimeDelta::hours(1);
/// Rows per transaction when expiring uploads or working the outbox.
pub const SWEEP_BATCH: i64 = 200;

/// An upload written to the blob store and waiting for an edit to use it. Pass its `id` in a
/// patch (`images.create[].staged`, `images.update[].staged`) before `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StagedBlob {
    pub id: Uuid,
    pub blob_key: String,
    pub thumb_key: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub expires_at: DateTime<Utc>,
}

/// Bytes to show, with their MIME type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImageFile {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OutboxRun {
    /// Blobs deleted (nothing referenced them any more).
    pub deleted: i64,
    /// Entries dropped because the blob is in use again (the same bytes were uploaded anew).
    pub kept: i64,
    /// Deletions that failed; each is recorded and retried later with backoff.
    pub failed: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UploadSweep {
    pub expired_uploads: i64,
    pub orphans_queued: i64,
    pub temp_files_removed: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GcReport {
    pub expired_uploads: i64,
    pub orphans_queued: i64,
    pub temp_files_removed: i64,
    pub outbox: OutboxRun,
    /// Deletions still failing after this run (attempts recorded, retried later).
    pub failing_deletions: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MissingBlob {
    pub key: String,
    /// How many image rows and staged uploads use it.
    pub uses: i64,
    /// The first few of them: `image <id>` or `staged upload <id>`.
    pub used_by: Vec<String>,
}

/// The result of `blobs_verify`: `ok` when every referenced blob is there with the right hash
/// and no unreferenced blob has outstayed the time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VerifyReport {
    pub ok: bool,
    pub backend: BlobBackend,
    pub referenced: i64,
    pub stored: i64,
    pub missing: Vec<MissingBlob>,
    /// Stored blobs whose bytes do not hash to their key.
    pub corrupt: Vec<String>,
    /// Unreferenced blobs (and stray temp files) older than the time limit.
    pub orphans: Vec<String>,
    /// Unreferenced blobs still within the limit: queued for deletion or just uploaded.
    pub unreferenced_recent: i64,
    pub pending_deletions: i64,
    pub failing_deletions: i64,
}

/// Staged uploads a patch uses, by id, locked by the edit's transaction.
pub(crate) type StagedFiles = BTreeMap<Uuid, StagedBlob>;

impl Stockdesk {
    /// Chooses where image bytes are kept (default: the directory backend).
    pub fn with_blob_backend(self, backend: BlobBackend) -> Stockdesk {
        Stockdesk {
            blob_backend: backend,
            ..self
        }
    }

    pub fn blob_store(&self) -> BlobStore {
        BlobStore::new(self.blob_backend, &self.data_dir)
    }

    /// Checks the file at `path` (its extension must match its content) and stages it.
    pub async fn stage_image_file(&self, path: &Path) -> Result<StagedBlob> {
        let span = tracing::info_span!("stage_image_file", path = %path.display());
        async {
            let path = path.to_path_buf();
            let checked = blocking(move || check::check_file(&path)).await?;
            self.stage_checked(checked).await
        }
        .instrument(span)
        .await
    }

    /// Checks image bytes that came without a file name and stages them.
    pub async fn stage_image_bytes(&self, bytes: Vec<u8>) -> Result<StagedBlob> {
        let span = tracing::info_span!("stage_image_bytes", size = bytes.len());
        async {
            let checked = blocking(move || check::check_bytes(bytes)).await?;
            self.stage_checked(checked).await
        }
        .instrument(span)
        .await
    }

    /// Adds the image files at `paths` to a product as one version-checked edit. Every file is
    /// checked before any is stored; the first becomes the thumbnail if the product has none.
    pub async fn add_images(
        &self,
        product_id: Uuid,
        expected_version: i64,
        paths: &[PathBuf],
    ) -> Result<PatchOutcome> {
        let span =
            tracing::info_span!("add_images", %product_id, expected_version, files = paths.len());
        async {
            if paths.is_empty() {
                return Err(Error::BadInput("no image files given".into()));
            }
            let owned = paths.to_vec();
            let checked = blocking(move || {
                owned
                    .iter()
                    .map(|p| check::check_file(p))
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
            let has_thumbnail = self
                .get_product(product_id)
                .await?
                .images
                .iter()
                .any(|i| i.is_thumbnail);
            let mut create = Vec::new();
            for (n, c) in checked.into_iter().enumerate() {
                let staged = self.stage_checked(c).await?;
                create.push(NewImage {
                    staged: staged.id,
                    alt: String::new(),
                    position: None,
                    is_thumbnail: n == 0 && !has_thumbnail,
                });
            }
            self.patch_images(
                product_id,
                expected_version,
                ImageOps {
                    create,
                    ..Default::default()
                },
            )
            .await
        }
        .instrument(span)
        .await
    }

    /// Replaces the file of one image (a version-checked edit of its `blob_key`, merged and
    /// conflict-checked like any other field). The old file is deleted once nothing uses it.
    pub async fn replace_image_file(
        &self,
        product_id: Uuid,
        expected_version: i64,
        image_id: Uuid,
        path: &Path,
    ) -> Result<PatchOutcome> {
        let span =
            tracing::info_span!("replace_image_file", %product_id, %image_id, expected_version);
        async {
            let staged = self.stage_image_file(path).await?;
            self.patch_images(
                product_id,
                expected_version,
                ImageOps {
                    update: vec![crate::catalog::ImageUpdate {
                        id: image_id,
                        staged: Some(staged.id),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await
        }
        .instrument(span)
        .await
    }

    /// The bytes of a blob (an image's `blob_key` or `thumb_key`) for display.
    pub async fn image_file(&self, key: &str) -> Result<ImageFile> {
        let mut tx = self.store.read().await?;
        let bytes = self
            .blob_store()
            .read(&mut tx, key)
            .await?
            .ok_or_else(|| Error::not_found("blob", key))?;
        Ok(ImageFile {
            content_type: check::sniff_content_type(&bytes).to_string(),
            bytes,
        })
    }

    /// Expires one batch of staged uploads past their limit: their rows go, and their blobs are
    /// queued for deletion (kept if something else uses the same bytes). Returns how many.
    pub async fn expire_staged_blobs(&self, limit: i64) -> Result<i64> {
        with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.clock.now();
            let expired = repo::lock_expired_staged(&mut tx, now, limit).await?;
            for s in &expired {
                repo::delete_staged(&mut tx, s.id).await?;
                repo::enqueue(&mut tx, &s.blob_key, now, now).await?;
                repo::enqueue(&mut tx, &s.thumb_key, now, now).await?;
            }
            self.failpoint("sweep.expire_in_tx")?;
            tx.commit().await?;
            Ok(expired.len() as i64)
        })
        .await
    }

    /// Works off one batch of due outbox entries. A failure is recorded on its entry (attempts,
    /// last error, next attempt with backoff) and does not stop the batch.
    pub async fn work_blob_outbox(&self, limit: i64) -> Result<OutboxRun> {
        let due = {
            let mut tx = self.store.read().await?;
            repo::due_outbox(&mut tx, self.clock.now(), limit).await?
        };
        let mut run = OutboxRun::default();
        for id in due {
            match self.delete_if_unreferenced(id).await {
                Ok(Some(true)) => run.deleted += 1,
                Ok(Some(false)) => run.kept += 1,
                Ok(None) => {}
                Err(e) => {
                    run.failed += 1;
                    self.record_outbox_failure(id, &e).await;
                }
            }
        }
        Ok(run)
    }

    /// Queues stored blobs that nothing references and that are not queued yet: files a crash
    /// left between writing and recording them, or entries lost to a restore from backup.
    pub async fn queue_orphan_blobs(&self) -> Result<i64> {
        let inv = self.inventory().await?;
        let now = self.clock.now();
        let orphans: Vec<&String> = inv
            .stored
            .keys()
            .filter(|k| !inv.refs.contains_key(*k) && !inv.queued.contains_key(*k))
            .collect();
        if orphans.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.write().await?;
        for key in &orphans {
            repo::enqueue(&mut tx, key, now, now + ORPHAN_GRACE).await?;
        }
        tx.commit().await?;
        Ok(orphans.len() as i64)
    }

    /// Removes temp files that a writer which died mid-write left behind.
    pub async fn remove_stale_temp_files(&self) -> Result<i64> {
        let BlobStore::Dir(dir) = self.blob_store() else {
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

    /// The sweeper's first image job: expires unclaimed uploads (their blobs are queued), queues
    /// stored blobs that nothing uses or has queued, and removes stale temp files.
    pub async fn sweep_uploads(&self) -> Result<UploadSweep> {
        let mut out = UploadSweep::default();
        loop {
            let n = self.expire_staged_blobs(SWEEP_BATCH).await?;
            out.expired_uploads += n;
            if n < SWEEP_BATCH {
                break;
            }
        }
        out.orphans_queued = self.queue_orphan_blobs().await?;
        out.temp_files_removed = self.remove_stale_temp_files().await?;
        Ok(out)
    }

    /// The sweeper's second image job: works off every due outbox entry, batch by batch. A
    /// batch with failures ends the run (they are recorded and retried with backoff).
    pub async fn sweep_outbox(&self) -> Result<OutboxRun> {
        let mut out = OutboxRun::default();
        loop {
            let run = self.work_blob_outbox(SWEEP_BATCH).await?;
            out.deleted += run.deleted;
            out.kept += run.kept;
            out.failed += run.failed;
            if run.deleted + run.kept + run.failed < SWEEP_BATCH || run.failed > 0 {
                return Ok(out);
            }
        }
    }

    /// Both image sweep jobs in one call (`stockdesk blobs gc`).
    pub async fn blobs_gc(&self) -> Result<GcReport> {
        let span = tracing::info_span!("blobs_gc", backend = ?self.blob_backend);
        async {
            let uploads = self.sweep_uploads().await?;
            let report = GcReport {
                expired_uploads: uploads.expired_uploads,
                orphans_queued: uploads.orphans_queued,
                temp_files_removed: uploads.temp_files_removed,
                outbox: self.sweep_outbox().await?,
                failing_deletions: self.failing_blob_deletions().await?,
            };
            tracing::info!(?report, "blobs gc finished");
            Ok(report)
        }
        .instrument(span)
        .await
    }

    /// Outbox entries whose deletion has failed at least once (the sweeper's health shows it).
    pub async fn failing_blob_deletions(&self) -> Result<i64> {
        failing_deletions(&mut self.store.read().await?).await
    }

    /// Checks that every referenced blob exists with the right hash and that no unreferenced
    /// blob is older than the time limit.
    pub async fn blobs_verify(&self) -> Result<VerifyReport> {
        let span = tracing::info_span!("blobs_verify", backend = ?self.blob_backend);
        async {
            let inv = self.inventory().await?;
            let now = self.clock.now();
            let store = self.blob_store();
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
                    let mut tx = self.store.read().await?;
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
                    .map(|(at, _)| *at)
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
                    if modified.elapsed().unwrap_or_default()
                        > STAGE_TTL.to_std().unwrap_or(TEMP_GRACE)
                    {
                        orphans.push(path.display().to_string());
                    }
                }
            }
            let report = VerifyReport {
                ok: missing.is_empty() && corrupt.is_empty() && orphans.is_empty(),
                backend: self.blob_backend,
                referenced: inv.refs.len() as i64,
                stored: inv.stored.len() as i64,
                missing,
                corrupt,
                orphans,
                unreferenced_recent,
                pending_deletions: inv.queued.len() as i64,
                failing_deletions: inv.queued.values().filter(|(_, a)| *a > 0).count() as i64,
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

    /// Deletions queued by a commit, attempted right away with a few quick retries. Whatever
    /// still fails stays in the outbox with its error recorded, for the sweeper.
    pub(crate) async fn work_outbox_now(&self, ids: &[Uuid]) {
        for &id in ids {
            let mut backoff = INLINE_BACKOFF;
            for attempt in 1..=INLINE_ATTEMPTS {
                match self.delete_if_unreferenced(id).await {
                    Ok(_) => break,
                    Err(e) => {
                        self.record_outbox_failure(id, &e).await;
                        if attempt < INLINE_ATTEMPTS {
                            tokio::time::sleep(backoff).await;
                            backoff *= 4;
                        }
                    }
                }
            }
        }
    }

    /// Gives up staged uploads without using them in an edit (their blobs are deleted unless
    /// something else uses the same bytes).
    pub async fn release_staged(&self, ids: Vec<Uuid>) -> Result<()> {
        let outbox = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.clock.now();
            let mut outbox = Vec::new();
            for id in &ids {
                if let Some(s) = repo::lock_staged(&mut tx, *id).await? {
                    repo::delete_staged(&mut tx, s.id).await?;
                    outbox.push(repo::enqueue(&mut tx, &s.blob_key, now, now).await?);
                    outbox.push(repo::enqueue(&mut tx, &s.thumb_key, now, now).await?);
                }
            }
            tx.commit().await?;
            Ok(outbox)
        })
        .await?;
        self.work_outbox_now(&outbox).await;
        Ok(())
    }

    async fn stage_checked(&self, c: check::CheckedImage) -> Result<StagedBlob> {
        let store = self.blob_store();
        let staged = StagedBlob {
            id: Uuid::now_v7(),
            blob_key: key_of(&c.bytes),
            thumb_key: key_of(&c.thumb),
            content_type: c.content_type.to_string(),
            width: c.width.into(),
            height: c.height.into(),
            size: c.bytes.len() as i64,
            expires_at: self.clock.now() + STAGE_TTL,
        };
        // Keys in order, so two uploads sharing bytes lock their registry rows in one order.
        let mut files = [
            (&staged.blob_key, &c.bytes[..]),
            (&staged.thumb_key, &c.thumb[..]),
        ];
        files.sort_by_key(|(k, _)| *k);

        self.failpoint("stage.before_write")?;
        for (key, bytes) in files {
            store.write_before(key, bytes).await?;
        }
        self.failpoint("stage.after_write")?;
        with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.clock.now();
            for (key, bytes) in files {
                store.register(&mut tx, key, bytes, now).await?;
            }
            repo::insert_staged(&mut tx, &staged, &self.actor, now).await?;
            self.failpoint("stage.in_tx")?;
            tx.commit().await
        })
        .await?;
        self.failpoint("stage.after_commit")?;
        for (key, bytes) in files {
            store.ensure_after(key, bytes).await?;
        }
        tracing::debug!(id = %staged.id, key = %staged.blob_key, "image staged");
        Ok(staged)
    }

    async fn patch_images(
        &self,
        product_id: Uuid,
        expected_version: i64,
        images: ImageOps,
    ) -> Result<PatchOutcome> {
        self.patch_product(PatchRequest {
            product_id,
            expected_version,
            patch: ProductPatch {
                images,
                ..Default::default()
            },
            op_id: None,
        })
        .await
    }

    /// Deletes the blob of outbox entry `id` if nothing references it, and the entry with it.
    /// Some(true): deleted; Some(false): in use, entry dropped; None: gone or being worked on.
    async fn delete_if_unreferenced(&self, id: Uuid) -> Result<Option<bool>> {
        let store = self.blob_store();
        let mut tx = self.store.write().await?;
        let now = self.clock.now();
        let Some(key) = repo::lock_outbox(&mut tx, id).await? else {
            return Ok(None);
        };
        // Holding the registry lock: an upload of the same bytes waits, then rewrites its file.
        repo::lock_blob(&mut tx, &key, now).await?;
        let unused = repo::count_refs(&mut tx, &key).await? == 0;
        self.failpoint("outbox.before_delete")?;
        if unused {
            store.remove(&key).await?;
            repo::unregister_blob(&mut tx, &key).await?;
        }
        self.failpoint("outbox.after_delete")?;
        repo::delete_outbox(&mut tx, id).await?;
        tx.commit().await?;
        tracing::debug!(%key, deleted = unused, "outbox entry done");
        Ok(Some(unused))
    }

    async fn record_outbox_failure(&self, id: Uuid, error: &Error) {
        tracing::warn!(outbox_id = %id, %error, "blob deletion failed; will retry");
        let result = async {
            let mut tx = self.store.write().await?;
            let attempts: i64 = crate::on_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT attempts FROM blob_outbox WHERE id = $1")
                .bind(id).fetch_optional(&mut **c).await?)
            .unwrap_or(0);
            let wait = RETRY_FIRST
                .checked_mul(1 << attempts.clamp(0, 10))
                .unwrap_or(RETRY_MAX)
                .min(RETRY_MAX);
            repo::record_failure(&mut tx, id, &error.to_string(), self.clock.now() + wait).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            // The entry keeps its old schedule; the sweeper retries it all the same.
            tracing::warn!(outbox_id = %id, error = %e, "could not record the failure");
        }
    }

    async fn inventory(&self) -> Result<Inventory> {
        let mut tx = self.store.read().await?;
        let mut refs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (owner, blob, thumb) in repo::all_refs(&mut tx).await? {
            refs.entry(blob).or_default().push(owner.clone());
            if let Some(t) = thumb {
                refs.entry(t).or_default().push(owner);
            }
        }
        let registry = repo::registry(&mut tx).await?;
        let queued = repo::outbox_by_key(&mut tx)
            .await?
            .into_iter()
            .map(|(k, at, attempts)| (k, (at, attempts)))
            .collect();
        drop(tx);
        let registered: HashMap<String, DateTime<Utc>> =
            registry.iter().map(|(k, at, _)| (k.clone(), *at)).collect();
        let stored = match self.blob_store() {
            BlobStore::Dir(dir) => blocking(move || dir.list())
                .await?
                .into_iter()
                .map(|e| (e.key, DateTime::<Utc>::from(e.modified)))
                .collect(),
            BlobStore::Db => registry
                .into_iter()
                .filter(|(_, _, has_data)| *has_data)
                .map(|(k, at, _)| (k, at))
                .collect(),
        };
        Ok(Inventory {
            refs,
            stored,
            registered,
            queued,
        })
    }
}

/// What is referenced, stored, registered and queued, read for `verify` and the orphan scan.
struct Inventory {
    refs: BTreeMap<String, Vec<String>>,
    /// Stored blobs with the time they were stored.
    stored: BTreeMap<String, DateTime<Utc>>,
    registered: HashMap<String, DateTime<Utc>>,
    /// Queued keys: first queued at, most attempts.
    queued: HashMap<String, (DateTime<Utc>, i64)>,
}

/// Locks the staged uploads `patch` uses, inside the edit's transaction. An unknown, expired or
/// vanished upload is a validation error: the caller stages the file again.
pub(crate) async fn claim_staged(
    tx: &mut Tx,
    store: &BlobStore,
    patch: &ProductPatch,
    now: DateTime<Utc>,
) -> Result<StagedFiles> {
    let uses = patch
        .images
        .create
        .iter()
        .enumerate()
        .map(|(n, c)| (format!("images.create.{n}.staged"), c.staged))
        .chain(
            patch
                .images
                .update
                .iter()
                .filter_map(|u| u.staged.map(|s| (format!("images.{}.staged", u.id), s))),
        );
    let mut out = StagedFiles::new();
    for (field, id) in uses {
        if out.contains_key(&id) {
            continue;
        }
        let staged = repo::lock_staged(tx, id)
            .await?
            .filter(|s| s.expires_at > now)
            .ok_or_else(|| {
                Error::validation(
                    &field,
                    "the upload is unknown or expired; add the file again",
                )
            })?;
        for key in [&staged.blob_key, &staged.thumb_key] {
            if !store.exists(tx, key).await? {
                return Err(Error::validation(
                    &field,
                    "the uploaded file is gone; add the file again",
                ));
            }
        }
        out.insert(id, staged);
    }
    Ok(out)
}

/// In the edit's transaction, after the product is written: the claimed uploads are used up, and
/// every blob the edit stopped using is queued for deletion. Returns the outbox entries.
pub(crate) async fn finish_claim(
    tx: &mut Tx,
    staged: &StagedFiles,
    before: &Product,
    after: &Product,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let keys = |p: &Product| -> BTreeSet<String> {
        p.images
            .iter()
            .flat_map(|i| std::iter::once(i.blob_key.clone()).chain(i.thumb_key.clone()))
            .collect()
    };
    let kept = keys(after);
    let mut dropped = keys(before);
    for s in staged.values() {
        repo::delete_staged(tx, s.id).await?;
        dropped.insert(s.blob_key.clone());
        dropped.insert(s.thumb_key.clone());
    }
    let mut ids = Vec::new();
    for key in dropped.difference(&kept) {
        // Keys from before images had files ("seed/…") name nothing to delete.
        if is_key(key) {
            ids.push(repo::enqueue(tx, key, now, now).await?);
        }
    }
    Ok(ids)
}

/// Outbox entries whose deletion has failed at least once (for the sweeper's health).
pub(crate) async fn failing_deletions(tx: &mut Tx) -> Result<i64> {
    Ok(crate::on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM blob_outbox WHERE attempts > 0").fetch_one(&mut **c).await?))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
}
