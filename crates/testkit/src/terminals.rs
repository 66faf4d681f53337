//! A shop on a fresh Postgres database and its terminals: each with its own data directory and
//! SQLite replica, joined through a proxy the test controls (the network cut), for the tests of
//! offline terminals (sync, allotments).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use stockdesk::sync::SyncStatus;
use stockdesk::{Stockdesk, Store};

use crate::proxy::{upstream_of, Link, Proxy};
use crate::TestDb;

/// The shop's Postgres with a handle on it as "office"; the database is dropped with it.
pub struct Shop {
    pub sd: Stockdesk,
    pub url: String,
    _db: TestDb,
}

pub async fn shop() -> Shop {
    let db = crate::postgres().await;
    let sd = Stockdesk::open(&db.url, "office")
        .await
        .unwrap()
        .with_data_dir(db.data_dir.clone())
        .settle_blobs(None, None)
        .await
        .unwrap();
    Shop {
        sd,
        url: db.url.clone(),
        _db: db,
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let url = self.url.clone();
            std::thread::spawn(move || {
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(crate::drop_postgres(&url))
            });
        }
    }
}

/// A terminal: its own data directory and SQLite replica, joined to the shop through a proxy.
pub struct Terminal {
    pub sd: Stockdesk,
    pub proxy: Proxy,
    pub dir: tempfile::TempDir,
}

pub async fn terminal(shop: &Shop, name: &str) -> Terminal {
    let proxy = Proxy::start(upstream_of(&shop.url)).await;
    let dir = tempfile::tempdir().unwrap();
    let local = open_local(dir.path(), name).await;
    let (sd, report) = local
        .join_shop(
            &proxy.url_for(&shop.url),
            Some(name),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert_eq!(report.terminal_name, name);
    assert!(sd.is_replica());
    Terminal { sd, proxy, dir }
}

/// A handle on the SQLite database in `dir` (a terminal's, joined or not) acting as `actor`.
pub async fn open_local(dir: &Path, actor: &str) -> Stockdesk {
    Stockdesk::open(&Store::sqlite_url(&dir.join("stockdesk.db")), actor)
        .await
        .unwrap()
        .with_data_dir(dir.to_path_buf())
        .settle_blobs(None, None)
        .await
        .unwrap()
}

impl Terminal {
    pub fn offline(&self) {
        self.proxy.set(Link::Drop);
    }

    pub fn online(&self) {
        self.proxy.set(Link::Forward);
    }

    pub async fn pending(&self) -> i64 {
        self.sd.sync_status(false).await.unwrap().pending
    }

    /// Syncs until nothing is pending and nothing is left to pull (a second round brings what
    /// the first one's pushes changed); the status then.
    pub async fn settle(&self) -> SyncStatus {
        for _ in 0..3 {
            self.sd.sync_once().await.unwrap();
        }
        let status = self.sd.sync_status(true).await.unwrap();
        assert_eq!(status.pending, 0, "{status:?}");
        assert_eq!(status.lag, Some(0), "{status:?}");
        status
    }
}
