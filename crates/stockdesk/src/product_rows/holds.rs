//! Units held by pending orders, as both the stock code (figures, refusals) and the catalog (an
//! edit may not take on hand below them) must count them: one definition of "reserved".

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{FieldError, Result};
use crate::model::Product;
use crate::store::{Stmt, Tx};

/// A variant with units reserved now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldVariant {
    pub variant_id: Uuid,
    pub reserved: i64,
    pub stock_on_hand: i64,
}

/// Units of variant `v` held at the time in placeholder `$now` by reservations whose time has not
/// passed: the `held` counter less the active holds that lapsed and were not expired yet. The one
/// definition of "reserved" that every figure, check and refusal uses; a lapsed hold counts for
/// nothing here, swept or not.
pub fn reserved_sql(now: &str) -> String {
    format!(
        "(v.held - CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r \
         WHERE r.variant_id = v.id AND r.status = 'active' AND r.reserved_until <= {now}), 0) \
         AS BIGINT))"
    )
}

/// The catalog's edit check for held stock (called from `catalog::validate` with the product
/// locked): an edit may not lower a variant's on hand below what pending orders hold now, nor
/// delete a variant that is held. Figures already short (a count found less) may stay as they are.
pub async fn held_stock_errors(
    tx: &mut Tx,
    next: &Product,
    now: DateTime<Utc>,
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    for held in held_by_variant_of_product(tx, next.id, now).await? {
        let (variant_id, on_hand, held) = (held.variant_id, held.stock_on_hand, held.reserved);
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

/// The reserved variants of one product, with what is reserved at `now` and what is on hand,
/// read after locking the product's variant rows: orders take stock without the product's lock,
/// so only the rows' locks make these the latest figures.
pub async fn held_by_variant_of_product(
    tx: &mut Tx,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<HeldVariant>> {
    tx.lock_rows("variants", Stmt::new("product_id = $1").arg(product_id))
        .await?;
    let sql = format!(
        "SELECT v.id AS variant_id, {} AS reserved, v.stock_on_hand FROM variants v \
         WHERE v.product_id = $1 AND v.held > 0",
        reserved_sql("$2")
    );
    let rows: Vec<HeldVariant> = Stmt::new(sql).arg(product_id).arg(now).fetch(tx).await?;
    Ok(rows.into_iter().filter(|v| v.reserved > 0).collect())
}
