//! The sweeper's runs: per day how many ran and how many failed, and the latest runs with how
//! long each took and what it did.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::range::{Days, ReportRange};
use crate::error::{Error, Result};
use crate::store::{Session, Stmt};
use crate::sweeper::{JobOutcome, RunStatus};

/// How many of the latest runs the report lists.
pub const RECENT_RUNS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SweeperReport {
    pub range: ReportRange,
    /// Every day of the range.
    pub days: Vec<SweepDay>,
    pub total: SweepCounts,
    /// The latest runs of the range, newest first (at most `RECENT_RUNS`).
    pub recent: Vec<SweepSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SweepDay {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub counts: SweepCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SweepCounts {
    pub runs: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SweepSummary {
    pub id: Uuid,
    /// Who ran it (the sweeper service, or a terminal).
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub status: RunStatus,
    /// How long it took (null while running, or when it never finished).
    pub millis: Option<i64>,
    pub errors: i64,
    /// Overdue orders it expired.
    pub orders_expired: i64,
    /// The first failing job's message, if a job failed.
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    part: String,
    bucket: Option<i64>,
    runs: i64,
    failed: i64,
    id: Option<Uuid>,
    actor: Option<String>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    status: Option<String>,
    jobs: Option<Json<Vec<JobOutcome>>>,
}

pub async fn sweeper(on: &mut impl Session, days: &Days) -> Result<SweeperReport> {
    let mut stmt = Stmt::new("");
    let cte = days.cte(&mut stmt);
    let first = stmt.param(days.starts());
    let end = stmt.param(days.ends);
    let recent = stmt.param(RECENT_RUNS);
    // A subquery's untyped NULL is text on Postgres: the bucket's is cast.
    let sql = format!(
        "WITH {cte} \
         SELECT 'day' AS part, d.bucket, CAST(COUNT(*) AS BIGINT) AS runs, \
                CAST(SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
                NULL AS id, NULL AS actor, NULL AS started_at, NULL AS finished_at, \
                NULL AS status, NULL AS jobs \
         FROM days d JOIN sweep_runs r ON r.started_at >= d.starts AND r.started_at < d.ends \
         GROUP BY d.bucket \
         UNION ALL \
         SELECT * FROM ( \
           SELECT 'run', CAST(NULL AS BIGINT), 0, 0, r.id, r.actor, r.started_at, r.finished_at, r.status, r.jobs \
           FROM sweep_runs r WHERE r.started_at >= {first} AND r.started_at < {end} \
           ORDER BY r.started_at DESC, r.id DESC LIMIT {recent}) recent"
    );
    let rows: Vec<Row> = stmt.text(sql).fetch(on).await?;
    let mut by_day: BTreeMap<NaiveDate, SweepCounts> = days
        .days
        .iter()
        .map(|(d, _)| (*d, SweepCounts::default()))
        .collect();
    let mut recent = Vec::new();
    for r in rows {
        match (r.part.as_str(), r.bucket) {
            ("day", Some(b)) => {
                let day = by_day.entry(days.date(b)?).or_default();
                day.runs += r.runs;
                day.failed += r.failed;
            }
            ("run", _) => {
                let (Some(id), Some(started_at), Some(status)) = (r.id, r.started_at, r.status)
                else {
                    continue;
                };
                let jobs = r.jobs.map(|j| j.0).unwrap_or_default();
                recent.push(SweepSummary {
                    id,
                    actor: r.actor.unwrap_or_default(),
                    started_at,
                    status: parse_status(&status)?,
                    millis: r.finished_at.map(|f| (f - started_at).num_milliseconds()),
                    errors: jobs.iter().filter(|j| j.error.is_some()).count() as i64,
                    orders_expired: jobs
                        .iter()
                        .filter_map(|j| j.counts.get("orders_expired"))
                        .sum(),
                    error: jobs.iter().find_map(|j| {
                        j.error
                            .as_ref()
                            .map(|e| format!("{}: {}", j.job, e.message()))
                    }),
                });
            }
            _ => {}
        }
    }
    recent.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
    let mut total = SweepCounts::default();
    for day in by_day.values() {
        total.runs += day.runs;
        total.failed += day.failed;
    }
    Ok(SweeperReport {
        range: days.range.clone(),
        days: by_day
            .into_iter()
            .map(|(date, counts)| SweepDay { date, counts })
            .collect(),
        total,
        recent,
    })
}

fn parse_status(s: &str) -> Result<RunStatus> {
    match s {
        "running" => Ok(RunStatus::Running),
        "ok" => Ok(RunStatus::Ok),
        "failed" => Ok(RunStatus::Failed),
        other => Err(Error::BadInput(format!("unknown sweep status {other:?}"))),
    }
}
