//! The catalog: categories, products, variants and image metadata; version-checked edits with a
//! three-way merge; history. Stock figures are written here only through the ledger
//! (`product_rows::ledger`), and image files only through `images` (claimed uploads, the
//! deletion outbox). Writes run inside the transaction of the command that asks for them.

pub(crate) mod barcode;
mod diff;
mod for_sale;
mod import;
mod list;
mod merge;
mod persist;
mod repo;
pub mod seed;
mod validate;

use uuid::Uuid;

use crate::ctx::{Ctx, Op};
use crate::error::{Error, Result};
use crate::images;
use crate::model::Outcome;
use crate::product_rows::product;
use crate::store::Tx;

pub use crate::model::catalog::*;
pub use crate::model::patch::*;
pub use for_sale::{find_for_sale, FOR_SALE_LIMIT};
pub use import::{import_product, Imported};
use persist::StockNote;
pub use validate::{is_currency, slugify, MAX_STOCK};

/// A product edit as committed: what the caller gets, and the blobs it stopped using (deleted
/// after the commit, or by the sweeper).
pub struct Edited {
    pub outcome: PatchOutcome,
    pub outbox: Vec<Uuid>,
}

/// Creates a category with its attributes and their allowed values.
pub async fn create_category(tx: &mut Tx, op: &Op<'_>, new: &NewCategory) -> Result<Category> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > validate::MAX_NAME {
        return Err(Error::validation("name", "1–200 characters"));
    }
    let texts = std::iter::once(("name".to_string(), name)).chain(new.attributes.iter().flat_map(
        |(attr, values)| {
            std::iter::once((format!("attributes.{attr}"), attr.as_str())).chain(
                values
                    .iter()
                    .map(move |v| (format!("attributes.{attr}"), v.as_str())),
            )
        },
    ));
    for (field, text) in texts {
        if let Some(reason) = crate::model::text_problem(text, false) {
            return Err(Error::validation(field, reason));
        }
    }
    if repo::category_name_taken(tx, name).await? {
        return Err(Error::validation(
            "name",
            "a category with this name exists",
        ));
    }
    let id = op.new_id();
    let attributes: Vec<repo::NewAttribute> = new
        .attributes
        .iter()
        .map(|(name, values)| {
            let id = op.new_id();
            let values = values
                .iter()
                .map(|v| repo::NewAttributeValue {
                    id: validate::attribute_value_id(id, v),
                    value: v.clone(),
                })
                .collect();
            repo::NewAttribute {
                id,
                name: name.clone(),
                values,
            }
        })
        .collect();
    repo::insert_category(tx, id, name, &attributes, op.now).await?;
    repo::load_category(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("category", id))
}

pub async fn list_categories(ctx: &Ctx) -> Result<Vec<Category>> {
    let mut tx = ctx.store.read().await?;
    let mut out = Vec::new();
    for id in repo::category_ids(&mut tx).await? {
        out.extend(repo::load_category(&mut tx, id).await?);
    }
    Ok(out)
}

/// Creates a product (version 1) with its variants.
pub async fn create_product(tx: &mut Tx, op: &Op<'_>, new: &NewProduct) -> Result<Product> {
    persist::create(tx, op, new, StockNote::Edit).await
}

pub async fn get_product(ctx: &Ctx, id: Uuid) -> Result<Product> {
    let mut tx = ctx.store.read().await?;
    product::load_product(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("product", id))
}

pub async fn list_products(ctx: &Ctx, query: &ProductQuery) -> Result<ProductPage> {
    let mut tx = ctx.store.read().await?;
    list::list(&mut tx, query).await
}

/// A version-checked edit. If `expected_version` is current the edit applies; if it is older,
/// it is merged three-way with what was committed since, and either commits (saying what it
/// merged with) or fails with `Error::Conflict` listing the clashes.
pub async fn patch_product(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    expected_version: i64,
    patch: &ProductPatch,
) -> Result<Edited> {
    patch_product_on(tx, op, product_id, expected_version, patch, None).await
}

/// `patch_product` whose base may be a snapshot the caller carries (an edit made offline on a
/// terminal's replica, see `CommandKind::PatchProduct`); `expected_version` is then the
/// version that snapshot derives from, and only says who changed what since.
pub async fn patch_product_on(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    expected_version: i64,
    patch: &ProductPatch,
    carried: Option<&Product>,
) -> Result<Edited> {
    let note = StockNote::Edit;
    let edit = Edit {
        expected_version,
        patch,
        carried,
        note,
        as_outcome: true,
    };
    edit_product(tx, op, product_id, edit).await
}

