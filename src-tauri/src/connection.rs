//! Which database the app talks to: chosen at start-up from the environment (`STOCKDESK_DB`,
//! `STOCKDESK_DATA_DIR`, the same variables as the CLI), else the settings file in the data
//! directory, else the SQLite file there. Settings can switch it while the app runs.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stockdesk::{ApiError, Error, Stockdesk, Store};
use tauri::async_runtime::JoinHandle;
use tokio::sync::broadcast::error::RecvError;

const SETTINGS_FILE: &str = "settings.json";
const TEST_TIMEOUT: Duration = Duration::from_secs(8);
/// How often the app's sweeper tidies (expired orders, staged files, the deletion outbox).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

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
    /// Why the database could not be opened (the app still starts, so settings can fix it).
    pub error: Option<ApiError>,
}

/// What the app was started with.
#[derive(Debug, Clone)]
pub struct Launch {
    pub data_dir: PathBuf,
    pub env_url: Option<String>,
    pub actor: String,
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
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    /// A Postgres (or SQLite) URL; absent means the SQLite file in the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
}

/// The open core handle (or why there is none), shared by all commands.
pub struct Connection {
    launch: Launch,
    state: RwLock<Opened>,
    forwarder: Mutex<Option<JoinHandle<()>>>,
    sweeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
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
            sweeper: Mutex::new(None),
        }
    }

    /// Runs the core's sweeper in the background on the open database (restarted on a switch).
    /// Correctness never waits for it; its health shows in the status bar.
    pub fn start_sweeper(&self) {
        let mut slot = self.sweeper.lock().expect("sweeper lock");
        if let Some(old) = slot.take() {
            old.abort();
        }
        if let Ok(core) = self.core() {
            let _guard = tauri::async_runtime::handle().inner().enter();
            *slot = Some(core.spawn_sweeper(SWEEP_EVERY));
        }
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
        save_settings(
            &self.launch.data_dir,
            &Settings {
                database_url: url.clone(),
            },
        )?;
        *self.state.write().expect("connection lock") = Opened {
            core: Ok(core),
            url: target,
            source,
        };
        self.forward_events(app);
        self.start_sweeper();
        crate::notify(app, None);
        Ok(self.info())
    }

    /// Forwards the core's change events to the UI (restarted whenever the database changes).
    pub fn forward_events(&self, app: &tauri::AppHandle) {
        let mut slot = self.forwarder.lock().expect("forwarder lock");
        if let Some(old) = slot.take() {
            old.abort();
        }
        let Ok(core) = self.core() else { return };
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

async fn open_core(url: &str, launch: &Launch) -> Result<Stockdesk, ApiError> {
    let opened = tokio::time::timeout(TEST_TIMEOUT * 4, Stockdesk::open(url, &launch.actor))
        .await
        .map_err(|_| Error::Timeout("the database did not answer".into()).to_api())??;
    Ok(opened.with_data_dir(launch.data_dir.clone()))
}

fn backend_of(url: &str) -> &'static str {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((creds, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match creds.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn load_settings(data_dir: &Path) -> Settings {
    let path = data_dir.join(SETTINGS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(%e, path = %path.display(), "ignoring unreadable settings");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

fn save_settings(data_dir: &Path, settings: &Settings) -> Result<(), ApiError> {
    let io = |e: std::io::Error| ApiError::from(stockdesk::Error::Io(e));
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let path = data_dir.join(SETTINGS_FILE);
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(settings).expect("settings serialise");
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://shop:hunter2@db.local:5432/shop"),
            "postgres://shop:***@db.local:5432/shop"
        );
        assert_eq!(
            redact("postgres://shop@db.local/shop"),
            "postgres://shop@db.local/shop"
        );
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
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
        let launch = |env_url: Option<String>| Launch {
            data_dir: dir.path().to_path_buf(),
            env_url,
            actor: "ana".into(),
        };
        let conn = Connection::open(launch(None)).await;
        assert_eq!(conn.info().source, DatabaseSource::Default);
        assert_eq!(conn.info().backend, "sqlite");
        assert!(conn.core().is_ok());

        let other = format!("sqlite://{}/other.db", dir.path().display());
        save_settings(
            dir.path(),
            &Settings {
                database_url: Some(other.clone()),
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

    #[test]
    fn settings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_settings(dir.path()).database_url, None);
        save_settings(
            dir.path(),
            &Settings {
                database_url: Some("postgres://x@y/z".into()),
            },
        )
        .unwrap();
        assert_eq!(
            load_settings(dir.path()).database_url.as_deref(),
            Some("postgres://x@y/z")
        );
    }
}
