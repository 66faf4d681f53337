//! The SQL of staged uploads, the outbox and the blob registry, written once for both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::StagedBlob;
use crate::store::{Stmt, Tx};

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
    staged_insert(s, actor, now, "").run(tx).await?;
    Ok(())
}

fn staged_insert(s: &StagedBlob, actor: &str, now: DateTime<Utc>, on_conflict: &str) -> Stmt {
    Stmt::new(format!(
        "INSERT INTO staged_blobs (id, blob_key, thumb_key, content_type, width, height, size, \
         actor, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         {on_conflict}"
    ))
    .arg(s.id)
    .arg(s.blob_key.as_str())
    .arg(s.thumb_key.as_str())
    .arg(s.content_type.as_str())
    .arg(s.width)
    .arg(s.height)
    .arg(s.size)
    .arg(actor)
    .arg(now)
    .arg(s.expires_at)
}

/// `insert_staged`, keeping a row already there under the same id.
pub async fn insert_staged_once(
    tx: &mut Tx,
    s: &StagedBlob,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    staged_insert(s, actor, now, "ON CONFLICT (id) DO NOTHING")
        .run(tx)
        .await?;
    Ok(())
}

/// `insert_staged`, or a new limit for a row already there under the same id.
pub async fn upsert_staged(
    tx: &mut Tx,
    s: &StagedBlob,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    staged_insert(
        s,
        actor,
        now,
        "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at",
    )
    .run(tx)
    .await?;
    Ok(())
}

/// Loads and locks a staged upload (a concurrent expiry waits for this transaction).
pub async fn lock_staged(tx: &mut Tx, id: Uuid) -> Result<Option<StagedBlob>> {
    let sql = format!(
        "SELECT id, blob_key, thumb_key, content_type, width, height, size, expires_at \
         FROM staged_blobs WHERE id = $1{}",
        tx.backend().for_update()
    );
    let row: Option<StagedRow> = Stmt::new(sql).arg(id).fetch_optional(tx).await?;
    Ok(row.map(Into::into))
}

pub async fn delete_staged(tx: &mut Tx, id: Uuid) -> Result<()> {
    Stmt::new("DELETE FROM staged_blobs WHERE id = $1")
        .arg(id)
        .run(tx)
        .await?;
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
    let rows: Vec<StagedRow> = Stmt::new(sql).arg(now).arg(limit).fetch(tx).await?;
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
    Stmt::new(
        "INSERT INTO blob_outbox (id, blob_key, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, 0, $4)",
    )
    .arg(id)
    .arg(key)
    .arg(now)
    .arg(not_before)
    .run(tx)
    .await?;
    Ok(id)
}

/// Locks one outbox row, or None when it is gone or another worker holds it.
pub async fn lock_outbox(tx: &mut Tx, id: Uuid) -> Result<Option<String>> {
    let sql = format!(
        "SELECT blob_key FROM blob_outbox WHERE id = $1{}",
        tx.backend().for_update_skip_locked()
    );
    Stmt::new(sql).arg(id).scalar_optional(tx).await
}

