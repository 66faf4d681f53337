//! Orders after they are taken: pay (sell), cancel (release), extend, expire; reading them.
//!
//! Concurrency, in one place (taking an order: `reserve`):
//! - Payment, cancellation, extension and the sweeper all lock the order row first: whoever gets
//!   it decides the order's fate, the others see the new status. Every status change and every
//!   reservation change is also conditional on the old status, so each happens at most once.
//! - Lock order everywhere: order, then products, then variants (in id order), then
//!   reservations. Orders lock only variants; edits that lower stock lock their product's
//!   variants before they read what is held, so neither misses the other's commit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::repo::{self, LockedVariant};
use crate::ctx::{Ctx, Op};
use crate::error::{Error, Result};
use crate::model::*;
use crate::product_rows::{self, ledger};
use crate::store::{idempotency, with_retry, Backend, Tx};

pub async fn get_order(ctx: &Ctx, id: Uuid) -> Result<Order> {
    let mut tx = ctx.store.read().await?;
    load(&mut tx, id, ctx.now()).await
}

/// Orders, newest first.
pub async fn list_orders(ctx: &Ctx, query: &OrderQuery) -> Result<Vec<Order>> {
    let limit = query.limit.unwrap_or(50);
    let offset = query.offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) {
        return Err(Error::validation("limit", "must be between 1 and 1000"));
    }
    if offset < 0 {
        return Err(Error::validation("offset", "must not be negative"));
    }
    let mut tx = ctx.store.read().await?;
    repo::list_orders(&mut tx, query.status, limit, offset, ctx.now()).await
}

/// Confirms payment: the reservations become a sale (a `sale` movement per variant, on hand
/// drops). If the payment window has passed, the payment still succeeds when the stock is
/// available, re-reserving it (`Hold::ReReserved`); otherwise `reservation_expired`.
pub async fn pay_order(tx: &mut Tx, op: &Op<'_>, id: Uuid) -> Result<PaymentOutcome> {
    let order = repo::lock_order(tx, id).await?;
    if matches!(order.status, OrderStatus::Paid | OrderStatus::Cancelled) {
        return Err(invalid_state(id, order.status, "pay"));
    }
    // Units a till sold that the shop could not cover are owed by an oversell exception, not
    // held: the sale takes what the holds cover.
    let mut wanted = repo::quantities(tx, id).await?;
    for (v, owed) in super::exceptions::owed_by_variant(tx, id).await? {
        if let Some(q) = wanted.get_mut(&v) {
            *q -= owed;
        }
    }
    wanted.retain(|_, q| *q > 0);
    let variants = if wanted.is_empty() {
        BTreeMap::new()
    } else {
        repo::lock_variants(tx, &wanted.keys().copied().collect()).await?
    };
    let now = op.now;
    let hold = if order.status == OrderStatus::Pending && order.payment_expires_at > now {
        // The hold is valid. On hand can still be short of it if a stock count found less than
        // was reserved: then the first order to pay gets what is there.
        for (&variant_id, &requested) in &wanted {
            insufficient(variant_id, requested, variants[&variant_id].stock_on_hand)?;
        }
        repo::close_holds(tx, &[id], ReservationStatus::Converted, now).await?;
        Hold::Original
    } else {
        if !can_hold_again(tx, &wanted, &variants, now).await? {
            return Err(Error::ReservationExpired { order_id: id });
        }
        if order.status == OrderStatus::Pending {
            // Nobody released the lapsed holds yet: they become the sale.
            repo::close_holds(tx, &[id], ReservationStatus::Converted, now).await?;
        } else {
            // The sweeper expired them; the sale takes the stock with new ones.
            let items = repo::order_lines(tx, id).await?;
            let owed = super::exceptions::owed_by_line(tx, id).await?;
            for line in items {
                let quantity = line.quantity - owed.get(&line.id).copied().unwrap_or(0);
                if quantity <= 0 {
                    continue;
                }
                let r = Reservation {
                    id: op.new_id(),
                    order_item_id: line.id,
                    variant_id: line.variant_id,
                    quantity,
                    reserved_until: now,
                    status: ReservationStatus::Converted,
                    created_at: now,
                    closed_at: Some(now),
                };
                repo::insert_reservation(tx, id, &r).await?;
            }
        }
        Hold::ReReserved
    };
    sell(tx, op, id, &wanted, &variants).await?;
    if !repo::set_status(
        tx,
        id,
        order.status,
        OrderStatus::Paid,
        (op.actor, op.actor_id),
        now,
    )
    .await?
    {
        // The order row is locked by this transaction; a miss means the database let someone in
        // regardless, so start over on fresh data.
        return Err(Error::Busy);
    }
    let order = load(tx, id, now).await?;
    Ok(PaymentOutcome { order, hold })
}

