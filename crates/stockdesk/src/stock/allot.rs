//! Terminal allotments: units of a variant held on the shop for one terminal, so that it can sell
//! them while offline with certainty (docs/orders.md, "Allotments").
//!
//! An allotment is a hold: its units count in the variant's `held` counter, changed in the same
//! transaction as the allotment, so every rule that keeps buyers off held units (`stock_on_hand -
//! held`) keeps them off allotted ones, and `check` verifies held = active order holds + active
//! allotments. Every change locks the variant (product, then variant) before the allotment row,
//! in the core's one lock order.
//!
//! A till's order (`till_order`) takes its units from the till's allotment first (they are held
//! for it already: no other buyer can have taken them), then from free stock. What neither
//! covers — the allotment was revoked meanwhile, or a "sell anyway" sale went beyond it — is
//! still recorded (the goods are gone) and becomes an oversell exception (`exceptions`): the
//! line's hold covers the rest of the line, never a negative figure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::repo;
use crate::ctx::{Ctx, Op};
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{idempotency, with_retry, Session, Stmt, Tx};

/// The shop setting that lets a till sell beyond its allotment offline, for counter sales.
pub const SELL_ANYWAY: &str = "counter_sell_anyway";

#[derive(sqlx::FromRow)]
struct Row {
    terminal_id: Uuid,
    terminal: Option<String>,
    variant_id: Uuid,
    sku: Option<String>,
    units: i64,
    status: String,
    updated_at: DateTime<Utc>,
    updated_by: String,
    revoked_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_allotment(self) -> Result<Allotment> {
        Ok(Allotment {
            status: AllotmentStatus::parse(&self.status).ok_or_else(|| {
                Error::Internal(format!("unknown allotment status {:?}", self.status))
            })?,
            terminal_id: self.terminal_id,
            terminal: self.terminal,
            variant_id: self.variant_id,
            sku: self.sku,
            units: self.units,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
            revoked_at: self.revoked_at,
        })
    }
}

/// Every allotment (of one terminal when given), by terminal name and SKU. A replica names the
/// terminals it knows: itself.
pub async fn list(on: &mut impl Session, terminal: Option<Uuid>) -> Result<Vec<Allotment>> {
    let rows: Vec<Row> = Stmt::new(
        "SELECT a.terminal_id, COALESCE(t.name, (SELECT r.terminal_name FROM sync_replica r \
         WHERE r.terminal_id = a.terminal_id)) AS terminal, a.variant_id, v.sku, a.units, \
         a.status, a.updated_at, a.updated_by, a.revoked_at FROM allotments a \
         LEFT JOIN sync_terminals t ON t.id = a.terminal_id \
         LEFT JOIN variants v ON v.id = a.variant_id \
         WHERE ($1 IS NULL OR a.terminal_id = $1) \
         ORDER BY terminal, a.terminal_id, v.sku, a.variant_id",
    )
    .arg(terminal)
    .fetch(on)
    .await?;
    rows.into_iter().map(Row::into_allotment).collect()
}

/// The units terminal `terminal_id` holds of `variant_id` now (0 when none, or revoked).
pub async fn units_of(on: &mut impl Session, terminal_id: Uuid, variant_id: Uuid) -> Result<i64> {
    Ok(row(on, terminal_id, variant_id)
        .await?
        .filter(|(_, s)| *s == AllotmentStatus::Active)
        .map_or(0, |(u, _)| u))
}

async fn row(
    on: &mut impl Session,
    terminal_id: Uuid,
    variant_id: Uuid,
) -> Result<Option<(i64, AllotmentStatus)>> {
    #[derive(sqlx::FromRow)]
    struct Found {
        units: i64,
        status: String,
    }
    let r: Option<Found> = Stmt::new(
        "SELECT units, status FROM allotments WHERE terminal_id = $1 AND variant_id = $2",
    )
    .arg(terminal_id)
    .arg(variant_id)
    .fetch_optional(on)
    .await?;
    Ok(r.map(|r| {
        let status = AllotmentStatus::parse(&r.status).unwrap_or(AllotmentStatus::Revoked);
        (r.units, status)
    }))
}

