//! Oversell exceptions: the units of a till's sale that the shop could not cover when it was
//! pushed (its allotment revoked meanwhile, or a "sell anyway" sale beyond it). The sale's order
//! is recorded whole; the line's hold covers the rest of the line (hold + units short = line),
//! so no figure goes negative and `check` lists them as open, not as corruption.
//!
//! Settling one is a recorded command that writes the missing sale to the ledger:
//! - `count`: a manager counts the shelf; a `count` movement finds the units the till sold
//!   (the shelf had them: they left the shop), and the sale takes them, ending on the count;
//! - `cancel_order`: another pending order of the variant is cancelled and the units it frees
//!   make the sale.
//!
//! An exception of an order that is cancelled before it is paid settles itself
//! (`order_cancelled`): nothing left the shop.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::repo;
use crate::ctx::Op;
use crate::error::{Error, Result};
use crate::model::*;
use crate::product_rows::{self, ledger};
use crate::store::{Session, Stmt, Tx};

const COLUMNS: &str = "id, order_id, order_item_id, variant_id, terminal_id, units, kind, \
     created_at, resolved_at, resolution, resolved_by, cancelled_order_id, note";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    order_id: Uuid,
    order_item_id: Uuid,
    variant_id: Uuid,
    terminal_id: Uuid,
    units: i64,
    kind: String,
    created_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolution: Option<String>,
    resolved_by: Option<String>,
    cancelled_order_id: Option<Uuid>,
    note: Option<String>,
}

impl Row {
    fn into_exception(self) -> Result<OversellException> {
        Ok(OversellException {
            kind: ExceptionKind::parse(&self.kind).ok_or_else(|| {
                Error::Internal(format!("unknown exception kind {:?}", self.kind))
            })?,
            id: self.id,
            order_id: self.order_id,
            order_item_id: self.order_item_id,
            variant_id: self.variant_id,
            terminal_id: self.terminal_id,
            units: self.units,
            created_at: self.created_at,
            resolved_at: self.resolved_at,
            resolution: self.resolution,
            resolved_by: self.resolved_by,
            cancelled_order_id: self.cancelled_order_id,
            note: self.note,
        })
    }
}

pub(super) async fn insert(tx: &mut Tx, e: &OversellException, op_id: Uuid) -> Result<()> {
    Stmt::new(
        "INSERT INTO oversell_exceptions (id, order_id, order_item_id, variant_id, terminal_id, \
         units, kind, created_at, op_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .arg(e.id)
    .arg(e.order_id)
    .arg(e.order_item_id)
    .arg(e.variant_id)
    .arg(e.terminal_id)
    .arg(e.units)
    .arg(e.kind.as_str())
    .arg(e.created_at)
    .arg(op_id)
    .run(tx)
    .await?;
    Ok(())
}

/// Exceptions, oldest first: the open ones only, or all.
pub async fn list(on: &mut impl Session, open_only: bool) -> Result<Vec<OversellException>> {
    let rows: Vec<Row> = Stmt::new(format!(
        "SELECT {COLUMNS} FROM oversell_exceptions WHERE ($1 = 0 OR resolved_at IS NULL) \
         ORDER BY created_at, id"
    ))
    .arg(i64::from(open_only))
    .fetch(on)
    .await?;
    rows.into_iter().map(Row::into_exception).collect()
}

async fn get(tx: &mut Tx, id: Uuid) -> Result<OversellException> {
    let sql = format!(
        "SELECT {COLUMNS} FROM oversell_exceptions WHERE id = $1{}",
        tx.backend().for_update()
    );
    let row: Option<Row> = Stmt::new(sql).arg(id).fetch_optional(tx).await?;
    row.ok_or_else(|| Error::not_found("oversell exception", id))?
        .into_exception()
}

/// Units short per line of an order (its exceptions, settled or not): the line's holds cover
/// the rest.
pub(super) async fn owed_by_line(tx: &mut Tx, order_id: Uuid) -> Result<BTreeMap<Uuid, i64>> {
    #[derive(sqlx::FromRow)]
    struct Found {
        order_item_id: Uuid,
        units: i64,
    }
    let rows: Vec<Found> = Stmt::new(
        "SELECT order_item_id, CAST(SUM(units) AS BIGINT) AS units FROM oversell_exceptions \
         WHERE order_id = $1 GROUP BY order_item_id",
    )
    .arg(order_id)
    .fetch(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.order_item_id, r.units))
        .collect())
}

/// Units short per variant of an order.
pub(super) async fn owed_by_variant(tx: &mut Tx, order_id: Uuid) -> Result<BTreeMap<Uuid, i64>> {
    #[derive(sqlx::FromRow)]
    struct Found {
        variant_id: Uuid,
        units: i64,
    }
    let rows: Vec<Found> = Stmt::new(
        "SELECT variant_id, CAST(SUM(units) AS BIGINT) AS units FROM oversell_exceptions \
         WHERE order_id = $1 GROUP BY variant_id",
    )
    .arg(order_id)
    .fetch(tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.variant_id, r.units)).collect())
}

