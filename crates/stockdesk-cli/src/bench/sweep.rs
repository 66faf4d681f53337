//! `bench sweep`: how long the sweeper takes to expire a backlog of overdue orders, against the
//! plain baseline (one transaction of the fewest statements that expire the same orders, their
//! reservations and the variants' `held` counters, on the same database settings and the same
//! seeded rows); how long buyers wait for an order while the sweeper clears such a backlog; and
//! how long a sweep with nothing to do takes when many orders are pending and within their window
//! (the sweeper runs every minute or so, so its idle cost is what a shop pays all day).
//!
//! The orders, lines and reservations are made in bulk by SQL in the scratch database (one row
//! each per order, spread over the variants of a small catalog, with the variants' `held`
//! counters set to match), not through `create_order`: the bench times the sweeper, not the
//! seeding. Each timed side gets a backlog of its own, seeded the same way beside the same
//! pending orders (the tables vacuumed in between, on Postgres), so both sides do the same work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use tracing::Instrument;
use uuid::Uuid;

use super::scratch::Scratch;
use super::stats::{per_second, percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::{NewProduct, NewVariant, ProductStatus, MAX_STOCK};
use stockdesk::error::{Error, Result};
use stockdesk::stock::{NewOrder, NewOrderItem};
use stockdesk::store::{on_tx, Backend, Store};
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
/// Buyers placing orders one after another while the sweeper works.
const BUYERS: usize = 4;
/// The longest the buyers' quiet round lasts (their latency without a sweep, for comparison):
/// as long as the sweeper took alone, within half a second and this.
const QUIET: Duration = Duration::from_secs(2);

pub async fn run(scratch: &Scratch, opts: SweepOptions) -> Result<BenchReport> {
    let sd = &scratch.sd;
    let now = sd.now();
    let variants = seed_catalog(sd).await?;

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

    // The baseline: the same backlog, expired in one plain transaction.
    let due = now - TimeDelta::hours(1);
    seed_orders(sd, opts.overdue, due, "bench-baseline").await?;
    let start = Instant::now();
    let baseline_rows = plain_expiry(sd, sd.now()).await?;
    let baseline_time = start.elapsed();
    if baseline_rows != opts.overdue as i64 {
        return Err(Error::BadInput(format!(
            "the baseline expired {baseline_rows} reservations, not {}",
            opts.overdue
        )));
    }
    tidy(sd).await?;

    // The sweeper, alone.
    seed_orders(sd, opts.overdue, due, "bench-overdue").await?;
    let (reservations, runs, expire_time) = sweep_backlog(sd).await?;
    tidy(sd).await?;

    // Buyers: alone, then while the sweeper clears the same backlog again.
    let ((), mut quiet) = buyers_while(sd, &variants, async {
        tokio::time::sleep(expire_time.clamp(Duration::from_millis(500), QUIET)).await;
        Ok(())
    })
    .await?;
    seed_orders(sd, opts.overdue, due, "bench-overdue-2").await?;
    let ((loaded_reservations, _, loaded_time), mut during) =
        buyers_while(sd, &variants, sweep_backlog(sd)).await?;
    if loaded_reservations != opts.overdue as i64 {
        return Err(Error::BadInput(format!(
            "with buyers, the sweeper expired {loaded_reservations} reservations, not {}",
            opts.overdue
        )));
    }
    let buyers_quiet_p99 = percentile_ms(&mut quiet, 99.0);
    let buyers_p50 = percentile_ms(&mut during, 50.0);
    let buyers_p99 = percentile_ms(&mut during, 99.0);

    let expire_ms = expire_time.as_secs_f64() * 1000.0;
    let baseline_ms = baseline_time.as_secs_f64() * 1000.0;
    let ratio = baseline_ms / expire_ms.max(f64::EPSILON);
    let expire_rate = per_second(reservations as usize, expire_time);
    let baseline_rate = per_second(baseline_rows as usize, baseline_time);
    let idle_rate = per_second(opts.active, Duration::from_secs_f64(idle_ms / 1000.0));

    let backend = sd.backend().name();
    let table = format!(
        "sweep on {backend}\n\
         {:<58} {:>10} {:>14}\n\
         {:<58} {:>10.1} {:>14.0}\n\
         {:<58} {:>10.1} {:>14.0}\n\
         {:<58} {:>10.3}\n\
         {:<58} {:>10.1}\n\
         {:<58} {:>10.1}\n\
         {:<58} {:>10.1}\n\
         {:<58} {:>10.1} {:>14.0}",
        "case",
        "ms",
        "rows/s",
        format!(
            "sweeper: expire {} overdue reservations ({runs} sweeps)",
            opts.overdue
        ),
        expire_ms,
        expire_rate,
        "baseline: the same in one plain transaction",
        baseline_ms,
        baseline_rate,
        "ratio sweeper/baseline (speed)",
        ratio,
        format!("sweeper with {BUYERS} buyers ordering meanwhile"),
        loaded_time.as_secs_f64() * 1000.0,
        "buyers' p99 per order during that sweep",
        buyers_p99,
        "buyers' p99 per order without a sweep",
        buyers_quiet_p99,
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
            "baseline_ms": round(baseline_ms),
            "baseline_rows_per_s": round(baseline_rate),
            "ratio": round(ratio),
            "buyers": BUYERS,
            "expire_with_buyers_ms": round(loaded_time.as_secs_f64() * 1000.0),
            "buyer_orders_during_sweep": during.len(),
            "buyers_p50_ms_during_sweep": round(buyers_p50),
            "buyers_p99_ms_during_sweep": round(buyers_p99),
            "buyers_p99_ms_quiet": round(buyers_quiet_p99),
            "idle_sweep_ms": round(idle_ms),
            "idle_rows_per_s": round(idle_rate),
        }),
    })
}

