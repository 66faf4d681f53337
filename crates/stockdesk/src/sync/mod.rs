//! Offline-first terminals (docs/sync.md). A terminal that joins a shop keeps a replica of it in
//! its own SQLite database and works on that at local speed, whether or not the shop's Postgres
//! answers; the shop's Postgres stays the one authority. No server of our own and no CRDTs: the
//! terminal's process talks to the shop's Postgres with the same core.
//!
//! - Joining (`join`) copies the shop into the replica from one snapshot, after taking the
//!   cursor of the shop's change feed.
//! - Every local write is applied to the replica and queued in its outbox in one transaction
//!   (`replica`, `commands`), numbered in order. Orders, payments and staff changes are not
//!   queued: the shop decides them while the customer waits, and offline they are refused.
//! - Pushing (`push`) sends the queued commands in order; the shop decides each once and in
//!   order (`commands::apply_pushed`): applied, set aside for a person (a clash, a broken rule),
//!   or left to try again (the network). A set-aside command never holds up the ones behind it.
//! - Pulling (`pull`) follows the shop's change feed from the replica's cursor and brings the
//!   current rows of what changed, then applies this terminal's pending commands on top, in one
//!   transaction with the new cursor.
//! - A shop's server restored from a backup or replaced has another identity: the replica then
//!   sends what it has, and copies the shop afresh (`sync_once`).

mod copy;
mod join;
pub mod link;
mod pull;
mod push;
mod resolve;
mod state;
pub mod tables;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument;
use uuid::Uuid;

use crate::commands;
use crate::ctx::Ctx;
use crate::error::{ApiError, Error, ErrorCode, Result};
use crate::feed::{self, Cursor};
use crate::model::{Applied, Command, CommandKind, SyncReport};
use crate::replica::{self, decisions, outbox};
use crate::store::{with_retry, Stmt};

pub use join::{default_terminal_name, join};
pub use link::{offline, Link};
pub use resolve::{command_for, entry as set_aside_entry, without as without_clashes, Resolution};

/// How a replica stands with its shop (`stockdesk sync status`, the app's status bar).
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct SyncStatus {
    /// Whether this database is a terminal's replica of a shop.
    pub joined: bool,
    pub terminal: Option<String>,
    pub terminal_id: Option<Uuid>,
    /// The shop's database, password hidden.
    pub shop: Option<String>,
    /// Whether the shop's server answers: as it did just now when asked (`probe`), else as the
    /// last sync found it (absent before the first sync).
    pub online: Option<bool>,
    /// Whether a sync over this handle's link runs now.
    pub syncing: bool,
    /// When a sync last worked.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Commands waiting for the shop, and the age of the oldest in seconds.
    pub pending: i64,
    pub oldest_pending_secs: Option<i64>,
    /// Commands the shop set aside, waiting for a person.
    pub attention: i64,
    pub cursor: Option<String>,
    /// Changes the shop has that this replica has not pulled yet (when online).
    pub lag: Option<i64>,
    pub last_push_at: Option<DateTime<Utc>>,
    pub last_pull_at: Option<DateTime<Utc>>,
    /// The last sync's error, if it failed: the message, its stable code (`unreachable`, …)
    /// and when.
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// A command the shop set aside, for a person to resolve.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Attention {
    pub op_id: Uuid,
    pub seq: i64,
    /// The command's kind (`patch_product`, `receive_stock`, …).
    pub kind: String,
    pub actor: String,
    pub made_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why the shop set it aside; for a clash, base / mine / theirs per field.
    pub error: ApiError,
    /// The product it is about, if any.
    pub product_id: Option<Uuid>,
    pub command: Command,
}

