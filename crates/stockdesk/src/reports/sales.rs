//! Sales per day and per week (units, orders, revenue per currency) and the best-selling
//! products, from paid orders and their lines: the prices they were sold at, on the day they were
//! paid.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::money::Totals;
use super::range::{week_of, Days, ReportRange};
use crate::error::Result;
use crate::model::Money;
use crate::store::{Session, Stmt};

/// How many products the top list holds.
pub const TOP_PRODUCTS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SalesReport {
    pub range: ReportRange,
    /// Every day of the range, also those without a sale.
    pub days: Vec<SalesPeriod>,
    /// Monday-to-Sunday weeks, each summing the days of it inside the range (`days` says how
    /// many: the first and last week may be partly outside).
    pub weeks: Vec<SalesPeriod>,
    /// The best sellers by units (then revenue), at most `TOP_PRODUCTS`.
    pub top_products: Vec<TopProduct>,
    pub total: SalesTotal,
}

/// Sales of one day or one week. Revenue is per currency: amounts in different currencies are
/// never added up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SalesPeriod {
    /// The day, or the Monday the week starts on.
    pub start: NaiveDate,
    /// Days of the range in it: 1 for a day, up to 7 for a week.
    pub days: i64,
    pub units: i64,
    pub orders: i64,
    pub revenue: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SalesTotal {
    pub units: i64,
    pub orders: i64,
    pub revenue: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TopProduct {
    pub product_id: Uuid,
    /// Its name now, or as it was sold if it is gone.
    pub name: String,
    pub units: i64,
    pub revenue: Vec<Money>,
}

#[derive(sqlx::FromRow)]
struct Row {
    part: String,
    bucket: Option<i64>,
    product_id: Option<Uuid>,
    name: Option<String>,
    currency: Option<String>,
    units: i64,
    amount_minor: i64,
    orders: i64,
}

pub async fn sales(on: &mut impl Session, days: &Days) -> Result<SalesReport> {
    let mut stmt = Stmt::new("");
    let cte = days.cte(&mut stmt);
    let top = stmt.param(TOP_PRODUCTS);
    let first = stmt.param(days.starts());
    let end = stmt.param(days.ends);
    // A line carries its order's time of sale (`paid_at`, stamped by the payment), and
    // `order_items_paid_by_time` holds all a sum needs, so the lines sold come from the index
    // alone: per day, one index range each (`day`); per product, the range's own (`per`, and the
    // top sellers of it). The days' order counts come from the paid orders' index, since an
    // order may hold lines of several products and currencies. A top seller's name as it was
    // sold is looked up only when the product is gone.
    // Postgres types a `UNION` pair by pair, so the first part's NULLs carry their type.
    let sql = format!(
        "WITH {cte}, \
         per AS ( \
           SELECT i.product_id, i.currency, SUM(i.quantity) AS units, \
                  SUM(i.quantity * i.unit_price_minor) AS amount \
           FROM order_items i WHERE i.paid_at >= {first} AND i.paid_at < {end} \
           GROUP BY i.product_id, i.currency), \
         top AS ( \
           SELECT product_id FROM per GROUP BY product_id \
           ORDER BY SUM(units) DESC, SUM(amount) DESC, product_id LIMIT {top}), \
         named AS ( \
           SELECT top.product_id, \
                  COALESCE(p.name, (SELECT MAX(s.product_name) FROM order_items s \
                                    WHERE s.product_id = top.product_id \
                                      AND s.paid_at >= {first} AND s.paid_at < {end})) AS name \
           FROM top LEFT JOIN products p ON p.id = top.product_id) \
         SELECT 'day' AS part, d.bucket, CAST(NULL AS UUID) AS product_id, \
                CAST(NULL AS TEXT) AS name, i.currency, \
                CAST(SUM(i.quantity) AS BIGINT) AS units, \
                CAST(SUM(i.quantity * i.unit_price_minor) AS BIGINT) AS amount_minor, \
                CAST(0 AS BIGINT) AS orders \
         FROM days d JOIN order_items i ON i.paid_at >= d.starts AND i.paid_at < d.ends \
         GROUP BY d.bucket, i.currency \
         UNION ALL \
         SELECT 'orders', d.bucket, NULL, NULL, NULL, 0, 0, CAST(COUNT(*) AS BIGINT) \
         FROM days d \
         JOIN orders o ON o.status = 'paid' AND o.paid_at >= d.starts AND o.paid_at < d.ends \
         GROUP BY d.bucket \
         UNION ALL \
         SELECT 'product', NULL, per.product_id, named.name, per.currency, \
                CAST(per.units AS BIGINT), CAST(per.amount AS BIGINT), 0 \
         FROM per JOIN named ON named.product_id = per.product_id"
    );
    let rows: Vec<Row> = stmt.text(sql).fetch(on).await?;

    let mut by_day: BTreeMap<NaiveDate, Period> = days
        .days
        .iter()
        .map(|(d, _)| (*d, Period::default()))
        .collect();
    let mut products: BTreeMap<Uuid, (String, i64, Totals)> = BTreeMap::new();
    for r in rows {
        match (r.part.as_str(), r.bucket, r.product_id) {
            ("day", Some(b), _) => {
                let day = by_day.entry(days.date(b)?).or_default();
                day.units += r.units;
                day.revenue
                    .add(r.currency.unwrap_or_default(), r.amount_minor)?;
            }
            ("orders", Some(b), _) => by_day.entry(days.date(b)?).or_default().orders += r.orders,
            ("product", _, Some(id)) => {
                let p = products.entry(id).or_default();
                p.0 = r.name.unwrap_or_default();
                p.1 += r.units;
                p.2.add(r.currency.unwrap_or_default(), r.amount_minor)?;
            }
            _ => {}
        }
    }

    let mut weeks: BTreeMap<NaiveDate, Period> = BTreeMap::new();
    let mut total = Period::default();
    for (date, day) in &by_day {
        let week = weeks.entry(week_of(*date)).or_default();
        week.days += 1;
        week.merge(day)?;
        total.merge(day)?;
    }
    let mut top_products: Vec<TopProduct> = products
        .into_iter()
        .map(|(product_id, (name, units, revenue))| TopProduct {
            product_id,
            name,
            units,
            revenue: revenue.into_money(),
        })
        .collect();
    top_products.sort_by(|a, b| {
        b.units
            .cmp(&a.units)
            .then_with(|| a.name.cmp(&b.name))
            .then(a.product_id.cmp(&b.product_id))
    });
    let total = SalesTotal {
        units: total.units,
        orders: total.orders,
        revenue: total.revenue.into_money(),
    };
    Ok(SalesReport {
        range: days.range.clone(),
        days: by_day
            .into_iter()
            .map(|(start, p)| p.into_period(start, 1))
            .collect(),
        weeks: weeks
            .into_iter()
            .map(|(start, p)| {
                let n = p.days;
                p.into_period(start, n)
            })
            .collect(),
        top_products,
        total,
    })
}

/// A day or week being summed up.
#[derive(Default)]
struct Period {
    days: i64,
    units: i64,
    orders: i64,
    revenue: Totals,
}

impl Period {
    fn merge(&mut self, other: &Period) -> Result<()> {
        self.units += other.units;
        self.orders += other.orders;
        for (currency, amount) in other.revenue.iter() {
            self.revenue.add(currency.clone(), *amount)?;
        }
        Ok(())
    }

    fn into_period(self, start: NaiveDate, days: i64) -> SalesPeriod {
        SalesPeriod {
            start,
            days,
            units: self.units,
            orders: self.orders,
            revenue: self.revenue.into_money(),
        }
    }
}
