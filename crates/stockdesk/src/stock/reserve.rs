//! Taking an order: a look, then the decisive reservation.
//!
//! A first look without locks turns away buyers that committed holds already leave short
//! (exactly: it ignores lapsed holds). The decisive check is on the variant rows: an order takes
//! its units on a row's `held` counter only where `stock_on_hand - held` leaves enough, and its
//! order, lines, holds and op id are written with it or not at all. Orders of one variant share
//! turns at its row (`store::turns`): one statement and one commit for all that arrived
//! meanwhile, which on Postgres runs outside any transaction, so the row lock lasts only while
//! it runs and commits. Orders of several variants lock them in id order first, in a
//! transaction. On SQLite the write transaction (`BEGIN IMMEDIATE`) is the lock. The counter
//! includes lapsed holds nobody expired yet: when only they stand in the way, the order expires
//! their orders first (as the sweeper would), then looks again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use uuid::Uuid;

use super::orders::{expire_batch, insufficient, micros};
use super::repo::{self, LockedVariant, OrderableVariant};
use crate::ctx::{Ctx, Op};
use crate::error::{Error, FieldError, Result};
use crate::model::*;
use crate::store::idempotency::{self, Claim, OpKey};
use crate::store::turns::Outcome as Turn;
use crate::store::{with_retry, Conn, Stmt, TurnItem};

/// Looks one `create_order` attempt takes at most while other buyers keep taking the units
/// between its look and its reservation (each lost race means someone else got them).
const MAX_LOOKS: usize = 16;

/// Lapsed orders an order expires in one go when their holds stand in its way.
const MAX_EXPIRY_BATCH: i64 = 1_000;

impl TurnItem for OrderTurn {
    fn turn_id(&self) -> Uuid {
        self.order.id
    }
}

/// Takes an order: reserves every line or nothing, and records it under `op_id`. Lines of one
/// variant are summed before the check. Returns the order and whether `op_id` had been applied
/// already (then it is the first outcome, and nothing was reserved now).
pub async fn create_order(
    ctx: &Ctx,
    op: &OpKey<'_>,
    actor: &str,
    new: &NewOrder,
) -> Result<(Order, bool)> {
    let req = OrderRequest {
        wanted: check_new_order(new)?,
        window: TimeDelta::seconds(new.expires_in_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS)),
        new,
        op: *op,
        actor,
    };
    with_retry(|| create_attempt(ctx, &req)).await
}

/// Looks, then reserves; a buyer who loses the race for the last units between the two looks
/// again, so a refusal always comes from a look at committed stock. `Busy` (retried by the
/// caller, with backoff) if that keeps happening, or if lapsed holds in the way are being paid
/// or extended by someone else right now.
async fn create_attempt(ctx: &Ctx, req: &OrderRequest<'_>) -> Result<(Order, bool)> {
    for _ in 0..MAX_LOOKS {
        let mut conn = ctx.store.conn().await?;
        // A retried command answers as its first attempt did, even if stock ran out since.
        if let Some(first) = idempotency::stored::<Outcome>(&mut conn, &req.op).await? {
            return match first {
                Outcome::Order(order) => Ok((order, true)),
                _ => Err(Error::BadInput(format!(
                    "op_id {} has no order as its outcome",
                    req.op.id
                ))),
            };
        }
        let now = ctx.now();
        // A first look, outside any transaction. A refusal here is exact: it sees every
        // committed hold and ignores lapsed ones, and what it cannot see (other buyers' holds in
        // flight) only lowers availability. So a sold-out variant turns buyers away without
        // queueing them on its row lock.
        let variants = look_up(&mut conn, &req.wanted, now).await?;
        if lapsed_in_the_way(&variants, &req.wanted) {
            // Enough is available, but only counting holds whose time has passed, which the
            // counter the decisive check reads still includes: expire them first.
            drop(conn);
            let of: BTreeSet<Uuid> = req.wanted.keys().copied().collect();
            let (batch, _) = expire_batch(ctx, req.actor, MAX_EXPIRY_BATCH, Some(&of)).await?;
            if batch.orders_expired == 0 {
                return Err(Error::Busy);
            }
            continue;
        }
        let variants = variants
            .into_iter()
            .map(|(id, v)| (id, v.variant))
            .collect();
        let op = Op::new(ctx, req.op.id, req.actor, now).by(req.op.actor_id);
        let order = new_order(&op, req, &variants)?;
        if let Some(done) = reserve_order(ctx, conn, req, order).await? {
            return Ok(done);
        }
    }
    Err(Error::Busy)
}

