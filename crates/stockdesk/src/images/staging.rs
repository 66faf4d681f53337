//! Uploads: a file is checked, written to the blob store and recorded as staged before any
//! transaction uses it; an edit's transaction claims it (`claim_staged`, `finish_claim`); an
//! upload nobody claims expires. See docs/images.md for why a crash at any step loses nothing.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    blob_store, blocking, check, is_key, key_of, repo, work_outbox_now, BlobStore, StagedFiles,
    HELD_FOR, STAGE_TTL,
};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{Product, ProductPatch, StagedBlob};
use crate::store::{with_retry, Tx};

/// Checks the file at `path` (its extension must match its content) and stages it.
pub async fn stage_file(ctx: &Ctx, actor: &str, path: &Path) -> Result<StagedBlob> {
    let span = tracing::info_span!("stage_file", path = %path.display());
    async {
        let path = path.to_path_buf();
        let checked = blocking(move || check::check_file(&path)).await?;
        stage_checked(ctx, actor, checked, None).await
    }
    .instrument(span)
    .await
}

/// Checks image bytes that came without a file name and stages them.
pub async fn stage_bytes(ctx: &Ctx, actor: &str, bytes: Vec<u8>) -> Result<StagedBlob> {
    let span = tracing::info_span!("stage_bytes", size = bytes.len());
    async {
        let checked = blocking(move || check::check_bytes(bytes)).await?;
        stage_checked(ctx, actor, checked, None).await
    }
    .instrument(span)
    .await
}

/// Stages `bytes` under the id a terminal gave them (an upload for a command it queued while
/// offline, sent before the command and again after a lost reply): checked like any upload;
/// an upload already staged under `id` stays as it is.
pub async fn stage_bytes_as(
    ctx: &Ctx,
    actor: &str,
    id: Uuid,
    bytes: Vec<u8>,
) -> Result<StagedBlob> {
    let span = tracing::info_span!("stage_bytes_as", %id, size = bytes.len());
    async {
        let checked = blocking(move || check::check_bytes(bytes)).await?;
        stage_checked(ctx, actor, checked, Some(id)).await
    }
    .instrument(span)
    .await
}

/// Keeps the uploads a queued command uses until the shop's server has decided it: a terminal's
/// replica applies the command again on top of what it pulls, and sends the files with it, so
/// their staged rows stay (and with them the bytes) whatever the command's own claim removed.
pub async fn hold_staged(
    tx: &mut Tx,
    files: &[StagedBlob],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    for f in files {
        let held = StagedBlob {
            expires_at: now + HELD_FOR,
            ..f.clone()
        };
        repo::upsert_staged(tx, &held, actor, now).await?;
    }
    Ok(())
}

/// Lets go of uploads `hold_staged` kept (the server decided their command): their bytes go
/// unless an image uses them. Returns the outbox entries to work after the commit.
pub async fn release_held(tx: &mut Tx, ids: &[Uuid], now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let mut outbox = Vec::new();
    for id in ids {
        if let Some(s) = repo::lock_staged(tx, *id).await? {
            repo::delete_staged(tx, s.id).await?;
            outbox.push(repo::enqueue(tx, &s.blob_key, now, now).await?);
            outbox.push(repo::enqueue(tx, &s.thumb_key, now, now).await?);
        }
    }
    Ok(outbox)
}

/// The staged uploads `ids` as they are now (those that exist).
pub async fn staged_uploads(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<StagedBlob>> {
    let mut out = Vec::new();
    for id in ids {
        out.extend(repo::lock_staged(tx, *id).await?);
    }
    Ok(out)
}

/// Gives up staged uploads without using them in an edit (their blobs are deleted unless
/// something else uses the same bytes).
pub async fn release_staged(ctx: &Ctx, ids: Vec<Uuid>) -> Result<()> {
    let outbox = with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
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
    work_outbox_now(ctx, &outbox).await;
    Ok(())
}

/// Expires one batch of staged uploads past their limit: their rows go, and their blobs are
/// queued for deletion (kept if something else uses the same bytes). Returns how many.
pub async fn expire_staged_blobs(ctx: &Ctx, limit: i64) -> Result<i64> {
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        let expired = repo::lock_expired_staged(&mut tx, now, limit).await?;
        for s in &expired {
            repo::delete_staged(&mut tx, s.id).await?;
            repo::enqueue(&mut tx, &s.blob_key, now, now).await?;
            repo::enqueue(&mut tx, &s.thumb_key, now, now).await?;
        }
        ctx.failpoint("sweep.expire_in_tx")?;
        tx.commit().await?;
        Ok(expired.len() as i64)
    })
    .await
}

/// Locks the staged uploads `patch` uses, inside the edit's transaction. An unknown, expired or
/// vanished upload is a validation error: the caller stages the file again.
pub async fn claim_staged(
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
pub async fn finish_claim(
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

async fn stage_checked(
    ctx: &Ctx,
    actor: &str,
    c: check::CheckedImage,
    id: Option<Uuid>,
) -> Result<StagedBlob> {
    let store = blob_store(ctx);
    let staged = StagedBlob {
        id: id.unwrap_or_else(Uuid::now_v7),
        blob_key: key_of(&c.bytes),
        thumb_key: key_of(&c.thumb),
        content_type: c.content_type.to_string(),
        width: c.width.into(),
        height: c.height.into(),
        size: c.bytes.len() as i64,
        expires_at: ctx.now() + STAGE_TTL,
    };
    // Keys in order, so two uploads sharing bytes lock their registry rows in one order.
    let mut files = [
        (&staged.blob_key, &c.bytes[..]),
        (&staged.thumb_key, &c.thumb[..]),
    ];
    files.sort_by_key(|(k, _)| *k);

    ctx.failpoint("stage.before_write")?;
    for (key, bytes) in files {
        store.write_before(key, bytes).await?;
    }
    ctx.failpoint("stage.after_write")?;
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        if matches!(store, BlobStore::Dir(_)) {
            super::storage::still_in_files(&mut tx).await?;
        }
        for (key, bytes) in files {
            store.register(&mut tx, key, bytes, now).await?;
        }
        if id.is_some() {
            // A terminal's upload sent again keeps the row it made the first time.
            repo::insert_staged_once(&mut tx, &staged, actor, now).await?;
        } else {
            repo::insert_staged(&mut tx, &staged, actor, now).await?;
        }
        ctx.failpoint("stage.in_tx")?;
        tx.commit().await
    })
    .await?;
    ctx.failpoint("stage.after_commit")?;
    for (key, bytes) in files {
        store.ensure_after(key, bytes).await?;
    }
    tracing::debug!(id = %staged.id, key = %staged.blob_key, "image staged");
    Ok(staged)
}
