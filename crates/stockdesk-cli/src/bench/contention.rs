//! `bench contention`: many buyers race for few units of one variant.
//!
//! Three strategies, each on a fresh variant of the scratch database and the same pool:
//! - `stockdesk`: a `create_order` command (the decisive check is one conditional update of the
//!   variant's `held` counter; orders of one variant share turns, see `stock::reserve`).
//! - `seed_cas_retry`: the seeds' algorithm (`../shared/seeds/003_…`), done faithfully: read stock
//!   and version, check, `UPDATE … WHERE version = $v`; on zero rows sleep 100/200/300 ms and try
//!   again, and after the third retry give up with a "conflict". Naive by design: its refusals
//!   while stock remains are what this bench shows.
//! - `select_for_update` (Postgres only): lock the row, check, update, commit.
//!
//! A *false rejection* is a refusal that stock running out does not explain: after the race,
//! `min(refused, units − sold)` buyers were turned away although that many units were never sold.
//!
//! `--hot` measures throughput instead: 16 clients reserve one unit at a time on one row for a
//! fixed time, Stockdesk against a single conditional `UPDATE … WHERE stock >= q` (the fastest a
//! hand-written data layer can be, with no order, reservation or ledger rows), in alternating
//! one-second rounds so both sides see the same machine weather.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Barrier;
use tracing::Instrument;
use uuid::Uuid;

use super::scratch::Scratch;
use super::stats::{median, per_second, percentile_ms, round};
use super::BenchReport;
use stockdesk::catalog::{NewProduct, NewVariant, ProductStatus};
use stockdesk::error::{Error, Result};
use stockdesk::stock::{NewOrder, NewOrderItem};
use stockdesk::store::on_tx;
use stockdesk::{Backend, Stockdesk};

pub struct ContentionOptions {
    pub buyers: usize,
    pub units: i64,
    /// Races per strategy; each round runs every strategy once, starting with a different one.
    pub rounds: usize,
    /// Throughput mode: `clients` reserving for `seconds` (per side).
    pub hot: Option<HotOptions>,
}

pub struct HotOptions {
    pub clients: usize,
    pub seconds: f64,
}

/// Each buyer wants one unit.
const QUANTITY: i64 = 1;
/// The seeds' retry schedule: three retries after 100, 200 and 300 ms.
const SEED_BACKOFF_MS: [u64; 3] = [100, 200, 300];
/// Buyers in the untimed warm-up before each race: about ten per pooled connection, so that each
/// connection has run its statements more than five times. Postgres plans the first five runs
/// of a prepared statement one by one and then settles on a cached plan, which is the state a
/// long-running app is in; the race should measure that, not the first plannings.
const WARM_UP_BUYERS: usize = 160;

/// The two sides of hot mode.
#[derive(Clone, Copy)]
enum HotSide {
    Stockdesk,
    RawUpdate,
}

/// Hot mode alternates sides in rounds this long.
const HOT_ROUND: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Strategy {
    Stockdesk,
    SeedCasRetry,
    SelectForUpdate,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Stockdesk => "stockdesk",
            Strategy::SeedCasRetry => "seed_cas_retry",
            Strategy::SelectForUpdate => "select_for_update",
        }
    }
}

/// What happened to one buyer.
enum Outcome {
    Bought,
    /// Refused: sold out as far as the strategy could tell, or (seeds) gave up on conflicts.
    Refused,
}

struct Race {
    strategy: Strategy,
    succeeded: i64,
    oversold: i64,
    false_rejections: i64,
    p50_ms: f64,
    p99_ms: f64,
    wall_ms: f64,
}

pub async fn run(scratch: &Scratch, opts: ContentionOptions) -> Result<BenchReport> {
    match opts.hot {
        Some(ref hot) => {
            let span = tracing::info_span!("contention_hot", clients = hot.clients);
            run_hot(&scratch.sd, opts.units, hot).instrument(span).await
        }
        None => run_race(&scratch.sd, &opts).await,
    }
}

