//! The SQL that opens and closes holds: an order's decisive reservation (alone in a transaction,
//! or many orders of one variant in one turn) and the end of holds by payment, cancellation or
//! expiry, always together with the variants' `held` counters.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::model::{Order, OrderTurn, Outcome, Reservation, ReservationStatus};
use crate::store::{Arg, Conn, Stmt, Tx};

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

/// Reserves for the orders of `turns`, each of units of `variant_id` only, in arrival order, in
/// one turn at the variant's row: the row is locked and read, the orders are served first come,
/// first served while its free units (`stock_on_hand - held`) last, and their rows, their op ids
/// and the counter are written and committed. Returns the ids of the orders it served.
///
/// On Postgres it is one statement outside any transaction: the row lock (`FOR UPDATE` in a
/// `WITH` returns the latest committed row, even after waiting) lasts only while it runs and
/// commits, never across a round trip to this process. On SQLite it is a write transaction of its
/// own, and the rows are written before the counter, so every statement reads the same free
/// units.
pub async fn reserve_for_variant(
    conn: &mut Conn,
    variant_id: Uuid,
    turns: &[&OrderTurn],
) -> Result<BTreeSet<Uuid>> {
    let backend = conn.backend();
    let mut s = Stmt::new("");
    let v = s.param(variant_id);
    // Turns of one size share one statement text, so that it is prepared (and, on Postgres,
    // planned) once per connection instead of every turn: the list is padded to a power of two
    // with inert copies of the first order (id nil, never served, so never written).
    let Some(first) = turns.first() else {
        return Ok(BTreeSet::new());
    };
    let inert = OrderTurn {
        op_id: Uuid::nil(),
        fingerprint: String::new(),
        order: Order {
            id: Uuid::nil(),
            ..first.order.clone()
        },
    };
    let mut padded = turns.to_vec();
    padded.resize(turns.len().next_power_of_two(), &inert);
    let mut cum = 0;
    let batch = s.values(padded.iter().map(|t| {
        cum += t.order.items.iter().map(|i| i.quantity).sum::<i64>();
        let cum = if t.order.id.is_nil() { i64::MAX } else { cum };
        vec![Arg::Id(t.order.id), Arg::Int(cum)]
    }));
    let orders: Vec<&Order> = padded.iter().map(|t| &t.order).collect();
    let rows = order_ctes(&mut s, &orders);
    // Each served order's op id is claimed in the same statement, with the order as its
    // outcome: a replay finds it, and a duplicate in flight fails the turn (then each order of
    // it is tried alone, where the duplicate is answered as a replay).
    let mut ops = Vec::with_capacity(padded.len());
    for t in &padded {
        let outcome = Arg::json(&Outcome::Order(t.order.clone()))?;
        ops.push(vec![
            Arg::Id(t.op_id),
            Arg::Id(t.order.id),
            t.fingerprint.as_str().into(),
            outcome,
            t.order.created_by.as_str().into(),
            Arg::OptId(t.order.created_by_id),
            t.order.created_at.into(),
        ]);
    }
    let ops = s.values(ops);
    let ctes = format!(
        "batch (order_id, cum) AS (VALUES {batch}), \
         locked (free) AS (SELECT stock_on_hand - held FROM variants WHERE id = {v}{}), \
         served (order_id, cum) AS (SELECT order_id, cum FROM batch \
           WHERE cum <= (SELECT free FROM locked)), {rows}, \
         new_ops (op_id, order_id, fingerprint, outcome, actor, actor_id, created_at) \
           AS (VALUES {ops})",
        backend.for_update()
    );
    let [orders_in, items_in, holds_in] =
        order_inserts(|key| format!(" WHERE {key} IN (SELECT order_id FROM served)"));
    let claims = "INSERT INTO applied_ops (op_id, kind, fingerprint, outcome, actor, actor_id, \
         created_at) SELECT op_id, 'create_order', fingerprint, outcome, actor, actor_id, \
         created_at FROM new_ops \
         WHERE order_id IN (SELECT order_id FROM served)"
        .to_string();
    let count = format!(
        "UPDATE variants SET held = held + (SELECT COALESCE(MAX(cum), 0) FROM served) WHERE id = {v}"
    );
    // Postgres returns the served ids from the orders' insert (`w1`); SQLite, running the
    // statements one by one, returns that insert's rows as they are.
    let query = backend.writes_in_ctes().then_some("SELECT id FROM w1");
    let sql = backend.writes_with(
        &ctes,
        &[orders_in, items_in, holds_in, claims, count],
        query,
    );
    let served: Vec<ServedOrder> = s.text(sql).write_alone(conn).await?;
    Ok(served.into_iter().map(|o| o.id).collect())
}

