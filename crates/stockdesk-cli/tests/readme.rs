//! The README's command-line examples, run as written against a fresh database: a reader who
//! copies them gets what the README says.

mod common;

#[test]
fn readme_cli_examples_run_as_written() {
    let stdout = common::cli::run_doc_examples("README.md");
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    // What the README promises: the merge, the conflict, the stock delta, the replay.
    assert!(
        lines.contains(&"\"bob\"") || lines.contains(&"\"ana\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"path\": \"name\""),
        "conflict shown: {stdout}"
    );
    assert!(lines.contains(&"13"), "stock merged as a delta: {stdout}");
    let replays: Vec<_> = lines
        .iter()
        .filter(|l| **l == "true" || **l == "false")
        .collect();
    assert_eq!(replays, [&"false", &"true"], "{stdout}");
    assert!(
        stdout.contains("price_minor"),
        "validation names the field: {stdout}"
    );
    // `stockdesk apply`: the receipt applies once; the replay answers with the same figure.
    let applied: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with("{\"replayed\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(applied.len(), 2, "{stdout}");
    assert_eq!(applied[0]["replayed"], false);
    assert_eq!(applied[0]["type"], "stock");
    assert_eq!(applied[1]["replayed"], true);
    assert_eq!(applied[0]["on_hand"], applied[1]["on_hand"]);
    assert_eq!(applied[0]["on_hand"], 19, "13 + 6 received: {stdout}");
    // `stockdesk report`: today's one sale, bob's merge and the stock merged as a delta, carol's
    // conflict (refused, yet counted), the one paid hold.
    for line in [
        r#"{"units":3,"orders":1,"revenue":[{"currency":"EUR","amount_minor":7500}]}"#,
        r#"{"merged":2,"conflicts":1,"by":["carol"]}"#,
        r#"{"paid":1,"expired":0,"cancelled":0,"pending":0}"#,
    ] {
        assert!(lines.contains(&line), "{line} in {stdout}");
    }
    // `stockdesk changes --since` the last cursor: exactly the receipt made after it.
    let feed: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with("{\"kind\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        feed,
        [serde_json::json!({"kind": "receive_stock", "actor": "cli", "changed": ["stock"]})],
        "{stdout}"
    );
}
