//! Edits that merged by themselves versus edits that met a conflict, per day, and the latest
//! conflicts. Applied edits are the edit commands' stored outcomes (`applied_ops`: an edit that
//! started from an older version and merged carries `merge` in its outcome); a conflicting edit
//! writes nothing, so `record_conflict` keeps a row of it in `edit_conflicts`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::range::{Days, ReportRange};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{Command, ConflictReport};
use crate::store::{with_retry, Arg, Session, Stmt};

/// The command kinds that edit a product (and may merge or meet a conflict).
pub const EDIT_KINDS: [&str; 4] = [
    "patch_product",
    "restore_product",
    "add_images",
    "replace_image_file",
];

/// How many of the latest conflicts the report lists.
pub const RECENT_CONFLICTS: i64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EditsReport {
    pub range: ReportRange,
    /// Every day of the range.
    pub days: Vec<EditsDay>,
    pub total: EditCounts,
    /// The latest conflicts of the range, newest first (at most `RECENT_CONFLICTS`).
    pub recent_conflicts: Vec<EditConflict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EditsDay {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub counts: EditCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EditCounts {
    /// Edits saved on the version they started from.
    pub clean: i64,
    /// Edits that started from an older version and merged with the changes made meanwhile.
    pub merged: i64,
    /// Edits refused because they clashed with a change made meanwhile (nothing was written).
    pub conflicts: i64,
}

/// An edit that met a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EditConflict {
    pub at: DateTime<Utc>,
    pub product_id: Uuid,
    /// The product's name now (empty if it is gone).
    pub product_name: String,
    pub actor: String,
    /// What clashed: `name`, `variants.<id>.price_minor`, …
    pub paths: Vec<String>,
}

/// Keeps a row of an edit that met a conflict, in a short transaction of its own (the edit's
/// rolled back). A failure here is logged and never hides the conflict from the person editing.
pub async fn record_conflict(ctx: &Ctx, cmd: &Command, report: &ConflictReport) {
    let paths: Vec<&str> = report.conflicts.iter().map(|c| c.path.as_str()).collect();
    let recorded = with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        Stmt::new(
            "INSERT INTO edit_conflicts (op_id, product_id, kind, actor, actor_id, \
             expected_version, current_version, paths, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (op_id) DO NOTHING",
        )
        .arg(cmd.op_id)
        .arg(report.product_id)
        .arg(cmd.kind.name())
        .arg(cmd.actor.as_str())
        .arg(cmd.actor_id)
        .arg(report.expected_version)
        .arg(report.current_version)
        .arg(Arg::json(&paths)?)
        .arg(ctx.now())
        .run(&mut tx)
        .await?;
        tx.commit().await
    })
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record the edit's conflict for the reports");
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    part: String,
    bucket: Option<i64>,
    n: i64,
    merged: i64,
    at: Option<DateTime<Utc>>,
    product_id: Option<Uuid>,
    product_name: Option<String>,
    actor: Option<String>,
    paths: Option<Json<Vec<String>>>,
}

pub async fn edits(on: &mut impl Session, days: &Days) -> Result<EditsReport> {
    let mut stmt = Stmt::new("");
    let cte = days.cte(&mut stmt);
    let kinds = stmt.list(EDIT_KINDS.iter().map(|k| Arg::from(*k)));
    let first = stmt.param(days.starts());
    let end = stmt.param(days.ends);
    let recent = stmt.param(RECENT_CONFLICTS);
    // Postgres types a `UNION` pair by pair, so the first part's NULLs carry their type.
    // `edits`: the range's edits from `applied_ops_by_kind` (one index range per kind), each cut
    // down to its time and whether it merged before the days are joined: an outcome is a few
    // kilobytes, and joining the whole rows to the days made Postgres keep a copy of them all
    // (spilled to disk at 2,000 edits a month). `->` and `->>` read JSON alike in both
    // dialects: an outcome's `value.merge` is JSON null (SQL NULL through `->>`) unless the
    // edit merged.
    let sql = format!(
        "WITH {cte}, \
         edits AS MATERIALIZED ( \
           SELECT a.created_at AS at, \
                  CASE WHEN (a.outcome -> 'value' ->> 'merge') IS NULL THEN 0 ELSE 1 END AS merged \
           FROM applied_ops a WHERE a.kind IN ({kinds}) \
                AND a.created_at >= {first} AND a.created_at < {end}) \
         SELECT 'edits' AS part, d.bucket, CAST(COUNT(*) AS BIGINT) AS n, \
                CAST(SUM(e.merged) AS BIGINT) AS merged, \
                CAST(NULL AS TIMESTAMPTZ) AS at, CAST(NULL AS UUID) AS product_id, \
                CAST(NULL AS TEXT) AS product_name, CAST(NULL AS TEXT) AS actor, \
                CAST(NULL AS JSONB) AS paths \
         FROM days d JOIN edits e ON e.at >= d.starts AND e.at < d.ends \
         GROUP BY d.bucket \
         UNION ALL \
         SELECT 'conflicts', d.bucket, CAST(COUNT(*) AS BIGINT), 0, NULL, NULL, NULL, NULL, NULL \
         FROM days d JOIN edit_conflicts c ON c.at >= d.starts AND c.at < d.ends \
         GROUP BY d.bucket \
         UNION ALL \
         SELECT * FROM ( \
           SELECT 'recent', CAST(NULL AS BIGINT), 0, 0, c.at, c.product_id, p.name, c.actor, c.paths \
           FROM edit_conflicts c LEFT JOIN products p ON p.id = c.product_id \
           WHERE c.at >= {first} AND c.at < {end} \
           ORDER BY c.at DESC, c.op_id DESC LIMIT {recent}) recent"
    );
    let rows: Vec<Row> = stmt.text(sql).fetch(on).await?;
    let mut by_day: BTreeMap<NaiveDate, EditCounts> = days
        .days
        .iter()
        .map(|(d, _)| (*d, EditCounts::default()))
        .collect();
    let mut recent_conflicts = Vec::new();
    for r in rows {
        match (r.part.as_str(), r.bucket) {
            ("edits", Some(b)) => {
                let day = by_day.entry(days.date(b)?).or_default();
                day.merged += r.merged;
                day.clean += r.n - r.merged;
            }
            ("conflicts", Some(b)) => by_day.entry(days.date(b)?).or_default().conflicts += r.n,
            ("recent", _) => {
                let (Some(at), Some(product_id)) = (r.at, r.product_id) else {
                    continue;
                };
                recent_conflicts.push(EditConflict {
                    at,
                    product_id,
                    product_name: r.product_name.unwrap_or_default(),
                    actor: r.actor.unwrap_or_default(),
                    paths: r.paths.map(|p| p.0).unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    recent_conflicts.sort_by_key(|c| std::cmp::Reverse(c.at));
    let mut total = EditCounts::default();
    for day in by_day.values() {
        total.clean += day.clean;
        total.merged += day.merged;
        total.conflicts += day.conflicts;
    }
    Ok(EditsReport {
        range: days.range.clone(),
        days: by_day
            .into_iter()
            .map(|(date, counts)| EditsDay { date, counts })
            .collect(),
        total,
        recent_conflicts,
    })
}
