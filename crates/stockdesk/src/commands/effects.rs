//! What a command does outside its transaction: the files a demo seed stages before it, and the
//! change events the front ends hear about after a commit.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{Outcome, StagedBlob};
use crate::{catalog, images};

/// The demo seed's images, staged (stored once per content, so seeding again reuses them).
pub async fn stage_demo_images(ctx: &Ctx, actor: &str) -> Result<Vec<StagedBlob>> {
    let mut photos = Vec::new();
    for bytes in catalog::seed::demo_images()? {
        photos.push(images::stage_bytes(ctx, actor, bytes).await?);
    }
    Ok(photos)
}

/// Tells the front ends what a committed command changed.
pub fn announce(ctx: &Ctx, op_id: uuid::Uuid, outcome: &Outcome) {
    ctx.announce(op_id, outcome.changed());
}
