//! `stockdesk sync` as a shop's terminals run it: real processes, each terminal with its own data
//! directory and SQLite replica, reaching the shop's Postgres through a proxy the test controls;
//! processes killed in the middle of a push, and two pushing one outbox at once.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::cli::{assert_error, ok, stockdesk};
use stockdesk::Stockdesk;
use stockdesk_testkit::proxy::{upstream_of, Link, Proxy};
use stockdesk_testkit::replicas::assert_replica_equals_shop;

struct Terminal {
    dir: tempfile::TempDir,
}

impl Terminal {
    fn run(&self, args: &[&str]) -> common::cli::Run {
        let dir = self.dir.path().to_str().unwrap();
        stockdesk(&[("STOCKDESK_DATA_DIR", dir)], args, "")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_stockdesk"))
            .args(args)
            .env("STOCKDESK_DATA_DIR", self.dir.path())
            .env_remove("STOCKDESK_DB")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn handle(&self) -> Stockdesk {
        let db = stockdesk::Store::sqlite_url(&self.dir.path().join("stockdesk.db"));
        Stockdesk::open(&db, "check")
            .await
            .unwrap()
            .with_data_dir(self.dir.path().to_path_buf())
            .settle_blobs(None, None)
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_and_doubled_sync_processes_apply_each_command_once() {
    let db = stockdesk_testkit::postgres().await;
    let shop = Stockdesk::open(&db.url, "office").await.unwrap();
    let v = stockdesk_testkit::stocked(&shop, "Kettle", &[1]).await[0];
    let proxy = Proxy::start(upstream_of(&db.url)).await;
    let till = Terminal {
        dir: tempfile::tempdir().unwrap(),
    };
    let joined = ok(till.run(&[
        "sync",
        "join",
        &proxy.url_for(&db.url),
        "--terminal",
        "till",
    ]));
    assert_eq!(joined["terminal_name"], "till");
    assert!(!joined["shop"].as_str().unwrap().contains("password"));

    // A database that joined once does not join again; one with a shop of its own never does.
    let again = till.run(&["sync", "join", &db.url, "--terminal", "till-2"]);
    assert_error(&again, 2, "bad_input");

    let queued = 40;
    let v_text = v.to_string();
    for _ in 0..queued {
        ok(till.run(&["stock", "receive", &v_text, "--quantity", "1"]));
    }
    let status = ok(till.run(&["sync", "status", "--local"]));
    assert_eq!(status["pending"], queued);
    assert_eq!(status["online"], serde_json::Value::Null, "not asked");
    // Leaving now would lose them.
    assert_error(&till.run(&["sync", "leave"]), 1, "invalid_state");

    // Pushes killed at random moments, and one stuck behind a silent network, then killed.
    for wait in [30, 120, 250, 400, 700] {
        let mut child = till.spawn(&["sync", "--once"]);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let _ = child.kill();
        child.wait().unwrap();
    }
    proxy.set(Link::Stall);
    let mut child = till.spawn(&["sync", "--once"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _ = child.kill();
    child.wait().unwrap();
    proxy.set(Link::Drop);
    let offline = till.run(&["sync", "--once"]);
    assert_error(&offline, 6, "unreachable");
    let status = ok(till.run(&["sync", "status"]));
    assert_eq!(status["online"], false);
    assert!(status["last_error"].is_string());
    // Without asking the shop, the status says how the last sync ended, by its stable code.
    let status = ok(till.run(&["sync", "status", "--local"]));
    assert_eq!(
        (
            &status["online"],
            &status["last_error_code"],
            &status["syncing"]
        ),
        (&false.into(), &"unreachable".into(), &false.into()),
        "{status}"
    );
    proxy.set(Link::Forward);

    // Two processes flush the same outbox at once.
    let (a, b) = (
        till.spawn(&["sync", "--once"]),
        till.spawn(&["sync", "--once"]),
    );
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    ok(till.run(&["sync", "--once"]));
    let status = ok(till.run(&["sync", "status"]));
    assert_eq!(
        (&status["pending"], &status["lag"], &status["online"]),
        (&0.into(), &0.into(), &true.into()),
        "{status}"
    );
    assert_eq!(status["last_error"], serde_json::Value::Null);
    let status = ok(till.run(&["sync", "status", "--local"]));
    assert_eq!(status["online"], true, "the last sync worked: {status}");
    assert_eq!(status["last_error_code"], serde_json::Value::Null);
    assert!(status["last_sync_at"].is_string(), "{status}");

    // Each receipt once: on hand, and one ledger row each.
    assert_eq!(shop.stock_level(v).await.unwrap().on_hand, 1 + queued);
    let receipts = shop
        .stock_movements(v)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.kind == stockdesk::stock::MovementKind::Receipt)
        .count();
    assert_eq!(receipts as i64, queued);
    assert_replica_equals_shop(&shop, &till.handle().await).await;
    ok(till.run(&["check"]));
    ok(till.run(&["blobs", "verify"]));

    // The shop knows the terminal; leaving now works and frees its name.
    let terminals = ok(till.run(&["sync", "terminals"]));
    assert_eq!(terminals[0]["name"], "till");
    assert_eq!(terminals[0]["last_seq"], queued);
    assert_eq!(ok(till.run(&["sync", "leave"]))["left"], true);
    assert_eq!(ok(till.run(&["sync", "status"]))["joined"], false);
    stockdesk_testkit::drop_postgres(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_go_to_the_shop_and_a_lost_terminal_is_forgotten() {
    let db = stockdesk_testkit::postgres().await;
    let shop = Stockdesk::open(&db.url, "office").await.unwrap();
    let v = stockdesk_testkit::stocked(&shop, "Tray", &[3]).await[0];
    let proxy = Proxy::start(upstream_of(&db.url)).await;
    let (till, lost) = (
        Terminal {
            dir: tempfile::tempdir().unwrap(),
        },
        Terminal {
            dir: tempfile::tempdir().unwrap(),
        },
    );
    ok(till.run(&[
        "sync",
        "join",
        &proxy.url_for(&db.url),
        "--terminal",
        "till",
    ]));
    ok(lost.run(&["sync", "join", &db.url, "--terminal", "laptop"]));
    let order = format!(r#"{{"items": [{{"variant_id": "{v}", "quantity": 2}}]}}"#);
    let dir = till.dir.path().to_str().unwrap();
    let placed = ok(stockdesk(
        &[("STOCKDESK_DATA_DIR", dir)],
        &["order", "create"],
        &order,
    ));
    // Decided by the shop, and already on the replica.
    let id = placed["id"].as_str().unwrap();
    ok(till.run(&["order", "get", id]));
    assert_eq!(shop.stock_level(v).await.unwrap().reserved, 2);
    proxy.set(Link::Drop);
    let refused = stockdesk(&[("STOCKDESK_DATA_DIR", dir)], &["order", "create"], &order);
    // Offline, a till sells only what the shop allotted it (here nothing).
    assert_error(&refused, 5, "beyond_allotment");
    assert!(refused.json["message"]
        .as_str()
        .unwrap()
        .contains("decided by the shop's server"));
    assert_eq!(ok(till.run(&["sync", "status", "--local"]))["pending"], 0);
    proxy.set(Link::Forward);

    // The laptop is lost: the owner forgets it; what it still sends is refused.
    ok(lost.run(&["stock", "receive", &v.to_string(), "--quantity", "5"]));
    assert_error(&till.run(&["sync", "forget", "till"]), 2, "bad_input");
    let forgotten = ok(till.run(&["sync", "forget", "laptop"]));
    assert!(forgotten["left_at"].is_string());
    assert_error(&lost.run(&["sync", "--once"]), 2, "bad_input");
    assert_eq!(shop.stock_level(v).await.unwrap().on_hand, 3);
    // Its name is free for the replacement.
    let replacement = Terminal {
        dir: tempfile::tempdir().unwrap(),
    };
    ok(replacement.run(&["sync", "join", &db.url, "--terminal", "laptop"]));
    stockdesk_testkit::drop_postgres(&db.url).await;
}
