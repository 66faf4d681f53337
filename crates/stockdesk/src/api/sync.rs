//! Offline-first terminals: joining a shop, syncing, what needs attention, leaving (`sync`).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{Applied, JoinProgress, JoinReport, Permission, Refusal, Role, SyncReport};
use crate::replica::decisions::{self, Terminal};
use crate::sync::{self, Attention, Link, Resolution, SyncStatus};
use crate::Stockdesk;

/// What resolving a set-aside command did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, specta::Type)]
pub struct Resolved {
    pub op_id: Uuid,
    /// The command that resolved it (none when it was discarded), and its outcome here.
    pub resolved_by: Option<Uuid>,
    pub applied: Option<Applied>,
}

impl Stockdesk {
    /// Whether this database is a terminal's replica of a shop.
    pub fn is_replica(&self) -> bool {
        self.ctx.replica.is_some()
    }

    pub(crate) async fn link(&self) -> Result<Arc<Link>> {
        if self.ctx.replica.is_none() {
            return Err(Error::BadInput(
                "this terminal has not joined a shop: `stockdesk sync join POSTGRES_URL` first"
                    .into(),
            ));
        }
        self.link
            .get_or_try_init(|| Link::open(&self.ctx))
            .await
            .cloned()
    }

    /// Makes this database a replica of the shop at `shop_url` as terminal `name` (the host's
    /// name by default), and returns the handle on it. Only an empty database joins.
    pub async fn join_shop(
        &self,
        shop_url: &str,
        name: Option<&str>,
        progress: &(dyn Fn(JoinProgress) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<(Stockdesk, JoinReport)> {
        let name = name
            .map(str::to_string)
            .unwrap_or_else(sync::default_terminal_name);
        let span = tracing::info_span!("join_shop", terminal = %name);
        let report = sync::join(&self.ctx, shop_url, &name, progress, cancel)
            .instrument(span)
            .await?;
        Ok((self.reopened().await?, report))
    }

    /// Pushes what is queued and pulls what changed, once. The sync runs to its end as a task of
    /// its own even if the caller stops waiting: a transaction cut off half-way in this process
    /// could keep the replica's write lock until its connection is next used.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let link = self.link().await?;
        tokio::spawn(async move { sync::sync_once(&link).await })
            .await
            .map_err(|e| Error::Internal(format!("the sync task failed: {e}")))?
    }

    /// Syncs every `every` until the task is dropped (the app's background sync). A failure is
    /// noted in the replica (`sync_status`) and tried again next time.
    pub fn spawn_sync(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let sd = self.clone();
        tokio::spawn(
            async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let Err(e) = sd.sync_once().await {
                        tracing::info!(error = %e, "sync did not complete; trying again");
                    }
                }
            }
            .instrument(tracing::info_span!("sync_task")),
        )
    }

    /// How this replica stands with its shop; `probe` asks the shop's server whether it answers.
    pub async fn sync_status(&self, probe: bool) -> Result<SyncStatus> {
        let link = match self.ctx.replica {
            Some(_) => Some(self.link().await?),
            None => None,
        };
        sync::status(&self.ctx, link.as_deref(), probe).await
    }

    /// What the shop set aside and waits for a person.
    pub async fn sync_attention(&self) -> Result<Vec<Attention>> {
        sync::attention(&self.ctx).await
    }

    /// Resolves a set-aside command: a new command (queued like any other), or dropping it.
    pub async fn sync_resolve(&self, op_id: Uuid, resolution: Resolution) -> Result<Resolved> {
        let span = tracing::info_span!("sync_resolve", %op_id);
        async {
            let entry = sync::set_aside_entry(&mut self.ctx.store.conn().await?, op_id).await?;
            let current = match entry.queued.touches.product {
                Some(p) => self.get_product(p).await.ok().map(|p| p.version),
                None => None,
            };
            let applied = match sync::command_for(&entry, &resolution, current)? {
                Some(kind) => Some(self.apply(&self.command(None, kind)).await?),
                None => None,
            };
            let by = applied.as_ref().map(|a| a.op_id);
            sync::mark_resolved(&self.ctx, entry.seq, by).await?;
            Ok(Resolved {
                op_id,
                resolved_by: by,
                applied,
            })
        }
        .instrument(span)
        .await
    }

    /// Stops being a terminal of the shop (refused while anything is unsynced or set aside); the
    /// database keeps its copy of the shop. Returns the handle as a database of its own.
    pub async fn leave_shop(&self) -> Result<Stockdesk> {
        self.owner_only("takes a terminal out of the shop").await?;
        sync::leave(&*self.link().await?).await?;
        self.reopened().await
    }

    /// Marks the shop's terminal `name` gone (lost, stolen, broken): its name is free again and
    /// whatever it still sends is refused. Owners only; a terminal leaves itself with
    /// `leave_shop`.
    pub async fn forget_terminal(&self, name: &str) -> Result<Terminal> {
        self.owner_only("forgets a terminal").await?;
        let forget = |ctx: crate::Ctx| {
            let name = name.to_string();
            async move {
                let mut tx = ctx.store.write().await?;
                let r = decisions::forget(&mut tx, &name, ctx.now()).await;
                tx.finish(r).await
            }
        };
        let forgotten = match &self.ctx.replica {
            Some(me) => {
                if me.terminal_name.eq_ignore_ascii_case(name.trim()) {
                    return Err(Error::BadInput(
                        "that is this terminal: `stockdesk sync leave` takes it out".into(),
                    ));
                }
                let up = self.link().await?.upstream().await?;
                sync::link::step(forget(up.ctx)).await?
            }
            None => forget(self.ctx.clone()).await?,
        };
        forgotten.ok_or_else(|| Error::not_found("terminal", name))
    }

    /// Refused unless the person acting is the shop's owner (any one, in a shop without staff
    /// profiles).
    async fn owner_only(&self, what: &str) -> Result<()> {
        let session = self.session().await?;
        if !session.shop_has_profiles {
            return Ok(());
        }
        let refusal = match session.profile.map(|p| p.role) {
            Some(Role::Owner) => return Ok(()),
            Some(role) => Refusal::Role {
                role,
                needs: Role::Owner,
                permission: Permission::ManageStaff,
            },
            None => Refusal::NotSignedIn,
        };
        Err(Error::Forbidden {
            message: format!("only the shop's owner {what}"),
            refusal,
        })
    }

    /// The shop's terminals, as its server knows them.
    pub async fn shop_terminals(&self) -> Result<Vec<Terminal>> {
        match self.ctx.replica {
            Some(_) => {
                let link = self.link().await?;
                let up = link.upstream().await?;
                sync::link::step(async { decisions::list(&mut up.ctx.store.conn().await?).await })
                    .await
            }
            None => decisions::list(&mut self.ctx.store.conn().await?).await,
        }
    }

    /// This handle, with what the database says now of being a replica.
    async fn reopened(&self) -> Result<Stockdesk> {
        let info = crate::replica::info(&mut self.ctx.store.conn().await?).await?;
        let mut sd = self.clone();
        sd.link = Arc::default();
        match info {
            Some(info) => {
                sd.ctx.terminal = info.terminal_id;
                sd.ctx.replica = Some(info);
            }
            None => sd.ctx.replica = None,
        }
        // A replica keeps image bytes where its shop does (in the database).
        crate::images::storage::settle(&mut sd.ctx, None).await?;
        Ok(sd)
    }
}
