//! The invariant checker: every rule the stock code keeps (and that edits find the product's
//! current state in its latest history row), checked against the database from one
//! consistent snapshot. `stockdesk check` prints what it finds and fails if it finds anything.

use std::collections::{BTreeMap, BTreeSet};

use tracing::Instrument;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::Inconsistency;
use crate::store::{on_tx, Tx};

/// Lists every inconsistency in stock, orders and reservations; empty when all is well.
pub async fn check_invariants(ctx: &Ctx) -> Result<Vec<Inconsistency>> {
    let span = tracing::info_span!("check_invariants");
    async {
        let mut tx = ctx.store.read().await?;
        let snapshot = tx.backend().snapshot_read();
        if !snapshot.is_empty() {
            on_tx!(&mut tx, c => sqlx::query(snapshot).execute(&mut **c).await?.rows_affected());
        }
        let mut found = Vec::new();
        ledger_rules(&mut tx, &mut found).await?;
        reservation_rules(&mut tx, &mut found).await?;
        sale_rules(&mut tx, &mut found).await?;
        for (product, detail) in crate::catalog::snapshot_drift(&mut tx).await? {
            push(&mut found, "snapshot_not_current", product, detail);
        }
        if !found.is_empty() {
            tracing::warn!(count = found.len(), "stock inconsistencies found");
        }
        Ok(found)
    }
    .instrument(span)
    .await
}

fn push(found: &mut Vec<Inconsistency>, rule: &str, subject: Uuid, detail: String) {
    found.push(Inconsistency {
        rule: rule.to_string(),
        subject,
        detail,
    });
}

/// On hand is the sum of the ledger, and no movement leaves a negative figure. (A variant's own
/// figure cannot be negative: the schema's CHECK on `stock_on_hand` refuses it on both backends.)
async fn ledger_rules(tx: &mut Tx, found: &mut Vec<Inconsistency>) -> Result<()> {
    #[derive(sqlx::FromRow)]
    struct OnHandVsLedger {
        id: Uuid,
        on_hand: i64,
        movements_sum: i64,
    }
    #[derive(sqlx::FromRow)]
    struct NegativeMovement {
        id: Uuid,
        on_hand_after: i64,
    }
    let drifted: Vec<OnHandVsLedger> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, on_hand, movements_sum FROM (SELECT v.id, v.stock_on_hand AS on_hand, \
         CAST(COALESCE((SELECT SUM(m.quantity) FROM stock_movements m \
         WHERE m.variant_id = v.id), 0) AS BIGINT) AS movements_sum FROM variants v) t \
         WHERE on_hand <> movements_sum ORDER BY id")
        .fetch_all(&mut **c).await?);
    for row in drifted {
        push(
            found,
            "on_hand_not_sum_of_movements",
            row.id,
            format!(
                "on hand {}, movements sum to {}",
                row.on_hand, row.movements_sum
            ),
        );
    }
    let negative: Vec<NegativeMovement> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, on_hand_after FROM stock_movements WHERE on_hand_after < 0 ORDER BY id")
        .fetch_all(&mut **c).await?);
    for row in negative {
        push(
            found,
            "negative_on_hand",
            row.id,
            format!("movement leaves {} on hand", row.on_hand_after),
        );
    }
    Ok(())
}

