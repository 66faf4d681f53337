//! Stock now: what the stock on hand is worth at its selling prices, per currency, and the
//! variants that are running out (available = on hand − what pending orders hold).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::product_rows::reserved_sql;
use crate::store::{Session, Stmt};

/// How many low-stock variants the list shows (`low_stock_total` counts them all).
pub const LOW_STOCK_ROWS: i64 = 50;
/// A variant is low at this many available units or fewer, unless asked otherwise (the product
/// list's low-stock filter uses the same figure).
pub const LOW_STOCK_AT: i64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StockReport {
    pub at: DateTime<Utc>,
    /// Per currency, by code.
    pub value: Vec<StockValue>,
    pub low_stock_at: i64,
    /// Variants of products that are not archived with at most `low_stock_at` available, fewest
    /// first (at most `LOW_STOCK_ROWS`).
    pub low_stock: Vec<LowStock>,
    /// How many variants are low in all.
    pub low_stock_total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StockValue {
    pub currency: String,
    pub variants: i64,
    pub units_on_hand: i64,
    /// On hand × price, in minor units of `currency`.
    pub value_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct LowStock {
    pub product_id: Uuid,
    pub product_name: String,
    pub variant_id: Uuid,
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    part: String,
    currency: Option<String>,
    variants: i64,
    units: i64,
    value_minor: i64,
    product_id: Option<Uuid>,
    product_name: Option<String>,
    variant_id: Option<Uuid>,
    sku: Option<String>,
    reserved: i64,
    total: i64,
}

pub async fn stock(on: &mut impl Session, low_at: i64, now: DateTime<Utc>) -> Result<StockReport> {
    if !(0..=crate::model::MAX_STOCK).contains(&low_at) {
        return Err(Error::validation(
            "low_stock_at",
            format!(
                "must be a whole number from 0 to {}",
                crate::model::MAX_STOCK
            ),
        ));
    }
    let mut stmt = Stmt::new("");
    let at = stmt.param(now);
    let low = stmt.param(low_at);
    let rows_wanted = stmt.param(LOW_STOCK_ROWS);
    // What is held is only looked up for variants that hold anything (`held` > 0).
    let sql = format!(
        "WITH levels AS ( \
           SELECT v.id, v.product_id, v.sku, v.stock_on_hand, \
                  CASE WHEN v.held = 0 THEN 0 ELSE {reserved} END AS reserved \
           FROM variants v) \
         SELECT 'value' AS part, v.currency, CAST(COUNT(*) AS BIGINT) AS variants, \
                CAST(SUM(v.stock_on_hand) AS BIGINT) AS units, \
                CAST(SUM(v.stock_on_hand * v.price_minor) AS BIGINT) AS value_minor, \
                NULL AS product_id, NULL AS product_name, NULL AS variant_id, NULL AS sku, \
                CAST(0 AS BIGINT) AS reserved, CAST(0 AS BIGINT) AS total \
         FROM variants v GROUP BY v.currency \
         UNION ALL \
         SELECT * FROM ( \
           SELECT 'low', NULL, 0, l.stock_on_hand, 0, p.id, p.name, l.id, l.sku, \
                  CAST(l.reserved AS BIGINT), CAST(COUNT(*) OVER () AS BIGINT) \
           FROM levels l JOIN products p ON p.id = l.product_id \
           WHERE p.status <> 'archived' AND l.stock_on_hand - l.reserved <= {low} \
           ORDER BY l.stock_on_hand - l.reserved, p.name, l.sku \
           LIMIT {rows_wanted}) low",
        reserved = reserved_sql(&at),
    );
    let rows: Vec<Row> = stmt.text(sql).fetch(on).await?;
    let mut report = StockReport {
        at: now,
        value: Vec::new(),
        low_stock_at: low_at,
        low_stock: Vec::new(),
        low_stock_total: 0,
    };
    for r in rows {
        if r.part == "value" {
            report.value.push(StockValue {
                currency: r.currency.unwrap_or_default(),
                variants: r.variants,
                units_on_hand: r.units,
                value_minor: r.value_minor,
            });
            continue;
        }
        let (Some(product_id), Some(variant_id)) = (r.product_id, r.variant_id) else {
            continue;
        };
        report.low_stock_total = r.total;
        report.low_stock.push(LowStock {
            product_id,
            product_name: r.product_name.unwrap_or_default(),
            variant_id,
            sku: r.sku.unwrap_or_default(),
            on_hand: r.units,
            reserved: r.reserved,
            available: r.units - r.reserved,
        });
    }
    report.value.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(report)
}
