//! Commands that travel between a terminal and the shop's server (`sync`): queued on the
//! terminal's replica in the transaction that applies them there, decided once on the shop's
//! server, and applied again on the replica on top of what it pulls until the server decides.

use tracing::Instrument;
use uuid::Uuid;

use super::{check_actor, fingerprint, replayed, run, who, Done};
use crate::ctx::{Ctx, Op};
use crate::error::{ApiError, Error, ErrorCode, Result};
use crate::model::{Applied, Command, CommandKind, Outcome, Queued};
use crate::replica::{self, decisions};
use crate::store::idempotency::{self, Claim, OpKey};
use crate::store::{with_retry, Stmt, Tx};
use crate::{images, staff};

/// What the shop's server decided about a command a terminal sent.
#[derive(Debug, Clone)]
pub enum Pushed {
    Applied(Box<Applied>),
    /// Refused for a reason waiting will not change (a clash, a broken rule): kept with its
    /// error for a person, and never blocking the commands behind it.
    SetAside(ApiError),
}

/// On a replica, inside the command's transaction: the command as it will be sent is applied
/// here too, and appended to the outbox with the uploads it needs.
pub(super) async fn queue_locally(
    tx: &mut Tx,
    op: &Op<'_>,
    cmd: &Command,
    kind: &CommandKind,
) -> Result<Done> {
    let (kind, files) = replica::prepare(tx, kind).await?;
    let (outcome, outbox) = run(tx, op, &kind).await?;
    let queued = Queued {
        command: Command {
            kind,
            ..cmd.clone()
        },
        touches: replica::touches(&outcome),
        files,
    };
    replica::outbox::append(tx, &queued).await?;
    images::hold_staged(tx, &queued.files, op.actor, op.now).await?;
    Ok((outcome, outbox))
}

/// On a replica, inside a pull's transaction: applies a pending command again on top of what the
/// pull brought (with its uploads). An error means it does not apply to the replica as it is
/// now; it stays pending for the server to decide.
pub async fn rerun(tx: &mut Tx, ctx: &Ctx, queued: &Queued) -> Result<Outcome> {
    let cmd = &queued.command;
    let now = ctx.now();
    let op = Op::new(ctx, cmd.op_id, &cmd.actor, now).by(cmd.actor_id);
    images::hold_staged(tx, &queued.files, &cmd.actor, now).await?;
    let (outcome, _) = run(tx, &op, &cmd.kind).await?;
    images::hold_staged(tx, &queued.files, &cmd.actor, now).await?;
    Ok(outcome)
}

/// On the shop's server: decides command `seq` of `terminal` once, in order, on fresh data, by
/// the same rules as any command (the person's role included). A command sent again (its reply
/// was lost, or a second process sends the same outbox) gets the first decision.
pub async fn apply_pushed(ctx: &Ctx, cmd: &Command, terminal: Uuid, seq: i64) -> Result<Pushed> {
    let span = tracing::info_span!(
        "pushed_command",
        kind = cmd.kind.name(),
        op_id = %cmd.op_id,
        %terminal,
        seq,
    );
    check_actor(&cmd.actor)?;
    if replica::online_only(&cmd.kind) {
        return Err(Error::BadInput(format!(
            "a {} command is not queued by terminals",
            cmd.kind.name()
        )));
    }
    let fingerprint = fingerprint(&cmd.kind)?;
    let key = OpKey {
        id: cmd.op_id,
        kind: cmd.kind.name(),
        fingerprint: &fingerprint,
        actor: &cmd.actor,
        actor_id: cmd.actor_id,
    };
    let (pushed, outbox) = with_retry(|| async {
        let mut tx = ctx.store.write().await?;
        let result = decide(&mut tx, ctx, cmd, &key, terminal, seq).await;
        tx.finish(result).await
    })
    .instrument(span.clone())
    .await?;
    images::work_outbox_now(ctx, &outbox).instrument(span).await;
    match &pushed {
        Pushed::Applied(a) if !a.replayed => super::effects::announce(ctx, cmd.op_id, &a.outcome),
        // An offline edit that clashed counts among the shop's conflicts, like one made here.
        Pushed::SetAside(ApiError::Conflict { details, .. }) => {
            crate::reports::record_conflict(ctx, cmd, details).await
        }
        _ => {}
    }
    Ok(pushed)
}

