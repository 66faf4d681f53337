//! `bench search`: the product list with search text and filters over a large seeded catalog,
//! against the plain `LIKE '%text%'` scan a hand-written list would do on the same data.

use std::time::{Duration, Instant};

use serde_json::json;

use super::scratch::Scratch;
use super::stats::{percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::catalog::{ProductQuery, ProductStatus};
use stockdesk::error::Result;
use stockdesk::store::on_tx;

pub struct SearchOptions {
    pub products: usize,
    pub queries: usize,
}

/// What staff type: words of names, SKU fragments, numbers; some with a filter.
const TEXTS: &[&str] = &[
    "mug",
    "alpine",
    "hoodie",
    "no. 12",
    "espresso",
    "cof-00",
    "app-0001",
    "linen",
    "vase",
    "journal",
    "midnight scarf",
    "organic",
    "planner",
    "house roast",
    "nordic",
    "copper mug",
];

const PAGE: i64 = 50;

pub async fn run(scratch: &Scratch, opts: SearchOptions) -> Result<BenchReport> {
    let sd = &scratch.sd;
    sd.seed(SeedOptions {
        products: opts.products,
        seed: 1,
    })
    .await?;
    // Fresh statistics, as a catalog that grew to this size over time would have (Postgres's
    // autovacuum analyses a table after enough changes; the seeding makes them all at once).
    let mut tx = sd.store().write().await?;
    on_tx!(&mut tx, c => sqlx::query("ANALYZE").execute(&mut **c).await?.rows_affected());
    tx.commit().await?;
    let categories = sd.list_categories().await?;
    let queries: Vec<ProductQuery> = (0..opts.queries)
        .map(|i| ProductQuery {
            search: Some(TEXTS[i % TEXTS.len()].to_string()),
            status: (i % 3 == 1).then_some(ProductStatus::Published),
            category_id: (i % 5 == 2).then(|| categories[i % categories.len()].id),
            low_stock: (i % 7 == 3).then_some(10),
            limit: Some(PAGE),
            offset: None,
        })
        .collect();

    // Warm both paths once (page cache, statement cache) before timing.
    for q in queries.iter().take(TEXTS.len()) {
        sd.list_products(q.clone()).await?;
        like_scan(sd, q).await?;
    }
    let (mut mine, mut base) = (Vec::new(), Vec::new());
    let mut same_totals = true;
    for q in &queries {
        let start = Instant::now();
        let page = sd.list_products(q.clone()).await?;
        mine.push(start.elapsed());
        let start = Instant::now();
        let total = like_scan(sd, q).await?;
        base.push(start.elapsed());
        // The baseline matches names only; Stockdesk also matches slugs and SKUs.
        same_totals &= page.total >= total;
    }
    let p = |v: &mut Vec<Duration>, q| round(percentile_ms(v, q));
    let (m50, m95, b50, b95) = (
        p(&mut mine, 50.0),
        p(&mut mine, 95.0),
        p(&mut base, 50.0),
        p(&mut base, 95.0),
    );
    let speedup = b50 / m50.max(0.001);
    let backend = sd.backend().name();
    let table = format!(
        "search on {backend}: {products} products, {n} list queries (page of {PAGE} + total)\n\
         {:<26} {:>9} {:>9}\n{:<26} {:>9.2} {:>9.2}\n{:<26} {:>9.2} {:>9.2}\n\
         speed-up at p50 (LIKE scan / stockdesk): {speedup:.1}×",
        "strategy",
        "p50 ms",
        "p95 ms",
        "stockdesk (indexed)",
        m50,
        m95,
        "plain LIKE '%text%' scan",
        b50,
        b95,
        products = opts.products,
        n = opts.queries,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "search",
            "backend": backend,
            "products": opts.products,
            "queries": opts.queries,
            "stockdesk_p50_ms": m50,
            "stockdesk_p95_ms": m95,
            "like_scan_p50_ms": b50,
            "like_scan_p95_ms": b95,
            "speedup_p50": round(speedup),
            "totals_consistent": same_totals,
        }),
    })
}

/// The baseline: the same page and total with `LIKE '%text%'` on the name, which no index can
/// serve, and the same filters.
async fn like_scan(sd: &stockdesk::Stockdesk, q: &ProductQuery) -> Result<i64> {
    let text = format!("%{}%", q.search.as_deref().unwrap_or("").to_lowercase());
    let status = q.status.map(|s| s.as_str());
    let filter = "LOWER(p.name) LIKE $1 \
         AND ($2 IS NULL OR p.status = $2) \
         AND ($3 IS NULL OR p.category_id = $3) \
         AND ($4 IS NULL OR EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.stock_on_hand <= $4))";
    let count_sql = format!("SELECT COUNT(*) FROM products p WHERE {filter}");
    let page_sql =
        format!("SELECT p.id FROM products p WHERE {filter} ORDER BY p.name, p.id LIMIT {PAGE}");
    let mut tx = sd.store().read().await?;
    let total: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(&count_sql)
        .bind(&text).bind(status).bind(q.category_id).bind(q.low_stock)
        .fetch_one(&mut **c).await?);
    let _ids: Vec<uuid::Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(&page_sql)
        .bind(&text).bind(status).bind(q.category_id).bind(q.low_stock)
        .fetch_all(&mut **c).await?);
    Ok(total)
}
