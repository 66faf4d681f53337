//! A consistent copy of the database while the shop keeps working, and what it holds: on SQLite
//! `VACUUM INTO` (one read transaction; writers carry on), on Postgres `pg_dump` at a snapshot
//! exported from a transaction that also reads the manifest's facts, so both see one state.

use std::path::{Path, PathBuf};

use super::tools::PgTarget;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::images;
use crate::store::{Stmt, Store, Tx};

/// The database copy, and what the manifest says of it.
pub struct Snapshot {
    pub file: PathBuf,
    /// Its name inside the backup.
    pub entry: &'static str,
    pub migrations: Vec<i64>,
    /// Image files the copy refers to (images, and uploads not yet used).
    pub blob_keys: Vec<String>,
    pub products: i64,
    pub orders: i64,
    pub images: i64,
}

pub const SQLITE_ENTRY: &str = "database.sqlite";
pub const POSTGRES_ENTRY: &str = "database.pgdump";

/// Copies the database into `work` (a folder of the caller's).
pub async fn take(ctx: &Ctx, database_url: &str, work: &Path) -> Result<Snapshot> {
    match &ctx.store {
        Store::Sqlite(pool) => {
            let file = work.join(SQLITE_ENTRY);
            // A try before this one may have left its copy (VACUUM INTO wants a new file).
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
            // VACUUM cannot run in a transaction, so not through `Stmt`: a statement of its own
            // that reads one snapshot and writes a compact copy.
            sqlx::query("VACUUM INTO $1")
                .bind(file.display().to_string())
                .execute(pool)
                .await?;
            let copy = Store::open_sqlite_copy(&file).await?;
            let facts = {
                let mut tx = copy.read().await?;
                facts(&mut tx).await
            };
            copy.close().await;
            let (migrations, blob_keys, [products, orders, images]) = facts?;
            Ok(Snapshot {
                file,
                entry: SQLITE_ENTRY,
                migrations,
                blob_keys,
                products,
                orders,
                images,
            })
        }
        Store::Postgres(_) => {
            let file = work.join(POSTGRES_ENTRY);
            let target = PgTarget::new(database_url)?;
            let mut tx = ctx.store.read().await?;
            Stmt::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .run(&mut tx)
                .await?;
            let snapshot: String = Stmt::new("SELECT pg_export_snapshot()")
                .fetch_scalar(&mut tx)
                .await?;
            // The dump reads the snapshot while this transaction holds it open.
            target.dump(&snapshot, &file).await?;
            let (migrations, blob_keys, [products, orders, images]) = facts(&mut tx).await?;
            tx.commit().await?;
            target.check_dump(&file).await?;
            Ok(Snapshot {
                file,
                entry: POSTGRES_ENTRY,
                migrations,
                blob_keys,
                products,
                orders,
                images,
            })
        }
    }
}

type Facts = (Vec<i64>, Vec<String>, [i64; 3]);

/// The migrations, the image files referred to, and a few counts, in `tx`'s snapshot.
async fn facts(tx: &mut Tx) -> Result<Facts> {
    let migrations: Vec<i64> =
        Stmt::new("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .scalars(tx)
            .await?;
    let keys: Vec<String> = Stmt::new(
        "SELECT blob_key FROM images UNION SELECT thumb_key FROM images \
         WHERE thumb_key IS NOT NULL UNION SELECT blob_key FROM staged_blobs \
         UNION SELECT thumb_key FROM staged_blobs",
    )
    .scalars(tx)
    .await?;
    let mut counts = [0i64; 3];
    for (n, table) in ["products", "orders", "images"].iter().enumerate() {
        counts[n] = Stmt::new(format!("SELECT COUNT(*) FROM {table}"))
            .fetch_scalar(tx)
            .await?;
    }
    // Keys from before images had files ("seed/…") name no file.
    let mut keys: Vec<String> = keys.into_iter().filter(|k| images::is_key(k)).collect();
    keys.sort();
    Ok((migrations, keys, counts))
}
