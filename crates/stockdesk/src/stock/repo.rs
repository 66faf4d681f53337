//! The SQL of orders, reservations and stock figures, written once for both backends.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Money, Order, OrderItem, OrderStatus, Reservation, ReservationStatus};
use crate::error::{Error, Result};
use crate::store::{on_tx, placeholders, Arg, Conn, Stmt, Tx};

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

/// Units of variant `v` held at the time in placeholder `$now` by reservations whose time has not
/// passed: the `held` counter less the active holds that lapsed and were not expired yet. The one
/// definition of "reserved" that every figure, check and refusal uses; a lapsed hold counts for
/// nothing here, swept or not.
fn reserved_sql(now: &str) -> String {
    format!(
        "(v.held - CAST(COALESCE((SELECT SUM(r.quantity) FROM reservations r \
         WHERE r.variant_id = v.id AND r.status = 'active' AND r.reserved_until <= {now}), 0) \
         AS BIGINT))"
    )
}

/// Units of `variant_id` reserved at `now` (see `reserved_sql`). An order asking to hold its
/// stock again has only lapsed holds of its own (its window passed), which count for nothing.
pub async fn reserved_now(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<i64> {
    Ok(figures(tx, variant_id, now).await?.2.reserved)
}

/// A variant's figures at one moment: on hand, the `held` counter, and what is reserved now.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Figures {
    pub stock_on_hand: i64,
    pub held: i64,
    pub reserved: i64,
}

impl Figures {
    pub fn available(&self) -> i64 {
        self.stock_on_hand - self.reserved
    }

    /// Held by reservations whose time has passed but that nobody expired yet.
    pub fn lapsed(&self) -> i64 {
        self.held - self.reserved
    }

    /// What `reserve` lets an order take: it goes by the counter alone, lapsed holds included.
    pub fn takeable(&self) -> i64 {
        self.stock_on_hand - self.held
    }
}

/// A variant an order line wants, read without a lock: what the line keeps of it, and its
/// figures at `now`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderableVariant {
    #[sqlx(flatten)]
    pub variant: LockedVariant,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// The variants an order wants, read without locks, in one statement (one snapshot).
/// `not_found` if one of them does not exist.
pub async fn orderable_variants(
    conn: &mut Conn,
    ids: impl ExactSizeIterator<Item = Uuid> + Clone,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Uuid, OrderableVariant>> {
    let mut s = Stmt::new("");
    let now = s.param(now);
    let list = s.list(ids.clone().map(Arg::Id));
    let s = s.text(format!(
        "SELECT v.id, v.product_id, v.sku, p.name AS product_name, v.price_minor, v.currency, \
         v.stock_on_hand, v.held, {} AS reserved FROM variants v \
         JOIN products p ON p.id = v.product_id WHERE v.id IN ({list})",
        reserved_sql(&now)
    ));
    let rows: Vec<OrderableVariant> = s.fetch_alone(conn).await?;
    let mut found: BTreeMap<Uuid, OrderableVariant> =
        rows.into_iter().map(|v| (v.variant.id, v)).collect();
    let mut out = BTreeMap::new();
    for id in ids {
        let v = found
            .remove(&id)
            .ok_or_else(|| Error::not_found("variant", id))?;
        out.insert(id, v);
    }
    Ok(out)
}

/// One variant's product, SKU and figures at `now`.
pub async fn figures(
    tx: &mut Tx,
    variant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Uuid, String, Figures)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        product_id: Uuid,
        sku: String,
        #[sqlx(flatten)]
        figures: Figures,
    }
    let sql = format!(
        "SELECT v.product_id, v.sku, v.stock_on_hand, v.held, {} AS reserved \
         FROM variants v WHERE v.id = $1",
        reserved_sql("$2")
    );
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(&sql)
        .bind(variant_id).bind(now).fetch_optional(&mut **c).await?);
    let row = row.ok_or_else(|| Error::not_found("variant", variant_id))?;
    Ok((row.product_id, row.sku, row.figures))
}