async fn decide(
    tx: &mut Tx,
    ctx: &Ctx,
    cmd: &Command,
    key: &OpKey<'_>,
    terminal: Uuid,
    seq: i64,
) -> Result<(Pushed, Vec<Uuid>)> {
    let now = ctx.now();
    // The change feed's lock before anything gives this transaction an id (the terminal's row
    // lock would): the feed relies on every writer to it holding the lock from then on (`feed`).
    idempotency::begin_system_write(tx).await?;
    let t = decisions::lock(tx, terminal)
        .await?
        .filter(|t| t.left_at.is_none())
        .ok_or_else(|| {
            Error::BadInput(
                "this terminal is not one of the shop's terminals (it left, or the shop's \
                 database was replaced): join the shop again"
                    .into(),
            )
        })?;
    if let Some(error) = decisions::set_aside_error(tx, cmd.op_id).await? {
        return Ok((Pushed::SetAside(error), Vec::new()));
    }
    if seq <= t.last_seq {
        // Decided before and not set aside: applied, and its outcome recorded.
        return match idempotency::claim::<Outcome>(tx, key, now).await? {
            Claim::Done(first) => Ok((applied(cmd, replayed(first), true), Vec::new())),
            Claim::New => Err(Error::Internal(format!(
                "command {seq} of terminal {terminal} was decided, but neither applied nor set aside"
            ))),
        };
    }
    if seq != t.last_seq + 1 {
        return Err(Error::Internal(format!(
            "command {seq} of terminal {terminal} arrived before command {}",
            t.last_seq + 1
        )));
    }
    Stmt::new("SAVEPOINT pushed").run(tx).await?;
    let op = Op::new(ctx, cmd.op_id, &cmd.actor, now)
        .by(cmd.actor_id)
        .recording_outcome();
    let body = async {
        if let Claim::Done(first) = idempotency::claim::<Outcome>(tx, key, now).await? {
            return Ok((replayed(first), true, Vec::new()));
        }
        staff::authorize(tx, who(cmd), &cmd.kind).await?;
        own_till(tx, &cmd.kind, terminal).await?;
        let (outcome, outbox) = run(tx, &op, &cmd.kind).await?;
        if !op.outcome_is_recorded() {
            idempotency::finish(tx, cmd.op_id, &outcome).await?;
        }
        Ok::<_, Error>((outcome, false, outbox))
    }
    .await;
    let decided = match body {
        Ok((outcome, was_replayed, outbox)) => {
            Stmt::new("RELEASE SAVEPOINT pushed").run(tx).await?;
            (applied(cmd, outcome, was_replayed), outbox)
        }
        Err(e) if sets_aside(&e) => {
            Stmt::new("ROLLBACK TO SAVEPOINT pushed").run(tx).await?;
            let error = e.to_api();
            decisions::record_set_aside(tx, cmd.op_id, terminal, seq, &error, now).await?;
            tracing::info!(code = %error.code(), "pushed command set aside");
            (Pushed::SetAside(error), Vec::new())
        }
        Err(e) => return Err(e),
    };
    decisions::advance(tx, terminal, seq, now).await?;
    Ok(decided)
}

/// A till's offline sale is that terminal's own: sold from its allotment, of its own orders.
async fn own_till(tx: &mut Tx, kind: &CommandKind, terminal: Uuid) -> Result<()> {
    let claimed = match kind {
        CommandKind::TillOrder { terminal_id, .. } => Some(*terminal_id),
        CommandKind::TillPay { order_id } | CommandKind::TillCancel { order_id } => {
            crate::stock::allot::terminal_of_order(tx, *order_id).await?
        }
        _ => return Ok(()),
    };
    if claimed != Some(terminal) {
        return Err(Error::BadInput(format!(
            "a {} command names another terminal's allotment or order",
            kind.name()
        )));
    }
    Ok(())
}

fn applied(cmd: &Command, outcome: Outcome, replayed: bool) -> Pushed {
    Pushed::Applied(Box::new(Applied {
        op_id: cmd.op_id,
        replayed,
        outcome,
    }))
}

/// Whether an error decides a command (it is set aside) rather than delaying it: everything but
/// what a moment's wait may change (a busy or unreachable database, a file that could not be
/// read).
pub fn sets_aside(e: &Error) -> bool {
    !matches!(
        e.code(),
        ErrorCode::Busy
            | ErrorCode::Timeout
            | ErrorCode::Unreachable
            | ErrorCode::Io
            | ErrorCode::Migration
    )
}