/// The order was cancelled before it was paid: its open exceptions settle themselves.
pub(super) async fn settle_cancelled(tx: &mut Tx, op: &Op<'_>, order_id: Uuid) -> Result<()> {
    Stmt::new(
        "UPDATE oversell_exceptions SET resolved_at = $2, resolution = 'order_cancelled', \
         resolved_by = $3, resolved_op = $4 WHERE order_id = $1 AND resolved_at IS NULL",
    )
    .arg(order_id)
    .arg(op.now)
    .arg(op.actor)
    .arg(op.id)
    .run(tx)
    .await?;
    Ok(())
}

/// Settles exception `id` (see the module's comment).
pub async fn resolve(
    tx: &mut Tx,
    op: &Op<'_>,
    id: Uuid,
    resolution: &ExceptionResolution,
) -> Result<OversellException> {
    let e = get(tx, id).await?;
    if e.resolved_at.is_some() {
        return Err(Error::InvalidState {
            entity: "oversell exception",
            id,
            state: e.resolution.unwrap_or_else(|| "resolved".into()),
            action: "resolve it again",
        });
    }
    let order = repo::lock_order(tx, e.order_id).await?;
    if order.status != OrderStatus::Paid {
        return Err(Error::InvalidState {
            entity: "order",
            id: e.order_id,
            state: order.status.as_str().to_string(),
            action: "settle its oversell exception (pay or cancel the order first)",
        });
    }
    let (what, note, cancelled) = match resolution {
        ExceptionResolution::Count { counted } => {
            if !(0..=MAX_STOCK).contains(counted) {
                return Err(Error::validation(
                    "counted",
                    format!("must be a whole number from 0 to {MAX_STOCK}"),
                ));
            }
            let v = lock(tx, e.variant_id).await?;
            // The shelf had the units the till sold: the count finds them, the sale takes them.
            let found = counted + e.units;
            let reason = format!(
                "oversell exception {id}: counted {counted} after {} sold at a till",
                e.units
            );
            movement(tx, op, &e, MovementKind::Count, found - v, found, &reason).await?;
            movement(tx, op, &e, MovementKind::Sale, -e.units, *counted, &reason).await?;
            ("count", format!("counted {counted}"), None)
        }
        ExceptionResolution::CancelOrder { order_id } => {
            if *order_id == e.order_id {
                return Err(Error::validation(
                    "order_id",
                    "another order than the exception's",
                ));
            }
            let holds = repo::quantities(tx, *order_id).await?;
            if !holds.contains_key(&e.variant_id) {
                return Err(Error::validation(
                    "order_id",
                    "the order holds none of the exception's variant",
                ));
            }
            super::orders::cancel_order(tx, op, *order_id).await?;
            let on_hand = lock(tx, e.variant_id).await?;
            let free = super::allot::free_now(tx, e.variant_id, op.now).await?;
            if free < e.units {
                return Err(Error::InsufficientStock {
                    variant_id: e.variant_id,
                    requested: e.units,
                    available: free,
                });
            }
            let reason = format!("oversell exception {id}: order {order_id} cancelled");
            let after = on_hand - e.units;
            movement(tx, op, &e, MovementKind::Sale, -e.units, after, &reason).await?;
            (
                "cancel_order",
                format!("cancelled order {order_id}"),
                Some(*order_id),
            )
        }
    };
    let product = product_rows::lock_product_of_variant(tx, e.variant_id).await?;
    product_rows::record_stock_change(tx, op, product, &[e.variant_id]).await?;
    Stmt::new(
        "UPDATE oversell_exceptions SET resolved_at = $2, resolution = $3, resolved_by = $4, \
         resolved_op = $5, note = $6, cancelled_order_id = $7 WHERE id = $1 AND resolved_at IS NULL",
    )
    .arg(id)
    .arg(op.now)
    .arg(what)
    .arg(op.actor)
    .arg(op.id)
    .arg(note)
    .arg(cancelled)
    .run(tx)
    .await?;
    get(tx, id).await
}

/// Locks the variant (product first) and returns its on-hand figure.
async fn lock(tx: &mut Tx, variant_id: Uuid) -> Result<i64> {
    let locked = repo::lock_variants(tx, &BTreeSet::from([variant_id])).await?;
    Ok(locked[&variant_id].stock_on_hand)
}

/// A movement of the exception's variant, for its order, leaving `after` on hand.
async fn movement(
    tx: &mut Tx,
    op: &Op<'_>,
    e: &OversellException,
    kind: MovementKind,
    quantity: i64,
    after: i64,
    reason: &str,
) -> Result<()> {
    if quantity == 0 {
        return Ok(());
    }
    repo::set_on_hand(tx, e.variant_id, after, op.now).await?;
    ledger::record(
        tx,
        ledger::NewMovement {
            id: op.new_id(),
            op_id: op.id,
            variant_id: e.variant_id,
            kind,
            quantity,
            on_hand_after: after,
            actor: op.actor,
            actor_id: op.actor_id,
            reason,
            order_id: (kind == MovementKind::Sale).then_some(e.order_id),
            at: op.now,
        },
    )
    .await
}
