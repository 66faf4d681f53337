//! The change feed: every committed write shows up, once, in an order a reader follows with a
//! cursor without ever missing one — also when transactions commit in another order than they
//! began — and a handle relays other terminals' changes to its subscribers.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::TimeDelta;
use sqlx::{Connection, Executor, PgConnection};
use stockdesk::model::ChangeEvent;
use stockdesk::{CommandKind, Stockdesk, Store};
use stockdesk_testkit::{both_backends, order_of, stocked, TestDb};
use uuid::Uuid;

/// Every change from `cursor` on, page by page (small pages, to cross page ends).
async fn read_all(sd: &Stockdesk, mut cursor: String) -> (Vec<stockdesk::model::Change>, String) {
    let mut all = Vec::new();
    loop {
        let page = sd.changes(&cursor, 3).await.unwrap();
        if page.changes.is_empty() {
            return (all, cursor);
        }
        cursor = page.cursor;
        all.extend(page.changes);
    }
}

both_backends!(
    every_write_is_in_the_feed_once_with_what_it_changed,
    |db: TestDb| async move {
        let sd = &db.sd;
        let start = sd.latest_change().await.unwrap();
        let v = stocked(sd, "mug", &[5]).await[0];
        let mut new_order = order_of(&[(v, 2)]);
        new_order.expires_in_secs = Some(15 * 60);
        let order = sd.create_order(new_order, None).await.unwrap();
        sd.receive_stock(v, 3, None).await.unwrap();
        // An order the sweeper expires is a change too, with no command behind it.
        db.clock.advance(TimeDelta::minutes(16));
        sd.sweep_once().await.unwrap();

        let (changes, end) = read_all(sd, start).await;
        let kinds: Vec<_> = changes.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "create_product",
                "create_order",
                "receive_stock",
                "expire_orders"
            ]
        );
        assert!(changes[1]
            .changed
            .contains(&ChangeEvent::Order { id: order.id }));
        assert!(changes[1]
            .changed
            .contains(&ChangeEvent::Stock { variant_id: v }));
        assert_eq!(changes[3].changed, [ChangeEvent::Order { id: order.id }]);
        assert!(changes.iter().all(|c| c.actor.as_deref() == Some("tester")));
        // Each change's cursor continues after it; the last one is where a reader stands.
        assert_eq!(changes.last().unwrap().cursor, end);
        let rest = sd.changes(&changes[1].cursor, 100).await.unwrap();
        assert_eq!(rest.changes.len(), 2);
        // Nothing new: the same cursor back, and `latest` agrees.
        assert!(sd.changes(&end, 100).await.unwrap().changes.is_empty());
        assert_eq!(sd.latest_change().await.unwrap(), end);
        // A refused write leaves no change behind.
        assert!(sd.receive_stock(v, 0, None).await.is_err());
        assert!(sd.changes(&end, 100).await.unwrap().changes.is_empty());
        // Nonsense cursors are bad input.
        for bad in ["", "7", "a-b", "-1-2", "1-2-3"] {
            let e = sd.changes(bad, 10).await.unwrap_err();
            assert_eq!(e.code(), "bad_input", "{bad:?}");
        }
    }
);

/// The reason the feed is ordered by transaction and read behind the oldest running one: a
/// transaction that began first (and took the lower number) commits after a later one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_earlier_transaction_committing_late_is_not_skipped() {
    let db = stockdesk_testkit::postgres().await;
    let _dir = db.keep_alive();
    let sd = &db.sd;
    let start = sd.latest_change().await.unwrap();
    // Terminal 1 begins a write and is slow to commit.
    let mut slow = PgConnection::connect(&db.url).await.unwrap();
    slow.execute("BEGIN").await.unwrap();
    let slow_op = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO applied_ops (op_id, kind, outcome, actor, created_at) \
         VALUES ($1, 'expire_orders', '[]', 'slow till', now())",
    )
    .bind(slow_op)
    .execute(&mut slow)
    .await
    .unwrap();
    // Terminal 2 writes and commits meanwhile; a reader looks.
    stocked(sd, "scarf", &[1]).await;
    let first = sd.changes(&start, 100).await.unwrap();
    // Terminal 1 commits; the reader carries on from where it stood.
    slow.execute("COMMIT").await.unwrap();
    let second = sd.changes(&first.cursor, 100).await.unwrap();
    let seen: Vec<_> = first
        .changes
        .iter()
        .chain(&second.changes)
        .map(|c| c.kind.as_str())
        .collect();
    assert!(
        seen.contains(&"expire_orders") && seen.contains(&"create_product"),
        "the reader missed a change: first {:?}, then {:?}",
        first.changes,
        second.changes
    );
    assert_eq!(seen.len(), 2, "{seen:?}");
    stockdesk_testkit::drop_postgres(&db.url).await;
}

