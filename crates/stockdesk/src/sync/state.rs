//! A replica's own record of its shop (`sync_replica`): which shop, as which terminal, which
//! server it copied (its identity), and how far it has read the shop's change feed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::feed::Cursor;
use crate::store::{Arg, Session, Stmt, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct State {
    pub terminal_id: Uuid,
    pub terminal_name: String,
    pub shop_url: String,
    pub server_identity: String,
    pub cursor_tx: i64,
    pub cursor_seq: i64,
    pub joined_at: DateTime<Utc>,
    pub last_push_at: Option<DateTime<Utc>>,
    pub last_pull_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error_code: Option<String>,
}

impl State {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx: self.cursor_tx,
            seq: self.cursor_seq,
        }
    }
}

const COLUMNS: &str = "terminal_id, terminal_name, shop_url, server_identity, cursor_tx, \
    cursor_seq, joined_at, last_push_at, last_pull_at, last_error, last_error_at, last_sync_at, \
    last_error_code";

pub async fn read(on: &mut impl Session) -> Result<Option<State>> {
    Stmt::new(format!("SELECT {COLUMNS} FROM sync_replica LIMIT 1"))
        .fetch_optional(on)
        .await
}

/// The state, or `bad_input` on a database that is no replica.
pub async fn joined(on: &mut impl Session) -> Result<State> {
    read(on).await?.ok_or_else(|| {
        Error::BadInput(
            "this terminal has not joined a shop: `stockdesk sync join POSTGRES_URL` first".into(),
        )
    })
}

pub async fn insert(tx: &mut Tx, s: &State) -> Result<()> {
    Stmt::new(format!(
        "INSERT INTO sync_replica ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13)"
    ))
    .arg(s.terminal_id)
    .arg(s.terminal_name.as_str())
    .arg(s.shop_url.as_str())
    .arg(s.server_identity.as_str())
    .arg(s.cursor_tx)
    .arg(s.cursor_seq)
    .arg(s.joined_at)
    .arg(s.last_push_at)
    .arg(s.last_pull_at)
    .arg(Arg::OptText(s.last_error.clone()))
    .arg(s.last_error_at)
    .arg(s.last_sync_at)
    .arg(Arg::OptText(s.last_error_code.clone()))
    .run(tx)
    .await?;
    Ok(())
}

/// Moves the cursor from `from` to `to`; false if another process moved it first (its pull
/// brought the same changes).
pub async fn advance(tx: &mut Tx, from: Cursor, to: Cursor, now: DateTime<Utc>) -> Result<bool> {
    let n = Stmt::new(
        "UPDATE sync_replica SET cursor_tx = $3, cursor_seq = $4, last_pull_at = $5 \
         WHERE cursor_tx = $1 AND cursor_seq = $2",
    )
    .arg(from.tx)
    .arg(from.seq)
    .arg(to.tx)
    .arg(to.seq)
    .arg(now)
    .run(tx)
    .await?;
    Ok(n == 1)
}

/// After a copy afresh: the new server's identity and the cursor to read on from.
pub async fn reset(tx: &mut Tx, identity: &str, cursor: Cursor, now: DateTime<Utc>) -> Result<()> {
    Stmt::new(
        "UPDATE sync_replica SET server_identity = $1, cursor_tx = $2, cursor_seq = $3, \
         last_pull_at = $4",
    )
    .arg(identity)
    .arg(cursor.tx)
    .arg(cursor.seq)
    .arg(now)
    .run(tx)
    .await?;
    Ok(())
}

pub async fn pushed(tx: &mut Tx, now: DateTime<Utc>) -> Result<()> {
    Stmt::new("UPDATE sync_replica SET last_push_at = $1")
        .arg(now)
        .run(tx)
        .await?;
    Ok(())
}

/// How the last sync ended: `Ok` notes when it worked and clears the error; `Err` keeps the
/// error's message and stable code, and the time of the last success.
pub async fn note_outcome(
    tx: &mut Tx,
    outcome: std::result::Result<(), &Error>,
    now: DateTime<Utc>,
) -> Result<()> {
    match outcome {
        Ok(()) => Stmt::new(
            "UPDATE sync_replica SET last_sync_at = $1, last_error = NULL, last_error_at = NULL, \
             last_error_code = NULL",
        )
        .arg(now),
        Err(e) => Stmt::new(
            "UPDATE sync_replica SET last_error = $1, last_error_at = $2, last_error_code = $3",
        )
        .arg(e.to_string().as_str())
        .arg(now)
        .arg(e.code().as_str()),
    }
    .run(tx)
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx) -> Result<()> {
    Stmt::new("DELETE FROM sync_replica").run(tx).await?;
    Ok(())
}
