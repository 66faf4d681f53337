//! Image files: staging uploads, adding and replacing them (as commands), showing and tidying.

use std::path::{Path, PathBuf};

use tracing::Instrument;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::images::{self, BlobStore};
use crate::model::*;
use crate::Stockdesk;

impl Stockdesk {
    /// Takes the shop's image storage (where every terminal of the shop keeps image bytes; the
    /// first to open the database decides): `wanted` is this terminal's configured backend, if
    /// any, and `dir` its image directory (default `<data dir>/blobs`). Refused when they
    /// disagree with the shop's (see `images::storage`). Front ends call this once after
    /// opening, before anything touches images.
    pub async fn settle_blobs(
        mut self,
        wanted: Option<BlobBackend>,
        dir: Option<PathBuf>,
    ) -> Result<Stockdesk> {
        if dir.is_some() {
            self.ctx.blob_dir = dir;
        }
        images::storage::settle(&mut self.ctx, wanted).await?;
        self.link = Default::default();
        Ok(self)
    }

    /// Moves the shop's image files into the database (`stockdesk blobs move-to-db`).
    pub async fn move_images_to_db(&mut self) -> Result<MoveReport> {
        let span = tracing::info_span!("move_images_to_db");
        images::storage::move_to_db(&mut self.ctx)
            .instrument(span)
            .await
    }

    /// The file of image `image_id` (`stockdesk image get`).
    pub async fn image_of(&self, image_id: Uuid) -> Result<ImageFile> {
        let key = {
            let mut tx = self.ctx.store.read().await?;
            images::blob_key_of_image(&mut tx, image_id)
                .await?
                .ok_or_else(|| Error::not_found("image", image_id))?
        };
        self.image_file(&key).await
    }

    pub fn blob_store(&self) -> BlobStore {
        images::blob_store(&self.ctx)
    }

    /// Checks the file at `path` (its extension must match its content) and stages it.
    pub async fn stage_image_file(&self, path: &Path) -> Result<StagedBlob> {
        images::stage_file(&self.ctx, &self.actor, path).await
    }

    /// Checks image bytes that came without a file name and stages them.
    pub async fn stage_image_bytes(&self, bytes: Vec<u8>) -> Result<StagedBlob> {
        images::stage_bytes(&self.ctx, &self.actor, bytes).await
    }

    /// Stages the files at `paths` (every one is checked before any is stored).
    pub async fn stage_image_files(&self, paths: &[PathBuf]) -> Result<Vec<StagedBlob>> {
        if paths.is_empty() {
            return Err(Error::BadInput("no image files given".into()));
        }
        let mut staged = Vec::new();
        for path in paths {
            match self.stage_image_file(path).await {
                Ok(s) => staged.push(s),
                Err(e) => {
                    // Nothing half-added: what was staged already is given up again.
                    self.release_staged(staged.iter().map(|s| s.id).collect())
                        .await?;
                    return Err(e);
                }
            }
        }
        Ok(staged)
    }

    /// Adds the image files at `paths` to a product as one version-checked edit: the files are
    /// staged, then one `add_images` command uses them. The first becomes the thumbnail if the
    /// product has none.
    pub async fn add_images(
        &self,
        product_id: Uuid,
        expected_version: i64,
        paths: &[PathBuf],
    ) -> Result<PatchOutcome> {
        let span = tracing::info_span!("add_images", %product_id, files = paths.len());
        async {
            let staged = self.stage_image_files(paths).await?;
            let kind = CommandKind::AddImages {
                product_id,
                expected_version,
                staged: staged.iter().map(|s| s.id).collect(),
            };
            self.write(None, kind).await
        }
        .instrument(span)
        .await
    }

    /// Replaces the file of one image (staged, then a `replace_image_file` command).
    pub async fn replace_image_file(
        &self,
        product_id: Uuid,
        expected_version: i64,
        image_id: Uuid,
        path: &Path,
    ) -> Result<PatchOutcome> {
        let staged = self.stage_image_file(path).await?;
        let kind = CommandKind::ReplaceImageFile {
            product_id,
            expected_version,
            image_id,
            staged: staged.id,
        };
        self.write(None, kind).await
    }

    /// Gives up staged uploads without using them in an edit.
    pub async fn release_staged(&self, ids: Vec<Uuid>) -> Result<()> {
        images::release_staged(&self.ctx, ids).await
    }

    /// The bytes of a blob (an image's `blob_key` or `thumb_key`) for display.
    pub async fn image_file(&self, key: &str) -> Result<ImageFile> {
        images::file(&self.ctx, key).await
    }

    pub async fn expire_staged_blobs(&self, limit: i64) -> Result<i64> {
        images::expire_staged_blobs(&self.ctx, limit).await
    }

    pub async fn work_blob_outbox(&self, limit: i64) -> Result<OutboxRun> {
        images::work_blob_outbox(&self.ctx, limit).await
    }

    pub async fn queue_orphan_blobs(&self) -> Result<i64> {
        images::queue_orphan_blobs(&self.ctx).await
    }

    pub async fn sweep_uploads(&self) -> Result<UploadSweep> {
        images::sweep_uploads(&self.ctx).await
    }

    pub async fn sweep_outbox(&self) -> Result<OutboxRun> {
        images::sweep_outbox(&self.ctx).await
    }

    /// Both image sweep jobs in one call (`stockdesk blobs gc`).
    pub async fn blobs_gc(&self) -> Result<GcReport> {
        images::blobs_gc(&self.ctx).await
    }

    pub async fn failing_blob_deletions(&self) -> Result<i64> {
        images::failing_blob_deletions(&self.ctx).await
    }

    /// Checks that every referenced blob exists with the right hash and that no unreferenced
    /// blob is older than the time limit.
    pub async fn blobs_verify(&self) -> Result<VerifyReport> {
        images::blobs_verify(&self.ctx).await
    }
}
