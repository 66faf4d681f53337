//! The CLI's contract for bad input: a typed JSON error on stdout and the documented exit code,
//! with the database unchanged.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

struct Run {
    code: i32,
    json: Value,
}

fn stockdesk(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(args)
        .env("STOCKDESK_DATA_DIR", data_dir)
        .env_remove("STOCKDESK_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code().unwrap(),
        json: serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    }
}

fn assert_error(run: &Run, exit: i32, code: &str) {
    assert_eq!(run.code, exit, "{}", run.json);
    assert_eq!(run.json["code"], code, "{}", run.json);
    let keys: Vec<_> = run.json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["code", "message", "details"]);
}

#[test]
fn bad_input_is_a_typed_error_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = stockdesk(
        d,
        &["product", "create"],
        r#"{"name": "Mug", "variants": [{"sku": "MUG-1", "price_minor": 900, "currency": "EUR", "stock_on_hand": 3}]}"#,
    );
    assert_eq!(created.code, 0, "{}", created.json);
    let id = created.json["id"].as_str().unwrap().to_string();
    let before = stockdesk(d, &["product", "get", &id], "").json;

    let patch = |body: &str| {
        stockdesk(
            d,
            &["product", "patch", &id, "--expected-version", "1"],
            body,
        )
    };
    assert_error(&patch("{not json"), 2, "bad_input");
    assert_error(&patch(""), 2, "bad_input");
    assert_error(&patch(r#"{"nmae": "typo"}"#), 2, "bad_input");
    assert_error(&patch(r#"{"status": "sold-out"}"#), 2, "bad_input");
    assert_error(
        &patch(r#"{"variants": {"update": [{"id": "not-a-uuid"}]}}"#),
        2,
        "bad_input",
    );
    assert_error(
        &patch(&format!(
            r#"{{"variants": {{"update": [{{"id": "{}", "stock_on_hand": 99999999999999999999}}]}}}}"#,
            before["variants"][0]["id"].as_str().unwrap()
        )),
        2,
        "bad_input",
    );
    assert_error(
        &patch(&format!(r#"{{"name": "{}"}}"#, "x".repeat(300))),
        2,
        "validation",
    );
    assert_error(
        &stockdesk(d, &["product", "get", "nope"], ""),
        2,
        "bad_input",
    );
    assert_error(
        &stockdesk(
            d,
            &["product", "get", "01a00000-0000-7000-8000-000000000000"],
            "",
        ),
        4,
        "not_found",
    );
    assert_error(
        &stockdesk(d, &["product", "list", "--limit", "0"], ""),
        2,
        "validation",
    );
    assert_error(
        &stockdesk(d, &["--db", "mysql://x", "product", "list"], ""),
        2,
        "bad_input",
    );
    assert_error(&stockdesk(d, &["frobnicate"], ""), 2, "bad_input");
    assert_error(
        &stockdesk(
            d,
            &["product", "patch", &id, "--expected-version", "9"],
            "{}",
        ),
        2,
        "bad_input",
    );

    assert_eq!(
        stockdesk(d, &["product", "get", &id], "").json,
        before,
        "nothing changed"
    );
    let history = stockdesk(d, &["product", "history", &id], "").json;
    assert_eq!(history.as_array().unwrap().len(), 1);
}
