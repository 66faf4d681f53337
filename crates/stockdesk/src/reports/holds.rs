//! What became of the holds taken: orders by the day they were placed and what they are now —
//! paid, expired, cancelled, or still waiting for payment. A pending order whose payment window
//! has passed counts as expired, swept or not (its hold already counts for nothing).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::range::{Days, ReportRange};
use crate::error::Result;
use crate::store::{Session, Stmt};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HoldsReport {
    pub range: ReportRange,
    /// Every day of the range.
    pub days: Vec<HoldsDay>,
    pub total: HoldCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HoldsDay {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub counts: HoldCounts,
}

/// Orders (each holds its lines' stock until paid) by what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct HoldCounts {
    pub paid: i64,
    pub expired: i64,
    pub cancelled: i64,
    /// Still within their payment window.
    pub pending: i64,
}

impl HoldCounts {
    fn add(&mut self, status: &str, n: i64) {
        match status {
            "paid" => self.paid += n,
            "expired" => self.expired += n,
            "cancelled" => self.cancelled += n,
            _ => self.pending += n,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    bucket: i64,
    status: String,
    orders: i64,
}

pub async fn holds(on: &mut impl Session, days: &Days, now: DateTime<Utc>) -> Result<HoldsReport> {
    let mut stmt = Stmt::new("");
    let cte = days.cte(&mut stmt);
    let now = stmt.param(now);
    let sql = format!(
        "WITH {cte}, placed AS ( \
           SELECT d.bucket, CASE WHEN o.status = 'pending' AND o.payment_expires_at <= {now} \
                                 THEN 'expired' ELSE o.status END AS status \
           FROM days d JOIN orders o ON o.created_at >= d.starts AND o.created_at < d.ends) \
         SELECT bucket, status, CAST(COUNT(*) AS BIGINT) AS orders \
         FROM placed GROUP BY bucket, status"
    );
    let rows: Vec<Row> = stmt.text(sql).fetch(on).await?;
    let mut by_day: BTreeMap<NaiveDate, HoldCounts> = days
        .days
        .iter()
        .map(|(d, _)| (*d, HoldCounts::default()))
        .collect();
    let mut total = HoldCounts::default();
    for r in rows {
        by_day
            .entry(days.date(r.bucket)?)
            .or_default()
            .add(&r.status, r.orders);
        total.add(&r.status, r.orders);
    }
    Ok(HoldsReport {
        range: days.range.clone(),
        days: by_day
            .into_iter()
            .map(|(date, counts)| HoldsDay { date, counts })
            .collect(),
        total,
    })
}
