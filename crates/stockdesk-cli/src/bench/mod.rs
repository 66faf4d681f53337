//! Benchmarks that race Stockdesk against the baseline a shop would otherwise use, side by side
//! in one run on the same database settings, and report ratios (machines are shared and noisy;
//! ratios hold where absolute times do not). Each bench works in a scratch database next to the
//! one it is pointed at — a temp SQLite file in the same directory, or a temporary database on
//! the same Postgres server — so a shop can run it against its own set-up without touching data.

mod contention;
mod import;
mod patch;
mod report;
mod scratch;
mod search;
mod stats;
mod sweep;
mod sync;

use serde_json::Value;
use tracing::Instrument;

pub use contention::{ContentionOptions, HotOptions};
pub use import::ImportOptionsBench;
pub use patch::PatchOptions;
pub use report::ReportOptions;
pub use search::SearchOptions;
pub use sweep::SweepOptions;
pub use sync::SyncOptions;

use stockdesk::error::Result;

/// One bench's result: a table for people and a JSON object for machines.
pub struct BenchReport {
    pub table: String,
    pub json: Value,
}

pub async fn patch(url: &str, opts: PatchOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = patch::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "patch"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn search(url: &str, opts: SearchOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = search::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "search"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn contention(url: &str, opts: ContentionOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = contention::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "contention"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn sweep(url: &str, opts: SweepOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = sweep::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "sweep"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn report(url: &str, opts: ReportOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = report::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "report"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn import(url: &str, opts: ImportOptionsBench) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let out = import::run(&scratch, opts)
        .instrument(tracing::info_span!("bench", name = "import"))
        .await;
    scratch.drop_db().await;
    out
}

pub async fn sync(url: &str, opts: SyncOptions) -> Result<BenchReport> {
    let scratch = scratch::Scratch::create(url).await?;
    let many = match scratch::Scratch::create(url).await {
        Ok(many) => many,
        Err(e) => {
            scratch.drop_db().await;
            return Err(e);
        }
    };
    let out = sync::run(&scratch, &many, opts)
        .instrument(tracing::info_span!("bench", name = "sync"))
        .await;
    scratch.drop_db().await;
    many.drop_db().await;
    out
}
