//! Preparing a local write to be sent to the shop's server, in the transaction that applies it
//! on the replica. The command that is queued (and applied locally, so both ends run the same
//! command) must mean on the server what it meant here:
//! - an edit of a version the server does not have (made on top of this terminal's own pending
//!   edits, or of a product made offline) carries the snapshot it was made on, so the server
//!   merges base / mine / theirs against what the person really saw;
//! - restores and image commands become the edit they make here;
//! - a count says what this terminal had seen, so sales recorded elsewhere meanwhile are kept.

use uuid::Uuid;

use crate::catalog;
use crate::error::Result;
use crate::images;
use crate::model::{CommandKind, Outcome, ProductPatch, StagedBlob, Touches};
use crate::product_rows::product;
use crate::store::{Stmt, Tx};

/// The command to queue for `kind`, and the uploads it needs sent first.
pub async fn prepare(tx: &mut Tx, kind: &CommandKind) -> Result<(CommandKind, Vec<StagedBlob>)> {
    let kind = match kind {
        CommandKind::PatchProduct {
            product_id,
            expected_version,
            patch,
            base: None,
        } => edit(tx, *product_id, *expected_version, patch.clone()).await?,
        CommandKind::RestoreProduct {
            product_id,
            expected_version,
            to_version,
        } => {
            let patch =
                catalog::restore_patch(tx, *product_id, *expected_version, *to_version).await?;
            edit(tx, *product_id, *expected_version, patch).await?
        }
        CommandKind::AddImages {
            product_id,
            expected_version,
            staged,
        } => {
            let patch = catalog::add_images_patch(tx, *product_id, staged).await?;
            edit(tx, *product_id, *expected_version, patch).await?
        }
        CommandKind::ReplaceImageFile {
            product_id,
            expected_version,
            image_id,
            staged,
        } => {
            let patch = catalog::replace_image_patch(*image_id, *staged);
            edit(tx, *product_id, *expected_version, patch).await?
        }
        CommandKind::CountStock {
            variant_id,
            counted,
            expected: None,
        } => CommandKind::CountStock {
            variant_id: *variant_id,
            counted: *counted,
            expected: on_hand(tx, *variant_id).await?,
        },
        other => other.clone(),
    };
    let files = match &kind {
        CommandKind::PatchProduct { patch, .. } => {
            images::staged_uploads(tx, &uploads_of(patch)).await?
        }
        _ => Vec::new(),
    };
    Ok((kind, files))
}

/// What a command applied locally changed, from its outcome.
pub fn touches(outcome: &Outcome) -> Touches {
    match outcome {
        Outcome::Product(p) => Touches {
            product: Some(p.id),
            ..Touches::default()
        },
        Outcome::Patch(o) => Touches {
            product: Some(o.product.id),
            ..Touches::default()
        },
        Outcome::Stock(s) => Touches {
            product: Some(s.level.product_id),
            ..Touches::default()
        },
        Outcome::Category(c) => Touches {
            category: Some(c.id),
            ..Touches::default()
        },
        Outcome::Order(o) => Touches {
            order: Some(o.id),
            ..Touches::default()
        },
        Outcome::Payment(p) => Touches {
            order: Some(p.order.id),
            ..Touches::default()
        },
        _ => Touches::default(),
    }
}

/// An edit of `product_id` made on version `seen_by_editor` of this replica.
async fn edit(
    tx: &mut Tx,
    product_id: Uuid,
    seen_by_editor: i64,
    patch: ProductPatch,
) -> Result<CommandKind> {
    let from_shop = seen_version(tx, product_id).await?.unwrap_or(0);
    if seen_by_editor <= from_shop {
        // A version the shop's server has too: it takes the base from its own history.
        return Ok(CommandKind::PatchProduct {
            product_id,
            expected_version: seen_by_editor,
            patch,
            base: None,
        });
    }
    let base = product::load_snapshot(tx, product_id, seen_by_editor).await?;
    Ok(CommandKind::PatchProduct {
        product_id,
        // With no snapshot the edit fails here as it would anywhere (no such version).
        expected_version: if base.is_some() {
            from_shop
        } else {
            seen_by_editor
        },
        patch,
        base: base.map(Box::new),
    })
}

/// The latest version of `product_id` this replica has from the shop's server.
pub async fn seen_version(tx: &mut Tx, product_id: Uuid) -> Result<Option<i64>> {
    Stmt::new("SELECT version FROM sync_seen WHERE product_id = $1")
        .arg(product_id)
        .scalar_optional(tx)
        .await
}

async fn on_hand(tx: &mut Tx, variant_id: Uuid) -> Result<Option<i64>> {
    Stmt::new("SELECT stock_on_hand FROM variants WHERE id = $1")
        .arg(variant_id)
        .scalar_optional(tx)
        .await
}

/// The staged uploads an edit names.
fn uploads_of(patch: &ProductPatch) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = patch
        .images
        .create
        .iter()
        .map(|c| c.staged)
        .chain(patch.images.update.iter().filter_map(|u| u.staged))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
