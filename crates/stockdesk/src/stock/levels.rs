//! Stock figures and the operations that change on-hand stock outside a sale: receipts,
//! adjustments and counts. Each writes its movement in the transaction that changes the figure.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::repo::{self, LockedVariant};
use crate::ctx::{Ctx, Op};
use crate::error::{Error, FieldError, Result};
use crate::model::{Movement, MovementKind, StockChange, StockLevel, MAX_STOCK};
use crate::product_rows;
use crate::product_rows::ledger::{self, NewMovement};
use crate::store::Tx;

const MAX_REASON: usize = 500;

/// On hand, reserved and available for one variant, right now.
pub async fn stock_level(ctx: &Ctx, variant_id: Uuid) -> Result<StockLevel> {
    let mut tx = ctx.store.read().await?;
    level(&mut tx, variant_id, ctx.now()).await
}

/// The variant's ledger, oldest first (also of a deleted variant: the ledger outlives it).
pub async fn stock_movements(ctx: &Ctx, variant_id: Uuid) -> Result<Vec<Movement>> {
    let mut tx = ctx.store.read().await?;
    let movements = ledger::movements(&mut tx, variant_id).await?;
    if movements.is_empty() {
        // Unknown variant ⇒ not_found rather than an empty ledger.
        level(&mut tx, variant_id, ctx.now()).await?;
    }
    Ok(movements)
}

/// Goods arrived: on hand rises by `quantity`.
pub async fn receive_stock(
    tx: &mut Tx,
    op: &Op<'_>,
    variant_id: Uuid,
    quantity: i64,
    reason: Option<&str>,
) -> Result<StockChange> {
    if !(1..=MAX_STOCK).contains(&quantity) {
        return Err(Error::validation(
            "quantity",
            format!("must be a whole number from 1 to {MAX_STOCK}"),
        ));
    }
    let reason = check_reason(reason.unwrap_or("received"))?;
    change_on_hand(
        tx,
        op,
        variant_id,
        MovementKind::Receipt,
        &reason,
        |_, _| Ok(quantity),
    )
    .await
}

/// A manual correction (breakage, theft, found stock) with a reason. It may not take on hand
/// below what pending orders hold: cancel those first, or record a count.
pub async fn adjust_stock(
    tx: &mut Tx,
    op: &Op<'_>,
    variant_id: Uuid,
    delta: i64,
    reason: &str,
) -> Result<StockChange> {
    if delta == 0 || !(-MAX_STOCK..=MAX_STOCK).contains(&delta) {
        return Err(Error::validation(
            "delta",
            format!("must be non-zero and at most {MAX_STOCK} either way"),
        ));
    }
    let reason = check_reason(reason)?;
    if reason.is_empty() {
        return Err(Error::validation("reason", "say why the stock changes"));
    }
    change_on_hand(
        tx,
        op,
        variant_id,
        MovementKind::Adjustment,
        &reason,
        |v, reserved| {
            let available = v.stock_on_hand - reserved;
            if delta < 0 && -delta > available {
                return Err(Error::InsufficientStock {
                    variant_id,
                    requested: -delta,
                    available: available.max(0),
                });
            }
            Ok(delta)
        },
    )
    .await
}

/// A stock count found `counted` units where the system expected `expected` (the figure on the
/// count sheet; the current on hand when omitted). The difference is recorded as a `count`
/// movement and applied to the current figure, so sales made while counting stay counted. A
/// count is the shelf's truth and is never refused for what orders hold.
pub async fn count_stock(
    tx: &mut Tx,
    op: &Op<'_>,
    variant_id: Uuid,
    counted: i64,
    expected: Option<i64>,
) -> Result<StockChange> {
    for (field, value) in [("counted", Some(counted)), ("expected", expected)] {
        if value.is_some_and(|n| !(0..=MAX_STOCK).contains(&n)) {
            return Err(Error::validation(
                field,
                format!("must be a whole number from 0 to {MAX_STOCK}"),
            ));
        }
    }
    let reason = match expected {
        Some(e) => format!("counted {counted}, sheet said {e}"),
        None => format!("counted {counted}"),
    };
    change_on_hand(tx, op, variant_id, MovementKind::Count, &reason, |v, _| {
        Ok(counted - expected.unwrap_or(v.stock_on_hand))
    })
    .await
}

/// The one path for receipts, adjustments and counts: lock product then variant, work out the
/// change from the locked figures, write figure + movement + product version together.
async fn change_on_hand(
    tx: &mut Tx,
    op: &Op<'_>,
    variant_id: Uuid,
    kind: MovementKind,
    reason: &str,
    delta_for: impl Fn(&LockedVariant, i64) -> Result<i64>,
) -> Result<StockChange> {
    let mut locked = repo::lock_variants(tx, &BTreeSet::from([variant_id])).await?;
    let v = locked
        .remove(&variant_id)
        .expect("lock_variants returns every id");
    let now = op.now;
    let reserved = repo::reserved_now(tx, variant_id, now).await?;
    let delta = delta_for(&v, reserved)?;
    let after = v.stock_on_hand + delta;
    if !(0..=MAX_STOCK).contains(&after) {
        return Err(Error::Validation(vec![FieldError {
            field: "stock_on_hand".into(),
            reason: format!(
                "{} {delta:+} = {after} is outside 0 to {MAX_STOCK}",
                v.stock_on_hand
            ),
        }]));
    }
    if delta != 0 {
        repo::set_on_hand(tx, variant_id, after, now).await?;
    }
    // A count that matches is still worth a row: it says when the shelf was last checked.
    let movement = ledger::append(
        tx,
        NewMovement {
            id: op.new_id(),
            op_id: op.id,
            variant_id,
            kind,
            quantity: delta,
            on_hand_after: after,
            actor: op.actor,
            actor_id: op.actor_id,
            reason,
            order_id: None,
            at: now,
        },
    )
    .await?;
    if delta != 0 {
        product_rows::record_stock_change(tx, op, v.product_id, &[variant_id]).await?;
    }
    let level = level(tx, variant_id, now).await?;
    Ok(StockChange { movement, level })
}

/// The figures of one variant as `tx` sees them at `now`.
async fn level(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<StockLevel> {
    let repo::VariantFigures {
        product_id,
        sku,
        figures: f,
    } = repo::figures(tx, variant_id, now).await?;
    Ok(StockLevel {
        variant_id,
        product_id,
        sku,
        on_hand: f.stock_on_hand,
        reserved: f.reserved,
        available: f.available().max(0),
        short: (-f.available()).max(0),
        lapsed_holds: f.lapsed(),
        at: now,
    })
}

fn check_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON {
        return Err(Error::validation(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    if let Some(problem) = crate::model::text_problem(reason, true) {
        return Err(Error::validation("reason", problem));
    }
    Ok(reason.to_string())
}
