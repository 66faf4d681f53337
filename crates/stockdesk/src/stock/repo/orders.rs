//! The SQL of order rows: locking one, moving its status, its deadline, and reading orders.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{
    ExpiryBatch, Money, Order, OrderItem, OrderStatus, Reservation, ReservationStatus,
};
use crate::store::{Arg, Conn, Stmt, Tx};

pub struct OrderRow {
    pub status: OrderStatus,
    pub payment_expires_at: DateTime<Utc>,
}

/// Locks an order row (Postgres) and reads what the state machine needs. The order row is what
/// payment, cancellation, extension and the sweeper contend on: whoever locks it first decides.
pub async fn lock_order(tx: &mut Tx, id: Uuid) -> Result<OrderRow> {
    let sql = format!(
        "SELECT status, payment_expires_at FROM orders WHERE id = $1{}",
        tx.backend().for_update()
    );
    let row: Option<LockedOrder> = Stmt::new(sql).arg(id).fetch_optional(tx).await?;
    let row = row.ok_or_else(|| Error::not_found("order", id))?;
    Ok(OrderRow {
        status: parse_status(&row.status)?,
        payment_expires_at: row.payment_expires_at,
    })
}

/// `OrderRow` as stored.
#[derive(sqlx::FromRow)]
struct LockedOrder {
    status: String,
    payment_expires_at: DateTime<Utc>,
}

/// Moves an order from `from` to `to` (conditional: zero rows ⇒ someone else moved it first).
/// Paying stamps the order's lines with the time too.
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    from: OrderStatus,
    to: OrderStatus,
    actor: (&str, Option<Uuid>),
    now: DateTime<Utc>,
) -> Result<bool> {
    let (paid_at, closed_at) = match to {
        OrderStatus::Paid => (Some(now), None),
        OrderStatus::Cancelled | OrderStatus::Expired => (None, Some(now)),
        OrderStatus::Pending => (None, None),
    };
    let n = Stmt::new(
        "UPDATE orders SET status = $3, paid_at = COALESCE($4, paid_at), \
         closed_at = COALESCE($5, closed_at), updated_at = $6, updated_by = $7, \
         updated_by_id = $8 WHERE id = $1 AND status = $2",
    )
    .arg(id)
    .arg(from.as_str())
    .arg(to.as_str())
    .arg(paid_at)
    .arg(closed_at)
    .arg(now)
    .arg(actor.0)
    .arg(actor.1)
    .run(tx)
    .await?;
    if n == 1 && to == OrderStatus::Paid {
        // The lines carry the time of sale, so the sales report reads a range's lines by time
        // alone (index `order_items_paid_by_time`).
        Stmt::new("UPDATE order_items SET paid_at = $2 WHERE order_id = $1")
            .arg(id)
            .arg(now)
            .run(tx)
            .await?;
    }
    Ok(n == 1)
}

pub async fn set_deadline(
    tx: &mut Tx,
    id: Uuid,
    until: DateTime<Utc>,
    actor: (&str, Option<Uuid>),
    now: DateTime<Utc>,
) -> Result<()> {
    Stmt::new(
        "UPDATE orders SET payment_expires_at = $2, updated_at = $3, updated_by = $4, \
         updated_by_id = $5 WHERE id = $1",
    )
    .arg(id)
    .arg(until)
    .arg(now)
    .arg(actor.0)
    .arg(actor.1)
    .run(tx)
    .await?;
    Ok(())
}

/// Quantity per variant over the order's lines (lines of one variant summed).
pub async fn quantities(tx: &mut Tx, order_id: Uuid) -> Result<BTreeMap<Uuid, i64>> {
    #[derive(sqlx::FromRow)]
    struct VariantQuantity {
        variant_id: Uuid,
        quantity: i64,
    }
    let rows: Vec<VariantQuantity> = Stmt::new(
        "SELECT variant_id, CAST(SUM(quantity) AS BIGINT) AS quantity FROM order_items \
         WHERE order_id = $1 GROUP BY variant_id",
    )
    .arg(order_id)
    .fetch(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.variant_id, r.quantity))
        .collect())
}

/// An order's line as a new hold needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// The order's lines, in line order.
pub async fn order_lines(tx: &mut Tx, order_id: Uuid) -> Result<Vec<OrderLine>> {
    Stmt::new(
        "SELECT id, variant_id, quantity FROM order_items WHERE order_id = $1 ORDER BY line_no",
    )
    .arg(order_id)
    .fetch(tx)
    .await
}

/// The condition that narrows overdue orders to those holding one of `holding`'s variants
/// (a buyer's sweep of the variants it wants), or none.
fn overdue_holding(s: &mut Stmt, now: &str, holding: Option<&BTreeSet<Uuid>>) -> String {
    match holding {
        Some(variants) => format!(
            " AND id IN (SELECT order_id FROM reservations WHERE status = 'active' \
             AND reserved_until <= {now} AND variant_id IN ({}))",
            s.list(variants.iter().copied().map(Arg::Id))
        ),
        None => String::new(),
    }
}