async fn run_race(sd: &Stockdesk, opts: &ContentionOptions) -> Result<BenchReport> {
    let backend = sd.backend();
    let mut strategies = vec![Strategy::Stockdesk, Strategy::SeedCasRetry];
    if backend == Backend::Postgres {
        strategies.push(Strategy::SelectForUpdate);
    }
    // rounds[r][s]: strategy s in round r. Each round starts with the next strategy, so none
    // always runs first (or last) while the machine's load drifts.
    let mut rounds: Vec<Vec<Race>> = Vec::new();
    for round in 0..opts.rounds.max(1) {
        let mut races: Vec<Option<Race>> = strategies.iter().map(|_| None).collect();
        for k in 0..strategies.len() {
            let n = (round + k) % strategies.len();
            let strategy = strategies[n];
            // An untimed warm-up first, so no strategy pays for opening the pool's connections
            // or preparing and planning its statements inside the race.
            let warm = opts.buyers.min(WARM_UP_BUYERS);
            let variant = fresh_variant(sd, &format!("WARM-{round}-{n}"), warm as i64).await?;
            race(sd, strategy, variant, warm, warm as i64).await?;
            let variant = fresh_variant(sd, &format!("RACE-{round}-{n}"), opts.units).await?;
            let span = tracing::info_span!("contention_race", strategy = strategy.name(), round);
            races[n] = Some(
                race(sd, strategy, variant, opts.buyers, opts.units)
                    .instrument(span)
                    .await?,
            );
        }
        rounds.push(races.into_iter().flatten().collect());
    }
    let summaries: Vec<Summary> = (0..strategies.len())
        .map(|n| Summary::of(rounds.iter().map(|r| &r[n])))
        .collect();
    // Stockdesk's wall time over each baseline's, paired within each round (both saw the same
    // machine), then the median over the rounds.
    let ratios: Vec<(Strategy, f64)> = strategies
        .iter()
        .enumerate()
        .skip(1)
        .map(|(n, &other)| {
            let per_round: Vec<f64> = rounds
                .iter()
                .map(|r| r[0].wall_ms / r[n].wall_ms.max(f64::EPSILON))
                .collect();
            (other, median(per_round))
        })
        .collect();

    let mut table = format!(
        "contention on {}: {} buyers × {QUANTITY} unit, {} units, {} round(s), medians\n\
         {:<18} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9}",
        backend.name(),
        opts.buyers,
        opts.units,
        rounds.len(),
        "strategy",
        "succeeded",
        "oversold",
        "false rej",
        "p50 ms",
        "p99 ms",
        "wall ms",
    );
    for s in &summaries {
        table.push_str(&format!(
            "\n{:<18} {:>9} {:>9} {:>10} {:>9.1} {:>9.1} {:>9.1}",
            s.race.strategy.name(),
            s.race.succeeded,
            s.race.oversold,
            s.race.false_rejections,
            s.race.p50_ms,
            s.race.p99_ms,
            s.race.wall_ms
        ));
    }
    for (other, ratio) in &ratios {
        table.push_str(&format!(
            "\nstockdesk wall time / {}: {ratio:.2} (median of per-round ratios)",
            other.name()
        ));
    }
    let strategies: Vec<_> = summaries
        .iter()
        .map(|s| {
            json!({
                "name": s.race.strategy.name(),
                "succeeded": s.race.succeeded,
                "oversold": s.race.oversold,
                "false_rejections": s.race.false_rejections,
                "p50_ms": round(s.race.p50_ms),
                "p99_ms": round(s.race.p99_ms),
                "wall_ms": round(s.race.wall_ms),
                "wall_ms_by_round": s.walls.iter().map(|&w| round(w)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ratios: serde_json::Map<String, serde_json::Value> = ratios
        .iter()
        .map(|(other, ratio)| (other.name().to_string(), json!(round(*ratio))))
        .collect();
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "contention",
            "backend": backend.name(),
            "buyers": opts.buyers,
            "units": opts.units,
            "rounds": rounds.len(),
            "strategies": strategies,
            "stockdesk_wall_ratio": ratios,
        }),
    })
}

/// One strategy over all rounds: a `Race` of the worst of its counts (a single oversold unit or
/// false rejection in any round shows) and the medians of its times, and each round's wall time.
struct Summary {
    race: Race,
    walls: Vec<f64>,
}

impl Summary {
    fn of<'a>(races: impl Iterator<Item = &'a Race> + Clone) -> Summary {
        let first = races.clone().next().expect("at least one round");
        let times = |f: fn(&Race) -> f64| median(races.clone().map(f).collect());
        Summary {
            race: Race {
                strategy: first.strategy,
                succeeded: races.clone().map(|r| r.succeeded).min().unwrap_or(0),
                oversold: races.clone().map(|r| r.oversold).max().unwrap_or(0),
                false_rejections: races.clone().map(|r| r.false_rejections).max().unwrap_or(0),
                p50_ms: times(|r| r.p50_ms),
                p99_ms: times(|r| r.p99_ms),
                wall_ms: times(|r| r.wall_ms),
            },
            walls: races.map(|r| r.wall_ms).collect(),
        }
    }
}

