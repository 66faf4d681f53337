//! `stockdesk sync`: this terminal as an offline-first replica of a shop's Postgres — join, sync
//! once or every so often, status, what needs attention, resolving it, leaving.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use stockdesk::model::JoinProgress;
use stockdesk::sync::Resolution;
use stockdesk::{Error, Result, Stockdesk};
use uuid::Uuid;

use crate::io::{interrupted, line, to_json};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    cmd: Option<SyncCmd>,
    /// Push what is queued and pull what changed, once.
    #[arg(long)]
    once: bool,
    /// Sync every so often (e.g. 5s) until interrupted, printing each sync as a JSON line.
    #[arg(long, value_parser = humantime::parse_duration)]
    every: Option<Duration>,
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Make this terminal's database a replica of the shop at POSTGRES_URL (an empty database
    /// only; progress on stderr).
    Join {
        url: String,
        /// This terminal's name in the shop (default: the host name).
        #[arg(long)]
        terminal: Option<String>,
    },
    /// Online or not, commands waiting, how far behind, the last error, what needs attention.
    Status {
        /// Do not ask the shop's server (report only what this terminal knows).
        #[arg(long)]
        local: bool,
    },
    /// Commands the shop set aside (a clash, a broken rule), with base / mine / theirs.
    Attention,
    /// Resolve a set-aside command (by its op id): keep mine, keep theirs, retry or discard.
    Resolve {
        op_id: Uuid,
        #[command(flatten)]
        how: How,
    },
    /// The shop's terminals as its server knows them (when each was last heard from).
    Terminals,
    /// Mark a lost or broken terminal of the shop gone: its name is free again and whatever it
    /// still sends is refused (owners only).
    Forget { name: String },
    /// Stop being a terminal of the shop (refused while anything is unsynced or set aside).
    Leave,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct How {
    /// For an edit that clashed: my values for every clash, on the product as it is now.
    #[arg(long)]
    mine: bool,
    /// For an edit that clashed: their values stay, the rest of my edit is applied.
    #[arg(long)]
    theirs: bool,
    /// Send it again as it was.
    #[arg(long)]
    retry: bool,
    /// Drop it.
    #[arg(long)]
    discard: bool,
}

pub async fn sync(sd: &Stockdesk, args: SyncArgs) -> Result<Value> {
    match (args.cmd, args.once, args.every) {
        (Some(cmd), _, _) => command(sd, cmd).await,
        (None, true, None) => to_json(&sd.sync_once().await?),
        (None, false, Some(every)) => every_so_often(sd, every).await,
        _ => Err(Error::BadInput(
            "say what to do: `stockdesk sync --once`, `--every 5s`, or a subcommand (join, \
             status, attention, resolve, terminals, forget, leave)"
                .into(),
        )),
    }
}

async fn command(sd: &Stockdesk, cmd: SyncCmd) -> Result<Value> {
    match cmd {
        SyncCmd::Join { url, terminal } => join(sd, &url, terminal.as_deref()).await,
        SyncCmd::Status { local } => to_json(&sd.sync_status(!local).await?),
        SyncCmd::Attention => to_json(&sd.sync_attention().await?),
        SyncCmd::Resolve { op_id, how } => {
            let resolution = if how.mine {
                Resolution::KeepMine
            } else if how.theirs {
                Resolution::KeepTheirs
            } else if how.retry {
                Resolution::Retry
            } else {
                Resolution::Discard
            };
            to_json(&sd.sync_resolve(op_id, resolution).await?)
        }
        SyncCmd::Terminals => to_json(&sd.shop_terminals().await?),
        SyncCmd::Forget { name } => to_json(&sd.forget_terminal(&name).await?),
        SyncCmd::Leave => {
            sd.leave_shop().await?;
            Ok(json!({ "left": true }))
        }
    }
}

/// Joins, with progress on stderr; Ctrl-C cancels and leaves nothing behind.
async fn join(sd: &Stockdesk, url: &str, terminal: Option<&str>) -> Result<Value> {
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            interrupted().await;
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let shown = Mutex::new(Instant::now() - Duration::from_secs(1));
    let progress = move |p: JoinProgress| show(&shown, &p);
    let joined = sd.join_shop(url, terminal, &progress, &cancel).await;
    stop.abort();
    eprintln!();
    to_json(&joined?.1)
}

/// A progress line on stderr: redrawn in place on a terminal, a line a second otherwise.
fn show(shown: &Mutex<Instant>, p: &JoinProgress) {
    let mut last = shown.lock().expect("progress lock");
    let tty = std::io::stderr().is_terminal();
    let copying = p.phase == "copying";
    if copying && last.elapsed() < Duration::from_millis(if tty { 100 } else { 1000 }) {
        return;
    }
    *last = Instant::now();
    let text = if copying {
        let pct = (p.done * 100).checked_div(p.total).unwrap_or(0);
        format!(
            "joining: copying {} — {} of {} rows ({pct}%)",
            p.table.as_deref().unwrap_or(""),
            p.done,
            p.total
        )
    } else {
        format!("joining: {}", p.phase.replace('_', " "))
    };
    let mut err = std::io::stderr().lock();
    let _ = if tty {
        write!(err, "\r\x1b[2K{text}")
    } else {
        writeln!(err, "{text}")
    };
    let _ = err.flush();
}

/// Syncs every `every` until interrupted, a JSON line per sync (an error is printed as one and
/// the next sync tries again: the shop's server may come back).
async fn every_so_often(sd: &Stockdesk, every: Duration) -> Result<Value> {
    if every.is_zero() {
        return Err(Error::validation("every", "must be more than zero"));
    }
    let mut syncs = 0u64;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut stop => return Ok(json!({ "stopped": true, "syncs": syncs })),
        }
        let report = tokio::select! {
            r = sd.sync_once() => r,
            _ = &mut stop => return Ok(json!({ "stopped": true, "syncs": syncs })),
        };
        let printed = match report {
            Ok(r) => line(&r)?,
            Err(e) => line(&e.to_api())?,
        };
        if !printed {
            return Ok(json!({ "stopped": true, "syncs": syncs }));
        }
        syncs += 1;
    }
}
