//! The invariant check's SQL: each query finds the rows that break one rule.

use uuid::Uuid;

use crate::error::Result;
use crate::store::{Stmt, Tx};

/// Reads every following query of `tx` at one snapshot (Postgres reads each statement at its
/// own by default; an SQLite read transaction keeps one from its first read).
pub async fn one_snapshot(tx: &mut Tx) -> Result<()> {
    let snapshot = tx.backend().snapshot_read();
    if !snapshot.is_empty() {
        Stmt::new(snapshot).run(tx).await?;
    }
    Ok(())
}

/// A row that breaks a rule, by id.
#[derive(sqlx::FromRow)]
pub struct Subject {
    pub id: Uuid,
}

#[derive(sqlx::FromRow)]
pub struct OnHandVsLedger {
    pub id: Uuid,
    pub on_hand: i64,
    pub movements_sum: i64,
}

#[derive(sqlx::FromRow)]
pub struct NegativeMovement {
    pub id: Uuid,
    pub on_hand_after: i64,
}

#[derive(sqlx::FromRow)]
pub struct HeldVsHolds {
    pub id: Uuid,
    pub held: i64,
    pub holds_sum: i64,
}

#[derive(sqlx::FromRow)]
pub struct HoldOfClosedOrder {
    pub id: Uuid,
    pub order_status: String,
}

#[derive(sqlx::FromRow)]
pub struct LineReservedTwice {
    pub order_item_id: Uuid,
    pub reservations: i64,
}

#[derive(sqlx::FromRow)]
pub struct HoldVsLine {
    pub id: Uuid,
    pub held: i64,
    pub line_quantity: i64,
}

/// Units per order and variant (ordered on paid lines, converted, or sold).
#[derive(sqlx::FromRow)]
pub struct OrderVariantUnits {
    pub order_id: Uuid,
    pub variant_id: Uuid,
    pub units: i64,
}

pub async fn on_hand_vs_ledger(tx: &mut Tx) -> Result<Vec<OnHandVsLedger>> {
    Stmt::new(
        "SELECT id, on_hand, movements_sum FROM (SELECT v.id, v.stock_on_hand AS on_hand, \
         CAST(COALESCE((SELECT SUM(m.quantity) FROM stock_movements m \
         WHERE m.variant_id = v.id), 0) AS BIGINT) AS movements_sum FROM variants v) t \
         WHERE on_hand <> movements_sum ORDER BY id",
    )
    .fetch(tx)
    .await
}

pub async fn negative_movements(tx: &mut Tx) -> Result<Vec<NegativeMovement>> {
    Stmt::new("SELECT id, on_hand_after FROM stock_movements WHERE on_hand_after < 0 ORDER BY id")
        .fetch(tx)
        .await
}

pub async fn held_vs_holds(tx: &mut Tx) -> Result<Vec<HeldVsHolds>> {
    Stmt::new(
        "SELECT id, held, holds_sum FROM (SELECT v.id, v.held, CAST(COALESCE((SELECT \
         SUM(r.quantity) FROM reservations r WHERE r.variant_id = v.id AND r.status = 'active'), \
         0) + COALESCE((SELECT SUM(a.units) FROM allotments a WHERE a.variant_id = v.id \
         AND a.status = 'active'), 0) AS BIGINT) AS holds_sum FROM variants v) t \
         WHERE held <> holds_sum ORDER BY id",
    )
    .fetch(tx)
    .await
}

pub async fn holds_off_deadline(tx: &mut Tx) -> Result<Vec<Subject>> {
    Stmt::new(
        "SELECT r.id FROM reservations r JOIN orders o ON o.id = r.order_id \
         WHERE r.status = 'active' AND r.reserved_until <> o.payment_expires_at ORDER BY r.id",
    )
    .fetch(tx)
    .await
}

pub async fn holds_of_closed_orders(tx: &mut Tx) -> Result<Vec<HoldOfClosedOrder>> {
    Stmt::new(
        "SELECT r.id, o.status AS order_status FROM reservations r \
         JOIN orders o ON o.id = r.order_id \
         WHERE r.status = 'active' AND o.status <> 'pending' ORDER BY r.id",
    )
    .fetch(tx)
    .await
}