/// All buyers start together (a barrier), each makes one attempt by `strategy`.
async fn race(
    sd: &Stockdesk,
    strategy: Strategy,
    variant: Uuid,
    buyers: usize,
    units: i64,
) -> Result<Race> {
    let barrier = Arc::new(Barrier::new(buyers));
    let wall = Instant::now();
    let tasks: Vec<_> = (0..buyers)
        .map(|_| {
            let (sd, barrier) = (sd.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let start = Instant::now();
                let outcome = buy(&sd, strategy, variant).await?;
                Ok::<_, Error>((outcome, start.elapsed()))
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(buyers);
    let (mut succeeded, mut refused) = (0i64, 0i64);
    for task in tasks {
        let (outcome, took) = task
            .await
            .map_err(|e| Error::BadInput(format!("buyer task failed: {e}")))??;
        latencies.push(took);
        match outcome {
            Outcome::Bought => succeeded += 1,
            Outcome::Refused => refused += 1,
        }
    }
    let wall_ms = wall.elapsed().as_secs_f64() * 1000.0;
    let sold = succeeded * QUANTITY;
    Ok(Race {
        strategy,
        succeeded,
        oversold: (sold - units).max(0),
        false_rejections: refused.min(((units - sold) / QUANTITY).max(0)),
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        wall_ms,
    })
}

/// One buyer's attempt. Business refusals are outcomes; anything else is the bench failing.
async fn buy(sd: &Stockdesk, strategy: Strategy, variant: Uuid) -> Result<Outcome> {
    match strategy {
        Strategy::Stockdesk => match sd.create_order(one_unit(variant), None).await {
            Ok(_) => Ok(Outcome::Bought),
            Err(Error::InsufficientStock { .. }) => Ok(Outcome::Refused),
            Err(e) => Err(e),
        },
        Strategy::SeedCasRetry => seed_cas_retry(sd, variant).await,
        Strategy::SelectForUpdate => select_for_update(sd, variant).await,
    }
}

/// The seeds' `reserveStock`: read, check, compare-and-set on the version, retry on a miss.
async fn seed_cas_retry(sd: &Stockdesk, variant: Uuid) -> Result<Outcome> {
    for attempt in 0..=SEED_BACKOFF_MS.len() {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(SEED_BACKOFF_MS[attempt - 1])).await;
        }
        // The read is its own statement, as in the seeds (Postgres' default isolation lets the
        // version move between it and the update; that is what the version check is for).
        let mut tx = sd.store().read().await?;
        let (stock, version): (i64, i64) = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT stock_on_hand, version FROM variants WHERE id = $1")
            .bind(variant).fetch_one(&mut **c).await?);
        drop(tx);
        if stock < QUANTITY {
            return Ok(Outcome::Refused);
        }
        let mut tx = sd.store().write().await?;
        let changed = on_tx!(&mut tx, c => sqlx::query(
            "UPDATE variants SET stock_on_hand = stock_on_hand - $3, version = version + 1 \
             WHERE id = $1 AND version = $2")
            .bind(variant).bind(version).bind(QUANTITY).execute(&mut **c).await?.rows_affected());
        tx.commit().await?;
        if changed == 1 {
            return Ok(Outcome::Bought);
        }
    }
    // "Stock updated by another process": the seeds give up here, stock or not.
    Ok(Outcome::Refused)
}

/// Pessimistic locking: lock the row, check, update.
async fn select_for_update(sd: &Stockdesk, variant: Uuid) -> Result<Outcome> {
    let mut tx = sd.store().write().await?;
    let sql = format!(
        "SELECT stock_on_hand FROM variants WHERE id = $1{}",
        tx.backend().for_update()
    );
    let stock: i64 =
        on_tx!(&mut tx, c => sqlx::query_scalar(&sql).bind(variant).fetch_one(&mut **c).await?);
    if stock < QUANTITY {
        return Ok(Outcome::Refused);
    }
    on_tx!(&mut tx, c => sqlx::query(
        "UPDATE variants SET stock_on_hand = stock_on_hand - $2, version = version + 1 WHERE id = $1")
        .bind(variant).bind(QUANTITY).execute(&mut **c).await?.rows_affected());
    tx.commit().await?;
    Ok(Outcome::Bought)
}

/// The hot-row baseline: one conditional UPDATE, nothing else.
async fn raw_conditional_update(sd: &Stockdesk, variant: Uuid) -> Result<bool> {
    let mut tx = sd.store().write().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE variants SET stock_on_hand = stock_on_hand - $2, version = version + 1 \
         WHERE id = $1 AND stock_on_hand >= $2")
        .bind(variant).bind(QUANTITY).execute(&mut **c).await?.rows_affected());
    tx.commit().await?;
    Ok(changed == 1)
}