/// The terminal called `name` on the shop: a live one (`live`), or else the latest to carry it
/// (a revocation may come after the terminal was marked gone).
async fn terminal_named(tx: &mut Tx, name: &str, live: bool) -> Result<Uuid> {
    let id: Option<Uuid> = Stmt::new(
        "SELECT id FROM sync_terminals WHERE lower(name) = lower($1) \
         AND ($2 = 0 OR left_at IS NULL) \
         ORDER BY CASE WHEN left_at IS NULL THEN 0 ELSE 1 END, joined_at DESC LIMIT 1",
    )
    .arg(name.trim())
    .arg(i64::from(live))
    .scalar_optional(tx)
    .await?;
    id.ok_or_else(|| Error::not_found("terminal", name.trim()))
}

/// Sets the allotment's units (active again if it was revoked) and moves the variant's `held`
/// counter by `delta`. The caller has locked the variant.
async fn set_units(
    tx: &mut Tx,
    op_actor: &str,
    now: DateTime<Utc>,
    terminal_id: Uuid,
    variant_id: Uuid,
    units: i64,
    delta: i64,
) -> Result<()> {
    Stmt::new(
        "INSERT INTO allotments (terminal_id, variant_id, units, status, updated_at, updated_by) \
         VALUES ($1, $2, $3, 'active', $4, $5) ON CONFLICT (terminal_id, variant_id) DO UPDATE \
         SET units = excluded.units, status = 'active', updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by, revoked_at = NULL",
    )
    .arg(terminal_id)
    .arg(variant_id)
    .arg(units)
    .arg(now)
    .arg(op_actor)
    .run(tx)
    .await?;
    add_held(tx, variant_id, delta).await
}

async fn add_held(tx: &mut Tx, variant_id: Uuid, delta: i64) -> Result<()> {
    if delta != 0 {
        Stmt::new("UPDATE variants SET held = held + $2 WHERE id = $1")
            .arg(variant_id)
            .arg(delta)
            .run(tx)
            .await?;
    }
    Ok(())
}

