//! `stockdesk`: the command-line front end. JSON in (stdin), JSON out (stdout), and an exit code
//! from the error's code. Every handler is a thin call into the core.

mod catalog;
mod io;

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
    /// Who is acting (recorded in history and the stock ledger).
    #[arg(long, env = "STOCKDESK_ACTOR", global = true)]
    actor: Option<String>,
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
    /// Categories and their attributes.
    #[command(subcommand)]
    Category(catalog::CategoryCmd),
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
        Ok(value) => io::print(&value),
        Err(e) => io::fail(&e),
    }
}

async fn run(cli: Cli) -> stockdesk::Result<serde_json::Value> {
    let data_dir = cli.data_dir.unwrap_or_else(stockdesk::default_data_dir);
    let url = cli
        .db
        .unwrap_or_else(|| stockdesk::default_database_url(&data_dir));
    let actor = cli.actor.unwrap_or_else(default_actor);
    let sd = Stockdesk::open(&url, &actor).await?.with_data_dir(data_dir);
    match cli.command {
        Command::Migrate => Ok(serde_json::json!({ "migrated": true, "backend": sd.backend() })),
        Command::Seed(args) => catalog::seed(&sd, args).await,
        Command::Product(cmd) => catalog::product(&sd, cmd).await,
        Command::Category(cmd) => catalog::category(&sd, cmd).await,
    }
}

fn default_actor() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "cli".into())
}
