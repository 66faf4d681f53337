//! Writing a product: validate the state it will have, then write exactly what differs, with a
//! ledger movement for every stock change and a history row for the new version.

use uuid::Uuid;

use super::diff::diff;
use super::{barcode, repo, validate};
use crate::ctx::Op;
use crate::error::{Error, Result};
use crate::model::{
    ImageOps, ImageUpdate, MovementKind, NewProduct, NewVariant, Product, ProductPatch, Variant,
    VariantOps, VariantUpdate,
};
use crate::product_rows::ledger::{self, NewMovement};
use crate::product_rows::product;
use crate::store::{Batch, Stmt, Tx};

/// How a write records the stock changes it makes in the ledger.
#[derive(Debug, Clone, Copy)]
pub enum StockNote<'a> {
    /// An edit in the product: a new variant's stock is its opening figure (`initial`), a
    /// changed figure an `adjustment`.
    Edit,
    /// A count from a file (an import): every change is a `count`, saying where it came from.
    Count { source: &'a str },
}

impl StockNote<'_> {
    fn opening(&self) -> (MovementKind, String) {
        match self {
            StockNote::Edit => (MovementKind::Initial, "variant created".into()),
            StockNote::Count { source } => (MovementKind::Count, format!("counted in {source}")),
        }
    }

    fn change(&self) -> (MovementKind, String) {
        match self {
            StockNote::Edit => (MovementKind::Adjustment, "edited in the product".into()),
            StockNote::Count { source } => (MovementKind::Count, format!("counted in {source}")),
        }
    }
}

pub async fn create(
    tx: &mut Tx,
    op: &Op<'_>,
    new: &NewProduct,
    note: StockNote<'_>,
) -> Result<Product> {
    let (actor, now) = (op.actor, op.now);
    let id = new.id.unwrap_or_else(|| op.new_id());
    if repo::product_exists(tx, id).await? {
        return Err(Error::validation(
            "id",
            "a product with this id already exists",
        ));
    }
    let slug = match &new.slug {
        Some(s) => s.clone(),
        None => free_slug(tx, id, &validate::slugify(&new.name)).await?,
    };
    let product = Product {
        id,
        name: new.name.clone(),
        slug,
        description: new.description.clone(),
        status: new.status,
        category_id: new.category_id,
        version: 1,
        created_at: now,
        updated_at: now,
        updated_by: actor.to_string(),
        variants: new
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| new_variant(v, i as i64, op))
            .collect(),
        images: Vec::new(),
    };
    let attribute_ids = validate::validate(tx, &product, None, now).await?;
    repo::insert_product(tx, &product)
        .await
        .map_err(unique_to_validation)?;
    let mut batch = Batch::default();
    let opening = note.opening();
    for v in &product.variants {
        insert_variant(&mut batch, op, product.id, v, &attribute_ids, &opening);
    }
    product::insert_history(
        &mut batch,
        &product,
        &["created".to_string()],
        Some(op.id),
        op.actor_id,
    )?;
    batch.run(tx).await.map_err(unique_to_validation)?;
    Ok(product)
}

/// How `update` writes: how its stock changes are recorded, whether the caller already locked
/// the product's variants (`load_for_edit`), and `record`, which gives the statement that records
/// the command's outcome for the product as committed, if the edit's last write is to run it.
pub struct Writes<'a, F> {
    pub note: StockNote<'a>,
    pub variants_locked: bool,
    pub record: F,
}

