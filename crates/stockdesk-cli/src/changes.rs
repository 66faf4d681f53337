//! `stockdesk changes`: the shop's change feed, one JSON object a line.

use clap::Args;
use stockdesk::feed::MAX_PAGE;
use stockdesk::{Result, Stockdesk};

use crate::io::{interrupted, line};

#[derive(Args)]
pub struct ChangesArgs {
    /// Where to start: the `cursor` of the last change a previous run printed, `0-0` (the very
    /// start) or `now` (only changes from now on).
    #[arg(long, default_value = "0-0")]
    since: String,
    /// After what there is, wait for new changes and print each as it commits, until
    /// interrupted.
    #[arg(long)]
    follow: bool,
    /// Print at most this many changes (without --follow).
    #[arg(long)]
    limit: Option<i64>,
}

/// Prints every change after the cursor, oldest first, each with the cursor to continue from.
pub async fn changes(sd: &Stockdesk, args: ChangesArgs) -> Result<()> {
    let mut cursor = match args.since.as_str() {
        "now" => sd.latest_change().await?,
        cursor => cursor.to_string(),
    };
    if !args.follow {
        let mut left = args.limit.unwrap_or(i64::MAX);
        while left > 0 {
            let page = sd.changes(&cursor, left.min(MAX_PAGE)).await?;
            if page.changes.is_empty() {
                break;
            }
            left -= page.changes.len() as i64;
            if !print_all(&page.changes)? {
                break;
            }
            cursor = page.cursor;
        }
        return Ok(());
    }
    let mut follower = sd.follow_changes(Some(&cursor)).await?;
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        let page = tokio::select! {
            page = follower.next() => page?,
            _ = &mut stop => return Ok(()),
        };
        if !print_all(&page.changes)? {
            return Ok(());
        }
    }
}

/// Prints changes one a line; false once the reader went away (`| head`).
fn print_all(changes: &[stockdesk::model::Change]) -> Result<bool> {
    for change in changes {
        if !line(change)? {
            return Ok(false);
        }
    }
    Ok(true)
}
