//! `stockdesk import products FILE` and `stockdesk export KIND`: thin calls into the core's
//! `transfer`, with a progress bar on stderr for people watching an import.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use stockdesk::model::{ExportKind, ExportRequest, ImportOptions, ImportProgress, ImportReport};
use stockdesk::{Result, Stockdesk};

use crate::io::to_json;

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Products from a Shopify product CSV or a Stockdesk export: each product one
    /// version-checked command; prints what was created, updated, unchanged or refused.
    Products {
        file: PathBuf,
        /// Say what would happen, with every row's problems; write nothing, fetch no image.
        #[arg(long)]
        dry_run: bool,
        /// The currency of the prices in a file without a Variant Currency column (a Shopify
        /// export). Default: the currency most of the shop's variants have.
        #[arg(long)]
        currency: Option<String>,
    },
}

#[derive(Args)]
pub struct ExportArgs {
    kind: Kind,
    /// Orders and ledger: from this time on (RFC 3339, or a date: its midnight UTC).
    #[arg(long, value_parser = parse_time)]
    from: Option<DateTime<Utc>>,
    /// Orders and ledger: before this time.
    #[arg(long, value_parser = parse_time)]
    to: Option<DateTime<Utc>>,
    /// Write to FILE (and print a JSON summary) instead of writing the CSV to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Products,
    Stock,
    Orders,
    Ledger,
}

/// The report, and the exit code it means: 0 all done, 3 some conflicted, 2 some rows had
/// problems (those products were not imported), 1 the import stopped or was cancelled.
pub async fn import(sd: &Stockdesk, cmd: ImportCmd) -> Result<(Value, ExitCode)> {
    let ImportCmd::Products {
        file,
        dry_run,
        currency,
    } = cmd;
    let bar = progress_bar(dry_run);
    let progress = |p: ImportProgress| {
        bar.set_length(p.rows_total as u64);
        bar.set_position(p.rows_done as u64);
        bar.set_message(format!("{}/{} products", p.done, p.total));
    };
    let cancel = AtomicBool::new(false);
    let opts = ImportOptions { currency };
    let run = sd.import_products(&file, &opts, dry_run, &progress, &cancel);
    tokio::pin!(run);
    // Ctrl-C or SIGTERM stops between two products: none is left half imported.
    let report = tokio::select! {
        r = &mut run => r,
        _ = crate::io::interrupted() => {
            cancel.store(true, Ordering::SeqCst);
            bar.set_message("cancelling after the current product…");
            run.await
        }
    };
    bar.finish_and_clear();
    let report = report?;
    let code = exit_code(&report);
    Ok((to_json(&report)?, code))
}

fn exit_code(r: &ImportReport) -> ExitCode {
    if r.stopped.is_some() || r.cancelled {
        ExitCode::from(1)
    } else if r.conflicts > 0 {
        ExitCode::from(3)
    } else if r.invalid > 0 || !r.problems.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// A bar on stderr when a person watches (a terminal); nothing for scripts.
fn progress_bar(dry_run: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let what = if dry_run { "checking" } else { "importing" };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} rows · {{msg}} · {{elapsed}}"
        ))
        .expect("a valid template"),
    );
    bar
}

/// Writes the CSV to `--out` (then prints a summary) or to stdout (then prints nothing else).
pub async fn export(sd: &Stockdesk, args: ExportArgs) -> Result<Option<Value>> {
    let kind = match args.kind {
        Kind::Products => ExportKind::Products,
        Kind::Stock => ExportKind::Stock,
        Kind::Orders => ExportKind::Orders,
        Kind::Ledger => ExportKind::Ledger,
    };
    let req = ExportRequest {
        kind,
        from: args.from,
        to: args.to,
    };
    match args.out {
        Some(path) => {
            let report = sd.export_to_file(&req, &path).await?;
            Ok(Some(to_json(&report)?))
        }
        None => {
            sd.export_csv(&req, Box::new(Stdout::default())).await?;
            Ok(None)
        }
    }
}

fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| {
            format!("{text:?} is not a time (2026-12-03T09:00:00Z) or a date (2026-12-03)")
        })
}

/// Standard output for a CSV that may be piped into `head`: once the reader is gone the rest is
/// dropped, as `cat` would (the export is a read; nothing is left half done).
#[derive(Default)]
struct Stdout {
    gone: bool,
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        match std::io::stdout().write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match std::io::stdout().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}
