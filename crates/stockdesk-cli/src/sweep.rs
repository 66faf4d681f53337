//! `stockdesk sweep` and `stockdesk check`.

use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};
use stockdesk::{Error, Result, Stockdesk};

use crate::io::to_json;

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct SweepArgs {
    /// One run, then exit.
    #[arg(long)]
    once: bool,
    /// Run every so often (e.g. 30s) until interrupted, printing each run as a JSON line.
    #[arg(long, value_parser = humantime::parse_duration)]
    every: Option<Duration>,
}

pub async fn sweep(sd: &Stockdesk, args: SweepArgs) -> Result<Value> {
    let Some(every) = args.every else {
        return to_json(&sd.sweep_once().await?);
    };
    if every.is_zero() {
        return Err(Error::validation("every", "must be more than zero"));
    }
    let mut runs = 0u64;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One listener for the whole loop, so a stop asked for during a run is not lost.
    let stop = crate::io::interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut stop => return Ok(json!({ "stopped": true, "runs": runs })),
        }
        // A failed run is recorded and printed; the loop goes on (the database may come back).
        let line = match sd.sweep_once().await {
            Ok(run) => to_json(&run)?,
            Err(e) => to_json(&e.to_api())?,
        };
        if !crate::io::line(&line)? {
            return Ok(json!({ "stopped": true, "runs": runs }));
        }
        runs += 1;
    }
}

pub async fn check(sd: &Stockdesk) -> Result<Value> {
    let found = sd.check_invariants().await?;
    if found.is_empty() {
        // Open oversell exceptions are the manager's to settle, not corruption.
        let open = sd.oversell_exceptions(true).await?;
        Ok(json!({ "ok": true, "inconsistencies": [], "open_exceptions": open }))
    } else {
        Err(Error::Inconsistent(found))
    }
}
