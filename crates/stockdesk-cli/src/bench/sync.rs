//! `bench sync`: offline-first terminals against the shop's Postgres, each side by side with the
//! plain thing a terminal without a replica would do in the same run:
//! - push: 1,000 edits queued on a replica, sent in one sync, against the same edits applied
//!   directly on the shop's Postgres;
//! - catch-up: 10,000 changes made on the shop, pulled into a replica, against one raw `SELECT`
//!   of the rows they changed;
//! - join: a replica of the whole shop (100,000 products), against raw `SELECT`s of every row
//!   a replica holds;
//! - 50 terminals at once, each writing and syncing in turns: commands/s, p99 of one sync, and
//!   whether the shop is still right (`check`) and every command landed once. They share a shop
//!   of their own, of `MANY_PRODUCTS` products: what is measured is the traffic, and fifty
//!   joins of the big shop would only measure joining again.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::scratch::Scratch;
use super::stats::{per_second, percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::catalog::{PatchRequest, ProductPatch, ProductQuery};
use stockdesk::error::{Error, Result};
use stockdesk::store::Stmt;
use stockdesk::sync::tables::{Columns, TABLES};
use stockdesk::{Backend, BlobBackend, Stockdesk, Store};

pub struct SyncOptions {
    /// Edits queued on a replica and pushed.
    pub edits: usize,
    /// Changes made on the shop and pulled.
    pub changes: usize,
    /// Products of the shop a replica joins.
    pub products: usize,
    /// Terminals syncing at once, and commands each.
    pub terminals: usize,
    pub rounds: usize,
}

/// Products of the shop the many terminals share.
const MANY_PRODUCTS: usize = 1_000;

pub async fn run(scratch: &Scratch, many_shop: &Scratch, opts: SyncOptions) -> Result<BenchReport> {
    if scratch.sd.backend() != Backend::Postgres {
        return Err(Error::BadInput(
            "bench sync needs a shop on Postgres (--db postgres://…): terminals join a Postgres"
                .into(),
        ));
    }
    // Terminals that work offline need the shop's images in its database.
    let shop = &scratch
        .sd
        .clone()
        .settle_blobs(Some(BlobBackend::Db), None)
        .await?;
    let dir = tempfile::tempdir()?;
    shop.seed(SeedOptions {
        products: opts.products.max(10),
        seed: 3,
    })
    .await?;
    let targets = products(shop, 200).await?;

    // Join: the whole shop into a new replica, against reading every row it copies.
    let started = Instant::now();
    let terminal = join(&scratch.url, &dir.path().join("till"), "till").await?;
    let join_time = started.elapsed();
    let started = Instant::now();
    let rows = read_everything(shop).await?;
    let read_time = started.elapsed();

    // Push: edits queued on the replica, then sent in one sync; against applying them directly.
    let mut versions: Vec<(Uuid, i64)> = Vec::new();
    for &id in &targets {
        versions.push((id, terminal.get_product(id).await?.version));
    }
    for k in 0..opts.edits {
        let (id, v) = &mut versions[k % targets.len()];
        *v = terminal
            .patch_product(edit(*id, *v, k))
            .await?
            .product
            .version;
    }
    let started = Instant::now();
    let pushed = terminal.sync_once().await?;
    let push_time = started.elapsed();
    if pushed.applied != opts.edits as i64 {
        return Err(Error::Internal(format!(
            "pushed {} of {} edits",
            pushed.applied, opts.edits
        )));
    }
    let mut direct = Vec::new();
    for &id in &targets {
        direct.push((id, shop.get_product(id).await?.version));
    }
    let started = Instant::now();
    for k in 0..opts.edits {
        let (id, v) = &mut direct[k % targets.len()];
        *v = shop.patch_product(edit(*id, *v, k)).await?.product.version;
    }
    let direct_time = started.elapsed();

    // Catch-up: changes made on the shop while the replica looks away, then one pull.
    terminal.sync_once().await?;
    let variants = variants_of(shop, &targets).await?;
    for k in 0..opts.changes {
        shop.receive_stock(variants[k % variants.len()], 1, None)
            .await?;
    }
    let started = Instant::now();
    let caught_up = terminal.sync_once().await?;
    let pull_time = started.elapsed();
    let started = Instant::now();
    raw_changed_rows(shop, &variants).await?;
    let raw_time = started.elapsed();

    // Many terminals at once.
    let many = many_terminals(many_shop, dir.path(), &opts).await?;

    let push_ratio = direct_time.as_secs_f64() / push_time.as_secs_f64();
    let pull_ratio = raw_time.as_secs_f64() / pull_time.as_secs_f64();
    let join_ratio = read_time.as_secs_f64() / join_time.as_secs_f64();
    let table = format!(
        "sync against Postgres\n\
         {:<52} {:>10} {:>10} {:>8}\n\
         {:<52} {:>9.2}s {:>9.2}s {:>8.3}\n\
         {:<52} {:>9.2}s {:>9.2}s {:>8.3}\n\
         {:<52} {:>9.2}s {:>9.2}s {:>8.3}\n\
         {} terminals × {} syncs (a shop of {} products): {:.0} commands/s, p99 sync {:.0} ms, check {}, every command \
         once: {}",
        "",
        "stockdesk",
        "baseline",
        "ratio",
        format!(
            "push {} queued edits / the same applied directly",
            opts.edits
        ),
        push_time.as_secs_f64(),
        direct_time.as_secs_f64(),
        push_ratio,
        format!(
            "catch up {} changes ({} pulled) / raw SELECT of the rows",
            opts.changes, caught_up.pulled
        ),
        pull_time.as_secs_f64(),
        raw_time.as_secs_f64(),
        pull_ratio,
        format!(
            "join {} products ({rows} rows) / raw SELECT of every row",
            opts.products
        ),
        join_time.as_secs_f64(),
        read_time.as_secs_f64(),
        join_ratio,
        opts.terminals,
        opts.rounds,
        many.products,
        many.per_second,
        many.p99_ms,
        if many.clean { "clean" } else { "NOT CLEAN" },
        many.once,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "sync",
            "backend": "postgres",
            "push": {"edits": opts.edits, "seconds": round(push_time.as_secs_f64()),
                     "direct_seconds": round(direct_time.as_secs_f64()), "ratio": round(push_ratio)},
            "catch_up": {"changes": opts.changes, "pulled": caught_up.pulled,
                         "seconds": round(pull_time.as_secs_f64()),
                         "raw_seconds": round(raw_time.as_secs_f64()), "ratio": round(pull_ratio)},
            "join": {"products": opts.products, "rows": rows,
                     "seconds": round(join_time.as_secs_f64()),
                     "raw_seconds": round(read_time.as_secs_f64()), "ratio": round(join_ratio)},
            "terminals": {"count": opts.terminals, "rounds": opts.rounds, "shop_products": many.products,
                          "commands_per_s": round(many.per_second), "p99_sync_ms": round(many.p99_ms),
                          "check_clean": many.clean, "every_command_once": many.once},
        }),
    })
}

