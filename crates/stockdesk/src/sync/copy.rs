//! Copying the whole shop into a replica: when a terminal joins, and afresh when the shop's
//! server turns out to be another one (restored from a backup, or replaced). One snapshot of the
//! server, read a page at a time in key order, written inside the replica's transaction: a
//! join that fails or is cancelled leaves nothing behind.

use std::sync::atomic::{AtomicBool, Ordering};

use super::link::Upstream;
use super::tables::TABLES;
use crate::error::{Error, Result};
use crate::model::JoinProgress;
use crate::store::{Arg, Stmt, Tx};

/// Rows read from the server per page; image bytes come fewer at a time.
const PAGE: i64 = 5_000;
const BLOB_PAGE: i64 = 20;

/// Copies every replicated table into `tx` from one snapshot of the server. `upsert` when the
/// replica may already hold some of the rows (a copy afresh). Returns the rows copied.
pub async fn copy_all(
    up: &Upstream,
    tx: &mut Tx,
    upsert: bool,
    progress: &(dyn Fn(JoinProgress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<i64> {
    let cols = &up.columns;
    let mut srv = up.ctx.store.read().await?;
    Stmt::new(srv.backend().snapshot_read())
        .run(&mut srv)
        .await?;
    let mut total = 0;
    for t in TABLES {
        total += Stmt::new(format!("SELECT COUNT(*) FROM {}", t.name))
            .fetch_scalar::<i64>(&mut srv)
            .await?;
    }
    let mut done = 0;
    for t in TABLES {
        let page = if t.name == "blobs" { BLOB_PAGE } else { PAGE };
        let mut after: Option<Vec<Arg>> = None;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::BadInput("cancelled: nothing was copied".into()));
            }
            let (rows, last) = cols
                .fetch_page(&mut srv, t.name, after.as_deref(), page)
                .await?;
            let n = rows.len() as i64;
            after = last;
            cols.write(tx, t.name, rows, upsert).await?;
            done += n;
            progress(JoinProgress {
                phase: "copying".into(),
                table: Some(t.name.to_string()),
                done,
                total: total.max(done),
            });
            if n < page {
                break;
            }
        }
    }
    srv.rollback().await?;
    Ok(done)
}

/// Removes the replica's copy of the shop before it is copied afresh: every replicated row but
/// staff profiles (sign-in records refer to them; they are overwritten instead) and the image
/// bytes of uploads still waiting to be sent with their commands.
pub async fn clear(tx: &mut Tx) -> Result<()> {
    for t in TABLES.iter().rev() {
        let sql = match t.name {
            "staff" => continue,
            "blobs" => "DELETE FROM blobs WHERE key NOT IN (SELECT blob_key FROM staged_blobs) \
                        AND key NOT IN (SELECT thumb_key FROM staged_blobs)"
                .to_string(),
            name => format!("DELETE FROM {name}"),
        };
        Stmt::new(sql).run(tx).await?;
    }
    Stmt::new("DELETE FROM sync_seen").run(tx).await?;
    Ok(())
}

/// After a copy: every product's version is one the server has.
pub async fn seen_all(tx: &mut Tx) -> Result<()> {
    Stmt::new(
        "INSERT INTO sync_seen (product_id, version) SELECT id, version FROM products WHERE true \
         ON CONFLICT (product_id) DO UPDATE SET version = excluded.version",
    )
    .run(tx)
    .await?;
    Ok(())
}
