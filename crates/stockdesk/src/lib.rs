//! Stockdesk's core: everything the desktop app and the `stockdesk` CLI do, behind one handle.
//!
//! ```no_run
//! # async fn demo() -> stockdesk::Result<()> {
//! let sd = stockdesk::Stockdesk::open("sqlite://shop.db", "ana").await?;
//! let page = sd.list_products(Default::default()).await?;
//! # Ok(()) }
//! ```
//!
//! The modules form layers; each uses only those below it (a test, `tests/layers.rs`, fails on
//! a cycle or an upward use):
//!
//! ```text
//! api            the `Stockdesk` handle's methods: reads, and writes built as commands
//! sync           a terminal's replica of a shop: join, push, pull, resolve
//! transfer       CSV import (each product one command) and export, streamed
//! backup         whole-shop backups (database copy + image files) and checked restores
//! commands       the one entry point for writes: apply a Command once, record its outcome
//! replica        a replica's outbox and how a write is queued; the server's decisions
//! reports        the shop's figures over a range of days (reads, and the conflicts they count)
//! sweeper check  background tidying; the invariant check (reads only)
//! catalog stock  the capabilities (never each other)
//! images         blob stores, staging, the deletion outbox
//! product_rows   the product and variant rows both capabilities write
//! ctx            what every function is handed (store, clock, files, events; a write's op)
//! store          SQLite/Postgres, transactions, the dialect seam, retries, group commit
//! error          the one error type
//! model clock    plain data types; time
//! ```

mod api;
pub mod backup;
pub mod catalog;
pub mod check;
pub mod clock;
pub mod commands;
pub mod ctx;
pub mod error;
#[cfg(feature = "failpoints")]
pub mod failpoint;
pub mod feed;
pub mod images;
pub mod model;
pub mod presence;
pub mod product_rows;
pub mod replica;
pub mod reports;
pub mod staff;
pub mod stock;
pub mod store;
pub mod sweeper;
pub mod sync;
pub mod transfer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api::Resolved;
pub use clock::{Clock, DatabaseClock, ManualClock, SystemClock};
pub use ctx::Ctx;
pub use error::{ApiError, Error, FieldError, Result};
#[cfg(feature = "failpoints")]
pub use failpoint::Failpoints;
pub use model::{
    Applied, BlobBackend, ChangeEvent, Command, CommandKind, Outcome, Permission, Role,
};
pub use store::{Backend, Store};

/// The handle front ends hold: the shop (`Ctx`) and who is acting through this handle (a name,
/// and the staff profile it belongs to once the shop has profiles: `sign_in`).
#[derive(Clone)]
pub struct Stockdesk {
    ctx: Ctx,
    actor: String,
    actor_id: Option<uuid::Uuid>,
    /// On a terminal's replica: the way to the shop's server, made when first needed (after the
    /// handle's data directory and image storage are settled) and shared by clones.
    link: Arc<tokio::sync::OnceCell<Arc<sync::Link>>>,
}

impl std::fmt::Debug for Stockdesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stockdesk")
            .field("backend", &self.ctx.store.backend())
            .field("actor", &self.actor)
            .field("actor_id", &self.actor_id)
            .field("data_dir", &self.ctx.data_dir)
            .field("blob_backend", &self.ctx.blob_backend)
            .finish()
    }
}

impl Stockdesk {
    /// Opens (and migrates) the database at `url`, with the shop's clock (`on_store`) and files
    /// kept in the default data directory.
    pub async fn open(url: &str, actor: &str) -> Result<Stockdesk> {
        Stockdesk::on_store(Store::open(url).await?, actor, default_data_dir()).await
    }

    /// A handle on an open store, with the shop's clock: the system clock on SQLite, the
    /// database's clock on Postgres (sampled now and every half minute while the handle lives),
    /// so every terminal of a shop decides deadlines by the same time.
    pub async fn on_store(store: Store, actor: &str, data_dir: PathBuf) -> Result<Stockdesk> {
        let clock: Arc<dyn Clock> = match store.database_time().await? {
            None => Arc::new(SystemClock),
            Some((now, taken)) => {
                let clock = Arc::new(DatabaseClock::new(now, taken));
                keep_sampling(store.clone(), Arc::downgrade(&clock));
                clock
            }
        };
        let replica = replica::info(&mut store.conn().await?).await?;
        let mut sd = Stockdesk::new(store, clock, actor, data_dir);
        if let Some(info) = replica {
            sd.ctx.terminal = info.terminal_id;
            sd.ctx.replica = Some(info);
        }
        Ok(sd)
    }

    pub fn new(store: Store, clock: Arc<dyn Clock>, actor: &str, data_dir: PathBuf) -> Stockdesk {
        Stockdesk {
            ctx: Ctx::new(store, clock, data_dir),
            actor: actor.to_string(),
            actor_id: None,
            link: Arc::default(),
        }
    }

    /// The same handle acting as someone else, by name and without a profile (each terminal or
    /// CLI call says who it is). Once the shop has staff profiles, only `sign_in` makes a handle
    /// that may write.
    pub fn with_actor(&self, actor: &str) -> Stockdesk {
        Stockdesk {
            actor: actor.to_string(),
            actor_id: None,
            ..self.clone()
        }
    }

    pub fn with_data_dir(mut self, data_dir: PathBuf) -> Stockdesk {
        self.ctx.data_dir = data_dir;
        self.link = Arc::default();
        self
    }

    /// Chooses where image bytes are kept (default: the directory backend).
    pub fn with_blob_backend(mut self, backend: BlobBackend) -> Stockdesk {
        self.ctx.blob_backend = backend;
        self.link = Arc::default();
        self
    }

    #[cfg(feature = "failpoints")]
    pub fn with_failpoints(mut self, failpoints: Failpoints) -> Stockdesk {
        self.ctx.failpoints = Some(failpoints);
        self
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The staff profile this handle acts as, if signed in.
    pub fn actor_id(&self) -> Option<uuid::Uuid> {
        self.actor_id
    }

    pub fn backend(&self) -> Backend {
        self.ctx.store.backend()
    }

    pub fn store(&self) -> &Store {
        &self.ctx.store
    }

    pub fn data_dir(&self) -> &Path {
        &self.ctx.data_dir
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ctx.now()
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChangeEvent> {
        self.ctx.subscribe()
    }
}

/// Resamples the database's clock every half minute until the clock is dropped. A failed sample
/// keeps the last one (it stays right to the monotonic clock's drift).
fn keep_sampling(store: Store, clock: std::sync::Weak<DatabaseClock>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(30);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(clock) = clock.upgrade() else { return };
            match store.database_time().await {
                Ok(Some((now, taken))) => clock.resample(now, taken),
                Ok(None) => return,
                Err(e) => tracing::debug!(error = %e, "could not sample the database's clock"),
            }
        }
    });
}

/// Where Stockdesk keeps its database and files when not told otherwise.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("app", "Stockdesk", "stockdesk")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".stockdesk"))
}

/// The default database: an SQLite file in the data directory.
pub fn default_database_url(data_dir: &Path) -> String {
    Store::sqlite_url(&data_dir.join("stockdesk.db"))
}
