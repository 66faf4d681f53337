//! On the shop's server: the terminals that keep a replica, and for each one the highest
//! sequence number of its commands decided so far. A pushed command is decided in a transaction
//! that first locks its terminal's row, so two processes sending the same outbox take turns, a
//! command is decided once (applied, or set aside with its error, which is kept so the same
//! command sent again gets the same answer), and each terminal's commands in their order.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::{ApiError, Error, Result};
use crate::store::{Arg, Session, Stmt, Tx};

/// A terminal as the server knows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, specta::Type)]
pub struct Terminal {
    pub id: Uuid,
    pub name: String,
    pub joined_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The highest sequence number of its commands decided.
    pub last_seq: i64,
    pub left_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, name, joined_at, last_seen_at, last_seq, left_at";

/// Records a terminal joining (or joining again under its id, after the server was restored:
/// then `last_seq` says what it has decided already). A name another live terminal uses is
/// refused: managers tell terminals apart by name.
pub async fn register(
    tx: &mut Tx,
    id: Uuid,
    name: &str,
    last_seq: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let taken = Stmt::new(
        "SELECT COUNT(*) FROM sync_terminals WHERE lower(name) = lower($1) AND left_at IS NULL \
         AND id <> $2",
    )
    .arg(name)
    .arg(id)
    .counts_any(tx)
    .await?;
    if taken {
        return Err(Error::validation(
            "terminal",
            format!(
                "another terminal of this shop is called {name:?}; choose another name \
                 (--terminal NAME)"
            ),
        ));
    }
    Stmt::new(
        "INSERT INTO sync_terminals (id, name, joined_at, last_seen_at, last_seq) \
         VALUES ($1, $2, $3, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at, \
         last_seq = excluded.last_seq, left_at = NULL",
    )
    .arg(id)
    .arg(name)
    .arg(now)
    .arg(last_seq)
    .run(tx)
    .await?;
    Ok(())
}

/// Locks terminal `id`'s row for deciding its next command.
pub async fn lock(tx: &mut Tx, id: Uuid) -> Result<Option<Terminal>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sync_terminals WHERE id = $1{}",
        tx.backend().for_update()
    );
    Stmt::new(sql).arg(id).fetch_optional(tx).await
}

pub async fn get(on: &mut impl Session, id: Uuid) -> Result<Option<Terminal>> {
    Stmt::new(format!(
        "SELECT {COLUMNS} FROM sync_terminals WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(on)
    .await
}

/// Every terminal that joined, by name.
pub async fn list(on: &mut impl Session) -> Result<Vec<Terminal>> {
    Stmt::new(format!(
        "SELECT {COLUMNS} FROM sync_terminals ORDER BY lower(name), id"
    ))
    .fetch(on)
    .await
}

/// Command `seq` of terminal `id` is decided.
pub async fn advance(tx: &mut Tx, id: Uuid, seq: i64, now: DateTime<Utc>) -> Result<()> {
    Stmt::new("UPDATE sync_terminals SET last_seq = $2, last_seen_at = $3 WHERE id = $1")
        .arg(id)
        .arg(seq)
        .arg(now)
        .run(tx)
        .await?;
    Ok(())
}

/// The terminal was heard from (a pull).
pub async fn seen(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    Stmt::new("UPDATE sync_terminals SET last_seen_at = $2 WHERE id = $1")
        .arg(id)
        .arg(now)
        .run(tx)
        .await?;
    Ok(())
}

/// The terminal left the shop (its name is free again).
pub async fn leave(tx: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    Stmt::new("UPDATE sync_terminals SET left_at = $2 WHERE id = $1 AND left_at IS NULL")
        .arg(id)
        .arg(now)
        .run(tx)
        .await?;
    Ok(())
}

/// Marks the live terminal called `name` gone; returns it, or None if there is none.
pub async fn forget(tx: &mut Tx, name: &str, now: DateTime<Utc>) -> Result<Option<Terminal>> {
    let found: Option<Terminal> = Stmt::new(format!(
        "SELECT {COLUMNS} FROM sync_terminals WHERE lower(name) = lower($1) AND left_at IS NULL{}",
        tx.backend().for_update()
    ))
    .arg(name.trim())
    .fetch_optional(tx)
    .await?;
    let Some(t) = found else { return Ok(None) };
    leave(tx, t.id, now).await?;
    Ok(Some(Terminal {
        left_at: Some(now),
        ..t
    }))
}

/// The error a command was set aside for, if it was.
pub async fn set_aside_error(tx: &mut Tx, op_id: Uuid) -> Result<Option<ApiError>> {
    let error: Option<Json<ApiError>> =
        Stmt::new("SELECT error FROM sync_set_aside WHERE op_id = $1")
            .arg(op_id)
            .scalar_optional(tx)
            .await?;
    Ok(error.map(|e| e.0))
}

pub async fn record_set_aside(
    tx: &mut Tx,
    op_id: Uuid,
    terminal: Uuid,
    seq: i64,
    error: &ApiError,
    now: DateTime<Utc>,
) -> Result<()> {
    Stmt::new(
        "INSERT INTO sync_set_aside (op_id, terminal_id, seq, error, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .arg(op_id)
    .arg(terminal)
    .arg(seq)
    .arg(Arg::json(error)?)
    .arg(now)
    .run(tx)
    .await?;
    Ok(())
}