/// The status of the replica behind `local` (a plain database says it has not joined).
/// `probe` asks the shop's server whether it answers, and how far behind the replica is.
pub async fn status(local: &Ctx, link: Option<&Link>, probe: bool) -> Result<SyncStatus> {
    let mut conn = local.store.conn().await?;
    let Some(s) = state::read(&mut conn).await? else {
        return Ok(SyncStatus::default());
    };
    let counts = outbox::counts(&mut conn).await?;
    drop(conn);
    let now = local.now();
    // The last sync's outcome: it failed for want of an answer, or it worked.
    let last_online = match (&s.last_error_code, s.last_sync_at) {
        (Some(code), _) => Some(
            !ErrorCode::ALL
                .iter()
                .any(|c| c.as_str() == code.as_str() && link::offline_code(*c)),
        ),
        (None, Some(_)) => Some(true),
        (None, None) => None,
    };
    let mut status = SyncStatus {
        joined: true,
        terminal: Some(s.terminal_name.clone()),
        terminal_id: Some(s.terminal_id),
        shop: Some(crate::store::url::redact(&s.shop_url)),
        online: last_online,
        syncing: link.is_some_and(Link::syncing),
        last_sync_at: s.last_sync_at,
        pending: counts.pending,
        oldest_pending_secs: counts
            .oldest_pending
            .map(|t| (now - t).num_seconds().max(0)),
        attention: counts.attention,
        cursor: Some(s.cursor().to_string()),
        lag: None,
        last_push_at: s.last_push_at,
        last_pull_at: s.last_pull_at,
        last_error: s.last_error.clone(),
        last_error_code: s.last_error_code.clone(),
        last_error_at: s.last_error_at,
    };
    if let (true, Some(link)) = (probe, link) {
        match lag(link, s.cursor()).await {
            Ok(n) => {
                status.online = Some(true);
                status.lag = Some(n);
            }
            Err(e) => {
                link.after_error(&e).await;
                status.online = Some(false);
            }
        }
    }
    Ok(status)
}

/// Changes on the shop's server after `cursor`.
async fn lag(link: &Link, cursor: Cursor) -> Result<i64> {
    let up = link.upstream().await?;
    link::step(async {
        Stmt::new(
            "SELECT COUNT(*) FROM applied_ops \
             WHERE (tx > $1 OR (tx = $1 AND seq > $2)) AND outcome IS NOT NULL",
        )
        .arg(cursor.tx)
        .arg(cursor.seq)
        .fetch_scalar(&mut up.ctx.store.conn().await?)
        .await
    })
    .await
}

/// The commands the shop set aside, oldest first.
pub async fn attention(local: &Ctx) -> Result<Vec<Attention>> {
    let entries = outbox::set_aside(&mut local.store.conn().await?).await?;
    Ok(entries
        .into_iter()
        .map(|e| Attention {
            op_id: e.op_id,
            seq: e.seq,
            kind: e.queued.command.kind.name().to_string(),
            actor: e.queued.command.actor.clone(),
            made_at: e.queued.command.made_at,
            decided_at: e.decided_at,
            error: e.error.clone().unwrap_or(ApiError::Internal {
                message: "set aside without a reason".into(),
                details: crate::error::NoDetails {},
            }),
            product_id: e.queued.touches.product,
            command: e.queued.command,
        })
        .collect())
}

/// One sync: push what is queued, then pull what changed. If the shop's server is another one
/// than the replica copied (restored, replaced), its commands are sent and the shop is copied
/// afresh. The outcome is noted in the replica (`status`).
pub async fn sync_once(link: &Link) -> Result<SyncReport> {
    let span = tracing::info_span!("sync", terminal = %link.terminal_name);
    let _running = link.sync_running();
    let result = async {
        let up = link.upstream().await?;
        let s = state::joined(&mut link.local.store.conn().await?).await?;
        let identity = link::step(link::identity(&up.ctx)).await?;
        let latest = link::step(feed::latest(&up.ctx)).await?;
        if identity != s.server_identity || latest < s.cursor() {
            tracing::warn!(
                "the shop's server is not the one this terminal copied: copying it afresh"
            );
            return recopy(link, &identity).await;
        }
        let pushed = push::push(link).await?;
        right_size(link).await?;
        let pulled = pull::pull(link, &pushed.refresh).await?;
        let counts = outbox::counts(&mut link.local.store.conn().await?).await?;
        Ok(SyncReport {
            applied: pushed.applied,
            set_aside: pushed.set_aside,
            pending: counts.pending,
            pulled: pulled.changes,
            cursor: pulled.cursor,
            recopied: false,
            at: Some(link.local.now()),
        })
    }
    .instrument(span)
    .await;
    if let Err(e) = &result {
        link.after_error(e).await;
    }
    let now = link.local.now();
    with_retry(|| async {
        let mut tx = link.local.store.write().await?;
        let r = state::note_outcome(&mut tx, result.as_ref().map(|_| ()), now).await;
        tx.finish(r).await
    })
    .await?;
    result
}