/// Writes `next` over `current` (which the transaction has locked). Returns the product as
/// committed; an edit that changes nothing commits no new version (and records no outcome).
pub async fn update<F>(
    tx: &mut Tx,
    op: &Op<'_>,
    current: &Product,
    mut next: Product,
    writes: Writes<'_, F>,
) -> Result<Product>
where
    F: FnOnce(&Product) -> Result<Option<Stmt>>,
{
    let Writes {
        note,
        variants_locked,
        record,
    } = writes;
    let (actor, now) = (op.actor, op.now);
    let changes = diff(current, &next);
    if changes.is_empty() {
        return Ok(current.clone());
    }
    // An edit that changes variant rows locks all of the product's variants, in id order, before
    // anything else touches them: orders lock variants in id order too, while the writes below
    // go in position order (which an edit can turn around), and the held-stock check locks the
    // product's variants as well — so all of them, once, in one order, and no edit and order
    // ever wait for each other in a cycle.
    let touches_variants = current
        .variants
        .iter()
        .any(|old| next.variants.iter().find(|v| v.id == old.id) != Some(old));
    if touches_variants && !variants_locked {
        tx.lock_rows("variants", Stmt::new("product_id = $1").arg(current.id))
            .await?;
    }
    let attribute_ids = validate::validate(tx, &next, Some(current), now).await?;
    next.version = current.version + 1;
    next.updated_at = now;
    next.updated_by = actor.to_string();

    // All writes go to the database in one batch, in this order, the product row's
    // compare-and-set last. Variants: removals first, SKU changes parked, then inserts and
    // updates. A new category means new attribute ids even where the names and values read the
    // same.
    let mut batch = Batch::default();
    // Whether the writes can be one statement on Postgres (`Batch::run_fused_then`): only when
    // no two of them touch the same row and none needs another's effect. Removals, parked SKUs,
    // new rows, attribute rows and images (one thumbnail per product) go one by one.
    let mut fusable = true;
    let (opening, change) = (note.opening(), note.change());
    let category_changed = current.category_id != next.category_id;
    for old in &current.variants {
        if !next.variants.iter().any(|v| v.id == old.id) {
            fusable = false;
            if old.stock_on_hand != 0 {
                let kind = MovementKind::Adjustment;
                let m = movement(op, old.id, kind, -old.stock_on_hand, 0, "variant deleted");
                ledger::push(&mut batch, m);
            }
            repo::delete_variant(&mut batch, old.id);
        }
    }
    for v in &next.variants {
        if let Some(old) = current.variants.iter().find(|o| o.id == v.id) {
            if old.sku != v.sku {
                fusable = false;
                repo::park_sku(&mut batch, v.id);
            }
            if old.barcode.is_some() && old.barcode != v.barcode {
                fusable = false;
                repo::park_barcode(&mut batch, v.id);
            }
        }
    }
    for v in next.variants.iter_mut() {
        match current.variants.iter().find(|o| o.id == v.id) {
            None => {
                fusable = false;
                v.version = 1;
                insert_variant(&mut batch, op, current.id, v, &attribute_ids, &opening);
            }
            Some(old) if old != v || category_changed => {
                v.version = old.version + 1;
                repo::update_variant(&mut batch, old, v, now);
                if old.attributes != v.attributes || category_changed {
                    fusable = false;
                    repo::set_variant_attributes(&mut batch, v.id, &attribute_ids[&v.id]);
                }
                if old.stock_on_hand != v.stock_on_hand {
                    let delta = v.stock_on_hand - old.stock_on_hand;
                    let (kind, reason) = (change.0, change.1.as_str());
                    let m = movement(op, v.id, kind, delta, v.stock_on_hand, reason);
                    ledger::push(&mut batch, m);
                }
            }
            Some(_) => {}
        }
    }

    // Images: removals, then thumbnails cleared before one is set (one thumbnail per product).
    for old in &current.images {
        if !next.images.iter().any(|i| i.id == old.id) {
            repo::delete_image(&mut batch, old.id);
        }
    }
    let mut changed: Vec<usize> = Vec::new();
    let mut added: Vec<usize> = Vec::new();
    for (n, i) in next.images.iter_mut().enumerate() {
        match current.images.iter().find(|o| o.id == i.id) {
            Some(old) if old != i => {
                i.version = old.version + 1;
                changed.push(n);
            }
            None => {
                i.version = 1;
                added.push(n);
            }
            Some(_) => {}
        }
    }
    changed.sort_by_key(|&n| next.images[n].is_thumbnail);
    for n in changed {
        repo::update_image(&mut batch, &next.images[n], now);
    }
    // New images after the updates, so a new thumbnail goes in after the old one was cleared.
    for n in added {
        repo::insert_image(&mut batch, next.id, &next.images[n], now);
    }

    fusable &= next.images == current.images;

    product::insert_history(&mut batch, &next, &changes, Some(op.id), op.actor_id)?;
    let recorded = match record(&next)? {
        Some(outcome) => {
            batch.push(outcome);
            true
        }
        None => false,
    };
    let cas = product::update_product_row(current, &next);
    let written = if fusable {
        batch.run_fused_then(tx, cas).await
    } else {
        batch.run_then(tx, cas).await
    };
    if written.map_err(unique_to_validation)? == 0 {
        // The row is locked by this transaction, so this means another writer slipped in: the
        // caller rolls back and the whole edit runs again on fresh data.
        return Err(Error::Busy);
    }
    if recorded {
        op.outcome_written();
    }
    Ok(next)
}

