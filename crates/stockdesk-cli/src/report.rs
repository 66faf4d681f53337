//! `stockdesk report sales|stock|holds|edits|sweeper`: the desktop app's Reports view on the
//! command line. A table for people by default (like `bench`), or `--json` for scripts: the same
//! JSON document the app reads.

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use stockdesk::model::Money;
use stockdesk::reports::{self, ReportRange};
use stockdesk::{Result, Stockdesk};

use crate::io::to_json;
use crate::Output;

#[derive(Args)]
pub struct ReportArgs {
    which: Which,
    /// First day (YYYY-MM-DD); default: 29 days before --to.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Last day, included (YYYY-MM-DD); default: today.
    #[arg(long)]
    to: Option<NaiveDate>,
    /// The time zone days are counted in (an IANA name); default: this computer's.
    #[arg(long, env = "STOCKDESK_ZONE")]
    zone: Option<String>,
    /// stock: a variant is low at this many available units or fewer.
    #[arg(long, default_value_t = reports::LOW_STOCK_AT)]
    low_stock: i64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    /// Units, orders and revenue per day and week; the best sellers.
    Sales,
    /// Stock value per currency and the low-stock list, now.
    Stock,
    /// Orders placed per day: paid, expired, cancelled, pending.
    Holds,
    /// Edits per day: clean, merged by themselves, refused with a conflict.
    Edits,
    /// The sweeper's runs per day and the latest ones.
    Sweeper,
}

pub async fn report(sd: &Stockdesk, args: ReportArgs) -> Result<Output> {
    let zone = args.zone.clone().unwrap_or_else(reports::local_zone);
    let range = match (args.from, args.to) {
        (from, Some(to)) => ReportRange {
            from: from.unwrap_or(to - chrono::TimeDelta::days(29)),
            to,
            zone,
        },
        (from, None) => {
            let mut r = ReportRange::last_days(30, &zone, sd.now())?;
            r.from = from.unwrap_or(r.from);
            r
        }
    };
    let (json, text) = match args.which {
        Which::Sales => {
            let r = sd.sales_report(&range).await?;
            (to_json(&r)?, table::sales(&r))
        }
        Which::Stock => {
            let r = sd.stock_report(Some(args.low_stock)).await?;
            (to_json(&r)?, table::stock(&r))
        }
        Which::Holds => {
            let r = sd.holds_report(&range).await?;
            (to_json(&r)?, table::holds(&r))
        }
        Which::Edits => {
            let r = sd.edits_report(&range).await?;
            (to_json(&r)?, table::edits(&r))
        }
        Which::Sweeper => {
            let r = sd.sweeper_report(&range).await?;
            (to_json(&r)?, table::sweeper(&r))
        }
    };
    Ok(if args.json {
        Output::Json(json)
    } else {
        Output::Text(text)
    })
}