/// The shop's server is another one: this terminal registers with it again, sends what it has
/// (also what the restored server lost of its earlier commands), and copies the shop afresh.
async fn recopy(link: &Link, identity: &str) -> Result<SyncReport> {
    let up = link.upstream().await?;
    let local = &link.local;
    // A restored server knows this terminal up to some command: the later ones it lost are
    // sent again. A server that never knew it gets only what is still pending.
    let known = link::step(async {
        decisions::get(&mut up.ctx.store.conn().await?, link.terminal_id).await
    })
    .await?;
    let resend_after = match &known {
        Some(t) => t.last_seq,
        None => {
            Stmt::new(
                "SELECT COALESCE((SELECT MIN(seq) FROM sync_outbox WHERE status = 'pending'), \
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM sync_outbox)) - 1",
            )
            .fetch_scalar::<i64>(&mut local.store.conn().await?)
            .await?
        }
    };
    with_retry(|| async {
        let mut tx = local.store.write().await?;
        let r = Stmt::new(
            "UPDATE sync_outbox SET status = 'pending', outcome = NULL, decided_at = NULL \
             WHERE status = 'applied' AND seq > $1",
        )
        .arg(resend_after)
        .run(&mut tx)
        .await;
        tx.finish(r).await
    })
    .await?;
    link::step(with_retry(|| async {
        let mut tx = up.ctx.store.write().await?;
        let r = decisions::register(
            &mut tx,
            link.terminal_id,
            &link.terminal_name,
            resend_after,
            up.ctx.now(),
        )
        .await;
        tx.finish(r).await
    }))
    .await?;
    let pushed = push::push(link).await?;
    let cursor = link::step(feed::latest(&up.ctx)).await?;
    let never = std::sync::atomic::AtomicBool::new(false);
    let mut tx = local.store.write().await?;
    let result = async {
        copy::clear(&mut tx).await?;
        copy::copy_all(&up, &mut tx, true, &|_| {}, &never).await?;
        copy::seen_all(&mut tx).await?;
        state::reset(&mut tx, identity, cursor, local.now()).await?;
        pull::rerun_pending(&mut tx, link).await
    }
    .await;
    tx.finish(result).await?;
    local.emit(crate::model::ChangeEvent::Catalog);
    let pulled = pull::pull(link, &BTreeSet::new()).await?;
    let counts = outbox::counts(&mut local.store.conn().await?).await?;
    Ok(SyncReport {
        applied: pushed.applied,
        set_aside: pushed.set_aside,
        pending: counts.pending,
        pulled: pulled.changes,
        cursor: pulled.cursor,
        recopied: true,
        at: Some(local.now()),
    })
}

/// Applies an order, a payment or a staff change on the shop's server (see
/// `replica::online_only`), after sending what this terminal queued, so the shop decides it on
/// everything this terminal did; then pulls, so the replica shows the outcome. Offline it is
/// refused, never accepted silently.
pub async fn forward(link: &Link, cmd: &Command) -> Result<Applied> {
    forward_as(link, cmd, false).await
}

/// A sale paid at once (`cmd` creates its order): online, the shop takes the order, then its
/// payment; offline, the till sells it from its allotment, paid (`till_order`).
pub async fn sell_now(link: &Link, cmd: &Command) -> Result<Applied> {
    let taken = forward_as(link, cmd, true).await?;
    match &taken.outcome {
        crate::model::Outcome::Order(o) if o.status == crate::model::OrderStatus::Pending => {
            let pay = Command {
                op_id: Uuid::now_v7(),
                made_at: link.local.now(),
                kind: CommandKind::PayOrder { order_id: o.id },
                ..cmd.clone()
            };
            forward(link, &pay).await
        }
        _ => Ok(taken),
    }
}

