//! Which database the app talks to: chosen at start-up from the environment (`STOCKDESK_DB`,
//! `STOCKDESK_DATA_DIR`, the same variables as the CLI), else the settings file in the data
//! directory, else the SQLite file there. Settings can switch it while the app runs. Where image
//! bytes are kept is the shop's choice, settled on open (`STOCKDESK_BLOBS`, `STOCKDESK_BLOB_DIR`
//! as for the CLI), so every terminal of a shop shows the same images.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stockdesk::store::url::redact;
use stockdesk::{ApiError, BlobBackend, Error, Stockdesk, Store};
use tauri::async_runtime::JoinHandle;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;

const SETTINGS_FILE: &str = "settings.json";
const TEST_TIMEOUT: Duration = Duration::from_secs(8);
/// How often the app's sweeper tidies (expired orders, staged files, the deletion outbox).
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How often a terminal's replica syncs with its shop in the background (and after each write).
const SYNC_EVERY: Duration = Duration::from_secs(5);

/// Where the database URL in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseSource {
    /// `STOCKDESK_DB` was set (it wins over the settings on every start).
    Environment,
    /// The settings file chose it.
    Settings,
    /// The SQLite file in the data directory.
    Default,
}

/// What the settings screen and the status bar show.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ConnectionInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The URL in use, password hidden.
    pub database: String,
    pub source: DatabaseSource,
    pub data_dir: String,
    pub actor: String,
    /// The name this terminal joins a shop under unless told another (the host's name).
    pub default_terminal_name: String,
    /// Why the database could not be opened (the app still starts, so settings can fix it).
    pub error: Option<ApiError>,
}

/// What the app was started with.
#[derive(Debug, Clone)]
pub struct Launch {
    pub data_dir: PathBuf,
    pub env_url: Option<String>,
    pub actor: String,
    /// `STOCKDESK_BLOBS`: the image storage this terminal expects (the shop decides; unset is
    /// usual). Kept as text so a typo shows as an open failure instead of stopping the app.
    pub blobs: Option<String>,
    /// `STOCKDESK_BLOB_DIR`: the shop's shared image directory (default `<data dir>/blobs`).
    pub blob_dir: Option<PathBuf>,
}

