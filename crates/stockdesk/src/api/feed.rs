//! The change feed: reading it, following it, and relaying other terminals' changes.

use tracing::Instrument;

use crate::error::Result;
use crate::feed::{self, Cursor, Follower};
use crate::model::ChangePage;
use crate::Stockdesk;

impl Stockdesk {
    /// Up to `limit` changes after `since` (a cursor; `0-0` is the start), oldest first.
    pub async fn changes(&self, since: &str, limit: i64) -> Result<ChangePage> {
        feed::page(&self.ctx, since.parse()?, limit).await
    }

    /// The cursor after every change so far: where a reader of only new changes starts.
    pub async fn latest_change(&self) -> Result<String> {
        Ok(feed::latest(&self.ctx).await?.to_string())
    }

    /// Follows the feed from `since` (`None`: from now on).
    pub async fn follow_changes(&self, since: Option<&str>) -> Result<Follower> {
        let from: Cursor = match since {
            Some(c) => c.parse()?,
            None => feed::latest(&self.ctx).await?,
        };
        Ok(feed::follow(&self.ctx, from))
    }

    /// Passes every change another terminal (or process) commits from now on to `subscribe()`,
    /// beside this handle's own, so a view listening there stays fresh with the whole shop. A
    /// failure to read the feed is logged and retried, never fatal.
    pub fn spawn_change_relay(&self) -> tokio::task::JoinHandle<()> {
        let sd = self.clone();
        tokio::spawn(
            async move {
                let mut follower = loop {
                    match sd.follow_changes(None).await {
                        Ok(f) => break f,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot follow the change feed yet");
                            tokio::time::sleep(feed::POLL_EVERY * 4).await;
                        }
                    }
                };
                loop {
                    match follower.next().await {
                        Ok(page) => {
                            for change in page.changes {
                                if !sd.ctx.announced_here(change.op_id) {
                                    for event in change.changed {
                                        sd.ctx.emit(event);
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "reading the change feed failed; retrying");
                            tokio::time::sleep(feed::POLL_EVERY * 4).await;
                        }
                    }
                }
            }
            .instrument(tracing::info_span!("change_relay")),
        )
    }
}