async fn forward_as(link: &Link, cmd: &Command, paid: bool) -> Result<Applied> {
    // Offline, a till's sale from its allotment is applied here and queued (`till_form`).
    let refusal = |e: Error| async move {
        match commands::till_form(&link.local, link.terminal_id, &cmd.kind, paid).await? {
            Some(kind) => {
                tracing::info!(
                    kind = kind.name(),
                    "the shop is unreachable: selling from the allotment"
                );
                let queued = Command {
                    kind,
                    ..cmd.clone()
                };
                commands::apply(&link.local, &queued).await
            }
            None => Err(replica::needs_the_shop(
                &cmd.kind,
                &link.shop(),
                &e.to_string(),
            )),
        }
    };
    if let Err(e) = push::push(link).await {
        link.after_error(&e).await;
        if offline(&e) {
            return refusal(e).await;
        }
        return Err(e);
    }
    let up = match link.upstream().await {
        Ok(up) => up,
        Err(e) => return refusal(e).await,
    };
    let applied = match link::step(commands::apply(&up.ctx, cmd)).await {
        Ok(a) => a,
        Err(e) => {
            link.after_error(&e).await;
            // Unknown whether it committed: the same op id sent again is answered once (a sale
            // queued from the allotment under it meets the first decision on the shop).
            return if offline(&e) {
                refusal(e).await
            } else {
                Err(e)
            };
        }
    };
    if let Err(e) = pull::pull(link, &BTreeSet::new()).await {
        link.after_error(&e).await;
        tracing::warn!(error = %e, "the shop applied the command; pulling its outcome failed");
    }
    Ok(applied)
}

/// On the shop, as terminal `link` syncs: its allotments brought to the shop's policies.
async fn right_size(link: &Link) -> Result<()> {
    let up = link.upstream().await?;
    let changed = link::step(commands::right_size_allotments(
        &up.ctx,
        link.terminal_id,
        &link.terminal_name,
    ))
    .await?;
    if !changed.is_empty() {
        tracing::info!(variants = changed.len(), "allotments right-sized");
    }
    Ok(())
}

/// Stops being a terminal of the shop: refused while commands have not reached the shop or wait
/// for a person. The database keeps its copy of the shop, as a database of its own.
pub async fn leave(link: &Link) -> Result<()> {
    let counts = outbox::counts(&mut link.local.store.conn().await?).await?;
    if counts.pending > 0 || counts.attention > 0 {
        return Err(Error::InvalidState {
            entity: "terminal",
            id: link.terminal_id,
            state: format!(
                "holding {} command(s) the shop has not had and {} set aside",
                counts.pending, counts.attention
            ),
            action: "leave the shop (sync first, and resolve what is set aside)",
        });
    }
    let up = link.upstream().await?;
    link::step(with_retry(|| async {
        let mut tx = up.ctx.store.write().await?;
        let r = decisions::leave(&mut tx, link.terminal_id, up.ctx.now()).await;
        tx.finish(r).await
    }))
    .await?;
    with_retry(|| async {
        let mut tx = link.local.store.write().await?;
        let r = async {
            state::delete(&mut tx).await?;
            Stmt::new("DELETE FROM sync_outbox").run(&mut tx).await?;
            Stmt::new("DELETE FROM sync_seen").run(&mut tx).await?;
            Ok(())
        }
        .await;
        tx.finish(r).await
    })
    .await
}

/// Marks a set-aside entry resolved by `by` (or discarded), letting go of uploads the resolving
/// command does not use.
pub async fn mark_resolved(local: &Ctx, seq: i64, by: Option<Uuid>) -> Result<()> {
    let outbox_ids = with_retry(|| async {
        let mut tx = local.store.write().await?;
        let r = async {
            let old = outbox::by_seq(&mut tx, seq).await?;
            let kept: BTreeSet<Uuid> = match by {
                Some(op) => outbox::by_op(&mut tx, op)
                    .await?
                    .map(|e| e.queued.files.iter().map(|f| f.id).collect())
                    .unwrap_or_default(),
                None => BTreeSet::new(),
            };
            if !outbox::mark_resolved(&mut tx, seq, by).await? {
                return Err(Error::InvalidState {
                    entity: "command",
                    id: old.as_ref().map_or(Uuid::nil(), |e| e.op_id),
                    state: "no longer set aside".into(),
                    action: "resolve it again",
                });
            }
            let release: Vec<Uuid> = old
                .iter()
                .flat_map(|e| e.queued.files.iter().map(|f| f.id))
                .filter(|id| !kept.contains(id))
                .collect();
            crate::images::release_held(&mut tx, &release, local.now()).await
        }
        .await;
        tx.finish(r).await
    })
    .await?;
    crate::images::work_outbox_now(local, &outbox_ids).await;
    Ok(())
}
