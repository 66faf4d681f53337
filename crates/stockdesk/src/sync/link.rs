//! A replica's connection to its shop's server: opened when needed, kept while it works, and
//! dropped at the first sign of trouble so that the next sync connects afresh. Every step over
//! it has a time limit: a network that goes silent (a pulled cable) must not stall the terminal.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use uuid::Uuid;

use super::state;
use super::tables::Columns;
use crate::clock::DatabaseClock;
use crate::ctx::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::images::storage;
use crate::model::BlobBackend;
use crate::store::{url, Backend, PgSession, Store};

/// The longest one step over the link may take (a command pushed, a page of changes fetched)
/// before the terminal counts the shop's server as unreachable.
pub const STEP: Duration = Duration::from_secs(30);
/// How often the shop's clock is sampled again while connected.
const RESAMPLE: Duration = Duration::from_secs(30);

/// A replica and the way to its shop's server.
pub struct Link {
    pub local: Ctx,
    pub terminal_id: Uuid,
    pub terminal_name: String,
    url: String,
    upstream: Mutex<Option<Upstream>>,
    /// Syncs running now over this link (the app's status bar shows "Syncing").
    syncing: AtomicUsize,
}

#[derive(Clone)]
pub struct Upstream {
    pub ctx: Ctx,
    pub columns: Arc<Columns>,
    clock: Arc<DatabaseClock>,
    sampled: Instant,
}

impl Link {
    /// The link of the replica `local` (an error if it has not joined a shop).
    pub async fn open(local: &Ctx) -> Result<Arc<Link>> {
        let s = state::joined(&mut local.store.conn().await?).await?;
        Ok(Arc::new(Link {
            local: local.clone(),
            terminal_id: s.terminal_id,
            terminal_name: s.terminal_name,
            url: s.shop_url,
            upstream: Mutex::new(None),
            syncing: AtomicUsize::new(0),
        }))
    }

    /// The shop's database, password hidden.
    pub fn shop(&self) -> String {
        url::redact(&self.url)
    }

    /// The shop's server, connected now if it is not.
    pub async fn upstream(&self) -> Result<Upstream> {
        let mut slot = self.upstream.lock().await;
        if let Some(up) = slot.as_mut() {
            if up.sampled.elapsed() > RESAMPLE {
                if let Ok(Some((now, taken))) = step(up.ctx.store.database_time()).await {
                    up.clock.resample(now, taken);
                    up.sampled = Instant::now();
                }
            }
            return Ok(up.clone());
        }
        let up = connect(&self.url, &self.local).await?;
        *slot = Some(up.clone());
        Ok(up)
    }

    /// Whether a sync runs over this link now.
    pub fn syncing(&self) -> bool {
        self.syncing.load(Ordering::SeqCst) > 0
    }

    /// Counts a sync as running until the guard is dropped.
    pub(super) fn sync_running(&self) -> impl Drop + '_ {
        struct Running<'a>(&'a AtomicUsize);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.syncing.fetch_add(1, Ordering::SeqCst);
        Running(&self.syncing)
    }

    /// Forgets the connection after `e` if `e` says the link is in trouble.
    pub async fn after_error(&self, e: &Error) {
        if offline(e) {
            // Not closed: a sync or an order still using it finishes (or fails) on its own, and
            // the pool goes with the last of them.
            self.upstream.lock().await.take();
        }
    }
}

/// Whether `e` means the shop's server could not be reached or did not answer in time (the
/// terminal is offline), rather than an answer.
pub fn offline(e: &Error) -> bool {
    offline_code(e.code())
}

/// The codes that mean the shop's server did not answer (see `offline`).
pub fn offline_code(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unreachable | ErrorCode::Busy | ErrorCode::Timeout | ErrorCode::Io
    )
}

/// Runs one step over the link within `STEP`; too slow is `unreachable`.
pub async fn step<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    match tokio::time::timeout(STEP, f).await {
        Ok(r) => r,
        Err(_) => Err(Error::Unreachable {
            database: "the shop's server".into(),
            reason: format!("no answer within {} s", STEP.as_secs()),
        }),
    }
}

/// Opens the shop's database as a terminal does: its clock, its image storage (which must be
/// the database itself: an offline terminal cannot rely on a shared directory), its tables.
pub async fn connect(shop_url: &str, local: &Ctx) -> Result<Upstream> {
    if !(shop_url.starts_with("postgres://") || shop_url.starts_with("postgresql://")) {
        return Err(Error::BadInput(format!(
            "a shop to join is a Postgres database (postgres://…), not {}",
            url::redact(shop_url)
        )));
    }
    // A terminal syncs one step at a time; the second connection serves an order taken while a
    // sync runs. Two each (one while idle, none after a minute of it) keeps a shop of fifty
    // terminals inside Postgres's default 100 connections.
    let session = PgSession {
        pool_size: 2,
        idle_close: Duration::from_secs(60),
        ..PgSession::default()
    };
    let store = step(Store::open_with(shop_url, &session)).await?;
    debug_assert_eq!(store.backend(), Backend::Postgres);
    let (now, taken) = step(store.database_time())
        .await?
        .ok_or_else(|| Error::Internal("Postgres has a clock".into()))?;
    let clock = Arc::new(DatabaseClock::new(now, taken));
    let mut ctx = Ctx::new(store, clock.clone(), local.data_dir.clone());
    // On the shop's server this terminal goes by its replica's id (who is editing, for one).
    ctx.terminal = local.terminal;
    step(storage::settle(&mut ctx, None)).await?;
    if ctx.blob_backend != BlobBackend::Db {
        return Err(Error::BadInput(format!(
            "the shop at {} keeps its images in a shared directory; terminals that work offline \
             need them in the database: run `stockdesk blobs move-to-db` against it first",
            url::redact(shop_url)
        )));
    }
    let columns = step(async { Columns::read(&mut ctx.store.conn().await?).await }).await?;
    Ok(Upstream {
        ctx,
        columns: Arc::new(columns),
        clock,
        sampled: Instant::now(),
    })
}

/// Who the shop's server is: a restored backup or another server has another identity (its
/// cluster, its timeline, its database), and a replica of it must be copied afresh.
pub async fn identity(up: &Ctx) -> Result<String> {
    crate::store::Stmt::new(
        "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || \
         (SELECT timeline_id FROM pg_control_checkpoint())::text || '/' || \
         (SELECT oid FROM pg_database WHERE datname = current_database())::text",
    )
    .fetch_scalar(&mut up.store.conn().await?)
    .await
}