impl Launch {
    pub fn from_env() -> Launch {
        let data_dir = non_empty_env("STOCKDESK_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(stockdesk::default_data_dir);
        let actor = non_empty_env("STOCKDESK_ACTOR")
            .or_else(|| non_empty_env("USER"))
            .unwrap_or_else(|| "desktop".to_string());
        Launch {
            data_dir,
            env_url: non_empty_env("STOCKDESK_DB"),
            actor,
            blobs: non_empty_env("STOCKDESK_BLOBS"),
            blob_dir: non_empty_env("STOCKDESK_BLOB_DIR").map(PathBuf::from),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Settings {
    /// A Postgres (or SQLite) URL; absent means the SQLite file in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    /// Minutes without input before the app locks (0: never); absent means the default
    /// (`signin::DEFAULT_IDLE_MINUTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) idle_lock_minutes: Option<u32>,
}

/// The open core handle (or why there is none), shared by all commands.
pub struct Connection {
    launch: Launch,
    state: RwLock<Opened>,
    forwarder: Mutex<Option<JoinHandle<()>>>,
    /// Follows the change feed, so other terminals' commits reach the forwarder too.
    relay: Mutex<Option<tokio::task::JoinHandle<()>>>,
    sweeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    backups: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// On a replica: the periodic sync, and the one woken after each write (`sync_soon`).
    sync: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    wake_sync: Arc<Notify>,
}

struct Opened {
    core: Result<Stockdesk, ApiError>,
    url: String,
    source: DatabaseSource,
}

impl Connection {
    /// Opens the database once at start-up. A failure is kept and shown, not fatal.
    pub async fn open(launch: Launch) -> Connection {
        let (url, source) = match (
            &launch.env_url,
            load_settings(&launch.data_dir).database_url,
        ) {
            (Some(url), _) => (url.clone(), DatabaseSource::Environment),
            (None, Some(url)) => (url, DatabaseSource::Settings),
            (None, None) => (
                stockdesk::default_database_url(&launch.data_dir),
                DatabaseSource::Default,
            ),
        };
        let core = open_core(&url, &launch).await;
        if let Err(e) = &core {
            tracing::error!(%e, database = %redact(&url), "could not open the database");
        }
        Connection {
            launch,
            state: RwLock::new(Opened { core, url, source }),
            forwarder: Mutex::new(None),
            relay: Mutex::new(None),
            sweeper: Mutex::new(None),
            backups: Mutex::new(None),
            sync: Mutex::new(Vec::new()),
            wake_sync: Arc::new(Notify::new()),
        }
    }

    /// Runs the core's sweeper and the daily backup in the background on the open database
    /// (restarted on a switch).
    /// Correctness never waits for it; its health shows in the status bar.
    pub fn start_sweeper(&self) {
        let mut slot = self.sweeper.lock().expect("sweeper lock");
        if let Some(old) = slot.take() {
            old.abort();
        }
        if let Ok(core) = self.core() {
            let _guard = tauri::async_runtime::handle().inner().enter();
            *slot = Some(core.spawn_sweeper(SWEEP_EVERY));
            let url = self.state.read().expect("connection lock").url.clone();
            let mut backups = self.backups.lock().expect("backups lock");
            if let Some(old) = backups.replace(crate::backups::spawn(core, url)) {
                old.abort();
            }
        }
    }

    /// On a replica, syncs with the shop every `SYNC_EVERY` and after each write (`sync_soon`);
    /// the tasks of the previous database stop.
    pub fn start_sync(&self) {
        let mut slot = self.sync.lock().expect("sync lock");
        for old in slot.drain(..) {
            old.abort();
        }
        let Ok(core) = self.core() else { return };
        if !core.is_replica() {
            return;
        }
        let _guard = tauri::async_runtime::handle().inner().enter();
        slot.push(core.spawn_sync(SYNC_EVERY));
        let wake = self.wake_sync.clone();
        slot.push(tokio::spawn(async move {
            loop {
                // A wake-up while a sync runs is kept: one more sync follows it.
                wake.notified().await;
                if let Err(e) = core.sync_once().await {
                    tracing::info!(error = %e, "sync after a write did not complete");
                }
            }
        }));
    }

    /// Asks for a sync now (after a write), if this database is a replica.
    pub fn sync_soon(&self) {
        if !self.sync.lock().expect("sync lock").is_empty() {
            self.wake_sync.notify_one();
        }
    }

    /// Works on `core` from now on: the same database seen anew (after joining or leaving a
    /// shop); the background tasks restart on it and the UI refetches everything.
    pub fn replace(&self, app: &tauri::AppHandle, core: Stockdesk) {
        self.state.write().expect("connection lock").core = Ok(core);
        self.forward_events(app);
        self.start_sweeper();
        self.start_sync();
        crate::notify(app, None);
    }

    /// Where this terminal keeps its database file and settings.
    pub fn data_dir(&self) -> &Path {
        &self.launch.data_dir
    }

    /// The core handle, or the error that kept the database from opening.
    pub fn core(&self) -> Result<Stockdesk, ApiError> {
        self.state.read().expect("connection lock").core.clone()
    }

    pub fn info(&self) -> ConnectionInfo {
        let s = self.state.read().expect("connection lock");
        ConnectionInfo {
            backend: backend_of(&s.url).to_string(),
            database: redact(&s.url),
            source: s.source,
            data_dir: self.launch.data_dir.display().to_string(),
            actor: self.launch.actor.clone(),
            default_terminal_name: stockdesk::sync::default_terminal_name(),
            error: s.core.as_ref().err().cloned(),
        }
    }

    /// Opens `url` (or the default SQLite file), and only if that works, switches to it,
    /// remembers it in the settings file and tells the UI to refetch everything.
    pub async fn switch(
        &self,
        app: &tauri::AppHandle,
        url: Option<String>,
    ) -> Result<ConnectionInfo, ApiError> {
        let url = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        let (target, source) = match &url {
            Some(u) => (u.clone(), DatabaseSource::Settings),
            None => (
                stockdesk::default_database_url(&self.launch.data_dir),
                DatabaseSource::Default,
            ),
        };
        let core = open_core(&target, &self.launch).await?;
        // The other settings (the idle lock) stay as they are.
        let mut settings = load_settings(&self.launch.data_dir);
        settings.database_url = url.clone();
        save_settings(&self.launch.data_dir, &settings)?;
        *self.state.write().expect("connection lock") = Opened {
            core: Ok(core),
            url: target,
            source,
        };
        self.forward_events(app);
        self.start_sweeper();
        self.start_sync();
        crate::notify(app, None);
        Ok(self.info())
    }

    /// Forwards the core's change events to the UI (restarted whenever the database changes):
    /// this handle's own commits and, through the core's change relay, every other terminal's
    /// (the CLI, another desktop), read from the change feed within about half a second.
    pub fn forward_events(&self, app: &tauri::AppHandle) {
        let mut slot = self.forwarder.lock().expect("forwarder lock");
        if let Some(old) = slot.take() {
            old.abort();
        }
        let Ok(core) = self.core() else {
            drop(slot);
            return self.start_relay();
        };
        let mut events = core.subscribe();
        let app = app.clone();
        *slot = Some(tauri::async_runtime::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(change) => crate::notify(&app, Some(change)),
                    Err(RecvError::Lagged(_)) => crate::notify(&app, None),
                    Err(RecvError::Closed) => break,
                }
            }
        }));
        drop(slot);
        self.start_relay();
    }