/// Pending orders whose payment window has passed, oldest deadline first, locked; with
/// `holding`, only those with lapsed holds of these variants. On Postgres rows another sweeper
/// (or a payment) holds are skipped, so several sweepers split the work.
pub async fn lock_overdue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    limit: i64,
    holding: Option<&BTreeSet<Uuid>>,
) -> Result<Vec<Uuid>> {
    let mut s = Stmt::new("");
    let (now, limit) = (s.param(now), s.param(limit));
    let filter = overdue_holding(&mut s, &now, holding);
    let s = s.text(format!(
        "SELECT id FROM orders WHERE status = 'pending' AND payment_expires_at <= {now}{filter} \
         ORDER BY payment_expires_at, id LIMIT {limit}{}",
        tx.backend().for_update_skip_locked()
    ));
    s.scalars(tx).await
}

/// A batch of `expire_batch` on Postgres, as one statement outside any transaction (it commits
/// as it ends): up to `limit` overdue pending orders locked (`SKIP LOCKED`: several sweepers
/// split the work) and expired where still pending, their variants locked in id order, their
/// active reservations expired and the units given back to the variants' `held` counters, and
/// the change recorded in the feed (nothing when nothing changed). The locks come in the order
/// every writer takes them (orders, variants, reservations); the statement takes the feed's
/// lock before it has a transaction id, as the feed requires (a table an `INSERT` names is
/// locked before the statement runs). Every change is conditional on the old status, so a
/// payment and an expiry of one order never both win. Returns the batch and the expired ids.
pub async fn expire_in_one(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: i64,
    holding: Option<&BTreeSet<Uuid>>,
    actor: &str,
) -> Result<(ExpiryBatch, Vec<Uuid>)> {
    #[derive(sqlx::FromRow)]
    struct Expired {
        order_id: Option<Uuid>,
        locked: i64,
        reservations: i64,
    }
    let mut s = Stmt::new("");
    let (now_p, limit) = (s.param(now), s.param(limit));
    let (actor, op_id) = (s.param(actor), s.param(Uuid::now_v7()));
    let filter = overdue_holding(&mut s, &now_p, holding);
    let now = now_p;
    let s = s.text(format!(
        "WITH due AS (SELECT id FROM orders WHERE status = 'pending' \
           AND payment_expires_at <= {now}{filter} \
           ORDER BY payment_expires_at, id LIMIT {limit} FOR UPDATE SKIP LOCKED), \
         o AS (UPDATE orders SET status = 'expired', closed_at = {now}, updated_at = {now}, \
           updated_by = {actor}, updated_by_id = NULL \
           WHERE status = 'pending' AND id IN (SELECT id FROM due) RETURNING id), \
         lv AS (SELECT id FROM variants WHERE id IN (SELECT variant_id FROM reservations \
           WHERE status = 'active' AND order_id IN (SELECT id FROM o)) ORDER BY id FOR UPDATE), \
         r AS (UPDATE reservations SET status = 'expired', closed_at = {now} \
           WHERE status = 'active' AND order_id IN (SELECT id FROM o) \
           AND (SELECT COUNT(*) FROM lv) >= 0 RETURNING variant_id, quantity), \
         v AS (UPDATE variants SET held = variants.held - d.quantity \
           FROM (SELECT variant_id, SUM(quantity) AS quantity FROM r GROUP BY variant_id) d \
           WHERE variants.id = d.variant_id), \
         feed AS (INSERT INTO applied_ops (op_id, kind, outcome, actor, created_at) \
           SELECT {op_id}, 'expire_orders', \
           jsonb_agg(jsonb_build_object('kind', 'order', 'id', id)), {actor}, {now} FROM o \
           HAVING COUNT(*) > 0) \
         SELECT o.id AS order_id, (SELECT COUNT(*) FROM due) AS locked, \
           (SELECT COUNT(*) FROM r) AS reservations \
         FROM (SELECT 1) AS one LEFT JOIN o ON true"
    ));
    let rows: Vec<Expired> = s.write_alone(conn).await?;
    let expired: Vec<Uuid> = rows.iter().filter_map(|r| r.order_id).collect();
    let first = rows.first();
    let batch = ExpiryBatch {
        locked: first.map_or(0, |r| r.locked),
        orders_expired: expired.len() as i64,
        reservations_expired: first.map_or(0, |r| r.reservations),
    };
    Ok((batch, expired))
}

/// Marks the given orders expired where they are still pending, in one statement; returns the
/// ids it changed (the caller holds their row locks, but the status condition still decides).
pub async fn expire_orders(
    tx: &mut Tx,
    ids: &[Uuid],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut s = Stmt::new("").arg(now).arg(actor);
    let list = s.list(ids.iter().copied().map(Arg::Id));
    let s = s.text(format!(
        "UPDATE orders SET status = 'expired', closed_at = $1, updated_at = $1, updated_by = $2, \
         updated_by_id = NULL WHERE status = 'pending' AND id IN ({list}) RETURNING id"
    ));
    // The SQL varies with the batch's length: not worth a place in the statement cache.
    s.uncached().scalars(tx).await
}