/// Sweeps until a sweep expires nothing: the reservations expired, the sweeps run, the time.
async fn sweep_backlog(sd: &Stockdesk) -> Result<(i64, usize, Duration)> {
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
    Ok((reservations, runs, start.elapsed()))
}

/// `BUYERS` tasks each ordering one unit at a time (of the catalog's variants in turn) until
/// `work` is done (one order each at least); what it gave, and the time each order took.
async fn buyers_while<T>(
    sd: &Stockdesk,
    variants: &[Uuid],
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<(T, Vec<Duration>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..BUYERS)
        .map(|b| {
            let (sd, stop, variants) = (sd.clone(), stop.clone(), variants.to_vec());
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut k = b;
                // At least one order each, however short the work.
                loop {
                    let order = NewOrder {
                        id: None,
                        items: vec![NewOrderItem {
                            variant_id: variants[k % variants.len()],
                            quantity: 1,
                        }],
                        expires_in_secs: None,
                    };
                    let start = Instant::now();
                    sd.create_order(order, None).await?;
                    took.push(start.elapsed());
                    k += BUYERS;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                Ok::<_, Error>(took)
            })
        })
        .collect();
    let worked = work.await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        let took = task
            .await
            .map_err(|e| Error::BadInput(format!("buyer failed: {e}")))??;
        all.extend(took);
    }
    worked.map(|t| (t, all))
}

