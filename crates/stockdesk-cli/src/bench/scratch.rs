//! A throw-away database beside the one a bench is pointed at, with the same settings.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::Connection;

use stockdesk::error::{Error, Result};
use stockdesk::{Stockdesk, Store, SystemClock};

pub struct Scratch {
    pub sd: Stockdesk,
    /// The scratch database's URL (terminals join a scratch shop by it).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFiles(PathBuf),
    PostgresDb { admin_url: String, name: String },
}

impl Scratch {
    pub async fn create(url: &str) -> Result<Scratch> {
        let name = format!("stockdesk_bench_{}", uuid::Uuid::now_v7().simple());
        let (scratch_url, cleanup) = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            let (base, query) = match url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (url, String::new()),
            };
            let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(base);
            (
                format!("{server}/{name}{query}"),
                Cleanup::PostgresDb {
                    admin_url: url.to_string(),
                    name: name.clone(),
                },
            )
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let path = PathBuf::from(path.split('?').next().unwrap_or(path));
            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
            std::fs::create_dir_all(&dir)?;
            let file = dir.join(format!("{name}.db"));
            (Store::sqlite_url(&file), Cleanup::SqliteFiles(file))
        } else {
            return Err(Error::BadInput(format!(
                "cannot bench {url:?}: use sqlite://PATH or postgres://…"
            )));
        };
        let store = Store::open(&scratch_url).await?;
        let data_dir = std::env::temp_dir().join(format!("{name}-files"));
        let sd = Stockdesk::new(store, Arc::new(SystemClock), "bench", data_dir);
        Ok(Scratch {
            sd,
            url: scratch_url,
            cleanup,
        })
    }

    pub async fn drop_db(self) {
        self.sd.store().close().await;
        // Seeding stores its demo images as blob files here.
        let _ = std::fs::remove_dir_all(self.sd.data_dir());
        match self.cleanup {
            Cleanup::SqliteFiles(file) => {
                for suffix in ["", "-wal", "-shm", ".open-lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            }
            Cleanup::PostgresDb { admin_url, name } => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
        }
    }
}
