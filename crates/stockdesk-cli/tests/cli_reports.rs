//! `stockdesk report` on a temp SQLite file: the JSON document and the table show the same
//! figures, a conflicting edit from the CLI is counted, and a bad range is refused with the field.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

mod common;

use common::cli::{assert_error, ok, Run};

/// stdout and the exit code of `stockdesk ARGS` (the table is not JSON).
fn raw(db: &str, args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("STOCKDESK_DB", db)
        .env("STOCKDESK_ACTOR", "till-1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn run(db: &str, args: &[&str], stdin: &str) -> Run {
    let (code, text) = raw(db, args, stdin);
    Run {
        code,
        json: serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    }
}

#[test]
fn reports_as_json_and_as_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let sd = |args: &[&str], stdin: &str| run(&db, args, stdin);

    let product = ok(sd(
        &["product", "create"],
        r#"{"name": "Mug", "status": "published",
            "variants": [{"sku": "MUG-1", "price_minor": 900, "currency": "EUR", "stock_on_hand": 5}]}"#,
    ));
    let id = product["id"].as_str().unwrap().to_string();
    let v = product["variants"][0]["id"].as_str().unwrap().to_string();
    let order = ok(sd(
        &["order", "create"],
        &json!({"items": [{"variant_id": v, "quantity": 2}]}).to_string(),
    ));
    ok(sd(&["order", "pay", order["id"].as_str().unwrap()], ""));
    ok(sd(&["sweep", "--once"], ""));
    // Two edits from version 1 of the same field: the second is a conflict (exit 3), counted.
    let version = ok(sd(&["product", "get", &id], ""))["version"].to_string();
    ok(sd(
        &["product", "patch", &id, "--expected-version", &version],
        r#"{"name": "Mug, blue"}"#,
    ));
    assert_error(
        &sd(
            &["product", "patch", &id, "--expected-version", &version],
            r#"{"name": "Mug, red"}"#,
        ),
        3,
        "conflict",
    );

    let report = |which: &str| ok(sd(&["report", which, "--zone", "UTC", "--json"], ""));
    let sales = report("sales");
    assert_eq!(
        sales["total"],
        json!({"units": 2, "orders": 1, "revenue": [{"currency": "EUR", "amount_minor": 1800}]})
    );
    assert_eq!(sales["days"].as_array().unwrap().len(), 30);
    assert_eq!(sales["range"]["zone"], "UTC");
    assert_eq!(sales["top_products"][0]["name"], "Mug, blue");
    let holds = report("holds");
    assert_eq!(
        holds["total"],
        json!({"paid": 1, "expired": 0, "cancelled": 0, "pending": 0})
    );
    let edits = report("edits");
    assert_eq!(
        edits["total"],
        json!({"clean": 1, "merged": 0, "conflicts": 1})
    );
    assert_eq!(edits["recent_conflicts"][0]["paths"], json!(["name"]));
    assert_eq!(edits["recent_conflicts"][0]["actor"], "till-1");
    let sweeper = report("sweeper");
    assert_eq!(sweeper["total"], json!({"runs": 1, "failed": 0}));
    let stock = ok(sd(&["report", "stock", "--json"], ""));
    assert_eq!(
        stock["value"],
        json!([{"currency": "EUR", "variants": 1, "units_on_hand": 3, "value_minor": 2700}])
    );
    assert_eq!(stock["low_stock_total"], 1);

    // The same figures as a table.
    let (code, table) = raw(&db, &["report", "sales", "--zone", "UTC"], "");
    assert_eq!(code, 0, "{table}");
    assert!(table.contains("(UTC)"), "{table}");
    assert!(
        table.contains("total: 2 units, 1 orders, EUR 18.00"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.trim_end().ends_with("Mug, blue") && l.contains("EUR 18.00")),
        "{table}"
    );
    let (_, table) = raw(&db, &["report", "stock", "--low-stock", "3"], "");
    assert!(
        table
            .lines()
            .any(|l| l.contains("MUG-1") && l.trim_start().starts_with('3')),
        "{table}"
    );

    // A range is checked: the field says what is wrong (exit 2), as JSON like every error.
    for (args, field) in [
        (vec!["--from", "2026-02-02", "--to", "2026-02-01"], "to"),
        (vec!["--zone", "Nowhere/City"], "zone"),
    ] {
        let mut all = vec!["report", "holds"];
        all.extend(args);
        let refused = sd(&all, "");
        assert_error(&refused, 2, "validation");
        let errors: &Value = &refused.json["details"]["errors"];
        assert_eq!(errors[0]["field"], field, "{}", refused.json);
    }
}
