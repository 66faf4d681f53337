//! The SQL of orders, reservations and stock figures, written once for both backends.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Money, Order, OrderItem, OrderStatus, Reservation, ReservationStatus};
use crate::error::{Error, Result};
use crate::store::{on_conn, on_tx, placeholders, Conn, Tx};

/// A variant row as a locked stock operation sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedVariant {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock_on_hand: i64,
}

/// Locks everything a stock operation on `variant_ids` may change, in the core's one lock order:
/// the products in id order, then the variants in id order. Two operations therefore never wait
/// on each other in a cycle, whatever variants they share. On SQLite the write transaction holds
/// the database's write lock already and the row locks are no-ops.
pub async fn lock_variants(
    tx: &mut Tx,
    variant_ids: &BTreeSet<Uuid>,
) -> Result<BTreeMap<Uuid, LockedVariant>> {
    // One variant (the usual order line): its product is locked straight from it, one round
    // trip fewer while other buyers of the same product wait.
    if let [only] = variant_ids.iter().copied().collect::<Vec<_>>()[..] {
        crate::catalog::lock_product_of_variant(tx, only).await?;
        return lock_variant_rows(tx, variant_ids).await;
    }
    let mut products: BTreeMap<Uuid, Uuid> = BTreeMap::new();
    for &id in variant_ids {
        let product: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT product_id FROM variants WHERE id = $1")
            .bind(id).fetch_optional(&mut **c).await?);
        let product = product.ok_or_else(|| Error::not_found("variant", id))?;
        products.entry(product).or_insert(id);
    }
    for variant_id in products.values() {
        crate::catalog::lock_product_of_variant(tx, *variant_id).await?;
    }
    lock_variant_rows(tx, variant_ids).await
}

/// Locks the variant rows, in id order, with what an order line needs of them.
async fn lock_variant_rows(
    tx: &mut Tx,
    variant_ids: &BTreeSet<Uuid>,
) -> Result<BTreeMap<Uuid, LockedVariant>> {
    let sql = format!(
        "SELECT v.id, v.product_id, v.sku, p.name AS product_name, v.price_minor, v.currency, \
         v.stock_on_hand FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1{}",
        tx.backend().for_update()
    );
    let mut out = BTreeMap::new();
    for &id in variant_ids {
        let row: Option<LockedVariant> =
            on_tx!(tx, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?);
        // Deleted between the look-up and the lock.
        out.insert(id, row.ok_or_else(|| Error::not_found("variant", id))?);
    }
    Ok(out)
}

/// Units of `variant_id` held at `now` by active reservations of orders other than `except`.
/// An active reservation whose time has passed holds nothing, whether or not it was swept.
pub async fn reserved_now(
    tx: &mut Tx,
    variant_id: Uuid,
    now: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM reservations \
         WHERE variant_id = $1 AND status = 'active' AND reserved_until > $2 AND order_id <> $3")
        .bind(variant_id).bind(now).bind(except.unwrap_or(Uuid::nil()))
        .fetch_one(&mut **c).await?))
}

/// A variant an order line wants, read without a lock: what the line keeps of it, and the units
/// held at `now` by active reservations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderableVariant {
    #[sqlx(flatten)]
    pub variant: LockedVariant,
    pub held: i64,
}

pub async fn orderable_variant(
    conn: &mut Conn,
    variant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<OrderableVariant> {
    let row: Option<OrderableVariant> = on_conn!(conn, c => sqlx::query_as(
        "SELECT v.id, v.product_id, v.sku, p.name AS product_name, v.price_minor, v.currency, \
         v.stock_on_hand, CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r \
         WHERE r.variant_id = v.id AND r.status = 'active' AND r.reserved_until > $2), 0) AS BIGINT) \
         AS held FROM variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1")
        .bind(variant_id).bind(now).fetch_optional(&mut **c).await?);
    row.ok_or_else(|| Error::not_found("variant", variant_id))
}

/// (variant, units held at `now`, stored on hand) for the held variants of one product.
pub async fn held_by_variant_of_product(
    tx: &mut Tx,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64, i64)>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT r.variant_id, CAST(SUM(r.quantity) AS BIGINT), v.stock_on_hand FROM reservations r \
         JOIN variants v ON v.id = r.variant_id \
         WHERE v.product_id = $1 AND r.status = 'active' AND r.reserved_until > $2 \
         GROUP BY r.variant_id, v.stock_on_hand")
        .bind(product_id).bind(now).fetch_all(&mut **c).await?))
}

