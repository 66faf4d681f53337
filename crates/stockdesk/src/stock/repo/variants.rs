//! The SQL of a variant's stock figures, as orders and stock changes read and lock them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::product_rows::{lock_product_of_variant, reserved_sql};
use crate::store::{Arg, Conn, Stmt, Tx};

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
        lock_product_of_variant(tx, only).await?;
        return lock_variant_rows(tx, variant_ids).await;
    }
    let mut products: BTreeMap<Uuid, Uuid> = BTreeMap::new();
    for &id in variant_ids {
        let product: Option<Uuid> = Stmt::new("SELECT product_id FROM variants WHERE id = $1")
            .arg(id)
            .scalar_optional(tx)
            .await?;
        let product = product.ok_or_else(|| Error::not_found("variant", id))?;
        products.entry(product).or_insert(id);
    }
    for variant_id in products.values() {
        lock_product_of_variant(tx, *variant_id).await?;
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
        let row: Option<LockedVariant> = Stmt::new(sql.as_str()).arg(id).fetch_optional(tx).await?;
        // Deleted between the look-up and the lock.
        out.insert(id, row.ok_or_else(|| Error::not_found("variant", id))?);
    }
    Ok(out)
}

/// Units of `variant_id` reserved at `now` (see `reserved_sql`). An order asking to hold its
/// stock again has only lapsed holds of its own (its window passed), which count for nothing.
pub async fn reserved_now(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<i64> {
    Ok(figures(tx, variant_id, now).await?.figures.reserved)
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
    let rows: Vec<OrderableVariant> = s.fetch(conn).await?;
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
pub async fn figures(tx: &mut Tx, variant_id: Uuid, now: DateTime<Utc>) -> Result<VariantFigures> {
    let sql = format!(
        "SELECT v.product_id, v.sku, v.stock_on_hand, v.held, {} AS reserved \
         FROM variants v WHERE v.id = $1",
        reserved_sql("$2")
    );
    let row: Option<VariantFigures> = Stmt::new(sql)
        .arg(variant_id)
        .arg(now)
        .fetch_optional(tx)
        .await?;
    row.ok_or_else(|| Error::not_found("variant", variant_id))
}

/// One variant's product, SKU and figures.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VariantFigures {
    pub product_id: Uuid,
    pub sku: String,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// Sets a variant's on-hand figure (the caller has locked it and writes the movement).
pub async fn set_on_hand(
    tx: &mut Tx,
    variant_id: Uuid,
    on_hand: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    Stmt::new(
        "UPDATE variants SET stock_on_hand = $2, version = version + 1, updated_at = $3 \
         WHERE id = $1",
    )
    .arg(variant_id)
    .arg(on_hand)
    .arg(now)
    .run(tx)
    .await?;
    Ok(())
}