/// (variant, units reserved at `now`, stored on hand) for the reserved variants of one product,
/// read after locking the product's variant rows: orders take stock without the product's lock,
/// so only the rows' locks make these the latest figures.
pub async fn held_by_variant_of_product(
    tx: &mut Tx,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64, i64)>> {
    tx.lock_rows("variants", Stmt::new("product_id = $1").arg(product_id))
        .await?;
    let sql = format!(
        "SELECT v.id, {} AS reserved, v.stock_on_hand FROM variants v \
         WHERE v.product_id = $1 AND v.held > 0",
        reserved_sql("$2")
    );
    let rows: Vec<(Uuid, i64, i64)> = on_tx!(tx, c => sqlx::query_as(&sql)
        .bind(product_id).bind(now).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .filter(|&(_, reserved, _)| reserved > 0)
        .collect())
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

/// Takes a variant's units on its `held` counter where `stock_on_hand - held` leaves enough. On
/// Postgres the conditional `UPDATE` is decided on the latest committed row even when it waited
/// for the row's lock, which is what lets the check and the writes be one statement.
const TAKE: &str = "UPDATE variants AS v SET held = v.held + w.quantity FROM wanted AS w \
     WHERE v.id = w.variant_id AND v.stock_on_hand - v.held >= w.quantity RETURNING id";

/// The decisive step of an order, in the caller's write transaction: takes what the order wants
/// (`wanted`) on each variant's counter, and writes the order, its lines and its holds only if
/// every variant had enough. True if it did. On false, the caller rolls back: the counters of
/// the variants that had enough have moved. With several variants, the caller has locked them
/// in id order first.
pub async fn reserve(tx: &mut Tx, order: &Order, wanted: &BTreeMap<Uuid, i64>) -> Result<bool> {
    let fits = |_: &str| ", fits".to_string();
    if tx.backend().writes_in_ctes() {
        let mut s = Stmt::new("");
        let w = wanted_cte(&mut s, wanted);
        let n = s.param(wanted.len() as i64);
        let rows = order_ctes(&mut s, &[order]);
        let ctes = format!(
            "{w}, taken AS ({TAKE}), \
             fits (yes) AS (SELECT 1 WHERE (SELECT COUNT(*) FROM taken) = {n}), {rows}"
        );
        let sql =
            tx.backend()
                .writes_with(&ctes, &order_inserts(fits), Some("SELECT id FROM taken"));
        return Ok(s.text(sql).rows(tx).await? == wanted.len());
    }
    // SQLite cannot write from a `WITH`: the counters, then the rows, under its write lock.
    let mut take = Stmt::new("");
    let w = wanted_cte(&mut take, wanted);
    if take.text(format!("WITH {w} {TAKE}")).rows(tx).await? < wanted.len() {
        return Ok(false);
    }
    let mut write = Stmt::new("");
    let rows = order_ctes(&mut write, &[order]);
    let sql = tx
        .backend()
        .writes_with(&rows, &order_inserts(|_| String::new()), None);
    write.text(sql).run(tx).await?;
    Ok(true)
}

/// Reserves for `orders`, each of units of `variant_id` only, in arrival order, in one turn at
/// the variant's row: the row is locked and read, the orders are served first come, first
/// served while its free units (`stock_on_hand - held`) last, and their rows and the counter are
/// written and committed. Returns the ids of the orders it served.
///
/// On Postgres it is one statement outside any transaction: the row lock (`FOR UPDATE` in a
/// `WITH` returns the latest committed row, even after waiting) lasts only while it runs and
/// commits, never across a round trip to this process. On SQLite it is a write transaction of its
/// own, and the rows are written before the counter, so every statement reads the same free
/// units.
pub async fn reserve_for_variant(
    conn: &mut Conn,
    variant_id: Uuid,
    orders: &[&Order],
) -> Result<BTreeSet<Uuid>> {
    let backend = conn.backend();
    let mut s = Stmt::new("");
    let v = s.param(variant_id);
    // Turns of one size share one statement text, so that it is prepared (and, on Postgres,
    // planned) once per connection instead of every turn: the list is padded to a power of two
    // with inert copies of the first order (id nil, never served, so never written).
    let Some(first) = orders.first() else {
        return Ok(BTreeSet::new());
    };
    let inert = Order {
        id: Uuid::nil(),
        ..(*first).clone()
    };
    let mut padded = orders.to_vec();
    padded.resize(orders.len().next_power_of_two(), &inert);
    let mut cum = 0;
    let batch = s.values(padded.iter().map(|o| {
        cum += o.items.iter().map(|i| i.quantity).sum::<i64>();
        let cum = if o.id.is_nil() { i64::MAX } else { cum };
        vec![Arg::Id(o.id), Arg::Int(cum)]
    }));
    let rows = order_ctes(&mut s, &padded);
    let ctes = format!(
        "batch (order_id, cum) AS (VALUES {batch}), \
         locked (free) AS (SELECT stock_on_hand - held FROM variants WHERE id = {v}{}), \
         served (order_id, cum) AS (SELECT order_id, cum FROM batch \
           WHERE cum <= (SELECT free FROM locked)), {rows}",
        backend.for_update()
    );
    let [orders_in, items_in, holds_in] =
        order_inserts(|key| format!(" WHERE {key} IN (SELECT order_id FROM served)"));
    let count = format!(
        "UPDATE variants SET held = held + (SELECT COALESCE(MAX(cum), 0) FROM served) WHERE id = {v}"
    );
    // Postgres returns the served ids from the orders' insert (`w1`); SQLite, running the
    // statements one by one, returns that insert's rows as they are.
    let query = backend.writes_in_ctes().then_some("SELECT id FROM w1");
    let sql = backend.writes_with(&ctes, &[orders_in, items_in, holds_in, count], query);
    let served: Vec<(Uuid,)> = s.text(sql).write_alone(conn).await?;
    Ok(served.into_iter().map(|(id,)| id).collect())
}

fn wanted_cte(s: &mut Stmt, wanted: &BTreeMap<Uuid, i64>) -> String {
    let rows = s.values(wanted.iter().map(|(&v, &q)| vec![Arg::Id(v), Arg::Int(q)]));
    format!("wanted (variant_id, quantity) AS (VALUES {rows})")
}

/// New orders, their lines and their holds as `VALUES` lists named `new_order`, `new_items` and
/// `new_holds`.
fn order_ctes(s: &mut Stmt, orders: &[&Order]) -> String {
    let head = s.values(orders.iter().map(|order| {
        vec![
            Arg::Id(order.id),
            order.status.as_str().into(),
            order.payment_expires_at.into(),
            order.created_at.into(),
            order.created_by.as_str().into(),
            order.updated_at.into(),
            order.updated_by.as_str().into(),
        ]
    }));
    let items = s.values(orders.iter().flat_map(|order| {
        order.items.iter().map(|i| {
            vec![
                Arg::Id(i.id),
                Arg::Id(order.id),
                i.line_no.into(),
                Arg::Id(i.variant_id),
                Arg::Id(i.product_id),
                i.sku.as_str().into(),
                i.product_name.as_str().into(),
                i.quantity.into(),
                i.unit_price_minor.into(),
                i.currency.as_str().into(),
            ]
        })
    }));
    let holds = s.values(orders.iter().flat_map(|order| {
        order.reservations.iter().map(|r| {
            vec![
                Arg::Id(r.id),
                Arg::Id(order.id),
                Arg::Id(r.order_item_id),
                Arg::Id(r.variant_id),
                r.quantity.into(),
                r.reserved_until.into(),
                r.status.as_str().into(),
                r.created_at.into(),
                r.closed_at.into(),
            ]
        })
    }));
    format!(
        "new_order (id, status, payment_expires_at, created_at, created_by, updated_at, \
         updated_by) AS (VALUES {head}), \
         new_items (id, order_id, line_no, variant_id, product_id, sku, product_name, quantity, \
         unit_price_minor, currency) AS (VALUES {items}), \
         new_holds (id, order_id, order_item_id, variant_id, quantity, reserved_until, status, \
         created_at, closed_at) AS (VALUES {holds})"
    )
}

/// The inserts of `order_ctes`' rows; `only(key)` ends each one's `SELECT` (`key` is the column
/// naming the order). The orders' insert returns their ids.
fn order_inserts(only: impl Fn(&str) -> String) -> [String; 3] {
    let copy = |table: &str, from: &str, key: &str, cols: &str| {
        format!(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM {from}{}",
            only(key)
        )
    };
    [
        copy(
            "orders",
            "new_order",
            "id",
            "id, status, payment_expires_at, created_at, created_by, updated_at, updated_by",
        ) + " RETURNING id",
        copy(
            "order_items",
            "new_items",
            "order_id",
            "id, order_id, line_no, variant_id, product_id, sku, product_name, quantity, \
             unit_price_minor, currency",
        ),
        copy(
            "reservations",
            "new_holds",
            "order_id",
            "id, order_id, order_item_id, variant_id, quantity, reserved_until, status, \
             created_at, closed_at",
        ),
    ]
}

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

/// Ends the active reservations of `order_ids` with `status` and gives their units back to the
/// variants' `held` counters; returns how many it ended. Conditional on `status = 'active'`, so a
/// hold ends exactly once whoever gets there. The caller holds the orders' locks; the variants
/// are locked here, in id order, before their holds change.
pub async fn close_holds(
    tx: &mut Tx,
    order_ids: &[Uuid],
    status: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<u64> {
    if order_ids.is_empty() {
        return Ok(0);
    }
    // A sweeper's batch makes SQL of its own length: not worth a place in the statement cache.
    let sized = |s: Stmt| if order_ids.len() > 1 { s.uncached() } else { s };
    let of_orders = || Stmt::ids_in("order_id", order_ids.iter().copied());
    let lock = of_orders().wrap(|f| {
        format!("id IN (SELECT variant_id FROM reservations WHERE status = 'active' AND {f})")
    });
    tx.lock_rows("variants", sized(lock)).await?;

    let mut close = Stmt::new("");
    let (status, now) = (close.param(status.as_str()), close.param(now));
    let ids = close.list(order_ids.iter().copied().map(Arg::Id));
    let close = close.text(format!(
        "UPDATE reservations SET status = {status}, closed_at = {now} \
         WHERE status = 'active' AND order_id IN ({ids}) RETURNING variant_id, quantity"
    ));
    let closed: Vec<(Uuid, i64)> = sized(close).fetch(tx).await?;

    let mut per_variant: BTreeMap<Uuid, i64> = BTreeMap::new();
    for &(variant_id, quantity) in &closed {
        *per_variant.entry(variant_id).or_default() += quantity;
    }
    if !per_variant.is_empty() {
        let mut give_back = Stmt::new("");
        let rows = give_back.values(
            per_variant
                .iter()
                .map(|(&v, &q)| vec![Arg::Id(v), Arg::Int(q)]),
        );
        let give_back = give_back.text(format!(
            "WITH d (id, quantity) AS (VALUES {rows}) \
             UPDATE variants AS v SET held = v.held - d.quantity FROM d WHERE v.id = d.id"
        ));
        sized(give_back).run(tx).await?;
    }
    Ok(closed.len() as u64)
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
    let filter = match holding {
        Some(variants) => format!(
            " AND id IN (SELECT order_id FROM reservations WHERE status = 'active' \
             AND reserved_until <= {now} AND variant_id IN ({}))",
            s.list(variants.iter().copied().map(Arg::Id))
        ),
        None => String::new(),
    };
    let s = s.text(format!(
        "SELECT id FROM orders WHERE status = 'pending' AND payment_expires_at <= {now}{filter} \
         ORDER BY payment_expires_at, id LIMIT {limit}{}",
        tx.backend().for_update_skip_locked()
    ));
    let rows: Vec<(Uuid,)> = s.fetch(tx).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
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
