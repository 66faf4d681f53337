//! Orders and their reservations: create (reserve), pay (sell), cancel (release), extend, expire.
//!
//! Concurrency, in one place:
//! - Reserving is one atomic step per order: a first look without locks turns away buyers that
//!   committed holds already leave short; then the products concerned are locked in id order
//!   (the lock every change to on-hand stock takes first), and one statement checks what is
//!   available from the reservations table and writes the order, its lines and its holds only
//!   if everything fits. The holds commit before the locks go. On SQLite the write transaction
//!   (`BEGIN IMMEDIATE`) is the lock.
//! - The clock is read *after* the locks are taken. Operations on one variant are serialised by
//!   its locks, so their times are ordered like the operations themselves; a hold that one of
//!   them saw as expired is never seen as valid by a later one.
//! - Payment, cancellation, extension and the sweeper all lock the order row first: whoever gets
//!   it decides the order's fate, the others see the new status. Every status change and every
//!   reservation change is also conditional on the old status, so each happens at most once.
//! - Lock order everywhere: order, then products, then variants, then reservations.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use uuid::Uuid;

use super::ledger::{self, MovementKind, NewMovement};
use super::model::*;
use super::repo::{self, LockedVariant};
use crate::catalog::MAX_STOCK;
use crate::error::{Error, FieldError, Result};
use crate::store::idempotency::{self, Claim};
use crate::store::{with_retry, Conn, Tx};
use crate::{ChangeEvent, Stockdesk};

/// What one batch of `expire_overdue_orders` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ExpiryBatch {
    /// Overdue orders this batch got hold of (others may be held by another sweeper).
    pub locked: i64,
    pub orders_expired: i64,
    pub reservations_expired: i64,
}

