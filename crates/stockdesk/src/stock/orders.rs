//! Orders and their reservations: create (reserve), pay (sell), cancel (release), extend, expire.
//!
//! Concurrency, in one place:
//! - Reserving: a first look without locks turns away buyers that committed holds already leave
//!   short (exactly: it ignores lapsed holds). The decisive check is on the variant rows: an
//!   order takes its units on a row's `held` counter only where `stock_on_hand - held` leaves
//!   enough, and its order, lines and holds are written with it or not at all. Orders of one
//!   variant (without an op id) share turns at its row (`combine`): one statement and one
//!   commit for all that arrived meanwhile, which on Postgres runs outside any transaction, so
//!   the row lock lasts only while it runs and commits. Orders of several variants lock them in
//!   id order first, in a transaction. On SQLite the write transaction (`BEGIN IMMEDIATE`) is
//!   the lock.
//! - The counter includes lapsed holds nobody expired yet. When only they stand in the way, the
//!   order expires their orders first (as the sweeper would), then looks again.
//! - Payment, cancellation, extension and the sweeper all lock the order row first: whoever gets
//!   it decides the order's fate, the others see the new status. Every status change and every
//!   reservation change is also conditional on the old status, so each happens at most once.
//! - Lock order everywhere: order, then products, then variants (in id order), then
//!   reservations. Orders lock only variants; edits that lower stock lock their product's
//!   variants before they read what is held, so neither misses the other's commit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use uuid::Uuid;

use super::combine::Outcome;
use super::ledger::{self, MovementKind, NewMovement};
use super::model::*;
use super::repo::{self, LockedVariant, OrderableVariant};
use crate::catalog::MAX_STOCK;
use crate::error::{Error, FieldError, Result};
use crate::store::idempotency::{self, Claim};
use crate::store::{with_retry, Conn, Stmt, Tx};
use crate::{ChangeEvent, Stockdesk};

