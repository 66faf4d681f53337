//! Pushing: the replica's pending commands go to the shop's server in order, each decided there
//! by the same core (`commands::apply_pushed`): applied, set aside, or — the network or a busy
//! server — left pending to try again. The uploads a command needs are staged on the server
//! first, under the ids the command names. Decisions are noted in the outbox after the server
//! committed them; a crash in between only means the next push hears the same decisions again.

use std::collections::BTreeSet;

use tracing::Instrument;
use uuid::Uuid;

use super::link::{step, Link, Upstream};
use super::state;
use crate::commands::{self, Pushed};
use crate::error::Result;
use crate::images;
use crate::replica::outbox::{self, Entry};
use crate::store::{Stmt, Tx};

/// Commands read from the outbox at a time.
const BATCH: i64 = 100;

/// What a push did.
#[derive(Debug, Clone, Default)]
pub struct PushReport {
    pub applied: i64,
    pub set_aside: i64,
    /// Products to read afresh from the server: what a set-aside command had changed here.
    pub refresh: BTreeSet<Uuid>,
}

/// Sends every pending command, in order, until the outbox is empty or the server cannot be
/// reached (an error; what was decided before it is noted).
pub async fn push(link: &Link) -> Result<PushReport> {
    let span = tracing::info_span!("push", terminal = %link.terminal_name);
    async {
        let mut report = PushReport::default();
        loop {
            let batch = outbox::pending(&mut link.local.store.conn().await?, BATCH).await?;
            if batch.is_empty() {
                return Ok(report);
            }
            let up = link.upstream().await?;
            let mut decided = Vec::new();
            let mut failure = None;
            for entry in &batch {
                match step(send(link, &up, entry)).await {
                    Ok(p) => decided.push((entry, p)),
                    Err(e) => {
                        failure = Some((entry.seq, e));
                        break;
                    }
                }
            }
            note(
                link,
                &decided,
                failure.as_ref().map(|(s, e)| (*s, e)),
                &mut report,
            )
            .await?;
            if let Some((_, e)) = failure {
                return Err(e);
            }
        }
    }
    .instrument(span)
    .await
}

/// One command to the server, its uploads first.
async fn send(link: &Link, up: &Upstream, entry: &Entry) -> Result<Pushed> {
    let cmd = &entry.queued.command;
    if !entry.queued.files.is_empty() && !decided_on_server(up, cmd.op_id).await? {
        for file in &entry.queued.files {
            // A file gone from this terminal is sent as nothing: the server then refuses the
            // command for its unknown upload, and it is set aside.
            if let Some(bytes) = local_bytes(link, &file.blob_key).await? {
                images::stage_bytes_as(&up.ctx, &cmd.actor, file.id, bytes).await?;
            }
        }
    }
    commands::apply_pushed(&up.ctx, cmd, link.terminal_id, entry.seq).await
}

/// Whether the server already decided `op_id` (then its uploads are not needed again).
async fn decided_on_server(up: &Upstream, op_id: Uuid) -> Result<bool> {
    Stmt::new(
        "SELECT (SELECT COUNT(*) FROM applied_ops WHERE op_id = $1) \
              + (SELECT COUNT(*) FROM sync_set_aside WHERE op_id = $1)",
    )
    .arg(op_id)
    .counts_any(&mut up.ctx.store.conn().await?)
    .await
}

async fn local_bytes(link: &Link, key: &str) -> Result<Option<Vec<u8>>> {
    let mut tx = link.local.store.read().await?;
    let bytes = images::blob_store(&link.local).read(&mut tx, key).await?;
    tx.rollback().await?;
    Ok(bytes)
}

/// Notes the server's decisions (and a failed try) in the outbox, in one transaction.
async fn note(
    link: &Link,
    decided: &[(&Entry, Pushed)],
    failure: Option<(i64, &crate::Error)>,
    report: &mut PushReport,
) -> Result<()> {
    let local = &link.local;
    let mut tx = local.store.write().await?;
    let result = note_in(&mut tx, link, decided, failure, report).await;
    let outbox_ids = tx.finish(result).await?;
    images::work_outbox_now(local, &outbox_ids).await;
    Ok(())
}

async fn note_in(
    tx: &mut Tx,
    link: &Link,
    decided: &[(&Entry, Pushed)],
    failure: Option<(i64, &crate::Error)>,
    report: &mut PushReport,
) -> Result<Vec<Uuid>> {
    let now = link.local.now();
    let mut outbox_ids = Vec::new();
    for (entry, pushed) in decided {
        let files: Vec<Uuid> = entry.queued.files.iter().map(|f| f.id).collect();
        match pushed {
            Pushed::Applied(a) => {
                outbox::mark_applied(tx, entry.seq, &a.outcome, now).await?;
                outbox_ids.extend(images::release_held(tx, &files, now).await?);
                report.applied += 1;
            }
            Pushed::SetAside(error) => {
                // Its uploads stay held: resolving it may use them.
                outbox::mark_set_aside(tx, entry.seq, error, now).await?;
                // What it did here goes: its product is read afresh below, its ledger rows and
                // a category it made (unless something here uses it) go now.
                Stmt::new("DELETE FROM stock_movements WHERE op_id = $1")
                    .arg(entry.op_id)
                    .run(tx)
                    .await?;
                if let Some(c) = entry.queued.touches.category {
                    Stmt::new(
                        "DELETE FROM categories WHERE id = $1 \
                         AND NOT EXISTS (SELECT 1 FROM products WHERE category_id = $1)",
                    )
                    .arg(c)
                    .run(tx)
                    .await?;
                }
                report.set_aside += 1;
                report.refresh.extend(entry.queued.touches.product);
            }
        }
    }
    if !decided.is_empty() {
        state::pushed(tx, now).await?;
    }
    if let Some((seq, e)) = failure {
        outbox::note_failure(tx, seq, &e.to_string()).await?;
    }
    Ok(outbox_ids)
}
