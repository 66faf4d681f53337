//! Stockdesk's core: everything the desktop app and the `stockdesk` CLI do, behind one handle.
//!
//! ```no_run
//! # async fn demo() -> stockdesk::Result<()> {
//! let sd = stockdesk::Stockdesk::open("sqlite://shop.db", "ana").await?;
//! let page = sd.list_products(Default::default()).await?;
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod clock;
pub mod error;
pub mod failpoint;
pub mod images;
pub mod stock;
pub mod store;
pub mod sweeper;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, Error, FieldError, Result};
#[cfg(feature = "failpoints")]
pub use failpoint::Failpoints;
pub use images::BlobBackend;
pub use store::{Backend, Store};

/// What changed, for front ends that keep views fresh (the desktop app forwards these to the UI).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeEvent {
    Product { id: Uuid, version: i64 },
    Stock { variant_id: Uuid },
    Order { id: Uuid },
    Sweep,
}

/// The handle front ends hold: a store, a clock, who is acting, and where files live.
#[derive(Clone)]
pub struct Stockdesk {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) actor: String,
    pub(crate) data_dir: PathBuf,
    /// Where image bytes are kept (`images::BlobStore` is made from this and `data_dir`).
    pub(crate) blob_backend: BlobBackend,
    /// Injected failures on the image write path (tests only; see `failpoint`).
    #[cfg(feature = "failpoints")]
    pub(crate) failpoints: Option<Failpoints>,
    /// Turns at a variant's row shared by the orders of this process (see `stock::combine`).
    pub(crate) combiner: Arc<stock::Combiner>,
    events: broadcast::Sender<ChangeEvent>,
}

impl std::fmt::Debug for Stockdesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stockdesk")
            .field("backend", &self.store.backend())
            .field("actor", &self.actor)
            .field("data_dir", &self.data_dir)
            .field("blob_backend", &self.blob_backend)
            .finish()
    }
}

impl Stockdesk {
    /// Opens (and migrates) the database at `url`, with the system clock and files kept beside
    /// an SQLite database or in the default data directory.
    pub async fn open(url: &str, actor: &str) -> Result<Stockdesk> {
        let store = Store::open(url).await?;
        Ok(Stockdesk::new(
            store,
            Arc::new(SystemClock),
            actor,
            default_data_dir(),
        ))
    }

    pub fn new(store: Store, clock: Arc<dyn Clock>, actor: &str, data_dir: PathBuf) -> Stockdesk {
        let (events, _) = broadcast::channel(1024);
        Stockdesk {
            store,
            clock,
            actor: actor.to_string(),
            data_dir,
            blob_backend: BlobBackend::default(),
            #[cfg(feature = "failpoints")]
            failpoints: None,
            combiner: Arc::default(),
            events,
        }
    }

    /// The same handle acting as someone else (each terminal or CLI call says who it is).
    pub fn with_actor(&self, actor: &str) -> Stockdesk {
        Stockdesk {
            actor: actor.to_string(),
            ..self.clone()
        }
    }

    pub fn with_data_dir(self, data_dir: PathBuf) -> Stockdesk {
        Stockdesk { data_dir, ..self }
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: ChangeEvent) {
        // No subscriber is fine: the CLI has none.
        let _ = self.events.send(event);
    }
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