/// Active holds whose time has passed (they block nothing; the sweeper will mark them).
pub async fn lapsed_holds(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM reservations \
         WHERE variant_id = $1 AND status = 'active' AND reserved_until <= $2")
        .bind(variant_id).bind(now).fetch_one(&mut **c).await?))
}

/// Sets a variant's on-hand figure (the caller has locked it and writes the movement).
pub async fn set_on_hand(
    tx: &mut Tx,
    variant_id: Uuid,
    on_hand: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE variants SET stock_on_hand = $2, version = version + 1, updated_at = $3 WHERE id = $1")
        .bind(variant_id).bind(on_hand).bind(now).execute(&mut **c).await?.rows_affected());
    Ok(())
}

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
    let row: Option<(String, DateTime<Utc>)> =
        on_tx!(tx, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?);
    let (status, payment_expires_at) = row.ok_or_else(|| Error::not_found("order", id))?;
    Ok(OrderRow {
        status: parse_status(&status)?,
        payment_expires_at,
    })
}

/// Writes a new order with its lines and their holds if every variant has what the order wants
/// (`wanted`) available at `now`, besides other orders' unexpired holds; otherwise writes nothing.
/// Returns, per variant in id order, what was available (`None`: the variant is gone). Runs after
/// the caller's locks. On Postgres it is one statement (one snapshot, taken after the locks),
/// its writes guarded by the check. SQLite cannot write from a `WITH`, so there it is the check
/// and then, if it passed, the writes in one batch: its write lock holds throughout, and the
/// check's sums are not recomputed for every write.
pub async fn reserve_if_available(
    tx: &mut Tx,
    order: &Order,
    wanted: &BTreeMap<Uuid, i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Option<i64>)>> {
    // $1 = now, $2 = the order's id, then the values of each part in order.
    let mut next = 3;
    let mut take = |rows: usize, cols: usize| {
        let sql = placeholders(next, rows, cols);
        next += rows * cols;
        sql
    };
    let ctes = format!(
        "wanted (variant_id, quantity) AS (VALUES {}), \
         available AS (SELECT w.variant_id, w.quantity, v.stock_on_hand - CAST(COALESCE(( \
           SELECT SUM(r.quantity) FROM reservations r WHERE r.variant_id = w.variant_id \
           AND r.status = 'active' AND r.reserved_until > $1 AND r.order_id <> $2), 0) AS BIGINT) \
           AS units FROM wanted w LEFT JOIN variants v ON v.id = w.variant_id), \
         fits (yes) AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM available \
           WHERE units IS NULL OR units < quantity)), \
         new_order (id, status, payment_expires_at, created_at, created_by, updated_at, \
           updated_by) AS (VALUES {}), \
         new_items (id, order_id, line_no, variant_id, product_id, sku, product_name, quantity, \
           unit_price_minor, currency) AS (VALUES {}), \
         new_holds (id, order_id, order_item_id, variant_id, quantity, reserved_until, status, \
           created_at, closed_at) AS (VALUES {})",
        take(wanted.len(), 2),
        take(1, 7),
        take(order.items.len(), 10),
        take(order.reservations.len(), 9),
    );
    let in_one = tx.backend().writes_in_ctes();
    let guard = if in_one { ", fits" } else { "" };
    let copy = |table: &str, from: &str, cols: &str| {
        format!("INSERT INTO {table} ({cols}) SELECT {cols} FROM {from}{guard}")
    };
    let writes = [
        copy(
            "orders",
            "new_order",
            "id, status, payment_expires_at, created_at, created_by, updated_at, updated_by",
        ),
        copy(
            "order_items",
            "new_items",
            "id, order_id, line_no, variant_id, product_id, sku, product_name, quantity, \
             unit_price_minor, currency",
        ),
        copy(
            "reservations",
            "new_holds",
            "id, order_id, order_item_id, variant_id, quantity, reserved_until, status, \
             created_at, closed_at",
        ),
    ];
    let query = "SELECT variant_id, units FROM available ORDER BY variant_id";
    if in_one {
        let sql = tx.backend().writes_with(&ctes, &writes, Some(query));
        return run_reserve(tx, &sql, order, wanted, now).await;
    }
    let available = run_reserve(tx, &format!("WITH {ctes} {query}"), order, wanted, now).await?;
    let fits = available
        .iter()
        .all(|(v, units)| units.is_some_and(|u| u >= wanted[v]));
    if fits {
        let sql = tx.backend().writes_with(&ctes, &writes, None);
        on_tx!(tx, c => bind_reserve!(sqlx::query(&sql), order, wanted, now)
            .execute(&mut **c).await?.rows_affected());
    }
    Ok(available)
}