/// A patch that turns `from` into `to` (for restoring an old version). Stock is left alone.
pub fn patch_towards(from: &Product, to: &Product) -> ProductPatch {
    let differs = |a: &String, b: &String| (a != b).then(|| b.clone());
    let mut variants = VariantOps::default();
    for v in &to.variants {
        match from.variants.iter().find(|f| f.id == v.id) {
            None => variants.create.push(NewVariant {
                id: Some(v.id),
                sku: v.sku.clone(),
                barcode: v.barcode.clone(),
                price_minor: v.price_minor,
                currency: v.currency.clone(),
                stock_on_hand: 0,
                attributes: v.attributes.clone(),
            }),
            Some(f) => {
                let upd = VariantUpdate {
                    id: v.id,
                    sku: differs(&f.sku, &v.sku),
                    barcode: (f.barcode != v.barcode).then(|| v.barcode.clone()),
                    price_minor: (f.price_minor != v.price_minor).then_some(v.price_minor),
                    currency: differs(&f.currency, &v.currency),
                    stock_on_hand: None,
                    attributes: (f.attributes != v.attributes).then(|| v.attributes.clone()),
                    position: (f.position != v.position).then_some(v.position),
                };
                if upd
                    != (VariantUpdate {
                        id: v.id,
                        ..Default::default()
                    })
                {
                    variants.update.push(upd);
                }
            }
        }
    }
    variants.delete = from
        .variants
        .iter()
        .filter(|f| !to.variants.iter().any(|v| v.id == f.id))
        .map(|f| f.id)
        .collect();
    let mut images = ImageOps::default();
    for i in &to.images {
        if let Some(f) = from.images.iter().find(|f| f.id == i.id) {
            let upd = ImageUpdate {
                id: i.id,
                alt: differs(&f.alt, &i.alt),
                position: (f.position != i.position).then_some(i.position),
                is_thumbnail: (f.is_thumbnail != i.is_thumbnail).then_some(i.is_thumbnail),
                // A file is brought back only by uploading it again: its blob may be deleted.
                staged: None,
            };
            if upd
                != (ImageUpdate {
                    id: i.id,
                    ..Default::default()
                })
            {
                images.update.push(upd);
            }
        }
    }
    ProductPatch {
        name: differs(&from.name, &to.name),
        slug: differs(&from.slug, &to.slug),
        description: differs(&from.description, &to.description),
        status: (from.status != to.status).then_some(to.status),
        category_id: (from.category_id != to.category_id).then_some(to.category_id),
        variants,
        images,
    }
}

fn new_variant(v: &NewVariant, position: i64, op: &Op<'_>) -> Variant {
    Variant {
        id: v.id.unwrap_or_else(|| op.new_id()),
        sku: v.sku.clone(),
        barcode: v.barcode.as_deref().and_then(barcode::normalise),
        price_minor: v.price_minor,
        currency: v.currency.clone(),
        stock_on_hand: v.stock_on_hand,
        attributes: v.attributes.clone(),
        position,
        version: 1,
    }
}

fn insert_variant(
    batch: &mut Batch,
    op: &Op<'_>,
    product_id: Uuid,
    v: &Variant,
    attribute_ids: &validate::AttributeIds,
    (kind, reason): &(MovementKind, String),
) {
    repo::insert_variant(batch, product_id, v, op.now);
    if let Some(ids) = attribute_ids.get(&v.id) {
        repo::set_variant_attributes(batch, v.id, ids);
    }
    if v.stock_on_hand != 0 {
        let m = movement(op, v.id, *kind, v.stock_on_hand, v.stock_on_hand, reason);
        ledger::push(batch, m);
    }
}

fn movement<'a, 'o: 'a>(
    op: &Op<'o>,
    variant_id: Uuid,
    kind: MovementKind,
    quantity: i64,
    on_hand_after: i64,
    reason: &'a str,
) -> NewMovement<'a> {
    NewMovement {
        id: op.new_id(),
        op_id: op.id,
        variant_id,
        kind,
        quantity,
        on_hand_after,
        actor: op.actor,
        actor_id: op.actor_id,
        reason,
        order_id: None,
        at: op.now,
    }
}

/// The first free slug among `base`, `base-2`, `base-3`, …
async fn free_slug(tx: &mut Tx, id: Uuid, base: &str) -> Result<String> {
    let mut slug = base.to_string();
    let mut n = 1;
    while repo::slug_taken_elsewhere(tx, id, &slug).await? {
        n += 1;
        slug = format!("{base}-{n}");
    }
    Ok(slug)
}

/// A unique index that fires despite validation (a writer outside Stockdesk) is still the
/// caller's problem to fix, not a storage failure.
fn unique_to_validation(e: Error) -> Error {
    if let Error::Storage(sqlx::Error::Database(db)) = &e {
        if db.is_unique_violation() {
            for field in ["barcode", "sku", "slug"] {
                if db.message().contains(field) {
                    return Error::validation(field, "already in use");
                }
            }
        }
    }
    e
}
