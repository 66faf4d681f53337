//! The rows of a product that both the catalog and the stock code write: loading and locking a
//! product, its compare-and-set and history, the stock ledger, and the units pending orders hold.
//! Catalog and stock share these through this module and never reach into each other. It must
//! never decide a business rule of its own beyond the held-stock check both sides need.

pub mod holds;
pub mod ledger;
pub mod product;

use uuid::Uuid;

use crate::ctx::Op;
use crate::error::{Error, Result};
use crate::model::Product;
use crate::store::{Batch, Tx};

pub use holds::{held_stock_errors, reserved_sql};

/// Locks the product that owns `variant_id` (Postgres row lock; SQLite's write transaction already
/// excludes other writers) and returns its id. Stock operations that change on-hand stock call
/// this before touching the variant, so every writer locks product before variant and two
/// writers never wait on each other in a cycle.
pub async fn lock_product_of_variant(tx: &mut Tx, variant_id: Uuid) -> Result<Uuid> {
    product::lock_product_of_variant(tx, variant_id)
        .await?
        .ok_or_else(|| Error::not_found("variant", variant_id))
}

/// Records that the on-hand stock of `variant_ids` changed outside an edit (a sale, a receipt, a
/// count): the product gets a new version and a history row with its snapshot, so an editor
/// still showing the old figure merges its own stock change as a delta against this one.
/// Call after updating the variant rows, with the product locked.
pub async fn record_stock_change(
    tx: &mut Tx,
    op: &Op<'_>,
    product_id: Uuid,
    variant_ids: &[Uuid],
) -> Result<Product> {
    let current = product::load_product(tx, product_id)
        .await?
        .ok_or_else(|| Error::not_found("product", product_id))?;
    let mut product = current.clone();
    product.version += 1;
    product.updated_at = op.now;
    product.updated_by = op.actor.to_string();
    let changes: Vec<String> = variant_ids
        .iter()
        .map(|id| format!("variants.{id}.stock_on_hand"))
        .collect();
    let mut batch = Batch::default();
    product::insert_history(&mut batch, &product, &changes, Some(op.id), op.actor_id)?;
    if batch
        .run_then(tx, product::update_product_row(&current, &product))
        .await?
        == 0
    {
        return Err(Error::Busy);
    }
    Ok(product)
}
