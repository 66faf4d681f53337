//! Fixtures for the image tests: small real image files, the blob store's files, and recovery
//! as a shop would see it (time passes, the sweeper runs, everything verifies).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use stockdesk::catalog::{NewProduct, Product, ProductStatus};
use stockdesk::{Stockdesk, Store};

use crate::{count, TestDb};

/// `all_stores!(name, |db: TestDb| async move { … })` makes four tests: {sqlite, postgres} ×
/// {dir, db}, each on a fresh database and data directory.
#[macro_export]
macro_rules! all_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use stockdesk::BlobBackend;
            use $crate::TestDb;

            async fn run(mut db: TestDb, backend: BlobBackend) {
                let _dir = db.keep_alive();
                db.sd = db.sd.clone().with_blob_backend(backend);
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_dir() {
                run($crate::sqlite().await, BlobBackend::Dir).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_db() {
                run($crate::sqlite().await, BlobBackend::Db).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_dir() {
                run($crate::postgres().await, BlobBackend::Dir).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_db() {
                run($crate::postgres().await, BlobBackend::Db).await;
            }
        }
    };
}

/// A small opaque PNG whose bytes depend on `n` (distinct `n`, distinct blobs).
pub fn png(n: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(40 + n % 7, 30, |x, y| {
        image::Rgb([(x * 5 + n * 13) as u8, (y * 7) as u8, (n * 31) as u8])
    });
    encode(image::DynamicImage::ImageRgb8(img), image::ImageFormat::Png)
}

pub fn encode(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub async fn draft_product(sd: &Stockdesk, name: &str) -> Product {
    sd.create_product(
        NewProduct {
            id: None,
            name: name.into(),
            slug: None,
            description: String::new(),
            status: ProductStatus::Draft,
            category_id: None,
            variants: vec![],
        },
        None,
    )
    .await
    .unwrap()
}

/// Files in the blob directory (excluding temp files), as keys.
pub fn files(db: &TestDb) -> BTreeSet<String> {
    let root = db.data_dir.join("blobs");
    let mut out = BTreeSet::new();
    let Ok(shards) = std::fs::read_dir(&root) else {
        return out;
    };
    for shard in shards.flatten() {
        let prefix = shard.file_name().to_string_lossy().to_string();
        // `tmp` holds writes in flight; plain files (the shop marker) are not blobs.
        if prefix == "tmp" || !shard.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.insert(format!("{prefix}{}", f.file_name().to_string_lossy()));
        }
    }
    out
}

/// Every blob key that image rows reference.
pub async fn referenced(sd: &Stockdesk) -> BTreeSet<String> {
    let sql = "SELECT blob_key FROM images UNION SELECT thumb_key FROM images";
    let keys: Vec<Option<String>> = match sd.store() {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    };
    keys.into_iter().flatten().collect()
}

/// Recovery as a shop would see it: time passes beyond every limit and the sweeper runs; then
/// the store must verify clean, hold exactly the blobs image rows use, and have nothing staged
/// or queued.
pub async fn recover_and_check(db: &TestDb, sd: &Stockdesk) {
    db.clock.advance(TimeDelta::hours(25));
    // The sweeper's jobs, then the CLI's gc: the same work either way.
    let run = sd.sweep_once().await.unwrap();
    assert_eq!(run.errors, 0, "{run:?}");
    db.clock.advance(TimeDelta::hours(2));
    let gc = sd.blobs_gc().await.unwrap();
    assert_eq!(gc.failing_deletions, 0, "{gc:?}");
    let report = sd.blobs_verify().await.unwrap();
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.unreferenced_recent, 0, "{report:#?}");
    assert_eq!(report.pending_deletions, 0, "{report:#?}");
    assert_eq!(count(sd, "staged_blobs").await, 0);
    assert_eq!(count(sd, "blob_outbox").await, 0);
    let refs = referenced(sd).await;
    assert_eq!(report.stored, refs.len() as i64, "{report:#?}");
    match sd.blob_store() {
        stockdesk::images::BlobStore::Dir(_) => {
            assert_eq!(files(db), refs);
            assert_eq!(count(sd, "blobs").await, refs.len() as i64);
        }
        stockdesk::images::BlobStore::Db => {
            assert!(files(db).is_empty());
            assert_eq!(count(sd, "blobs").await, refs.len() as i64);
        }
    }
    for key in &refs {
        let f = sd.image_file(key).await.unwrap();
        assert_eq!(stockdesk::images::key_of(&f.bytes), *key);
    }
}