pub async fn pending_lines_without_hold(tx: &mut Tx) -> Result<Vec<Subject>> {
    Stmt::new(
        "SELECT i.id FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM reservations r \
         WHERE r.order_item_id = i.id AND r.status = 'active') \
         AND i.quantity > COALESCE((SELECT SUM(e.units) FROM oversell_exceptions e \
         WHERE e.order_item_id = i.id), 0) ORDER BY i.id",
    )
    .fetch(tx)
    .await
}

pub async fn lines_reserved_twice(tx: &mut Tx) -> Result<Vec<LineReservedTwice>> {
    Stmt::new(
        "SELECT order_item_id, COUNT(*) AS reservations FROM reservations \
         WHERE status IN ('active', 'converted') \
         GROUP BY order_item_id HAVING COUNT(*) > 1 ORDER BY order_item_id",
    )
    .fetch(tx)
    .await
}

pub async fn holds_unlike_their_line(tx: &mut Tx) -> Result<Vec<HoldVsLine>> {
    Stmt::new(
        "SELECT r.id, r.quantity AS held, i.quantity AS line_quantity FROM reservations r \
         JOIN order_items i ON i.id = r.order_item_id \
         WHERE r.quantity + COALESCE((SELECT SUM(e.units) FROM oversell_exceptions e \
         WHERE e.order_item_id = i.id), 0) <> i.quantity OR r.variant_id <> i.variant_id \
         ORDER BY r.id",
    )
    .fetch(tx)
    .await
}

pub async fn units_on_paid_lines(tx: &mut Tx) -> Result<Vec<OrderVariantUnits>> {
    Stmt::new(
        "SELECT i.order_id, i.variant_id, CAST(SUM(i.quantity) AS BIGINT) AS units \
         FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'paid' \
         GROUP BY i.order_id, i.variant_id",
    )
    .fetch(tx)
    .await
}

pub async fn units_converted(tx: &mut Tx) -> Result<Vec<OrderVariantUnits>> {
    Stmt::new(
        "SELECT order_id, variant_id, CAST(SUM(quantity) AS BIGINT) AS units FROM reservations \
         WHERE status = 'converted' GROUP BY order_id, variant_id",
    )
    .fetch(tx)
    .await
}

pub async fn units_sold(tx: &mut Tx) -> Result<Vec<OrderVariantUnits>> {
    Stmt::new(
        "SELECT order_id, variant_id, CAST(-SUM(quantity) AS BIGINT) AS units \
         FROM stock_movements WHERE kind = 'sale' AND order_id IS NOT NULL \
         GROUP BY order_id, variant_id",
    )
    .fetch(tx)
    .await
}

/// Units of paid orders' lines owed by oversell exceptions (`settled`: only those whose
/// settlement recorded the sale), per order and variant.
pub async fn units_owed(tx: &mut Tx, settled: bool) -> Result<Vec<OrderVariantUnits>> {
    Stmt::new(
        "SELECT e.order_id, e.variant_id, CAST(SUM(e.units) AS BIGINT) AS units \
         FROM oversell_exceptions e JOIN orders o ON o.id = e.order_id WHERE o.status = 'paid' \
         AND ($1 = 0 OR e.resolution IN ('count', 'cancel_order')) \
         GROUP BY e.order_id, e.variant_id",
    )
    .arg(i64::from(settled))
    .fetch(tx)
    .await
}

pub async fn closed_orders_without_time(tx: &mut Tx) -> Result<Vec<Subject>> {
    Stmt::new(
        "SELECT id FROM orders WHERE (status = 'paid' AND paid_at IS NULL) \
         OR (status IN ('cancelled', 'expired') AND closed_at IS NULL) ORDER BY id",
    )
    .fetch(tx)
    .await
}

/// Orders whose lines' time of sale is not theirs: a paid order's lines carry its `paid_at` (the
/// sales report reads lines by it alone), the lines of an order not paid carry none.
pub async fn lines_unlike_their_payment(tx: &mut Tx) -> Result<Vec<Subject>> {
    Stmt::new(
        "SELECT DISTINCT o.id FROM orders o JOIN order_items i ON i.order_id = o.id \
         WHERE (o.status = 'paid' AND (i.paid_at IS NULL OR i.paid_at <> o.paid_at)) \
         OR (o.status <> 'paid' AND i.paid_at IS NOT NULL) ORDER BY o.id",
    )
    .fetch(tx)
    .await
}
