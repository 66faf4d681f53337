//! `bench patch`: version-checked `patch_product` against the same row updates done with
//! hand-written SQL and no checks, no merge, no validation and no history.

use std::time::{Duration, Instant};

use serde_json::json;

use super::scratch::Scratch;
use super::stats::{per_second, round};
use super::BenchReport;
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::catalog::{PatchRequest, ProductPatch, ProductQuery, VariantOps, VariantUpdate};
use stockdesk::error::Result;
use stockdesk::store::on_tx;

pub struct PatchOptions {
    /// Edits per side.
    pub ops: usize,
    /// Products the edits spread over.
    pub products: usize,
}

/// Edits run in alternating rounds so that both sides see the same machine weather.
const ROUND: usize = 50;

struct Target {
    id: uuid::Uuid,
    /// The slug and SKUs part of the search text, which a raw edit of the name must keep.
    sku_text: String,
    variant: uuid::Uuid,
    version: i64,
}

pub async fn run(scratch: &Scratch, opts: PatchOptions) -> Result<BenchReport> {
    let sd = &scratch.sd;
    sd.seed(SeedOptions {
        products: opts.products.max(2),
        seed: 1,
    })
    .await?;
    let page = sd
        .list_products(ProductQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await?;
    let mut targets = Vec::new();
    for item in page.items {
        let p = sd.get_product(item.id).await?;
        let skus: Vec<&str> = p.variants.iter().map(|v| v.sku.as_str()).collect();
        targets.push(Target {
            id: p.id,
            sku_text: format!("{} {}", p.slug, skus.join(" ")).to_lowercase(),
            variant: p.variants[0].id,
            version: p.version,
        });
    }
    // Each side edits its own half, so neither sees the other's rows.
    let half = targets.len() / 2;
    let (mine, raw): (Vec<_>, Vec<_>) = {
        let mut it = targets.into_iter();
        let a: Vec<_> = it.by_ref().take(half).collect();
        (a, it.collect())
    };
    let mut mine = mine;

    let (mut t_mine, mut t_raw) = (Duration::ZERO, Duration::ZERO);
    let (mut n_mine, mut n_raw) = (0, 0);
    while n_mine < opts.ops || n_raw < opts.ops {
        let round = ROUND.min(opts.ops - n_mine);
        let start = Instant::now();
        for k in n_mine..n_mine + round {
            let t = &mut mine[k % half];
            let out = sd
                .patch_product(PatchRequest {
                    product_id: t.id,
                    expected_version: t.version,
                    patch: typical_edit(k, t.variant),
                    op_id: None,
                })
                .await?;
            t.version = out.product.version;
        }
        t_mine += start.elapsed();
        n_mine += round;

        let round = ROUND.min(opts.ops - n_raw);
        let start = Instant::now();
        for k in n_raw..n_raw + round {
            let t = &raw[k % raw.len()];
            raw_edit(sd, t, k).await?;
        }
        t_raw += start.elapsed();
        n_raw += round;
    }

    let (mine_rate, raw_rate) = (per_second(n_mine, t_mine), per_second(n_raw, t_raw));
    let ratio = mine_rate / raw_rate;
    let backend = sd.backend().name();
    let table = format!(
        "patch on {backend}: {ops} edits each (2 fields + 1 variant)\n\
         {:<28} {:>12}\n{:<28} {:>12.1}\n{:<28} {:>12.1}\n{:<28} {:>12.3}",
        "strategy",
        "edits/s",
        "stockdesk (checked, merged)",
        mine_rate,
        "raw SQL (no checks)",
        raw_rate,
        "ratio stockdesk/raw",
        ratio,
        ops = opts.ops,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "patch",
            "backend": backend,
            "ops": opts.ops,
            "stockdesk_ops_per_s": round(mine_rate),
            "raw_ops_per_s": round(raw_rate),
            "ratio": round(ratio),
        }),
    })
}

fn typical_edit(k: usize, variant: uuid::Uuid) -> ProductPatch {
    ProductPatch {
        name: Some(format!("Edited product {k}")),
        description: Some(format!("Description after edit {k}.")),
        variants: VariantOps {
            update: vec![VariantUpdate {
                id: variant,
                price_minor: Some(1000 + k as i64),
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The same row changes in one write transaction (the search text too, so the search index is
/// maintained on both sides), as a hand-written data layer would do them.
async fn raw_edit(sd: &stockdesk::Stockdesk, t: &Target, k: usize) -> Result<()> {
    let mut tx = sd.store().write().await?;
    let now = sd.now();
    let name = format!("Edited product {k}");
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE products SET name = $2, description = $3, search_text = $4, version = version + 1, \
         updated_at = $5, updated_by = $6 WHERE id = $1")
        .bind(t.id).bind(&name).bind(format!("Description after edit {k}."))
        .bind(format!("{} {}", name.to_lowercase(), t.sku_text)).bind(now).bind("bench")
        .execute(&mut **c).await?.rows_affected());
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE variants SET price_minor = $2, version = version + 1, updated_at = $3 WHERE id = $1")
        .bind(t.variant).bind(1000 + k as i64).bind(now).execute(&mut **c).await?.rows_affected());
    tx.commit().await
}
