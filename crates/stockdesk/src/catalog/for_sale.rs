//! Finding a variant to sell at the till: what was scanned or typed is tried as a barcode, then
//! as a SKU (both exact, on their unique indexes), then as part of a product's name or a SKU (the
//! list's substring index). Archived products are not for sale.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::barcode;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::model::{text_problem, SaleMatch, VariantForSale};
use crate::product_rows::reserved_sql;
use crate::store::{Arg, Stmt, Tx};

/// The most variants one look-up returns: a till's list, not a catalogue.
pub const FOR_SALE_LIMIT: usize = 20;
const MAX_QUERY: usize = 200;
/// Variants of text matches read before those whose product name and SKU both miss the query are
/// left out (a product can match by one variant's SKU, and list many others).
const TEXT_ROWS: i64 = 200;

#[derive(sqlx::FromRow)]
struct Row {
    variant_id: Uuid,
    product_id: Uuid,
    product_name: String,
    slug: String,
    sku: String,
    barcode: Option<String>,
    price_minor: i64,
    currency: String,
    available: i64,
}

/// Variants for `query` (see the module docs), at most `FOR_SALE_LIMIT`, an exact barcode or
/// SKU alone. Nothing for an empty query.
pub async fn find_for_sale(ctx: &Ctx, query: &str) -> Result<Vec<VariantForSale>> {
    let query = query.trim();
    if query.chars().count() > MAX_QUERY {
        return Err(Error::validation(
            "query",
            format!("at most {MAX_QUERY} characters"),
        ));
    }
    if let Some(problem) = text_problem(query, false) {
        return Err(Error::validation("query", problem));
    }
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = ctx.store.read().await?;
    let now = ctx.now();

    if let Some(code) = barcode::normalise(query).filter(|c| barcode::problem(c).is_none()) {
        let mut s = Stmt::new("");
        let list = s.list(barcode::spellings(&code).into_iter().map(Arg::Text));
        let rows = select(&mut tx, s, &format!("v.barcode IN ({list})"), now).await?;
        if !rows.is_empty() {
            return finish(&mut tx, rows, SaleMatch::Barcode).await;
        }
    }
    let mut s = Stmt::new("");
    let sku = s.param(query);
    let rows = select(&mut tx, s, &format!("v.sku = {sku}"), now).await?;
    if !rows.is_empty() {
        return finish(&mut tx, rows, SaleMatch::Sku).await;
    }

    let text = query.to_lowercase();
    let mut s = Stmt::new("");
    let search = tx.backend().product_search(&mut s, &text);
    let limit = s.param(TEXT_ROWS);
    let rows = select(
        &mut tx,
        s,
        &format!(
            "{} ORDER BY p.name, p.id, v.position, v.id LIMIT {limit}",
            search.filter
        ),
        now,
    )
    .await?;
    // The index matched the product's search text (name, slug and every SKU): keep a variant
    // when its product's name or slug, or its own SKU, holds the text.
    let rows = rows
        .into_iter()
        .filter(|r| {
            [&r.product_name, &r.slug, &r.sku]
                .iter()
                .any(|t| t.to_lowercase().contains(&text))
        })
        .take(FOR_SALE_LIMIT)
        .collect();
    finish(&mut tx, rows, SaleMatch::Text).await
}

/// The variants of products not archived that `condition` (on `v`ariants and `p`roducts, with
/// its values bound on `s`) selects, with what is available at `now`.
async fn select(
    tx: &mut Tx,
    mut s: Stmt,
    condition: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Row>> {
    let now = s.param(now);
    s.text(format!(
        "SELECT v.id AS variant_id, v.product_id, p.name AS product_name, p.slug, v.sku, \
         v.barcode, v.price_minor, v.currency, v.stock_on_hand - {} AS available \
         FROM variants v JOIN products p ON p.id = v.product_id \
         WHERE p.status <> 'archived' AND {condition}",
        reserved_sql(&now)
    ))
    .uncached()
    .fetch(tx)
    .await
}

/// The rows as sale candidates, each labelled with its attribute values.
async fn finish(tx: &mut Tx, rows: Vec<Row>, matched: SaleMatch) -> Result<Vec<VariantForSale>> {
    let labels = labels(tx, rows.iter().map(|r| r.variant_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| VariantForSale {
            variant_label: labels.get(&r.variant_id).cloned().unwrap_or_default(),
            variant_id: r.variant_id,
            product_id: r.product_id,
            product_name: r.product_name,
            sku: r.sku,
            barcode: r.barcode,
            price_minor: r.price_minor,
            currency: r.currency,
            available: r.available,
            matched,
        })
        .collect())
}

/// "M / Navy" per variant: its attribute values in the category's attribute order.
async fn labels(
    tx: &mut Tx,
    variant_ids: impl Iterator<Item = Uuid>,
) -> Result<BTreeMap<Uuid, String>> {
    let mut s = Stmt::new("");
    let list = s.list(variant_ids.map(Arg::Id));
    if list.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(Uuid, String)> = s
        .text(format!(
            "SELECT va.variant_id, av.value FROM variant_attributes va \
             JOIN attributes a ON a.id = va.attribute_id \
             JOIN attribute_values av ON av.id = va.value_id \
             WHERE va.variant_id IN ({list}) ORDER BY va.variant_id, a.position, a.name"
        ))
        .uncached()
        .fetch(tx)
        .await?;
    let mut out: BTreeMap<Uuid, String> = BTreeMap::new();
    for (id, value) in rows {
        let label = out.entry(id).or_default();
        if !label.is_empty() {
            label.push_str(" / ");
        }
        label.push_str(&value);
    }
    Ok(out)
}