/// Runs one of `reserve_if_available`'s statements that reads back what was available.
async fn run_reserve(
    tx: &mut Tx,
    sql: &str,
    order: &Order,
    wanted: &BTreeMap<Uuid, i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Option<i64>)>> {
    Ok(
        on_tx!(tx, c => bind_reserve!(sqlx::query_as(sql), order, wanted, now)
        .fetch_all(&mut **c).await?),
    )
}

/// Binds the values of `reserve_if_available`'s statements, in their placeholders' order.
macro_rules! bind_reserve {
    ($q:expr, $order:expr, $wanted:expr, $now:expr) => {{
        let (order, wanted) = ($order, $wanted);
        let mut q = $q.bind($now).bind(order.id);
        for (variant_id, quantity) in wanted {
            q = q.bind(*variant_id).bind(*quantity);
        }
        q = q
            .bind(order.id)
            .bind(order.status.as_str())
            .bind(order.payment_expires_at)
            .bind(order.created_at)
            .bind(&order.created_by)
            .bind(order.updated_at)
            .bind(&order.updated_by);
        for i in &order.items {
            q = q
                .bind(i.id)
                .bind(order.id)
                .bind(i.line_no)
                .bind(i.variant_id)
                .bind(i.product_id)
                .bind(&i.sku)
                .bind(&i.product_name)
                .bind(i.quantity)
                .bind(i.unit_price_minor)
                .bind(&i.currency);
        }
        for r in &order.reservations {
            q = q
                .bind(r.id)
                .bind(order.id)
                .bind(r.order_item_id)
                .bind(r.variant_id)
                .bind(r.quantity)
                .bind(r.reserved_until)
                .bind(r.status.as_str())
                .bind(r.created_at)
                .bind(r.closed_at);
        }
        q
    }};
}
use bind_reserve;