impl Stockdesk {
    /// Takes an order: reserves every line or nothing. Lines of one variant are summed before the
    /// check. With `op_id`, a retried create returns the first order and reserves nothing again.
    pub async fn create_order(&self, new: NewOrder, op_id: Option<Uuid>) -> Result<Order> {
        let span = tracing::info_span!(
            "create_order", lines = new.items.len(), op_id = ?op_id, actor = %self.actor
        );
        let req = OrderRequest {
            wanted: check_new_order(&new)?,
            window: TimeDelta::seconds(new.expires_in_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS)),
            new: &new,
            op_id,
        };
        let (order, replayed) = with_retry(|| async {
            let mut conn = self.store.conn().await?;
            let now = self.now();
            // A first look, outside any transaction. A refusal here is already exact: it sees
            // every committed hold, and what it cannot see (other buyers' holds in flight) only
            // lowers availability. So a sold-out variant turns buyers away without a write
            // transaction and without queueing them on its lock.
            let looked = match (look_up(&mut conn, &req.wanted, now).await, op_id) {
                (Err(e), None) => return Err(e),
                (looked, _) => looked,
            };
            let mut tx = conn.begin_write().await?;
            let result = self.create_in(&mut tx, &req, looked, now).await;
            // A refusal rolls back at once: the next buyer is waiting on these locks.
            tx.finish(result).await
        })
        .instrument(span)
        .await?;
        if !replayed {
            self.emit_order(&order);
        }
        Ok(order)
    }

    /// One attempt at `create_order` inside its transaction, given the first look at the
    /// variants; true if it replayed an `op_id`.
    ///
    /// Buyers of one variant queue on its product's lock, so the locked part is kept to one
    /// statement and the commit (as short as a bare `SELECT … FOR UPDATE` and `UPDATE`).
    async fn create_in(
        &self,
        tx: &mut Tx,
        req: &OrderRequest<'_>,
        looked: Result<BTreeMap<Uuid, LockedVariant>>,
        now: DateTime<Utc>,
    ) -> Result<(Order, bool)> {
        // A retried create answers as its first attempt did, even if stock ran out since.
        if let Some(op) = req.op_id {
            if let Claim::Done(id) = idempotency::claim::<Uuid>(tx, op, "create_order", now).await?
            {
                return Ok((self.load(tx, id).await?, true));
            }
        }
        let variants = looked?;

        // Then the lock every change to on-hand stock takes (products, in id order), and the
        // decisive check, written together with the order: one statement after the lock, so on
        // Postgres it sees everything committed until the lock was ours, judged by the clock
        // read after it. A refusal writes nothing.
        let products: BTreeSet<Uuid> = variants.values().map(|v| v.product_id).collect();
        crate::catalog::lock_products(tx, &products).await?;
        let now = self.now();
        let id = Uuid::now_v7();
        let until = now + req.window;
        let items: Vec<OrderItem> = (1..)
            .zip(&req.new.items)
            .map(|(line_no, line)| {
                let v = &variants[&line.variant_id];
                OrderItem {
                    id: Uuid::now_v7(),
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
                id: Uuid::now_v7(),
                order_item_id: i.id,
                variant_id: i.variant_id,
                quantity: i.quantity,
                reserved_until: until,
                status: ReservationStatus::Active,
                created_at: now,
                closed_at: None,
            })
            .collect();
        let order = Order {
            id,
            status: OrderStatus::Pending,
            overdue: false,
            payment_expires_at: until,
            created_at: now,
            created_by: self.actor.clone(),
            updated_at: now,
            updated_by: self.actor.clone(),
            paid_at: None,
            closed_at: None,
            totals: Money::totals(&items),
            items,
            reservations,
        };
        for (variant_id, available) in
            repo::reserve_if_available(tx, &order, &req.wanted, now).await?
        {
            let available = available.ok_or_else(|| Error::not_found("variant", variant_id))?;
            insufficient(variant_id, req.wanted[&variant_id], available)?;
        }
        if let Some(op) = req.op_id {
            idempotency::finish(tx, op, &id).await?;
        }
        Ok((order, false))
    }

    pub async fn get_order(&self, id: Uuid) -> Result<Order> {
        let span = tracing::debug_span!("get_order", order_id = %id);
        async {
            let mut tx = self.store.read().await?;
            self.load(&mut tx, id).await
        }
        .instrument(span)
        .await
    }

    /// Orders, newest first.
    pub async fn list_orders(&self, query: OrderQuery) -> Result<Vec<Order>> {
        let limit = query.limit.unwrap_or(50);
        let offset = query.offset.unwrap_or(0);
        if !(1..=1000).contains(&limit) {
            return Err(Error::validation("limit", "must be between 1 and 1000"));
        }
        if offset < 0 {
            return Err(Error::validation("offset", "must not be negative"));
        }
        let span = tracing::debug_span!("list_orders", status = ?query.status, limit, offset);
        async {
            let mut tx = self.store.read().await?;
            repo::list_orders(&mut tx, query.status, limit, offset, self.now()).await
        }
        .instrument(span)
        .await
    }

    /// Confirms payment: the reservations become a sale (a `sale` movement per variant, on hand
    /// drops). If the payment window has passed, the payment still succeeds when the stock is
    /// available, re-reserving it (`Hold::ReReserved`); otherwise `reservation_expired`.
    pub async fn pay_order(&self, id: Uuid) -> Result<PaymentOutcome> {
        let span = tracing::info_span!("pay_order", order_id = %id, actor = %self.actor);
        let outcome = with_retry(|| self.pay_once(id)).instrument(span).await?;
        self.emit_order(&outcome.order);
        Ok(outcome)
    }

    async fn pay_once(&self, id: Uuid) -> Result<PaymentOutcome> {
        let mut tx = self.store.write().await?;
        let order = repo::lock_order(&mut tx, id).await?;
        if matches!(order.status, OrderStatus::Paid | OrderStatus::Cancelled) {
            return Err(invalid_state(id, order.status, "pay"));
        }
        let wanted = repo::quantities(&mut tx, id).await?;
        let variants = repo::lock_variants(&mut tx, &wanted.keys().copied().collect()).await?;
        let now = self.now();
        let hold = if order.status == OrderStatus::Pending && order.payment_expires_at > now {
            // The hold is valid. On hand can still be short of it if a stock count found less
            // than was reserved: then the first order to pay gets what is there.
            for (&variant_id, &requested) in &wanted {
                insufficient(variant_id, requested, variants[&variant_id].stock_on_hand)?;
            }
            repo::close_reservations(&mut tx, id, ReservationStatus::Converted, now).await?;
            Hold::Original
        } else {
            if !self
                .can_hold_again(&mut tx, id, &wanted, &variants, now)
                .await?
            {
                return Err(Error::ReservationExpired { order_id: id });
            }
            if order.status == OrderStatus::Pending {
                // Nobody released the lapsed holds yet: they become the sale.
                repo::close_reservations(&mut tx, id, ReservationStatus::Converted, now).await?;
            } else {
                // The sweeper expired them; the sale takes the stock with new ones.
                repo::reserve_items(&mut tx, id, now, ReservationStatus::Converted, now).await?;
            }
            Hold::ReReserved
        };
        self.sell(&mut tx, id, &wanted, &variants, now).await?;
        if !repo::set_status(
            &mut tx,
            id,
            order.status,
            OrderStatus::Paid,
            &self.actor,
            now,
        )
        .await?
        {
            // The order row is locked by this transaction; a miss means the database let someone
            // in regardless, so start over on fresh data.
            return Err(Error::Busy);
        }
        let order = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(PaymentOutcome { order, hold })
    }

    /// Cancels a pending order and gives its stock back.
    pub async fn cancel_order(&self, id: Uuid) -> Result<Order> {
        let span = tracing::info_span!("cancel_order", order_id = %id, actor = %self.actor);
        let order = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let order = repo::lock_order(&mut tx, id).await?;
            if order.status != OrderStatus::Pending {
                return Err(invalid_state(id, order.status, "cancel"));
            }
            let now = self.now();
            repo::set_status(
                &mut tx,
                id,
                order.status,
                OrderStatus::Cancelled,
                &self.actor,
                now,
            )
            .await?;
            repo::close_reservations(&mut tx, id, ReservationStatus::Released, now).await?;
            let order = self.load(&mut tx, id).await?;
            tx.commit().await?;
            Ok(order)
        })
        .instrument(span)
        .await?;
        self.emit_order(&order);
        Ok(order)
    }

    /// Gives a pending order more time to pay. A window that already passed is reopened from now
    /// if the stock is still available (`Hold::ReReserved`), else `reservation_expired`.
    pub async fn extend_order(&self, id: Uuid, by: TimeDelta) -> Result<ExtendOutcome> {
        let span = tracing::info_span!(
            "extend_order", order_id = %id, by_secs = by.num_seconds(), actor = %self.actor
        );
        if by <= TimeDelta::zero() || by > TimeDelta::seconds(MAX_PAYMENT_WINDOW_SECS) {
            return Err(Error::validation(
                "by",
                format!("must be more than 0 and at most {MAX_PAYMENT_WINDOW_SECS} seconds"),
            ));
        }
        let outcome = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let order = repo::lock_order(&mut tx, id).await?;
            match order.status {
                OrderStatus::Pending => {}
                OrderStatus::Expired => return Err(Error::ReservationExpired { order_id: id }),
                status => return Err(invalid_state(id, status, "extend")),
            }
            let wanted = repo::quantities(&mut tx, id).await?;
            let variants = repo::lock_variants(&mut tx, &wanted.keys().copied().collect()).await?;
            let now = self.now();
            let (until, hold) = if order.payment_expires_at > now {
                (order.payment_expires_at + by, Hold::Original)
            } else if self
                .can_hold_again(&mut tx, id, &wanted, &variants, now)
                .await?
            {
                (now + by, Hold::ReReserved)
            } else {
                return Err(Error::ReservationExpired { order_id: id });
            };
            let until = micros(until);
            repo::set_deadline(&mut tx, id, until, &self.actor, now).await?;
            repo::extend_reservations(&mut tx, id, until).await?;
            let order = self.load(&mut tx, id).await?;
            tx.commit().await?;
            Ok(ExtendOutcome { order, hold })
        })
        .instrument(span)
        .await?;
        self.emit_order(&outcome.order);
        Ok(outcome)
    }

    /// Expires up to `limit` overdue pending orders and their reservations, in one transaction
    /// of three statements whatever the batch size: lock the batch, expire the orders, expire
    /// their reservations. Safe to run from several processes at once: each order and
    /// reservation is expired once.
    pub async fn expire_overdue_orders(&self, limit: i64) -> Result<ExpiryBatch> {
        let span = tracing::debug_span!("expire_overdue_orders", limit);
        let (batch, expired) = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.now();
            let locked = repo::lock_overdue(&mut tx, now, limit).await?;
            let expired = repo::expire_orders(&mut tx, &locked, &self.actor, now).await?;
            // Only the orders this batch moved: their reservations are ours to end.
            let reservations = repo::expire_reservations(&mut tx, &expired, now).await?;
            tx.commit().await?;
            let batch = ExpiryBatch {
                locked: locked.len() as i64,
                orders_expired: expired.len() as i64,
                reservations_expired: reservations as i64,
            };
            Ok((batch, expired))
        })
        .instrument(span)
        .await?;
        for id in expired {
            self.emit(ChangeEvent::Order { id });
        }
        Ok(batch)
    }

    async fn load(&self, tx: &mut Tx, id: Uuid) -> Result<Order> {
        repo::load_order(tx, id, self.now())
            .await?
            .ok_or_else(|| Error::not_found("order", id))
    }

    /// Whether a lapsed order's quantities fit in what is available now, besides its own holds.
    async fn can_hold_again(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        wanted: &BTreeMap<Uuid, i64>,
        variants: &BTreeMap<Uuid, LockedVariant>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        for (&variant_id, &requested) in wanted {
            let reserved = repo::reserved_now(tx, variant_id, now, Some(order_id)).await?;
            if requested > variants[&variant_id].stock_on_hand - reserved {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Takes sold stock off the shelf: on hand, a `sale` movement per variant, and a new version
    /// of each product concerned (so an open editor merges its stock figure as a delta).
    async fn sell(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        wanted: &BTreeMap<Uuid, i64>,
        variants: &BTreeMap<Uuid, LockedVariant>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut by_product: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        let reason = format!("order {order_id}");
        for (&variant_id, &quantity) in wanted {
            let v = &variants[&variant_id];
            let after = v.stock_on_hand - quantity;
            repo::set_on_hand(tx, variant_id, after, now).await?;
            ledger::record(
                tx,
                NewMovement {
                    variant_id,
                    kind: MovementKind::Sale,
                    quantity: -quantity,
                    on_hand_after: after,
                    actor: &self.actor,
                    reason: &reason,
                    order_id: Some(order_id),
                    at: now,
                },
            )
            .await?;
            by_product.entry(v.product_id).or_default().push(variant_id);
        }
        for (product_id, variant_ids) in by_product {
            crate::catalog::record_stock_change(tx, product_id, &variant_ids, &self.actor, now)
                .await?;
        }
        Ok(())
    }

    fn emit_order(&self, order: &Order) {
        self.emit(ChangeEvent::Order { id: order.id });
        let variants: BTreeSet<Uuid> = order.items.iter().map(|i| i.variant_id).collect();
        for variant_id in variants {
            self.emit(ChangeEvent::Stock { variant_id });
        }
    }
}

/// A checked `create_order` call, as each attempt sees it.
struct OrderRequest<'a> {
    new: &'a NewOrder,
    /// Quantity per variant (lines of a variant summed).
    wanted: BTreeMap<Uuid, i64>,
    window: TimeDelta,
    op_id: Option<Uuid>,
}

/// Checks a new order's shape; returns the quantity per variant (lines of a variant summed).
fn check_new_order(new: &NewOrder) -> Result<BTreeMap<Uuid, i64>> {
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

/// `insufficient_stock` if `requested` is more than `available`.
fn insufficient(variant_id: Uuid, requested: i64, available: i64) -> Result<()> {
    if requested > available {
        return Err(Error::InsufficientStock {
            variant_id,
            requested,
            available: available.max(0),
        });
    }
    Ok(())
}

/// The variants an order wants, read without locks; `insufficient_stock` if one of them is
/// already short as far as committed holds go.
async fn look_up(
    conn: &mut Conn,
    wanted: &BTreeMap<Uuid, i64>,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Uuid, LockedVariant>> {
    let mut variants = BTreeMap::new();
    for (&variant_id, &requested) in wanted {
        let v = repo::orderable_variant(conn, variant_id, now).await?;
        insufficient(variant_id, requested, v.variant.stock_on_hand - v.held)?;
        variants.insert(variant_id, v.variant);
    }
    Ok(variants)
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
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound;
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