/// Cancels a pending order and gives its stock back.
pub async fn cancel_order(tx: &mut Tx, op: &Op<'_>, id: Uuid) -> Result<Order> {
    let order = repo::lock_order(tx, id).await?;
    if order.status != OrderStatus::Pending {
        return Err(invalid_state(id, order.status, "cancel"));
    }
    repo::set_status(
        tx,
        id,
        order.status,
        OrderStatus::Cancelled,
        (op.actor, op.actor_id),
        op.now,
    )
    .await?;
    // A till's order gives its units back to the till's allotment (`allot::give_back`).
    let till = super::allot::terminal_of_order(tx, id).await?;
    let released = match till {
        Some(_) => repo::active_holds_by_variant(tx, id).await?,
        None => BTreeMap::new(),
    };
    repo::close_holds(tx, &[id], ReservationStatus::Released, op.now).await?;
    if let Some(terminal_id) = till {
        super::allot::give_back(tx, terminal_id, &released, op.now).await?;
        super::exceptions::settle_cancelled(tx, op, id).await?;
    }
    load(tx, id, op.now).await
}

/// Gives a pending order `by_secs` more seconds to pay. A window that already passed is
/// reopened from now if the stock is still available (`Hold::ReReserved`), else
/// `reservation_expired`.
pub async fn extend_order(
    tx: &mut Tx,
    op: &Op<'_>,
    id: Uuid,
    by_secs: i64,
) -> Result<ExtendOutcome> {
    if !(1..=MAX_PAYMENT_WINDOW_SECS).contains(&by_secs) {
        return Err(Error::validation(
            "by_secs",
            format!("must be more than 0 and at most {MAX_PAYMENT_WINDOW_SECS} seconds"),
        ));
    }
    let by = TimeDelta::seconds(by_secs);
    let order = repo::lock_order(tx, id).await?;
    match order.status {
        OrderStatus::Pending => {}
        OrderStatus::Expired => return Err(Error::ReservationExpired { order_id: id }),
        status => return Err(invalid_state(id, status, "extend")),
    }
    let wanted = repo::quantities(tx, id).await?;
    let variants = repo::lock_variants(tx, &wanted.keys().copied().collect()).await?;
    let now = op.now;
    let (until, hold) = if order.payment_expires_at > now {
        (order.payment_expires_at + by, Hold::Original)
    } else if can_hold_again(tx, &wanted, &variants, now).await? {
        (now + by, Hold::ReReserved)
    } else {
        return Err(Error::ReservationExpired { order_id: id });
    };
    let until = micros(until);
    repo::set_deadline(tx, id, until, (op.actor, op.actor_id), now).await?;
    repo::extend_reservations(tx, id, until).await?;
    let order = load(tx, id, now).await?;
    Ok(ExtendOutcome { order, hold })
}

/// Expires up to `limit` overdue pending orders and their reservations, in one transaction of a
/// few statements whatever the batch size: lock the batch, expire the orders, end their holds.
/// Safe to run from several processes at once: each order and reservation is expired once.
/// Also returns the orders it expired.
pub async fn expire_overdue_orders(
    ctx: &Ctx,
    actor: &str,
    limit: i64,
) -> Result<(ExpiryBatch, Vec<Uuid>)> {
    expire_batch(ctx, actor, limit, None).await
}

