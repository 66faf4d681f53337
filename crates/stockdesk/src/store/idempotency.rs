//! Operation ids: a retried request (double click, timeout, offline queue) is applied once and
//! answered with the first outcome. The claim is a row inserted by the transaction that applies
//! the operation, so it commits or vanishes with it.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::{on_conn, on_tx, Conn, Tx};
use crate::error::{Error, Result};

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
    op_id: Uuid,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<Claim<T>> {
    let inserted = on_tx!(tx, c => sqlx::query(
        "INSERT INTO applied_ops (op_id, kind, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (op_id) DO NOTHING")
        .bind(op_id).bind(kind).bind(now).execute(&mut **c).await?.rows_affected());
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (stored_kind, outcome): (String, Option<Json<serde_json::Value>>) = on_tx!(tx, c =>
        sqlx::query_as("SELECT kind, outcome FROM applied_ops WHERE op_id = $1")
            .bind(op_id).fetch_one(&mut **c).await?);
    decode(op_id, kind, &stored_kind, outcome).map(Claim::Done)
}

/// The outcome recorded for `op_id`, read outside any transaction: a look that lets a replay be
/// answered before any lock is taken. `bad_input` if the op id was used for another kind.
pub async fn stored<T: DeserializeOwned>(
    conn: &mut Conn,
    op_id: Uuid,
    kind: &str,
) -> Result<Option<T>> {
    let row: Option<(String, Option<Json<serde_json::Value>>)> = on_conn!(conn, c =>
        sqlx::query_as("SELECT kind, outcome FROM applied_ops WHERE op_id = $1")
            .bind(op_id).fetch_optional(&mut **c).await?);
    match row {
        None => Ok(None),
        Some((stored_kind, outcome)) => decode(op_id, kind, &stored_kind, outcome).map(Some),
    }
}

fn decode<T: DeserializeOwned>(
    op_id: Uuid,
    kind: &str,
    stored_kind: &str,
    outcome: Option<Json<serde_json::Value>>,
) -> Result<T> {
    if stored_kind != kind {
        return Err(Error::BadInput(format!(
            "op_id {op_id} was already used for a {stored_kind} operation"
        )));
    }
    let outcome =
        outcome.ok_or_else(|| Error::BadInput(format!("op_id {op_id} has no recorded outcome")))?;
    serde_json::from_value(outcome.0)
        .map_err(|e| Error::BadInput(format!("op_id {op_id}: stored outcome unreadable: {e}")))
}

/// Records the outcome of a claimed operation, in the same transaction.
pub async fn finish<T: Serialize>(tx: &mut Tx, op_id: Uuid, outcome: &T) -> Result<()> {
    let value = serde_json::to_value(outcome)
        .map_err(|e| Error::BadInput(format!("outcome not serialisable: {e}")))?;
    on_tx!(tx, c => sqlx::query("UPDATE applied_ops SET outcome = $2 WHERE op_id = $1")
        .bind(op_id).bind(Json(value)).execute(&mut **c).await?.rows_affected());
    Ok(())
}