/// Writes the order and takes its units if they are still there; None if another buyer took
/// them since the look. An order of one variant goes in with the others of its variant that
/// arrive meanwhile (`store::turns`); the rest take a write transaction.
async fn reserve_order(
    ctx: &Ctx,
    conn: Conn,
    req: &OrderRequest<'_>,
    order: Order,
) -> Result<Option<(Order, bool)>> {
    if let [&variant_id] = &req.wanted.keys().collect::<Vec<_>>()[..] {
        let turn = OrderTurn {
            op_id: req.op.id,
            fingerprint: req.op.fingerprint.to_string(),
            order,
        };
        let write: crate::store::TurnFn<OrderTurn> = reserve_turn;
        return match ctx
            .order_turns
            .take_turn(conn, &ctx.store, variant_id, turn, write)
            .await
        {
            Some((turn, Turn::Served)) => Ok(Some((turn.order, false))),
            Some((turn, Turn::Failed)) => {
                // Alone, in a transaction of its own, so it gets its own answer (a duplicate op
                // id, for one, is a replay there).
                let conn = ctx.store.conn().await?;
                reserve_in_tx(ctx, conn, req, turn.order).await
            }
            Some((_, Turn::NotServed)) | None => Ok(None),
        };
    }
    reserve_in_tx(ctx, conn, req, order).await
}

fn reserve_turn<'a>(
    conn: &'a mut Conn,
    variant_id: Uuid,
    turns: &'a [&'a OrderTurn],
) -> BoxFuture<'a, Result<BTreeSet<Uuid>>> {
    Box::pin(repo::reserve_for_variant(conn, variant_id, turns))
}

async fn reserve_in_tx(
    ctx: &Ctx,
    conn: Conn,
    req: &OrderRequest<'_>,
    order: Order,
) -> Result<Option<(Order, bool)>> {
    let mut tx = conn.begin_write().await?;
    let result = async {
        if let Claim::Done(first) =
            idempotency::claim::<Outcome>(&mut tx, &req.op, ctx.now()).await?
        {
            return match first {
                Outcome::Order(order) => Ok(Some((order, true))),
                _ => Err(Error::BadInput(format!(
                    "op_id {} has no order as its outcome",
                    req.op.id
                ))),
            };
        }
        if req.wanted.len() > 1 {
            let ids = Stmt::ids_in("id", req.wanted.keys().copied());
            tx.lock_rows("variants", ids).await?;
        }
        if !repo::reserve(&mut tx, &order, &req.wanted).await? {
            return Ok(None);
        }
        idempotency::finish(&mut tx, req.op.id, &Outcome::Order(order.clone())).await?;
        Ok(Some((order, false)))
    }
    .await;
    match result {
        Ok(Some(done)) => {
            tx.commit().await?;
            Ok(Some(done))
        }
        // A lost race or a refusal rolls back at once: the next buyer may wait on its locks.
        Ok(None) => tx.rollback().await.map(|_| None),
        Err(e) => tx.finish(Err(e)).await,
    }
}

/// The order `req` makes of the variants as looked up, held from now for its payment window.
/// Its ids come from the op, so every attempt makes the same order.
fn new_order(
    op: &Op<'_>,
    req: &OrderRequest<'_>,
    variants: &BTreeMap<Uuid, LockedVariant>,
) -> Result<Order> {
    build_order(op, req.new, req.window, variants)
}

