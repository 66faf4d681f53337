//! Following the feed: wait for what comes after a cursor, woken at once where possible.

use std::time::Duration;

use tokio::sync::broadcast;

use super::{read, Cursor, MAX_PAGE};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{ChangeEvent, ChangePage};

/// How often a follower looks: the longest another terminal's commit waits before it is seen
/// (this process's own commits wake it at once). Not Postgres's LISTEN/NOTIFY: a NOTIFY takes a
/// server-wide lock at commit, and measured with 16 writers it cut commits from thousands a
/// second to 340 (docs/multi-terminal.md), for a wake-up polling gives within half a second.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Reads the feed from a cursor on: `next` returns the next changes, waiting for them.
pub struct Follower {
    ctx: Ctx,
    cursor: Cursor,
    /// This process's own commits.
    local: broadcast::Receiver<ChangeEvent>,
}

pub fn follow(ctx: &Ctx, from: Cursor) -> Follower {
    Follower {
        local: ctx.subscribe(),
        ctx: ctx.clone(),
        cursor: from,
    }
}

impl Follower {
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next changes after the cursor (at least one), and moves the cursor past them.
    pub async fn next(&mut self) -> Result<ChangePage> {
        loop {
            let (page, cursor) = read(&self.ctx, self.cursor, MAX_PAGE).await?;
            if !page.changes.is_empty() {
                self.cursor = cursor;
                return Ok(page);
            }
            self.wait().await;
        }
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = self.local.recv() => {}
        }
        // One look serves every wake-up so far (a burst of local events included).
        while !matches!(
            self.local.try_recv(),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
        ) {}
    }
}