/// Pending orders whose window has passed (the sweeper's backlog).
pub async fn overdue_count(tx: &mut Tx, now: DateTime<Utc>) -> Result<i64> {
    Stmt::new("SELECT COUNT(*) FROM orders WHERE status = 'pending' AND payment_expires_at <= $1")
        .arg(now)
        .fetch_scalar(tx)
        .await
}

const ORDER_COLUMNS: &str = "id, status, payment_expires_at, created_at, created_by, \
     created_by_id, updated_at, updated_by, updated_by_id, paid_at, closed_at";

#[derive(sqlx::FromRow)]
struct OrderHead {
    id: Uuid,
    status: String,
    payment_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    created_by: String,
    created_by_id: Option<Uuid>,
    updated_at: DateTime<Utc>,
    updated_by: String,
    updated_by_id: Option<Uuid>,
    paid_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

pub async fn load_order(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let head: Option<OrderHead> = Stmt::new(sql).arg(id).fetch_optional(tx).await?;
    match head {
        Some(head) => Ok(Some(complete(tx, head, now).await?)),
        None => Ok(None),
    }
}

/// Orders newest first.
pub async fn list_orders(
    tx: &mut Tx,
    status: Option<OrderStatus>,
    limit: i64,
    offset: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1 = '' OR status = $1) \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let status = status.map(OrderStatus::as_str).unwrap_or("");
    let heads: Vec<OrderHead> = Stmt::new(sql)
        .arg(status)
        .arg(limit)
        .arg(offset)
        .fetch(tx)
        .await?;
    let mut out = Vec::with_capacity(heads.len());
    for head in heads {
        out.push(complete(tx, head, now).await?);
    }
    Ok(out)
}

async fn complete(tx: &mut Tx, head: OrderHead, now: DateTime<Utc>) -> Result<Order> {
    #[derive(sqlx::FromRow)]
    struct ItemRow {
        id: Uuid,
        line_no: i64,
        variant_id: Uuid,
        product_id: Uuid,
        sku: String,
        product_name: String,
        quantity: i64,
        unit_price_minor: i64,
        currency: String,
    }
    #[derive(sqlx::FromRow)]
    struct ReservationRow {
        id: Uuid,
        order_item_id: Uuid,
        variant_id: Uuid,
        quantity: i64,
        reserved_until: DateTime<Utc>,
        status: String,
        created_at: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
    }
    let items: Vec<ItemRow> = Stmt::new(
        "SELECT id, line_no, variant_id, product_id, sku, product_name, quantity, unit_price_minor, \
         currency FROM order_items WHERE order_id = $1 ORDER BY line_no",
    )
    .arg(head.id)
    .fetch(tx)
    .await?;
    let reservations: Vec<ReservationRow> = Stmt::new(
        "SELECT id, order_item_id, variant_id, quantity, reserved_until, status, created_at, \
         closed_at FROM reservations WHERE order_id = $1 ORDER BY created_at, id",
    )
    .arg(head.id)
    .fetch(tx)
    .await?;

    let items: Vec<OrderItem> = items
        .into_iter()
        .map(|i| OrderItem {
            id: i.id,
            line_no: i.line_no,
            variant_id: i.variant_id,
            product_id: i.product_id,
            sku: i.sku,
            product_name: i.product_name,
            quantity: i.quantity,
            unit_price_minor: i.unit_price_minor,
            currency: i.currency,
        })
        .collect();
    let status = parse_status(&head.status)?;
    Ok(Order {
        id: head.id,
        overdue: status == OrderStatus::Pending && head.payment_expires_at <= now,
        status,
        payment_expires_at: head.payment_expires_at,
        created_at: head.created_at,
        created_by: head.created_by,
        created_by_id: head.created_by_id,
        updated_at: head.updated_at,
        updated_by: head.updated_by,
        updated_by_id: head.updated_by_id,
        paid_at: head.paid_at,
        closed_at: head.closed_at,
        // Every stored order's total was counted when it was taken.
        totals: Money::totals(&items).ok_or_else(|| {
            Error::Internal(format!("order {} has an uncountable total", head.id))
        })?,
        items,
        reservations: reservations
            .into_iter()
            .map(|r| {
                Ok(Reservation {
                    status: ReservationStatus::parse(&r.status).ok_or_else(|| {
                        Error::BadInput(format!("unknown reservation status {:?}", r.status))
                    })?,
                    id: r.id,
                    order_item_id: r.order_item_id,
                    variant_id: r.variant_id,
                    quantity: r.quantity,
                    reserved_until: r.reserved_until,
                    created_at: r.created_at,
                    closed_at: r.closed_at,
                })
            })
            .collect::<Result<_>>()?,
    })
}

fn parse_status(s: &str) -> Result<OrderStatus> {
    OrderStatus::parse(s)
        .ok_or_else(|| Error::BadInput(format!("unknown order status {s:?} in database")))
}
