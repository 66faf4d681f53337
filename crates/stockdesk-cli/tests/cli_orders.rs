//! The order, stock, sweep and check commands of the real binary on a temp SQLite file: the
//! examples of docs/orders.md run as written, and the exit-code contract.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

mod common;

use common::cli::{assert_error, ok, Run};

fn stockdesk(db: &str, args: &[&str], stdin: &str) -> Run {
    common::cli::stockdesk(
        &[("STOCKDESK_DB", db), ("STOCKDESK_ACTOR", "till-1")],
        args,
        stdin,
    )
}

#[test]
fn order_and_stock_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let sd = |args: &[&str], stdin: &str| stockdesk(&db, args, stdin);

    let product = ok(sd(
        &["product", "create"],
        r#"{"name": "Mug", "status": "published",
            "variants": [{"sku": "MUG-1", "price_minor": 900, "currency": "EUR", "stock_on_hand": 5}]}"#,
    ));
    let v = product["variants"][0]["id"].as_str().unwrap().to_string();
    let items = |q: i64| json!({"items": [{"variant_id": v, "quantity": q}]}).to_string();

    let order = ok(sd(&["order", "create"], &items(3)));
    let id = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["status"], "pending");
    assert_eq!(order["created_by"], "till-1");
    let created: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(order["created_at"].clone()).unwrap();
    let deadline: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(order["payment_expires_at"].clone()).unwrap();
    assert_eq!(deadline - created, chrono::TimeDelta::minutes(15));
    let long = ok(sd(&["order", "create", "--expires-in", "2h"], &items(1)));
    assert_eq!(long["reservations"][0]["quantity"], 1);

    let level = ok(sd(&["stock", "get", &v], ""));
    assert_eq!(
        (&level["on_hand"], &level["reserved"], &level["available"]),
        (&json!(5), &json!(4), &json!(1))
    );
    let refused = sd(&["order", "create"], &items(2));
    assert_error(&refused, 5, "insufficient_stock");
    assert_eq!(refused.json["details"]["available"], 1);

    let pending = ok(sd(&["order", "list", "--status", "pending"], ""));
    assert_eq!(pending.as_array().unwrap().len(), 2);
    let ext = ok(sd(&["order", "extend", &id, "--by", "10m"], ""));
    assert_eq!(ext["hold"], "original");
    let paid = ok(sd(&["order", "pay", &id], ""));
    assert_eq!(
        (&paid["order"]["status"], &paid["hold"]),
        (&json!("paid"), &json!("original"))
    );
    assert_error(&sd(&["order", "pay", &id], ""), 1, "invalid_state");
    let long_id = long["id"].as_str().unwrap();
    assert_eq!(
        ok(sd(&["order", "cancel", long_id], ""))["status"],
        "cancelled"
    );
    assert_eq!(ok(sd(&["order", "get", &id], ""))["status"], "paid");

    assert_eq!(
        ok(sd(&["stock", "receive", &v, "--quantity", "4"], ""))["level"]["on_hand"],
        6
    );
    let adjusted = ok(sd(
        &[
            "stock", "adjust", &v, "--delta", "-2", "--reason", "chipped",
        ],
        "",
    ));
    assert_eq!(adjusted["movement"]["reason"], "chipped");
    let counted = ok(sd(&["stock", "count", &v, "--counted", "3"], ""));
    assert_eq!(
        (
            &counted["movement"]["quantity"],
            &counted["level"]["on_hand"]
        ),
        (&json!(-1), &json!(3))
    );
    let kinds: Vec<String> = ok(sd(&["stock", "movements", &v], ""))
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}{}", m["kind"].as_str().unwrap(), m["quantity"]))
        .collect();
    assert_eq!(
        kinds,
        ["initial5", "sale-3", "receipt4", "adjustment-2", "count-1"]
    );

    let run = ok(sd(&["sweep", "--once"], ""));
    assert_eq!(run["status"], "ok");
    assert_eq!(ok(sd(&["check"], ""))["ok"], true);

    // Errors: not found, bad input, the sweep flags.
    let unknown = "01900000-0000-7000-8000-000000000000";
    assert_error(&sd(&["order", "get", unknown], ""), 4, "not_found");
    assert_error(&sd(&["stock", "get", unknown], ""), 4, "not_found");
    assert_error(&sd(&["order", "create"], "{\"items\": 3}"), 2, "bad_input");
    assert_error(&sd(&["order", "create"], &items(0)), 2, "validation");
    assert_error(
        &sd(&["order", "create", "--expires-in", "soon"], &items(1)),
        2,
        "bad_input",
    );
    assert_error(
        &sd(&["order", "list", "--status", "lost"], ""),
        2,
        "bad_input",
    );
    assert_error(&sd(&["sweep"], ""), 2, "bad_input");
    assert_error(
        &sd(
            &["stock", "adjust", &v, "--delta", "-9", "--reason", "x"],
            "",
        ),
        5,
        "insufficient_stock",
    );

    // A tampered figure: `check` lists it and fails.
    let path = dir.path().join("shop.db");
    assert_eq!(
        tamper(
            &path,
            "UPDATE variants SET stock_on_hand = stock_on_hand + 7"
        ),
        1
    );
    let bad = sd(&["check"], "");
    assert_error(&bad, 1, "inconsistent");
    assert_eq!(
        bad.json["details"]["inconsistencies"][0]["rule"],
        "on_hand_not_sum_of_movements"
    );
}

