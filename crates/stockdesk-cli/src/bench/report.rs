//! `bench report`: each report over a shop with a large ledger (1,000,000 movements by default: a
//! year of orders and their lines, sales, receipts, counts; edits and conflicts; a month of
//! sweeper runs), against a plain `GROUP BY` over the whole ledger in the same run — the cheapest
//! query anyone would write over that table. Reports cover the last `--days` days (30, the app's
//! default).
//!
//! The history is made in bulk by SQL in the scratch database (it is what a year of trading
//! leaves behind), over a catalog made by the demo seed; the bench times the reports, not the
//! seeding.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use serde_json::json;
use tracing::Instrument;

use super::scratch::Scratch;
use super::stats::{percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::error::Result;
use stockdesk::reports::ReportRange;
use stockdesk::store::on_tx;
use stockdesk::{Backend, Stockdesk};

pub struct ReportOptions {
    /// Movements in the ledger.
    pub ledger: usize,
    /// Products of the demo catalog the history is about.
    pub products: usize,
    /// Days each report covers (ending today).
    pub days: i64,
    /// Timed runs of each report (and of the baseline).
    pub queries: usize,
}

/// A year of history.
const YEAR_SECS: i64 = 365 * 24 * 3600;
/// Sweeper runs every 30 s, kept for 30 days.
const SWEEP_EVERY_SECS: i64 = 30;
const SWEEP_KEPT_SECS: i64 = 30 * 24 * 3600;

const REPORTS: [&str; 5] = ["sales", "stock", "holds", "edits", "sweeper"];

/// The baseline: every movement, counted and summed per kind.
const BASELINE: &str = "SELECT kind, COUNT(*), SUM(quantity) FROM stock_movements GROUP BY kind";

pub async fn run(scratch: &Scratch, opts: ReportOptions) -> Result<BenchReport> {
    let sd = &scratch.sd;
    sd.seed(SeedOptions {
        products: opts.products,
        seed: 1,
    })
    .await?;
    let made = seed_history(sd, opts.ledger)
        .instrument(tracing::info_span!("seed_history", ledger = opts.ledger))
        .await?;
    let range = ReportRange::last_days(opts.days, "UTC", sd.now())?;

    // Warm every path once (page cache, statement cache) before timing.
    for name in REPORTS {
        one_report(sd, name, &range).await?;
    }
    baseline(sd).await?;
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); REPORTS.len()];
    let mut base = Vec::new();
    for _ in 0..opts.queries {
        for (i, name) in REPORTS.iter().enumerate() {
            let start = Instant::now();
            one_report(sd, name, &range).await?;
            times[i].push(start.elapsed());
        }
        let start = Instant::now();
        baseline(sd).await?;
        base.push(start.elapsed());
    }
    let (b50, b95) = (
        round(percentile_ms(&mut base, 50.0)),
        round(percentile_ms(&mut base, 95.0)),
    );
    let backend = sd.backend().name();
    let mut table = format!(
        "report on {backend}: {ledger} ledger movements, {orders} orders, {edits} edits, \
         {runs} sweeper runs; reports over the last {days} days, {n} runs each\n\
         {:<34} {:>9} {:>9} {:>14}\n",
        "query",
        "p50 ms",
        "p95 ms",
        "p95 / baseline",
        ledger = made.ledger,
        orders = made.orders,
        edits = made.edits,
        runs = made.sweep_runs,
        days = opts.days,
        n = opts.queries,
    );
    let mut reports = Vec::new();
    for (name, samples) in REPORTS.iter().zip(&mut times) {
        let (p50, p95) = (
            round(percentile_ms(samples, 50.0)),
            round(percentile_ms(samples, 95.0)),
        );
        let ratio = round(p95 / b95.max(0.001));
        table.push_str(&format!(
            "{:<34} {p50:>9.2} {p95:>9.2} {ratio:>13.2}×\n",
            format!("report {name}")
        ));
        reports.push(json!({ "name": name, "p50_ms": p50, "p95_ms": p95, "ratio_p95": ratio }));
    }
    table.push_str(&format!(
        "{:<34} {b50:>9.2} {b95:>9.2} {:>14}",
        "baseline: GROUP BY kind over ledger", "1.00×"
    ));
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "report",
            "backend": backend,
            "ledger_rows": made.ledger,
            "orders": made.orders,
            "edits": made.edits,
            "sweep_runs": made.sweep_runs,
            "days": opts.days,
            "queries": opts.queries,
            "reports": reports,
            "baseline_p50_ms": b50,
            "baseline_p95_ms": b95,
        }),
    })
}

async fn one_report(sd: &Stockdesk, name: &str, range: &ReportRange) -> Result<()> {
    match name {
        "sales" => sd.sales_report(range).await.map(drop),
        "stock" => sd.stock_report(None).await.map(drop),
        "holds" => sd.holds_report(range).await.map(drop),
        "edits" => sd.edits_report(range).await.map(drop),
        _ => sd.sweeper_report(range).await.map(drop),
    }
}

