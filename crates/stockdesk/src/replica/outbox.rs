//! A replica's outbox: every local write, numbered in order, from the transaction that applied it
//! locally until the shop's server has decided it (applied, or set aside for a person to look
//! at). A set-aside command stays here, with the server's error, until someone resolves it.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::{ApiError, Error, Result};
use crate::model::Queued;
use crate::store::{Arg, Session, Stmt, Tx};

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not decided by the shop's server yet.
    Pending,
    Applied,
    /// Refused by the shop's server (a clash or a broken rule): needs a person.
    SetAside,
    /// Set aside, then resolved by a new command.
    Resolved,
    /// Set aside, then dropped by a person.
    Discarded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::SetAside => "set_aside",
            Status::Resolved => "resolved",
            Status::Discarded => "discarded",
        }
    }

    fn parse(s: &str) -> Result<Status> {
        Ok(match s {
            "pending" => Status::Pending,
            "applied" => Status::Applied,
            "set_aside" => Status::SetAside,
            "resolved" => Status::Resolved,
            "discarded" => Status::Discarded,
            other => return Err(Error::Internal(format!("outbox status {other:?}"))),
        })
    }
}

/// One entry of the outbox.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: i64,
    pub op_id: Uuid,
    pub status: Status,
    pub queued: Queued,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why the server set it aside.
    pub error: Option<ApiError>,
    pub resolved_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    op_id: Uuid,
    status: String,
    command: Json<Queued>,
    attempts: i64,
    last_error: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    outcome: Option<Json<serde_json::Value>>,
    resolved_by: Option<Uuid>,
}

impl Row {
    fn into_entry(self) -> Result<Entry> {
        let status = Status::parse(&self.status)?;
        let error = match (&self.outcome, status) {
            (Some(v), Status::SetAside | Status::Resolved | Status::Discarded) => {
                Some(serde_json::from_value(v.0.clone()).map_err(|e| {
                    Error::Internal(format!("outbox entry {}: unreadable error: {e}", self.seq))
                })?)
            }
            _ => None,
        };
        Ok(Entry {
            seq: self.seq,
            op_id: self.op_id,
            status,
            queued: self.command.0,
            attempts: self.attempts,
            last_error: self.last_error,
            decided_at: self.decided_at,
            error,
            resolved_by: self.resolved_by,
        })
    }
}

const COLUMNS: &str =
    "seq, op_id, status, command, attempts, last_error, decided_at, outcome, resolved_by";

/// Appends `queued` as the next entry, in the transaction that applied it locally.
pub async fn append(tx: &mut Tx, queued: &Queued) -> Result<i64> {
    // The replica's one writer at a time makes MAX + 1 a gapless sequence.
    let seq: i64 = Stmt::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM sync_outbox")
        .fetch_scalar(tx)
        .await?;
    Stmt::new(
        "INSERT INTO sync_outbox (seq, op_id, kind, command, status, made_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .arg(seq)
    .arg(queued.command.op_id)
    .arg(queued.command.kind.name())
    .arg(Arg::json(queued)?)
    .arg(queued.command.made_at)
    .run(tx)
    .await?;
    Ok(seq)
}

/// Pending entries in order, the first `limit`.
pub async fn pending(on: &mut impl Session, limit: i64) -> Result<Vec<Entry>> {
    entries(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM sync_outbox WHERE status = 'pending' ORDER BY seq LIMIT $1"
        ))
        .arg(limit),
        on,
    )
    .await
}

/// Entries set aside and not resolved yet, oldest first.
pub async fn set_aside(on: &mut impl Session) -> Result<Vec<Entry>> {
    entries(
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM sync_outbox WHERE status = 'set_aside' ORDER BY seq"
        )),
        on,
    )
    .await
}

pub async fn by_seq(on: &mut impl Session, seq: i64) -> Result<Option<Entry>> {
    let row: Option<Row> = Stmt::new(format!("SELECT {COLUMNS} FROM sync_outbox WHERE seq = $1"))
        .arg(seq)
        .fetch_optional(on)
        .await?;
    row.map(Row::into_entry).transpose()
}

