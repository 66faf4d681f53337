//! Following the feed: wait for what comes after a cursor, woken at once where possible.

use std::time::Duration;

use tokio::sync::broadcast;

use super::{page, Cursor, MAX_PAGE};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{ChangeEvent, ChangePage};
use crate::store::Store;

/// How often a follower looks without being woken: what another process's commit on SQLite,
/// or a missed notification on Postgres, waits at most before it is seen.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

const CHANNEL: &str = "stockdesk_changes";

/// Reads the feed from a cursor on: `next` returns the next changes, waiting for them.
pub struct Follower {
    ctx: Ctx,
    cursor: Cursor,
    /// Postgres's notifications; none on SQLite, or after the listening connection failed
    /// (then polling alone carries on).
    listener: Option<sqlx::postgres::PgListener>,
    /// This process's own commits.
    local: broadcast::Receiver<ChangeEvent>,
}

pub async fn follow(ctx: &Ctx, from: Cursor) -> Result<Follower> {
    let listener = match &ctx.store {
        Store::Postgres(pool) => {
            let mut l = sqlx::postgres::PgListener::connect_with(pool).await?;
            l.listen(CHANNEL).await?;
            Some(l)
        }
        Store::Sqlite(_) => None,
    };
    Ok(Follower {
        local: ctx.subscribe(),
        ctx: ctx.clone(),
        cursor: from,
        listener,
    })
}

impl Follower {
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next changes after the cursor (at least one), and moves the cursor past them.
    pub async fn next(&mut self) -> Result<ChangePage> {
        loop {
            let page = page(&self.ctx, self.cursor, MAX_PAGE).await?;
            if !page.changes.is_empty() {
                self.cursor = page.cursor.parse()?;
                return Ok(page);
            }
            self.wait().await;
        }
    }

    async fn wait(&mut self) {
        let notified = async {
            match self.listener.as_mut() {
                Some(l) => l.try_recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = self.local.recv() => {}
            r = notified => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "change notifications stopped; polling only");
                    self.listener = None;
                }
            }
        }
        // One look serves every wake-up so far (a burst of local events included).
        while !matches!(
            self.local.try_recv(),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
        ) {}
    }
}
