//! Product image files: the blob stores (directory, database), input checks and thumbnails,
//! staging, and the deletion outbox. This module owns every byte of every image; it never
//! deletes a blob that an image row or a staged upload references, and it never writes a path
//! that did not come from a hash. It knows nothing of products beyond the keys their images
//! name. The write path and why it is crash-safe: docs/images.md.

mod blobs;
mod check;
mod outbox;
mod repo;
mod staging;
pub mod storage;
mod verify;

use std::collections::BTreeMap;

use chrono::TimeDelta;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{Error, Result};

pub use crate::model::images::*;
pub use blobs::{is_key, key_of, BlobStore};
pub use check::{MAX_BYTES, MAX_PIXELS, MAX_SIDE, THUMB_SIDE};
pub use outbox::{failing_blob_deletions, sweep_outbox, work_blob_outbox, work_outbox_now};
pub use repo::{blob_key_of_image, failing_deletions};
pub use staging::{
    claim_staged, expire_staged_blobs, finish_claim, hold_staged, release_held, release_staged,
    stage_bytes, stage_bytes_as, stage_file, staged_uploads,
};
pub use verify::{
    blobs_gc, blobs_verify, queue_orphan_blobs, remove_stale_temp_files, sweep_uploads,
};

/// How long an upload waits for the edit that uses it (a conflict dialog may take a while).
pub const STAGE_TTL: TimeDelta = TimeDelta::hours(24);
/// How long a replica keeps the uploads of a command it queued: until the shop's server decides
/// it, which releases them (`release_held`); this is only the row's formal limit.
pub const HELD_FOR: TimeDelta = TimeDelta::days(36_500);
/// Rows per transaction when expiring uploads or working the outbox.
pub const SWEEP_BATCH: i64 = 200;

/// Staged uploads a patch uses, by id, locked by the edit's transaction.
pub type StagedFiles = BTreeMap<Uuid, StagedBlob>;

/// The blob store of this shop's set-up.
pub fn blob_store(ctx: &Ctx) -> BlobStore {
    BlobStore::new(ctx.blob_backend, &ctx.blob_dir())
}

/// The bytes of a blob (an image's `blob_key` or `thumb_key`) for display.
pub async fn file(ctx: &Ctx, key: &str) -> Result<ImageFile> {
    let mut tx = ctx.store.read().await?;
    let bytes = blob_store(ctx)
        .read(&mut tx, key)
        .await?
        .ok_or_else(|| Error::not_found("blob", key))?;
    Ok(ImageFile {
        content_type: check::sniff_content_type(&bytes).to_string(),
        bytes,
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
}
