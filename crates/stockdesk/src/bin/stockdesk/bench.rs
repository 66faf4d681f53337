//! `stockdesk bench …`: a human table, and with `--json` one JSON object on the last line.

use clap::{Args, Subcommand};
use stockdesk::bench::{self, BenchReport, PatchOptions, SearchOptions};
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
}

/// Benches run in a scratch database beside `url`; the database at `url` is not opened.
pub async fn run(url: &str, args: BenchArgs) -> Result<String> {
    let report: BenchReport = match args.which {
        Bench::Patch { ops, products } => bench::patch(url, PatchOptions { ops, products }).await?,
        Bench::Search { products, queries } => {
            bench::search(url, SearchOptions { products, queries }).await?
        }
    };
    Ok(if args.json {
        format!("{}\n{}", report.table, report.json)
    } else {
        report.table
    })
}