async fn baseline(sd: &Stockdesk) -> Result<()> {
    let mut tx = sd.store().read().await?;
    let rows = on_tx!(&mut tx, c => sqlx::query(BASELINE).fetch_all(&mut **c).await?.len());
    tx.commit().await?;
    debug_assert!(rows > 0);
    Ok(())
}

/// What the seeding made.
struct Made {
    ledger: i64,
    orders: i64,
    edits: i64,
    sweep_runs: i64,
}

/// A year of trading over the seeded catalog, ending now: orders every few minutes (one to three
/// lines; 70 % paid, 15 % expired, 10 % cancelled, the rest of the last hour pending with their
/// holds), a sale movement per paid line, receipts, counts and adjustments up to `ledger`
/// movements, an edit per 10 orders (a tenth of them merged) and a conflict per 100, and a sweeper
/// run every 30 s over the last 30 days. Numbers come from the row number, so each run of the
/// bench makes the same shop.
async fn seed_history(sd: &Stockdesk, ledger: usize) -> Result<Made> {
    let backend = sd.backend();
    let id = backend.random_id();
    let now = sd.now();
    let start = (now - TimeDelta::seconds(YEAR_SECS)).timestamp();
    let at = |secs: &str| time_at(backend, &format!("{start} + ({secs})"));
    let orders = (ledger / 4).max(4) as i64;
    let step = (YEAR_SECS / orders).max(1);
    let series = |n: i64| {
        format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n} - 1)")
    };
    let mut tx = sd.store().write().await?;
    let statements = vec![
        // A tenth of the variants sell in dollars.
        "UPDATE variants SET currency = 'USD' WHERE sku LIKE '%3'".to_string(),
        format!(
            "{series} INSERT INTO orders (id, status, payment_expires_at, created_at, created_by, \
             updated_at, updated_by, paid_at, closed_at) \
             SELECT {id}, s.status, {due}, {created}, 'bench-' || CAST(i AS TEXT), {created}, \
                    'bench', CASE WHEN s.status = 'paid' THEN {paid} END, \
                    CASE WHEN s.status <> 'pending' THEN {paid} END \
             FROM (SELECT i, CASE WHEN {created_secs} > {recent} THEN 'pending' \
                                  WHEN i % 20 < 14 THEN 'paid' WHEN i % 20 < 17 THEN 'expired' \
                                  ELSE 'cancelled' END AS status FROM n) s",
            series = series(orders),
            created_secs = format!("i * {step}"),
            recent = YEAR_SECS - 3600,
            created = at(&format!("i * {step}")),
            paid = at(&format!("i * {step} + 60")),
            due = at(&format!("i * {step} + 900")),
        ),
        // One to three lines per order, over the variants in id order; a paid order's lines
        // carry its time of sale, as the payment stamps them.
        format!(
            "INSERT INTO order_items (id, order_id, line_no, variant_id, product_id, sku, \
             product_name, quantity, unit_price_minor, currency, paid_at) \
             SELECT {id}, o.id, l.line_no, v.id, v.product_id, v.sku, p.name, 1 + (o.k % 4), \
                    v.price_minor, v.currency, o.paid_at \
             FROM (SELECT id, paid_at, ROW_NUMBER() OVER (ORDER BY created_at) - 1 AS k \
                   FROM orders WHERE created_by LIKE 'bench-%') o \
             JOIN (SELECT 1 AS line_no UNION ALL SELECT 2 UNION ALL SELECT 3) l \
               ON l.line_no <= 1 + o.k % 3 \
             JOIN (SELECT id, product_id, sku, price_minor, currency, \
                          ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM variants) v \
               ON v.k = (o.k * 7 + l.line_no * 13) % (SELECT COUNT(*) FROM variants) \
             JOIN products p ON p.id = v.product_id"
        ),
        // Holds: converted for paid orders, released, expired, active for the pending ones.
        format!(
            "INSERT INTO reservations (id, order_id, order_item_id, variant_id, quantity, \
             reserved_until, status, created_at, closed_at) \
             SELECT {id}, o.id, i.id, i.variant_id, i.quantity, o.payment_expires_at, \
                    CASE o.status WHEN 'paid' THEN 'converted' WHEN 'cancelled' THEN 'released' \
                                  WHEN 'expired' THEN 'expired' ELSE 'active' END, \
                    o.created_at, o.closed_at \
             FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.created_by LIKE 'bench-%'"
        ),
        "UPDATE variants SET held = (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r \
         WHERE r.variant_id = variants.id AND r.status = 'active')"
            .to_string(),
        format!(
            "INSERT INTO stock_movements (id, variant_id, kind, quantity, on_hand_after, actor, \
             reason, order_id, at) \
             SELECT {id}, i.variant_id, 'sale', -i.quantity, 0, 'bench', '', o.id, o.paid_at \
             FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.status = 'paid' \
             AND o.created_by LIKE 'bench-%'"
        ),
    ];
    for sql in statements {
        on_tx!(&mut tx, c => sqlx::query(&sql).execute(&mut **c).await?.rows_affected());
    }
    let ledger_now: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM stock_movements")
        .fetch_one(&mut **c).await?);
    let others = (ledger as i64 - ledger_now).max(0);
    let other_step = (YEAR_SECS / others.max(1)).max(1);
    let edits = orders / 10;
    let edit_step = (YEAR_SECS / edits.max(1)).max(1);
    let conflicts = orders / 100;
    let conflict_step = (YEAR_SECS / conflicts.max(1)).max(1);
    let runs = SWEEP_KEPT_SECS / SWEEP_EVERY_SECS;
    // What an edit's stored outcome is like: the product as saved (a few kilobytes), and a merge
    // report for a tenth of them.
    let description = "A sturdy stoneware mug, glazed by hand. ".repeat(40);
    let statements = vec![
        format!(
            "{series} INSERT INTO stock_movements (id, variant_id, kind, quantity, on_hand_after, \
             actor, reason, at) \
             SELECT {id}, v.id, CASE n.i % 3 WHEN 0 THEN 'receipt' WHEN 1 THEN 'count' \
                                ELSE 'adjustment' END, 1 + n.i % 5, 10, 'bench', 'bench', {at} \
             FROM n JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM variants) v \
               ON v.k = n.i % (SELECT COUNT(*) FROM variants)",
            series = series(others),
            at = at(&format!("n.i * {other_step}")),
        ),
        format!(
            "{series} INSERT INTO applied_ops (op_id, kind, outcome, created_at, actor) \
             SELECT {id}, 'patch_product', {outcome}, {at}, 'bench' FROM n",
            series = series(edits),
            outcome = json_value(
                backend,
                &format!(
                    "'{{\"type\":\"patch\",\"value\":{{\"product\":{{\"description\":\"{description}\"}},\
                     \"merge\":' || CASE WHEN i % 10 = 0 THEN '{{\"base_version\":1}}' ELSE 'null' END \
                     || ',\"replayed\":false}}}}'"
                )
            ),
            at = at(&format!("i * {edit_step}")),
        ),
        format!(
            "{series} INSERT INTO edit_conflicts (op_id, product_id, kind, actor, expected_version, \
             current_version, paths, at) \
             SELECT {id}, p.id, 'patch_product', 'bench', 1, 2, '[\"name\"]', {at} \
             FROM n JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM products) p \
               ON p.k = n.i % (SELECT COUNT(*) FROM products)",
            series = series(conflicts),
            at = at(&format!("n.i * {conflict_step}")),
        ),
        format!(
            "{series} INSERT INTO sweep_runs (id, actor, started_at, finished_at, status, errors, \
             jobs) SELECT {id}, 'bench', {started}, {started}, \
             CASE WHEN i % 500 = 0 THEN 'failed' ELSE 'ok' END, 0, \
             '[{{\"job\":\"expire_orders\",\"counts\":{{\"orders_expired\":0}},\"error\":null,\"millis\":2}}]' \
             FROM n",
            series = series(runs),
            started = at(&format!("{} + i * {SWEEP_EVERY_SECS}", YEAR_SECS - SWEEP_KEPT_SECS)),
        ),
    ];
    for sql in statements {
        on_tx!(&mut tx, c => sqlx::query(&sql).execute(&mut **c).await?.rows_affected());
    }
    let ledger_rows: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM stock_movements")
        .fetch_one(&mut **c).await?);
    tx.commit().await?;
    // Fresh statistics, as a database that grew to this size over time would have.
    let mut tx = sd.store().write().await?;
    on_tx!(&mut tx, c => sqlx::query("ANALYZE").execute(&mut **c).await?.rows_affected());
    tx.commit().await?;
    Ok(Made {
        ledger: ledger_rows,
        orders,
        edits,
        sweep_runs: runs,
    })
}

/// JSON text made by an expression, as the backend stores JSON (Postgres: JSONB).
fn json_value(backend: Backend, text: &str) -> String {
    match backend {
        Backend::Sqlite => text.to_string(),
        Backend::Postgres => format!("CAST({text} AS JSONB)"),
    }
}

/// A timestamp `secs` seconds after the epoch as the backend stores times (SQLite: RFC 3339 text
/// as sqlx writes it, so that comparisons with bound times order correctly).
fn time_at(backend: Backend, secs: &str) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', {secs}, 'unixepoch')"),
        Backend::Postgres => format!("to_timestamp({secs})"),
    }
}