/// What an edit asks for (see `patch_product_on`).
struct Edit<'a> {
    expected_version: i64,
    patch: &'a ProductPatch,
    carried: Option<&'a Product>,
    /// How its stock changes are recorded.
    note: StockNote<'a>,
    /// Whether its `PatchOutcome` is the command's outcome (an edit command, not an import), so
    /// its last write may record it (`Op::outcome_record`).
    as_outcome: bool,
}

/// `patch_product_on`, with its stock changes recorded as `edit.note` says.
async fn edit_product(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    edit: Edit<'_>,
) -> Result<Edited> {
    let Edit {
        expected_version,
        patch,
        carried,
        note,
        as_outcome,
    } = edit;
    // Only an edit with variant operations can change variant rows: those are locked with the
    // product, in the same statement.
    let lock_variants = !patch.variants.is_empty();
    // The command's claim and role check, when it left them to this read (`Op::with_prelude`):
    // settled before anything else, so a replay or a refusal wins over what the edit would say.
    let prelude = op.take_prelude();
    let (settle, ctes) = match prelude {
        Some(p) => {
            let crate::ctx::OpPrelude { ctes, settle } = p;
            (Some(settle), Some(ctes))
        }
        None => (None, None),
    };
    let (current, found) = product::load_for_edit(tx, product_id, lock_variants, ctes).await?;
    if let Some(settle) = settle {
        let found = found.ok_or_else(|| Error::Internal("the role check did not run".into()))?;
        op.settle_prelude(settle, found)?;
    }
    let current = current.ok_or_else(|| Error::not_found("product", product_id))?;
    let lowest = if carried.is_some() { 0 } else { 1 };
    if expected_version < lowest || expected_version > current.version {
        return Err(Error::BadInput(format!(
            "expected version {expected_version} does not exist (the product is at version {})",
            current.version
        )));
    }
    if carried.is_some_and(|b| b.id != product_id) {
        return Err(Error::BadInput(
            "the edit's base snapshot is of another product".into(),
        ));
    }
    let stale = expected_version != current.version;
    let history = if stale {
        product::history_since(tx, current.id, expected_version).await?
    } else {
        Vec::new()
    };
    let base = match carried {
        Some(base) => base.clone(),
        None if stale => product::load_snapshot(tx, current.id, expected_version)
            .await?
            .ok_or_else(|| Error::not_found("product version", expected_version))?,
        None => current.clone(),
    };

    let blobs = images::blob_store(op.ctx);
    let staged = images::claim_staged(tx, &blobs, patch, op.now).await?;
    let merged = merge::merge(&base, &current, patch, &history, &staged, || op.new_id())?;
    if !merged.conflicts.is_empty() {
        return Err(Error::Conflict(Box::new(ConflictReport {
            product_id: current.id,
            expected_version,
            current_version: current.version,
            conflicts: merged.conflicts,
            mergeable: merged.applied,
            current,
        })));
    }
    let merge = stale.then_some(MergeReport {
        base_version: expected_version,
        merged_with: history,
        applied: merged.applied,
        stock: merged.stock,
    });
    let outcome_of = |product: &Product| PatchOutcome {
        product: product.clone(),
        merge: merge.clone(),
        replayed: false,
    };
    let record = |product: &Product| match as_outcome {
        true => op.outcome_record(|| Outcome::Patch(outcome_of(product))),
        false => Ok(None),
    };
    let writes = persist::Writes {
        note,
        variants_locked: lock_variants,
        record,
    };
    let product = persist::update(tx, op, &current, merged.next, writes).await?;
    let outbox = images::finish_claim(tx, &staged, &current, &product, op.now).await?;
    Ok(Edited {
        outcome: PatchOutcome {
            product,
            merge,
            replayed: false,
        },
        outbox,
    })
}

/// Brings back the fields, variants and image metadata of an old version, as a new edit that
/// is version-checked like any other (against `expected_version`). Stock figures are not
/// restored: stock is what the ledger says, not what an old snapshot said.
pub async fn restore_product(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    expected_version: i64,
    to_version: i64,
) -> Result<Edited> {
    let patch = restore_patch(tx, product_id, expected_version, to_version).await?;
    patch_product(tx, op, product_id, expected_version, &patch).await
}

