//! Operation ids: a retried request (double click, timeout, offline queue) is applied once and
//! answered with the first outcome. The claim is a row inserted by the transaction that applies
//! the operation, so it commits or vanishes with it.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Arg, Backend, Conn, Stmt, Tx};
use crate::error::{Error, Result};

/// An operation as its op id records it: the id, the kind of operation, and a fingerprint of
/// exactly what was asked (the same id with other content is refused, not replayed).
#[derive(Debug, Clone, Copy)]
pub struct OpKey<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub fingerprint: &'a str,
    /// Who makes it, for the change feed (and the staff profile, if any).
    pub actor: &'a str,
    pub actor_id: Option<Uuid>,
}

pub enum Claim<T> {
    /// First time: apply the operation, then `finish`.
    New,
    /// Already applied: here is what it returned.
    Done(T),
}

/// Claims `op_id` inside `tx`. A concurrent transaction holding the same id makes this wait for it
/// (the primary key), then see its outcome.
pub async fn claim<T: DeserializeOwned>(
    tx: &mut Tx,
    op: &OpKey<'_>,
    now: DateTime<Utc>,
) -> Result<Claim<T>> {
    if claim_stmt(op, now).run(tx).await? == 1 {
        return Ok(Claim::New);
    }
    first_outcome(tx, op).await.map(Claim::Done)
}

/// The statement of `claim`: it inserts one row if the op id is new, none if it was claimed
/// (waiting for a transaction that holds it). For a caller that runs it inside a statement of
/// its own (`staff::claim_and_authorize`), then reads `first_outcome` if it inserted none.
pub fn claim_stmt(op: &OpKey<'_>, now: DateTime<Utc>) -> Stmt {
    Stmt::new(
        "INSERT INTO applied_ops (op_id, kind, fingerprint, actor, created_at, actor_id) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (op_id) DO NOTHING",
    )
    .arg(op.id)
    .arg(op.kind)
    .arg(op.fingerprint)
    .arg(op.actor)
    .arg(now)
    .arg(op.actor_id)
}

/// The outcome of `op`'s first application, for a replay (`bad_input` if its id was used for
/// another command).
pub async fn first_outcome<T: DeserializeOwned>(tx: &mut Tx, op: &OpKey<'_>) -> Result<T> {
    let applied: AppliedOp = applied_op(op.id).fetch_one(tx).await?;
    applied.decode(op)
}

/// The outcome recorded for `op_id`, read outside any transaction: a look that lets a replay be
/// answered before any lock is taken. `bad_input` if the op id was used for another kind.
pub async fn stored<T: DeserializeOwned>(conn: &mut Conn, op: &OpKey<'_>) -> Result<Option<T>> {
    let applied: Option<AppliedOp> = applied_op(op.id).fetch_optional(conn).await?;
    applied.map(|a| a.decode(op)).transpose()
}

/// Records the outcome of a claimed operation, in the same transaction.
pub async fn finish<T: Serialize>(tx: &mut Tx, op_id: Uuid, outcome: &T) -> Result<()> {
    finish_stmt(op_id, outcome)?.run(tx).await?;
    Ok(())
}

/// The statement `finish` runs, for a body that records the outcome in its own last write.
pub fn finish_stmt<T: Serialize>(op_id: Uuid, outcome: &T) -> Result<Stmt> {
    let value = serde_json::to_value(outcome)
        .map_err(|e| Error::BadInput(format!("outcome not serialisable: {e}")))?;
    Ok(
        Stmt::new("UPDATE applied_ops SET outcome = $2 WHERE op_id = $1")
            .arg(op_id)
            .arg(Arg::json(&value)?),
    )
}

/// Starts a write that is no command (the sweeper expiring orders): takes the change feed's
/// write lock before anything else, as a command's claim does, because the feed relies on a
/// transaction holding it from the moment it has an id (`feed`). On Postgres that is a table lock
/// in the mode an insert takes, so nothing is written when the batch finds nothing to do; SQLite's
/// one writer needs none.
pub async fn begin_system_write(tx: &mut Tx) -> Result<()> {
    if tx.backend() == Backend::Postgres {
        Stmt::new("LOCK TABLE applied_ops IN ROW EXCLUSIVE MODE")
            .run(tx)
            .await?;
    }
    Ok(())
}

/// Records what a system write changed in the change feed (nothing when it changed nothing),
/// under a fresh op id that nothing replays; returns that op id.
pub async fn finish_system_write<T: Serialize>(
    tx: &mut Tx,
    kind: &str,
    actor: &str,
    changed: &[T],
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    if changed.is_empty() {
        return Ok(None);
    }
    let op_id = Uuid::now_v7();
    let changed = serde_json::to_value(changed)
        .map_err(|e| Error::Internal(format!("change not serialisable: {e}")))?;
    Stmt::new(
        "INSERT INTO applied_ops (op_id, kind, outcome, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .arg(op_id)
    .arg(kind)
    .arg(Arg::json(&changed)?)
    .arg(actor)
    .arg(now)
    .run(tx)
    .await?;
    Ok(Some(op_id))
}

/// What `applied_ops` holds of an op id: the kind of operation it was used for, and what that
/// returned (none yet while the claiming transaction runs).
#[derive(sqlx::FromRow)]
struct AppliedOp {
    kind: String,
    fingerprint: Option<String>,
    outcome: Option<Json<serde_json::Value>>,
}

fn applied_op(op_id: Uuid) -> Stmt {
    Stmt::new("SELECT kind, fingerprint, outcome FROM applied_ops WHERE op_id = $1").arg(op_id)
}

impl AppliedOp {
    /// The recorded outcome, for a replay of `op`.
    fn decode<T: DeserializeOwned>(self, op: &OpKey<'_>) -> Result<T> {
        let (op_id, stored_kind) = (op.id, self.kind);
        if stored_kind != op.kind {
            return Err(Error::BadInput(format!(
                "op_id {op_id} was already used for a {stored_kind} operation"
            )));
        }
        if self.fingerprint.is_some_and(|f| f != op.fingerprint) {
            return Err(Error::BadInput(format!(
                "op_id {op_id} was already used for another {stored_kind} command; \
                 a new command needs a new op_id"
            )));
        }
        let outcome = self
            .outcome
            .ok_or_else(|| Error::BadInput(format!("op_id {op_id} has no recorded outcome")))?;
        serde_json::from_value(outcome.0)
            .map_err(|e| Error::BadInput(format!("op_id {op_id}: stored outcome unreadable: {e}")))
    }
}
