//! A product's rows as one unit: loading it (variants, attributes, images), locking it, its
//! compare-and-set, and its history (a snapshot per version).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{HistoryEntry, Image, Product, ProductStatus, Variant};
use crate::store::{Arg, Batch, Prelude, Stmt, Tx};

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    name: String,
    slug: String,
    description: String,
    status: String,
    category_id: Option<Uuid>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

/// A variant with one of its attributes (none: both `None`); a variant spans as many rows as it
/// has attributes.
#[derive(sqlx::FromRow)]
struct VariantRow {
    id: Uuid,
    sku: String,
    barcode: Option<String>,
    price_minor: i64,
    currency: String,
    stock_on_hand: i64,
    position: i64,
    version: i64,
    attr_name: Option<String>,
    attr_value: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: Uuid,
    blob_key: String,
    thumb_key: Option<String>,
    alt: String,
    position: i64,
    is_thumbnail: bool,
    version: i64,
}

const PRODUCT_COLUMNS: &str = "id, name, slug, description, status, category_id, version, \
     created_at, updated_at, updated_by";

/// Loads a product with its variants and images. With `lock`, the product row stays locked until
/// the transaction ends (Postgres; SQLite's write transaction already excludes other writers).
pub async fn load_product(tx: &mut Tx, id: Uuid) -> Result<Option<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1");
    let row: Option<ProductRow> = Stmt::new(sql).arg(id).fetch_optional(tx).await?;
    let Some(row) = row else { return Ok(None) };

    // Variants and their attributes in one round trip: loading is on every edit's path, under
    // the product's lock.
    let rows: Vec<VariantRow> = Stmt::new(
        "SELECT v.id, v.sku, v.barcode, v.price_minor, v.currency, v.stock_on_hand, v.position, v.version, \
         a.name AS attr_name, av.value AS attr_value FROM variants v \
         LEFT JOIN variant_attributes va ON va.variant_id = v.id \
         LEFT JOIN attributes a ON a.id = va.attribute_id \
         LEFT JOIN attribute_values av ON av.id = va.value_id \
         WHERE v.product_id = $1 ORDER BY v.position, v.id",
    )
    .arg(id)
    .fetch(tx)
    .await?;
    let images: Vec<ImageRow> = Stmt::new(
        "SELECT id, blob_key, thumb_key, alt, position, is_thumbnail, version \
         FROM images WHERE product_id = $1 ORDER BY position, id",
    )
    .arg(id)
    .fetch(tx)
    .await?;

    let mut variants: Vec<Variant> = Vec::new();
    for v in rows {
        if variants.last().map(|last| last.id) != Some(v.id) {
            variants.push(Variant {
                attributes: BTreeMap::new(),
                id: v.id,
                sku: v.sku,
                barcode: v.barcode,
                price_minor: v.price_minor,
                currency: v.currency,
                stock_on_hand: v.stock_on_hand,
                position: v.position,
                version: v.version,
            });
        }
        if let (Some(name), Some(value)) = (v.attr_name, v.attr_value) {
            let last = variants.last_mut().expect("pushed above");
            last.attributes.insert(name, value);
        }
    }
    Ok(Some(Product {
        id: row.id,
        name: row.name,
        slug: row.slug,
        description: row.description,
        status: ProductStatus::parse(&row.status).ok_or_else(|| {
            Error::BadInput(format!("unknown status {:?} in database", row.status))
        })?,
        category_id: row.category_id,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
        variants,
        images: images
            .into_iter()
            .map(|i| Image {
                id: i.id,
                blob_key: i.blob_key,
                thumb_key: i.thumb_key,
                alt: i.alt,
                position: i.position,
                is_thumbnail: i.is_thumbnail,
                version: i.version,
            })
            .collect(),
    }))
}