/// An order `reserve_for_variant` served.
#[derive(sqlx::FromRow)]
struct ServedOrder {
    id: Uuid,
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
            Arg::OptId(order.created_by_id),
            order.updated_at.into(),
            order.updated_by.as_str().into(),
            Arg::OptId(order.updated_by_id),
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
        "new_order (id, status, payment_expires_at, created_at, created_by, created_by_id, \
         updated_at, updated_by, updated_by_id) AS (VALUES {head}), \
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
            "id, status, payment_expires_at, created_at, created_by, created_by_id, updated_at, \
             updated_by, updated_by_id",
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

/// Writes a new order (taken from terminal `terminal_id`'s allotment), its lines and its holds
/// as they are, row by row (a till's order is a few lines; the caller took the units).
pub async fn insert_till_order(tx: &mut Tx, order: &Order, terminal_id: Uuid) -> Result<()> {
    Stmt::new(
        "INSERT INTO orders (id, status, payment_expires_at, created_at, created_by, \
         created_by_id, updated_at, updated_by, updated_by_id, terminal_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .arg(order.id)
    .arg(order.status.as_str())
    .arg(order.payment_expires_at)
    .arg(order.created_at)
    .arg(order.created_by.as_str())
    .arg(order.created_by_id)
    .arg(order.updated_at)
    .arg(order.updated_by.as_str())
    .arg(order.updated_by_id)
    .arg(terminal_id)
    .run(tx)
    .await?;
    for i in &order.items {
        Stmt::new(
            "INSERT INTO order_items (id, order_id, line_no, variant_id, product_id, sku, \
             product_name, quantity, unit_price_minor, currency) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .arg(i.id)
        .arg(order.id)
        .arg(i.line_no)
        .arg(i.variant_id)
        .arg(i.product_id)
        .arg(i.sku.as_str())
        .arg(i.product_name.as_str())
        .arg(i.quantity)
        .arg(i.unit_price_minor)
        .arg(i.currency.as_str())
        .run(tx)
        .await?;
    }
    for r in &order.reservations {
        insert_reservation(tx, order.id, r).await?;
    }
    Ok(())
}

pub async fn insert_reservation(tx: &mut Tx, order_id: Uuid, r: &Reservation) -> Result<()> {
    Stmt::new(
        "INSERT INTO reservations (id, order_id, order_item_id, variant_id, quantity, \
         reserved_until, status, created_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .arg(r.id)
    .arg(order_id)
    .arg(r.order_item_id)
    .arg(r.variant_id)
    .arg(r.quantity)
    .arg(r.reserved_until)
    .arg(r.status.as_str())
    .arg(r.created_at)
    .arg(r.closed_at)
    .run(tx)
    .await?;
    Ok(())
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
    let closed: Vec<ClosedHold> = sized(close).fetch(tx).await?;

    let mut per_variant: BTreeMap<Uuid, i64> = BTreeMap::new();
    for hold in &closed {
        *per_variant.entry(hold.variant_id).or_default() += hold.quantity;
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

/// A hold `close_holds` ended: the variant it held and how many units.
#[derive(sqlx::FromRow)]
struct ClosedHold {
    variant_id: Uuid,
    quantity: i64,
}

/// Units an order's active holds keep, per variant.
pub async fn active_holds_by_variant(tx: &mut Tx, order_id: Uuid) -> Result<BTreeMap<Uuid, i64>> {
    let rows: Vec<ClosedHold> = Stmt::new(
        "SELECT variant_id, CAST(SUM(quantity) AS BIGINT) AS quantity FROM reservations \
         WHERE order_id = $1 AND status = 'active' GROUP BY variant_id",
    )
    .arg(order_id)
    .fetch(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|h| (h.variant_id, h.quantity))
        .collect())
}

pub async fn extend_reservations(tx: &mut Tx, order_id: Uuid, until: DateTime<Utc>) -> Result<()> {
    Stmt::new(
        "UPDATE reservations SET reserved_until = $2 WHERE order_id = $1 AND status = 'active'",
    )
    .arg(order_id)
    .arg(until)
    .run(tx)
    .await?;
    Ok(())
}