/// Changes the database behind Stockdesk's back (with sqlx, as the core does).
fn tamper(path: &Path, sql: &str) -> u64 {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n = sqlx::query(sql)
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected();
        pool.close().await;
        n
    })
}

#[test]
fn sweep_every_runs_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(["sweep", "--every", "20ms"])
        .env("STOCKDESK_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        let run: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(run["status"], "ok", "{line}");
    }
    common::cli::send_signal(&child, "INT");
    let rest: String = lines.map_while(|l| l.ok()).collect::<Vec<_>>().join("\n");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("\"stopped\": true"), "{rest}");
}

#[test]
fn docs_examples_run_as_written() {
    let stdout = common::cli::run_doc_examples("docs/orders.md");
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    for expected in [
        r#"{"status":"pending","totals":[{"currency":"EUR","amount_minor":3600}]}"#,
        r#"{"on_hand":5,"reserved":3,"available":2}"#,
        r#"{"code":"insufficient_stock","available":2}"#,
        "same order",
        "cancelled",
        "original",
        r#"{"status":"paid","hold":"original"}"#,
        r#"{"on_hand":2,"reserved":0,"available":2}"#,
        "12",
        "11",
        r#"{"delta":-1,"on_hand":10}"#,
        "initial 5 → 5",
        "sale -3 → 2",
        "count -1 → 10",
        "true",
        r#"["ok",["expire_orders","expire_staged_blobs","blob_outbox","prune_sweep_runs","forget_gone_editors"]]"#,
    ] {
        assert!(
            lines.contains(&expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn allotment_and_exception_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let sd = |args: &[&str], stdin: &str| stockdesk(&db, args, stdin);
    let product = ok(sd(
        &["product", "create"],
        r#"{"name": "Mug", "status": "published",
            "variants": [{"sku": "MUG-1", "price_minor": 900, "currency": "EUR", "stock_on_hand": 5}]}"#,
    ));
    let v = product["variants"][0]["id"].as_str().unwrap().to_string();

    // A counter sale paid at once.
    let sold = ok(sd(
        &["order", "sell"],
        &json!({"items": [{"variant_id": v, "quantity": 2}]}).to_string(),
    ));
    assert_eq!(sold["status"], "paid");
    assert_eq!(ok(sd(&["stock", "get", &v], ""))["on_hand"], 3);

    assert_eq!(ok(sd(&["allotments", "list"], "")), json!([]));
    // Terminals are the shop's (`sync join`): an unknown one is not found, and nothing moves.
    let refused = sd(&["allot", &v, "--terminal", "till", "--units", "2"], "");
    assert_error(&refused, 4, "not_found");
    let policy = ok(sd(&["allotments", "policy", &v, "--keep", "2"], ""));
    assert_eq!(policy, json!({"variant_id": v, "keep_units": 2}));
    assert_eq!(ok(sd(&["allotments", "policies"], "")), json!([policy]));
    let cleared = ok(sd(&["allotments", "policy", &v, "--clear"], ""));
    assert_eq!(cleared["keep_units"], Value::Null);
    assert_eq!(ok(sd(&["allotments", "sell-anyway", "show"], "")), false);
    assert_eq!(ok(sd(&["allotments", "sell-anyway", "on"], "")), true);
    assert_eq!(ok(sd(&["allotments", "sell-anyway", "show"], "")), true);
    assert_eq!(ok(sd(&["exceptions", "list", "--all"], "")), json!([]));
    let missing = sd(
        &[
            "exceptions",
            "resolve",
            "01a00000-0000-7000-8000-000000000000",
            "--count",
            "1",
        ],
        "",
    );
    assert_error(&missing, 4, "not_found");
    let check = ok(sd(&["check"], ""));
    assert_eq!(
        (&check["ok"], &check["open_exceptions"]),
        (&json!(true), &json!([]))
    );
}