/// Units a new hold can take of a locked variant: on hand less everything held.
pub(super) async fn free_now(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<i64> {
    let f = repo::figures(tx, variant_id, now).await?.figures;
    Ok((f.stock_on_hand - f.held).max(0))
}

/// Sets terminal `terminal`'s allotment of `variant_id` to `units`: an increase comes out of free
/// stock and is refused (`insufficient_stock`, with what it could be at most) when free stock
/// cannot cover it; a decrease goes back to free stock.
pub async fn allot(
    tx: &mut Tx,
    op: &Op<'_>,
    terminal: &str,
    variant_id: Uuid,
    units: i64,
) -> Result<Vec<Allotment>> {
    if !(0..=MAX_STOCK).contains(&units) {
        return Err(Error::validation(
            "units",
            format!("must be a whole number from 0 to {MAX_STOCK}"),
        ));
    }
    let terminal_id = terminal_named(tx, terminal, true).await?;
    repo::lock_variants(tx, &BTreeSet::from([variant_id])).await?;
    let current = units_of(tx, terminal_id, variant_id).await?;
    let delta = units - current;
    if delta > 0 {
        let free = free_now(tx, variant_id, op.now).await?;
        if delta > free {
            return Err(Error::InsufficientStock {
                variant_id,
                requested: units,
                available: current + free,
            });
        }
    }
    set_units(tx, op.actor, op.now, terminal_id, variant_id, units, delta).await?;
    Ok(list(tx, Some(terminal_id))
        .await?
        .into_iter()
        .filter(|a| a.variant_id == variant_id)
        .collect())
}

/// Revokes terminal `terminal`'s active allotments (of `variant_id` only, when given): their
/// units go back to free stock now, and the rows stay, revoked, so that a sale the terminal
/// pushes later from them is recognised (an oversell exception of kind `revoked_allotment`).
pub async fn revoke(
    tx: &mut Tx,
    op: &Op<'_>,
    terminal: &str,
    variant_id: Option<Uuid>,
) -> Result<Vec<Allotment>> {
    let terminal_id = terminal_named(tx, terminal, false).await?;
    let variants: BTreeSet<Uuid> = Stmt::new(
        "SELECT variant_id FROM allotments WHERE terminal_id = $1 AND status = 'active' \
         AND ($2 IS NULL OR variant_id = $2)",
    )
    .arg(terminal_id)
    .arg(variant_id)
    .scalars::<Uuid>(tx)
    .await?
    .into_iter()
    .collect();
    if let (Some(v), true) = (variant_id, variants.is_empty()) {
        return Err(Error::not_found("allotment", format!("{terminal}/{v}")));
    }
    if !variants.is_empty() {
        repo::lock_variants(tx, &variants).await?;
    }
    for &v in &variants {
        let units = units_of(tx, terminal_id, v).await?;
        Stmt::new(
            "UPDATE allotments SET units = 0, status = 'revoked', revoked_at = $3, \
             updated_at = $3, updated_by = $4 WHERE terminal_id = $1 AND variant_id = $2",
        )
        .arg(terminal_id)
        .arg(v)
        .arg(op.now)
        .arg(op.actor)
        .run(tx)
        .await?;
        add_held(tx, v, -units).await?;
    }
    Ok(list(tx, Some(terminal_id))
        .await?
        .into_iter()
        .filter(|a| variants.contains(&a.variant_id))
        .collect())
}

/// Sets (or, with None, removes) the policy "keep `keep_units` at each till" for a variant.
pub async fn set_policy(
    tx: &mut Tx,
    op: &Op<'_>,
    variant_id: Uuid,
    keep_units: Option<i64>,
) -> Result<AllotmentPolicy> {
    if keep_units.is_some_and(|n| !(0..=MAX_STOCK).contains(&n)) {
        return Err(Error::validation(
            "keep_units",
            format!("must be a whole number from 0 to {MAX_STOCK}"),
        ));
    }
    repo::figures(tx, variant_id, op.now).await?;
    match keep_units {
        Some(n) => {
            Stmt::new(
                "INSERT INTO allotment_policies (variant_id, keep_units, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (variant_id) DO UPDATE SET \
                 keep_units = excluded.keep_units, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .arg(variant_id)
            .arg(n)
            .arg(op.now)
            .arg(op.actor)
            .run(tx)
            .await?;
        }
        None => {
            Stmt::new("DELETE FROM allotment_policies WHERE variant_id = $1")
                .arg(variant_id)
                .run(tx)
                .await?;
        }
    }
    Ok(AllotmentPolicy {
        variant_id,
        keep_units,
    })
}

/// Every policy, by variant.
pub async fn policies(on: &mut impl Session) -> Result<Vec<AllotmentPolicy>> {
    #[derive(sqlx::FromRow)]
    struct Found {
        variant_id: Uuid,
        keep_units: i64,
    }
    let rows: Vec<Found> =
        Stmt::new("SELECT variant_id, keep_units FROM allotment_policies ORDER BY variant_id")
            .fetch(on)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| AllotmentPolicy {
            variant_id: r.variant_id,
            keep_units: Some(r.keep_units),
        })
        .collect())
}