/// The edit a restore makes: from the version the caller sees to the old one's fields.
pub async fn restore_patch(
    tx: &mut Tx,
    product_id: Uuid,
    expected_version: i64,
    to_version: i64,
) -> Result<ProductPatch> {
    let old = snapshot(tx, product_id, to_version).await?;
    let seen = snapshot(tx, product_id, expected_version).await?;
    Ok(persist::patch_towards(&seen, &old))
}

/// Adds staged uploads to a product as images, as one version-checked edit. The first becomes
/// the thumbnail if the product has none.
pub async fn add_images(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    expected_version: i64,
    staged: &[Uuid],
) -> Result<Edited> {
    let patch = add_images_patch(tx, product_id, staged).await?;
    patch_product(tx, op, product_id, expected_version, &patch).await
}

/// The edit that adds staged uploads as images (the first becomes the thumbnail if the product
/// has none).
pub async fn add_images_patch(
    tx: &mut Tx,
    product_id: Uuid,
    staged: &[Uuid],
) -> Result<ProductPatch> {
    if staged.is_empty() {
        return Err(Error::validation("staged", "no image files given"));
    }
    let has_thumbnail = product::load_for_edit(tx, product_id, false, None)
        .await?
        .0
        .ok_or_else(|| Error::not_found("product", product_id))?
        .images
        .iter()
        .any(|i| i.is_thumbnail);
    let create = staged
        .iter()
        .enumerate()
        .map(|(n, &staged)| NewImage {
            staged,
            alt: String::new(),
            position: None,
            is_thumbnail: n == 0 && !has_thumbnail,
        })
        .collect();
    Ok(ProductPatch {
        images: ImageOps {
            create,
            ..Default::default()
        },
        ..Default::default()
    })
}

/// Replaces the file of one image with a staged upload (a version-checked edit of its
/// `blob_key`, merged and conflict-checked like any other field). The old file is deleted once
/// nothing uses it.
pub async fn replace_image_file(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    expected_version: i64,
    image_id: Uuid,
    staged: Uuid,
) -> Result<Edited> {
    let patch = replace_image_patch(image_id, staged);
    patch_product(tx, op, product_id, expected_version, &patch).await
}

/// The edit that replaces one image's file with a staged upload.
pub fn replace_image_patch(image_id: Uuid, staged: Uuid) -> ProductPatch {
    ProductPatch {
        images: ImageOps {
            update: vec![ImageUpdate {
                id: image_id,
                staged: Some(staged),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Versions of a product, newest first.
pub async fn product_history(ctx: &Ctx, id: Uuid) -> Result<Vec<HistoryEntry>> {
    let mut tx = ctx.store.read().await?;
    let mut entries = product::history_since(&mut tx, id, 0).await?;
    if entries.is_empty() {
        return Err(Error::not_found("product", id));
    }
    entries.reverse();
    Ok(entries)
}

/// The product as it was at `version`.
pub async fn product_version(ctx: &Ctx, id: Uuid, version: i64) -> Result<Product> {
    snapshot(&mut ctx.store.read().await?, id, version).await
}

async fn snapshot(tx: &mut Tx, id: Uuid, version: i64) -> Result<Product> {
    product::load_snapshot(tx, id, version)
        .await?
        .ok_or_else(|| Error::not_found("product version", format!("{id}@{version}")))
}

/// A product whose latest history row is not what its rows say.
pub struct SnapshotDrift {
    pub product_id: Uuid,
    pub detail: String,
}

/// Products whose history row for their current version differs from their rows (edits read the
/// current state from that row), with what differs. For the invariant check.
pub async fn snapshot_drift(tx: &mut Tx) -> Result<Vec<SnapshotDrift>> {
    let mut out = Vec::new();
    for id in repo::product_ids(tx).await? {
        let Some(stored) = product::load_product(tx, id).await? else {
            continue;
        };
        match product::load_snapshot(tx, id, stored.version).await? {
            None => out.push(SnapshotDrift {
                product_id: id,
                detail: format!("no history row for version {}", stored.version),
            }),
            Some(mut snapshot) => {
                snapshot.sort_parts();
                if snapshot != stored {
                    let fields = diff::diff(&snapshot, &stored);
                    out.push(SnapshotDrift {
                        product_id: id,
                        detail: format!(
                            "the history row of version {} differs from the rows in: {}",
                            stored.version,
                            if fields.is_empty() {
                                "version metadata".to_string()
                            } else {
                                fields.join(", ")
                            }
                        ),
                    });
                }
            }
        }
    }
    Ok(out)
}
