//! The sweeper: background tidying that correctness never waits for. Each run does every job in
//! `jobs()` once (groups of jobs side by side) and records itself in `sweep_runs` (the UI's
//! health view). Jobs must be safe to run from several processes at once and must never undo a
//! user's action; a failing job is recorded and the next job still runs.
//!
//! The desktop app runs it with `spawn`; servers and cron use `stockdesk sweep`.

mod jobs;
mod runs;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{ApiError, Result};
use crate::model::ChangeEvent;
use crate::store::Backend;

/// Who a sweep acts as, and where it works.
pub struct Sweeper<'a> {
    pub ctx: &'a Ctx,
    /// Recorded on what it expires (`sweeper`, or the terminal's name).
    pub actor: &'a str,
}

/// One kind of tidying. Return named counts of what was done (`orders_expired: 3`).
pub trait Job: Send + Sync {
    fn name(&self) -> &'static str;
    fn run<'a>(&'a self, sweeper: &'a Sweeper<'a>) -> BoxFuture<'a, Result<BTreeMap<String, i64>>>;
}

/// Every job, in groups a run does side by side; the jobs of a group run one after another (the
/// outbox is worked after the uploads sweep queued what it found). Adding a job is one line here.
pub fn jobs() -> Vec<Vec<Box<dyn Job>>> {
    vec![
        vec![Box::new(jobs::ExpireOrders)],
        vec![
            Box::new(jobs::ExpireStagedBlobs),
            Box::new(jobs::WorkBlobOutbox),
        ],
        vec![Box::new(jobs::PruneSweepRuns)],
        vec![Box::new(jobs::ForgetGoneEditors)],
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started and not finished: still going, or the process died mid-run.
    Running,
    Ok,
    /// At least one job failed.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct JobOutcome {
    pub job: String,
    pub counts: BTreeMap<String, i64>,
    pub error: Option<ApiError>,
    pub millis: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SweepRun {
    pub id: Uuid,
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub errors: i64,
    pub jobs: Vec<JobOutcome>,
}

/// What the UI shows about the sweeper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SweeperHealth {
    pub last_run: Option<SweepRun>,
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Failed runs since the last good one.
    pub failures_in_a_row: i64,
    /// Pending orders past their deadline and not yet expired: a growing figure means no sweeper
    /// is running (availability is right regardless; the orders just look pending).
    pub overdue_orders: i64,
    /// Image blobs whose deletion has failed at least once and waits for a retry (disk full,
    /// permissions): nothing is lost, but the files take space until the cause is fixed.
    pub failing_blob_deletions: i64,
}

/// One sweep: every job once, recorded in `sweep_runs`.
pub async fn sweep_once(ctx: &Ctx, actor: &str) -> Result<SweepRun> {
    let id = Uuid::now_v7();
    let span = tracing::info_span!("sweep", run_id = %id, actor = %actor);
    let sweeper = Sweeper { ctx, actor };
    async {
        let started_at = ctx.now();
        runs::start(&ctx.store, id, actor, started_at).await?;
        // On Postgres the groups run side by side, each on a connection of its own: their jobs
        // touch different rows and are safe to run from several processes at once anyway, and an
        // idle run then takes as long as its slowest group. SQLite has one writer: side by side
        // they would only queue on its busy handler's sleeps, so there they run in turn.
        let groups = jobs();
        let mut outcomes: Vec<JobOutcome> = Vec::new();
        if ctx.store.backend() == Backend::Postgres {
            outcomes.extend(
                futures::future::join_all(groups.iter().map(|g| run_group(g, &sweeper)))
                    .await
                    .into_iter()
                    .flatten(),
            );
        } else {
            for group in &groups {
                outcomes.extend(run_group(group, &sweeper).await);
            }
        }
        let errors = outcomes.iter().filter(|o| o.error.is_some()).count() as i64;
        let run = SweepRun {
            id,
            actor: actor.to_string(),
            started_at,
            finished_at: Some(ctx.now()),
            status: if errors == 0 {
                RunStatus::Ok
            } else {
                RunStatus::Failed
            },
            errors,
            jobs: outcomes,
        };
        runs::finish(&ctx.store, &run).await?;
        tracing::info!(errors, "sweep finished");
        ctx.emit(ChangeEvent::Sweep);
        Ok(run)
    }
    .instrument(span)
    .await
}

/// The jobs of a group, one after another.
async fn run_group(group: &[Box<dyn Job>], sweeper: &Sweeper<'_>) -> Vec<JobOutcome> {
    let mut outcomes = Vec::new();
    for job in group {
        outcomes.push(run_job(job.as_ref(), sweeper).await);
    }
    outcomes
}

/// One job, timed; its failure is recorded, not raised.
async fn run_job(job: &dyn Job, sweeper: &Sweeper<'_>) -> JobOutcome {
    let clock = Instant::now();
    let result = job
        .run(sweeper)
        .instrument(tracing::info_span!("sweep_job", job = job.name()))
        .await;
    let millis = clock.elapsed().as_millis() as i64;
    let (counts, error) = match result {
        Ok(counts) => (counts, None),
        Err(e) => {
            tracing::warn!(job = job.name(), error = %e, "sweep job failed");
            (BTreeMap::new(), Some(e.to_api()))
        }
    };
    JobOutcome {
        job: job.name().to_string(),
        counts,
        error,
        millis,
    }
}

pub async fn sweeper_health(ctx: &Ctx) -> Result<SweeperHealth> {
    runs::health(&ctx.store, ctx.now())
        .instrument(tracing::debug_span!("sweeper_health"))
        .await
}

/// Runs `sweep_once` every `every` until the task is aborted (the desktop app keeps the handle
/// and aborts it on exit; a run cut short rolls back its open transaction).
pub fn spawn(ctx: Ctx, actor: String, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = sweep_once(&ctx, &actor).await {
                tracing::error!(error = %e, "sweep could not run");
            }
        }
    })
}
