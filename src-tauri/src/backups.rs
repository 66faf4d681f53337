//! The app's rolling backups: a background task that makes one a day into the data directory
//! (the newest seven kept, see `stockdesk::backup::rolling`), looking once an hour.

use std::time::Duration;

use stockdesk::Stockdesk;

/// How often the task looks whether a backup is due.
const LOOK_EVERY: Duration = Duration::from_secs(3600);
/// The first look waits this long, so starting the app is not slowed by a backup.
const FIRST_LOOK: Duration = Duration::from_secs(60);

/// Runs until aborted (the connection restarts it on a switch of database).
pub fn spawn(core: Stockdesk, database_url: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_LOOK).await;
        loop {
            match core.rolling_backup(&database_url).await {
                Ok(Some(report)) => tracing::info!(file = %report.file, "daily backup written"),
                Ok(None) => {}
                // Recorded for the status bar by the core; tried again at the next look.
                Err(e) => tracing::warn!(error = %e, "daily backup failed"),
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    })
}