/// Holds match their orders: pending orders hold every line exactly once, until the order's
/// deadline; closed orders hold nothing; a hold is for the line's quantity; and each variant's
/// `held` counter is the sum of its active holds.
async fn reservation_rules(tx: &mut Tx, found: &mut Vec<Inconsistency>) -> Result<()> {
    let counters: Vec<(Uuid, i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, held, sum FROM (SELECT v.id, v.held, CAST(COALESCE((SELECT SUM(r.quantity) \
         FROM reservations r WHERE r.variant_id = v.id AND r.status = 'active'), 0) AS BIGINT) \
         AS sum FROM variants v) t WHERE held <> sum ORDER BY id")
        .fetch_all(&mut **c).await?);
    for (id, held, sum) in counters {
        push(
            found,
            "held_not_sum_of_active_holds",
            id,
            format!("held {held}, active holds sum to {sum}"),
        );
    }
    let off_deadline: Vec<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT r.id FROM reservations r JOIN orders o ON o.id = r.order_id \
         WHERE r.status = 'active' AND r.reserved_until <> o.payment_expires_at ORDER BY r.id")
        .fetch_all(&mut **c).await?);
    for id in off_deadline {
        push(
            found,
            "hold_deadline_differs_from_order",
            id,
            "an active hold runs to another time than its order's payment deadline".into(),
        );
    }
    let stray: Vec<(Uuid, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT r.id, o.status FROM reservations r JOIN orders o ON o.id = r.order_id \
         WHERE r.status = 'active' AND o.status <> 'pending' ORDER BY r.id")
        .fetch_all(&mut **c).await?);
    for (id, status) in stray {
        push(
            found,
            "active_reservation_of_closed_order",
            id,
            format!("the order is {status}"),
        );
    }
    let unheld: Vec<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT i.id FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM reservations r \
         WHERE r.order_item_id = i.id AND r.status = 'active') ORDER BY i.id")
        .fetch_all(&mut **c).await?);
    for id in unheld {
        push(
            found,
            "pending_line_without_reservation",
            id,
            "a line of a pending order holds nothing".into(),
        );
    }
    let twice: Vec<(Uuid, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT order_item_id, COUNT(*) FROM reservations WHERE status IN ('active', 'converted') \
         GROUP BY order_item_id HAVING COUNT(*) > 1 ORDER BY order_item_id")
        .fetch_all(&mut **c).await?);
    for (id, n) in twice {
        push(
            found,
            "line_reserved_twice",
            id,
            format!("{n} live or converted reservations"),
        );
    }
    let mismatched: Vec<(Uuid, i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT r.id, r.quantity, i.quantity FROM reservations r \
         JOIN order_items i ON i.id = r.order_item_id \
         WHERE r.quantity <> i.quantity OR r.variant_id <> i.variant_id ORDER BY r.id")
        .fetch_all(&mut **c).await?);
    for (id, held, line) in mismatched {
        push(
            found,
            "reservation_differs_from_line",
            id,
            format!("holds {held} of a line of {line} (or another variant)"),
        );
    }
    Ok(())
}

/// Every paid order's lines were converted and sold exactly once; nothing else was.
async fn sale_rules(tx: &mut Tx, found: &mut Vec<Inconsistency>) -> Result<()> {
    type Key = (Uuid, Uuid);
    async fn sums(tx: &mut Tx, sql: &str) -> Result<BTreeMap<Key, i64>> {
        let rows: Vec<(Uuid, Uuid, i64)> =
            on_tx!(tx, c => sqlx::query_as(sql).fetch_all(&mut **c).await?);
        Ok(rows.into_iter().map(|(o, v, n)| ((o, v), n)).collect())
    }
    let ordered = sums(
        tx,
        "SELECT i.order_id, i.variant_id, CAST(SUM(i.quantity) AS BIGINT) FROM order_items i \
         JOIN orders o ON o.id = i.order_id WHERE o.status = 'paid' GROUP BY i.order_id, i.variant_id",
    )
    .await?;
    let converted = sums(
        tx,
        "SELECT order_id, variant_id, CAST(SUM(quantity) AS BIGINT) FROM reservations \
         WHERE status = 'converted' GROUP BY order_id, variant_id",
    )
    .await?;
    let sold = sums(
        tx,
        "SELECT order_id, variant_id, CAST(-SUM(quantity) AS BIGINT) FROM stock_movements \
         WHERE kind = 'sale' AND order_id IS NOT NULL GROUP BY order_id, variant_id",
    )
    .await?;
    let keys: BTreeSet<Key> = ordered
        .keys()
        .chain(converted.keys())
        .chain(sold.keys())
        .copied()
        .collect();
    for key @ (order_id, variant_id) in keys {
        let o = ordered.get(&key).copied().unwrap_or(0);
        let c = converted.get(&key).copied().unwrap_or(0);
        let s = sold.get(&key).copied().unwrap_or(0);
        if c != s {
            push(
                found,
                "conversion_without_matching_sale",
                order_id,
                format!("variant {variant_id}: {c} converted, {s} sold"),
            );
        }
        if o != c {
            push(
                found,
                "paid_lines_not_converted",
                order_id,
                format!("variant {variant_id}: {o} on paid lines, {c} converted"),
            );
        }
    }
    let undated: Vec<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM orders WHERE (status = 'paid' AND paid_at IS NULL) \
         OR (status IN ('cancelled', 'expired') AND closed_at IS NULL) ORDER BY id")
        .fetch_all(&mut **c).await?);
    for id in undated {
        push(
            found,
            "closed_order_without_time",
            id,
            "paid or closed without a time".into(),
        );
    }
    Ok(())
}