/// The product as committed, for an edit: locked (Postgres; SQLite's write transaction already
/// excludes other writers) and read from the history row of its current version, which every
/// write stores in the same transaction as the rows. That is one read instead of three, on the
/// path every edit takes under the lock; `check_invariants` verifies that the two agree. A
/// product without that row (written by other means) is read from its rows.
///
/// With `lock_variants`, the product's variants are locked too, in id order, after the product:
/// the lock an edit that changes variant rows needs (`persist::update`). On Postgres the locks
/// and the read are one statement, which also runs `prelude` first if given (the command's claim
/// and role check) and returns what it found, whether or not the product exists.
pub async fn load_for_edit(
    tx: &mut Tx,
    id: Uuid,
    lock_variants: bool,
    prelude: Option<Prelude>,
) -> Result<(Option<Product>, Option<serde_json::Value>)> {
    #[derive(sqlx::FromRow)]
    struct ForEdit {
        product_id: Option<Uuid>,
        snapshot: Option<Json<Product>>,
        #[sqlx(default)]
        prelude: Option<Json<serde_json::Value>>,
    }
    let read = if tx.backend().has_row_locks() {
        // The row lock may wait for another edit to commit; the locked row is then its latest
        // version, but the history row it made is not in this statement's snapshot (taken before
        // the wait): the snapshot comes back empty and is read again below, after the wait.
        let (mut s, sep, first, column, from) = match prelude {
            Some(p) => (
                p.ctes,
                ", ",
                format!(" AND {}", p.first),
                format!(", {}", p.column),
                "(SELECT 1) AS one LEFT JOIN p ON true",
            ),
            None => (Stmt::new(""), "", String::new(), String::new(), "p"),
        };
        let n = s.param(id);
        let (variants, counted) = if lock_variants {
            (
                ", v AS (SELECT id FROM variants WHERE product_id = (SELECT id FROM p) \
                 ORDER BY id FOR UPDATE)",
                ", (SELECT COUNT(*) FROM v) AS variants_locked",
            )
        } else {
            ("", "")
        };
        s.wrap(|ctes| {
            format!(
                "WITH {ctes}{sep}p AS (SELECT id, version FROM products \
                 WHERE id = {n}{first} FOR UPDATE){variants} \
                 SELECT p.id AS product_id, h.snapshot{counted}{column} FROM {from} \
                 LEFT JOIN product_history h ON h.product_id = p.id AND h.version = p.version"
            )
        })
    } else {
        Stmt::new(
            "SELECT p.id AS product_id, h.snapshot FROM products p LEFT JOIN product_history h \
             ON h.product_id = p.id AND h.version = p.version WHERE p.id = $1",
        )
        .arg(id)
    };
    let row = read.fetch_optional::<ForEdit>(tx).await?;
    let found = row.as_ref().and_then(|r| r.prelude.clone()).map(|j| j.0);
    let Some(row) = row.filter(|r| r.product_id.is_some()) else {
        return Ok((None, found));
    };
    let snapshot = match row.snapshot {
        Some(s) => Some(s),
        None => {
            Stmt::new(
                "SELECT h.snapshot FROM products p JOIN product_history h \
             ON h.product_id = p.id AND h.version = p.version WHERE p.id = $1",
            )
            .arg(id)
            .scalar_optional::<Json<Product>>(tx)
            .await?
        }
    };
    let product = match snapshot {
        Some(Json(mut p)) => {
            p.sort_parts();
            Some(p)
        }
        None => load_product(tx, id).await?,
    };
    Ok((product, found))
}

/// Locks products in id order (Postgres; SQLite's write transaction is the lock already): the
/// lock every edit of their fields or variants, and every change to their on-hand stock, takes
/// first.
pub async fn lock_products(tx: &mut Tx, ids: &BTreeSet<Uuid>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.lock_rows("products", Stmt::ids_in("id", ids.iter().copied()))
        .await
}

