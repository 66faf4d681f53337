//! The SQL of imports and exports, written once for both backends.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::Result;
use crate::model::Product;
use crate::store::{Arg, Conn, Stmt, Tx};

/// Ids per `IN (…)` list: well below both backends' limits on bound values.
const CHUNK: usize = 500;

/// Products by id and by slug (the ones of `ids` and `slugs` that exist).
pub async fn known_products(
    tx: &mut Tx,
    ids: &[Uuid],
    slugs: &[String],
) -> Result<(HashSet<Uuid>, HashMap<String, Uuid>)> {
    let mut by_id = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<Uuid> = Stmt::ids_in("id", chunk.iter().copied())
            .wrap(|f| format!("SELECT id FROM products WHERE {f}"))
            .uncached()
            .scalars(tx)
            .await?;
        by_id.extend(found);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        slug: String,
    }
    let mut by_slug = HashMap::new();
    for chunk in slugs.chunks(CHUNK) {
        let mut stmt = Stmt::new("");
        let list = stmt.list(chunk.iter().map(|s| Arg::Text(s.clone())));
        let rows: Vec<Row> = stmt
            .text(format!(
                "SELECT id, slug FROM products WHERE slug IN ({list})"
            ))
            .uncached()
            .fetch(tx)
            .await?;
        by_slug.extend(rows.into_iter().map(|r| (r.slug, r.id)));
    }
    Ok((by_id, by_slug))
}

/// The latest version of a product that an import wrote (what a file without versions was
/// made from, if it came from an import).
pub async fn last_imported_version(tx: &mut Tx, product_id: Uuid) -> Result<Option<i64>> {
    Stmt::new(
        "SELECT MAX(h.version) FROM product_history h JOIN applied_ops a ON a.op_id = h.op_id \
         WHERE h.product_id = $1 AND a.kind = 'import_product'",
    )
    .arg(product_id)
    .fetch_scalar::<Option<i64>>(tx)
    .await
}

/// Which of `ids` are recorded as applied.
pub async fn applied(conn: &mut Conn, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let found: Vec<Uuid> = Stmt::ids_in("op_id", chunk.iter().copied())
            .wrap(|f| format!("SELECT op_id FROM applied_ops WHERE {f}"))
            .uncached()
            .scalars(conn)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// The currency most of the shop's variants are priced in.
pub async fn main_currency(conn: &mut Conn) -> Result<Option<String>> {
    Stmt::new(
        "SELECT currency FROM variants GROUP BY currency ORDER BY COUNT(*) DESC, currency LIMIT 1",
    )
    .scalar_optional(conn)
    .await
}

/// Every category's name, by id.
pub async fn category_names(tx: &mut Tx) -> Result<HashMap<Uuid, String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        name: String,
    }
    let rows: Vec<Row> = Stmt::new("SELECT id, name FROM categories")
        .fetch(tx)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// The attribute names of every category, in their order.
pub async fn category_attributes(tx: &mut Tx) -> Result<HashMap<Uuid, Vec<String>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        category_id: Uuid,
        name: String,
    }
    let rows: Vec<Row> =
        Stmt::new("SELECT category_id, name FROM attributes ORDER BY category_id, position, name")
            .fetch(tx)
            .await?;
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.category_id).or_default().push(r.name);
    }
    Ok(out)
}

/// A product of an export page: its id, and its current version's snapshot (every write keeps
/// one in the same transaction as the rows; `check` verifies they agree).
#[derive(sqlx::FromRow)]
pub struct PageProduct {
    pub id: Uuid,
    pub snapshot: Option<Json<Product>>,
}