    /// Starts the core's change relay on the open database (the old one stops on a switch).
    fn start_relay(&self) {
        let mut slot = self.relay.lock().expect("relay lock");
        if let Some(old) = slot.take() {
            old.abort();
        }
        if let Ok(core) = self.core() {
            let _guard = tauri::async_runtime::handle().inner().enter();
            *slot = Some(core.spawn_change_relay());
        }
    }
}

/// Connects to `url` without migrating it and says which backend answered.
pub async fn test(url: &str) -> Result<String, ApiError> {
    let store = tokio::time::timeout(TEST_TIMEOUT, Store::connect(url.trim()))
        .await
        .map_err(|_| {
            Error::Timeout(format!("no answer within {} s", TEST_TIMEOUT.as_secs())).to_api()
        })??;
    let backend = backend_of(url.trim()).to_string();
    match store {
        Store::Sqlite(pool) => pool.close().await,
        Store::Postgres(pool) => pool.close().await,
    }
    Ok(backend)
}

/// Opens `url` and takes the shop's image storage, as the CLI does (a refusal, e.g. another
/// shop's image directory, is an open failure like any other).
async fn open_core(url: &str, launch: &Launch) -> Result<Stockdesk, ApiError> {
    let wanted = launch
        .blobs
        .as_deref()
        .map(|b| b.trim().parse::<BlobBackend>())
        .transpose()
        .map_err(|e| Error::BadInput(format!("STOCKDESK_BLOBS: {e}")).to_api())?;
    let open = async {
        Stockdesk::open(url, &launch.actor)
            .await?
            .with_data_dir(launch.data_dir.clone())
            .settle_blobs(wanted, launch.blob_dir.clone())
            .await
    };
    Ok(tokio::time::timeout(TEST_TIMEOUT * 4, open)
        .await
        .map_err(|_| Error::Timeout("the database did not answer".into()).to_api())??)
}

