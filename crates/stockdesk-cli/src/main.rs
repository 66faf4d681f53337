//! `stockdesk`: the command-line front end. JSON in (stdin), JSON out (stdout), and an exit code
//! from the error's code. Every handler is a thin call into the core.

mod allot;
mod apply;
mod backup;
mod bench;
mod bench_cli;
mod catalog;
mod changes;
mod images;
mod io;
mod order;
mod report;
mod staff;
mod stock;
mod sweep;
mod sync;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stockdesk::{Error, Stockdesk};

#[derive(Parser)]
#[command(
    name = "stockdesk",
    version,
    about = "Stockdesk: catalog and stock for small shops"
)]
struct Cli {
    /// Database URL: sqlite://PATH or postgres://… (default: an SQLite file in the data directory).
    #[arg(long, env = "STOCKDESK_DB", global = true)]
    db: Option<String>,
    /// Where the default database and image files live.
    #[arg(long, env = "STOCKDESK_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Who is acting (recorded in history and the stock ledger), in a shop without staff
    /// profiles.
    #[arg(long, env = "STOCKDESK_ACTOR", global = true)]
    actor: Option<String>,
    /// Act as this staff profile (required for writes once the shop has profiles). The PIN
    /// comes from STOCKDESK_PIN, else the first line of stdin.
    #[arg(long = "as", env = "STOCKDESK_AS", global = true, value_name = "NAME")]
    as_profile: Option<String>,
    /// The operation id of a write: the same id applied again returns the first outcome and
    /// changes nothing (for retries from scripts). A new one when not given.
    #[arg(long, global = true)]
    op_id: Option<uuid::Uuid>,
    /// Where image bytes are kept: dir (files in a directory) or db (in the database). The shop
    /// decides once (db on Postgres, dir on SQLite); set this only to say what you expect.
    #[arg(long, env = "STOCKDESK_BLOBS", global = true)]
    blobs: Option<stockdesk::BlobBackend>,
    /// The image directory of the dir backend (default: <data dir>/blobs); on a shared
    /// Postgres, the one directory every terminal mounts.
    #[arg(long, env = "STOCKDESK_BLOB_DIR", global = true)]
    blob_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or upgrade the database schema.
    Migrate,
    /// Add a realistic demo catalog.
    Seed(catalog::SeedArgs),
    /// Products: list, get, create, patch, history, restore.
    #[command(subcommand)]
    Product(catalog::ProductCmd),
    /// Variants: find one to sell (by barcode, SKU or name).
    #[command(subcommand)]
    Variants(catalog::VariantsCmd),
    /// Categories and their attributes.
    #[command(subcommand)]
    Category(catalog::CategoryCmd),
    /// Benchmarks against baselines, printed as ratios (in a scratch database beside --db).
    Bench(bench_cli::BenchArgs),
    /// Orders: create (reserve), get, list, pay, cancel, extend.
    #[command(subcommand)]
    Order(order::OrderCmd),
    /// Stock of one variant: get, receive, adjust, count, movements.
    #[command(subcommand)]
    Stock(stock::StockCmd),
    /// Expire overdue orders and tidy up: once, or every so often.
    Sweep(sweep::SweepArgs),
    /// List stock inconsistencies (exits 1 if there is any) and open oversell exceptions.
    Check,
    /// Set a terminal's allotment of a variant: units held on the shop for it to sell offline.
    Allot(allot::AllotArgs),
    /// Terminal allotments: list, revoke, policy, policies, sell-anyway.
    #[command(subcommand)]
    Allotments(allot::AllotmentsCmd),
    /// Oversell exceptions (sales pushed from tills that the shop could not cover): list,
    /// resolve.
    #[command(subcommand)]
    Exceptions(allot::ExceptionsCmd),
    /// Product images: add files, replace a file.
    #[command(subcommand)]
    Image(images::ImageCmd),
    /// Image file storage: gc, verify.
    #[command(subcommand)]
    Blobs(images::BlobsCmd),
    /// The shop's changes after a cursor, one JSON object a line (each with the cursor to
    /// continue from); --follow keeps printing them as they commit.
    Changes(changes::ChangesArgs),
    /// Staff profiles: add (PIN on stdin), list, remove, events.
    #[command(subcommand)]
    Staff(staff::StaffCmd),
    /// This terminal as an offline-first replica of a shop's Postgres: join, sync (--once,
    /// --every 5s), status, attention, resolve, terminals, leave.
    Sync(sync::SyncArgs),
    /// Reports over a range of days: sales, stock, holds, edits, sweeper (a table, or --json).
    Report(report::ReportArgs),
    /// Read a CSV file into the shop (products; --dry-run says what it would do).
    #[command(subcommand)]
    Import(transfer::ImportCmd),
    /// Write products, stock, orders or the stock ledger as CSV.
    Export(transfer::ExportArgs),
    /// Write a backup of the whole shop (database and image files) to FILE, while it works on.
    Backup { file: PathBuf },
    /// Check the backup FILE and restore it over this shop; runs check and blobs verify after.
    Restore { file: PathBuf },
    /// Apply one command given as JSON on stdin (README, "Commands"): any write, or a queued one
    /// replayed; prints {"op_id", "replayed", "outcome"}.
    Apply,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STOCKDESK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return io::fail(&Error::BadInput(e.render().to_string().trim().to_string())),
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(Output::Json(value)) => io::print(&value),
        Ok(Output::Text(text)) => io::print_text(&text),
        Ok(Output::Lines) => ExitCode::SUCCESS,
        Ok(Output::Report(value, code)) => {
            io::print(&value);
            code
        }
        Err(e) => io::fail(&e),
    }
}

