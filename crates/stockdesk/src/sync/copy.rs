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

fn page_of(table: usize) -> i64 {
    if TABLES[table].name == "blobs" {
        BLOB_PAGE
    } else {
        PAGE
    }
}

/// A page of the table `TABLES[table]` after the key `after`, and the last key in it.
async fn fetch(
    up: &Upstream,
    srv: &mut Tx,
    table: usize,
    after: Option<&[Arg]>,
) -> Result<(Vec<Vec<Arg>>, Option<Vec<Arg>>)> {
    up.columns
        .fetch_page(srv, TABLES[table].name, after, page_of(table))
        .await
}

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
    // Where the next page starts: a table, and the key to continue after.
    let mut at: Option<(usize, Option<Vec<Arg>>)> = Some((0, None));
    let mut fetched = fetch(up, &mut srv, 0, None).await?;
    while let Some((t, _)) = at.take() {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::BadInput("cancelled: nothing was copied".into()));
        }
        let table = TABLES[t].name;
        let (rows, last) = fetched;
        let n = rows.len() as i64;
        at = if n == page_of(t) {
            Some((t, last))
        } else if t + 1 < TABLES.len() {
            Some((t + 1, None))
        } else {
            None
        };
        // The server reads the next page while the replica writes this one: the two halves of a
        // join take about as long each, on different processes.
        let next = async {
            match &at {
                Some((t, after)) => fetch(up, &mut srv, *t, after.as_deref()).await.map(Some),
                None => Ok(None),
            }
        };
        let (written, next) = tokio::join!(cols.write(tx, table, rows, upsert), next);
        written?;
        done += n;
        progress(JoinProgress {
            phase: "copying".into(),
            table: Some(table.to_string()),
            done,
            total: total.max(done),
        });
        fetched = next?.unwrap_or_default();
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
