//! The catalog's SQL, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::validate::AttributeValue;
use crate::error::Result;
use crate::model::{Attribute, Category, Image, Product, Variant};
use crate::store::{Arg, Batch, Stmt, Tx};

/// An attribute to insert, with its allowed values.
pub struct NewAttribute {
    pub id: Uuid,
    pub name: String,
    pub values: Vec<NewAttributeValue>,
}

/// An allowed value of an attribute to insert.
pub struct NewAttributeValue {
    pub id: Uuid,
    pub value: String,
}

/// Ids of all products, in id order.
pub async fn product_ids(tx: &mut Tx) -> Result<Vec<Uuid>> {
    Stmt::new("SELECT id FROM products ORDER BY id")
        .scalars(tx)
        .await
}

pub async fn load_category(tx: &mut Tx, id: Uuid) -> Result<Option<Category>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        name: String,
    }
    #[derive(sqlx::FromRow)]
    struct ValueRow {
        attribute_id: Uuid,
        name: String,
        value: Option<String>,
    }
    let row: Option<Row> = Stmt::new("SELECT id, name FROM categories WHERE id = $1")
        .arg(id)
        .fetch_optional(tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let values: Vec<ValueRow> = Stmt::new(
        "SELECT a.id AS attribute_id, a.name, av.value FROM attributes a \
         LEFT JOIN attribute_values av ON av.attribute_id = a.id \
         WHERE a.category_id = $1 ORDER BY a.position, a.name, av.position, av.value",
    )
    .arg(id)
    .fetch(tx)
    .await?;
    let mut attributes: Vec<Attribute> = Vec::new();
    for v in values {
        if attributes.last().map(|a| a.id) != Some(v.attribute_id) {
            attributes.push(Attribute {
                id: v.attribute_id,
                name: v.name,
                values: Vec::new(),
            });
        }
        if let Some(value) = v.value {
            attributes
                .last_mut()
                .expect("pushed above")
                .values
                .push(value);
        }
    }
    Ok(Some(Category {
        id: row.id,
        name: row.name,
        attributes,
    }))
}

pub async fn category_ids(tx: &mut Tx) -> Result<Vec<Uuid>> {
    Stmt::new("SELECT id FROM categories ORDER BY name")
        .scalars(tx)
        .await
}

pub async fn insert_category(
    tx: &mut Tx,
    id: Uuid,
    name: &str,
    attributes: &[NewAttribute],
    now: DateTime<Utc>,
) -> Result<()> {
    Stmt::new("INSERT INTO categories (id, name, created_at) VALUES ($1, $2, $3)")
        .arg(id)
        .arg(name)
        .arg(now)
        .run(tx)
        .await?;
    for (pos, attr) in attributes.iter().enumerate() {
        Stmt::new(
            "INSERT INTO attributes (id, category_id, name, position) VALUES ($1, $2, $3, $4)",
        )
        .arg(attr.id)
        .arg(id)
        .arg(attr.name.as_str())
        .arg(pos as i64)
        .run(tx)
        .await?;
        for (vpos, value) in attr.values.iter().enumerate() {
            Stmt::new(
                "INSERT INTO attribute_values (id, attribute_id, value, position) \
                 VALUES ($1, $2, $3, $4)",
            )
            .arg(value.id)
            .arg(attr.id)
            .arg(value.value.as_str())
            .arg(vpos as i64)
            .run(tx)
            .await?;
        }
    }
    Ok(())
}

pub async fn category_id_named(tx: &mut Tx, name: &str) -> Result<Option<Uuid>> {
    Stmt::new("SELECT id FROM categories WHERE name = $1")
        .arg(name)
        .scalar_optional(tx)
        .await
}

/// The category named `name`, made with `id` if there is none; locked until the transaction ends
/// (Postgres; SQLite's write transaction is the lock), so two imports adding values to it take
/// turns. Returns its id and whether it was made now.
pub async fn lock_or_insert_category(
    tx: &mut Tx,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, bool)> {
    let made = Stmt::new(
        "INSERT INTO categories (id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .arg(id)
    .arg(name)
    .arg(now)
    .run(tx)
    .await?;
    let lock = tx.backend().for_update();
    let found: Uuid = Stmt::new(format!("SELECT id FROM categories WHERE name = $1{lock}"))
        .arg(name)
        .fetch_scalar(tx)
        .await?;
    Ok((found, made == 1))
}

/// Adds an attribute (without values) to a category, at `position`.
pub async fn insert_attribute(
    tx: &mut Tx,
    category_id: Uuid,
    attr: &NewAttribute,
    position: i64,
) -> Result<()> {
    Stmt::new("INSERT INTO attributes (id, category_id, name, position) VALUES ($1, $2, $3, $4)")
        .arg(attr.id)
        .arg(category_id)
        .arg(attr.name.as_str())
        .arg(position)
        .run(tx)
        .await?;
    Ok(())
}

/// Adds an allowed value to an attribute, at `position`.
pub async fn insert_attribute_value(
    tx: &mut Tx,
    attribute_id: Uuid,
    value: &NewAttributeValue,
    position: i64,
) -> Result<()> {
    Stmt::new(
        "INSERT INTO attribute_values (id, attribute_id, value, position) VALUES ($1, $2, $3, $4)",
    )
    .arg(value.id)
    .arg(attribute_id)
    .arg(value.value.as_str())
    .arg(position)
    .run(tx)
    .await?;
    Ok(())
}

pub async fn category_name_taken(tx: &mut Tx, name: &str) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM categories WHERE name = $1")
        .arg(name)
        .counts_any(tx)
        .await
}