pub async fn due_outbox(tx: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>> {
    Stmt::new(
        "SELECT id FROM blob_outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id \
         LIMIT $2",
    )
    .arg(now)
    .arg(limit)
    .scalars(tx)
    .await
}

pub async fn delete_outbox(tx: &mut Tx, id: Uuid) -> Result<()> {
    Stmt::new("DELETE FROM blob_outbox WHERE id = $1")
        .arg(id)
        .run(tx)
        .await?;
    Ok(())
}

pub async fn record_failure(
    tx: &mut Tx,
    id: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<i64> {
    let attempts: Option<i64> = Stmt::new(
        "UPDATE blob_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
         WHERE id = $1 RETURNING attempts",
    )
    .arg(id)
    .arg(error)
    .arg(next_attempt_at)
    .scalar_optional(tx)
    .await?;
    Ok(attempts.unwrap_or(0))
}

/// Locks the registry row of `key`, creating it if needed, so that staging the same bytes waits
/// until this transaction ends.
pub async fn lock_blob(tx: &mut Tx, key: &str, now: DateTime<Utc>) -> Result<()> {
    Stmt::new(
        "INSERT INTO blobs (key, size, created_at) VALUES ($1, 0, $2) \
         ON CONFLICT (key) DO UPDATE SET size = blobs.size",
    )
    .arg(key)
    .arg(now)
    .run(tx)
    .await?;
    Ok(())
}

/// Records `key` in the registry, with `data` (the bytes, when the database keeps them), and
/// locks its row until the transaction ends. Waits for a deletion of the same key in progress.
pub async fn register_blob(
    tx: &mut Tx,
    key: &str,
    size: i64,
    data: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<()> {
    // DO UPDATE (not DO NOTHING) so that Postgres takes the row lock even when it exists.
    Stmt::new(
        "INSERT INTO blobs (key, size, created_at, data) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET size = excluded.size, \
         data = COALESCE(blobs.data, excluded.data)",
    )
    .arg(key)
    .arg(size)
    .arg(now)
    .arg(data)
    .run(tx)
    .await?;
    Ok(())
}

/// Whether the registry row of `key` holds its bytes.
pub async fn blob_has_data(tx: &mut Tx, key: &str) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM blobs WHERE key = $1 AND data IS NOT NULL")
        .arg(key)
        .counts_any(tx)
        .await
}

/// The bytes the registry row of `key` holds, if there is one and it holds them.
pub async fn blob_data(tx: &mut Tx, key: &str) -> Result<Option<Vec<u8>>> {
    let data: Option<Option<Vec<u8>>> = Stmt::new("SELECT data FROM blobs WHERE key = $1")
        .arg(key)
        .scalar_optional(tx)
        .await?;
    Ok(data.flatten())
}

pub async fn unregister_blob(tx: &mut Tx, key: &str) -> Result<()> {
    Stmt::new("DELETE FROM blobs WHERE key = $1")
        .arg(key)
        .run(tx)
        .await?;
    Ok(())
}

/// Image rows and staged uploads that use `key`. One statement, so one snapshot: an edit that
/// moves a reference from its staged row to an image row is seen on one side or the other.
pub async fn count_refs(tx: &mut Tx, key: &str) -> Result<i64> {
    Stmt::new(
        "SELECT (SELECT COUNT(*) FROM images WHERE blob_key = $1 OR thumb_key = $1) \
              + (SELECT COUNT(*) FROM staged_blobs WHERE blob_key = $1 OR thumb_key = $1)",
    )
    .arg(key)
    .fetch_scalar(tx)
    .await
}

/// A use of a blob: by whom (an image row or a staged upload, for `verify`'s report), as its
/// image and as its thumbnail.
pub struct BlobRef {
    pub owner: String,
    pub blob_key: String,
    pub thumb_key: Option<String>,
}

/// Every image row's and staged upload's use of blobs, for `verify`.
pub async fn all_refs(tx: &mut Tx) -> Result<Vec<BlobRef>> {
    /// An image row, or a staged upload (which always has a thumbnail).
    #[derive(sqlx::FromRow)]
    struct RefRow {
        id: Uuid,
        blob_key: String,
        thumb_key: Option<String>,
    }
    let images: Vec<RefRow> = Stmt::new("SELECT id, blob_key, thumb_key FROM images")
        .fetch(tx)
        .await?;
    let staged: Vec<RefRow> = Stmt::new("SELECT id, blob_key, thumb_key FROM staged_blobs")
        .fetch(tx)
        .await?;
    let blob_ref = |owner: &str, r: RefRow| BlobRef {
        owner: format!("{owner} {}", r.id),
        blob_key: r.blob_key,
        thumb_key: r.thumb_key,
    };
    Ok(images
        .into_iter()
        .map(|r| blob_ref("image", r))
        .chain(staged.into_iter().map(|r| blob_ref("staged upload", r)))
        .collect())
}

/// A registered blob: since when, and whether its row holds the bytes (the database backend).
#[derive(sqlx::FromRow)]
pub struct RegisteredBlob {
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub has_data: bool,
}

/// Every registered blob.
pub async fn registry(tx: &mut Tx) -> Result<Vec<RegisteredBlob>> {
    Stmt::new("SELECT key, created_at, data IS NOT NULL AS has_data FROM blobs")
        .fetch(tx)
        .await
}

/// A key in the outbox: when it was first queued, and the most attempts of its entries.
#[derive(sqlx::FromRow)]
pub struct QueuedBlob {
    pub blob_key: String,
    pub first_queued_at: DateTime<Utc>,
    pub attempts: i64,
}

/// Each key in the outbox, once.
pub async fn outbox_by_key(tx: &mut Tx) -> Result<Vec<QueuedBlob>> {
    Stmt::new(
        "SELECT blob_key, MIN(created_at) AS first_queued_at, MAX(attempts) AS attempts \
         FROM blob_outbox GROUP BY blob_key",
    )
    .fetch(tx)
    .await
}

/// Outbox entries whose deletion has failed at least once (for the sweeper's health).
pub async fn failing_deletions(tx: &mut Tx) -> Result<i64> {
    Stmt::new("SELECT COUNT(*) FROM blob_outbox WHERE attempts > 0")
        .fetch_scalar(tx)
        .await
}

pub async fn outbox_attempts(tx: &mut Tx, id: Uuid) -> Result<Option<i64>> {
    Stmt::new("SELECT attempts FROM blob_outbox WHERE id = $1")
        .arg(id)
        .scalar_optional(tx)
        .await
}

/// A shop setting (`shop_settings`), if it has been made.
pub async fn setting(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    Stmt::new("SELECT value FROM shop_settings WHERE key = $1")
        .arg(key)
        .scalar_optional(tx)
        .await
}

/// Makes a shop setting unless another terminal made it first; returns the value that holds.
pub async fn first_setting(tx: &mut Tx, key: &str, value: &str) -> Result<String> {
    Stmt::new(
        "INSERT INTO shop_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .arg(key)
    .arg(value)
    .run(tx)
    .await?;
    setting(tx, key)
        .await?
        .ok_or_else(|| Error::Internal(format!("shop setting {key} vanished")))
}

pub async fn put_setting(tx: &mut Tx, key: &str, value: &str) -> Result<()> {
    Stmt::new(
        "INSERT INTO shop_settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .arg(key)
    .arg(value)
    .run(tx)
    .await?;
    Ok(())
}

/// Whether any registered blob keeps its bytes in a file (its registry row holds none).
pub async fn blobs_kept_in_files(tx: &mut Tx) -> Result<bool> {
    Stmt::new("SELECT COUNT(*) FROM blobs WHERE data IS NULL")
        .counts_any(tx)
        .await
}

/// Up to `limit` keys of blobs whose bytes are in files, in key order.
pub async fn keys_kept_in_files(tx: &mut Tx, limit: i64) -> Result<Vec<String>> {
    Stmt::new("SELECT key FROM blobs WHERE data IS NULL ORDER BY key LIMIT $1")
        .arg(limit)
        .scalars(tx)
        .await
}

/// Puts a blob's bytes into its registry row (moving it into the database).
pub async fn store_blob_data(tx: &mut Tx, key: &str, bytes: &[u8]) -> Result<()> {
    Stmt::new("UPDATE blobs SET data = $2 WHERE key = $1 AND data IS NULL")
        .arg(key)
        .arg(Some(bytes))
        .run(tx)
        .await?;
    Ok(())
}

/// The file an image shows.
pub async fn blob_key_of_image(tx: &mut Tx, image_id: Uuid) -> Result<Option<String>> {
    Stmt::new("SELECT blob_key FROM images WHERE id = $1")
        .arg(image_id)
        .scalar_optional(tx)
        .await
}
