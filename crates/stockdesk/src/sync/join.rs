//! Joining a shop: this terminal's database becomes a replica of the shop's Postgres. The
//! terminal is registered with the shop, the cursor of the shop's change feed is taken, then
//! every replicated table is copied from one snapshot (changes committed meanwhile come after the
//! cursor, and the catch-up pull brings them), all in one transaction of the replica.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use uuid::Uuid;

use super::link::{self, step, Link};
use super::state::{self, State};
use super::{copy, pull};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::feed;
use crate::model::{JoinProgress, JoinReport};
use crate::replica::decisions;
use crate::store::{url, with_retry, Backend, Stmt};

/// Makes the database of `local` a replica of the shop at `shop_url`, as the terminal `name`.
pub async fn join(
    local: &Ctx,
    shop_url: &str,
    name: &str,
    progress: &(dyn Fn(JoinProgress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<JoinReport> {
    let started = Instant::now();
    let name = check_name(name)?;
    ready_to_join(local).await?;
    progress(phase("registering"));
    let up = link::connect(shop_url, local).await?;
    let identity = step(link::identity(&up.ctx)).await?;
    let terminal_id = Uuid::now_v7();
    step(with_retry(|| async {
        let mut tx = up.ctx.store.write().await?;
        let r = decisions::register(&mut tx, terminal_id, &name, 0, up.ctx.now()).await;
        tx.finish(r).await
    }))
    .await?;
    let copied = async {
        // Taken before the snapshot: whatever commits during the copy comes after it.
        let cursor = step(feed::latest(&up.ctx)).await?;
        let mut tx = local.store.write().await?;
        // The empty database's own settings (where it would keep images) give way to the shop's.
        Stmt::new("DELETE FROM shop_settings").run(&mut tx).await?;
        let copied = copy::copy_all(&up, &mut tx, false, progress, cancel).await;
        let result = async {
            let rows = copied?;
            copy::seen_all(&mut tx).await?;
            let now = local.now();
            state::insert(
                &mut tx,
                &State {
                    terminal_id,
                    terminal_name: name.clone(),
                    shop_url: shop_url.to_string(),
                    server_identity: identity.clone(),
                    cursor_tx: cursor.tx,
                    cursor_seq: cursor.seq,
                    joined_at: now,
                    last_push_at: None,
                    last_pull_at: Some(now),
                    last_error: None,
                    last_error_at: None,
                    last_sync_at: None,
                    last_error_code: None,
                },
            )
            .await?;
            Ok((rows, cursor))
        }
        .await;
        tx.finish(result).await
    }
    .await;
    let (rows, _) = match copied {
        Ok(done) => done,
        Err(e) => {
            // The name is free again; nothing was kept here.
            let _ = step(with_retry(|| async {
                let mut tx = up.ctx.store.write().await?;
                let r = decisions::leave(&mut tx, terminal_id, up.ctx.now()).await;
                tx.finish(r).await
            }))
            .await;
            up.ctx.store.close().await;
            return Err(e);
        }
    };
    up.ctx.store.close().await;
    owner_only(local)?;
    progress(phase("catching_up"));
    let link = Link::open(local).await?;
    let pulled = pull::pull(&link, &Default::default()).await?;
    progress(phase("done"));
    let products = Stmt::new("SELECT COUNT(*) FROM products")
        .fetch_scalar(&mut local.store.conn().await?)
        .await?;
    Ok(JoinReport {
        terminal_id,
        terminal_name: name,
        shop: url::redact(shop_url),
        rows,
        products,
        cursor: pulled.cursor,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A terminal's name: the host's unless told otherwise.
pub fn default_terminal_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "terminal".to_string())
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::validation("terminal", "1–100 characters"));
    }
    if let Some(problem) = crate::model::text_problem(name, false) {
        return Err(Error::validation("terminal", problem));
    }
    Ok(name.to_string())
}

/// Only an SQLite database that has not joined a shop and holds no shop of its own joins one:
/// a terminal's own data is never overwritten by a copy.
async fn ready_to_join(local: &Ctx) -> Result<()> {
    if local.store.backend() != Backend::Sqlite {
        return Err(Error::BadInput(
            "a terminal's replica is an SQLite database (run it with its own data directory)"
                .into(),
        ));
    }
    let mut conn = local.store.conn().await?;
    if let Some(s) = state::read(&mut conn).await? {
        return Err(Error::BadInput(format!(
            "this terminal already is {:?} of the shop at {}: `stockdesk sync leave` first",
            s.terminal_name,
            url::redact(&s.shop_url)
        )));
    }
    let held: i64 = Stmt::new(
        "SELECT (SELECT COUNT(*) FROM products) + (SELECT COUNT(*) FROM orders) \
         + (SELECT COUNT(*) FROM categories) + (SELECT COUNT(*) FROM staff)",
    )
    .fetch_scalar(&mut conn)
    .await?;
    if held > 0 {
        return Err(Error::BadInput(
            "this terminal's database already holds a shop of its own; join from a new data \
             directory (--data-dir), so that nothing here is overwritten"
                .into(),
        ));
    }
    Ok(())
}

/// The replica may hold the shop database's password: readable by its owner only.
fn owner_only(local: &Ctx) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Some(db) = local.store.sqlite_path() else {
        return Ok(());
    };
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

fn phase(name: &str) -> JoinProgress {
    JoinProgress {
        phase: name.into(),
        table: None,
        done: 0,
        total: 0,
    }
}