pub async fn set_sell_anyway(tx: &mut Tx, on: bool) -> Result<bool> {
    Stmt::new(
        "INSERT INTO shop_settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .arg(SELL_ANYWAY)
    .arg(if on { "true" } else { "false" })
    .run(tx)
    .await?;
    Ok(on)
}

/// Whether the shop lets a till's counter sale go beyond its allotment offline.
pub async fn sell_anyway(on: &mut impl Session) -> Result<bool> {
    let v: Option<String> = Stmt::new("SELECT value FROM shop_settings WHERE key = $1")
        .arg(SELL_ANYWAY)
        .scalar_optional(on)
        .await?;
    Ok(v.as_deref() == Some("true"))
}

/// On the shop, when terminal `terminal_id` syncs: each variant with a policy has the terminal's
/// allotment brought to the policy's figure — topped up from free stock as far as it goes, or
/// handed back. One transaction per variant (each locks that variant alone, so no lock order
/// across variants is at stake). A revoked allotment is left alone: a manager revoked it.
/// Returns the variants it changed.
pub async fn right_size(ctx: &Ctx, terminal_id: Uuid, actor: &str) -> Result<Vec<Uuid>> {
    let policies = policies(&mut ctx.store.conn().await?).await?;
    let mut changed = Vec::new();
    for p in policies {
        let keep = p.keep_units.unwrap_or(0);
        let moved = with_retry(|| async {
            let mut tx = ctx.store.write().await?;
            let r = async {
                idempotency::begin_system_write(&mut tx).await?;
                let now = ctx.now();
                let live: bool = Stmt::new(
                    "SELECT COUNT(*) FROM sync_terminals WHERE id = $1 AND left_at IS NULL",
                )
                .arg(terminal_id)
                .counts_any(&mut tx)
                .await?;
                if !live {
                    return Ok(false);
                }
                repo::lock_variants(&mut tx, &BTreeSet::from([p.variant_id])).await?;
                let current = match row(&mut tx, terminal_id, p.variant_id).await? {
                    Some((_, AllotmentStatus::Revoked)) => return Ok(false),
                    Some((u, AllotmentStatus::Active)) => u,
                    None => 0,
                };
                let delta = if keep < current {
                    keep - current
                } else {
                    (keep - current).min(free_now(&mut tx, p.variant_id, now).await?)
                };
                if delta == 0 {
                    return Ok(false);
                }
                set_units(
                    &mut tx,
                    actor,
                    now,
                    terminal_id,
                    p.variant_id,
                    current + delta,
                    delta,
                )
                .await?;
                let events = [ChangeEvent::Stock {
                    variant_id: p.variant_id,
                }];
                idempotency::finish_system_write(
                    &mut tx,
                    "right_size_allotments",
                    actor,
                    &events,
                    now,
                )
                .await?;
                Ok(true)
            }
            .await;
            tx.finish(r).await
        })
        .await?;
        if moved {
            changed.push(p.variant_id);
        }
    }
    Ok(changed)
}

/// Where a till order's units of one variant come from.
struct Cover {
    from_allotment: i64,
    from_free: i64,
    short: i64,
    kind: ExceptionKind,
}

/// An order terminal `terminal_id` took from its allotment (`paid`: sold at once). On the
/// terminal's replica (`strict`), an order beyond the allotment is refused (`beyond_allotment`)
/// unless it is a paid counter sale and the shop lets those go beyond it. On the shop it is
/// never refused for stock: it takes the allotment first, then free stock, and what neither
/// covers becomes an oversell exception.
pub async fn till_order(
    tx: &mut Tx,
    op: &Op<'_>,
    terminal_id: Uuid,
    new: &NewOrder,
    paid: bool,
    strict: bool,
) -> Result<Order> {
    let wanted = super::reserve::check_new_order(new)?;
    let variants = repo::lock_variants(tx, &wanted.keys().copied().collect()).await?;
    let anyway = paid && sell_anyway(tx).await?;
    let mut cover: BTreeMap<Uuid, Cover> = BTreeMap::new();
    for (&variant_id, &q) in &wanted {
        let (allotted, kind) = match row(tx, terminal_id, variant_id).await? {
            Some((u, AllotmentStatus::Active)) => (u, ExceptionKind::Short),
            Some((_, AllotmentStatus::Revoked)) => (0, ExceptionKind::RevokedAllotment),
            None => (0, ExceptionKind::Short),
        };
        let from_allotment = q.min(allotted);
        let rest = q - from_allotment;
        if strict && rest > 0 && !anyway {
            return Err(Error::BeyondAllotment {
                variant_id,
                requested: q,
                allotted,
                reason: "orders beyond it are decided by the shop's server, which this terminal \
                         cannot reach now"
                    .into(),
            });
        }
        let from_free = rest.min(free_now(tx, variant_id, op.now).await?);
        cover.insert(
            variant_id,
            Cover {
                from_allotment,
                from_free,
                short: rest - from_free,
                kind,
            },
        );
    }
    let window = TimeDelta::seconds(new.expires_in_secs.unwrap_or(DEFAULT_PAYMENT_WINDOW_SECS));
    let mut order = super::reserve::build_order(op, new, window, &variants)?;
    // Units short are owed by the first lines of their variant: a line holds what is left.
    let mut owed: BTreeMap<Uuid, i64> = cover.iter().map(|(&v, c)| (v, c.short)).collect();
    let mut exceptions = Vec::new();
    for item in &order.items {
        let left = owed.entry(item.variant_id).or_default();
        let short = item.quantity.min(*left);
        *left -= short;
        if short > 0 {
            exceptions.push(OversellException {
                id: op.new_id(),
                order_id: order.id,
                order_item_id: item.id,
                variant_id: item.variant_id,
                terminal_id,
                units: short,
                kind: cover[&item.variant_id].kind,
                created_at: op.now,
                resolved_at: None,
                resolution: None,
                resolved_by: None,
                cancelled_order_id: None,
                note: None,
            });
        }
    }
    let short_of = |item_id: Uuid| -> i64 {
        exceptions
            .iter()
            .filter(|e| e.order_item_id == item_id)
            .map(|e| e.units)
            .sum()
    };
    let lines: BTreeMap<Uuid, i64> = order
        .items
        .iter()
        .map(|i| (i.id, i.quantity - short_of(i.id)))
        .collect();
    order.reservations.retain_mut(|r| {
        r.quantity = lines[&r.order_item_id];
        r.quantity > 0
    });
    repo::insert_till_order(tx, &order, terminal_id).await?;
    for (&variant_id, c) in &cover {
        if c.from_allotment > 0 {
            // Held for this terminal already: the units move from its allotment to the order's
            // hold, and `held` stays as it is.
            Stmt::new(
                "UPDATE allotments SET units = units - $3, updated_at = $4 \
                 WHERE terminal_id = $1 AND variant_id = $2",
            )
            .arg(terminal_id)
            .arg(variant_id)
            .arg(c.from_allotment)
            .arg(op.now)
            .run(tx)
            .await?;
        }
        add_held(tx, variant_id, c.from_free).await?;
    }
    for e in &exceptions {
        super::exceptions::insert(tx, e, op.id).await?;
        tracing::warn!(
            order_id = %e.order_id, variant_id = %e.variant_id, units = e.units,
            kind = e.kind.as_str(), "oversell exception recorded"
        );
    }
    if paid {
        return Ok(super::orders::pay_order(tx, op, order.id).await?.order);
    }
    repo::load_order(tx, order.id, op.now)
        .await?
        .ok_or_else(|| Error::not_found("order", order.id))
}

/// The terminal whose allotment an order was taken from, if it was.
pub async fn terminal_of_order(on: &mut impl Session, order_id: Uuid) -> Result<Option<Uuid>> {
    let t: Option<Option<Uuid>> = Stmt::new("SELECT terminal_id FROM orders WHERE id = $1")
        .arg(order_id)
        .scalar_optional(on)
        .await?;
    Ok(t.flatten())
}

/// After a till's order was cancelled: the units its holds gave back (`released`, per variant)
/// go to the terminal's allotment again where it is still active (the till can sell them
/// offline again); `held` is unchanged for those.
pub(super) async fn give_back(
    tx: &mut Tx,
    terminal_id: Uuid,
    released: &BTreeMap<Uuid, i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    for (&variant_id, &units) in released {
        let n = Stmt::new(
            "UPDATE allotments SET units = units + $3, updated_at = $4 \
             WHERE terminal_id = $1 AND variant_id = $2 AND status = 'active'",
        )
        .arg(terminal_id)
        .arg(variant_id)
        .arg(units)
        .arg(now)
        .run(tx)
        .await?;
        if n == 1 {
            add_held(tx, variant_id, units).await?;
        }
    }
    Ok(())
}
