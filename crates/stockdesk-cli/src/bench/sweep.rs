//! `bench sweep`: how long the sweeper takes to expire a backlog of overdue orders, and how long
//! a sweep with nothing to do takes when many orders are pending and within their window (the
//! sweeper runs every minute or so, so its idle cost is what a shop pays all day).
//!
//! The orders, lines and reservations are made in bulk by SQL in the scratch database (one row
//! each per order, spread over the variants of a small catalog, with the variants' `held`
//! counters set to match), not through `create_order`: the bench times the sweeper, not the
//! seeding.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use tracing::Instrument;

use super::scratch::Scratch;
use super::stats::{per_second, percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::{NewProduct, NewVariant, ProductStatus, MAX_STOCK};
use stockdesk::error::{Error, Result};
use stockdesk::store::on_tx;
use stockdesk::Stockdesk;

pub struct SweepOptions {
    /// Overdue orders (one reservation each) the timed sweeps must expire.
    pub overdue: usize,
    /// Pending orders within their window while the idle sweep runs.
    pub active: usize,
}

/// Idle sweeps timed; the median is reported.
const IDLE_RUNS: usize = 5;
/// The catalog the orders are for: this many products of `VARIANTS_PER_PRODUCT` variants.
const PRODUCTS: usize = 100;
const VARIANTS_PER_PRODUCT: usize = 5;

pub async fn run(scratch: &Scratch, opts: SweepOptions) -> Result<BenchReport> {
    let sd = &scratch.sd;
    let now = sd.now();
    seed_catalog(sd).await?;

    seed_orders(sd, opts.active, now + TimeDelta::hours(1), "bench-active").await?;
    let mut idle = Vec::with_capacity(IDLE_RUNS);
    for _ in 0..IDLE_RUNS {
        let start = Instant::now();
        let run = sd.sweep_once().await?;
        idle.push(start.elapsed());
        if expired(&run) != 0 {
            return Err(Error::BadInput(
                "the idle sweep found overdue orders".into(),
            ));
        }
    }
    let idle_ms = percentile_ms(&mut idle, 50.0);

    seed_orders(sd, opts.overdue, now - TimeDelta::hours(1), "bench-overdue").await?;
    let start = Instant::now();
    let (mut reservations, mut runs) = (0, 0);
    loop {
        let run = sd.sweep_once().await?;
        runs += 1;
        let n = expired(&run);
        reservations += n;
        if n == 0 {
            break;
        }
    }
    let expire_time = start.elapsed();
    let expire_ms = expire_time.as_secs_f64() * 1000.0;
    let expire_rate = per_second(reservations as usize, expire_time);
    let idle_rate = per_second(opts.active, Duration::from_secs_f64(idle_ms / 1000.0));

    let backend = sd.backend().name();
    let table = format!(
        "sweep on {backend}\n\
         {:<52} {:>10} {:>14}\n\
         {:<52} {:>10.1} {:>14.0}\n\
         {:<52} {:>10.1} {:>14.0}",
        "case",
        "ms",
        "rows/s",
        format!(
            "expire {} overdue reservations ({runs} sweeps)",
            opts.overdue
        ),
        expire_ms,
        expire_rate,
        format!(
            "idle sweep over {} active reservations (median)",
            opts.active
        ),
        idle_ms,
        idle_rate,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "sweep",
            "backend": backend,
            "overdue": opts.overdue,
            "active": opts.active,
            "reservations_expired": reservations,
            "expire_sweeps": runs,
            "expire_ms": round(expire_ms),
            "expire_rows_per_s": round(expire_rate),
            "idle_sweep_ms": round(idle_ms),
            "idle_rows_per_s": round(idle_rate),
        }),
    })
}

fn expired(run: &stockdesk::sweeper::SweepRun) -> i64 {
    run.jobs
        .iter()
        .filter_map(|j| j.counts.get("reservations_expired"))
        .sum()
}

/// The products the orders are for, made the normal way.
async fn seed_catalog(sd: &Stockdesk) -> Result<()> {
    for p in 0..PRODUCTS {
        let variants = (0..VARIANTS_PER_PRODUCT)
            .map(|v| NewVariant {
                id: None,
                sku: format!("SWEEP-{p}-{v}"),
                price_minor: 100,
                currency: "EUR".into(),
                stock_on_hand: MAX_STOCK,
                attributes: Default::default(),
            })
            .collect();
        let product = NewProduct {
            id: None,
            name: format!("Sweep bench {p}"),
            slug: None,
            description: String::new(),
            status: ProductStatus::Published,
            category_id: None,
            variants,
        };
        sd.create_product(product, None).await?;
    }
    Ok(())
}

/// `n` pending orders due at `due`, each with one line and one active reservation, tagged with
/// `tag` as their creator so each step picks up only its own orders.
async fn seed_orders(sd: &Stockdesk, n: usize, due: DateTime<Utc>, tag: &str) -> Result<()> {
    let span = tracing::info_span!("seed_orders", n, tag);
    async {
    let mut tx = sd.store().write().await?;
    let id = tx.backend().random_id();
    let now = sd.now();
    let orders = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO orders (id, status, payment_expires_at, created_at, created_by, updated_at, \
         updated_by) SELECT {id}, 'pending', $2, $3, $4, $3, $4 FROM n"
    );
    on_tx!(&mut tx, c => sqlx::query(&orders)
        .bind(n as i64).bind(due).bind(now).bind(tag).execute(&mut **c).await?.rows_affected());
    // Orders go round the variants in id order.
    let items = format!(
        "INSERT INTO order_items (id, order_id, line_no, variant_id, product_id, sku, product_name, \
         quantity, unit_price_minor, currency) \
         SELECT {id}, o.id, 1, v.id, v.product_id, v.sku, 'Bench', 1, 100, 'EUR' \
         FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) % $2 AS k FROM orders \
               WHERE created_by = $1) o \
         JOIN (SELECT id, product_id, sku, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k \
               FROM variants) v ON v.k = o.k"
    );
    let variants = (PRODUCTS * VARIANTS_PER_PRODUCT) as i64;
    on_tx!(&mut tx, c => sqlx::query(&items)
        .bind(tag).bind(variants).execute(&mut **c).await?.rows_affected());
    let reservations = format!(
        "INSERT INTO reservations (id, order_id, order_item_id, variant_id, quantity, \
         reserved_until, status, created_at) \
         SELECT {id}, i.order_id, i.id, i.variant_id, i.quantity, o.payment_expires_at, 'active', \
         o.created_at FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.created_by = $1"
    );
    on_tx!(&mut tx, c => sqlx::query(&reservations).bind(tag).execute(&mut **c).await?.rows_affected());
    // The counters the stock code keeps, as it would have kept them.
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE variants SET held = (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r \
         WHERE r.variant_id = variants.id AND r.status = 'active')")
        .execute(&mut **c).await?.rows_affected());
    tx.commit().await?;
    // Fresh statistics, as a database that grew to this size over time would have.
    let mut tx = sd.store().write().await?;
    on_tx!(&mut tx, c => sqlx::query("ANALYZE").execute(&mut **c).await?.rows_affected());
    tx.commit().await
    }
    .instrument(span)
    .await
}