/// The plain baseline: every overdue pending order expired, with its active reservations and the
/// variants' counters, in one transaction of the fewest statements the backend allows (one on
/// Postgres, where a `WITH` can write; three on SQLite). No change feed, no batches, no locks
/// beyond what the statements take. Returns the reservations it expired.
async fn plain_expiry(sd: &Stockdesk, now: DateTime<Utc>) -> Result<i64> {
    let mut tx = sd.store().write().await?;
    let expired = match tx.backend() {
        Backend::Postgres => {
            let sql = "WITH o AS (UPDATE orders SET status = 'expired', closed_at = $1, \
                 updated_at = $1, updated_by = $2 \
                 WHERE status = 'pending' AND payment_expires_at <= $1 RETURNING id), \
                 r AS (UPDATE reservations SET status = 'expired', closed_at = $1 \
                 WHERE status = 'active' AND order_id IN (SELECT id FROM o) \
                 RETURNING variant_id, quantity), \
                 v AS (UPDATE variants SET held = variants.held - d.q \
                 FROM (SELECT variant_id, SUM(quantity) AS q FROM r GROUP BY variant_id) d \
                 WHERE variants.id = d.variant_id) \
                 SELECT COUNT(*) FROM r";
            on_tx!(&mut tx, c => sqlx::query_scalar::<_, i64>(sql)
                .bind(now).bind("baseline").fetch_one(&mut **c).await?)
        }
        Backend::Sqlite => {
            let due = "SELECT id FROM orders WHERE status = 'pending' AND payment_expires_at <= $1";
            let counters = format!(
                "UPDATE variants SET held = variants.held - d.q \
                 FROM (SELECT variant_id, SUM(quantity) AS q FROM reservations \
                 WHERE status = 'active' AND order_id IN ({due}) GROUP BY variant_id) d \
                 WHERE variants.id = d.variant_id"
            );
            on_tx!(&mut tx, c => sqlx::query(&counters).bind(now).execute(&mut **c).await?
                .rows_affected());
            let holds = format!(
                "UPDATE reservations SET status = 'expired', closed_at = $1 \
                 WHERE status = 'active' AND order_id IN ({due})"
            );
            let n = on_tx!(&mut tx, c => sqlx::query(&holds).bind(now).execute(&mut **c).await?
                .rows_affected());
            on_tx!(&mut tx, c => sqlx::query(
                "UPDATE orders SET status = 'expired', closed_at = $1, updated_at = $1, \
                 updated_by = $2 WHERE status = 'pending' AND payment_expires_at <= $1")
                .bind(now).bind("baseline").execute(&mut **c).await?.rows_affected());
            n as i64
        }
    };
    tx.commit().await?;
    Ok(expired)
}

/// Tidies the tables after a side has expired its backlog (VACUUM on Postgres, which an
/// autovacuum would do in time; ANALYZE on SQLite), so the next side starts from clean tables.
/// The expired rows stay (deleting them costs more than the sweep: nothing indexes the lines'
/// and holds' references for the foreign-key checks), so each later side works beside the
/// earlier sides' expired orders: if anything, that favours the baseline, which goes first.
async fn tidy(sd: &Stockdesk) -> Result<()> {
    match sd.store() {
        Store::Postgres(pool) => {
            sqlx::query("VACUUM ANALYZE").execute(pool).await?;
        }
        Store::Sqlite(pool) => {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}

fn expired(run: &stockdesk::sweeper::SweepRun) -> i64 {
    run.jobs
        .iter()
        .filter_map(|j| j.counts.get("reservations_expired"))
        .sum()
}

/// The products the orders are for, made the normal way; their variants' ids.
async fn seed_catalog(sd: &Stockdesk) -> Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for p in 0..PRODUCTS {
        let variants = (0..VARIANTS_PER_PRODUCT)
            .map(|v| NewVariant {
                id: None,
                sku: format!("SWEEP-{p}-{v}"),
                barcode: None,
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
        let product = sd.create_product(product, None).await?;
        ids.extend(product.variants.iter().map(|v| v.id));
    }
    Ok(ids)
}

/// `n` pending orders due at `due`, each with one line and one active reservation, tagged with
/// `tag` as their creator so each step picks up only its own orders.
async fn seed_orders(sd: &Stockdesk, n: usize, due: DateTime<Utc>, tag: &str) -> Result<()> {
    let span = tracing::info_span!("seed_orders", n, tag);
    async {
    let mut tx = sd.store().write().await?;
    if tx.backend() == Backend::Postgres {
        // A bulk load of a million orders is the bench's own set-up, not a shop's statement.
        on_tx!(&mut tx, c => sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut **c).await?.rows_affected());
    }
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
    // One grouped pass over the holds (a per-variant subquery scans them once per variant).
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE variants SET held = h.held FROM (SELECT v.id, COALESCE(SUM(r.quantity), 0) AS held \
         FROM variants v LEFT JOIN reservations r ON r.variant_id = v.id AND r.status = 'active' \
         GROUP BY v.id) AS h WHERE h.id = variants.id")
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
