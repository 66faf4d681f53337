//! Stock: the ledger of movements, reservations and orders. This is the only code that changes
//! on-hand stock, and it never does so without writing a movement in the same transaction.
//!
//! Available = on hand − active reservations whose time has not passed. Each variant row keeps
//! `held`, the sum of its active holds, changed in the transaction that opens or ends one, so a
//! new order is decided by one conditional `UPDATE` of that row. The counter still includes holds
//! that lapsed and were not expired yet; every figure and refusal subtracts those again
//! (`repo::reserved_sql`), and an order they stand in the way of expires them first, so a hold
//! stops counting the moment it lapses and correctness never waits for the sweeper.

mod check;
mod combine;
pub mod ledger;
mod levels;
mod model;
mod orders;
mod repo;

use chrono::{DateTime, Utc};

use crate::catalog::Product;
use crate::error::{FieldError, Result};
use crate::store::Tx;

pub(crate) use combine::Combiner;
pub use model::*;
pub use orders::ExpiryBatch;

/// The catalog's edit check for held stock (called from `catalog::validate` with the product
/// locked): an edit may not lower a variant's on hand below what pending orders hold now, nor
/// delete a variant that is held. Figures already short (a count found less) may stay as they are.
pub(crate) async fn held_stock_errors(
    tx: &mut Tx,
    next: &Product,
    now: DateTime<Utc>,
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    for (variant_id, held, on_hand) in repo::held_by_variant_of_product(tx, next.id, now).await? {
        match next.variants.iter().find(|v| v.id == variant_id) {
            Some(v) if v.stock_on_hand < held && v.stock_on_hand < on_hand => {
                errors.push(FieldError {
                    field: format!("variants.{variant_id}.stock_on_hand"),
                    reason: format!("below the {held} units held by pending orders"),
                })
            }
            Some(_) => {}
            None => errors.push(FieldError {
                field: format!("variants.{variant_id}"),
                reason: format!(
                    "{held} units are held by pending orders; cancel them or let them expire first"
                ),
            }),
        }
    }
    Ok(errors)
}

/// Pending orders past their payment deadline that nobody has expired yet (sweeper backlog).
pub(crate) async fn overdue_orders(tx: &mut Tx, now: DateTime<Utc>) -> Result<i64> {
    repo::overdue_count(tx, now).await
}