/// Looks one `create_order` attempt takes at most while other buyers keep taking the units
/// between its look and its reservation (each lost race means someone else got them).
const MAX_LOOKS: usize = 16;
/// Lapsed orders an order expires in one go when their holds stand in its way.
const MAX_EXPIRY_BATCH: i64 = 1_000;

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
        let (order, replayed) = with_retry(|| self.create_attempt(&req))
            .instrument(span)
            .await?;
        if !replayed {
            self.emit_order(&order);
        }
        Ok(order)
    }

    /// Looks, then reserves; a buyer who loses the race for the last units between the two looks
    /// again, so a refusal always comes from a look at committed stock. `Busy` (retried by the
    /// caller, with backoff) if that keeps happening, or if lapsed holds in the way are being
    /// paid or extended by someone else right now.
    async fn create_attempt(&self, req: &OrderRequest<'_>) -> Result<(Order, bool)> {
        for _ in 0..MAX_LOOKS {
            let mut conn = self.store.conn().await?;
            let now = self.now();
            // A first look, outside any transaction. A refusal here is exact: it sees every
            // committed hold and ignores lapsed ones, and what it cannot see (other buyers'
            // holds in flight) only lowers availability. So a sold-out variant turns buyers
            // away without queueing them on its row lock.
            let looked = look_up(&mut conn, &req.wanted, now).await;
            if let Ok(variants) = &looked {
                if lapsed_in_the_way(variants, &req.wanted) {
                    // Enough is available, but only counting holds whose time has passed, which
                    // the counter the decisive check reads still includes: expire them first.
                    drop(conn);
                    let of: BTreeSet<Uuid> = req.wanted.keys().copied().collect();
                    if self
                        .expire_batch(MAX_EXPIRY_BATCH, Some(&of))
                        .await?
                        .0
                        .orders_expired
                        == 0
                    {
                        return Err(Error::Busy);
                    }
                    continue;
                }
            }
            let looked = match (looked, req.op_id) {
                // A retried create answers as its first attempt did, even if stock ran out since.
                (Err(e), None) => return Err(e),
                (looked, _) => {
                    looked.map(|l| l.into_iter().map(|(id, v)| (id, v.variant)).collect())
                }
            };
            if let Some(done) = self.reserve_order(conn, req, looked).await? {
                return Ok(done);
            }
        }
        Err(Error::Busy)
    }

    /// Writes the order and takes its units if they are still there; None if another buyer took
    /// them since the look. The usual order (one variant, no op id) goes in with the others of
    /// its variant that arrive meanwhile (`stock::combine`); the rest take a write transaction.
    async fn reserve_order(
        &self,
        conn: Conn,
        req: &OrderRequest<'_>,
        looked: Result<BTreeMap<Uuid, LockedVariant>>,
    ) -> Result<Option<(Order, bool)>> {
        let order = looked.map(|variants| self.new_order(req, &variants));
        if let (None, [&variant_id]) = (req.op_id, &req.wanted.keys().collect::<Vec<_>>()[..]) {
            let order = order?;
            return match self
                .combiner
                .reserve(conn, &self.store, variant_id, order)
                .await
            {
                Some((order, Outcome::Served)) => Ok(Some((order, false))),
                Some((order, Outcome::Failed)) => {
                    let mut conn = self.store.conn().await?;
                    let served =
                        repo::reserve_for_variant(&mut conn, variant_id, &[&order]).await?;
                    Ok(served.contains(&order.id).then_some((order, false)))
                }
                Some((_, Outcome::NotServed)) | None => Ok(None),
            };
        }
        let mut tx = conn.begin_write().await?;
        let result = async {
            if let Some(op) = req.op_id {
                if let Claim::Done(id) =
                    idempotency::claim::<Uuid>(&mut tx, op, "create_order", self.now()).await?
                {
                    return Ok(Some((self.load(&mut tx, id).await?, true)));
                }
            }
            let order = order?;
            if req.wanted.len() > 1 {
                let ids = Stmt::ids_in("id", req.wanted.keys().copied());
                tx.lock_rows("variants", ids).await?;
            }
            if !repo::reserve(&mut tx, &order, &req.wanted).await? {
                return Ok(None);
            }
            if let Some(op) = req.op_id {
                idempotency::finish(&mut tx, op, &order.id).await?;
            }
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
    fn new_order(&self, req: &OrderRequest<'_>, variants: &BTreeMap<Uuid, LockedVariant>) -> Order {
        let now = self.now();
        let id = Uuid::now_v7();
        let until = micros(now + req.window);
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
        Order {
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
        }
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
            repo::close_holds(&mut tx, &[id], ReservationStatus::Converted, now).await?;
            Hold::Original
        } else {
            if !self
                .can_hold_again(&mut tx, &wanted, &variants, now)
                .await?
            {
                return Err(Error::ReservationExpired { order_id: id });
            }
            if order.status == OrderStatus::Pending {
                // Nobody released the lapsed holds yet: they become the sale.
                repo::close_holds(&mut tx, &[id], ReservationStatus::Converted, now).await?;
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
            repo::close_holds(&mut tx, &[id], ReservationStatus::Released, now).await?;
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
                .can_hold_again(&mut tx, &wanted, &variants, now)
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
    /// of a few statements whatever the batch size: lock the batch, expire the orders, end their
    /// holds. Safe to run from several processes at once: each order and reservation is expired
    /// once.
    pub async fn expire_overdue_orders(&self, limit: i64) -> Result<ExpiryBatch> {
        let span = tracing::debug_span!("expire_overdue_orders", limit);
        Ok(self.expire_batch(limit, None).instrument(span).await?.0)
    }

    /// `expire_overdue_orders`, of the orders with lapsed holds of `holding` only when given (an
    /// order those holds stand in the way of); also returns the orders it expired.
    async fn expire_batch(
        &self,
        limit: i64,
        holding: Option<&BTreeSet<Uuid>>,
    ) -> Result<(ExpiryBatch, Vec<Uuid>)> {
        let (batch, expired) = with_retry(|| async {
            let mut tx = self.store.write().await?;
            let now = self.now();
            let locked = repo::lock_overdue(&mut tx, now, limit, holding).await?;
            let expired = repo::expire_orders(&mut tx, &locked, &self.actor, now).await?;
            // Only the orders this batch moved: their reservations are ours to end.
            let reservations =
                repo::close_holds(&mut tx, &expired, ReservationStatus::Expired, now).await?;
            tx.commit().await?;
            let batch = ExpiryBatch {
                locked: locked.len() as i64,
                orders_expired: expired.len() as i64,
                reservations_expired: reservations as i64,
            };
            Ok((batch, expired))
        })
        .await?;
        for id in &expired {
            self.emit(ChangeEvent::Order { id: *id });
        }
        Ok((batch, expired))
    }

    async fn load(&self, tx: &mut Tx, id: Uuid) -> Result<Order> {
        repo::load_order(tx, id, self.now())
            .await?
            .ok_or_else(|| Error::not_found("order", id))
    }

    /// Whether a lapsed order's quantities fit in what is available now. Its own holds have
    /// lapsed, so they count for nothing in what is reserved.
    async fn can_hold_again(
        &self,
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