// Many writers at once (orders in shared turns, stock) and a reader following all the while:
// it sees every committed op id exactly once.
both_backends!(
    a_follower_sees_every_write_of_concurrent_writers_once,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let v = stocked(&sd, "tea", &[1000]).await[0];
        let mut follower = sd.follow_changes(None).await.unwrap();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let sd = sd.clone();
                tokio::spawn(async move {
                    let mut ops = Vec::new();
                    for i in 0..15 {
                        let op = Uuid::now_v7();
                        if (w + i) % 3 == 0 {
                            let kind = CommandKind::ReceiveStock {
                                variant_id: v,
                                quantity: 1,
                                reason: None,
                            };
                            sd.apply(&sd.command(Some(op), kind)).await.unwrap();
                        } else {
                            sd.create_order(order_of(&[(v, 1)]), Some(op))
                                .await
                                .unwrap();
                        }
                        ops.push(op);
                    }
                    ops
                })
            })
            .collect();
        let mut wanted = BTreeSet::new();
        for w in writers {
            wanted.extend(w.await.unwrap());
        }
        let mut seen = Vec::new();
        while seen.len() < wanted.len() {
            let page = tokio::time::timeout(Duration::from_secs(10), follower.next())
                .await
                .expect("the follower stalled")
                .unwrap();
            seen.extend(page.changes.iter().map(|c| c.op_id));
        }
        let unique: BTreeSet<_> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a change came twice");
        assert_eq!(unique, wanted);
    }
);

/// What another terminal commits reaches this handle's subscribers (the app's views) within two
/// seconds; what this handle committed itself is not told twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_terminals_changes_reach_subscribers() {
    let db = stockdesk_testkit::postgres().await;
    let open = || async {
        let store = Store::open(&db.url).await.unwrap();
        Stockdesk::on_store(store, "till", tempfile::tempdir().unwrap().keep())
            .await
            .unwrap()
    };
    let (a, b) = (open().await, open().await);
    let mut heard = b.subscribe();
    let relay = b.spawn_change_relay();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = stocked(&a, "cup", &[4]).await[0];
    let event = tokio::time::timeout(Duration::from_secs(2), heard.recv())
        .await
        .expect("B did not hear A's change within two seconds")
        .unwrap();
    assert!(
        matches!(event, ChangeEvent::Product { version: 1, .. }),
        "{event:?}"
    );
    // B's own write is announced once, by B itself.
    b.receive_stock(v, 1, None).await.unwrap();
    assert_eq!(
        heard.recv().await.unwrap(),
        ChangeEvent::Stock { variant_id: v }
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        heard.try_recv().is_err(),
        "B's own change came back through the feed"
    );
    relay.abort();
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// Only this shop's writers hold the feed back: a transaction left open in another database on
/// the same server (or one in this database that does not write) delays nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_transaction_elsewhere_does_not_hold_the_feed_back() {
    let db = stockdesk_testkit::postgres().await;
    let _dir = db.keep_alive();
    let sd = &db.sd;
    let start = sd.latest_change().await.unwrap();
    let mut elsewhere = PgConnection::connect(&stockdesk_testkit::postgres_admin_url())
        .await
        .unwrap();
    let mut reader = PgConnection::connect(&db.url).await.unwrap();
    for conn in [&mut elsewhere, &mut reader] {
        conn.execute("BEGIN").await.unwrap();
        // Takes a transaction id, as a write would.
        conn.execute("SELECT pg_current_xact_id()").await.unwrap();
    }
    stocked(sd, "hat", &[1]).await;
    let page = sd.changes(&start, 100).await.unwrap();
    assert_eq!(page.changes.len(), 1, "{page:?}");
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// A terminal whose link to Postgres drops while others write: reading fails meanwhile (typed,
/// not a hang), and once the link is back its follower carries on from its cursor with every
/// change it missed, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_cut_off_resumes_from_its_cursor_with_nothing_missed() {
    use stockdesk_testkit::proxy::{upstream_of, Link, Proxy};
    let db = stockdesk_testkit::postgres().await;
    let _dir = db.keep_alive();
    let proxy = Proxy::start(upstream_of(&db.url)).await;
    let store = Store::open(&proxy.url_for(&db.url)).await.unwrap();
    let cut_off = Stockdesk::on_store(store, "till-b", tempfile::tempdir().unwrap().keep())
        .await
        .unwrap();
    let mut follower = cut_off.follow_changes(None).await.unwrap();
    let before = stocked(&db.sd, "one", &[1]).await;
    let first = follower.next().await.unwrap();
    assert_eq!(first.changes.len(), 1);

    proxy.set(Link::Drop);
    let mut written = Vec::new();
    for i in 0..3 {
        written.extend(stocked(&db.sd, &format!("while-cut-{i}"), &[1]).await);
    }
    let cut = tokio::time::timeout(Duration::from_secs(40), follower.next())
        .await
        .expect("reading a dropped link hung");
    assert!(cut.is_err(), "read through a dropped link: {cut:?}");

    proxy.set(Link::Forward);
    let mut seen = Vec::new();
    while seen.len() < written.len() {
        let page = tokio::time::timeout(Duration::from_secs(40), follower.next())
            .await
            .expect("the follower did not recover")
            .unwrap();
        seen.extend(page.changes.into_iter().map(|c| c.kind));
    }
    assert_eq!(seen, ["create_product"; 3], "{before:?}");
    stockdesk_testkit::drop_postgres(&db.url).await;
}
