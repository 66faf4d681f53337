//! The sweeper, run once or in the background.

use std::time::Duration;

use crate::error::Result;
use crate::sweeper::{self, SweepRun, SweeperHealth};
use crate::Stockdesk;

impl Stockdesk {
    /// One sweep: every job once, recorded in `sweep_runs`.
    pub async fn sweep_once(&self) -> Result<SweepRun> {
        sweeper::sweep_once(&self.ctx, &self.actor).await
    }

    pub async fn sweeper_health(&self) -> Result<SweeperHealth> {
        sweeper::sweeper_health(&self.ctx).await
    }

    /// Runs a sweep every `every` until the task is aborted.
    pub fn spawn_sweeper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        sweeper::spawn(self.ctx.clone(), self.actor.clone(), every)
    }
}
