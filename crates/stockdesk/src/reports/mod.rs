//! Reports: how the shop did over a range of days — sales per day and week with the best sellers,
//! stock value and what is running out, what became of the holds, edits that merged by
//! themselves versus conflicts, and the sweeper's runs.
//!
//! Figures come from what the core records anyway (orders and their lines, the ledger's
//! variants, `applied_ops`, `sweep_runs`), plus the one record kept for the reports alone:
//! `edit_conflicts`, a row per edit that met a conflict (`record_conflict`, called by
//! `commands::apply`). Each report is one read statement, so its figures are of one moment and
//! it stays fast on a large shop (`stockdesk bench report`). Money is summed per currency, never
//! across. Reports never write, apart from `record_conflict`.

mod edits;
mod holds;
mod money;
mod range;
mod sales;
mod stock;
mod sweeps;

use tracing::Instrument;

use crate::ctx::Ctx;
use crate::error::Result;

pub use edits::{
    record_conflict, EditConflict, EditCounts, EditsDay, EditsReport, EDIT_KINDS, RECENT_CONFLICTS,
};
pub use holds::{HoldCounts, HoldsDay, HoldsReport};
pub use range::{local_zone, week_of, ReportRange, MAX_DAYS};
pub use sales::{SalesPeriod, SalesReport, SalesTotal, TopProduct, TOP_PRODUCTS};
pub use stock::{LowStock, StockReport, StockValue, LOW_STOCK_AT, LOW_STOCK_ROWS};
pub use sweeps::{SweepCounts, SweepDay, SweepSummary, SweeperReport, RECENT_RUNS};

use range::Days;

pub async fn sales(ctx: &Ctx, range: &ReportRange) -> Result<SalesReport> {
    let days = Days::of(range)?;
    let mut conn = ctx.store.conn().await?;
    sales::sales(&mut conn, &days)
        .instrument(tracing::info_span!("report", name = "sales"))
        .await
}

/// Stock now (a range does not apply: the figures are of this moment). `low_stock_at`: 5 when
/// None.
pub async fn stock(ctx: &Ctx, low_stock_at: Option<i64>) -> Result<StockReport> {
    let mut conn = ctx.store.conn().await?;
    stock::stock(&mut conn, low_stock_at.unwrap_or(LOW_STOCK_AT), ctx.now())
        .instrument(tracing::info_span!("report", name = "stock"))
        .await
}

pub async fn holds(ctx: &Ctx, range: &ReportRange) -> Result<HoldsReport> {
    let days = Days::of(range)?;
    let mut conn = ctx.store.conn().await?;
    holds::holds(&mut conn, &days, ctx.now())
        .instrument(tracing::info_span!("report", name = "holds"))
        .await
}

pub async fn edits(ctx: &Ctx, range: &ReportRange) -> Result<EditsReport> {
    let days = Days::of(range)?;
    let mut conn = ctx.store.conn().await?;
    edits::edits(&mut conn, &days)
        .instrument(tracing::info_span!("report", name = "edits"))
        .await
}

pub async fn sweeper(ctx: &Ctx, range: &ReportRange) -> Result<SweeperReport> {
    let days = Days::of(range)?;
    let mut conn = ctx.store.conn().await?;
    sweeps::sweeper(&mut conn, &days)
        .instrument(tracing::info_span!("report", name = "sweeper"))
        .await
}