/// SKUs among `skus` that a variant of another product already uses (one query).
pub async fn skus_taken_elsewhere(
    tx: &mut Tx,
    product_id: Uuid,
    skus: &[&str],
) -> Result<Vec<String>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = Stmt::new("");
    let product = stmt.param(product_id);
    let list = stmt.list(skus.iter().map(|s| Arg::Text(s.to_string())));
    stmt.text(format!(
        "SELECT sku FROM variants WHERE sku IN ({list}) AND product_id <> {product} ORDER BY sku"
    ))
    .uncached()
    .scalars(tx)
    .await
}

/// A barcode another product's variant has: the barcode as stored there, and that variant's SKU.
pub struct BarcodeTaken {
    pub barcode: String,
    pub sku: String,
}

/// Variants of other products whose barcode is one of `barcodes` (one query, on the unique
/// index).
pub async fn barcodes_taken_elsewhere(
    tx: &mut Tx,
    product_id: Uuid,
    barcodes: &[String],
) -> Result<Vec<BarcodeTaken>> {
    if barcodes.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = Stmt::new("");
    let product = stmt.param(product_id);
    let list = stmt.list(barcodes.iter().cloned().map(Arg::Text));
    let rows: Vec<(String, String)> = stmt
        .text(format!(
            "SELECT barcode, sku FROM variants WHERE barcode IN ({list}) \
             AND product_id <> {product} ORDER BY barcode"
        ))
        .uncached()
        .fetch(tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(barcode, sku)| BarcodeTaken { barcode, sku })
        .collect())
}

/// Whether a product with this id exists.
pub async fn product_exists(tx: &mut Tx, id: Uuid) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM products WHERE id = $1")
        .arg(id)
        .counts_any(tx)
        .await
}

pub async fn slug_taken_elsewhere(tx: &mut Tx, product_id: Uuid, slug: &str) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM products WHERE slug = $1 AND id <> $2")
        .arg(slug)
        .arg(product_id)
        .counts_any(tx)
        .await
}

