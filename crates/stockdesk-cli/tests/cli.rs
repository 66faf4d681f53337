//! The CLI's contract for bad input: a typed JSON error on stdout and the documented exit code,
//! with the database unchanged.

mod common;

use common::cli::{assert_error, Run};

fn stockdesk(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> Run {
    common::cli::stockdesk(
        &[("STOCKDESK_DATA_DIR", data_dir.to_str().unwrap())],
        args,
        stdin,
    )
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

#[test]
fn hostile_numbers_and_huge_stdin_are_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let created = stockdesk(
        d,
        &["product", "create"],
        r#"{"name": "Lamp", "variants": [{"sku": "LAMP-1", "price_minor": 900, "currency": "EUR", "stock_on_hand": 3}]}"#,
    );
    let v = created.json["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Used to panic (exit 101, no JSON) on `delta.abs()`.
    let run = stockdesk(
        d,
        &[
            "stock",
            "adjust",
            &v,
            "--delta",
            "-9223372036854775808",
            "--reason",
            "x",
        ],
        "",
    );
    assert_error(&run, 2, "validation");
    assert_eq!(run.json["details"]["field"], "delta");
    let run = stockdesk(
        d,
        &["order", "extend", &v, "--by", "400000000000000000s"],
        "",
    );
    assert_error(&run, 2, "validation");
    // More than 16 MiB on stdin: a clear refusal, not an unbounded read.
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(17 * 1024 * 1024));
    let run = stockdesk(d, &["product", "create"], &huge);
    assert_error(&run, 2, "bad_input");
    assert!(
        run.json["message"].as_str().unwrap().contains("16 MiB"),
        "{}",
        run.json
    );
    let run = stockdesk(d, &["product", "create"], r#"{"name": "a\u0000b"}"#);
    assert_error(&run, 2, "validation");
}
