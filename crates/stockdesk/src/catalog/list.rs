//! The product list: filters, search and paging, the page and its total in one statement.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{ProductPage, ProductQuery, ProductStatus, ProductSummary};
use crate::store::{Stmt, Tx};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1_000;
const MAX_SEARCH: usize = 200;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    slug: String,
    status: String,
    category_id: Option<Uuid>,
    version: i64,
    updated_at: DateTime<Utc>,
    updated_by: String,
    variant_count: i64,
    total_stock: i64,
    min_stock: Option<i64>,
    min_price_minor: Option<i64>,
    currency: Option<String>,
    total: i64,
}

const COLUMNS: &str =
    "p.id, p.name, p.slug, p.status, p.category_id, p.version, p.updated_at, p.updated_by";
/// The page's stock and price figures: one pass over its variants (a join), not a subquery each.
const FIGURES: &str = "COUNT(v.id) AS variant_count, \
     CAST(COALESCE(SUM(v.stock_on_hand), 0) AS BIGINT) AS total_stock, \
     MIN(v.stock_on_hand) AS min_stock, MIN(v.price_minor) AS min_price_minor, \
     MIN(v.currency) AS currency";

pub async fn list(tx: &mut Tx, q: &ProductQuery) -> Result<ProductPage> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::validation(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    if offset < 0 {
        return Err(Error::validation("offset", "must not be negative"));
    }

    let mut filters = Vec::new();
    // The filters' values; the page's statement and the count's both start with them.
    let mut filtered = Stmt::new("");
    let mut indexed_search = false;
    if let Some(text) = q.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > MAX_SEARCH {
            return Err(Error::validation(
                "search",
                format!("at most {MAX_SEARCH} characters"),
            ));
        }
        if let Some(problem) = crate::model::text_problem(text, false) {
            return Err(Error::validation("search", problem));
        }
        let search = tx
            .backend()
            .product_search(&mut filtered, &text.to_lowercase());
        indexed_search = search.indexed;
        filters.push(search.filter);
    }
    if let Some(status) = q.status {
        filters.push(format!("p.status = {}", filtered.param(status.as_str())));
    }
    if let Some(category) = q.category_id {
        filters.push(format!("p.category_id = {}", filtered.param(category)));
    }
    if let Some(n) = q.low_stock {
        filters.push(format!(
            "EXISTS (SELECT 1 FROM variants lv WHERE lv.product_id = p.id AND lv.stock_on_hand <= {})",
            filtered.param(n)
        ));
    }
    let where_sql = if filters.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filters.join(" AND "))
    };

    let count_sql = format!("SELECT COUNT(*) FROM products p{where_sql}");
    let mut page = filtered.clone();
    let (limit_n, offset_n) = (page.param(limit), page.param(offset));
    let (head, total_sql) = if indexed_search {
        // Search text the index serves: find the matches first and take both the total and the
        // page from them. Walking `products_by_name` and testing each product instead can pass
        // tens of thousands of non-matches before the page fills, because matches cluster in
        // name order (a search for "nordic" finds names starting "Nordic").
        (
            format!(
                "WITH found AS MATERIALIZED (SELECT p.id, p.name FROM products p{where_sql}), \
                 page AS (SELECT id FROM found ORDER BY name, id LIMIT {limit_n} OFFSET {offset_n})"
            ),
            "SELECT COUNT(*) FROM found",
        )
    } else {
        // Browsing (or text too short for the index, which matches much): walk the name (or
        // status, category) index and stop at the page's end.
        (
            format!(
                "WITH page AS (SELECT p.id FROM products p{where_sql} \
                 ORDER BY p.name, p.id LIMIT {limit_n} OFFSET {offset_n})"
            ),
            count_sql.as_str(),
        )
    };
    let page_sql = format!(
        "{head} SELECT {COLUMNS}, {FIGURES}, ({total_sql}) AS total \
         FROM page JOIN products p ON p.id = page.id LEFT JOIN variants v ON v.product_id = p.id \
         GROUP BY {COLUMNS} ORDER BY p.name, p.id"
    );

    let rows: Vec<Row> = page.text(page_sql).fetch(tx).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // No rows on the first page: nothing matches.
        None if offset == 0 => 0,
        // A page past the end carries no total: count on its own.
        None => filtered.text(count_sql).fetch_scalar(tx).await?,
    };

    let items = rows
        .into_iter()
        .map(|r| ProductSummary {
            status: ProductStatus::parse(&r.status).unwrap_or(ProductStatus::Draft),
            id: r.id,
            name: r.name,
            slug: r.slug,
            category_id: r.category_id,
            version: r.version,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
            variant_count: r.variant_count,
            total_stock: r.total_stock,
            min_stock: r.min_stock,
            min_price_minor: r.min_price_minor,
            currency: r.currency,
        })
        .collect();
    Ok(ProductPage { items, total })
}