/// The next page of products after `after`, in id order: one query a page.
pub async fn product_page(
    tx: &mut Tx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PageProduct>> {
    Stmt::new(
        "SELECT p.id, h.snapshot FROM products p LEFT JOIN product_history h \
         ON h.product_id = p.id AND h.version = p.version \
         WHERE p.id > $1 ORDER BY p.id LIMIT $2",
    )
    .arg(after.unwrap_or(Uuid::nil()))
    .arg(limit)
    .fetch(tx)
    .await
}

/// One variant's stock figures, for the stock export.
#[derive(sqlx::FromRow)]
pub struct StockRow {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub stock_on_hand: i64,
    pub reserved: i64,
}

/// The next page of variants after `after` (id order), with what pending orders hold now.
pub async fn stock_page(
    tx: &mut Tx,
    after: Option<Uuid>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<StockRow>> {
    let reserved = crate::product_rows::reserved_sql("$2");
    let sql = format!(
        "SELECT v.id AS variant_id, v.product_id, v.sku, p.name AS product_name, \
         v.stock_on_hand, {reserved} AS reserved \
         FROM variants v JOIN products p ON p.id = v.product_id \
         WHERE v.id > $1 ORDER BY v.id LIMIT $3"
    );
    Stmt::new(sql)
        .arg(after.unwrap_or(Uuid::nil()))
        .arg(now)
        .arg(limit)
        .fetch(tx)
        .await
}

/// One order line, for the orders export.
#[derive(sqlx::FromRow)]
pub struct OrderLineRow {
    pub order_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub payment_expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub line_no: i64,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub currency: String,
}

/// A position in a time-ordered listing: after the row made at `at` with id `id`.
#[derive(Debug, Clone, Copy)]
pub struct After {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// The next page of orders made in [from, to) after `after`, in (created_at, id) order.
pub async fn order_page(
    tx: &mut Tx,
    after: Option<After>,
    range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    limit: i64,
) -> Result<Vec<Uuid>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
    }
    let mut stmt = Stmt::new("");
    let filter = time_page(&mut stmt, "created_at", after, range);
    let limit = stmt.param(limit);
    let rows: Vec<Row> = stmt
        .text(format!(
            "SELECT id FROM orders WHERE {filter} ORDER BY created_at, id LIMIT {limit}"
        ))
        .uncached()
        .fetch(tx)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The lines of `orders`, in their orders' (created_at, id) order, then line order.
pub async fn order_lines(tx: &mut Tx, orders: &[Uuid]) -> Result<Vec<OrderLineRow>> {
    Stmt::ids_in("o.id", orders.iter().copied())
        .wrap(|f| {
            format!(
                "SELECT o.id AS order_id, o.status, o.created_at, o.created_by, \
                 o.payment_expires_at, o.paid_at, o.closed_at, i.line_no, i.variant_id, \
                 i.product_id, i.sku, i.product_name, i.quantity, i.unit_price_minor, i.currency \
                 FROM orders o JOIN order_items i ON i.order_id = o.id WHERE {f} \
                 ORDER BY o.created_at, o.id, i.line_no"
            )
        })
        .uncached()
        .fetch(tx)
        .await
}

/// One movement of the ledger, for the ledger export.
#[derive(sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub variant_id: Uuid,
    pub sku: Option<String>,
    pub product_name: Option<String>,
    pub kind: String,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub actor: String,
    pub reason: String,
    pub order_id: Option<Uuid>,
}

/// The next page of movements made in [from, to) after `after`, in (at, id) order (the ledger
/// outlives deleted variants: their SKU and product are then empty).
pub async fn movement_page(
    tx: &mut Tx,
    after: Option<After>,
    range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    limit: i64,
) -> Result<Vec<MovementRow>> {
    let mut stmt = Stmt::new("");
    let filter = time_page(&mut stmt, "m.at", after, range);
    let limit = stmt.param(limit);
    stmt.text(format!(
        "SELECT m.id, m.at, m.variant_id, v.sku, p.name AS product_name, m.kind, m.quantity, \
         m.on_hand_after, m.actor, m.reason, m.order_id \
         FROM stock_movements m LEFT JOIN variants v ON v.id = m.variant_id \
         LEFT JOIN products p ON p.id = v.product_id \
         WHERE {filter} ORDER BY m.at, m.id LIMIT {limit}"
    ))
    .uncached()
    .fetch(tx)
    .await
}

/// `column` in [from, to) and after `after` (a keyset position on (column, id)).
fn time_page(
    stmt: &mut Stmt,
    column: &str,
    after: Option<After>,
    (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> String {
    let id = match column.split_once('.') {
        Some((table, _)) => format!("{table}.id"),
        None => "id".into(),
    };
    let mut filter = vec!["1 = 1".to_string()];
    if let Some(from) = from {
        filter.push(format!("{column} >= {}", stmt.param(from)));
    }
    if let Some(to) = to {
        filter.push(format!("{column} < {}", stmt.param(to)));
    }
    if let Some(a) = after {
        let at = stmt.param(a.at);
        let at_again = stmt.param(a.at);
        let after_id = stmt.param(a.id);
        filter.push(format!(
            "({column} > {at} OR ({column} = {at_again} AND {id} > {after_id}))"
        ));
    }
    filter.join(" AND ")
}