async fn run_hot(sd: &Stockdesk, units: i64, hot: &HotOptions) -> Result<BenchReport> {
    let mine = fresh_variant(sd, "HOT-SD", units).await?;
    let raw = fresh_variant(sd, "HOT-RAW", units).await?;
    let per_side = Duration::from_secs_f64(hot.seconds);
    let (mut t_mine, mut t_raw) = (Duration::ZERO, Duration::ZERO);
    let (mut n_mine, mut n_raw) = (0usize, 0usize);
    while t_mine < per_side || t_raw < per_side {
        let round = HOT_ROUND.min(per_side.saturating_sub(t_mine));
        if !round.is_zero() {
            let (n, t) = hot_round(sd, HotSide::Stockdesk, mine, hot.clients, round).await?;
            (n_mine, t_mine) = (n_mine + n, t_mine + t);
        }
        let round = HOT_ROUND.min(per_side.saturating_sub(t_raw));
        if !round.is_zero() {
            let (n, t) = hot_round(sd, HotSide::RawUpdate, raw, hot.clients, round).await?;
            (n_raw, t_raw) = (n_raw + n, t_raw + t);
        }
    }
    let (mine_rate, raw_rate) = (per_second(n_mine, t_mine), per_second(n_raw, t_raw));
    let ratio = mine_rate / raw_rate.max(f64::EPSILON);
    let oversold = (n_mine as i64 - units).max(0);
    let backend = sd.backend().name();
    let table = format!(
        "contention --hot on {backend}: {clients} clients on one row, {secs} s per side\n\
         {:<34} {:>14}\n{:<34} {:>14.1}\n{:<34} {:>14.1}\n{:<34} {:>14.3}",
        "strategy",
        "reservations/s",
        "stockdesk create_order",
        mine_rate,
        "raw conditional UPDATE",
        raw_rate,
        "ratio stockdesk/raw",
        ratio,
        clients = hot.clients,
        secs = hot.seconds,
    );
    Ok(BenchReport {
        table,
        json: json!({
            "bench": "contention",
            "mode": "hot",
            "backend": backend,
            "clients": hot.clients,
            "seconds": hot.seconds,
            "units": units,
            "stockdesk_reservations": n_mine,
            "raw_reservations": n_raw,
            "stockdesk_per_s": round(mine_rate),
            "raw_update_per_s": round(raw_rate),
            "ratio": round(ratio),
            "oversold": oversold,
        }),
    })
}

/// `clients` tasks reserve one unit at a time until `length` has passed; how many they got and
/// how long it took (the last call in flight finishes, so the time is measured, not assumed).
async fn hot_round(
    sd: &Stockdesk,
    side: HotSide,
    variant: Uuid,
    clients: usize,
    length: Duration,
) -> Result<(usize, Duration)> {
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let sd = sd.clone();
            tokio::spawn(async move {
                let mut n = 0usize;
                while start.elapsed() < length {
                    let got = match side {
                        HotSide::Stockdesk => {
                            match sd.create_order(one_unit(variant), None).await {
                                Ok(_) => true,
                                Err(Error::InsufficientStock { .. }) => false,
                                Err(e) => return Err(e),
                            }
                        }
                        HotSide::RawUpdate => raw_conditional_update(&sd, variant).await?,
                    };
                    if !got {
                        return Err(Error::BadInput(
                            "hot mode ran out of stock: give it more --units".into(),
                        ));
                    }
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task
            .await
            .map_err(|e| Error::BadInput(format!("hot client failed: {e}")))??;
    }
    Ok((total, start.elapsed()))
}

fn one_unit(variant: Uuid) -> NewOrder {
    NewOrder {
        id: None,
        items: vec![NewOrderItem {
            variant_id: variant,
            quantity: QUANTITY,
        }],
        expires_in_secs: None,
    }
}

/// A product with one variant holding `units`, created the normal way (so its stock has its
/// opening movement like any other).
async fn fresh_variant(sd: &Stockdesk, sku: &str, units: i64) -> Result<Uuid> {
    let product = sd
        .create_product(
            NewProduct {
                id: None,
                name: format!("Bench {sku}"),
                slug: None,
                description: String::new(),
                status: ProductStatus::Published,
                category_id: None,
                variants: vec![NewVariant {
                    id: None,
                    sku: sku.to_string(),
                    barcode: None,
                    price_minor: 1000,
                    currency: "EUR".into(),
                    stock_on_hand: units,
                    attributes: Default::default(),
                }],
            },
            None,
        )
        .await?;
    Ok(product.variants[0].id)
}
