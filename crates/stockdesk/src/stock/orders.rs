//! Orders and their reservations: create (reserve), pay (sell), cancel (release), extend, expire.
//!
//! Concurrency, in one place:
//! - Reserving is one atomic step per order: the products and then the variants concerned are
//!   locked in id order (`repo::lock_variants`), availability is computed from the reservations
//!   table under those locks, and the reservations are inserted before the locks go. On SQLite
//!   the write transaction (`BEGIN IMMEDIATE`) is the lock.
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
use crate::store::{with_retry, Tx};
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
        let wanted = check_new_order(&new)?;
        let window = TimeDelta::seconds(new.expires_in_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS));
        let (id, replayed) = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let result = async {
                if let Some(op) = op_id {
                    let claimed =
                        idempotency::claim::<Uuid>(&mut tx, op, "create_order", self.now());
                    if let Claim::Done(id) = claimed.await? {
                        return Ok((id, true));
                    }
                }
                let variants =
                    repo::lock_variants(&mut tx, &wanted.keys().copied().collect()).await?;
                let now = self.now();
                for (&variant_id, &requested) in &wanted {
                    let on_hand = variants[&variant_id].stock_on_hand;
                    let available =
                        on_hand - repo::reserved_now(&mut tx, variant_id, now, None).await?;
                    if requested > available {
                        return Err(Error::InsufficientStock {
                            variant_id,
                            requested,
                            available: available.max(0),
                        });
                    }
                }
                let id = Uuid::now_v7();
                repo::insert_order(&mut tx, id, now + window, &self.actor, now).await?;
                for (n, item) in new.items.iter().enumerate() {
                    let row = repo::NewItemRow {
                        id: Uuid::now_v7(),
                        order_id: id,
                        line_no: n as i64 + 1,
                        variant: &variants[&item.variant_id],
                        quantity: item.quantity,
                    };
                    repo::insert_item(&mut tx, row).await?;
                }
                repo::reserve_items(&mut tx, id, now + window, ReservationStatus::Active, now)
                    .await?;
                if let Some(op) = op_id {
                    idempotency::finish(&mut tx, op, &id).await?;
                }
                Ok((id, false))
            }
            .await;
            // A refusal rolls back at once: the next buyer is waiting on these locks.
            tx.finish(result).await
        })
        .instrument(span.clone())
        .await?;
        // Read back after the commit, so other buyers of these variants do not wait for it.
        let order = self.get_order(id).instrument(span).await?;
        if !replayed {
            self.emit_order(&order);
        }
        Ok(order)
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
                let on_hand = variants[&variant_id].stock_on_hand;
                if requested > on_hand {
                    return Err(Error::InsufficientStock {
                        variant_id,
                        requested,
                        available: on_hand,
                    });
                }
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
