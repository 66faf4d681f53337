//! Every bench at tiny sizes on both backends, through the CLI, so the benches cannot rot. Only
//! the shape and sanity of the JSON are checked; nothing here is timed.

mod common;

use std::process::Command;

use serde_json::Value;

/// Runs `stockdesk --db URL bench --json ARGS…` and parses the last line of its output.
fn bench(db: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .env_remove("STOCKDESK_DB")
        .args(["--db", db, "bench", "--json"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{args:?} failed: {text}");
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {text}"))
}

fn number(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

fn every_bench(db: &str, backend: &str) {
    let race = bench(
        db,
        &[
            "contention",
            "--buyers",
            "12",
            "--units",
            "4",
            "--rounds",
            "2",
        ],
    );
    assert_eq!(race["bench"], "contention");
    assert_eq!(race["backend"], backend);
    assert_eq!(
        (race["buyers"].as_i64(), race["units"].as_i64()),
        (Some(12), Some(4))
    );
    let names: Vec<&str> = race["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut expected = vec!["stockdesk", "seed_cas_retry"];
    if backend == "postgres" {
        expected.push("select_for_update");
    }
    assert_eq!(names, expected);
    assert_eq!(race["rounds"], 2);
    // One paired ratio per baseline.
    let ratios = race["stockdesk_wall_ratio"].as_object().unwrap();
    assert_eq!(ratios.len(), expected.len() - 1, "{race}");
    assert!(ratios.values().all(|r| r.as_f64().unwrap() > 0.0), "{race}");
    for s in race["strategies"].as_array().unwrap() {
        let mut keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        keys.sort();
        let mut want = [
            "false_rejections",
            "name",
            "oversold",
            "p50_ms",
            "p99_ms",
            "succeeded",
            "wall_ms",
            "wall_ms_by_round",
        ];
        want.sort();
        assert_eq!(keys, want, "{s}");
        assert!(number(s, "succeeded") <= 4.0 || s["oversold"] != 0, "{s}");
        assert!(number(s, "p50_ms") <= number(s, "p99_ms"), "{s}");
        assert_eq!(s["wall_ms_by_round"].as_array().unwrap().len(), 2, "{s}");
        if s["name"] != "seed_cas_retry" {
            // The locking strategies sell exactly what there is, no more and no less.
            assert_eq!(s["succeeded"], 4, "{s}");
            assert_eq!(s["oversold"], 0, "{s}");
            assert_eq!(s["false_rejections"], 0, "{s}");
        }
    }

    let hot = bench(
        db,
        &[
            "contention",
            "--hot",
            "--units",
            "100000",
            "--clients",
            "2",
            "--seconds",
            "0.2",
        ],
    );
    assert_eq!(
        (&hot["bench"], &hot["mode"]),
        (&"contention".into(), &"hot".into())
    );
    assert_eq!(hot["oversold"], 0);
    assert!(number(&hot, "stockdesk_per_s") > 0.0 && number(&hot, "raw_update_per_s") > 0.0);
    assert!(number(&hot, "ratio") > 0.0);

    let sweep = bench(db, &["sweep", "--overdue", "30", "--active", "100"]);
    assert_eq!(
        (&sweep["bench"], &sweep["backend"]),
        (&"sweep".into(), &backend.into())
    );
    assert_eq!(sweep["reservations_expired"], 30, "{sweep}");
    assert!(number(&sweep, "expire_ms") > 0.0 && number(&sweep, "idle_sweep_ms") > 0.0);
    // The plain baseline expired the same backlog; the buyers ordered while the sweeper worked.
    assert!(
        number(&sweep, "baseline_ms") > 0.0 && number(&sweep, "ratio") > 0.0,
        "{sweep}"
    );
    assert!(
        number(&sweep, "buyers_p99_ms_during_sweep") > 0.0,
        "{sweep}"
    );
    assert!(number(&sweep, "buyers_p99_ms_quiet") > 0.0, "{sweep}");

    let search = bench(db, &["search", "--products", "40", "--queries", "20"]);
    assert_eq!(
        (&search["bench"], &search["backend"]),
        (&"search".into(), &backend.into())
    );
    assert_eq!(search["totals_consistent"], true, "{search}");
    assert!(number(&search, "stockdesk_p50_ms") > 0.0);

    let report = bench(
        db,
        &[
            "report",
            "--ledger",
            "4000",
            "--products",
            "20",
            "--days",
            "7",
            "--queries",
            "3",
        ],
    );
    assert_eq!(
        (&report["bench"], &report["backend"]),
        (&"report".into(), &backend.into())
    );
    assert!(number(&report, "ledger_rows") >= 4000.0, "{report}");
    let names: Vec<&str> = report["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "stock", "holds", "edits", "sweeper"]);
    for r in report["reports"].as_array().unwrap() {
        assert!(number(r, "p50_ms") <= number(r, "p95_ms"), "{r}");
        assert!(number(r, "ratio_p95") > 0.0, "{r}");
    }
    assert!(number(&report, "baseline_p95_ms") > 0.0);
    let import = bench(db, &["import", "--rows", "40"]);
    assert_eq!(
        (&import["bench"], &import["backend"]),
        (&"import".into(), &backend.into())
    );
    assert_eq!(
        (&import["rows"], &import["created"], &import["problems"]),
        (&40.into(), &10.into(), &0.into()),
        "{import}"
    );
    assert!(number(&import, "ratio") > 0.0);

    let patch = bench(db, &["patch", "--ops", "20", "--products", "10"]);
    assert_eq!(
        (&patch["bench"], &patch["backend"]),
        (&"patch".into(), &backend.into())
    );
    assert!(number(&patch, "stockdesk_ops_per_s") > 0.0 && number(&patch, "ratio") > 0.0);
}

#[test]
fn every_bench_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    every_bench(&db, "sqlite");
    // The scratch databases went away; the one named by --db was never created.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn every_bench_runs_on_postgres() {
    let db = common::postgres_admin_url();
    every_bench(&db, "postgres");
    // Terminals join a Postgres shop: this one runs there only.
    let args = [
        "sync",
        "--edits",
        "20",
        "--changes",
        "30",
        "--products",
        "20",
        "--terminals",
        "3",
        "--rounds",
        "2",
    ];
    let sync = bench(&db, &args);
    assert_eq!(sync["bench"], "sync");
    assert_eq!(sync["push"]["edits"], 20);
    assert!(sync["catch_up"]["pulled"].as_i64().unwrap() >= 30, "{sync}");
    for part in ["push", "catch_up", "join"] {
        assert!(number(&sync[part], "ratio") > 0.0, "{sync}");
    }
    assert_eq!(sync["terminals"]["check_clean"], true, "{sync}");
    assert_eq!(sync["terminals"]["every_command_once"], true, "{sync}");
}

#[test]
fn bench_sync_says_it_needs_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stockdesk"))
        .args(["--db", &db, "bench", "sync", "--products", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Postgres"));
}