pub async fn by_op(on: &mut impl Session, op_id: Uuid) -> Result<Option<Entry>> {
    let row: Option<Row> = Stmt::new(format!(
        "SELECT {COLUMNS} FROM sync_outbox WHERE op_id = $1"
    ))
    .arg(op_id)
    .fetch_optional(on)
    .await?;
    row.map(Row::into_entry).transpose()
}

async fn entries(stmt: Stmt, on: &mut impl Session) -> Result<Vec<Entry>> {
    let rows: Vec<Row> = stmt.fetch(on).await?;
    rows.into_iter().map(Row::into_entry).collect()
}

/// How many entries wait for the server, how many need a person, and when the oldest waiting
/// one was made.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub pending: i64,
    pub attention: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
}

pub async fn counts(on: &mut impl Session) -> Result<Counts> {
    #[derive(sqlx::FromRow)]
    struct Row {
        pending: i64,
        attention: i64,
        oldest: Option<DateTime<Utc>>,
    }
    let r: Row = Stmt::new(
        "SELECT \
           (SELECT COUNT(*) FROM sync_outbox WHERE status = 'pending') AS pending, \
           (SELECT COUNT(*) FROM sync_outbox WHERE status = 'set_aside') AS attention, \
           (SELECT MIN(made_at) FROM sync_outbox WHERE status = 'pending') AS oldest",
    )
    .fetch_one(on)
    .await?;
    Ok(Counts {
        pending: r.pending,
        attention: r.attention,
        oldest_pending: r.oldest,
    })
}

/// The server applied entry `seq`; `outcome` is what it answered.
pub async fn mark_applied(
    tx: &mut Tx,
    seq: i64,
    outcome: &impl serde::Serialize,
    now: DateTime<Utc>,
) -> Result<()> {
    decide(tx, seq, Status::Applied, Arg::json(outcome)?, now).await
}

/// The server set entry `seq` aside, for `error`.
pub async fn mark_set_aside(
    tx: &mut Tx,
    seq: i64,
    error: &ApiError,
    now: DateTime<Utc>,
) -> Result<()> {
    decide(tx, seq, Status::SetAside, Arg::json(error)?, now).await
}

async fn decide(
    tx: &mut Tx,
    seq: i64,
    status: Status,
    outcome: Arg,
    now: DateTime<Utc>,
) -> Result<()> {
    Stmt::new(
        "UPDATE sync_outbox SET status = $2, outcome = $3, decided_at = $4, last_error = NULL \
         WHERE seq = $1 AND status = 'pending'",
    )
    .arg(seq)
    .arg(status.as_str())
    .arg(outcome)
    .arg(now)
    .run(tx)
    .await?;
    Ok(())
}

/// A set-aside entry was resolved by the command `by`, or dropped (`by` None).
pub async fn mark_resolved(tx: &mut Tx, seq: i64, by: Option<Uuid>) -> Result<bool> {
    let status = if by.is_some() {
        Status::Resolved
    } else {
        Status::Discarded
    };
    let n = Stmt::new(
        "UPDATE sync_outbox SET status = $2, resolved_by = $3 WHERE seq = $1 AND status = 'set_aside'",
    )
    .arg(seq)
    .arg(status.as_str())
    .arg(by)
    .run(tx)
    .await?;
    Ok(n == 1)
}

/// A try at sending entry `seq` failed for a passing reason (network, a busy server).
pub async fn note_failure(tx: &mut Tx, seq: i64, error: &str) -> Result<()> {
    Stmt::new(
        "UPDATE sync_outbox SET attempts = attempts + 1, last_error = $2 \
         WHERE seq = $1 AND status = 'pending'",
    )
    .arg(seq)
    .arg(error)
    .run(tx)
    .await?;
    Ok(())
}