/// Amounts as "EUR 60.01, USD 50.00" (minor units are hundredths, as everywhere in Stockdesk).
fn amounts(money: &[Money]) -> String {
    if money.is_empty() {
        return "—".into();
    }
    money
        .iter()
        .map(|m| {
            let sign = if m.amount_minor < 0 { "-" } else { "" };
            let abs = m.amount_minor.unsigned_abs();
            format!("{} {sign}{}.{:02}", m.currency, abs / 100, abs % 100)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn heading(what: &str, range: &ReportRange) -> String {
    format!("{what}, {} to {} ({})\n", range.from, range.to, range.zone)
}

mod table {
    use std::fmt::Write;

    use super::{amounts, heading};
    use stockdesk::reports::*;

    pub fn sales(r: &SalesReport) -> String {
        let mut s = heading("Sales", &r.range);
        let _ = writeln!(s, "{:<12} {:>7} {:>7}  revenue", "day", "units", "orders");
        for d in &r.days {
            let _ = writeln!(
                s,
                "{:<12} {:>7} {:>7}  {}",
                d.start.to_string(),
                d.units,
                d.orders,
                amounts(&d.revenue)
            );
        }
        let _ = writeln!(
            s,
            "\n{:<12} {:>4} {:>7} {:>7}  revenue",
            "week of", "days", "units", "orders"
        );
        for w in &r.weeks {
            let _ = writeln!(
                s,
                "{:<12} {:>4} {:>7} {:>7}  {}",
                w.start.to_string(),
                w.days,
                w.units,
                w.orders,
                amounts(&w.revenue)
            );
        }
        let _ = writeln!(
            s,
            "\ntop products\n{:>7}  {:<28} product",
            "units", "revenue"
        );
        for p in &r.top_products {
            let _ = writeln!(s, "{:>7}  {:<28} {}", p.units, amounts(&p.revenue), p.name);
        }
        let _ = write!(
            s,
            "\ntotal: {} units, {} orders, {}",
            r.total.units,
            r.total.orders,
            amounts(&r.total.revenue)
        );
        s
    }

    pub fn stock(r: &StockReport) -> String {
        let mut s = format!("Stock at {}\n", r.at.format("%Y-%m-%d %H:%M UTC"));
        let _ = writeln!(
            s,
            "{:<9} {:>9} {:>10}  value at selling prices",
            "currency", "variants", "on hand"
        );
        for v in &r.value {
            let money = [stockdesk::model::Money {
                currency: v.currency.clone(),
                amount_minor: v.value_minor,
            }];
            let _ = writeln!(
                s,
                "{:<9} {:>9} {:>10}  {}",
                v.currency,
                v.variants,
                v.units_on_hand,
                amounts(&money)
            );
        }
        let _ = writeln!(
            s,
            "\nlow stock (available ≤ {}): {} variants{}",
            r.low_stock_at,
            r.low_stock_total,
            if r.low_stock_total > r.low_stock.len() as i64 {
                format!(", the first {}", r.low_stock.len())
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "{:>9} {:>8} {:>9}  {:<20} product",
            "available", "on hand", "reserved", "sku"
        );
        for l in &r.low_stock {
            let _ = writeln!(
                s,
                "{:>9} {:>8} {:>9}  {:<20} {}",
                l.available, l.on_hand, l.reserved, l.sku, l.product_name
            );
        }
        s.trim_end().to_string()
    }

    pub fn holds(r: &HoldsReport) -> String {
        let mut s = heading("Orders placed, by what became of them", &r.range);
        let row = |s: &mut String, label: &str, c: &HoldCounts| {
            let _ = writeln!(
                s,
                "{label:<12} {:>6} {:>8} {:>10} {:>8}",
                c.paid, c.expired, c.cancelled, c.pending
            );
        };
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>8} {:>10} {:>8}",
            "day", "paid", "expired", "cancelled", "pending"
        );
        for d in &r.days {
            row(&mut s, &d.date.to_string(), &d.counts);
        }
        row(&mut s, "total", &r.total);
        s.trim_end().to_string()
    }

    pub fn edits(r: &EditsReport) -> String {
        let mut s = heading("Edits", &r.range);
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>7} {:>10}",
            "day", "clean", "merged", "conflicts"
        );
        for d in r
            .days
            .iter()
            .map(|d| (d.date.to_string(), &d.counts))
            .chain([("total".to_string(), &r.total)])
        {
            let _ = writeln!(
                s,
                "{:<12} {:>6} {:>7} {:>10}",
                d.0, d.1.clean, d.1.merged, d.1.conflicts
            );
        }
        if !r.recent_conflicts.is_empty() {
            let _ = writeln!(s, "\nlatest conflicts");
            for c in &r.recent_conflicts {
                let _ = writeln!(
                    s,
                    "{}  {:<12} {:<28} {}",
                    c.at.format("%Y-%m-%d %H:%M UTC"),
                    c.actor,
                    c.product_name,
                    c.paths.join(", ")
                );
            }
        }
        s.trim_end().to_string()
    }

    pub fn sweeper(r: &SweeperReport) -> String {
        let mut s = heading("Sweeper runs", &r.range);
        let _ = writeln!(s, "{:<12} {:>6} {:>7}", "day", "runs", "failed");
        for d in &r.days {
            let _ = writeln!(
                s,
                "{:<12} {:>6} {:>7}",
                d.date.to_string(),
                d.counts.runs,
                d.counts.failed
            );
        }
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>7}\n\nlatest runs",
            "total", r.total.runs, r.total.failed
        );
        for run in &r.recent {
            let took = run.millis.map_or("—".to_string(), |ms| format!("{ms} ms"));
            let _ = writeln!(
                s,
                "{}  {:<8} {:>9}  {:>3} expired  {}{}",
                run.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                format!("{:?}", run.status).to_lowercase(),
                took,
                run.orders_expired,
                run.actor,
                run.error
                    .as_ref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            );
        }
        s.trim_end().to_string()
    }
}