enum Output {
    Json(serde_json::Value),
    Text(String),
    /// Printed already, a line at a time.
    Lines,
    /// JSON, with an exit code of its own (an import with problems, a restore not clean).
    Report(serde_json::Value, ExitCode),
}

async fn run(cli: Cli) -> stockdesk::Result<Output> {
    let data_dir = cli.data_dir.unwrap_or_else(stockdesk::default_data_dir);
    let url = cli
        .db
        .unwrap_or_else(|| stockdesk::default_database_url(&data_dir));
    let actor = cli.actor.unwrap_or_else(default_actor);
    if let Command::Bench(args) = cli.command {
        return bench_cli::run(&url, args).await.map(Output::Text);
    }
    let sd = Stockdesk::open(&url, &actor)
        .await?
        .with_data_dir(data_dir)
        .settle_blobs(cli.blobs, cli.blob_dir)
        .await?;
    let sd = match &cli.as_profile {
        Some(name) => staff::sign_in(sd, name).await?,
        None => sd,
    };
    let value = match cli.command {
        Command::Migrate => Ok(serde_json::json!({ "migrated": true, "backend": sd.backend() })),
        Command::Seed(args) => catalog::seed(&sd, cli.op_id, args).await,
        Command::Product(cmd) => catalog::product(&sd, cli.op_id, cmd).await,
        Command::Category(cmd) => catalog::category(&sd, cli.op_id, cmd).await,
        Command::Variants(cmd) => catalog::variants(&sd, cmd).await,
        Command::Order(cmd) => order::order(&sd, cli.op_id, cmd).await,
        Command::Stock(cmd) => stock::stock(&sd, cli.op_id, cmd).await,
        Command::Sweep(args) => sweep::sweep(&sd, args).await,
        Command::Check => sweep::check(&sd).await,
        Command::Allot(args) => allot::allot(&sd, cli.op_id, args).await,
        Command::Allotments(cmd) => allot::allotments(&sd, cli.op_id, cmd).await,
        Command::Exceptions(cmd) => allot::exceptions(&sd, cli.op_id, cmd).await,
        Command::Image(cmd) => images::image(&sd, cli.op_id, cmd).await,
        Command::Blobs(cmd) => images::blobs(sd, cmd).await,
        Command::Apply => apply::apply(&sd).await,
        Command::Staff(cmd) => staff::staff(&sd, cli.op_id, cmd).await,
        Command::Sync(args) => sync::sync(&sd, args).await,
        Command::Changes(args) => return changes::changes(&sd, args).await.map(|()| Output::Lines),
        Command::Report(args) => return report::report(&sd, args).await,
        Command::Import(cmd) => {
            return transfer::import(&sd, cmd)
                .await
                .map(|(v, code)| Output::Report(v, code))
        }
        Command::Export(args) => {
            return transfer::export(&sd, args)
                .await
                .map(|v| v.map_or(Output::Lines, Output::Json))
        }
        Command::Backup { file } => backup::backup(&sd, &url, &file).await,
        Command::Restore { file } => {
            return backup::restore(&sd, &url, &file)
                .await
                .map(|(v, code)| Output::Report(v, code))
        }
        Command::Bench(_) => unreachable!("handled above"),
    };
    value.map(Output::Json)
}

fn default_actor() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "cli".into())
}
