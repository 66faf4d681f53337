//! The `sweep_runs` table: one row per run, written at its start and at its end.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{JobOutcome, RunStatus, SweepRun, SweeperHealth};
use crate::error::{Error, Result};
use crate::store::{with_retry, Arg, Stmt, Store};

/// How many recent runs the health view looks through for the last good one.
const HEALTH_WINDOW: i64 = 100;

// Each write here is one statement committed on its own (`Stmt::write_alone`: one round trip
// on Postgres), as the idle sweep a shop pays every minute is mostly round trips.

pub async fn start(store: &Store, id: Uuid, actor: &str, at: DateTime<Utc>) -> Result<()> {
    with_retry(|| async {
        Stmt::new(
            "INSERT INTO sweep_runs (id, actor, started_at, status, errors, jobs) \
             VALUES ($1, $2, $3, 'running', 0, $4) RETURNING id",
        )
        .arg(id)
        .arg(actor)
        .arg(at)
        .arg(Arg::json(&Vec::<JobOutcome>::new())?)
        .write_alone::<(Uuid,)>(&mut store.conn().await?)
        .await
        .map(drop)
    })
    .await
}

pub async fn finish(store: &Store, run: &SweepRun) -> Result<()> {
    with_retry(|| async {
        Stmt::new(
            "UPDATE sweep_runs SET finished_at = $2, status = $3, errors = $4, jobs = $5 \
             WHERE id = $1 RETURNING id",
        )
        .arg(run.id)
        .arg(run.finished_at)
        .arg(status_str(run.status))
        .arg(run.errors)
        .arg(Arg::json(&run.jobs)?)
        .write_alone::<(Uuid,)>(&mut store.conn().await?)
        .await
        .map(drop)
    })
    .await
}

pub async fn prune(store: &Store, before: DateTime<Utc>) -> Result<i64> {
    with_retry(|| async {
        let pruned = Stmt::new("DELETE FROM sweep_runs WHERE started_at < $1 RETURNING id")
            .arg(before)
            .write_alone::<(Uuid,)>(&mut store.conn().await?)
            .await?;
        Ok(pruned.len() as i64)
    })
    .await
}

pub async fn health(store: &Store, now: DateTime<Utc>) -> Result<SweeperHealth> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        actor: String,
        started_at: DateTime<Utc>,
        finished_at: Option<DateTime<Utc>>,
        status: String,
        errors: i64,
        jobs: Json<Vec<JobOutcome>>,
    }
    let mut tx = store.read().await?;
    let rows: Vec<Row> = Stmt::new(
        "SELECT id, actor, started_at, finished_at, status, errors, jobs FROM sweep_runs \
         ORDER BY started_at DESC, id DESC LIMIT $1",
    )
    .arg(HEALTH_WINDOW)
    .fetch(&mut tx)
    .await?;
    let overdue_orders = crate::stock::overdue_orders(&mut tx, now).await?;
    let failing_blob_deletions = crate::images::failing_deletions(&mut tx).await?;
    let runs = rows
        .into_iter()
        .map(|r| {
            Ok(SweepRun {
                status: parse_status(&r.status)?,
                id: r.id,
                actor: r.actor,
                started_at: r.started_at,
                finished_at: r.finished_at,
                errors: r.errors,
                jobs: r.jobs.0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let finished = runs.iter().filter(|r| r.status != RunStatus::Running);
    Ok(SweeperHealth {
        last_ok_at: runs
            .iter()
            .find(|r| r.status == RunStatus::Ok)
            .and_then(|r| r.finished_at),
        failures_in_a_row: finished
            .take_while(|r| r.status == RunStatus::Failed)
            .count() as i64,
        last_run: runs.into_iter().next(),
        overdue_orders,
        failing_blob_deletions,
    })
}

fn status_str(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "running",
        RunStatus::Ok => "ok",
        RunStatus::Failed => "failed",
    }
}

fn parse_status(s: &str) -> Result<RunStatus> {
    match s {
        "running" => Ok(RunStatus::Running),
        "ok" => Ok(RunStatus::Ok),
        "failed" => Ok(RunStatus::Failed),
        other => Err(Error::BadInput(format!("unknown sweep status {other:?}"))),
    }
}