/// A new replica of the shop at `url` in `dir`.
async fn join(url: &str, dir: &std::path::Path, name: &str) -> Result<Stockdesk> {
    let local = Stockdesk::open(&Store::sqlite_url(&dir.join("stockdesk.db")), name)
        .await?
        .with_data_dir(dir.to_path_buf())
        .settle_blobs(None, None)
        .await?;
    let (sd, _) = local
        .join_shop(url, Some(name), &|_| {}, &AtomicBool::new(false))
        .await?;
    Ok(sd)
}

async fn products(sd: &Stockdesk, n: i64) -> Result<Vec<Uuid>> {
    let page = sd
        .list_products(ProductQuery {
            limit: Some(n),
            ..Default::default()
        })
        .await?;
    Ok(page.items.into_iter().map(|p| p.id).collect())
}

async fn variants_of(sd: &Stockdesk, products: &[Uuid]) -> Result<Vec<Uuid>> {
    let mut out = Vec::new();
    for &id in products {
        out.extend(sd.get_product(id).await?.variants.iter().map(|v| v.id));
    }
    Ok(out)
}

fn edit(product_id: Uuid, expected_version: i64, k: usize) -> PatchRequest {
    PatchRequest {
        product_id,
        expected_version,
        patch: ProductPatch {
            description: Some(format!("Described at the till, edit {k}.")),
            ..Default::default()
        },
        op_id: None,
    }
}