/// Compare-and-set of the product row: changes it from `current` to `next` only if it is still
/// at `current`'s version, and then returns one row. Runs last in the batch of an edit's writes
/// (`Batch::run_then`). Only the columns whose values differ are set: an unchanged indexed
/// column set again still costs SQLite an index update and the page writes that go with it.
pub fn update_product_row(current: &Product, next: &Product) -> Stmt {
    let mut s = Stmt::new("");
    let (id, from) = (s.param(next.id), s.param(current.version));
    let (c, n, mut set) = (current, next, Vec::new());
    s.set_if(&mut set, "name", n.name != c.name, n.name.as_str());
    s.set_if(&mut set, "slug", n.slug != c.slug, n.slug.as_str());
    s.set_if(
        &mut set,
        "description",
        n.description != c.description,
        n.description.as_str(),
    );
    s.set_if(&mut set, "status", n.status != c.status, n.status.as_str());
    s.set_if(
        &mut set,
        "category_id",
        n.category_id != c.category_id,
        n.category_id,
    );
    let text = search_text(n);
    s.set_if(&mut set, "search_text", text != search_text(c), text);
    s.set_if(&mut set, "updated_at", true, n.updated_at);
    s.set_if(&mut set, "updated_by", true, n.updated_by.as_str());
    s.text(format!(
        "UPDATE products SET {}, version = version + 1 WHERE id = {id} AND version = {from} \
         RETURNING id",
        set.join(", ")
    ))
}

/// What the list's search matches: name, slug and SKUs, lower-cased once on write.
pub(crate) fn search_text(p: &Product) -> String {
    let mut s = format!("{} {}", p.name, p.slug);
    for v in &p.variants {
        s.push(' ');
        s.push_str(&v.sku);
    }
    s.to_lowercase()
}

pub fn insert_history(
    batch: &mut Batch,
    p: &Product,
    changes: &[String],
    op_id: Option<Uuid>,
    actor_id: Option<Uuid>,
) -> Result<()> {
    batch.push(
        Stmt::new(
            "INSERT INTO product_history (product_id, version, actor, at, op_id, changes, snapshot, \
             actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .arg(p.id)
        .arg(p.version)
        .arg(p.updated_by.as_str())
        .arg(p.updated_at)
        .arg(op_id)
        .arg(Arg::json(&changes)?)
        .arg(Arg::json(p)?)
        .arg(actor_id),
    );
    Ok(())
}

pub async fn load_snapshot(tx: &mut Tx, product_id: Uuid, version: i64) -> Result<Option<Product>> {
    let row: Option<Json<Product>> =
        Stmt::new("SELECT snapshot FROM product_history WHERE product_id = $1 AND version = $2")
            .arg(product_id)
            .arg(version)
            .scalar_optional(tx)
            .await?;
    Ok(row.map(|j| j.0))
}

/// History entries after `after_version`, oldest first.
pub async fn history_since(
    tx: &mut Tx,
    product_id: Uuid,
    after_version: i64,
) -> Result<Vec<HistoryEntry>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        version: i64,
        actor: String,
        actor_id: Option<Uuid>,
        at: DateTime<Utc>,
        changes: Json<Vec<String>>,
    }
    let rows: Vec<Row> = Stmt::new(
        "SELECT version, actor, actor_id, at, changes FROM product_history \
         WHERE product_id = $1 AND version > $2 ORDER BY version",
    )
    .arg(product_id)
    .arg(after_version)
    .fetch(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            version: r.version,
            actor: r.actor,
            actor_id: r.actor_id,
            at: r.at,
            changes: r.changes.0,
        })
        .collect())
}

pub async fn lock_product_of_variant(tx: &mut Tx, variant_id: Uuid) -> Result<Option<Uuid>> {
    let sql = format!(
        "SELECT p.id FROM products p WHERE p.id = (SELECT product_id FROM variants WHERE id = $1){}",
        tx.backend().for_update()
    );
    Stmt::new(sql).arg(variant_id).scalar_optional(tx).await
}
