//! `stockdesk bench …`: a human table, and with `--json` one JSON object on the last line.

use crate::bench::{
    self, BenchReport, ContentionOptions, HotOptions, ImportOptionsBench, PatchOptions,
    ReportOptions, SearchOptions, SweepOptions, SyncOptions,
};
use clap::{Args, Subcommand};
use stockdesk::Result;

#[derive(Args)]
pub struct BenchArgs {
    /// Also print the result as one JSON object on the last line.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    which: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Version-checked edits against raw SQL updates with no checks.
    Patch {
        #[arg(long, default_value_t = 1000)]
        ops: usize,
        #[arg(long, default_value_t = 200)]
        products: usize,
    },
    /// Product list queries with search and filters against a plain LIKE scan.
    Search {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// Concurrent buyers on few units: Stockdesk, the seeds' compare-and-set with retries, and
    /// (Postgres) SELECT … FOR UPDATE. With --hot: reservations/s against a raw conditional
    /// UPDATE on one row.
    Contention {
        #[arg(long, default_value_t = 200)]
        buyers: usize,
        /// Units on the variant (hot mode: use a large number, it must not run out).
        #[arg(long, default_value_t = 50)]
        units: i64,
        /// Races per strategy (each round runs every strategy once, starting with another one);
        /// times are medians over the rounds.
        #[arg(long, default_value_t = 7)]
        rounds: usize,
        #[arg(long)]
        hot: bool,
        /// Hot mode: concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Hot mode: seconds per side.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// Importing a product CSV of N rows (Shopify's layout) against inserting the same
    /// products and variants with raw SQL in one transaction.
    Import {
        #[arg(long, default_value_t = 10_000)]
        rows: usize,
    },
    /// Expiring a backlog of overdue reservations, and an idle sweep over many active ones.
    Sweep {
        #[arg(long, default_value_t = 100_000)]
        overdue: usize,
        #[arg(long, default_value_t = 1_000_000)]
        active: usize,
    },
    /// Offline-first terminals (Postgres only): pushing queued edits, catching up with changes,
    /// joining a shop, and many terminals at once, each against its plain baseline.
    Sync {
        #[arg(long, default_value_t = 1_000)]
        edits: usize,
        #[arg(long, default_value_t = 10_000)]
        changes: usize,
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 50)]
        terminals: usize,
        /// Writes and syncs per terminal.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// Each report over a year of history against a plain GROUP BY over the whole ledger.
    Report {
        /// Movements in the ledger.
        #[arg(long, default_value_t = 1_000_000)]
        ledger: usize,
        /// Products of the demo catalog.
        #[arg(long, default_value_t = 1000)]
        products: usize,
        /// Days each report covers, ending today.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Timed runs of each report.
        #[arg(long, default_value_t = 30)]
        queries: usize,
    },
}

/// Benches run in a scratch database beside `url`; the database at `url` is not opened.
pub async fn run(url: &str, args: BenchArgs) -> Result<String> {
    let report: BenchReport = match args.which {
        Bench::Patch { ops, products } => bench::patch(url, PatchOptions { ops, products }).await?,
        Bench::Search { products, queries } => {
            bench::search(url, SearchOptions { products, queries }).await?
        }
        Bench::Contention {
            buyers,
            units,
            rounds,
            hot,
            clients,
            seconds,
        } => {
            let hot = hot.then_some(HotOptions { clients, seconds });
            let opts = ContentionOptions {
                buyers,
                units,
                rounds,
                hot,
            };
            bench::contention(url, opts).await?
        }
        Bench::Import { rows } => bench::import(url, ImportOptionsBench { rows }).await?,
        Bench::Sweep { overdue, active } => {
            bench::sweep(url, SweepOptions { overdue, active }).await?
        }
        Bench::Sync {
            edits,
            changes,
            products,
            terminals,
            rounds,
        } => {
            let opts = SyncOptions {
                edits,
                changes,
                products,
                terminals,
                rounds,
            };
            bench::sync(url, opts).await?
        }
        Bench::Report {
            ledger,
            products,
            days,
            queries,
        } => {
            let opts = ReportOptions {
                ledger,
                products,
                days,
                queries,
            };
            bench::report(url, opts).await?
        }
    };
    Ok(if args.json {
        format!("{}\n{}", report.table, report.json)
    } else {
        report.table
    })
}
