//! Reports over a range of days (reads only).

use crate::error::Result;
use crate::reports::{
    self, EditsReport, HoldsReport, ReportRange, SalesReport, StockReport, SweeperReport,
};
use crate::Stockdesk;

impl Stockdesk {
    /// Sales per day and week, and the best sellers.
    pub async fn sales_report(&self, range: &ReportRange) -> Result<SalesReport> {
        reports::sales(&self.ctx, range).await
    }

    /// Stock value per currency and the low-stock list, now (`low_stock_at`: 5 when None).
    pub async fn stock_report(&self, low_stock_at: Option<i64>) -> Result<StockReport> {
        reports::stock(&self.ctx, low_stock_at).await
    }

    /// Orders placed per day by what became of them.
    pub async fn holds_report(&self, range: &ReportRange) -> Result<HoldsReport> {
        reports::holds(&self.ctx, range).await
    }

    /// Edits per day: clean, merged by themselves, refused with a conflict.
    pub async fn edits_report(&self, range: &ReportRange) -> Result<EditsReport> {
        reports::edits(&self.ctx, range).await
    }

    /// The sweeper's runs per day and the latest ones.
    pub async fn sweeper_report(&self, range: &ReportRange) -> Result<SweeperReport> {
        reports::sweeper(&self.ctx, range).await
    }
}
