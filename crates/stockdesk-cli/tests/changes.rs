//! `stockdesk changes`: one process follows the shop's change feed while other processes write
//! (on one SQLite file, and on one Postgres); every change arrives once, in order, each line with
//! the cursor to continue from; a run without --follow picks up from a cursor; SIGTERM stops a
//! follower cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use common::cli::{ok, stockdesk};

fn cursor(line: &Value) -> (i64, i64) {
    let (tx, seq) = line["cursor"].as_str().unwrap().split_once('-').unwrap();
    (tx.parse().unwrap(), seq.parse().unwrap())
}

fn follows_other_processes(db_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let env = [
        ("STOCKDESK_DB", db_url),
        ("STOCKDESK_DATA_DIR", data.as_str()),
    ];
    let mut follower = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(["changes", "--since", "0-0", "--follow"])
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let out = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let _ = lines_tx.send(serde_json::from_str::<Value>(&line.unwrap()).unwrap());
        }
    });

    // Three other processes write.
    let p = ok(stockdesk(
        &env,
        &["product", "create"],
        &json!({"name": "Jug", "status": "published", "variants": [
            {"sku": "JUG-1", "price_minor": 1500, "currency": "EUR", "stock_on_hand": 2}]})
        .to_string(),
    ));
    let v = p["variants"][0]["id"].as_str().unwrap();
    ok(stockdesk(
        &env,
        &["stock", "receive", v, "--quantity", "3"],
        "",
    ));
    ok(stockdesk(
        &env,
        &["order", "create"],
        &json!({"items": [{"variant_id": v, "quantity": 1}]}).to_string(),
    ));

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the follower printed nothing within 10 s");
        seen.push(line);
    }
    let kinds: Vec<_> = seen.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["create_product", "receive_stock", "create_order"]);
    assert!(cursor(&seen[0]) < cursor(&seen[1]) && cursor(&seen[1]) < cursor(&seen[2]));
    assert_eq!(seen[0]["changed"][0]["kind"], "product", "{}", seen[0]);
    assert_eq!(seen[0]["changed"][0]["id"], p["id"]);

    // Stopped as systemd stops a service: cleanly, at once.
    common::cli::send_signal(&follower, "TERM");
    let status = wait(&mut follower, Duration::from_secs(5)).expect("SIGTERM did not stop it");
    assert!(status.success(), "{status:?}");

    // Without --follow: what came after a cursor, then exit; --limit caps it.
    let from = seen[0]["cursor"].as_str().unwrap();
    let rest = lines_of(&env, &["changes", "--since", from]);
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1]["cursor"], seen[2]["cursor"]);
    assert_eq!(lines_of(&env, &["changes", "--limit", "1"]).len(), 1);
    assert!(lines_of(&env, &["changes", "--since", "now"]).is_empty());
    let bad = stockdesk(&env, &["changes", "--since", "yesterday"], "");
    common::cli::assert_error(&bad, 2, "bad_input");
}

fn lines_of(env: &[(&str, &str)], args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_follower_sees_other_processes_writes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    follows_other_processes(&url);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_sees_other_processes_writes_on_postgres() {
    let db = stockdesk_testkit::postgres().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || follows_other_processes(&url))
        .await
        .unwrap();
    stockdesk_testkit::drop_postgres(&db.url).await;
}