/// Inserts the product row of a new product (version 1).
pub async fn insert_product(tx: &mut Tx, p: &Product) -> Result<()> {
    Stmt::new(
        "INSERT INTO products (id, name, slug, description, status, category_id, search_text, \
         version, created_at, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .arg(p.id)
    .arg(p.name.as_str())
    .arg(p.slug.as_str())
    .arg(p.description.as_str())
    .arg(p.status.as_str())
    .arg(p.category_id)
    .arg(crate::product_rows::product::search_text(p))
    .arg(p.version)
    .arg(p.created_at)
    .arg(p.updated_at)
    .arg(p.updated_by.as_str())
    .run(tx)
    .await?;
    Ok(())
}

/// A variant's id can come back (a restore, or a create that names a deleted variant's id) while
/// lapsed holds of it are still open, so `held` starts as the sum of its active holds: that is
/// what the stock code keeps it at.
pub fn insert_variant(batch: &mut Batch, product_id: Uuid, v: &Variant, now: DateTime<Utc>) {
    batch.push(
        Stmt::new(
            "INSERT INTO variants (id, product_id, sku, price_minor, currency, stock_on_hand, \
             position, version, created_at, updated_at, held, barcode) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, 1, $8, $8, (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) \
             FROM reservations WHERE variant_id = $1 AND status = 'active'), $9)",
        )
        .arg(v.id)
        .arg(product_id)
        .arg(v.sku.as_str())
        .arg(v.price_minor)
        .arg(v.currency.as_str())
        .arg(v.stock_on_hand)
        .arg(v.position)
        .arg(now)
        .arg(Arg::OptText(v.barcode.clone())),
    );
}

/// Writes `v` over `old`, setting only the columns that differ (see `update_product_row`).
pub fn update_variant(batch: &mut Batch, old: &Variant, v: &Variant, now: DateTime<Utc>) {
    let mut s = Stmt::new("");
    let id = s.param(v.id);
    let mut set = Vec::new();
    s.set_if(&mut set, "sku", v.sku != old.sku, v.sku.as_str());
    s.set_if(
        &mut set,
        "barcode",
        v.barcode != old.barcode,
        Arg::OptText(v.barcode.clone()),
    );
    s.set_if(
        &mut set,
        "price_minor",
        v.price_minor != old.price_minor,
        v.price_minor,
    );
    s.set_if(
        &mut set,
        "currency",
        v.currency != old.currency,
        v.currency.as_str(),
    );
    let stock_changed = v.stock_on_hand != old.stock_on_hand;
    s.set_if(&mut set, "stock_on_hand", stock_changed, v.stock_on_hand);
    s.set_if(&mut set, "position", v.position != old.position, v.position);
    s.set_if(&mut set, "updated_at", true, now);
    batch.push(s.text(format!(
        "UPDATE variants SET {}, version = version + 1 WHERE id = {id}",
        set.join(", ")
    )));
}

/// Frees the SKUs of variants about to change SKU, so that two variants can swap SKUs in one
/// patch without tripping the unique index halfway.
pub fn park_sku(batch: &mut Batch, variant_id: Uuid) {
    batch.push(
        Stmt::new("UPDATE variants SET sku = $2 WHERE id = $1")
            .arg(variant_id)
            .arg(format!("\u{1}parked-{variant_id}")),
    );
}

/// Frees the barcode of a variant about to change it, for the same reason as `park_sku` (a
/// barcode moved from one variant to another in one patch). NULL clashes with nothing.
pub fn park_barcode(batch: &mut Batch, variant_id: Uuid) {
    batch.push(Stmt::new("UPDATE variants SET barcode = NULL WHERE id = $1").arg(variant_id));
}

pub fn delete_variant(batch: &mut Batch, id: Uuid) {
    batch.push(Stmt::new("DELETE FROM variants WHERE id = $1").arg(id));
}

/// Replaces a variant's attribute values.
pub fn set_variant_attributes(batch: &mut Batch, variant_id: Uuid, values: &[AttributeValue]) {
    batch.push(Stmt::new("DELETE FROM variant_attributes WHERE variant_id = $1").arg(variant_id));
    for AttributeValue {
        attribute_id,
        value_id,
    } in values
    {
        batch.push(
            Stmt::new(
                "INSERT INTO variant_attributes (variant_id, attribute_id, value_id) \
                 VALUES ($1, $2, $3)",
            )
            .arg(variant_id)
            .arg(*attribute_id)
            .arg(*value_id),
        );
    }
}

pub fn update_image(batch: &mut Batch, i: &Image, now: DateTime<Utc>) {
    batch.push(
        Stmt::new(
            "UPDATE images SET blob_key = $2, alt = $3, position = $4, is_thumbnail = $5, \
             version = version + 1, updated_at = $6, thumb_key = $7 WHERE id = $1",
        )
        .arg(i.id)
        .arg(i.blob_key.as_str())
        .arg(i.alt.as_str())
        .arg(i.position)
        .arg(i.is_thumbnail)
        .arg(now)
        .arg(Arg::OptText(i.thumb_key.clone())),
    );
}

pub fn insert_image(batch: &mut Batch, product_id: Uuid, i: &Image, now: DateTime<Utc>) {
    batch.push(
        Stmt::new(
            "INSERT INTO images (id, product_id, blob_key, thumb_key, alt, position, is_thumbnail, \
             version, created_at, updated_at) VALUES ($1, $2, $3, $8, $4, $5, $6, 1, $7, $7)",
        )
        .arg(i.id)
        .arg(product_id)
        .arg(i.blob_key.as_str())
        .arg(i.alt.as_str())
        .arg(i.position)
        .arg(i.is_thumbnail)
        .arg(now)
        .arg(Arg::OptText(i.thumb_key.clone())),
    );
}

pub fn delete_image(batch: &mut Batch, id: Uuid) {
    batch.push(Stmt::new("DELETE FROM images WHERE id = $1").arg(id));
}

/// Rewrites the snapshot of the product's current version (seeding adds image rows to version 1).
pub fn replace_snapshot(batch: &mut Batch, p: &Product) -> Result<()> {
    batch.push(
        Stmt::new(
            "UPDATE product_history SET snapshot = $3 WHERE product_id = $1 AND version = $2",
        )
        .arg(p.id)
        .arg(p.version)
        .arg(Arg::json(p)?),
    );
    Ok(())
}

pub async fn product_count(tx: &mut Tx) -> Result<i64> {
    Stmt::new("SELECT COUNT(*) FROM products")
        .fetch_scalar(tx)
        .await
}