/// Every row a replica copies, read plainly (what a join cannot beat by much).
async fn read_everything(sd: &Stockdesk) -> Result<i64> {
    let mut conn = sd.store().conn().await?;
    let cols = Columns::read(&mut conn).await?;
    let mut rows = 0;
    for t in TABLES {
        let filter = Stmt::new(t.copied_only.unwrap_or("1 = 1"));
        rows += cols.fetch(&mut conn, t.name, filter).await?.len() as i64;
    }
    Ok(rows)
}

/// The rows the catch-up's changes touched, in one plain query each: the variants, their
/// products and the movements.
async fn raw_changed_rows(sd: &Stockdesk, variants: &[Uuid]) -> Result<usize> {
    let mut conn = sd.store().conn().await?;
    let cols = Columns::read(&mut conn).await?;
    let ids = || Stmt::ids_in("id", variants.iter().copied());
    let mut n = cols.fetch(&mut conn, "variants", ids()).await?.len();
    let of_products = ids().wrap(|f| format!("id IN (SELECT product_id FROM variants WHERE {f})"));
    n += cols.fetch(&mut conn, "products", of_products).await?.len();
    let moves = Stmt::ids_in("variant_id", variants.iter().copied());
    n += cols.fetch(&mut conn, "stock_movements", moves).await?.len();
    Ok(n)
}

struct Many {
    products: usize,
    per_second: f64,
    p99_ms: f64,
    clean: bool,
    once: bool,
}

/// `opts.terminals` replicas, each writing a receipt and syncing, `opts.rounds` times, all at once.
async fn many_terminals(
    scratch: &Scratch,
    dir: &std::path::Path,
    opts: &SyncOptions,
) -> Result<Many> {
    let shop = &scratch
        .sd
        .clone()
        .settle_blobs(Some(BlobBackend::Db), None)
        .await?;
    let products = MANY_PRODUCTS.min(opts.products.max(10));
    shop.seed(SeedOptions { products, seed: 5 }).await?;
    let variants = variants_of(shop, &self::products(shop, 200).await?).await?;
    let variants = &variants;
    let mut terminals = Vec::new();
    for n in 0..opts.terminals {
        terminals.push(join(&scratch.url, &dir.join(format!("t{n}")), &format!("t{n}")).await?);
    }
    let before: i64 = Stmt::new("SELECT COALESCE(SUM(stock_on_hand), 0)::bigint FROM variants")
        .fetch_scalar(&mut scratch.sd.store().conn().await?)
        .await?;
    let started = Instant::now();
    let tasks: Vec<_> = terminals
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let t = t.clone();
            let rounds = opts.rounds;
            let variant = variants[n % variants.len()];
            tokio::spawn(async move {
                let mut times = Vec::new();
                for _ in 0..rounds {
                    t.receive_stock(variant, 1, None).await?;
                    let start = Instant::now();
                    t.sync_once().await?;
                    times.push(start.elapsed());
                }
                Ok::<Vec<Duration>, Error>(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.extend(
            task.await
                .map_err(|e| Error::Internal(format!("a terminal's task: {e}")))??,
        );
    }
    let elapsed = started.elapsed();
    let after: i64 = Stmt::new("SELECT COALESCE(SUM(stock_on_hand), 0)::bigint FROM variants")
        .fetch_scalar(&mut scratch.sd.store().conn().await?)
        .await?;
    let total = opts.terminals * opts.rounds;
    Ok(Many {
        products,
        per_second: per_second(total, elapsed),
        p99_ms: percentile_ms(&mut times, 99.0),
        clean: scratch.sd.check_invariants().await?.is_empty(),
        once: after - before == total as i64,
    })
}