/// The order `new` makes of `variants`, held from now for `window`; its ids come from the op.
pub(super) fn build_order(
    op: &Op<'_>,
    new: &NewOrder,
    window: TimeDelta,
    variants: &BTreeMap<Uuid, LockedVariant>,
) -> Result<Order> {
    let id = new.id.unwrap_or_else(|| op.new_id());
    let until = micros(op.now + window);
    let items: Vec<OrderItem> = (1..)
        .zip(&new.items)
        .map(|(line_no, line)| {
            let v = &variants[&line.variant_id];
            OrderItem {
                id: op.new_id(),
                line_no,
                variant_id: v.id,
                product_id: v.product_id,
                sku: v.sku.clone(),
                product_name: v.product_name.clone(),
                quantity: line.quantity,
                unit_price_minor: v.price_minor,
                currency: v.currency.clone(),
            }
        })
        .collect();
    let reservations = items
        .iter()
        .map(|i| Reservation {
            id: op.new_id(),
            order_item_id: i.id,
            variant_id: i.variant_id,
            quantity: i.quantity,
            reserved_until: until,
            status: ReservationStatus::Active,
            created_at: op.now,
            closed_at: None,
        })
        .collect();
    let totals = Money::totals(&items).ok_or_else(|| {
        Error::validation("items", "the order's total is more than can be counted")
    })?;
    Ok(Order {
        id,
        status: OrderStatus::Pending,
        overdue: false,
        payment_expires_at: until,
        created_at: op.now,
        created_by: op.actor.to_string(),
        created_by_id: op.actor_id,
        updated_at: op.now,
        updated_by: op.actor.to_string(),
        updated_by_id: op.actor_id,
        paid_at: None,
        closed_at: None,
        totals,
        items,
        reservations,
    })
}

/// A checked `create_order` call, as each attempt sees it.
struct OrderRequest<'a> {
    new: &'a NewOrder,
    /// Quantity per variant (lines of a variant summed).
    wanted: BTreeMap<Uuid, i64>,
    window: TimeDelta,
    op: OpKey<'a>,
    actor: &'a str,
}

/// Checks a new order's shape; returns the quantity per variant (lines of a variant summed).
pub(super) fn check_new_order(new: &NewOrder) -> Result<BTreeMap<Uuid, i64>> {
    let mut errors = Vec::new();
    if new.items.is_empty() {
        errors.push(FieldError {
            field: "items".into(),
            reason: "an order needs at least one line".into(),
        });
    }
    if new.items.len() > MAX_ORDER_LINES {
        errors.push(FieldError {
            field: "items".into(),
            reason: format!("at most {MAX_ORDER_LINES} lines"),
        });
    }
    if let Some(secs) = new.expires_in_secs {
        if !(1..=MAX_PAYMENT_WINDOW_SECS).contains(&secs) {
            errors.push(FieldError {
                field: "expires_in_secs".into(),
                reason: format!("must be between 1 and {MAX_PAYMENT_WINDOW_SECS}"),
            });
        }
    }
    let mut wanted: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (n, item) in new.items.iter().enumerate() {
        if !(1..=MAX_STOCK).contains(&item.quantity) {
            errors.push(FieldError {
                field: format!("items.{n}.quantity"),
                reason: format!("must be a whole number from 1 to {MAX_STOCK}"),
            });
        }
        let sum = wanted.entry(item.variant_id).or_default();
        *sum = sum.saturating_add(item.quantity);
    }
    if errors.is_empty() {
        Ok(wanted)
    } else {
        Err(Error::Validation(errors))
    }
}

/// The variants an order wants, read without locks; `insufficient_stock` if one of them is
/// already short as far as committed holds go.
async fn look_up(
    conn: &mut Conn,
    wanted: &BTreeMap<Uuid, i64>,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Uuid, OrderableVariant>> {
    let variants = repo::orderable_variants(conn, wanted.keys().copied(), now).await?;
    for (&variant_id, &requested) in wanted {
        insufficient(
            variant_id,
            requested,
            variants[&variant_id].figures.available(),
        )?;
    }
    Ok(variants)
}

/// Whether the units are there only once lapsed holds are expired: the decisive check goes by
/// the `held` counter, which still counts them.
fn lapsed_in_the_way(
    variants: &BTreeMap<Uuid, OrderableVariant>,
    wanted: &BTreeMap<Uuid, i64>,
) -> bool {
    wanted
        .iter()
        .any(|(id, &requested)| requested > variants[id].figures.takeable())
}