pub async fn insert_reservation(tx: &mut Tx, order_id: Uuid, r: &Reservation) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO reservations (id, order_id, order_item_id, variant_id, quantity, \
         reserved_until, status, created_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(r.id).bind(order_id).bind(r.order_item_id).bind(r.variant_id).bind(r.quantity)
        .bind(r.reserved_until).bind(r.status.as_str()).bind(r.created_at).bind(r.closed_at)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// One reservation per item of the order, held until `until` (`status` is `active`, or
/// `converted` when a late payment takes the stock again and sells it at once).
pub async fn reserve_items(
    tx: &mut Tx,
    order_id: Uuid,
    until: DateTime<Utc>,
    status: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<u64> {
    let closed_at = (status != ReservationStatus::Active).then_some(now);
    let items: Vec<(Uuid, Uuid, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, variant_id, quantity FROM order_items WHERE order_id = $1 ORDER BY line_no")
        .bind(order_id).fetch_all(&mut **c).await?);
    for (order_item_id, variant_id, quantity) in &items {
        let r = Reservation {
            id: Uuid::now_v7(),
            order_item_id: *order_item_id,
            variant_id: *variant_id,
            quantity: *quantity,
            reserved_until: until,
            status,
            created_at: now,
            closed_at,
        };
        insert_reservation(tx, order_id, &r).await?;
    }
    Ok(items.len() as u64)
}

/// Ends the order's active reservations with `status`; returns how many it ended. Conditional on
/// `status = 'active'`, so a reservation ends exactly once whoever gets there.
pub async fn close_reservations(
    tx: &mut Tx,
    order_id: Uuid,
    status: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<u64> {
    let status = status.as_str();
    Ok(on_tx!(tx, c => sqlx::query(
        "UPDATE reservations SET status = $2, closed_at = $3 WHERE order_id = $1 AND status = 'active'")
        .bind(order_id).bind(status).bind(now).execute(&mut **c).await?.rows_affected()))
}

pub async fn extend_reservations(tx: &mut Tx, order_id: Uuid, until: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE reservations SET reserved_until = $2 WHERE order_id = $1 AND status = 'active'")
        .bind(order_id).bind(until).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Moves an order from `from` to `to` (conditional: zero rows ⇒ someone else moved it first).
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    from: OrderStatus,
    to: OrderStatus,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (paid_at, closed_at) = match to {
        OrderStatus::Paid => (Some(now), None),
        OrderStatus::Cancelled | OrderStatus::Expired => (None, Some(now)),
        OrderStatus::Pending => (None, None),
    };
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE orders SET status = $3, paid_at = COALESCE($4, paid_at), \
         closed_at = COALESCE($5, closed_at), updated_at = $6, updated_by = $7 \
         WHERE id = $1 AND status = $2")
        .bind(id).bind(from.as_str()).bind(to.as_str()).bind(paid_at).bind(closed_at).bind(now)
        .bind(actor).execute(&mut **c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn set_deadline(
    tx: &mut Tx,
    id: Uuid,
    until: DateTime<Utc>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE orders SET payment_expires_at = $2, updated_at = $3, updated_by = $4 WHERE id = $1")
        .bind(id).bind(until).bind(now).bind(actor).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Quantity per variant over the order's lines (lines of one variant summed).
pub async fn quantities(tx: &mut Tx, order_id: Uuid) -> Result<BTreeMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT variant_id, CAST(SUM(quantity) AS BIGINT) FROM order_items WHERE order_id = $1 \
         GROUP BY variant_id")
        .bind(order_id).fetch_all(&mut **c).await?);
    Ok(rows.into_iter().collect())
}

/// Pending orders whose payment window has passed, oldest deadline first, locked. On Postgres
/// rows another sweeper (or a payment) holds are skipped, so several sweepers split the work.
pub async fn lock_overdue(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>> {
    let sql = format!(
        "SELECT id FROM orders WHERE status = 'pending' AND payment_expires_at <= $1 \
         ORDER BY payment_expires_at, id LIMIT $2{}",
        tx.backend().for_update_skip_locked()
    );
    Ok(on_tx!(tx, c => sqlx::query_scalar(&sql).bind(now).bind(limit).fetch_all(&mut **c).await?))
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
    let sql = format!(
        "UPDATE orders SET status = 'expired', closed_at = $1, updated_at = $1, updated_by = $2 \
         WHERE status = 'pending' AND id IN {} RETURNING id",
        placeholders(3, 1, ids.len())
    );
    // The SQL varies with the batch's length: not worth a place in the statement cache.
    Ok(on_tx!(tx, c => {
        let mut query = sqlx::query_scalar(&sql).persistent(false).bind(now).bind(actor);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(&mut **c).await?
    }))
}

/// Ends the active reservations of the given orders as expired, in one statement; returns how
/// many it ended. Conditional on `status = 'active'`, like `close_reservations`.
pub async fn expire_reservations(
    tx: &mut Tx,
    order_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64> {
    if order_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE reservations SET status = 'expired', closed_at = $1 \
         WHERE status = 'active' AND order_id IN {}",
        placeholders(2, 1, order_ids.len())
    );
    Ok(on_tx!(tx, c => {
        let mut query = sqlx::query(&sql).persistent(false).bind(now);
        for id in order_ids {
            query = query.bind(*id);
        }
        query.execute(&mut **c).await?.rows_affected()
    }))
}

/// Pending orders whose window has passed (the sweeper's backlog).
pub async fn overdue_count(tx: &mut Tx, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE status = 'pending' AND payment_expires_at <= $1")
        .bind(now).fetch_one(&mut **c).await?))
}

#[derive(sqlx::FromRow)]
struct OrderHead {
    id: Uuid,
    status: String,
    payment_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    created_by: String,
    updated_at: DateTime<Utc>,
    updated_by: String,
    paid_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

const ORDER_COLUMNS: &str = "id, status, payment_expires_at, created_at, created_by, updated_at, \
     updated_by, paid_at, closed_at";

pub async fn load_order(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let head: Option<OrderHead> =
        on_tx!(tx, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?);
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
    let heads: Vec<OrderHead> = on_tx!(tx, c => sqlx::query_as(&sql)
        .bind(status).bind(limit).bind(offset).fetch_all(&mut **c).await?);
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
    let items: Vec<ItemRow> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, line_no, variant_id, product_id, sku, product_name, quantity, unit_price_minor, \
         currency FROM order_items WHERE order_id = $1 ORDER BY line_no")
        .bind(head.id).fetch_all(&mut **c).await?);
    let reservations: Vec<ReservationRow> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, order_item_id, variant_id, quantity, reserved_until, status, created_at, \
         closed_at FROM reservations WHERE order_id = $1 ORDER BY created_at, id")
        .bind(head.id).fetch_all(&mut **c).await?);

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
        updated_at: head.updated_at,
        updated_by: head.updated_by,
        paid_at: head.paid_at,
        closed_at: head.closed_at,
        totals: Money::totals(&items),
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
