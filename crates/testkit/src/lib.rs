//! The test harness of the core and the CLI: one test body, both backends. SQLite gets a fresh file in a temp dir; Postgres a
//! fresh database on the server named by TEST_POSTGRES_URL / DATABASE_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres). Postgres being unreachable fails the test: a
//! skipped backend would hide exactly the bugs these tests exist for.

pub mod cluster;
pub mod fixtures;
pub mod http;
pub mod images;
pub mod proxy;
pub mod replicas;
pub mod terminals;

pub use fixtures::{order_of, stocked};

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use sqlx::Connection;
use stockdesk::{ManualClock, Stockdesk, Store};

pub struct TestDb {
    pub sd: Stockdesk,
    pub clock: ManualClock,
    pub url: String,
    pub data_dir: PathBuf,
    dir: Arc<tempfile::TempDir>,
}

impl TestDb {
    /// The temp dir lives as long as this guard. Test bodies often use only `db.sd`, and a
    /// closure captures only the fields it uses, so the harness holds the dir for them.
    pub fn keep_alive(&self) -> Arc<tempfile::TempDir> {
        self.dir.clone()
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::sqlite_url(&dir.path().join("stockdesk.db"));
    open(url, dir).await
}

pub async fn postgres() -> TestDb {
    let admin = postgres_admin_url();
    let name = format!("stockdesk_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("Postgres at {admin} is required for the tests: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    // Keep any query string (sslmode etc.) of the admin URL.
    let query = admin
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let base = base.split_once('?').map(|(b, _)| b).unwrap_or(base);
    let url = format!("{base}/{name}{query}");
    open(url, tempfile::tempdir().unwrap()).await
}

/// Drops a test database after a passing test (a failing one keeps it for a look).
pub async fn drop_postgres(url: &str) {
    let name = url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default();
    let admin = postgres_admin_url();
    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

async fn open(url: String, dir: tempfile::TempDir) -> TestDb {
    let store = Store::open(&url).await.expect("open store");
    let clock = ManualClock::new(start_time());
    let data_dir = dir.path().join("data");
    let sd = Stockdesk::new(store, Arc::new(clock.clone()), "tester", data_dir.clone());
    TestDb {
        sd,
        clock,
        url,
        data_dir,
        dir: Arc::new(dir),
    }
}

/// `both_backends!(name, |db: TestDb| async move { … })` makes `name::sqlite` and
/// `name::postgres`, each on a fresh database.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::sqlite().await;
                let _dir = db.keep_alive();
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = $crate::postgres().await;
                let _dir = db.keep_alive();
                let url = db.url.clone();
                ($body)(db).await;
                $crate::drop_postgres(&url).await;
            }
        }
    };
}

/// Every row of every table that matters, as text: compare before/after to prove that a failed
/// operation changed nothing.
pub async fn dump(sd: &Stockdesk) -> Vec<String> {
    let tables = [
        ("products", "id"),
        ("variants", "id"),
        ("variant_attributes", "variant_id, attribute_id"),
        ("images", "id"),
        ("product_history", "product_id, version"),
        ("applied_ops", "op_id"),
        ("stock_movements", "id"),
        ("categories", "id"),
        ("orders", "id"),
        ("order_items", "id"),
        ("reservations", "id"),
    ];
    let mut out = Vec::new();
    for (table, order) in tables {
        let sql = format!("SELECT * FROM {table} ORDER BY {order}");
        match sd.store() {
            Store::Sqlite(p) => {
                use sqlx::Row;
                for row in sqlx::query(&sql).fetch_all(p).await.unwrap() {
                    let cols: Vec<String> = (0..row.columns().len())
                        .map(|i| {
                            let raw: Option<Vec<u8>> = row.try_get_unchecked(i).ok();
                            format!("{:?}", raw)
                        })
                        .collect();
                    out.push(format!("{table}: {}", cols.join("|")));
                }
            }
            Store::Postgres(p) => {
                let sql = format!("SELECT t::text FROM ({sql}) t");
                for row in sqlx::query_scalar::<_, String>(&sql)
                    .fetch_all(p)
                    .await
                    .unwrap()
                {
                    out.push(format!("{table}: {row}"));
                }
            }
        }
    }
    out
}

/// Runs `sql` (no parameters) on either backend; returns the rows it changed. For tests that
/// tamper with the data or count rows behind the API's back.
pub async fn execute(sd: &Stockdesk, sql: &str) -> u64 {
    match sd.store() {
        Store::Sqlite(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
        Store::Postgres(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
    }
}

/// `SELECT COUNT(*) FROM table`.
pub async fn count(sd: &Stockdesk, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match sd.store() {
        Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
    }
}

/// `SELECT COUNT(*) FROM table WHERE condition`.
pub async fn count_where(sd: &Stockdesk, table: &str, condition: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
    match sd.store() {
        Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
    }
}
