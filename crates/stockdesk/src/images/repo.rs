//! The SQL of staged uploads, the outbox and the blob registry, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::model::StagedBlob;
use crate::store::{on_tx, Tx};

#[derive(sqlx::FromRow)]
struct StagedRow {
    id: Uuid,
    blob_key: String,
    thumb_key: String,
    content_type: String,
    width: i64,
    height: i64,
    size: i64,
    expires_at: DateTime<Utc>,
}

impl From<StagedRow> for StagedBlob {
    fn from(r: StagedRow) -> Self {
        StagedBlob {
            id: r.id,
            blob_key: r.blob_key,
            thumb_key: r.thumb_key,
            content_type: r.content_type,
            width: r.width,
            height: r.height,
            size: r.size,
            expires_at: r.expires_at,
        }
    }
}

pub async fn insert_staged(
    tx: &mut Tx,
    s: &StagedBlob,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO staged_blobs (id, blob_key, thumb_key, content_type, width, height, size, \
         actor, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(s.id).bind(&s.blob_key).bind(&s.thumb_key).bind(&s.content_type).bind(s.width)
        .bind(s.height).bind(s.size).bind(actor).bind(now).bind(s.expires_at)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Loads and locks a staged upload (a concurrent expiry waits for this transaction).
pub async fn lock_staged(tx: &mut Tx, id: Uuid) -> Result<Option<StagedBlob>> {
    let sql = format!(
        "SELECT id, blob_key, thumb_key, content_type, width, height, size, expires_at \
         FROM staged_blobs WHERE id = $1{}",
        tx.backend().for_update()
    );
    let row: Option<StagedRow> =
        on_tx!(tx, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(Into::into))
}

pub async fn delete_staged(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM staged_blobs WHERE id = $1")
        .bind(id).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Staged uploads past their limit, locked (Postgres skips those another sweeper holds).
pub async fn lock_expired_staged(
    tx: &mut Tx,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<StagedBlob>> {
    let sql = format!(
        "SELECT id, blob_key, thumb_key, content_type, width, height, size, expires_at \
         FROM staged_blobs WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2{}",
        tx.backend().for_update_skip_locked()
    );
    let rows: Vec<StagedRow> = on_tx!(tx, c => sqlx::query_as(&sql).bind(now).bind(limit)
        .fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Queues `key` for deletion once nothing references it; returns the outbox row's id.
pub async fn enqueue(
    tx: &mut Tx,
    key: &str,
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO blob_outbox (id, blob_key, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, 0, $4)")
        .bind(id).bind(key).bind(now).bind(not_before).execute(&mut **c).await?.rows_affected());
    Ok(id)
}

/// Locks one outbox row, or None when it is gone or another worker holds it.
pub async fn lock_outbox(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    let sql = format!(
        "SELECT blob_key FROM blob_outbox WHERE id = $1{}",
        tx.backend().for_update_skip_locked()
    );
    Ok(on_tx!(tx, c => sqlx::query_scalar(&sql).bind(id).fetch_optional(&mut **c).await?))
}

pub async fn due_outbox(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM blob_outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2")
        .bind(now).bind(limit).fetch_all(&mut **c).await?))
}

pub async fn delete_outbox(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM blob_outbox WHERE id = $1")
        .bind(id).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn record_failure(
    tx: &mut Tx,
    id: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<i64> {
    let attempts: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE blob_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
         WHERE id = $1 RETURNING attempts")
        .bind(id).bind(error).bind(next_attempt_at).fetch_optional(&mut **c).await?);
    Ok(attempts.unwrap_or(0))
}

/// Locks the registry row of `key`, creating it if needed, so that staging the same bytes waits
/// until this transaction ends.
pub async fn lock_blob(tx: &mut Tx, key: &str, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO blobs (key, size, created_at) VALUES ($1, 0, $2) \
         ON CONFLICT (key) DO UPDATE SET size = blobs.size")
        .bind(key).bind(now).execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub async fn unregister_blob(tx: &mut Tx, key: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM blobs WHERE key = $1")
        .bind(key).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Image rows and staged uploads that use `key`. One statement, so one snapshot: an edit that
/// moves a reference from its staged row to an image row is seen on one side or the other.
pub async fn count_refs(tx: &mut Tx, key: &str) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM images WHERE blob_key = $1 OR thumb_key = $1) \
              + (SELECT COUNT(*) FROM staged_blobs WHERE blob_key = $1 OR thumb_key = $1)")
        .bind(key).fetch_one(&mut **c).await?))
}

/// (owner, blob_key, thumb_key) of every image row and staged upload, for `verify`.
pub async fn all_refs(tx: &mut Tx) -> Result<Vec<(String, String, Option<String>)>> {
    let images: Vec<(Uuid, String, Option<String>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, blob_key, thumb_key FROM images").fetch_all(&mut **c).await?);
    let staged: Vec<(Uuid, String, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, blob_key, thumb_key FROM staged_blobs").fetch_all(&mut **c).await?);
    Ok(images
        .into_iter()
        .map(|(id, b, t)| (format!("image {id}"), b, t))
        .chain(
            staged
                .into_iter()
                .map(|(id, b, t)| (format!("staged upload {id}"), b, Some(t))),
        )
        .collect())
}

/// (key, created_at, has bytes in the table) of every registered blob.
pub async fn registry(tx: &mut Tx) -> Result<Vec<(String, DateTime<Utc>, bool)>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT key, created_at, data IS NOT NULL FROM blobs").fetch_all(&mut **c).await?))
}

/// (key, first queued at, attempts) per key in the outbox.
pub async fn outbox_by_key(tx: &mut Tx) -> Result<Vec<(String, DateTime<Utc>, i64)>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT blob_key, MIN(created_at), MAX(attempts) FROM blob_outbox GROUP BY blob_key")
        .fetch_all(&mut **c).await?))
}

/// Outbox entries whose deletion has failed at least once (for the sweeper's health).
pub async fn failing_deletions(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM blob_outbox WHERE attempts > 0").fetch_one(&mut **c).await?))
}

pub async fn outbox_attempts(tx: &mut Tx, id: Uuid) -> Result<Option<i64>> {
    Ok(
        on_tx!(tx, c => sqlx::query_scalar("SELECT attempts FROM blob_outbox WHERE id = $1")
        .bind(id).fetch_optional(&mut **c).await?),
    )
}
