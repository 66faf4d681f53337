//! Several terminals on one Postgres: nobody is stuck behind a terminal that holds a lock or
//! vanished mid-transaction, every path takes its locks in one order (no deadlock), and the
//! pools fit ten terminals and a sweeper in the server's default connection limit.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};
use stockdesk::store::PgSession;
use stockdesk::{Error, Stockdesk, Store};
use stockdesk_testkit::proxy::{upstream_of, Link, Proxy};
use stockdesk_testkit::{order_of, stocked};

async fn terminal(url: &str, session: &PgSession) -> Stockdesk {
    let store = Store::open_with(url, session).await.unwrap();
    let dir = tempfile::tempdir().unwrap().keep();
    Stockdesk::on_store(store, "till", dir).await.unwrap()
}

fn quick_locks() -> PgSession {
    PgSession {
        lock_timeout: Duration::from_millis(200),
        ..PgSession::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_buyer_behind_a_held_lock_hears_busy_then_succeeds() {
    let db = stockdesk_testkit::postgres().await;
    let sd = terminal(&db.url, &quick_locks()).await;
    let v = stocked(&sd, "mug", &[5]).await[0];
    // Another terminal holds the variant's row lock (a payment in progress, say).
    let mut other = PgConnection::connect(&db.url).await.unwrap();
    other.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT id FROM variants WHERE id = $1 FOR UPDATE")
        .bind(v)
        .execute(&mut other)
        .await
        .unwrap();
    let held = sd.create_order(order_of(&[(v, 1)]), None).await;
    assert!(matches!(held, Err(Error::Busy)), "{held:?}");
    other.execute("COMMIT").await.unwrap();
    let order = sd.create_order(order_of(&[(v, 1)]), None).await.unwrap();
    assert_eq!(order.items[0].quantity, 1);
    stockdesk_testkit::drop_postgres(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminal_that_vanishes_mid_transaction_frees_its_locks_within_seconds() {
    let db = stockdesk_testkit::postgres().await;
    let shop = terminal(&db.url, &PgSession::default()).await;
    let v = stocked(&shop, "lamp", &[3]).await[0];

    // Terminal B reaches Postgres through a link the test controls. It is in the middle of a
    // write, holding the variant's lock, when the link goes silent (nothing closes).
    let proxy = Proxy::start(upstream_of(&db.url)).await;
    let session = PgSession {
        idle_in_transaction_timeout: Duration::from_secs(1),
        ..PgSession::default()
    };
    let b = Store::open_with(&proxy.url_for(&db.url), &session)
        .await
        .unwrap();
    let mut tx = b.write().await.unwrap();
    tx.lock_rows("variants", stockdesk::store::Stmt::ids_in("id", [v]))
        .await
        .unwrap();
    proxy.set(Link::Stall);

    // The server ends B's session once it has sat idle in its transaction for a second; a
    // buyer at another terminal then gets the unit (after waiting, within the retry budget).
    let order = shop.create_order(order_of(&[(v, 1)]), None).await.unwrap();
    assert_eq!(order.items[0].quantity, 1);
    let pg = match shop.store() {
        Store::Postgres(p) => p.clone(),
        Store::Sqlite(_) => unreachable!(),
    };
    let idle: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND state LIKE 'idle in transaction%'",
    )
    .fetch_one(&pg)
    .await
    .unwrap();
    assert_eq!(idle, 0, "the vanished terminal's transaction is gone");
    drop(tx);
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// Reordering edits, orders of several variants and cancels, all at once on one product: the
/// database counts no deadlock (each would be retried, but it would mean two paths lock in
/// different orders).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edits_orders_and_cancels_never_deadlock() {
    let db = stockdesk_testkit::postgres().await;
    let sd = terminal(&db.url, &PgSession::default()).await;
    let vs = stocked(&sd, "shoe", &[1000, 1000, 1000]).await;
    let product = sd.stock_level(vs[0]).await.unwrap().product_id;
    let pg = match sd.store() {
        Store::Postgres(p) => p.clone(),
        Store::Sqlite(_) => unreachable!(),
    };
    let deadlocks = || async {
        // Statistics are collected asynchronously; a fresh snapshot each time.
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&pg)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&pg)
        .await
        .unwrap();
        n
    };
    let before = deadlocks().await;
    let sd = Arc::new(sd);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let sd = sd.clone();
        let vs = vs.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..25 {
                match t {
                    // Turn the variants' order around and change a price: writes in the new
                    // position order, the reverse of their ids.
                    0 | 1 => {
                        let p = sd.get_product(product).await.unwrap();
                        let n = p.variants.len() as i64;
                        let update: Vec<_> = p
                            .variants
                            .iter()
                            .map(|v| {
                                serde_json::json!({"id": v.id, "position": n - 1 - v.position,
                                    "price_minor": 1000 + round + t})
                            })
                            .collect();
                        let req = stockdesk::catalog::PatchRequest {
                            product_id: product,
                            expected_version: p.version,
                            patch: serde_json::from_value(
                                serde_json::json!({"variants": {"update": update}}),
                            )
                            .unwrap(),
                            op_id: None,
                        };
                        match sd.patch_product(req).await {
                            Ok(_) | Err(Error::Conflict(_)) => {}
                            Err(e) => panic!("edit: {e}"),
                        }
                    }
                    // An order of all three variants, then its cancellation or payment.
                    _ => {
                        let lines: Vec<_> = vs.iter().map(|v| (*v, 1)).collect();
                        let o = sd.create_order(order_of(&lines), None).await.unwrap();
                        if round % 2 == 0 {
                            sd.cancel_order(o.id).await.unwrap();
                        } else {
                            sd.pay_order(o.id).await.unwrap();
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(deadlocks().await, before, "no deadlock between the paths");
    assert!(sd.check_invariants().await.unwrap().is_empty());
    stockdesk_testkit::drop_postgres(&db.url).await;
}

#[tokio::test]
async fn ten_terminals_and_a_sweeper_fit_the_default_connection_limit() {
    let db = stockdesk_testkit::postgres().await;
    let pg = match db.sd.store() {
        Store::Postgres(p) => p.clone(),
        Store::Sqlite(_) => unreachable!(),
    };
    let max: String = sqlx::query_scalar("SHOW max_connections")
        .fetch_one(&pg)
        .await
        .unwrap();
    let reserved: String = sqlx::query_scalar("SHOW superuser_reserved_connections")
        .fetch_one(&pg)
        .await
        .unwrap();
    let usable = max.parse::<u32>().unwrap() - reserved.parse::<u32>().unwrap();
    assert!(
        11 * PgSession::default().pool_size <= usable.min(97),
        "10 terminals + 1 sweeper × {} connections > {usable}",
        PgSession::default().pool_size
    );
    // And the settings reach every session.
    let lock_timeout: String = sqlx::query_scalar("SHOW lock_timeout")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(lock_timeout, "2s");
    let idle: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(idle, "10s");
    let jit: String = sqlx::query_scalar("SHOW jit").fetch_one(&pg).await.unwrap();
    assert_eq!(jit, "off");
    stockdesk_testkit::drop_postgres(&db.url).await;
}