/// `expire_overdue_orders`, of the orders with lapsed holds of `holding` only when given (an
/// order those holds stand in the way of).
pub(super) async fn expire_batch(
    ctx: &Ctx,
    actor: &str,
    limit: i64,
    holding: Option<&BTreeSet<Uuid>>,
) -> Result<(ExpiryBatch, Vec<Uuid>)> {
    if ctx.store.backend() == Backend::Postgres {
        // One statement, committed as it ends: a batch is one round trip, and its row locks last
        // only while it runs.
        return with_retry(|| async {
            let mut conn = ctx.store.conn().await?;
            repo::expire_in_one(&mut conn, ctx.now(), limit, holding, actor).await
        })
        .await;
    }
    with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let now = ctx.now();
        let result = async {
            idempotency::begin_system_write(&mut tx).await?;
            let locked = repo::lock_overdue(&mut tx, now, limit, holding).await?;
            let expired = repo::expire_orders(&mut tx, &locked, actor, now).await?;
            // Only the orders this batch moved: their reservations are ours to end.
            let reservations =
                repo::close_holds(&mut tx, &expired, ReservationStatus::Expired, now).await?;
            let changed: Vec<_> = expired
                .iter()
                .map(|&id| ChangeEvent::Order { id })
                .collect();
            idempotency::finish_system_write(&mut tx, "expire_orders", actor, &changed, now)
                .await?;
            let batch = ExpiryBatch {
                locked: locked.len() as i64,
                orders_expired: expired.len() as i64,
                reservations_expired: reservations as i64,
            };
            Ok((batch, expired))
        }
        .await;
        tx.finish(result).await
    })
    .await
}

/// Pending orders past their payment deadline that nobody has expired yet (sweeper backlog).
pub async fn overdue_orders(tx: &mut Tx, now: DateTime<Utc>) -> Result<i64> {
    repo::overdue_count(tx, now).await
}

async fn load(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<Order> {
    repo::load_order(tx, id, now)
        .await?
        .ok_or_else(|| Error::not_found("order", id))
}

/// Whether a lapsed order's quantities fit in what is available now. Its own holds have lapsed,
/// so they count for nothing in what is reserved.
async fn can_hold_again(
    tx: &mut Tx,
    wanted: &BTreeMap<Uuid, i64>,
    variants: &BTreeMap<Uuid, LockedVariant>,
    now: DateTime<Utc>,
) -> Result<bool> {
    for (&variant_id, &requested) in wanted {
        let reserved = repo::reserved_now(tx, variant_id, now).await?;
        if requested > variants[&variant_id].stock_on_hand - reserved {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Takes sold stock off the shelf: on hand, a `sale` movement per variant, and a new version of
/// each product concerned (so an open editor merges its stock figure as a delta).
async fn sell(
    tx: &mut Tx,
    op: &Op<'_>,
    order_id: Uuid,
    wanted: &BTreeMap<Uuid, i64>,
    variants: &BTreeMap<Uuid, LockedVariant>,
) -> Result<()> {
    let mut by_product: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    let reason = format!("order {order_id}");
    for (&variant_id, &quantity) in wanted {
        let v = &variants[&variant_id];
        let after = v.stock_on_hand - quantity;
        repo::set_on_hand(tx, variant_id, after, op.now).await?;
        ledger::record(
            tx,
            ledger::NewMovement {
                id: op.new_id(),
                op_id: op.id,
                variant_id,
                kind: MovementKind::Sale,
                quantity: -quantity,
                on_hand_after: after,
                actor: op.actor,
                actor_id: op.actor_id,
                reason: &reason,
                order_id: Some(order_id),
                at: op.now,
            },
        )
        .await?;
        by_product.entry(v.product_id).or_default().push(variant_id);
    }
    for (product_id, variant_ids) in by_product {
        product_rows::record_stock_change(tx, op, product_id, &variant_ids).await?;
    }
    Ok(())
}

/// `insufficient_stock` if `requested` is more than `available`.
pub(super) fn insufficient(variant_id: Uuid, requested: i64, available: i64) -> Result<()> {
    if requested > available {
        return Err(Error::InsufficientStock {
            variant_id,
            requested,
            available: available.max(0),
        });
    }
    Ok(())
}

fn invalid_state(id: Uuid, status: OrderStatus, action: &'static str) -> Error {
    Error::InvalidState {
        entity: "order",
        id,
        state: status.as_str().to_string(),
        action,
    }
}

/// Both databases keep microseconds; a deadline with more precision would not read back equal.
pub(super) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound;
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