fn backend_of(url: &str) -> &'static str {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        "postgres"
    } else {
        "sqlite"
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub(crate) fn load_settings(data_dir: &Path) -> Settings {
    let path = data_dir.join(SETTINGS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(%e, path = %path.display(), "ignoring unreadable settings");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

pub(crate) fn save_settings(data_dir: &Path, settings: &Settings) -> Result<(), ApiError> {
    let io = |e: std::io::Error| ApiError::from(stockdesk::Error::Io(e));
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let path = data_dir.join(SETTINGS_FILE);
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(settings).expect("settings serialise");
    // The file may hold a database password: owner-only from the moment it exists. `mode` only
    // applies when the file is created, so a tmp file left behind with a wider mode is narrowed.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    file.write_all(&json).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    // The rename replaces any older, wider settings file along with its mode.
    std::fs::rename(&tmp, &path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The core's `redact` is the one used here; what the app shows never holds a password,
    /// also when the URL is refused or the server does not answer.
    #[tokio::test]
    async fn passwords_never_reach_the_info() {
        let dir = tempfile::tempdir().unwrap();
        // A database that does not exist fails at once (an unreachable host is retried for
        // half a minute); the test server's trust auth ignores the passwords.
        let server = stockdesk_testkit::postgres_admin_url();
        let server = server
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .and_then(|(_, host)| host.split_once('/'))
            .map(|(host, _)| host.to_string())
            .unwrap_or_else(|| "127.0.0.1:5432".into());
        for url in [
            "postgress://shop:hunter2@db.local/shop".to_string(),
            format!("postgres://postgres:hun@ter2@{server}/stockdesk_none"),
            format!("postgres://postgres@{server}/stockdesk_none?password=hunter2&sslmode=disable"),
        ] {
            let url = url.as_str();
            let conn = Connection::open(launch_in(dir.path(), Some(url.into()))).await;
            let shown = serde_json::to_string(&conn.info()).unwrap();
            assert!(conn.info().error.is_some(), "{url} should not open");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!shown.contains("ter2"), "{shown}");
        }
    }

    #[tokio::test]
    async fn test_connection_names_the_backend_or_fails_with_a_code() {
        let dir = tempfile::tempdir().unwrap();
        let url = stockdesk::default_database_url(dir.path());
        assert_eq!(test(&url).await.unwrap(), "sqlite");
        let bad = test("postgres://nobody@127.0.0.1:1/none")
            .await
            .unwrap_err();
        assert!(!bad.code().as_str().is_empty());
        assert_eq!(
            test("mysql://x").await.unwrap_err().code(),
            stockdesk::error::ErrorCode::BadInput
        );
        if let Ok(pg) = std::env::var("DATABASE_URL") {
            assert_eq!(test(&pg).await.unwrap(), "postgres");
        }
    }

    #[tokio::test]
    async fn start_up_prefers_environment_then_settings_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let launch = |env_url: Option<String>| launch_in(dir.path(), env_url);
        let conn = Connection::open(launch(None)).await;
        assert_eq!(conn.info().source, DatabaseSource::Default);
        assert_eq!(conn.info().backend, "sqlite");
        assert!(conn.core().is_ok());

        let other = format!("sqlite://{}/other.db", dir.path().display());
        save_settings(
            dir.path(),
            &Settings {
                database_url: Some(other.clone()),
                ..Settings::default()
            },
        )
        .unwrap();
        let conn = Connection::open(launch(None)).await;
        assert_eq!(conn.info().source, DatabaseSource::Settings);
        assert_eq!(conn.info().database, other);

        let conn = Connection::open(launch(Some("mysql://nope".into()))).await;
        let info = conn.info();
        assert_eq!(info.source, DatabaseSource::Environment);
        assert_eq!(
            info.error.map(|e| e.code()),
            Some(stockdesk::error::ErrorCode::BadInput)
        );
        assert!(conn.core().is_err(), "the app starts; commands say why");
    }

    #[tokio::test]
    async fn blob_settings_are_taken_like_the_cli_and_a_bad_one_is_an_open_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mut launch = launch_in(dir.path(), None);
        launch.blobs = Some("cloud".into());
        let conn = Connection::open(launch.clone()).await;
        let error = conn.info().error.expect("an unknown backend is refused");
        assert_eq!(error.code(), stockdesk::error::ErrorCode::BadInput);
        assert!(conn.core().is_err(), "the app starts; commands say why");

        // SQLite keeps files in a directory: the configured one, named by its marker.
        let shared = dir.path().join("shared-blobs");
        launch.blobs = Some("dir".into());
        launch.blob_dir = Some(shared.clone());
        let conn = Connection::open(launch.clone()).await;
        assert!(conn.core().is_ok(), "{:?}", conn.info().error);
        assert!(shared.join(".stockdesk-shop").exists());

        // On SQLite the shop's storage is the directory; asking for the database is refused.
        launch.blobs = Some("db".into());
        let conn = Connection::open(launch).await;
        assert!(conn.info().error.is_some());
    }

    /// On Postgres the app keeps images where every terminal reads them: in the database, unless
    /// the shop chose otherwise; a terminal asking for its own directory is refused.
    #[tokio::test]
    async fn on_postgres_images_are_kept_in_the_database_by_default() {
        let db = stockdesk_testkit::postgres().await;
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let conn = Connection::open(launch_in(a.path(), Some(db.url.clone()))).await;
        let core = conn.core().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(core.ctx().blob_backend, BlobBackend::Db);

        let mut other = launch_in(b.path(), Some(db.url.clone()));
        other.blobs = Some("dir".into());
        let refused = Connection::open(other).await;
        let error = refused.info().error.expect("another backend is refused");
        assert_eq!(error.code(), stockdesk::error::ErrorCode::BadInput);
        drop((core, conn, refused));
        stockdesk_testkit::drop_postgres(&db.url).await;
    }

    #[test]
    fn settings_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let settings = Settings {
            database_url: Some("postgres://shop:hunter2@db/shop".into()),
            ..Settings::default()
        };
        save_settings(dir.path(), &settings).unwrap();
        assert_eq!(mode(&path), 0o600);

        // A file (and a tmp file) from an older version with the default mode are narrowed.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, b"{}").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o666)).unwrap();
        save_settings(dir.path(), &settings).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(!tmp.exists());
    }

    fn launch_in(dir: &Path, env_url: Option<String>) -> Launch {
        Launch {
            data_dir: dir.to_path_buf(),
            env_url,
            actor: "ana".into(),
            blobs: None,
            blob_dir: None,
        }
    }

    #[test]
    fn settings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_settings(dir.path()).database_url, None);
        save_settings(
            dir.path(),
            &Settings {
                database_url: Some("postgres://x@y/z".into()),
                idle_lock_minutes: Some(2),
            },
        )
        .unwrap();
        let loaded = load_settings(dir.path());
        assert_eq!(loaded.database_url.as_deref(), Some("postgres://x@y/z"));
        assert_eq!(loaded.idle_lock_minutes, Some(2));
    }
}
