//! `bench import`: a Shopify-layout product CSV of N rows (four variants a product, one option,
//! stock on every row) imported by Stockdesk — one checked command per product, with its
//! category, history and stock counts — against the same products and variants inserted with
//! raw SQL in one transaction, in the same scratch database.

use std::time::{Duration, Instant};

use serde_json::json;

use super::scratch::Scratch;
use super::stats::{per_second, round};
use super::BenchReport;
use stockdesk::error::Result;
use stockdesk::model::ImportOptions;
use stockdesk::store::on_tx;

pub struct ImportOptionsBench {
    /// Product rows in the file.
    pub rows: usize,
}

const SIZES: [&str; 4] = ["S", "M", "L", "XL"];

pub async fn run(scratch: &Scratch, opts: ImportOptionsBench) -> Result<BenchReport> {
    let sd = &scratch.sd;
    let products = opts.rows.div_ceil(SIZES.len()).max(1);
    let dir = sd.data_dir().to_path_buf();
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("bench-import.csv");
    std::fs::write(&file, shopify_csv(products, opts.rows))?;

    let start = Instant::now();
    let report = sd
        .import_products(
            &file,
            &ImportOptions {
                currency: Some("EUR".into()),
            },
            false,
            &|_| {},
            &std::sync::atomic::AtomicBool::new(false),
        )
        .await?;
    let t_import = start.elapsed();
    let imported_rows = report.rows;

    let start = Instant::now();
    raw_insert(sd, products, opts.rows).await?;
    let t_raw = start.elapsed();

    let (mine, raw) = (
        per_second(imported_rows, t_import),
        per_second(opts.rows, t_raw),
    );
    let ratio = mine / raw;
    let backend = sd.backend().name();
    let secs = |d: Duration| d.as_secs_f64();
    let table = format!(
        "import on {backend}: {rows} rows, {products} products (4 variants, stock on every row)\n\
         {:<34} {:>10} {:>12}\n{:<34} {:>10.2} {:>12.0}\n{:<34} {:>10.2} {:>12.0}\n\
         {:<34} {:>23.3}",
        "strategy",
        "seconds",
        "rows/s",
        "stockdesk import (checked commands)",
        secs(t_import),
        mine,
        "raw SQL, one transaction",
        secs(t_raw),
        raw,
        "ratio stockdesk/raw (rows/s)",
        ratio,
        rows = opts.rows,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "import",
            "backend": backend,
            "rows": opts.rows,
            "products": products,
            "created": report.created,
            "problems": report.problems.len(),
            "stockdesk_s": round(secs(t_import)),
            "raw_s": round(secs(t_raw)),
            "stockdesk_rows_per_s": round(mine),
            "raw_rows_per_s": round(raw),
            "ratio": round(ratio),
        }),
    })
}

/// `rows` product rows: the first row of a product names it, every row is one size of it.
fn shopify_csv(products: usize, rows: usize) -> String {
    let mut out = String::from(
        "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,\
         Variant SKU,Variant Inventory Qty,Variant Price,Status\n",
    );
    let mut written = 0;
    for p in 0..products {
        for (k, size) in SIZES.iter().enumerate() {
            if written == rows {
                return out;
            }
            if k == 0 {
                out.push_str(&format!(
                    "bench-{p},Bench product {p},<p>A product of the bench.</p>,Acme,Apparel,,\
                     TRUE,Size,{size},B{p}-{size},{},{}.99,active\n",
                    p % 50,
                    10 + p % 90
                ));
            } else {
                out.push_str(&format!(
                    "bench-{p},,,,,,,,{size},B{p}-{size},{},{}.99,\n",
                    (p + k) % 50,
                    10 + p % 90
                ));
            }
            written += 1;
        }
    }
    out
}

/// The same products and variants as plain rows, in one write transaction: no category, no
/// checks, no history, no ledger.
async fn raw_insert(sd: &stockdesk::Stockdesk, products: usize, rows: usize) -> Result<()> {
    let mut tx = sd.store().write().await?;
    let now = sd.now();
    let mut written = 0;
    for p in 0..products {
        let id = uuid::Uuid::now_v7();
        let name = format!("Raw product {p}");
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO products (id, name, slug, description, status, search_text, version, \
             created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, 'published', $5, 1, $6, $6, 'bench')")
            .bind(id).bind(&name).bind(format!("raw-{p}")).bind("<p>A product of the bench.</p>")
            .bind(format!("{} raw-{p}", name.to_lowercase())).bind(now)
            .execute(&mut **c).await?.rows_affected());
        for (k, size) in SIZES.iter().enumerate() {
            if written == rows {
                break;
            }
            on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO variants (id, product_id, sku, price_minor, currency, stock_on_hand, \
                 position, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 'EUR', $5, $6, 1, $7, $7)")
                .bind(uuid::Uuid::now_v7()).bind(id).bind(format!("R{p}-{size}"))
                .bind(1099 + (p % 90) as i64 * 100).bind(((p + k) % 50) as i64).bind(k as i64).bind(now)
                .execute(&mut **c).await?.rows_affected());
            written += 1;
        }
    }
    tx.commit().await
}
