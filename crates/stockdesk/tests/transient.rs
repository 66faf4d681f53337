//! Which database errors are "try again" (retried, then `busy`) and which are not, one real
//! error of each class on the backend that raises it. A Postgres SQLSTATE must never be read as
//! an SQLite result code (22021 & 0xff is SQLite's BUSY).

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use stockdesk::store::is_transient;
use stockdesk_testkit as kit;

async fn pg_pair() -> (kit::TestDb, PgConnection, PgConnection) {
    let db = kit::postgres().await;
    let mut a = PgConnection::connect(&db.url).await.unwrap();
    let b = PgConnection::connect(&db.url).await.unwrap();
    a.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    (db, a, b)
}

fn code(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code().map(|c| c.into_owned()))
        .unwrap_or_else(|| format!("{e:?}"))
}

#[tokio::test]
async fn postgres_serialization_failure_is_transient() {
    let (db, mut a, mut b) = pg_pair().await;
    a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT n FROM t WHERE id = 1")
        .await
        .unwrap();
    b.execute("UPDATE t SET n = 1 WHERE id = 1").await.unwrap();
    let e = a
        .execute("UPDATE t SET n = 2 WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "40001");
    assert!(is_transient(&e));
    kit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn postgres_deadlock_is_transient() {
    let (db, mut a, mut b) = pg_pair().await;
    a.execute("BEGIN; UPDATE t SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    b.execute("BEGIN; UPDATE t SET n = 1 WHERE id = 2")
        .await
        .unwrap();
    // Each now waits for the other's row: Postgres breaks the cycle by failing one of them.
    let first = tokio::spawn(async move {
        let r = a
            .execute("UPDATE t SET n = 2 WHERE id = 2")
            .await
            .map(|_| ());
        (a, r)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = b
        .execute("UPDATE t SET n = 2 WHERE id = 1")
        .await
        .map(|_| ());
    let (_a, first) = first.await.unwrap();
    let e = first.err().or(second.err()).expect("one side deadlocked");
    assert_eq!(code(&e), "40P01");
    assert!(is_transient(&e));
    kit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn postgres_lock_timeout_and_statement_timeout_are_transient() {
    let (db, mut a, mut b) = pg_pair().await;
    a.execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE")
        .await
        .unwrap();
    b.execute("SET lock_timeout = '50ms'").await.unwrap();
    let e = b
        .execute("SELECT * FROM t WHERE id = 1 FOR UPDATE")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "55P03");
    assert!(is_transient(&e));
    b.execute("SET lock_timeout = 0; SET statement_timeout = '50ms'")
        .await
        .unwrap();
    let e = b.execute("SELECT pg_sleep(2)").await.unwrap_err();
    assert_eq!(code(&e), "57014");
    assert!(is_transient(&e));
    kit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn postgres_lost_connection_is_transient() {
    let (db, mut a, mut b) = pg_pair().await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut a)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut b)
        .await
        .unwrap();
    let e = a.execute("SELECT 1").await.unwrap_err();
    assert!(is_transient(&e), "{e:?}");
    kit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn postgres_refusals_are_not_transient() {
    let (db, mut a, _b) = pg_pair().await;
    let role = format!("stockdesk_test_role_{}", uuid::Uuid::now_v7().simple());
    a.execute(format!("CREATE ROLE {role} NOLOGIN").as_str())
        .await
        .unwrap();
    a.execute(format!("SET ROLE {role}").as_str())
        .await
        .unwrap();
    let e = a.execute("SELECT * FROM t").await.unwrap_err();
    assert_eq!(code(&e), "42501");
    assert!(
        !is_transient(&e),
        "insufficient_privilege is no reason to retry"
    );
    a.execute("RESET ROLE").await.unwrap();
    a.execute(format!("DROP ROLE {role}").as_str())
        .await
        .unwrap();
    let e = sqlx::query("SELECT $1::text")
        .bind("a\u{0}b")
        .execute(&mut a)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "22021");
    assert!(!is_transient(&e), "a NUL in text is bad input, not busy");
    let e = a.execute("INSERT INTO t VALUES (1, 0)").await.unwrap_err();
    assert_eq!(code(&e), "23505");
    assert!(!is_transient(&e));
    kit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn sqlite_busy_is_transient_and_a_constraint_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let mut a = SqliteConnection::connect(&url).await.unwrap();
    let mut b = SqliteConnection::connect(&url).await.unwrap();
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    b.execute("PRAGMA busy_timeout = 0").await.unwrap();
    a.execute("BEGIN IMMEDIATE").await.unwrap();
    let e = b.execute("BEGIN IMMEDIATE").await.unwrap_err();
    assert_eq!(code(&e), "5");
    assert!(is_transient(&e));
    a.execute("INSERT INTO t VALUES (1); COMMIT").await.unwrap();
    let e = a.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert!(!is_transient(&e), "{}", code(&e));
}

/// Several processes opening a new SQLite file at once (the app and a script, say) migrate it
/// in turn: none runs a migration the other already ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handles_opening_a_new_sqlite_file_at_once_migrate_it_in_turn() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = stockdesk::Store::sqlite_url(&dir.path().join("new.db"));
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { stockdesk::Store::open(&url).await.map(|_| ()) })
            })
            .collect();
        for open in opens {
            open.await.unwrap().expect("a concurrent first open failed");
        }
    }
}
